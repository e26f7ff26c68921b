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
from .i18n import t

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
            raise GraderError(t("submission.path.broken_link", path=path, target=os.readlink(path)))
        if not path.exists():
            close = _did_you_mean(path)
            if close:
                raise GraderError(t("submission.path.not_found_close", path=path, close=close))
            raise GraderError(t("submission.path.not_found", path=path))
        if path.is_dir():
            return load_folder(path, package)
        suffix = path.suffix.lower()
        if suffix in (".py", ".ipynb") and not path.is_file():
            raise GraderError(t("submission.path.not_regular", path=path))
        if suffix == ".py":
            return load_file(path)
        if suffix == ".ipynb":
            return load_notebook(path)
    except OSError as exc:  # permissions, a folder that vanished: the grader's reading, not the student's code
        raise GraderError(t("submission.unreadable", path=exc.filename or path, reason=exc.strerror)) from None
    hidden = None
    for real in (".py", ".ipynb"):
        if real + "." in path.name.lower():  # devoir.ipynb.txt: an extension added by a download or an editor
            hidden = real
    if hidden:
        raise GraderError(t("submission.path.hidden_extension", path=path, extension=hidden))
    raise GraderError(t("submission.path.unknown_kind", path=path))


# --- a folder of modules --------------------------------------------------------------------------

