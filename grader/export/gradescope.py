"""Gradescope: the autograder zip (instructor side) and what runs inside Gradescope's container.

    build_autograder_zip(assignment, out_zip)   the zip to upload on "Configure Autograder"
    run(autograder_root)                        grades <root>/submission, writes
                                                <root>/results/results.json (run_autograder calls
                                                `python -m grader.export.gradescope /autograder`)

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/export/gradescope.py ».
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from grader.export.junit import hidden_like
from grader.model.assignment import ASSIGNMENT_FILE, Assignment, load_assignment
from grader.model.errors import GraderError
from grader.model.files import atomic_write
from grader.i18n import LANGUAGES, set_language, t
from grader.model.replay import replay_command
from grader.model.said import render
from grader.model.statuses import describe

from grader import PACKAGE as ENGINE
from grader.model import truncation

GRADESCOPE_TEMPLATES = Path(__file__).resolve().parent / "templates" / "gradescope"

DEFAULT_ROOT = "/autograder"
SUBMISSION, RESULTS, METADATA = "submission", "results/results.json", "submission_metadata.json"
FALLBACK_STUDENT = "gradescope"   # no metadata (a local trial run): one fixed seed

# The engine's runtime dependencies, pinned for Gradescope's image (Ubuntu 22.04 by default,
# Python 3.10; 24.04 has 3.12): the newest releases that install as wheels on both (numpy 2.2 is
# the last numpy for Python 3.10). Each satisfies pyproject.toml's lower bound; the tests check
# that every dependency there is pinned here.
PINNED = {"numpy": "2.2.6", "pyyaml": "6.0.2", "jinja2": "3.1.6", "nbformat": "5.10.4",
          "jsonschema": "4.23.0", "tqdm": "4.67.1"}
# What those pull in, pinned too and installed with `--no-deps`, then `pip check`: a transitive
# dependency left to the resolver came out at different versions on Python 3.10 and 3.12. The
# set is closed for both (tests/test_consumers_gradescope.py walks the installed metadata, markers
# evaluated for Linux, Python 3.10 and 3.12); every one has wheels for 3.10 to 3.12.
LOCKED = {"markupsafe": "3.0.2", "fastjsonschema": "2.21.1", "jupyter-core": "5.7.2", "traitlets": "5.14.3",
          "platformdirs": "4.3.6", "attrs": "24.3.0", "jsonschema-specifications": "2024.10.1",
          "referencing": "0.36.2", "rpds-py": "0.22.3", "typing-extensions": "4.12.2"}
IMPORT_NAMES = {"pyyaml": "yaml"}
MIN_PYTHON = (3, 10)
VENV = "/opt/grader-venv"         # setup.sh's virtual environment, outside /autograder

SCRIPTS = (("setup.sh.j2", "setup.sh"), ("run_autograder.j2", "run_autograder"))
EXECUTABLE = {"setup.sh", "run_autograder"}
JUNK = {"__pycache__", ".DS_Store"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the same course gives the same zip, byte for byte

UNITS = 10**6                     # points are split in millionths: the tests add up exactly
MAX_TEST_OUTPUT = 4000
VISIBILITY = {"public": "visible", "hidden": "after_published"}


# --- the zip (instructor side) -------------------------------------------------------------------

def build_autograder_zip(assignment: Assignment, out_zip: Path) -> Path:
    """Write Gradescope's autograder zip to `out_zip` (replaced atomically); return its path.

    At the zip's root (= /autograder/source on Gradescope): setup.sh and run_autograder
    (executable), the engine (`grader/`), the assignment file with every case, the reference
    package, the course's generator modules and the mistakes module when the assignment names
    them. Never the tests, the stubs, or anything else of the course's repository."""
    from grader.grading.expected import reference_available

    if not reference_available(assignment):
        raise GraderError(t("gradescope.error.no_reference"))
    files = autograder_files(assignment)
    out_zip = Path(out_zip).expanduser().resolve()
    if out_zip.is_dir():
        raise GraderError(t("gradescope.error.zip_is_folder", path=out_zip))
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    data = _zip_bytes(files)
    _check_zip(data, assignment)
    return atomic_write(out_zip, data)


