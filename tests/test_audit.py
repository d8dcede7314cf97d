"""The audit trail: every create, change and delete of the records that matter, with who, when and the
values before and after; PCC staff read their force's trails; nobody changes them; an access request
gets everything held about a report."""

import datetime
import json

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from forces.models import CapabilityRecord, UpliftDecision
from incidents.imports.pipeline import import_reports
from incidents.models import CedLevel, UseOfForceReport
from scrutiny.models import ForceResponse, Review
from tests.factories import (
    ActionFactory,
    CedUseFactory,
    FindingFactory,
    ForceResponseFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
)
from tests.incidents.test_import_uof import met_file, row


def entries_of(record):
    return list(LogEntry.objects.get_for_object(record).order_by("timestamp", "pk"))


def made(kind, oxford, user):
    """A record of each audited kind, and a change to make to it: (record, field, new value)."""
    if kind == "report":
        return ReportFactory(area=oxford), "subject_age", "18_34"
    if kind == "ced use":
        report = ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
        return CedUseFactory(report=report, ced_fired=True), "cycles", 3
    if kind == "capability record":
        record = CapabilityRecord.objects.create(
            force=oxford.force, as_of=datetime.date(2025, 1, 1), device_model="x2", devices_in_service=10,
            officers_trained=20, source="Force return",
        )  # fmt: skip
        return record, "devices_in_service", 12
    if kind == "uplift decision":
        return (
            UpliftDecision.objects.create(force=oxford.force, decided_on=datetime.date(2024, 1, 5)),
            "decision",
            "Uplift",
        )
    finding = FindingFactory(sampled_case__report=ReportFactory(area=oxford))
    if kind == "review":
        member = PanelMemberFactory(panel=finding.sampled_case.sample.panel)
        return ReviewFactory(sampled_case=finding.sampled_case, member=member), "learning_points", "Warn sooner"
    if kind == "finding":
        return finding, "summary", "Proportionate"
    if kind == "force response":
        return ForceResponseFactory(finding=finding, responded_by=user), "response", "Briefed the teams"
    return ActionFactory(finding=finding), "owner", "Head of training"


