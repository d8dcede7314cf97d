"""manage.py as a user runs it: a problem they can cause is one sentence and a non-zero exit, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def manage(*args, **environment):
    """Run manage.py in a fresh process with only the environment given (and PATH)."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "oversight.settings", **environment}
    return subprocess.run(  # noqa: S603 - our own manage.py, with arguments from the tests
        [sys.executable, str(MANAGE), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def assert_one_sentence(result, *phrases):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


def test_a_production_database_without_a_secret_key_is_refused_in_one_sentence():
    result = manage("check", DATABASE_URL="postgres://oversight@127.0.0.1:5432/oversight")
    assert_one_sentence(result, "Set DJANGO_SECRET_KEY when DATABASE_URL is set")


def test_a_database_url_that_is_not_an_address_is_refused_without_echoing_it():
    result = manage("check", DATABASE_URL="mysqll://someone:secret@db/oversight", DJANGO_SECRET_KEY="x")
    assert_one_sentence(result, "DATABASE_URL 'mysqll'... is not a database address")
    assert "secret" not in result.stderr


def test_an_unreachable_database_server_is_named_in_one_sentence():
    # Nothing listens on port 1.
    result = manage("load_forces", DATABASE_URL="postgres://postgres@127.0.0.1:1/oversight", DJANGO_SECRET_KEY="x")
    assert_one_sentence(result, "The database 'oversight' on 127.0.0.1:1 cannot be opened", "Connection refused")


def test_a_missing_postgresql_database_says_to_create_it():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs PostgreSQL: set DATABASE_URL")
    missing = url.rsplit("/", 1)[0] + "/no_such_database_here"
    result = manage("migrate", DATABASE_URL=missing, DJANGO_SECRET_KEY="x")
    assert_one_sentence(result, 'database "no_such_database_here" does not exist', "createdb")


def test_a_database_not_yet_migrated_says_to_run_migrate(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    result = manage("load_forces", DATABASE_URL=f"sqlite:///{database}", DJANGO_SECRET_KEY="x")
    assert_one_sentence(result, f"The database file {database} lacks", "run python manage.py migrate first")


def test_a_sqlite_file_in_a_missing_folder_is_named(tmp_path):
    database = tmp_path / "no-such-folder" / "oversight.sqlite3"
    result = manage("migrate", DATABASE_URL=f"sqlite:///{database}", DJANGO_SECRET_KEY="x")
    assert_one_sentence(result, f"The database file {database} cannot be opened", "folder exists")


def test_the_readme_steps_run_in_order_on_a_fresh_database(tmp_path):
    environment = {"DATABASE_URL": f"sqlite:///{tmp_path / 'oversight.sqlite3'}", "DJANGO_SECRET_KEY": "x"}
    assert manage("migrate", "--noinput", **environment).returncode == 0
    loaded = manage("load_forces", **environment)
    assert loaded.returncode == 0, loaded.stderr
    counted = manage(
        "shell", "-v", "0", "-c", "from forces.models import Force; print(Force.objects.count())", **environment
    )
    assert counted.stdout.strip() == "44"  # the 43 territorial forces and British Transport Police
