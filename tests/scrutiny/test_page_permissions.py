"""Who may open and post to every scrutiny page: each page × role, with other panels' and forces' ids.

Callers: no sign-in; PCC staff, a member and the chair of panel A, a force data officer and an
API client of Thames Valley; a superuser. Panel B is another panel of Thames Valley; "other"
objects belong to the Metropolitan Police.
"""

import datetime
import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from forces.models import Role
from scrutiny.models import PanelMember
from tests.conftest import callers_by_name, make_lambeth, make_oxford, role_user, rows_for_a_module
from tests.factories import (
    ActionFactory,
    CaseSampleFactory,
    FindingFactory,
    FootageClipFactory,
    MeetingFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    SampledCaseFactory,
)

CALLERS = ("anonymous", "pcc_staff", "panel_member", "panel_chair", "force_data_officer", "api_client", "superuser")


def statuses(anonymous=302, pcc_staff=403, panel_member=403, panel_chair=403, force_data_officer=403, api_client=403,
             superuser=403):  # fmt: skip
    return dict(zip(CALLERS, (anonymous, pcc_staff, panel_member, panel_chair, force_data_officer, api_client,
                              superuser), strict=True))  # fmt: skip


def hidden(expected, *callers):
    """The same page for an object the callers may not know of: 404 where they would get 200."""
    return expected | {caller: 404 for caller in callers if expected[caller] == 200}


MEMBERS = {"panel_member": 200, "panel_chair": 200}
CHAIR = {"panel_chair": 200}
PCC_AND_FORCE_REDIRECTED = {"pcc_staff": 302, "superuser": 302, "force_data_officer": 302}
MEMBERS_REDIRECTED = {"panel_member": 302, "panel_chair": 302}
PCC = {"pcc_staff": 200, "superuser": 200}
FORCE = {"force_data_officer": 200}

CASE = statuses(**MEMBERS)
CASE_MEETING = statuses(**CHAIR)
MEETING = statuses(**PCC, **CHAIR)
SAMPLE = statuses(**PCC, **MEMBERS)
PANEL = statuses(**PCC)
FINDING = statuses(**PCC, **MEMBERS, **FORCE)
TRACKER = statuses(**PCC, **FORCE)
DRAW = {"do": "draw", "rule": "all_discharges", "starts_on": "2025-04-01", "ends_on": "2025-06-30"}
ADD_CASE = {"do": "add_case", "report": "{spare_report}", "reason": "A complaint from the public"}
WATCHED = {"do": "watched", "clip": "{clip}", "watched": "in_full"}
CLIP = {
    "do": "clip",
    "system": "DEMS",
    "clip_id": "X-1",
    "starts_at": "2025-06-15T22:04",
    "ends_at": "2025-06-15T22:10",
}
ACCOUNT = {"do": "account", "account": "I drew the Taser because...", "supplied_on": "2025-07-01"}
FOLLOW_UP = {"do": "follow_up", "case": "{case}", "note": "The camera was not switched on"}
WITHDRAW = {"do": "withdraw", "sample": "{empty_sample}"}
NEW_MEMBER = {"do": "new_member", "new-username": "new.member", "new-email": "n@example.org", "new-role": "member",
              "new-term_starts_on": "2026-01-01"}  # fmt: skip
DECLARE = {"do": "declare", "member": "{member}", "case": "{case}", "interest": "Knows the officer"}
QUORUM = {"do": "panel", "name": "Renamed", "grading_scale": "rag", "quorum": "3"}
RESPOND = {"do": "respond", "response": "Done", "position": "accepted"}
RAISE_ACTION = {"do": "action", "description": "Brief", "owner": "Training", "due_on": "2099-01-31"}

