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
- `slipped` (in `relate`, after the course's property hints, instructor side): the reference's
  function run again with one of the calls it makes itself to another contract function slipped
  — two of its arguments swapped (positional_encoding(d, n)), a size taken from another axis or
  one off (causal_mask(x.shape[-1])), the step left out, given another tensor of the same shape
  (the second LayerNorm of the block's input), or moved to the function's input (gelu(x) @ W1 +
  b1) or to its end. It names the call, its parameters (from the reference's signature) and, when
  it reads the same to the student, the formula's own argument (« x @ W1 + b1 »). A crash gets
  the same search (`Diagnoser.crashed`, after an exercise is judged): a slip whose reference run
  raises the student's very exception explains it.
- `relate` (after the property hints, both sides: it needs only the expected value): the output
  equals the expected one transposed, scaled by a constant, shifted by one position, with the
  residual input missing or added twice, its pairs reversed or its items in reverse order, with
  an axis of size 1 more or less (keepdims), or — expected probabilities — their log (a
  log-softmax) or their power (a softmax of scaled scores, a temperature).

A relation is named only when it explains the failure: its output fails the case by more than
ten tolerances (a slip, not rounding), and the student's output matches it within the case's
tolerance.
"""
from __future__ import annotations

import ast
import copy
import hashlib
import importlib
import inspect
import math
import re
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


OUTPUTS_KEPT = 256  # variant outputs kept per process: a class's public cases, whoever fails them
# {(exercise, function, compose, the mistakes' ids, the inputs' digest): (the mistakes, their
# outputs)}: holding the mistakes keeps their ids from being reused while the entry lives
_KEPT_OUTPUTS: dict = {}


def _digest(value, h) -> bool:
    """Feed `value` (arrays, numbers, strings, lists, tuples, dicts of them) to the hash `h`; False
    for anything else (its outputs are then not kept)."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return False
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
        return True
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        h.update(f"{type(value).__name__}:{value!r};".encode("utf-8", "surrogatepass"))
        return True
    if isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}{len(value)}[".encode())
        return all(_digest(v, h) for v in value)
    if isinstance(value, dict):
        h.update(f"d{len(value)}{{".encode())
        return all(_digest(k, h) and _digest(v, h) for k, v in value.items())
    return False


def variant_outputs(mistakes, case, inputs, compose: bool = True) -> dict:
    """{mistake name: its output on these inputs}: the mistakes of `case.function` first, then
    (`compose`) the mistakes of every function it calls, each composed into the reference's
    `case.function` (a step's mistake is named in every function that contains the step:
    `composed`). A variant that raises has no output (an error is diagnosed by the exception,
    not here). Up to OUTPUTS_KEPT results are kept, by the inputs' content: the students of a
    class who fail a public case share its inputs, and the variants (a model's forward pass each)
    ran again for every one of them. The outputs are read, never changed, by every caller (as a
    release's stored outputs are)."""
    h = hashlib.blake2b(digest_size=20)
    if not _digest(list(inputs.items()), h):
        return _run_variants(mistakes, case, inputs, compose)
    key = (case.exercise, case.function, compose, tuple(id(m) for m in mistakes), h.digest())
    kept = _KEPT_OUTPUTS.get(key)
    if kept is None:
        if len(_KEPT_OUTPUTS) >= OUTPUTS_KEPT:  # a bounded memory, as the report's caches
            _KEPT_OUTPUTS.clear()
        kept = _KEPT_OUTPUTS[key] = (tuple(mistakes), _run_variants(mistakes, case, inputs, compose))
    return dict(kept[1])


def _run_variants(mistakes, case, inputs, compose: bool) -> dict:
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

    def review(self, results, cases: dict):
        """The diagnoser's pass over one exercise's case results, once they are all judged (the
        engine calls it per exercise). A catalog mistake named on an exactly compared case (ids,
        words: a coincidence is cheap there) is dropped when another failing case of the same
        function refutes it: that mistake's output on it fails the case, and the student's output
        is not it. Then, instructor side, a crash that the reference reproduces with one of the
        function's calls slipped gets that slip as its hint (`crashed`).
        `results`: one exercise's case results; `cases`: {case id: its spec}."""
        self._refute(results, cases)
        if self.mistakes:
            self.crashed(results, cases)

    def crashed(self, results, cases: dict):
        """Each case that raised and whose exception the reference raises too with one of the
        function's calls slipped (positional_encoding(d, n) for (n, d), causal_mask(d_model) for
        causal_mask(n)): its crash hint becomes that slip, at the student's line where it raised.
        (A crash inside a callee that fails its own cases is then « fix X first ».)"""
        from grader.grading.crash_hints import innermost

        for r in results:
            case = cases.get(r.id)
            said = r.said
            if case is None or r.status != "error" or r.inputs is None or not isinstance(said, Said) \
                    or said.key != "compare.raised" or not isinstance(r.details, dict):
                continue
            frame = innermost(r.details.get("traceback"))
            if frame is None:
                continue
            try:
                slip = slipped_crash(self.assignment, case, r.inputs,
                                     {"type": said.fields.get("type"), "message": said.fields.get("message")})
            except Exception:   # a diagnosis is a bonus: never let it break grading
                continue
            if slip is not None:
                r.diagnosis_said = Said("crash.at_because", where=frame.where, code=frame.code, hint=slip)
                r.diagnosis = r.diagnosis_said.render()

    def _property_instead(self, r, case):
        """A refuted case gets the course's property hint, as if no mistake had matched."""
        from grader.grading.properties import property_hint
        from grader.i18n import LANGUAGES, speaking

        texts = {}
        for lang in LANGUAGES:
            with speaking(lang):
                texts[lang] = property_hint(self.assignment, case.exercise, case.function, r.inputs, r.student)
        if any(texts.values()):
            r.diagnosis_said = Said("diagnosis.property", text=Texts({k: v for k, v in texts.items() if v}))
            r.diagnosis = r.diagnosis_said.render()

    def _refute(self, results, cases: dict):
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
                        self._property_instead(r, case)
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
            if self.mistakes:   # instructor side: the reference runs here
                slip = slipped(self.assignment, case, inputs, student_value, expected_value, outputs)
                if slip is not None:
                    return slip
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


_traced_worlds = {}   # reference package -> ({function name: traced clone}, the thread-local state they share)


def _tracing_world(package):
    """The reference's functions, each a copy whose calls to the others go through wrappers.
    A wrapper records (depth, function name, index, args, output) of every call, in the order
    they return; `index` numbers the calls the outermost function makes itself (its first
    layer_norm() call, its second…), None deeper. A `slip` hook set on the state decides those
    direct calls: `slip(name, index, args, kwargs, call)` returns their value (`_slipped`)."""
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
                        _reset(state)
                    name, index = _clone.__name__, None
                    if state.depth == 1:   # called by the outermost function itself
                        index = state.counts.get(name, 0)
                        state.counts[name] = index + 1
                    state.depth += 1
                    try:
                        if index is not None and state.slip is not None:
                            value = state.slip(name, index, args, kwargs, _clone)
                        else:
                            value = _clone(*args, **kwargs)
                    finally:
                        state.depth -= 1
                    state.trace.append((state.depth, name, index, args, value))
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


def _reset(state, slip=None):
    state.trace, state.depth, state.counts, state.slip = [], 0, {}, slip


def _traced_run(world, state, function, inputs, slip=None):
    """(output, trace) of the traced `function` on a copy of `inputs`, quietly; raises what it raises."""
    _reset(state, slip)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = world[function](*copy.deepcopy(inputs).values())
        return value, state.trace
    finally:
        _reset(state)


def _intermediate(assignment, case, inputs, student, expected, outputs) -> Related | None:
    """The student's output is what a function called inside returns (a last step left out: the
    residual sum, the final LayerNorm…), or the expected output minus it (a term left out)."""
    if outputs or type(student) is not np.ndarray or not isinstance(expected, np.ndarray) \
            or student.shape != expected.shape or expected.dtype.kind != "f":
        return None
    traced = _reference_trace(assignment, case, inputs)
    if traced is None:
        return None
    trace = traced[2]
    seen = []
    for depth, name, _, _, value in trace:
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


# --- generic: one call inside the function slipped (instructor side) ----------------------------
#
# The reference's function run again with one of the calls it makes itself to another contract
# function slipped the way a student slips it: two of its arguments swapped (positional_encoding(d,
# n)), the step left out, the step given another value than the formula's (layer_norm() of the
# block's input where the formula normalises the sum), or the step moved to the function's input
# (gelu(x) @ W1 + b1) or to its output. A slip whose output the student's matches — or, for a crash,
# that raises the student's very exception — names that call and what became of it.

MAX_SLIPS = 64


def _contract(assignment) -> set:
    return {f for e in assignment.exercises for f in e.functions}


def _is_float_array(v) -> bool:
    return type(v) is np.ndarray and v.dtype.kind == "f" and v.size > 0


def _is_size(v) -> bool:
    return type(v) is int or (isinstance(v, np.integer) and type(v).__module__ == "numpy")


def _slips(assignment, case, inputs, trace) -> list:
    """[(slip hook, inputs to run with, output transform or None, what it says)] for the direct
    calls of `case.function` to other contract functions, in the order they are made."""
    contract = _contract(assignment)
    calls = [(name, index, args, value) for depth, name, index, args, value in trace
             if depth == 1 and index is not None and name in contract and name != case.function]
    counts = {}
    for name, _, _, _ in calls:
        counts[name] = counts.get(name, 0) + 1
    arrays = {name: v for name, v in inputs.items() if _is_float_array(v)}
    found = []
    for k, (name, index, args, value) in enumerate(calls):
        call = _call_said(name, index, counts[name])
        params = _parameters(assignment.reference, name)
        want = _argument_text(assignment.reference, case.function, name, index, counts[name], 0)
        # two arguments swapped: two arrays of one shape, or two sizes
        for i in range(len(args)):
            for j in range(i + 1, len(args)):
                a, b = args[i], args[j]
                same = (_is_float_array(a) and _is_float_array(b) and a.shape == b.shape and not np.array_equal(a, b)) \
                    or (_is_size(a) and _is_size(b) and a != b)
                if same and i < len(params) and j < len(params):
                    found.append((_swap_hook(name, index, i, j), inputs, None,
                                  Said("diagnosis.slip.swapped", call=call, first=params[i], second=params[j],
                                       signature=f"{name}({', '.join(params)})")))
        first = args[0] if args else None
        unary = _is_float_array(first) and type(value) is np.ndarray and value.shape == first.shape
        if unary:   # the step left out, moved to an input, moved to the output
            found.append((_skip_hook(name, index), inputs, None, Said("diagnosis.slip.skipped", call=call)))
            for p, a in arrays.items():
                moved = _apply(assignment.reference, name, (a,) + tuple(args[1:]))
                if moved is not None and moved.shape == a.shape and not np.array_equal(a, args[0]):
                    said = Said("diagnosis.slip.applied_to_input_want", callee=name, name=p, function=case.function,
                                want=want) if want else \
                        Said("diagnosis.slip.applied_to_input", callee=name, name=p, function=case.function)
                    found.append((_skip_hook(name, index), {**inputs, p: moved}, None, said))
            said = Said("diagnosis.slip.applied_to_output_want", callee=name, function=case.function, want=want) \
                if want else Said("diagnosis.slip.applied_to_output", callee=name, function=case.function)
            found.append((_skip_hook(name, index), inputs, (name, tuple(args[1:])), said))
        # an argument given another value of the same shape: an input, or what an earlier call returned
        for i, a in enumerate(args[:len(params)]):
            if not _is_float_array(a):
                continue
            sources = [(v, Said("diagnosis.slip.the_input", name=p, function=case.function))
                       for p, v in arrays.items()]
            sources += [(v, Said("diagnosis.slip.returned_by", call=_call_said(n2, i2, counts[n2])))
                        for n2, i2, _, v in calls[:k] if _is_float_array(v)]
            for v, label in sources:
                if v.shape == a.shape and not np.array_equal(v, a):
                    text = _argument_text(assignment.reference, case.function, name, index, counts[name], i)
                    said = Said("diagnosis.slip.wrong_argument_want", call=call, param=params[i], used=label,
                                want=text) if text else \
                        Said("diagnosis.slip.wrong_argument", call=call, param=params[i], used=label)
                    found.append((_replace_hook(name, index, i, v), inputs, None, said))
        # a size given another size: another axis of an input (x.shape[-1] for x.shape[-2]), one off
        for i, a in enumerate(args[:len(params)]):
            if not _is_size(a):
                continue
            text = _argument_text(assignment.reference, case.function, name, index, counts[name], i)
            for size, label in _sizes(inputs, int(a)):
                said = Said("diagnosis.slip.wrong_size_want", call=call, param=params[i], used=label, value=int(a),
                            want=text) if text else \
                    Said("diagnosis.slip.wrong_size", call=call, param=params[i], used=label, value=int(a))
                found.append((_replace_hook(name, index, i, size), inputs, None, said))
    return found[:MAX_SLIPS]


def _sizes(inputs, size) -> list:
    """[(another size, what it is)] a size argument may have been given instead of `size`: the
    other axes of the function's array inputs, the lengths of its lists, and size ± 1."""
    found, seen = [], {size}
    for name, v in inputs.items():
        if type(v) is np.ndarray:
            for axis in range(v.ndim):
                n = int(v.shape[axis])
                if n not in seen:
                    seen.add(n)
                    found.append((n, Said("diagnosis.slip.size_of", name=name, axis=axis - v.ndim, size=n)))
        elif type(v) is list and len(v) not in seen:
            seen.add(len(v))
            found.append((len(v), Said("diagnosis.slip.length_of", name=name, size=len(v))))
    for n in (size - 1, size + 1):
        if n >= 0 and n not in seen:
            seen.add(n)
            found.append((n, Said("diagnosis.slip.off_by_one", size=n)))
    return found


def _call_said(name, index, count) -> Said:
    if count == 1:
        return Said("diagnosis.slip.call", callee=name)
    return Said("diagnosis.slip.call_nth", callee=name, nth=index + 1, count=count)


def _swap_hook(target, at, i, j):
    def slip(name, index, args, kwargs, call):
        if name == target and index == at:
            args = list(args)
            args[i], args[j] = args[j], args[i]
        return call(*args, **kwargs)
    return slip


def _skip_hook(target, at):
    def slip(name, index, args, kwargs, call):
        if name == target and index == at:
            return args[0]
        return call(*args, **kwargs)
    return slip


def _replace_hook(target, at, i, value):
    def slip(name, index, args, kwargs, call):
        if name == target and index == at:
            args = list(args)
            args[i] = value
        return call(*args, **kwargs)
    return slip


_by_name = {}   # reference package -> {function name: the reference function}


def _reference_function(package, name):
    if package not in _by_name:
        try:
            _by_name[package] = {f.__name__: f for f in _functions(package)}
        except Exception:
            _by_name[package] = {}
    return _by_name[package].get(name)


def _apply(package, name, args):
    """The reference's `name` on `args`, quietly; None when it raises."""
    f = _reference_function(package, name)
    if f is None:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = f(*copy.deepcopy(args))
        except Exception:
            return None
    return value if type(value) is np.ndarray else None


def _parameters(package, name) -> list:
    f = _reference_function(package, name)
    try:
        return list(inspect.signature(f).parameters) if f is not None else []
    except (TypeError, ValueError):
        return []


_sources = {}   # (package, function) -> its parsed definition, or None


def _definition(package, function):
    key = (package, function)
    if key not in _sources:
        try:
            tree = ast.parse(inspect.getsource(_reference_function(package, function)))
            _sources[key] = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
        except Exception:
            _sources[key] = None
    return _sources[key]


def _argument_text(package, function, callee, index, count, i) -> str | None:
    """The expression the reference's `function` passes as argument `i` of its `index`-th call to
    `callee` (« x @ W1 + b1 », « x.shape[-2] »), when it reads the same to the student: made only
    of the function's own parameters, none of them reassigned before the call (a bare `x` after
    `x = x + …` would not say which x), and not a bare name. None otherwise."""
    node = _definition(package, function)
    if node is None:
        return None
    found = sorted((n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id == callee), key=lambda n: (n.lineno, n.col_offset))
    if len(found) != count or i >= len(found[index].args):
        return None
    call = found[index]
    expression = call.args[i]
    params = {a.arg for a in node.args.args}
    loops = [n for n in ast.walk(node) if isinstance(n, (ast.For, ast.While))
             and any(c is call for c in ast.walk(n))]
    assigned = {t.id for n in ast.walk(node) for t in _targets(n) if isinstance(t, ast.Name)
                and (n.lineno < call.lineno or any(any(m is n for m in ast.walk(loop)) for loop in loops))}
    names = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
    if isinstance(expression, ast.Name) or not names or not names <= params - assigned:
        return None
    return ast.unparse(expression)


def _targets(node):
    if isinstance(node, ast.Assign):
        return [t for target in node.targets for t in ast.walk(target)]
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.NamedExpr)):
        return list(ast.walk(node.target))
    return []


def _reference_trace(assignment, case, inputs):
    """(world, state, trace): the reference's `case.function` run on `inputs` with its calls to
    contract functions traced; None when it cannot be (not a contract function, or it raised)."""
    world, state = _tracing_world(assignment.reference)
    if case.function not in world:
        return None
    try:
        _, trace = _traced_run(world, state, case.function, inputs)
    except Exception:
        return None
    return world, state, trace


def _slip_candidates(assignment, case, inputs):
    """(world, state, [slips]) for `case.function`, or None when the reference cannot trace it."""
    if not isinstance(inputs, dict):
        return None
    traced = _reference_trace(assignment, case, inputs)
    if traced is None:
        return None
    world, state, trace = traced
    return world, state, _slips(assignment, case, inputs, trace)


def _run_slip(assignment, world, state, function, slip):
    hook, changed, after, _ = slip
    value, _ = _traced_run(world, state, function, changed, hook)
    if after is not None:
        name, rest = after
        value = _apply(assignment.reference, name, (value,) + rest)
    return value


def _slips_where_the_reference_runs(assignment, case, inputs):
    """(world, state, slips) of `case`'s function, or None: no reference here (a students'
    repository), or nothing to slip."""
    from grader.grading.expected import reference_available

    try:
        if not reference_available(assignment):
            return None
    except Exception:
        return None
    return _slip_candidates(assignment, case, inputs)


def slipped(assignment, case, inputs, student, expected, outputs) -> Related | None:
    """A slip of one call inside the function whose output the student's matches (and which fails
    the case clearly); instructor side, where the reference runs."""
    found = _slips_where_the_reference_runs(assignment, case, inputs)
    if found is None:
        return None
    world, state, slips = found
    for slip in slips:
        try:
            value = _run_slip(assignment, world, state, case.function, slip)
        except Exception:
            continue
        if value is None or not _fails_clearly(value, expected, case, outputs) \
                or not _matches(student, value, case, outputs):
            continue
        return Related(case.function, Said("diagnosis.slip.explains_output", what=slip[3], function=case.function))
    return None


def slipped_crash(assignment, case, inputs, exception) -> Said | None:
    """What the slip is when the reference's function, with one of its calls slipped, raises the
    student's very exception (same type, same message up to the order of the shapes it quotes)."""
    if not isinstance(exception, dict) or not exception.get("message"):
        return None
    found = _slips_where_the_reference_runs(assignment, case, inputs)
    if found is None:
        return None
    world, state, slips = found
    want = (str(exception.get("type")), _message_key(str(exception.get("message"))))
    for slip in slips:
        try:
            _run_slip(assignment, world, state, case.function, slip)
        except Exception as exc:
            if (type(exc).__name__, _message_key(str(exc)[:2000])) == want:
                return Said("diagnosis.slip.explains_crash", what=slip[3], function=case.function)
    return None


def _message_key(message: str):
    """An exception's message with the shapes it quotes sorted: `a + b` and `b + a` say the same."""
    shapes = sorted(re.findall(r"\([\d, ]*\)", message))
    return re.sub(r"\([\d, ]*\)", "()", message).strip(), tuple(s.replace(" ", "") for s in shapes)


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
    if s.shape != e.shape and s.size == e.size and s.size and \
            tuple(n for n in s.shape if n != 1) == tuple(n for n in e.shape if n != 1) and _close(s.reshape(e.shape), e, case):
        # the right values with an axis of size 1 more or less: keepdims=True, [:, None], a [0] left out
        return Said("diagnosis.relation.singleton_axis", shape=str(tuple(s.shape)), expected=str(tuple(e.shape)))
    if s.shape != e.shape or e.dtype.kind != "f" or not np.all(np.isfinite(e)) or not np.all(np.isfinite(s)):
        return None
    said = _probability_relation(case, s, e)
    if said is not None:
        return said
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


def _probability_relation(case, s, e) -> Said | None:
    """Expected probabilities (positive, each slice along the last axis summing to 1): the output is
    their log (a log-softmax), or they raised to a power c and renormalised — a softmax of the
    scores multiplied by c (a temperature, a scale)."""
    if e.ndim < 1 or e.shape[-1] < 2 or np.any(e <= 0) or np.max(np.abs(np.sum(e, axis=-1) - 1)) > 1e-6:
        return None
    log_e = np.log(e)
    if _clearly_not(log_e, e, case) and _close(s, log_e, case):
        return Said("diagnosis.relation.log_of_probabilities")
    if np.any(s <= 0):
        return None
    centred_e = log_e - np.mean(log_e, axis=-1, keepdims=True)
    centred_s = np.log(s) - np.mean(np.log(s), axis=-1, keepdims=True)
    ee = float(np.sum(centred_e * centred_e))
    if ee <= 1e-12:
        return None
    c = float(np.sum(centred_s * centred_e)) / ee
    if not math.isfinite(c) or abs(c) < 1e-6 or abs(c - 1) <= 1e-3:
        return None
    powered = e ** c
    powered = powered / np.sum(powered, axis=-1, keepdims=True)
    if _clearly_not(powered, e, case) and _close(s, powered, case):
        return Said("diagnosis.relation.tempered", factor=constant_text(c), divisor=constant_text(1 / c))
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
