"""The pipeline: load → run (isolated worker) → compare → score → Result.

One function, `grade`, used by every front door (student, instructor, CI).
"""
from __future__ import annotations

import ast
import importlib.util
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.model.assignment import Assignment, CaseSpec
from grader.grading.cases import CaseBuilder, student_seed
from grader.grading.compare import Verdict, compare, quote
from grader.model.errors import GraderError
from grader.grading.properties import property_hint
from grader.grading.crash_hints import explain as explain_crash, frames, stub_called
from grader.i18n import LANGUAGES, speaking, t
from grader.grading.expected import PUBLIC_CASES_FILE, Expected, ReferenceOracle, reference_available
from grader.grading.public_cases import PublicCasesFile, public_diagnoser
from grader.model.result import CaseResult, ExerciseResult, Result
from grader.model.said import Said, Texts, concat, joined, render
from grader.grading.rules import call_graph, find_forbidden_imports, users_anywhere
from grader.sandbox.supervisor import IMPORT_TIMEOUT, Limits, Sandbox, Step
from grader.grading.submission import Submission, load_submission
from grader.model import truncation


MAX_PROBLEMS = 20  # distinct violations and refusals listed per exercise; the rest are counted


class Problems:
    """Distinct texts in the order they came, at most MAX_PROBLEMS of them, and how many more
    came: linear in what a submission reports, however many thousands of refusals it floods.
    A text is told apart by its `key` (itself by default) and made only if it is kept."""

    def __init__(self):
        self.kept = {}        # key -> text, in order
        self.dropped = set()  # hashes of the keys beyond MAX_PROBLEMS: counted once each, not kept

    @property
    def more(self) -> int:
        return len(self.dropped)

    def add(self, key, make=None, *args):
        """Add `key`; its text is `make(*args)` (made only if kept), else `key` itself."""
        if key in self.kept:
            return
        if len(self.kept) < MAX_PROBLEMS:
            self.kept[key] = make(*args) if make is not None else key
        else:
            self.dropped.add(hash(key))

    def __bool__(self):
        return bool(self.kept)

    def first(self):
        """The first problem as it was kept: a Said, or a text."""
        return next(iter(self.kept.values()))

    def said(self, ordered: bool = False) -> list:
        """The problems kept (each a Said, or a text), then how many more came; `ordered`: in
        the order of their words."""
        kept = list(self.kept.values())
        kept = sorted(kept, key=render) if ordered else kept
        return kept + ([Said("engine.more_problems", count=self.more)] if self.more else [])


