"""Read a submission (a folder of modules, one `.py`, or a notebook) and stage it for a worker.

Whatever the folder is called, its modules become the package `exercises` (the assignment's
package name) inside the worker's temporary folder, which holds nothing else: a student file
named `numpy.py` is `exercises.numpy` there, never `numpy`.

Reading is also where broken input is caught, before any student code runs: each problem gets
one message saying what is wrong, where (file or cell, and line) and what to do. A file or a
notebook that cannot be read at all is a `GraderError` (exit status 2); a module or a cell that
Python cannot compile costs only itself (`problems`), and the rest is graded.
"""
from __future__ import annotations

import ast
import codecs
import difflib
import io
import json
import keyword
import os
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GraderError

MAX_SOURCE_BYTES = 2 * 2**20      # per file
MAX_NOTEBOOK_BYTES = 256 * 2**20  # outputs included: they are read, then ignored
MAGIC_CELLS_KEPT = ("%%time", "%%timeit", "%%capture")
NOTEBOOK_VERSION = 4              # what Jupyter writes; 1–3 are converted by nbformat
# Third-party names a student file should not take (the standard library's come from
# sys.stdlib_module_names). A fixed list, not the installed packages: the same note on every
# machine, and never about a course module that some installed package happens to share.
KNOWN_PACKAGES = {"numpy", "scipy", "pandas", "matplotlib", "sklearn", "torch", "tensorflow", "jax",
                  "transformers", "IPython", "nbformat", "pytest", "yaml", "requests"}
CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]")   # PEP 263


@dataclass
class Submission:
    path: Path
    kind: str                      # "package" | "file" | "notebook"
    files: dict = field(default_factory=dict)    # package: {file name: source bytes}
    cells: list = field(default_factory=list)    # file/notebook: [{"label", "source"}]
    notes: list = field(default_factory=list)    # what was dropped or odd, shown in the report
    # {import key (module name or cell label): message} for what Python cannot compile or the
    # grader could not read. Each message is also in `notes`, so it shows wherever notes do.
    problems: dict = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "package" if self.kind == "package" else "cells"

    def sources(self) -> dict:
        """{label: source text} for the static rules check. What does not compile is left out:
        it holds no import the check could see, and parsing it again could only fail again
        (a too-deeply-nested expression makes `ast.parse` raise RecursionError)."""
        if self.kind == "package":
            return {name[:-3]: data.decode("utf-8", "replace") for name, data in self.files.items()
                    if name[:-3] not in self.problems}
        return {c["label"]: c["source"] for c in self.cells if c["label"] not in self.problems}

    def problem(self, key: str, message: str):
        self.problems[key] = message
        self.notes.append(message)

    def stage(self, package: str):
        """A function that writes the submission into a worker folder and returns the
        request's submission part."""
        def write(folder: Path) -> dict:
            if self.kind == "package":
                target = folder / package
                target.mkdir()
                for name, data in self.files.items():
                    (target / name).write_bytes(data)
                if "__init__.py" not in self.files:
                    (target / "__init__.py").write_text("")
                return {"mode": "package", "cells": []}
            return {"mode": "cells", "cells": self.cells}
        return write


def load_submission(path: Path, package: str) -> Submission:
    path = Path(path)
    try:
        if path.is_symlink() and not path.exists():
            raise GraderError(f"{path}: a broken symbolic link: it points to {os.readlink(path)}, which does not "
                              f"exist. Give the path of the folder or file itself.")
        if not path.exists():
            raise GraderError(f"{path}: no such file or folder{_did_you_mean(path)}. Give a folder of modules, "
                              f"a .py file or a .ipynb notebook.")
        if path.is_dir():
            return load_folder(path, package)
        suffix = path.suffix.lower()
        if suffix in (".py", ".ipynb") and not path.is_file():
            raise GraderError(f"{path}: not a regular file (a pipe or a device?). Give a .py file or a notebook.")
        if suffix == ".py":
            return load_file(path)
        if suffix == ".ipynb":
            return load_notebook(path)
    except OSError as exc:  # permissions, a folder that vanished: the grader's reading, not the student's code
        raise GraderError(f"{exc.filename or path}: cannot read it ({exc.strerror}). Check that it is yours "
                          f"and readable.") from None
    hint = ""
    for real in (".py", ".ipynb"):
        if real + "." in path.name.lower():  # devoir.ipynb.txt: an extension added by a download or an editor
            hint = f" Its name hides the extension {real}: rename it to end with {real}."
    raise GraderError(f"{path}: not a folder, a .py file or a .ipynb notebook.{hint}")


