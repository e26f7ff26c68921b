"""What a running kernel holds, as a submission: the assignment's functions as the kernel has
them now, copied out of the kernel's own cells with the imports, helper functions, classes and
constants they use — never imported back, never run here.

IPython keeps every cell it ran (`history_manager.input_hist_parsed`, indexed by execution
count) and registers each cell's code with `linecache` under the file name its code objects
carry: a function's `__code__` leads to its cell and line, so its `def` is taken from there, as
the student wrote it. Each copied statement keeps its line in its cell (the other lines are
blank), so that a traceback in the worker says « In [5], line 7 » as the notebook would.

Nothing of the kernel is changed: its namespace, modules, history and random state are only
read (`tests/test_notebook_check.py` compares them before and after).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import math
import re
import sys
import types
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.grading.submission import Submission, compile_problem
from grader.i18n import t

MAX_VALUE_CHARS = 20_000     # a kernel constant copied as a literal: at most this long
MAX_ARRAY_SIZE = 10_000      # a NumPy array copied from the kernel: at most this many elements
NAMES_NEVER_COPIED = {"In", "Out", "get_ipython", "exit", "quit", "display"}


@dataclass
class Kernel:
    """The part of a kernel the grader reads: its namespace and the cells it ran."""
    namespace: dict
    cells: dict                  # {execution count: source (as IPython ran it)}
    hidden: set = field(default_factory=set)   # IPython's own names (In, Out, _i…)
    notebook: Path | None = None               # the notebook file, when the front end says which

    @classmethod
    def of(cls, shell) -> Kernel:
        history = list(getattr(shell.history_manager, "input_hist_parsed", []) or [])
        cells = {n: text for n, text in enumerate(history) if n and isinstance(text, str) and text.strip()}
        notebook = shell.user_ns.get("__vsc_ipynb_file__")   # VS Code names it
        if not notebook:
            import os
            notebook = os.environ.get("JPY_SESSION_NAME")   # jupyter_server >= 2
        notebook = Path(notebook) if isinstance(notebook, str) and notebook.endswith(".ipynb") else None
        return cls(shell.user_ns, cells, set(getattr(shell, "user_ns_hidden", {}) or {}), notebook)

    def label(self, number: int) -> str:
        return t("notebook.cell", number=number)


@lru_cache(maxsize=512)
def _parsed(text: str):
    """The tree of a cell (None when it does not parse), once per distinct text."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _key(text: str) -> str:
    return "\n".join(text.splitlines())


def _defines(tree, name: str) -> list:
    """The top-level statements of `tree` that bind `name` by def or class, in order."""
    return [node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name]


def _bound_names(node) -> set:
    """Names an import statement binds."""
    return {(a.asname or a.name.split(".")[0]) if isinstance(node, ast.Import) else (a.asname or a.name)
            for a in node.names}


