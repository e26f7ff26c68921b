"""Intake for bulk grading (grader/bulk/intake.py): plain folders, Moodle and Canvas exports, and
hostile zips, over real files built in tmp_path."""
import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from conftest import write

pytestmark = pytest.mark.same_on_every_backend("reading a class's submissions happens before any worker runs")
from grader.model.errors import GraderError
from grader.bulk.intake import MAX_MEMBERS, discover
from grader.grading.submission import load_submission

SOFTMAX = ("import numpy as np\n\n\ndef softmax(x, axis=-1):\n"
           "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n    return e / e.sum(axis=axis, keepdims=True)\n")
ATTENTION = "def scaled_dot_product_attention(q, k, v, mask=None):\n    return v\n"
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def notebook(source=SOFTMAX) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                  "source": source}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})




def make_zip(path: Path, members: dict, compression=zipfile.ZIP_DEFLATED) -> Path:
    """members: {name or ZipInfo-building (name, mode): data}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            if isinstance(name, tuple):  # (name, st_mode): a link, a device…
                info = zipfile.ZipInfo(name[0])
                info.external_attr = name[1] << 16
                zf.writestr(info, data)
            else:
                zf.writestr(name, data)
    return path


def by_id(entries):
    return {e.student_id: e for e in entries}


def tree(root: Path, skip: Path | None = None) -> dict:
    """{relative path: sha256 or 'dir'/'link'} of everything under root, except `skip`."""
    found = {}
    for folder, dirs, files in os.walk(root):
        if skip is not None and Path(folder) == skip:
            dirs[:] = []
            continue
        for name in dirs + files:
            p = Path(folder, name)
            if skip is not None and p == skip:
                continue
            rel = p.relative_to(root).as_posix()
            found[rel] = "link" if p.is_symlink() else "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return found


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    return folder


@pytest.fixture
def work(tmp_path):
    return tmp_path / "work"


# --- plain entries -------------------------------------------------------------------------------

def test_plain_folder_py_ipynb_and_zip(subs, work):
    write(subs / "alice" / "softmax.py", SOFTMAX)
    write(subs / "alice" / "attention.py", ATTENTION)
    write(subs / "bob.py", SOFTMAX + ATTENTION)
    write(subs / "carol.ipynb", notebook())
    make_zip(subs / "dave.zip", {"devoir/exercises/__init__.py": "", "devoir/exercises/softmax.py": SOFTMAX,
                                 "devoir/exercises/attention.py": ATTENTION, "devoir/README.md": "hi",
                                 "__MACOSX/devoir/._softmax.py": b"\x00\x05junk", "devoir/.DS_Store": b"x"})
    write(subs / ".DS_Store", b"finder")
    entries = discover(subs, work)
    assert [e.student_id for e in entries] == ["alice", "bob", "carol", "dave"]
    e = by_id(entries)
    assert all(x.origin == "plain" and x.problem is None and x.name is None for x in entries)
    assert e["alice"].path == subs / "alice" and e["alice"].source == subs / "alice"
    assert e["bob"].path == subs / "bob.py"
    assert e["carol"].path == subs / "carol.ipynb"
    assert e["dave"].path == work / "dave" / "devoir" / "exercises" and e["dave"].source == subs / "dave.zip"
    assert not (work / "dave" / "__MACOSX").exists() and not (work / "dave" / "devoir" / ".DS_Store").exists()
    assert load_submission(e["alice"].path, "exercises").kind == "package"
    assert load_submission(e["bob"].path, "exercises").kind == "file"
    assert load_submission(e["carol"].path, "exercises").kind == "notebook"
    assert sorted(load_submission(e["dave"].path, "exercises").files) == ["__init__.py", "attention.py", "softmax.py"]


def test_plain_folder_shapes(subs, work):
    write(subs / "erin" / "exercises" / "softmax.py", SOFTMAX)            # an exercises/ package
    write(subs / "erin" / "notes.txt", "todo")
    write(subs / "frank" / "seance11" / "devoir" / "softmax.py", SOFTMAX)  # single folders: walked down
    write(subs / "frank" / "seance11" / "devoir" / "attention.py", ATTENTION)
    make_zip(subs / "gina" / "rendu.zip", {"solution.py": SOFTMAX})       # a folder holding only a zip
    write(subs / "gina" / "rapport.pdf", b"%PDF")
    write(subs / "hugo" / "a.ipynb", notebook())                          # ambiguous: two notebooks
    write(subs / "hugo" / "b.ipynb", notebook())
    write(subs / "ines" / "devoir.ipynb", notebook())                      # ambiguous: notebook and modules
    write(subs / "ines" / "softmax.py", SOFTMAX)
    write(subs / "jules" / "README.md", "nothing")                         # nothing to grade
    write(subs / "kim.pdf", b"%PDF-1.4")                                   # not a submission type
    (subs / "leo").symlink_to("/etc")                                      # a link out of SUBMISSIONS
    e = by_id(discover(subs, work))
    assert e["erin"].path == subs / "erin" / "exercises"
    assert e["frank"].path == subs / "frank" / "seance11" / "devoir"
    assert e["gina"].path == work / "gina" / "solution.py"
    assert "2 notebooks" in e["hugo"].problem and e["hugo"].path is None
    assert "both a notebook" in e["ines"].problem
    assert "no .py module and no notebook" in e["jules"].problem and "README.md" in e["jules"].problem
    assert "not a folder, a .py, a .ipynb or a .zip" in e["kim"].problem
    assert "symbolic link" in e["leo"].problem and e["leo"].path is None


# --- Moodle ------------------------------------------------------------------------------------

def test_moodle_export(subs, work):
    write(subs / "Jean Dupont_123456_assignsubmission_file_" / "softmax.py", SOFTMAX)
    write(subs / "Jean Dupont_123456_assignsubmission_file_" / "attention.py", ATTENTION)
    make_zip(subs / "Marie Curie_234567_assignsubmission_file_" / "devoir.zip",
             {"devoir/": b"", "devoir/exercises/softmax.py": SOFTMAX, "devoir/exercises/attention.py": ATTENTION})
    write(subs / "Ada Lovelace_345678_assignsubmission_file_" / "seance11.ipynb", notebook())
    (subs / "Alan Turing_456789_assignsubmission_file_").mkdir()
    # Moodle 4.1+: no trailing "_"; a second plugin folder of the same participant is merged.
    write(subs / "Grace Hopper_567890_assignsubmission_file" / "solution.py", SOFTMAX)
    write(subs / "Grace Hopper_567890_assignsubmission_onlinetext" / "onlinetext.html", "<p>see file</p>")
    write(subs / "Emmy Noether_678901_assignsubmission_onlinetext_" / "onlinetext.html", "<p>def f(): …</p>")
    entries = discover(subs, work)
    assert [e.student_id for e in entries] == ["123456", "234567", "345678", "456789", "567890", "678901"]
    e = by_id(entries)
    assert all(x.origin == "moodle" for x in entries)
    assert e["123456"].name == "Jean Dupont" and e["123456"].problem is None
    assert e["123456"].path == subs / "Jean Dupont_123456_assignsubmission_file_"
    assert e["234567"].name == "Marie Curie" and e["234567"].path == work / "234567" / "devoir" / "exercises"
    assert e["345678"].path.name == "seance11.ipynb"
    assert e["456789"].path is None and "empty" in e["456789"].problem and e["456789"].name == "Alan Turing"
    assert e["567890"].path == subs / "Grace Hopper_567890_assignsubmission_file" / "solution.py"
    assert e["567890"].source == subs / "Grace Hopper_567890_assignsubmission_file"
    assert "online text" in e["678901"].problem and e["678901"].path is None
    assert load_submission(e["234567"].path, "exercises").kind == "package"


def test_moodle_flat_files(subs, work):
    """downloadasfolders off: every file in one folder, prefixed with the participant."""
    write(subs / "Jean Dupont_123456_assignsubmission_file_softmax.py", SOFTMAX)
    write(subs / "Jean Dupont_123456_assignsubmission_file_attention.py", ATTENTION)
    write(subs / "Participant_7654321_assignsubmission_file_devoir.ipynb", notebook())  # blind marking
    e = by_id(discover(subs, work))
    assert e["123456"].path == work / "123456" and e["123456"].origin == "moodle"
    assert sorted(p.name for p in (work / "123456").iterdir()) == ["attention.py", "softmax.py"]
    assert e["7654321"].path == work / "7654321" / "devoir.ipynb"


# --- Canvas ------------------------------------------------------------------------------------

def test_canvas_export(subs, work):
    write(subs / "dupontjean_12345_67890_softmax.py", "# v0\n" + SOFTMAX)
    write(subs / "dupontjean_12345_67950_softmax-1.py", "# v1\n" + SOFTMAX)
    write(subs / "dupontjean_12345_67990_softmax-2.py", "# v2\n" + SOFTMAX)
    write(subs / "dupontjean_12345_67891_attention.py", ATTENTION)
    write(subs / "curiemarie_LATE_23456_70000_attention.py", ATTENTION)
    write(subs / "lovelaceada_34567_70001_devoir.ipynb", notebook())
    make_zip(subs / "turingalan_45678_70002_rendu.zip", {"rendu/softmax.py": SOFTMAX, "rendu/attention.py": ATTENTION})
    write(subs / "hoppergrace_56789_text.html", "<p>my answer</p>")
    write(subs / "anon_Xy12Z_70003_solution.py", SOFTMAX)
    write(subs / "noetheremmy_LATE_67890_70004_devoir-1.ipynb", notebook())
    entries = discover(subs, work)
    assert [e.student_id for e in entries] == ["12345", "23456", "34567", "45678", "56789", "67890", "anon_Xy12Z"]
    e = by_id(entries)
    assert all(x.origin == "canvas" for x in entries)
    jean = e["12345"]
    assert jean.name == "dupontjean" and jean.path == work / "12345" and jean.problem is None
    assert jean.source == subs / "dupontjean_12345_67890_softmax.py"  # the first of its files, by name
    assert sorted(p.name for p in jean.path.iterdir()) == ["attention.py", "softmax.py"]
    assert (jean.path / "softmax.py").read_text().startswith("# v2")  # the highest-numbered version
    assert e["23456"].name == "curiemarie" and e["23456"].path == work / "23456" / "attention.py"  # LATE
    assert e["34567"].path == work / "34567" / "devoir.ipynb"
    assert e["45678"].path == work / "45678" / "rendu"
    assert "online text or a link" in e["56789"].problem and e["56789"].name == "hoppergrace"
    assert e["anon_Xy12Z"].name is None and e["anon_Xy12Z"].path.name == "solution.py"
    assert e["67890"].path == work / "67890" / "devoir.ipynb"  # -1 removed
    assert load_submission(jean.path, "exercises").kind == "package"
    assert load_submission(e["23456"].path, "exercises").kind == "file"


def test_mixture_is_decided_per_entry(subs, work):
    write(subs / "Jean Dupont_123456_assignsubmission_file_" / "softmax.py", SOFTMAX)
    write(subs / "curiemarie_23456_70000_softmax.py", SOFTMAX)
    write(subs / "alice" / "softmax.py", SOFTMAX)
    write(subs / "bob.py", SOFTMAX)
    write(subs / "carol_final.py", SOFTMAX)  # underscores alone do not make a Canvas name
    e = by_id(discover(subs, work))
    assert {k: v.origin for k, v in e.items()} == {"123456": "moodle", "23456": "canvas", "alice": "plain",
                                                   "bob": "plain", "carol_final": "plain"}
    assert all(v.problem is None for v in e.values())


# --- hostile zips --------------------------------------------------------------------------------

def set_encrypted_flag(path: Path):
    """Mark every member encrypted by hand (bit 0 of the general purpose flags), in the local
    headers and the central directory: zipfile cannot write encrypted archives."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + offset] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(data)


