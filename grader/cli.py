"""`grade`: the command line.

    grade [PATH] [-k NAME ...] [--case ID] [--seed N] [--student ID] [--report PATH] [--json PATH] [--quiet]
          [--no-color] [--ci] [--junit PATH] [--min-score S] [--lang fr|en]
    grade bulk SUBMISSIONS --out DIR [-j N | --dask ADDRESS] [--force] [--budget SECONDS] [--canvas-column NAME]
               [--quiet]
                                                                                    (instructor)
    grade release OUT [--force] [--repo-url URL]   (instructor: write the students' repository)
    grade validate [--seeds N]           (instructor: the pre-flight check)
    grade public-cases [--out FILE]      (instructor: write the public-cases file from the reference)

Exit status: 0 every graded case passes, 1 some fail, 2 usage, configuration or unreadable
submission.

Every subcommand takes `--lang fr|en` (default: $GRADE_LANG, else the locale, else French):
messages, the terminal output and the reports are written in that language.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path

from grader.model.errors import GraderError
from grader.i18n import LANGUAGES, set_language, t

# What each command imports, it imports in its own function: `grade` starts its worker template
# before importing anything it can do without (the assignment, NumPy, the engine), so that the
# template's own start (Python, NumPy) runs on the other core meanwhile.


def _assignment():
    """The assignment of the course folder this command runs in."""
    from grader.model.assignment import find_assignment, load_assignment
    return load_assignment(find_assignment(Path.cwd()))


def _language_argument(p: argparse.ArgumentParser):
    p.add_argument("--lang", choices=LANGUAGES, help=t("cli.help_lang"))


def choose_language(argv: list) -> list:
    """Read --lang before any parser is built (their help is in that language) and set it; the
    rest of the arguments, without it, so that it may come before a subcommand too. A wrong
    value stays, for the real parser to refuse with the choices."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang")
    known, rest = early.parse_known_args(argv)
    if known.lang not in LANGUAGES:
        set_language(None)
        return argv
    set_language(known.lang)
    return rest


def grade_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade", description=t("cli.description"), epilog=t("cli.epilog"),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", help=t("cli.help_path"))
    p.add_argument("-k", "--exercise", nargs="+", metavar="NAME", help=t("cli.help_exercise"))
    p.add_argument("--case", metavar="ID", help=t("cli.help_case"))
    p.add_argument("--seed", type=int, help=t("cli.help_seed"))
    p.add_argument("--student", metavar="ID", help=t("cli.help_student"))
    p.add_argument("--report", default="grade-report.html", metavar="PATH", help=t("cli.help_report"))
    p.add_argument("--json", metavar="PATH", help=t("cli.help_json"))
    p.add_argument("--quiet", action="store_true", help=t("cli.help_quiet"))
    p.add_argument("--no-color", action="store_true", help=t("cli.help_no_color"))
    p.add_argument("--ci", action="store_true", help=t("cli.help_ci"))
    p.add_argument("--junit", metavar="PATH", help=t("cli.help_junit"))
    p.add_argument("--min-score", type=float, metavar="S", help=t("cli.help_min_score"))
    _language_argument(p)
    return p


