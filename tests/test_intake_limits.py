"""The grader survives its students: every resource a submission controls is bounded, linearly,
and checked before the work it bounds; too large is a verdict (exit status 2 for `grade PATH`,
`invalid` with the reason in `grade bulk`), never a crash, a swap storm or a missing student.

Each attack is a real file built in tmp_path, just past its cap (sparse where it is large), through
the public functions (discover, load_submission, extract_zip) and through the real CLI. Peak
memory is measured in a fresh process (resource.getrusage(RUSAGE_CHILDREN) of a wrapper: the
test process's own children would pollute it).
"""
import ast
import csv
import gc
import io
import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from classgen import make_class
from conftest import ROOT, run_grade, solution_folder, write
from grader.bulk import intake
from grader.grading import rules
from grader.model.errors import GraderError
from grader.bulk.intake import MAX_DIRECTORY_BYTES, MAX_ENTRIES, discover, extract_zip
from grader.grading.submission import (MAX_CELLS, MAX_CODE_BYTES, MAX_DEFINITIONS, MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES,
                               MAX_SUBMISSION_BYTES, MAX_SUBMISSION_FILES, census, format_size, load_submission)

SOFTMAX = ("import numpy as np\n\n\ndef softmax(x, axis=-1):\n"
           "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)\n")


def notebook_json(*sources, nbformat_version=4, metadata=None) -> str:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": nbformat_version,
                       "nbformat_minor": 5}, separators=(",", ":"))




def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes that costs no disk: `head`, then a hole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def refused(path, *words) -> str:
    with pytest.raises(GraderError) as caught:
        load_submission(path, "exercises")
    message = str(caught.value)
    for word in words:
        assert word in message, message
    return message


def peak_rss_mb(argv: list, cwd=ROOT) -> tuple:
    """(peak RSS in MB of `argv` and everything it waited for, its exit status, its stderr), in a
    fresh wrapper process."""
    wrapper = textwrap.dedent("""
        import json, resource, subprocess, sys
        done = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps([peak, done.returncode, done.stderr]))
    """)
    out = subprocess.run([sys.executable, "-c", wrapper, json.dumps([str(a) for a in argv])], cwd=cwd,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "GRADE_LANG": "en"})
    return tuple(json.loads(out.stdout))


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    return folder


# --- 1. notebooks: bytes before parsing, cells before compiling ------------------------------------

def test_a_notebook_just_over_the_cap_is_refused_with_its_size(tmp_path):
    path = write(tmp_path / "devoir.ipynb", notebook_json(SOFTMAX, "# " + "x" * MAX_NOTEBOOK_BYTES))
    message = refused(path, f"{format_size(path.stat().st_size)}, more than the 5 MiB a notebook may weigh",
                      "Clear Outputs of All Cells")
    assert message.startswith(str(path))


def test_a_notebook_ten_times_the_cap_is_never_read(tmp_path):
    """50 MiB (sparse): refused from its size, in a process no larger than one refusing an
    empty notebook (reading it would cost 50 MB at least, parsing it ~30 times that)."""
    big = sparse(tmp_path / "big.ipynb", 10 * MAX_NOTEBOOK_BYTES, notebook_json(SOFTMAX).encode()[:-1] + b',"x":"')
    small = write(tmp_path / "small.ipynb", "")
    grade = [sys.executable, "-m", "grader.cli", "--report", tmp_path / "r.html", "--no-color"]
    base, status, _ = peak_rss_mb([*grade, small])
    assert status == 2
    peak, status, stderr = peak_rss_mb([*grade, big])
    assert status == 2 and "50 MiB, more than the 5 MiB a notebook may weigh" in stderr, stderr
    assert peak < base + 25, (peak, base)


