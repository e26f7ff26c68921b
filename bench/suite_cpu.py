"""A pytest plugin for bench/suite_time.py: each test's CPU time (the test process and the
processes it waited for: the CLIs, pools and workers it started) and wall time, one line per
test appended to $SUITE_CPU_DIR/<xdist worker>.tsv."""
from __future__ import annotations

import os
import resource
import time

import pytest


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    folder = os.environ.get("SUITE_CPU_DIR")
    cpu, wall = _cpu(), time.monotonic()
    yield
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(folder, f"{worker}.tsv"), "a", encoding="utf-8") as f:
            f.write(f"{item.nodeid}\t{_cpu() - cpu:.3f}\t{time.monotonic() - wall:.3f}\n")
