"""Length-prefixed frames from a worker's result pipe, with a deadline per frame and a size cap.

Two ways to wait on a pipe: `select` where pipes can be selected (POSIX: the template
backend), a reader thread where they cannot (Windows: the portable backend, which uses it on
every platform so that what Windows runs is what the tests run). The thread reads ahead at most
`AHEAD` bytes: a worker that floods its pipe fills no more of the grader's memory than that.
"""
from __future__ import annotations

import os
import queue
import select
import struct
import threading
import time

from grader.sandbox.runtime import protocol

TIMEOUT = object()  # no frame before the deadline
CHUNK = 1 << 20
AHEAD = 4               # chunks the reader thread may hold before the grader takes them


class FrameReader:
    """`next(deadline)`: the next frame's bytes, TIMEOUT, or None (end of file, or a frame
    announced larger than the protocol allows: the worker is treated as dead)."""

    def __init__(self, read_chunk):
        self.read_chunk = read_chunk  # (wanted, seconds left) -> bytes, b"" at end of file, or TIMEOUT
        self.buffer = bytearray()     # appended in place: reading a large frame stays linear

    def _fill(self, n, deadline):
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return TIMEOUT
            chunk = self.read_chunk(max(n - len(self.buffer), 65536), left)
            if chunk is TIMEOUT:
                return TIMEOUT
            if not chunk:
                return None
            self.buffer += chunk
        return True

    def next(self, deadline):
        state = self._fill(4, deadline)
        if state is not True:
            return state
        (size,) = struct.unpack(">I", self.buffer[:4])
        if size > protocol.MAX_MESSAGE:
            return None
        state = self._fill(4 + size, deadline)
        if state is not True:
            return state
        frame = bytes(self.buffer[4:4 + size])
        del self.buffer[:4 + size]
        return frame


def select_reader(fd) -> FrameReader:
    """Frames from a pipe that `select` can wait on (POSIX)."""
    def read_chunk(wanted, left):
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return TIMEOUT
        return os.read(fd, min(CHUNK, wanted))
    return FrameReader(read_chunk)


class ThreadedPipe:
    """A daemon thread reads the pipe into a bounded queue; `reader` waits on the queue."""

    def __init__(self, stream):
        self.stream = stream  # a binary file object (Popen.stdout)
        self.chunks: queue.Queue = queue.Queue(maxsize=AHEAD)
        self.closed = threading.Event()
        self.pending = b""
        self.thread = threading.Thread(target=self._pump, daemon=True, name="worker-frames")
        self.thread.start()
        self.reader = FrameReader(self._read_chunk)

    def _pump(self):
        try:
            while not self.closed.is_set():
                try:
                    chunk = self.stream.read(CHUNK)  # unbuffered: what is there, up to CHUNK
                except (OSError, ValueError):
                    chunk = b""
                while not self.closed.is_set():
                    try:
                        self.chunks.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not chunk:
                    return
        finally:
            self.stream.close()  # here, not from another thread: a blocked read holds its lock

    def _read_chunk(self, wanted, left):
        if not self.pending:
            try:
                self.pending = self.chunks.get(timeout=left)
            except queue.Empty:
                return TIMEOUT
            if not self.pending:
                self.chunks.put(b"")  # end of file stays end of file
                return b""
        chunk, self.pending = self.pending[:wanted], self.pending[wanted:]
        return chunk

    def close(self):
        """After the worker is dead: its pipe reaches end of file, the thread ends and closes it."""
        self.closed.set()
