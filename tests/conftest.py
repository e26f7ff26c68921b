"""Shared fixtures: the real assignment, and submissions built from the reference."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def assignment():
    from grader.assignment import load_assignment
    return load_assignment(ROOT / "assignment.yaml")


def solution_folder(target: Path) -> Path:
    """The reference as a student would write it: a folder of modules importing each other
    as `exercises.<module>`."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "reference").glob("*.py"):
        if source.name == "mistakes.py":
            continue
        text = re.sub(r"from \.(\w+) import", r"from exercises.\1 import", source.read_text())
        (target / source.name).write_text(text)
    return target


@pytest.fixture(scope="session")
def solution(tmp_path_factory):
    return solution_folder(tmp_path_factory.mktemp("solution") / "exercises")


def run_grade(*args, cwd=ROOT, timeout=300):
    """The real CLI, as a student runs it."""
    return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