def run_grade(args, own_process: bool = False) -> int:
    """`own_process`: this process ends with the run (the `grade` command): its worker template is
    stopped as soon as the last worker is done, while the report is written."""
    start_worker_template()  # if main() has not already
    from grader.sandbox.supervisor import prepare
    prepare()  # the portable backend's files (the template's start, if not started above)

    from grader.grading.engine import Expectations, grade, select_cases
    from grader.grading.submission import load_submission
    assignment = _assignment()
    path = Path(args.path) if args.path else assignment.root / assignment.package
    cases = select_cases(assignment, args.exercise, args.case)
    expectations = Expectations(assignment)
    if args.student and args.seed is not None:
        raise GraderError(t("cli.student_and_seed"))
    plan = expectations.plan(cases, seed=args.seed, student=args.student)
    if args.student and cases and all(c.visibility == "hidden" for c in cases):
        from grader.grading.cases import student_seed
        plan.seed = student_seed(assignment.salt, args.student)  # what the header says is what ran
    if args.case and not plan.cases:
        raise GraderError(t("cli.hidden_case", case=args.case))
    package = (assignment.root / assignment.package).resolve()
    if args.report == "grade-report.html" and Path.cwd().resolve().is_relative_to(package):
        args.report = str(assignment.root / args.report)  # run from inside exercises/: not into the package
    outputs = [Path(p).resolve().parent for p in (args.report, args.json) if p]  # hidden from the worker
    junit = args.junit or ("grade-junit.xml" if args.ci else None)
    report_loader = threading.Thread(target=_preload_report, daemon=True)
    tidying = threading.Thread(target=_tidy, args=(own_process,), name="grade-tidy")
    try:
        try:
            submission = load_submission(path, assignment.package)
            # Jinja2 and the report's template load in this thread while the grader waits for the
            # worker; started only once the first worker is, so that it takes nothing of the
            # interpreter from what comes first (the worker's request, its start)
            result = grade(assignment, submission, plan, protect=outputs,
                           on_worker_started=lambda: _start_once(report_loader), close_later=True)
            _start_once(report_loader)  # no worker was needed
        except GraderError as exc:  # an unreadable submission: CI consumers still get their files, then exit 2
            if args.json or junit or args.ci:
                from grader.export.unreadable import write_unreadable
                write_unreadable(assignment, path, plan.seed, str(exc), json_path=args.json, junit_path=junit,
                                 ci=args.ci, min_score=args.min_score)
            raise
        finally:  # no more workers: the template stops (and old runs' folders go) while the results are written
            tidying.start()
        return _write_results(args, assignment, result, junit, report_loader)
    finally:
        tidying.join()


def start_worker_template():
    """Start this process's worker template now, where the workers are its forks: its Python
    and NumPy then start on the other core while this process does everything else (nothing
    imported here imports NumPy)."""
    from grader.sandbox import platforms
    if platforms.CAN_FORK:
        from grader.sandbox.template import start_early
        start_early()


def _write_results(args, assignment, result, junit, report_loader) -> int:
    """What `grade` writes once the submission is graded: the JSON, JUnit and CI files, the
    summary on the terminal, then the report (the student reads the summary meanwhile)."""
    from grader.model.files import atomic_write
    from grader.model.replay import detect_shell, replay_command
    from grader.report.terminal import case_detail, summary, use_colour
    colour = not args.no_color and not args.ci and use_colour(sys.stdout)
    shell = detect_shell()

    def replay(case_id: str) -> str:  # `--seed` only where the reference is (fixed inputs otherwise)
        return replay_command(case_id, args.path, result.seed if result.source == "reference" else None,
                              shell=shell)

    data = result.to_json()
    report = Path(args.report)
    try:
        if args.json:  # first: the results survive whatever happens to the report
            atomic_write(Path(args.json), json.dumps(data, indent=1))  # the old file or the whole new one
        if junit:
            from grader.export.junit import write_junit
            write_junit(data, Path(junit), result)
        if args.ci:  # each a no-op outside GitHub Actions
            from grader.export.github import append_step_summary, write_classroom_output
            append_step_summary(data, min_score=args.min_score)
            write_classroom_output(data, min_score=args.min_score)
    except OSError as exc:
        raise GraderError(t("cli.cannot_write", path=exc.filename, error=exc.strerror)) from None
    # the summary first: the student reads it while the report is written (before this process ends)
    try:
        if args.case:
            print(case_detail(result, args.case, colour, assignment), flush=True)
        else:
            print(summary(result, colour, args.quiet, str(report), replay, assignment), flush=True)
    except BrokenPipeError:  # `grade | head`: the reader left early; the report is written all the same
        _write_report(result, assignment, report, replay, report_loader)
        raise
    _write_report(result, assignment, report, replay, report_loader)
    if args.min_score is not None:
        return 0 if result.score >= args.min_score - 1e-9 else 1
    return 0 if result.all_passed else 1


