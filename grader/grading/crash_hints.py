"""Crashes explained in NumPy terms: where the student's code raised, and a fix matched to the
exception's signature.

The worker sends an exception as data: its type, its classes (`mro`), its message and the
traceback of the submission's own frames ("exercises/softmax.py, line 5, in softmax" and the
source line). `explain(exception, function)` reads the innermost of those frames — the
student's line where NumPy (or Python) gave up — and matches the message, and that line, against
the signatures below. Each signature names the usual cause and its remedy:

    operands could not be broadcast … (6,7) (6,)           a reduction dropped an axis → keepdims=True
    shapes (3,2) and (3,2) not aligned                     np.dot on batches → np.sum(a * b, axis=-1), or @
    matmul … remapped (batch) shapes, a line with .T       .T reverses every axis → np.swapaxes(x, -1, -2)
    matmul … core dimension … on a line with .T            the same on a batch, or a matrix that needs no .T
    matmul … core dimension, np.concatenate(…) with no axis  it joins along axis 0 (rows) → axis=-1
    matmul … core dimension (any other line)               A @ B needs A.shape[-1] == B.shape[-2]
    truth value of an array … ambiguous, line with == None `is None`
    truth value of an array … ambiguous, B = B or A         `A if B is None else B`
    truth value of an array … ambiguous (any other line)   an if on an array → np.any/np.all, np.where, np.maximum
    slice indices must be integers / float as an integer   `/` gives a float → `//`
    Cannot interpret '7' as a data type                     np.zeros(n, m) → np.zeros((n, m))
    could not broadcast input array from shape … into …     the slice assigned to has another size (x[:, 1::2] when d is odd)
    inhomogeneous shape / 'tuple' object has no attribute   a function's (output, weights) tuple used as an array → [0]
    'numpy.ndarray' object has no attribute 'append'        arrays have no append → list(x)
    axis N is out of bounds for array of dimension M        count axes from the end (-1)
    IndexError where ValueError is expected                 check 0 <= id < size and raise ValueError
    operands could not be broadcast … (3,8) (8,3)            sizes given in the wrong order (naming the calls on the
                                                           line that take two sizes, f(d, n) → f(n, d)), or a missing .T
    index 5 is out of bounds for axis 1 … on x[:, ids]      [:, ids] takes columns; x[ids] takes rows

A crash that matches no signature still gets its place (file, line, code). Everything is a
`Said` (a catalog key and fields, the words in grader/i18n/locales), so a stored result renders
in either language; nothing here is course-specific: the functions it names come from the
traceback. The values it reads come from the worker (untrusted): every field is clipped.
"""
from __future__ import annotations

import ast
import re

from grader.model.said import Said, listed

__all__ = ["explain", "frames", "innermost", "stub_called", "Frame"]

MAX_CODE = 160   # characters of the student's line quoted
MAX_NAME = 80


class Frame:
    """One entry of a worker's traceback: file, line, function and the source line."""
    __slots__ = ("file", "line", "function", "code")

    def __init__(self, file, line, function, code):
        self.file, self.line, self.function, self.code = file, line, function, code

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


_ENTRY = re.compile(r"^(?P<file>[^\n]{1,300}?), line (?P<line>\d{1,7}), in (?P<function>[^\n]{1,200})"
                    r"(?:\n\s*(?P<code>[^\n]*))?")


def frames(traceback) -> list:
    """The traceback's entries as Frames (what cannot be read is skipped)."""
    found = []
    for entry in traceback if isinstance(traceback, list) else []:
        if not isinstance(entry, str):
            continue
        m = _ENTRY.match(entry[:2000])
        if m:
            found.append(Frame(m["file"][-MAX_NAME:], int(m["line"]), m["function"].strip()[:MAX_NAME],
                               (m["code"] or "").strip()[:MAX_CODE]))
    return found


def innermost(traceback) -> Frame | None:
    """The submission's innermost frame: the student's line where the exception was raised."""
    found = frames(traceback)
    return found[-1] if found else None


def stub_called(exception: dict, function: str, contract: set) -> str | None:
    """The contract function, other than `function`, whose NotImplementedError `function` ran
    into (a correct function calling a stub), or None when `function` is the stub itself."""
    if not isinstance(exception, dict) or "NotImplementedError" not in (exception.get("mro") or []):
        return None
    frame = innermost(exception.get("traceback"))
    if frame is None or frame.function == function or frame.function not in contract:
        return None
    return frame.function


def _shape(text: str):
    """"(6,7)" → (6, 7); None when it is not a shape."""
    text = text.strip().strip("()").replace(" ", "")
    if text == "":
        return ()
    try:
        return tuple(int(p) for p in text.split(",") if p != "")
    except ValueError:
        return None


