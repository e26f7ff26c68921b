"""Adversarial corpus: hostile submissions graded through the real CLI.

Each file of `tests/adversarial/` is a fixture: four header lines (up to two more optional ones), then
Python code APPENDED to one module of a fully correct solution (so a later `def` overrides the correct
function and module-level code runs at import). Placeholders in the code are replaced by the test:

    __REPO__     the grader repository the CLI runs from (a fresh copy of this working tree without its
                 tests, benchmarks and docs, byte-compiled once per test process, then copied again
                 for each test; with reference/ and assignment.yaml, so an attack that escapes
                 damages nothing real)
    __OUTPUT__   the folder where the CLI writes its JSON and HTML (holds a file from "earlier")
    __OTHER__    another student's (correct) submission, graded at the same time by another CLI
    __HOME__     a canary home folder with a private canary.txt and a .bashrc (the CLIs' HOME as root is
                 the real one by default, see GRADER_HOME; ADV_GRADER_HOME=canary makes it this folder;
                 as the plain user and without namespaces it is this folder, with a warm grader cache)
    __MARKER__   a unique string: in the command line of anything an attack spawns, in the names of
                 the files it plants (leftovers are found by it, reported and cleaned up)
    __PORT__     a 127.0.0.1 port where the test listens (TCP and UDP)

Header:
    # attack:   what it attacks (one line)
    # module:   the exercise module the code is appended to
    # attacked: functions that must earn 0 points (comma-separated), or `module` (import-time attacks)
    # expect:   words (case-insensitive) the CLI's terminal output or the JSON's messages/problems/notes
                must hold; `a | b` accepts either
    # bystander: (optional) the other exercise graded with the attacked one (default below)
    # timeout:  (optional) seconds per case of the attacked exercise, written into the repository
                copy's assignment.yaml as that exercise's `timeout:` (loop attacks: 2 timeouts of 1 s
                instead of 2 of the assignment's 3 s; every other exercise keeps the assignment's)

Both CLIs grade two exercises only (`grade -k MODULE BYSTANDER`), not the whole course: the attacked
module and a bystander exercise, by default the first later exercise that imports the attacked
module (else the next one; for the last exercise, the one before it). A worker imports every
module of the submission whatever `-k` selects, so import-time code runs as in a whole-course run;
the bystander exercise is where what an attack leaves in a worker (a patched NumPy, a disarmed
hook, a crash and the fresh worker after it) or does through a function another module calls
(similarity -> embeddings.analogy) must not show. Every comparison below is with the correct
solution's result restricted to those two exercises.

Whatever the attack does, the test asserts: the CLI completes (exit 0 or 1) with valid JSON; the
attacked functions earn 0; every other case of the graded exercises earns exactly what the correct
solution earns (and the JSON's maximum is those exercises' points); the other submission, graded
concurrently on the same exercises, gets exactly the correct solution's result; no file of the
repository copy, the output folder, the other submission or the home changed (the grader's own
cache in the home excepted, whose every entry must be one the grader wrote: `poisoned_cache`); no process and no
file of the attack is left; nothing reached the test's port; the pytest process was not signalled;
the grader's secrets (an environment variable, the home's canary) appear in no output; the
terminal's `Points` line is the grader's own; and the `expect` words appear.

Three modes: as root with namespaces ("root"), as a plain user (uid 4242, "user"), as root where
namespaces are refused ("nons"). The "user" and "nons" modes run only the fixtures whose outcome
privileges or namespaces can change (files, permissions, processes, signals, namespaces,
memory/disk/output limits, the network, the grader's process); SAME_IN_EVERY_MODE lists the others
(returned values, Python-level tricks, frames on the worker's own pipe), each with why: they run as
root only, pytest reports the other two as skipped, and no other submission is graded beside them
(nothing they do can reach one: no file, process or signal is involved).

Run: cd /work/main && python -m pytest -q tests/test_adversarial.py -x -p no:cacheprovider
(-s shows, for each attack, what the grader said about the attacked functions.)

ADV_GRADER_TREE=/folder runs the corpus against another grader tree (e.g. `git archive 7d63ed4`, the
grader before the jail; its own result schema checks its JSON) to check that the corpus catches what
that grader lets through.

Policy followed for bystanders: a function of the attacked module may get status "violation" (0
points) instead of its usual result, because a rule violation at import costs the functions of
that module (README, SECURITY.md); every function of the bystander exercise must earn exactly what
the correct solution earns.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import site
import socket
import stat
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, can_run_unprivileged, give_to_user, grade_argv, solution_folder, user_folder, \
    with_reachable_interpreter

ADVERSARIAL = Path(__file__).resolve().parent / "adversarial"
FIXTURES = sorted(ADVERSARIAL.glob("*.py"))
HEADER_KEYS = ("attack", "module", "attacked", "expect")
OPTIONAL_HEADER_KEYS = ("bystander", "timeout")
CLI_WALL_TIMEOUT = 240           # seconds for one CLI run, whatever the attack does
WORKER_WAIT = 3.0                # how long to wait for the attack's worker before starting the other CLI
CLI_OUTPUTS = {"result.json", "report.html"}


def result_schema_path() -> Path:
    """The result schema of the grader tree under test (ADV_GRADER_TREE's own, e.g. an older layout)."""
    tree = Path(os.environ.get("ADV_GRADER_TREE") or ROOT)
    for folder in ("grader/model/schemas", "grader/schemas"):
        if (tree / folder / "result.schema.json").is_file():
            return tree / folder / "result.schema.json"
    return ROOT / "grader" / "model" / "schemas" / "result.schema.json"


SCHEMA_PATH = result_schema_path()


# --- fixtures' headers ------------------------------------------------------------------------

def parse_header(path: Path) -> dict:
    header = {}
    for line in path.read_text().splitlines():
        match = re.match(r"#\s*(attack|module|attacked|expect|bystander|timeout):\s*(.*\S)\s*$", line)
        if match:
            header[match.group(1)] = match.group(2)
        elif line.strip() and not line.startswith("#"):
            break
    return header


@functools.cache
def assignment_functions() -> dict:
    """{module: [function, ...]} from the real assignment file, in its order (the order of the calls)."""
    data = yaml.safe_load((ROOT / "assignment.yaml").read_text())
    return {e["name"]: list(e["functions"]) for e in data["exercises"]}


@functools.cache
def module_imports() -> dict:
    """{module: {exercise modules it imports}}, from the reference the submissions are made of."""
    return {path.stem: set(re.findall(r"^from \.(\w+) import", path.read_text(), re.M))
            for path in (ROOT / "reference").glob("*.py") if path.stem in assignment_functions()}


def graded_exercises(header: dict) -> list:
    """The exercises both CLIs grade (`-k`): the attacked module, then its bystander exercise."""
    module = header["module"]
    if "bystander" in header:
        return [module, header["bystander"]]
    order = list(assignment_functions())
    imports = module_imports()
    later = order[order.index(module) + 1:]
    users = [m for m in later if module in imports.get(m, ())]
    return [module, users[0] if users else later[0] if later else order[order.index(module) - 1]]


def with_exercise_timeout(repo: Path, exercise: str, seconds: float):
    """The repository copy's assignment.yaml with `timeout: seconds` for that exercise's cases."""
    path = repo / "assignment.yaml"
    text, count = re.subn(rf"^(  - name: {re.escape(exercise)}\n)", rf"\g<1>    timeout: {seconds:g}\n",
                          path.read_text(), flags=re.M)
    assert count == 1, f"no `- name: {exercise}` entry in assignment.yaml"
    path.write_text(text)
    entry = next(e for e in yaml.safe_load(text)["exercises"] if e["name"] == exercise)
    assert entry["timeout"] == seconds


# --- the grader repository, copied ------------------------------------------------------------

NOT_COPIED = ("tests/", "bench/", "docs/")  # the suite, the benchmarks, the contract's prose: a third
# of the files, none of which a grading run reads or an attack aims at (each test copies the rest)


def build_repo(target: Path) -> Path:
    """This working tree (tracked and untracked, not ignored files) but NOT_COPIED, byte-compiled
    so that the CLI has no reason to write into it: any change afterwards is someone else's.

    ADV_GRADER_TREE=/some/folder grades with another grader tree instead (e.g. an older commit
    exported with `git archive`), to check that the corpus catches what that grader lets through."""
    other_tree = os.environ.get("ADV_GRADER_TREE")
    if other_tree:
        shutil.copytree(other_tree, target, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info",
                                                                          "adversarial"))
    else:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, check=True).stdout.decode()
        for name in filter(None, listed.split("\0")):
            source = ROOT / name
            if not source.is_file() or name.startswith(NOT_COPIED):
                continue
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", r"[/\\]tests[/\\]", str(target)],
                   capture_output=True, check=True)
    return target


