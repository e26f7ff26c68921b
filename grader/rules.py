"""The contract's rules that a reading of the source can check: forbidden imports.

The worker also blocks and reports forbidden imports made at run time (`__import__` with a
computed name); this static pass finds the ones in the text, with their line.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .i18n import t


@dataclass(frozen=True)
class Violation:
    where: str       # module or cell label
    line: int
    name: str        # the forbidden module

    def message(self) -> str:
        return t("rules.forbidden_import", name=self.name, where=self.where, line=self.line)


def _forbidden(name: str, forbidden) -> str | None:
    for f in forbidden:
        if name == f or name.startswith(f + "."):
            return f
    return None


def find_forbidden_imports(label: str, source: str, forbidden) -> list[tuple[Violation, list[str], str | None]]:
    """[(violation, names of the top-level functions that use it, the name it binds)] for one source text."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # the worker reports syntax errors with their line
    found = []  # (violation, alias bound, enclosing top-level function or None)
    for top in tree.body:
        owner = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        for node in ast.walk(top):
            names = []
            if isinstance(node, ast.Import):
                names = [(a.name, (a.asname or a.name).split(".")[0]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [(f"{node.module}.{a.name}", a.asname or a.name) for a in node.names] + [(node.module, None)]
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                func = node.func
                callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if callee in ("__import__", "import_module"):
                    names = [(node.args[0].value, None)]
            for name, alias in names:
                hit = _forbidden(name, forbidden)
                if hit:
                    found.append((Violation(label, node.lineno, name if "." not in hit else hit), alias, owner))
                    break
    results, seen = [], set()
    for violation, alias, owner in found:
        if (violation.where, violation.line) in seen:
            continue
        seen.add((violation.where, violation.line))
        users = {owner} if owner else set()
        if alias:
            users |= functions_using(source, alias)
        results.append((violation, sorted(users), alias))
    return results


def functions_using(source: str, alias: str) -> set:
    """Names of the top-level functions of `source` that mention `alias`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    return {top.name for top in tree.body if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef))
            and any(isinstance(n, ast.Name) and n.id == alias for n in ast.walk(top))}


def call_graph(sources: dict, functions) -> dict:
    """{function: the contract functions it calls, directly or not}, from the submission's own
    source: when softmax hangs, every function that calls it will hang too."""
    functions = set(functions)
    direct = {f: set() for f in functions}
    for source in sources.values():
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for top in tree.body:
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and top.name in functions:
                direct[top.name] |= {n.id for n in ast.walk(top) if isinstance(n, ast.Name)} & functions - {top.name}
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
