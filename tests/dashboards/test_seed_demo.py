"""seed_demo: deterministic and realistic, replacing earlier demo data."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.http import HttpRequest

from dashboards.demo import seed_demo
from forces.models import Force, PopulationBaseline
from incidents import canonical
from incidents.imports.pipeline import import_reports
from incidents.models import CedLevel, CedUse, ImportBatch, UseOfForceReport
from scrutiny.models import Review, SampledCase
from tests.conftest import rows_for_a_module

END = datetime.date(2026, 3, 1)


def fingerprint():
    """Counts that differ if any generated value differs in distribution."""
    reports = UseOfForceReport.objects.all()
    return {
        "by_force": dict(reports.values_list("force").annotate(n=Count("id"))),
        "by_level": dict(reports.values_list("highest_ced_level").annotate(n=Count("id"))),
        "by_area_month": sorted(reports.values_list("area__code", "occurred_on__month").annotate(n=Count("id"))),
        "by_ethnicity": dict(reports.values_list("subject_ethnicity").annotate(n=Count("id"))),
        "ced_uses": CedUse.objects.count(),
        "extended": CedUse.objects.filter(cycle_extended=True).count(),
        "incidents": reports.values("incident_reference").distinct().count(),
    }


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    # Seeding takes a while: once for the module, each test's own changes rolled back after it.
    with rows_for_a_module(django_db_blocker):
        seed_demo(reports=6000, seed=7, end_month=END)
        yield fingerprint()


@pytest.fixture
def seeded(seeded_once, db):
    """The demo data of seed 7, and their fingerprint."""
    return seeded_once


def test_same_seed_gives_the_same_data(seeded):
    seed_demo(reports=6000, seed=7, end_month=END)
    assert fingerprint() == seeded


def test_another_seed_gives_other_data(seeded):
    seed_demo(reports=6000, seed=8, end_month=END)
    assert fingerprint() != seeded


def test_seeding_again_replaces_the_demo_data_instead_of_adding(seeded):
    seed_demo(reports=6000, seed=7, end_month=END)
    assert UseOfForceReport.objects.count() == 6000
    assert ImportBatch.objects.filter(source_format="demo").count() == 4


def test_demo_data_has_several_forces_and_areas_with_population_baselines(seeded):
    assert len(seeded["by_force"]) == 4
    areas = UseOfForceReport.objects.values("area").distinct().count()
    assert areas >= 30
    assert PopulationBaseline.objects.filter(area__reports__isnull=False).distinct().count() == areas


def test_demo_taser_use_follows_the_published_proportions(seeded):
    taser = UseOfForceReport.objects.filter(ced_used=True)
    by_level = dict(taser.values_list("highest_ced_level").annotate(n=Count("id")))
    total = sum(by_level.values())
    assert 0.05 < total / 6000 < 0.09  # Taser in 6.5% of incidents nationally in 2019/20
    assert max(by_level, key=by_level.get) == CedLevel.RED_DOTTED  # the most common level
    assert 0.07 < by_level[CedLevel.FIRED] / total < 0.14  # fired in 10.2% of Taser uses
    assert by_level[CedLevel.NOT_STATED] > 0  # kept, not guessed


def test_demo_shows_disproportionate_taser_use_on_people_perceived_as_black(seeded):
    counts = UseOfForceReport.objects.filter(ced_used=True).aggregate(
        black=Count("id", filter=Q(subject_ethnicity="black")), white=Count("id", filter=Q(subject_ethnicity="white"))
    )
    residents = PopulationBaseline.objects.filter(area__reports__isnull=False).distinct()
    black = sum(b.black for b in residents)
    white = sum(b.white for b in residents)
    ratio = (counts["black"] / black) / (counts["white"] / white)
    assert 4 < ratio < 12  # published national figure: about 7-8 times


def test_demo_months_show_seasonality_and_end_at_the_end_month(seeded):
    latest = UseOfForceReport.objects.latest("occurred_on").occurred_on
    assert (latest.year, latest.month) == (2026, 3)
    summer = UseOfForceReport.objects.filter(occurred_on__month__in=[6, 7, 8]).count()
    winter = UseOfForceReport.objects.filter(occurred_on__month__in=[12, 1, 2]).count()
    assert summer > winter


def test_demo_has_a_panel_with_reviews_of_sampled_discharges(seeded):
    cases = SampledCase.objects.all()
    assert cases.exists()
    assert all(case.report.highest_ced_level >= CedLevel.DRIVE_STUN for case in cases)
    assert Review.objects.filter(status="submitted").count() >= 1


def test_demo_logins_exist_for_every_role(seeded, client):
    for username in ["pcc_staff", "panel_member", "panel_chair", "force_data_officer", "api_client", "admin"]:
        assert client.login(request=HttpRequest(), username=username, password="taser-demo"), username


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--reports", "0"], "--reports: 0 is not a positive number"),
        (["--end-month", "March"], "--end-month: 'March' is not a month; expected YYYY-MM"),
        (["--months", "0"], "--months: 0 is outside 1 to 240"),
    ],
)
def test_seed_demo_refuses_bad_arguments(db, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *arguments, verbosity=0)


def test_an_export_of_the_demo_imports_again_unchanged_but_for_its_first_digest(seeded, tmp_path):
    thames_valley = Force.objects.get(pk="thames-valley")
    reports = UseOfForceReport.objects.current().filter(force=thames_valley)
    path = tmp_path / "thames-valley.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        canonical.write(reports, handle)
    first = import_reports(path, thames_valley)
    # Demo reports were never read from a file, so the first import gives them its digests.
    assert (first.rows_rejected, first.rows_added, first.rows_withdrawn) == (0, 0, 0)
    again = import_reports(path, thames_valley)
    assert again.rows_unchanged == reports.count() > 0
