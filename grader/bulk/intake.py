"""Intake for `grade bulk`: turn a folder of a class's submissions into one entry per student.

SUBMISSIONS may be a plain folder (one entry per student), an extracted Moodle "Download all
submissions" export, an extracted Canvas "Download submissions" export, or a mixture: each
entry is classified on its own, by its name. Zips are extracted here, by hand, member by
member, because a submission is hostile (SECURITY.md): an archive may try to write outside its
folder, plant a link, hide behind a password or expand to gigabytes. Whatever is wrong with one
student's entry becomes that entry's `problem`; only a SUBMISSIONS folder that cannot be used
at all is a GraderError.

Nothing here runs or imports student code, and nothing is written outside `work`.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from grader.model.errors import GraderError
from grader.i18n import t
from grader.grading.submission import (MAX_NOTEBOOK_BYTES, census, file_problem, folder_problem, format_size, is_junk,
                         size_problem)

PACKAGE = "exercises"          # the assignment's package (assignment.yaml `package:`)

# --- caps for an untrusted zip -----------------------------------------------------------------
# A submission is a few modules or a notebook: a few hundred KiB. The caps leave room for a
# notebook with plots and stop anything that would fill the disk or take minutes. A folder, a
# file or a group of files is capped by grader/grading/submission.py (MAX_SUBMISSION_BYTES and _FILES,
# below the worker's 64 MiB private copy), from lstat alone, before anything is read or copied.
MAX_ARCHIVE_BYTES = 50 * 2**20   # the .zip itself
MAX_DIRECTORY_BYTES = 2 * 2**20  # its central directory, which zipfile parses whole: ≤ 45,000 entries
MAX_TOTAL_BYTES = 20 * 2**20     # bytes actually decompressed, all members together
MAX_FILE_BYTES = 10 * 2**20      # bytes actually decompressed, one member
MAX_MEMBERS = 500                # files and folders extracted (ignored ones not counted)
MAX_ENTRIES = 5000               # every entry, ignored ones included (a whole .git, __MACOSX)
MAX_RATIO = 100                  # decompressed : compressed, checked once a member passes…
RATIO_FROM_BYTES = 2**20         # …1 MiB: small files of repeated text legitimately compress well
CHUNK = 64 * 2**10
# Archives are never opened recursively: one inside a zip is refused, so that every byte
# extracted has gone through the caps above.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst")

MAX_ID_LENGTH = 64
MAX_DESCENT = 4                  # single-folder levels walked down ("devoir/seance11/…")
MAX_LMS_NAME = 1024              # longer names are never an LMS export's (file systems stop at 255 bytes)
FINGERPRINT_BYTES = 64 * 2**20   # read to fingerprint one entry; past it (an entry refused for its
                                 # size), a file counts as its size and modification time

# Never the student's work: macOS metadata (__MACOSX/, .DS_Store, ._* AppleDouble files), Windows
# thumbnails, caches, and every hidden file or folder (.git, .ipynb_checkpoints, .idea): JUNK_NAMES
# and is_junk, in grader/grading/submission.py (the loader and the size caps leave out the same).

# --- LMS export names --------------------------------------------------------------------------
# Moodle, mod/assign/classes/downloader.php (moodle/moodle; before 4.1 the same code was in
# mod/assign/locallib.php, download_submissions()):
#     $prefix = str_replace('_', ' ', $fullname);
#     $prefix = clean_filename($prefix . '_' . $manager->get_uniqueid_for_user($student->id));
#     downloadasfolders (the default since 3.1):
#         $prefixedfilename = clean_filename($prefix . '_' . $subtype . '_' . $type);
#         $pathfilename = $prefixedfilename . $file->get_filepath() . $zipfilename;
#     otherwise (a single flat folder, Moodle < 3.1 behaviour):
#         clean_filename($prefix . '_' . $subtype . '_' . $type . '_' . $zipfilename)
# so a folder "Firstname Lastname_123456_assignsubmission_file" — with a trailing "_" in
# Moodle 3.1–4.0 (`… . $type . '_'`), without it since 4.1 — or flat files
# "Firstname Lastname_123456_assignsubmission_file_softmax.py". The name has no "_" (Moodle
# turned them into spaces); the number is the participant id; blind marking writes
# "Participant" for the name, team submissions the group's name (and, since 4.1, its id).
# The online text plugin ("assignsubmission_onlinetext") exports onlinetext.html.
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.+)$")

# Canvas, lib/content_zipper.rb (instructure/canvas-lms):
#     users_name = sanitize_user_name(sortable_name)          # "Last, First" → downcased, and
#                                                             # "_<digits>_" collapsed
#     id = anonymize_students? ? "anon_#{submission.anonymous_id}" : submission.user_id
#     filename = sanitize_file_name([users_name, late? ? "LATE" : nil, id].compact.join("_"))
#                                                             # keeps [[:word:]] only
#     full_filename = "#{filename}_#{file.id}_#{sanitize_attachment_filename(display_name)}"
#     text entry / URL: "#{filename}_text.html" / "#{filename}_link.html"
# so "lastnamefirstname_12345_67890_softmax.py", "lastnamefirstname_LATE_12345_67890_x.py",
# "anon_Ab3dE_67890_x.py" (anonymous grading: no name). The attachment id grows with each
# upload. A file uploaded again under the same name is renamed by Canvas,
# Attachment.make_unique_filename: "#{basename}-#{n}#{extname}" with n = 1, 2, … (after 7
# tries, "#{basename}-#{uuid}#{extname}"); the issue instructure/canvas-lms#2406 shows such an
# export ("studenttest_3143_207797_zipsubmission.zip").
CANVAS_ANON_FILE = re.compile(r"^(?:LATE_)?(?P<id>anon_[A-Za-z0-9]+)_(?P<attachment>\d+)_(?P<file>.+)$")
CANVAS_FILE = re.compile(r"^(?P<name>\w+?)(?:_LATE)?_(?P<id>\d+)_(?P<attachment>\d+)_(?P<file>.+)$")
CANVAS_ANON_TEXT = re.compile(r"^(?:LATE_)?(?P<id>anon_[A-Za-z0-9]+)_(?:text|link)\.html$")
CANVAS_TEXT = re.compile(r"^(?P<name>\w+?)(?:_LATE)?_(?P<id>\d+)_(?:text|link)\.html$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CANVAS_RENAMED = re.compile(rf"^(?P<base>.+?)-(?P<n>\d+|{UUID})(?P<ext>(?:\.[A-Za-z][A-Za-z0-9]*)*\.[A-Za-z0-9]*)?$")


@dataclass
class Entry:
    student_id: str        # [A-Za-z0-9._-] only, never empty, unique in the class (ignoring case)
    name: str | None       # the student's display name when the export gives one
    path: Path | None      # what to grade: a folder, a .py or a .ipynb; None if invalid
    source: Path           # the original entry (or first file) in SUBMISSIONS
    origin: str            # "plain" | "moodle" | "canvas"
    problem: str | None    # why it cannot be graded, else None
    fingerprint: str       # sha256 over the graded content (relative paths + bytes, sorted)
    lms_id: str | None = None   # the LMS's own id, parsed once here from the export's names: Moodle's
                                # participant id (blind marking too), Canvas' user id (none when
                                # anonymous); None for a plain entry. The gradebooks and the feedback
                                # zip read it here, never from file names again.


@dataclass
class _Candidate:
    """One student as found in SUBMISSIONS, before anything is read or extracted."""
    natural_id: str
    name: str | None
    origin: str
    source: Path
    entry: Path | None = None                        # a folder or file to grade as it is
    group: list = field(default_factory=list)        # or files to gather: [(name in work, file)]
    problem: str | None = None                       # known from the names alone
    lms_id: str | None = None                        # Entry.lms_id


class _Refused(Exception):
    """A zip refused, with the reason in plain words."""


def discover(submissions: Path, work: Path) -> list[Entry]:
    """One entry per student, sorted by student_id. `work` is an empty folder the caller owns,
    where zips are extracted and Canvas files grouped."""
    submissions, work = Path(submissions), Path(work)
    children = _list_submissions(submissions)
    _check_work(submissions, work)
    candidates = _classify(children)
    ids = _unique_ids(candidates)
    entries = [_prepare(candidate, student_id, work / student_id)
               for candidate, student_id in zip(candidates, ids)]
    return sorted(entries, key=lambda e: e.student_id)


# --- SUBMISSIONS itself ------------------------------------------------------------------------

def _list_submissions(submissions: Path) -> list[Path]:
    if not submissions.exists():
        raise GraderError(t("intake.submissions.not_found", path=submissions))
    if not submissions.is_dir():
        if submissions.suffix.lower() == ".zip":
            raise GraderError(t("intake.submissions.is_zip", path=submissions))
        raise GraderError(t("intake.submissions.not_folder", path=submissions))
    try:
        children = sorted((c for c in submissions.iterdir() if not _is_junk(c.name)), key=lambda c: c.name)
    except OSError as exc:
        raise GraderError(t("intake.submissions.cannot_list", path=submissions, reason=exc.strerror)) from None
    if not children:
        raise GraderError(t("intake.submissions.empty", path=submissions))
    return children


def _check_work(submissions: Path, work: Path):
    """`work` must be empty and apart from SUBMISSIONS: extracted files inside SUBMISSIONS would
    become "students" at the next run, and stale ones in `work` would mix with fresh ones."""
    inside = [os.path.realpath(submissions), os.path.realpath(work)]
    if os.path.commonpath(inside) in inside:
        raise GraderError(t("intake.work.overlaps", work=work, submissions=submissions))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise GraderError(t("intake.work.not_empty", work=work))


_is_junk = is_junk


# --- which student is which ----------------------------------------------------------------------

def _classify(children: list[Path]) -> list[_Candidate]:
    """Decide per entry, by its name: a Moodle folder or flat file, a Canvas file, or a plain
    entry. Entries of one Moodle participant or one Canvas user are gathered into one
    candidate; the order (by name in SUBMISSIONS) is what makes duplicate ids stable."""
    plain, moodle, canvas = [], {}, {}
    for child in children:
        is_folder = child.is_dir() and not child.is_symlink()
        name = child.name
        # An LMS writes neither newlines nor kilobytes into a name: the patterns then never try
        # every "_" of the name against the rest of it (linear, and bounded).
        lms = "\n" not in name and len(name) <= MAX_LMS_NAME
        if lms and is_folder and (m := MOODLE_FOLDER.match(name)):
            moodle.setdefault(m["id"], []).append(("folder", m, child))
        elif lms and not is_folder and (m := MOODLE_FILE.match(name)):
            moodle.setdefault(m["id"], []).append(("file", m, child))
        elif lms and not is_folder and (m := CANVAS_ANON_FILE.match(name) or CANVAS_FILE.match(name)):
            canvas.setdefault(m["id"], []).append(("file", m, child))
        elif lms and not is_folder and (m := CANVAS_ANON_TEXT.match(name) or CANVAS_TEXT.match(name)):
            canvas.setdefault(m["id"], []).append(("text", m, child))
        else:
            stem = name if is_folder else Path(name).stem
            plain.append(_Candidate(_safe_id(stem), None, "plain", child, entry=child))
    candidates = plain + [_moodle_candidate(i, found) for i, found in moodle.items()] + \
        [_canvas_candidate(i, found) for i, found in canvas.items()]
    return sorted(candidates, key=lambda c: c.source.name)


def _moodle_candidate(participant: str, found: list) -> _Candidate:
    """A participant may have one folder per submission plugin: the files one is graded; online
    text (onlinetext.html) is never Python code."""
    name = found[0][1]["name"].strip() or None
    folders = [(m["plugin"], path) for kind, m, path in found if kind == "folder"]
    files = [(m["plugin"], m["file"], path) for kind, m, path in found if kind == "file"]
    code_folders = [path for plugin, path in folders if plugin == "file"]
    code_files = [(file, path) for plugin, file, path in files if plugin == "file"]
    source = code_folders[0] if code_folders else code_files[0][1] if code_files else found[0][2]
    candidate = _Candidate(participant, name, "moodle", source,
                           lms_id=participant if re.fullmatch(r"[0-9]+", participant) else None)
    if len(code_folders) > 1:  # two exports extracted into one folder: which one is current?
        candidate.problem = t("intake.moodle.several_folders", count=len(code_folders), participant=participant,
                              folders=", ".join(p.name for p in code_folders))
    elif code_folders:
        candidate.entry = code_folders[0]
    elif code_files:
        candidate.group = code_files
    else:
        candidate.group = [(path.name, path) for _, path in folders] + [(file, path) for _, file, path in files]
        candidate.problem = t("intake.moodle.online_text")
    return candidate


def _canvas_candidate(user: str, found: list) -> _Candidate:
    name = found[0][1].groupdict().get("name")
    uploads = [(m["file"], int(m["attachment"]), path) for kind, m, path in found if kind == "file"]
    source = min(path for *_, path in uploads) if uploads else found[0][2]
    candidate = _Candidate(_safe_id(user), name, "canvas", source,
                           lms_id=user if re.fullmatch(r"[0-9]+", user) else None)   # "anon_…": no user id
    if not uploads:
        candidate.group = [(path.name, path) for *_, path in found]
        candidate.problem = t("intake.canvas.online_text")
    else:
        candidate.group = _latest_versions(uploads)
    return candidate


def _latest_versions(uploads: list) -> list:
    """Canvas renames a file uploaded again under the same name to softmax-1.py, softmax-2.py:
    keep the highest-numbered version of each file, under its original name (an attachment id
    grows with each upload, so it breaks ties). A file the student really named "part-1.py" is
    taken for a version of part.py: a name with "-" cannot be imported as a module anyway."""
    best = {}
    for file, attachment, path in uploads:
        original, n = file, 0
        if m := CANVAS_RENAMED.match(file):
            original = m["base"] + (m["ext"] or "")
            n = int(m["n"]) if m["n"].isdigit() else 8   # a uuid comes after seven numbers
        key = (n, attachment)
        if original not in best or key > best[original][0]:
            best[original] = (key, path)
    return [(original, path) for original, (_, path) in sorted(best.items())]


def _safe_id(text: str) -> str:
    """Letters, digits, ".", "_" and "-" only: the id names output files and seeds hidden cases.
    Accents are dropped (Zoé → Zoe); a name with nothing left gets a stable hash of itself."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")  # no ".", "..", "-option"
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    if not safe:
        return f"student-{digest}"
    if len(safe) > MAX_ID_LENGTH:
        return f"{safe[:MAX_ID_LENGTH - 9]}-{digest}"
    return safe