KINDS = ["report", "ced use", "capability record", "uplift decision", "review", "finding", "force response", "action"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_create_change_and_delete_is_recorded_with_who_when_and_values_before_and_after(
    kind, oxford, force_data_officer
):
    with set_actor(force_data_officer):
        record, field, value = made(kind, oxford, force_data_officer)
        before = getattr(record, field)
        setattr(record, field, value)
        record.save()
        pk = record.pk
        record.delete()

    entries = list(
        LogEntry.objects.filter(content_type__model=type(record)._meta.model_name, object_id=pk).order_by("pk")
    )
    assert [entry.action for entry in entries] == [
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
        LogEntry.Action.DELETE,
    ]
    assert all(entry.actor == force_data_officer and entry.timestamp for entry in entries)
    assert entries[1].changes_dict[field] == [str(before), str(value)]
    assert entries[2].changes_dict[field][0] == str(value)  # a deletion keeps the values it took away


def test_a_change_made_on_a_page_names_who_made_it_and_from_where(client, pcc_staff, oxford):
    finding = FindingFactory(sampled_case__report=ReportFactory(area=oxford))
    client.force_login(pcc_staff)
    client.post(
        f"/scrutiny/findings/{finding.pk}/",
        {"do": "action", "description": "Brief the teams", "owner": "Training", "due_on": "2099-01-31"},
        REMOTE_ADDR="203.0.113.9",
    )
    entry = LogEntry.objects.get(content_type__model="action", action=LogEntry.Action.CREATE)
    assert (entry.actor, entry.remote_addr) == (pcc_staff, "203.0.113.9")
    assert entry.changes_dict["description"][1] == "Brief the teams"


def test_an_upload_with_an_api_token_names_the_tokens_user(
    client, force_data_officer, oxford, token_key, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    key = token_key(force_data_officer, access="read_write")
    with open(met_file(tmp_path / "uof.csv", [row(Borough="Oxford")]), "rb") as handle:
        response = client.post(
            "/api/v1/imports/", {"file": handle, "force": "thames-valley"}, HTTP_AUTHORIZATION=f"Bearer {key}"
        )
    assert response.status_code == 202, response.content
    created = LogEntry.objects.get(content_type__model="importbatch", action=LogEntry.Action.CREATE)
    assert created.actor == force_data_officer


def test_reports_written_in_bulk_are_recorded_by_their_import_not_one_by_one(oxford, force_data_officer, tmp_path):
    batch = import_reports(met_file(tmp_path / "uof.csv", [row(Borough="Oxford")] * 1), oxford.force,
                           user=force_data_officer)  # fmt: skip
    report = UseOfForceReport.objects.get()
    assert entries_of(report) == []
    assert report.import_batch == batch and batch.uploaded_by == force_data_officer
    statuses = [entry.changes_dict.get("status", [None, None])[1] for entry in entries_of(batch)]
    assert "succeeded" in statuses


def test_pcc_staff_read_the_trail_of_their_forces_report_with_its_devices_and_its_import(
    client, pcc_staff, force_data_officer, oxford, tmp_path
):
    import_reports(met_file(tmp_path / "uof.csv", [row(Borough="Oxford")]), oxford.force, user=force_data_officer)
    report = UseOfForceReport.objects.get()
    with set_actor(force_data_officer):
        report.subject_age = "50_64"
        report.ced_drawn = True
        report.save()
        CedUseFactory(report=report, device_number=4, ced_drawn=True, cycles=4)
    client.force_login(pcc_staff)
    page = client.get(f"/audit/reports/{report.pk}/").content.decode()
    assert "force_data_officer_thames-valley" in page
    assert "subject_age" in page and "50_64" in page
    assert "ced use" in page and "cycles" in page  # the device's entry is in its report's trail
    assert f"/reports/imports/{report.import_batch_id}/" in page
    assert "uof.csv" in page


def test_the_trail_has_no_page_to_change_it_and_the_database_refuses_to(client, pcc_staff, oxford):
    with set_actor(pcc_staff):
        report = ReportFactory(area=oxford)
    entry = entries_of(report)[0]
    client.force_login(pcc_staff)
    assert client.post(f"/audit/reports/{report.pk}/").status_code == 405
    with pytest.raises(IntegrityError, match="audit_trail_is_append_only"), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes={"subject_age": ["x", "y"]})
    if connection.vendor == "postgresql":  # SQLite guards changes only (see oversight/triggers.py)
        with pytest.raises(IntegrityError, match="audit_trail_is_append_only"), transaction.atomic():
            LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.filter(pk=entry.pk, changes=entry.changes).exists()


def test_a_deleted_users_entries_stay_with_their_email_address(oxford, django_user_model):
    user = django_user_model.objects.create_user("leaver", email="leaver@example.org", password="a-long-password")
    with set_actor(user):
        report = ReportFactory(area=oxford)
    user.delete()
    entry = entries_of(report)[0]
    assert (entry.actor, entry.actor_email) == (None, "leaver@example.org")


def test_only_superusers_read_the_trail_in_the_admin_and_none_may_change_it(client, superuser, pcc_staff, oxford):
    with set_actor(superuser):
        entry = entries_of(ReportFactory(area=oxford))[0]
    client.force_login(pcc_staff)
    assert client.get("/admin/auditlog/logentry/").status_code == 403
    client.force_login(superuser)
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200  # shown read-only
    assert client.post(f"/admin/auditlog/logentry/{entry.pk}/change/", {}).status_code == 403
    assert client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403


def test_pcc_staff_do_not_read_another_forces_trail(client, pcc_staff, lambeth):
    report = ReportFactory(area=lambeth)
    client.force_login(pcc_staff)
    assert client.get(f"/audit/reports/{report.pk}/").status_code == 404
    assert client.get(f"/audit/reports/{report.pk}/export/").status_code == 404


def test_the_trail_of_a_review_is_shown_only_once_it_is_submitted(client, pcc_staff, oxford):
    finding = FindingFactory(sampled_case__report=ReportFactory(area=oxford))
    member = PanelMemberFactory(panel=finding.sampled_case.sample.panel)
    review = ReviewFactory(sampled_case=finding.sampled_case, member=member)
    client.force_login(pcc_staff)
    assert client.get(f"/audit/reviews/{review.pk}/").status_code == 404  # a draft is the member's own
    Review.objects.filter(pk=review.pk).update(status="submitted", submitted_at=datetime.datetime.now(datetime.UTC))
    assert client.get(f"/audit/reviews/{review.pk}/").status_code == 200


# --- everything held about one report -------------------------------------------------------------


@pytest.fixture
def reviewed_report(oxford, force_data_officer):
    with set_actor(force_data_officer):
        report = ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED], officer_reference="TV-4471")
        CedUseFactory(report=report, ced_fired=True, cycles=2)
        report.subject_gender = "female"
        report.save()
    finding = FindingFactory(sampled_case__report=report, summary="Warning given late")
    member = PanelMemberFactory(panel=finding.sampled_case.sample.panel)
    ReviewFactory(
        sampled_case=finding.sampled_case, member=member, learning_points="Submitted view", status="submitted"
    )
    ReviewFactory(sampled_case=finding.sampled_case, member=PanelMemberFactory(panel=member.panel),
                  learning_points="A draft", status="draft")  # fmt: skip
    ForceResponse.objects.create(finding=finding, responded_by=force_data_officer, response="Briefed")
    ActionFactory(finding=finding, description="Refresh training")
    return report


