"""Monthly summary cells: built from the current reports, rebuilt where an import or an edit changed them."""

import collections
import datetime
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Collate, Concat, TruncMonth
from django.utils import timezone

from forces.models import Force
from forces.versions import bump_figures_version
from incidents import queries
from incidents.models import (
    CURRENT,
    DISCHARGE_LEVELS,
    INCIDENT_MEASURES,
    NON_DISCHARGE_LEVELS,
    SUMMARY_MEASURES,
    CedLevel,
    ImportBatch,
    MonthlySummary,
    UseOfForceReport,
)
from oversight.police_calendar import months_back


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return months_back(month, -1)


def cells_of(pairs: Iterable[tuple[int | None, object]]) -> list[list]:
    """(area id or None, date) pairs → the sorted [area id, "YYYY-MM-01"] cells they fall in (JSON-ready)."""
    cells = {(area, month_of(datetime.date.fromisoformat(str(day)[:10])).isoformat()) for area, day in pairs}
    return sorted(map(list, cells), key=lambda cell: (cell[1], cell[0] is not None, cell[0] or 0))


def _in_cells(cells: Iterable[Sequence[Any]], date_field: str, area_field: str) -> models.Q:
    """A filter matching the given cells: one term per month, naming that month's areas."""
    by_month: collections.defaultdict[datetime.date, set[int | None]] = collections.defaultdict(set)
    for area, month in cells:
        by_month[datetime.date.fromisoformat(str(month))].add(area)
    condition = models.Q(pk__in=[])
    for month, areas in by_month.items():
        in_areas = models.Q(**{f"{area_field}__in": [a for a in areas if a is not None]})
        if None in areas:
            in_areas |= models.Q(**{f"{area_field}__isnull": True})
        if date_field == "month":
            condition |= models.Q(month=month) & in_areas
        else:
            condition |= models.Q(**{f"{date_field}__gte": month, f"{date_field}__lt": next_month(month)}) & in_areas
    return condition


def reports_in_cells(force_id: str, cells: list | None = None) -> int:
    """How many reports a force's summary cells ([area id, "YYYY-MM-01"] pairs; None: all) hold, as last built."""
    held = MonthlySummary.objects.filter(force=force_id)
    if cells is not None:
        if not cells:
            return 0
        held = held.filter(_in_cells(cells, "month", "area"))
    return held.aggregate(n=models.Sum("reports"))["n"] or 0


def summary_aggregates() -> dict[str, Any]:
    """{summary column: aggregate over reports} for every measure of a summary cell."""
    aggregates: dict[str, Any] = {
        name: models.Count("pk", filter=condition) if condition else models.Count("pk")
        for name, (_, condition) in SUMMARY_MEASURES.items()
    }
    # Reports without an incident reference are each an incident of their own. The references are told
    # apart byte by byte, as the database's own collation does, only faster (5,000,000 reports: 4.2 s → 3.5 s).
    bytewise = "C" if connection.vendor == "postgresql" else "BINARY"
    aggregates["incidents"] = models.Count(
        Collate("incident_reference", bytewise), distinct=True, filter=~models.Q(incident_reference="")
    ) + models.Count("pk", filter=models.Q(incident_reference=""))
    return aggregates


