"""Which classic mistake did the student make? Compare a failing output with the mistake
variants' outputs on the same inputs.

Instructor side, the variants (`reference/mistakes.py`, trusted code) run here on a copy of the
case's inputs; student side, the public-cases file carries their outputs on the public cases
(never their code). A variant whose output matches the student's within the case's tolerance
names the mistake, with its slide.

When no variant matches, two generic stages say what the failing output *is*, without a
variant per mistake (`Related`, no mistake name):

- `perturbed` (inside `diagnose`, before the course's property hints; instructor side, where the
  reference runs): the reference's own function on the case's inputs with one input changed the
  way a slip changes it — a 1-D array left out (taken as 0) or taken as 1, a square matrix
  transposed, two arrays of one shape swapped, a list in reverse order, an int off by one (also
  one level into a dict argument: a block's `b1`, a model's `blocks`). A match names the input
  and what became of it (« you left out b1 », « you swapped gamma and beta »). Then the values
  the contract functions it calls return inside it (`_intermediate`): an output that is one of
  them (a last step left out: the residual sum after the feed-forward) or the expected output
  minus one of them (a term left out) names that function.
- `relate` (after the property hints, both sides: it needs only the expected value): the output
  equals the expected one transposed, scaled by a constant, shifted by one position, with the
  residual input missing or added twice, its pairs reversed or its items in reverse order.

A relation is named only when it explains the failure: its output fails the case by more than
ten tolerances (a slip, not rounding), and the student's output matches it within the case's
tolerance.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import math
import threading
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.grading.compare import compare_values, plain
from grader.grading.properties import constant_text
from grader.grading.rules import call_graph
from grader.i18n import language
from grader.model.said import Said, Texts


@dataclass(frozen=True)
class Known:
    """A mistake as the report needs it (no code)."""
    name: str
    function: str
    slide: str
    en: str
    fr: str

    def said(self) -> Said:
        """The hint, its slide and the mistake's name, as data (the hint in both languages)."""
        return Said("diagnosis.known", hint=Texts({"en": self.en, "fr": self.fr or self.en}), slide=self.slide,
                    name=self.name)

    def text(self, lang: str | None = None) -> str:
        """The hint in `lang` (default: the current language), its slide and the mistake's name."""
        return self.said().render(lang or language())


def load_mistakes(assignment) -> list:
    """The assignment's mistake variants (instructor side), or [] when there are none here."""
    if not assignment.mistakes:
        return []
    try:
        return importlib.import_module(assignment.mistakes).MISTAKES
    except ImportError:
        return []


def variant_outputs(mistakes, case, inputs, compose: bool = True) -> dict:
    """{mistake name: its output on these inputs}: the mistakes of `case.function` first, then
    (`compose`) the mistakes of every function it calls, each composed into the reference's
    `case.function` (a step's mistake is named in every function that contains the step:
    `composed`). A variant that raises has no output (an error is diagnosed by the exception,
    not here)."""
    found = {}
    own = [(m, m.implementation) for m in mistakes if m.function == case.function and m.exercise == case.exercise]
    steps = composed(mistakes, case.exercise, case.function) if compose else []
    for m, implementation in own + steps:
        if m.name in found:
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                found[m.name] = implementation(*copy.deepcopy(inputs).values())
            except Exception:
                continue
    return found


def _one_output(mistakes, name, case, inputs) -> dict:
    """{name: that mistake's output on these inputs} (composed when it is a callee's), or {}."""
    found = [m for m in mistakes if m.name == name]
    return variant_outputs(found, case, inputs) if found else {}


_worlds = {}   # (reference package, mistake name) -> {function name: the reference function, rebound}
_callees = {}  # reference package -> {function: the contract functions it calls, directly or not}


def composed(mistakes, exercise: str, function: str) -> list:
    """[(mistake, the reference's `exercise.function` with that mistake's function replaced by
    the mistake)] for the mistakes of the functions `function` calls (in the reference, directly
    or not). The reference package is the one the variants live in (`reference.mistakes` →
    `reference`); nothing when it cannot be read."""
    found = []
    for m in mistakes:
        if m.function == function:
            continue
        package = _package_of(m)
        if package is None or m.function not in _calls(package).get(function, ()):
            continue
        world = _world(package, m)
        if world and function in world:
            found.append((m, world[function]))
    return found


