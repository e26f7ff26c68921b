"""How long `%check` takes in a warm kernel (issue 18's targets: one exercise <= 0.5 s, everything
<= 1.0 s).

    python bench/notebook_check.py [--runs 15] [--where students|instructor|both]

A real kernel (ipykernel, started by nbclient) in a students' repository (`grade release` into a
temporary folder: public cases from public_cases.npz) and/or in this instructor's repository
(every case, hidden ones too, expected values from the reference). The kernel holds the
reference written in cells as a student would (one cell per module, no package imports), loads
the extension, runs one warm-up check, then `--runs` times each, alternately:

  run("softmax")   the check of one exercise, measured inside the kernel (perf_counter around
                   grader.notebook.run: kernel read, worker, comparison, HTML and text views)
  run()            every exercise, the same way
  %check softmax   the whole round trip seen by the front end: the cell sent, executed, its
                   display_data received (nbclient's wall clock)

Prints the machine and the date, then one Markdown table | measure | median | max | target | met? |.
Needs nbclient and ipykernel (`pip install -e '.[test]'`).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"one": 0.5, "all": 1.0}


def reference_cells() -> list:
    """The reference as notebook cells: one per module, relative imports dropped (one namespace)."""
    cells = []
    for name in ("similarity", "softmax", "embeddings", "attention", "positional", "transformer"):
        text = (ROOT / "reference" / f"{name}.py").read_text()
        cells.append(re.sub(r"^from \.\w+ import .*$", "", text, flags=re.M))
    return cells


def measure(folder: Path, runs: int) -> dict:
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(folder)}})

    def cell(source: str):
        c = nbformat.v4.new_code_cell(source)
        nb.cells.append(c)
        started = time.perf_counter()
        client.execute_cell(c, len(nb.cells) - 1)
        return c.outputs, time.perf_counter() - started

    figures = {"one": [], "all": [], "round_trip": []}
    with client.setup_kernel():
        cell("%load_ext grader.notebook")
        for source in reference_cells():
            cell(source)
        cell("import time as _t\nfrom grader.notebook import run as _run\n_run('softmax'); _run()")   # warm-up
        for _ in range(runs):
            for key, call in (("one", "_run('softmax')"), ("all", "_run()")):
                outputs, _ = cell(f"_s = _t.perf_counter(); _r = {call}; print(_t.perf_counter() - _s, _r.score, _r.max_score)")
                seconds, score, max_score = "".join(o.get("text", "") for o in outputs).split()[-3:]
                assert abs(float(score) - float(max_score)) < 1e-6, (call, score, max_score)
                figures[key].append(float(seconds))
            outputs, seconds = cell("%check softmax")
            assert [o for o in outputs if o["output_type"] == "display_data"]
            figures["round_trip"].append(seconds)
        cell("del _s, _r, _run, _t")
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--where", choices=("students", "instructor", "both"), default="both")
    args = p.parse_args(argv)
    os.environ.setdefault("GRADE_LANG", "en")
    from grader.model.assignment import load_assignment
    from grader.instructor.release import write_release

    places = []
    with tempfile.TemporaryDirectory(prefix="bench-notebook-") as tmp:
        if args.where in ("students", "both"):
            out = Path(tmp) / "seance11-etudiants"
            write_release(load_assignment(ROOT / "assignment.yaml"), out)
            places.append(("students' repository (public cases)", out))
        if args.where in ("instructor", "both"):
            places.append(("instructor's repository (every case)", ROOT))
        print(f"machine: {platform.node()} · {platform.platform()} · {os.cpu_count()} cores · "
              f"Python {platform.python_version()} · {datetime.now():%Y-%m-%d %H:%M}")
        print(f"command: python bench/notebook_check.py --runs {args.runs} --where {args.where}\n")
        print("| where | measure | median | max | target | met? |")
        print("| --- | --- | --- | --- | --- | --- |")
        ok = True
        for label, folder in places:
            print(f"… {label}", file=sys.stderr, flush=True)
            figures = measure(folder, args.runs)
            for key, name in (("one", 'run("softmax") in the kernel'), ("all", "run() in the kernel"),
                              ("round_trip", "%check softmax, front end's round trip")):
                values = figures[key]
                target = TARGETS.get(key, TARGETS["one"])
                met = statistics.median(values) <= target
                ok &= met
                print(f"| {label} | {name} | {statistics.median(values):.3f} s | {max(values):.3f} s | "
                      f"<= {target} s | {'yes' if met else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