# (path, form data to post or None to get, status per caller). Paths and data name objects in braces.
MATRIX = [
    ("/scrutiny/", None, statuses(302, 302, 302, 302, 302, 403, 302)),
    ("/scrutiny/start/", None, dict.fromkeys(CALLERS, 302)),
    ("/scrutiny/cases/", None, statuses(**MEMBERS, superuser=200)),
    ("/scrutiny/cases/{case}/", None, CASE),
    ("/scrutiny/cases/{case_b}/", None, hidden(CASE, "panel_member", "panel_chair")),
    ("/scrutiny/cases/{other_case}/", None, hidden(CASE, "panel_member", "panel_chair")),
    ("/scrutiny/cases/999999/", None, hidden(CASE, "panel_member", "panel_chair")),
    ("/scrutiny/cases/{case}/", {"save": "draft"}, statuses(panel_member=302, panel_chair=302)),
    ("/scrutiny/cases/{case}/", WATCHED, statuses(panel_member=302, panel_chair=302)),
    ("/scrutiny/cases/{case}/", {"do": "declare", "interest": "I know the officer"}, statuses(**MEMBERS_REDIRECTED)),
    ("/scrutiny/cases/{case}/meeting/", {"do": "reopen"}, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", {"do": "attendance", "member_1": "present"}, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", {"do": "minutes", "agenda": "1.", "minutes": "Met"}, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", {"do": "approve"}, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting_b}/", {"do": "approve"}, statuses(panel_member=404, panel_chair=404)),
    ("/scrutiny/meetings/{meeting}/", DECLARE, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", DECLARE | {"case": "{case_b}"}, statuses(panel_chair=404)),
    ("/scrutiny/meetings/{meeting_b}/", DECLARE, statuses(panel_member=404, panel_chair=404)),
    ("/scrutiny/cases/{case}/footage/", None, PANEL),
    ("/scrutiny/cases/{case_b}/footage/", None, PANEL),
    ("/scrutiny/cases/{other_case}/footage/", None, hidden(PANEL, "pcc_staff")),
    ("/scrutiny/cases/{case}/footage/", CLIP, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/cases/{case}/footage/", ACCOUNT, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/cases/{other_case}/footage/", ACCOUNT, statuses(pcc_staff=404, superuser=302)),
    ("/scrutiny/cases/{case}/meeting/", None, CASE_MEETING),
    ("/scrutiny/cases/{case_b}/meeting/", None, hidden(CASE_MEETING, "panel_chair") | {"panel_member": 404}),
    ("/scrutiny/cases/{other_case}/meeting/", None, hidden(CASE_MEETING, "panel_chair") | {"panel_member": 404}),
    ("/scrutiny/cases/{case}/meeting/", {"do": "open"}, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", None, MEETING),
    ("/scrutiny/meetings/{meeting_b}/", None, hidden(MEETING, "panel_chair") | {"panel_member": 404}),
    ("/scrutiny/meetings/{other_meeting}/", None, hidden(MEETING, "pcc_staff", "panel_chair") | {"panel_member": 404}),
    ("/scrutiny/meetings/{meeting}/", DRAW, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/meetings/{meeting}/", ADD_CASE, statuses(panel_chair=302)),
    ("/scrutiny/meetings/{meeting}/", WITHDRAW, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/meetings/{meeting}/", FOLLOW_UP, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/meetings/{other_meeting}/", FOLLOW_UP, statuses(**dict.fromkeys([*PCC, *MEMBERS], 404))),
    ("/scrutiny/meetings/{meeting_b}/", WITHDRAW, statuses(**dict.fromkeys([*PCC, *MEMBERS], 404))),
    ("/scrutiny/samples/{sample}/", None, SAMPLE),
    ("/scrutiny/samples/{sample}/?redraw=1", None, SAMPLE),
    ("/scrutiny/samples/{sample_b}/", None, hidden(SAMPLE, "panel_member", "panel_chair")),
    ("/scrutiny/samples/{other_sample}/", None, hidden(SAMPLE, "pcc_staff", "panel_member", "panel_chair")),
    ("/scrutiny/panels/", None, PANEL),
    # A superuser belongs to no force: a force's PCC staff set up its panels (a superuser uses the admin).
    ("/scrutiny/panels/", {"name": "New panel", "grading_scale": "rag"}, statuses(pcc_staff=302)),
    ("/scrutiny/panels/{panel}/", None, PANEL),
    ("/scrutiny/panels/{other_panel}/", None, hidden(PANEL, "pcc_staff")),
    ("/scrutiny/panels/{panel}/", {"do": "meeting", "held_on": "2026-01-15"}, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/panels/{panel}/", NEW_MEMBER, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/panels/{panel}/", QUORUM, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/panels/{other_panel}/", QUORUM, hidden(PANEL, "pcc_staff") | {"superuser": 302}),
    ("/scrutiny/panels/{panel}/", {"do": "retire", "member": "{member}"}, statuses(pcc_staff=302, superuser=302)),
    (
        "/scrutiny/panels/{other_panel}/",
        {"do": "retire", "member": "{member}"},
        hidden(PANEL, "pcc_staff") | {"superuser": 404},
    ),
    ("/scrutiny/panels/{panel}/quarterly/2025-07/", None, SAMPLE),
    ("/scrutiny/panels/{panel}/quarterly/2025-07/?format=csv", None, SAMPLE),
    ("/scrutiny/panels/{panel}/quarterly/2025-08/", None, hidden(SAMPLE, *CALLERS)),  # not a quarter's first month
    ("/scrutiny/panels/{panel_b}/quarterly/2025-07/", None, hidden(SAMPLE, "panel_member", "panel_chair")),
    ("/scrutiny/panels/{other_panel}/quarterly/2025-07/", None, hidden(SAMPLE, "pcc_staff", *MEMBERS)),
    ("/scrutiny/panels/{panel}/annual/2025/", None, SAMPLE),
    ("/scrutiny/panels/{panel}/annual/2025/?format=csv", None, SAMPLE),
    ("/scrutiny/panels/{panel}/annual/1999/", None, hidden(SAMPLE, *CALLERS)),
    ("/scrutiny/panels/{panel_b}/annual/2025/", None, hidden(SAMPLE, "panel_member", "panel_chair")),
    ("/scrutiny/panels/{other_panel}/annual/2025/", None, hidden(SAMPLE, "pcc_staff", *MEMBERS)),
    ("/scrutiny/forces/thames-valley/annual/2025/", None, PANEL),
    ("/scrutiny/forces/thames-valley/annual/2025/?format=csv", None, PANEL),
    ("/scrutiny/forces/thames-valley/annual/1999/", None, hidden(PANEL, *CALLERS)),
    ("/scrutiny/forces/metropolitan/annual/2025/", None, hidden(PANEL, "pcc_staff")),
    ("/scrutiny/forces/atlantis/annual/2025/", None, hidden(PANEL, *CALLERS)),
    ("/scrutiny/public/thames-valley/annual/2025/", None, dict.fromkeys(CALLERS, 200)),
    ("/scrutiny/public/atlantis/annual/2025/", None, dict.fromkeys(CALLERS, 404)),
    ("/scrutiny/public/thames-valley/panels/{panel}/2025/", None, dict.fromkeys(CALLERS, 200)),
    ("/scrutiny/public/thames-valley/panels/{other_panel}/2025/", None, dict.fromkeys(CALLERS, 404)),
    ("/scrutiny/members/{member}/", None, PANEL),
    ("/scrutiny/members/{other_member}/", None, hidden(PANEL, "pcc_staff")),
    ("/scrutiny/members/{member}/", {"role": "member"}, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/findings/{finding}/", None, FINDING),
    ("/scrutiny/findings/{kept_finding}/", None, hidden(FINDING, "force_data_officer")),
    ("/scrutiny/findings/{finding_b}/", None, hidden(FINDING, "panel_member", "panel_chair")),
    ("/scrutiny/findings/{other_finding}/", None, hidden(FINDING, "pcc_staff", *MEMBERS, "force_data_officer")),
    ("/scrutiny/findings/{finding}/", RESPOND, statuses(force_data_officer=302)),
    ("/scrutiny/findings/{finding}/", RAISE_ACTION, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/findings/{finding}/", {"do": "publish"}, statuses(pcc_staff=302, superuser=302)),
    ("/scrutiny/responses/", None, TRACKER),
    ("/scrutiny/actions/", None, TRACKER),
    ("/scrutiny/actions/{action}/", None, TRACKER),
    ("/scrutiny/actions/{other_action}/", None, hidden(TRACKER, "pcc_staff", "force_data_officer")),
    ("/scrutiny/actions/{action}/", {"status": "in_progress", "note": "Begun"}, statuses(**PCC_AND_FORCE_REDIRECTED)),
    ("/scrutiny/notifications/", None, dict.fromkeys(CALLERS, 200) | {"anonymous": 302}),
    ("/scrutiny/public/thames-valley/", None, dict.fromkeys(CALLERS, 200)),
    ("/scrutiny/public/atlantis/", None, dict.fromkeys(CALLERS, 404)),
]


def panel_work(panel, area, member_user=None, chair_user=None):
    """A meeting of `panel` on 1 September 2025 with a sample of one case, its finding and an action."""
    if member_user:
        PanelMemberFactory(user=member_user, panel=panel)
    if chair_user:
        PanelMemberFactory(user=chair_user, panel=panel, role=PanelMember.Role.CHAIR)
    meeting = MeetingFactory(panel=panel, held_on=datetime.date(2025, 9, 1))
    sample = CaseSampleFactory(panel=panel, meeting=meeting)
    case = SampledCaseFactory(sample=sample, report=ReportFactory(area=area))
    finding = FindingFactory(sampled_case=case)
    clip = FootageClipFactory(sampled_case=case)
    return {
        "clip": clip.pk,
        "panel": panel.pk, "meeting": meeting.pk, "sample": sample.pk, "case": case.pk, "finding": finding.pk,
        "action": ActionFactory(finding=finding).pk,
        "member": PanelMemberFactory(panel=panel).pk,
    }  # fmt: skip


@pytest.fixture(scope="module")
def made_once(django_db_setup, django_db_blocker):
    """The callers and the objects, made once for the module's tests; each test's requests are rolled back."""
    with rows_for_a_module(django_db_blocker) as (thames_valley, metropolitan):
        users = callers_by_name(thames_valley)
        areas = make_oxford(thames_valley), make_lambeth(metropolitan)
        yield users, matrix_objects(thames_valley, metropolitan, *areas, users["panel_member"], users["panel_chair"])


@pytest.fixture
def objects(made_once, db):
    return made_once[1]


def matrix_objects(thames_valley, metropolitan, oxford, lambeth, panel_member, panel_chair):
    """The objects the paths of MATRIX name (tests/test_permission_matrix.py meets them too)."""
    own = panel_work(PanelFactory(force=thames_valley), oxford, panel_member, panel_chair)
    panel_b = panel_work(PanelFactory(force=thames_valley), oxford)
    other = panel_work(PanelFactory(force=metropolitan), lambeth, role_user(Role.PANEL_MEMBER, metropolitan))
    kept = FindingFactory(sampled_case=SampledCaseFactory(sample_id=own["sample"], report=ReportFactory(area=oxford)),
                          for_force_feedback=False)  # fmt: skip
    return {
        **own,
        **{f"{name}_b": pk for name, pk in panel_b.items()},
        **{f"other_{name}": pk for name, pk in other.items()},
        "kept_finding": kept.pk,
        "empty_sample": CaseSampleFactory(panel_id=own["panel"], meeting_id=own["meeting"]).pk,
        "spare_report": ReportFactory(area=oxford).pk,
    }


@pytest.fixture
def callers(made_once, db):
    signed_in_callers = made_once[0]

    def request(caller, path, data):
        client = Client()
        if caller in signed_in_callers:
            client.force_login(signed_in_callers[caller])
        return client.post(path, data) if data is not None else client.get(path)

    return request


@pytest.mark.parametrize(("path", "data", "expected"), MATRIX, ids=[f"{'post ' * bool(d)}{p}" for p, d, _ in MATRIX])
def test_every_role_gets_what_the_page_allows(path, data, expected, objects, callers):
    url = path.format(**objects)
    form = data and {key: value.format(**objects) for key, value in data.items()}
    got = {}
    for caller in CALLERS:
        # Each caller meets the objects as they were: one caller's write does not change the next one's answer.
        with transaction.atomic():
            got[caller] = callers(caller, url, form).status_code
            transaction.set_rollback(True)
    assert got == expected


def scrutiny_routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from scrutiny_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("scrutiny/"):
            yield route


def test_every_scrutiny_page_has_a_row_in_the_matrix():
    covered = {re.sub(r"\{\w+\}", "1", path.split("?")[0]) for path, _, _ in MATRIX}
    missing = []
    for route in scrutiny_routes():
        pattern = "/" + re.sub(r"<(int|slug|str):\w+>", r"[\\w-]+", route)
        if not any(re.fullmatch(pattern, path) for path in covered):
            missing.append(route)
    assert not missing, f"Scrutiny pages without a row in MATRIX: {missing}"
