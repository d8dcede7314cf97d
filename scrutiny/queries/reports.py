"""The panels' quarterly and annual reports, what the public may see of them, and the dashboard's scrutiny figures."""

import datetime
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from forces.models import Area, Force
from forces.roles import Person
from incidents.disclosure import hidden_names
from incidents.models import (
    UseOfForceReport,
)
from oversight.numbers import fraction
from oversight.police_calendar import (
    financial_year_label,
    quarter_bounds,
    quarter_label,
    quarter_start,
    quarters_of_financial_year,
)
from scrutiny.models import (
    ANSWERS,
    Action,
    Finding,
    ForceResponse,
    Meeting,
    Panel,
    Review,
    SampledCase,
)
from scrutiny.queries.sampling import overdue_actions
from scrutiny.queries.visibility import samples_visible_to

# --- quarterly reports -------------------------------------------------------------------------


def panel_quarters(*, panel: Panel, on: datetime.date | None = None, ended: bool = False) -> list[datetime.date]:
    """The quarters in which the panel has met by `on` (today), newest first; with `ended`, only
    those that ended by then."""
    on = on or timezone.localdate()
    days = panel.meetings.filter(held_on__lte=on).values_list("held_on", flat=True)
    quarters = {quarter_bounds(day)[0] for day in days}
    if ended:
        quarters = {quarter for quarter in quarters if quarter_bounds(quarter)[1] <= on}
    return sorted(quarters, reverse=True)


def scale_of(panels: list[Panel]) -> list[str]:
    """The grades of the panels' scales, in scale order, each once (a force's panels may grade on different scales)."""
    grades: list[str] = []
    for panel in panels:
        grades += [grade for grade in panel.grades if grade not in grades]
    return grades


def questions_of(panels: list[Panel]) -> list[str]:
    """The questions the panels' members answer, each once, in the panels' order."""
    questions: list[str] = []
    for panel in panels:
        questions += [question for question in panel.questions if question not in questions]
    return questions


def panel_quarter_report(*, panel: Panel, quarter: datetime.date, on: datetime.date | None = None) -> dict[str, Any]:
    """A panel's quarter: see quarter_report."""
    return quarter_report(panels=[panel], quarter=quarter, on=on) | {"panel": panel}


def quarter_report(*, panels: list[Panel], quarter: datetime.date, on: datetime.date | None = None) -> dict[str, Any]:
    """A quarter of the panels' work (one panel's, or all of a force's): the cases of their meetings
    held in the quarter (by `on`, today), their reviews and findings, the actions opened and closed
    in it, and the force's responses. Every figure is counted from the rows behind it, as they are
    now; the actions overdue at the quarter's end are None until it has ended."""
    on = on or timezone.localdate()
    start, end = quarter_bounds(quarter)
    meetings = Meeting.objects.filter(panel__in=panels, held_on__gte=start, held_on__lt=end)
    held = meetings.filter(held_on__lte=on)
    cases = SampledCase.objects.filter(sample__panel__in=panels, sample__meeting__in=held)
    reviews = Review.objects.filter(sampled_case__in=cases, status=Review.Status.SUBMITTED)
    findings = Finding.objects.filter(sampled_case__in=cases)
    actions = Action.objects.filter(finding__sampled_case__sample__panel__in=panels)
    still_open_at_end = actions.filter(created_at__date__lt=end).exclude(closed_at__date__lt=end)
    scale = scale_of(panels)

    def by_grade(rows: QuerySet[Any], column: str) -> list[dict[str, Any]]:
        counts = dict(rows.values_list(column).annotate(count=Count("pk")).order_by())
        grades = [*scale, *sorted(set(counts) - set(scale))]
        total = sum(counts.values())
        return [{"grade": g, "count": counts.get(g, 0), "share": fraction(counts.get(g, 0), total)} for g in grades]

    themes = Counter(theme for row in findings.values_list("themes", flat=True) for theme in row)
    review_count = reviews.count()
    feedback = (
        findings.filter(for_force_feedback=True)
        .select_related("sampled_case__report")
        .prefetch_related("responses", "actions")
        .order_by("recorded_at", "pk")
    )
    forces = {panel.force_id for panel in panels}
    taser_uses = UseOfForceReport.objects.current().filter(force__in=forces, ced_used=True)
    taser_uses = taser_uses.filter(occurred_on__gte=start, occurred_on__lt=end)
    # Distinct: a report two of the force's panels sampled is one Taser use sampled.
    sampled_uses = taser_uses.filter(sampled_cases__sample__panel__in=panels).distinct().count()
    return {
        "period": {
            "start": start,
            "end": end - datetime.timedelta(days=1),
            "label": quarter_label(start),
            "ended": end <= on,
        },  # fmt: skip
        "taser_uses": taser_uses.count(),
        "taser_uses_sampled": sampled_uses,
        "taser_uses_sampled_share": fraction(sampled_uses, taser_uses.count()),
        "meetings": held.count(),
        "meetings_to_come": meetings.filter(held_on__gt=on).count(),
        "cases_sampled": cases.count(),
        "cases_reviewed": cases.filter(reviews__status=Review.Status.SUBMITTED).distinct().count(),
        "cases_for_video_follow_up": cases.filter(needs_video_follow_up=True).count(),
        "cases_video_followed_up": cases.filter(needs_video_follow_up=True, video_followed_up_at__isnull=False).count(),
        "reviews": review_count,
        "review_grades": by_grade(reviews, "grade"),
        "checklist": checklist_tallies(questions=questions_of(panels), reviews=reviews, review_count=review_count),
        "findings": findings.count(),
        "panel_grades": by_grade(findings, "panel_grade"),
        "themes": [{"theme": value, "label": label, "count": themes[value]} for value, label in Finding.Theme.choices],
        "actions_opened": actions.filter(created_at__date__gte=start, created_at__date__lt=end).count(),
        "actions_closed": actions.filter(closed_at__date__gte=start, closed_at__date__lt=end).count(),
        "actions_overdue_at_end": still_open_at_end.filter(due_on__lt=end).count() if end <= on else None,
        "feedback": list(feedback),
    }


