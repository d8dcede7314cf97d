"""Who may do what on every API endpoint: each endpoint × method × caller, with another force's ids.

Callers: no credentials; a browser session of each role and of a superuser; tokens (read-only
of an API client and of a force data officer, read-write of a force data officer, revoked).
"""

import datetime
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from forces.models import Role, UpliftDecision
from forces.services import create_api_token, revoke_api_token
from incidents.models import ImportBatch
from scrutiny.models import Action, Finding, ForceResponse
from tests.conftest import make_lambeth, make_oxford, make_superuser, role_user, rows_for_a_module
from tests.factories import (
    CaseSampleFactory,
    PanelFactory,
    PanelMemberFactory,
    ReportFactory,
    ReviewFactory,
    SampledCaseFactory,
)

CALLERS = (
    "anonymous", "pcc_staff", "panel_member", "force_data_officer", "api_client", "superuser",
    "client_read_token", "officer_read_token", "officer_read_write_token", "revoked_token",
)  # fmt: skip
WRITES = ("post", "put", "patch", "delete")


def everyone(status, **exceptions):
    return {caller: exceptions.get(caller, status) for caller in CALLERS}


# Public resources: anyone reads; nobody writes (405); a revoked token is refused whatever it asks.
PUBLIC_READ = everyone(200, revoked_token=401)
PUBLIC_WRITE = everyone(405, revoked_token=401)
PUBLIC_UNKNOWN = everyone(404, revoked_token=401)

# Records of the force: staff roles and their tokens; panel members never through the API.
RECORD_READ = everyone(200, anonymous=401, panel_member=403, revoked_token=401)
RECORD_HIDDEN = {**RECORD_READ, **{c: 404 for c, s in RECORD_READ.items() if s == 200}}
RECORD_WRITE = {
    **RECORD_READ,
    **{c: 405 for c, s in RECORD_READ.items() if s == 200},
    "client_read_token": 403,
    "officer_read_token": 403,
}

# Imports: PCC staff and force data officers follow them; force data officers upload.
IMPORT_READ = everyone(200, anonymous=401, panel_member=403, api_client=403, client_read_token=403, revoked_token=401)
IMPORT_HIDDEN = {**IMPORT_READ, **{c: 404 for c, s in IMPORT_READ.items() if s == 200}}
IMPORT_UPLOAD = {**IMPORT_READ, "pcc_staff": 403, "officer_read_token": 403}
IMPORT_UPLOAD |= {c: 400 for c, s in IMPORT_UPLOAD.items() if s == 200}  # allowed, but no file was sent
IMPORT_CHANGE = {**IMPORT_UPLOAD, **{c: 405 for c, s in IMPORT_UPLOAD.items() if s == 400}}

# The panels' work: samples and reviews for PCC staff and panel members; findings, responses and
# actions for them and the force's staff. Read-only through the API.
SAMPLE_READ = everyone(403, pcc_staff=200, panel_member=200, superuser=200, anonymous=401, revoked_token=401)
FINDING_READ = everyone(200, anonymous=401, revoked_token=401)


def hidden(statuses):
    return {caller: 404 if status == 200 else status for caller, status in statuses.items()}


def written(statuses):
    refused_tokens = {"client_read_token": 403, "officer_read_token": 403}
    return {c: 405 if s == 200 else s for c, s in statuses.items()} | {
        c: 403 for c in refused_tokens if statuses[c] == 200
    }


SCRUTINY = (("samples", "sample", SAMPLE_READ), ("reviews", "review", SAMPLE_READ))
SCRUTINY += (("findings", "finding", FINDING_READ), ("force-responses", "response", FINDING_READ))
SCRUTINY += (("actions", "action", FINDING_READ),)

