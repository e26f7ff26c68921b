"""Property hints: why a failing output is wrong, without looking at the expected value.

`compare` says *that* values are off ("3 of 12 values outside tolerance"); a property hint says
*what* is off, from a property the course guarantees for every correct output (slices summing
to 1, values in [-1, 1], a first row of a known form…), checked on the student's own output and
the case's inputs only. The properties are the course's: `assignment.yaml` names the module that
holds them (`properties: course.properties`), as it names its generators; the engine knows none.

A course's property module declares its checks on a `PropertyChecks` it calls `PROPERTIES`,
with its own messages, one catalog per language (the engine's catalog format: a YAML mapping,
dotted keys, `{one, other}` plural forms chosen by `count`):

    PROPERTIES = PropertyChecks({"en": HERE / "properties.en.yaml", "fr": HERE / "properties.fr.yaml"})
    say = PROPERTIES.say

    @PROPERTIES.check("exercise", "function")
    def rows_sum_to_one(inputs, value):          # -> one sentence, or None when the property holds
        y = as_array(value)
        ...
        return say("rows.sums", sums=value_range(sums, 1.0))

This module is the generic part:

    property_hint(assignment, exercise, function, inputs, value) -> str | None
        the most telling property `value` breaks, in the current language, or None (no property
        module, no check for that function, every property holds, or a value the check cannot
        read: those are explained by `compare`)
    load_properties(assignment) -> PropertyChecks | None   the course's checks, imported once
    property_files(assignment) -> [Path]    what a students' repository needs for them

A check declared `@PROPERTIES.check(exercise, function, reference=True)` is also handed a lookup
of the reference's functions where the reference is present (instructor side, `grade bulk`) —
for a property of the course's own model, such as « each generated id is the model's most
probable next id » — and None in a students' repository, where it says nothing.

and the readers and formatters a check is written with (`as_array`, `as_pair`, `as_int`,
`as_bool_mask`, `number`, `value_range`, `shape_text`, `quote`).

A check is trusted course code; the value it reads is not. `PropertyChecks.hint` never raises
and never runs a student-defined method: it hands a check only values made of exact built-in
and NumPy types (no subclass, no object array) within bounds — MAX_ELEMENTS elements an array,
MAX_ITEMS items a list, MAX_NODES in all, MAX_DEPTH levels of nesting — so that a check's time
is bounded by the size of a case; warnings are silenced, and whatever a check raises means no
hint. The readers return None for anything they cannot read safely, so a check written with
them stays safe.

Tolerances of the checks are the course's (about 1e-4 on a property, TOL): a hint explains a
failure the comparison has already found; it is never a verdict.
"""
from __future__ import annotations

import importlib
import math
import sys
import warnings
from pathlib import Path

import numpy as np

from grader.grading.compare import quote
from grader.grading.expected import reference_available
from grader.i18n import fill, language, read_catalog, t
from grader.model.errors import AssignmentError

__all__ = ["PropertyChecks", "property_hint", "load_properties", "property_files", "admissible",
           "as_array", "as_pair", "as_int", "as_bool_mask", "number", "constant_text", "value_range", "shape_text",
           "quote",
           "TOL", "MAX_ELEMENTS", "MAX_NDIM", "MAX_ITEMS", "MAX_DEPTH", "MAX_NODES"]

ATTRIBUTE = "PROPERTIES"    # the name a property module gives its PropertyChecks

TOL = 1e-4                  # absolute slack on a property: sums to 1, values in [0, 1], ...
MAX_ELEMENTS = 1 << 20      # far above any case; beyond, no hint (and no large temporaries here)
MAX_NDIM = 8
MAX_ITEMS = 100_000         # items of one list, tuple or dict (pairs, generated ids)
MAX_DEPTH = 8               # nesting of lists, tuples and dicts in a value
MAX_NODES = 4 * MAX_ITEMS   # items of lists, tuples and dicts in a value, all levels together


# --- a course's checks and its messages ------------------------------------------------------

