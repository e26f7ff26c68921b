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
import heapq
import io
import itertools
import json
import keyword
import marshal
import math
import os
import re
import stat
import sys
import threading
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading import rules
from grader.model.errors import GraderError
from grader.i18n import language, t
from grader.model.said import Said, listed
from grader.model import truncation

# --- what one submission may hold --------------------------------------------------------------
# Every resource a submission controls is bounded, and checked before the work it bounds: bytes
# and files from lstat before anything is read, a notebook's bytes before it is parsed, its cells
# and their sizes before any Python is compiled. An honest submission of this course is a few
# dozen KiB of code (the reference is 6 KiB, the stubs with their docstrings 40 KiB) and a
# notebook with its plots a few hundred KiB: each cap leaves a wide margin above that. Too large
# is a verdict with the reason (exit status 2; `invalid` in `grade bulk`), never a crash.
MAX_SUBMISSION_BYTES = 32 * 2**20  # a folder, all its files together (the jail's copy is a 64 MiB tmpfs)
MAX_SUBMISSION_FILES = 2000        # files and folders in it, junk (hidden files, caches) left out
MAX_NOTEBOOK_BYTES = 5 * 2**20     # a notebook file, outputs included: read whole, then parsed as JSON
MAX_CELLS = 2000                   # cells of a notebook, of every kind
# Compiling Python costs up to ~900 bytes of memory per byte of source (`a;a;a;…`: measured with
# CPython 3.11's compile() and ast.parse()), so one compiled unit — a module, a .py, a cell — is
# capped at 256 KiB (a ~250 MB peak at worst), and all of them together at 1 MiB (the time).
MAX_SOURCE_BYTES = 256 * 2**10     # one module, one .py file, one notebook cell
MAX_CODE_BYTES = 2**20             # all the modules, or all the cells, together
# CPython's compiler takes time quadratic in the number of functions, classes, lambdas and
# comprehensions of one unit when they look alike (10,000 `def f(): pass`: 5 s; 20,000: 34 s;
# 20,000 distinct functions nested in one: 70 s): they are counted on the parsed tree first.
MAX_DEFINITIONS = 5000             # functions, classes, lambdas, comprehensions (nested ones too), all together
MAX_DUPLICATE_NOTES = 20           # functions defined twice noted one by one; then one line for the rest
MAX_NAMES_SHOWN = 6                # names, lines or places listed in one message, then "…"
MAGIC_CELLS_KEPT = ("%%time", "%%timeit", "%%capture")
NOTEBOOK_VERSION = 4              # what Jupyter writes; 1–3 are converted here (_old_cells)
# Third-party names a student file should not take (the standard library's come from
# sys.stdlib_module_names). A fixed list, not the installed packages: the same note on every
# machine, and never about a course module that some installed package happens to share.
KNOWN_PACKAGES = {"numpy", "scipy", "pandas", "matplotlib", "sklearn", "torch", "tensorflow", "jax",
                  "transformers", "IPython", "nbformat", "pytest", "yaml", "requests"}
CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]")   # PEP 263 (on the first two lines only)
# Never the student's work: macOS metadata (__MACOSX/, .DS_Store, ._* AppleDouble files), Windows
# thumbnails, caches, and every hidden file or folder (.git, .venv, .ipynb_checkpoints, .idea).
JUNK_NAMES = frozenset({"__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"})


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
    # package: {file name: its code, marshalled}, as compile_problem compiled it from these very
    # bytes: staged as the module's .pyc, so that the worker does not compile it again
    compiled: dict = field(default_factory=dict)

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

    def where(self, key: str, package: str):
        """Where module or cell `key` is, for a message: the file, or the cell in its reader's
        language (the key itself is the cell's label in the grading language)."""
        if self.mode == "package":
            return f"{package}/{key}.py"
        index = next((c.get("index") for c in self.cells if c["label"] == key), None)
        return Said("submission.cell", index=index) if index is not None else key

    def problem(self, key: str, message: Said):
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
                    if name in self.compiled:
                        _stage_compiled(target / name, self.compiled[name])
                if "__init__.py" not in self.files:
                    (target / "__init__.py").write_text("")
                return {"mode": "package", "cells": []}
            return {"mode": "cells", "cells": self.cells}
        return write


