"""Every scrutiny model is in the admin; the panels' records (who watched what, who declared what, who attended,
what the force answered, what each user was told) are shown there and never added, changed or deleted."""

import pytest
from django.contrib import admin

from scrutiny.models import (
    Action,
    ActionUpdate,
    Attendance,
    Declaration,
    FootageClip,
    FootageViewing,
    ForceResponse,
    Notification,
    OfficerAccount,
)
from tests.factories import FootageClipFactory, ForceResponseFactory

RECORDS = (FootageViewing, OfficerAccount, Declaration, Attendance, Notification, ForceResponse, ActionUpdate)


def test_every_scrutiny_model_is_in_the_admin():
    from django.apps import apps

    missing = [model.__name__ for model in apps.get_app_config("scrutiny").get_models()
               if model not in admin.site._registry]  # fmt: skip
    assert missing == []


@pytest.fixture
def records(case, member, pcc_staff, force_data_officer):
    clip = FootageClipFactory(sampled_case=case, added_by=pcc_staff)
    meeting = case.sample.meeting
    rows = {
        FootageClip: clip,
        FootageViewing: FootageViewing.objects.create(clip=clip, member=member, watched="in_full"),
        OfficerAccount: OfficerAccount.objects.create(
            sampled_case=case, account="I drew", supplied_on=meeting.held_on, recorded_by=pcc_staff
        ),  # fmt: skip
        Declaration: Declaration.objects.create(
            sampled_case=case, meeting=meeting, member=member, interest="Neighbour"
        ),
        Attendance: Attendance.objects.create(meeting=meeting, member=member, status="present"),
        Notification: Notification.objects.create(user=pcc_staff, kind="cases_drawn", subject="Drawn", key="k"),
    }
    from tests.factories import FindingFactory

    finding = FindingFactory(sampled_case=case)
    rows[ForceResponse] = ForceResponseFactory(finding=finding, responded_by=force_data_officer)
    action = Action.objects.create(finding=finding, description="Brief", owner="Training", due_on=meeting.held_on)
    rows[ActionUpdate] = ActionUpdate.objects.create(action=action, status_to="open", updated_by=pcc_staff)
    return rows


def test_a_superuser_reads_the_records_and_cannot_change_add_or_delete_them(client, superuser, records):
    client.force_login(superuser)
    for model in RECORDS:
        row = records[model]
        base = f"/admin/scrutiny/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, model
        page = client.get(f"{base}{row.pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content, model
        assert client.post(f"{base}{row.pk}/change/", {}).status_code == 403, model
        assert client.get(f"{base}add/").status_code == 403, model
        assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403, model
        assert model.objects.filter(pk=row.pk).exists()


def test_only_a_clips_link_may_be_renewed_in_the_admin(client, superuser, records):
    clip = records[FootageClip]
    client.force_login(superuser)
    page = client.get(f"/admin/scrutiny/footageclip/{clip.pk}/change/").content.decode()
    assert 'name="link"' in page and 'name="clip_id"' not in page
    client.post(f"/admin/scrutiny/footageclip/{clip.pk}/change/",
                {"link": "https://dems.example/new", "link_expires_at_0": "", "link_expires_at_1": ""})  # fmt: skip
    clip.refresh_from_db()
    assert clip.link == "https://dems.example/new"
    assert client.get("/admin/scrutiny/footageclip/add/").status_code == 403


def test_pcc_staff_see_their_forces_responses_in_the_admin(client, pcc_staff, records):
    client.force_login(pcc_staff)
    page = client.get("/admin/scrutiny/forceresponse/")
    assert page.status_code == 200 and list(page.context["cl"].result_list) == [records[ForceResponse]]
