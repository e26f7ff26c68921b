"""How long `grade` takes, end to end, as a fresh process (median of 5).

    python bench/grade_speed.py

Two set-ups: a student's repository (the public cases, expected values from the
public-cases file) and the instructor's (every case, public and hidden, from the reference).
The submission is the reference written as a student would.
"""
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import solution_folder  # noqa: E402


def timed(cmd, cwd, runs=5):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}")
    return statistics.median(times), min(times), max(times)


def main():
    grade = [sys.executable, "-m", "grader.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        student = tmp / "student"
        student.mkdir()
        shutil.copy(ROOT / "assignment.yaml", student)
        subprocess.run(grade + ["public-cases", "--out", student / "public_cases.npz"], cwd=ROOT, check=True,
                       capture_output=True)
        solution_folder(student / "exercises")
        shutil.copytree(ROOT / "grader", student / "grader")  # as the student release ships it
        rows = [("student repo, public cases", *timed(grade + ["--report", tmp / "a.html"], student)),
                ("instructor repo, all cases", *timed(grade + [student / "exercises", "--report", tmp / "b.html"], ROOT))]
    print("| set-up | median (s) | min (s) | max (s) |")
    print("| --- | --- | --- | --- |")
    for name, median, low, high in rows:
        print(f"| {name} | {median:.3f} | {low:.3f} | {high:.3f} |")
    target = 1.5
    print(f"\ntarget: `grade` on the public cases <= {target} s: {'met' if rows[0][1] <= target else 'NOT met'}")


if __name__ == "__main__":
    main()