def _stage_compiled(source: Path, code: bytes):
    """The .pyc the worker's import reads instead of compiling `source` again: a timestamp .pyc
    (the staged file's mtime and size), written by the grader alone. A submission's own
    __pycache__ is never staged (only its .py files are), and a .pyc is only ever the code of
    the bytes staged beside it, compiled here by the grader (optimize=0, as the worker would):
    nothing a student sends can stand in for the source the grader checked."""
    import importlib.util
    if sys.implementation.cache_tag is None:  # an interpreter without .pyc files: the worker compiles
        return
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + bytes(4) + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") \
        + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    target = Path(importlib.util.cache_from_source(str(source)))
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(header + code)


# --- how much a submission holds, from lstat alone ---------------------------------------------------

def is_junk(name: str) -> bool:
    return name in JUNK_NAMES or name.startswith(".")


@dataclass
class Census:
    """What a folder holds, junk left out, links never followed, nothing opened."""
    entries: list       # [(relative posix path, kind, size, mtime_ns)], kind: "file" | "dir" | "link" | "other"
    complete: bool      # False: it holds more than the limit, and the walk stopped there

    @property
    def size(self) -> int:
        return sum(size for _, kind, size, _ in self.entries if kind == "file")

    @property
    def files(self) -> int:
        return sum(1 for _, kind, _, _ in self.entries if kind != "dir")