def _names_used(node) -> set:
    """Every plain name a definition mentions (its body, decorators, defaults, annotations)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _global_names(code) -> set:
    """co_names of a code object and the code objects nested in it: the names it may look up
    globally (and attribute names, which the caller intersects with the names of the source)."""
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


class Copier:
    """Copies functions out of a kernel with what they need, and says in one line each what it
    could not copy."""

    def __init__(self, kernel: Kernel, contract: set):
        self.kernel = kernel
        self.contract = contract
        self.by_text = {}                      # cell text (normalised) -> its latest execution count
        for number, text in kernel.cells.items():
            self.by_text[_key(text)] = number
        self.pieces = {}                       # label -> {line: text}, what each copied cell keeps
        self.order = {}                        # label -> sort key
        self.values = {}                       # name -> "name = literal" (kernel constants)
        self.done = set()                      # names handled
        self.notes = []                        # one line each
        self.uses = {}                         # name -> the function that first needed it

    # --- where a definition lives ---------------------------------------------------------------
    def _cell_of(self, code) -> tuple[str, str, int] | None:
        """(label, text, sort key) of the cell or file a code object was compiled from."""
        filename = code.co_filename
        lines = linecache.getlines(filename)
        if not lines:
            return None
        text = "".join(lines)
        number = self.by_text.get(_key(text))
        if number is not None:
            return self.kernel.label(number), self.kernel.cells[number], number
        if filename.startswith("<") or not Path(filename).is_file():
            return None
        return Path(filename).name, text, -1   # a module file the kernel imported it from

    def _keep(self, label: str, order: int, start: int, lines: list):
        slot = self.pieces.setdefault(label, {})
        self.order[label] = order
        for offset, line in enumerate(lines):
            n = start + offset
            slot[n] = line if n not in slot or slot[n] == line else slot[n] + "; " + line

    # --- copying -----------------------------------------------------------------------------
    def copy_function(self, name: str, fn, user: str | None = None) -> bool:
        fn = inspect.unwrap(fn) if callable(fn) else fn
        code = getattr(fn, "__code__", None)
        found = self._cell_of(code) if code is not None else None
        if found is None:
            self.notes.append(t("notebook.no_source", name=name, user=user or name))
            return False
        label, text, order = found
        tree = _parsed(text)
        node = None
        if tree is not None:
            for top in tree.body:
                end = getattr(top, "end_lineno", top.lineno)
                first = min([top.lineno] + [d.lineno for d in getattr(top, "decorator_list", [])])
                if first <= code.co_firstlineno <= end:
                    node = top
        ok = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name or \
            isinstance(node, ast.Assign) and any(isinstance(t_, ast.Name) and t_.id == name for t_ in node.targets)
        if not ok or "<locals>" in getattr(fn, "__qualname__", ""):
            self.notes.append(t("notebook.no_source", name=name, user=user or name))
            return False
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        lines = text.splitlines()[first - 1:node.end_lineno]
        self._keep(label, order, first, lines)
        if tree is not None and name in self.contract:
            twice = [d.lineno for d in _defines(tree, name)]
            if len(twice) > 1:
                self.notes.append(t("notebook.defined_twice_in_cell", function=name, cell=label,
                                    lines=", ".join(map(str, twice))))
        namespace = getattr(fn, "__globals__", self.kernel.namespace)
        needed = (_global_names(code) & _names_used(node)) | self._outer_names(node)
        self._dependencies(sorted(needed - {name}), namespace, name)
        return True

    @staticmethod
    def _outer_names(node) -> set:
        """Names evaluated where the function is defined: decorators, defaults, annotations."""
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return set()
        outer = list(node.decorator_list) + list(node.args.defaults) + [d for d in node.args.kw_defaults if d]
        outer += [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation]
        if node.returns:
            outer.append(node.returns)
        return {n.id for o in outer for n in ast.walk(o) if isinstance(n, ast.Name)}

    def _dependencies(self, names, namespace: dict, user: str):
        for name in names:
            if name in self.done or name in NAMES_NEVER_COPIED:
                continue
            if name not in namespace:
                if not hasattr(builtins, name):
                    self.done.add(name)
                    self.notes.append(self._missing_helper(name, user))
                continue
            if namespace is self.kernel.namespace and name in self.kernel.hidden:
                continue
            self.done.add(name)
            self.uses.setdefault(name, user)
            self._copy_value(name, namespace[name], user, namespace)

    def _missing_helper(self, name: str, user: str) -> str:
        """Why `name`, which `user` needs, is not in the kernel: a cell that defines it was not
        run yet (or failed), or it is defined nowhere."""
        for number in sorted(self.kernel.cells, reverse=True):
            text = self.kernel.cells[number]
            if name not in text:
                continue
            tree = _parsed(text)
            if tree is not None and _defines(tree, name):
                return t("notebook.helper_cell_failed", name=name, user=user, cell=self.kernel.label(number))
        return t("notebook.helper_missing", name=name, user=user)

    def _copy_value(self, name: str, value, user: str, namespace: dict):
        if isinstance(value, types.ModuleType):
            self._import(name, value, module=value.__name__)
        elif isinstance(value, (types.FunctionType, types.BuiltinFunctionType)) or inspect.isclass(value):
            module = getattr(value, "__module__", None)
            if module in (None, "__main__") or self._from_kernel(value):
                if inspect.isclass(value):
                    self._copy_class(name, value, user)
                else:
                    self.copy_function(name, value, user)
            else:
                self._import(name, value, module=module, attribute=getattr(value, "__name__", name))
        else:
            literal = _literal(value)
            if literal is None:
                self.notes.append(t("notebook.cannot_copy", name=name, user=user, type=type(value).__name__))
            else:
                self.values[name] = f"{name} = {literal}"

    def _from_kernel(self, value) -> bool:
        code = getattr(inspect.unwrap(value), "__code__", None) if callable(value) else None
        return code is not None and self._cell_of(code) is not None and \
            self._cell_of(code)[2] >= 0

    def _import(self, name: str, value, module: str, attribute: str | None = None):
        """The import statement of the kernel's cells that binds `name` to `value` (kept at its
        line, reduced to that name), else one written from the value itself."""
        for number in sorted(self.kernel.cells, reverse=True):
            text = self.kernel.cells[number]
            if name not in text:
                continue
            tree = _parsed(text)
            if tree is None:
                continue
            for node in reversed(tree.body):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and name in _bound_names(node):
                    alias = next(a for a in node.names if name == ((a.asname or a.name.split(".")[0])
                                 if isinstance(node, ast.Import) else (a.asname or a.name)))
                    if isinstance(node, ast.Import):
                        target = sys.modules.get(alias.name if alias.asname else alias.name.split(".")[0])
                        statement = ast.Import(names=[alias])
                    else:
                        source = sys.modules.get(node.module or "")
                        target = getattr(source, alias.name, None) if node.level == 0 else None
                        statement = ast.ImportFrom(module=node.module, names=[alias], level=node.level)
                    if target is value:
                        self._keep(self.kernel.label(number), number, node.lineno, [ast.unparse(statement)])
                        return
        if attribute is None:
            line = f"import {module}" if module == name else f"import {module} as {name}"
        elif getattr(sys.modules.get(module), attribute, None) is value:
            line = f"from {module} import {attribute}" + (f" as {name}" if attribute != name else "")
        else:
            self.notes.append(t("notebook.cannot_copy", name=name, user=self.uses.get(name, name),
                                type=type(value).__name__))
            return
        self.values[name] = line

    def _copy_class(self, name: str, value, user: str):
        """A class of the kernel: the last cell run that defines it (classes carry no line)."""
        for number in sorted(self.kernel.cells, reverse=True):
            text = self.kernel.cells[number]
            tree = _parsed(text) if f"class {name}" in text else None
            nodes = _defines(tree, name) if tree is not None else []
            if nodes:
                node = nodes[-1]
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                self._keep(self.kernel.label(number), number, first, text.splitlines()[first - 1:node.end_lineno])
                self._dependencies(sorted(_names_used(node) - {name}), self.kernel.namespace, user)
                return
        self.notes.append(t("notebook.no_source", name=name, user=user))

    # --- the result ---------------------------------------------------------------------------
    def cells(self) -> list:
        """[{"label", "source"}]: the kernel's values and synthesised imports first, then each
        cell's copied statements at their lines, in the order the kernel ran them."""
        out = []
        if self.values:
            out.append({"label": t("notebook.kernel_values"), "source": "\n".join(self.values.values()) + "\n"})
        for label in sorted(self.pieces, key=lambda k: self.order[k]):
            slot = self.pieces[label]
            lines = [""] * max(slot)
            for n, line in slot.items():
                lines[n - 1] = line
            out.append({"label": label, "source": "\n".join(lines) + "\n"})
        return out


