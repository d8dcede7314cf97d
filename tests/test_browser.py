"""The pages in a real headless Chromium (Debian's package, driven by Playwright).

Each test also checks that the page logs no console error and asks no host but the
test server for anything. With TAKE_SCREENSHOTS set (`make screenshots` sets it), each saves
its screenshot for the README; otherwise a test run leaves docs/screenshots as it was.
"""

import datetime
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import transaction
from playwright.sync_api import expect

from incidents.models import CedLevel
from tests.conftest import HOME_OFFICE_TABLES_2019_20, PASSWORD, published
from tests.factories import CedUseFactory, ReportFactory

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.foreign_requests = []
    server = urlparse(live_server.url).netloc
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on(
        "request", lambda request: urlparse(request.url).netloc != server and page.foreign_requests.append(request.url)
    )
    yield page
    assert page.console_errors == []
    assert page.foreign_requests == []
    context.close()


def screenshot(page, name, full_page=True, height=None):
    """Save the page for the README; with a height, only its top (a long page shrinks to nothing there)."""
    if not os.environ.get("TAKE_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height} if height else None
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page, clip=clip)


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_visitor_picks_a_force_on_the_home_page(page, live_server, forces):
    page.goto(live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a police force")
    assert page.get_by_role("link", name="Thames Valley Police", exact=True).is_visible()
    screenshot(page, "home")


def wait_for_charts(page):
    """Until every chart of the page has drawn; returns how many there are."""
    count = page.locator(".chart-plot").count()
    # A locator, not wait_for_function: the pages' Content Security Policy refuses the eval that one polls with.
    expect(page.locator(".chart-plot[data-drawn]")).to_have_count(count, timeout=30_000)
    return count


def figure_json(page, key):
    return page.locator(f"#{key}-figure").inner_text()


@pytest.fixture
def a_year_of_taser_use(oxford, thames_valley):
    """Thames Valley, July 2024 to June 2025, in Oxford and Reading, summarised."""
    from tests.factories import AreaFactory, PopulationBaselineFactory

    reading = AreaFactory(force=thames_valley, name="Reading", code="E22000160")
    for area in (oxford, reading):
        PopulationBaselineFactory(area=area)
    levels = [CedLevel.DRAWN, CedLevel.AIMED, CedLevel.RED_DOTTED, CedLevel.FIRED]
    with transaction.atomic():  # one change: its summaries, alerts and public figures follow once
        for month in range(12):
            day = datetime.date(2024 + (month + 6) // 12, (month + 6) % 12 + 1, 10)
            for n in range(8 + month % 5):
                area = oxford if n % 3 else reading
                ReportFactory(area=area, occurred_on=day, ced_levels=levels[: 1 + (n + month) % 4],
                              subject_ethnicity=["white", "black", "asian"][n % 3])  # fmt: skip
            ReportFactory(area=oxford, occurred_on=day)
        fired = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 6, 20), ced_levels=levels)
        CedUseFactory(report=fired, ced_drawn=True, ced_aimed=True, ced_red_dotted=True, ced_fired=True, cycles=1)
    return {"reading": reading, "fired": fired}


