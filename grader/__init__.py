"""The grading engine: load → run (isolated worker) → compare → score → report.

It knows nothing about softmax: the course is data (`assignment.yaml`, `course/`, the
reference). See README.md for the pipeline and the result format.
"""
__version__ = "0.1.0"

from pathlib import Path as _Path

PACKAGE = _Path(__file__).resolve().parent  # the installed grader: what its fingerprint, the release and the
# Gradescope zip copy, and what a worker must not see

import os as _os
import sys as _sys

# `python -m grader.cli` puts the working folder first on sys.path: a student's json.py there
# would shadow the standard library in the grader itself. The grader is found where it is installed.
# Only then (argv[0] is "-m" while `-m` imports the package): imported in a notebook's kernel or
# anywhere else, the grader leaves the importer's sys.path as it is.
if _sys.argv[:1] == ["-m"] and _sys.path and _sys.path[0] == _os.getcwd() \
        and not _os.path.isdir(_os.path.join(_sys.path[0], "grader")):
    del _sys.path[0]
