"""`grade`: the command line.

    grade [PATH] [-k NAME ...] [--case ID] [--seed N] [--student ID] [--report PATH] [--json PATH] [--quiet]
          [--no-color] [--ci] [--junit PATH] [--min-score S]
    grade bulk SUBMISSIONS --out DIR [-j N] [--force] [--canvas-column NAME] [--quiet]   (instructor)
    grade release OUT [--force]          (instructor: write the students' repository)
    grade validate [--seeds N]           (instructor: the pre-flight check)
    grade public-cases [--out FILE]      (instructor: write the public-cases file from the reference)

Exit status: 0 every graded case passes, 1 some fail, 2 usage, configuration or unreadable
submission.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .assignment import find_assignment, load_assignment
from .errors import GraderError

EPILOG = """exit status: 0 when every graded case passes, 1 when some fail, 2 for a usage,
configuration or unreadable-submission error.

other commands (instructor):
  grade bulk SUBMISSIONS --out DIR [-j N] [--force]   grade a class: gradebooks, reports, overview
  grade release OUT [--force]       write the students' repository (stubs, engine, public cases)
  grade validate [--seeds N]        pre-flight: reference 100, stubs 0, mistakes caught, public file
  grade public-cases [--out FILE]   write the public-cases file from the reference

examples:
  grade                         grade exercises/ of the course repository you are in
  grade mon_notebook.ipynb      grade a notebook
  grade -k softmax attention    only these exercises (or functions)
  grade --case attention/scaled_dot_product_attention/random-1   replay one case in full
  grade --ci --min-score 50     in CI: report, JUnit XML, step summary; red below 50 points