def test_pcc_staff_read_the_dashboard_change_area_and_period_and_drill_down_to_a_report(
    page, live_server, pcc_staff, a_year_of_taser_use
):
    page.goto(f"{live_server.url}/forces/thames-valley/")
    assert "/accounts/login/" in page.url  # sign in first
    screenshot(page, "sign-in")
    page.get_by_label("Username").fill(pcc_staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/forces/thames-valley/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thames Valley Police")
    assert wait_for_charts(page) == 13  # and the findings chart, which says no panel recorded one
    # Once drawn, each chart's table folds away behind "Show as table".
    assert page.locator("details.chart-table[open]").count() == 0
    expect(page.locator("body")).to_contain_text("Unit of count: reports (one officer's use of force on one person)")
    screenshot(page, "force-dashboard", height=2200)

    whole_force = figure_json(page, "use-over-time")
    page.get_by_label("Area", exact=True).select_option(label="Reading")
    page.get_by_label("Period", exact=True).select_option(label="Q1 2025/26 (April to June 2025)")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/forces/thames-valley/?*area=E22000160*")
    assert wait_for_charts(page) == 12  # no chart of areas for one area, none of findings
    assert page.get_by_role("heading", name="Taser use in Reading, Q1 2025/26 (April to June 2025)").is_visible()
    assert figure_json(page, "use-over-time") != whole_force
    page.go_back()  # the choice lives in the address: back gives the whole force again
    page.wait_for_url("**/forces/thames-valley/")
    wait_for_charts(page)
    assert figure_json(page, "use-over-time") == whole_force

    # A click on June's "Fired" bar opens the reports it counts.
    fired_bars = page.locator("#use-over-time .barlayer .trace").nth(6).locator(".point path")
    fired_bars.last.scroll_into_view_if_needed()
    box = fired_bars.last.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)  # as a person would: Plotly picks the point under the pointer, then the click opens it
    page.locator("#use-over-time .hoverlayer .hovertext").wait_for()
    page.mouse.click(x, y)
    page.wait_for_url("**/reports/?*highest_level=fired*")
    assert "Highest CED level: Fired" in page.get_by_text("Showing reports with").locator("..").inner_text()
    screenshot(page, "report-list")
    fired = a_year_of_taser_use["fired"]
    page.get_by_role("link", name=str(fired.pk), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Use-of-force report {fired.pk}")
    assert page.get_by_role("cell", name="Fired").first.is_visible()
    assert page.get_by_role("heading", name="Provenance").is_visible()
    screenshot(page, "report-detail")


def test_pcc_staff_compare_areas_and_forces(page, live_server, pcc_staff, a_year_of_taser_use):
    from django.core.management import call_command

    call_command("import_ho_tables", published(HOME_OFFICE_TABLES_2019_20), verbosity=0)
    sign_in(page, live_server, pcc_staff)
    page.goto(f"{live_server.url}/forces/thames-valley/areas/")
    assert wait_for_charts(page) == 1
    screenshot(page, "area-comparison")
    page.goto(f"{live_server.url}/compare/?year=2019")
    assert wait_for_charts(page) == 1
    assert "1,037" in page.locator("#force-comparison table").text_content()
    screenshot(page, "compare")


def test_the_public_read_a_forces_page_with_small_numbers_suppressed(page, live_server, a_year_of_taser_use):
    page.goto(f"{live_server.url}/public/")
    page.get_by_role("link", name="Thames Valley Police").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Taser use by Thames Valley Police")
    assert wait_for_charts(page) == 3
    page.locator("#disproportionality summary").click()
    table = page.locator("#disproportionality table")
    assert "suppressed" in table.inner_text()
    assert page.get_by_role("link", name="Sign in").is_visible()  # nobody signed in
    screenshot(page, "public-force", height=2400)


def test_an_area_named_like_html_is_drawn_as_text(page, live_server, pcc_staff, thames_valley):
    # Area names come from imported files. Plotly draws labels from the page's JSON; nothing in a
    # name may run, whether Plotly or the Content Security Policy is what stops it (a blocked inline
    # handler would be a console error, which the page fixture refuses).
    from incidents.summaries import rebuild_summaries
    from tests.factories import AreaFactory

    name = "<img src=x onerror=alert(1)>"
    area = AreaFactory(force=thames_valley, name=name, code="E22000155")
    for day in range(1, 6):
        ReportFactory(area=area, occurred_on=datetime.date(2025, 6, day), ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, pcc_staff)
    for path in ("/forces/thames-valley/", "/forces/thames-valley/areas/", "/public/thames-valley/"):
        response = page.goto(f"{live_server.url}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        wait_for_charts(page)
        page.locator(".chart-plot").first.hover()
        assert page.locator('img[src="x"]').count() == 0, path
        assert name in page.locator("main").text_content(), path
    # Drawn as an axis label, text in the chart's SVG.
    page.goto(f"{live_server.url}/forces/thames-valley/")
    wait_for_charts(page)
    assert page.locator("#use-by-area svg text", has_text=name).count() >= 1
    assert dialogs == []


def test_pcc_staff_read_a_reports_audit_trail_from_the_report(page, live_server, pcc_staff, force_data_officer, oxford):
    from auditlog.context import set_actor

    with set_actor(force_data_officer):
        report = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 6, 2), ced_levels=[CedLevel.FIRED])
        report.subject_age = "18_34"
        report.body_worn_video = "yes"
        report.save()
    sign_in(page, live_server, pcc_staff)
    page.goto(f"{live_server.url}/reports/{report.pk}/")
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Audit trail: Report {report.pk} (thames-valley, 2025-06-02)"
    )
    changes = page.locator("table").inner_text()
    assert "force_data_officer_thames-valley" in changes and "body_worn_video" in changes
    assert page.get_by_role("link", name="Everything held about this report (JSON), for an access request").is_visible()
    screenshot(page, "audit-trail", height=1400)


def test_another_forces_report_is_not_found_in_the_browser(page, live_server, pcc_staff, lambeth):
    report = ReportFactory(area=lambeth)
    sign_in(page, live_server, pcc_staff)
    response = page.goto(f"{live_server.url}/reports/{report.pk}/")
    assert response.status == 404
    page.console_errors.clear()  # Chromium logs the 404 itself as a console error