def test_a_notebook_at_the_cap_parses_within_a_few_hundred_mb(tmp_path):
    """The worst JSON for memory ([{},{},…]: ~30 bytes of objects per byte), in version 4 and in
    version 3 (converted without nbformat, which copies and validates everything)."""
    meta = notebook_json(SOFTMAX, metadata={"junk": []})
    n = (MAX_NOTEBOOK_BYTES - len(meta)) // 3 - 10
    v4 = write(tmp_path / "v4.ipynb", notebook_json(SOFTMAX, metadata={"junk": [{}] * n}))
    cells = [{"cell_type": "code", "input": SOFTMAX if i == 0 else "x = 1\n", "language": "python", "outputs": [],
              "metadata": {"junk": [{}] * 800}} for i in range(MAX_CELLS)]
    v3 = write(tmp_path / "v3.ipynb", json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                  "worksheets": [{"cells": cells, "metadata": {}}]},
                                                 separators=(",", ":")))
    for path in (v4, v3):
        assert MAX_NOTEBOOK_BYTES * 0.9 < path.stat().st_size <= MAX_NOTEBOOK_BYTES
        code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                f"from grader.grading.submission import load_submission\n"
                f"s = load_submission({str(path)!r}, 'exercises'); assert s.cells, s.notes\n")
        peak, status, stderr = peak_rss_mb([sys.executable, "-c", code])
        assert status == 0, stderr
        assert peak < 400, (path.name, peak)


def test_an_integer_of_thousands_of_digits_in_the_json_is_refused_not_a_traceback(tmp_path):
    """Converting it would take time quadratic in its digits (json.loads's int()); Python's own
    limit would raise a ValueError no handler expected."""
    path = write(tmp_path / "devoir.ipynb", '{"nbformat": ' + "1" * 5000 + ', "cells": []}')
    refused(path, "devoir.ipynb: it holds an integer of 5000 digits, so it is not a notebook Jupyter saved")