@pytest.fixture(scope="module")
def repo_template(tmp_path_factory):
    """One byte-compiled copy of the tree per test process, in pytest's root-only folder (no worker,
    whatever its uid, can read it); every test grades with a fresh copy of it (`copy_repo`)."""
    return build_repo(tmp_path_factory.mktemp("adv-template") / "repo")


def copy_repo(template: Path, target: Path) -> Path:
    """A fresh copy of the template: copy2 keeps the sources' times, so the byte-code stays valid."""
    shutil.copytree(template, target, symlinks=True)
    return target


@pytest.fixture(scope="module")
def repo_places(tmp_path_factory):
    """Where each test of this process puts its fresh repository copy: always the same folder
    (the last test's copy removed first), so that the grader's cache entries kept by path — the
    report's compiled template — are read, not rebuilt, by every CLI after the first: a cold
    cache costs each attacked CLI about a quarter of a second of CPU, and its first run is
    tested elsewhere (tests/test_speed_cache.py)."""
    places = {"root": tmp_path_factory.mktemp("adv-repo"), "nons": tmp_path_factory.mktemp("adv-repo-nons"),
              "user": user_folder("adv-repo-")}
    yield places
    shutil.rmtree(places["user"], ignore_errors=True)  # outside pytest's own temporary folders


def fresh_repo(template: Path, place: Path) -> Path:
    """A fresh copy of the template at `place/repo`, whatever the last test left there."""
    target = place / "repo"
    if os.path.lexists(target):
        shutil.rmtree(target)
    return copy_repo(template, target)