def load_folder(path: Path, package: str) -> Submission:
    inner = path / package
    if inner.is_symlink():  # a cloned repository may carry links: never follow one out of the submission
        raise GraderError(t("submission.folder.package_link", path=inner, target=os.readlink(inner)))
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
            problem = compile_problem(text, where, t("submission.consequence.init", name=name))[0]
            if problem:  # it would break every module: graded without it (an empty one is staged)
                submission.notes.append(problem)
                continue
        elif name not in odd_names:
            if not text.strip():
                submission.notes.append(t("submission.folder.empty_module", where=where))
            problem, tree = compile_problem(text, where, t("submission.consequence.module", name=name))
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
        submission.problem(module, t("submission.module.link", where=where))
    elif file.is_dir():
        submission.problem(module, t("submission.module.folder", where=where, module=module, file=file.name))
    elif not file.is_file():
        submission.problem(module, t("submission.module.not_regular", where=where, file=file.name))
    else:
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            submission.problem(module, t("submission.unreadable", path=where, reason=exc.strerror))
            return None
        if len(data) <= MAX_SOURCE_BYTES:
            return data
        submission.problem(module, t("submission.module.too_large", where=where, limit=MAX_SOURCE_BYTES // 2**20))
    return None


def _no_module_message(folder: Path, submission: Submission) -> str:
    """Why a folder gives nothing to import, and where the modules might be instead."""
    if submission.problems:
        return t("submission.folder.none_readable", folder=folder, problems=" ".join(submission.problems.values()))
    try:
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
    except OSError as exc:
        return t("submission.folder.cannot_list", folder=folder, reason=exc.strerror)
    what = t("submission.folder.what_to_do")
    if not entries:
        return t("submission.folder.empty", folder=folder, what=what)
    shown = ", ".join(e.name + ("/" if e.is_dir() else "") for e in entries[:6]) + (", …" if len(entries) > 6 else "")
    hints = []
    notebooks = [e for e in entries if e.suffix.lower() == ".ipynb" and e.is_file()]
    if notebooks:
        hints.append(t("submission.folder.hint_notebook", notebook=notebooks[0]))
    deeper = [p for p in sorted(folder.glob("*/*.py")) + sorted(folder.glob("*/*/*.py"))  # an unzipped archive
              if not any(part.startswith(".") for part in p.relative_to(folder).parts)]  # adds a level or two
    if deeper:
        hints.append(t("submission.folder.hint_deeper", folder=deeper[0].parent))
    misnamed = [e.name for e in entries if ".py." in e.name.lower() or e.suffix == ".PY"]
    if misnamed:
        hints.append(t("submission.folder.hint_misnamed", names=", ".join(misnamed)))
    return t("submission.folder.no_module", folder=folder, shown=shown, hints=" ".join(hints + [what]))


# --- one .py file -----------------------------------------------------------------------------------

def load_file(path: Path) -> Submission:
    with open(path, "rb") as f:
        data = f.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise GraderError(t("submission.file.too_large", path=path, limit=MAX_SOURCE_BYTES // 2**20))
    text, note = decode_source(data, str(path))
    if not text.strip():
        raise GraderError(t("submission.file.empty", path=path, count=len(data)))
    if text.lstrip().startswith("{") and '"cells"' in text:
        raise GraderError(t("submission.file.is_notebook", path=path))
    submission = Submission(path, "file", cells=[{"label": path.name, "source": text}])
    if note:
        submission.notes.append(note)
    if path.stem in _module_names_in_use():
        submission.notes.append(_shadowing_note([path.name]))
    problem, tree = compile_problem(text, str(path), t("submission.consequence.file", name=path.name))
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
        raise GraderError(t("submission.notebook.too_large", path=path, limit=MAX_NOTEBOOK_BYTES // 2**20))
    reopen = t("submission.notebook.reopen")
    if not data.strip():
        raise GraderError(t("submission.notebook.empty", path=path, count=len(data), reopen=reopen))
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise GraderError(t("submission.notebook.not_utf8", path=path, byte=exc.start, reopen=reopen)) from None
    except json.JSONDecodeError as exc:
        fields = dict(path=path, line=exc.lineno, column=exc.colno, reason=exc.msg, reopen=reopen)
        if re.match(r"\s*(import|from|def|#)", data.decode("utf-8", "replace")):
            raise GraderError(t("submission.notebook.bad_json_python", **fields)) from None
        raise GraderError(t("submission.notebook.bad_json", **fields)) from None
    except (RecursionError, MemoryError):
        raise GraderError(t("submission.notebook.too_deep", path=path, reopen=reopen)) from None
    if not isinstance(notebook, dict):
        raise GraderError(t("submission.notebook.not_object", path=path, reopen=reopen))
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
            submission.notes.append(t("submission.notebook.cell_not_text", cell=t("submission.cell", index=index)))
            continue
        if source.lstrip().startswith("%%") and not source.lstrip().startswith(MAGIC_CELLS_KEPT):
            submission.notes.append(t("submission.notebook.cell_magic", cell=t("submission.cell", index=index),
                                      magic=source.split()[0]))
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
        label = t("submission.cell", index=index)
        submission.cells.append({"label": label, "source": text})
        problem, tree = compile_problem(text, label, t("submission.consequence.cell", index=index))
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
        others = ", ".join(f"{n} {k}" if isinstance(k, str) else t("submission.notebook.unknown_cells", count=n)
                           for k, n in counts.items() if k != "code")
        if counts.get("code"):
            raise GraderError(t("submission.notebook.no_code.empty_cells", path=path, count=counts["code"]))
        if others:
            raise GraderError(t("submission.notebook.no_code.other_cells", path=path, others=others))
        raise GraderError(t("submission.notebook.no_code.no_cells", path=path))
    return submission


def _notebook_cells(path: Path, notebook: dict) -> list:
    """The cells of a notebook, whatever its format version: 4 is read directly, 1–3 through
    nbformat's converters; anything else is refused with the version it claims."""
    version = notebook.get("nbformat")
    looks_v4 = isinstance(notebook.get("cells"), list)
    fix = t("submission.notebook.fix_v4") if looks_v4 else t("submission.notebook.fix")
    if version == NOTEBOOK_VERSION and type(version) is int:
        if not looks_v4:
            raise GraderError(t("submission.notebook.v4_without_cells", path=path, fix=fix))
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
            raise GraderError(t("submission.notebook.old_invalid", path=path, version=version,
                                error=f"{type(exc).__name__}: {str(exc)[:200]}", fix=fix)) from None
    if version is None:
        raise GraderError(t("submission.notebook.no_version", path=path, fix=fix))
    raise GraderError(t("submission.notebook.unknown_version", path=path, version=json.dumps(version)[:40],
                        expected=NOTEBOOK_VERSION, fix=fix))


# --- what Python will make of a source --------------------------------------------------------------

def decode_source(data: bytes, where: str) -> tuple[str, str | None]:
    """The text of a source file as Python reads it (UTF-8, or what its first lines declare),
    and a note when the grader had to read it otherwise. Not UTF-8 is graded anyway, with the
    note: a stray « é » from a Windows editor should not cost the exercise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows Notepad's « Unicode »
        return data.decode("utf-16", "replace").lstrip("\ufeff"), t("submission.encoding.utf16", where=where)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).lstrip("\ufeff"), None
    except (SyntaxError, LookupError, UnicodeDecodeError):
        pass
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
        return text, t("submission.encoding.bad_declaration", where=where)
    except UnicodeDecodeError as exc:
        start = exc.start
    try:
        text = data.decode("cp1252")   # Windows' Latin-1, the likeliest origin
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # never fails
    line = data.count(b"\n", 0, start) + 1
    char = data[start:start + 1].decode("cp1252", "replace")
    return text, t("submission.encoding.latin1", location=_at(where, line), byte=data[start], char=char)


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
        return t("submission.compile.null_byte", location=_at(where, line), consequence=consequence), None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are not the grader's to print
            compile(text, where, "exec", dont_inherit=True)
            return None, ast.parse(text)  # what the rules check and the duplicate check read
    except SyntaxError as exc:  # IndentationError and TabError too
        code = (exc.text or "").strip()
        code = f" — `{code[:80]}{'…' if len(code) > 80 else ''}`" if code else ""
        kind = type(exc).__name__
        todo = (t("submission.compile.todo_tabs") if kind == "TabError" else
                t("submission.compile.todo_indent") if kind == "IndentationError" else
                t("submission.compile.todo_fix"))
        # Python's own message (exc.msg) stays as Python wrote it: it is what a search engine knows.
        return t("submission.compile.syntax_error", location=_at(where, exc.lineno), error=kind, message=exc.msg,
                 code=code, todo=todo, consequence=consequence), None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        return t("submission.compile.value_error", where=where, error=exc, consequence=consequence), None
    except (RecursionError, MemoryError) as exc:  # a compiler limit, not a syntax error
        return t("submission.compile.too_deep", location=_at(where, _densest_line(text)), error=type(exc).__name__,
                 consequence=consequence), None


def _at(where: str, line: int | None) -> str:
    """"file, line N" (or the file alone when the line is unknown)."""
    return t("submission.location", where=where, line=line) if line else where


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
    fields = dict(function=function, count=len(places), last_where=last_where, last_line=last_line)
    if len({where for where, _ in places}) == 1:
        lines = _and([str(line) for _, line in places])
        if len(places) == 2:
            return t("submission.duplicate.same_place_twice", lines=lines, **fields)
        return t("submission.duplicate.same_place_many", lines=lines, **fields)
    spots = _and([t("submission.duplicate.spot", where=where, line=line) for where, line in places])
    if len(places) == 2:
        return t("submission.duplicate.places_two", spots=spots, **fields)
    return t("submission.duplicate.places_many", spots=spots, **fields)


def _odd_names_note(names: list) -> str:
    suggestions = [f"{n} → {m.group()}.py" for n in names if (m := re.match(r"[A-Za-z_]\w*", n[:-3]))]
    suggestions = f" ({', '.join(suggestions)})" if suggestions else ""
    return t("submission.odd_names", count=len(names), names=_and(names), suggestions=suggestions)


def _shadowing_note(names: list) -> str:
    return t("submission.shadowing", count=len(names), names=_and(names), modules=_and([n[:-3] for n in names]),
             first=names[0][:-3])


def _module_names_in_use() -> set:
    return set(sys.stdlib_module_names) | KNOWN_PACKAGES


def _did_you_mean(path: Path) -> Path | None:
    """The sibling whose name is closest to `path`'s (a typo), if any."""
    try:
        siblings = [e.name for e in path.parent.iterdir()]
    except OSError:
        return None
    close = difflib.get_close_matches(path.name, siblings, n=1, cutoff=0.75)
    return path.parent / close[0] if close else None


def _and(items: list) -> str:
    """"a, b and c" (French: "a, b et c")."""
    if len(items) == 1:
        return items[0]
    return t("submission.list_and", items=", ".join(items[:-1]), last=items[-1])
