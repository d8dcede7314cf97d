# The two commands a newcomer needs:  make demo  and  make test  (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test screenshots data lint audit chromium

# (Re)install whenever either requirements file changes: production's and the tests' (which make uses).
$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

PORT ?= 8000

## Set up the embedded default (SQLite, tasks in-process), load demo data, serve on :$(PORT) (make demo PORT=8001).
demo: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --reports 20000 --seed 1
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Test processes side by side (pytest-xdist): one per CPU; each has a test database of its own (test_…_gw0, …).
# TEST_WORKERS=0 runs the suite in this one process, as plain `pytest` does.
TEST_WORKERS ?= logical

## The whole test suite (SQLite by default; PostgreSQL when DATABASE_URL is set), in parallel.
test: export DJANGO_SECRET_KEY ?= test-only-secret-key
test: $(BIN)/.installed chromium
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist loadgroup

## The README's screenshots (docs/screenshots), taken by the browser tests; the only target that rewrites them.
screenshots: export DJANGO_SECRET_KEY ?= test-only-secret-key
screenshots: $(BIN)/.installed chromium
	TAKE_SCREENSHOTS=1 $(BIN)/pytest tests/test_browser.py

## The published files (Home Office tables, ONS lookups, Census TS021) of published_data.toml, verified, into
## ../shared/data (or SHARED_DATA), where the importer tests and the README's examples read them.
data: $(BIN)/.installed
	$(BIN)/python manage.py fetch_published

## Style, the layers between and inside the apps (pyproject.toml's contracts) and the types (mypy).
lint: export DJANGO_SECRET_KEY ?= lint-only-secret-key
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

## Known vulnerabilities in the pinned requirements (pip-audit; needs PyPI's advisory data).
audit: $(BIN)/.installed
	.ci/audit

# The browser tests drive Debian's Chromium; install it when we may.
chromium:
	@test -x $(CHROMIUM) || { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "The browser tests need Chromium at $(CHROMIUM): apt-get install chromium (Debian/Ubuntu)."; exit 1; }