def checklist_tallies(*, questions: list[str], reviews: QuerySet[Review], review_count: int) -> list[dict[str, Any]]:
    """For each question (the panels', then any since dropped), how many of the reviews gave each answer."""
    tallies: dict[str, Counter[Any]] = {}
    for answers in reviews.values_list("rubric_answers", flat=True):
        for question, given in answers.items():
            tallies.setdefault(question, Counter())[given] += 1
    questions = [*questions, *sorted(set(tallies) - set(questions))]
    rows = []
    for question in questions:
        counts = tallies.get(question, Counter())
        answers = [{"answer": value, "label": label, "count": counts[value]} for value, label in ANSWERS]
        for row in answers:
            row["share"] = fraction(row["count"], review_count)
        rows.append({"question": question, "answers": answers, "unanswered": review_count - sum(
            row["count"] for row in answers)})  # fmt: skip
    return rows


QUARTER_COLUMNS = ["section", "measure", "count", "share", "text"]


def panel_quarter_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The quarterly report as CSV rows of QUARTER_COLUMNS: counts and shares, or a finding's text."""
    counts = [
        ("cases", "meetings held", report["meetings"], None),
        ("cases", "cases sampled", report["cases_sampled"], None),
        ("cases", "cases reviewed", report["cases_reviewed"], None),
        ("cases", "cases without body-worn video", report["cases_for_video_follow_up"], None),
        ("cases", "of them followed up", report["cases_video_followed_up"], None),
        ("sampling", "Taser uses in the quarter", report["taser_uses"], None),
        ("sampling", "of them sampled by the panel", report["taser_uses_sampled"], report["taser_uses_sampled_share"]),
        ("reviews", "submitted reviews", report["reviews"], None),
        *(("members' grades", row["grade"], row["count"], row["share"]) for row in report["review_grades"]),
        *(
            ("checklist", f"{row['question']} {answer['label']}", answer["count"], answer["share"])
            for row in report["checklist"]
            for answer in row["answers"]
        ),
        ("findings", "panel findings", report["findings"], None),
        *(("panel's grades", row["grade"], row["count"], row["share"]) for row in report["panel_grades"]),
        *(("themes", row["label"], row["count"], None) for row in report["themes"]),
        ("actions", "opened", report["actions_opened"], None),
        ("actions", "closed", report["actions_closed"], None),
        # Empty, not 0, while the quarter runs: nothing is overdue at an end not yet reached.
        ("actions", "overdue at the quarter's end", report["actions_overdue_at_end"], None),
    ]
    yield from ((*row, None) for row in counts)
    for finding in report["feedback"]:
        responses = list(finding.responses.all())
        answers = " | ".join(response.response for response in responses) or "awaiting the force"
        measure = f"finding {finding.pk} ({finding.panel_grade}): {finding.summary}"
        yield ("force responses", measure, len(responses), None, answers)


