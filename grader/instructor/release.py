"""`grade release OUT`: write the students' repository (instructor side).

What goes in, and only that:

    README.md            French then English: install, run `grade`, read the report, public
                         and hidden cases, `grade --case ID` (templates/release/README.md.j2)
    pyproject.toml       the student distribution: the engine's dependencies, the `grade` script
    .gitignore
    assignment.yaml      the course's file with the public cases only: hidden cases, `reference`,
                         `mistakes`, `salt` and `generators` are dropped (rewritten, not copied)
    seance11.ipynb       the starter notebook: the lecture's parts, the stubs, a `%check` cell
                         after each part (grader/instructor/starter_notebook.py)
    public_cases.npz     inputs and expected values of the public cases (allow_pickle=False);
                         it carries the inputs, so no generator code ships
    exercises/           the stubs (the assignment's `package` folder)
    grader/              the engine, as pip would install it (*.py, schemas, templates, the
                         message catalogs), without this module, its messages and its templates

Never: the reference, a hidden case (id, inputs or expected value), a mistake variant, the
salt, the course's generator code. Everything is written under OUT; a non-empty OUT is
refused unless `force`, which replaces the files above and the `grader/` and `exercises/`
folders and keeps anything else (`.git`, a LICENSE…).
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader.model.assignment import ASSIGNMENT_FILE, Assignment, load_assignment
from grader.model.errors import GraderError
from grader.grading.expected import PUBLIC_CASES_FILE, reference_available
from grader.grading.properties import property_files
from grader.grading.public_cases import PublicCasesFile, write_public_cases
from grader.i18n import t
from grader.instructor.starter_notebook import notebook_name, starter_notebook

from grader import PACKAGE as ENGINE

RELEASE_TEMPLATES = Path(__file__).resolve().parent / "templates" / "release"

# (template in grader/instructor/templates/release/, path in the release), rendered with the same context.
TEMPLATES = [
    ("README.md.j2", "README.md"),
    ("pyproject.toml.j2", "pyproject.toml"),
    ("gitignore.j2", ".gitignore"),
]
# The hook for files that come later (CI for the students' repository, a LICENSE…): add
# (template, destination) pairs here, e.g. ("ci/grade.yml.j2", ".github/workflows/grade.yml").
# They get the same context as TEMPLATES and the same checks (inside OUT, no symlink).
EXTRA_TEMPLATES: list[tuple[str, str]] = [("github-workflow-grade.yml.j2", ".github/workflows/grade.yml"),
                                         ("gitlab-ci.yml.j2", ".gitlab-ci.yml")]

# The engine's files, as the course's pyproject ships them (package-data: schemas, templates), and
# the message catalogs (grader/i18n/__init__.py: without them every message would read as its key).
ENGINE_PATTERNS = ("**/*.py", "**/schemas/*.json", "**/templates/*", "**/locales/*.yaml")
# Instructor-only parts of the engine: this module, its messages and its templates.
ENGINE_EXCLUDED = ("release.py", "release.en.yaml", "release.fr.yaml")

# Keys of assignment.yaml that never leave the instructor's repository.
PRIVATE_KEYS = ("reference", "mistakes", "salt", "generators")

# The student distribution's dependencies when the course's pyproject.toml cannot be read.
DEFAULT_DEPENDENCIES = ["numpy>=1.24", "pyyaml>=6", "jinja2>=3.1", "nbformat>=5.7", "jsonschema>=4.18"]

HEADER = """\
# {title}
# Écrit par `grade release` : seulement les cas publics. Ne le modifiez pas : `grade` le lit,
# avec public_cases.npz. Les cas cachés sont notés par l'enseignant·e.
# Written by `grade release`: public cases only. Do not edit it: `grade` reads it, with
# public_cases.npz. The hidden cases are graded by the instructor.
"""


# --- what goes in ------------------------------------------------------------------------------

def public_assignment_data(data: dict) -> tuple[dict, int]:
    """The assignment file's data with the public cases only, and how many cases were left out.

    A single case stays if it is public. A group `{count: N, public: K}` becomes
    `{count: K, public: K}` (its first K members, the public ones, keep their ids); a group
    with no public member goes. An exercise left with no case goes (its points with it)."""
    out = {k: v for k, v in data.items() if k not in PRIVATE_KEYS}
    exercises, dropped = [], 0
    for exercise in data["exercises"]:
        cases = []
        for case in exercise["cases"]:
            count = case.get("count")
            if count is None:
                if case.get("visibility", "public") == "public":
                    cases.append(dict(case))
                else:
                    dropped += 1
                continue
            public = count if "public" not in case and case.get("visibility") == "public" else \
                min(case.get("public", 0), count)
            dropped += count - public
            if public:
                kept = {k: v for k, v in case.items() if k != "visibility"}
                kept.update(count=public, public=public)
                cases.append(kept)
        if cases:
            exercises.append({**exercise, "cases": cases})
    out["exercises"] = exercises
    return out, dropped


class _PlainDumper(yaml.SafeDumper):
    """No `&id001` anchors: every value written out where it is used."""

    def ignore_aliases(self, data):
        return True


def _project(root: Path) -> dict:
    """Name, version, Python and dependencies of the course's distribution (pyproject.toml)."""
    project = {}
    try:
        import tomllib  # Python 3.11+
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (ImportError, OSError, ValueError):
        pass
    name = str(project.get("name", "course"))
    name = name[: -len("-grader")] if name.endswith("-grader") else name
    return {"name": f"{name}-exercises",  # never the instructor's distribution name: both may share an env
            "version": str(project.get("version", "0.1.0")),
            "requires_python": str(project.get("requires-python", ">=3.10")),
            "dependencies": list(project.get("dependencies", DEFAULT_DEPENDENCIES))}


