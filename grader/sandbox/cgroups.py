"""One control group per worker (Linux, when the grader may create them: usually as root).

rlimits cap each process; a submission that forks could still multiply them (64 processes of
2 GB each). A control group caps the worker and everything it starts, together: memory and
number of processes. Best effort: where cgroups cannot be created (an unprivileged account,
a container without delegation), the rlimits alone apply; `describe` says which (SECURITY.md).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's cgroup in the v1 hierarchy of `controller` ("" for the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] if controller else controllers == "":
            return path
    return None


def _make(parent: Path, settings: dict, optional: dict = {}) -> Path | None:
    try:
        group = parent / f"grade-{uuid.uuid4().hex[:12]}"
        group.mkdir()
    except OSError:
        return None
    try:
        for name, value in settings.items():
            (group / name).write_text(str(value))
    except OSError:
        _remove(group)
        return None
    for name, value in optional.items():  # e.g. swap accounting, off on some kernels
        try:
            (group / name).write_text(str(value))
        except OSError:
            pass
    return group


def _remove(group: Path):
    for _ in range(50):  # a killed process leaves its group a moment later
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


class WorkerGroup:
    """Memory and process caps shared by a worker and all its descendants."""

    def __init__(self, memory_mb: int, processes: int):
        self.groups: list[Path] = []
        memory, pids = memory_mb * 2**20, processes
        if (ROOT / "cgroup.controllers").is_file():  # cgroup v2 mounted at the root
            self._v2(ROOT, memory, pids)
        else:
            self._v1(memory, pids)

    def _v1(self, memory, pids):
        for controller, settings in (("memory", {"memory.limit_in_bytes": memory}), ("pids", {"pids.max": pids})):
            own = _own_path(controller)
            if own is None or not (ROOT / controller).is_dir():
                continue
            group = _make(ROOT / controller / own.lstrip("/"), settings)
            if group is not None:
                self.groups.append(group)

    def _v2(self, mount, memory, pids):
        own = _own_path("")
        if own is None:
            return
        parent = mount / own.lstrip("/")
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            return
        if {"memory", "pids"} <= set(enabled):
            group = _make(parent, {"memory.max": memory, "pids.max": pids}, {"memory.swap.max": 0})
            if group is not None:
                self.groups.append(group)

    @property
    def active(self) -> bool:
        return bool(self.groups)

    def describe(self) -> str:
        return "one cap for the worker and its children" if self.active else "per process (rlimits)"

    def join(self):
        """Called in the worker, before exec: it and its descendants are counted here."""
        for group in self.groups:
            try:
                (group / "cgroup.procs").write_text("0")
            except OSError:
                pass

    def close(self):
        for group in self.groups:
            _remove(group)
        self.groups = []
