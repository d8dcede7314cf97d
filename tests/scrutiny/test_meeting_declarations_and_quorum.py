"""Interests declared at a meeting are recorded with it and listed on its page; a member with a conflict
with a case cannot review it, through the pages as through the services. PCC staff set the panel's
quorum on its page, and the meeting records no finding without it."""

import pytest
from django.core.exceptions import ValidationError

from scrutiny.models import Attendance, Declaration, Finding, Review
from scrutiny.queries import review_progress
from scrutiny.services import declare_at_meeting, open_case_at_meeting
from tests.factories import MeetingFactory, PanelFactory, PanelMemberFactory, SampledCaseFactory
from tests.scrutiny.conftest import RUBRIC


def review_post(grade="Green", save="submit"):
    data = {f"q{index}": "yes" for index in range(len(RUBRIC))}
    return data | {"grade": grade, "learning_points": "", "save": save}


def test_the_chair_records_a_conflict_declared_at_the_meeting_and_the_member_cannot_review_the_case(
    client, case, member, chair, panel_chair, panel_member
):
    meeting = case.sample.meeting
    client.force_login(panel_chair)
    client.post(f"/scrutiny/meetings/{meeting.pk}/",
                {"do": "declare", "member": member.pk, "case": case.pk, "interest": "I know the officer."})  # fmt: skip
    declaration = Declaration.objects.get()
    assert (declaration.meeting, declaration.sampled_case, declaration.member) == (meeting, case, member)
    assert declaration.recorded_by == panel_chair
    page = client.get(f"/scrutiny/meetings/{meeting.pk}/").content.decode()
    assert "“I know the officer.” (case" in page and "recorded by the chair" in page
    progress = {row["member"].pk: row for row in review_progress(meeting=meeting)}
    assert (progress[member.pk]["declared"], progress[member.pk]["to_do"]) == (1, 0)

    client.force_login(panel_member)
    page = client.get(f"/scrutiny/cases/{case.pk}/")
    assert page.context["locked"] and "You declared an interest in this case" in page.content.decode()
    refused = client.post(f"/scrutiny/cases/{case.pk}/", review_post())
    assert refused.status_code == 200 and "You declared an interest in this case" in refused.content.decode()
    assert not Review.objects.filter(member=member).exists()
    # The chair is not waiting for the member's review to open the case.
    client.force_login(panel_chair)
    client.post(f"/scrutiny/cases/{case.pk}/", review_post())
    assert open_case_at_meeting(case=case, user=panel_chair).opened_at_meeting_at is not None


def test_an_interest_in_the_meetings_business_is_recorded_with_it_and_blocks_no_review(
    client, case, member, chair, panel_chair, panel_member
):
    meeting = case.sample.meeting
    client.force_login(panel_chair)
    client.post(f"/scrutiny/meetings/{meeting.pk}/",
                {"do": "declare", "member": member.pk, "case": "", "interest": "I am a constable."})  # fmt: skip
    declaration = Declaration.objects.get()
    assert (declaration.meeting, declaration.sampled_case) == (meeting, None)
    assert "the meeting's business" in client.get(f"/scrutiny/meetings/{meeting.pk}/").content.decode()
    client.force_login(panel_member)
    client.post(f"/scrutiny/cases/{case.pk}/", review_post())
    assert Review.objects.get(member=member).status == "submitted"


def test_a_members_own_declaration_on_a_case_is_listed_with_the_cases_meeting(
    client, case, member, chair, panel_chair, panel_member
):
    client.force_login(panel_member)
    client.post(f"/scrutiny/cases/{case.pk}/", {"do": "declare", "interest": "My neighbour is the officer."})
    assert Declaration.objects.get().meeting == case.sample.meeting
    client.force_login(panel_chair)
    assert (
        "My neighbour is the officer." in client.get(f"/scrutiny/meetings/{case.sample.meeting_id}/").content.decode()
    )