def inner_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("softmax.py", SOFTMAX)
    return buffer.getvalue()


def attack_members(kind: str, tmp_path: Path) -> dict:
    ok = {"softmax.py": SOFTMAX}
    return {
        "traversal": {**ok, "../../evil.py": "pwned = True\n"},
        "backslash-traversal": {**ok, "..\\..\\evil.py": "pwned = True\n"},
        "absolute": {**ok, str(tmp_path / "outside" / "evil.py"): "pwned = True\n"},
        "drive-letter": {**ok, "C:/Windows/evil.py": "pwned = True\n"},
        "symlink": {**ok, ("secret.py", stat.S_IFLNK | 0o777): "/etc/passwd"},
        "device": {**ok, ("null.py", stat.S_IFCHR | 0o666): ""},
        "nested-zip": {**ok, "more/inner.zip": inner_zip()},
        "nested-tar": {**ok, "data.tar.gz": b"\x1f\x8b\x08\x00"},
        "ratio-bomb": {**ok, "bomb.py": b"0" * (5 * 2**20)},
        "too-many-files": {f"m{i}.py": "x = 1\n" for i in range(MAX_MEMBERS + 1)},
        "too-large-total": {**ok, **{f"data{i}.bin": os.urandom(8 * 2**20) for i in range(3)}},
        "too-large-file": {**ok, "weights.bin": os.urandom(11 * 2**20)},
    }[kind]


