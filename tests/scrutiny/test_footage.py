"""Footage and accounts: clip references (no video kept), the officer's account, what each member watched,
and a checklist answered against it with "not applicable" and a comment."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from scrutiny.models import NATIONAL_RUBRIC, FootageClip, FootageViewing, OfficerAccount, Panel, Review
from scrutiny.queries import panel_quarter_report, panel_quarter_rows
from scrutiny.services import add_clip, create_panel, record_viewing, save_review
from tests.factories import (
    CaseSampleFactory,
    FootageClipFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReviewFactory,
    SampledCaseFactory,
)
from tests.scrutiny.conftest import RUBRIC, answers

NIGHT = timezone.make_aware(datetime.datetime(2025, 6, 15, 22, 4))


def clip_data(**fields):
    return {
        "system": "DEMS",
        "clip_id": "BWV-1",
        "starts_at": NIGHT,
        "ends_at": NIGHT + datetime.timedelta(minutes=6),
    } | (fields)


def test_pcc_staff_record_a_clip_reference_and_the_officers_account_and_members_see_them(
    client, case, pcc_staff, panel_member
):
    client.force_login(pcc_staff)
    url = f"/scrutiny/cases/{case.pk}/footage/"
    clip = {"do": "clip", "system": "DEMS", "clip_id": "BWV-0042", "starts_at": "2025-06-15T22:04",
            "ends_at": "2025-06-15T22:10", "link": "https://dems.example.police.uk/clip/42",
            "link_expires_at": "2099-01-01T00:00"}  # fmt: skip
    assert client.post(url, clip).status_code == 302
    account = {"do": "account", "account": "I warned him twice before drawing.", "supplied_on": "2025-07-01"}
    assert client.post(url, account).status_code == 302
    saved = FootageClip.objects.get(sampled_case=case)
    assert (saved.system, saved.clip_id, saved.ends_at - saved.starts_at) == (
        "DEMS",
        "BWV-0042",
        datetime.timedelta(minutes=6),
    )
    assert OfficerAccount.objects.get(sampled_case=case).account == "I warned him twice before drawing."
    client.force_login(panel_member)
    content = client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    assert "BWV-0042" in content and 'href="https://dems.example.police.uk/clip/42"' in content
    assert "I warned him twice before drawing." in content


def test_an_expired_link_is_not_offered(client, case, panel_member):
    FootageClipFactory(sampled_case=case, link="https://dems.example.police.uk/clip/7",
                       link_expires_at=timezone.now() - datetime.timedelta(hours=1))  # fmt: skip
    client.force_login(panel_member)
    content = client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    assert "Link expired" in content and "https://dems.example.police.uk/clip/7" not in content


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ends_at": NIGHT - datetime.timedelta(seconds=1)}, "it ends .* before it starts"),
        ({"link_expires_at": NIGHT}, "a link's expiry is given without the link"),
        ({"clip_id": " "}, "give the evidence system and the clip's id"),
        ({"clip_id": "TWICE"}, "DEMS clip TWICE is already recorded"),
    ],
)
def test_a_bad_clip_reference_is_refused(fields, message, case, pcc_staff):
    add_clip(case=case, user=pcc_staff, **clip_data(clip_id="TWICE"))
    with pytest.raises(ValidationError, match=message):
        add_clip(case=case, user=pcc_staff, **clip_data(**fields))
    assert FootageClip.objects.count() == 1


def test_a_member_records_what_they_watched_and_the_chair_sees_it_at_the_meeting(
    client, case, member, panel_member, panel_chair
):
    clip = FootageClipFactory(sampled_case=case, clip_id="BWV-9")
    client.force_login(panel_member)
    page = client.post(f"/scrutiny/cases/{case.pk}/", {"do": "watched", "clip": clip.pk, "watched": "in_full"})
    assert page.status_code == 302
    assert FootageViewing.objects.get(clip=clip).member == member
    assert "BWV-9: watched in full" in client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    client.force_login(panel_chair)
    content = client.get(f"/scrutiny/cases/{case.pk}/meeting/").content.decode()
    assert f"{panel_member.username}: watched in full" in content


def test_watching_in_part_or_not_at_all_needs_a_note(case, member):
    clip = FootageClipFactory(sampled_case=case)
    with pytest.raises(ValidationError, match="say what you watched, or why you could not"):
        record_viewing(clip=clip, member=member, watched="could_not")
    viewing = record_viewing(clip=clip, member=member, watched="in_part", note="The first two minutes; no sound.")
    assert viewing.get_watched_display() == "Watched in part"


def test_only_a_member_of_the_cases_panel_whose_vetting_runs_records_watching(case, member, thames_valley):
    clip = FootageClipFactory(sampled_case=case)
    outsider = PanelMemberFactory(panel=PanelFactory(force=thames_valley))
    with pytest.raises(ValidationError, match="Only members of Panel A"):
        record_viewing(clip=clip, member=outsider, watched="in_full")
    member.vetted_on = None
    member.save()
    with pytest.raises(ValidationError, match="vetting for Panel A has not been recorded"):
        record_viewing(clip=clip, member=member, watched="in_full")
    with pytest.raises(IntegrityError, match="viewing_by_member_of_case_panel"), transaction.atomic():
        FootageViewing.objects.create(clip=clip, member=outsider, watched="in_full")


def test_the_checklist_takes_not_applicable_and_a_comment_on_each_answer(client, case, member, panel_member):
    client.force_login(panel_member)
    data = {"q0": "yes", "c0": "Camera on 20 seconds before the draw.", "q1": "no", "q2": "na",
            "c2": "He ran at the officer at once.", "grade": "Amber", "save": "submit"}  # fmt: skip
    assert client.post(f"/scrutiny/cases/{case.pk}/", data).status_code == 302
    review = Review.objects.get(sampled_case=case, member=member)
    assert review.rubric_answers == {RUBRIC[0]: "yes", RUBRIC[1]: "no", RUBRIC[2]: "na"}
    assert review.rubric_comments == {RUBRIC[0]: "Camera on 20 seconds before the draw.",
                                      RUBRIC[2]: "He ran at the officer at once."}  # fmt: skip
    content = client.get(f"/scrutiny/cases/{case.pk}/").content.decode()
    assert "Not applicable: He ran at the officer at once." in content


def test_the_lawful_justified_proportionate_questions_are_never_not_applicable(thames_valley, oxford):
    panel = PanelFactory(force=thames_valley, grading_scale=Panel.Scale.LJP, rubric=[])
    member = PanelMemberFactory(panel=panel)
    case = SampledCaseFactory(sample=CaseSampleFactory(panel=panel))
    with pytest.raises(ValidationError, match="Was it justified\\? must be answered"):
        save_review(case=case, member=member, answers={"Was the use lawful?": "yes", "Was it justified?": "na"})


def test_a_new_panel_starts_from_the_national_body_worn_video_checklist(client, thames_valley, pcc_staff):
    assert create_panel(force=thames_valley, name="New").rubric == list(NATIONAL_RUBRIC)
    client.force_login(pcc_staff)
    form = client.get("/scrutiny/panels/").context["form"]
    assert form["rubric"].value() == "\n".join(NATIONAL_RUBRIC)
    assert "Camera activated before the Taser was drawn?" in str(form["rubric"])


def test_the_quarterly_report_tallies_each_checklist_answer(panel, oxford):
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=datetime.date(2025, 9, 1)))
    members = [PanelMemberFactory(panel=panel) for _ in range(3)]
    given = [answers("yes"), answers("no") | {RUBRIC[2]: "na"}, answers("unclear")]
    for _ in range(2):
        case = SampledCaseFactory(sample=sample)
        for member, answered in zip(members, given, strict=True):
            ReviewFactory(sampled_case=case, member=member, status="submitted", rubric_answers=answered)
        ReviewFactory(sampled_case=case, member=PanelMemberFactory(panel=panel), rubric_answers=answers("no"))  # draft
    report = panel_quarter_report(panel=panel, quarter=datetime.date(2025, 7, 1))
    submitted = Review.objects.filter(status="submitted")
    for row in report["checklist"]:
        for answer in row["answers"]:
            direct = sum(1 for review in submitted if review.rubric_answers.get(row["question"]) == answer["answer"])
            assert answer["count"] == direct, (row["question"], answer["answer"])
    by_question = {row["question"]: {a["answer"]: a["count"] for a in row["answers"]} for row in report["checklist"]}
    assert by_question[RUBRIC[2]] == {"yes": 2, "no": 0, "unclear": 2, "na": 2}
    rows = {row[1]: row for row in panel_quarter_rows(report) if row[0] == "checklist"}
    assert rows[f"{RUBRIC[2]} Not applicable"][2:4] == (2, round(2 / 6, 4))
