"""Summaries counted change by change equal a full rebuild, after any sequence of imports and edits."""

import csv
import datetime
import random
import threading

import pytest
from celery.signals import task_prerun
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncMonth

from dashboards.demo import seed_demo
from forces.models import Area, Force
from forces.versions import figures_version
from incidents import canonical
from incidents.imports.pipeline import import_reports
from incidents.models import (
    CURRENT,
    DISCHARGE_LEVELS,
    NON_DISCHARGE_LEVELS,
    CedLevel,
    CedUse,
    Ethnicity,
    MonthlySummary,
    UseOfForceReport,
)
from incidents.summaries import (
    EVERY_REPORT_MEASURES,
    TASER_MEASURES,
    cell_figures,
    rebuild_summaries,
    summary_aggregates,
)
from incidents.tasks import queue_summary_rebuild
from tests.factories import ReportFactory
from tests.incidents.test_summaries import MEASURES, assert_summaries_equal_direct_counts

FORCE = "metropolitan"  # the demo's largest force
DAY = datetime.date(2025, 6, 15)


def summaries():
    """Every force's cells with their figures and data version, as a comparison sees them (built_at apart).

    Every force: an edit may move a report out of the force the imports are of.
    """
    return {
        (s["force_id"], s["area_id"], s["month"]): {name: s[name] for name in [*MEASURES, "data_version"]}
        for s in MonthlySummary.objects.values()
    }


def rebuilt():
    """The summaries as a full rebuild makes them from the same reports, the rebuild then undone."""
    with transaction.atomic():
        rebuild_summaries()
        cells = summaries()
        transaction.set_rollback(True)
    return cells


def exported_rows():
    """The force's current reports as canonical CSV rows (header first)."""
    rows = canonical.rows(UseOfForceReport.objects.current().filter(force=FORCE))
    return [["" if value is None else str(value) for value in row] for row in rows]


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


class Edition:
    """A force's next edition: the rows it held last time, some changed, some new, some left out."""

    def __init__(self, chooser, header):
        self.chooser, self.header = chooser, header
        self.column = {name: i for i, name in enumerate(header)}
        self.new_keys = 0

    def next(self, rows):
        chooser, column = self.chooser, self.column
        rows = [list(row) for row in rows]
        references = sorted({row[column["incident_reference"]] for row in rows} - {""})
        for row in chooser.sample(rows, chooser.randint(1, 3)):
            change = chooser.choice(["reference", "date", "area", "ethnicity"])
            if change == "reference":  # into another incident, a new one or none
                row[column["incident_reference"]] = chooser.choice([*references[:20], "NEW-" + row[0], ""])
            elif change == "date":
                day = datetime.date.fromisoformat(row[column["occurred_on"]])
                row[column["occurred_on"]] = (day + datetime.timedelta(days=chooser.randint(-40, 40))).isoformat()
            elif change == "area":
                other = chooser.choice(rows)
                for name in ("area_code", "area_name"):
                    row[column[name]] = other[column[name]]
            else:
                row[column["subject_ethnicity"]] = chooser.choice(Ethnicity.values)
        for row in chooser.sample(rows, chooser.randint(0, 2)):
            added = list(row)
            self.new_keys += 1
            added[0] = f"ADDED-{self.new_keys}"
            if chooser.random() < 0.5:  # often an officer of an incident already held
                added[column["incident_reference"]] = chooser.choice(references)
            rows.append(added)
        for row in chooser.sample(rows, chooser.randint(0, 2)):
            rows.remove(row)  # withdrawn: the edition covers its financial year
        return rows


