"""The CI files `grade release` ships to the students' repository (templates in
grader/report/templates/release/): a GitHub Actions workflow and a GitLab CI job that install the
repository, run `grade --ci` and keep its report.

(1) Both files parse (yaml.safe_load) and have the expected structure: triggers, the actions
    and their major versions, their inputs, the paths uploaded = the files `grade --ci` writes.
(2) Their shell steps run, here, in a copy of a release: every `run:` step of the workflow and
    the `script:` of the GitLab job, with bash, in the repository's root, inside a fresh
    virtual environment, offline. What cannot run here is emulated, and only that:
      - `actions/checkout` -> the steps run in a copy of the release;
      - `actions/setup-python` / `image: python:3.11-slim` -> a fresh venv of this interpreter
        (`python -m venv --system-site-packages --without-pip`: numpy, yaml… come from here);
      - `pip install -e .` -> `python -m pip install --no-index --no-build-isolation --no-deps -e .`
        (no network: the dependencies are this interpreter's, setuptools is the build backend);
      - `${{ inputs.NAME || 'default' }}` -> the dispatch input, or the default on a push;
      - $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT -> files of the test; $CI_PROJECT_DIR -> the copy;
      - `actions/upload-artifact`, GitLab's artifacts -> the test checks the files are there.
    The venv is not under /tmp: the worker's jail mounts a private /tmp over an interpreter there.

Until grader/instructor/release.py lists the templates in EXTRA_TEMPLATES, the release here is built with
them monkeypatched in.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import grader.instructor.release as release_module
from conftest import ROOT, see_this_environment
from grader.instructor.release import write_release

CI_TEMPLATES = [("github-workflow-grade.yml.j2", ".github/workflows/grade.yml"),
                ("gitlab-ci.yml.j2", ".gitlab-ci.yml")]
WORKFLOW, GITLAB = (dest for _, dest in CI_TEMPLATES)

# The actions and major versions the workflow uses, and the inputs each one accepts (the
# `inputs:` of the action's action.yml / README "Usage" at that major version).
ACTIONS = {"actions/checkout": "v4", "actions/setup-python": "v5", "actions/upload-artifact": "v4"}
ACTION_INPUTS = {
    "actions/checkout": {"repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
                         "persist-credentials", "path", "clean", "filter", "sparse-checkout",
                         "sparse-checkout-cone-mode", "fetch-depth", "fetch-tags", "show-progress", "lfs",
                         "submodules", "set-safe-directory", "github-server-url"},
    "actions/setup-python": {"python-version", "python-version-file", "cache", "architecture", "check-latest",
                             "token", "cache-dependency-path", "update-environment", "allow-prereleases"},
    "actions/upload-artifact": {"name", "path", "if-no-files-found", "retention-days", "compression-level",
                                "overwrite", "include-hidden-files"},
}
GITLAB_JOB_KEYWORDS = {"after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage",
                       "dependencies", "environment", "extends", "image", "interruptible", "needs", "rules",
                       "script", "services", "stage", "tags", "timeout", "variables", "when", "retry"}

# What `grade --ci` writes in the folder it runs in (cli.py: --report default, --junit default with --ci).
CI_OUTPUTS = {"grade-report.html", "grade-junit.xml"}
POINTS = re.compile(r"Points \d+(?:\.\d+)?/\d+(?:\.\d+)?")
SUMMARY_POINTS = re.compile(r"Points\W*\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?")  # Markdown: **Points** 0.0/100.0, | Points | …

ONLINE_INSTALL = re.compile(r"(?<![\w./-])pip install -e \.(?=\s|$)")
OFFLINE_INSTALL = "python -m pip install --no-index --no-build-isolation --no-deps -e ."
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


# --- the release, built with the CI templates -------------------------------------------------

@pytest.fixture(scope="module")
def ci_release(assignment):
    """(base folder under $HOME, the release, write_release's summary)."""
    base = Path(tempfile.mkdtemp(prefix="grade-ci-test-", dir=Path.home()))
    extra = [pair for pair in release_module.EXTRA_TEMPLATES if pair not in CI_TEMPLATES] + CI_TEMPLATES
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(release_module, "EXTRA_TEMPLATES", extra)
            summary = write_release(assignment, base / "students")
        yield base, base / "students", summary
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def workflow(ci_release):
    return yaml.safe_load((ci_release[1] / WORKFLOW).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gitlab(ci_release):
    return yaml.safe_load((ci_release[1] / GITLAB).read_text(encoding="utf-8"))


def triggers(data: dict) -> dict:
    """`on:` — YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True."""
    on = data.get("on", data.get(True))
    return {on: None} if isinstance(on, str) else dict.fromkeys(on) if isinstance(on, list) else on


def steps_of(data: dict) -> list:
    return data["jobs"]["grade"]["steps"]


def action(step: dict) -> tuple:
    name, _, version = step.get("uses", "").partition("@")
    return name, version


def run_steps(data: dict) -> list:
    return [s for s in steps_of(data) if "run" in s]


def grade_step(steps: list) -> dict:
    found = [s for s in steps if "run" in s and re.search(r"(^|\s)grade --ci\b", s["run"])]
    assert len(found) == 1, f"one `run:` step runs `grade --ci`: {[s.get('run') for s in steps]}"
    return found[0]


def upload_step(steps: list) -> dict:
    found = [s for s in steps if action(s)[0] == "actions/upload-artifact"]
    assert len(found) == 1
    return found[0]


def test_cli_has_the_ci_options():
    """The options the templates call (`grade --ci --min-score S`) are `grade`'s."""
    shown = subprocess.run([sys.executable, "-m", "grader.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    for option in ("--ci", "--min-score"):
        assert re.search(rf"(^|\s|\[){re.escape(option)}\b", shown.stdout), f"`grade --help` has no {option}"


def test_release_writes_the_ci_files(ci_release):
    _, out, summary = ci_release
    for _, dest in CI_TEMPLATES:
        assert dest in summary["files"] and (out / dest).is_file()
        text = (out / dest).read_text(encoding="utf-8")
        assert "{%" not in text and "%}" not in text and not re.search(r"(?<!\$)\{\{", text), \
            f"{dest}: Jinja left in it"
        assert text.startswith("# ") and "grade release" in text
    assert not [p for p in summary["files"] if Path(p).name in {name for name, _ in CI_TEMPLATES}]


# --- (1) structure ------------------------------------------------------------------------------

def test_github_workflow_structure(ci_release, workflow):
    out = ci_release[1]
    on = triggers(workflow)
    assert {"push", "pull_request", "workflow_dispatch"} <= set(on), on
    assert on["push"] is None and on["pull_request"] is None, "every branch, every pull request"
    dispatch_input = on["workflow_dispatch"]["inputs"]["min_score"]
    assert dispatch_input["default"] == "0" and dispatch_input.get("required") is False

    job = workflow["jobs"]["grade"]
    assert job["runs-on"] == "ubuntu-latest"
    steps = steps_of(workflow)
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses == [f"{name}@{version}" for name, version in ACTIONS.items()], uses
    for step in steps:
        if "uses" in step:
            name, _ = action(step)
            unknown = set(step.get("with") or {}) - ACTION_INPUTS[name]
            assert not unknown, f"{name}: no such input {unknown}"

    setup = next(s for s in steps if action(s)[0] == "actions/setup-python")["with"]
    assert setup["python-version"] == "3.11" and isinstance(setup["python-version"], str)  # 3.10 would read 3.1
    assert setup["cache"] == "pip"
    assert setup["cache-dependency-path"] == "pyproject.toml" and (out / "pyproject.toml").is_file()

    runs = [s["run"] for s in run_steps(workflow)]
    assert sum(len(ONLINE_INSTALL.findall(r)) for r in runs) == 1, runs
    grading = grade_step(steps)
    assert re.search(r"--min-score \"?\$\{?GRADE_MIN_SCORE\b", grading["run"]), grading["run"]
    env = {**workflow.get("env", {}), **job.get("env", {}), **grading.get("env", {})}
    assert resolve(env["GRADE_MIN_SCORE"], {}) == "0", "by default CI shows the score and stays green"
    assert resolve(env["GRADE_MIN_SCORE"], {"min_score": "42"}) == "42"

    upload = upload_step(steps)
    assert upload.get("if") == "always()", "the report is uploaded when grade exits 1 too"
    assert steps.index(upload) > steps.index(grading)
    paths = [line.strip() for line in upload["with"]["path"].splitlines() if line.strip()]
    assert set(paths) == CI_OUTPUTS and len(paths) == len(CI_OUTPUTS), paths
    assert upload["with"]["name"]


def test_gitlab_ci_structure(ci_release, gitlab):
    job = gitlab["grade"]
    assert set(job) <= GITLAB_JOB_KEYWORDS, set(job) - GITLAB_JOB_KEYWORDS
    assert job["image"] == "python:3.11-slim"
    script = job["script"]
    assert isinstance(script, list) and all(isinstance(line, str) for line in script)
    assert sum(len(ONLINE_INSTALL.findall(line)) for line in script) == 1, script
    assert [line for line in script if re.match(r"grade --ci\b", line)], script

    variables = job["variables"]
    assert variables["GRADE_MIN_SCORE"] == "0"
    cache_dir = variables["PIP_CACHE_DIR"]
    assert cache_dir.startswith("$CI_PROJECT_DIR/"), "GitLab caches paths inside the project only"
    assert cache_dir[len("$CI_PROJECT_DIR/"):] in job["cache"]["paths"]

    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["paths"] == ["grade-report.html"]
    assert artifacts["reports"] == {"junit": "grade-junit.xml"}
    assert {*artifacts["paths"], artifacts["reports"]["junit"]} == CI_OUTPUTS


# --- (2) the shell steps, run here --------------------------------------------------------------

def resolve(value, inputs: dict) -> str:
    """A workflow value with its `${{ inputs.NAME || 'default' }}` expressions evaluated, as GitHub
    does before the step runs; any other expression cannot be reproduced here and fails the test."""
    def one(match):
        expression = match.group(1).strip()
        known = re.fullmatch(r"inputs\.(\w+)\s*\|\|\s*'([^']*)'", expression)
        if not known:
            pytest.fail(f"the test cannot evaluate ${{{{ {expression} }}}}: keep expressions in `env:`, simple")
        return inputs.get(known.group(1)) or known.group(2)
    return EXPRESSION.sub(one, str(value))


def offline(script: str) -> tuple:
    """(script with `pip install -e .` made offline, how many were replaced)."""
    return ONLINE_INSTALL.subn(OFFLINE_INSTALL, script)


def fresh_checkout(ci_release, name: str) -> Path:
    base, out, _ = ci_release
    target = base / name
    shutil.copytree(out, target, symlinks=True)
    return target


def fresh_venv(base: Path, name: str) -> Path:
    venv = base / name
    made = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    see_this_environment(venv)  # numpy, yaml, setuptools from here, also when "here" is a venv
    return venv


def base_env(venv: Path) -> dict:
    """This environment minus any CI/pip/venv variables of the machine running the tests, plus
    the venv first on PATH and pip offline."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "PIP_"))
           and k not in ("CI", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "NO_COLOR")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def bash(script: str, cwd: Path, env: dict, scratch: Path, timeout=300) -> subprocess.CompletedProcess:
    """As GitHub runs a `run:` step with `shell: bash` (`bash --noprofile --norc -eo pipefail FILE`)."""
    fd, path = tempfile.mkstemp(suffix=".sh", dir=scratch)
    with os.fdopen(fd, "w") as f:
        f.write(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", path], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def top_level_files(folder: Path) -> set:
    return {p.name for p in folder.iterdir() if p.is_file()}


def check_ci_outputs(repo: Path, junit_cases: int):
    report = repo / "grade-report.html"
    assert report.is_file() and report.stat().st_size > 0 and "<html" in report.read_text(errors="replace").lower()
    junit = repo / "grade-junit.xml"
    assert junit.is_file(), "grade --ci wrote no grade-junit.xml"
    root = ET.parse(junit).getroot()  # raises if it is not XML
    assert root.tag in ("testsuites", "testsuite"), root.tag
    cases = root.findall(".//testcase") if root.tag == "testsuites" else root.findall("testcase")
    assert len(cases) == junit_cases, f"{len(cases)} testcases for {junit_cases} public cases (one per case)"


def run_workflow(workflow: dict, repo: Path, venv: Path, scratch: Path, event: str, inputs: dict,
                 only=None) -> list:
    """Run the job's `run:` steps in order (or only the given ones) as GitHub would for `event`;
    stop at the first failing one. Returns [(step, completed process, files it added at the root)]."""
    job = workflow["jobs"]["grade"]
    assert job.get("defaults", {}).get("run", {}).get("shell", "bash") == "bash"
    env = base_env(venv)
    env.update(CI="true", GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=event, GITHUB_WORKSPACE=str(repo),
               RUNNER_TEMP=str(scratch), GITHUB_STEP_SUMMARY=str(scratch / "step-summary.md"),
               GITHUB_OUTPUT=str(scratch / "github-output.txt"))
    for key, value in {**workflow.get("env", {}), **job.get("env", {})}.items():
        env[key] = resolve(value, inputs)
    done = []
    for step in (only or run_steps(workflow)):
        assert "${{" not in step["run"], f"an expression in a run script cannot be run here: {step['run']!r}"
        assert step.get("if") in (None, "always()", "success()"), step.get("if")
        script, _ = offline(step["run"])
        step_env = {**env, **{k: resolve(v, inputs) for k, v in step.get("env", {}).items()}}
        before = top_level_files(repo)
        completed = bash(script, repo, step_env, scratch)
        done.append((step, completed, top_level_files(repo) - before))
        if completed.returncode != 0:
            break
    return done


def test_github_workflow_run_steps_grade_offline(ci_release, workflow):
    base, _, summary = ci_release
    repo = fresh_checkout(ci_release, "github-checkout")
    venv = fresh_venv(base, "github-venv")
    scratch = base / "github-runner"
    scratch.mkdir()
    assert sum(offline(s["run"])[1] for s in run_steps(workflow)) == 1  # the install, made offline

    done = run_workflow(workflow, repo, venv, scratch, "push", {})
    ran = {id(step): (completed, added) for step, completed, added in done}
    for step, completed, _ in done:
        assert completed.returncode == 0, f"step {step.get('name', step['run'])!r} failed " \
                                          f"({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
    assert len(done) == len(run_steps(workflow))

    where = subprocess.run(["python", "-c", "import grader; print(grader.__file__)"], cwd=scratch,
                           env=base_env(venv), capture_output=True, text=True)
    assert Path(where.stdout.strip()).resolve() == (repo / "grader" / "__init__.py").resolve(), \
        "the installed `grade` must be the release's engine"

    grading = grade_step(steps_of(workflow))
    completed, added = ran[id(grading)]
    out = completed.stdout
    assert "Points 0.0/100.0" in out, out  # the stubs, and CI stays green (--min-score 0)
    assert "\x1b[" not in out, "--ci: no colour"
    paths = {line.strip() for line in upload_step(steps_of(workflow))["with"]["path"].splitlines() if line.strip()}
    assert added == paths == CI_OUTPUTS, f"`grade --ci` wrote {added}, the workflow uploads {paths}"
    check_ci_outputs(repo, summary["public_cases"])

    step_summary = scratch / "step-summary.md"
    assert step_summary.is_file(), "grade --ci wrote nothing to $GITHUB_STEP_SUMMARY"
    text = step_summary.read_text()
    assert SUMMARY_POINTS.search(text), f"no points line in the step summary:\n{text}"

    # A threshold given at dispatch: below it the grade step fails, and the files the upload
    # step (if: always()) sends are still written.
    for name in CI_OUTPUTS:
        (repo / name).unlink()
    again = run_workflow(workflow, repo, venv, scratch, "workflow_dispatch", {"min_score": "50"}, only=[grading])
    (_, completed, added), = again
    assert completed.returncode == 1, f"score 0 < --min-score 50 must exit 1:\n{completed.stdout}\n{completed.stderr}"
    assert POINTS.search(completed.stdout)
    assert added == CI_OUTPUTS
    check_ci_outputs(repo, summary["public_cases"])


def test_gitlab_script_grades_offline(ci_release, gitlab):
    base, _, summary = ci_release
    repo = fresh_checkout(ci_release, "gitlab-checkout")
    venv = fresh_venv(base, "gitlab-venv")
    scratch = base / "gitlab-runner"
    scratch.mkdir()
    job = gitlab["grade"]

    env = base_env(venv)
    env.update(CI="true", GITLAB_CI="true", CI_PROJECT_DIR=str(repo))
    for key, value in job.get("variables", {}).items():  # GitLab expands $VARIABLES in variables
        env[key] = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), str(value))
    assert Path(env["PIP_CACHE_DIR"]).is_relative_to(repo)

    script, replaced = offline("\n".join(job.get("before_script", []) + job["script"]))
    assert replaced == 1
    before = top_level_files(repo)
    completed = bash(script, repo, env, scratch)
    assert completed.returncode == 0, f"the job fails ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
    assert "Points 0.0/100.0" in completed.stdout and "\x1b[" not in completed.stdout, completed.stdout
    added = top_level_files(repo) - before
    kept = {*job["artifacts"]["paths"], job["artifacts"]["reports"]["junit"]}
    assert added == kept == CI_OUTPUTS, f"`grade --ci` wrote {added}, the job keeps {kept}"
    check_ci_outputs(repo, summary["public_cases"])
    assert not list(scratch.glob("*.md")), "no $GITHUB_STEP_SUMMARY outside GitHub"
