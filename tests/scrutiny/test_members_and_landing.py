"""PCC staff add and retire members from the panel page; each role lands on its own work after sign-in."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from forces.models import Role
from forces.roles import force_of, role_of
from scrutiny.models import PanelMember, Review
from scrutiny.services import add_new_member, retire_member
from tests.conftest import PASSWORD
from tests.factories import MeetingFactory, ReviewFactory, SampledCaseFactory

TODAY = timezone.localdate()


def test_pcc_staff_add_a_new_member_and_their_login_from_the_panel_page(client, panel, pcc_staff):
    client.force_login(pcc_staff)
    form = {"do": "new_member", "new-username": "asha.patel", "new-email": "asha@example.org", "new-role": "member"}
    form |= {"new-term_starts_on": "2026-01-01", "new-vetted_on": "2025-11-03", "new-trained_on": "2025-12-01"}
    assert client.post(f"/scrutiny/panels/{panel.pk}/", form).status_code == 302
    user = get_user_model().objects.get(username="asha.patel")
    assert (role_of(user), force_of(user), user.email, user.has_usable_password()) == (
        Role.PANEL_MEMBER, panel.force, "asha@example.org", False,
    )  # fmt: skip
    member = PanelMember.objects.get(user=user, panel=panel)
    assert (member.term_starts_on, member.vetted_on, member.trained_on) == (
        datetime.date(2026, 1, 1), datetime.date(2025, 11, 3), datetime.date(2025, 12, 1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [("panel_member_thames-valley", "x@example.org", "is taken"), ("new.one", " ", "give a username and the member's")],
)
def test_a_new_member_needs_a_free_username_and_an_email(username, email, message, panel, panel_member):
    with pytest.raises(ValidationError, match=message):
        add_new_member(panel=panel, username=username, email=email, term_starts_on=TODAY)
    assert not PanelMember.objects.filter(panel=panel).exists()


def test_pcc_staff_retire_a_member_today_and_their_reviews_are_kept(client, case, member, pcc_staff):
    review = ReviewFactory(sampled_case=case, member=member, status="submitted")
    client.force_login(pcc_staff)
    assert client.post(f"/scrutiny/panels/{member.panel_id}/", {"do": "retire", "member": member.pk}).status_code == 302
    member.refresh_from_db()
    assert member.term_ends_on == TODAY
    assert member.barrier(TODAY + datetime.timedelta(days=1)).startswith("Your term on Panel A ended")
    assert Review.objects.filter(pk=review.pk, member=member).exists()
    with pytest.raises(ValidationError, match="term already ended"):
        retire_member(member)


def sign_in(client, user):
    return client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})


def test_each_role_lands_on_its_own_work_after_signing_in(
    client, panel, member, chair, panel_member, panel_chair, force_data_officer, pcc_staff, api_client_user
):
    meeting = MeetingFactory(panel=panel, held_on=TODAY + datetime.timedelta(days=10))
    MeetingFactory(panel=panel, held_on=TODAY - datetime.timedelta(days=80))
    landing = {}
    for user in (panel_member, panel_chair, force_data_officer, pcc_staff, api_client_user):
        client.logout()
        landing[user.username] = client.get(sign_in(client, user).url).url
    assert landing == {
        panel_member.username: "/scrutiny/cases/",
        panel_chair.username: f"/scrutiny/meetings/{meeting.pk}/",
        force_data_officer.username: "/scrutiny/responses/",
        pcc_staff.username: "/forces/thames-valley/",
        api_client_user.username: "/",
    }


def test_a_member_is_offered_the_next_case_to_review(client, case, member, panel_member):
    done = SampledCaseFactory(sample=case.sample)
    ReviewFactory(sampled_case=done, member=member, status="submitted")
    client.force_login(panel_member)
    page = client.get("/scrutiny/cases/")
    assert page.context["next_case"] == case
    assert f'href="/scrutiny/cases/{case.pk}/"' in page.content.decode()
    ReviewFactory(sampled_case=case, member=member, status="submitted")
    assert client.get("/scrutiny/cases/").context["next_case"] is None