def autograder_files(assignment: Assignment) -> dict[str, bytes]:
    """{path in the zip: bytes}, sorted."""
    root = assignment.root.resolve()
    files: dict[str, bytes] = {}
    files.update(render_scripts())
    files[ASSIGNMENT_FILE] = assignment.path.read_bytes()
    files.update(_tree(ENGINE, "grader"))
    modules = [assignment.reference, assignment.mistakes, *assignment.generators]
    for top in dict.fromkeys(m.split(".")[0] for m in modules if m):
        if (root / top).is_dir() and not (root / top).is_symlink():
            if not (root / top / "__init__.py").is_file():
                raise GraderError(t("gradescope.error.not_a_package", path=root / top))
            files.update(_tree(root / top, top))
        elif (root / f"{top}.py").is_file():
            files[f"{top}.py"] = (root / f"{top}.py").read_bytes()
        else:
            raise GraderError(t("gradescope.error.module_not_found", path=assignment.path, module=top, root=root))
    return dict(sorted(files.items()))


def render_scripts() -> dict[str, bytes]:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(GRADESCOPE_TEMPLATES)), autoescape=False,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    context = {"venv": VENV, "min_python": ".".join(map(str, MIN_PYTHON)),
               "min_python_tuple": ", ".join(map(str, MIN_PYTHON)),
               "requirements": [f"{name}=={version}" for name, version in {**PINNED, **LOCKED}.items()],
               "imports": ", ".join(IMPORT_NAMES.get(name, name) for name in PINNED)}
    return {dest: env.get_template(name).render(**context).encode("utf-8") for name, dest in SCRIPTS}


