"""Answers the force owes: a position and a due day per finding, actions the force updates, and the people
concerned told (e-mail and their own page) of cases drawn, findings sent, responses due and overdue,
and actions overdue."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import CedLevel
from scrutiny.models import CaseSample, Finding, Notification
from scrutiny.services import draw_sample, open_case_at_meeting, record_finding, respond_to_finding
from scrutiny.tasks import send_reminders
from tests.factories import (
    ActionFactory,
    FindingFactory,
    ForceResponseFactory,
    PanelMemberFactory,
    ReportFactory,
    SampledCaseFactory,
)

TODAY = timezone.localdate()


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save()


def kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_a_finding_sent_to_the_force_is_due_in_the_set_days_and_its_data_officers_are_told(
    case, member, chair, panel_chair, force_data_officer, django_capture_on_commit_callbacks
):
    with_email(force_data_officer)
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    with django_capture_on_commit_callbacks(execute=True):
        finding = record_finding(case=case, user=panel_chair, panel_grade="Amber", summary="Late warning",
                                 for_force_feedback=True)  # fmt: skip
    assert finding.response_due_on == TODAY + datetime.timedelta(days=settings.SCRUTINY_RESPONSE_DAYS)
    assert kinds(force_data_officer) == [Notification.Kind.FINDING_SENT]
    [message] = mail.outbox
    assert message.to == [force_data_officer.email] and f"/scrutiny/findings/{finding.pk}/" in message.body


def test_a_finding_the_panel_keeps_has_no_due_day_and_tells_nobody(case, chair, panel_chair, force_data_officer):
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    finding = record_finding(case=case, user=panel_chair, panel_grade="Green", summary="Fine")
    assert finding.response_due_on is None and not Notification.objects.exists()


def test_drawn_cases_are_told_to_the_panels_members_who_may_review(
    meeting, oxford, member, panel_member, django_capture_on_commit_callbacks
):
    lapsed = PanelMemberFactory(panel=meeting.panel, vetted_on=None)
    with_email(panel_member, lapsed.user)
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED], occurred_on=TODAY - datetime.timedelta(days=3))
    period = {"starts_on": TODAY - datetime.timedelta(days=30), "ends_on": TODAY}
    with django_capture_on_commit_callbacks(execute=True):
        draw_sample(meeting=meeting, rule=CaseSample.Rule.ALL_DISCHARGES, **period)
        draw_sample(meeting=meeting, rule=CaseSample.Rule.CHILDREN_OR_MENTAL_HEALTH, **period)  # draws nothing
    assert kinds(panel_member) == [Notification.Kind.CASES_DRAWN] and kinds(lapsed.user) == []
    assert [message.to for message in mail.outbox] == [[panel_member.email]]


def test_nothing_is_e_mailed_for_a_write_that_is_rolled_back(case, chair, panel_chair, force_data_officer):
    with_email(force_data_officer)
    open_case_at_meeting(case=case, user=panel_chair, despite_outstanding=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_finding(case=case, user=panel_chair, panel_grade="Amber", summary="Late", for_force_feedback=True)
        raise RuntimeError("the request failed after the finding was written")
    assert (mail.outbox, list(Notification.objects.all())) == ([], [])


def test_the_daily_reminders_tell_of_responses_due_and_overdue_and_actions_overdue_once(
    case, pcc_staff, force_data_officer
):
    due_soon = FindingFactory(sampled_case=case, response_due_on=TODAY + datetime.timedelta(days=3))
    overdue = FindingFactory(sampled_case=SampledCaseFactory(sample=case.sample),
                             response_due_on=TODAY - datetime.timedelta(days=1))  # fmt: skip
    answered = FindingFactory(sampled_case=SampledCaseFactory(sample=case.sample),
                              response_due_on=TODAY - datetime.timedelta(days=9))  # fmt: skip
    ForceResponseFactory(finding=answered)
    FindingFactory(sampled_case=SampledCaseFactory(sample=case.sample),
                   response_due_on=TODAY + datetime.timedelta(days=20))  # not yet  # fmt: skip
    late_action = ActionFactory(finding=due_soon, due_on=TODAY - datetime.timedelta(days=2))
    ActionFactory(finding=due_soon, due_on=TODAY + datetime.timedelta(days=2))
    sent = send_reminders()
    officer = set(Notification.objects.filter(user=force_data_officer).values_list("kind", "link"))
    assert officer == {
        (Notification.Kind.RESPONSE_DUE, f"/scrutiny/findings/{due_soon.pk}/"),
        (Notification.Kind.RESPONSE_OVERDUE, f"/scrutiny/findings/{overdue.pk}/"),
        (Notification.Kind.ACTION_OVERDUE, f"/scrutiny/actions/{late_action.pk}/"),
    }
    staff = set(Notification.objects.filter(user=pcc_staff).values_list("kind", flat=True))
    assert staff == {Notification.Kind.RESPONSE_OVERDUE, Notification.Kind.ACTION_OVERDUE}
    assert sent == Notification.objects.count() == 5
    assert send_reminders() == 0  # each reminder once
    assert Finding.objects.get(pk=answered.pk).responses.exists()


def test_the_reminders_run_each_day_on_the_beat():
    assert settings.CELERY_BEAT_SCHEDULE["scrutiny-reminders"]["task"] == send_reminders.name


def test_each_user_sees_their_own_notifications_only(client, case, pcc_staff, force_data_officer):
    FindingFactory(sampled_case=case, response_due_on=TODAY - datetime.timedelta(days=1))
    send_reminders()
    client.force_login(force_data_officer)
    page = client.get("/scrutiny/notifications/")
    assert [n.user for n in page.context["notifications"]] == [force_data_officer]
    assert "overdue" in page.content.decode()


def test_a_response_states_the_forces_position_and_the_finding_links_its_report(client, case, force_data_officer):
    finding = FindingFactory(sampled_case=case)
    with pytest.raises(ValidationError, match="position: 'maybe' is not one of accepted, partly, not_accepted"):
        respond_to_finding(finding=finding, user=force_data_officer, response="Hmm", position="maybe")
    respond_to_finding(finding=finding, user=force_data_officer, response="Training changed.", position="not_accepted")
    client.force_login(force_data_officer)
    content = client.get(f"/scrutiny/findings/{finding.pk}/").content.decode()
    assert "<strong>Not accepted</strong>" in content
    assert f'href="/reports/{case.report_id}/"' in content