def test_pcc_staff_compares_their_counts_with_the_home_office_figures(page, live_server, pcc_staff, oxford):
    from django.core.management import call_command

    call_command("import_ho_tables", published(HOME_OFFICE_TABLES_2019_20), verbosity=0)
    ReportFactory(area=oxford, occurred_on=datetime.date(2019, 6, 1), ced_levels=[CedLevel.FIRED])
    sign_in(page, live_server, pcc_staff)
    page.goto(f"{live_server.url}/forces/thames-valley/reconciliation/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thames Valley Police: our counts against the Home Office figures"
    )
    assert "1,037" in page.content()  # Thames Valley's published CED total for 2019/20
    screenshot(page, "reconciliation")


def test_force_data_officer_uploads_a_file_and_reads_its_problems(
    page, live_server, force_data_officer, oxford, tmp_path
):
    from tests.incidents.test_import_uof import met_file, row

    rows = [row(Borough="Oxford"), row(Borough="Oxford", IncidentTime="09:00", SubjectEthnicity="White British")]
    good = met_file(tmp_path / "fy20-21.csv", rows)
    bad = met_file(tmp_path / "fy20-21 draft.csv", [row(Borough="Oxford", IncidentDate="31/02/2021")])
    sign_in(page, live_server, force_data_officer)
    page.goto(f"{live_server.url}/reports/imports/")
    page.get_by_label("Use-of-force file").set_input_files(str(good))
    screenshot(page, "import-upload")
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/reports/imports/*/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of fy20-21.csv")
    expect(page.locator("body")).to_contain_text("Succeeded")
    assert page.get_by_role("cell", name="White British").is_visible()  # kept, counted as not reported, listed
    screenshot(page, "import-report")

    page.goto(f"{live_server.url}/reports/imports/")
    page.get_by_label("Use-of-force file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/reports/imports/*/")
    expect(page.locator("body")).to_contain_text("row 2, IncidentDate: '31/02/2021' is not a date")
    screenshot(page, "import-problems")


def test_pcc_staff_build_a_quarterly_report_that_prints_on_a4(page, live_server, pcc_staff, oxford):
    from incidents.alerts import raise_alerts
    from incidents.summaries import rebuild_summaries

    for month in range(1, 13):
        for _ in range(2):
            ReportFactory(area=oxford, occurred_on=datetime.date(2024, month, 5), ced_levels=[CedLevel.AIMED])
    for _ in range(12):
        ReportFactory(area=oxford, occurred_on=datetime.date(2025, 1, 9), ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    raise_alerts(force_id="thames-valley")

    sign_in(page, live_server, pcc_staff)
    page.goto(f"{live_server.url}/forces/thames-valley/")
    assert "Oxford, January 2025: 12 Taser reports" in page.get_by_role("region", name="Alerts").inner_text()
    page.get_by_role("link", name="Quarterly reports to the Police and Crime Panel").click()
    page.get_by_label("Quarter").select_option(label="Q4 2024/25 (January to March 2025)")
    page.get_by_role("button", name="Build the report").click()
    page.get_by_role("link", name="Q4 2024/25 (January to March 2025)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Taser use: Thames Valley Police")
    taser_row = page.locator("tr", has=page.get_by_role("rowheader", name="Taser reports", exact=True))
    cells = [cell.inner_text() for cell in taser_row.get_by_role("cell").all()]
    assert cells == ["12", "6 (+6, +100.0%)", "6 (+6, +100.0%)"]
    screenshot(page, "quarterly-report")

    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = (float(n) for n in pdf.split(b"/MediaBox [0 0 ", 1)[1].split(b"]", 1)[0].split())
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_an_api_client_makes_a_token_and_reads_the_interactive_docs_offline(page, live_server, api_client_user):
    sign_in(page, live_server, api_client_user)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("nightly pull")
    page.get_by_label("Read only").check()
    page.get_by_role("button", name="Make the token").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("tox_")
    assert page.get_by_role("row", name="nightly pull").is_visible()
    screenshot(page, "api-tokens")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="API", exact=True).click()
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/summaries/" in paths and "/api/v1/reports/" in paths
    screenshot(page, "api-docs", full_page=False)  # the operations; the schemas below run long


