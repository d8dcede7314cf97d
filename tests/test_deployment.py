"""Production settings and deployment: `check --deploy` clean, HTTPS and its headers, a Content Security
Policy without inline scripts, sign-in throttling, every knob documented, docker-compose consistent with
the settings, and a backup that restores."""

import os
import re
import secrets
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
import yaml
from django.conf import settings
from django.db import connection

from forces.authentication import client_address
from incidents.models import CedLevel
from incidents.summaries import rebuild_summaries
from tests.conftest import PASSWORD
from tests.factories import CedUseFactory, ReportFactory

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": "postgres://oversight:secret@db.example.org:5432/oversight",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "example.org",
}


def manage(*args, env):
    """manage.py in a process of its own, whose settings read only `env` (beside PATH and the like)."""
    knobs = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "DATABASE_"))}
    # The test process itself may have loaded the WSGI application, which marks its process as the web's.
    for name in ("CELERY_BROKER_URL", "OVERSIGHT_PROCESS"):
        knobs.pop(name, None)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=knobs | env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize(
    ("env", "https"),
    [
        (PRODUCTION, "True True 31536000"),
        ({}, "False False 0"),  # the embedded default: plain http on 127.0.0.1
        ({"DJANGO_DEBUG": "true", "DATABASE_URL": PRODUCTION["DATABASE_URL"]}, "False False 0"),
        (PRODUCTION | {"DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "off"}, "False False 31536000"),
    ],
)
def test_https_is_on_in_production_and_off_in_the_embedded_default(env, https):
    shown = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
    shown += "s.SECURE_HSTS_SECONDS)"
    result = manage("shell", "--no-imports", "-c", shown, env=env)
    assert result.stdout.strip() == https, result.stderr


@pytest.fixture
def production_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000


def test_plain_http_is_sent_to_https_but_the_health_check(client, production_https, db):
    response = client.get("/public/")
    assert (response.status_code, response["Location"]) == (301, "https://testserver/public/")
    assert client.get("/healthz").status_code == 200


def test_production_answers_carry_hsts_and_the_security_headers(client, production_https, db):
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert (response["X-Frame-Options"], response["X-Content-Type-Options"]) == ("DENY", "nosniff")
    assert response["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_secure_and_the_session_one_unreadable_by_scripts(
    client, production_https, pcc_staff
):
    client.get("/accounts/login/", secure=True)
    assert client.cookies["csrftoken"]["secure"]
    response = client.post("/accounts/login/", {"username": pcc_staff.username, "password": PASSWORD}, secure=True)
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_the_content_security_policy_allows_no_inline_script(client, db):
    policy = dict(
        directive.strip().split(" ", 1) for directive in client.get("/").headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["default-src"] + policy["script-src"]


class Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.inline.append(attrs)
        self.inline += [f"{tag} {name}" for name in attrs if name.startswith("on")]


@pytest.mark.parametrize(
    "path",
    ["/", "/forces/thames-valley/", "/public/thames-valley/", "/reports/imports/", "/api/docs/", "/admin/",
     "/accounts/login/", "/account/tokens/", "/scrutiny/panels/", "/counting-rules/"],
)  # fmt: skip
def test_pages_have_no_inline_script_or_event_handler(client, pcc_staff, oxford, path):
    ReportFactory(area=oxford, ced_levels=[CedLevel.FIRED])
    rebuild_summaries(force_ids=["thames-valley"])
    client.force_login(pcc_staff)
    scripts = Scripts()
    scripts.feed(client.get(path).content.decode())
    assert scripts.inline == []


def test_the_interactive_docs_start_from_a_script_file(client, db):
    page = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="(/api/docs/\?script=[^"]*)"', page)[1]
    response = client.get(script.replace("&amp;", "&"))
    assert (response.status_code, response["Content-Type"]) == (200, "application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


# --- sign-in throttling ------------------------------------------------------------------------


def sign_in(client, username, password, address):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_password_guessing_is_refused_after_five_failures_from_one_address(client, pcc_staff):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, pcc_staff.username, "guess", "198.51.100.7").status_code == 200
    locked = sign_in(client, pcc_staff.username, "guess", "198.51.100.7")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Locked out, even the right password is refused from there; the account still opens from elsewhere.
    assert sign_in(client, pcc_staff.username, PASSWORD, "198.51.100.7").status_code == 429
    assert sign_in(client, pcc_staff.username, PASSWORD, "192.0.2.1").status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, superuser):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root", "password": "guess"}, REMOTE_ADDR="198.51.100.8")
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="198.51.100.8")
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "6.6.6.6", "10.0.0.2"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "203.0.113.5, 10.0.0.9", "203.0.113.5"),
    ],
)
def test_the_address_counted_is_the_sockets_unless_proxies_are_declared(rf, settings, proxies, forwarded, address):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == address


# --- every knob documented, docker-compose consistent ----------------------------------------------


def settings_knobs():
    source = (ROOT / "oversight" / "settings.py").read_text()
    return set(re.findall(r'(?:os\.environ\.get|env_bool|env_list)\("([A-Z_]+)"', source))


def test_every_environment_variable_the_settings_read_is_in_the_readmes_production_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Production") :]
    assert sorted(knob for knob in settings_knobs() if f"`{knob}`" not in table) == []