def _literal(value) -> str | None:
    """Python source that rebuilds `value` exactly (a constant, a small NumPy array), or None."""
    if isinstance(value, np.ndarray):
        if value.size > MAX_ARRAY_SIZE or value.dtype.kind not in "biuf" or \
                (value.dtype.kind == "f" and not np.isfinite(value).all()):
            return None
        return f"__import__('numpy').array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if type(value) not in (bool, int, float, complex, str, bytes, type(None), tuple, list, dict, set, frozenset):
        return None
    try:
        text = repr(value)
        if len(text) > MAX_VALUE_CHARS or ast.literal_eval(text) != value:
            return None
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None
    return text


def _cells_defining(kernel: Kernel, name: str) -> list:
    """[(execution count, tree or None, text)] of the cells run that define `name` at top level,
    latest first (a cell that does not parse counts when a line starts with `def name(`)."""
    pattern = re.compile(rf"^\s*(async\s+)?def\s+{re.escape(name)}\s*\(", re.M)
    found = []
    for number in sorted(kernel.cells, reverse=True):
        text = kernel.cells[number]
        if name not in text:
            continue
        tree = _parsed(text)
        if tree is not None and _defines(tree, name) or tree is None and pattern.search(text):
            found.append((number, tree, text))
    return found


def _syntax_error(text: str) -> str:
    try:
        compile(text, "<cell>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return t("notebook.syntax", line=exc.lineno or "?", message=exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:
        return type(exc).__name__
    return ""


def kernel_submission(kernel: Kernel, functions: list) -> Submission:
    """The submission a kernel holds for `functions` (the contract functions of the selected
    cases, in the assignment's order), with one note per thing the student should know."""
    copier = Copier(kernel, set(functions))
    missing = []   # not defined, and no cell run defines them: said in one line
    for name in functions:
        value = kernel.namespace.get(name)
        definers = _cells_defining(kernel, name)
        current = None
        if callable(value) and getattr(inspect.unwrap(value), "__code__", None) is not None:
            found = copier._cell_of(inspect.unwrap(value).__code__)
            current = found[2] if found else None
        # a cell run after the one the kernel's function comes from, that defines it, failed
        failed = next(((n, tree, text) for n, tree, text in definers if current is None or n > current), None)
        if failed is not None:
            n, tree, text = failed
            why = _syntax_error(text) if tree is None else t("notebook.raised_before")
            if value is None and tree is None:
                copier.notes.append(t("notebook.cell_failed_missing", function=name, cell=kernel.label(n), why=why))
            elif value is None:   # it ran and failed before the def, or the function was deleted since
                copier.notes.append(t("notebook.not_in_kernel", function=name, cell=kernel.label(n)))
            else:
                copier.notes.append(t("notebook.cell_failed_older", function=name, cell=kernel.label(n), why=why,
                                      older=kernel.label(current) if current and current > 0 else "?"))
        elif value is None:
            missing.append(f"{name}()")
        if value is None:
            continue
        if not callable(value) or isinstance(value, type):
            copier.notes.append(t("notebook.not_a_function", function=name, type=type(value).__name__))
            continue
        copier.done.add(name)
        copier.copy_function(name, value)
    if missing:
        copier.notes.append(t("notebook.not_defined", count=len(missing), functions=", ".join(missing)))
    copier.notes += _saved_duplicates(kernel, functions)
    cells = copier.cells()
    submission = Submission(Path.cwd() / t("notebook.kernel_submission"), "notebook", cells=[])
    for cell in cells:
        problem, _ = compile_problem(cell["source"], cell["label"], t("notebook.consequence", cell=cell["label"]))
        if problem:
            submission.problem(cell["label"], problem)
        submission.cells.append(cell)
    submission.notes[:0] = list(dict.fromkeys(copier.notes))
    return submission


def _saved_duplicates(kernel: Kernel, functions: list) -> list:
    """A function the saved notebook (when the front end names it) defines in two cells or more:
    the kernel has the one run last, and a `grade` of the file would take the lowest."""
    if kernel.notebook is None:
        return []
    try:
        import json
        if kernel.notebook.stat().st_size > 5 * 2**20:
            return []
        cells = json.loads(kernel.notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []
    places = {}
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else source
        tree = _parsed("\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                 for line in str(source).splitlines()))
        for name in functions:
            if tree is not None and _defines(tree, name):
                places.setdefault(name, []).append(str(index))
    return [t("notebook.defined_in_cells", function=name, notebook=kernel.notebook.name, cells=", ".join(cells_))
            for name, cells_ in places.items() if len(cells_) > 1]