@dataclass
class Plan:
    """The cases to run, with their inputs and expected values (which stay in this process)."""
    cases: list          # CaseSpec
    expected: dict       # case id -> Expected
    seed: int
    source: str          # "reference" | "public-cases file"
    diagnoser: object = None  # names the classic mistake behind a failing output (grader.grading.diagnosis)
    pending: object = None    # the thread still computing some expected values (Expectations.plan, later=True)
    shared: frozenset = frozenset()  # cases whose inputs are the same objects for every student of this process

    def settle(self):
        """Wait for the expected values still being computed; raises what computing them raised."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.join()
            if pending.error is not None:
                raise pending.error


class Expectations:
    """Where expected values come from: the reference when present, else the public-cases file."""

    def __init__(self, assignment: Assignment, public_file: Path | None = None, use_reference: bool | None = None):
        self.assignment = assignment
        if use_reference is None:
            use_reference = reference_available(assignment)
        self.oracle = ReferenceOracle(assignment) if use_reference else None
        self.builder = CaseBuilder(assignment) if use_reference else None
        self.public = None
        self.diagnoser = None
        self._shared = {}  # {(case id, seed or None): Expected} shared by every student (read-only)
        if use_reference:
            from grader.grading.diagnosis import Diagnoser, load_mistakes
            self.diagnoser = Diagnoser(assignment, load_mistakes(assignment))
        if not use_reference:
            path = public_file or assignment.root / PUBLIC_CASES_FILE
            if not Path(path).is_file():
                raise GraderError(t("engine.no_expected_values", file=path.name))
            self.public = PublicCasesFile(path)
            self.diagnoser = public_diagnoser(assignment, self.public)

    def plan(self, cases: list[CaseSpec], seed: int | None = None, student: str | None = None,
             later: bool = False) -> Plan:
        """`later`: a student's own hidden cases get their inputs now and their expected values in a
        thread, while the worker runs (`Plan.settle` waits for them; `grade` calls it)."""
        if self.oracle is None:
            if seed is not None:
                raise GraderError(t("engine.seed_needs_reference"))
            chosen = [c for c in cases if self.public.has(c.id)]
            return Plan(chosen, {c.id: self.public.expected(c) for c in chosen}, self.public.seed,
                        "public-cases file", self.diagnoser)
        base = self.assignment.seed if seed is None else seed
        expected, own, shared = {}, [], set()
        for case in cases:
            if student is not None and seed is None and case.visibility == "hidden" and case.inputs is None:
                # a student's own random inputs: computed for them alone
                case_seed = student_seed(self.assignment.salt, student)
                if later:
                    expected[case.id] = Expected(self.builder.inputs(case, case_seed))
                    own.append(case)
                else:
                    expected[case.id] = self.oracle.expected(case, self.builder.inputs(case, case_seed))
                continue
            # the same for every student (public cases, fixed inputs): computed once per process
            key = (case.id, base if case.inputs is None else None)
            if key not in self._shared:
                self._shared[key] = self.oracle.expected(case, self.builder.inputs(case, base))
            expected[case.id] = self._shared[key]
            shared.add(case.id)
        plan = Plan(list(cases), expected, base, "reference", self.diagnoser, shared=frozenset(shared))
        if own:
            plan.pending = _Computing(self.oracle, own, expected)
        return plan


class _Computing(threading.Thread):
    """Expected values of a student's own cases, computed while their worker runs (the reference
    is trusted code; the worker's process is another). Fills each case's Expected in place."""

    def __init__(self, oracle, cases: list, expected: dict):
        super().__init__(daemon=True, name="expected-values")
        self.oracle, self.cases, self.expected, self.error = oracle, cases, expected, None
        self.start()

    def run(self):
        try:
            for case in self.cases:
                found = self.oracle.expected(case, self.expected[case.id].inputs)
                self.expected[case.id].value, self.expected[case.id].error = found.value, found.error
        except BaseException as exc:  # raised again by Plan.settle, in the grading thread
            self.error = exc


def select_cases(assignment: Assignment, patterns=None, case_id: str | None = None) -> list[CaseSpec]:
    cases = list(assignment.cases())
    if case_id:
        chosen = [c for c in cases if c.id == case_id]
        if not chosen:
            close = [c.id for c in cases if case_id.split("/")[-1] in c.id][:5]
            raise GraderError(t("engine.no_case_suggest", case_id=case_id, close=", ".join(close)) if close
                              else t("engine.no_case", case_id=case_id))
        return chosen
    if patterns:
        names = {c.exercise for c in cases} | {c.function for c in cases}
        chosen = [c for c in cases if any(p == c.exercise or p == c.function or (p not in names and p in c.id)
                                          for p in patterns)]
        unknown = [p for p in patterns if not any(p == c.exercise or p == c.function or p in c.id for c in cases)]
        if unknown:
            raise GraderError(t("engine.selects_no_case", patterns=" ".join(unknown),
                                exercises=", ".join(e.name for e in assignment.exercises)))
        return chosen
    return cases


def protected_folders(assignment: Assignment, submission: Submission, extra=()) -> list[str]:
    """Folders a worker must not see: the course (reference, assignment, hidden-case code), the
    grader, the home and working folders of whoever grades, and the folder the submission came
    from (other students' work sits beside it). The worker gets its own copy of the submission."""
    from grader import PACKAGE
    folders = [assignment.root, PACKAGE, Path.home(), Path.cwd(), Path(submission.path).resolve().parent,
               *extra]
    if assignment.reference:
        spec = importlib.util.find_spec(assignment.reference.split(".")[0])
        if spec is not None and spec.submodule_search_locations:
            folders += list(spec.submodule_search_locations)
    return [str(Path(f).resolve()) for f in folders]


def grade(assignment: Assignment, submission: Submission | Path, plan: Plan, limits: Limits | None = None,
          student: dict | None = None, protect=(), on_worker_started=None, close_later: bool = False) -> Result:
    """Grade one submission. `protect`: more folders the worker must not see (outputs, the
    other submissions of a class). `on_worker_started`: called once, in this thread, right
    after the first worker is started (work of the caller's that then overlaps the worker's).
    `close_later`: the last worker's end and the sandbox's removal happen in a thread (joined
    by grader.sandbox.supervisor.join_closing, at exit at the latest) while the caller goes on."""
    started = time.monotonic()
    if not isinstance(submission, Submission):
        submission = load_submission(Path(submission), assignment.package)
    limits = limits or Limits(timeout=assignment.timeout, memory_mb=assignment.memory_mb)
    modules = [e.name for e in assignment.exercises]
    function_exercise = {f: e.name for e in assignment.exercises for f in e.functions}

    # Rules first: a forbidden import costs its exercise, whatever the functions return.
    sources = submission.sources()
    violations = static_violations(assignment, submission, sources, modules, function_exercise)

    import_keys = modules if submission.mode == "package" else [c["label"] for c in submission.cells]
    steps = [Step("import", key, IMPORT_TIMEOUT) for key in import_keys]
    steps += [Step("call", c.id, c.timeout, c.function) for c in plan.cases]
    by_id = {c.id: c for c in plan.cases}

    def make_request(skip, calls):
        return {"package": assignment.package, "modules": modules, "skip": skip,
                "forbidden": list(assignment.forbidden_imports),
                "calls": [{"id": cid, "module": by_id[cid].exercise, "function": by_id[cid].function,
                           "args": plan.expected[cid].inputs, **({"shared": True} if cid in plan.shared else {})}
                          for cid in calls]}

    calls = call_graph(sources, function_exercise)
    sandbox = Sandbox(submission.stage(assignment.package), limits, protected_folders(assignment, submission, protect),
                      calls, on_worker_started)
    try:
        outcomes = sandbox.run(steps, make_request)
        isolation = sandbox.isolation
    except BaseException:
        sandbox.close()
        raise
    if close_later:
        sandbox.close_later()
    else:
        sandbox.close()
    plan.settle()

    notes = list(submission.notes)
    import_problems = import_failures(assignment, submission, import_keys, outcomes, notes)
    static = {name for name, found in violations.items() if found}
    refused_cases, refused_exercises, refusals = _refusals(outcomes, by_id, submission, sources,
                                                          function_exercise, modules)
    runtime_import_violations(outcomes, violations, static, modules, submission.mode)

    exercises = []
    for exercise in assignment.exercises:
        cases = [c for c in plan.cases if c.exercise == exercise.name]
        if not cases:
            continue
        # a case's points are its share of the exercise in a full run (`-k`, `--case` grade fewer cases, not richer ones)
        chosen = {c.id for c in cases}
        total_weight = sum(c.weight for c in exercise.cases
                           if c.id in chosen or plan.source == "reference" or c.visibility == "public")
        problems = violations[exercise.name].said(ordered=True) + \
            (refusals[exercise.name].said() if exercise.name in refusals else [])
        if exercise.name in import_problems:
            problems.insert(0, import_problems[exercise.name])
        results = []
        for case in cases:
            outcome = outcomes[case.id]
            expected = plan.expected[case.id]
            ruled = ruling(case, outcome, violations[exercise.name], refused_cases.get(case.id)
                           or refused_exercises.get(exercise.name), import_problems, submission.mode)
            verdict, diagnosis, mistake, details = contained(
                judge, case, exercise.functions[case.function], expected, outcome, plan.diagnoser, ruled)
            max_points = exercise.points * case.weight / total_weight
            results.append(CaseResult(
                id=case.id, exercise=exercise.name, function=case.function, visibility=case.visibility,
                kind=case.kind, status=verdict.status, message=verdict.message,
                diagnosis=str(diagnosis) if diagnosis is not None else None,
                diagnosis_said=getattr(diagnosis, "said", None),
                said=verdict.said if isinstance(verdict.said, Said) else None,
                mistake=mistake, points=max_points if verdict.status == "passed" else 0.0, max_points=max_points,
                details=details, output=outcome.output, arrays=verdict.arrays, inputs=expected.inputs,
                expected=expected.value if not expected.error else t("engine.expected_raises", error=expected.error),
                student=outcome.value))
        if hasattr(plan.diagnoser, "review"):  # names refuted by another case; crashes a slip explains
            plan.diagnoser.review(results, {c.id: c for c in cases})
        # fsum: a full mark is exactly the maximum (a plain sum of 160 shares gave 99.99999999999999)
        max_score = math.fsum(r.max_points for r in results)  # the exercise's points when every case is graded
        exercises.append(ExerciseResult(exercise.name, render(exercise.title), math.fsum(r.points for r in results),
                                        max_score, results, problems))
    _fix_first(exercises, calls)
    full = sum(1 for c in assignment.cases() if plan.source == "reference" or c.visibility == "public")
    if len(plan.cases) < full:  # -k, --case, pytest -k: say that the total is not the assignment's
        notes.append(Said("engine.partial", count=len(plan.cases), total=full))
    result = Result(submission=str(submission.path), seed=plan.seed,
                    score=math.fsum(e.score for e in exercises), max_score=math.fsum(e.max_score for e in exercises),
                    exercises=exercises, notes=notes, student=student, source=plan.source,
                    duration=time.monotonic() - started, isolation=isolation)
    result.status = overall_status(result)
    return result.name_public_twins(assignment)


def ruling(case, outcome, violations, refused, import_problems: dict, mode: str) -> Verdict | None:
    """The verdict a case gets whatever its function returned: a rule its exercise broke, a
    refusal, an import that failed; None when its own outcome is to be judged."""
    if violations:
        return Verdict("violation", Said("engine.rule_violation", violation=violations.first()))
    if refused is not None:
        return Verdict("violation", refused)
    if mode == "package" and case.exercise in import_problems and outcome.status == "missing":
        return Verdict("error", import_problems[case.exercise])
    if mode == "cells" and import_problems and outcome.status == "missing":
        return Verdict("error", Said("engine.missing_after_failed_cell", function=case.function,
                                     problems=joined(tuple(import_problems.values()))))
    return None


def static_violations(assignment, submission, sources, modules, function_exercise) -> dict:
    """{exercise: Problems}: the forbidden imports a reading of the source finds, each costing the
    exercise of its module (in a notebook, of the functions that use it)."""
    violations = {e.name: Problems() for e in assignment.exercises}
    anywhere = users_anywhere(sources) if submission.mode == "cells" else {}  # once, not once per import
    for label, source in sources.items():
        for violation, users, alias in find_forbidden_imports(label, source, assignment.forbidden_imports):
            if submission.mode == "cells" and alias:  # a notebook imports in one cell and uses it in others
                users = set(users) | anywhere.get(alias, set())
            owners = {label} & set(modules) if submission.mode == "package" else \
                {function_exercise[u] for u in users if u in function_exercise} or set(modules)
            for owner in owners:
                violations[owner].add(violation.message(), violation.said)
    return violations


def import_failures(assignment, submission, import_keys, outcomes, notes: list) -> dict:
    """{module or cell: what went wrong importing it (a Said, or the words the reading of the
    submission made)}; what an import printed, and a failed cell, go to `notes`."""
    import_problems = {}
    for key in import_keys:
        outcome = outcomes.get(key)
        where = submission.where(key, assignment.package)
        if outcome is not None and outcome.output.strip():
            notes.append(Said("engine.printed_at_import", where=where, output=outcome.output.strip()[:truncation.MESSAGE]))
        if outcome is None or outcome.status == "returned":
            continue
        if key in submission.problems:  # described when it was read: file, line, the code, what to do
            text = submission.problems[key]
        elif outcome.status == "raised":
            exc = outcome.exception or {}
            trace = exc.get("traceback") or []
            if trace and trace[-1].strip():
                text = Said("engine.import_failed_at", where=where, type=exc.get("type"),
                            message=exc.get("message", ""), line=trace[-1].splitlines()[0])
            else:
                text = Said("engine.import_failed", where=where, type=exc.get("type"), message=exc.get("message", ""))
        else:
            text = Said("engine.import_status", where=where, status=outcome.status, detail=outcome.detail)
        import_problems[key] = text
        if key in submission.problems:
            if submission.mode == "package" and text in notes:
                notes.remove(text)  # said where it costs, in its exercise: not twice
        elif submission.mode == "cells":  # a notebook's other cells still run; a .py stops at that line
            notes.append(Said("engine.file_failed" if submission.kind == "file" else "engine.cell_failed", problem=text))
    return import_problems


def runtime_import_violations(outcomes, violations: dict, static: set, modules, mode: str):
    """Add to `violations` the forbidden imports the worker refused at run time (an exercise the
    source already showed to break the rule keeps that one)."""
    for outcome in outcomes.values():
        for v in outcome.violations:
            if v.get("kind", "import") != "import":
                continue
            phase = v.get("phase")
            owner = phase if phase in violations else None
            # a cell-level import with no owner costs every exercise, unless the source already showed where it is used
            targets = [owner] if owner else modules if mode == "cells" and not static else []
            for name in set(targets) - static:
                violations[name].add(("runtime", v.get("name")), _runtime_violation, v)


class Diagnosis(str):
    """A diagnosis in the run's language that also carries itself as data (`said`: the hint in
    every language), so that a stored result shows it in either."""
    said: Said

    def __new__(cls, said: Said):
        text = super().__new__(cls, said.render())
        text.said = said
        return text


def property_diagnosis(assignment, case, inputs, value) -> Diagnosis | None:
    """The course's property hint, in every language (each check words it in the language in force)."""
    texts = {}
    for lang in LANGUAGES:
        with speaking(lang):
            texts[lang] = property_hint(assignment, case.exercise, case.function, inputs, value)
    if not any(texts.values()):
        return None
    return Diagnosis(Said("diagnosis.property", text=Texts({k: v for k, v in texts.items() if v})))


def judge(case, spec, expected, outcome, diagnoser, ruled: Verdict | None = None):
    """(verdict, diagnosis, mistake, details) of one case: `ruled` when the verdict is already
    decided (a rule violation, an import error), else the comparison; then, for a failed value,
    the named mistake or a property hint. `details` are JSON-safe."""
    verdict = ruled or compare(case, spec, expected, outcome)
    diagnosis = mistake = None
    assignment = getattr(diagnoser, "assignment", None)
    if ruled is None and outcome.status == "raised":
        verdict, diagnosis = crash_verdict(case, verdict, outcome, expected, assignment)
    if verdict.status == "failed" and outcome.status == "returned" and diagnoser is not None:
        known = diagnoser.diagnose(case, expected.inputs, outcome.value, expected.value)
        diagnosis, mistake = (Diagnosis(known.said()), known.name) if known else (None, None)
    if verdict.status == "failed" and outcome.status == "returned" and not expected.error and diagnosis is None:
        # the course's property checks (assignment.yaml `properties:`), for the diagnoser's course
        diagnosis = property_diagnosis(assignment, case, expected.inputs, outcome.value)
    if verdict.status == "failed" and outcome.status == "returned" and not expected.error and diagnosis is None \
            and hasattr(diagnoser, "relate"):  # what the output is relative to the expected one (transposed, scaled…)
        related = diagnoser.relate(case, expected.inputs, outcome.value, expected.value)
        diagnosis = Diagnosis(related.said()) if related is not None else None
    details = {**verdict.details, "margin": verdict.margin,
               **({"traceback": (outcome.exception or {}).get("traceback", [])} if outcome.exception else {})}
    return verdict, diagnosis, mistake, json_safe(details)


def crash_verdict(case, verdict, outcome, expected, assignment):
    """(verdict, diagnosis) of a case whose call raised: a correct function calling a stub is
    an error naming the stub (not « not implemented » itself); any other crash is explained in
    NumPy terms, where the student's code raised (grader/grading/crash_hints.py)."""
    exception = outcome.exception or {}
    if verdict.status == "not_implemented":
        contract = {f for e in assignment.exercises for f in e.functions} if assignment is not None else set()
        stub = stub_called(exception, case.function, contract)
        if stub is None:
            return verdict, None
        said = Said("crash.calls_stub", function=case.function, stub=stub)
        return Verdict("error", said, math.inf, {**verdict.details, "stub": stub}), None
    if verdict.status not in ("error", "failed"):
        return verdict, None
    said = explain_crash(exception, case.function, expected.error)
    return verdict, (Diagnosis(said) if said is not None else None)


def contained(judge_case, case, *args):
    """`judge_case(case, *args)`, contained: whatever a value makes the comparison, the diagnosis,
    the hints or the scoring raise becomes this case's `error` verdict naming the grader's
    failure, and the other cases are graded as usual."""
    try:
        return judge_case(case, *args)
    except Exception as exc:  # the grader's own failure on an unexpected value: never the run's crash
        try:
            text = str(exc)[:truncation.FIELD]
        except Exception:
            text = ""
        error = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        verdict = Verdict("error", Said("engine.could_not_judge", error=error), math.inf)
        return verdict, None, None, {"margin": None, "internal_error": type(exc).__name__}


def json_safe(value, depth: int = 0):
    """`value` as JSON can hold it: no NaN or infinity (JSON has none: they become the strings
    "nan", "inf", "-inf", which float() reads back), no integer beyond 64 bits, no NumPy type,
    nothing nested without end; an infinite margin is None (exact mismatches have no margin)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if -2**63 <= value < 2**63 else str(quote(value))
    if type(value) is float:
        return value if math.isfinite(value) else repr(value)
    if depth < 8 and type(value) in (list, tuple):
        return [json_safe(v, depth + 1) for v in value]
    if depth < 8 and type(value) is dict:
        safe = {str(k): json_safe(v, depth + 1) for k, v in value.items()}
        if type(safe.get("margin")) is str:  # an infinite (or NaN) margin: no margin to show
            safe["margin"] = None
        return safe
    return str(quote(value))


def _refusals(outcomes, by_id, submission, sources, function_exercise, modules):
    """What the worker refused (files, signals, network, memory): it costs the case it happened
    in, or at import every function of that module (in a notebook, of that cell); the other
    cases keep their results. Returns ({case id: text}, {exercise: text}, {exercise: Problems})."""
    cases, exercises, texts = {}, {}, {}
    defined = {}  # notebook cell -> the exercises it defines functions of (parsed once per cell)
    for key, outcome in outcomes.items():
        for v in outcome.violations:
            if v.get("kind", "import") == "import":
                continue
            if key in by_id:
                if key not in cases:
                    cases[key] = _runtime_violation(v)
                owners = [by_id[key].exercise]
            else:
                if submission.mode == "package":
                    owners = [key]
                else:
                    if key not in defined:
                        defined[key] = sorted({function_exercise[f] for f in _defined(sources.get(key, ""))
                                               if f in function_exercise} or modules)
                    owners = defined[key]
                for owner in owners:
                    if owner not in exercises:
                        exercises[owner] = _runtime_violation(v)
            for owner in owners:
                problems = texts.get(owner)
                if problems is None:
                    problems = texts[owner] = Problems()
                problems.add(v.get("name"), _runtime_violation, v)  # made only if kept
    return cases, exercises, texts


def _fix_first(exercises, calls: dict):
    """Dependency-aware hint: a failing case of a function that calls (directly or through
    other functions of the student's own code) a failing contract function says to fix that
    one first, the root causes (failing functions that call no failing function) named first;
    a crash names only the failing functions its traceback went through. Its failure is then
    explained by the callee: it gets no `likely:` line of its own."""
    failing = {c.function for e in exercises for c in e.cases if c.status in ("failed", "error", "not_implemented")}
    reached = {}   # function -> the failing functions it reaches, nearest first

    def reach(function):
        if function not in reached:
            order, seen, todo = [], {function}, sorted(calls.get(function, ()))
            while todo:
                g = todo.pop(0)
                if g in seen:
                    continue
                seen.add(g)
                if g in failing:
                    order.append(g)
                todo += sorted(calls.get(g, ()))
            reached[function] = order
        return reached[function]

    for e in exercises:
        for c in e.cases:
            if c.status not in ("failed", "error"):
                continue
            culprits = reach(c.function)
            stub = c.details.get("stub") if isinstance(c.details, dict) else None
            if stub:   # said by the verdict itself: « calls X, which is not implemented »
                continue
            through = {f.function for f in frames(c.details.get("traceback"))} if isinstance(c.details, dict) else set()
            if through - {c.function}:   # a crash inside a callee: the callees it went through
                culprits = [g for g in culprits if g in through] or culprits
            if not culprits:
                continue
            roots = [g for g in culprits if not reach(g)]
            culprits = roots + [g for g in culprits if g not in roots]
            names = ", ".join(f"{g}()" for g in culprits)
            fix = Said("engine.fix_first", names=names, function=c.function, count=len(culprits))
            c.message += fix.render()
            if c.said is not None:
                c.said = concat(c.said, fix)
            c.diagnosis = c.diagnosis_said = c.mistake = None   # explained by the callee, not by a mistake here


def _defined(source: str) -> set:
    """Names of the functions a notebook cell defines (none if it does not parse)."""
    try:
        return {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()


def _runtime_violation(v: dict) -> Said:
    """A refusal the worker reported, as data: its code and fields (untrusted, checked and
    clipped by the supervisor), worded where it is shown."""
    if v.get("kind", "import") == "import":
        return Said("engine.runtime_import", name=v.get("name"))
    fields = v.get("fields") or {}
    refusal = {"signal": Said("worker.signal", target=fields.get("target", "?")),
               "program": Said("worker.program", event=fields.get("event", "?")),
               "network": Said("worker.network", event=fields.get("event", "?")),
               "memory": Said("worker.memory", event=fields.get("event", "?")),
               "write": Said("worker.write", path=fields.get("path", "?")),
               "read_hidden": Said("worker.read_hidden", path=fields.get("path", "?")),
               "read_process": Said("worker.read_process", path=fields.get("path", "?")),
               "change": Said("worker.change", path=fields.get("path", "?"), event=fields.get("event", "?"))
               }.get(v.get("code"))
    return Said("engine.refused", name=refusal if refusal is not None else v.get("name"))


def overall_status(result: Result) -> str:
    statuses = {c.status for c in result.cases}
    if "violation" in statuses:
        return "violation"
    if "timeout" in statuses:
        return "timeout"
    if any(c.status == "error" and c.details.get("worker") in ("crash", "rejected") for c in result.cases):
        return "crash"
    return "ok"