def edit_a_report(chooser):
    """Records changed, added, withdrawn or deleted by hand (the admin, a service), as their saves and deletes
    do it; returns the forces whose figures it changes."""
    current = UseOfForceReport.objects.current()
    report = chooser.choice(list(current.filter(force=FORCE)))
    action = chooser.choice(
        ["move", "reference", "withdraw", "restore", "delete", "delete incident", "ethnicity", "add", "other force",
         "extended cycle", "remove device"]
    )  # fmt: skip
    if action == "delete":
        report.delete()
    elif action == "delete incident":  # one delete() of several reports: one edit
        references = current.filter(force=FORCE).exclude(incident_reference="").values_list("incident_reference")
        reference = chooser.choice(sorted({reference for (reference,) in references}))
        UseOfForceReport.objects.filter(force=FORCE, incident_reference=reference).delete()
    elif action == "add":  # a report entered by hand, often an officer of an incident already held
        others = list(UseOfForceReport.objects.filter(force=FORCE).exclude(incident_reference=""))
        report.pk, report.source_key = None, f"BY-HAND-{UseOfForceReport.objects.count()}"
        report.incident_reference = chooser.choice([chooser.choice(others).incident_reference, ""])
        report.save()
    elif action == "other force":  # entered against the wrong force, then moved
        report.area = chooser.choice(list(Area.objects.exclude(force=FORCE)))
        report.force = report.area.force
        report.save()
        return {FORCE, report.force_id}
    elif action == "extended cycle":  # a device added to a Taser report, its cycle extended
        taser = chooser.choice(list(current.filter(force=FORCE, ced_used=True)))
        used = set(taser.ced_uses.values_list("device_number", flat=True))
        CedUse.objects.create(report=taser, device_number=min({1, 2, 3, 4} - used, default=1), cycle_extended=True)
    elif action == "remove device":
        device = CedUse.objects.filter(report__force=FORCE).order_by("?").first()
        device.delete()
    elif action == "restore":  # a withdrawn report put back
        withdrawn = UseOfForceReport.objects.filter(force=FORCE, withdrawn_in_version__isnull=False).first()
        report = withdrawn or report
        report.withdrawn_in_version = None
        report.save()
    else:
        if action == "move":
            report.area = chooser.choice(list(report.force.areas.all()))
            report.occurred_on -= datetime.timedelta(days=chooser.randint(0, 60))
        elif action == "reference":
            other = chooser.choice(list(UseOfForceReport.objects.filter(force=FORCE).exclude(incident_reference="")))
            report.incident_reference = other.incident_reference
        elif action == "withdraw":
            report.withdrawn_in_version = 99
        else:
            report.subject_ethnicity = chooser.choice(Ethnicity.values)
        report.save()
    return {FORCE}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_counted_summaries_equal_a_full_rebuild_after_random_imports_and_edits(
    db, seed, tmp_path, django_capture_on_commit_callbacks
):
    seed_demo(reports=1500, seed=seed, months=4)
    force = Force.objects.get(pk=FORCE)
    chooser = random.Random(seed)  # noqa: S311 - which records to change, not a secret
    rows = exported_rows()
    edition = Edition(chooser, rows[0])
    # The demo's reports have no content digest: the first edition changes them all, and is rebuilt.
    counted = []
    body = rows[1:]
    for step in range(16):
        with django_capture_on_commit_callbacks() as queued:
            if step == 0 or chooser.random() < 0.4:
                body = edition.next(body) if step else body
                batch = import_reports(write(tmp_path / f"edition-{step}.csv", [rows[0], *body]), force)
                queue_summary_rebuild(force.pk, batch.summary_cells, counted=batch.summaries_counted)
                counted.append(batch.summaries_counted)
                was_counted = batch.summaries_counted
            else:
                versions = {scope.pk: figures_version(force_id=scope.pk)[0] for scope in Force.objects.all()}
                changed = edit_a_report(chooser)
                # In the edit's own transaction: the figures version of each force it changes moves on.
                assert all(figures_version(force_id=scope)[0] > versions[scope] for scope in changed), f"step {step}"
                body = exported_rows()[1:]
                was_counted = True
        if was_counted:  # counted as it was made: right before anything queued runs
            assert summaries() == rebuilt(), f"step {step}, before the queued work"
        for callback in queued:
            callback()
        assert summaries() == rebuilt(), f"step {step}"
    assert_summaries_equal_direct_counts()
    # The comparison means something: editions were counted, not rebuilt, and the first was rebuilt.
    assert counted[0] is False and any(counted[1:])


def test_an_edit_saved_outside_any_transaction_has_its_cells_rebuilt_at_once(transactional_db):
    seed_demo(reports=300, seed=3, months=2)
    report = UseOfForceReport.objects.current().filter(force=FORCE, ced_used=True).first()
    report.subject_ethnicity, report.area = Ethnicity.BLACK, report.force.areas.exclude(pk=report.area_id).first()
    report.save()  # autocommit: no transaction holds the save and its count
    used = set(report.ced_uses.values_list("device_number", flat=True))
    CedUse.objects.create(report=report, device_number=min({1, 2, 3, 4} - used), cycle_extended=True)
    assert summaries() == rebuilt()


def test_edits_of_one_force_in_one_transaction_queue_one_rebuild_of_all_their_cells(
    oxford, django_capture_on_commit_callbacks
):
    sent = []

    def record(sender=None, args=(), **kwargs):
        if sender.name == "incidents.tasks.rebuild_summary_cells":
            sent.append(list(args))

    task_prerun.connect(record, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for day in (datetime.date(2025, 5, 3), datetime.date(2025, 6, 3), datetime.date(2025, 6, 9)):
                ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.DRAWN])
    finally:
        task_prerun.disconnect(record)
    assert sent == [["thames-valley", [[oxford.pk, "2025-05-01"], [oxford.pk, "2025-06-01"]], True]]
    assert summaries() == rebuilt()