def rebuild_summaries(*, force_ids: Iterable[str] | None = None, cells: list | None = None) -> int:
    """Rebuild monthly summary cells from the current reports; returns the number of cells written.

    `force_ids` None means every force; `cells` ([area id or None, "YYYY-MM-01"] pairs) limits
    the rebuild to those cells of one force, as after an import or an edit. One transaction:
    readers see the old cells or the new ones, never a half-built cell. The forces are locked
    first, in id order: two rebuilds of one force run one after the other (no double count,
    no lost update) and two rebuilds of different forces never deadlock.

    Months before record retention's horizon are never rebuilt: their reports were removed and
    their cells are all that is left of them (see apply_retention).
    """
    with transaction.atomic():
        locked = Force.objects.select_for_update().order_by("pk")
        if force_ids is not None:
            locked = locked.filter(pk__in=force_ids)
        force_ids = list(locked.values_list("pk", flat=True))
        if not force_ids:
            return 0
        versions = latest_versions(force_ids)
        old = MonthlySummary.objects.filter(force__in=force_ids)
        reports = CURRENT & models.Q(force__in=force_ids)
        if frozen := queries.summaries_frozen_before():
            old, reports = old.filter(month__gte=frozen), reports & models.Q(occurred_on__gte=frozen)
            if cells is not None:
                cells = [cell for cell in cells if str(cell[1]) >= frozen.isoformat()]
        if cells is not None:  # [] rebuilds no cell: it brings the data version up to date
            old = old.filter(_in_cells(cells, "month", "area"))
            reports &= _in_cells(cells, "occurred_on", "area")
        old.delete()
        written = insert_summaries(reports, versions) if cells != [] else 0
        # Every change since the cells were built has its own rebuild queued, so the cells not
        # rebuilt now (other cells, months kept by retention) are as right for the current
        # version as for theirs.
        MonthlySummary.objects.filter(force__in=force_ids).update(data_version=_version_by_force(versions))
        bump_figures_version(force_ids)  # in the rebuild's transaction: cached pages of the old cells go unread
        return written


class CountedChange:
    """A change of some of one force's reports, counted into its summary cells as it happens.

    Made before the change, inside its transaction and with the force locked, from the reports
    the change touches as they stand: what they count is taken away from their cells. `count`,
    after the change, adds what the same reports (and any the change added) count now. Only
    those reports are read, never the rest of their cells: the cost is the change's.

    The touched reports must include every report that shares an incident reference with a
    changed one (before or after the change): the incident measures count an incident once,
    at its highest level, so they are exact only over whole incidents (see touched_reports).
    Months kept by record retention are left alone, as a rebuild leaves them.
    """

    def __init__(self, force_id: str, reports: models.Q) -> None:
        self.force_id = force_id
        self.frozen = queries.summaries_frozen_before()
        self.before: dict[tuple, dict[str, int]] = {}
        self.include(reports)

    def include(self, reports: models.Q) -> None:
        """Take away what more reports count, as they stand: reports the change is about to touch too.

        They must not have been counted before (by `__init__` or an earlier `include`), and must be
        whole incidents beside them: then what all of them counted is the sum of the two.
        """
        for cell, figures in cell_figures(self._open(reports)).items():
            held = self.before.setdefault(cell, dict.fromkeys(figures, 0))
            for name, value in figures.items():
                held[name] += value

    def _open(self, reports: models.Q) -> models.Q:
        reports = CURRENT & models.Q(force=self.force_id) & reports
        return reports & models.Q(occurred_on__gte=self.frozen) if self.frozen else reports

    def count(self, reports: models.Q, data_version: int | None) -> list[list]:
        """Add what `reports` count now, write the cells that moved; every cell of the force is then
        of `data_version`. Returns the [area id, "YYYY-MM-01"] cells written or emptied.

        `data_version` None: an edit, which makes no new data version. The cells that moved keep
        theirs, and a new cell takes the oldest of the force's (0 when it has none): an edit never
        makes summaries that await a rebuild look up to date."""
        after = cell_figures(self._open(reports))
        measures = [*SUMMARY_MEASURES, "incidents", *INCIDENT_MEASURES]
        moved = {}
        for cell in self.before.keys() | after.keys():
            was, now = self.before.get(cell, {}), after.get(cell, {})
            delta = {name: now.get(name, 0) - was.get(name, 0) for name in measures}
            if any(delta.values()):
                moved[cell] = delta
        cells = [[area, month] for _, area, month in moved]
        if moved:
            force_cells = MonthlySummary.objects.filter(force=self.force_id)
            held = force_cells.filter(_in_cells(cells, "month", "area"))
            figures = {
                (self.force_id, row["area_id"], row["month"].isoformat()): row
                for row in held.values("area_id", "month", "data_version", *measures)
            }
            oldest = 0
            if data_version is None and moved.keys() - figures.keys():  # an edit makes a new cell
                oldest = force_cells.aggregate(version=models.Min("data_version"))["version"] or 0
            held.delete()
            built_at = timezone.now()
            written = []
            for cell, delta in moved.items():
                counts = {name: figures.get(cell, {}).get(name, 0) + delta[name] for name in measures}
                version = figures.get(cell, {}).get("data_version", oldest) if data_version is None else data_version
                if counts["reports"]:  # a cell without reports is no cell, as in a rebuild
                    written.append(
                        MonthlySummary(
                            force_id=self.force_id, area_id=cell[1], month=datetime.date.fromisoformat(cell[2]),
                            data_version=version, built_at=built_at, **counts,
                        )
                    )  # fmt: skip
            MonthlySummary.objects.bulk_create(written, batch_size=500)
        if data_version is not None:
            MonthlySummary.objects.filter(force=self.force_id).update(data_version=data_version)
        return cells_of((area, month) for area, month in cells)