def _engine_files() -> dict[str, Path]:
    files = {}
    for pattern in ENGINE_PATTERNS:
        for path in sorted(ENGINE.glob(pattern)):
            if path.is_file() and not path.is_symlink() and path.name not in ENGINE_EXCLUDED:
                files[f"grader/{path.relative_to(ENGINE).as_posix()}"] = path
    return files


def _stub_files(assignment: Assignment) -> dict[str, Path]:
    folder = assignment.root / assignment.package
    if not (folder / "__init__.py").is_file():
        raise GraderError(t("release.stubs_missing", folder=folder, package=assignment.package))
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and "__pycache__" not in rel.parts \
                and path.suffix not in (".pyc", ".pyo"):
            files[f"{assignment.package}/{rel.as_posix()}"] = path
    return files


def _public_cases(assignment: Assignment):
    """(npz bytes, number of public cases): expected values from the reference."""
    from grader.grading.engine import Expectations, select_cases

    public = [c for c in select_cases(assignment) if c.visibility == "public"]
    plan = Expectations(assignment, use_reference=True).plan(public)
    buffer = io.BytesIO()
    from grader.grading.diagnosis import load_mistakes
    write_public_cases(buffer, assignment, plan.expected, plan.seed, load_mistakes(assignment))
    return buffer.getvalue(), [c.id for c in public]


def _render(context: dict) -> dict[str, bytes]:
    env = Environment(loader=FileSystemLoader(str(RELEASE_TEMPLATES)), autoescape=False,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                      undefined=StrictUndefined)
    env.filters["toml"] = _toml_string
    return {dest: env.get_template(name).render(**context).encode("utf-8")
            for name, dest in [*TEMPLATES, *EXTRA_TEMPLATES]}


def _toml_string(value) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in text) + '"'


def _context(assignment: Assignment, released: dict, public_ids: list) -> dict:
    exercises = []
    for exercise in released["exercises"]:
        n = sum(c.get("count", 1) for c in exercise["cases"])
        exercises.append({"name": exercise["name"], "title": exercise.get("title", exercise["name"]),
                          "points": exercise["points"], "public_cases": n})
    kinds = {c.id: c.kind for c in assignment.cases()}
    example = next((cid for cid in public_ids if kinds[cid] == "random"), public_ids[0])
    total = sum(e["points"] for e in exercises)
    return {"title": assignment.title, "package": assignment.package, "project": _project(assignment.root),
            "exercises": exercises, "public_count": len(public_ids), "example_case": example,
            "example_exercise": example.split("/")[0], "total_points": f"{total:g}",
            "forbidden": ", ".join(f"`{m}`" for m in assignment.forbidden_imports),
            "assignment_file": ASSIGNMENT_FILE, "public_cases_file": PUBLIC_CASES_FILE,
            "notebook": notebook_name(_project(assignment.root)["name"])}