def _tree(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under `folder` (no links, caches or compiled files), as prefix/…"""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if JUNK.intersection(rel.parts) or path.suffix in (".pyc", ".pyo") or any(
                p.startswith(".") for p in rel.parts):
            continue
        if path.is_symlink():
            raise GraderError(t("gradescope.error.symlink", path=path))
        if path.is_file():
            found[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    return found


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3  # Unix: unzip applies the mode below
            mode = 0o755 if name in EXECUTABLE else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _check_zip(data: bytes, assignment: Assignment):
    """The zip must load as Gradescope will load it: every case, the reference, nothing else."""
    from grader.grading.expected import reference_available

    with tempfile.TemporaryDirectory(prefix="gradescope-check-") as tmp:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            archive.extractall(tmp)
        shipped = load_assignment(Path(tmp) / ASSIGNMENT_FILE)
        problems = []
        if [c.id for c in shipped.cases()] != [c.id for c in assignment.cases()]:
            problems.append(t("gradescope.error.zip_cases"))
        if not reference_available(shipped):
            problems.append(t("gradescope.error.zip_reference"))
        if any(n.split("/")[0] in ("tests", assignment.package) for n in names):
            problems.append(t("gradescope.error.zip_tests"))
        if not {"setup.sh", "run_autograder", "grader/export/gradescope.py"} <= set(names):
            problems.append(t("gradescope.error.zip_engine"))
    if problems:
        raise GraderError(t("gradescope.error.zip_wrong", problems="; ".join(problems)))


# --- inside Gradescope's container -------------------------------------------------------------

def run(autograder_root: Path) -> dict:
    """Grade <root>/submission with <root>/source and write <root>/results/results.json.
    Whatever happens, results.json is written (score 0 and the reason when nothing could be
    graded). Returns what was written."""
    started = time.monotonic()
    root = Path(autograder_root).resolve()
    try:
        results = _grade(root, started)
    except Exception as exc:  # the grader's side, never the student's: say so, keep the details for stdout
        traceback.print_exc(file=sys.stdout)
        reason = str(exc) if isinstance(exc, GraderError) else f"{type(exc).__name__}: {exc}"
        results = _nothing_graded(t("gradescope.grader_failed", reason=reason), started)
    write_results(root, results)
    return results


def _grade(root: Path, started: float) -> dict:
    from grader.grading.engine import Expectations, grade, select_cases
    from grader.grading.submission import load_submission

    assignment = load_assignment(root / "source" / ASSIGNMENT_FILE)
    student = student_id(root / METADATA)
    submitted = root / SUBMISSION
    with tempfile.TemporaryDirectory(prefix="gradescope-") as work:
        extracted = Path(work) / "extracted"
        tidy = _tidier(submitted, extracted)
        target, problem = resolve_submission(submitted, extracted)
        if problem:
            return _nothing_graded(_unreadable(tidy(problem)), started)
        try:
            submission = load_submission(target, assignment.package)
        except GraderError as exc:  # unreadable: the student's, not the grader's
            return _nothing_graded(_unreadable(tidy(str(exc))), started)
        cases = select_cases(assignment)
        plan = Expectations(assignment, use_reference=True).plan(cases, student=student)
        result = grade(assignment, submission, plan, student={"id": student, "origin": "gradescope"},
                       protect=[str(root)])
        result.name_public_twins(assignment)  # a failing hidden case's test names its public twin
        graded = _what_was_graded(target, submitted)
        print(_instructor_summary(result, assignment, student, graded))
        return to_results(result, time.monotonic() - started, tidy, graded, student)


def _what_was_graded(target: Path, submitted: Path) -> str:
    """The graded part of the submission, as the student named it: a path inside their upload, the
    modules at its top (a plain upload: the folder itself, never "."), or their zip."""
    if not target.is_relative_to(submitted):
        return t("gradescope.your_zip")
    if target == submitted:
        modules = sorted(p.name for p in target.iterdir() if p.suffix == ".py" and p.is_file()
                         and not p.is_symlink())
        shown = ", ".join(modules[:6]) + (", …" if len(modules) > 6 else "")
        return t("gradescope.your_modules", modules=shown) if modules else t("gradescope.your_submission")
    return target.relative_to(submitted).as_posix()


def student_id(metadata: Path) -> str:
    """`users[0].id` of Gradescope's submission metadata, else the submission's `id`, else a
    fixed id. Only [A-Za-z0-9._-]: it is a seed's input and shown in a replay command."""
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FALLBACK_STUDENT
    candidates = []
    if isinstance(data, dict):
        users = data.get("users")
        if isinstance(users, list) and users and isinstance(users[0], dict):
            candidates.append(users[0].get("id"))
        candidates.append(data.get("id"))
    for value in candidates:
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            text = re.sub(r"[^A-Za-z0-9._-]", "_", str(value)).strip("._-")[:64]
            if text:
                return text
    return FALLBACK_STUDENT


def resolve_submission(folder: Path, extract_to: Path) -> tuple[Path | None, str | None]:
    """What to grade in Gradescope's submission folder, as `grade bulk` finds it in one
    student's folder (grader/bulk/intake.py): an `exercises/` package (a whole repository too), the
    modules at the top, one .py or one notebook, or one zip (extracted with intake's caps).
    Returns (path, None) or (None, why it cannot be graded)."""
    from grader.bulk import intake

    if not folder.is_dir() or folder.is_symlink():
        return None, t("gradescope.no_submission_folder")
    try:
        return intake._resolve_folder(folder, t("gradescope.your_submission"), extract_to)
    except OSError as exc:
        return None, t("gradescope.unreadable_file", path=exc.filename or folder, reason=exc.strerror)


def _tidier(submitted: Path, extracted: Path):
    """Students see their own file names, not the container's folders (messages write paths
    natively: the separator is the platform's)."""
    prefixes = sorted({f"{p}{os.sep}" for p in (submitted, submitted.resolve(), extracted, extracted.resolve())},
                      key=len, reverse=True)

    def tidy(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text
    return tidy


def _unreadable(reason: str) -> str:
    return t("gradescope.nothing_graded", reason=reason) + "\n\n" + t("gradescope.what_to_submit")


def _nothing_graded(output: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": _seconds(time.monotonic() - started), "output": output,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def _seconds(value: float) -> int:
    return max(0, int(math.ceil(value)))


def split_units(total_points: float, max_points: list[float]) -> list[int]:
    """Each case's points in millionths, adding up exactly to the exercise's points (largest
    remainders get the leftover millionths), so that the tests add up to the score."""
    target = round(total_points * UNITS)
    raw = [p * UNITS for p in max_points]
    units = [math.floor(r) for r in raw]
    leftover = target - sum(units)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - units[i]), i))
    for i in order[:max(0, leftover)]:
        units[i] += 1
    return units


