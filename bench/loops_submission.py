"""The slowest correct submission we know: the reference with every matrix product written as
pure-Python loops (what a student who has not met `@` writes), and each case's time.

    python bench/loops_submission.py OUT [--student ID]

Writes OUT/exercises (the reference as a student writes it, every `a @ b` replaced by a call to
a triple loop over Python floats), then calls each function of the full suite (public and
hidden cases, the hidden ones with ID's seed) directly in this process — the student's own
computation, as the worker runs it — and prints one JSON object: {"cases": {id: seconds},
"slowest": id, "seconds": s, "timeout": the case's limit}. bench/speed.py grades the same
folder with `grade` to check it earns full marks, and reports how close it comes to the limit.
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOOPS = '''

def _loops_matmul(a, b):
    """a @ b with Python loops over floats (batch dimensions broadcast as NumPy does)."""
    a, b = np.asarray(a), np.asarray(b)
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = a[None, :]
    if vector_b:
        b = b[:, None]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
    out = np.empty(batch + (n, m), dtype=np.result_type(a, b, float))
    for index in np.ndindex(*batch):
        rows, cols = a[index].tolist(), b[index].T.tolist()
        block = [[sum(x * y for x, y in zip(row, col)) for col in cols] for row in rows]
        out[index] = np.array(block, dtype=out.dtype).reshape(n, m)
    if vector_a:
        out = out[..., 0, :]
    if vector_b:
        out = out[..., 0]
    return out
'''


class _MatMul(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return ast.copy_location(ast.Call(ast.Name("_loops_matmul", ast.Load()), [node.left, node.right], []),
                                     node)
        return node


def loops_source(text: str) -> str:
    tree = _MatMul().visit(ast.parse(text))
    ast.fix_missing_locations(tree)
    source = ast.unparse(tree)
    return source + LOOPS if "_loops_matmul" in source else source


def write_loops_submission(target: Path) -> Path:
    """OUT/exercises: the reference, every matrix product a pure-Python triple loop."""
    target.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "reference").glob("*.py"):
        if source.name == "mistakes.py":
            continue
        text = re.sub(r"from \.(\w+) import", r"from exercises.\1 import", source.read_text())
        (target / source.name).write_text(loops_source(text) + "\n")
    return target


def case_times(folder: Path, student: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from grader.grading.engine import Expectations, select_cases
    from grader.model.assignment import load_assignment

    assignment = load_assignment(ROOT / "assignment.yaml")
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), student=student)
    sys.path.insert(0, str(folder.parent))
    times, limits = {}, {}
    for case in plan.cases:
        module = importlib.import_module(f"exercises.{case.exercise}")
        inputs = copy.deepcopy(plan.expected[case.id].inputs)
        started = time.perf_counter()
        try:
            getattr(module, case.function)(*inputs.values())
        except Exception:
            pass  # an expected-error case
        times[case.id] = time.perf_counter() - started
        limits[case.id] = case.timeout
    slowest = max(times, key=times.get)
    return {"cases": times, "slowest": slowest, "seconds": times[slowest], "timeout": limits[slowest],
            "total": sum(times.values())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--student", default="loops")
    args = p.parse_args(argv)
    folder = write_loops_submission(Path(args.out) / "exercises")
    print(json.dumps(case_times(folder, args.student)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