ATTACKS = {  # kind: words the problem must hold
    "traversal": "going up with ../",
    "backslash-traversal": "going up with ../",
    "absolute": "absolute path",
    "drive-letter": "drive letter",
    "symlink": "symbolic link",
    "device": "device or special file",
    "encrypted": "password-protected",
    "nested-zip": "another archive",
    "nested-tar": "another archive",
    "ratio-bomb": "zip bomb",
    "too-many-files": f"more than the {MAX_MEMBERS} allowed",
    "too-large-total": "in total",
    "too-large-file": "the limit for one file",
    "corrupt": "not a readable zip",
    "truncated": "not a readable zip",
}


def build_attack(kind: str, target: Path, tmp_path: Path):
    if kind == "corrupt":
        write(target, b"PK\x03\x04 this is not really a zip")
    elif kind == "truncated":
        make_zip(target, {"softmax.py": SOFTMAX, "attention.py": ATTENTION})
        data = target.read_bytes()
        target.write_bytes(data[:len(data) // 2])  # the central directory is gone
    elif kind == "encrypted":
        make_zip(target, {"softmax.py": SOFTMAX}, zipfile.ZIP_STORED)
        set_encrypted_flag(target)
    else:
        compression = zipfile.ZIP_STORED if kind.startswith("too-large") else zipfile.ZIP_DEFLATED
        make_zip(target, attack_members(kind, tmp_path), compression)


# Every attack through a plain zip; a sample through a zip in a Moodle folder and a Canvas upload.
CASES = [("plain", kind) for kind in sorted(ATTACKS)] + \
    [(layout, kind) for layout in ("moodle", "canvas") for kind in ("traversal", "symlink", "ratio-bomb", "encrypted")]


@pytest.mark.parametrize("layout,kind", CASES)
def test_hostile_zip_is_refused_and_the_class_goes_on(layout, kind, tmp_path, subs, work):
    target = {"plain": subs / "mallory.zip",
              "moodle": subs / "Mal Lory_666666_assignsubmission_file_" / "rendu.zip",
              "canvas": subs / "lorymal_666666_99999_rendu.zip"}[layout]
    build_attack(kind, target, tmp_path)
    write(subs / "alice.py", SOFTMAX)
    make_zip(subs / "bob.zip", {"bob/softmax.py": SOFTMAX})
    before = tree(tmp_path, skip=work)
    entries = discover(subs, work)
    e = by_id(entries)
    bad = e["mallory" if layout == "plain" else "666666"]
    assert bad.path is None and ATTACKS[kind] in bad.problem, bad.problem
    assert "rendu.zip" in bad.problem or "mallory.zip" in bad.problem
    assert e["alice"].problem is None and e["bob"].problem is None and e["bob"].path == work / "bob" / "bob" / "softmax.py"
    assert tree(tmp_path, skip=work) == before  # nothing written outside `work`, SUBMISSIONS untouched
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "outside").exists()
    assert not (work / bad.student_id).exists()  # a refused archive leaves nothing behind
    assert re.fullmatch(r"[0-9a-f]{64}", bad.fingerprint)


def lie_about_size(path: Path, member: bytes, declared: int):
    """Rewrite a member's uncompressed size in its local header and central directory entry."""
    data = bytearray(path.read_bytes())
    for signature, size_at, name_length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_length_at)[0]
            if bytes(data[at + name_at:at + name_at + length]) == member:
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    path.write_bytes(data)


