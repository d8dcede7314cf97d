"""The annual report of all a force's panels together: every figure equals a direct count of the rows behind it,
over every panel of the force and no other force's; a Taser use two panels sampled counts once."""

import csv
import datetime
import io
from collections import Counter

import pytest
from django.utils import timezone

from incidents.models import CedLevel, UseOfForceReport
from scrutiny.models import Action, Finding, Panel, Review, SampledCase
from scrutiny.queries import force_annual_report, panel_annual_report, public_force_annual_summary
from tests.factories import (
    ActionFactory,
    CaseSampleFactory,
    FindingFactory,
    ForceResponseFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)
from tests.scrutiny.conftest import RUBRIC

AFTER_THE_YEAR = datetime.date(2026, 4, 15)
YEAR_STARTS, YEAR_ENDS = datetime.date(2025, 4, 1), datetime.date(2026, 4, 1)


def moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def work(panel, oxford, held_on, grades, shared_report=None):
    """A meeting of the panel on `held_on` with a case per grade: reviewed, found, answered (the first on time) and
    actioned (the first closed on time, the rest open past their due day)."""
    member = panel.members.first() or PanelMemberFactory(panel=panel)
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=held_on))
    for index, grade in enumerate(grades):
        report = shared_report if index == 0 and shared_report else None
        report = report or ReportFactory(area=oxford, occurred_on=held_on, ced_levels=[CedLevel.FIRED])
        case = SampledCaseFactory(sample=sample, report=report)
        answer = ["yes", "no", "na", "unclear"][index % 4]
        ReviewFactory(sampled_case=case, member=member, status="submitted", grade=grade,
                      rubric_answers={question: answer for question in panel.questions})  # fmt: skip
        due = held_on + datetime.timedelta(days=28)
        finding = FindingFactory(sampled_case=case, panel_grade=grade, response_due_on=due,
                                 themes=[["communication"], ["de_escalation", "recording"], []][index % 3])  # fmt: skip
        if index == 0:
            response = ForceResponseFactory(finding=finding)
            response.__class__.objects.filter(pk=response.pk).update(responded_at=moment(due))
        action = ActionFactory(finding=finding, due_on=due)
        if index == 0:
            Action.objects.filter(pk=action.pk).update(status="closed", evidence="Done", closed_at=moment(due))


@pytest.fixture
def two_panels(thames_valley, oxford, metropolitan, lambeth):
    """Two Thames Valley panels on different scales, a report both sampled, and a Met panel that must not count."""
    rag = PanelFactory(force=thames_valley, name="North", rubric=RUBRIC)
    practice = PanelFactory(force=thames_valley, name="South", grading_scale="practice", rubric=RUBRIC[:2])
    both = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 8, 1), ced_levels=[CedLevel.FIRED])
    work(rag, oxford, datetime.date(2025, 5, 10), ["Green", "Amber", "Red"])
    work(rag, oxford, datetime.date(2025, 8, 10), ["Amber", "Amber"], shared_report=both)
    work(practice, oxford, datetime.date(2025, 8, 20), ["Good practice", "Concern"], shared_report=both)
    work(practice, oxford, datetime.date(2026, 2, 10), ["Adequate"])
    work(practice, oxford, datetime.date(2026, 5, 10), ["Concern"])  # the next year: not counted
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 11, 1), ced_levels=[CedLevel.DRAWN])  # never sampled
    met = PanelFactory(force=metropolitan, name="Met panel", rubric=RUBRIC)
    work(met, lambeth, datetime.date(2025, 8, 10), ["Red", "Red"])
    return rag, practice