# --- a folder of modules --------------------------------------------------------------------------

def load_folder(path: Path, package: str) -> Submission:
    inner = path / package
    if inner.is_symlink():  # a cloned repository may carry links: never follow one out of the submission
        raise GraderError(f"{inner} is a symbolic link (to {os.readlink(inner)}): the grader reads only real "
                          f"folders and files. Replace it with the folder itself.")
    folder = inner if (inner / "__init__.py").is_file() or inner.is_dir() and any(inner.glob("*.py")) else path
    submission = Submission(folder, "package")
    odd_names, shadowing = [], []
    for file in sorted(folder.glob("*.py")):
        name, module, where = file.name, file.stem, str(file)
        if name.startswith("."):  # macOS "._softmax.py" resource files, editor locks: never the student's code
            continue
        if not module.isidentifier() or keyword.iskeyword(module):
            odd_names.append(name)
        elif module in _module_names_in_use() and not module.startswith("__"):  # __init__, __main__: meant
            shadowing.append(name)
        data = _read_module(submission, file, module, where)
        if data is None:
            continue
        text, note = decode_source(data, where)
        if note:
            submission.notes.append(note)
            data = _as_utf8(text)  # stored as Python will read it
        if name == "__init__.py":
            problem = compile_problem(text, where, "")[0]
            if problem:  # it would break every module: graded without it (an empty one is staged)
                submission.notes.append(problem + f"The modules are graded without {name}.")
                continue
        elif name not in odd_names:
            if not text.strip():
                submission.notes.append(f"{where} is empty: was it saved? Its functions cannot be found.")
            problem, tree = compile_problem(text, where, f"Nothing in {name} can be graded until Python can read "
                                                         f"it; the other modules are graded.")
            if problem:
                submission.problem(module, problem)
            else:
                for function, lines in _defined_more_than_once(tree).items():
                    submission.notes.append(_duplicate_note(function, [(where, line) for line in lines]))
        submission.files[name] = data
    if odd_names:
        submission.notes.append(_odd_names_note(odd_names))
    if shadowing:
        submission.notes.append(_shadowing_note(shadowing))
    if not [n for n in submission.files if n != "__init__.py"]:
        raise GraderError(_no_module_message(folder, submission))
    return submission


def _read_module(submission: Submission, file: Path, module: str, where: str) -> bytes | None:
    """The bytes of one module, or None after recording why it cannot be read (that costs only
    this module: the others are graded)."""
    if file.is_symlink():  # a link may lead anywhere on the grading machine
        submission.problem(module, f"{where} is a symbolic link: the grader reads only real files. "
                                   f"Replace it with a copy of the file it points to.")
    elif file.is_dir():
        submission.problem(module, f"{where} is a folder, not a file: Python cannot import it as the module "
                                   f"{module}. Put your code in a file named {file.name}.")
    elif not file.is_file():
        submission.problem(module, f"{where} is not a regular file (a pipe or a device?). Put your code in "
                                   f"a file named {file.name}.")
    else:
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            submission.problem(module, f"{where}: cannot read it ({exc.strerror}). Check that it is yours "
                                       f"and readable.")
            return None
        if len(data) <= MAX_SOURCE_BYTES:
            return data
        submission.problem(module, f"{where} is larger than {MAX_SOURCE_BYTES // 2**20} MiB, so it was not "
                                   f"read: is this really source code? Keep data out of your modules.")
    return None


def _no_module_message(folder: Path, submission: Submission) -> str:
    """Why a folder gives nothing to import, and where the modules might be instead."""
    if submission.problems:
        return f"{folder}: no Python module could be read. " + " ".join(submission.problems.values())
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        return f"{folder}: cannot list it ({exc.strerror})."
    what = "Put your modules (softmax.py, attention.py, …) in this folder, or give the path of a .py file or a notebook."
    if not entries:
        return f"{folder}: this folder is empty. {what}"
    shown = ", ".join(e.name + ("/" if e.is_dir() else "") for e in entries[:6]) + (", …" if len(entries) > 6 else "")
    hints = []
    notebooks = [e for e in entries if e.suffix.lower() == ".ipynb" and e.is_file()]
    if notebooks:
        hints.append(f"To grade a notebook, give its path: grade {notebooks[0]}.")
    deeper = [p for p in sorted(folder.glob("*/*.py")) + sorted(folder.glob("*/*/*.py"))  # an unzipped archive
              if not any(part.startswith(".") for part in p.relative_to(folder).parts)]  # adds a level or two
    if deeper:
        hints.append(f"The modules seem to be in {deeper[0].parent}: grade that folder.")
    misnamed = [e.name for e in entries if ".py." in e.name.lower() or e.suffix == ".PY"]
    if misnamed:
        hints.append(f"{', '.join(misnamed)}: rename to end with .py.")
    return f"{folder}: no Python module (.py file) here, only {shown}. " + " ".join(hints + [what])