def _unique_ids(candidates: list[_Candidate]) -> list[str]:
    """Two entries with the same id (alice.py and alice.zip, Zoé/ and Zoe/, a Moodle participant
    and a Canvas user with the same number): the first in name order keeps the id, the later
    ones get a suffix "-2", "-3", … rather than a problem, so that no submission is silently
    dropped: each is graded and the instructor sees both rows. Ids are compared ignoring case
    (output files on macOS and Windows), and a suffix never takes an id another entry has."""
    natural = {c.natural_id.lower() for c in candidates}
    used, ids, next_suffix = set(), [], {}  # next_suffix: where to go on for a base (linear, not k² for k alike)
    for candidate in candidates:
        base = student_id = candidate.natural_id
        n = next_suffix.get(base.lower(), 2)
        while student_id.lower() in used or (student_id != base and student_id.lower() in natural):
            student_id = f"{base}-{n}"
            n += 1
        next_suffix[base.lower()] = n
        used.add(student_id.lower())
        ids.append(student_id)
    return ids


# --- what to grade -------------------------------------------------------------------------------

def _prepare(candidate: _Candidate, student_id: str, dest: Path) -> Entry:
    path, problem = None, candidate.problem
    if problem is None:
        try:
            path, problem = _gradable(candidate, dest)
        except OSError as exc:  # a permission, a name the filesystem refuses: this student only
            path, problem = None, t("intake.entry.unreadable", path=exc.filename or candidate.source,
                                    reason=exc.strerror)
    if problem:
        path = None
    try:
        fingerprint = _fingerprint(_content(path) if path else _raw_content(candidate))
    except OSError:
        fingerprint = hashlib.sha256(b"unreadable\0" + os.fsencode(candidate.source.name)).hexdigest()
    return Entry(student_id, candidate.name, path, candidate.source, candidate.origin, problem, fingerprint,
                 candidate.lms_id)