# --- what the public may see -------------------------------------------------------------------

PUBLIC_QUARTERS = 4


def public_rows(row: dict[str, Any], labels: dict[str, str], *, threshold: int) -> list[tuple[str, Any]]:
    """[(label, count or None)] of a row of counts as the public may see it: the one place the
    panels' public figures are suppressed. Counts named grade_* add up to "findings"."""
    # Grades add up to the findings: with one grade hidden, the others would give it away.
    grades = [name for name in row if name.startswith("grade_")]
    hidden = hidden_names(row, (("findings", grades),), threshold=threshold)
    return [(labels[name], None if name in hidden else value) for name, value in row.items()]


def public_panel_summary(
    *, force: Force, quarters: int = PUBLIC_QUARTERS, threshold: int | None = None
) -> dict[str, Any]:
    """A force's panels as the public may see them: for each, the last `quarters` ended quarters in
    which it met, every count from 1 to the suppression threshold hidden (None), and its published
    findings with the force's responses.

    Returns {"force", "threshold", "panels": [{"panel", "quarters": [{"label", "rows": [(label,
    count or None)]}], "findings"}]}; templates/scrutiny/includes/public_findings.html shows it.
    """
    threshold = settings.SUPPRESSION_THRESHOLD if threshold is None else threshold
    panels = []
    for panel in Panel.objects.filter(force=force).order_by("name"):
        shown = []
        # A quarter still running (or one with only meetings to come) is not shown: its figures would change.
        for quarter in panel_quarters(panel=panel, ended=True)[:quarters]:
            report = panel_quarter_report(panel=panel, quarter=quarter)
            labels = {"cases_reviewed": "Cases reviewed", "findings": "Findings"}
            row = {"cases_reviewed": report["cases_reviewed"], "findings": report["findings"]}
            for index, grade in enumerate(report["panel_grades"]):
                labels[f"grade_{index}"] = f"Graded {grade['grade']}"
                row[f"grade_{index}"] = grade["count"]
            for theme in report["themes"]:
                labels[f"theme_{theme['theme']}"] = f"Theme: {theme['label']}"
                row[f"theme_{theme['theme']}"] = theme["count"]
            labels |= {"actions_opened": "Actions opened", "actions_closed": "Actions closed"}
            row |= {"actions_opened": report["actions_opened"], "actions_closed": report["actions_closed"]}
            shown.append({"label": report["period"]["label"], "rows": public_rows(row, labels, threshold=threshold)})
        findings = (
            Finding.objects.filter(sampled_case__sample__panel=panel, published=True)
            .select_related("sampled_case__sample__meeting")
            .prefetch_related("responses")
            .order_by("-recorded_at", "-pk")
        )
        panels.append({"panel": panel, "quarters": shown, "findings": list(findings)})
    return {"force": force, "threshold": threshold, "panels": panels}


# --- the annual report -------------------------------------------------------------------------


def timeliness(findings: QuerySet[Finding], *, on: datetime.date) -> tuple[dict[str, int], dict[str, int]]:
    """How the force answered the findings and their actions: on time, late, or still awaited."""
    responses = {"on_time": 0, "late": 0, "awaited_overdue": 0, "awaited_not_due": 0}
    first = dict(
        ForceResponse.objects.filter(finding__in=findings).values_list("finding").annotate(first=Min("responded_at"))
    )
    for finding in findings.filter(for_force_feedback=True, response_due_on__isnull=False):
        answered, due = first.get(finding.pk), finding.response_due_on
        if due is None:  # left out by the filter; said again for the type checker
            continue
        if answered:
            responses["on_time" if timezone.localdate(answered) <= due else "late"] += 1
        else:
            responses["awaited_overdue" if due < on else "awaited_not_due"] += 1
    actions = {"closed_on_time": 0, "closed_late": 0, "open_overdue": 0, "open_not_due": 0}
    for action in Action.objects.filter(finding__in=findings):
        if action.closed_at:
            actions["closed_on_time" if timezone.localdate(action.closed_at) <= action.due_on else "closed_late"] += 1
        else:
            actions["open_overdue" if action.due_on < on else "open_not_due"] += 1
    return responses, actions


