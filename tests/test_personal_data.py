"""Personal data: an officer's reference and a device's serial number (which names the officer it was
issued to) reach only the force's roles; a subject is described only by the national form's categories."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.models import CedLevel
from incidents.summaries import rebuild_summaries
from scrutiny.models import PanelMember
from tests.factories import (
    CaseSampleFactory,
    CedUseFactory,
    FindingFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)

OFFICER = "TV-OFFICER-4471"
SERIAL = "SN-X2-998877"


@pytest.fixture
def reviewed_case(oxford, panel_member, panel_chair):
    """A fired Taser report with an officer reference and a device serial, reviewed by a panel and published."""
    report = ReportFactory(area=oxford, occurred_on=datetime.date(2025, 5, 3), officer_reference=OFFICER,
                           ced_levels=[CedLevel.FIRED])  # fmt: skip
    CedUseFactory(report=report, ced_fired=True, serial_number=SERIAL, device_model="x2")
    panel = PanelFactory(force=oxford.force)
    member = PanelMemberFactory(user=panel_member, panel=panel)
    PanelMemberFactory(user=panel_chair, panel=panel, role=PanelMember.Role.CHAIR)
    meeting = MeetingFactory(panel=panel, held_on=timezone.localdate())
    case = SampledCaseFactory(sample=CaseSampleFactory(panel=panel, meeting=meeting), report=report,
                              opened_at_meeting_at=timezone.now())  # fmt: skip
    ReviewFactory(sampled_case=case, member=member, status="submitted", learning_points="Warning given")
    FindingFactory(sampled_case=case, published=True, published_at=timezone.now())
    rebuild_summaries(force_ids=["thames-valley"])
    return case


def body(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


def pages_of(case):
    panel, sample = case.sample.panel, case.sample
    return {
        "panel_member": [
            "/scrutiny/cases/", f"/scrutiny/cases/{case.pk}/", f"/scrutiny/samples/{sample.pk}/",
            f"/scrutiny/panels/{panel.pk}/quarterly/2025-04/",
            f"/scrutiny/panels/{panel.pk}/quarterly/2025-04/?format=csv",
            f"/reports/{case.report_id}/", "/api/v1/samples/", "/api/v1/samples/?format=csv", "/api/v1/reviews/",
            "/api/v1/findings/?format=csv", f"/audit/reports/{case.report_id}/",
        ],
        "panel_chair": [
            f"/scrutiny/cases/{case.pk}/meeting/", f"/scrutiny/meetings/{sample.meeting_id}/",
            f"/scrutiny/samples/{sample.pk}/?redraw=1",
        ],
        "anonymous": [
            "/public/thames-valley/", "/public/thames-valley/?chart=use-by-area&format=csv",
            "/scrutiny/public/thames-valley/", "/api/v1/published-findings/", "/api/v1/published-findings/?format=csv",
            "/api/v1/summaries/?force=thames-valley", "/api/v1/reports/",
        ],
        "pcc_staff": [
            "/forces/thames-valley/", "/forces/thames-valley/?chart=use-by-area&format=csv",
            f"/scrutiny/findings/{case.finding.pk}/",
        ],
    }  # fmt: skip


def test_officer_references_and_serial_numbers_never_reach_panels_or_the_public(
    reviewed_case, panel_member, panel_chair, pcc_staff
):
    users = {"panel_member": panel_member, "panel_chair": panel_chair, "pcc_staff": pcc_staff}
    shown = {}
    for role, paths in pages_of(reviewed_case).items():
        client = Client()
        if role in users:
            client.force_login(users[role])
        for path in paths:
            response = client.get(path, follow=True)
            text = body(response)
            if OFFICER in text or SERIAL in text:
                shown[f"{role} {path}"] = response.status_code
    assert shown == {}


def test_panel_members_see_the_officer_by_a_pseudonym(reviewed_case, client, panel_member):
    client.force_login(panel_member)
    text = body(client.get(f"/scrutiny/cases/{reviewed_case.pk}/"))
    assert "Officer " in text and OFFICER not in text


@pytest.mark.parametrize("role", ["force_data_officer", "pcc_staff", "api_client_user"])
def test_the_forces_roles_read_the_officer_reference_and_serial_in_the_record(reviewed_case, client, request, role):
    client.force_login(request.getfixturevalue(role))
    text = body(client.get(f"/api/v1/reports/{reviewed_case.report_id}/"))
    assert OFFICER in text and SERIAL in text


def test_a_subject_is_described_only_by_the_forms_categories_on_import(thames_valley, tmp_path):
    path = tmp_path / "uof.csv"
    path.write_text("source_key,occurred_on,subject_ethnicity,subject_ethnicity_source\n"
                    "K1,2025-01-05,asian,Chinese\n"
                    "K2,2025-01-06,white,Mr J. Smith of 4 High Street\n")  # fmt: skip
    with pytest.raises(ImportFailed) as failed:
        import_reports(path, thames_valley)
    assert [error for error in failed.value.batch.errors if "ethnicity_source" in error] == [
        "row 3, subject_ethnicity_source: 'Mr J. Smith of 4 High Street' is not an ethnic group of a published "
        "edition (e.g. Chinese)"
    ]
