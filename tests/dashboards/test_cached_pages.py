"""Pages and answers kept by figures version: served from the cache until a change, never stale after one,
conditional requests answered 304, and cache headers as the reader's view allows."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client

from forces.models import FiguresVersion, Role
from forces.services import create_role_user
from forces.versions import bump_figures_version, figures_version
from incidents.imports.pipeline import import_reports
from incidents.models import UseOfForceReport
from incidents.retention import apply_retention
from incidents.summaries import rebuild_summaries
from incidents.tasks import queue_summary_rebuild
from scrutiny.services import set_published
from tests.conftest import HOME_OFFICE_TABLES_2019_20, PASSWORD, published, role_user
from tests.factories import FindingFactory, PanelFactory, PopulationBaselineFactory
from tests.incidents.test_import_uof import met_file, row

MET = "metropolitan"
# A signed-in page carries a form token that differs on every render of the same page.
FORM_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def met_rows(ethnicity="White"):
    rows = [
        row(**{"IncidentDate": "2020-04-03", "CED Used": "Yes", "CED Highest Use": "Fired", "SubjectEthnicity": e})
        for e in ("White", "White", ethnicity)
    ]
    return rows + [row(IncidentDate=f"2020-0{month}-10", **{"CED Used": "Yes"}) for month in (5, 6, 7)]


@pytest.fixture
def met_figures(tmp_path, lambeth):
    """The Met with one imported file, summarised."""
    import_reports(met_file(tmp_path / "first.csv", met_rows()), lambeth.force)
    rebuild_summaries(force_ids=[MET])
    return lambeth


def pages(lambeth):
    """{reader: the pages and answers kept by figures version that the reader may open, with the Met's figures}."""
    public = [
        "/public/", f"/public/{MET}/", f"/public/{MET}/?format=csv&chart=use-over-time",
        f"/api/v1/summaries/?force={MET}", f"/api/v1/summaries/?force={MET}&period=financial_year",
    ]  # fmt: skip
    dashboards = [
        f"/forces/{MET}/", f"/forces/{MET}/?format=csv&chart=use-over-time",
        f"/forces/{MET}/?format=csv&chart=disproportionality", f"/forces/{MET}/areas/{lambeth.code}/",
        f"/forces/{MET}/areas/", f"/forces/{MET}/areas/?format=csv&chart=area-comparison", "/compare/",
        "/compare/?format=csv&chart=force-comparison",
    ]  # fmt: skip
    return {"public": public, "pcc_staff": public + dashboards}


def staff(force):
    """A PCC staff member of the force, one more each call."""
    staff.made = getattr(staff, "made", 0) + 1
    return create_role_user(f"staff_{staff.made}", Role.PCC_STAFF, force, PASSWORD)


def answers(clients, pages):
    """{(reader, path): status and body} as each reader is served now."""
    served = {}
    for reader, client in clients.items():
        for path in pages[reader]:
            response = client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            served[reader, path] = (response.status_code, FORM_TOKEN.sub(b"", body))
    return served


def sign_in(client, user):
    """Signed in, with the CSRF cookie that signing in through the form sets (force_login sets none)."""
    client.force_login(user)
    client.get("/public/")


@pytest.fixture
def readers(client, metropolitan):
    signed_in = Client()
    sign_in(signed_in, staff(metropolitan))
    return {"public": client, "pcc_staff": signed_in}


def import_a_file(tmp_path, lambeth):
    import_reports(met_file(tmp_path / "second.csv", met_rows() + [row(IncidentDate="2020-08-01")]), lambeth.force)


def edit_a_report(tmp_path, lambeth):
    report = UseOfForceReport.objects.filter(subject_ethnicity="white").first()
    report.subject_ethnicity = "black"
    report.save()  # its cells are rebuilt once this commits


def withdraw_a_report(tmp_path, lambeth):
    batch = import_reports(met_file(tmp_path / "withdrawn.csv", met_rows()[:-1]), lambeth.force)
    queue_summary_rebuild(MET, batch.summary_cells)


def rebuild_after_a_bulk_change(tmp_path, lambeth):
    UseOfForceReport.objects.filter(occurred_on__month=5).update(subject_ethnicity="asian")
    rebuild_summaries(force_ids=[MET])


def run_retention(tmp_path, lambeth):
    # A change whose rebuild was lost: retention summarises the months it keeps as the reports now stand.
    UseOfForceReport.objects.filter(occurred_on__month=5).update(subject_ethnicity="asian")
    assert apply_retention(years=1, today=datetime.date(2021, 9, 1)) is not None


def import_home_office_figures(tmp_path, lambeth):
    from forces.home_office import import_ho_tables

    import_ho_tables(published(HOME_OFFICE_TABLES_2019_20))


def publish_a_finding(tmp_path, lambeth):
    report = UseOfForceReport.objects.filter(highest_ced_level__isnull=False).first()
    finding = FindingFactory(
        sampled_case__report=report, sampled_case__sample__panel=PanelFactory(force=lambeth.force), published=False
    )
    set_published(finding=finding, published=True)


def add_a_population(tmp_path, lambeth):
    PopulationBaselineFactory(area=lambeth)


CHANGES = [
    import_a_file, edit_a_report, withdraw_a_report, rebuild_after_a_bulk_change, run_retention,
    import_home_office_figures, publish_a_finding, add_a_population,
]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_no_figure_is_served_stale_after_a_change(
    change, met_figures, readers, tmp_path, django_capture_on_commit_callbacks
):
    paths = pages(met_figures)
    before = answers(readers, paths)
    assert {status for status, _ in before.values()} == {200}
    version = figures_version(force_id=MET)
    with django_capture_on_commit_callbacks(execute=True):
        change(tmp_path, met_figures)
    assert figures_version(force_id=MET) > version
    served = answers(readers, paths)
    cache.clear()
    assert served == answers(readers, paths), "an answer kept from before the change was served"
    assert served != before, "the change shows on no page: the test proves nothing"


def test_a_forces_figures_version_is_what_its_row_holds_with_its_time_zone(db):
    assert figures_version(force_id=MET) == (0, None)
    bump_figures_version([MET])
    bump_figures_version([MET])
    row = FiguresVersion.objects.get(scope=MET)
    assert figures_version(force_id=MET) == (2, row.changed_at)
    assert figures_version(force_id=MET)[1].utcoffset() == datetime.timedelta(0)


def test_an_unchanged_page_is_served_from_the_cache(
    met_figures, readers, django_assert_max_num_queries, django_assert_num_queries
):
    path = f"/forces/{MET}/"
    first = readers["pcc_staff"].get(path)
    # The session and its user, the user's role and force, the figures version: nothing of the figures.
    with django_assert_max_num_queries(5):
        again = readers["pcc_staff"].get(path)
    assert FORM_TOKEN.sub(b"", again.content) == FORM_TOKEN.sub(b"", first.content)
    readers["public"].get(f"/public/{MET}/")
    with django_assert_num_queries(1):  # the figures version
        readers["public"].get(f"/public/{MET}/")


def test_a_public_page_carries_validators_public_cache_control_and_answers_304(met_figures, client):
    page = client.get(f"/public/{MET}/")
    assert page["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in page["Vary"]
    assert page["ETag"] and page["Last-Modified"]
    not_modified = client.get(f"/public/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert (not_modified["ETag"], not_modified["Cache-Control"]) == (page["ETag"], "public, max-age=60")
    assert client.get(f"/public/{MET}/", HTTP_IF_MODIFIED_SINCE=page["Last-Modified"]).status_code == 304
    # Another year is another answer.
    assert client.get(f"/public/{MET}/?year=2019", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 200


def test_a_change_ends_the_304s(met_figures, client):
    page = client.get(f"/public/{MET}/")
    PopulationBaselineFactory(area=met_figures)
    assert client.get(f"/public/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 200


def test_a_signed_in_page_is_private_to_its_user(met_figures, client, metropolitan):
    first, second = staff(metropolitan), staff(metropolitan)
    sign_in(client, first)
    page = client.get(f"/forces/{MET}/")
    assert page["Cache-Control"] == "private, no-cache"
    assert "Cookie" in page["Vary"]
    assert client.get(f"/forces/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    public = client.get(f"/public/{MET}/")
    assert public["Cache-Control"] == "private, no-cache"  # it names the user
    assert first.username.encode() in public.content
    sign_in(client, second)
    other = client.get(f"/forces/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert other.status_code == 200
    assert second.username.encode() in other.content
    assert first.username.encode() not in other.content
    assert other["ETag"] != page["ETag"]
    client.logout()
    anonymous = client.get(f"/public/{MET}/", HTTP_IF_NONE_MATCH=public["ETag"])
    assert anonymous.status_code == 200
    assert first.username.encode() not in anonymous.content


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.API_CLIENT])
def test_a_reader_without_the_role_is_refused_a_page_another_has_in_the_cache(met_figures, client, metropolitan, role):
    client.force_login(staff(metropolitan))
    page = client.get(f"/forces/{MET}/")
    client.force_login(role_user(role, metropolitan))
    assert client.get(f"/forces/{MET}/").status_code == 403
    assert client.get(f"/forces/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 403


def test_another_forces_staff_are_refused_a_page_kept_for_the_force(met_figures, client, thames_valley):
    client.force_login(staff(met_figures.force))
    page = client.get(f"/forces/{MET}/")
    client.force_login(staff(thames_valley))
    assert client.get(f"/forces/{MET}/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 403
