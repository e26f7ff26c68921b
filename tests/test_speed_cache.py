"""Issue 19's behaviour (never its timings): the user's cache is used, invalidated when what it
was derived from changes, and skipped silently when it cannot be written; a looping function
costs its submission one timeout."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from grader.model import usercache
from grader.model.assignment import load_assignment
from grader.model.errors import AssignmentError
from grader.sandbox.supervisor import GIVE_UP_AFTER, Outcome, Sandbox, Step


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GRADE_CACHE_DIR", str(folder))
    return folder


def test_a_validated_assignment_is_read_from_the_cache_without_yaml_or_jsonschema(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "assignment.yaml").write_text((ROOT / "assignment.yaml").read_text())
    first = load_assignment(course / "assignment.yaml")
    assert list(cache.glob("assignment-*.bin"))
    code = ("import sys; from grader.model.assignment import load_assignment; "
            f"a = load_assignment({str(course / 'assignment.yaml')!r}); "
            "print(a.max_score, len(list(a.cases())), 'yaml' in sys.modules, 'jsonschema' in sys.modules)")
    env = {**os.environ, "GRADE_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(first.max_score), str(len(list(first.cases()))), "False", "False"]


def test_a_changed_assignment_is_validated_again(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    path = course / "assignment.yaml"
    text = (ROOT / "assignment.yaml").read_text()
    path.write_text(text)
    load_assignment(path)
    path.write_text(text.replace("timeout: 3.0", "timeout: -1"))  # invalid now: the cache must not hide it
    with pytest.raises(AssignmentError, match="timeout"):
        load_assignment(path)
    path.write_text(text.replace("timeout: 3.0", "timeout: 4.5"))
    assert load_assignment(path).timeout == 4.5


def test_a_corrupt_or_foreign_entry_is_a_miss_not_an_error(cache, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    path = course / "assignment.yaml"
    path.write_text((ROOT / "assignment.yaml").read_text())
    expected = load_assignment(path)
    for entry in cache.glob("assignment-*.bin"):
        key = entry.read_bytes().split(b"\n", 1)[0]
        entry.write_bytes(key + b"\n{not json")
    assert load_assignment(path).max_score == expected.max_score


def test_an_unwritable_cache_is_skipped_silently(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GRADE_CACHE_DIR", str(blocker / "cache"))  # cannot be made
    assert not usercache.write("x", "y", usercache.key(b"k"), b"data")
    assert usercache.read("x", "y", usercache.key(b"k")) is None
    assert load_assignment(ROOT / "assignment.yaml").max_score > 0


def test_an_empty_cache_setting_turns_the_cache_off(monkeypatch):
    monkeypatch.setenv("GRADE_CACHE_DIR", "")
    assert usercache.cache_dir() is None
    assert not usercache.write("x", "y", usercache.key(b"k"), b"data")


def test_the_cache_folder_follows_the_platforms_conventions(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform != "win32":
        assert usercache.cache_dir() == tmp_path / "xdg" / usercache.FOLDER


def test_a_key_changes_with_each_part(cache):
    assert usercache.key(b"a", b"b") != usercache.key(b"ab")
    assert usercache.write("k", "s", usercache.key(b"one"), b"1")
    assert usercache.read("k", "s", usercache.key(b"one")) == b"1"
    assert usercache.read("k", "s", usercache.key(b"two")) is None


def test_the_public_cases_file_is_decoded_once_then_read_from_the_cache(cache, tmp_path):
    from grader.grading.engine import Expectations, select_cases
    from grader.grading.public_cases import PublicCasesFile, write_public_cases

    assignment = load_assignment(ROOT / "assignment.yaml")
    public = [c for c in select_cases(assignment) if c.visibility == "public"][:6]
    plan = Expectations(assignment, use_reference=True).plan(public)
    path = tmp_path / "public_cases.npz"
    write_public_cases(path, assignment, plan.expected, plan.seed)
    first = PublicCasesFile(path)
    assert list(cache.glob("public-cases-*.bin"))
    second = PublicCasesFile(path)
    assert second.seed == first.seed and set(second.records) == set(first.records)
    for cid, record in first.records.items():
        assert repr(second.records[cid]) == repr(record)
    path.write_bytes(path.read_bytes()[:100])  # a truncated file is still an error, cache or not
    with pytest.raises(Exception, match="public_cases"):
        PublicCasesFile(path)


def test_catalogs_come_from_the_cache(cache, tmp_path):
    from grader.i18n import read_catalog
    catalog = tmp_path / "c.yaml"
    catalog.write_text("a:\n  b: hello\n")
    assert read_catalog(catalog) == {"a.b": "hello"}
    assert list(cache.glob("catalog-*.bin"))
    catalog.write_text("a:\n  b: bye\n")
    assert read_catalog(catalog) == {"a.b": "bye"}


def _sandbox_stub(calls=None):
    sandbox = Sandbox.__new__(Sandbox)
    sandbox.calls = calls or {}
    return sandbox


def test_one_timeout_gives_up_the_function_and_its_callers():
    steps = [Step("call", f"softmax/softmax/c{i}", 3.0, "softmax") for i in range(4)] + \
            [Step("call", "attention/attention_weights/c0", 3.0, "attention_weights")]
    outcomes = {"softmax/softmax/c0": Outcome("timeout")}
    _sandbox_stub({"attention_weights": {"softmax"}})._give_up_on_slow_groups(steps, outcomes)
    assert GIVE_UP_AFTER["timeout"] == 1
    assert all(outcomes[f"softmax/softmax/c{i}"].skipped for i in range(1, 4))
    assert outcomes["attention/attention_weights/c0"].status == "timeout"
    assert "1" in outcomes["softmax/softmax/c1"].detail.render()


def test_a_crash_gets_a_second_chance():
    steps = [Step("call", f"softmax/softmax/c{i}", 3.0, "softmax") for i in range(3)]
    outcomes = {"softmax/softmax/c0": Outcome("crash")}
    _sandbox_stub()._give_up_on_slow_groups(steps, outcomes)
    assert "softmax/softmax/c1" not in outcomes
    outcomes["softmax/softmax/c1"] = Outcome("crash")
    _sandbox_stub()._give_up_on_slow_groups(steps, outcomes)
    assert outcomes["softmax/softmax/c2"].skipped and outcomes["softmax/softmax/c2"].status == "crash"


def test_a_looping_function_costs_one_timeout_through_the_cli(tmp_path, solution):
    """Through the real CLI: one case of the looping function times out, the others are not run."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    for source in solution.glob("*.py"):
        (folder / source.name).write_text(source.read_text())
    softmax = folder / "softmax.py"
    softmax.write_text(softmax.read_text().replace("def softmax(x, axis=-1):\n",
                                                   "def softmax(x, axis=-1):\n    while True:\n        pass\n"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", str(folder), "-k", "softmax", "--json",
                           str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    cases = [c for e in json.loads((tmp_path / "r.json").read_text())["exercises"] for c in e["cases"]
             if c["function"] == "softmax"]
    assert len(cases) > 2 and {c["status"] for c in cases} == {"timeout"}
    messages = [c["message"] or "" for c in cases]  # a hidden case's message is not shown to the student
    assert messages[0].startswith("took longer"), messages
    assert all(m.startswith("not run: 1 earlier case") for m in messages[1:] if m), messages
