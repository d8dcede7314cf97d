"""The annual report adds up the year's ended quarters; every figure equals a direct count of the rows behind it."""

import csv
import datetime
import io
from collections import Counter

import pytest
from django.utils import timezone

from scrutiny.models import Action, Finding, ForceResponse, Review, SampledCase
from scrutiny.queries import panel_annual_report, public_annual_summary
from tests.factories import (
    ActionFactory,
    CaseSampleFactory,
    FindingFactory,
    ForceResponseFactory,
    MeetingFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)
from tests.scrutiny.conftest import RUBRIC, answers

MEETINGS = [
    datetime.date(2025, 5, 10),
    datetime.date(2025, 8, 10),
    datetime.date(2025, 11, 10),
    datetime.date(2026, 2, 10),
]
AFTER_THE_YEAR = datetime.date(2026, 4, 15)


def moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def year_of_work(panel, oxford):
    """Four meetings of 2025/26, each with three cases, reviews, findings, responses and actions."""
    member = PanelMemberFactory(panel=panel)
    grades = ["Green", "Amber", "Red"]
    themes = [["communication"], ["de_escalation", "recording"], []]
    for number, held_on in enumerate(MEETINGS):
        sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=held_on))
        for index in range(3):
            case = SampledCaseFactory(sample=sample, report=ReportFactory(area=oxford, occurred_on=held_on))
            ReviewFactory(sampled_case=case, member=member, status="submitted", grade=grades[index],
                          rubric_answers=answers(["yes", "no", "na"][index]))  # fmt: skip
            due = held_on + datetime.timedelta(days=28)
            finding = FindingFactory(sampled_case=case, panel_grade=grades[(index + number) % 3], themes=themes[index],
                                     response_due_on=due)  # fmt: skip
            if index == 0:  # answered on time
                ForceResponse.objects.filter(pk=ForceResponseFactory(finding=finding).pk).update(
                    responded_at=moment(due - datetime.timedelta(days=3)))  # fmt: skip
            elif index == 1:  # answered late
                ForceResponse.objects.filter(pk=ForceResponseFactory(finding=finding).pk).update(
                    responded_at=moment(due + datetime.timedelta(days=3)))  # fmt: skip
            action = ActionFactory(finding=finding, due_on=due)
            if index == 0:
                Action.objects.filter(pk=action.pk).update(status="closed", evidence="Done", closed_at=moment(due))
            elif index == 1:
                Action.objects.filter(pk=action.pk).update(
                    status="closed", evidence="Done", closed_at=moment(due + datetime.timedelta(days=1)))  # fmt: skip
    return panel


def test_every_figure_of_the_year_equals_a_direct_count(year_of_work, panel, oxford):
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 6, 1), ced_levels=["drawn"])  # a use never sampled
    report = panel_annual_report(panel=panel, year=2025, on=AFTER_THE_YEAR)
    cases = SampledCase.objects.filter(sample__panel=panel)
    findings = Finding.objects.filter(sampled_case__in=cases)
    assert (len(report["quarters"]), report["meetings"], report["cases_sampled"]) == (4, 4, cases.count())
    assert report["findings"] == findings.count()
    grades = Counter(findings.values_list("panel_grade", flat=True))
    assert {row["grade"]: row["count"] for row in report["panel_grades"]} == {g: grades[g] for g in panel.grades}
    for row in report["themes"]:
        direct = [
            sum(row["theme"] in f.themes for f in findings if f.sampled_case.sample.meeting.held_on == held_on)
            for held_on in MEETINGS
        ]
        assert row["by_quarter"] == direct, row["theme"]
    reviews = Review.objects.filter(status="submitted")
    for row in report["checklist"]:
        for answer in row["answers"]:
            direct = sum(review.rubric_answers.get(row["question"]) == answer["answer"] for review in reviews)
            assert answer["count"] == direct
    assert [row["question"] for row in report["checklist"]] == RUBRIC
    on_time = sum(
        1
        for f in findings
        if f.responses.exists() and timezone.localdate(f.responses.first().responded_at) <= f.response_due_on
    )
    assert report["responses"] == {
        "on_time": on_time,
        "late": findings.filter(responses__isnull=False).count() - on_time,
        "awaited_overdue": findings.filter(responses__isnull=True).count(),
        "awaited_not_due": 0,
    }
    actions = Action.objects.all()
    on_time_actions = sum(1 for a in actions if a.closed_at and timezone.localdate(a.closed_at) <= a.due_on)
    assert report["actions"] == {
        "closed_on_time": on_time_actions,
        "closed_late": actions.filter(status="closed").count() - on_time_actions,
        "open_overdue": actions.exclude(status="closed").count(),
        "open_not_due": 0,
    }
    taser = ReportFactory._meta.model.objects.filter(ced_used=True, occurred_on__gte=datetime.date(2025, 4, 1),
                                                      occurred_on__lt=datetime.date(2026, 4, 1))  # fmt: skip
    assert (report["taser_uses"], report["taser_uses_sampled"]) == (
        taser.count(), taser.filter(sampled_cases__isnull=False).distinct().count(),
    )  # fmt: skip
    assert [case.pk for case in report["cases"]] == list(
        cases.order_by("sample__meeting__held_on", "pk").values_list("pk", flat=True)
    )


def test_only_quarters_that_have_ended_are_counted(year_of_work, panel):
    report = panel_annual_report(panel=panel, year=2025, on=datetime.date(2025, 12, 15))
    assert (len(report["quarters"]), report["quarters_to_come"]) == (2, 2)
    held = SampledCase.objects.filter(sample__meeting__held_on__lt=datetime.date(2025, 10, 1))
    assert (report["meetings"], report["cases_sampled"]) == (2, held.count())
    assert len(report["cases"]) == held.count()


def test_the_annual_page_and_its_csv_carry_the_same_figures(client, year_of_work, panel, pcc_staff):
    client.force_login(pcc_staff)
    page = client.get(f"/scrutiny/panels/{panel.pk}/annual/2025/")
    assert page.status_code == 200 and b"annual report 2025/26" in page.content
    report = page.context["report"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/scrutiny/panels/{panel.pk}/annual/2025/",
                                                      {"format": "csv"}).content.decode())))  # fmt: skip
    by_measure = {(row["section"], row["measure"]): row["count"] for row in rows}
    assert by_measure[("year", "findings")] == str(report["findings"])
    assert by_measure[("force responses", "on time")] == str(report["responses"]["on_time"])
    for grade in report["panel_grades"]:
        assert by_measure[("panel's grades", grade["grade"])] == str(grade["count"])
    assert (
        "/scrutiny/panels/" in client.get(f"/scrutiny/panels/{panel.pk}/").content.decode().split("Annual reports")[1]
    )


def test_the_public_year_suppresses_small_counts(client, year_of_work, panel, thames_valley):
    summary = public_annual_summary(panel=panel, year=2025, threshold=5, on=AFTER_THE_YEAR)
    rows = dict(summary["rows"])
    report = summary["report"]
    assert rows["Findings"] == report["findings"] == 12
    for label, count in summary["rows"]:
        assert count is None or count == 0 or count > 5, label
    assert rows["Theme: Communication"] is None  # 4: from 1 to 5
    page = client.get(f"/scrutiny/public/thames-valley/panels/{panel.pk}/2025/")
    assert page.status_code == 200 and "Counts from 1 to" in page.content.decode()
