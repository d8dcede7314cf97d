"""The figures of a signed-in dashboard are made once for every user of the same role and force, and the page
around them (name, form token) for each request: shared with nobody else, and never older than the figures
version.

A change written straight to the summaries (a bulk update, which moves no figures version) shows which
readers were served figures made for another: those who still see the old figure.
"""

import re

import pytest
from django.db.models import F
from django.test import Client

from forces.models import Role
from forces.services import create_role_user
from forces.versions import bump_figures_version
from incidents.imports.pipeline import import_reports
from incidents.models import MonthlySummary
from incidents.summaries import rebuild_summaries
from tests.conftest import PASSWORD
from tests.incidents.test_import_uof import met_file, row

MET = "metropolitan"
ALL_USES = re.compile(r"<dt>All uses of force</dt><dd>([^<]*)</dd>")
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


@pytest.fixture
def met_figures(tmp_path, lambeth):
    """The Met with four reports in April 2020, summarised."""
    rows = [row(IncidentDate="2020-04-03", **{"CED Used": "Yes", "CED Highest Use": "Fired"}) for _ in range(4)]
    import_reports(met_file(tmp_path / "met.csv", rows), lambeth.force)
    rebuild_summaries(force_ids=[MET])
    return lambeth


def signed_in(user):
    """A browser of its own, signed in, with the CSRF cookie that signing in through the form sets; it sends
    forms as a browser does, checked against that cookie."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/public/")
    return browser


def all_uses(page):
    return ALL_USES.search(page.content.decode()).group(1)


def change_the_summaries_silently():
    """More reports (with Taser used) in every cell, written past the figures version: only a page or CSV made
    afresh shows them."""
    MonthlySummary.objects.filter(force_id=MET).update(
        reports=F("reports") + 1000, taser_reports=F("taser_reports") + 1000
    )


@pytest.fixture
def two_staff(metropolitan):
    return (
        create_role_user("alice_pcc", Role.PCC_STAFF, metropolitan, PASSWORD),
        create_role_user("bruno_pcc", Role.PCC_STAFF, metropolitan, PASSWORD),
    )


@pytest.mark.parametrize("path", [f"/forces/{MET}/", f"/forces/{MET}/?unit=incidents", "/forces/{MET}/areas/{code}/"])
def test_two_staff_of_one_force_share_the_figures_but_each_sees_their_own_name_and_form_token(
    met_figures, two_staff, path
):
    path = path.format(MET=MET, code=met_figures.code)
    alice, bruno = (signed_in(user) for user in two_staff)
    first = alice.get(path)
    change_the_summaries_silently()
    second = bruno.get(path)
    assert first.status_code == second.status_code == 200
    assert all_uses(second) == all_uses(first) == "4", "the second page's figures were made again"
    page = second.content.decode()
    assert "bruno_pcc" in page
    assert "alice_pcc" not in page
    # The form token on bruno's page is of his own CSRF secret: signing out with it is accepted.
    assert bruno.post("/accounts/logout/", {"csrfmiddlewaretoken": FORM_TOKEN.search(page).group(1)}).status_code == 302


def test_two_staff_of_one_force_share_a_charts_csv(met_figures, two_staff):
    alice, bruno = (signed_in(user) for user in two_staff)
    path = f"/forces/{MET}/?chart=use-over-time&format=csv"
    first = alice.get(path)
    change_the_summaries_silently()
    assert bruno.get(path).content == first.content
    bump_figures_version([MET])
    assert b"April 2020,0,0,0,0,0,0,0,4,4," in first.content
    assert b"April 2020,0,0,0,0,0,0,0,4,1004," in bruno.get(path).content


@pytest.mark.parametrize("other", ["force_data_officer", "superuser", "staff_of_another_force"])
def test_users_of_another_role_or_force_are_never_served_figures_made_for_staff(
    met_figures, two_staff, thames_valley, django_user_model, other
):
    alice = signed_in(two_staff[0])
    assert all_uses(alice.get(f"/forces/{MET}/")) == "4"
    change_the_summaries_silently()
    if other == "staff_of_another_force":
        # The Met's dashboard is not theirs: they are refused it, whatever the cache holds.
        stranger = signed_in(create_role_user("carla_pcc", Role.PCC_STAFF, thames_valley, PASSWORD))
        assert stranger.get(f"/forces/{MET}/").status_code == 403
        return
    user = (
        django_user_model.objects.create_superuser("root", password=PASSWORD)
        if other == "superuser"
        else create_role_user("dana_fdo", Role.FORCE_DATA_OFFICER, met_figures.force, PASSWORD)
    )
    page = signed_in(user).get(f"/forces/{MET}/")
    assert all_uses(page) == "1,004"
    assert user.username in page.content.decode()


def test_a_new_figures_version_is_never_served_the_old_figures(met_figures, two_staff):
    alice, bruno = (signed_in(user) for user in two_staff)
    assert all_uses(alice.get(f"/forces/{MET}/")) == "4"
    change_the_summaries_silently()
    bump_figures_version([MET])
    assert all_uses(bruno.get(f"/forces/{MET}/")) == "1,004"
    assert all_uses(alice.get(f"/forces/{MET}/")) == "1,004"


def test_the_actions_tracker_link_follows_the_role_of_whoever_is_shown_the_figures(met_figures, two_staff):
    staff_page = signed_in(two_staff[0]).get(f"/forces/{MET}/").content.decode()
    officer = create_role_user("dana_fdo", Role.FORCE_DATA_OFFICER, met_figures.force, PASSWORD)
    officer_page = signed_in(officer).get(f"/forces/{MET}/").content.decode()
    assert "The actions tracker" in staff_page
    assert "The actions tracker" not in officer_page