def _package_of(m):
    module = getattr(m.implementation, "__module__", "") or ""
    return module.rsplit(".", 1)[0] if "." in module else None


def _modules(package):
    root = importlib.import_module(package)
    names = [p.stem for p in Path(root.__file__).parent.glob("*.py") if not p.stem.startswith("_")]
    modules = []
    for name in sorted(names):
        try:
            modules.append(importlib.import_module(f"{package}.{name}"))
        except Exception:
            continue
    return modules


def _functions(package) -> dict:
    """{function object: its module} of the functions the reference package's modules define."""
    found = {}
    for module in _modules(package):
        for value in vars(module).values():
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                found[value] = module
    return found


def _calls(package) -> dict:
    if package not in _callees:
        try:
            functions = _functions(package)
            sources = {m.__name__: inspect.getsource(m) for m in set(functions.values())}
            _callees[package] = call_graph(sources, {f.__name__ for f in functions})
        except Exception:
            _callees[package] = {}
    return _callees[package]


def _world(package, m) -> dict:
    """The reference's functions, each a copy whose globals see the copies of the others and
    the mistake in place of its function: the reference with one step wrong."""
    key = (package, m.name)
    if key not in _worlds:
        try:
            functions = _functions(package)
            spaces = {module: dict(vars(module)) for module in set(functions.values())}
            copies = {}
            for f, module in functions.items():
                clone = types.FunctionType(f.__code__, spaces[module], f.__name__, f.__defaults__, f.__closure__)
                clone.__kwdefaults__ = f.__kwdefaults__
                copies[f] = clone
            for space in spaces.values():
                for name, value in list(space.items()):
                    if isinstance(value, types.FunctionType) and value in copies:
                        space[name] = copies[value]
                if m.function in space:
                    space[m.function] = m.implementation
            _worlds[key] = {clone.__name__: clone for clone in copies.values()}
        except Exception:
            _worlds[key] = {}
    return _worlds[key]


def _matches(student, variant, case, outputs) -> bool:
    """Does `student` pass against `variant`? False for anything that cannot be compared: a
    student's value is untrusted, and a diagnosis is a bonus, never a reason to fail grading."""
    try:
        return _passes(student, variant, case, outputs)
    except Exception:
        return False


def _passes(student, variant, case, outputs) -> bool:
    if outputs:
        if not isinstance(student, (tuple, list)) or not isinstance(variant, (tuple, list)) \
                or len(student) != len(outputs) or len(variant) != len(outputs):
            return False
        return all(compare_values(s, v, case.tolerance, n).status == "passed"
                   for s, v, n in zip(student, variant, outputs))
    return compare_values(student, variant, case.tolerance).status == "passed"


class Diagnoser:
    """Names the mistake behind a failing output, from live variants or stored outputs."""

    def __init__(self, assignment, mistakes=None, stored: dict | None = None):
        self.assignment = assignment
        self.mistakes = list(mistakes or [])
        self.known = {m.name: Known(m.name, m.function, m.slide, m.explanation, m.explanation_fr)
                      for m in self.mistakes}
        # a step's mistake named in a function that calls the one it belongs to: its step words
        self.steps = {m.name: Known(m.name, m.function, m.slide, getattr(m, "step_en", "") or m.explanation,
                                    getattr(m, "step_fr", "") or getattr(m, "step_en", "") or m.explanation_fr)
                      for m in self.mistakes}
        self.stored = stored or {}   # {case id: {mistake name: output}} (the public-cases file)

    def add_known(self, known: Known):
        self.known[known.name] = known

    def diagnose(self, case, inputs, student_value, expected_value=None) -> Known | None:
        """The mistake whose output the student's matches, among those that would fail this
        case (a variant that gives the right answer here explains no failure)."""
        outputs = self.assignment.exercise(case.exercise).functions[case.function].outputs
        candidates = self.stored.get(case.id)
        if candidates is None:
            candidates = variant_outputs(self.mistakes, case, inputs)
        for name, value in candidates.items():
            if name not in self.known:
                continue
            if expected_value is not None and _matches(value, expected_value, case, outputs):
                continue
            if _matches(student_value, value, case, outputs):
                known = self.known[name]
                return self.steps.get(name, known) if known.function != case.function else known
        if expected_value is not None and self.mistakes:
            return perturbed(self.assignment, case, inputs, student_value, expected_value, outputs)
        return None

    def refuted(self, results, cases: dict):
        """A catalog mistake named on an exactly compared case (ids, words: a coincidence is
        cheap there) is dropped when another failing case of the same function refutes it: that
        mistake's output on it fails the case, and the student's output is not it. `results`: one
        exercise's case results; `cases`: {case id: its spec}."""
        for r in results:
            case = cases.get(r.id)
            if not r.mistake or case is None or not case.tolerance.exact:
                continue
            outputs = self.assignment.exercise(case.exercise).functions[case.function].outputs
            for q in results:
                other = cases.get(q.id)
                if q is r or other is None or q.function != r.function or q.status != "failed" or q.inputs is None:
                    continue
                try:
                    stored = self.stored.get(q.id)
                    candidates = stored if stored is not None else _one_output(self.mistakes, r.mistake, other, q.inputs)
                    if r.mistake not in candidates:
                        continue
                    value = candidates[r.mistake]
                    if not _matches(value, q.expected, other, outputs) \
                            and not _matches(q.student, value, other, outputs):
                        r.diagnosis = r.diagnosis_said = r.mistake = None
                        break
                except Exception:
                    continue

    def relate(self, case, inputs, student_value, expected_value) -> "Related | None":
        """What the failing output is, relative to the expected one (transposed, scaled, shifted,
        residual missing, pairs reversed…), or None. Needs no reference: both sides."""
        if expected_value is None:
            return None
        outputs = self.assignment.exercise(case.exercise).functions[case.function].outputs
        try:
            return related(case, inputs, student_value, expected_value, outputs)
        except Exception:  # a diagnosis is a bonus: never let it break grading
            return None