@pytest.mark.parametrize(
    "chosen",
    [
        lambda ids: Q(force="thames-valley"),
        lambda ids: Q(force="thames-valley", occurred_on__gte=datetime.date(2025, 6, 1)) | Q(force="metropolitan"),
        lambda ids: ~Q(subject_ethnicity=Ethnicity.WHITE) & Q(pk__in=ids[::9]),
        lambda ids: Q(
            pk__in=RawSQL("SELECT id FROM incidents_useofforcereport WHERE incident_reference = %s", ["shared"])
        ),  # fmt: skip
        lambda ids: Q(area__force="metropolitan"),  # across a relation
        lambda ids: Q(pk__in=[]),
    ],
    ids=["a force", "either of two", "not white, of five", "raw sql", "a relation", "none"],
)
def test_cells_counted_from_sql_compiled_once_equal_the_orms_own_query(oxford, lambeth, chosen):
    ids = [
        ReportFactory(
            area=[oxford, lambeth][number % 2], occurred_on=datetime.date(2025, 5 + number % 3, 1 + number % 7),
            subject_ethnicity=[Ethnicity.WHITE, Ethnicity.BLACK][number % 3 == 0],
            ced_levels=[[CedLevel.DRAWN], [CedLevel.FIRED], None][number % 3],
            incident_reference="shared" if number % 5 == 0 else "",
        ).pk
        for number in range(40)
    ]  # fmt: skip
    reports = UseOfForceReport.objects.filter(CURRENT & chosen(ids))
    expected = cell_figures_by_the_orm(reports)
    assert cell_figures(CURRENT & chosen(ids)) == expected
    assert bool(expected) == (chosen(ids) != Q(pk__in=[]))


def test_a_report_without_taser_counts_only_among_the_reports_and_incidents(oxford):
    """What lets a cell's Taser measures be read from its Taser reports alone."""
    options = [name for prefix in ("outcome_", "reason_", "impact_", "location_") for name, _ in
               UseOfForceReport.options(prefix)]  # fmt: skip
    ReportFactory(area=oxford, ced_levels=None, body_worn_video="yes", **dict.fromkeys(options, True))
    counted = UseOfForceReport.objects.aggregate(**summary_aggregates())
    assert {name for name, value in counted.items() if value} == set(EVERY_REPORT_MEASURES)
    assert set(TASER_MEASURES) == set(counted) - set(EVERY_REPORT_MEASURES)


def cell_figures_by_the_orm(reports):
    """The cells' figures as the ORM writes the query out itself, every time."""
    aggregates = summary_aggregates()
    rows = (
        reports.annotate(month=TruncMonth("occurred_on")).values("force", "area", "month").annotate(**aggregates)
        .values_list("force", "area", "month", *aggregates).order_by()
    )  # fmt: skip
    incidents = {}
    for report in reports.filter(ced_used=True):
        key = (report.force_id, report.area_id, report.occurred_on.replace(day=1).isoformat())
        incident = report.incident_reference or f"#{report.pk}"
        incidents.setdefault(key, {})[incident] = max(incidents.get(key, {}).get(incident, 0), report.highest_ced_level)
    figures = {}
    for force, area, month, *counts in rows:
        cell = (force, area, str(month)[:10])
        tops = list(incidents.get(cell, {}).values())
        levels = {f"incidents_level_{level.name.lower()}": tops.count(level) for level in CedLevel}
        figures[cell] = dict(zip(aggregates, counts, strict=True)) | levels | {
            "incidents_taser": len(tops),
            "incidents_discharge": sum(top in DISCHARGE_LEVELS for top in tops),
            "incidents_non_discharge": sum(top in NON_DISCHARGE_LEVELS for top in tops),
        }  # fmt: skip
    return figures


def test_a_rebuild_queued_outside_any_transaction_runs_at_once_in_a_new_thread(transactional_db, oxford):
    # A command or a worker's first queue of its thread, as import_uof's after its import.
    UseOfForceReport.objects.bulk_create([UseOfForceReport(force=oxford.force, area=oxford, occurred_on=DAY)])
    problems = []

    def queue():
        try:
            queue_summary_rebuild("thames-valley")
        except Exception as problem:  # noqa: BLE001 - the thread's failure is the test's
            problems.append(problem)
        finally:
            connection.close()

    thread = threading.Thread(target=queue)
    thread.start()
    thread.join(timeout=60)
    assert problems == []
    assert MonthlySummary.objects.get(force="thames-valley", area=oxford).reports == 1
