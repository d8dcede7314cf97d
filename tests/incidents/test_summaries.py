"""Monthly summaries equal a direct count of the reports, however they were built."""

import collections
import datetime
import random
import threading

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, connections

from dashboards.demo import seed_demo
from forces.models import Force
from incidents import disclosure
from incidents.alerts import raise_alerts
from incidents.imports.pipeline import import_reports
from incidents.models import (
    DISCHARGE_LEVELS,
    INCIDENT_MEASURES,
    LOCATION_GROUPS,
    NON_DISCHARGE_LEVELS,
    SUMMARY_MEASURES,
    Alert,
    CedLevel,
    CedUse,
    ImportBatch,
    MonthlySummary,
    UseOfForceReport,
)
from incidents.queries import summaries_by_period
from incidents.summaries import rebuild_summaries
from incidents.tasks import queue_summary_rebuild, rebuild_stale_summaries
from tests.factories import ReportFactory
from tests.incidents.test_import_uof import met_file, row

MEASURES = [*SUMMARY_MEASURES, "incidents", *INCIDENT_MEASURES]
TICKED = [name for prefix in ("outcome_", "reason_", "impact_") for name, _ in UseOfForceReport.options(prefix)]


def direct_counts():
    """{(force, area, month): Counter of measures}, counted report by report in Python."""
    extended = set(CedUse.objects.filter(cycle_extended=True).values_list("report_id", flat=True))
    cells = collections.defaultdict(collections.Counter)
    references = collections.defaultdict(set)
    taser_incidents = collections.defaultdict(dict)  # cell → {incident: highest level of its reports}
    for report in UseOfForceReport.objects.current().values():
        cell = (report["force_id"], report["area_id"], report["occurred_on"].replace(day=1))
        counts = cells[cell]
        counts["reports"] += 1
        if report["incident_reference"]:
            references[cell].add(report["incident_reference"])
        else:
            counts["incidents"] += 1
        if not report["ced_used"]:
            continue
        level = CedLevel(report["highest_ced_level"])
        incident = report["incident_reference"] or f"report {report['id']}"
        taser_incidents[cell][incident] = max(level, taser_incidents[cell].get(incident, level))
        ethnicity = report["subject_ethnicity"]
        names = ["taser_reports", f"level_{level.name.lower()}", f"ethnicity_{ethnicity}"]
        group = "discharge" if level in DISCHARGE_LEVELS else "non_discharge" if level in NON_DISCHARGE_LEVELS else None
        if group:
            names += [group, f"ethnicity_{ethnicity}_{group}"]
        names += [f"age_{report['subject_age']}", f"gender_{report['subject_gender']}"]
        names += [f"health_{report['subject_health']}", f"subject_injury_{report['subject_injury']}"]
        names += [f"officer_injury_{report['officer_injury']}"]
        names += [name for name in TICKED if report[name]]
        names += [
            f"location_{group.lower().replace(' ', '_')}"
            for group, fields in LOCATION_GROUPS.items()
            if any(report[field] for field in fields)
        ]
        names += ["body_worn_video"] * (report["body_worn_video"] == "yes")
        names += ["extended_cycles"] * (report["id"] in extended)
        counts.update(names)
    for cell, seen in references.items():
        cells[cell]["incidents"] += len(seen)
    for cell, incidents in taser_incidents.items():
        for level in incidents.values():
            cells[cell].update(["incidents_taser", f"incidents_level_{level.name.lower()}"])
            if level in DISCHARGE_LEVELS:
                cells[cell]["incidents_discharge"] += 1
            elif level in NON_DISCHARGE_LEVELS:
                cells[cell]["incidents_non_discharge"] += 1
    return {cell: {name: counts[name] for name in MEASURES} for cell, counts in cells.items()}


def summaries():
    return {
        (s["force_id"], s["area_id"], s["month"]): {name: s[name] for name in MEASURES}
        for s in MonthlySummary.objects.values()
    }


def assert_summaries_equal_direct_counts():
    built, expected = summaries(), direct_counts()
    assert built.keys() == expected.keys()
    wrong = [(cell, name) for cell in expected for name in MEASURES if built[cell][name] != expected[cell][name]]
    assert not wrong, f"{len(wrong)} figures differ, e.g. {wrong[:5]}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_equal_direct_counts_on_generated_data(db, seed):
    seed_demo(reports=8000, seed=seed, months=18)  # rebuilds the summaries, as `make demo` does
    totals = collections.Counter()
    for figures in summaries().values():
        totals.update(figures)
    # The generated data reach every kind of measure, so the comparison means something.
    assert all(totals[name] for name in ("taser_reports", "extended_cycles", "body_worn_video", "discharge"))
    assert totals["incidents"] < totals["reports"]
    assert 0 < totals["incidents_taser"] < totals["taser_reports"]  # some officers share a Taser incident
    assert_summaries_equal_direct_counts()