# (path, method) → expected status per caller. Paths name fixtures in braces.
MATRIX = {
    **{
        (path, method): PUBLIC_READ if method == "get" else PUBLIC_WRITE
        for path in (
            "/api/v1/",
            "/api/v1/forces/",
            "/api/v1/forces/thames-valley/",
            "/api/v1/forces/thames-valley/areas/",
            "/api/v1/summaries/",
            "/api/v1/published-figures/",
            "/api/v1/capability/",
            "/api/v1/uplift-decisions/",
            "/api/v1/uplift-decisions/{uplift}/",
            "/api/v1/published-findings/",
            "/api/v1/published-findings/{published_finding}/",
            "/api/schema/",
            "/api/docs/",
        )
        for method in ("get", *WRITES)
    },
    ("/api/v1/forces/atlantis/", "get"): PUBLIC_UNKNOWN,
    ("/api/v1/uplift-decisions/999999/", "get"): PUBLIC_UNKNOWN,
    ("/api/v1/published-findings/{unpublished_finding}/", "get"): PUBLIC_UNKNOWN,
    **{(path, "get"): RECORD_READ for path in ("/api/v1/reports/", "/api/v1/reports/{own_report}/")},
    ("/api/v1/reports/{other_report}/", "get"): RECORD_HIDDEN | {"superuser": 200},
    ("/api/v1/reports/999999/", "get"): RECORD_HIDDEN,
    **{("/api/v1/reports/", method): RECORD_WRITE for method in WRITES},
    **{("/api/v1/reports/{own_report}/", method): RECORD_WRITE for method in WRITES},
    **{(path, "get"): IMPORT_READ for path in ("/api/v1/imports/", "/api/v1/imports/{own_batch}/")},
    ("/api/v1/imports/{other_batch}/", "get"): IMPORT_HIDDEN | {"superuser": 200},
    ("/api/v1/imports/999999/", "get"): IMPORT_HIDDEN,
    ("/api/v1/imports/", "post"): IMPORT_UPLOAD,
    **{("/api/v1/imports/", method): IMPORT_CHANGE for method in WRITES if method != "post"},
    **{("/api/v1/imports/{own_batch}/", method): IMPORT_CHANGE for method in WRITES},
    **{(f"/api/v1/{name}/", "get"): statuses for name, _, statuses in SCRUTINY},
    **{(f"/api/v1/{name}/{{{one}}}/", "get"): statuses for name, one, statuses in SCRUTINY},
    **{
        (f"/api/v1/{name}/{{other_{one}}}/", "get"): hidden(statuses) | {"superuser": 200}
        for name, one, statuses in SCRUTINY
    },
    **{(f"/api/v1/{name}/999999/", "get"): hidden(statuses) for name, _, statuses in SCRUTINY},
    **{(f"/api/v1/{name}/", m): written(statuses) for name, _, statuses in SCRUTINY for m in WRITES},
    **{(f"/api/v1/{name}/{{{one}}}/", m): written(statuses) for name, one, statuses in SCRUTINY for m in WRITES},
}


def panel_work(area, member_user):
    """A sample of one case, opened at the meeting, reviewed by `member_user`; its finding, response, action."""
    member = PanelMemberFactory(user=member_user, panel=PanelFactory(force=area.force))
    case = SampledCaseFactory(
        sample=CaseSampleFactory(panel=member.panel),
        report=ReportFactory(area=area),
        opened_at_meeting_at=timezone.now(),
    )
    review = ReviewFactory(sampled_case=case, member=member, status="submitted")
    found = Finding.objects.create(
        sampled_case=case, panel_grade="Amber", summary="Late warning", for_force_feedback=True
    )
    response = ForceResponse.objects.create(finding=found, responded_by=member_user, response="Training given")
    action = Action.objects.create(finding=found, description="Refresh training", owner="Ch Insp", due_on="2026-01-31")
    return {
        "sample": case.sample_id,
        "review": review.pk,
        "finding": found.pk,
        "response": response.pk,
        "action": action.pk,
    }