def _start_once(thread: threading.Thread):
    if thread.ident is None:
        thread.start()


def _write_report(result, assignment, report: Path, replay, report_loader):
    """The HTML report, once the thread loading Jinja2 and its template is done."""
    report_loader.join()
    from grader.model.files import atomic_write
    try:
        from grader.report.html import render_html  # Jinja2 is loaded only to write a report
        page = render_html(result, assignment, replay)
        report.parent.mkdir(parents=True, exist_ok=True)
        # the old report or the whole new one, never half of one (a browser may be reloading it);
        # no fsync: every run writes it again
        atomic_write(report, page, durable=False)
    except OSError as exc:
        raise GraderError(t("cli.cannot_write", path=exc.filename, error=exc.strerror)) from None


def _preload_report():
    """Import the HTML report and load its template; whatever fails here fails again, and is
    reported, when the report is written."""
    try:
        from grader.report.html import preload
        preload()
    except Exception:
        pass


def _tidy(own_process: bool):
    """After the last worker: stop this process's worker template when the process is about to
    end anyway (else it stays for the next run in this process, e.g. a test's), and remove what
    killed earlier runs left in the temporary folder (never a live owner's). Never raises: at
    worst what it leaves is removed at exit, or by the next run."""
    try:
        from grader.sandbox.supervisor import join_closing
        join_closing()  # the sandbox's last worker reaped through the template first
        if own_process:
            from grader.sandbox import platforms
            if platforms.CAN_FORK:
                from grader.sandbox.template import discard_template
                discard_template()
        from grader.sandbox.tempfiles import remove_stale
        remove_stale()
    except Exception:
        pass


def run_public_cases(argv) -> int:
    from grader.grading.engine import Expectations, select_cases
    from grader.grading.expected import PUBLIC_CASES_FILE
    from grader.grading.public_cases import write_public_cases

    p = argparse.ArgumentParser(prog="grade public-cases", description=t("cli.public_cases_description"))
    p.add_argument("--out", metavar="FILE", help=t("cli.help_public_cases_out", file=PUBLIC_CASES_FILE))
    _language_argument(p)
    args = p.parse_args(argv)
    assignment = _assignment()
    expectations = Expectations(assignment, use_reference=True)
    public = [c for c in select_cases(assignment) if c.visibility == "public"]
    plan = expectations.plan(public)
    out = Path(args.out) if args.out else assignment.root / PUBLIC_CASES_FILE
    if out.suffix != ".npz":
        out = out.with_name(out.name + ".npz")  # numpy would add it silently
    from grader.grading.diagnosis import load_mistakes
    write_public_cases(out, assignment, plan.expected, plan.seed, load_mistakes(assignment))
    print(t("cli.wrote_public_cases", count=len(public), path=out))
    return 0