class PropertyChecks:
    """The property checks of one course, by (exercise, function), and their messages.

    `catalogs`: {language: path of a YAML catalog} for the messages `say` renders; each of
    the engine's languages should have one (a key missing from a language falls back to
    English, then to the key itself, as the engine's own messages do)."""

    def __init__(self, catalogs: dict):
        self.catalogs = {lang: Path(path) for lang, path in catalogs.items()}
        self.modules = ()   # the files of the module holding these checks and of its packages (set by loading)
        self._checks = {}
        self._with_reference = set()   # (exercise, function) of the checks that are handed the reference
        self._messages = {}

    # declaring checks

    def check(self, exercise: str, function: str, reference: bool = False):
        """Decorator: the decorated `check(inputs, value) -> str | None` is the property check
        of `exercise.function` (stack it to use one check for several functions). With
        `reference=True` it is called `check(inputs, value, reference)`: `reference(exercise,
        function)` is that reference function where the reference is present (the instructor's
        repository, `grade bulk`), None in a students' repository — for a property that needs
        the course's own model, such as « each generated id is the model's most probable next
        id »; such a check says nothing it cannot check there."""
        key = (exercise, function)

        def register(check):
            if key in self._checks:
                raise ValueError(t("hints.declared_twice", exercise=exercise, function=function))
            self._checks[key] = check
            if reference:
                self._with_reference.add(key)
            return check
        return register

    def functions(self) -> set:
        """{(exercise, function)} that have a check."""
        return set(self._checks)

    # messages

    def messages(self, lang: str) -> dict:
        """{dotted key: message} of `lang` (a plural message stays a {one, other} mapping)."""
        if lang not in self._messages:
            path = self.catalogs.get(lang)
            self._messages[lang] = read_catalog(path) if path is not None else {}
        return self._messages[lang]

    def say(self, key: str, /, **fields) -> str:
        """The course's message `key` in the current language, filled with `fields` (a `count`
        field chooses the plural form, with the engine's rule for that language)."""
        lang = language()
        return fill(self.messages(lang).get(key), self.messages("en").get(key, key), lang, fields)

    # running a check

    def hint(self, exercise: str, function: str, inputs: dict, value, reference=None) -> str | None:
        """The sentence of `exercise.function`'s check on `value`, or None. Never raises.
        `reference`: the lookup a check declared with `reference=True` is handed (None: not here)."""
        try:
            if type(exercise) is not str or type(function) is not str:
                return None
            check = self._checks.get((exercise, function))
            if check is None or not admissible(value):
                return None
            if type(inputs) is not dict:
                inputs = {}
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if (exercise, function) in self._with_reference:
                    hint = check(inputs, value, reference)
                else:
                    hint = check(inputs, value)
            return hint if type(hint) is str and hint else None
        except Exception:  # a hint is a bonus: never let it break grading
            return None


# --- the course's module ---------------------------------------------------------------------

_loaded = {}  # (assignment folder, module name, reference here) -> PropertyChecks, None, or the AssignmentError


def load_properties(assignment) -> PropertyChecks | None:
    """The checks of the module the assignment names (`properties:`), imported once from the
    assignment's folder; None when it names none, or when that module is not there at all in a
    students' repository (no reference: released without it, no hints, as without mistake
    variants). A module that is missing where the reference is, fails to import, or has no
    PROPERTIES is the course's error: AssignmentError."""
    name = getattr(assignment, "properties", None)
    if not name:
        return None
    key = (str(assignment.root), name, reference_available(assignment))
    if key not in _loaded:
        _loaded[key] = _import(assignment, name, key[2])
    found = _loaded[key]
    if isinstance(found, AssignmentError):
        raise found
    return found


