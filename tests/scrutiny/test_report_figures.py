"""Figures that could look wrong: a quarter counts only meetings held, says nothing is overdue at an end
not yet reached, the public sees ended quarters only, follow-ups are real, and the CSV's columns line up."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from oversight.police_calendar import period_start, quarter_label
from scrutiny.models import Action, SampledCase
from scrutiny.queries import QUARTER_COLUMNS, panel_quarter_report, panel_quarter_rows, public_panel_summary
from scrutiny.services import record_video_follow_up
from tests.factories import (
    ActionFactory,
    CaseSampleFactory,
    FindingFactory,
    ForceResponseFactory,
    MeetingFactory,
    ReportFactory,
    SampledCaseFactory,
)

Q4 = datetime.date(2026, 1, 1)  # Q4 2025/26: January to March 2026
FEBRUARY = datetime.date(2026, 2, 10)


def cases_at(panel, held_on, count, **fields):
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=held_on))
    return [SampledCaseFactory(sample=sample, **fields) for _ in range(count)]


def test_a_meeting_not_yet_held_is_not_counted_in_its_quarter(panel):
    cases_at(panel, datetime.date(2026, 1, 14), 3)
    cases_at(panel, datetime.date(2026, 3, 4), 5)
    report = panel_quarter_report(panel=panel, quarter=Q4, on=FEBRUARY)
    held = SampledCase.objects.filter(sample__meeting__held_on__lte=FEBRUARY)
    assert (report["meetings"], report["meetings_to_come"], report["cases_sampled"]) == (1, 1, held.count())
    after = panel_quarter_report(panel=panel, quarter=Q4, on=datetime.date(2026, 3, 4))
    assert (after["meetings"], after["meetings_to_come"], after["cases_sampled"]) == (2, 0, 8)


def test_actions_overdue_at_the_quarters_end_are_given_only_once_it_has_ended(panel):
    [case] = cases_at(panel, datetime.date(2026, 1, 14), 1)
    action = ActionFactory(finding=FindingFactory(sampled_case=case), due_on=datetime.date(2026, 2, 1))
    Action.objects.filter(pk=action.pk).update(created_at=timezone.make_aware(datetime.datetime(2026, 1, 15, 12)))
    assert panel_quarter_report(panel=panel, quarter=Q4, on=FEBRUARY)["actions_overdue_at_end"] is None
    ended = panel_quarter_report(panel=panel, quarter=Q4, on=datetime.date(2026, 4, 1))
    assert ended["actions_overdue_at_end"] == 1
    rows = {row[1]: row for row in panel_quarter_rows(panel_quarter_report(panel=panel, quarter=Q4, on=FEBRUARY))}
    assert rows["overdue at the quarter's end"][2] is None


def test_the_report_page_of_a_running_quarter_says_when_it_ends_instead_of_an_overdue_count(client, panel, pcc_staff):
    today = timezone.localdate()
    cases_at(panel, today, 1)
    cases_at(panel, today + datetime.timedelta(days=120), 2)  # next quarter or later: not held yet
    client.force_login(pcc_staff)
    start = period_start(today, "quarter")
    page = client.get(f"/scrutiny/panels/{panel.pk}/quarterly/{start:%Y-%m}/")
    report = page.context["report"]
    assert (report["meetings"], report["cases_sampled"], report["actions_overdue_at_end"]) == (1, 1, None)
    assert "— (the quarter ends on" in page.content.decode()


def test_the_public_summary_shows_only_quarters_that_have_ended(client, panel, thames_valley):
    today = timezone.localdate()
    running = period_start(today, "quarter")
    last = period_start(running - datetime.timedelta(days=1), "quarter")
    for held_on in (last + datetime.timedelta(days=20), today, today + datetime.timedelta(days=200)):
        cases_at(panel, held_on, 1)
    [summary] = public_panel_summary(force=thames_valley)["panels"]
    assert [quarter["label"] for quarter in summary["quarters"]] == [quarter_label(last)]
    content = client.get("/scrutiny/public/thames-valley/").content.decode()
    assert quarter_label(last) in content and quarter_label(running) not in content


def test_cases_without_video_count_as_followed_up_only_once_a_follow_up_is_recorded(panel, pcc_staff):
    flagged = cases_at(panel, datetime.date(2026, 1, 14), 3, needs_video_follow_up=True)
    cases_at(panel, datetime.date(2026, 1, 14), 2)  # video recorded
    record_video_follow_up(case=flagged[0], user=pcc_staff, note="The officer's camera battery had failed.")
    report = panel_quarter_report(panel=panel, quarter=Q4, on=datetime.date(2026, 4, 1))
    followed = SampledCase.objects.filter(needs_video_follow_up=True, video_followed_up_at__isnull=False)
    assert (report["cases_for_video_follow_up"], report["cases_video_followed_up"]) == (3, followed.count())
    assert followed.count() == 1


@pytest.mark.parametrize(
    ("which", "note", "message"),
    [
        ("with_video", "Said", "has body-worn video recorded"),
        ("followed", "Again", "was followed up on"),
        ("flagged", "  ", "say what the force said"),
    ],
)
def test_a_follow_up_is_refused_without_missing_video_twice_or_without_a_note(which, note, message, panel, pcc_staff):
    [flagged, followed] = cases_at(panel, datetime.date(2026, 1, 14), 2, needs_video_follow_up=True)
    [with_video] = cases_at(panel, datetime.date(2026, 1, 15), 1)
    record_video_follow_up(case=followed, user=pcc_staff, note="No camera issued.")
    case = {"flagged": flagged, "followed": followed, "with_video": with_video}[which]
    with pytest.raises(ValidationError, match=message):
        record_video_follow_up(case=case, user=pcc_staff, note=note)


def test_pcc_staff_record_a_follow_up_from_the_meeting_page(client, panel, pcc_staff):
    [case] = cases_at(panel, datetime.date(2026, 1, 14), 1, needs_video_follow_up=True)
    client.force_login(pcc_staff)
    url = f"/scrutiny/meetings/{case.sample.meeting_id}/"
    assert "Record the follow-up" in client.get(url).content.decode()
    page = client.post(url, {"do": "follow_up", "case": case.pk, "note": "Camera not issued."}, follow=True)
    assert "followed up" in page.content.decode() and "Camera not issued." in page.content.decode()
    case.refresh_from_db()
    assert (case.video_follow_up, case.video_followed_up_by) == ("Camera not issued.", pcc_staff)


def test_every_csv_row_has_its_values_under_the_right_heading(client, panel, pcc_staff, oxford):
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=datetime.date(2025, 9, 1)))
    cases = [SampledCaseFactory(sample=sample, report=ReportFactory(area=oxford)) for _ in range(2)]
    answered = FindingFactory(sampled_case=cases[0], for_force_feedback=True, summary="Warning late")
    ForceResponseFactory(finding=answered, response="Briefing issued")
    FindingFactory(sampled_case=cases[1], for_force_feedback=True)
    client.force_login(pcc_staff)
    download = client.get(f"/scrutiny/panels/{panel.pk}/quarterly/2025-07/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == QUARTER_COLUMNS
    assert {len(row) for row in rows} == {len(QUARTER_COLUMNS)}
    for section, measure, count, share, text in rows[1:]:
        assert count == "" or count.isdigit(), (measure, count)
        assert share == "" or 0 <= float(share) <= 1, (measure, share)
        assert (text != "") == (section == "force responses"), (measure, text)
    responses = [row for row in rows if row[0] == "force responses"]
    assert [(row[2], row[4]) for row in responses] == [("1", "Briefing issued"), ("0", "awaiting the force")]