# --- generic relations: what a failing output is, without a variant per mistake ---------------

@dataclass(frozen=True)
class Related:
    """A failing output explained by a generic relation to the expected one (no catalog mistake:
    `name` is None, so no mistake is recorded for the case)."""
    function: str
    hint: Said
    name: None = None

    def said(self) -> Said:
        return self.hint

    def text(self, lang: str | None = None) -> str:
        return self.hint.render(lang or language())


CLEAR = 10.0   # a relation's output must fail the case by this many tolerances: a slip, not rounding
MAX_PERTURBED = 48


def _fails_clearly(value, expected, case, outputs) -> bool:
    try:
        if outputs:
            if not isinstance(value, (tuple, list)) or len(value) != len(outputs):
                return True
            margins = [compare_values(v, e, case.tolerance, n).margin for v, e, n in zip(value, expected, outputs)]
            return max(margins) > CLEAR
        return compare_values(value, expected, case.tolerance).margin > CLEAR
    except Exception:
        return False


def _perturbations(inputs):
    """(what, how, inputs changed) for the generic slips of one input: each argument, and each
    entry of a dict argument (one level)."""
    found = []
    places = [((name,), value) for name, value in inputs.items()]
    for name, value in inputs.items():
        if isinstance(value, dict):
            places += [((name, key), item) for key, item in value.items()]
    floats = [(path, v) for path, v in places
              if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size and np.all(np.isfinite(v))]
    for path, v in floats:
        if v.ndim == 1 and np.any(v != 0):
            found.append((path, "zero", np.zeros_like(v)))
        if v.ndim == 1 and np.any(v != 1):
            found.append((path, "one", np.ones_like(v)))
        if v.ndim == 2 and v.shape[0] == v.shape[1] > 1 and not np.allclose(v, v.T):
            found.append((path, "transposed", v.T.copy()))
    for k, (p1, v1) in enumerate(floats):
        for p2, v2 in floats[k + 1:]:
            if len(p1) == len(p2) and p1[:-1] == p2[:-1] and v1.shape == v2.shape and not np.array_equal(v1, v2):
                found.append((p1, ("swapped", p2), v2, v1))
    for path, v in places:
        if isinstance(v, list) and len(v) > 1 and len(v) <= 64:
            found.append((path, "reversed", v[::-1]))
        if type(v) is int and v >= 2 and path[-1] not in ("seed",):
            found.append((path, "minus_one", v - 1))
            found.append((path, "plus_one", v + 1))
    return found[:MAX_PERTURBED]


def _put(inputs, path, value):
    changed = dict(inputs)
    if len(path) == 1:
        changed[path[0]] = value
    else:
        changed[path[0]] = {**inputs[path[0]], path[1]: value}
    return changed


