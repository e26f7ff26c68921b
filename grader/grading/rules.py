"""The contract's rules that a reading of the source can check: forbidden imports.

The worker also blocks and reports forbidden imports made at run time (`__import__` with a
computed name); this static pass finds the ones in the text, with their line.

Each source is parsed once: what the checks need of it — its imports, and which top-level
function mentions which name — is summarised in one walk over its tree and kept (a few
submissions' worth), so that asking again, for every import and every cell, costs a dictionary
lookup and never another parse. Everything here is linear in the size of the source.
"""
from __future__ import annotations

import ast
import threading
from collections import OrderedDict
from dataclasses import dataclass

from grader.model.said import Said

MAX_VIOLATIONS = 5                 # lines named per module or cell: one costs the exercise already
CACHE_BYTES = 4 * 2**20            # sources kept summarised: a whole submission (grader/grading/submission.py
CACHE_ENTRIES = 4096               # MAX_CODE_BYTES, MAX_CELLS) with room to spare


@dataclass(frozen=True)
class Violation:
    where: str       # module or cell label
    line: int
    name: str        # the forbidden module

    def said(self) -> Said:
        return Said("rules.forbidden_import", name=self.name, where=self.where, line=self.line)

    def message(self) -> str:
        return self.said().render()


@dataclass(frozen=True)
class _Summary:
    """What the checks read of one source."""
    imports: tuple   # ((line, ((imported name, alias bound or None), …), enclosing top-level function or None), …)
    users: dict      # {name: frozenset of the top-level functions that mention it}
    blocks: int      # functions, classes, lambdas and comprehensions, nested ones too: its code objects


BLOCKS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)
_BLOCK_TYPES = frozenset(BLOCKS)


_summaries: OrderedDict = OrderedDict()   # {source: _Summary or None (does not parse)}, least recent first
_cached_bytes = 0
_lock = threading.Lock()
_MISSING = object()


def _summary(source: str) -> _Summary | None:
    """The summary of `source` (None when it does not parse), from the cache when it is there."""
    found = _summaries.get(source, _MISSING)  # one lookup (the string's hash is cached): asked per cell and import
    if found is not _MISSING:
        return found
    try:
        summary = summarise(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        summary = None  # the worker reports syntax errors with their line
    remember(source, summary)
    return summary


def remember(source: str, summary: _Summary | None):
    """Keep `summary` for `source` (grader/grading/submission.py gives the tree it has just parsed), the
    oldest ones forgotten past CACHE_BYTES or CACHE_ENTRIES (first in, first out)."""
    global _cached_bytes
    with _lock:
        if source not in _summaries:
            _cached_bytes += len(source)
        _summaries[source] = summary
        _summaries.move_to_end(source)
        while len(_summaries) > 1 and (_cached_bytes > CACHE_BYTES or len(_summaries) > CACHE_ENTRIES):
            old, _ = _summaries.popitem(last=False)
            _cached_bytes -= len(old)


def summarise(tree: ast.Module) -> _Summary:
    """One walk over the tree (iterative: no recursion limit), every node visited once: every
    import (with the top-level function it is in), for every name the top-level functions that
    mention it, and the number of code blocks."""
    imports, users, blocks = [], {}, 0
    AST, Name = ast.AST, ast.Name
    for top in tree.body:
        owner = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        stack = [top]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is Name:  # a leaf (its ctx holds no name)
                if owner is not None:
                    users.setdefault(node.id, set()).add(owner)
                continue
            for name in kind._fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    stack.extend(item for item in value if isinstance(item, AST))
                elif isinstance(value, AST):
                    stack.append(value)
            if kind in _BLOCK_TYPES:
                blocks += 1
            names = ()
            if kind is ast.Import:
                names = tuple((a.name, (a.asname or a.name).split(".")[0]) for a in node.names)
            elif kind is ast.ImportFrom and node.module and node.level == 0:
                names = tuple((f"{node.module}.{a.name}", a.asname or a.name) for a in node.names) + \
                    ((node.module, None),)
            elif kind is ast.Call and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                func = node.func
                callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if callee in ("__import__", "import_module"):
                    names = ((node.args[0].value, None),)
            if names:
                imports.append((node.lineno, node.col_offset, names, owner))
    imports.sort(key=lambda found: found[:2])  # in the order of the source
    return _Summary(tuple((line, names, owner) for line, _, names, owner in imports),
                    {name: frozenset(found) for name, found in users.items()}, blocks)


def _forbidden(name: str, forbidden) -> str | None:
    for f in forbidden:
        if name == f or name.startswith(f + "."):
            return f
    return None


def find_forbidden_imports(label: str, source: str, forbidden) -> list[tuple[Violation, list[str], str | None]]:
    """[(violation, names of the top-level functions that use it, the name it binds)] for one
    source text: one per line, the first MAX_VIOLATIONS lines (the caller may ask which
    functions of every other source use each alias: their number is what it costs)."""
    summary = _summary(source)
    if summary is None:
        return []
    results, seen = [], set()
    for line, names, owner in summary.imports:  # in the order of the source
        if line in seen:
            continue
        for name, alias in names:
            hit = _forbidden(name, forbidden)
            if hit:
                seen.add(line)
                users = {owner} if owner else set()
                if alias:
                    users |= summary.users.get(alias, _NONE)
                results.append((Violation(label, line, name if "." not in hit else hit), sorted(users), alias))
                break
        if len(results) >= MAX_VIOLATIONS:
            break
    return results


def functions_using(source: str, alias: str) -> frozenset:
    """Names of the top-level functions of `source` that mention `alias`."""
    summary = _summary(source)
    return summary.users.get(alias, _NONE) if summary is not None else _NONE


_NONE = frozenset()


def users_anywhere(sources: dict) -> dict:
    """{name: the top-level functions, of any of `sources`, that mention it}, in one pass: what
    a notebook's cells ask for every alias a forbidden import binds (an import in one cell, its
    use in others), at the cost of the sources, not of their number times the imports'."""
    found = {}
    for source in sources.values():
        summary = _summary(source)
        for name, functions in (summary.users.items() if summary is not None else ()):
            found.setdefault(name, set()).update(functions)
    return found


def call_graph(sources: dict, functions) -> dict:
    """{function: the contract functions it calls, directly or not}, from the submission's own
    source: when softmax hangs, every function that calls it will hang too."""
    functions = set(functions)
    direct = {f: set() for f in functions}
    for source in sources.values():
        summary = _summary(source)
        if summary is None:
            continue
        for callee in functions:  # a contract function mentioned inside another one
            for caller in summary.users.get(callee, ()):
                if caller in functions and caller != callee:
                    direct[caller].add(callee)
    closure = {}
    for f in functions:
        seen, todo = set(), list(direct[f])
        while todo:
            g = todo.pop()
            if g not in seen:
                seen.add(g)
                todo += direct.get(g, ())
        closure[f] = seen
    return closure
