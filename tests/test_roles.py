"""Roles: each is a group with its permissions, scoped to one force; pages check both."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest

from forces.models import ForceScope, Role
from incidents.models import CedLevel
from tests.conftest import PASSWORD
from tests.factories import PanelMemberFactory, ReportFactory, SampledCaseFactory


def signed_in(client, user):
    client.force_login(user)
    return client


def test_every_role_is_a_group_with_permissions(db):
    for role in Role:
        assert Group.objects.get(name=role).permissions.exists(), role


def test_panel_members_have_no_model_permission_on_reports(db):
    codenames = set(Group.objects.get(name=Role.PANEL_MEMBER).permissions.values_list("codename", flat=True))
    assert "view_useofforcereport" not in codenames
    assert {"view_review", "add_review", "change_review"} <= codenames


def test_create_role_user_makes_a_scoped_user_who_can_sign_in(thames_valley, client):
    call_command("create_role_user", "ana", role="pcc_staff", force="thames-valley", password=PASSWORD, verbosity=0)
    scope = ForceScope.objects.get(user__username="ana")
    assert scope.force == thames_valley
    assert list(scope.user.groups.values_list("name", flat=True)) == ["pcc_staff"]
    assert client.login(request=HttpRequest(), username="ana", password=PASSWORD)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"role": "pcc_staff", "force": "atlantis", "password": PASSWORD}, "'atlantis' is not a known force id"),
        ({"role": "pcc_staff", "force": "kent", "password": "short"}, "--password: This password is too short"),
    ],
)
def test_create_role_user_refuses_bad_input_clearly(forces, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_role_user", "ana", verbosity=0, **arguments)


def test_create_role_user_refuses_an_unknown_role(forces):
    with pytest.raises(CommandError, match="invalid choice: 'sheriff'"):
        call_command("create_role_user", "ana", "--role", "sheriff", "--force", "kent", "--password", PASSWORD)


# --- pages ---------------------------------------------------------------------------------

DASHBOARD_STATUS = {
    Role.PCC_STAFF: 200,
    Role.FORCE_DATA_OFFICER: 200,
    Role.PANEL_MEMBER: 403,
    Role.API_CLIENT: 403,
}


def test_home_lists_forces_without_sign_in(forces, client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Thames Valley Police" in response.content


@pytest.mark.parametrize("role", list(Role))
def test_force_dashboard_is_for_pcc_staff_and_force_data_officers(role, role_users, client):
    assert signed_in(client, role_users[role]).get("/forces/thames-valley/").status_code == DASHBOARD_STATUS[role]


def test_force_dashboard_sends_anonymous_visitors_to_sign_in(forces, client):
    response = client.get("/forces/thames-valley/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_force_dashboard_of_unknown_force_is_not_found(pcc_staff, client):
    assert signed_in(client, pcc_staff).get("/forces/atlantis/").status_code == 404


@pytest.mark.parametrize("role", [Role.PCC_STAFF, Role.FORCE_DATA_OFFICER, Role.API_CLIENT])
def test_record_roles_open_their_own_forces_report(role, role_users, oxford, client):
    report = ReportFactory(area=oxford)
    assert signed_in(client, role_users[role]).get(f"/reports/{report.pk}/").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_no_role_of_one_force_can_open_another_forces_report(role, role_users, lambeth, client):
    report = ReportFactory(area=lambeth)
    assert signed_in(client, role_users[role]).get(f"/reports/{report.pk}/").status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_report_list_never_shows_another_forces_reports(role, role_users, oxford, lambeth, client):
    ReportFactory(area=oxford)
    other = ReportFactory(area=lambeth)
    response = signed_in(client, role_users[role]).get("/reports/")
    assert response.status_code == 200
    assert other not in list(response.context["page"])


def test_panel_member_sees_only_reports_sampled_for_their_panel(panel_member, oxford, client):
    sampled, unsampled = ReportFactory(area=oxford), ReportFactory(area=oxford)
    case = SampledCaseFactory(report=sampled)
    PanelMemberFactory(user=panel_member, panel=case.sample.panel)
    signed_in(client, panel_member)
    # A member reads a sampled report on its case page, where the view is logged.
    assert client.get(f"/reports/{sampled.pk}/").url == f"/scrutiny/cases/{case.pk}/"
    assert client.get(f"/reports/{unsampled.pk}/").status_code == 404


def test_panel_member_cannot_see_a_case_sampled_for_another_panel(panel_member, oxford, client):
    case = SampledCaseFactory(report=ReportFactory(area=oxford))
    PanelMemberFactory(user=panel_member)  # on a different panel of the same force
    assert signed_in(client, panel_member).get(f"/reports/{case.report_id}/").status_code == 404


def test_reports_need_sign_in(forces, client):
    assert client.get("/reports/").status_code == 302


def test_user_without_a_role_is_refused_the_report_list(django_user_model, forces, client):
    user = django_user_model.objects.create_user("nobody", password=PASSWORD)
    assert signed_in(client, user).get("/reports/").status_code == 403


def test_superuser_opens_any_forces_report(superuser, lambeth, client):
    report = ReportFactory(area=lambeth)
    assert signed_in(client, superuser).get(f"/reports/{report.pk}/").status_code == 200


# --- admin ---------------------------------------------------------------------------------


def test_force_data_officer_sees_only_own_forces_reports_in_admin(force_data_officer, oxford, lambeth, client):
    own, other = ReportFactory(area=oxford), ReportFactory(area=lambeth)
    signed_in(client, force_data_officer)
    listing = client.get("/admin/incidents/useofforcereport/")
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == [own]
    assert client.get(f"/admin/incidents/useofforcereport/{other.pk}/change/").status_code == 302  # "does not exist"
    assert client.get(f"/admin/incidents/useofforcereport/{own.pk}/change/").status_code == 200


def test_admin_shows_provenance_read_only(force_data_officer, oxford, client):
    report = ReportFactory(area=oxford)
    form = signed_in(client, force_data_officer).get(f"/admin/incidents/useofforcereport/{report.pk}/change/")
    assert "data_version" not in form.context["adminform"].form.fields
    assert "highest_ced_level" not in form.context["adminform"].form.fields


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.API_CLIENT])
def test_roles_without_staff_status_cannot_use_the_admin(role, role_users, client):
    assert signed_in(client, role_users[role]).get("/admin/").status_code == 302


def test_pcc_staff_cannot_change_reports_in_admin(pcc_staff, oxford, client):
    report = ReportFactory(area=oxford)
    signed_in(client, pcc_staff)
    page = client.get(f"/admin/incidents/useofforcereport/{report.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False


def test_healthz_answers_with_the_database_reachable(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_force_data_officer_enters_a_report_with_a_fired_device_in_admin(force_data_officer, oxford, client):
    data = {
        "force": "thames-valley", "area": oxford.pk, "occurred_on": "2025-07-01", "subject_age": "18_34",
        "subject_gender": "male", "subject_ethnicity": "white", "subject_health": "none", "body_worn_video": "yes",
        "officer_injury": "none", "subject_injury": "none", "ced_used": "on", "ced_drawn": "on",
        "officer_single_crewed": "unknown", "officer_ced_trained": "true", "officer_carrying_ced": "true",
        "officer_assaulted": "unknown", "officer_threatened_with_weapon": "unknown",
        "ced_uses-TOTAL_FORMS": "1", "ced_uses-INITIAL_FORMS": "0",
        "ced_uses-0-device_number": "1", "ced_uses-0-device_model": "taser7",
        "ced_uses-0-ced_drawn": "on", "ced_uses-0-ced_fired": "on", "ced_uses-0-cycles": "2",
        "ced_uses-0-cycle_extended": "unknown", "ced_uses-0-missed_one_probe": "false",
        "ced_uses-0-missed_both_probes": "false",
    }  # fmt: skip
    response = signed_in(client, force_data_officer).post("/admin/incidents/useofforcereport/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    report = force_data_officer.force_scope.force.reports.get()
    assert report.highest_ced_level == CedLevel.FIRED  # the device's level, lifted onto the report
    assert report.ced_uses.get().cycles == 2


def test_force_data_officer_cannot_add_import_batches_by_hand(force_data_officer, client):
    assert signed_in(client, force_data_officer).get("/admin/incidents/importbatch/add/").status_code == 403


@pytest.mark.parametrize("role", list(Role))
def test_only_the_dashboard_roles_are_offered_their_forces_dashboard(role, role_users, client):
    page = signed_in(client, role_users[role]).get("/").content.decode()
    offered = '<li><a href="/forces/thames-valley/">Thames Valley Police</a></li>' in page
    assert offered == (DASHBOARD_STATUS[role] == 200)