@pytest.mark.parametrize("declared,reason", [(10, "not a readable zip"), (2**31 - 1, "zip bomb")])
def test_header_sizes_are_not_trusted(declared, reason, subs, work):
    """A bomb whose headers claim 10 bytes, or 2 GiB: the bytes actually decompressed decide."""
    target = make_zip(subs / "liar.zip", {"softmax.py": SOFTMAX, "bomb.py": b"0" * (5 * 2**20)})
    lie_about_size(target, b"bomb.py", declared)
    liar = discover(subs, work)[0]
    assert liar.path is None and reason in liar.problem
    assert not (work / "liar").exists()


def test_package_search_never_goes_through_a_link(tmp_path, subs, work):
    write(tmp_path / "course" / "exercises" / "softmax.py", "# the instructor's\n")
    write(subs / "alice" / "repo" / "seance11" / "exercises" / "softmax.py", SOFTMAX)  # found two levels down
    write(subs / "alice" / "README.md", "my work")
    write(subs / "bob" / "README.md", "nothing here")
    (subs / "bob" / "x").symlink_to(tmp_path / "course")
    e = by_id(discover(subs, work))
    assert e["alice"].path == subs / "alice" / "repo" / "seance11" / "exercises"
    assert e["bob"].path is None and "x (a symbolic link, never followed)" in e["bob"].problem