def test_a_case_goes_from_a_members_review_to_a_closed_action(
    page, live_server, panel_member, panel_chair, force_data_officer, pcc_staff, oxford
):
    from django.utils import timezone

    from oversight.police_calendar import quarter_bounds
    from scrutiny.models import Action, PanelMember
    from scrutiny.services import draw_sample
    from tests.factories import (
        ActionFactory,
        FindingFactory,
        MeetingFactory,
        PanelFactory,
        PanelMemberFactory,
        ReviewFactory,
    )

    rubric = ["Camera activated before the Taser was drawn?", "Warning given?", "De-escalation attempted?"]
    panel = PanelFactory(force=oxford.force, name="Thames Valley Taser scrutiny panel", rubric=rubric)
    member = PanelMemberFactory(user=panel_member, panel=panel)
    chair = PanelMemberFactory(user=panel_chair, panel=panel, role=PanelMember.Role.CHAIR)
    meeting = MeetingFactory(panel=panel, held_on=timezone.localdate())
    report = ReportFactory(
        area=oxford, ced_levels=[CedLevel.DRAWN, CedLevel.RED_DOTTED, CedLevel.FIRED], officer_reference="TV-4471",
        subject_age="18_34", subject_gender="male", subject_ethnicity="white", subject_health="mental",
        outcome_arrested=True, outcome_hospitalised=True, impact_weapon=True, reason_protect_public=True,
        body_worn_video="yes", location_street=True,
    )  # fmt: skip
    CedUseFactory(report=report, ced_drawn=True, ced_red_dotted=True, ced_fired=True, cycles=2, device_model="taser7")
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED], body_worn_video="no")
    ReportFactory(area=oxford, ced_levels=[CedLevel.AIMED])
    # PCC staff draw every discharge of the quarter for the meeting.
    period = {"starts_on": datetime.date(2025, 4, 1), "ends_on": datetime.date(2025, 6, 30)}
    sample = draw_sample(meeting=meeting, rule="all_discharges", user=pcc_staff, **period)
    case = sample.cases.get(report=report)
    assert member.pk and chair.pk and sample.cases.filter(needs_video_follow_up=True).count() == 1
    # An earlier finding's action, long overdue.
    earlier = FindingFactory(sampled_case=sample.cases.exclude(pk=case.pk).get(), summary="Cage not used in transport.")
    ActionFactory(finding=earlier, description="Review van allocation.", due_on=timezone.localdate().replace(day=1)
                  - datetime.timedelta(days=40))  # fmt: skip
    colleague = PanelMemberFactory(panel=panel, user__username="panel_member_2")
    ReviewFactory(
        sampled_case=case, member=colleague, status="submitted", grade="Green",
        rubric_answers={"Camera activated before the Taser was drawn?": "yes", "Warning given?": "yes",
                        "De-escalation attempted?": "no"},
        learning_points="A clear warning, but little time to de-escalate.",
    )  # fmt: skip

    # A member opens the sampled case, answers the rubric, grades and submits.
    sign_in(page, live_server, panel_member)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scrutiny").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
    screenshot(page, "scrutiny-my-cases")
    page.get_by_role("link", name=f"Case {case.pk}", exact=True).click()
    assert "Content warning." in page.get_by_role("note").inner_text()
    assert "TV-4471" not in page.content()
    for question, answer in zip(rubric, ["Yes", "Could not tell", "Yes"], strict=True):
        page.get_by_role("group", name=question).get_by_label(answer).check()
    page.get_by_role("group", name="Grade").get_by_label("Amber").check()
    page.get_by_label("Learning points").fill("The warning is hard to hear; the officer gave space before firing.")
    screenshot(page, "scrutiny-case-review")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.get_by_role("heading", name="Your review").evaluate("heading => heading.scrollIntoView()")
    screenshot(page, "scrutiny-case-review-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Submit review").click()
    assert page.get_by_role("status").first.inner_text() == "Review submitted."

    # The chair opens the case at the meeting, reads the reviews side by side and records the consensus.
    sign_in(page, live_server, panel_chair)
    page.goto(f"{live_server.url}/scrutiny/")
    page.get_by_role("link", name=f"Meeting of {meeting.held_on:%-d %B %Y}", exact=True).click()
    screenshot(page, "scrutiny-meeting")
    page.get_by_role("link", name=f"Case {case.pk}", exact=True).click()
    # The chair has not reviewed the case himself: he is told so before opening it.
    assert "Reviews outstanding from panel_chair_thames-valley (you)" in page.get_by_role("alert").inner_text()
    page.get_by_label("Open it even so").check()
    page.get_by_role("button", name="Open the case at the meeting").click()
    grades = [card.inner_text().split("Grade: ")[1].split()[0] for card in page.locator(".review-card").all()]
    assert sorted(grades) == ["Amber", "Green"]
    page.get_by_role("group", name="The panel's grade").get_by_label("Amber").check()
    page.get_by_label("The panel's finding").fill("Warning given late; de-escalation partly attempted.")
    page.get_by_role("group", name="Themes").get_by_label("Communication").check()
    page.get_by_role("group", name="Themes").get_by_label("De-escalation").check()
    page.get_by_label("Send to the force for feedback").check()
    screenshot(page, "scrutiny-consensus")
    page.get_by_role("button", name="Record the panel's finding").click()
    assert page.get_by_role("status").first.inner_text() == "The panel's finding is recorded."

    # The force's data officer answers the finding.
    sign_in(page, live_server, force_data_officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scrutiny").click()
    page.get_by_role("link", name="Warning given late; de-escalation partly attempted.").click()
    page.get_by_role("group", name="The force's position on the finding").get_by_label("Partly accepted").check()
    page.get_by_label("The force's response").fill("All response officers briefed on early warnings by 1 March.")
    page.get_by_role("button", name="Send the response").click()
    assert "All response officers briefed" in page.locator("blockquote.response").inner_text()
    screenshot(page, "scrutiny-force-response")

    # PCC staff raise an action, then move it on and close it with evidence.
    sign_in(page, live_server, pcc_staff)
    page.goto(f"{live_server.url}/scrutiny/actions/")
    page.get_by_role("link", name="Warning given late; de-escalation partly attempted.").click()
    page.get_by_label("What is to be done").fill("Add early warnings to the Taser refresher course.")
    page.get_by_label("Owner").fill("Head of Taser training")
    page.get_by_label("Due on").fill(f"{timezone.localdate().year + 1}-01-31")
    page.get_by_role("button", name="Raise the action").click()
    page.goto(f"{live_server.url}/scrutiny/actions/")
    assert page.get_by_role("alert").inner_text() == "1 action overdue."
    screenshot(page, "scrutiny-actions")
    page.get_by_role("link", name="Add early warnings to the Taser refresher course.").click()
    page.get_by_label("Status").select_option(label="In progress")
    page.get_by_label("Note").fill("Course material drafted.")
    page.get_by_role("button", name="Save").click()
    page.get_by_label("Status").select_option(label="Closed")
    page.get_by_label("Evidence").fill("Refresher course syllabus v3, in use since 10 February.")
    page.get_by_role("button", name="Save").click()
    action = Action.objects.get(description__startswith="Add early warnings")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Action {action.pk}: closed")
    expect(page.get_by_role("table", name="History (nothing is deleted)").get_by_role("row")).to_have_count(4)
    screenshot(page, "scrutiny-action")

    # The sample is drawn again from its record; the quarter is reported; the public sees what was published.
    page.goto(f"{live_server.url}/scrutiny/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Every discharge in the period").click()
    page.get_by_role("button", name="Re-draw and compare").click()
    assert "the sample is reproduced from its record" in page.get_by_role("status").inner_text()
    screenshot(page, "scrutiny-redraw")
    page.goto(f"{live_server.url}/scrutiny/findings/{action.finding_id}/")
    page.get_by_role("button", name="Publish with the force's responses").click()
    quarter = quarter_bounds(meeting.held_on)[0]
    page.goto(f"{live_server.url}/scrutiny/panels/{panel.pk}/quarterly/{quarter:%Y-%m}/")
    assert page.get_by_role("table", name="The panel's grades (2 findings)").is_visible()
    screenshot(page, "scrutiny-quarterly-report")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/scrutiny/public/thames-valley/")
    expect(page.locator("body")).to_contain_text("All response officers briefed on early warnings")
    screenshot(page, "scrutiny-public")


def test_a_panels_year_as_each_role(
    page, live_server, panel_member, panel_chair, force_data_officer, pcc_staff, oxford
):
    """A panel's financial year 2025/26 through the pages, as each role: PCC staff set the quorum, schedule four
    meetings and draw each one's sample by another of the sample form's rules (the chair adds a case of their own
    choosing); members record the footage they watched, declare a conflict and review; the chair takes attendance,
    records a declaration and the findings; the force answers; PCC staff raise actions, close two, and one runs
    overdue. Then the panel's and the force's annual reports, their public versions, and each role's landing."""
    from collections import Counter

    from django.utils import timezone

    from incidents.models import UseOfForceReport
    from scrutiny.forms import SampleForm
    from scrutiny.models import Action, CaseSample, Declaration, Finding, FootageViewing, PanelMember, SampledCase
    from scrutiny.queries import force_annual_report, panel_annual_report
    from scrutiny.services import send_reminders
    from tests.factories import AreaFactory, FootageClipFactory, PanelFactory, PanelMemberFactory

    url = live_server.url
    today = timezone.localdate()
    panel = PanelFactory(force=oxford.force, name="Thames Valley Taser scrutiny panel", rubric=["Warning given?"])
    member = PanelMemberFactory(user=panel_member, panel=panel)
    chair = PanelMemberFactory(user=panel_chair, panel=panel, role=PanelMember.Role.CHAIR)
    colleague = PanelMemberFactory(panel=panel, user__username="panel_member_2")
    reading = AreaFactory(force=oxford.force, name="Reading")

    def uses(on, levels, count=1, area=oxford, **fields):
        return [ReportFactory(area=area, occurred_on=on, ced_levels=levels, **fields) for _ in range(count)]

    uses(datetime.date(2025, 5, 2), [CedLevel.FIRED], 2)
    uses(datetime.date(2025, 5, 3), [CedLevel.DRAWN], subject_health="none")
    uses(datetime.date(2025, 8, 2), [CedLevel.AIMED], 4, subject_health="none")
    uses(datetime.date(2025, 11, 2), [CedLevel.DRAWN], 2, subject_age="11_17")
    uses(datetime.date(2025, 11, 3), [CedLevel.DRAWN], subject_age="35_49", subject_health="none")
    uses(datetime.date(2026, 2, 2), [CedLevel.DRAWN], 2, subject_health="none")
    [chosen] = uses(datetime.date(2026, 2, 5), [CedLevel.AIMED], area=reading, subject_health="none")

    # PCC staff set the panel's quorum and schedule its four meetings.
    sign_in(page, live_server, pcc_staff)
    page.goto(f"{url}/scrutiny/panels/{panel.pk}/")
    page.get_by_text("Change the panel").click()
    page.get_by_label("Quorum").fill("3")
    page.get_by_role("button", name="Save the panel").click()
    expect(page.locator("body")).to_contain_text("quorum 3 members present")
    held = [datetime.date(2025, 5, 10), datetime.date(2025, 8, 10), datetime.date(2025, 11, 10),
            datetime.date(2026, 2, 10)]  # fmt: skip
    for held_on in held:
        page.get_by_text("Schedule a meeting").click()
        page.get_by_label("Meeting on").fill(held_on.isoformat())
        page.get_by_role("button", name="Schedule the meeting").click()
    meetings = list(panel.meetings.order_by("held_on"))
    assert [meeting.held_on for meeting in meetings] == held

    # Each meeting's sample is drawn on its page by another rule of the sample form.
    draws = [
        ("Every discharge in the period", "2025-04-01", "2025-06-30", {}),
        ("Stratified random share of non-discharge uses", "2025-07-01", "2025-09-30", {"Percent": "50", "Seed": "7"}),
        ("Cases involving children or mental health", "2025-10-01", "2025-12-31", {}),
        # A whole year of one area: what the panel has reviewed already is left out, and the sample says so.
        ("Area focus", "2025-04-01", "2026-03-31", {"Limit": "2", "Seed": "11"}),
    ]
    assert [label for _, label in SampleForm.base_fields["rule"].choices] == [rule for rule, *_ in draws]
    for meeting, (rule, starts_on, ends_on, parameters) in zip(meetings, draws, strict=True):
        page.goto(f"{url}/scrutiny/meetings/{meeting.pk}/")
        page.get_by_label("Rule").select_option(label=rule)
        page.get_by_label("Period from").fill(starts_on)
        page.get_by_label("Period to").fill(ends_on)
        if rule == "Area focus":
            page.get_by_label(field_label("Area")).select_option(label=oxford.name)
        for label, value in parameters.items():
            page.get_by_label(field_label(label)).fill(value)
        page.get_by_role("button", name="Draw the sample").click()
        assert "case(s) sampled" in page.get_by_role("status").first.inner_text()
        if meeting == meetings[-1]:
            expect(page.locator("body")).to_contain_text("6 left out (6 already reviewed by the panel)")
            screenshot(page, "scrutiny-sample-left-out")
        cases = list(SampledCase.objects.filter(sample__meeting=meeting).order_by("pk"))
        assert cases, rule
        # The force supplies the footage: the first case's clip is recorded on its page, the rest as supplied.
        page.goto(f"{url}/scrutiny/cases/{cases[0].pk}/footage/")
        page.get_by_label("Evidence system").fill("DEMS")
        page.get_by_label("Clip id").fill(f"BWV-{meeting.pk}-1")
        page.get_by_label(field_label("Starts")).fill(f"{starts_on}T22:04")
        page.get_by_label(field_label("Ends")).fill(f"{starts_on}T22:10")
        page.get_by_role("button", name="Record the clip").click()
        for case in cases[1:]:
            FootageClipFactory(sampled_case=case, added_by=pcc_staff)
        if meeting == meetings[-1]:
            continue
        # Reviews, one meeting at a time: members review before the meeting they are drawn for.
        review_meeting(page, live_server, meeting, member, colleague, chair, panel_member, panel_chair, pcc_staff)
        sign_in(page, live_server, pcc_staff)

    # The chair adds a case of their own choosing to the last meeting; one already reviewed is refused with a warning.
    last = meetings[-1]
    sign_in(page, live_server, panel_chair)
    page.goto(f"{url}/scrutiny/meetings/{last.pk}/")
    reviewed = SampledCase.objects.filter(sample__meeting=meetings[0]).first().report_id
    for report_id in (reviewed, chosen.pk):
        page.get_by_label("Report number").fill(str(report_id))
        page.get_by_label("Why the panel should review it").fill("A complaint from the person's family.")
        page.get_by_role("button", name="Add the case").click()
    assert SampledCase.objects.filter(sample__meeting=last, sample__rule="chair_choice").get().report_id == chosen.pk
    FootageClipFactory(sampled_case=SampledCase.objects.get(sample__meeting=last, report=chosen), added_by=pcc_staff)
    review_meeting(page, live_server, last, member, colleague, chair, panel_member, panel_chair, pcc_staff)

    # No report is sampled twice in the year: the rules left out what the panel had reviewed.
    year_cases = SampledCase.objects.filter(sample__panel=panel)
    assert Counter(year_cases.values_list("report_id", flat=True)).most_common(1)[0][1] == 1
    assert {sample.rule for sample in CaseSample.objects.filter(panel=panel)} == {
        "all_discharges", "random_non_discharge", "children_or_mental_health", "area_focus", "chair_choice",
    }  # fmt: skip
    assert FootageViewing.objects.filter(member=member).count() == year_cases.count() - 1  # not the declared case
    assert Declaration.objects.filter(sampled_case__isnull=False, member=member).count() == 1

    # The force answers the first finding of each meeting, each with its position.
    sign_in(page, live_server, force_data_officer)
    page.wait_for_url("**/scrutiny/responses/")
    firsts = [
        Finding.objects.filter(sampled_case__sample__meeting=meeting).order_by("pk").first() for meeting in meetings
    ]
    for finding, position in zip(firsts, ["Accepted", "Partly accepted", "Not accepted", "Accepted"], strict=True):
        page.goto(f"{url}/scrutiny/findings/{finding.pk}/")
        page.get_by_role("group", name="The force's position on the finding").get_by_label(position, exact=True).check()
        page.get_by_label("The force's response").fill(f"{position}: officers briefed.")
        page.get_by_role("button", name="Send the response").click()
        assert "officers briefed" in page.locator("blockquote.response").inner_text()

    # PCC staff raise three actions and close two; the third's due day passes.
    sign_in(page, live_server, pcc_staff)
    for finding in firsts[:3]:
        page.goto(f"{url}/scrutiny/findings/{finding.pk}/")
        page.get_by_label("What is to be done").fill(f"Brief response officers on finding {finding.pk}.")
        page.get_by_label("Owner").fill("Head of Taser training")
        page.get_by_label("Due on").fill(f"{today.year + 1}-01-31")
        page.get_by_role("button", name="Raise the action").click()
    for action in Action.objects.order_by("pk")[:2]:
        page.goto(f"{url}/scrutiny/actions/{action.pk}/")
        page.get_by_label("Status").select_option(label="Closed")
        page.get_by_label("Evidence").fill("Briefing delivered to every response team.")
        page.get_by_role("button", name="Save").click()
    overdue = Action.objects.exclude(status="closed").get()
    Action.objects.filter(pk=overdue.pk).update(due_on=today - datetime.timedelta(days=1))  # its due day passes
    send_reminders()  # as beat runs it nightly
    page.goto(f"{url}/scrutiny/actions/")
    assert page.get_by_role("alert").inner_text() == "1 action overdue."

    # The panel's annual report: every figure a direct count of the year's rows.
    page.goto(f"{url}/scrutiny/panels/{panel.pk}/")
    page.get_by_role("link", name="2025/26").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{panel.name}: annual report 2025/26")
    expect(page.locator("body")).to_contain_text("Figures for the 4 quarters that have ended")
    findings = Finding.objects.filter(sampled_case__in=year_cases)
    report = panel_annual_report(panel=panel, year=2025)
    assert (report["meetings"], report["cases_sampled"], report["findings"]) == (4, year_cases.count(),
                                                                                 findings.count())  # fmt: skip
    assert report["actions"] == {"closed_on_time": 2, "closed_late": 0, "open_overdue": 1, "open_not_due": 0}
    answered = findings.filter(responses__isnull=False).count()
    assert report["responses"]["on_time"] + report["responses"]["late"] == answered == 4
    sampled = UseOfForceReport.objects.filter(sampled_cases__sample__panel=panel).distinct().count()
    assert report["taser_uses_sampled"] == sampled
    for label, value in (("Cases sampled", year_cases.count()), ("Panel findings", findings.count())):
        assert figure(page, label) == str(value)
    screenshot(page, "scrutiny-annual-report")
    page.get_by_role("link", name="the public version").click()
    expect(page.locator("body")).to_contain_text("Counts from 1 to")
    screenshot(page, "scrutiny-public-annual")
    # All the force's panels together (this one is its only panel: the same figures).
    page.goto(f"{url}/scrutiny/panels/")
    page.get_by_role("link", name="2025/26").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thames Valley Police's scrutiny panels: annual report 2025/26"
    )
    force_report = force_annual_report(force=oxford.force, year=2025)
    assert (force_report["findings"], force_report["taser_uses_sampled"]) == (findings.count(), sampled)
    assert figure(page, "Panel findings") == str(findings.count())
    screenshot(page, "scrutiny-force-annual-report")
    page.get_by_role("link", name="the public version").click()
    expect(page.locator("body")).to_contain_text("All the force's scrutiny panels together")
    screenshot(page, "scrutiny-public-force-annual")

    # Each role lands on its own work: the chair on the next meeting, a member on their cases, the force on the
    # responses due and its notifications.
    next_meeting = panel.meetings.create(held_on=today + datetime.timedelta(days=20))
    sign_in(page, live_server, panel_chair)
    page.wait_for_url(f"**/scrutiny/meetings/{next_meeting.pk}/")
    sign_in(page, live_server, panel_member)
    page.wait_for_url("**/scrutiny/cases/")
    sign_in(page, live_server, force_data_officer)
    page.wait_for_url("**/scrutiny/responses/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    assert "overdue" in page.get_by_role("main").inner_text()
    screenshot(page, "scrutiny-notifications")


def field_label(text):
    """A form field's label exactly, with or without the colon Django puts after it."""
    return re.compile(rf"^{re.escape(text)}:?$")


def figure(page, label):
    """The figure beside a row's label in a report's table."""
    row = page.locator("tr", has=page.get_by_role("rowheader", name=label, exact=True))
    return row.get_by_role("cell").inner_text()


def review_meeting(page, live_server, meeting, member, colleague, chair, panel_member, panel_chair, pcc_staff):
    """One meeting of the year: the member records the footage they watched and reviews each case (declaring a
    conflict with the second case of the first meeting); the colleague's and the chair's reviews are in; the chair
    takes attendance, records an interest declared at the meeting, opens each case and records the finding."""
    from scrutiny.models import SampledCase
    from tests.factories import ReviewFactory

    url = live_server.url
    cases = list(SampledCase.objects.filter(sample__meeting=meeting).order_by("pk"))
    first_meeting = not meeting.panel.meetings.filter(held_on__lt=meeting.held_on).exists()
    sign_in(page, live_server, panel_member)
    for index, case in enumerate(cases):
        page.goto(f"{url}/scrutiny/cases/{case.pk}/")
        if first_meeting and index == 1:
            page.get_by_text("Declare a conflict of interest").click()
            page.get_by_label("What the conflict is").fill("The officer is my neighbour.")
            page.get_by_role("button", name="Declare the interest").click()
            assert "you do not review it" in page.get_by_role("status").last.inner_text()
            screenshot(page, "scrutiny-declared-conflict")
            continue
        page.get_by_role("group", name="Watched").get_by_label("Watched in full").check()
        page.get_by_role("button", name="Record what I watched").click()
        answer = ["Yes", "No", "Not applicable"][index % 3]
        page.get_by_role("group", name="Warning given?").get_by_label(answer, exact=True).check()
        page.get_by_role("group", name="Grade").get_by_label(["Green", "Amber", "Red"][index % 3]).check()
        page.get_by_role("button", name="Submit review").click()
        assert page.get_by_role("status").first.inner_text() == "Review submitted."
    for case in cases:
        for reviewer in (colleague, chair):
            ReviewFactory(sampled_case=case, member=reviewer, status="submitted", grade="Amber",
                          rubric_answers={"Warning given?": "yes"})  # fmt: skip

    sign_in(page, live_server, panel_chair)
    page.goto(f"{url}/scrutiny/meetings/{meeting.pk}/")
    for reviewer in (member, colleague, chair):
        page.get_by_label(f"Attendance of {reviewer.user.username}").select_option("present")
    page.get_by_role("button", name="Record attendance").click()
    expect(page.locator("body")).to_contain_text("3 present, 0 apologies; quorum 3: quorate")
    if meeting.held_on.month == 11:
        page.get_by_label("Member", exact=True).select_option(label=colleague.user.username)
        page.get_by_label("The interest declared").fill("Works for the local mental health trust.")
        page.get_by_role("button", name="Record the declaration").click()
        expect(page.locator("body")).to_contain_text("the meeting's business")
        screenshot(page, "scrutiny-meeting-declarations")
    for index, case in enumerate(cases):
        page.goto(f"{url}/scrutiny/cases/{case.pk}/meeting/")
        page.get_by_role("button", name="Open the case at the meeting").click()
        page.get_by_role("group", name="The panel's grade").get_by_label(["Green", "Amber", "Red"][index % 3]).check()
        page.get_by_label("The panel's finding").fill(f"Case {case.pk}: the warning came late.")
        page.get_by_role("group", name="Themes").get_by_label(["Communication", "De-escalation", "Recording"][
            (index + meeting.held_on.month) % 3]).check()  # fmt: skip
        page.get_by_label("Send to the force for feedback").check()
        page.get_by_role("button", name="Record the panel's finding").click()
        assert page.get_by_role("status").first.inner_text() == "The panel's finding is recorded."