class CountedEdit:
    """Edits of single reports (the admin, a service's save or delete), counted into the summaries in
    the edit's transaction, as an import's change is (CountedChange).

    `include` each report before it changes; `count` once they all have. The forces are locked
    as they come (a rebuild or an import of them waits for the edit's transaction), and every
    report sharing an incident reference with an edited one, before or after the edit, is
    counted with it: its incident is counted whole.
    """

    def __init__(self) -> None:
        self.changes: dict[str, CountedChange] = {}
        self.ids: set[int] = set()

    def include(self, force_ids: Iterable[str], report_ids: Iterable[int], references: Iterable[str]) -> None:
        """Before an edit: these reports of these forces (any force a report leaves or enters) will
        change, with the incidents of these references (as they were and as they will be)."""
        force_ids = {force_id for force_id in force_ids if force_id}
        for force in Force.objects.select_for_update().filter(pk__in=force_ids - set(self.changes)).order_by("pk"):
            self.changes[force.pk] = CountedChange(force.pk, models.Q(pk__in=self.ids))
        touched = models.Q(pk__in=[pk for pk in report_ids if pk is not None])
        if references := {reference for reference in references if reference}:
            touched |= models.Q(force__in=force_ids, incident_reference__in=references)
        more = set(UseOfForceReport.objects.filter(touched).values_list("pk", flat=True)) - self.ids
        if more:
            for change in self.changes.values():
                change.include(models.Q(pk__in=more))
            self.ids |= more

    def count(self, added: Iterable[int] = ()) -> dict[str, list[list]]:
        """After the edits (`added`: the ids of reports they created): write the cells that moved and
        move the forces' figures version on. Returns {force id: its cells written or emptied}."""
        self.ids.update(added)
        reports = models.Q(pk__in=self.ids)
        moved = {force_id: change.count(reports, None) for force_id, change in self.changes.items()}
        bump_figures_version(self.changes)
        return moved


def latest_versions(force_ids: Iterable[str]) -> dict[str, int]:
    """{force id: its latest successful data version} of the forces that have one."""
    return dict(
        ImportBatch.objects.filter(force__in=force_ids, status=ImportBatch.Status.SUCCEEDED)
        .values("force")
        .annotate(version=models.Max("data_version"))
        .values_list("force", "version")
    )


def _version_by_force(versions: dict[str, int]) -> models.Case:
    """The data version of a row's force: a CASE over the few forces rebuilt."""
    return models.Case(*(models.When(force=f, then=v) for f, v in versions.items()), default=0)


def insert_summaries(reports: models.Q, versions: dict[str, int]) -> int:
    """Write the summary cells of `reports`; returns the number of cells written.

    The GROUP BY runs as a plain SELECT, which PostgreSQL may spread over parallel workers
    (an INSERT … SELECT never is); its result is small, a row per area-month.
    """
    built_at = timezone.now()
    cells = [
        MonthlySummary(
            force_id=force, area_id=area, month=datetime.date.fromisoformat(month),
            data_version=versions.get(force, 0), built_at=built_at, **counts,
        )
        for (force, area, month), counts in cell_figures(reports).items()
    ]  # fmt: skip
    MonthlySummary.objects.bulk_create(cells, batch_size=500)
    return len(cells)


