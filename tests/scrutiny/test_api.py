"""The panels' work through the API: who sees which samples, reviews and findings."""

import pytest
from django.utils import timezone

from forces.models import Role
from forces.services import create_role_user
from scrutiny.models import Finding, ForceResponse
from tests.conftest import PASSWORD
from tests.factories import (
    CaseSampleFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)


@pytest.fixture
def case(panel_member, oxford):
    """A sampled case of a Thames Valley panel on which `panel_member` and a colleague sit."""
    panel = PanelFactory(force=oxford.force)
    PanelMemberFactory(user=panel_member, panel=panel)
    return SampledCaseFactory(sample=CaseSampleFactory(panel=panel), report=ReportFactory(area=oxford))


def review_ids(client, user):
    client.force_login(user)
    return {row["id"] for row in client.get("/api/v1/reviews/").json()["results"]}


def test_a_member_sees_their_own_draft_but_not_a_colleagues(client, case, panel_member):
    own = ReviewFactory(sampled_case=case, member=case.sample.panel.members.get(user=panel_member))
    colleague = ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel))
    assert review_ids(client, panel_member) == {own.pk}
    colleague.status, colleague.submitted_at = "submitted", timezone.now()
    colleague.save()
    assert review_ids(client, panel_member) == {own.pk}  # submitted, but the chair has not opened the case


def test_colleagues_submitted_reviews_show_once_the_chair_opens_the_case(client, case, panel_member):
    draft = ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel))
    submitted = ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel), status="submitted")
    case.opened_at_meeting_at = timezone.now()
    case.save()
    assert review_ids(client, panel_member) == {submitted.pk}
    assert draft.pk not in review_ids(client, panel_member)


def test_pcc_staff_see_submitted_reviews_only(client, case, pcc_staff):
    ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel))
    submitted = ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel), status="submitted")
    assert review_ids(client, pcc_staff) == {submitted.pk}


def test_a_member_of_another_panel_sees_none_of_its_samples(client, case, thames_valley):
    client.force_login(create_role_user("outsider", Role.PANEL_MEMBER, thames_valley, PASSWORD))
    assert client.get("/api/v1/samples/").json()["results"] == []
    assert client.get(f"/api/v1/samples/{case.sample_id}/").status_code == 404


def test_the_forces_staff_see_the_findings_sent_for_feedback(client, case, force_data_officer):
    sent = Finding.objects.create(
        sampled_case=case, panel_grade="Amber", summary="Warning late", for_force_feedback=True
    )
    kept = Finding.objects.create(
        sampled_case=SampledCaseFactory(sample=case.sample), panel_grade="Green", summary="Fine"
    )
    client.force_login(force_data_officer)
    assert [row["id"] for row in client.get("/api/v1/findings/").json()["results"]] == [sent.pk]
    assert client.get(f"/api/v1/findings/{kept.pk}/").status_code == 404


def test_published_findings_show_the_forces_answer_but_not_who_gave_it(client, case, force_data_officer):
    finding = Finding.objects.create(sampled_case=case, panel_grade="Amber", summary="Warning late", published=True)
    ForceResponse.objects.create(finding=finding, responded_by=force_data_officer, response="Briefing issued")
    Finding.objects.create(sampled_case=SampledCaseFactory(sample=case.sample), panel_grade="Red", summary="Draft")
    [row] = client.get("/api/v1/published-findings/", {"force": "thames-valley"}).json()["results"]
    assert (row["summary"], row["force"], [r["response"] for r in row["responses"]]) == (
        "Warning late", "thames-valley", ["Briefing issued"],
    )  # fmt: skip
    assert force_data_officer.username not in str(row)


def test_samples_carry_their_eligibility_footage_declarations_and_meeting_record_for_pcc_staff_and_members(
    client, case, panel_member, pcc_staff, force_data_officer, api_client_user
):
    from scrutiny.models import Attendance, Declaration, FootageViewing, OfficerAccount
    from tests.factories import FootageClipFactory, MeetingFactory

    sample = case.sample
    meeting = MeetingFactory(panel=sample.panel)
    sample.meeting, sample.eligible, sample.left_out = meeting, 9, {"reviewed": [1, 2], "in_another_sample": [3]}
    sample.save()
    member = sample.panel.members.get(user=panel_member)
    colleague = PanelMemberFactory(panel=sample.panel)
    clip = FootageClipFactory(sampled_case=case, link="https://dems.example/x", link_expires_at=None)
    FootageViewing.objects.create(clip=clip, member=member, watched="in_full")
    OfficerAccount.objects.create(sampled_case=case, account="I drew", supplied_on=meeting.held_on,
                                  recorded_by=pcc_staff)  # fmt: skip
    Declaration.objects.create(sampled_case=case, meeting=meeting, member=colleague, interest="Knows the officer")
    Declaration.objects.create(meeting=meeting, member=member, interest="A special constable")
    Attendance.objects.create(meeting=meeting, member=member, status="present")
    for user in (pcc_staff, panel_member):
        client.force_login(user)
        [row] = client.get("/api/v1/samples/").json()["results"]
        assert (row["eligible"], row["left_out_counts"]) == (9, {"reviewed": 2, "in_another_sample": 1})
        [listed] = row["cases"]
        [listed_clip] = listed["clips"]
        assert (listed_clip["clip_id"], listed_clip["link_open"], listed_clip["viewings"]) == (clip.clip_id, True, 1)
        assert "link" not in listed_clip  # the evidence system's link stays on the case's page
        assert listed["officer_accounts"] == 1
        assert [(d["member"], d["interest"]) for d in listed["declarations"]] == [
            (colleague.user.username, "Knows the officer")
        ]
        record = row["meeting_record"]
        assert (record["quorum"], record["present"], record["apologies"], record["quorate"]) == (
            sample.panel.quorum, 1, 0, 1 >= sample.panel.quorum,
        )  # fmt: skip
        assert {d["interest"] for d in record["declarations"]} == {"Knows the officer", "A special constable"}
    for user in (force_data_officer, api_client_user):
        client.force_login(user)
        assert client.get("/api/v1/samples/").status_code == 403


def test_findings_and_responses_carry_the_due_date_and_the_forces_position_for_those_who_follow_them(
    client, case, force_data_officer, pcc_staff, panel_member, api_client_user
):
    import datetime

    due = datetime.date(2025, 10, 1)
    finding = Finding.objects.create(sampled_case=case, panel_grade="Amber", summary="Warning late",
                                     for_force_feedback=True, response_due_on=due, published=True)  # fmt: skip
    ForceResponse.objects.create(finding=finding, responded_by=force_data_officer, response="Partly", position="partly")
    for user in (force_data_officer, pcc_staff, panel_member, api_client_user):
        client.force_login(user)
        [row] = client.get("/api/v1/findings/").json()["results"]
        assert row["response_due_on"] == "2025-10-01", user.username
        [response] = client.get("/api/v1/force-responses/").json()["results"]
        assert response["position"] == "partly", user.username
    client.logout()
    [published] = client.get("/api/v1/published-findings/").json()["results"]
    assert [r["position"] for r in published["responses"]] == ["partly"]
    assert "response_due_on" not in published


def test_a_members_comments_on_the_checklist_are_in_their_review(client, case, panel_member):
    member = case.sample.panel.members.get(user=panel_member)
    ReviewFactory(sampled_case=case, member=member, rubric_comments={"Warning given?": "Only after the draw"})
    client.force_login(panel_member)
    [row] = client.get("/api/v1/reviews/").json()["results"]
    assert row["rubric_comments"] == {"Warning given?": "Only after the draw"}