def _import(assignment, name, instructor: bool):
    root = str(assignment.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")) and not instructor:
            return None  # a students' repository without the module (or its package): no hints
        return AssignmentError(t("hints.module_import", path=assignment.path, module=name, error=exc))
    except Exception as exc:
        return AssignmentError(t("hints.module_import", path=assignment.path, module=name, error=exc))
    checks = getattr(module, ATTRIBUTE, None)
    if not isinstance(checks, PropertyChecks):
        return AssignmentError(t("hints.module_without_checks", path=assignment.path, module=name,
                                 attribute=ATTRIBUTE))
    parts = name.split(".")
    packages = [sys.modules.get(".".join(parts[:depth])) for depth in range(len(parts) - 1, 0, -1)]
    checks.modules = tuple(Path(m.__file__).resolve() for m in [module, *packages]
                           if m is not None and getattr(m, "__file__", None))
    return checks


def property_files(assignment) -> list:
    """The files a students' repository needs for the course's property hints: the property
    module, the `__init__.py` of each package above it, and its catalogs — those inside the
    assignment's folder, in that order ([] when the assignment names no property module here).
    They read only a student's output and the case's inputs: nothing hidden."""
    checks = load_properties(assignment)
    if checks is None:
        return []
    root = Path(assignment.root).resolve()
    files = [*checks.modules, *(Path(path).resolve() for path in checks.catalogs.values())]
    return [path for path in dict.fromkeys(files) if path.is_file() and path.is_relative_to(root)]


def property_hint(assignment, exercise: str, function: str, inputs: dict, value) -> str | None:
    """The most telling property of the course that `value` breaks, as one sentence in the
    current language, or None. `assignment`: the course (None: no hint); `exercise`, `function`:
    the case's; `inputs`: the case's arguments by name (defaults may be absent); `value`: what
    the student returned. Never raises on a value; a course's broken property module raises
    AssignmentError (see load_properties)."""
    if assignment is None:
        return None
    checks = load_properties(assignment)
    if checks is None:
        return None
    return checks.hint(exercise, function, inputs, value, reference_lookup(assignment))


def reference_lookup(assignment):
    """`lookup(exercise, function)` -> the reference's function (None when it has none), or None
    when the reference is not here (a students' repository)."""
    if not reference_available(assignment):
        return None

    def lookup(exercise, function):
        try:
            return getattr(importlib.import_module(f"{assignment.reference}.{exercise}"), function, None)
        except Exception:
            return None
    return lookup


# --- what a check may be handed --------------------------------------------------------------

_LEAVES = (type(None), bool, int, float, complex, str, bytes)


def admissible(value) -> bool:
    """Is `value` made only of exact built-in and NumPy types, within the size limits? (A
    subclass, an object array, a view of a trillion elements or a list of millions is not: no
    check sees it.)"""
    budget = [MAX_NODES]

    def ok(v, depth):
        kind = type(v)
        if kind in _LEAVES:
            return True
        if kind is np.ndarray:
            return not v.dtype.hasobject and v.ndim <= MAX_NDIM and v.size <= MAX_ELEMENTS
        if isinstance(v, np.generic):
            return kind.__module__ == "numpy" and not v.dtype.hasobject
        if kind in (list, tuple, dict) and depth < MAX_DEPTH:
            budget[0] -= len(v)
            if len(v) > MAX_ITEMS or budget[0] < 0:
                return False
            if kind is dict:
                return all(type(k) is str and ok(item, depth + 1) for k, item in v.items())
            return all(ok(item, depth + 1) for item in v)
        return False

    return ok(value, 0)


# --- reading values safely -------------------------------------------------------------------

def as_array(value, kinds="iuf"):
    """`value` as a float64 ndarray when it is an exact NumPy array (or NumPy / Python number)
    of an allowed dtype kind and a reasonable size; None otherwise."""
    if type(value) in (int, float):
        return np.asarray(float(value))
    if isinstance(value, np.generic):
        if type(value).__module__ != "numpy":
            return None
        value = np.asarray(value)
    if type(value) is not np.ndarray:
        return None
    if value.dtype.hasobject or value.dtype.kind not in kinds or value.dtype.fields is not None:
        return None
    if value.ndim > MAX_NDIM or value.size > MAX_ELEMENTS:
        return None
    return value.astype(np.float64)


def as_pair(value):
    """(first, second) arrays of a 2-tuple/list result, or None."""
    if type(value) not in (tuple, list) or len(value) != 2:
        return None
    first, second = as_array(value[0]), as_array(value[1])
    if first is None or second is None:
        return None
    return first, second


def as_int(value):
    """A plain integer (Python or NumPy int, or a 0-d integer array; not bool), or None."""
    if type(value) is int or (isinstance(value, np.integer) and type(value).__module__ == "numpy"):
        return int(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    return None


def as_bool_mask(value):
    """An exact boolean (or 0/1 integer) array as bool, or None."""
    if type(value) is not np.ndarray or value.dtype.kind not in "biu" or value.size > MAX_ELEMENTS:
        return None
    return value.astype(bool)


# --- numbers in sentences --------------------------------------------------------------------

def constant_text(c: float) -> str:
    """A constant as a reader recognises it: 2, 1/3, √8, 1/√8, else its digits (`number`)."""
    for value, inverse in ((c, False), (1 / c if c else 0.0, True)):
        if value <= 0:
            continue
        n = round(value)
        if n >= 2 and abs(value - n) <= 1e-6 * n:
            return f"1/{n}" if inverse else str(n)
        n2 = round(value * value)
        if n2 >= 2 and abs(value * value - n2) <= 1e-6 * n2:
            return f"1/√{n2}" if inverse else f"√{n2}"
    return number(c)


def number(x, avoid=None) -> str:
    """A short number; with more digits when the short form would read as `avoid`
    (never "sums to 1, not 1")."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    for digits in (3, 4, 5, 6, 8, 10):
        text = f"{x:.{digits}g}"
        if avoid is None or float(text) != avoid:
            return text
    return repr(x)


def value_range(values, avoid=None) -> str:
    """The values as one number when they agree within TOL, else "lo to hi" (in the current
    language)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if abs(hi - lo) <= TOL:
        return number((lo + hi) / 2, avoid)
    return t("hints.range", lo=number(lo, avoid), hi=number(hi, avoid))


def shape_text(shape) -> str:
    """A shape as Python writes it: (3, 4), (5,), ()."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"