def _path_text(path) -> str:
    return path[0] if len(path) == 1 else f"{path[0]}[{path[1]!r}]"


def perturbed(assignment, case, inputs, student, expected, outputs) -> Related | None:
    """The reference's function on the case's inputs with one input slipped, when the student's
    output matches it and it fails the case clearly (instructor side: the reference runs here)."""
    from grader.grading.expected import reference_available

    try:
        if not reference_available(assignment) or not isinstance(inputs, dict):
            return None
        function = getattr(importlib.import_module(f"{assignment.reference}.{case.exercise}"), case.function)
    except Exception:
        return None
    for item in _perturbations(inputs):
        path, how = item[0], item[1]
        if isinstance(how, tuple):
            changed = _put(_put(inputs, path, item[2]), how[1], item[3])
        else:
            changed = _put(inputs, path, item[2])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                value = function(*copy.deepcopy(changed).values())
            except Exception:
                continue
        if not _fails_clearly(value, expected, case, outputs) or not _matches(student, value, case, outputs):
            continue
        name = _path_text(path)
        if isinstance(how, tuple):
            said = Said("diagnosis.perturbed.swapped", name=name, other=_path_text(how[1]))
        elif how == "zero":
            said = Said("diagnosis.perturbed.zero", name=name)
        elif how == "one":
            said = Said("diagnosis.perturbed.one", name=name)
        elif how == "transposed":
            said = Said("diagnosis.perturbed.transposed", name=name)
        elif how == "reversed":
            said = Said("diagnosis.perturbed.reversed", name=name)
        else:
            said = Said("diagnosis.perturbed.off_by_one", name=name, value=inputs[path[0]] if len(path) == 1
                        else inputs[path[0]][path[1]], used=item[2])
        return Related(case.function, said)
    return _intermediate(assignment, case, inputs, student, expected, outputs)


_traced_worlds = {}   # reference package -> ({function name: traced clone}, the thread-local trace they append to)


def _tracing_world(package):
    """The reference's functions, each a copy whose calls to the others go through wrappers that
    record (depth, function name, output) of every call, in the order they return."""
    if package not in _traced_worlds:
        try:
            functions = _functions(package)
            spaces = {module: dict(vars(module)) for module in set(functions.values())}
            state = threading.local()   # each thread its own trace and depth (a class graded in threads)
            wrappers = {}
            for f, module in functions.items():
                clone = types.FunctionType(f.__code__, spaces[module], f.__name__, f.__defaults__, f.__closure__)
                clone.__kwdefaults__ = f.__kwdefaults__

                def wrapper(*args, _clone=clone, **kwargs):
                    if not hasattr(state, "trace"):
                        state.trace, state.depth = [], 0
                    state.depth += 1
                    try:
                        value = _clone(*args, **kwargs)
                    finally:
                        state.depth -= 1
                    state.trace.append((state.depth, _clone.__name__, value))
                    return value
                wrappers[f] = wrapper
            for space in spaces.values():
                for name, value in list(space.items()):
                    if isinstance(value, types.FunctionType) and value in wrappers:
                        space[name] = wrappers[value]
            _traced_worlds[package] = ({f.__name__: w for f, w in wrappers.items()}, state)
        except Exception:
            _traced_worlds[package] = ({}, threading.local())
    return _traced_worlds[package]


def _intermediate(assignment, case, inputs, student, expected, outputs) -> Related | None:
    """The student's output is what a function called inside returns (a last step left out: the
    residual sum, the final LayerNorm…), or the expected output minus it (a term left out)."""
    if outputs or type(student) is not np.ndarray or not isinstance(expected, np.ndarray) \
            or student.shape != expected.shape or expected.dtype.kind != "f":
        return None
    world, state = _tracing_world(assignment.reference)
    if case.function not in world:
        return None
    state.trace, state.depth = [], 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            world[case.function](*copy.deepcopy(inputs).values())
        except Exception:
            return None
    trace, state.trace = state.trace, []
    seen = []
    for depth, name, value in trace:
        parts = value if isinstance(value, tuple) else (value,)
        for part in parts:
            if depth == 1 and isinstance(part, np.ndarray) and part.shape == expected.shape and part.dtype.kind == "f":
                seen.append((name, part))
    for name, part in seen:
        if _clearly_not(part, expected, case) and _close(student, part, case):
            return Related(case.function, Said("diagnosis.relation.intermediate", callee=name))
    for name, part in seen:
        rest = expected - part
        if _clearly_not(rest, expected, case) and _close(student, rest, case):
            return Related(case.function, Said("diagnosis.relation.term_missing", callee=name))
    return None