def run_bulk_command(argv) -> int:
    import math

    from grader.bulk.run import DEFAULT_BUDGET, run_bulk

    p = argparse.ArgumentParser(prog="grade bulk", description=t("cli.bulk_description"),
                                epilog=t("cli.bulk_epilog"))
    p.add_argument("submissions", metavar="SUBMISSIONS")
    p.add_argument("--out", required=True, metavar="DIR", help=t("cli.help_bulk_out"))
    where = p.add_mutually_exclusive_group()
    where.add_argument("-j", "--jobs", type=int, metavar="N", help=t("cli.help_jobs"))
    where.add_argument("--dask", metavar="ADDRESS", help=t("cli.help_dask"))
    p.add_argument("--force", action="store_true", help=t("cli.help_force"))
    p.add_argument("--budget", type=float, default=DEFAULT_BUDGET, metavar="SECONDS", help=t("cli.help_budget"))
    p.add_argument("--canvas-column", metavar="NAME", help=t("cli.help_canvas_column"))
    p.add_argument("--quiet", action="store_true", help=t("cli.help_bulk_quiet"))
    _language_argument(p)
    args = p.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        raise GraderError(t("cli.jobs_positive"))
    if not (math.isfinite(args.budget) and args.budget > 0):
        raise GraderError(t("cli.budget_positive"))
    assignment = _assignment()
    from grader.sandbox.supervisor import isolation_line
    print(isolation_line(), flush=True)  # first: what this platform can and cannot contain
    summary = run_bulk(assignment, Path(args.submissions), Path(args.out), args.jobs, args.force,
                       progress=not args.quiet and sys.stderr.isatty(), canvas_column=args.canvas_column,
                       dask=args.dask, budget=args.budget)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))
    print(t("cli.bulk_summary", graded=summary.graded, skipped=summary.skipped, seconds=summary.seconds,
            counts=counts or t("cli.nobody")))
    for count, why in summary.regraded:  # "54 regraded: the course changed (assignment.yaml)"
        print(t("cli.bulk_regraded", count=count, reasons=why))
    for path in summary.outputs:
        print(t("cli.wrote", path=path))
    for notice in summary.notices:  # e.g. students left out of the Moodle feedback zip (not from Moodle)
        print(notice)
    from grader.report.terminal import safe  # student ids and reasons come from submissions: inert on the terminal
    by_reason: dict = {}
    for student, error in summary.failures:
        by_reason.setdefault(safe(error), []).append(safe(student))
    for error, students in by_reason.items():
        if len(students) == 1:
            print(t("cli.student_failed", student=students[0], error=error), file=sys.stderr)
        else:
            shown = ", ".join(sorted(students)[:10]) + (", …" if len(students) > 10 else "")
            print(t("cli.students_failed", count=len(students), students=shown, error=error), file=sys.stderr)
    if summary.failures:
        print(t("cli.bulk_not_graded", count=len(summary.failures)), file=sys.stderr)
    for problem in summary.problems:
        print(t("cli.error", error=safe(problem)), file=sys.stderr)
    if summary.error_log:
        print(t("cli.bulk_error_log", path=summary.error_log), file=sys.stderr)
    return 2 if summary.failures or summary.problems else 0


def run_release(argv) -> int:
    p = argparse.ArgumentParser(prog="grade release", description=t("cli.release_description"))
    p.add_argument("out", metavar="OUT", nargs="?", help=t("cli.help_release_out"))
    p.add_argument("--force", action="store_true", help=t("cli.help_release_force"))
    p.add_argument("--gradescope", metavar="ZIP", help=t("cli.help_gradescope"))
    p.add_argument("--repo-url", metavar="URL", help=t("cli.help_repo_url"))
    _language_argument(p)
    args = p.parse_args(argv)
    if not args.out and not args.gradescope:
        p.error(t("cli.release_needs_out"))
    try:
        from grader.instructor.release import write_release
    except ModuleNotFoundError as exc:  # a students' repository ships no release tool
        if exc.name != "grader.instructor.release":
            raise
        raise GraderError(t("cli.release_instructor_only")) from None
    assignment = _assignment()
    if args.out:
        summary = write_release(assignment, Path(args.out), force=args.force, repo_url=args.repo_url)
        print(t("cli.wrote_release", count=len(summary["files"]), path=summary["out"],
                public=summary["public_cases"], hidden=summary["hidden_cases_left_out"]))
        if summary["kept"]:
            print(t("cli.kept", files=", ".join(summary["kept"])))
    if args.gradescope:
        from grader.export.gradescope import build_autograder_zip
        zip_path = build_autograder_zip(assignment, Path(args.gradescope))
        print(t("cli.wrote_gradescope", path=zip_path, points=sum(e.points for e in assignment.exercises)))
    return 0


