"""Every page a role can reach, in headless Chromium at a laptop's width and a phone's: nothing makes the page
wider than the screen, and axe-core (the standard accessibility engine) finds no WCAG 2.2 A or AA violation."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from incidents.models import CedLevel
from tests.factories import CedUseFactory, ReportFactory
from tests.test_browser import a_year_of_taser_use, sign_in  # noqa: F401 - a fixture shared with them

pytestmark = pytest.mark.browser

WIDTHS = {"laptop": 1366, "phone": 390}
WCAG_22_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()
# The error pages are pages too: another force's dashboard, and an address that is nothing.
REFUSED = {"/forces/metropolitan/": 403, "/no-such-page/": 404}
# Pages that draw themselves from a further request: judged once drawn, and left only then (a request
# still running would hold the test database when it is emptied). Swagger UI fetches /api/schema/.
DRAWN = {"/api/docs/": ".swagger-ui .opblock"}


@pytest.fixture
def world(a_year_of_taser_use, oxford, pcc_staff, panel_member, panel_chair, forces):  # noqa: F811
    """Records, published figures, a quarterly report and the panels' work: something on every page."""
    from django.utils import timezone

    from dashboards.services import build_quarterly_report
    from forces.models import Force
    from incidents.models import ImportBatch
    from scrutiny.models import PanelMember
    from scrutiny.services import draw_sample
    from tests.dashboards.test_reconciliation import publish
    from tests.factories import ActionFactory, FindingFactory, MeetingFactory, PanelFactory, PanelMemberFactory

    for force_id, total in (("thames-valley", 1037), ("kent", 812)):
        publish(Force.objects.get(pk=force_id), "2024/25", use_of_force_total=17_532, ced_total=total,
                ced_discharge=150, ced_fired=123)  # fmt: skip
    report = a_year_of_taser_use["fired"]
    quarterly = build_quarterly_report(force_id="thames-valley", quarter=datetime.date(2025, 4, 1))
    panel = PanelFactory(force=oxford.force, name="Thames Valley Taser scrutiny panel", rubric=["Warning given?"])
    PanelMemberFactory(user=panel_member, panel=panel)
    PanelMemberFactory(user=panel_chair, panel=panel, role=PanelMember.Role.CHAIR)
    meeting = MeetingFactory(panel=panel, held_on=timezone.localdate())
    for _ in range(2):
        CedUseFactory(report=ReportFactory(area=oxford, occurred_on=datetime.date(2025, 5, 3),
                                           ced_levels=[CedLevel.FIRED]), ced_fired=True)  # fmt: skip
    sample = draw_sample(meeting=meeting, rule="all_discharges", user=pcc_staff,
                         starts_on=datetime.date(2025, 4, 1), ends_on=datetime.date(2025, 6, 30))  # fmt: skip
    case = sample.cases.first()
    finding = FindingFactory(sampled_case=case, summary="Warning given late.")
    action = ActionFactory(finding=finding, description="Brief officers on early warnings.",
                           due_on=timezone.localdate() + datetime.timedelta(days=30))  # fmt: skip
    batch = ImportBatch.objects.create(
        force=oxford.force, data_version=99, source_name="tv-use-of-force-2025-with-a-long-file-name.csv",
        source_format=ImportBatch.Format.CANONICAL, status=ImportBatch.Status.FAILED, rows_read=3, rows_rejected=1,
        errors=["Row 3, field subject_age: '200' is not one of the form's age bands; nothing was imported."],
    )  # fmt: skip
    return {
        "batch": batch, "report": report, "area": oxford, "quarterly": quarterly, "panel": panel, "meeting": meeting,
        "sample": sample, "case": case, "finding": finding, "action": action,
    }  # fmt: skip


def pages_of(role, world):
    """The pages the role reaches from the navigation and the links of these pages."""
    tv = "/forces/thames-valley"
    if role == "visitor":
        return ["/", "/public/", "/public/thames-valley/", "/public/kent/", "/counting-rules/", "/accounts/login/",
                "/scrutiny/public/thames-valley/", "/no-such-page/"]  # fmt: skip
    if role == "pcc_staff":
        return [
            f"{tv}/", f"{tv}/areas/", f"{tv}/areas/{world['area'].code}/", f"{tv}/reconciliation/", "/compare/",
            f"{tv}/quarterly/", f"{tv}/quarterly/{world['quarterly'].pk}/", "/reports/",
            f"/reports/{world['report'].pk}/", f"/audit/reports/{world['report'].pk}/", "/reports/imports/",
            "/scrutiny/", "/scrutiny/panels/", f"/scrutiny/panels/{world['panel'].pk}/",
            f"/scrutiny/meetings/{world['meeting'].pk}/", f"/scrutiny/samples/{world['sample'].pk}/",
            f"/scrutiny/findings/{world['finding'].pk}/", "/scrutiny/actions/",
            f"/scrutiny/actions/{world['action'].pk}/", "/account/tokens/", "/forces/metropolitan/",
            "/scrutiny/forces/thames-valley/annual/2025/", "/scrutiny/public/thames-valley/annual/2025/",
        ]  # fmt: skip
    if role == "panel_member":
        return ["/scrutiny/", "/scrutiny/cases/", f"/scrutiny/cases/{world['case'].pk}/"]
    if role == "panel_chair":
        return [f"/scrutiny/meetings/{world['meeting'].pk}/", f"/scrutiny/cases/{world['case'].pk}/meeting/"]
    if role == "force_data_officer":
        return [
            "/reports/imports/", f"/reports/imports/{world['batch'].pk}/", "/scrutiny/responses/",
            f"/scrutiny/findings/{world['finding'].pk}/",
        ]  # fmt: skip
    return ["/account/tokens/", "/api/docs/"]  # an API client


def overflow(page):
    """How far the page is wider than the screen, in pixels, and the widest elements that make it so."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wider = [...document.querySelectorAll("body *")]
            .filter(element => element.getBoundingClientRect().right > width + 1)
            .slice(0, 5).map(element => element.tagName.toLowerCase() + "." + element.className);
          return [document.documentElement.scrollWidth - width, wider];
        }"""
    )


def violations(page):
    # Passes and incomplete checks are not gathered: the page is judged by its violations alone, and axe-core
    # says leaving the rest out is what makes large pages (the dashboard's charts) quick to check.
    options = {"runOnly": {"type": "tag", "values": WCAG_22_A_AA}, "resultTypes": ["violations"]}
    results = AXE.run(page, options=options)
    return [(v["id"], v["help"], [node["target"] for node in v["nodes"][:3]]) for v in results.response["violations"]]


@pytest.mark.parametrize(
    "role", ["visitor", "pcc_staff", "panel_member", "panel_chair", "force_data_officer", "api_client"]
)
def test_every_page_a_role_reaches_fits_the_screen_and_passes_axe(browser, live_server, world, role, request):
    problems = {}
    for screen, width in WIDTHS.items():  # one world for both screens: it takes longer to make than to read
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        if role != "visitor":
            user = request.getfixturevalue("api_client_user" if role == "api_client" else role)
            sign_in(page, live_server, user)
        for path in pages_of(role, world):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == REFUSED.get(path, 200), (screen, path)
            # Charts draw after load; a page is judged as its reader sees it.
            page.locator(".chart-plot:not([data-drawn])").first.wait_for(state="detached", timeout=30_000)
            if path in DRAWN:
                page.locator(DRAWN[path]).first.wait_for(timeout=60_000)
            extra, wider = overflow(page)
            found = violations(page)
            if extra > 0 or found:
                problems[screen, path] = {"wider by": extra, "elements": wider, "axe": found}
        context.close()
    assert problems == {}
