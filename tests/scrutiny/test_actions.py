"""The force answers findings; PCC staff turn them into actions that move open → in progress → closed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from scrutiny.models import Action, ActionUpdate, ForceResponse
from scrutiny.queries import overdue_actions
from scrutiny.services import create_action, respond_to_finding, update_action
from tests.factories import ActionFactory, FindingFactory, ReportFactory, SampledCaseFactory

TODAY = timezone.localdate()


@pytest.fixture
def finding(case):
    return FindingFactory(sampled_case=case)


def test_the_force_data_officer_answers_a_finding_sent_for_feedback(client, finding, force_data_officer):
    client.force_login(force_data_officer)
    page = client.get("/scrutiny/responses/")
    assert page.context["awaiting"] == [finding]
    response = client.post(
        f"/scrutiny/findings/{finding.pk}/", {"do": "respond", "response": "Briefing issued.", "position": "partly"}
    )
    assert response.status_code == 302
    answer = ForceResponse.objects.get(finding=finding)
    assert (answer.response, answer.position, answer.responded_by) == ("Briefing issued.", "partly", force_data_officer)
    assert client.get("/scrutiny/responses/").context["answered"] == [finding]


def test_a_finding_kept_by_the_panel_gets_no_response(case, force_data_officer):
    kept = FindingFactory(sampled_case=case, for_force_feedback=False)
    with pytest.raises(ValidationError, match="did not send this finding to the force"):
        respond_to_finding(finding=kept, user=force_data_officer, response="Noted", position="accepted")


def test_an_action_moves_open_in_progress_closed_and_every_step_is_dated(client, finding, pcc_staff):
    client.force_login(pcc_staff)
    due = (TODAY + datetime.timedelta(days=30)).isoformat()
    data = {"do": "action", "description": "Refresh warnings briefing", "owner": "Head of training", "due_on": due}
    response = client.post(f"/scrutiny/findings/{finding.pk}/", data)
    action = Action.objects.get(finding=finding)
    assert response.url == f"/scrutiny/actions/{action.pk}/"
    assert action.status == "open"
    client.post(f"/scrutiny/actions/{action.pk}/", {"status": "in_progress", "note": "Course booked"})
    page = client.post(f"/scrutiny/actions/{action.pk}/", {"status": "closed"})
    assert "evidence: say what shows the action is done" in str(page.context["form"].non_field_errors())
    client.post(f"/scrutiny/actions/{action.pk}/", {"status": "closed", "evidence": "Attendance list of 12 May"})
    action.refresh_from_db()
    assert (action.status, action.evidence) == ("closed", "Attendance list of 12 May")
    assert action.closed_at is not None
    steps = list(ActionUpdate.objects.filter(action=action).values_list("status_from", "status_to", "updated_by"))
    assert steps == [
        ("", "open", pcc_staff.pk), ("open", "in_progress", pcc_staff.pk), ("in_progress", "closed", pcc_staff.pk),
    ]  # fmt: skip
    assert all(update.updated_at for update in action.updates.all())
    assert client.get(f"/scrutiny/actions/{action.pk}/").context["form"] is None  # closed stays closed


def test_an_action_never_moves_back_and_a_closed_one_stays_closed(finding, pcc_staff):
    action = create_action(finding=finding, user=pcc_staff, description="Brief", owner="Training", due_on=TODAY)
    update_action(action=action, user=pcc_staff, status="in_progress")
    with pytest.raises(ValidationError, match="an action in progress moves only to closed"):
        update_action(action=action, user=pcc_staff, status="open")
    update_action(action=action, user=pcc_staff, status="closed", evidence="Done")
    with pytest.raises(ValidationError, match="was closed on"):
        update_action(action=action, user=pcc_staff, status="closed", note="More")


def test_a_note_without_a_status_change_is_kept_as_a_dated_step(finding, pcc_staff):
    action = create_action(finding=finding, user=pcc_staff, description="Brief", owner="Training", due_on=TODAY)
    update_action(action=action, user=pcc_staff, status="open", note="Waiting for the trainer")
    with pytest.raises(ValidationError, match="note: say what has happened"):
        update_action(action=action, user=pcc_staff, status="open")
    assert list(action.updates.values_list("note", flat=True)) == ["Opened.", "Waiting for the trainer"]


def test_an_action_due_in_the_past_is_refused(finding, pcc_staff):
    yesterday = TODAY - datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="has passed"):
        create_action(finding=finding, user=pcc_staff, description="Brief", owner="Training", due_on=yesterday)


def test_the_database_refuses_a_closed_action_without_evidence(finding):
    with pytest.raises(IntegrityError, match="closed_action_has_evidence"), transaction.atomic():
        ActionFactory(finding=finding, status="closed", closed_at=timezone.now(), evidence="")


def test_overdue_actions_are_those_not_closed_after_their_due_date(finding, lambeth, thames_valley):
    late = ActionFactory(finding=finding, due_on=TODAY - datetime.timedelta(days=3))
    later = ActionFactory(finding=finding, due_on=TODAY - datetime.timedelta(days=1), status="in_progress")
    ActionFactory(finding=finding, due_on=TODAY)  # due today: not yet overdue
    closed = {"status": "closed", "closed_at": timezone.now(), "evidence": "Done"}
    ActionFactory(finding=finding, due_on=TODAY - datetime.timedelta(days=9), **closed)
    met_case = SampledCaseFactory(report=ReportFactory(area=lambeth), sample__panel__force=lambeth.force)
    ActionFactory(finding=FindingFactory(sampled_case=met_case), due_on=TODAY - datetime.timedelta(days=5))
    assert list(overdue_actions(force=thames_valley)) == [late, later]
    assert list(overdue_actions(force=thames_valley, on=TODAY - datetime.timedelta(days=2))) == [late]


def test_the_tracker_flags_overdue_actions_and_findings_still_without_one(client, case, pcc_staff):
    overdue = ActionFactory(finding__sampled_case=case, due_on=TODAY - datetime.timedelta(days=1))
    waiting = FindingFactory(
        sampled_case=SampledCaseFactory(sample=case.sample, report=ReportFactory(area=case.report.area))
    )
    client.force_login(pcc_staff)
    page = client.get("/scrutiny/actions/")
    assert page.context["overdue"] == [overdue]
    assert list(page.context["awaiting"]) == [waiting]
    assert b"1 action overdue" in page.content


def test_the_force_data_officer_updates_the_forces_actions_and_each_step_is_theirs(client, finding, force_data_officer):
    action = ActionFactory(finding=finding)
    client.force_login(force_data_officer)
    assert client.get(f"/scrutiny/actions/{action.pk}/").context["form"] is not None
    response = client.post(f"/scrutiny/actions/{action.pk}/", {"status": "closed", "evidence": "Briefing note 14/26"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.evidence) == ("closed", "Briefing note 14/26")
    assert action.updates.get(status_to="closed").updated_by == force_data_officer


def test_pcc_staff_publish_a_finding_with_the_date(client, finding, pcc_staff):
    client.force_login(pcc_staff)
    client.post(f"/scrutiny/findings/{finding.pk}/", {"do": "publish"})
    finding.refresh_from_db()
    assert finding.published and finding.published_at is not None
    client.post(f"/scrutiny/findings/{finding.pk}/", {"do": "withdraw"})
    finding.refresh_from_db()
    assert not finding.published and finding.published_at is None
