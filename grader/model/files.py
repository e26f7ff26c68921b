"""Writing a file so that a reader, a crash or a power cut never sees half of it."""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_writer(path: Path, durable: bool = True):
    """A binary file object for `path`, which holds the old file or the whole new one, even after
    a crash or power loss: a temporary file beside it (`.<name>.<pid>.<random>.tmp`, which
    `grade bulk` sweeps after a killed run), flushed and fsynced, then renamed over it; the
    folder is fsynced too. Lets a large file be written piece by piece, never held whole.
    `durable=False`: no fsync (a file rewritten by every run, e.g. `grade`'s report): a reader
    still sees the old file or the whole new one, but a power cut right after may leave it empty."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if not durable:
        return
    try:  # the rename reaches the disk with the folder's entry
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass  # not every platform can fsync a folder


def atomic_write(path: Path, data: str | bytes, durable: bool = True) -> Path:
    """`path` atomically replaced by `data` (see atomic_writer)."""
    with atomic_writer(path, durable) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