def _gradable(candidate: _Candidate, dest: Path) -> tuple[Path | None, str | None]:
    if candidate.group:
        return _gather(candidate.group, dest)
    entry = candidate.entry
    if entry.is_symlink():  # it may point anywhere on the grading machine
        return None, t("intake.entry.link", name=entry.name)
    if entry.is_dir():
        return _resolve_folder(entry, f"{entry.name}/", dest)
    if not entry.is_file():
        return None, t("intake.entry.not_regular", name=entry.name)
    suffix = entry.suffix.lower()
    if suffix in (".py", ".ipynb"):
        problem = file_problem(entry, entry.name)  # its size alone: a 249 MB notebook is never read
        return (None, problem) if problem else (entry, None)
    if suffix == ".zip":
        return _extract_then_resolve(entry, dest)
    return None, t("intake.entry.unknown_kind", name=entry.name)


def _gather(group: list, dest: Path) -> tuple[Path | None, str | None]:
    """Files of one student spread over SUBMISSIONS (Canvas, Moodle's flat layout): copied
    under their original names into the student's own folder in `work`."""
    for _, file in group:
        if file.is_symlink() or not file.is_file():
            return None, t("intake.entry.group_not_regular", name=file.name)
    zips = [file for name, file in group if name.lower().endswith(".zip")]
    if zips and len(group) == 1:
        return _extract_then_resolve(zips[0], dest)
    if zips:
        return None, t("intake.entry.zip_with_files", zip=zips[0].name)
    # measured before anything is copied: a Canvas upload of 5 GB is never written to `work`
    problem = size_problem(t("intake.label.submission"), [(name, file.stat().st_size) for name, file in group])
    if problem:
        return None, problem
    dest.mkdir()
    for name, file in group:
        shutil.copyfile(file, dest / _safe_file_name(name))
    return _resolve_folder(dest, t("intake.label.submission"), None)


