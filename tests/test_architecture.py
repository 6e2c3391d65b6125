"""The architecture is checked, not hoped for: import-linter's contracts (pyproject.toml) hold
for the code as it is, and break when a model imports a view or two modules import each other."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def copy_of_the_code(tmp_path):
    shutil.copytree(ROOT / "assessments", tmp_path / "assessments")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def inject(path: Path, line: str) -> None:
    path.write_text(line + "\n" + path.read_text())


def test_the_contracts_hold_for_the_code():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_model_importing_a_view_breaks_the_layers(copy_of_the_code):
    inject(copy_of_the_code / "assessments/models/catalog.py", "from assessments.views import home")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "Layers" in result.stdout and "BROKEN" in result.stdout


def test_a_cycle_between_services_is_refused(copy_of_the_code):
    # answers imports workflow already; workflow importing answers closes a cycle.
    inject(copy_of_the_code / "assessments/workflow.py", "from assessments import answers")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "No import cycles" in result.stdout and "BROKEN" in result.stdout


def test_views_do_not_import_each_other(copy_of_the_code):
    inject(copy_of_the_code / "assessments/views/home.py", "from assessments.views import review")
    result = lint_imports(copy_of_the_code)
    assert result.returncode != 0
    assert "Views do not import each other BROKEN" in result.stdout