@pytest.fixture(scope="module")
def warm_caches(repo_template, repo_places, tmp_path_factory):
    """warm_caches(mode) -> the grader's cache as a first run leaves it, for the modes whose CLIs
    keep their cache in the test's canary home ("user": the plain user's home; "nons": the
    private mount namespace hides /root, so the real home is not theirs). Built once per process
    from the same repository folder the mode grades with: each test's home starts with a copy of
    it (a warm cache, as on a student's laptop after the first run); the attacks that plant
    entries in it (poison_cache) meet a populated cache, and `poisoned_cache` checks every entry
    after. A cold cache would cost each CLI about 0.2 s of CPU (YAML, jsonschema, templates)."""
    built, homes = {}, []

    def warm(mode: str) -> Path:
        if mode not in built:
            user = mode == "user"
            repo = fresh_repo(repo_template, repo_places[mode])
            home = user_folder("adv-warm-") if user else tmp_path_factory.mktemp(f"adv-warm-{mode}")
            homes.append(home)
            submission = solution_folder(home / "solution" / "exercises")
            if user:
                give_to_user(repo)
                give_to_user(home)
            process = start_cli(submission, home / "out", repo, cli_env(home, "warm-secret"), home / "logs", "warm",
                                user=user, wrapper=NO_NAMESPACES if mode == "nons" else (),
                                exercises=("similarity",))
            assert wait_cli(process, time.monotonic() + CLI_WALL_TIMEOUT) is None
            assert process.returncode == 0, read_text(home / "logs" / "warm.stdout") + \
                read_text(home / "logs" / "warm.stderr")
            assert (home / CACHE).is_dir()
            shutil.rmtree(repo)
            built[mode] = home / CACHE
        return built[mode]

    yield warm
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)


# --- snapshots --------------------------------------------------------------------------------