# --- one .py file -----------------------------------------------------------------------------------

def load_file(path: Path) -> Submission:
    with open(path, "rb") as f:
        data = f.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise GraderError(f"{path}: larger than {MAX_SOURCE_BYTES // 2**20} MiB; is this really source code?")
    text, note = decode_source(data, str(path))
    if not text.strip():
        raise GraderError(f"{path}: this file is empty ({len(data)} bytes): was it saved? Write your functions "
                          f"in it, or give the folder of your modules.")
    if text.lstrip().startswith("{") and '"cells"' in text:
        raise GraderError(f"{path}: this is a notebook (JSON) with a .py name: rename it to end with .ipynb.")
    submission = Submission(path, "file", cells=[{"label": path.name, "source": text}])
    if note:
        submission.notes.append(note)
    if path.stem in _module_names_in_use():
        submission.notes.append(_shadowing_note([path.name]))
    problem, tree = compile_problem(text, str(path), f"Nothing in {path.name} can be graded until Python can read it.")
    if problem:
        submission.problem(path.name, problem)
    else:
        for function, lines in _defined_more_than_once(tree).items():
            submission.notes.append(_duplicate_note(function, [(str(path), line) for line in lines]))
    return submission


# --- a notebook -------------------------------------------------------------------------------------

def load_notebook(path: Path) -> Submission:
    """Code cells in order. Outputs are never looked at: they can be huge, and they are not the
    student's code. Read as plain JSON (not validated as a whole), so that one odd cell or a
    stray metadata key does not cost the whole notebook."""
    with open(path, "rb") as f:
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise GraderError(f"{path}: larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB. Clear its outputs (Jupyter: "
                          f"Edit → Clear Outputs of All Cells), save it, and grade it again.")
    reopen = "Open it in Jupyter and save it again, or restore it from .ipynb_checkpoints/."
    if not data.strip():
        raise GraderError(f"{path}: this notebook is empty ({len(data)} bytes): it was not saved completely. {reopen}")
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise GraderError(f"{path}: not UTF-8 text (byte {exc.start}), so not a notebook Jupyter saved. {reopen}") \
            from None
    except json.JSONDecodeError as exc:
        hint = " It looks like Python source: rename it to end with .py." \
            if re.match(r"\s*(import|from|def|#)", data.decode("utf-8", "replace")) else ""
        raise GraderError(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}), so not a "
                          f"notebook: was it saved completely?{hint} {reopen}") from None
    except (RecursionError, MemoryError):
        raise GraderError(f"{path}: its JSON is nested too deeply to be a notebook. {reopen}") from None
    if not isinstance(notebook, dict):
        raise GraderError(f"{path}: valid JSON, but not a notebook (a notebook is a JSON object with \"cells\"). "
                          f"{reopen}")
    cells = _notebook_cells(path, notebook)
    submission = Submission(path, "notebook")
    counts = {}
    definitions = []  # (function, cell label, line), in the order the cells run
    for index, cell in enumerate(cells, start=1):
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        counts[kind] = counts.get(kind, 0) + 1
        if kind != "code":
            continue
        source = cell.get("source") or ""
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)  # the format stores a cell as a list of lines
        if not isinstance(source, str):
            submission.notes.append(f"cell {index}: its source is not text; skipped")
            continue
        if source.lstrip().startswith("%%") and not source.lstrip().startswith(MAGIC_CELLS_KEPT):
            submission.notes.append(f"cell {index}: a {source.split()[0]} cell is not Python; skipped")
            continue
        kept = []
        for line in source.splitlines():
            if line.lstrip().startswith(("%", "!")):
                kept.append("")  # keep line numbers right
            else:
                kept.append(line)
        text = "\n".join(kept)
        if not text.strip():
            continue
        label = f"cell {index}"
        submission.cells.append({"label": label, "source": text})
        problem, tree = compile_problem(text, label, f"Cell {index} is not run until Python can read it; the "
                                                     f"functions of the other cells are graded.")
        if problem:
            submission.problem(label, problem)
        else:
            definitions += [(node.name, label, node.lineno) for node in tree.body
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for function in dict.fromkeys(f for f, _, _ in definitions):
        places = [(label, line) for f, label, line in definitions if f == function]
        if len(places) > 1:
            submission.notes.append(_duplicate_note(function, places))
    if not submission.cells:
        others = ", ".join(f"{n} {k if isinstance(k, str) else 'unknown'}" for k, n in counts.items() if k != "code")
        found = f"its {counts['code']} code cell(s) are empty or not Python" if counts.get("code") else \
            "it has no code cell" + (f", only {others} cell(s)" if others else "")
        raise GraderError(f"{path}: nothing to grade: {found}. Write your functions in code cells (Jupyter: "
                          f"select a cell, then Cell type → Code).")
    return submission


def _notebook_cells(path: Path, notebook: dict) -> list:
    """The cells of a notebook, whatever its format version: 4 is read directly, 1–3 through
    nbformat's converters; anything else is refused with the version it claims."""
    version = notebook.get("nbformat")
    looks_v4 = isinstance(notebook.get("cells"), list)
    fix = ("Its cells look like version 4: set \"nbformat\": 4 (was it edited by hand?), or open it in Jupyter "
           "and save it again." if looks_v4 else "Open it in Jupyter and save it again.")
    if version == NOTEBOOK_VERSION and type(version) is int:
        if not looks_v4:
            raise GraderError(f"{path}: a version-4 notebook without a list of \"cells\". {fix}")
        return notebook["cells"]
    if type(version) is int and 1 <= version < NOTEBOOK_VERSION:
        import nbformat  # old formats only: its converters know them
        try:
            for worksheet in notebook.get("worksheets") or []:  # empty the outputs before converting: never needed
                for cell in worksheet.get("cells") or []:
                    if "outputs" in cell:
                        cell["outputs"] = []
            return nbformat.convert(nbformat.from_dict(notebook), NOTEBOOK_VERSION).cells
        except Exception as exc:  # nbformat raises many kinds on a malformed old notebook
            raise GraderError(f"{path}: it says it is a notebook of format version {version}, but it is not a "
                              f"valid one ({type(exc).__name__}: {str(exc)[:200]}). {fix}") from None
    if version is None:
        raise GraderError(f"{path}: no \"nbformat\" version: not a Jupyter notebook. {fix}")
    raise GraderError(f"{path}: notebook format version {json.dumps(version)[:40]} is unknown (Jupyter writes "
                      f"version {NOTEBOOK_VERSION}). {fix}")


# --- what Python will make of a source --------------------------------------------------------------

def decode_source(data: bytes, where: str) -> tuple[str, str | None]:
    """The text of a source file as Python reads it (UTF-8, or what its first lines declare),
    and a note when the grader had to read it otherwise. Not UTF-8 is graded anyway, with the
    note: a stray « é » from a Windows editor should not cost the exercise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows Notepad's « Unicode »
        return data.decode("utf-16", "replace").lstrip("\ufeff"), (
            f"{where}: saved as UTF-16 text; graded as such, but Python reads source files as UTF-8: "
            f"save it as UTF-8 (your editor's « Save with encoding »).")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).lstrip("\ufeff"), None
    except (SyntaxError, LookupError, UnicodeDecodeError):
        pass
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
        return text, (f"{where}: its encoding declaration (« coding: » on line 1 or 2) is wrong or unknown; "
                      f"graded as UTF-8. Delete that line.")
    except UnicodeDecodeError as exc:
        start = exc.start
    try:
        text = data.decode("cp1252")   # Windows' Latin-1, the likeliest origin
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # never fails
    line = data.count(b"\n", 0, start) + 1
    char = data[start:start + 1].decode("cp1252", "replace")
    return text, (f"{where}, line {line}: not UTF-8 text (byte 0x{data[start]:02X}, « {char} » in Latin-1); "
                  f"graded as Latin-1 (Windows-1252), but Python reads source files as UTF-8: save the file "
                  f"as UTF-8 (your editor's « Save with encoding »).")


def _as_utf8(text: str) -> bytes:
    """`text` as the UTF-8 bytes of a module, without an encoding declaration that would now be wrong."""
    lines = text.split("\n")
    for i in range(min(2, len(lines))):
        if CODING_COOKIE.match(lines[i]):
            lines[i] = "# (encoding declaration dropped: the grader stored this file as UTF-8)"
    return "\n".join(lines).encode("utf-8")


def compile_problem(text: str, where: str, consequence: str) -> tuple[str | None, ast.Module | None]:
    """(why Python cannot compile `text` — what, where, what to do —, None) or (None, its tree).
    Compiling runs nothing; the worker would fail the same way, but could not show the line."""
    if "\0" in text:  # compile() refuses it without saying where
        line = text.count("\n", 0, text.index("\0")) + 1
        return (f"{where}, line {line}: holds a null byte (\\0), which Python refuses in source code. It is "
                f"invisible in most editors: delete and retype that line. {consequence}"), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not the grader's to print
            compile(text, where, "exec", dont_inherit=True)
            return None, ast.parse(text)  # what the rules check and the duplicate check read
    except SyntaxError as exc:  # IndentationError and TabError too
        code = (exc.text or "").strip()
        code = f" — `{code[:80]}{'…' if len(code) > 80 else ''}`" if code else ""
        line = f", line {exc.lineno}" if exc.lineno else ""
        todo = {"TabError": "Indent with spaces only, no tabs.",
                "IndentationError": "Indent each block by 4 spaces, the same way on every line."}.get(
            type(exc).__name__, "Fix this line.")
        return f"{where}{line}: {type(exc).__name__}: {exc.msg}{code}. {todo} {consequence}", None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        return f"{where}: Python cannot compile it: {exc}. {consequence}", None
    except (RecursionError, MemoryError) as exc:  # a compiler limit, not a syntax error
        line = _densest_line(text)
        at = f", line {line}" if line else ""
        return (f"{where}{at}: an expression nested too deeply for Python to compile ({type(exc).__name__}). "
                f"Write it in several steps (intermediate variables, a loop). {consequence}"), None


def _densest_line(text: str) -> int | None:
    """The first line of the statement with the most tokens: where a too-deeply-nested
    expression is, since the compiler's RecursionError or MemoryError gives no line."""
    counts, start, n = {}, None, 0
    skipped = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in skipped:
                continue
            start = start or token.start[0]
            n += 1
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                counts[start], start, n = n, None, 0
    except (tokenize.TokenError, SyntaxError):
        pass  # an unfinished statement: keep what was counted
    if start:
        counts[start] = n
    return max(counts, key=counts.get) if counts else None


# --- remarks ------------------------------------------------------------------------------------------

def _defined_more_than_once(tree: ast.Module) -> dict:
    """{function name: [lines]} for the top-level functions defined twice or more."""
    lines = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.setdefault(node.name, []).append(node.lineno)
    return {name: found for name, found in lines.items() if len(found) > 1}


def _duplicate_note(function: str, places: list) -> str:
    """places: [(file or cell, line)] in the order Python runs them: the last one wins."""
    last_where, last_line = places[-1]
    others = "the other one" if len(places) == 2 else "the others"
    if len({where for where, _ in places}) == 1:
        lines = _and([str(line) for _, line in places])
        times = "twice" if len(places) == 2 else f"{len(places)} times"
        return (f"{last_where}: {function}() is defined {times} (lines {lines}): Python keeps the last "
                f"one (line {last_line}), which is the one graded. Delete {others}.")
    spots = _and([f"{where} (line {line})" for where, line in places])
    return (f"{function}() is defined in {spots}: the last one run ({last_where}, line {last_line}) is the one "
            f"graded. Delete {others}.")


def _odd_names_note(names: list) -> str:
    suggestions = [f"{n} → {m.group()}.py" for n in names if (m := re.match(r"[A-Za-z_]\w*", n[:-3]))]
    return (f"{_and(names)}: not a name Python can import (letters, digits and _ only), so never graded. "
            f"Rename {'it' if len(names) == 1 else 'them'}" + (f" ({', '.join(suggestions)})" if suggestions else "")
            + ".")


def _shadowing_note(names: list) -> str:
    several = len(names) > 1
    return (f"{_and(names)} {'are' if several else 'is'} named like {'modules' if several else 'a module'} of Python "
            f"or of a well-known package ({_and([n[:-3] for n in names])}). Harmless here: the grader never imports "
            f"{'them' if several else 'it'} in place of the real one{'s' if several else ''}. But code run from "
            f"this folder on your computer would get your file for `import {names[0][:-3]}`: rename "
            f"{'them' if several else 'it'} unless that is what you want.")


def _module_names_in_use() -> set:
    return set(sys.stdlib_module_names) | KNOWN_PACKAGES


def _did_you_mean(path: Path) -> str:
    try:
        siblings = [e.name for e in path.parent.iterdir()]
    except OSError:
        return ""
    close = difflib.get_close_matches(path.name, siblings, n=1, cutoff=0.75)
    return f" (did you mean {path.parent / close[0]}?)" if close else ""


def _and(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