@pytest.mark.parametrize("seed", [4, 5])
def test_incremental_rebuilds_after_edits_equal_direct_counts(db, seed):
    seed_demo(reports=2000, seed=seed, months=12)
    chooser = random.Random(seed)  # noqa: S311 - which records to edit, not a secret
    reports = list(UseOfForceReport.objects.current().select_related("force"))
    touched = collections.defaultdict(list)
    for report in chooser.sample(reports, 40):
        touched[report.force_id].append([report.area_id, report.occurred_on.replace(day=1).isoformat()])
        action = chooser.choice(["move", "withdraw", "redate"])
        if action == "move":
            other = chooser.choice(list(report.force.areas.all()))
            report.area = other
        elif action == "withdraw":
            report.withdrawn_in_version = 99
        else:
            report.occurred_on -= datetime.timedelta(days=chooser.randint(20, 200))
        report.save()
        touched[report.force_id].append([report.area_id, report.occurred_on.replace(day=1).isoformat()])
    for force_id, cells in touched.items():
        rebuild_summaries(force_ids=[force_id], cells=cells)
    assert_summaries_equal_direct_counts()


def import_and_queue(path, force):
    """Import as the upload's task and import_uof do: the file, then the rebuild of the cells it changed queued."""
    batch = import_reports(path, force)
    queue_summary_rebuild(batch.force_id, batch.summary_cells)
    return batch


def test_an_import_queues_the_rebuild_of_the_cells_it_changed(
    db, metropolitan, lambeth, tmp_path, django_capture_on_commit_callbacks
):
    rows = [row(IncidentDate="2021-01-05"), row(IncidentDate="2021-02-07"), row(IncidentDate="2021-02-08")]
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_and_queue(met_file(tmp_path / "uof.csv", rows), metropolitan)
    assert batch.summary_cells == [[lambeth.pk, "2021-01-01"], [lambeth.pk, "2021-02-01"]]
    assert [(s.month, s.reports, s.data_version) for s in MonthlySummary.objects.all()] == [
        (datetime.date(2021, 1, 1), 1, 1),
        (datetime.date(2021, 2, 1), 2, 1),
    ]
    # A later edition withdraws a record and corrects another's date into March.
    rows = [row(IncidentDate="2021-01-05"), row(IncidentDate="2021-03-08")]
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_and_queue(met_file(tmp_path / "uof.csv", rows), metropolitan)
    assert (batch.rows_added, batch.rows_withdrawn, batch.rows_unchanged) == (1, 2, 1)
    assert [c[1] for c in batch.summary_cells] == ["2021-02-01", "2021-03-01"]
    assert_summaries_equal_direct_counts()
    assert {s.data_version for s in MonthlySummary.objects.all()} == {2}


def test_the_same_file_again_rebuilds_no_cell_and_brings_the_version_up_to_date(
    db, metropolitan, lambeth, tmp_path, django_capture_on_commit_callbacks
):
    path = met_file(tmp_path / "uof.csv", [row()])
    with django_capture_on_commit_callbacks(execute=True):
        import_and_queue(path, metropolitan)
    built_at = MonthlySummary.objects.get().built_at
    with django_capture_on_commit_callbacks(execute=True):
        assert import_and_queue(path, metropolitan).summary_cells == []
    assert (MonthlySummary.objects.get().built_at, MonthlySummary.objects.get().data_version) == (built_at, 2)


def test_editing_a_report_rebuilds_the_cells_it_left_and_entered(db, oxford, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 6, 3), ced_levels=[CedLevel.FIRED])
    assert MonthlySummary.objects.get().level_fired == 1
    with django_capture_on_commit_callbacks(execute=True):
        report.occurred_on = datetime.date(2025, 7, 3)
        report.save()
    assert [(s.month.month, s.level_fired) for s in MonthlySummary.objects.all()] == [(7, 1)]
    with django_capture_on_commit_callbacks(execute=True):
        report.delete()
    assert not MonthlySummary.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_rebuilds_at_once_leave_correct_figures(forces):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database fails a second writer at once; its file database queues it.")
    seed_demo(reports=2000, seed=7, months=12)
    MonthlySummary.objects.all().delete()
    errors = []

    def rebuild():
        try:
            rebuild_summaries(force_ids=["metropolitan", "thames-valley"])
            rebuild_summaries()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rebuild) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_summaries_equal_direct_counts()


def test_every_summary_carries_the_data_version_it_was_built_from(db):
    seed_demo(reports=500, seed=1, months=6)
    versions = {
        force.pk: force.import_batches.get().data_version
        for force in Force.objects.filter(reports__isnull=False).distinct()
    }
    assert {(s.force_id, s.data_version) for s in MonthlySummary.objects.all()} == set(versions.items())


def steady_area_with(oxford, monthly_counts):
    """Taser reports in Oxford, month by month from January 2024."""
    for index, count in enumerate(monthly_counts):
        day = datetime.date(2024 + index // 12, index % 12 + 1, 10)
        for _ in range(count):
            ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.DRAWN], subject_ethnicity="white")
    rebuild_summaries(force_ids=["thames-valley"])