def _safe_file_name(name: str) -> str:
    """A name from an export, used as one file name: never a path, never hidden."""
    name = name.replace("/", "_").replace("\\", "_").replace("\0", "_").lstrip(".")
    return name or "file"


def _extract_then_resolve(archive: Path, dest: Path) -> tuple[Path | None, str | None]:
    problem = extract_zip(archive, dest)
    if problem:
        return None, problem
    return _resolve_folder(dest, t("intake.label.zip", name=archive.name), None)


def _resolve_folder(folder: Path, label: str, extract_to: Path | None) -> tuple[Path | None, str | None]:
    """The notebook, the .py or the folder of modules inside `folder`: down any single top
    folder first (a zip of "devoir/"), then an `exercises/` package, modules at the top, or
    one notebook. A folder holding only a zip (Moodle: the student uploaded devoir.zip) is
    extracted into `extract_to` first. Anything ambiguous is a problem, never a guess. A folder
    too large to be graded (its bytes or its files, measured from lstat before anything is
    listed whole) is a problem too."""
    problem = folder_problem(folder, label)
    if problem:
        return None, problem
    top = folder
    for _ in range(MAX_DESCENT):
        dirs, files = _children(folder)
        if len(dirs) == 1 and not files:
            folder = dirs[0]
        else:
            break
    dirs, files = _children(folder)
    package = folder / PACKAGE
    if package in dirs and _modules(package):
        return package, None
    modules = [f for f in files if f.suffix == ".py"]
    notebooks = [f for f in files if f.suffix.lower() == ".ipynb"]
    zips = [f for f in files if f.suffix.lower() == ".zip"]
    where = label if folder == top else t("intake.label.inside", label=label, folder=folder.relative_to(top))
    if zips and (modules or notebooks):
        return None, t("intake.folder.zip_and_python", where=where, zip=zips[0].name)
    if zips:
        if extract_to is None:  # a zip inside an extracted zip is refused before; inside a Canvas group too
            return None, t("intake.folder.nested_archive", where=where, zip=zips[0].name)
        if len(zips) > 1:
            return None, t("intake.folder.several_zips", where=where, count=len(zips),
                           zips=", ".join(z.name for z in zips))
        return _extract_then_resolve(zips[0], extract_to)
    if modules and notebooks:
        return None, t("intake.folder.notebook_and_modules", where=where, notebook=notebooks[0].name,
                       modules=", ".join(m.name for m in modules[:3]))
    if len(notebooks) > 1:
        return None, t("intake.folder.several_notebooks", where=where, count=len(notebooks),
                       notebooks=", ".join(n.name for n in notebooks[:4]))
    if notebooks:
        return notebooks[0], None
    real_modules = [m for m in modules if m.name != "__init__.py"]
    if len(real_modules) == 1 and len(modules) == 1:
        return real_modules[0], None  # one file with every function: graded as a file, like `grade x.py`
    if real_modules:
        return folder, None
    deeper = _packages_below(top)
    if len(deeper) == 1:
        return deeper[0], None
    # Links are named: "empty" would be a puzzle for a folder showing files in a file manager.
    links = sorted(c.name for c in folder.iterdir() if c.is_symlink() and not _is_junk(c.name))
    if not dirs and not files and not links:
        return None, t("intake.folder.empty", where=where)
    found = [d.name + "/" for d in dirs] + [f.name for f in files] + \
        [t("intake.folder.link_item", name=link) for link in links]
    return None, t("intake.folder.no_code", where=where,
                   found=", ".join(found[:6]) + (", …" if len(found) > 6 else ""))


