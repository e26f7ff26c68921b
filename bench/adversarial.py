"""What the attack corpus costs the grader: wall time and the grader process's own peak RSS for
each fixture of tests/adversarial/, graded through the real CLI, in each isolation mode.

    python bench/adversarial.py [--modes namespaces,nons] [-k NAME]

`namespaces`: the jail (as the machine allows); `nons`: as root where namespaces are refused
(tests/no_namespaces.py), the worker under a uid of its own. Peak RSS is the CLI process's VmHWM (Linux /proc), read until it
exits: the grader's own memory, not its workers' (they have their own caps). Targets from the
issue: at most 10 s and 500 MB per submission. Prints a Markdown table, worst first, and the
worst of each column; exits 1 if a target is missed.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import solution_folder, with_reachable_interpreter  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from speed import _vm_hwm_kb  # noqa: E402  (a process's peak RSS from /proc)

CORPUS = ROOT / "tests" / "adversarial"
TARGET_SECONDS, TARGET_MB = 10.0, 500
# nons: as the test corpus runs it, with the interpreter where every user can read it (the worker drops root)
WRAPPERS = {"namespaces": [], "nons": with_reachable_interpreter([sys.executable,
                                                                  str(ROOT / "tests" / "no_namespaces.py")])}


def header(path: Path) -> dict:
    found = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        found[key.strip()] = value.strip()
    return found


def attack_folder(fixture: Path, work: Path) -> Path:
    """A correct solution with the fixture appended to its module, placeholders pointing into `work`."""
    code = fixture.read_text()
    for placeholder, value in (("__REPO__", work / "repo"), ("__OUTPUT__", work / "out"),
                               ("__OTHER__", work / "other"), ("__HOME__", work / "home"),
                               ("__MARKER__", "benchmark" + fixture.stem), ("__PORT__", "9")):
        code = code.replace(placeholder, str(value))
    folder = solution_folder(work / "attack" / "exercises")
    target = folder / f"{header(fixture)['module']}.py"
    target.write_text(target.read_text() + "\n\n" + code)
    for name in ("repo", "out", "other", "home"):
        (work / name).mkdir(exist_ok=True)
    return folder


def measure(fixture: Path, mode: str) -> tuple[float, float, int]:
    work = Path(tempfile.mkdtemp(prefix="bench-adv-"))
    try:
        folder = attack_folder(fixture, work)
        command = [*WRAPPERS[mode], sys.executable, "-m", "grader.cli", str(folder), "--no-color", "--quiet",
                   "--report", str(work / "out" / "report.html"), "--json", str(work / "out" / "result.json")]
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, env={"PATH": "/usr/bin:/bin", "GRADE_LANG": "en",
                                                                "HOME": str(work / "home")})
        peak = 0
        while process.poll() is None:
            peak = max(peak, _vm_hwm_kb(process.pid) or 0)
            time.sleep(0.02)
        return time.monotonic() - started, peak / 1024, process.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", default="namespaces,nons", help="comma-separated: namespaces, nons")
    p.add_argument("-k", help="only fixtures whose name holds this")
    args = p.parse_args(argv)
    fixtures = sorted(f for f in CORPUS.glob("*.py") if not args.k or args.k in f.stem)
    rows = []
    for mode in args.modes.split(","):
        for fixture in fixtures:
            seconds, mb, code = measure(fixture, mode)
            rows.append((seconds, mb, code, fixture.stem, mode))
            print(f"{fixture.stem} [{mode}]: {seconds:.2f} s, {mb:.0f} MB, exit {code}", file=sys.stderr)
    rows.sort(reverse=True)
    print("| attack | mode | wall (s) | grader peak RSS (MB) | exit |\n| --- | --- | ---: | ---: | ---: |")
    for seconds, mb, code, name, mode in rows:
        print(f"| {name} | {mode} | {seconds:.2f} | {mb:.0f} | {code} |")
    worst_s, worst_mb = max(r[0] for r in rows), max(r[1] for r in rows)
    met = worst_s <= TARGET_SECONDS and worst_mb <= TARGET_MB
    print(f"\nworst wall {worst_s:.2f} s (target ≤ {TARGET_SECONDS:g} s), worst grader peak RSS {worst_mb:.0f} MB "
          f"(target ≤ {TARGET_MB} MB), {len(rows)} runs: {'met' if met else 'NOT met'}")
    bad = [r for r in rows if r[2] not in (0, 1)]
    if bad:
        print("runs that did not complete with a result (exit 0 or 1): " + ", ".join(f"{r[3]} [{r[4]}] exit {r[2]}"
                                                                                     for r in bad))
    return 0 if met and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
