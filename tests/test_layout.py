"""The package's layout is its architecture: no import cycle between grader's modules (imports
inside functions included), no private name imported from another module, the worker's
runtime importing nothing of the grader, and no module of the engine naming a course function."""
import ast
import sys
from pathlib import Path


from conftest import ROOT

GRADER = ROOT / "grader"
RUNTIME = GRADER / "sandbox" / "runtime"
RUNTIME_MODULES = {p.stem for p in RUNTIME.glob("*.py") if p.stem != "__init__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(GRADER.rglob("*.py"))}


def imports_of(name: str, path: Path):
    """(imported module, names, line) for every import in the module, at any depth."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, [a.name for a in node.names], node.lineno


def grader_edges():
    """{module: {grader module it imports}}: `from grader.x import y` counts y when y is a module."""
    edges = {}
    for name, path in MODULES.items():
        found = set()
        for module, names, _ in imports_of(name, path):
            for candidate in [f"{module}.{n}" for n in names] + [module]:
                if candidate in MODULES and candidate != name:
                    found.add(candidate)
                    break
        edges[name] = found
    return edges


def test_the_import_graph_of_grader_has_no_cycle():
    edges = grader_edges()
    # a package's __init__ that its own modules import would hide cycles: the graph is between modules
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_is_imported_from_another_module():
    found = []
    for name, path in MODULES.items():
        for module, names, line in imports_of(name, path):
            if module and module.split(".")[0] == "grader":
                found += [f"{path.relative_to(ROOT)}:{line} {module}.{n}" for n in names
                          if n.startswith("_") and n != "__version__"]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_the_worker_runtime_imports_only_the_standard_library_numpy_and_itself():
    allowed = set(sys.stdlib_module_names) | {"numpy"} | RUNTIME_MODULES
    found = []
    for path in RUNTIME.glob("*.py"):
        for module, _, line in imports_of(module_name(path), path):
            if module.split(".")[0] not in allowed:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not found, "\n".join(found)