def test_docker_compose_runs_web_worker_and_beat_from_one_image_with_known_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    django = [services[name] for name in ("web", "worker", "beat")]
    assert {service["image"] for service in django} == {"taser-oversight"}
    environment = django[0]["environment"]
    assert all(service["environment"] == environment for service in django)
    assert set(environment) <= settings_knobs()
    assert {service["env_file"] for service in django} == {".env"}
    assert environment["DJANGO_DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith("postgres://") and environment["CELERY_BROKER_URL"].startswith(
        "redis://"
    )
    assert "gunicorn oversight.wsgi" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery --app oversight worker")
    assert services["beat"]["command"].startswith("celery --app oversight beat")
    assert {"pgdata", "media"} <= set(compose["volumes"])


def env_example_settings():
    """The settings .env.example names, set or commented out."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {match[1] for line in lines if (match := re.match(r"#?\s*([A-Z_]+)=", line))}


def test_docker_compose_passes_every_setting_the_readme_documents_from_the_env_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    fixed_by_compose = set(compose["services"]["web"]["environment"])
    assert env_example_settings() <= settings_knobs()
    assert sorted(settings_knobs() - env_example_settings() - fixed_by_compose) == []
    assert (
        ".env" in (ROOT / ".gitignore").read_text().split() and ".env" in (ROOT / ".dockerignore").read_text().split()
    )


def test_the_production_image_installs_only_what_production_runs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "requirements-dev.txt" not in dockerfile
    runtime = {
        line.split("==")[0].lower() for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line
    }
    assert runtime.isdisjoint({"pytest", "pytest-django", "playwright", "locust", "schemathesis", "ruff", "pip-audit"})
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"tests", "bench"} <= set(ignored)


def test_make_installs_again_when_either_requirements_file_changes():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/.installed: requirements.txt requirements-dev.txt" in makefile
    assert "pip install --quiet -r requirements.txt -r requirements-dev.txt" in makefile


# --- backups -------------------------------------------------------------------------------------


def database_url(name):
    db = connection.settings_dict
    user = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"


def rows_of(cursor, table, order):
    # As JSON text: the same on both connections, whatever each makes of a jsonb column.
    cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t ORDER BY {order}")  # noqa: S608 - our table names
    return cursor.fetchall()


TABLES = {
    "incidents_useofforcereport": "id", "incidents_ceduse": "id", "incidents_monthlysummary": "id",
    "auditlog_logentry": "id", "forces_force": "id", "auth_user": "id",
}  # fmt: skip


def test_a_pg_dump_backup_restores_into_a_new_database_with_every_row_and_rule(transactional_db, oxford, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("Backups are of the production database, PostgreSQL: pg_dump and pg_restore.")
    for day in range(1, 20):
        report = ReportFactory(area=oxford, occurred_on=f"2025-03-{day:02d}", ced_levels=[CedLevel.FIRED])
        CedUseFactory(report=report, ced_fired=True, cycles=day % 3)
    rebuild_summaries()
    db = connection.settings_dict
    env = os.environ | ({"PGPASSWORD": db["PASSWORD"]} if db["PASSWORD"] else {})
    server = ["--host", db["HOST"] or "localhost", "--port", str(db["PORT"] or 5432), "--username", db["USER"]]
    backup, restored = tmp_path / "oversight.dump", f"{db['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    # The commands the README gives, against the test database.
    subprocess.run(["pg_dump", *server, "--format=custom", "--file", str(backup), db["NAME"]], env=env, check=True)  # noqa: S603, S607
    subprocess.run(["createdb", *server, restored], env=env, check=True)  # noqa: S603, S607
    try:
        subprocess.run(  # noqa: S603
            ["pg_restore", *server, "--no-owner", "--exit-on-error", "--dbname", restored, str(backup)],  # noqa: S607
            env=env, check=True,
        )  # fmt: skip
        copy = psycopg2.connect(database_url(restored))
        try:
            with copy.cursor() as restored_cursor, connection.cursor() as live:
                for table, order in TABLES.items():
                    assert rows_of(restored_cursor, table, order) == rows_of(live.cursor, table, order), table
                restored_cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname")
                triggers = [name for (name,) in restored_cursor.fetchall()]
        finally:
            copy.close()
        assert "audit_trail_is_append_only" in triggers and "report_area_in_report_force_insert" in triggers
    finally:
        subprocess.run(["dropdb", *server, "--if-exists", restored], env=env, check=True)  # noqa: S603, S607


# --- bounded waits -------------------------------------------------------------------------------

SHOW_SETTINGS = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW statement_timeout')\n"
    "    timeout = cursor.fetchone()[0]\n"
    "    cursor.execute('SHOW random_page_cost')\n"
    "    print(timeout, cursor.fetchone()[0])\n"
)


def test_web_requests_have_a_statement_timeout_and_a_cheaper_row_fetch_and_the_commands_and_worker_neither(
    transactional_db,
):
    if connection.vendor != "postgresql":
        pytest.skip("A statement timeout is PostgreSQL's.")
    env = {"DATABASE_URL": database_url(connection.settings_dict["NAME"]), "DJANGO_SECRET_KEY": "x"}
    env |= {"DJANGO_WEB_STATEMENT_TIMEOUT_MS": "4000", "DJANGO_WEB_RANDOM_PAGE_COST": "1.5"}
    web = subprocess.run(  # noqa: S603 - our own interpreter, loading the web's WSGI application
        [sys.executable, "-c", "import oversight.wsgi\n" + SHOW_SETTINGS], cwd=ROOT, capture_output=True, text=True,
        env={name: value for name, value in os.environ.items() if name != "OVERSIGHT_PROCESS"} | env, timeout=120,
    )  # fmt: skip
    assert web.stdout.strip().splitlines()[-1] == "4s 1.5", web.stderr
    command = manage("shell", "-c", SHOW_SETTINGS, env=env)
    assert command.stdout.strip().splitlines()[-1] == "0 4", command.stderr
