"""Members review their panel's cases blind, while their term and vetting run; every view is logged."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import AgeBand, SubjectInjury
from scrutiny.models import CaseView, Panel, Review
from scrutiny.queries import officer_pseudonym
from scrutiny.services import open_case_at_meeting, save_review
from tests.factories import PanelMemberFactory, ReportFactory, ReviewFactory, SampledCaseFactory
from tests.scrutiny.conftest import RUBRIC, answers

TODAY = timezone.localdate()


def form(value="yes", grade="Amber", save="submit", points="Warning came late."):
    data = {f"q{index}": value for index in range(len(RUBRIC))}
    return data | {"grade": grade, "learning_points": points, "save": save}


def test_a_member_saves_a_draft_then_submits_their_review(client, case, member, panel_member):
    client.force_login(panel_member)
    page = client.get(f"/scrutiny/cases/{case.pk}/")
    assert page.status_code == 200
    assert [field.label for field, _ in page.context["form"].question_fields()] == RUBRIC
    client.post(f"/scrutiny/cases/{case.pk}/", form("no", save="draft") | {"q1": ""})
    review = Review.objects.get(sampled_case=case, member=member)
    assert (review.status, review.grade, review.rubric_answers[RUBRIC[1]]) == ("draft", "Amber", "")
    response = client.post(f"/scrutiny/cases/{case.pk}/", form())
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.rubric_answers, review.learning_points) == (
        "submitted", answers("yes"), "Warning came late.",
    )  # fmt: skip
    assert review.submitted_at is not None


def test_submitting_needs_every_answer_and_a_grade(case, member):
    with pytest.raises(ValidationError, match=f"unanswered: {RUBRIC[2]}"):
        save_review(case=case, member=member, answers=answers() | {RUBRIC[2]: ""}, grade="Green", submit=True)
    with pytest.raises(ValidationError, match="grade: choose a grade"):
        save_review(case=case, member=member, answers=answers(), submit=True)
    with pytest.raises(ValidationError, match="grade: 'Purple' is not on the panel's scale"):
        save_review(case=case, member=member, answers=answers(), grade="Purple", submit=True)


def test_the_page_says_why_a_review_cannot_be_submitted(client, case, panel_member):
    client.force_login(panel_member)
    page = client.post(f"/scrutiny/cases/{case.pk}/", form(grade=""))
    assert page.status_code == 200
    assert "grade: choose a grade before submitting." in page.context["form"].non_field_errors()


def test_a_submitted_review_no_longer_changes(case, member):
    save_review(case=case, member=member, answers=answers(), grade="Green", submit=True)
    with pytest.raises(ValidationError, match="it can no longer change"):
        save_review(case=case, member=member, answers=answers("no"), grade="Red")
    assert Review.objects.get().grade == "Green"


def test_on_the_lawful_justified_proportionate_scale_the_checklist_gives_the_grade(case, member, panel):
    panel.grading_scale = Panel.Scale.LJP
    panel.save()
    every = answers("yes", panel.questions)
    review = save_review(case=case, member=member, answers=every | {"Was it justified?": "no"}, grade="Green")
    assert review.grade == "Not all of lawful, justified and proportionate"
    review = save_review(case=case, member=member, answers=every, submit=True)
    assert review.grade == "Lawful, justified and proportionate"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"term_ends_on": TODAY - datetime.timedelta(days=1)}, "term on Panel A ended on"),
        ({"term_starts_on": TODAY + datetime.timedelta(days=1)}, "term on Panel A starts on"),
        ({"vetted_on": None}, "vetting for Panel A has not been recorded"),
        ({"vetted_on": TODAY.replace(year=TODAY.year - 3)}, "vetting for Panel A lapsed on"),
        ({"trained_on": None}, "training for Panel A has not been recorded"),
    ],
)
def test_a_member_whose_term_or_vetting_has_lapsed_cannot_review(changes, message, client, case, member, panel_member):
    for field, value in changes.items():
        setattr(member, field, value)
    member.save()
    with pytest.raises(ValidationError, match=message):
        save_review(case=case, member=member, answers=answers(), grade="Green", submit=True)
    client.force_login(panel_member)
    page = client.get(f"/scrutiny/cases/{case.pk}/")
    assert page.status_code == 403
    assert message in page.content.decode().replace("&#x27;", "'")
    assert client.post(f"/scrutiny/cases/{case.pk}/", form()).status_code == 403
    assert not Review.objects.exists() and not CaseView.objects.exists()
    assert case not in client.get("/scrutiny/cases/").context["cases"]


def test_vetting_lasts_as_long_as_the_setting_says(settings, member):
    settings.PANEL_VETTING_VALID_YEARS = 5
    member.vetted_on = datetime.date(2024, 2, 29)
    assert member.vetting_expires_on == datetime.date(2029, 2, 28)
    assert member.barrier(on=datetime.date(2029, 2, 27)) == ""
    assert "lapsed on 28 February 2029" in member.barrier(on=datetime.date(2029, 2, 28))


def test_a_member_of_panel_a_cannot_open_a_case_of_panel_b(client, case, panel_member, oxford):
    other_case = SampledCaseFactory(report=ReportFactory(area=oxford))  # another panel of the same force
    client.force_login(panel_member)
    assert client.get(f"/scrutiny/cases/{other_case.pk}/").status_code == 404
    assert client.post(f"/scrutiny/cases/{other_case.pk}/", form()).status_code == 404
    assert [c.pk for c in client.get("/scrutiny/cases/").context["cases"]] == [case.pk]


def test_a_review_by_someone_off_the_panel_is_refused_by_the_service(case, oxford):
    outsider = PanelMemberFactory(panel__force=oxford.force)
    with pytest.raises(ValidationError, match="Only members of Panel A review its cases"):
        save_review(case=case, member=outsider, answers=answers(), grade="Green")


def test_a_member_never_sees_another_members_draft_nor_their_review_before_the_meeting(
    client, case, member, chair, panel_member
):
    colleague = ReviewFactory(sampled_case=case, member=chair, learning_points="Chair's private note")
    client.force_login(panel_member)
    assert b"Chair&#x27;s private note" not in client.get(f"/scrutiny/cases/{case.pk}/").content
    colleague.status, colleague.submitted_at = "submitted", timezone.now()
    colleague.save()
    page = client.get(f"/scrutiny/cases/{case.pk}/")
    assert page.context["colleagues"] == []
    assert b"Chair&#x27;s private note" not in page.content


def test_once_the_chair_opens_the_case_members_see_submitted_reviews_but_not_drafts(
    client, case, member, chair, panel_chair, panel_member
):
    submitted = ReviewFactory(sampled_case=case, member=chair, status="submitted", learning_points="Submitted note")
    draft = ReviewFactory(
        sampled_case=case, member=PanelMemberFactory(panel=case.sample.panel), learning_points="Draft"
    )
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    client.force_login(panel_member)
    page = client.get(f"/scrutiny/cases/{case.pk}/")
    assert page.context["colleagues"] == [submitted]
    assert b"Submitted note" in page.content and draft.learning_points.encode() not in page.content


def test_no_review_is_given_or_changed_once_the_case_is_opened(case, member, panel_chair, chair):
    save_review(case=case, member=member, answers=answers(), grade="Green")
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    with pytest.raises(ValidationError, match="The chair opened this case at the meeting"):
        save_review(case=case, member=member, answers=answers(), grade="Green", submit=True)


def test_every_view_of_a_case_by_a_member_is_logged(client, case, panel_member, panel_chair):
    client.force_login(panel_member)
    client.get(f"/scrutiny/cases/{case.pk}/")
    client.get(f"/scrutiny/cases/{case.pk}/")
    client.force_login(panel_chair)
    client.get(f"/scrutiny/cases/{case.pk}/meeting/")
    views = CaseView.objects.filter(sampled_case=case).order_by("viewed_at", "pk")
    assert [view.user for view in views] == [panel_member, panel_member, panel_chair]
    assert all(view.viewed_at for view in views)


def test_a_sampled_report_opened_from_the_reports_list_goes_to_the_logged_case_page(client, case, panel_member):
    client.force_login(panel_member)
    response = client.get(f"/reports/{case.report_id}/")
    assert response.status_code == 302 and response.url == f"/scrutiny/cases/{case.pk}/"
    assert not CaseView.objects.exists()  # logged when the case page is read


def test_the_record_shows_a_pseudonym_never_the_officer_reference(client, case, panel_member):
    client.force_login(panel_member)
    page = client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    assert "TV-4471" not in page
    assert officer_pseudonym(force_id="thames-valley", officer_reference="TV-4471") in page


def test_the_pseudonym_is_stable_within_a_force_and_differs_between_forces(settings):
    first = officer_pseudonym(force_id="thames-valley", officer_reference="TV-4471")
    assert first == officer_pseudonym(force_id="thames-valley", officer_reference=" TV-4471 ")
    assert first.startswith("Officer ") and len(first) == len("Officer ") + 8
    assert first != officer_pseudonym(force_id="metropolitan", officer_reference="TV-4471")
    assert first != officer_pseudonym(force_id="thames-valley", officer_reference="TV-4472")
    assert officer_pseudonym(force_id="thames-valley", officer_reference="") == "Officer not recorded"
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    assert first != officer_pseudonym(force_id="thames-valley", officer_reference="TV-4471")


def test_a_distressing_case_carries_a_content_warning(client, case, panel_member):
    client.force_login(panel_member)
    assert b"Content warning" not in client.get(f"/scrutiny/cases/{case.pk}/").content
    report = case.report
    report.subject_age, report.subject_injury, report.outcome_hospitalised = (
        AgeBand.FROM_11_TO_17, SubjectInjury.SEVERE, True,
    )  # fmt: skip
    report.save()
    page = client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    assert "This case involves severe injury to the person, a hospital admission, a child." in page