# Measured over every report of a cell; every other measure counts Taser reports (CED used) only.
EVERY_REPORT_MEASURES = ("reports", "incidents")
TASER_MEASURES = [name for name in SUMMARY_MEASURES if name not in EVERY_REPORT_MEASURES]


@functools.cache
def _every_report_by_cell() -> QuerySet[UseOfForceReport, tuple]:
    """The measures of every report by cell, of the reports a filter will choose."""
    return _by_cell(UseOfForceReport.objects.all(), EVERY_REPORT_MEASURES)


@functools.cache
def _taser_measures_by_cell() -> QuerySet[UseOfForceReport, tuple]:
    """The measures of Taser reports by cell, of the reports a filter will choose.

    Read from the Taser reports alone, about one in ten: in one pass with the measures of every report,
    each of 5,000,000 reports was tested ninety times (the full rebuild took 1.18 times that pass alone;
    in two passes, 1.00-1.03 times; grouped by the area first, 0.85-0.87 times).
    """
    return _by_cell(UseOfForceReport.objects.filter(ced_used=True), TASER_MEASURES)


def _by_cell(reports: QuerySet[UseOfForceReport], measures: Sequence[str]) -> QuerySet[UseOfForceReport, tuple]:
    """(area, month, force, *measures) of each cell.

    Grouped by the area first, a number: by the force first, its name was compared at every step of
    sorting 5,000,000 reports (the measures of every report: 5.5 s → 4.2 s).
    """
    aggregates = summary_aggregates()
    return (
        reports.annotate(cell_month=TruncMonth("occurred_on"))
        .values("area", "cell_month", "force")
        .annotate(**{name: aggregates[name] for name in measures})
        .values_list("area", "cell_month", "force", *measures)
        .order_by()
    )


@functools.cache
def _top_level_by_incident() -> QuerySet[UseOfForceReport, dict[str, Any]]:
    """Each Taser incident of a cell at the highest level any of its reports used, of the reports a filter
    will choose."""
    return (
        UseOfForceReport.objects.filter(ced_used=True)
        .annotate(
            cell_month=TruncMonth("occurred_on"),
            # A report without an incident reference is an incident of its own.
            incident_key=models.Case(
                models.When(incident_reference="", then=Concat(models.Value("#"), Cast("pk", models.CharField()))),
                default="incident_reference",
            ),
        )
        .values("force", "area", "cell_month", "incident_key")
        .annotate(top=models.Max("highest_ced_level"))
        .order_by()
    )


_THE_REPORTS = "SELECT the_reports"  # marks where the reports' condition goes in a query's SQL


@functools.cache
def _sql_cut(query: Callable[[], QuerySet], vendor: str) -> tuple[str, list, str, list]:
    """The SQL of `query` on this kind of database, cut where the reports' condition goes: the text and
    parameters before it, and after it.

    Made once: compiling the queries above takes longer than running them over the few reports
    of an edit, and every edit counts its cells twice.
    """
    marked = query().filter(pk__in=RawSQL(_THE_REPORTS, []))  # noqa: S611 - no input in it
    sql, params = marked.query.sql_with_params()
    before, after = re.split(rf"\S+ IN \({_THE_REPORTS}\)", sql)
    cut = before.count("%s")
    return before, list(params[:cut]), after, list(params[cut:])


