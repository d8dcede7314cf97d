"""The import-linter contracts of pyproject.toml fail when a forbidden import is added.

Each test copies the apps into a temporary folder, adds one import the layers forbid, and runs
lint-imports there: the contract must be broken and name the import. The real tree is `make lint`'s.
"""

import os
import shutil
import subprocess  # noqa: S404 - runs the project's own lint-imports
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("oversight", "forces", "incidents", "scrutiny", "audit", "dashboards")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not LINT_IMPORTS.exists(), reason="import-linter is not installed (requirements-dev.txt)"
)


def lint_imports(tree, contract):
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(  # noqa: S603 - a fixed command on a copy of our own code
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=tree, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def tree(tmp_path):
    """A copy of the apps and pyproject.toml."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(tree, module, statement):
    path = tree / (module.replace(".", "/") + ".py")
    if not path.exists():  # a package
        path = tree / module.replace(".", "/") / "__init__.py"
    path.write_text(f"{statement}\n{path.read_text()}")


def test_charts_that_import_a_model_break_the_pure_charts_contract(tree):
    assert lint_imports(tree, "pure-charts").returncode == 0
    add_import(tree, "scrutiny.charts", "from scrutiny.models import Finding  # noqa: F401")
    result = lint_imports(tree, "pure-charts")
    assert result.returncode != 0
    assert "scrutiny.charts is not allowed to import scrutiny.models" in result.stdout


def test_charts_that_import_the_database_break_the_pure_charts_contract(tree):
    add_import(tree, "forces.charts", "from django.db import connection  # noqa: F401")
    result = lint_imports(tree, "pure-charts")
    assert result.returncode != 0
    assert "forces.charts is not allowed to import django" in result.stdout


def test_queries_that_import_a_view_break_the_read_side_contract(tree):
    assert lint_imports(tree, "read-side").returncode == 0
    add_import(tree, "incidents.queries", "import scrutiny.views  # noqa: F401")
    result = lint_imports(tree, "read-side")
    assert result.returncode != 0
    assert "incidents.queries is not allowed to import scrutiny.views" in result.stdout


def test_reference_data_that_imports_the_panels_breaks_the_layers_between_apps(tree):
    add_import(tree, "forces.models", "import scrutiny.models  # noqa: F401")
    result = lint_imports(tree, "apps")
    assert result.returncode != 0
    assert "forces.models -> scrutiny.models" in result.stdout


def test_an_app_that_imports_the_dashboards_above_it_breaks_the_layers_between_apps(tree):
    assert lint_imports(tree, "apps").returncode == 0
    # A module inside a package split by feature is held to its app's layer like the package itself.
    add_import(tree, "scrutiny.queries.reports", "import dashboards.queries  # noqa: F401")
    result = lint_imports(tree, "apps")
    assert result.returncode != 0
    assert "scrutiny.queries.reports -> dashboards.queries" in result.stdout


def test_dashboard_charts_that_import_a_model_break_the_pure_charts_contract(tree):
    add_import(tree, "dashboards.charts", "from incidents.models import AgeBand  # noqa: F401")
    result = lint_imports(tree, "pure-charts")
    assert result.returncode != 0
    assert "dashboards.charts is not allowed to import incidents.models" in result.stdout


def test_shared_helpers_in_oversight_that_import_an_app_break_the_layers(tree):
    add_import(tree, "oversight.police_calendar", "import forces.models  # noqa: F401")
    result = lint_imports(tree, "apps")
    assert result.returncode != 0
    assert "oversight.police_calendar -> forces.models" in result.stdout
