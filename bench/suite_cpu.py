"""A pytest plugin for bench/suite_time.py: each test's CPU time (the test process and the
processes it waited for: the CLIs, pools and workers it started) and wall time, one line per
test appended to $SUITE_CPU_DIR/<xdist worker>.tsv, with the part spent in the test process itself
(collection excluded: it happens before the first test)."""
from __future__ import annotations

import os
import resource
import time

import pytest


def _cpu() -> tuple:
    """(CPU of this process and the children it waited for, CPU of this process alone)"""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    alone = own.ru_utime + own.ru_stime
    return alone + children.ru_utime + children.ru_stime, alone


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    folder = os.environ.get("SUITE_CPU_DIR")
    (cpu, alone), wall = _cpu(), time.monotonic()
    yield
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(folder, f"{worker}.tsv"), "a", encoding="utf-8") as f:
            now, now_alone = _cpu()
            f.write(f"{item.nodeid}\t{now - cpu:.3f}\t{time.monotonic() - wall:.3f}\t{now_alone - alone:.3f}\n")
