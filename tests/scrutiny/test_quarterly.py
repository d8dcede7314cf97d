"""The panel's quarterly report counts the reviews, findings and actions behind it; the public version suppresses."""

import csv
import datetime
import io
import random
from collections import Counter

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from scrutiny.models import Action, Finding, Review
from scrutiny.queries import panel_quarter_report, public_panel_summary
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

QUARTER = datetime.date(2025, 7, 1)  # Q2 2025/26: July to September 2025


def moment(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def quarter_of_work(panel, oxford):
    """Twelve cases at a meeting in the quarter, graded at random by four members; one case the quarter after."""
    rng = random.Random(3)  # noqa: S311 - varied test data, the same each run
    members = [PanelMemberFactory(panel=panel) for _ in range(4)]
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=datetime.date(2025, 9, 1)))
    for index in range(12):
        case = SampledCaseFactory(sample=sample, report=ReportFactory(area=oxford), needs_video_follow_up=index < 2)
        for member in members:
            status = rng.choice(["submitted", "submitted", "draft", None])
            if status:
                ReviewFactory(sampled_case=case, member=member, status=status, grade=rng.choice(panel.grades))
        if index < 9:
            themes = rng.sample(Finding.Theme.values, 2)
            grade = rng.choice(panel.grades)
            finding = FindingFactory(sampled_case=case, panel_grade=grade, themes=themes, for_force_feedback=index < 3)
            if index < 3:
                ForceResponseFactory(finding=finding, response=f"Answer {index}")
    later = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=datetime.date(2025, 10, 2)))
    next_case = SampledCaseFactory(sample=later, report=ReportFactory(area=oxford))
    ReviewFactory(sampled_case=next_case, member=members[0], status="submitted", grade="Red")
    return sample


def test_the_quarterly_reports_figures_equal_the_reviews_behind_them(panel, quarter_of_work):
    report = panel_quarter_report(panel=panel, quarter=QUARTER)
    reviews = Review.objects.filter(sampled_case__sample=quarter_of_work, status="submitted")
    grades = Counter(reviews.values_list("grade", flat=True))
    assert report["reviews"] == reviews.count() == sum(grades.values())
    assert {row["grade"]: row["count"] for row in report["review_grades"]} == {g: grades[g] for g in panel.grades}
    for row in report["review_grades"]:
        assert row["share"] == round(grades[row["grade"]] / reviews.count(), 4)
    assert report["cases_reviewed"] == reviews.values("sampled_case").distinct().count()
    assert (report["cases_sampled"], report["cases_for_video_follow_up"], report["meetings"]) == (12, 2, 1)
    findings = Finding.objects.filter(sampled_case__sample=quarter_of_work)
    panel_grades = Counter(findings.values_list("panel_grade", flat=True))
    assert {row["grade"]: row["count"] for row in report["panel_grades"]} == {g: panel_grades[g] for g in panel.grades}
    themes = Counter(theme for finding in findings for theme in finding.themes)
    assert {row["theme"]: row["count"] for row in report["themes"]} == {t: themes[t] for t in Finding.Theme.values}
    assert report["feedback"] == list(findings.filter(for_force_feedback=True).order_by("recorded_at", "pk"))


def test_actions_are_counted_by_the_dates_they_opened_and_closed(panel, quarter_of_work):
    finding = Finding.objects.filter(sampled_case__sample=quarter_of_work).first()
    opened_in = ActionFactory(finding=finding, due_on=datetime.date(2025, 9, 15))
    closed = {"status": "closed", "closed_at": moment(datetime.date(2025, 9, 20)), "evidence": "Done"}
    closed_in = ActionFactory(finding=finding, due_on=datetime.date(2025, 12, 1), **closed)
    ActionFactory(finding=finding)  # opened now, long after the quarter
    Action.objects.filter(pk__in=[opened_in.pk, closed_in.pk]).update(created_at=moment(datetime.date(2025, 9, 2)))
    report = panel_quarter_report(panel=panel, quarter=QUARTER)
    assert (report["actions_opened"], report["actions_closed"], report["actions_overdue_at_end"]) == (2, 1, 1)


def test_the_report_page_and_its_csv_carry_the_same_figures(client, panel, quarter_of_work, pcc_staff):
    client.force_login(pcc_staff)
    page = client.get(f"/scrutiny/panels/{panel.pk}/quarterly/2025-07/")
    assert page.status_code == 200 and b"Q2 2025/26" in page.content
    download = client.get(f"/scrutiny/panels/{panel.pk}/quarterly/2025-07/", {"format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    report = page.context["report"]
    by_measure = {(row["section"], row["measure"]): row for row in rows}
    assert int(by_measure[("reviews", "submitted reviews")]["count"]) == report["reviews"]
    for grade in report["review_grades"]:
        assert int(by_measure[("members' grades", grade["grade"])]["count"]) == grade["count"]
    responses = [row for row in rows if row["section"] == "force responses"]
    assert [row["text"] for row in responses] == ["Answer 0", "Answer 1", "Answer 2"]
    assert {(row["count"], row["share"]) for row in responses} == {("1", "")}


def test_the_public_summary_suppresses_small_counts_and_any_that_would_give_one_away(panel, oxford, thames_valley):
    sample = CaseSampleFactory(panel=panel, meeting=MeetingFactory(panel=panel, held_on=datetime.date(2025, 9, 1)))
    for grade in ["Green"] * 7 + ["Amber"]:
        case = SampledCaseFactory(sample=sample, report=ReportFactory(area=oxford))
        FindingFactory(sampled_case=case, panel_grade=grade, themes=[])
    [summary] = public_panel_summary(force=thames_valley, threshold=5)["panels"]
    rows = dict(summary["quarters"][0]["rows"])
    assert rows["Findings"] == 8
    assert rows["Graded Amber"] is None  # 1: from 1 to 5
    assert rows["Graded Green"] is None  # 7, but with the total it would give the Amber count away
    assert rows["Graded Red"] == 0  # zero is not suppressed
    assert rows["Cases reviewed"] == 0


def test_the_public_page_shows_published_findings_and_responses_only(client, case, thames_valley):
    published = FindingFactory(sampled_case=case, summary="Warning given late.", published=True)
    ForceResponseFactory(finding=published, response="Briefing issued to all response teams.")
    kept = SampledCaseFactory(sample=case.sample, report=ReportFactory(area=case.report.area))
    FindingFactory(sampled_case=kept, summary="Not for publication.")
    page = client.get("/scrutiny/public/thames-valley/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "Warning given late." in content and "Briefing issued to all response teams." in content
    assert "Not for publication." not in content
    assert case.report.officer_reference not in content and f"report {case.report_id}" not in content


def test_the_public_findings_include_renders_on_its_own(thames_valley, panel):
    html = render_to_string(
        "scrutiny/includes/public_findings.html", {"panel_summary": public_panel_summary(force=thames_valley)}
    )
    assert "Panel A" in html and "Counts from 1 to 5 are not shown" in html