def test_links_only_folder_says_so(tmp_path, subs, work):
    (subs / "alice").mkdir()
    (subs / "alice" / "exercises").symlink_to(tmp_path)
    alice = discover(subs, work)[0]
    assert alice.path is None and "exercises (a symbolic link, never followed)" in alice.problem


def test_zip_with_backslash_folders_and_unicode_names_extracts(subs, work):
    make_zip(subs / "zoe.zip", {"devoir\\exercises\\softmax.py": SOFTMAX, "devoir\\exercises\\attention.py": ATTENTION,
                                "devoir/notes-é.txt": "ok"})
    e = by_id(discover(subs, work))
    assert e["zoe"].path == work / "zoe" / "devoir" / "exercises"
    assert sorted(p.name for p in e["zoe"].path.iterdir()) == ["attention.py", "softmax.py"]


def test_hidden_and_macos_members_are_not_extracted_nor_counted(subs, work):
    members = {"softmax.py": SOFTMAX, **{f".git/objects/{i:03d}": b"x" for i in range(MAX_MEMBERS + 10)},
               "__MACOSX/._softmax.py": b"\x00", "._softmax.py": b"\x00"}
    make_zip(subs / "repo.zip", members)
    e = by_id(discover(subs, work))
    assert e["repo"].path == work / "repo" / "softmax.py"
    assert sorted(p.name for p in (work / "repo").iterdir()) == ["softmax.py"]


# --- fingerprints --------------------------------------------------------------------------------

def class_folder(subs: Path):
    write(subs / "alice" / "softmax.py", SOFTMAX)
    write(subs / "alice" / "attention.py", ATTENTION)
    write(subs / "bob.ipynb", notebook())
    make_zip(subs / "carol.zip", {"carol/exercises/softmax.py": SOFTMAX})
    write(subs / "dupontjean_12345_67890_softmax.py", SOFTMAX)
    write(subs / "dupontjean_12345_67891_softmax-1.py", SOFTMAX + "# v1\n")
    (subs / "Alan Turing_456789_assignsubmission_file_").mkdir()


def test_fingerprints_are_stable_and_follow_content(tmp_path, subs):
    class_folder(subs)
    first = {e.student_id: e.fingerprint for e in discover(subs, tmp_path / "w1")}
    assert {e.student_id: e.fingerprint for e in discover(subs, tmp_path / "w2")} == first
    moved = tmp_path / "elsewhere" / "class"  # independent of where the folders are
    moved.parent.mkdir()
    subs.rename(moved)
    assert {e.student_id: e.fingerprint for e in discover(moved, tmp_path / "w3")} == first
    assert len(set(first.values())) == len(first)

    (moved / "alice" / "softmax.py").write_text(SOFTMAX + "# changed\n")
    make_zip(moved / "carol.zip", {"carol/exercises/softmax.py": SOFTMAX + "\n"})
    write(moved / "dupontjean_12345_67899_softmax-2.py", SOFTMAX + "# v2\n")
    write(moved / "Alan Turing_456789_assignsubmission_file_" / "softmax.py", SOFTMAX)  # fixed
    (moved / "alice" / "notes.txt").touch()  # not graded? it is in the folder: it counts
    after = {e.student_id: e.fingerprint for e in discover(moved, tmp_path / "w4")}
    changed = {k for k in first if after[k] != first[k]}
    assert changed == {"alice", "carol", "12345", "456789"}


def test_fingerprint_never_follows_links(tmp_path, subs, work):
    secret = write(tmp_path / "secret.txt", "one")
    write(subs / "alice" / "softmax.py", SOFTMAX)
    (subs / "alice" / "leak.py").symlink_to(secret)
    (subs / "alice" / "etc").symlink_to("/etc")
    first = discover(subs, work)[0].fingerprint
    secret.write_text("two")
    assert discover(subs, tmp_path / "w2")[0].fingerprint == first


