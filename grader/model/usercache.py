"""The user's cache folder: what a run derives from files that rarely change — the assignment
file validated and parsed, the message catalogs, the public-cases file decoded — so that the
next run reads one small file instead of importing jsonschema and YAML and parsing them again.

Where: $GRADE_CACHE_DIR when set (an empty value: no cache at all), else
%LOCALAPPDATA%\\seance11-grader on Windows, else $XDG_CACHE_HOME/seance11-grader, else
~/.cache/seance11-grader.

Each entry is one file, `<kind>-<slot>.bin`: a first line holding its key — the sha256 of
everything the entry was derived from (the source file's bytes, the schema, the grader's
version) — then the data. An entry whose key differs is simply a miss (and is overwritten): a
changed file, schema or grader never reads an old entry. Data derived from a file's content
alone lives in the slot of its key (`content_slot`): every copy of a course — a fresh clone, a
release unpacked elsewhere, the same course in two folders — reads the same entry. A cache that
cannot be read or written (no home, a read-only disk, a file that is not ours, a truncated
entry) is skipped silently: it only ever costs the time it would have saved, never an error.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

FOLDER = "seance11-grader"
MAX_ENTRIES = 64  # per kind: past that, the oldest entries are removed when one is written


def cache_dir() -> Path | None:
    """The cache folder (not necessarily existing yet), or None when caching is off."""
    chosen = os.environ.get("GRADE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen.strip() else None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / FOLDER if base else None
    base = os.environ.get("XDG_CACHE_HOME")
    if base and os.path.isabs(base):
        return Path(base) / FOLDER
    try:
        return Path.home() / ".cache" / FOLDER
    except (RuntimeError, KeyError, OSError):  # no home directory
        return None


def key(*parts) -> str:
    """The sha256 (hex) of `parts` (bytes or str), each length-prefixed, and of the grader's version."""
    import hashlib  # here: `grade` starts its worker template before anything needs a key (OpenSSL: 2 ms)

    from grader import __version__
    digest = hashlib.sha256(f"grader {__version__}\0".encode())
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def slot(*parts) -> str:
    """A short name for where an entry lives (e.g. from a file's path): one entry per slot."""
    return key(*parts)[:24]


def content_slot(entry_key: str) -> str:
    """The slot of an entry derived from content alone: its key's own prefix, so that copies of
    a file in any folder share one entry (the oldest entries of a kind are pruned past MAX_ENTRIES)."""
    return entry_key[:24]


def _path(kind: str, where: str) -> Path | None:
    folder = cache_dir()
    return folder / f"{kind}-{where}.bin" if folder is not None else None


def read(kind: str, where: str, expected_key: str) -> bytes | None:
    """The data of entry `kind`/`where` if its key is `expected_key`, else None. Never raises."""
    try:
        path = _path(kind, where)
        if path is None:
            return None
        with open(path, "rb") as f:
            data = f.read()
        head, sep, body = data.partition(b"\n")
        if not sep or head != expected_key.encode("ascii"):
            return None
        return body
    except Exception:
        return None


def write(kind: str, where: str, entry_key: str, data: bytes) -> bool:
    """Store `data` as entry `kind`/`where` under `entry_key` (written whole, then renamed into
    place: a concurrent reader sees the old entry or the new one). False when it could not be
    written; never raises."""
    try:
        path = _path(kind, where)
        if path is None:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as f:
            f.write(entry_key.encode("ascii") + b"\n" + data)
        os.replace(temporary, path)
        _prune(path.parent, kind)
        return True
    except Exception:
        try:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        except Exception:
            pass
        return False


def _prune(folder: Path, kind: str):
    """At most MAX_ENTRIES entries of `kind`: the least recently written go first."""
    entries = [p for p in folder.glob(f"{kind}-*.bin")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for p in entries[:len(entries) - MAX_ENTRIES]:
        p.unlink(missing_ok=True)