def related(case, inputs, student, expected, outputs) -> Related | None:
    """Generic relations of the student's output to the expected one (see the module's doc)."""
    if outputs:
        if not isinstance(student, (tuple, list)) or not isinstance(expected, (tuple, list)) \
                or len(student) != len(outputs) or len(expected) != len(outputs):
            return None
        wrong = [k for k, (s, e, n) in enumerate(zip(student, expected, outputs))
                 if compare_values(s, e, case.tolerance, n).status != "passed"]
        if len(wrong) != 1:
            return None
        k = wrong[0]
        said = _relation(case, inputs, student[k], expected[k])
        return Related(case.function, Said("diagnosis.relation.part", name=outputs[k], hint=said)) if said else None
    said = _relation(case, inputs, student, expected)
    return Related(case.function, said) if said else None


def _close(student, candidate, case) -> bool:
    return compare_values(student, candidate, case.tolerance).status == "passed"


def _clearly_not(candidate, expected, case) -> bool:
    return compare_values(candidate, expected, case.tolerance).margin > CLEAR


def _relation(case, inputs, student, expected) -> Said | None:
    """`_relation_of` without NumPy's warnings: huge or hostile values overflow its sums, which is
    no reason to print anything."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _relation_of(case, inputs, student, expected)


def _relation_of(case, inputs, student, expected) -> Said | None:
    if not isinstance(expected, (np.ndarray, float, np.floating)):
        return _list_relation(plain(student), plain(expected))
    e = np.asarray(expected)
    if type(student) is not np.ndarray or student.dtype.kind not in "biuf" or e.dtype.kind not in "biuf":
        return None
    s = student
    if e.ndim >= 2 and s.shape == e.shape[:-2] + (e.shape[-1], e.shape[-2]):
        t_ = np.swapaxes(e, -1, -2)
        if e.shape[-1] != e.shape[-2] or _clearly_not(t_, e, case):
            if _close(s, t_, case):
                return Said("diagnosis.relation.transposed", shape=str(tuple(s.shape)), expected=str(tuple(e.shape)))
    if s.shape != e.shape or e.dtype.kind != "f" or not np.all(np.isfinite(e)) or not np.all(np.isfinite(s)):
        return None
    ee = float(np.sum(e * e))
    if ee > 0:
        c = float(np.sum(s * e)) / ee
        if math.isfinite(c) and abs(c) > 1e-9 and abs(c - 1) > 1e-3 and _clearly_not(c * e, e, case) \
                and _close(s, c * e, case):
            return Said("diagnosis.relation.scaled", factor=constant_text(c))
    for name, x in inputs.items():
        if isinstance(x, np.ndarray) and x.shape == e.shape and x.dtype.kind == "f" and np.all(np.isfinite(x)):
            if _clearly_not(e - x, e, case) and _close(s, e - x, case):
                return Said("diagnosis.relation.residual_missing", name=name)
            if _clearly_not(e + x, e, case) and _close(s, e + x, case):
                return Said("diagnosis.relation.residual_twice", name=name)
    for axis in range(e.ndim):
        n = e.shape[axis]
        if n < 3:
            continue
        head = [slice(None)] * e.ndim
        tail = [slice(None)] * e.ndim
        head[axis], tail[axis] = slice(1, None), slice(None, -1)
        for step, a, b in ((1, tuple(head), tuple(tail)), (-1, tuple(tail), tuple(head))):
            if _clearly_not(e[a], e[b], case) and _close(s[a], e[b], case):
                return Said("diagnosis.relation.shifted", axis=axis - e.ndim, step=step)
    return None


def _list_relation(s, e) -> Said | None:
    if not isinstance(s, list) or not isinstance(e, list) or len(s) != len(e) or len(e) < 2 or s == e:
        return None
    if s == e[::-1]:
        return Said("diagnosis.relation.list_reversed")
    if all(isinstance(p, (list, tuple)) and len(p) == 2 for p in e) and \
            all(isinstance(p, (list, tuple)) and len(p) == 2 for p in s) and \
            [list(p)[::-1] for p in s] == [list(p) for p in e]:
        return Said("diagnosis.relation.pairs_reversed")
    return None