@pytest.fixture(scope="module")
def made_once(django_db_setup, django_db_blocker):
    """The objects and the callers, made once for the module's tests; each test's requests are rolled back after
    it."""
    with rows_for_a_module(django_db_blocker) as (thames_valley, metropolitan):
        role_users = {role: role_user(role, thames_valley) for role in Role}
        objects = objects_of(make_oxford(thames_valley), make_lambeth(metropolitan), thames_valley, metropolitan,
                             role_users)  # fmt: skip
        yield objects, callers_of(role_users, make_superuser(), thames_valley)


@pytest.fixture
def objects(made_once, db):
    return made_once[0]


@pytest.fixture
def callers(made_once, db):
    """Caller name → a function making a request as that caller."""
    return made_once[1]


def objects_of(oxford, lambeth, thames_valley, metropolitan, role_users):
    batch = ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv", source_format="met")
    other_member = role_user(Role.PANEL_MEMBER, metropolitan)
    return {
        **panel_work(oxford, role_users[Role.PANEL_MEMBER]),
        **{f"other_{name}": pk for name, pk in panel_work(lambeth, other_member).items()},
        "uplift": UpliftDecision.objects.create(force=thames_valley, decided_on=datetime.date(2024, 1, 5)).pk,
        "published_finding": finding(SampledCaseFactory(report=ReportFactory(area=oxford)), True),
        "unpublished_finding": finding(SampledCaseFactory(report=ReportFactory(area=oxford)), False),
        "own_report": ReportFactory(area=oxford).pk,
        "other_report": ReportFactory(area=lambeth).pk,
        "own_batch": batch.pk,
        "other_batch": ImportBatch.objects.create(force=metropolitan, source_name="met.csv", source_format="met").pk,
    }


def finding(case, published):
    return Finding.objects.create(sampled_case=case, panel_grade="Green", summary="Well done", published=published).pk


def callers_of(role_users, superuser, thames_valley):
    officer = role_users[Role.FORCE_DATA_OFFICER]
    revoked, revoked_key = create_api_token(user=officer, name="old", access="read_write", force=thames_valley)
    revoke_api_token(revoked)

    def key(user, access):
        return create_api_token(user=user, name="a script", access=access, force=thames_valley)[1]

    keys = {
        "client_read_token": key(role_users[Role.API_CLIENT], "read"),
        "officer_read_token": key(officer, "read"),
        "officer_read_write_token": key(officer, "read_write"),
        "revoked_token": revoked_key,
    }
    sessions = {role.value: user for role, user in role_users.items()} | {"superuser": superuser}
    sessions["api_client"] = sessions.pop(Role.API_CLIENT.value)

    def request(caller, method, path):
        client = Client()
        headers = {}
        if caller in sessions:
            client.force_login(sessions[caller])
        elif caller in keys:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {keys[caller]}"
        return getattr(client, method)(path, **headers)

    return request


@pytest.mark.parametrize(("path", "method"), list(MATRIX))
def test_every_caller_gets_what_its_role_and_token_allow(path, method, objects, callers):
    url = path.format(**objects)
    got = {caller: callers(caller, method, url).status_code for caller in CALLERS}
    assert got == MATRIX[(path, method)]


def api_routes(resolver=None, prefix=""):
    """Every URL pattern under /api/, as its route text."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            yield route


def test_every_api_route_has_a_row_in_the_matrix():
    # Fixture names in MATRIX paths stand for ids; any id will do to match a route.
    covered = {re.sub(r"\{\w+\}", "1", path) for path, _ in MATRIX}
    missing = []
    for route in set(api_routes()):
        pattern = "/" + route.replace("/^", "/").removesuffix("$")
        # Routes with a format suffix (forces.json) are the same views as those without.
        if "format>" not in pattern and not any(re.fullmatch(pattern, path) for path in covered):
            missing.append(pattern)
    assert not missing, f"API routes without a row in MATRIX: {sorted(missing)}"
