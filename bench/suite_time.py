"""How long the test suite takes, and where the time goes.

    python bench/suite_time.py                    # the README's suite (one pytest run)
    python bench/suite_time.py --workers 2 4      # the same, once per xdist worker count, side by side
    python bench/suite_time.py -- tests/test_bulk.py   # pytest arguments after --

For each run it prints the wall time, the CPU time of the whole process tree (user + sys: the
test processes and every CLI, pool and worker they waited for), the CPU the whole machine used
meanwhile (/proc/stat: also what no parent waited for; anything else running counts too) and how
busy the cores were (that CPU / (wall x cores)); then how much of the tests' CPU the test
processes spent themselves, the files and the tests that cost the most CPU, and the tests that
waited the most (wall - CPU: timeouts, sleeps, a sandbox's limits). The target (issue 15) is the
whole suite in 2.5 minutes on 2 cores; a run that CPU alone cannot fit in that is said so.
"""
from __future__ import annotations

import argparse
import collections
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 150.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu():
    """CPU seconds every process of the machine used so far (user + nice + system, /proc/stat), or
    None where there is no /proc. The process tree's own figure misses what no parent waited for
    (a process killed with its parent, a worker reaped by a process that was itself killed)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            user, nice, system = (int(x) for x in f.readline().split()[1:4])
    except (OSError, ValueError):
        return None
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def run(label: str, command: list, env: dict) -> dict:
    """One pytest run: its wall and CPU, and the per-test lines the plugin wrote."""
    with tempfile.TemporaryDirectory(prefix="suite-cpu-") as folder:
        env = {**env, "SUITE_CPU_DIR": folder,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench"), env.get("PYTHONPATH")]))}
        cpu, machine, wall = children_cpu(), machine_cpu(), time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        wall, cpu = time.monotonic() - wall, children_cpu() - cpu
        machine = machine_cpu() - machine if machine is not None else None
        tests = []
        for path in Path(folder).glob("*.tsv"):
            for line in path.read_text(encoding="utf-8").splitlines():
                node, test_cpu, test_wall, alone = line.rsplit("\t", 3)
                tests.append((node, float(test_cpu), float(test_wall), float(alone)))
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "=" not in line[:1]), "")
    return {"label": label, "wall": wall, "cpu": cpu, "machine": machine, "tests": tests, "returncode": done.returncode,
            "summary": summary.strip(), "output": done.stdout}


def report(runs: list, cores: int, top: int):
    print("| run | wall | CPU (user+sys) | machine's CPU meanwhile | cores busy | exit | pytest |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in runs:
        machine = f"{r['machine']:.1f} s" if r["machine"] is not None else "–"
        busy = (r["machine"] if r["machine"] is not None else r["cpu"]) / (r["wall"] * cores)
        print(f"| {r['label']} | {r['wall']:.1f} s | {r['cpu']:.1f} s | {machine} | {busy:.0%} "
              f"| {r['returncode']} | {r['summary']} |")
    for r in (r for r in runs if r["tests"]):
        by_file, count = collections.Counter(), collections.Counter()
        wall_by_file, alone_by_file = collections.Counter(), collections.Counter()
        for node, cpu, wall, alone in r["tests"]:
            name = node.split("::")[0]
            by_file[name] += cpu
            wall_by_file[name] += wall
            alone_by_file[name] += alone
            count[name] += 1
        in_tests = sum(by_file.values())
        print(f"\nIn the tests: {in_tests:.1f} s of CPU, {sum(alone_by_file.values()):.1f} s of it in the test processes "
              f"themselves (the rest in the processes they started); outside any test (start-up, collection, "
              f"what no test waited for): {max(r['machine'] or r['cpu'], r['cpu']) - in_tests:.1f} s.")
        print(f"\n### {r['label']}: the {top} files that cost the most CPU")
        print("| file | tests | CPU | of it in the test process | wall (summed over tests) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, cpu in by_file.most_common(top):
            print(f"| {name} | {count[name]} | {cpu:.1f} s | {alone_by_file[name]:.1f} s | {wall_by_file[name]:.1f} s |")
        print(f"\n### {r['label']}: the {top} tests that cost the most CPU")
        print("| test | CPU | wall |")
        print("| --- | ---: | ---: |")
        for node, cpu, wall, _ in sorted(r["tests"], key=lambda t: t[1], reverse=True)[:top]:
            print(f"| {node} | {cpu:.1f} s | {wall:.1f} s |")
        print(f"\n### {r['label']}: the {top} tests that waited the most (wall - CPU)")
        print("| test | waited | CPU |")
        print("| --- | ---: | ---: |")
        for node, cpu, wall, _ in sorted(r["tests"], key=lambda t: t[2] - t[1], reverse=True)[:top]:
            print(f"| {node} | {wall - cpu:.1f} s | {cpu:.1f} s |")
        if r["returncode"] != 0:
            print("\n(the run failed; its last lines:)\n" + "\n".join(r["output"].splitlines()[-15:]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", nargs="+", default=["auto"], help="xdist worker counts to compare (default: auto)")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("pytest_args", nargs="*", help="after --: extra arguments for pytest")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# Test suite time\n\n- {cores} cores, Python {sys.version.split()[0]}, load average at start "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}\n- command: `python bench/suite_time.py "
          f"{' '.join(sys.argv[1:] if argv is None else argv)}`\n")
    runs = [run(f"suite, -n {workers}", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                         "-p", "suite_cpu", "-n", workers, *args.pytest_args], dict(os.environ))
            for workers in args.workers]
    report(runs, cores, args.top)
    for r in runs:
        floor = max(r["cpu"], r["machine"] or 0) / cores
        print(f"\n{r['label']}: {r['wall']:.0f} s against a target of {TARGET_SECONDS:.0f} s; its CPU alone "
              f"needs {floor:.0f} s on {cores} cores" + (" (more than the target)" if floor > TARGET_SECONDS else ""))
    return 0 if all(r["returncode"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
