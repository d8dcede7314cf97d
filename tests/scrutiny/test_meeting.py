"""The meeting: the chair opens each case, reads every review side by side and records the consensus."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import CedLevel
from scrutiny.models import Finding
from scrutiny.services import open_case_at_meeting, record_finding
from tests.factories import ReportFactory, ReviewFactory


def test_the_chair_opens_the_case_and_sees_every_submitted_review_side_by_side(
    client, case, member, chair, panel_chair
):
    first = ReviewFactory(sampled_case=case, member=member, status="submitted", grade="Amber")
    second = ReviewFactory(sampled_case=case, member=chair, status="submitted", grade="Green")
    client.force_login(panel_chair)
    page = client.get(f"/scrutiny/cases/{case.pk}/meeting/")
    assert page.context["reviews"] is None and page.context["submitted"] == 2  # counted, not shown, until opened
    response = client.post(f"/scrutiny/cases/{case.pk}/meeting/", {"do": "open"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.opened_at_meeting_at is not None
    page = client.get(f"/scrutiny/cases/{case.pk}/meeting/")
    assert list(page.context["reviews"]) == [first, second]


def test_the_chair_records_the_panels_consensus_with_themes_for_the_force(client, case, chair, panel_chair):
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    client.force_login(panel_chair)
    data = {
        "do": "finding", "panel_grade": "Amber", "summary": "Warning given late.",
        "themes": ["communication", "de_escalation"], "for_force_feedback": "on",
    }  # fmt: skip
    assert client.post(f"/scrutiny/cases/{case.pk}/meeting/", data).status_code == 302
    finding = Finding.objects.get(sampled_case=case)
    assert (finding.panel_grade, finding.themes, finding.for_force_feedback, finding.recorded_by) == (
        "Amber", ["communication", "de_escalation"], True, panel_chair,
    )  # fmt: skip


def test_a_finding_waits_for_the_case_to_be_opened_and_is_recorded_once(case, chair, panel_chair):
    with pytest.raises(ValidationError, match="Open the case at the meeting before"):
        record_finding(case=case, user=panel_chair, panel_grade="Green", summary="Fine")
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    record_finding(case=case, user=panel_chair, panel_grade="Green", summary="Fine")
    with pytest.raises(ValidationError, match="already recorded"):
        record_finding(case=case, user=panel_chair, panel_grade="Red", summary="Changed mind")


@pytest.mark.parametrize(
    ("grade", "summary", "themes", "message"),
    [
        ("Purple", "Fine", [], "grade: 'Purple' is not on the panel's scale"),
        ("Green", " ", [], "finding: write the panel's finding"),
        ("Green", "Fine", ["weather"], "themes: weather not among"),
    ],
)
def test_a_finding_off_the_scale_empty_or_with_unknown_themes_is_refused(
    grade, summary, themes, message, case, chair, panel_chair
):
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    with pytest.raises(ValidationError, match=message):
        record_finding(case=case, user=panel_chair, panel_grade=grade, summary=summary, themes=themes)


def test_cases_open_only_on_or_after_the_meeting_day(case, chair, panel_chair):
    meeting = case.sample.meeting
    meeting.held_on = timezone.localdate() + datetime.timedelta(days=1)
    meeting.save()
    with pytest.raises(ValidationError, match="Cases open at the meeting, on"):
        open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)


def test_only_an_active_chair_opens_cases(case, member, panel_member, chair, panel_chair):
    with pytest.raises(ValidationError, match="Only the chair of Panel A"):
        open_case_at_meeting(case=case, user=panel_member)
    chair.term_ends_on = timezone.localdate() - datetime.timedelta(days=1)
    chair.save()
    with pytest.raises(ValidationError, match="term on Panel A ended"):
        open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)


def test_the_chairs_meeting_page_lists_the_cases_and_adds_one_with_a_reason(client, case, chair, panel_chair, oxford):
    extra = ReportFactory(area=oxford)
    client.force_login(panel_chair)
    meeting = case.sample.meeting
    page = client.get(f"/scrutiny/meetings/{meeting.pk}/")
    assert [c.pk for c in page.context["cases"]] == [case.pk] and page.context["sample_form"] is None
    response = client.post(
        f"/scrutiny/meetings/{meeting.pk}/", {"do": "add_case", "report": extra.pk, "reason": "Complaint received"}
    )
    assert response.status_code == 302
    assert meeting.samples.get(rule="chair_choice").cases.get().reason == "Complaint received"
    page = client.post(f"/scrutiny/meetings/{meeting.pk}/", {"do": "add_case", "report": extra.pk, "reason": "Again"})
    assert "is already sampled for this meeting" in str(page.context["case_form"].non_field_errors())


def test_pcc_staff_draw_a_sample_on_the_meeting_page_and_re_draw_it(client, meeting, pcc_staff, oxford):
    for _ in range(5):
        ReportFactory(area=oxford, occurred_on=datetime.date(2025, 5, 1), ced_levels=[CedLevel.RED_DOTTED])
    client.force_login(pcc_staff)
    data = {"do": "draw", "rule": "random_non_discharge", "starts_on": "2025-04-01", "ends_on": "2025-06-30",
            "percent": "40", "strata": "area"}  # fmt: skip
    assert client.post(f"/scrutiny/meetings/{meeting.pk}/", data).status_code == 302
    sample = meeting.samples.get()
    assert (sample.cases.count(), sample.created_by, sample.parameters) == (
        2,
        pcc_staff,
        {"percent": 40, "strata": "area"},
    )
    page = client.get(f"/scrutiny/samples/{sample.pk}/", {"redraw": "1"})
    assert page.context["comparison"].same
    assert b"the sample is reproduced from its record" in page.content


def test_the_draw_form_asks_for_what_the_rule_needs(client, meeting, pcc_staff):
    client.force_login(pcc_staff)
    data = {"do": "draw", "rule": "area_focus", "starts_on": "2025-04-01", "ends_on": "2025-06-30"}
    page = client.post(f"/scrutiny/meetings/{meeting.pk}/", data)
    assert page.context["sample_form"].errors == {"area": ["An area focus needs its area."]}
