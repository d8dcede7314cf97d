"""Every URL of the site and the API × every role × every method, and a guard that none lacks a rule.

The routes come from the URL configuration itself (django.urls.get_resolver()), so a page added
without a rule fails `test_every_route_has_a_rule_for_every_method`. The rules live in three
matrices, each tested where it is written:

- the API's, with its tokens: tests/test_api_permissions.py;
- the scrutiny pages': tests/scrutiny/test_page_permissions.py;
- every other page's: SITE, below, with the admin's written out model by model (ADMIN_ANSWERS) and
  the methods a page does not take (405) generated.

Every expected answer is written in the tests, never read from the code under test: a permission
granted by mistake fails here.
"""

import collections
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone

from forces.models import CapabilityRecord, UpliftDecision
from incidents.models import ImportBatch, QuarterlyReport
from scrutiny.models import Finding
from tests import test_api_permissions as api_matrix
from tests.conftest import callers_by_name, make_lambeth, make_oxford, rows_for_a_module
from tests.factories import ForceResponseFactory, PanelMemberFactory, ReportFactory, ReviewFactory
from tests.scrutiny import test_page_permissions as scrutiny_matrix

ROLES = ("anonymous", "pcc_staff", "panel_member", "panel_chair", "force_data_officer", "api_client", "superuser")
METHODS = ("get", "post", "put", "patch", "delete")


def statuses(default, **exceptions):
    return {role: exceptions.get(role, default) for role in ROLES}


def signed_in(status, anonymous=302):
    return statuses(status, anonymous=anonymous)


EVERYONE = statuses(200)
DASHBOARD = statuses(403, anonymous=302, pcc_staff=200, force_data_officer=200, superuser=200)
OTHER_DASHBOARD = DASHBOARD | {"pcc_staff": 403, "force_data_officer": 403}
UNKNOWN_DASHBOARD = DASHBOARD | {"pcc_staff": 404, "force_data_officer": 404, "superuser": 404}
RECORDS = statuses(200, anonymous=302, panel_member=404, panel_chair=404)
OTHER_RECORD = RECORDS | {"pcc_staff": 404, "force_data_officer": 404, "api_client": 404}
IMPORTS = statuses(403, anonymous=302, pcc_staff=200, force_data_officer=200, superuser=200)
OTHER_IMPORT = IMPORTS | {"pcc_staff": 404, "force_data_officer": 404}
TOKENS = statuses(200, anonymous=302, panel_member=403, panel_chair=403)
TRAIL = statuses(403, anonymous=302, pcc_staff=200, superuser=200)
OTHER_TRAIL = TRAIL | {"pcc_staff": 404}

FORCE_PAGES = ("", "areas/", "areas/E22000155/", "reconciliation/", "quarterly/", "quarterly/{quarterly}/")
OTHER_FORCE_PAGES = ("", "areas/", "areas/E22000022/", "reconciliation/", "quarterly/", "quarterly/{other_quarterly}/")

