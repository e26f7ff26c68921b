"""`grade bulk` throughput on a generated class.

    python bench/bulk_speed.py [--students 200] [--jobs N] [--mix correct=1.0]

Generates the class (tests/classgen.py: folders, single files, notebooks and zips, with plain,
Moodle and Canvas names), runs the real CLI once as a fresh process, and prints the wall time,
submissions per second, and the per-submission median and 90th percentile of the grading
time recorded in each result.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from classgen import make_class  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--jobs", type=int, default=os.cpu_count())
    p.add_argument("--mix", default="correct=1.0", help="e.g. correct=0.7,wrong=0.2,timeout=0.05,crash=0.05")
    args = p.parse_args(argv)
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    with tempfile.TemporaryDirectory(prefix="bulk-bench-") as tmp:
        subs, out = Path(tmp) / "submissions", Path(tmp) / "out"
        make_class(subs, args.students, mix, seed=1)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "grader.cli", "bulk", str(subs), "--out", str(out),
                               "-j", str(args.jobs), "--quiet"], cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        durations = sorted(json.loads(p.read_text())["duration"] for p in (out / "results").glob("*.json"))
    print(f"grade bulk, {args.students} submissions ({args.mix}), -j {args.jobs}, {os.cpu_count()} cores")
    print(f"| wall | submissions/s | per submission: median | p90 |")
    print(f"| ---: | ---: | ---: | ---: |")
    p90 = durations[int(0.9 * (len(durations) - 1))]
    print(f"| {wall:.1f} s | {args.students / wall:.1f} | {statistics.median(durations) * 1000:.0f} ms "
          f"| {p90 * 1000:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