# --- where it goes ----------------------------------------------------------------------------

def _check_out(out: Path, assignment: Assignment):
    root = assignment.root.resolve()
    if out == root or out in root.parents:
        raise GraderError(t("release.out_holds_course", out=out, root=root))
    sources = [ENGINE, root / assignment.package] + ([root / assignment.reference] if assignment.reference else [])
    for source in sources:
        if out == source.resolve() or source.resolve() in out.parents:
            raise GraderError(t("release.out_inside_source", out=out, source=source))
    if out.exists() and not out.is_dir():
        raise GraderError(t("release.out_not_folder", out=out))


def _ensure_folder(out: Path, rel_folder: str):
    """Create OUT/rel_folder one level at a time, never through a symbolic link."""
    current = out
    for part in Path(rel_folder).parts:
        current = current / part
        if current.is_symlink():
            raise GraderError(t("release.symlink", path=current))
        if not current.exists():
            current.mkdir()
        elif not current.is_dir():
            raise GraderError(t("release.in_the_way", path=current))


def _write(out: Path, rel: str, data: bytes):
    rel_path = Path(rel)
    if rel_path.is_absolute() or ".." in rel_path.parts:
        raise GraderError(t("release.path_outside", path=repr(rel)))
    _ensure_folder(out, str(rel_path.parent))
    target = out / rel_path
    if target.is_symlink():
        raise GraderError(t("release.symlink", path=target))
    if not target.resolve().is_relative_to(out):  # belt and braces: never outside OUT
        raise GraderError(t("release.outside_out", path=target, out=out))
    target.write_bytes(data)


def write_release(assignment: Assignment, out: Path, force: bool = False, repo_url: str | None = None) -> dict:
    """Write the students' repository to `out`. Returns a summary: the folder, the files
    written (relative, sorted), the number of public cases and of hidden cases left out, and
    the entries of `out` that were there before and were kept (with `force`)."""
    if not reference_available(assignment):
        raise GraderError(t("release.needs_reference"))
    out = Path(out).expanduser().resolve()
    _check_out(out, assignment)
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if before and not force:
        shown = ", ".join(before[:5]) + (", …" if len(before) > 5 else "")
        raise GraderError(t("release.out_not_empty", out=out, shown=shown))

    # Everything is built in memory first: a problem leaves OUT as it was.
    data = yaml.load(assignment.path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    released, dropped = public_assignment_data(data)
    npz, public_ids = _public_cases(assignment)
    files: dict[str, bytes] = {}
    files[ASSIGNMENT_FILE] = (HEADER.format(title=" ".join(assignment.title.split())) + yaml.dump(
        released, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, default_flow_style=None,
        width=100)).encode("utf-8")
    files[PUBLIC_CASES_FILE] = npz
    context = _context(assignment, released, public_ids)
    files.update(_render(context))
    files[context["notebook"]] = starter_notebook(assignment, out.name, repo_url, context["notebook"])
    managed_folders = ["grader", assignment.package]
    for rel, source in {**_engine_files(), **_stub_files(assignment)}.items():
        files[rel] = source.read_bytes()
    for source in property_files(assignment):  # the course's property checks: hints on the students' side too
        files[source.relative_to(assignment.root.resolve()).as_posix()] = source.read_bytes()

    out.mkdir(parents=True, exist_ok=True)
    for folder in managed_folders:  # replaced whole: no stale module survives a --force
        target = out / folder
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
    for rel in sorted(files):
        _write(out, rel, files[rel])

    # The release must load as the students' `grade` will load it: public cases only, all of them.
    check = load_assignment(out / ASSIGNMENT_FILE)
    shipped = [c.id for c in check.cases()]
    stored = PublicCasesFile(out / PUBLIC_CASES_FILE)
    if shipped != public_ids or set(stored.records) != set(public_ids) or check.reference or check.salt \
            or check.mistakes or any(c.visibility != "public" for c in check.cases()):
        raise GraderError(t("release.check_failed", out=out))
    kept = [name for name in before if name not in {*managed_folders, *(Path(r).parts[0] for r in files)}]
    return {"out": str(out), "files": sorted(files), "public_cases": len(public_ids),
            "hidden_cases_left_out": dropped, "exercises": len(released["exercises"]), "kept": kept}
