"""Every classic mistake of `reference/mistakes.py` is caught by the assignment's cases.

A variant is "caught" when at least one case of its function fails by more than 100 times
its tolerance (or by an exact mismatch, NaN, a wrong exception or a modified input, all of
which count as an infinite margin). The margin computation is the one of
`bench/mistake_margins.py`, which prints the full table.
"""
import importlib.util
import inspect
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.same_on_every_backend("the variants run in this process against the reference: no worker")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_bench():
    spec = importlib.util.spec_from_file_location("mistake_margins", ROOT / "bench" / "mistake_margins.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

from reference import mistakes as mistakes_module  # noqa: E402
from reference.mistakes import MISTAKES  # noqa: E402

CAUGHT = 100.0
BENCH = bench.Bench()
MISTAKE_IDS = [m.name for m in MISTAKES]


@pytest.fixture(scope="module")
def found():
    """mistake name -> [Margin] over every case of its function, at the assignment's seed."""
    return {m.name: BENCH.case_margins(m) for m in MISTAKES}


def _describe(margins):
    return ", ".join(f"{m.case_id.rsplit('/', 1)[-1]}={m.label}" for m in margins)


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_mistake_fails_some_case_by_more_than_100_tolerances(mistake, found):
    margins = found[mistake.name]
    assert margins, f"{mistake.name}: the assignment has no case of {mistake.function}"
    best = max(margins, key=lambda m: m.value)
    assert best.value > CAUGHT, (
        f"mistake {mistake.name!r} ({mistake.exercise}.{mistake.function}) is not caught: its best margin is "
        f"{best.label} tolerances on {best.case_id} (needs > {CAUGHT:g}); all cases: {_describe(margins)}")


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_mistake_fails_at_least_one_case(mistake, found):
    margins = found[mistake.name]
    assert any(m.value > 1.0 for m in margins), (
        f"mistake {mistake.name!r} passes every case of {mistake.function}: {_describe(margins)}")


def test_bench_margins_pairs_case_ids_with_margins():
    mistake = mistakes_module.by_name("softmax-no-max-shift")
    pairs = bench.margins(mistake, BENCH.assignment)
    assert [case_id for case_id, _ in pairs] == [c.id for c in BENCH.cases_of("softmax")]
    assert dict(pairs)["softmax/softmax/huge-values"] == math.inf


def test_bench_counts_an_input_modified_in_place_as_an_infinite_margin(found):
    margins = found["softmax-modifies-input"]
    assert all(m.value == math.inf and m.why == "modified" for m in margins), _describe(margins)


def test_bench_counts_a_missing_exception_as_an_infinite_margin(found):
    margins = {m.case_id: m for m in found["one-hot-wraps-out-of-range"]}
    negative = margins["embeddings/one_hot/negative-id"]
    assert (negative.value, negative.why) == (math.inf, "error")


def test_the_reference_itself_has_margin_zero_on_every_case():
    for exercise in BENCH.assignment.exercises:
        for function in exercise.functions:
            reference = BENCH.oracle.function(exercise.name, function)
            as_mistake = mistakes_module.Mistake("reference", exercise.name, function, "-", "-", "-", reference)
            bad = [m for m in BENCH.case_margins(as_mistake) if m.value > 1.0]
            assert not bad, f"the reference {exercise.name}.{function} fails its own cases: {_describe(bad)}"


# --- metadata -------------------------------------------------------------------------------

TEXT_FIELDS = ("name", "exercise", "function", "slide", "explanation", "explanation_fr")


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_mistake_metadata_is_filled_in(mistake):
    empty = [f for f in TEXT_FIELDS if not str(getattr(mistake, f)).strip()]
    assert not empty, f"mistake {mistake.name!r}: empty {', '.join(empty)}"


def test_mistake_names_are_unique():
    names = [m.name for m in MISTAKES]
    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_mistake_replaces_a_graded_function_with_its_signature(mistake):
    function = BENCH.assignment.exercise(mistake.exercise).functions.get(mistake.function)
    assert function is not None, f"{mistake.name}: {mistake.exercise}.{mistake.function} is not graded"
    reference = BENCH.oracle.function(mistake.exercise, mistake.function)
    assert list(inspect.signature(mistake.implementation).parameters) == list(inspect.signature(reference).parameters)


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_mistake_name_is_kebab_case(mistake):
    assert mistake.name == mistake.name.lower() and " " not in mistake.name and "_" not in mistake.name


def test_every_mistake_fails_a_public_case(found):
    """Nothing hidden-only: a student who makes a classic mistake sees a public case fail (and its
    hint), not only a lower hidden score."""
    visibility = {c.id: c.visibility for c in BENCH.assignment.cases()}
    hidden_only = [name for name, margins in found.items()
                   if not any(m.value > 1.0 and visibility[m.case_id] == "public" for m in margins)]
    assert hidden_only == [], hidden_only