"""


def grade_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade", description="Grade the séance 11 exercises against the contract.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", help="a folder of modules, a .py file or a .ipynb notebook "
                                           "(default: the course's exercises/ folder)")
    p.add_argument("-k", "--exercise", nargs="+", metavar="NAME", help="grade only these exercises or functions")
    p.add_argument("--case", metavar="ID", help="replay one case with full detail")
    p.add_argument("--seed", type=int, help="seed of the random cases (default: the assignment's)")
    p.add_argument("--student", metavar="ID", help="the hidden cases of this student, as `grade bulk` ran them "
                                                   "(instructor)")
    p.add_argument("--report", default="grade-report.html", metavar="PATH", help="HTML report (default: %(default)s)")
    p.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    p.add_argument("--quiet", action="store_true", help="print only the table and the total")
    p.add_argument("--no-color", action="store_true", help="no colours, even on a terminal")
    p.add_argument("--ci", action="store_true", help="for CI: no colour; also writes grade-junit.xml (--junit), "
                   "appends a summary to $GITHUB_STEP_SUMMARY and the GitHub Classroom result to $GITHUB_OUTPUT "
                   "when those are set")
    p.add_argument("--junit", metavar="PATH", help="JUnit XML, one testcase per case (default with --ci: "
                                                   "grade-junit.xml)")
    p.add_argument("--min-score", type=float, metavar="S", help="exit 0 when the score is at least S, else 1 "
                                                                 "(default: 0 only when every case passes)")
    return p


def replay_command(case_id: str, seed: int | None, path: str | None) -> str:
    """`--seed` only where the reference is: a students' repository's public cases have fixed inputs."""
    return "grade " + (f"{path} " if path else "") + f"--case {case_id}" + (f" --seed {seed}" if seed is not None else "")


def run_grade(args) -> int:
    from .engine import Expectations, grade, select_cases
    from .html_report import write_html
    from .sandbox import worker_template
    from .terminal import case_detail, summary

    worker_template()  # its start (Python, NumPy) overlaps with loading the assignment and the reference
    assignment = load_assignment(find_assignment(Path.cwd()))
    path = Path(args.path) if args.path else assignment.root / assignment.package
    cases = select_cases(assignment, args.exercise, args.case)
    expectations = Expectations(assignment)
    if args.student and args.seed is not None:
        raise GraderError("--student and --seed both choose the seed: give one of them")
    plan = expectations.plan(cases, seed=args.seed, student=args.student)
    if args.student and cases and all(c.visibility == "hidden" for c in cases):
        from .cases import student_seed
        plan.seed = student_seed(assignment.salt, args.student)  # what the header says is what ran
    if args.case and not plan.cases:
        raise GraderError(f"{args.case} is a hidden case: only its verdict is available, from the instructor.")
    outputs = [Path(p).resolve().parent for p in (args.report, args.json) if p]  # hidden from the worker
    result = grade(assignment, path, plan, protect=outputs)
    colour = sys.stdout.isatty() and not args.no_color and not args.ci and "NO_COLOR" not in os.environ
    junit = args.junit or ("grade-junit.xml" if args.ci else None)
    data = result.to_json()
    try:
        if args.json:  # first: the results survive whatever happens to the report
            Path(args.json).write_text(json.dumps(data, indent=1))
        report = write_html(result, assignment, Path(args.report),
                            lambda cid: replay_command(cid, result.seed if result.source == "reference" else None,
                                                       args.path))
        if junit:
            from .export_junit import write_junit
            write_junit(data, Path(junit))
        if args.ci:  # each a no-op outside GitHub Actions
            from .export_github import append_step_summary, write_classroom_output
            append_step_summary(data)
            write_classroom_output(data)
    except OSError as exc:
        raise GraderError(f"cannot write {exc.filename}: {exc.strerror}. Choose another path "
                          f"(--json, --report, --junit).") from None
    if args.case:
        print(case_detail(result, args.case, colour))
    else:
        print(summary(result, colour, args.quiet, str(report)))
    if args.min_score is not None:
        return 0 if result.score >= args.min_score - 1e-9 else 1
    return 0 if result.all_passed else 1


def run_public_cases(argv) -> int:
    from .engine import Expectations, select_cases
    from .expected import PUBLIC_CASES_FILE, write_public_cases

    p = argparse.ArgumentParser(prog="grade public-cases",
                                description="Write the public cases' inputs and expected values (instructor).")
    p.add_argument("--out", metavar="FILE", help=f"default: {PUBLIC_CASES_FILE} beside the assignment file")
    args = p.parse_args(argv)
    assignment = load_assignment(find_assignment(Path.cwd()))
    expectations = Expectations(assignment, use_reference=True)
    public = [c for c in select_cases(assignment) if c.visibility == "public"]
    plan = expectations.plan(public)
    out = Path(args.out) if args.out else assignment.root / PUBLIC_CASES_FILE
    if out.suffix != ".npz":
        out = out.with_name(out.name + ".npz")  # numpy would add it silently
    from .diagnosis import load_mistakes
    write_public_cases(out, assignment, plan.expected, plan.seed, load_mistakes(assignment))
    print(f"wrote {len(public)} public cases to {out}")
    return 0


def run_bulk_command(argv) -> int:
    from .bulk import run_bulk

    p = argparse.ArgumentParser(
        prog="grade bulk", description="Grade a whole class (instructor): one entry per student in SUBMISSIONS "
        "(a folder, .py, .ipynb or .zip), or an extracted Moodle or Canvas export.",
        epilog="Outputs in DIR: results/<id>.json and reports/<id>.html per student, results.jsonl, gradebook.csv, "
               "gradebook-moodle.csv, gradebook-canvas.csv, index.html (the class overview). A run stopped at any "
               "moment resumes where it stopped.")
    p.add_argument("submissions", metavar="SUBMISSIONS")
    p.add_argument("--out", required=True, metavar="DIR", help="where results, reports and gradebooks go")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="students graded at once (default: all cores)")
    p.add_argument("--force", action="store_true", help="regrade everyone (default: resume, skipping students "
                                                        "already graded with the same submission)")
    p.add_argument("--canvas-column", metavar="NAME", help='the Canvas assignment column, e.g. "Séance 11 (12345)"')
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        raise GraderError("-j needs a positive number of students at once")
    assignment = load_assignment(find_assignment(Path.cwd()))
    summary = run_bulk(assignment, Path(args.submissions), Path(args.out), args.jobs, args.force,
                       progress=not args.quiet and sys.stderr.isatty(), canvas_column=args.canvas_column)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))
    print(f"{summary.graded} graded, {summary.skipped} already graded (resumed) in {summary.seconds:.1f} s; "
          f"class: {counts or 'nobody'}")
    for path in summary.outputs:
        print(f"wrote {path}")
    for student, error in summary.failures:
        print(f"grade: error: {student} could not be graded: {error}", file=sys.stderr)
    return 2 if summary.failures else 0


def run_release(argv) -> int:
    p = argparse.ArgumentParser(
        prog="grade release", description="Write the students' repository (instructor): the stubs, the engine, "
        "the assignment file and the public cases with their expected values, a README, pyproject.toml, "
        ".gitignore. Never the reference, a hidden case, a mistake variant or the salt.")
    p.add_argument("out", metavar="OUT", nargs="?", help="a new or empty folder")
    p.add_argument("--force", action="store_true", help="write into a non-empty OUT: replaces the release's files "
                                                        "and its grader/ and exercises/ folders, keeps the rest (.git…)")
    p.add_argument("--gradescope", metavar="ZIP", help="also (or only) build Gradescope's autograder zip: setup.sh, "
                   "run_autograder, the engine, the reference and the hidden cases (instructor-side, never for "
                   "students)")
    args = p.parse_args(argv)
    if not args.out and not args.gradescope:
        p.error("give OUT (the students' repository), --gradescope ZIP, or both")
    try:
        from .release import write_release
    except ModuleNotFoundError as exc:  # a students' repository ships no release tool
        if exc.name != f"{__package__}.release":
            raise
        raise GraderError("`grade release` is an instructor command: run it in the course repository.") from None
    assignment = load_assignment(find_assignment(Path.cwd()))
    if args.out:
        summary = write_release(assignment, Path(args.out), force=args.force)
        print(f"wrote {len(summary['files'])} files to {summary['out']}: {summary['public_cases']} public cases "
              f"({summary['hidden_cases_left_out']} hidden cases left out)")
        if summary["kept"]:
            print(f"kept: {', '.join(summary['kept'])}")
    if args.gradescope:
        from .gradescope import build_autograder_zip
        zip_path = build_autograder_zip(assignment, Path(args.gradescope))
        print(f"wrote {zip_path}: upload it as the autograder of a Gradescope programming assignment worth "
              f"{sum(e.points for e in assignment.exercises):g} points")
    return 0


def run_validate(argv) -> int:
    from .validate import SEEDS, validate

    p = argparse.ArgumentParser(prog="grade validate", description="The instructor's pre-flight check: the "
                                "reference scores 100 on every case for many seeds, the stubs 0, every mistake "
                                "variant is caught, the public-cases file matches the reference.")
    p.add_argument("--seeds", type=int, default=SEEDS, metavar="N", help="seeds to try (default: %(default)s)")
    args = p.parse_args(argv)
    if args.seeds < 1:
        raise GraderError("--seeds needs a positive number")
    assignment = load_assignment(find_assignment(Path.cwd()))  # an invalid file stops here, with file:line
    print(f"ok   {assignment.path.name} is valid")
    problems = validate(assignment, args.seeds)
    print(f"{len(problems)} problem(s)" if problems else "ready: every check passed")
    return 1 if problems else 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "public-cases":
            return run_public_cases(argv[1:])
        if argv and argv[0] == "bulk":
            return run_bulk_command(argv[1:])
        if argv and argv[0] == "validate":
            return run_validate(argv[1:])
        if argv and argv[0] == "release":
            return run_release(argv[1:])
        args = grade_parser().parse_args(argv)
        return run_grade(args)
    except GraderError as exc:
        print(f"grade: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `grade | head`: the reader left early; the report and JSON are written already
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141  # 128 + SIGPIPE, what a shell pipeline expects


if __name__ == "__main__":
    sys.exit(main())