def _packages_below(top: Path) -> list[Path]:
    """`exercises/` packages one or two folders down (a repository: "seance11/exercises/"),
    reached through real folders only: Path.glob would follow a link out of the submission."""
    found, level = [], [top]
    for _ in range(2):
        level = [d for folder in level for d in _children(folder)[0]]
        found += [d / PACKAGE for d in level if _real_dir(d / PACKAGE) and _modules(d / PACKAGE)]
    return found


def _children(folder: Path) -> tuple[list[Path], list[Path]]:
    """Real folders and regular files, junk left out. Links are never followed: the loader
    reports a linked module by name, and a linked folder is simply not the student's."""
    dirs, files = [], []
    for child in sorted(folder.iterdir(), key=lambda c: c.name):
        if _is_junk(child.name) or child.is_symlink():
            continue
        if child.is_dir():
            dirs.append(child)
        elif child.is_file():
            files.append(child)
    return dirs, files


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _modules(folder: Path) -> list[Path]:
    return [f for f in _children(folder)[1] if f.suffix == ".py" and f.name != "__init__.py"]


# --- untrusted zips ------------------------------------------------------------------------------

def extract_zip(archive: Path, dest: Path) -> str | None:
    """Extract `archive` into the new folder `dest`, member by member; return why it was
    refused, in plain words, or None. Nothing is written outside `dest`, and a refused
    archive leaves nothing behind."""
    label = archive.name
    try:
        size = archive.stat().st_size
        if size > MAX_ARCHIVE_BYTES:
            raise _Refused(t("intake.zip.archive_too_large", size=size / 2**20, limit=MAX_ARCHIVE_BYTES // 2**20))
        _check_directory(archive, size)  # before zipfile parses the whole central directory
        with zipfile.ZipFile(archive) as zf:
            members = _checked_members(zf.infolist())
            dest.mkdir()
            _write_members(zf, members, dest, size)
        return None
    except _Refused as exc:
        reason = str(exc)
    except NotImplementedError as exc:  # e.g. Deflate64, written by Windows for large files
        reason = t("intake.zip.compression", error=exc)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, struct.error) as exc:
        reason = t("intake.zip.corrupt", error=exc)
    except OSError as exc:
        reason = t("intake.zip.os_error", error=exc.strerror or exc)
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest, ignore_errors=True)  # our own folder: regular files and folders only
    return t("intake.zip.refused", archive=label, reason=reason)


