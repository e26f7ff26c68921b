"""The user's cache is keyed by content: two copies of one course (a fresh clone, a release
unpacked elsewhere) read the same entries, so the second copy's first run imports no YAML
parser or jsonschema and decodes no public-cases file; a changed copy gets entries of its own
and leaves the other's readable."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GRADE_CACHE_DIR", str(folder))
    return folder


def copy_course(target):
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "assignment.yaml", target / "assignment.yaml")
    (target / "locale.yaml").write_text("greeting:\n  hello: bonjour\n", encoding="utf-8")
    return target


PROBE = """
import sys
from pathlib import Path
from grader.model.assignment import load_assignment
from grader.i18n import read_catalog
folder = Path(sys.argv[1])
assignment = load_assignment(folder / "assignment.yaml")
catalog = read_catalog(folder / "locale.yaml")
print(assignment.max_score, catalog["greeting.hello"], "yaml" in sys.modules, "jsonschema" in sys.modules)
"""


def probe(folder, cache) -> list:
    env = {**os.environ, "GRADE_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", PROBE, str(folder)], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout.split()


def test_a_second_copy_of_a_course_reads_the_first_copys_entries(cache, tmp_path):
    first, second = copy_course(tmp_path / "one"), copy_course(tmp_path / "elsewhere" / "two")
    assert probe(first, cache)[2:] == ["True", "True"]  # the first run parses and validates
    entries = sorted(p.name for p in cache.iterdir())
    assert probe(second, cache) == [probe(first, cache)[0], "bonjour", "False", "False"]
    assert sorted(p.name for p in cache.iterdir()) == entries  # nothing written again for the copy


def test_a_changed_copy_gets_its_own_entries_and_the_other_stays_cached(cache, tmp_path):
    first, second = copy_course(tmp_path / "one"), copy_course(tmp_path / "two")
    probe(first, cache)
    path = second / "assignment.yaml"
    path.write_text(path.read_text().replace("timeout: 3.0", "timeout: 4.5", 1))
    (second / "locale.yaml").write_text("greeting:\n  hello: salut\n", encoding="utf-8")
    assert probe(second, cache)[1:] == ["salut", "True", "True"]
    assert probe(first, cache)[1:] == ["bonjour", "False", "False"]
    assert probe(second, cache)[1:] == ["salut", "False", "False"]


def test_a_copied_public_cases_file_is_read_from_the_cache(cache, tmp_path, monkeypatch):
    from grader.grading.engine import Expectations, select_cases
    from grader.grading.public_cases import PublicCasesFile, write_public_cases
    from grader.model.assignment import load_assignment

    assignment = load_assignment(ROOT / "assignment.yaml")
    public = [c for c in select_cases(assignment) if c.visibility == "public"][:4]
    plan = Expectations(assignment, use_reference=True).plan(public)
    path = tmp_path / "one" / "public_cases.npz"
    path.parent.mkdir()
    write_public_cases(path, assignment, plan.expected, plan.seed)
    first = PublicCasesFile(path)
    copy = tmp_path / "two" / "public_cases.npz"
    copy.parent.mkdir()
    shutil.copy2(path, copy)
    monkeypatch.setattr(PublicCasesFile, "_read", lambda self, raw: pytest.fail("the copy was decoded again"))
    second = PublicCasesFile(copy)
    assert set(second.records) == set(first.records)
    assert all(repr(second.records[cid]) == repr(record) for cid, record in first.records.items())