def run_validate(argv) -> int:
    from grader.instructor.validate import SEEDS, validate

    p = argparse.ArgumentParser(prog="grade validate", description=t("cli.validate_description"))
    p.add_argument("--seeds", type=int, default=SEEDS, metavar="N", help=t("cli.help_seeds"))
    _language_argument(p)
    args = p.parse_args(argv)
    if args.seeds < 1:
        raise GraderError(t("cli.seeds_positive"))
    assignment = _assignment()  # an invalid file stops here, with file:line
    print(t("cli.assignment_valid", file=assignment.path.name))
    problems = validate(assignment, args.seeds)
    print(t("cli.problems", count=len(problems)) if problems else t("cli.ready"))
    return 1 if problems else 0


def utf8_output(*streams):
    """Write UTF-8 whatever the console's code page or the pipe's locale (cp1252, cp850, ascii):
    « », ✓, emoji and a student's own text must never raise UnicodeEncodeError. A stream that is
    not UTF-8 is reconfigured (errors="replace"); one that cannot be (replaced by a test, closed)
    is left alone."""
    import codecs
    for stream in streams or (sys.stdout, sys.stderr):
        try:
            if codecs.lookup(stream.encoding or "ascii").name == "utf-8":
                continue
        except (AttributeError, LookupError):
            pass
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


SUBCOMMANDS = ("public-cases", "bulk", "validate", "release")
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")  # OpenBLAS, OpenMP builds, MKL


def main(argv=None) -> int:
    """`argv` None: the `grade` command (or `python -m grader.cli`), whose process ends with the
    run; a list: a call from Python (a test, a script), which goes on afterwards."""
    own_process = argv is None
    utf8_output()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not set(SUBCOMMANDS) & set(argv[:3]) and not {"-h", "--help"} & set(argv):
        # most likely a plain `grade` (a subcommand comes first, or after --lang X): the
        # template first of all (a wrong guess only starts it later, or for nothing)
        start_worker_template()
    argv = choose_language(argv)
    plain = not (argv and argv[0] in SUBCOMMANDS)
    if own_process and plain:
        # one submission's run is short and bounded: the cyclic garbage collector would spend
        # 10-20 ms scanning the objects every import makes, to free next to nothing
        import gc
        gc.disable()
    if own_process:
        # NumPy's BLAS starts a thread per core when it loads (20-70 ms of CPU, taken from the
        # worker on the other core) for a process whose arrays are a few KB — the course's, in
        # every subcommand — and `grade bulk` already keeps every core busy with one pool process
        # each: one thread, unless the user chose otherwise. Before NumPy is imported (nothing
        # above imports it).
        for name in BLAS_THREADS:
            if not os.environ.get(name):  # unset or empty: BLAS's default
                os.environ[name] = "1"
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
        code = run_grade(args, own_process)
    except GraderError as exc:  # may quote a submission (a file name, a cell): no control characters
        from grader.model.result import inert
        print(t("cli.error", error=inert(str(exc))), file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:  # `grade | head`: the reader left early; the report and JSON are written already
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit
        return 141  # 128 + SIGPIPE, what a shell pipeline expects
    if own_process and plain:
        end_process(code)
    return code


def end_process(code: int):
    """End this process now that everything is written, without the interpreter's teardown
    (freeing each module and object one by one: 15-30 ms with NumPy and Jinja2 loaded, for a
    process that is gone a moment later): the output flushed, the exit handlers run (a worker
    template stopped, its folder removed), then os._exit. Returns (the normal exit follows) if
    the output cannot be flushed (a reader gone), or with a thread still running that is not a
    daemon (nothing of ours: whatever else started one expects it to finish)."""
    import atexit
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    if any(not thread.daemon and thread is not threading.main_thread() and thread.is_alive()
           for thread in threading.enumerate()):
        return
    atexit._run_exitfuncs()  # what the normal exit runs first (CPython and PyPy both have it)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