def test_declarations_are_recorded_only_by_the_chair_for_the_meetings_own_members_and_cases(
    client, case, member, chair, panel_chair, panel_member, pcc_staff
):
    meeting = case.sample.meeting
    url = f"/scrutiny/meetings/{meeting.pk}/"
    other_meeting = MeetingFactory(panel=meeting.panel, held_on=meeting.held_on)
    elsewhere = SampledCaseFactory(sample__panel=meeting.panel, sample__meeting=other_meeting)
    stranger = PanelMemberFactory(panel=PanelFactory(force=meeting.panel.force))
    client.force_login(panel_chair)
    for data in ({"member": member.pk, "case": elsewhere.pk}, {"member": stranger.pk, "case": ""},
                 {"member": "x", "case": ""}):  # fmt: skip
        assert client.post(url, {"do": "declare", "interest": "Conflict"} | data).status_code == 404
    with pytest.raises(ValidationError, match="is not on"):
        declare_at_meeting(meeting=meeting, user=panel_chair, member=stranger, interest="Conflict")
    client.force_login(panel_member)
    assert client.post(url, {"do": "declare", "member": member.pk, "interest": "Conflict"}).status_code == 403
    client.force_login(pcc_staff)
    assert client.post(url, {"do": "declare", "member": member.pk, "interest": "Conflict"}).status_code == 403
    assert not Declaration.objects.exists()


def test_pcc_staff_set_the_quorum_on_the_panel_page_and_the_meeting_checks_it(
    client, case, member, chair, panel_chair, pcc_staff
):
    panel = case.sample.panel
    client.force_login(pcc_staff)
    settings_ = {"do": "panel", "name": panel.name, "terms_of_reference": "", "grading_scale": "rag",
                 "custom_grades": "", "rubric": "\n".join(RUBRIC)}  # fmt: skip
    refused = client.post(f"/scrutiny/panels/{panel.pk}/", settings_ | {"quorum": "0"})
    assert refused.status_code == 200 and refused.context["panel_form"].errors["quorum"]
    client.post(f"/scrutiny/panels/{panel.pk}/", settings_ | {"quorum": "3"})
    panel.refresh_from_db()
    assert panel.quorum == 3
    assert "quorum 3 members present" in client.get(f"/scrutiny/panels/{panel.pk}/").content.decode()

    meeting_url = f"/scrutiny/meetings/{case.sample.meeting_id}/"
    client.force_login(panel_chair)
    client.post(meeting_url, {"do": "attendance", f"member_{member.pk}": "present", f"member_{chair.pk}": "present"})
    assert Attendance.objects.filter(status="present").count() == 2
    assert "2 present, 0 apologies; quorum 3: not quorate" in client.get(meeting_url).content.decode()
    case_url = f"/scrutiny/cases/{case.pk}/meeting/"
    client.post(case_url, {"do": "open", "despite_outstanding": "on"})
    finding = {"do": "finding", "panel_grade": "Green", "summary": "Proportionate."}
    page = client.post(case_url, finding)
    assert "not quorate: 2 present, 3 needed" in page.content.decode()
    assert not Finding.objects.exists()

    client.force_login(pcc_staff)
    client.post(f"/scrutiny/panels/{panel.pk}/", settings_ | {"quorum": "2"})
    client.force_login(panel_chair)
    client.post(case_url, finding)
    assert Finding.objects.get().panel_grade == "Green"


def test_the_database_refuses_a_declaration_at_another_panels_meeting(case, member):
    from django.db import IntegrityError, transaction

    stranger = PanelMemberFactory(panel=PanelFactory(force=case.sample.panel.force))
    with pytest.raises(IntegrityError, match="declaration_by_member_of_meeting_panel"), transaction.atomic():
        Declaration.objects.create(meeting=case.sample.meeting, member=stranger, interest="Conflict")
    with pytest.raises(IntegrityError), transaction.atomic():
        Declaration.objects.create(member=member, interest="With nothing")  # neither a case nor a meeting