# --- ids -----------------------------------------------------------------------------------------

def test_ids_are_safe_unique_and_stable(tmp_path, subs):
    for name in ["Zoé.py", "Zoe.py", "alice.py", "alice.ipynb", "alice-2.py", "日本語.py", "-rf.py",
                 "my file (final).py", "a" * 100 + ".py", "...py"]:
        write(subs / name, SOFTMAX)
    write(subs / "Alice" / "softmax.py", SOFTMAX)
    write(subs / "12345.py", SOFTMAX)                       # collides with the Canvas user 12345
    write(subs / "dupontjean_12345_67890_softmax.py", SOFTMAX)
    entries = discover(subs, tmp_path / "w1")
    ids = [e.student_id for e in entries]
    assert all(SAFE_ID.match(i) and i not in (".", "..") and not i.startswith(("-", ".")) for i in ids)
    assert len({i.lower() for i in ids}) == len(ids)
    assert all(len(i) <= 64 for i in ids)
    assert ids == sorted(ids)
    sources = {e.source.name: e.student_id for e in entries}
    assert sources["Zoe.py"] == "Zoe" and sources["Zoé.py"] == "Zoe-2"
    # name order: "Alice" < "alice-2.py" < "alice.ipynb" < "alice.py"; a suffix never takes a natural id
    assert (sources["Alice"], sources["alice-2.py"], sources["alice.ipynb"], sources["alice.py"]) == \
        ("Alice", "alice-2", "alice-3", "alice-4")
    assert sources["12345.py"] == "12345" and sources["dupontjean_12345_67890_softmax.py"] == "12345-2"
    assert sources["-rf.py"] == "rf" and sources["my file (final).py"] == "my_file_final"
    assert sources["日本語.py"].startswith("student-")
    assert [e.student_id for e in discover(subs, tmp_path / "w2")] == ids


# --- SUBMISSIONS and work themselves -------------------------------------------------------------

def test_unusable_submissions_folder_is_a_grader_error(tmp_path):
    with pytest.raises(GraderError, match="no such folder"):
        discover(tmp_path / "missing", tmp_path / "w")
    with pytest.raises(GraderError, match="not a folder"):
        discover(write(tmp_path / "list.txt", "x"), tmp_path / "w")
    with pytest.raises(GraderError, match="extract it first"):
        discover(make_zip(tmp_path / "export.zip", {"a.py": ""}), tmp_path / "w")
    empty = tmp_path / "empty"
    write(empty / ".DS_Store", b"x")
    (empty / "__MACOSX").mkdir()
    with pytest.raises(GraderError, match="holds no submission"):
        discover(empty, tmp_path / "w")


def test_work_must_be_empty_and_apart(tmp_path, subs):
    write(subs / "alice.py", SOFTMAX)
    write(tmp_path / "busy" / "old.txt", "x")
    with pytest.raises(GraderError, match="not empty"):
        discover(subs, tmp_path / "busy")
    with pytest.raises(GraderError, match="overlap"):
        discover(subs, subs / "work")
    assert not (subs / "work").exists()


# --- in French (instructor-facing: "vous" or neutral) ---------------------------------------------------



def test_refusals_and_reasons_in_french(french, tmp_path, subs, work):
    make_zip(subs / "mallory.zip", {"softmax.py": SOFTMAX, "../../evil.py": "pwned = True\n"})
    write(subs / "hugo" / "a.ipynb", notebook())
    write(subs / "hugo" / "b.ipynb", notebook())
    write(subs / "kim.pdf", b"%PDF-1.4")
    e = by_id(discover(subs, work))
    assert e["mallory"].problem == ("mallory.zip a été refusé : il contient un chemin qui remonte avec ../ "
                                    "('../../evil.py'), qui écrirait hors de son dossier.")
    assert e["hugo"].problem == ("hugo/ contient 2 notebooks (a.ipynb, b.ipynb) : lequel est le rendu ? "
                                 "N'en gardez qu'un.")
    assert e["kim"].problem.startswith("kim.pdf n'est ni un dossier, ni un .py, ni un .ipynb, ni un .zip")
    write(tmp_path / "busy" / "old.txt", "x")
    with pytest.raises(GraderError, match="Le dossier de travail .* n'est pas vide : donnez un dossier vide"):
        discover(subs, tmp_path / "busy")