def _sql_over(query: Callable[[], QuerySet], reports: models.Q) -> tuple[str, list]:
    """The SQL and parameters of `query` over the reports matching `reports`. EmptyResultSet when none can."""
    chosen = UseOfForceReport.objects.filter(reports).query
    if sum(1 for used in chosen.alias_refcount.values() if used) > 1:  # across a relation: the ORM's own join
        # A filter on the reports' columns after the annotations: Django puts it in the WHERE clause.
        sql, params = query().filter(reports).query.sql_with_params()
        return sql, list(params)
    where, where_params = chosen.get_compiler(connection=connection).compile(chosen.where)
    before, before_params, after, after_params = _sql_cut(query, connection.vendor)
    return f"{before}({where}){after}", [*before_params, *where_params, *after_params]


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def cell_figures(reports: models.Q) -> dict[tuple, dict[str, int]]:
    """{(force, area, "YYYY-MM-01"): every measure of a summary cell} over the reports matching `reports`.

    Exact for the incident measures only where `reports` holds every report of each incident
    it touches in the cell: the whole force, or the reports sharing an incident with a change.
    """
    try:
        rows = _fetch(*_sql_over(_every_report_by_cell, reports))
        taser = {
            (force, area, str(month)[:10]): dict(zip(TASER_MEASURES, counts, strict=True))
            for area, month, force, *counts in _fetch(*_sql_over(_taser_measures_by_cell, reports))
        }
    except EmptyResultSet:  # no report at all (an empty list of ids)
        return {}
    incidents = incident_counts(reports)
    no_taser, no_incidents = dict.fromkeys(TASER_MEASURES, 0), dict.fromkeys(INCIDENT_MEASURES, 0)
    figures = {}
    for area, month, force, *counts in rows:
        cell = (force, area, str(month)[:10])
        every = dict(zip(EVERY_REPORT_MEASURES, counts, strict=True))
        figures[cell] = every | taser.get(cell, no_taser) | incidents.get(cell, no_incidents)
    return figures


def incident_counts(reports: models.Q) -> dict[tuple, dict[str, int]]:
    """{(force, area, "YYYY-MM-01"): INCIDENT_MEASURES} of the Taser incidents among `reports`.

    Two steps: each incident of a cell at the highest level any of its reports used, then the
    incidents of each cell by that level. The inner step is the ORM's own SQL, so the cell
    filters of an incremental rebuild hold in it; only the outer count is written out here.
    """
    try:
        inner, params = _sql_over(_top_level_by_incident, reports)
    except EmptyResultSet:  # no report at all (an empty list of ids)
        return {}
    levels = {f"incidents_level_{level.name.lower()}": [int(level)] for level in CedLevel}
    levels["incidents_discharge"] = [int(level) for level in DISCHARGE_LEVELS]
    levels["incidents_non_discharge"] = [int(level) for level in NON_DISCHARGE_LEVELS]
    counted = ", ".join(
        f"COUNT(*) FILTER (WHERE top IN ({', '.join(map(str, levels[name]))}))" if name in levels else "COUNT(*)"
        for name in INCIDENT_MEASURES
    )
    sql = f'SELECT "force", "area", "cell_month", {counted} FROM ({inner}) per_incident GROUP BY 1, 2, 3'
    return {
        (force, area, str(month)[:10]): dict(zip(INCIDENT_MEASURES, counts, strict=True))
        for force, area, month, *counts in _fetch(sql, params)
    }


def stale_forces() -> list[str]:
    """Ids of the forces whose summaries do not reflect their current data version or reports.

    A force is stale when it has reports but no summaries, summaries but no reports, or cells
    older than its data version. Months kept by record retention have no reports by design.
    """
    versions = dict(
        ImportBatch.objects.filter(status=ImportBatch.Status.SUCCEEDED)
        .values("force")
        .annotate(version=models.Max("data_version"))
        .values_list("force", "version")
    )
    built = dict(
        MonthlySummary.objects.values("force")
        .annotate(version=models.Min("data_version"))
        .values_list("force", "version")
    )
    current = UseOfForceReport.objects.current().filter(force=models.OuterRef("pk"))
    summarised = MonthlySummary.objects.all()
    if frozen := queries.summaries_frozen_before():
        current, summarised = current.filter(occurred_on__gte=frozen), summarised.filter(month__gte=frozen)
    with_reports = set(Force.objects.filter(models.Exists(current)).values_list("pk", flat=True))
    live = set(summarised.values_list("force", flat=True).distinct())
    return sorted(
        force
        for force in with_reports | set(built)
        if (force in with_reports) != (force in live) or built.get(force, 0) < versions.get(force, 0)
    )