def test_pcc_staff_download_everything_held_about_a_report_and_the_download_is_logged(
    client, pcc_staff, reviewed_report
):
    client.force_login(pcc_staff)
    response = client.get(f"/audit/reports/{reviewed_report.pk}/export/")
    assert response["Content-Disposition"] == f'attachment; filename="report-{reviewed_report.pk}.json"'
    held = json.loads(response.content)
    assert held["report"]["subject_gender"] == "female"
    assert [use["cycles"] for use in held["ced_uses"]] == [2]
    [case] = held["scrutiny"]
    assert case["finding"]["summary"] == "Warning given late"
    assert [review["learning_points"] for review in case["reviews"]] == ["Submitted view"]  # drafts are members'
    assert [r["response"] for r in case["responses"]] == ["Briefed"]
    assert [a["description"] for a in case["actions"]] == ["Refresh training"]
    assert {entry["action"] for entry in held["audit_trail"]} == {"create", "update"}
    assert LogEntry.objects.filter(object_id=reviewed_report.pk, action=LogEntry.Action.ACCESS,
                                   actor=pcc_staff).exists()  # fmt: skip


def test_the_export_command_writes_everything_drafts_included(reviewed_report, tmp_path, capsys):
    path = tmp_path / "held.json"
    call_command("export_report", str(reviewed_report.pk), "--output", str(path))
    held = json.loads(path.read_text())
    assert sorted(r["learning_points"] for r in held["scrutiny"][0]["reviews"]) == ["A draft", "Submitted view"]
    assert held["provenance"]["data_version"] == reviewed_report.data_version


def test_the_export_command_refuses_an_unknown_report_in_one_line(db):
    with pytest.raises(CommandError, match="No report 999999"):
        call_command("export_report", "999999")


def test_the_models_the_trail_covers_are_the_ones_the_issue_names():
    from audit.apps import AUDITED

    assert {"incidents.UseOfForceReport", "incidents.CedUse", "forces.CapabilityRecord", "scrutiny.Review",
            "scrutiny.Finding", "scrutiny.ForceResponse", "scrutiny.Action"} <= set(AUDITED)  # fmt: skip