# (path, method, form data, status per role) of every page outside /api/, /scrutiny/ and /admin/.
# Paths name objects in braces. A method a page does not take answers 405 (generated below).
SITE = [
    ("/", "get", None, EVERYONE),
    ("/healthz", "get", None, EVERYONE),
    ("/counting-rules/", "get", None, EVERYONE),
    ("/public/", "get", None, EVERYONE),
    ("/public/thames-valley/", "get", None, EVERYONE),
    ("/public/atlantis/", "get", None, statuses(404)),
    ("/compare/", "get", None, DASHBOARD),
    *[("/forces/thames-valley/" + page, "get", None, DASHBOARD) for page in FORCE_PAGES],
    *[("/forces/metropolitan/" + page, "get", None, OTHER_DASHBOARD) for page in OTHER_FORCE_PAGES],
    ("/forces/atlantis/", "get", None, UNKNOWN_DASHBOARD),
    ("/forces/thames-valley/areas/E99999999/", "get", None, UNKNOWN_DASHBOARD),
    ("/forces/thames-valley/quarterly/999999/", "get", None, UNKNOWN_DASHBOARD),
    # Only PCC staff build quarterly reports; an empty form answers with its problems.
    ("/forces/thames-valley/quarterly/", "post", {}, DASHBOARD | {"force_data_officer": 403}),
    ("/account/tokens/", "get", None, TOKENS),
    ("/account/tokens/", "post", {}, TOKENS),
    ("/reports/", "get", None, RECORDS | {"panel_member": 200, "panel_chair": 200}),
    ("/reports/{report}/", "get", None, RECORDS),
    ("/reports/{other_report}/", "get", None, OTHER_RECORD),
    ("/reports/999999/", "get", None, OTHER_RECORD | {"superuser": 404}),
    ("/reports/imports/", "get", None, IMPORTS),
    ("/reports/imports/", "post", {}, IMPORTS | {"pcc_staff": 403}),
    ("/reports/imports/{batch}/", "get", None, IMPORTS),
    ("/reports/imports/{other_batch}/", "get", None, OTHER_IMPORT),
    ("/reports/imports/{batch}/status/", "get", None, IMPORTS),
    ("/reports/imports/{other_batch}/status/", "get", None, OTHER_IMPORT),
    # The import kept no reject file: there is nothing to download.
    (
        "/reports/imports/{batch}/rejects/",
        "get",
        None,
        IMPORTS | {"pcc_staff": 404, "force_data_officer": 404, "superuser": 404},
    ),  # fmt: skip
    ("/reports/imports/{other_batch}/rejects/", "get", None, OTHER_IMPORT | {"superuser": 404}),
    # Only a failed import whose file is kept is tried again, by those who upload; this one has not failed.
    ("/reports/imports/{batch}/retry/", "post", {}, statuses(403, anonymous=302)),
    (
        "/reports/imports/{other_batch}/retry/",
        "post",
        {},
        statuses(403, anonymous=302, pcc_staff=404, force_data_officer=404),
    ),
    *[
        (f"/audit/{kind}/{{{name}}}/", "get", None, TRAIL)
        for kind, name in (
            ("reports", "report"),
            ("imports", "batch"),
            ("capability-records", "capability"),
            ("uplift-decisions", "uplift"),
            ("reviews", "review"),
            ("findings", "finding"),
            ("force-responses", "response"),
            ("actions", "action"),
        )
    ],  # fmt: skip
    ("/audit/reports/{other_report}/", "get", None, OTHER_TRAIL),
    ("/audit/imports/{other_batch}/", "get", None, OTHER_TRAIL),
    ("/audit/capability-records/{other_capability}/", "get", None, OTHER_TRAIL),
    ("/audit/widgets/1/", "get", None, OTHER_TRAIL | {"superuser": 404}),
    ("/audit/reports/{report}/export/", "get", None, TRAIL),
    ("/audit/reports/{other_report}/export/", "get", None, OTHER_TRAIL),
    # Django's own sign-in pages.
    ("/accounts/login/", "get", None, EVERYONE),
    # Django's form views take PUT as POST.
    *[
        ("/accounts/login/", method, {"username": "nobody", "password": "wrong"}, EVERYONE)
        for method in ("post", "put")
    ],
    ("/accounts/logout/", "post", {}, statuses(302)),
    ("/accounts/password_change/", "get", None, signed_in(200)),
    *[("/accounts/password_change/", method, {}, signed_in(200)) for method in ("post", "put")],
    ("/accounts/password_change/done/", "get", None, signed_in(200)),
    ("/accounts/password_reset/", "get", None, EVERYONE),
    *[("/accounts/password_reset/", method, {}, EVERYONE) for method in ("post", "put")],
    ("/accounts/password_reset/done/", "get", None, EVERYONE),
    # A reset link that is not valid says so, whatever the method.
    *[("/accounts/reset/MQ/set-password/", method, {}, EVERYONE) for method in METHODS],
    ("/accounts/reset/done/", "get", None, EVERYONE),
]
# Class-based views behind a sign-in send the anonymous there before looking at the method.
SIGN_IN_FIRST = {"accounts/password_change/", "accounts/password_change/done/"}


# --- the admin, written out ---------------------------------------------------------------------