# The records at the end of a zip (PKWARE's APPNOTE.TXT, 4.3.14–4.3.16), as zipfile reads them.
END = struct.Struct("<4s4H2LH")              # end of central directory: 22 bytes, then a comment
END_SIGNATURE = b"PK\x05\x06"
END64 = struct.Struct("<4sQ2H2L4Q")          # zip64 end of central directory: 56 bytes
END64_SIGNATURE = b"PK\x06\x06"
LOCATOR = struct.Struct("<4sLQL")            # zip64 end of central directory locator: 20 bytes
LOCATOR_SIGNATURE = b"PK\x06\x07"
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")    # a central directory header: 46 bytes, then name, extra, comment
CENTRAL_SIGNATURE = b"PK\x01\x02"


def _check_directory(archive: Path, size: int):
    """Refuse an archive whose central directory is too large, before zipfile reads it:
    zipfile.ZipFile parses the whole directory, whatever count the end record declares. The end
    record is found as zipfile finds it (the last 22 bytes, else the last signature in the last
    64 KiB + 22: a comment may follow it), with its zip64 record when a locator precedes it; its
    entry counts and the directory's size are checked against the caps, then the directory
    itself is read (at most MAX_DIRECTORY_BYTES) and its entries counted, header by header.
    What is malformed is left to zipfile, which says so."""
    with open(archive, "rb") as f:
        end = _end_record(f, size)
        if end is None:
            return
        counts, directory_size, start = end
        if max(counts) > MAX_ENTRIES:
            raise _Refused(t("intake.zip.too_many_entries", count=max(counts), limit=MAX_ENTRIES))
        if directory_size > MAX_DIRECTORY_BYTES:
            raise _Refused(t("intake.zip.directory_too_large", size=format_size(directory_size),
                             limit=format_size(MAX_DIRECTORY_BYTES), entries=MAX_ENTRIES))
        if start < 0:
            return
        f.seek(start)
        directory = f.read(directory_size)
    entries, at = 0, 0
    while at + CENTRAL.size <= len(directory) and directory[at:at + 4] == CENTRAL_SIGNATURE:
        header = CENTRAL.unpack_from(directory, at)
        at += CENTRAL.size + header[12] + header[13] + header[14]  # name, extra field, comment
        entries += 1
    if entries > MAX_ENTRIES:
        raise _Refused(t("intake.zip.too_many_entries", count=entries, limit=MAX_ENTRIES))