def panel_annual_report(*, panel: Panel, year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """A panel's financial year: see annual_report."""
    return annual_report(panels=[panel], year=year, on=on) | {"panel": panel}


def force_annual_report(*, force: Force, year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """All of a force's panels together over a financial year (see annual_report), and each panel's
    own year beside them in `by_panel`."""
    panels = list(Panel.objects.filter(force=force).order_by("name"))
    report = annual_report(panels=panels, year=year, on=on)
    by_panel = [panel_annual_report(panel=panel, year=year, on=on) for panel in panels]
    return report | {"force": force, "panels": panels, "by_panel": by_panel}


def annual_report(*, panels: list[Panel], year: int, on: datetime.date | None = None) -> dict[str, Any]:
    """The panels' financial year (April of `year` to March): their quarters' reports, figures only
    for quarters that have ended by `on` (today), added up; themes by quarter; how timely the
    force's responses and the actions were; and every case with its grade."""
    on = on or timezone.localdate()
    ended = [quarter for quarter in quarters_of_financial_year(year) if quarter_bounds(quarter)[1] <= on]
    quarters = [quarter_report(panels=panels, quarter=quarter, on=on) for quarter in ended]

    def total(name: str) -> int:
        return sum(report[name] for report in quarters)

    def summed(name: str, key: str, value: str = "count") -> Counter[Any]:
        counts: Counter[Any] = Counter()
        for report in quarters:
            for row in report[name]:
                counts[row[key]] += row[value]
        return counts

    grades = summed("panel_grades", "grade")
    findings_total = total("findings")
    checklist: dict[str, Counter[Any]] = {}
    for report in quarters:
        for row in report["checklist"]:
            for answer in row["answers"]:
                checklist.setdefault(row["question"], Counter())[answer["answer"]] += answer["count"]
    held = Meeting.objects.none()
    if ended:
        held = Meeting.objects.filter(panel__in=panels, held_on__gte=ended[0], held_on__lt=quarter_bounds(ended[-1])[1])
    cases = SampledCase.objects.filter(sample__panel__in=panels, sample__meeting__in=held)
    findings = Finding.objects.filter(sampled_case__in=cases)
    responses, actions = timeliness(findings, on=on)
    taser_uses, sampled = total("taser_uses"), total("taser_uses_sampled")
    scale = scale_of(panels)
    return {
        "year": year,
        "label": financial_year_label(year),
        "quarters": quarters,
        "quarters_to_come": 4 - len(ended),
        "meetings": total("meetings"),
        "cases_sampled": total("cases_sampled"),
        "cases_reviewed": total("cases_reviewed"),
        "reviews": total("reviews"),
        "findings": findings_total,
        "taser_uses": taser_uses,
        "taser_uses_sampled": sampled,
        "taser_uses_sampled_share": fraction(sampled, taser_uses),
        "panel_grades": [
            {"grade": grade, "count": grades[grade], "share": fraction(grades[grade], findings_total)}
            for grade in [*scale, *sorted(set(grades) - set(scale))]
        ],
        "checklist": [
            {
                "question": question,
                "answers": [{"answer": value, "label": label, "count": counts[value]} for value, label in ANSWERS],
            }
            for question, counts in checklist.items()
        ],  # fmt: skip
        "themes": [
            {
                "theme": value,
                "label": label,
                "by_quarter": [
                    next(row["count"] for row in report["themes"] if row["theme"] == value) for report in quarters
                ],
            }
            for value, label in Finding.Theme.choices
        ],  # fmt: skip
        "responses": responses,
        "actions": actions,
        "cases": list(
            cases.select_related("sample__panel", "sample__meeting", "finding", "report")
            .annotate(submitted=Count("reviews", filter=Q(reviews__status=Review.Status.SUBMITTED)))
            .order_by("sample__meeting__held_on", "pk")
        ),
    }


ANNUAL_COLUMNS = ["section", "measure", "count", "share"]


def panel_annual_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The annual report as CSV rows of ANNUAL_COLUMNS."""
    yield ("year", "quarters ended", len(report["quarters"]), None)
    for name in ("meetings", "cases_sampled", "cases_reviewed", "reviews", "findings", "taser_uses"):
        yield ("year", name.replace("_", " "), report[name], None)
    yield ("year", "taser uses sampled", report["taser_uses_sampled"], report["taser_uses_sampled_share"])
    for row in report["panel_grades"]:
        yield ("panel's grades", row["grade"], row["count"], row["share"])
    for row in report["checklist"]:
        for answer in row["answers"]:
            yield ("checklist", f"{row['question']} {answer['label']}", answer["count"], None)
    for row in report["themes"]:
        for quarter, count in zip(report["quarters"], row["by_quarter"], strict=True):
            yield ("themes", f"{row['label']}, {quarter['period']['label']}", count, None)
    for name, count in report["responses"].items():
        yield ("force responses", name.replace("_", " "), count, None)
    for name, count in report["actions"].items():
        yield ("actions", name.replace("_", " "), count, None)


def force_annual_rows(report: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The force's annual report as CSV rows of ANNUAL_COLUMNS: all its panels together, then each panel's year."""
    yield from panel_annual_rows(report)
    for panel_report in report["by_panel"]:
        for name in ("meetings", "cases_sampled", "cases_reviewed", "findings", "taser_uses_sampled"):
            yield (f"panel: {panel_report['panel'].name}", name.replace("_", " "), panel_report[name], None)


def public_annual_summary(*, panel: Panel, year: int, threshold: int | None = None,
                          on: datetime.date | None = None) -> dict[str, Any]:  # fmt: skip
    """A panel's annual report as the public may see it: see public_year."""
    return public_year(panel_annual_report(panel=panel, year=year, on=on), threshold=threshold)


def public_force_annual_summary(*, force: Force, year: int, threshold: int | None = None,
                                on: datetime.date | None = None) -> dict[str, Any]:  # fmt: skip
    """All of a force's panels' year as the public may see it: see public_year."""
    return public_year(force_annual_report(force=force, year=year, on=on), threshold=threshold)


def public_year(report: dict[str, Any], *, threshold: int | None = None) -> dict[str, Any]:
    """An annual report as the public may see it: the year's counts through `public_rows`."""
    threshold = settings.SUPPRESSION_THRESHOLD if threshold is None else threshold
    labels = {"cases_reviewed": "Cases reviewed", "findings": "Findings"}
    row = {"cases_reviewed": report["cases_reviewed"], "findings": report["findings"]}
    for index, grade in enumerate(report["panel_grades"]):
        labels[f"grade_{index}"], row[f"grade_{index}"] = f"Graded {grade['grade']}", grade["count"]
    for theme in report["themes"]:
        labels[f"theme_{theme['theme']}"] = f"Theme: {theme['label']}"
        row[f"theme_{theme['theme']}"] = sum(theme["by_quarter"])
    for name, count in report["responses"].items():
        labels[f"responses_{name}"], row[f"responses_{name}"] = f"Force responses: {name.replace('_', ' ')}", count
    for name, count in report["actions"].items():
        labels[f"actions_{name}"], row[f"actions_{name}"] = f"Actions: {name.replace('_', ' ')}", count
    return {"report": report, "threshold": threshold, "rows": public_rows(row, labels, threshold=threshold)}


# --- the force dashboard's scrutiny figures ---------------------------------------------------


def findings_by_quarter(
    *, force: Force, start: datetime.date, end: datetime.date, area: Area | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """([{"quarter", "grade", "findings"}], grades in scale order) of the force's findings recorded start ≤ day < end.

    With an area, only findings on reports of that area.
    """
    findings = Finding.objects.filter(
        sampled_case__sample__panel__force=force, recorded_at__date__gte=start, recorded_at__date__lt=end
    )
    if area is not None:
        findings = findings.filter(sampled_case__report__area=area)
    counts: dict[tuple[datetime.date, str], int] = {}
    for grade, recorded_at in findings.values_list("panel_grade", "recorded_at"):
        key = (quarter_start(timezone.localdate(recorded_at)), grade)
        counts[key] = counts.get(key, 0) + 1
    grades = []
    for panel in Panel.objects.filter(force=force):
        grades += [grade for grade in panel.grades if grade not in grades]
    grades += sorted({grade for _, grade in counts} - set(grades))
    rows = [{"quarter": quarter, "grade": grade, "findings": n} for (quarter, grade), n in sorted(counts.items())]
    return rows, grades


def action_counts(*, force: Force) -> dict[str, int]:
    """The force's actions by status, and how many open or in-progress ones are past their due date."""
    actions = Action.objects.filter(finding__sampled_case__sample__panel__force=force)
    counts = dict(actions.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "open": counts.get(Action.Status.OPEN, 0),
        "in_progress": counts.get(Action.Status.IN_PROGRESS, 0),
        "closed": counts.get(Action.Status.CLOSED, 0),
        "overdue": overdue_actions(force=force).count(),
    }


def sample_history(*, user: Person, report: UseOfForceReport) -> QuerySet[SampledCase]:
    """The report's cases in the samples the user may follow, oldest first, with the panel's finding if any."""
    cases = SampledCase.objects.filter(report=report, sample__in=samples_visible_to(user))
    return cases.select_related("sample__panel", "sample__meeting", "finding").order_by("sample__created_at")
