"""PCC staff set up panels, their scale and rubric, their members and meetings."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from forces.models import Role
from scrutiny.models import Meeting, Panel, PanelMember
from scrutiny.services import add_member, create_panel, update_panel
from tests.conftest import role_user
from tests.factories import FindingFactory


def test_pcc_staff_set_up_a_panel_with_a_custom_scale_and_a_rubric(client, pcc_staff, thames_valley):
    client.force_login(pcc_staff)
    data = {
        "name": "Community panel", "terms_of_reference": "Review a sample of Taser use each quarter.",
        "grading_scale": "custom", "custom_grades": "Exemplary\nAcceptable\nNeeds review\n",
        "rubric": "Camera activated before the Taser was drawn?\nWarning given?\n\n",
    }  # fmt: skip
    response = client.post("/scrutiny/panels/", data)
    panel = Panel.objects.get(name="Community panel")
    assert response.url == f"/scrutiny/panels/{panel.pk}/"
    assert panel.force == thames_valley
    assert panel.grades == ["Exemplary", "Acceptable", "Needs review"]
    assert panel.rubric == ["Camera activated before the Taser was drawn?", "Warning given?"]


@pytest.mark.parametrize(
    ("scale", "grades", "rubric", "message"),
    [
        ("custom", ["Only one"], [], "custom grades: give at least two different grades"),
        ("custom", ["Same", "Same"], [], "custom grades: give at least two different grades"),
        ("stars", [], [], "grading scale: 'stars' is not one of"),
        ("rag", [], ["Warning given?", "Warning given?"], "rubric: each question may appear once"),
    ],
)
def test_a_panel_with_a_bad_scale_or_rubric_is_refused(scale, grades, rubric, message, thames_valley):
    with pytest.raises(ValidationError, match=message):
        create_panel(force=thames_valley, name="P", grading_scale=scale, custom_grades=grades, rubric=rubric)


def test_the_lawful_justified_proportionate_scale_adds_its_checklist_to_the_rubric(thames_valley):
    panel = create_panel(force=thames_valley, name="P", grading_scale="ljp", rubric=["Warning given?"])
    assert panel.questions == ["Was the use lawful?", "Was it justified?", "Was it proportionate?", "Warning given?"]


def test_the_scale_cannot_change_once_cases_are_graded(panel, case):
    FindingFactory(sampled_case=case, panel_grade="Green")
    with pytest.raises(ValidationError, match="cases have been graded on this scale"):
        update_panel(panel, name=panel.name, terms_of_reference="", grading_scale="practice", custom_grades=[],
                     rubric=panel.rubric)  # fmt: skip
    update_panel(panel, name="Renamed", terms_of_reference="New", grading_scale="rag", custom_grades=[], rubric=[])
    panel.refresh_from_db()
    assert (panel.name, panel.rubric) == ("Renamed", [])


def test_members_are_the_forces_panel_member_logins_only(client, panel, pcc_staff, panel_member, metropolitan):
    met_member = role_user(Role.PANEL_MEMBER, metropolitan)
    client.force_login(pcc_staff)
    page = client.get(f"/scrutiny/panels/{panel.pk}/")
    assert list(page.context["member_form"].fields["user"].queryset) == [panel_member]
    with pytest.raises(ValidationError, match="is not a scrutiny panel member of Thames Valley Police"):
        add_member(panel=panel, user=met_member, term_starts_on=datetime.date(2025, 1, 1))
    with pytest.raises(ValidationError, match="is not a scrutiny panel member"):
        add_member(panel=panel, user=pcc_staff, term_starts_on=datetime.date(2025, 1, 1))


def test_pcc_staff_add_a_member_then_end_their_term_without_deleting_anything(client, panel, pcc_staff, panel_member):
    client.force_login(pcc_staff)
    data = {"do": "member", "user": panel_member.pk, "role": "chair", "term_starts_on": "2025-01-01",
            "vetted_on": "2025-01-10", "trained_on": "2025-01-20"}  # fmt: skip
    assert client.post(f"/scrutiny/panels/{panel.pk}/", data).status_code == 302
    member = PanelMember.objects.get(panel=panel, user=panel_member)
    assert (member.role, member.vetted_on) == ("chair", datetime.date(2025, 1, 10))
    data = {"role": "chair", "term_ends_on": "2024-12-31", "vetted_on": "2025-01-10", "trained_on": "2025-01-20"}
    page = client.post(f"/scrutiny/members/{member.pk}/", data)
    assert "is before the term starts" in str(page.context["form"].non_field_errors())
    client.post(f"/scrutiny/members/{member.pk}/", data | {"term_ends_on": "2025-12-31"})
    member.refresh_from_db()
    assert member.term_ends_on == datetime.date(2025, 12, 31)
    assert "term on" in member.barrier(on=datetime.date(2026, 1, 1))


def test_pcc_staff_schedule_a_meeting(client, panel, pcc_staff):
    client.force_login(pcc_staff)
    client.post(f"/scrutiny/panels/{panel.pk}/", {"do": "meeting", "held_on": "2026-03-04", "notes": "Room 2"})
    assert Meeting.objects.get(panel=panel).held_on == datetime.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("user", "destination"),
    [("pcc_staff", "/scrutiny/panels/"), ("panel_member", "/scrutiny/cases/"),
     ("force_data_officer", "/scrutiny/responses/")],
)  # fmt: skip
def test_the_scrutiny_link_leads_each_role_to_its_own_page(user, destination, client, request):
    client.force_login(request.getfixturevalue(user))
    assert client.get("/scrutiny/").url == destination
    assert b'href="/scrutiny/"' in client.get(destination).content
