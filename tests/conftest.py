"""Shared fixtures: the forces, two areas of different forces, and one user per role."""

import contextlib
import fcntl
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from forces.models import Force, Role
from forces.roles import force_of
from forces.services import create_api_token, create_role_user, load_forces
from tests.factories import AreaFactory

PASSWORD = "a-long-test-password"

# The real published files, read where they lie and never copied into the repository:
# ../shared/data beside the project, or wherever SHARED_DATA points.
SHARED_DATA = Path(os.environ.get("SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
ONS_LOOKUP = (
    SHARED_DATA / "ons"
    / "Local_Authority_District_to_Community_Safety_Partnerships_to_Police_Force_Areas__December_2016__"
    "Lookup_in_England_and_Wales.csv"
)  # fmt: skip
HOME_OFFICE = SHARED_DATA / "home-office"
HOME_OFFICE_TABLES_2019_20 = HOME_OFFICE / "police-use-of-force-apr2019-mar2020-hosb3720-tables.ods"
HOME_OFFICE_TABLES_2018_19 = HOME_OFFICE / "police-use-of-force-apr2018-mar2019-hosb3319-tables.ods"
HOME_OFFICE_TASER_2016 = HOME_OFFICE / "police-use-of-conducted-energy-devices-2016.ods"


FETCH_COMMAND = "make data (python manage.py fetch_published)"


def published(path):
    """The published file at path, or the test skipped with the command that fetches it."""
    if not path.is_file():
        # CI holds every published file, so there a missing one is a failure, not a skip.
        if os.environ.get("REQUIRE_PUBLISHED_DATA"):
            pytest.fail(f"{path} is missing: {FETCH_COMMAND} downloads it")
        pytest.skip(f"{path.name} is not in {path.parent}: {FETCH_COMMAND} downloads it (or set SHARED_DATA)")
    return path


CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Without these, Chromium reaches for Google's hosts, which this product must never need.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright, shared by every browser test of the session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def cache_of_its_own(settings, request):
    # Throttling counts and import progress live in the cache: each test starts from nothing,
    # and never touches a Redis someone else uses.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}
    }


def parallel_index():
    """0, 1, … for pytest-xdist's test processes gw0, gw1, …; 0 for a run in one process.

    What the test processes share outside their databases (Redis databases, ports) is told apart by it."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


@pytest.fixture(autouse=True)
def taking_turns(request, tmp_path_factory):
    """In a parallel run, a test marked `alone` runs while no other test does: it waits for the tests in hand
    to end, and tests not yet begun wait for it (a test that measures the machine, such as the load test)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    alone = request.node.get_closest_marker("alone") is not None
    # Every process of one run has its folder in this one.
    run_folder = tmp_path_factory.getbasetemp().parent
    with open(run_folder / "turnstile.lock", "a") as turnstile, open(run_folder / "tests.lock", "a") as tests:
        # Through the turnstile one at a time: one that waits to run alone holds it, so no test starts after it.
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        fcntl.flock(tests, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(tests, fcntl.LOCK_UN)
            fcntl.flock(turnstile, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def media_of_this_process(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def media_of_its_own(settings, media_of_this_process):
    # Uploads are stored under their batch's id, which each test process's database counts from 1: processes
    # side by side must not store them in one folder (nor in the project's own media/).
    settings.MEDIA_ROOT = media_of_this_process


FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@contextlib.contextmanager
def rows_for_a_module(django_db_blocker):
    """Rows written in this block are there for every test of a module, written once rather than once a test.

    They are written in a transaction the module's tests run inside, each (with `db`) in a savepoint that is
    rolled back after it, so no test sees another's changes; the transaction is rolled back after the last.
    The forces are loaded first: the block is given (Thames Valley, the Met).
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        with transaction.atomic():
            load_forces()
            yield Force.objects.get(pk="thames-valley"), Force.objects.get(pk="metropolitan")
            transaction.set_rollback(True)


@pytest.fixture
def forces(db):
    load_forces()
    return Force.objects.all()


@pytest.fixture
def thames_valley(forces):
    return Force.objects.get(pk="thames-valley")


@pytest.fixture
def metropolitan(forces):
    return Force.objects.get(pk="metropolitan")


def make_oxford(thames_valley):
    return AreaFactory(force=thames_valley, name="Oxford", code="E22000155")


def make_lambeth(metropolitan):
    return AreaFactory(force=metropolitan, name="Lambeth", code="E22000022", kind="borough")


@pytest.fixture
def oxford(thames_valley):
    return make_oxford(thames_valley)


@pytest.fixture
def lambeth(metropolitan):
    return make_lambeth(metropolitan)


def role_user(role, force):
    return create_role_user(f"{role.value}_{force.pk}", role, force, PASSWORD)


def make_panel_chair(thames_valley):
    return create_role_user(f"panel_chair_{thames_valley.pk}", Role.PANEL_MEMBER, thames_valley, PASSWORD)


def make_superuser():
    return get_user_model().objects.create_superuser("root", password=PASSWORD)


def callers_by_name(thames_valley):
    """The users the permission tests sign in as, by caller name (as signed_in_callers), made now."""
    return {
        "pcc_staff": role_user(Role.PCC_STAFF, thames_valley),
        "panel_member": role_user(Role.PANEL_MEMBER, thames_valley),
        "panel_chair": make_panel_chair(thames_valley),
        "force_data_officer": role_user(Role.FORCE_DATA_OFFICER, thames_valley),
        "api_client": role_user(Role.API_CLIENT, thames_valley),
        "superuser": make_superuser(),
    }


@pytest.fixture
def pcc_staff(thames_valley):
    return role_user(Role.PCC_STAFF, thames_valley)


@pytest.fixture
def panel_member(thames_valley):
    return role_user(Role.PANEL_MEMBER, thames_valley)


@pytest.fixture
def panel_chair(thames_valley):
    """A panel-member login of Thames Valley; a test makes them chair of a panel (PanelMember.role)."""
    return make_panel_chair(thames_valley)


@pytest.fixture
def force_data_officer(thames_valley):
    return role_user(Role.FORCE_DATA_OFFICER, thames_valley)


@pytest.fixture
def api_client_user(thames_valley):
    return role_user(Role.API_CLIENT, thames_valley)


@pytest.fixture
def superuser(db):
    return make_superuser()


@pytest.fixture
def signed_in_callers(pcc_staff, panel_member, panel_chair, force_data_officer, api_client_user, superuser):
    """The users the permission tests sign in as, by caller name: each role's, a panel chair and a superuser."""
    return {
        "pcc_staff": pcc_staff, "panel_member": panel_member, "panel_chair": panel_chair,
        "force_data_officer": force_data_officer, "api_client": api_client_user, "superuser": superuser,
    }  # fmt: skip


@pytest.fixture
def role_users(pcc_staff, panel_member, force_data_officer, api_client_user):
    """Every role's user of Thames Valley, by role name."""
    return {
        Role.PCC_STAFF: pcc_staff,
        Role.PANEL_MEMBER: panel_member,
        Role.FORCE_DATA_OFFICER: force_data_officer,
        Role.API_CLIENT: api_client_user,
    }


@pytest.fixture
def token_key():
    """token_key(user, access="read") → a new API token's key for the user's force."""

    def make(user, access="read", force=None):
        _, key = create_api_token(user=user, name="a script", access=access, force=force or force_of(user))
        return key

    return make
