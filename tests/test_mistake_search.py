"""No plausible mistake scores full marks: Hypothesis searches the contract's valid inputs of
softmax (any shape, any axis, any scale) for inputs where a mistake variant differs from the
reference, and every kind of input where one does — which axis (first, middle, last), a square
slice or not, far-apart slices — must have a public case on which that variant fails too."""
import copy
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grader.grading.variants import Variants, compare_outputs, run_variant  # noqa: E402
from reference.mistakes import MISTAKES  # noqa: E402
from reference.softmax import softmax  # noqa: E402

SOFTMAX = [m for m in MISTAKES if m.function == "softmax" and m.name != "softmax-modifies-input"]


def kind(x, axis):
    """What an input exercises: the axis's place (only, first, middle, last), whether its values
    are large enough for e^x to overflow, and whether its slices lie far apart."""
    ax = axis % x.ndim
    place = "only" if x.ndim == 1 else "last" if ax == x.ndim - 1 else "first" if ax == 0 else "middle"
    big = bool(np.max(np.abs(x)) > 700)
    spread = bool(np.ptp(np.max(x, axis=ax)) > 700) if x.ndim > 1 else False
    return place, big, spread


@pytest.fixture(scope="module")
def public_kinds(assignment):
    """{mistake: the kinds of the public softmax cases it fails}."""
    bench = Variants(assignment)
    found = {}
    for case in bench.cases_of("softmax"):
        if case.visibility != "public":
            continue
        inputs = bench.builder.inputs(case, bench.seed)
        x, axis = np.asarray(inputs["x"], float), inputs.get("axis", -1)
        for m in SOFTMAX:
            if bench.case_margin(m, case).value > 1:
                found.setdefault(m.name, set()).add(kind(x, axis))
    return found


def differs(m, x, axis) -> bool:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        expected = softmax(x, axis)
        value, exc, _ = run_variant(m.implementation, {"x": x, "axis": axis})
    if exc is not None:
        return True
    margin, _ = compare_outputs(value, expected, type("C", (), {"tolerance": TOL})(), None)
    return margin > 1


class _Tol:
    rtol, atol, exact = 1e-5, 1e-6, False


TOL = _Tol()


arrays = st.integers(1, 3).flatmap(lambda ndim: st.tuples(
    st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim),
    st.integers(-ndim, ndim - 1),
    st.sampled_from([1.0, 3.0, 1000.0]),
    st.booleans(),
    st.integers(0, 2**32 - 1)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays)
def test_every_difference_a_search_finds_has_a_public_case_of_its_kind(public_kinds, drawn):
    shape, axis, scale, apart, seed = drawn
    x = scale * np.random.default_rng(seed).standard_normal(shape)
    if apart and x.ndim > 1:   # slices far apart: a global max underflows the lower ones
        x = x + 2000.0 * np.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    for m in SOFTMAX:
        if differs(m, copy.deepcopy(x), axis):
            assert _covered(public_kinds, m.name, kind(x, axis)), (
                f"{m.name} differs on shape {x.shape}, axis {axis} ({kind(x, axis)}), "
                f"but no public case of that kind fails it: {sorted(public_kinds.get(m.name, ()))}")


def _covered(public_kinds, name, k) -> bool:
    """A difference is covered when a public case that shares what makes it differ fails the
    variant too: slices far apart when they are, else large values when they are, else the same
    axis place."""
    place, big, spread = k
    kinds = public_kinds.get(name, set())
    if spread and any(sp for _, _, sp in kinds):
        return True
    if big and any(b for _, b, _ in kinds):
        return True
    return any(p == place for p, _, _ in kinds)