def _end_record(f, size: int) -> tuple | None:
    """((entries on this disk, entries in all), directory size, directory start) from the end
    records zipfile would use (zipfile._EndRecData and _EndRecData64), or None if there is none.
    Reads 64 KiB + 98 bytes at most."""
    if size < END.size:
        return None
    f.seek(size - END.size)
    data = f.read(END.size)
    if data[:4] == END_SIGNATURE and data[-2:] == b"\0\0":  # no comment
        location = size - END.size
    else:
        first = max(size - 2**16 - END.size, 0)
        f.seek(first)
        data = f.read()
        at = data.rfind(END_SIGNATURE)
        if at < 0 or len(data) - at < END.size:
            return None
        data, location = data[at:at + END.size], first + at
    _, _, _, this_disk, total, directory_size, _, _ = END.unpack(data)
    before = location - LOCATOR.size - END64.size
    if before >= 0:
        f.seek(before)
        data = f.read(END64.size + LOCATOR.size)
        record, locator = data[:END64.size], data[END64.size:]
        if locator[:4] == LOCATOR_SIGNATURE and record[:4] == END64_SIGNATURE:
            _, _, _, _, _, _, this_disk, total, directory_size, _ = END64.unpack(record)
            return (this_disk, total), directory_size, before - directory_size
    return (this_disk, total), directory_size, location - directory_size


def _checked_members(infos: list) -> list:
    """[(info, parts)] for the members to extract, after refusing the whole archive for any
    member that is unsafe, whatever it is: an ignored one included, since a zip that carries
    such a member is an attack or broken, not a submission."""
    if len(infos) > MAX_ENTRIES:
        raise _Refused(t("intake.zip.too_many_entries", count=len(infos), limit=MAX_ENTRIES))
    members, seen = [], set()
    for info in infos:
        parts = _member_parts(info.filename)
        if info.flag_bits & 0x1:
            raise _Refused(t("intake.zip.encrypted", member=info.filename))
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise _Refused(t("intake.zip.symlink", member=info.filename))
        if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
            raise _Refused(t("intake.zip.special_file", member=info.filename))
        if not parts or any(_is_junk(p) for p in parts):
            continue
        if not info.is_dir() and parts[-1].lower().endswith(ARCHIVE_SUFFIXES):
            raise _Refused(t("intake.zip.nested_archive", member=info.filename))
        key = "/".join(parts).casefold()
        if key in seen and not info.is_dir():
            raise _Refused(t("intake.zip.duplicate_member", member=info.filename))
        seen.add(key)
        members.append((info, parts))
    if len(members) > MAX_MEMBERS:
        raise _Refused(t("intake.zip.too_many_members", count=len(members), limit=MAX_MEMBERS))
    return members


def _member_parts(name: str) -> tuple:
    r"""The member's path as folder names, or a refusal for a path leading out of the folder.
    Backslashes count as separators: zips made on Windows may use them, and "..\..\x" is a
    traversal on a machine that reads them so."""
    path = name.replace("\\", "/")
    if "\0" in path:
        raise _Refused(t("intake.zip.null_byte", member=name))
    if path.startswith("/"):
        raise _Refused(t("intake.zip.absolute_path", member=name))
    if re.match(r"^[A-Za-z]:", path):
        raise _Refused(t("intake.zip.drive_letter", member=name))
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _Refused(t("intake.zip.parent_path", member=name))
    return parts