def to_results(result, seconds: float, tidy=lambda text: text, graded: str = "", student: str = "") -> dict:
    """The engine's Result as Gradescope's results.json: one test per case, the score their sum."""
    tests, total = [], 0
    lines = [t("gradescope.output.graded", what=graded or t("gradescope.your_submission")), ""]
    hidden_count = 0
    for number, exercise in enumerate(result.exercises, 1):
        units = split_units(exercise.max_score, [c.max_points for c in exercise.cases])
        public_units = public_max = public_passed = public_count = 0
        for index, (case, case_units) in enumerate(zip(exercise.cases, units), 1):
            status = describe(case.status)
            passed = status.gradescope == "passed"
            earned = case_units if passed else 0
            total += earned
            hidden = case.visibility == "hidden"
            hidden_count += hidden
            if not hidden:
                public_count += 1
                public_passed += passed
                public_units += earned
                public_max += case_units
            tests.append({"name": case.id, "number": f"{number}.{index}", "score": earned / UNITS,
                          "max_score": case_units / UNITS, "status": status.gradescope,
                          # a hidden case says its Gradescope verdict ("passed", "failed") and, failing,
                          # the public case that exercises the same thing; nothing else
                          "output": _hidden_output(case, status.gradescope) if hidden
                          else describe(status.gradescope).word() if passed else tidy(_case_output(case)),
                          "output_format": "text", "name_format": "text",
                          "tags": [exercise.name], "visibility": VISIBILITY[case.visibility]})
        hidden_here = len(exercise.cases) - public_count
        if hidden_here:
            line = t("gradescope.output.exercise_hidden", count=hidden_here, exercise=exercise.name,
                     passed=public_passed, total=public_count, points=public_units / UNITS,
                     max_points=public_max / UNITS)
        else:
            line = t("gradescope.output.exercise", exercise=exercise.name, passed=public_passed, total=public_count,
                     points=public_units / UNITS, max_points=public_max / UNITS)
        lines.append(line)
        lines += [f"  {tidy(render(problem))}" for problem in exercise.problems]
    if hidden_count:
        lines += ["", t("gradescope.output.hidden", count=hidden_count)]
    if result.notes:
        lines += ["", t("gradescope.output.notes")] + [f"  {tidy(render(note))}" for note in result.notes]
    return {"score": round(total / UNITS, 6), "execution_time": _seconds(seconds),
            "output": "\n".join(lines)[:truncation.GRADESCOPE_OUTPUT], "output_format": "text", "test_output_format": "text",
            "test_name_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"student": student, "status": result.status,
                           "isolation": (result.isolation or {}).get("level")},
            "tests": tests}


def _hidden_output(case, verdict: str) -> str:
    """A hidden case's test output: its verdict, and when it failed the public case that
    exercises the same thing (`CaseResult.public_twin`), in the terminal's words."""
    word = describe(verdict).word()
    twin = case.public_twin if verdict != "passed" and isinstance(case.public_twin, str) else None
    return hidden_like(word, twin)[:MAX_TEST_OUTPUT] if twin else word


def _case_output(case) -> str:
    if case.message:
        text = t("gradescope.output.verdict_message", verdict=describe(case.status).word(), message=case.message)
    else:
        text = describe(case.status).word()
    if case.diagnosis:
        text += f"\n{case.diagnosis}"
    text += "\n" + t("gradescope.output.replay", command=replay_command(case.id))
    return text[:MAX_TEST_OUTPUT]


def _instructor_summary(result, assignment: Assignment, student: str, graded: str) -> str:
    """For /autograder/results/stdout (instructors only): everything, hidden cases included."""
    from grader.grading.cases import student_seed
    from grader.report.terminal import summary

    return "\n".join([
        t("gradescope.instructor.student", student=student, graded=graded,
          seed=student_seed(assignment.salt, student)),
        t("gradescope.instructor.isolation", isolation=json.dumps(result.isolation)),
        summary(result, colour=False, assignment=assignment),   # hidden cases with their public twins
        t("gradescope.instructor.replay", command=replay_command("CASE_ID", "SUBMISSION", student=student)),
    ])


def write_results(root: Path, results: dict) -> Path:
    path = root / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(results, indent=1, allow_nan=False))


# --- entry point -------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.export.gradescope", description=t("gradescope.cli.description"))
    p.add_argument("root", nargs="?", default=os.environ.get("GRADESCOPE_ROOT", DEFAULT_ROOT),
                   help=t("gradescope.cli.root_help"))
    p.add_argument("--build", metavar="OUT.zip", help=t("gradescope.cli.build_help"))
    p.add_argument("--lang", choices=LANGUAGES, help=t("gradescope.cli.lang_help"))
    args = p.parse_args(argv)
    if args.lang:
        set_language(args.lang)
    if args.build:
        from grader.model.assignment import find_assignment
        try:
            out = build_autograder_zip(load_assignment(find_assignment(Path.cwd())), Path(args.build))
        except GraderError as exc:
            print(t("gradescope.cli.error", error=exc), file=sys.stderr)
            return 2
        print(t("gradescope.cli.wrote", path=out))
        return 0
    results = run(Path(args.root))
    print(t("gradescope.cli.results_written", count=len(results["tests"]), score=results["score"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