def test_every_figure_of_the_forces_year_equals_a_direct_count(two_panels, thames_valley):
    report = force_annual_report(force=thames_valley, year=2025, on=AFTER_THE_YEAR)
    panels = Panel.objects.filter(force=thames_valley)
    in_year = {"sample__panel__in": panels, "sample__meeting__held_on__gte": YEAR_STARTS,
               "sample__meeting__held_on__lt": YEAR_ENDS}  # fmt: skip
    cases = SampledCase.objects.filter(**in_year)
    findings = Finding.objects.filter(sampled_case__in=cases)
    reviews = Review.objects.filter(sampled_case__in=cases, status="submitted")
    assert report["meetings"] == 4
    assert report["cases_sampled"] == cases.count() == 8
    assert report["cases_reviewed"] == cases.filter(reviews__status="submitted").distinct().count()
    assert report["reviews"] == reviews.count()
    assert report["findings"] == findings.count() == 8
    grades = Counter(findings.values_list("panel_grade", flat=True))
    assert {row["grade"]: row["count"] for row in report["panel_grades"]} == {
        grade: grades[grade] for grade in ["Green", "Amber", "Red", "Good practice", "Adequate", "Concern"]
    }
    for row in report["checklist"]:
        for answer in row["answers"]:
            direct = sum(review.rubric_answers.get(row["question"]) == answer["answer"] for review in reviews)
            assert answer["count"] == direct, (row["question"], answer["answer"])
    quarters = [datetime.date(2025, 4, 1), datetime.date(2025, 7, 1), datetime.date(2025, 10, 1),
                datetime.date(2026, 1, 1), datetime.date(2026, 4, 1)]  # fmt: skip
    for row in report["themes"]:
        direct = [
            sum(row["theme"] in f.themes for f in findings if start <= f.sampled_case.sample.meeting.held_on < end)
            for start, end in zip(quarters, quarters[1:], strict=False)
        ]
        assert row["by_quarter"] == direct, row["theme"]
    answered = findings.filter(responses__isnull=False)
    assert report["responses"] == {
        "on_time": answered.count(), "late": 0, "awaited_overdue": findings.count() - answered.count(),
        "awaited_not_due": 0,
    }  # fmt: skip
    actions = Action.objects.filter(finding__in=findings)
    assert report["actions"] == {
        "closed_on_time": actions.filter(status="closed").count(), "closed_late": 0,
        "open_overdue": actions.exclude(status="closed").count(), "open_not_due": 0,
    }  # fmt: skip
    taser = UseOfForceReport.objects.filter(force=thames_valley, ced_used=True, occurred_on__gte=YEAR_STARTS,
                                            occurred_on__lt=YEAR_ENDS)  # fmt: skip
    sampled = taser.filter(sampled_cases__sample__panel__in=panels).distinct().count()
    assert (report["taser_uses"], report["taser_uses_sampled"]) == (taser.count(), sampled)
    assert sampled == cases.count() - 1  # the report both panels sampled is one Taser use
    assert sorted(case.pk for case in report["cases"]) == sorted(cases.values_list("pk", flat=True))


def test_the_forces_year_is_its_panels_years_added_up(two_panels, thames_valley):
    report = force_annual_report(force=thames_valley, year=2025, on=AFTER_THE_YEAR)
    by_panel = [panel_annual_report(panel=panel, year=2025, on=AFTER_THE_YEAR) for panel in two_panels]
    assert [row["panel"] for row in report["by_panel"]] == list(two_panels)
    for name in ("meetings", "cases_sampled", "cases_reviewed", "reviews", "findings"):
        assert report[name] == sum(panel_report[name] for panel_report in by_panel), name
    assert report["taser_uses_sampled"] == sum(panel_report["taser_uses_sampled"] for panel_report in by_panel) - 1


def test_only_quarters_that_have_ended_are_counted(two_panels, thames_valley):
    report = force_annual_report(force=thames_valley, year=2025, on=datetime.date(2025, 12, 15))
    assert (len(report["quarters"]), report["quarters_to_come"]) == (2, 2)
    assert report["meetings"] == 3
    assert (
        report["cases_sampled"]
        == SampledCase.objects.filter(
            sample__panel__force=thames_valley, sample__meeting__held_on__lt=datetime.date(2025, 10, 1)
        ).count()
    )


def test_the_forces_annual_page_and_its_csv_carry_the_same_figures(client, two_panels, pcc_staff):
    client.force_login(pcc_staff)
    url = "/scrutiny/forces/thames-valley/annual/2025/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Thames Valley Police's scrutiny panels: annual report 2025/26" in page.content.decode()
    report = page.context["report"]
    rows = list(csv.DictReader(io.StringIO(client.get(url, {"format": "csv"}).content.decode())))
    by_measure = {(row["section"], row["measure"]): row["count"] for row in rows}
    assert by_measure[("year", "findings")] == str(report["findings"])
    assert by_measure[("year", "taser uses sampled")] == str(report["taser_uses_sampled"])
    assert by_measure[("panel: South", "findings")] == "3"
    for grade in report["panel_grades"]:
        assert by_measure[("panel's grades", grade["grade"])] == str(grade["count"])
    assert url in client.get("/scrutiny/panels/").content.decode()


def test_only_the_forces_pcc_staff_read_its_annual_report(client, two_panels, panel_member, force_data_officer,
                                                           pcc_staff):  # fmt: skip
    client.force_login(pcc_staff)
    assert client.get("/scrutiny/forces/metropolitan/annual/2025/").status_code == 404
    for user in (panel_member, force_data_officer):
        client.force_login(user)
        assert client.get("/scrutiny/forces/thames-valley/annual/2025/").status_code == 403
    client.logout()
    assert client.get("/scrutiny/forces/thames-valley/annual/2025/").status_code == 302


def test_the_public_forces_year_suppresses_small_counts(client, two_panels, thames_valley):
    summary = public_force_annual_summary(force=thames_valley, year=2025, threshold=5, on=AFTER_THE_YEAR)
    rows = dict(summary["rows"])
    assert rows["Findings"] == summary["report"]["findings"] == 8
    assert rows["Cases reviewed"] == 8
    for label, count in summary["rows"]:
        assert count is None or count == 0 or count > 5, label
    assert rows["Graded Amber"] is None  # 3: from 1 to 5
    page = client.get("/scrutiny/public/thames-valley/annual/2025/")
    assert page.status_code == 200 and "Counts from 1 to" in page.content.decode()
    assert "Met panel" not in page.content.decode()