def test_too_many_cells_are_refused_before_any_is_compiled(tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr("grader.grading.submission.compile_problem", lambda *a, **k: compiled.append(a) or (None, []))
    path = write(tmp_path / "devoir.ipynb", notebook_json(*["x = 1\n"] * (MAX_CELLS + 1)))
    refused(path, f"{MAX_CELLS + 1} cells, more than the {MAX_CELLS} a notebook may hold")
    cells = [{"cell_type": "code", "input": "x = 1\n", "outputs": []}] * (MAX_CELLS + 1)
    old = write(tmp_path / "old.ipynb", json.dumps({"nbformat": 3, "worksheets": [{"cells": cells}]}))
    refused(old, f"{MAX_CELLS + 1} cells")
    assert not compiled


def test_a_cell_too_large_costs_itself_only_and_is_never_compiled(tmp_path):
    """An 8 MB cell in a 5 MiB notebook is impossible; a 300 KiB one is not: it is skipped with
    the reason, the other cells are graded."""
    big = "x = [" + "1," * (150 * 2**10) + "]\n"
    path = write(tmp_path / "devoir.ipynb", notebook_json(SOFTMAX, big))
    submission, seconds = timed(load_submission, path, "exercises")
    assert [c["label"] for c in submission.cells] == ["cell 1"]
    assert str(submission.problems["cell 2"]) == ("cell 2: 301 KiB of code, more than the 256 KiB a cell may hold, so it is "
                                             "not run. Is data pasted in it? Load it from a file, or compute it.")
    assert seconds < 2
    only = write(tmp_path / "only.ipynb", notebook_json(big))
    refused(only, "only.ipynb: nothing to grade: cell 1: 301 KiB of code")


def test_code_past_one_mib_in_all_is_refused_before_compiling(tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr("grader.grading.submission.compile_problem", lambda *a, **k: compiled.append(a) or (None, []))
    cell = "# " + "x" * (MAX_SOURCE_BYTES - 100) + "\n"
    path = write(tmp_path / "devoir.ipynb", notebook_json(*[cell] * (MAX_CODE_BYTES // MAX_SOURCE_BYTES + 1)))
    refused(path, "more than 1 MiB of Python code in all (at most 256 KiB a module or a cell)")
    assert not compiled
    folder = tmp_path / "modules"
    for i in range(MAX_CODE_BYTES // MAX_SOURCE_BYTES + 1):
        write(folder / f"m{i}.py", cell)
    refused(folder, "more than 1 MiB of Python code in all")


def test_a_py_file_over_its_cap_is_refused_from_its_size(tmp_path):
    path = sparse(tmp_path / "solution.py", 10 * MAX_SOURCE_BYTES, b"x = 1\n")
    refused(path, "solution.py: 2.5 MiB, more than the 256 KiB a .py file may hold")


def test_old_notebooks_are_converted_as_nbformat_does(tmp_path):
    """The hand conversion of versions 1–3 gives the cells nbformat's converters give."""
    from grader.grading.submission import _old_cells
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [
        {"cells": [{"cell_type": "heading", "level": 1, "source": "Séance 11", "metadata": {}},
                   {"cell_type": "markdown", "source": ["Some ", "text"], "metadata": {}},
                   {"cell_type": "code", "input": ["import numpy as np\n", "x = 1"], "language": "python",
                    "outputs": [], "collapsed": False, "metadata": {}},
                   {"cell_type": "raw", "source": "raw", "metadata": {}}], "metadata": {}},
        {"cells": [{"cell_type": "code", "input": SOFTMAX, "language": "python", "outputs": [], "metadata": {}}],
         "metadata": {}}]}
    ours = _old_cells(json.loads(json.dumps(v3)), 3)
    theirs = nbformat.convert(nbformat.from_dict(json.loads(json.dumps(v3))), 4).cells
    assert [c["cell_type"] for c in ours] == [c["cell_type"] for c in theirs]
    def text(source):  # on disk, a source may be a list of lines
        return "".join(source) if isinstance(source, list) else source
    for mine, real in zip(ours, theirs):
        if real["cell_type"] == "code":
            assert text(mine["source"]) == text(real["source"])
    path = write(tmp_path / "v3.ipynb", json.dumps(v3))
    submission = load_submission(path, "exercises")
    assert [(c["label"], c["source"]) for c in submission.cells] == [("cell 3", "import numpy as np\nx = 1"),
                                                                     ("cell 5", SOFTMAX.rstrip("\n"))]


# --- 2. definitions: counted on the tree, before compiling; duplicates in one pass ---------------------

def test_forty_thousand_functions_are_refused_in_seconds(tmp_path):
    """40,000 functions in four cells (each within its 256 KiB): 151 s before (a comparison of
    every pair of definitions), refused now once the first cell is parsed."""
    cells = ["".join(f"def f{c}_{i}():\n    pass\n" for i in range(10_000)) for c in range(4)]
    path = write(tmp_path / "devoir.ipynb", notebook_json(*cells))
    message, seconds = timed(refused, path, f"more than {MAX_DEFINITIONS} functions, classes, lambdas and "
                                            "comprehensions (nested ones included)")
    assert seconds < 5, seconds
    classes = write(tmp_path / "classes.py", "".join(f"class C{i}:\n    pass\n" for i in range(MAX_DEFINITIONS + 1)))
    refused(classes, f"more than {MAX_DEFINITIONS} functions")


def test_look_alike_blocks_are_counted_before_compile_which_is_quadratic_in_them(tmp_path, monkeypatch):
    """CPython's compile() takes 34 s on 20,000 `def f(): pass` (70 s nested in one function):
    past the cap, compile() is never called."""
    real = compile
    calls = []

    def counting(source, filename, mode, flags=0, *rest, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse calls compile() too: that one is linear
            calls.append(filename)
        return real(source, filename, mode, flags, *rest, **kwargs)
    monkeypatch.setattr("builtins.compile", counting)
    shapes = {"same.py": "def f():\n    pass\n" * (MAX_DEFINITIONS + 1),
              "nested.py": "def g():\n" + "".join(f"    def f{i}():\n        pass\n" for i in range(MAX_DEFINITIONS)),
              "lambdas.py": "f = lambda: 0\n" * (MAX_DEFINITIONS + 1),
              "comprehensions.py": "x = [i for i in y]\n" * (MAX_DEFINITIONS + 1)}
    for name, source in shapes.items():
        path = write(tmp_path / name, source)
        refused(path, f"more than {MAX_DEFINITIONS} functions")
    assert not calls
    at_cap = write(tmp_path / "at_cap.py", "def g():\n" + "".join(f"    def f{i}():\n        pass\n"
                                                               for i in range(MAX_DEFINITIONS - 2)))
    _, seconds = timed(load_submission, at_cap, "exercises")
    assert seconds < 10


def test_duplicates_are_found_in_one_pass_and_noted_briefly(tmp_path):
    """2,000 cells defining softmax() and 30 other functions twice: one short note each (the
    first 20 functions), and one note for the rest."""
    cells = [f"def f{i % 31}():\n    pass\n" for i in range(62)] + ["def softmax(x):\n    return x\n"] * (MAX_CELLS - 62)
    path = write(tmp_path / "devoir.ipynb", notebook_json(*cells))
    submission, seconds = timed(load_submission, path, "exercises")
    assert seconds < 5
    notes = [str(n) for n in submission.notes if "defined" in str(n)]
    assert len(notes) == 21 and len("".join(notes)) < 6000
    assert notes[-1] == "12 more functions are defined more than once: f20(), f21(), f22(), f23(), f24(), … and softmax()."
    assert "f0() is defined in cell 1 (line 1) and cell 32 (line 1)" in notes[0]


# --- 3. zips: the end record read by hand, before zipfile parses the directory ---------------------

def zip_of_empty_entries(path: Path, n: int, declared: int | None = None, zip64: bool = False) -> Path:
    """A zip of `n` empty stored entries, built by hand (fast); the end record may lie about
    their number, in a zip64 end record too."""
    local, central = bytearray(), bytearray()
    for i in range(n):
        name = b"f%d.py" % i
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0,
                               0, len(local)) + name
        local += header + name
    count = n if declared is None else declared
    data = bytes(local) + bytes(central)
    if zip64:
        at = len(data)
        data += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), len(local))
        data += struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
        data += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        data += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(central),
                            len(local), 0)
    return write(path, data)


@pytest.mark.parametrize("zip64", [False, True])
def test_a_zip_lying_about_its_entry_count_is_refused_before_zipfile_parses_it(tmp_path, monkeypatch, zip64):
    """The end record says 10 entries; the directory holds 20,000 (zipfile would parse them all,
    then refuse: 11 s and 270 MB for 570,000)."""
    monkeypatch.setattr(intake.zipfile, "ZipFile", lambda *a, **k: pytest.fail("zipfile parsed the directory"))
    path = zip_of_empty_entries(tmp_path / "liar.zip", 20_000, declared=10, zip64=zip64)
    problem, seconds = timed(extract_zip, path, tmp_path / "out")
    assert problem == f"liar.zip was refused: it holds 20000 entries, more than the {MAX_ENTRIES} allowed."
    assert seconds < 1 and not (tmp_path / "out").exists()
    declared = zip_of_empty_entries(tmp_path / "declared.zip", 20, declared=MAX_ENTRIES + 1, zip64=zip64)
    assert f"it holds {MAX_ENTRIES + 1} entries" in extract_zip(declared, tmp_path / "out")


def test_a_central_directory_larger_than_its_cap_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(intake.zipfile, "ZipFile", lambda *a, **k: pytest.fail("zipfile parsed the directory"))
    n = MAX_DIRECTORY_BYTES // 50 + 1000  # ~46 bytes an entry, past the 2 MiB cap
    path = zip_of_empty_entries(tmp_path / "long.zip", n, declared=10)
    problem = extract_zip(path, tmp_path / "out")
    assert re.search(r"its central directory \(the list of its entries\) is 2\.\d MiB, more than the 2 MiB "
                     r"allowed \(at most 5000 entries\)", problem), problem


def test_honest_zips_with_a_comment_or_zip64_records_still_extract(tmp_path):
    with zipfile.ZipFile(tmp_path / "comment.zip", "w") as z:
        z.writestr("devoir/softmax.py", SOFTMAX)
        z.comment = b"x" * 60_000 + b"PK"  # the end record is not in the last 22 bytes
    assert extract_zip(tmp_path / "comment.zip", tmp_path / "a") is None
    assert (tmp_path / "a" / "devoir" / "softmax.py").read_text() == SOFTMAX
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        with z.open("softmax.py", "w", force_zip64=True) as f:
            f.write(SOFTMAX.encode())
    write(tmp_path / "z64.zip", buffer.getvalue())
    assert extract_zip(tmp_path / "z64.zip", tmp_path / "b") is None
    assert extract_zip(zip_of_empty_entries(tmp_path / "many.zip", 400, zip64=True), tmp_path / "c") is None


def test_a_stored_notebook_past_its_cap_is_refused_while_it_is_extracted(tmp_path, subs):
    """A stored zip is never a "bomb", and 6 MiB is within the 10 MiB a member may hold: the
    notebook's own cap stops the extraction, with headers that tell the truth or lie."""
    data = notebook_json(SOFTMAX, "# " + "x" * (6 * 2**20)).encode()
    for name, declared in (("honest.zip", None), ("liar.zip", 1000), ("bigger.zip", 2**31 - 1)):
        path = subs / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            z.writestr("devoir.ipynb", data)
        if declared is not None:
            raw = bytearray(path.read_bytes())
            for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
                struct.pack_into("<I", raw, raw.find(signature) + at, declared)
            path.write_bytes(raw)
    entries = {e.student_id: e for e in discover(subs, subs.parent / "work")}
    assert "'devoir.ipynb' is a notebook of more than 5 MiB: clear its outputs" in entries["honest"].problem
    assert "'devoir.ipynb' is a notebook of more than 5 MiB" in entries["bigger"].problem
    assert "not a readable zip" in entries["liar"].problem  # zipfile reads 1000 bytes, then the CRC fails
    assert all(e.path is None for e in entries.values())
    assert not any((subs.parent / "work").rglob("*.ipynb"))


# --- 4. oversized submissions: invalid from lstat, before anything is read or copied ----------------

def oversized_folder(target: Path, data_bytes: int = 40 * 2**20) -> Path:
    solution_folder(target / "exercises")
    sparse(target / "exercises" / "data.npy", data_bytes, b"\x93NUMPY")
    return target


def test_an_oversized_folder_is_invalid_with_its_size_and_largest_file(tmp_path, subs):
    oversized_folder(subs / "huge")
    write(subs / "alice.py", SOFTMAX)
    e = {x.student_id: x for x in discover(subs, tmp_path / "work")}
    assert e["huge"].path is None
    found = census(subs / "huge")
    assert e["huge"].problem == (f"huge/ holds {format_size(found.size)} in {found.files} files; at most 32 MiB are "
                                 f"graded: remove data files (the largest: exercises/data.npy 40 MiB). Code and a notebook "
                                 f"weigh a few hundred KiB.")
    assert format_size(found.size) == "40.1 MiB"  # rounded up: never the cap itself for a size past it
    assert e["alice"].problem is None


def test_more_files_than_the_cap_is_invalid_and_never_listed_whole(tmp_path, subs):
    crowd = subs / "crowd" / "exercises"
    write(crowd / "softmax.py", SOFTMAX)
    for i in range(MAX_SUBMISSION_FILES + 500):
        (crowd / f"x{i:05d}.txt").touch()
    (crowd / ".git").mkdir()  # hidden: not counted, never walked
    found = census(subs / "crowd")
    assert not found.complete and len(found.entries) == MAX_SUBMISSION_FILES + 1
    e = discover(subs, tmp_path / "work")[0]
    assert e.path is None and f"crowd/ holds more than {MAX_SUBMISSION_FILES} files and folders" in e.problem
    refused(crowd, f"holds more than {MAX_SUBMISSION_FILES} files and folders")


def test_oversized_entries_of_every_kind_are_invalid_and_their_fingerprint_reads_nothing(tmp_path, subs):
    """A plain notebook, a Moodle folder, a Canvas upload (never copied), a 10 GiB sparse file:
    each invalid with its size, each fingerprinted from its size and time, not its bytes."""
    sparse(subs / "nina.ipynb", 6 * 2**20, b"{")
    moodle = subs / "Marc Dupont_123456_assignsubmission_file_"
    oversized_folder(moodle / "devoir")
    write(subs / "dupontjean_12345_67890_softmax.py", SOFTMAX)
    sparse(subs / "dupontjean_12345_67891_weights.npy", 33 * 2**20)
    sparse(subs / "giant.py", 10 * 2**30, b"x = 1\n")
    started = time.monotonic()
    e = {x.student_id: x for x in discover(subs, tmp_path / "work")}
    assert time.monotonic() - started < 5  # hashing 10 GiB would take far longer
    assert e["nina"].problem == ("nina.ipynb: 6 MiB, more than the 5 MiB a notebook may weigh. Clear its outputs "
                                 "(Jupyter: Edit → Clear Outputs of All Cells), save it, and grade it again.")
    assert e["123456"].problem.startswith("Marc Dupont_123456_assignsubmission_file_/ holds 40.1 MiB in ")
    assert e["12345"].problem.startswith("the submission holds 33.1 MiB in 2 files; at most 32 MiB are graded")
    assert "weights.npy 33 MiB" in e["12345"].problem
    assert not (tmp_path / "work" / "12345").exists()  # refused before a byte was copied
    assert e["giant"].problem.startswith("giant.py: 10240 MiB, more than the 256 KiB a .py file may hold")
    again = {x.student_id: x.fingerprint for x in discover(subs, tmp_path / "work2")}
    assert again == {k: x.fingerprint for k, x in e.items()}
    os.utime(subs / "giant.py", ns=(1, 1))  # a change the size-and-time fingerprint sees
    assert {x.student_id: x.fingerprint for x in discover(subs, tmp_path / "work3")}["giant"] != e["giant"].fingerprint


def test_grade_path_on_an_oversized_folder_exits_2_with_the_reason(tmp_path):
    folder = oversized_folder(tmp_path / "mine", 10 * MAX_SUBMISSION_BYTES) / "exercises"
    proc = run_grade(folder, "--report", tmp_path / "r.html", "--no-color")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith(f"grade: error: {folder} holds 321 MiB in ")
    assert "at most 32 MiB are graded: remove data files (the largest: data.npy 320 MiB)" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0


def test_grade_bulk_lists_an_oversized_student_as_invalid_in_every_class_file(tmp_path):
    """Before: « the worker's sandbox could not be set up (None) … Set GRADE_ISOLATION=process »
    and that student disappeared from every class file."""
    subs = tmp_path / "submissions"
    expected = make_class(subs, 2, {"correct": 1.0}, seed=3, naming="plain-folders")
    oversized_folder(subs / "huge", 70 * 2**20)
    out = tmp_path / "out"
    proc = run_grade("bulk", subs, "--out", out, "-j", "2", "--quiet", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    results = {json.loads(line)["student"]["id"]: json.loads(line)
               for line in (out / "results.jsonl").read_text().splitlines()}
    assert set(results) == set(expected) | {"huge"}
    assert results["huge"]["status"] == "invalid" and results["huge"]["score"] == 0
    assert results["huge"]["notes"][0].startswith("huge/ holds 70.1 MiB in ")
    assert "data.npy 70 MiB" in results["huge"]["notes"][0]
    for sid in expected:
        assert results[sid]["status"] == "ok" and results[sid]["score"] == pytest.approx(100), results[sid]["notes"]
    with open(out / "gradebook.csv", encoding="utf-8-sig") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert rows["huge"]["status"] == "invalid" and {rows[s]["status"] for s in expected} == {"ok"}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "reports/huge.html" in index and "huge/ holds 70.1 MiB" in index
    assert (out / "reports" / "huge.html").is_file()


# --- 5. linear over student-controlled text --------------------------------------------------------

def scaling(function, make, small=10_000, large=40_000) -> float:
    """How much longer `function(make(large))` takes than `function(make(small))` (best of 7):
    about large/small when linear (4 by default), its square when quadratic. Each measure repeats
    the call until it lasts a few milliseconds (as many characters in all for both sizes): a call
    of some microseconds is below what a busy machine's scheduling lets one measure."""
    def each(text, count):
        return min(timed(lambda: [function(text) for _ in range(count)])[1] for _ in range(7)) / count

    small_text = make(small)
    count = 1
    while count < 1000 and timed(lambda: [function(small_text) for _ in range(count)])[1] < 0.003:
        count *= 2
    gc.disable()  # a collection in one run only would look like a quadratic step
    try:
        return each(make(large), max(1, count * small // large)) / max(each(small_text, count), 1e-9)
    finally:
        gc.enable()


@pytest.mark.parametrize("pattern,make", [
    ("MOODLE_FOLDER", lambda n: "x" + "_1_assignsubmission_f" * (n // 21) + "!"),
    ("MOODLE_FILE", lambda n: "x" + "_1_assignsubmission_f" * (n // 21) + "!"),
    ("CANVAS_FILE", lambda n: "x" + "_1_2" * (n // 4) + "!"),
    ("CANVAS_TEXT", lambda n: "x" + "_1" * (n // 2) + "!"),
    ("CANVAS_ANON_FILE", lambda n: "anon_x" + "_1_2" * (n // 4) + "!"),
    ("CANVAS_RENAMED", lambda n: "x" + "-1.a" * (n // 4) + "-"),
])
def test_the_name_patterns_are_linear(pattern, make):
    """What they are given: a name without a newline (the only character "." skips), at most
    MAX_LMS_NAME long; longer ones or ones with a newline are plain entries, never matched."""
    assert scaling(getattr(intake, pattern).match, make) < 10


def test_names_with_a_newline_are_plain_entries(subs, tmp_path):
    write(subs / "x_1_assignsubmission_file_a\nb.py", SOFTMAX)
    e = discover(subs, tmp_path / "work")[0]
    assert e.origin == "plain" and e.problem is None


def test_the_rules_check_parses_each_source_once(monkeypatch):
    """A cell importing torch under 10,000 names, asked about by every other cell: one parse,
    at most MAX_VIOLATIONS lines named, and every later question a lookup."""
    parsed = []
    real = rules.ast.parse
    monkeypatch.setattr(rules.ast, "parse", lambda text, *a: parsed.append(len(text)) or real(text, *a))
    source = "".join(f"import torch as t{i}\n" for i in range(10_000)) + "def softmax(x):\n    return t7.exp(x)\n"
    found, seconds = timed(rules.find_forbidden_imports, "cell 1", source, ["torch"])
    assert len(found) == rules.MAX_VIOLATIONS and seconds < 5
    assert found[0][0].line == 1 and found[0][2] == "t0"
    for i in range(2000):
        assert rules.functions_using(source, "t7") == {"softmax"}
    assert rules.call_graph({"cell 1": source}, ["softmax"]) == {"softmax": set()}
    assert len(parsed) == 1
    # 8 times the text: 8 when linear, 64 when quadratic (a wide gap: a loaded machine's noise
    # and the cache misses of a large tree stretch a linear ratio, never to 24)
    assert scaling(lambda s: rules.summarise(real(s)), lambda n: "def f():\n" + "    a = b + c\n" * n,
                   small=2_500, large=20_000) < 24


def test_users_anywhere_is_one_pass_and_agrees_with_functions_using():
    sources = {f"cell {i}": f"import torch as t{i % 7}\ndef f{i}(x):\n    return t{i % 7}.exp(x) + g(x)\n"
               for i in range(2000)}
    index, seconds = timed(rules.users_anywhere, sources)
    assert seconds < 2
    for alias in ("t0", "t6", "g", "nothing"):
        assert index.get(alias, set()) == set().union(*(rules.functions_using(s, alias) for s in sources.values()))
    assert index["t3"] == {f"f{i}" for i in range(3, 2000, 7)}


def test_the_rules_summary_finds_what_the_old_walk_found():
    source = textwrap.dedent("""
        import numpy as np, torch.nn as nn
        from scipy.special import softmax as sm
        def softmax(x):
            import jax
            return sm(x) + nn.f(jax.numpy.exp(x))
        def attention(q):
            return __import__("tensorflow").f(softmax(q))
        class Helper:
            def dot_product(self):
                return np.dot
    """)
    found = rules.find_forbidden_imports("cell 1", source, ["torch", "scipy.special", "jax", "tensorflow"])
    assert [(v.line, v.name, users, alias) for v, users, alias in found] == [
        (2, "torch.nn", ["softmax"], "nn"), (3, "scipy.special", ["softmax"], "sm"), (5, "jax", ["softmax"], "jax"),
        (8, "tensorflow", ["attention"], None)]
    assert rules.call_graph({"c": source}, ["softmax", "attention", "dot_product"]) == \
        {"softmax": set(), "attention": {"softmax"}, "dot_product": set()}


def test_many_entries_with_the_same_id_get_their_suffixes_in_linear_time(tmp_path):
    """5,000 entries that all become "alice" (alice!, alice!!, …): each gets the next suffix, not
    a walk from -2 (12.5 million tries before)."""
    candidates = [intake._Candidate("alice", None, "plain", tmp_path / f"alice{'!' * i}") for i in range(5000)]
    ids, seconds = timed(intake._unique_ids, candidates)
    assert ids[:3] == ["alice", "alice-2", "alice-3"] and ids[-1] == "alice-5000" and len(set(ids)) == 5000
    assert seconds < 1