def census(top: Path, limit: int = MAX_SUBMISSION_FILES) -> Census:
    """Every file and folder under `top` (depth first, each folder's entries sorted by name), at
    most `limit` of them: a folder of a million files costs the first `limit` + 1 only. Iterative
    (no recursion limit on deep trees); an OSError (unreadable, name too long) is the caller's."""
    entries, stack = [], [("", os.fspath(top))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as listing:
            children = list(itertools.islice((e for e in listing if not is_junk(e.name)),
                                             limit + 1 - len(entries)))
        children.sort(key=lambda e: e.name)
        below = []
        for child in children:
            info = child.stat(follow_symlinks=False)
            mode = info.st_mode
            kind = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else \
                "link" if stat.S_ISLNK(mode) else "other"
            relative = prefix + child.name
            entries.append((relative, kind, info.st_size if kind == "file" else 0, info.st_mtime_ns))
            if len(entries) > limit:
                return Census(entries, False)
            if kind == "dir":
                below.append((relative + "/", child.path))
        stack.extend(reversed(below))
    return Census(entries, True)


def folder_problem(top: Path, where) -> str | None:
    """Why the folder `top` is too large to be graded (its files and bytes), or None."""
    found = census(top)
    files = [(name, size) for name, kind, size, _ in found.entries if kind == "file"]
    return size_problem(where, files, found.files, found.complete)


def size_problem(where, files: list, count: int | None = None, complete: bool = True) -> str | None:
    """Why `count` files (and folders), of which `files` [(name, size)], are too many or too
    large together to be graded, or None. `complete`: False when there were more than listed."""
    count = len(files) if count is None else count
    if not complete or count > MAX_SUBMISSION_FILES:
        return t("submission.size.too_many_files", where=where, limit=MAX_SUBMISSION_FILES, largest=_largest(files))
    total = sum(size for _, size in files)
    if total <= MAX_SUBMISSION_BYTES:
        return None
    return t("submission.size.too_large", where=where, size=format_size(total), count=count,
             limit=format_size(MAX_SUBMISSION_BYTES), largest=_largest(files))


def file_problem(path: Path, where, size: int | None = None) -> str | None:
    """Why the file `path` (a .py, a notebook) is too large to be read, from its size alone, or None."""
    size = os.stat(path).st_size if size is None else size
    suffix = path.suffix.lower()
    if suffix == ".ipynb" and size > MAX_NOTEBOOK_BYTES:
        return t("submission.notebook.too_large", path=where, size=format_size(size),
                 limit=format_size(MAX_NOTEBOOK_BYTES))
    if suffix == ".py" and size > MAX_SOURCE_BYTES:
        return t("submission.file.too_large", path=where, size=format_size(size), limit=format_size(MAX_SOURCE_BYTES))
    return size_problem(where, [(path.name, size)], 1)


def _largest(files: list) -> str:
    """The largest files (up to three, each at least a tenth of the first), with their sizes:
    what to remove first."""
    top = heapq.nlargest(3, files, key=lambda item: item[1])
    shown = [(name, size) for name, size in top if size and size * 10 >= top[0][1]]
    return ", ".join(t("submission.size.file", name=name, size=format_size(size)) for name, size in shown) or "-"


def format_size(count: int) -> str:
    """"69 MiB", "256 KiB", "12 bytes": rounded up, so that a size just over a cap never reads
    as the cap itself."""
    for unit, key in ((2**20, "mib"), (2**10, "kib")):
        if count >= unit:
            value = math.ceil(count * 10 / unit) / 10
            if value >= 100:
                value = math.ceil(count / unit)
            text = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
            if language() == "fr":
                text = text.replace(".", ",")
            return t("submission.units.mib" if key == "mib" else "submission.units.kib", value=text)
    return t("submission.units.bytes", count=count)


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
    if inner.is_dir():  # measured before it is searched: a folder of a million files is never listed whole
        _refuse_if(folder_problem(inner, inner))
    folder = inner if (inner / "__init__.py").is_file() or inner.is_dir() and any(inner.glob("*.py")) else path
    if folder != inner:
        _refuse_if(folder_problem(folder, folder))
    submission = Submission(folder, "package")
    odd_names, shadowing, duplicates = [], [], []
    code, budget = 0, _Budget(folder)
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
        code += len(data)
        if code > MAX_CODE_BYTES:  # before compiling one more module
            raise GraderError(t("submission.too_much_code", path=folder, limit=format_size(MAX_CODE_BYTES),
                                unit=format_size(MAX_SOURCE_BYTES)))
        text, note = decode_source(data, where)
        if note:
            submission.notes.append(note)
            data = _as_utf8(text)  # stored as Python will read it
        kept = []
        if name == "__init__.py":
            problem = compile_problem(text, where, Said("submission.consequence.init", name=name), budget, kept)[0]
            if problem:  # it would break every module: graded without it (an empty one is staged)
                submission.notes.append(problem)
                continue
        elif name not in odd_names:
            if not text.strip():
                submission.notes.append(Said("submission.folder.empty_module", where=where))
            problem, functions = compile_problem(text, where, Said("submission.consequence.module", name=name), budget,
                                                 kept)
            if problem:
                submission.problem(module, problem)
            else:
                duplicates += _defined_more_than_once([(function, where, line) for function, line in functions])
        submission.files[name] = data
        if kept:
            submission.compiled[name] = marshal.dumps(kept[0])
    submission.notes += _duplicate_notes(duplicates)
    if odd_names:
        submission.notes.append(_odd_names_note(odd_names))
    if shadowing:
        submission.notes.append(_shadowing_note(shadowing))
    if not [n for n in submission.files if n != "__init__.py"]:
        raise GraderError(_no_module_message(folder, submission))
    return submission


def _refuse_if(problem: str | None):
    if problem:
        raise GraderError(problem)


def _read_module(submission: Submission, file: Path, module: str, where: str) -> bytes | None:
    """The bytes of one module, or None after recording why it cannot be read (that costs only
    this module: the others are graded)."""
    if file.is_symlink():  # a link may lead anywhere on the grading machine
        submission.problem(module, Said("submission.module.link", where=where))
    elif file.is_dir():
        submission.problem(module, Said("submission.module.folder", where=where, module=module, file=file.name))
    elif not file.is_file():
        submission.problem(module, Said("submission.module.not_regular", where=where, file=file.name))
    else:
        try:
            with open(file, "rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            submission.problem(module, Said("submission.unreadable", path=where, reason=exc.strerror))
            return None
        if len(data) <= MAX_SOURCE_BYTES:
            return data
        submission.problem(module, Said("submission.module.too_large", where=where, limit=format_size(MAX_SOURCE_BYTES)))
    return None


def _no_module_message(folder: Path, submission: Submission) -> str:
    """Why a folder gives nothing to import, and where the modules might be instead."""
    if submission.problems:
        return t("submission.folder.none_readable", folder=folder, problems=" ".join(map(str, submission.problems.values())))
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
    _refuse_if(file_problem(path, path))  # its size first: nothing of a 2 GB file is read
    with open(path, "rb") as f:
        data = f.read(MAX_SOURCE_BYTES + 1)  # and never more than the cap, whatever the size said
    _refuse_if(file_problem(path, path, size=len(data)))
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
    problem, functions = compile_problem(text, str(path), t("submission.consequence.file", name=path.name),
                                         _Budget(path))
    if problem:
        submission.problem(path.name, problem)
    else:
        submission.notes += _duplicate_notes(_defined_more_than_once([(f, str(path), line) for f, line in functions]))
    return submission


# --- a notebook -------------------------------------------------------------------------------------

def load_notebook(path: Path) -> Submission:
    """Code cells in order. Outputs are never looked at: they can be huge, and they are not the
    student's code. Read as plain JSON (not validated as a whole), so that one odd cell or a
    stray metadata key does not cost the whole notebook. Bounded at every step, before the step:
    its bytes before it is read (its size) and while it is read (never past the cap), its cells'
    number and sizes before any of them is compiled."""
    _refuse_if(file_problem(path, path))  # its size first: nothing of a 249 MB notebook is read
    with open(path, "rb") as f:
        data = f.read(MAX_NOTEBOOK_BYTES + 1)  # and never more than the cap, whatever the size said
    _refuse_if(file_problem(path, path, size=len(data)))
    reopen = t("submission.notebook.reopen")
    if not data.strip():
        raise GraderError(t("submission.notebook.empty", path=path, count=len(data), reopen=reopen))
    try:  # at most ~30 bytes of objects per byte of JSON ([{},{},…]): ~150 MB at the cap
        notebook = json.loads(data.decode("utf-8-sig"), parse_int=_json_int)
    except UnicodeDecodeError as exc:
        raise GraderError(t("submission.notebook.not_utf8", path=path, byte=exc.start, reopen=reopen)) from None
    except _LongNumber as exc:  # an integer of thousands of digits (_json_int)
        raise GraderError(t("submission.notebook.long_number", path=path, digits=exc.args[0], reopen=reopen)) from None
    except json.JSONDecodeError as exc:
        fields = dict(path=path, line=exc.lineno, column=exc.colno, reason=exc.msg, reopen=reopen)
        if re.match(r"\s*(import|from|def|#)", data[:4096].decode("utf-8", "replace")):
            raise GraderError(t("submission.notebook.bad_json_python", **fields)) from None
        raise GraderError(t("submission.notebook.bad_json", **fields)) from None
    except (RecursionError, MemoryError):
        raise GraderError(t("submission.notebook.too_deep", path=path, reopen=reopen)) from None
    del data
    if not isinstance(notebook, dict):
        raise GraderError(t("submission.notebook.not_object", path=path, reopen=reopen))
    cells = _notebook_cells(path, notebook)
    if len(cells) > MAX_CELLS:
        raise GraderError(t("submission.notebook.too_many_cells", path=path, count=len(cells), limit=MAX_CELLS))
    submission = Submission(path, "notebook")
    counts, code, total = {}, [], 0
    for index, cell in enumerate(cells, start=1):  # first every cell's size: nothing compiled yet
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        kind = kind[:truncation.SETTING] if isinstance(kind, str) else None
        counts[kind] = counts.get(kind, 0) + 1
        if kind != "code":
            continue
        label = t("submission.cell", index=index)  # the cell's key and worker label
        said_label = Said("submission.cell", index=index)  # the cell in a message, in its reader's language
        source = cell.get("source") or ""
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)  # the format stores a cell as a list of lines
        if not isinstance(source, str):
            submission.notes.append(Said("submission.notebook.cell_not_text", cell=said_label))
            continue
        start = source.lstrip()
        if start.startswith("%%") and not start.startswith(MAGIC_CELLS_KEPT):
            submission.notes.append(Said("submission.notebook.cell_magic", cell=said_label, magic=start.split(None, 1)[0][:truncation.SETTING]))
            continue
        # keep line numbers right: a %magic or !shell line becomes an empty line
        text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        if not text.strip():
            continue
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_SOURCE_BYTES:  # never compiled: it costs itself only
            submission.problem(label, Said("submission.notebook.cell_too_large", cell=said_label, size=format_size(size),
                                        limit=format_size(MAX_SOURCE_BYTES)))
            continue
        total += size
        if total > MAX_CODE_BYTES:
            raise GraderError(t("submission.too_much_code", path=path, limit=format_size(MAX_CODE_BYTES),
                                unit=format_size(MAX_SOURCE_BYTES)))
        code.append((index, label, text))
    budget, places = _Budget(path), []  # places: (function, cell label, line), in the order the cells run
    for index, label, text in code:
        submission.cells.append({"label": label, "source": text, "index": index})
        said_label = Said("submission.cell", index=index)
        problem, functions = compile_problem(text, said_label, Said("submission.consequence.cell", index=index), budget)
        if problem:
            submission.problem(label, problem)
        else:
            places += [(function, said_label, line) for function, line in functions]
    submission.notes += _duplicate_notes(_defined_more_than_once(places))
    if not submission.cells:
        if submission.problems:
            raise GraderError(t("submission.notebook.no_code.too_large", path=path,
                                problems=" ".join(map(str, submission.problems.values()))))
        others = ", ".join(f"{n} {k}" if isinstance(k, str) else t("submission.notebook.unknown_cells", count=n)
                           for k, n in itertools.islice(counts.items(), MAX_NAMES_SHOWN) if k != "code")
        if counts.get("code"):
            raise GraderError(t("submission.notebook.no_code.empty_cells", path=path, count=counts["code"]))
        if others:
            raise GraderError(t("submission.notebook.no_code.other_cells", path=path, others=others))
        raise GraderError(t("submission.notebook.no_code.no_cells", path=path))
    return submission


class _LongNumber(ValueError):
    """An integer in a notebook's JSON longer than any a notebook holds."""


def _json_int(text: str) -> int:
    """An integer of the notebook's JSON: converting one of a million digits takes time
    quadratic in them, so none is longer than Python's own default limit (4,300 digits)."""
    if len(text) > 4300:
        raise _LongNumber(len(text))
    return int(text)


def _notebook_cells(path: Path, notebook: dict) -> list:
    """The cells of a notebook, whatever its format version, as version 4 has them: 4 is read
    directly, 1–3 are converted here (what nbformat's converters do to cells, and nothing else:
    nbformat would also copy and validate every output and metadata, at 100 times the notebook's
    size); anything else is refused with the version it claims."""
    version = notebook.get("nbformat")
    looks_v4 = isinstance(notebook.get("cells"), list)
    fix = t("submission.notebook.fix_v4") if looks_v4 else t("submission.notebook.fix")
    if version == NOTEBOOK_VERSION and type(version) is int:
        if not looks_v4:
            raise GraderError(t("submission.notebook.v4_without_cells", path=path, fix=fix))
        return notebook["cells"]
    if type(version) is int and 1 <= version < NOTEBOOK_VERSION:
        try:
            return _old_cells(notebook, version)
        except _OldFormat as exc:
            raise GraderError(t("submission.notebook.old_invalid", path=path, version=version, error=exc,
                                fix=fix)) from None
    if version is None:
        raise GraderError(t("submission.notebook.no_version", path=path, fix=fix))
    raise GraderError(t("submission.notebook.unknown_version", path=path, version=json.dumps(version)[:truncation.SETTING],
                        expected=NOTEBOOK_VERSION, fix=fix))


class _OldFormat(Exception):
    """A notebook of format 1–3 without the structure of its version."""


def _old_cells(notebook: dict, version: int) -> list:
    """Version-4 cells ({"cell_type", "source"}) from a notebook of format 1–3, in order, as
    nbformat's upgrades make them: version 1 keeps its cells at the top ("code" cells with
    "code", "text" cells with "text", nbformat/v2/convert.py); versions 2 and 3 in worksheets,
    code in "input", headings becoming markdown (nbformat/v4/convert.py, upgrade_cell)."""
    if version == 1:
        cells = notebook.get("cells")
        if not isinstance(cells, list):
            raise _OldFormat(t("submission.notebook.old_missing", key="cells"))
    else:
        worksheets = notebook.get("worksheets")
        if not isinstance(worksheets, list) or not all(isinstance(w, dict) for w in worksheets):
            raise _OldFormat(t("submission.notebook.old_missing", key="worksheets"))
        if not all(isinstance(w.get("cells"), list) for w in worksheets):
            raise _OldFormat(t("submission.notebook.old_missing", key="worksheets[].cells"))
        cells = [cell for w in worksheets for cell in w["cells"]]
    if len(cells) > MAX_CELLS:  # refused by the caller, before anything is converted
        return cells
    converted = []
    for cell in cells:
        kind = cell.get("cell_type") if isinstance(cell, dict) else None
        if kind == "code":
            converted.append({"cell_type": "code", "source": cell.get("code" if version == 1 else "input") or ""})
        elif version == 1 and kind == "text":
            converted.append({"cell_type": "markdown", "source": cell.get("text") or ""})
        elif kind == "heading":
            converted.append({"cell_type": "markdown", "source": ""})  # never Python: its text is not needed
        else:
            converted.append(cell)
    return converted


# --- what Python will make of a source --------------------------------------------------------------

def decode_source(data: bytes, where: str) -> tuple[str, Said | None]:
    """The text of a source file as Python reads it (UTF-8, or what its first lines declare),
    and a note when the grader had to read it otherwise. Not UTF-8 is graded anyway, with the
    note: a stray « é » from a Windows editor should not cost the exercise."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows Notepad's « Unicode »
        return data.decode("utf-16", "replace").lstrip("\ufeff"), Said("submission.encoding.utf16", where=where)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).lstrip("\ufeff"), None
    except (SyntaxError, LookupError, UnicodeDecodeError):
        pass
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
        return text, Said("submission.encoding.bad_declaration", where=where)
    except UnicodeDecodeError as exc:
        start = exc.start
    try:
        text = data.decode("cp1252")   # Windows' Latin-1, the likeliest origin
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # never fails
    line = data.count(b"\n", 0, start) + 1
    char = data[start:start + 1].decode("cp1252", "replace")
    return text, Said("submission.encoding.latin1", location=_at(where, line), byte=data[start], char=char)


def _as_utf8(text: str) -> bytes:
    """`text` as the UTF-8 bytes of a module, without an encoding declaration that would now be wrong."""
    lines = text.split("\n")
    for i in range(min(2, len(lines))):
        if CODING_COOKIE.match(lines[i]):
            lines[i] = "# (encoding declaration dropped: the grader stored this file as UTF-8)"
    return "\n".join(lines).encode("utf-8")


_COMPILING = threading.Lock()  # grade bulk grades two students at once in a pool process (threads)


def compile_problem(text: str, where: str | Said, consequence: Said,
                    budget: _Budget | None = None, keep: list | None = None) -> tuple[Said | None, list | None]:
    """(why Python cannot compile `text` — what, where, what to do —, None) or (None, [(name,
    line)] of its top-level functions). Compiling runs nothing; the worker would fail the same
    way, but could not show the line. The tree is parsed first (linear), its code blocks
    counted against the submission's `budget` (GraderError past it), summarised for the rules
    check, and dropped; only then is the text compiled (the code appended to `keep`, if given:
    compiled as the worker's import would, optimize=0 and no __future__ of the grader's)."""
    if "\0" in text:  # compile() refuses it without saying where
        line = text.count("\n", 0, text.index("\0")) + 1
        return Said("submission.compile.null_byte", location=_at(where, line), consequence=consequence), None
    try:
        with _COMPILING, warnings.catch_warnings(record=True) as warned:  # the filters are the process's
            warnings.simplefilter("always")  # SyntaxWarnings are not the grader's to print: recorded only
            tree = ast.parse(text)
            functions = [(node.name, node.lineno) for node in tree.body
                         if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
            summary = rules.summarise(tree)  # what the rules check reads (never parsed again), and the blocks
            if budget is not None:
                budget.spend(summary.blocks)
            try:
                code = compile(tree, str(where), "exec", dont_inherit=True, optimize=0)  # no second parse
            except SyntaxError:  # said again from the text, which gives the error its line of code
                tree = None
                code = compile(text, str(where), "exec", dont_inherit=True, optimize=0)
            del tree
        if keep is not None and not warned:  # a warning: the worker compiles it, and prints it, as before
            keep.append(code)
        rules.remember(text, summary)
        return None, functions
    except SyntaxError as exc:  # IndentationError and TabError too
        code = (exc.text or "").strip()
        code = f" — `{code[:truncation.CODE_LINE]}{'…' if len(code) > truncation.CODE_LINE else ''}`" if code else ""
        kind = type(exc).__name__
        todo = (Said("submission.compile.todo_tabs") if kind == "TabError" else
                Said("submission.compile.todo_indent") if kind == "IndentationError" else
                Said("submission.compile.todo_fix"))
        # Python's own message (exc.msg) stays as Python wrote it: it is what a search engine knows.
        return Said("submission.compile.syntax_error", location=_at(where, exc.lineno), error=kind, message=exc.msg,
                 code=code, todo=todo, consequence=consequence), None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        return Said("submission.compile.value_error", where=where, error=str(exc), consequence=consequence), None
    except (RecursionError, MemoryError) as exc:  # a compiler limit, not a syntax error
        return Said("submission.compile.too_deep", location=_at(where, _densest_line(text)), error=type(exc).__name__,
                 consequence=consequence), None


def _at(where: str, line: int | None) -> str:
    """"file, line N" (or the file alone when the line is unknown)."""
    return Said("submission.location", where=where, line=line) if line else where


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

class _Budget:
    """The code blocks of a whole submission (each function, class, lambda and comprehension,
    nested ones too, makes a code object), counted before each module or cell is compiled."""

    def __init__(self, path):
        self.path, self.count = path, 0

    def spend(self, blocks: int):
        self.count += blocks
        if self.count > MAX_DEFINITIONS:
            raise GraderError(t("submission.too_many_definitions", path=self.path, limit=MAX_DEFINITIONS))


def _defined_more_than_once(places: list) -> list:
    """[(function, [(file or cell, line)])] for the functions of `places` [(function, where,
    line)], in the order they run, defined twice or more: one pass over a dict."""
    found = {}
    for function, where, line in places:
        found.setdefault(function, []).append((where, line))
    return [(function, spots) for function, spots in found.items() if len(spots) > 1]


def _duplicate_notes(duplicates: list) -> list:
    """A note per function defined more than once, the first MAX_DUPLICATE_NOTES of them; then
    one note for the rest."""
    notes = [_duplicate_note(function, places) for function, places in duplicates[:MAX_DUPLICATE_NOTES]]
    rest = duplicates[MAX_DUPLICATE_NOTES:]
    if rest:
        notes.append(Said("submission.duplicate.more", count=len(rest),
                       functions=_and(_shown([f"{function}()" for function, _ in rest]))))
    return notes


def _shown(items: list) -> list:
    """The first items of a long list, then "…": a message never lists thousands of names."""
    return items if len(items) <= MAX_NAMES_SHOWN else [*items[:MAX_NAMES_SHOWN - 1], "…", items[-1]]


def _duplicate_note(function: str, places: list) -> Said:
    """places: [(file or cell, line)] in the order Python runs them: the last one wins."""
    last_where, last_line = places[-1]
    fields = dict(function=function, count=len(places), last_where=last_where, last_line=last_line)
    if len({str(where) for where, _ in places}) == 1:
        lines = _and(_shown([str(line) for _, line in places]))
        if len(places) == 2:
            return Said("submission.duplicate.same_place_twice", lines=lines, **fields)
        return Said("submission.duplicate.same_place_many", lines=lines, **fields)
    spots = _and(_shown([Said("submission.duplicate.spot", where=where, line=line) for where, line in places]))
    if len(places) == 2:
        return Said("submission.duplicate.places_two", spots=spots, **fields)
    return Said("submission.duplicate.places_many", spots=spots, **fields)


def _odd_names_note(names: list) -> Said:
    suggestions = [f"{n} → {m.group()}.py" for n in names[:MAX_NAMES_SHOWN] if (m := re.match(r"[A-Za-z_]\w*", n[:-3]))]
    suggestions = f" ({', '.join(suggestions)})" if suggestions else ""
    return Said("submission.odd_names", count=len(names), names=_and(_shown(names)), suggestions=suggestions)


def _shadowing_note(names: list) -> Said:
    return Said("submission.shadowing", count=len(names), names=_and(_shown(names)),
             modules=_and(_shown([n[:-3] for n in names])), first=names[0][:-3])


def _module_names_in_use() -> set:
    return set(sys.stdlib_module_names) | KNOWN_PACKAGES


def _did_you_mean(path: Path) -> Path | None:
    """The sibling whose name is closest to `path`'s (a typo), if any."""
    try:  # a typo is looked for among a folder's first few thousand names, never a million
        siblings = [e.name for e in itertools.islice(path.parent.iterdir(), MAX_SUBMISSION_FILES)]
    except OSError:
        return None
    close = difflib.get_close_matches(path.name, siblings, n=1, cutoff=0.75)
    return path.parent / close[0] if close else None


def _and(items: list) -> Said:
    """"a, b and c" (French: "a, b et c")."""
    return listed(items)