def _write_members(zf: zipfile.ZipFile, members: list, dest: Path, archive_size: int):
    """Decompress chunk by chunk, counting the bytes actually produced: header sizes are the
    attacker's to write. Files get default permissions (never the archive's modes), are created
    exclusively (never through an existing file or link), and must land inside `dest`."""
    root = os.path.realpath(dest)
    total = 0
    for info, parts in members:
        target = dest.joinpath(*parts)
        if os.path.commonpath([root, os.path.realpath(target)]) != root:
            raise _Refused(t("intake.zip.outside", member=info.filename))
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # What the member's compressed bytes may hold at most: its header, bounded by the file.
        compressed = max(1, min(info.compress_size, archive_size))
        # A notebook is read whole, then parsed: capped while it is decompressed, whatever its
        # header says and however it is stored (a stored member is never a "bomb").
        notebook = parts[-1].lower().endswith(".ipynb")
        written = 0
        with zf.open(info) as source, open(target, "xb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                total += len(chunk)
                if notebook and written > MAX_NOTEBOOK_BYTES:
                    raise _Refused(t("intake.zip.notebook_too_large", member=info.filename,
                                     limit=format_size(MAX_NOTEBOOK_BYTES)))
                if written > MAX_FILE_BYTES:
                    raise _Refused(t("intake.zip.file_too_large", member=info.filename,
                                     limit=MAX_FILE_BYTES // 2**20))
                if total > MAX_TOTAL_BYTES:
                    raise _Refused(t("intake.zip.total_too_large", limit=MAX_TOTAL_BYTES // 2**20))
                if written > RATIO_FROM_BYTES and written > MAX_RATIO * compressed:
                    raise _Refused(t("intake.zip.bomb", member=info.filename, ratio=MAX_RATIO))
                out.write(chunk)


# --- fingerprints --------------------------------------------------------------------------------

def _content(path: Path) -> list:
    """[(relative path, file)] of what is graded: a file alone, or a folder's files (junk and
    caches left out, links listed but never followed, sorted); at most MAX_SUBMISSION_FILES + 1
    of them (a folder holding more is refused, and this is enough to see it change)."""
    if not _real_dir(path):
        return [(path.name, path)]
    found = census(path)
    return sorted((relative, path / relative) for relative, kind, _, _ in found.entries if kind != "dir")


def _raw_content(candidate: _Candidate) -> list:
    """For an entry that cannot be graded: what the student sent, so that a resumed run sees
    when it was fixed."""
    if not candidate.group:
        return _content(candidate.entry if candidate.entry is not None else candidate.source)
    found = []
    for name, item in candidate.group:
        name = _safe_file_name(name)
        if _real_dir(item):  # Moodle's online text folder
            found += [(f"{name}/{relative}", file) for relative, file in _content(item)]
        else:
            found.append((name, item))
    return sorted(found)


def _fingerprint(files: list) -> str:
    """sha256 over "relative path NUL sha256(bytes)" lines, sorted: unambiguous, independent of
    where SUBMISSIONS or `work` are. A link counts as its target's text; a pipe or a device as
    its kind (it is never opened: reading a pipe would wait forever). At most FINGERPRINT_BYTES
    are read: past them (a submission refused for its size), a file counts as its size and
    modification time, which change when it does."""
    total, budget = hashlib.sha256(), FINGERPRINT_BYTES
    for relative, file in sorted(files):
        if file.is_symlink():
            digest = "link:" + os.readlink(file)
        elif file.is_file():
            info = file.stat()
            if info.st_size > budget:
                digest = f"size:{info.st_size}:{info.st_mtime_ns}"
            else:
                budget -= info.st_size
                one = hashlib.sha256()
                with open(file, "rb") as f:
                    while chunk := f.read(CHUNK):
                        one.update(chunk)
                digest = one.hexdigest()
        else:
            digest = "special"
        total.update(relative.encode("utf-8", "surrogateescape") + b"\0" +
                     digest.encode("utf-8", "surrogateescape") + b"\n")
    return total.hexdigest()