def _dropped_axis(a, b) -> int | None:
    """The axis whose removal from `a` gives `b` (a reduction without keepdims), or None."""
    if a is None or b is None or len(b) != len(a) - 1 or len(a) < 2:
        return None
    for k in range(len(a)):
        if a[:k] + a[k + 1:] == b:
            return k - len(a)
    return None


_BROADCAST = re.compile(r"operands could not be broadcast together with shapes ((?:\([\d, ]*\) ?){2,})")
_NOT_ALIGNED = re.compile(r"shapes \(([\d, ]*)\) and \(([\d, ]*)\) not aligned")
_CORE = re.compile(r"matmul: Input operand \d has a mismatch in its core dimension \d.*\(size (\d+) is different "
                   r"from (\d+)\)")
_REMAPPED = re.compile(r"operands could not be broadcast together with remapped shapes")
_AMBIGUOUS = re.compile(r"truth value of an array with more than one element is ambiguous")
_FLOAT_INDEX = re.compile(r"slice indices must be integers|'float' object cannot be interpreted as an integer|"
                          r"only integers, slices \(`:`\), ellipsis|'float' object is not subscriptable|"
                          r"expected a sequence of integers or a single integer, got '\d+\.\d*'")
_DTYPE = re.compile(r"Cannot interpret '([^']{1,40})' as a data type|data type '([^']{1,40})' not understood")
_INTO = re.compile(r"could not broadcast input array from shape \(([\d, ]*)\) into shape \(([\d, ]*)\)")
_INHOMOGENEOUS = re.compile(r"setting an array element with a sequence|inhomogeneous")
_TUPLE_ATTRIBUTE = re.compile(r"'tuple' object has no attribute '(\w{1,40})'|unsupported operand type\(s\) for "
                              r"[^:]{1,5}: '(?:tuple|float|int|numpy\.ndarray)' and 'tuple'|unsupported operand "
                              r"type\(s\) for [^:]{1,5}: 'tuple'")
_APPEND = re.compile(r"'numpy\.ndarray' object has no attribute '(append|extend|insert)'")
_INDEX_AXIS1 = re.compile(r"index (-?\d+) is out of bounds for axis 1 with size (\d+)")
_AXIS = re.compile(r"axis (-?\d+) is out of bounds for array of dimension (\d+)")
_APPENDED = re.compile(r"([A-Za-z_]\w{0,40})\s*\.\s*(?:append|extend|insert)\s*\(")


def _hint(exception: dict, code: str, expected_error: str | None):
    """The Said naming the cause and remedy of this exception on this line, or None."""
    message = str(exception.get("message") or "")[:2000]
    kind = str(exception.get("type") or "")
    mro = exception.get("mro") or [kind]
    if expected_error and expected_error not in mro and "IndexError" in mro:
        return Said("crash.index_not_value_error", expected=expected_error[:MAX_NAME])
    m = _BROADCAST.search(message)
    if m:
        shapes = [_shape(s) for s in re.findall(r"\(([\d, ]*)\)", m.group(1))]
        for a, b in ((x, y) for x in shapes for y in shapes if x is not y):
            axis = _dropped_axis(a, b)
            if axis is not None:
                return Said("crash.keepdims", big=a, small=b, axis=axis)
        two = [x for x in shapes if x is not None and len(x) == 2]
        for a, b in ((x, y) for x in two for y in two if x is not y):
            if a == b[::-1] and a[0] != a[1]:   # (n, d) against (d, n): sizes given in the wrong order
                calls = _two_argument_calls(code)
                if len(calls) == 1:
                    return Said("crash.broadcast_transposed_call", a=a, b=b, call=calls[0][0], swapped=calls[0][1])
                if calls:
                    return Said("crash.broadcast_transposed_calls", a=a, b=b, calls=listed(c for c, _ in calls))
                return Said("crash.broadcast_transposed", a=a, b=b)
        return Said("crash.broadcast", shapes=tuple(s for s in shapes if s is not None)[:3])
    m = _NOT_ALIGNED.search(message)
    if m:
        return Said("crash.dot_not_aligned", a=_shape(m.group(1)), b=_shape(m.group(2)))
    transposed = bool(re.search(r"\.T\b|\.transpose\(\s*\)", code))
    m = _CORE.search(message)
    if m or _REMAPPED.search(message):
        if transposed:   # batch axes that do not match: the transposed array has more than 2 dimensions
            return Said("crash.transpose_nd") if not m else Said("crash.transpose_or_matrix")
        if _concatenates_on_axis_0(code):
            return Said("crash.concatenate_axis_0")
        if m:
            return Said("crash.matmul_core", left=int(m.group(2)), right=int(m.group(1)))
        return Said("crash.matmul_batch")
    if _AMBIGUOUS.search(message):
        if re.search(r"[!=]=\s*None\b|\bNone\s*[!=]=", code):
            return Said("crash.none_comparison")
        default = re.search(r"=\s*([A-Za-z_]\w{0,40})\s+or\s+([A-Za-z_]\w{0,40})\s*$", code)
        if default:   # B = B or A: a default that asks an array for its truth
            return Said("crash.or_default", name=default.group(1), other=default.group(2))
        return Said("crash.ambiguous_truth")
    if _FLOAT_INDEX.search(message):
        return Said("crash.float_index")
    m = _DTYPE.search(message)
    if m and re.search(r"np\.(zeros|ones|empty|full|random\.\w+)\s*\(", code):
        return Said("crash.shape_not_tuple", value=(m.group(1) or m.group(2))[:40])
    m = _INTO.search(message)
    if m:
        step = re.search(r"::\s*2", code) is not None
        return Said("crash.slice_size_step" if step else "crash.slice_size",
                    value=_shape(m.group(1)), target=_shape(m.group(2)))
    if _TUPLE_ATTRIBUTE.search(message) or (_INHOMOGENEOUS.search(message) and "ValueError" in mro):
        return Said("crash.tuple_as_array")
    m = _APPEND.search(message)
    if m:
        name = _APPENDED.search(code)
        return Said("crash.array_append", name=name.group(1) if name else "x")
    m = _AXIS.search(message)
    if m:
        return Said("crash.axis_out_of_bounds", axis=int(m.group(1)), ndim=int(m.group(2)))
    m = _INDEX_AXIS1.search(message)
    if m and "IndexError" in mro and re.search(r"\[\s*:\s*,", code):
        return Said("crash.index_columns", index=int(m.group(1)), size=int(m.group(2)))
    return None


