"""Every `>>>` example in the student stubs runs as written and shows what the reference gives.

The examples of `exercises/<module>.py` are the students' first test of their own code, so
each one must define every name it uses and print exactly what a correct solution prints.
They run here in doctest fashion against `reference/<module>.py`: the reference module's
globals (its functions and what it imports) plus `np`, NumPy's default print options,
ELLIPSIS and NORMALIZE_WHITESPACE. A failure shows the doctest report: the example, what
it shows and what the reference gives.
"""
import doctest
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODULES = sorted(p.stem for p in (ROOT / "exercises").glob("*.py") if p.stem != "__init__")
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# NumPy's defaults, whatever another test or plugin may have set.
PRINT_OPTIONS = dict(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False,
                     nanstr="nan", infstr="inf", sign="-", floatmode="maxprec", formatter=None,
                     legacy=False)


def examples(module):
    """The doctests of `exercises/<module>.py` holding at least one example, with the
    reference module's globals (and `np`) as their namespace."""
    stub = importlib.import_module(f"exercises.{module}")
    namespace = {**vars(importlib.import_module(f"reference.{module}")), "np": np}
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = [t for t in finder.find(stub, globs=namespace) if t.examples]
    for test in found:  # "exercises.attention.causal_mask" -> "attention.causal_mask"
        test.name = test.name.removeprefix("exercises.")
    return sorted(found, key=lambda t: t.lineno or 0)


EXAMPLES = {module: examples(module) for module in MODULES}
DOCTESTS = [test for module in MODULES for test in EXAMPLES[module]]


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_the_example_runs_as_written_with_the_reference(test):
    report = []
    runner = doctest.DocTestRunner(verbose=False, optionflags=OPTIONFLAGS)
    with np.printoptions(**PRINT_OPTIONS), np.errstate(all="raise"):
        result = runner.run(test, out=report.append, clear_globs=False)
    assert result.failed == 0, (
        f"exercises/{test.filename and Path(test.filename).name}, {test.name}: "
        f"{result.failed} of {result.attempted} examples fail against the reference\n" + "".join(report))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_shows_at_least_one_example(module):
    assert EXAMPLES[module], f"exercises/{module}.py has no >>> example in its docstrings"