# What PCC staff, a force data officer and a superuser get from each admin model's pages about an object
# that does not exist (id 0), written out here rather than read from the roles' permissions in the code:
#   list   the change list                         add    the add form
#   view   the change form, by GET                 save   the change form, by POST (which saves)
#   del    the delete page
# 403: not for this caller. 302: allowed this far, and sent back to the index as the object does not exist
# (to view it takes the permission to view or to change; to save it, the permission to change). GET and
# POST answer alike but on the change form. The object's bare URL and its history send every staff caller
# back (302). Superusers are refused what no one does by hand: adding what the product builds (summaries,
# alerts, quarterly reports, retention runs, imports, case views, the audit trail, sign-in attempts),
# changing what it builds, and deleting the audit trail or a retention run.
ADMIN_PAGES = ("list", "add", "view", "save", "delete")
ADMIN_ANSWERS = {
    #                                      list add view save del, as pcc_staff, force_data_officer, superuser
    "auditlog.logentry":                   ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "auth.group":                          ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "auth.user":                           ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "axes.accessattempt":                  ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 302 302"),
    "axes.accessfailurelog":               ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 302 302"),
    "axes.accesslog":                      ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 302 302"),
    "django_celery_beat.clockedschedule":  ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "django_celery_beat.crontabschedule":  ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "django_celery_beat.intervalschedule": ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "django_celery_beat.periodictask":     ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "django_celery_beat.solarschedule":    ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "forces.area":                         ("200 403 302 403 403", "200 403 302 302 403", "200 200 302 302 302"),
    "forces.capabilityrecord":             ("200 200 302 302 403", "200 200 302 302 403", "200 200 302 302 302"),
    "forces.edition":                      ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "forces.force":                        ("200 403 302 403 403", "200 403 302 403 403", "200 200 302 302 302"),
    "forces.forcescope":                   ("403 403 403 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "forces.localauthority":               ("200 403 302 403 403", "200 403 302 403 403", "200 200 302 302 302"),
    "forces.populationbaseline":           ("200 403 302 403 403", "200 403 302 403 403", "200 200 302 302 302"),
    "forces.publishedfigure":              ("200 403 302 403 403", "200 403 302 403 403", "200 200 302 302 302"),
    "forces.upliftdecision":               ("200 200 302 302 403", "200 403 302 403 403", "200 200 302 302 302"),
    "incidents.alert":                     ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 403 302"),
    "incidents.importbatch":               ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 302 302"),
    "incidents.monthlysummary":            ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 403 302"),
    "incidents.quarterlyreport":           ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 403 302"),
    "incidents.retentionrun":              ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "incidents.useofforcereport":          ("200 403 302 403 403", "200 200 302 302 403", "200 200 302 302 302"),
    "scrutiny.action":                     ("200 200 302 302 403", "200 403 302 403 403", "200 200 302 302 302"),
    "scrutiny.actionupdate":               ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 403 403"),
    "scrutiny.attendance":                 ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "scrutiny.casesample":                 ("200 200 302 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "scrutiny.caseview":                   ("200 403 302 403 403", "403 403 403 403 403", "200 403 302 302 302"),
    "scrutiny.declaration":                ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "scrutiny.finding":                    ("200 200 302 302 403", "200 403 302 403 403", "200 200 302 302 302"),
    "scrutiny.footageclip":                ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 302 403"),
    "scrutiny.footageviewing":             ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "scrutiny.forceresponse":              ("200 403 302 403 403", "200 403 302 403 403", "200 403 302 403 403"),
    "scrutiny.meeting":                    ("200 200 302 302 403", "403 403 403 403 403", "200 200 302 302 302"),
    "scrutiny.notification":               ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "scrutiny.officeraccount":             ("403 403 403 403 403", "403 403 403 403 403", "200 403 302 403 403"),
    "scrutiny.panel":                      ("200 200 302 302 403", "403 403 403 403 403", "200 200 302 302 302"),
    "scrutiny.panelmember":                ("200 200 302 302 403", "403 403 403 403 403", "200 200 302 302 302"),
    "scrutiny.review":                     ("200 403 302 403 403", "403 403 403 403 403", "200 200 302 302 302"),
    "scrutiny.sampledcase":                ("200 200 302 403 403", "403 403 403 403 403", "200 200 302 302 302"),
}  # fmt: skip
ADMIN_CALLERS = ("pcc_staff", "force_data_officer", "superuser")
# Each app's index as PCC staff and a force data officer get it: 404 when they may see none of its models
# (a superuser sees every app's).
ADMIN_APPS = {
    "auth": (404, 404), "django_celery_beat": (404, 404), "axes": (404, 404), "auditlog": (404, 404),
    "forces": (200, 200), "incidents": (200, 200), "scrutiny": (200, 200),
}  # fmt: skip


def admin_page(caller, label, page, method="get"):
    """What a staff caller gets from one page of a model's admin, by ADMIN_ANSWERS."""
    if page in ("history", "object"):
        return 302
    if page == "change":
        page = "save" if method == "post" else "view"
    answers = ADMIN_ANSWERS[label][ADMIN_CALLERS.index(caller)].split()
    return int(answers[ADMIN_PAGES.index(page)])


def admin_rows():
    """(path, method, None, statuses) for every admin page: the signed-out and the roles without the
    admin go to its sign-in page; staff get what their model permissions allow; every method."""
    rows = []
    outside = {"anonymous": 302, "panel_member": 302, "panel_chair": 302, "api_client": 302}
    for label in ADMIN_ANSWERS:
        base = f"/admin/{label.replace('.', '/')}/"
        pages = {"list": base, "add": f"{base}add/", "history": f"{base}0/history/", "delete": f"{base}0/delete/",
                 "change": f"{base}0/change/", "object": f"{base}0/"}  # fmt: skip
        for page, path in pages.items():
            for method in ("get", "post"):
                staff = {caller: admin_page(caller, label, page, method) for caller in ADMIN_CALLERS}
                rows.append((path, method, None if method == "get" else {}, outside | staff))
            # The admin reads PUT, PATCH and DELETE as GET; asserted here for those it sends to sign in.
            rows += [(path, method, {}, outside) for method in ("put", "patch", "delete")]

    def every(status):
        return dict.fromkeys(ADMIN_CALLERS, status)

    def by_method(get, post=None, put=None, other=None):
        """Staff answers per method: a form view takes PUT as POST; other methods as `other`."""
        post = get if post is None else post
        return {"get": get, "post": post, "put": post if put is None else put, "patch": other or get,
                "delete": other or get}  # fmt: skip

    admin_only = {
        "/admin/": by_method(every(200)),
        "/admin/logout/": by_method(every(405), post=every(302), put=every(405)),
        "/admin/password_change/": by_method(every(200), other=every(405)),
        "/admin/password_change/done/": by_method(every(200), post=every(405), other=every(405)),
        "/admin/autocomplete/": by_method(every(403), post=every(405), other=every(405)),
        "/admin/jsi18n/": by_method(every(200), post=every(405), other=every(405)),
        "/admin/r/999/999/": by_method(every(404)),
        "/admin/nothing-here/": by_method(every(404)),
        "/admin/auth/user/0/password/": by_method({"pcc_staff": 403, "force_data_officer": 403, "superuser": 404}),
    }
    for path, answers in admin_only.items():
        rows += [(path, method, None if method == "get" else {}, outside | answers[method]) for method in METHODS]
    # The admin's sign-in page: a form for whoever is not yet in the admin; staff are sent on to it.
    for method, status in (("get", 200), ("post", 200), ("put", 200), ("patch", 405), ("delete", 405)):
        staff = every(302 if method == "get" else status)
        rows.append(("/admin/login/", method, None if method == "get" else {}, dict.fromkeys(outside, status) | staff))
    for app, (pcc_staff, force_data_officer) in ADMIN_APPS.items():
        app_staff = {"pcc_staff": pcc_staff, "force_data_officer": force_data_officer}
        for method in METHODS:
            rows.append(
                (f"/admin/{app}/", method, None if method == "get" else {}, outside | app_staff | {"superuser": 200})
            )
    return rows


def not_taken_rows(rows):
    """405 for every method a page outside the API and the admin has no rule for (it does not take it)."""
    ruled = {(route_of(path), method) for path, method, _, _ in rows}
    generated = []
    for route, path in sample_paths(rows).items():
        if route.startswith(("api/", "admin/")):
            continue
        for method in METHODS:
            if (route, method) not in ruled:
                expected = statuses(405)
                if route in SIGN_IN_FIRST:
                    expected["anonymous"] = 302
                generated.append((path, method, {} if method != "get" else None, expected))
    return generated


def scrutiny_rows():
    return [
        (path, "get" if data is None else "post", data, expected) for path, data, expected in scrutiny_matrix.MATRIX
    ]


def route_of(path):
    return resolve(re.sub(r"\{\w+\}", "1", path).split("?")[0]).route


def sample_paths(rows):
    """{route: a path of the rows that reaches it}."""
    return {route_of(path): path for path, _, _, _ in rows}


ROWS = SITE + not_taken_rows(SITE + scrutiny_rows())
ADMIN = collections.defaultdict(list)
for _row in admin_rows():
    _label = ".".join(_row[0].split("/")[2:4])
    ADMIN[_label if _label in ADMIN_ANSWERS else "the admin site"].append(_row)


# --- the objects and the callers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def made_once(django_db_setup, django_db_blocker):
    """The callers and the objects, made once for the module's 600 tests: each test's requests are rolled back
    after it (callers), and its own changes after it."""
    with rows_for_a_module(django_db_blocker) as (thames_valley, metropolitan):
        users = callers_by_name(thames_valley)
        yield users, objects_of(thames_valley, metropolitan, make_oxford(thames_valley), make_lambeth(metropolitan),
                                users)  # fmt: skip


@pytest.fixture
def objects(made_once, db):
    return made_once[1]


def objects_of(thames_valley, metropolitan, oxford, lambeth, users):
    """The scrutiny matrix's objects (its panels, cases, findings, actions), and the records of the other pages."""

    def quarterly(force):
        return QuarterlyReport.objects.create(
            force=force, quarter="2025-04-01", data_version=1, built_at=timezone.now(), figures={}
        ).pk

    def capability(force):
        return CapabilityRecord.objects.create(
            force=force, as_of="2025-01-01", device_model="x2", devices_in_service=10, officers_trained=20,
            source="the force",
        ).pk  # fmt: skip

    objects = scrutiny_matrix.matrix_objects(
        thames_valley, metropolitan, oxford, lambeth, users["panel_member"], users["panel_chair"]
    )
    finding = Finding.objects.get(pk=objects["finding"])
    reviewer = PanelMemberFactory(panel=finding.sampled_case.sample.panel)
    return objects | {
        "report": ReportFactory(area=oxford).pk,
        "other_report": ReportFactory(area=lambeth).pk,
        "batch": ImportBatch.objects.create(force=thames_valley, source_name="tvp.csv", source_format="met").pk,
        "other_batch": ImportBatch.objects.create(force=metropolitan, source_name="met.csv", source_format="met").pk,
        "quarterly": quarterly(thames_valley),
        "other_quarterly": quarterly(metropolitan),
        "capability": capability(thames_valley),
        "other_capability": capability(metropolitan),
        "uplift": UpliftDecision.objects.create(force=thames_valley, decided_on="2024-01-05").pk,
        "review": ReviewFactory(sampled_case=finding.sampled_case, member=reviewer, status="submitted").pk,
        "response": ForceResponseFactory(finding=finding, responded_by=users["superuser"]).pk,
    }


@pytest.fixture
def callers(made_once, db):
    """callers(role, method, path, data) → the response; one signed-in client per role, kept across requests."""
    users = made_once[0]
    clients = {}

    def client_of(role):
        client = clients.setdefault(role, Client())
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        if role in users and not (session and session.value):  # first use, or a sign-out ended it
            client.force_login(users[role])
        return client

    def request(role, method, path, data):
        client = client_of(role)
        # Each request meets the objects as they were: one role's write does not change the next one's answer.
        with transaction.atomic():
            call = getattr(client, method)
            response = call(path, data) if data is not None else call(path)
            transaction.set_rollback(True)
        return response

    return request


@pytest.mark.parametrize(("path", "method", "data", "expected"), ROWS, ids=[f"{m} {p}" for p, m, _, _ in ROWS])
def test_every_role_gets_what_the_page_allows_for_every_method(path, method, data, expected, objects, callers):
    url = path.format(**objects)
    assert {role: callers(role, method, url, data).status_code for role in ROLES} == expected


@pytest.mark.parametrize("group", sorted(ADMIN))
def test_the_admin_answers_every_role_as_its_model_permissions_allow(group, callers):
    # One test per model's pages: the users are made once for them all.
    wrong = {}
    for path, method, data, expected in ADMIN[group]:
        for role, status in expected.items():
            got = callers(role, method, path, data).status_code
            if got != status:
                wrong[f"{method.upper()} {path} as {role}"] = f"{got}, not {status}"
    assert not wrong


def test_every_model_and_app_of_the_admin_has_its_answers_written_down():
    registered = {f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry}
    assert sorted(registered) == sorted(ADMIN_ANSWERS)
    assert {label.split(".")[0] for label in registered} == set(ADMIN_APPS)


# --- the guard ---------------------------------------------------------------------------------------


def all_routes(resolver=None, prefix=""):
    """Every route of the URL configuration, joined as Django's resolver joins them (ResolverMatch.route)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        part = str(pattern.pattern)
        route = prefix + (part.removeprefix("^") if prefix else part)
        if isinstance(pattern, URLResolver):
            yield from all_routes(pattern, route)
        else:
            yield route


def test_every_route_has_a_rule_for_every_method():
    api_paths = [(path, method) for path, method in api_matrix.MATRIX]
    ruled = {(route_of(path), method) for path, method in api_paths}
    admin_rows_ = [row for rows in ADMIN.values() for row in rows]
    ruled |= {(route_of(path), method) for path, method, _, _ in ROWS + admin_rows_ + scrutiny_rows()}
    missing = [
        f"{method.upper()} /{route}"
        for route in sorted(set(all_routes()))
        # A format suffix (forces.json, …) reaches the same view as the route without it.
        if "(?P<format>" not in route and "<drf_format_suffix" not in route
        for method in METHODS
        if (route, method) not in ruled
    ]
    assert not missing, f"Routes without a rule (add them to a permission matrix): {missing}"