def _size_like(node) -> bool:
    """An argument that reads as a size: an integer, len(…), x.shape[…], a name that is not a
    matrix's (E, X, W_q: capitalised, by NumPy's convention) nor a sequence's (token_ids), or
    arithmetic of those."""
    if isinstance(node, ast.Name):
        return not node.id[:1].isupper() and "ids" not in node.id.lower() and "token" not in node.id.lower()
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("len", "int"):
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
        return True
    if isinstance(node, ast.BinOp):
        return _size_like(node.left) and _size_like(node.right)
    return False


def _parsed(code: str):
    """The expression of the student's line (its value, for an assignment or a return), or None."""
    try:
        return ast.parse(code.strip().rstrip(":").removeprefix("return ").strip() or "0", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        try:
            statement = ast.parse(code.strip()).body[0]
            return getattr(statement, "value", None)
        except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
            return None


def _concatenates_on_axis_0(code: str) -> bool:
    """Does the line call np.concatenate(…) with no axis (so along axis 0)?"""
    tree = _parsed(code)
    return tree is not None and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "concatenate"
        and isinstance(n.func.value, ast.Name) and n.func.value.id in ("np", "numpy")
        and len(n.args) == 1 and not any(k.arg == "axis" for k in n.keywords) for n in ast.walk(tree))


def _two_argument_calls(code: str) -> list:
    """[(call, the call with its two arguments swapped)] of the calls on the student's line that
    take exactly two size-like arguments — a function (f(d, n)) or NumPy's (np.ones(d, n)), not an
    array's method — at most 3: where a transposed operand most likely comes from."""
    tree = _parsed(code)
    if tree is None:
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or len(node.args) != 2 or node.keywords \
                or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        function = node.func
        named = isinstance(function, ast.Name) or (isinstance(function, ast.Attribute) and
                                                   isinstance(function.value, ast.Name) and
                                                   function.value.id in ("np", "numpy"))
        if named and all(_size_like(a) for a in node.args):
            swapped = ast.Call(function, node.args[::-1], [])
            found.append((ast.unparse(node)[:MAX_CODE], ast.unparse(swapped)[:MAX_CODE]))
    return sorted(found)[:3]


def explain(exception, function: str, expected_error: str | None = None) -> Said | None:
    """What a crash means, as data: `crash.at` (where: the student's file:line and their
    line of code; hint: the matched signature's cause and remedy, or None) — or None when the
    exception carries no frame of the submission and matches no signature."""
    if not isinstance(exception, dict):
        return None
    frame = innermost(exception.get("traceback"))
    code = frame.code if frame is not None else ""
    hint = _hint(exception, code, expected_error)
    if frame is None:
        return hint
    if hint is None:
        return Said("crash.at", where=frame.where, code=code)
    return Said("crash.at_because", where=frame.where, code=code, hint=hint)
