"""The test suite on every supported Python: 3.10, 3.11, 3.12 and 3.13.

    pip install nox                      # or: pip install -e '.[dev]'
    nox                                  # the four versions, one after the other
    nox -s tests-3.12                    # one of them
    nox -s tests-3.12 -- -k softmax -x   # arguments after `--` go to pytest

Each session (`tests-3.X`) makes a fresh virtual environment of Python 3.X in `.nox/`, installs
`.[test]` into it and runs `python -m pytest`, as .ci/run does for the one Python on PATH (the
student-side tests under both worker backends: tests/conftest.py). The crosscheck (torch) and
dask extras are left out: their tests are skipped with their reason (`bash .ci/run` runs them).

nox looks for the interpreters as `python3.10`, `python3.11`… on PATH. With pyenv, the versions
need not be selected: this file puts the `bin/` of the newest installed pyenv 3.X ahead on PATH
for each version that has one ($PYENV_ROOT, else ~/.pyenv). Otherwise, put them there yourself,
e.g. on this machine:

    PATH=$(echo /root/.pyenv/versions/3.1*/bin | tr ' ' ':'):$PATH nox

or `pyenv global 3.11.7 3.10.13 3.12.1 3.13.0` (pyenv's shims then answer for each python3.X).
A version that cannot be found is skipped by nox (reported as such, not as passed), or is an
error where $CI is set or with `--error-on-missing-interpreters`.
"""
import os
import re
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["tests"]


def _pyenv_bins() -> list:
    """The bin/ folder of the newest pyenv-installed CPython 3.X.Y, for each X of PYTHONS."""
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for wanted in PYTHONS:
        candidates = []
        for folder in versions.glob(f"{wanted}.*") if versions.is_dir() else ():
            match = re.fullmatch(re.escape(wanted) + r"\.(\d+)", folder.name)
            if match and (folder / "bin" / f"python{wanted}").is_file():
                candidates.append((int(match.group(1)), folder / "bin"))
        if candidates:
            found.append(str(max(candidates)[1]))
    return found


_bins = [b for b in _pyenv_bins() if b not in os.environ.get("PATH", "").split(os.pathsep)]
if _bins:
    os.environ["PATH"] = os.pathsep.join([*_bins, os.environ.get("PATH", "")])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """pytest: the whole suite, the student-side tests under both worker backends (tests/conftest.py)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)