def test_a_planted_spike_raises_an_alert_and_mails_pcc_staff(db, oxford, pcc_staff):
    pcc_staff.email = "analyst@pcc.example"
    pcc_staff.save()
    steady_area_with(oxford, [8, 10, 9, 11, 10, 9, 10, 8, 11, 10, 9, 10, 30])
    alerts = raise_alerts(force_id="thames-valley")
    assert [(a.kind, a.month, a.observed) for a in alerts] == [(Alert.Kind.HIGH_USE, datetime.date(2025, 1, 1), 30)]
    assert alerts[0].expected == pytest.approx(115 / 12)
    assert alerts[0].p_value < 0.001
    assert "Oxford, January 2025: 30 Taser reports" in alerts[0].message
    assert mail.outbox[0].to == ["analyst@pcc.example"]
    assert "Oxford, January 2025" in mail.outbox[0].body
    # Raised again on the next rebuild: the same alert, not a second e-mail.
    raise_alerts(force_id="thames-valley")
    assert Alert.objects.count() == 1
    assert len(mail.outbox) == 1


def test_steady_use_raises_no_alert(db, oxford, pcc_staff):
    steady_area_with(oxford, [8, 10, 9, 11, 10, 9, 10, 8, 11, 10, 9, 10, 12, 9, 11])
    assert raise_alerts(force_id="thames-valley") == []
    assert mail.outbox == []


def test_a_silent_month_of_an_area_that_usually_reports_is_flagged(db, oxford):
    steady_area_with(oxford, [10] * 12 + [0, 9])
    alerts = raise_alerts(force_id="thames-valley")
    assert [(a.kind, a.month) for a in alerts] == [(Alert.Kind.NO_RECORDS, datetime.date(2025, 1, 1))]


def test_many_reports_without_a_level_are_flagged(db, oxford):
    for levels in [[]] * 20 + [[CedLevel.AIMED]] * 5:
        ReportFactory(area=oxford, ced_levels=levels, subject_ethnicity="black")
    rebuild_summaries(force_ids=["thames-valley"])
    (alert,) = raise_alerts(force_id="thames-valley")
    assert alert.kind == Alert.Kind.NOT_STATED
    assert "highest level not stated in 80% of 25 Taser reports" in alert.message


def test_rebuild_summaries_command_rebuilds_one_force(db, oxford):
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
    call_command("rebuild_summaries", force="thames-valley", verbosity=0)
    assert MonthlySummary.objects.get().level_fired == 1


def test_rebuild_summaries_command_refuses_an_unknown_force(db, forces):
    with pytest.raises(CommandError, match="--force: 'atlantis' is not a known force id"):
        call_command("rebuild_summaries", force="atlantis", verbosity=0)


def test_months_roll_up_into_quarters_and_financial_years(db, oxford):
    for day in (datetime.date(2025, 3, 31), datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)):
        ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    force = Force.objects.get(pk="thames-valley")
    quarters = summaries_by_period(force=force, period="quarter")
    assert [(row["period_start"], row["level_fired"]) for row in quarters] == [
        (datetime.date(2025, 1, 1), 1),
        (datetime.date(2025, 4, 1), 2),
    ]
    years = summaries_by_period(force=force, period="financial_year", area=oxford)
    assert [(row["period_start"], row["taser_reports"]) for row in years] == [
        (datetime.date(2024, 4, 1), 1),
        (datetime.date(2025, 4, 1), 2),
    ]


def test_the_nightly_job_rebuilds_forces_whose_summaries_are_stale(db, oxford):
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    assert rebuild_stale_summaries() == []
    # A change that bypassed the signals (a bulk update) and a new data version.
    UseOfForceReport.objects.update(highest_ced_level=CedLevel.DRAWN, ced_fired=False, ced_drawn=True)
    ImportBatch.objects.create(
        force=oxford.force, data_version=1, source_name="x.csv", source_format="met", status="succeeded"
    )
    assert rebuild_stale_summaries() == ["thames-valley"]
    assert (MonthlySummary.objects.get().level_drawn, MonthlySummary.objects.get().data_version) == (1, 1)


def test_pcc_staff_read_their_forces_summaries_in_the_admin_but_cannot_edit_them(client, pcc_staff, oxford, lambeth):
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
    ReportFactory(area=lambeth, ced_levels=[CedLevel.FIRED])
    rebuild_summaries()
    client.force_login(pcc_staff)
    page = client.get("/admin/incidents/monthlysummary/").content.decode()
    assert "Oxford" in page
    assert "Lambeth" not in page
    own = MonthlySummary.objects.get(force="thames-valley")
    assert client.get("/admin/incidents/monthlysummary/add/").status_code == 403
    assert client.post(f"/admin/incidents/monthlysummary/{own.pk}/change/", {"reports": 99}).status_code == 403
    assert MonthlySummary.objects.get(pk=own.pk).reports == 1


def test_an_imports_rebuild_suppresses_the_public_figures_before_any_reader_asks(
    db, metropolitan, lambeth, tmp_path, django_capture_on_commit_callbacks
):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        import_and_queue(met_file(tmp_path / "uof.csv", [row(), row(IncidentDate="2021-02-07")]), metropolitan)
    family = cache.get(disclosure.family_key(metropolitan))
    assert family is not None and family.cells > 0
