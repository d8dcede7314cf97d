"""What each role may do, asked of forces.roles as the views and the API ask it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from forces.models import ForceScope, Role
from forces.roles import (
    FINDING_PAGE_ROLES,
    FINDING_ROLES,
    PCC_ROLES,
    RECORD_ROLES,
    RESPONSE_ROLES,
    UPLOAD_ROLES,
    force_of,
    may,
    role_of,
    role_required,
)
from oversight.numbers import fraction, share


@role_required(PCC_ROLES, "Only PCC staff.", with_force=True)
def pcc_page(request):
    return HttpResponse("ok")


def test_api_clients_read_findings_through_the_api_but_have_no_findings_pages(api_client_user, pcc_staff):
    assert may(api_client_user, FINDING_ROLES) and not may(api_client_user, FINDING_PAGE_ROLES)
    assert may(pcc_staff, FINDING_ROLES) and may(pcc_staff, FINDING_PAGE_ROLES)


def test_a_superuser_may_everything_and_an_anonymous_caller_nothing(superuser):
    assert may(superuser, UPLOAD_ROLES, with_force=True)
    assert not may(AnonymousUser(), RECORD_ROLES)


def test_a_role_that_works_for_a_force_needs_one(force_data_officer):
    assert may(force_data_officer, UPLOAD_ROLES, with_force=True)
    ForceScope.objects.filter(user=force_data_officer).delete()
    force_data_officer.refresh_from_db()
    assert force_of(force_data_officer) is None
    assert not may(force_data_officer, UPLOAD_ROLES, with_force=True)
    assert may(force_data_officer, UPLOAD_ROLES)


def test_only_a_force_data_officer_answers_findings_not_even_a_superuser(force_data_officer, pcc_staff, superuser):
    assert role_of(force_data_officer) in RESPONSE_ROLES
    assert role_of(pcc_staff) not in RESPONSE_ROLES and role_of(superuser) not in RESPONSE_ROLES


def test_role_required_sends_anonymous_callers_to_sign_in_and_refuses_other_roles(pcc_staff, panel_member):
    request = RequestFactory().get("/somewhere/?a=1")
    request.user = AnonymousUser()
    response = pcc_page(request)
    assert response.status_code == 302 and "next=/somewhere/%3Fa%3D1" in response["Location"]
    request.user = panel_member
    with pytest.raises(PermissionDenied, match="Only PCC staff."):
        pcc_page(request)
    request.user = pcc_staff
    assert pcc_page(request).status_code == 200


def test_every_role_is_one_the_role_sets_know():
    assert {role for roles in (FINDING_ROLES, RECORD_ROLES) for role in roles} == set(Role)


def test_share_is_a_percentage_and_fraction_a_ratio():
    assert share(1, 4) == 25.0 and fraction(1, 4) == 0.25
    assert share(1, 0) is None and fraction(None, 4) is None
