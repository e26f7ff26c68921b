"""The installed distribution's entry points (importlib.metadata): the console script
`grade = grader.cli:main` and the pytest plugin `seance11 = grader.pytest_plugin` (group
`pytest11`). pip makes the `grade` command from the first one — a script on Linux and macOS,
`grade.exe` on Windows — and `pytest` loads the plugin through the second, so both work as
commands on every system without `python -m`."""
import subprocess
import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path

import pytest

from conftest import ROOT

DISTRIBUTION = "seance11-grader"


@pytest.fixture(scope="module")
def installed():
    try:
        return distribution(DISTRIBUTION)
    except PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not installed in this environment (pip install -e '.[test]')")


def declared(dist, group: str) -> dict:
    return {ep.name: ep.value for ep in dist.entry_points if ep.group == group}


def test_console_script_grade_is_grader_cli_main(installed):
    assert declared(installed, "console_scripts") == {"grade": "grader.cli:main"}
    import grader.cli
    (grade,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "grade"]  # nobody else's `grade`
    assert grade.value == "grader.cli:main" and grade.load() is grader.cli.main


def test_pytest11_entry_point_is_the_plugin(installed):
    assert declared(installed, "pytest11") == {"seance11": "grader.pytest_plugin"}
    import grader.pytest_plugin
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "seance11"]
    assert plugin.load() is grader.pytest_plugin


def test_entry_points_are_the_ones_pyproject_declares(installed):
    """The installed metadata is not stale: the same as pyproject.toml's (re-run `pip install -e .`
    after changing them)."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib: Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert declared(installed, "console_scripts") == project["scripts"]
    assert declared(installed, "pytest11") == project["entry-points"]["pytest11"]


def test_the_grade_command_pip_made_runs(installed):
    """pip wrote the command into this environment's scripts folder (`grade.exe` on Windows)."""
    scripts = Path(sysconfig.get_path("scripts"))
    command = scripts / ("grade.exe" if sys.platform == "win32" else "grade")
    if not command.is_file():
        pytest.skip(f"no {command.name} in {scripts}: {DISTRIBUTION} was installed into another environment")
    shown = subprocess.run([str(command), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.lstrip().startswith("usage: grade")