def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def snapshot(root: Path, skip=()) -> dict:
    """path -> what it is (file: sha256, mtime, size, mode; symlink: target; folder), symlinks never followed."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if rel in skip:
                continue
            try:
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    state[rel] = ("symlink", os.readlink(path))
                elif stat.S_ISDIR(info.st_mode):
                    state[rel] = ("folder",)
                else:
                    state[rel] = ("file", _sha256(path), info.st_mtime_ns, info.st_size, oct(info.st_mode))
            except OSError as exc:
                state[rel] = ("unreadable", str(exc))
    return state


CACHE = os.path.join(".cache", "seance11-grader")    # the grader's cache in a home (grader/model/usercache.py)
CACHE_ENTRY = re.compile(r"[a-z][a-z-]*-[0-9a-f]{24}\.bin")


def without_cache(state: dict) -> dict:
    """A home's snapshot without the grader's cache (and the .cache folder holding it)."""
    return {rel: what for rel, what in state.items()
            if rel != ".cache" and rel != CACHE and not rel.startswith(CACHE + os.sep)}


def poisoned_cache(home: Path, marker: str) -> list:
    """Entries of the grader's cache in `home` that are not the grader's: a name it never
    writes, no 64-hex key on the first line, or the attack's marker anywhere."""
    folder = Path(home) / CACHE
    found = []
    for path in (folder.iterdir() if folder.is_dir() else ()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        head = data.partition(b"\n")[0]
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue  # an entry being written by a concurrent grader
        if not CACHE_ENTRY.fullmatch(path.name) or not re.fullmatch(rb"[0-9a-f]{64}", head) \
                or marker.encode() in data or head == b"0" * 64:
            found.append(path.name)
    return found


def snapshot_diff(before: dict, after: dict) -> list:
    out = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            out.append(f"deleted {rel}")
        elif rel not in before:
            out.append(f"created {rel} ({after[rel][0]})")
        elif before[rel] != after[rel]:
            out.append(f"changed {rel}")
    return out


# --- processes --------------------------------------------------------------------------------

def processes() -> dict:
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                table[int(entry)] = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
    return table


def staged_marker(pid: int, marker: str) -> bool:
    """Does the folder a worker runs in hold the attack's code (its marker)? Not when that folder
    is a root (it holds proc, sys and usr: a jail's PID 1 runs in its new root): a submission is
    staged deeper, and walking a root two levels down reads tens of thousands of entries."""
    base = f"/proc/{pid}/cwd"
    try:
        if {"proc", "sys", "usr"} <= set(os.listdir(base)):
            return False
        for dirpath, dirnames, filenames in os.walk(base):
            if dirpath.count(os.sep) - base.count(os.sep) >= 2:
                dirnames[:] = []
            for name in filenames:
                if name.endswith(".py"):
                    try:
                        with open(os.path.join(dirpath, name), "rb") as f:
                            if marker.encode() in f.read(4 * 2**20):
                                return True
                    except OSError:
                        pass
    except OSError:
        pass
    return False


def attack_processes(marker: str, existing_workers: set) -> dict:
    """Processes of the attack: its marker in their command line, or a worker (new since the
    start) running in a folder that holds the attack's code."""
    found = {}
    for pid, command in processes().items():
        if pid == os.getpid():
            continue
        if marker in command:
            found[pid] = command
        elif "worker.py" in command and pid not in existing_workers and staged_marker(pid, marker):
            found[pid] = command
    return found


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def leftover_files(marker: str) -> list:
    """Files the attack planted outside every folder the test snapshots."""
    places = ["/tmp", "/var/tmp", "/dev/shm", "/etc"]  # /etc: refusal_flood writes there by name
    places += list(site.getsitepackages()) + [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    found = []
    for place in dict.fromkeys(places):
        try:
            names = os.listdir(place)
        except OSError:
            continue
        found += [os.path.join(place, n) for n in names if marker in n]
    for folder in Path("/tmp").glob("grade-*"):  # a grading folder the grader did not remove
        try:
            if any(marker.encode() in p.read_bytes() for p in folder.rglob("*.py") if p.is_file()):
                found.append(str(folder))
        except OSError:
            pass
    return found


def remove(paths):
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


# --- running the CLI --------------------------------------------------------------------------

# HOME of the CLIs: the real one by default, as when an instructor grades (an interpreter installed
# in a private home, e.g. pyenv in /root, is reachable by workers only when that home is the one the
# grader hides and re-exposes; see test_an_honest_submission_using_the_standard_library_scores_100).
# __HOME__ is a separate canary folder. ADV_GRADER_HOME=canary makes __HOME__ the CLIs' HOME.
GRADER_HOME = os.environ.get("ADV_GRADER_HOME") or os.path.expanduser("~")


def cli_env(home: Path, secret: str) -> dict:
    """A plain environment (nothing of the test runner's), with a secret the attacks hunt for."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "GRADE_LANG": "en", "ADV_SECRET": secret}  # the expected words are the English messages
    # GRADE_ISOLATION=process runs the corpus against the fallback, to measure what it lets through
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GRADE_ISOLATION"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def grader_home(canary: Path) -> Path:
    return canary if GRADER_HOME == "canary" else Path(GRADER_HOME)


def start_cli(submission: Path, out: Path, repo: Path, env: dict, logs: Path, name: str, user: bool = False,
              wrapper=(), exercises=()):
    out.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    if user:
        give_to_user(out)
    # append mode: what someone else writes into the CLI's stdout (through /proc/<pid>/fd/1) is
    # not overwritten by the CLI's own output, as on a terminal
    stdout = open(logs / f"{name}.stdout", "ab")
    stderr = open(logs / f"{name}.stderr", "ab")
    try:
        process = subprocess.Popen(
            [*wrapper, *grade_argv(user, env["HOME"]), str(submission), "--json", str(out / "result.json"),
             "--report", str(out / "report.html"), "--no-color", *(["-k", *exercises] if exercises else [])],
            cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True)  # a group kill by the submission never reaches pytest
    finally:
        stdout.close()
        stderr.close()
    process.started = time.monotonic()
    return process


def wait_cli(process, deadline: float) -> str | None:
    """None when it ended in time, else what went wrong (it is killed)."""
    try:
        process.wait(timeout=max(0.1, deadline - time.monotonic()))
        return None
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait(timeout=10)
        return f"did not finish within {CLI_WALL_TIMEOUT} s (killed)"


def read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


@functools.cache
def result_validator():
    """The schema checked once, its validator kept (jsonschema.validate checks the schema itself on
    every call: a quarter of a second each)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def load_result(path: Path, validate: bool = True):
    """(result, problem)"""
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return None, f"no valid JSON at {path.name}: {exc}"
    if not validate:
        return result, None if isinstance(result, dict) and "exercises" in result else "not a result"
    try:
        result_validator().validate(result)
    except jsonschema.ValidationError as exc:
        return result, f"JSON does not follow the result schema: {exc.message}"
    return result, None


def cases_of(result) -> dict:
    return {c["id"]: c for e in result["exercises"] for c in e["cases"]}


def haystack(stdout: str, result) -> str:
    parts = [stdout]
    if result:
        parts += list(result.get("notes", []))
        for e in result.get("exercises", []):
            parts += list(e.get("problems", []))
            parts += [c.get("message", "") for c in e.get("cases", [])]
    return "\n".join(str(p) for p in parts).lower()


def tail(text: str, n: int = 1500) -> str:
    return text if len(text) <= n else "…" + text[-n:]


# --- the correct solution, once ---------------------------------------------------------------

@pytest.fixture(scope="module")
def baseline(tmp_path_factory, repo_template):
    base = tmp_path_factory.mktemp("adv-baseline")
    repo = copy_repo(repo_template, base / "repo")
    submission = solution_folder(base / "solution" / "exercises")
    before = snapshot(repo)
    home = base / "home"
    home.mkdir()
    process = start_cli(submission, base / "out", repo, cli_env(grader_home(home), "baseline-secret"), base / "logs",
                        "baseline")
    assert wait_cli(process, time.monotonic() + CLI_WALL_TIMEOUT) is None
    stdout = read_text(base / "logs" / "baseline.stdout")
    assert process.returncode == 0, stdout + read_text(base / "logs" / "baseline.stderr")
    result, problem = load_result(base / "out" / "result.json")
    assert problem is None, problem
    assert result["score"] == pytest.approx(100)
    # the harness is sound: a correct submission changes nothing in the repository copy
    assert snapshot_diff(before, snapshot(repo)) == []
    shutil.rmtree(repo, ignore_errors=True)  # no stray copy of the reference for later attacks to find
    cases = cases_of(result)
    return {"cases": cases, "functions": {c["function"]: cid.split("/")[0] for cid, c in cases.items()}}


# --- the corpus itself ------------------------------------------------------------------------

def test_corpus_has_at_least_25_fixtures_with_their_four_header_lines():
    assert len(FIXTURES) >= 25, [p.name for p in FIXTURES]
    functions = assignment_functions()
    default_timeout = float(yaml.safe_load((ROOT / "assignment.yaml").read_text()).get("timeout", 3.0))
    for path in FIXTURES:
        header = parse_header(path)
        assert set(HEADER_KEYS) <= set(header) <= set(HEADER_KEYS + OPTIONAL_HEADER_KEYS), \
            f"{path.name}: header {sorted(header)}"
        assert header["module"] in functions, f"{path.name}: unknown module {header['module']}"
        graded = graded_exercises(header)
        assert len(set(graded)) == 2 and set(graded) <= set(functions), f"{path.name}: graded exercises {graded}"
        if "timeout" in header:  # shorter than the assignment's, long enough for a correct case under load
            assert 0.5 <= float(header["timeout"]) < default_timeout, f"{path.name}: timeout {header['timeout']}"
        if header["attacked"] != "module":
            for name in header["attacked"].split(","):
                assert name.strip() in functions[header["module"]], f"{path.name}: {name} is not in {header['module']}"
        assert all(p.strip() for p in header["expect"].split("|")), path.name
        assert "__MARKER__" not in header["expect"], path.name


# --- one attack -------------------------------------------------------------------------------

class Listener:
    """TCP and UDP on one 127.0.0.1 port: did anything reach it?"""

    def __init__(self):
        for _ in range(20):
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.bind(("127.0.0.1", 0))
            self.port = self.tcp.getsockname()[1]
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.udp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.tcp.close()
                self.udp.close()
        self.tcp.listen(16)
        self.tcp.setblocking(False)
        self.udp.setblocking(False)

    def reached(self) -> list:
        found = []
        try:
            connection, address = self.tcp.accept()
            connection.settimeout(1.0)
            try:
                data = connection.recv(200)
            except OSError:
                data = b""
            connection.close()
            found.append(f"TCP connection from {address}: {data[:80]!r}")
        except (BlockingIOError, OSError):
            pass
        try:
            data, address = self.udp.recvfrom(200)
            found.append(f"UDP datagram from {address}: {data[:80]!r}")
        except (BlockingIOError, OSError):
            pass
        return found

    def close(self):
        self.tcp.close()
        self.udp.close()


class SignalRecorder:
    """Signals that reach the pytest process during an attack (an attack that can signal pytest
    would end the suite: the catchable ones are recorded instead)."""
    SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT)

    def __enter__(self):
        self.received = []
        self.previous = {s: signal.signal(s, lambda n, f: self.received.append(signal.Signals(n).name))
                         for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


# As root (an instructor's grading box, CI) and as an unprivileged account (uid 4242, no
# capabilities: a student's laptop or a shared server), the same assertions; the plain user runs
# the corpus but SAME_IN_EVERY_MODE (below).
MODES = ["root", pytest.param("user", marks=pytest.mark.skipif(
    not can_run_unprivileged(), reason="running as a plain user needs root to switch to it (as CI runs)")),
         "nons"]  # as root where namespaces are refused (Docker without CAP_SYS_ADMIN): tests/no_namespaces.py,
# with the interpreter where every user can read it (as in /usr or /opt), so the worker can drop root
NO_NAMESPACES = with_reachable_interpreter([sys.executable, str(Path(__file__).resolve().parent / "no_namespaces.py")])


@pytest.fixture
def workdir(request, tmp_path):
    """Where a test builds its files: pytest's folder as root; one the plain user owns otherwise."""
    if request.node.callspec.params.get("mode") != "user":
        yield tmp_path
        return
    folder = user_folder("adv-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# Fixtures run as root only: what they do meets the same code, with or without privileges or
# namespaces (the grader's judgement of a returned value, Python-level tricks inside the worker,
# frames on the worker's own pipe), so neither uid 4242 nor the fallback can change their outcome. Everything that touches files,
# permissions, processes, signals, namespaces, limits (memory, disk, output size), the network or
# the grader's process stays in the user pass; when in doubt, a fixture stays.
VALUE_ONLY = "judging a returned value: the grader's own code in its own process, the same for any uid"
PYTHON_ONLY = "a Python-level trick inside the worker (no file, process, signal or limit involved)"
PIPE_ONLY = "frames written on the worker's own descriptors: protocol decoding, the same for any uid"
SAME_IN_EVERY_MODE = {
    "analogy_huge_word": VALUE_ONLY,
    "base_exception_import": PYTHON_ONLY,
    "forbidden_import_computed": PYTHON_ONLY + " (the import check)",
    "forged_frame_dtypes": PIPE_ONLY,
    "forged_nested_lists_header": PIPE_ONLY,
    "forged_protocol_frames": PIPE_ONLY,
    "monkeypatch_numpy": PYTHON_ONLY + " (the comparison runs in the grader)",
    "mutate_inputs": VALUE_ONLY + " (the mutation check)",
    "ndarray_subclass": VALUE_ONLY,
    "object_dtype": VALUE_ONLY,
    "return_generator": VALUE_ONLY,
    "return_huge_int": VALUE_ONLY,
    "return_str_array": VALUE_ONLY,
    "swap_inputs_for_strings": VALUE_ONLY + " (the mutation check)",
    "sys_exit_function": PYTHON_ONLY + " (SystemExit is an exception)",
    "sys_exit_import": PYTHON_ONLY + " (SystemExit is an exception)",
}


def test_the_fixtures_left_out_of_the_user_pass_exist_and_say_why():
    stems = {path.stem for path in FIXTURES}
    assert set(SAME_IN_EVERY_MODE) <= stems, sorted(set(SAME_IN_EVERY_MODE) - stems)
    assert all(reason.strip() for reason in SAME_IN_EVERY_MODE.values())
    assert not {stem for stem, _ in KNOWN_ESCAPES} & set(SAME_IN_EVERY_MODE)
    assert len(SAME_IN_EVERY_MODE) < len(stems) / 2  # the user and nons passes still run most of the corpus


# What the fallback (no namespaces) does not stop, and why (SECURITY.md, "Measured"): strict, so that
# a layer that starts to stop one of them turns the run red until this list is updated.
KNOWN_ESCAPES = {
    ("steal_reference_walk", "nons"): "without a private root, a copy of the reference the grader does not know "
                                      "of is readable when every user may read it (this checkout)",
    ("disk_fill_own_folder", "nons"): "without the jail's size-capped copy, its own folder has no size cap",
}


def attack_params():
    for fixture in FIXTURES:
        for mode in MODES:
            name = mode.values[0] if hasattr(mode, "values") else mode
            marks = list(getattr(mode, "marks", ()))
            if (fixture.stem, name) in KNOWN_ESCAPES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_ESCAPES[(fixture.stem, name)]))
            if name in ("user", "nons") and fixture.stem in SAME_IN_EVERY_MODE:
                why = SAME_IN_EVERY_MODE[fixture.stem]
                marks.append(pytest.mark.skip(reason=f"run as root only: {why}"))
            yield pytest.param(fixture, name, marks=marks, id=f"{fixture.stem}-{name}")


@pytest.mark.parametrize("fixture, mode", list(attack_params()))
def test_attack_is_contained(fixture, mode, workdir, baseline, repo_template, repo_places, request):
    tmp_path, user = workdir, mode == "user"
    alone = fixture.stem in SAME_IN_EVERY_MODE  # nothing it does can reach another submission
    wrapper = NO_NAMESPACES if mode == "nons" else ()
    header = parse_header(fixture)
    marker = "advmark" + uuid.uuid4().hex[:16]
    module = header["module"]
    module_functions = [f for f, m in baseline["functions"].items() if m == module]
    attacked = set(module_functions) if header["attacked"] == "module" else \
        {f.strip() for f in header["attacked"].split(",")}
    assert attacked <= set(baseline["functions"]), f"unknown functions {attacked - set(baseline['functions'])}"
    graded = graded_exercises(header)  # both CLIs grade these two exercises (`-k`), not the whole course
    expected = {cid: c for cid, c in baseline["cases"].items() if cid.split("/")[0] in graded}
    full_marks = sum(c["points"] for c in expected.values())

    # the places an attack may try to reach
    own_home = mode in ("user", "nons")  # the CLIs' HOME is the canary home (the real one: root mode)
    warm_cache = request.getfixturevalue("warm_caches")(mode) if own_home else None  # (it uses the mode's repo folder too)
    repo = fresh_repo(repo_template, repo_places[mode])
    if "timeout" in header:  # a loop attack: its exercise's cases time out sooner (before the snapshot)
        with_exercise_timeout(repo, module, float(header["timeout"]))
    home = tmp_path / "home"
    home.mkdir()
    if own_home:  # the CLIs keep their cache in this home: a warm one, as after a first run
        shutil.copytree(warm_cache, home / CACHE)
    home_secret = f"{marker}-homesecret"
    (home / "canary.txt").write_text(home_secret + "\n")
    (home / ".bashrc").write_text("# the grading account's shell start-up file\n")
    env_secret = f"{marker}-envsecret"
    out = tmp_path / "out"
    out.mkdir()
    (out / "previous.txt").write_text("a file that was here before the grader ran\n")
    other = solution_folder(tmp_path / "other" / "exercises")
    for path in other.glob("*.py"):  # recognisable, still correct
        path.write_text(path.read_text() + f"\n# other-{marker}\n")
    other_out = tmp_path / "other-out"
    logs = tmp_path / "logs"
    listener = Listener()

    code = fixture.read_text()
    for placeholder, value in (("__REPO__", repo), ("__OUTPUT__", out), ("__OTHER__", other), ("__HOME__", home),
                               ("__MARKER__", marker), ("__PORT__", listener.port)):
        code = code.replace(placeholder, str(value))
    attack = solution_folder(tmp_path / "attack" / "exercises")
    target = attack / f"{module}.py"
    target.write_text(target.read_text() + f"\n\n# ---- adversarial fixture {fixture.name} ({marker}) ----\n" + code)

    snapshots = {"repository": (repo, snapshot(repo)), "output folder": (out, snapshot(out, CLI_OUTPUTS)),
                 "other submission": (other, snapshot(other)), "home": (home, snapshot(home))}
    existing_workers = {pid for pid, command in processes().items() if "worker.py" in command}
    problems = []
    # the plain user cannot enter /root; without namespaces, /root is hidden by the interpreter's tmpfs
    env = cli_env(home if own_home else grader_home(home), env_secret)
    if user:
        give_to_user(tmp_path)
        give_to_user(repo)
    attack_cli = other_cli = None
    try:
        with SignalRecorder() as signals:
            attack_cli = start_cli(attack.parent, out, repo, env, logs, "attack", user, wrapper, graded)
            # the other submission starts once the attack runs: cross-submission attacks meet it
            until = time.monotonic() + WORKER_WAIT
            seen = False
            while not alone and time.monotonic() < until and attack_cli.poll() is None and not seen:
                seen = bool(attack_processes(marker, existing_workers))
                time.sleep(0.05)  # each look reads every process's command line
            if not alone:
                other_cli = start_cli(other.parent, other_out, repo, env, logs, "other", user, wrapper, graded)
                overlap = f"other CLI started {other_cli.started - attack_cli.started:.2f} s after the attack's, " + \
                    ("while its worker ran" if seen else "attack worker not seen" if attack_cli.poll() is None
                     else "after it had ended")
            else:
                overlap = "no other submission: " + SAME_IN_EVERY_MODE[fixture.stem]
            deadline = attack_cli.started + CLI_WALL_TIMEOUT
            late = wait_cli(attack_cli, deadline)
            attack_wall = time.monotonic() - attack_cli.started
            other_late = wait_cli(other_cli, other_cli.started + CLI_WALL_TIMEOUT) if not alone else None
            # what is still alive after both have exited was left behind (daemons sleep 120 s): a
            # process found now counts if it is still there 0.3 s later (one that was dying is not)
            left = attack_processes(marker, existing_workers)
            if left:
                time.sleep(0.3)
                left = {pid: cmd for pid, cmd in attack_processes(marker, existing_workers).items() if pid in left}
        kill_all(left)
        files_left = leftover_files(marker)
        remove(files_left)
        reached = listener.reached()
    finally:
        listener.close()
        for process in (attack_cli, other_cli):  # the harness itself failed: stop what it started
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    pass

    stdout = read_text(logs / "attack.stdout")
    stderr = read_text(logs / "attack.stderr")
    context = f"\n--- attack CLI stdout ---\n{tail(stdout)}\n--- attack CLI stderr ---\n{tail(stderr)}"

    # 1. the grader completes, with a verdict
    if late:
        problems.append(f"the attack's CLI {late}")
    if attack_cli.returncode not in (0, 1):
        problems.append(f"the attack's CLI ended with {attack_cli.returncode} "
                        + (f"(killed by {signal.Signals(-attack_cli.returncode).name})" if attack_cli.returncode < 0
                           else "(expected 0 or 1)"))
    result, problem = load_result(out / "result.json")
    if problem:
        problems.append(problem)
    elif mode == "nons":
        isolation = result.get("isolation") or {}
        if isolation.get("level") != "process" or "refused" not in isolation.get("reason", "") \
                or not isolation.get("syscalls", "").startswith("seccomp") \
                or not isolation.get("user", "").startswith("a uid of its own"):
            problems.append(f"expected the fallback, namespaces refused, with the system-call filter and a uid of "
                            f"the worker's own: {isolation}")
    elif sys.platform.startswith("linux") and os.environ.get("GRADE_ISOLATION") != "process" \
            and (result.get("isolation") or {}).get("level") != "namespaces":
        problems.append(f"the worker was not jailed ({result.get('isolation')}): this run tests the fallback only")
    if (out / "result.json").is_symlink() or (out / "report.html").is_symlink():
        problems.append("the CLI wrote its JSON/report through a symlink planted in its output folder")

    # 2, 3. attacked functions earn 0, everything else exactly what the correct solution earns
    if result and "exercises" in result:
        got = cases_of(result)
        if set(got) != set(expected):
            problems.append(f"case ids differ from the correct solution's (exercises {graded}): missing "
                            f"{sorted(set(expected) - set(got))[:5]}, extra {sorted(set(got) - set(expected))[:5]}")
        if result["max_score"] != pytest.approx(full_marks):
            problems.append(f"the JSON's maximum is {result['max_score']}, not the {full_marks} points of {graded}")
        for cid, base in expected.items():
            case = got.get(cid)
            if case is None:
                continue
            if base["function"] in attacked:
                if case["points"] != 0:
                    problems.append(f"attacked {cid} earned {case['points']} points ({case['status']}: "
                                    f"{case.get('message', '')[:200]})")
            elif cid.split("/")[0] == module and case["status"] == "violation" and case["points"] == 0:
                pass  # documented policy: a rule violation at import costs every function of that module
            elif case["points"] != pytest.approx(base["points"], abs=1e-9) or case["status"] != base["status"]:
                problems.append(f"bystander {cid} got {case['status']} {case['points']} instead of "
                                f"{base['status']} {base['points']}: {case.get('message', '')[:200]}")
        # the terminal's total is the grader's own
        totals = [line for line in stdout.splitlines() if line.startswith("Points ")]
        parsed = [re.fullmatch(r"Points (\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)", line.strip()) for line in totals]
        if len(totals) != 1 or not parsed[0] or abs(float(parsed[0][1]) - result["score"]) > 0.05 + 1e-9 \
                or abs(float(parsed[0][2]) - result["max_score"]) > 0.05 + 1e-9:
            problems.append(f"terminal 'Points' lines {totals[:4]} instead of the one total of the JSON "
                            f"({result['score']}/{result['max_score']})")

    # 4. the other submission, graded at the same time, is untouched
    if other_late:
        problems.append(f"the other submission's CLI {other_late}")
    other_stdout = read_text(logs / "other.stdout")
    # the other submission's JSON is read, not validated against the schema (the attack's is: the
    # same grader wrote both, and the comparison below checks every case of it)
    other_result, other_problem = load_result(other_out / "result.json", validate=False) if not alone else (None, None)
    if not alone and other_cli.returncode != 0:
        problems.append(f"the other submission's CLI ended with {other_cli.returncode} (expected 0): "
                        f"{tail(other_stdout + read_text(logs / 'other.stderr'), 600)}")
    if other_problem:
        problems.append(f"other submission: {other_problem}")
    elif other_result is not None:
        theirs = {cid: (c["status"], c["points"]) for cid, c in cases_of(other_result).items()}
        ours = {cid: (c["status"], c["points"]) for cid, c in expected.items()}
        if theirs != ours or other_result["score"] != pytest.approx(full_marks) \
                or other_result["max_score"] != pytest.approx(full_marks):
            changed = [f"{cid}: {theirs.get(cid)}" for cid in sorted(set(theirs) | set(ours))
                       if theirs.get(cid) != ours.get(cid)]
            problems.append(f"the other submission scored {other_result['score']}/{other_result['max_score']} instead "
                            f"of {full_marks}/{full_marks} ({graded}); {len(changed)} case(s) differ, "
                            f"e.g. {changed[:3]}")

    # 5. files (the grader's own cache in the home is the grader's to write: checked apart, below)
    for name, (root, before) in snapshots.items():
        after = snapshot(root, CLI_OUTPUTS if name == "output folder" else ())
        if name == "home":
            before, after = without_cache(before), without_cache(after)
        diff = snapshot_diff(before, after)
        if diff:
            problems.append(f"{name} changed: {diff[:6]}")
    poisoned = poisoned_cache(home if own_home else grader_home(home), marker)
    if poisoned:
        problems.append(f"the grader's cache holds what the submission wrote: {poisoned[:4]}")
    if files_left:
        problems.append(f"left behind outside the snapshotted folders (planted files, or a grading folder the grader did not remove): {files_left[:6]}")

    # 6. processes
    if left:
        problems.append(f"{len(left)} process(es) of the attack outlived the grader (now killed), e.g. "
                        f"{[f'{pid}: {cmd[:100]}' for pid, cmd in list(left.items())[:3]]}")

    # network, signals, secrets, forged output
    if reached:
        problems.append(f"the attack reached the test's port {listener.port}: {reached}")
    if signals.received:
        problems.append(f"the pytest process received {signals.received} during the attack")
    outputs = {"attack stdout": stdout, "attack stderr": stderr, "attack JSON": read_text(out / "result.json"),
               "attack report": read_text(out / "report.html"), "other stdout": other_stdout,
               "other stderr": read_text(logs / "other.stderr"), "other JSON": read_text(other_out / "result.json"),
               "other report": read_text(other_out / "report.html")}
    for secret, what in ((env_secret, "the grader's environment variable"), (home_secret, "the home's canary file")):
        leaked = [name for name, text in outputs.items() if secret in text]
        if leaked:
            problems.append(f"{what} leaked into: {leaked}")
    forged = [name for name in ("attack stdout", "attack stderr", "other stdout", "other stderr")
              if f"FORGED-{marker}" in outputs[name]]
    if forged:
        problems.append(f"text written by the submission appeared in the grader's own output: {forged}")

    # 7. the grader says what happened
    words = [w.strip() for w in header["expect"].split("|")]
    if not any(w.lower() in haystack(stdout, result) for w in words):
        problems.append(f"none of {words} in the terminal output or the JSON messages/problems/notes")

    shutil.rmtree(repo, ignore_errors=True)  # no stray copy of the reference for later attacks to find
    if result and "exercises" in result:  # what the grader said about the attacked functions (shown with -s / -rA)
        said = sorted({(c["status"], c["message"][:160]) for cid, c in cases_of(result).items()
                       if c["function"] in attacked and c["message"]})
        isolation = result.get("isolation")
        level = isolation.get("level") if isinstance(isolation, dict) else isolation
        print(f"\n[{fixture.stem}] -k {' '.join(graded)}, {attack_wall:.1f} s, exit {attack_cli.returncode}, "
              f"{overlap}, isolation {level}: {said[:3]}")
    assert not problems, (f"{fixture.stem} ({header['attack']}), -k {' '.join(graded)}, {attack_wall:.1f} s:\n  - "
                          + "\n  - ".join(problems) + context)


# --- the jail must not break honest code -------------------------------------------------------

STDLIB_IMPORTS = ("import bisect, collections, copy, dataclasses, decimal, enum, fractions, functools, heapq, "
                  "itertools, math, operator, statistics, string, textwrap, typing\n")


def test_an_honest_submission_using_the_standard_library_scores_100(tmp_path, repo_template):
    """Control: the corpus' assumption that a worker can import the standard library (graded
    with HOME elsewhere than the interpreter's folder, as on CI or a shared grading account)."""
    repo = copy_repo(repo_template, tmp_path / "repo")
    submission = solution_folder(tmp_path / "solution" / "exercises")
    for path in submission.glob("*.py"):
        path.write_text(STDLIB_IMPORTS + path.read_text())
    home = tmp_path / "home"
    home.mkdir()
    process = start_cli(submission, tmp_path / "out", repo, cli_env(home, "control-secret"), tmp_path / "logs", "control")
    assert wait_cli(process, time.monotonic() + CLI_WALL_TIMEOUT) is None
    stdout = read_text(tmp_path / "logs" / "control.stdout")
    shutil.rmtree(repo, ignore_errors=True)
    result, problem = load_result(tmp_path / "out" / "result.json")
    assert problem is None and process.returncode == 0 and result["score"] == pytest.approx(100), tail(stdout, 3000)
