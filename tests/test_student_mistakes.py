"""The student-written corpus (bench/student_mistakes): mistakes written the way students write
them, graded through the real pipeline. A fast subset here, one per family; the whole corpus and
its table: `python bench/diagnosis_accuracy.py --only students`."""
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from student_mistakes import build  # noqa: E402
from student_mistakes.corpus import ENTRIES, Entry  # noqa: E402

SUBSET = ["softmax-no-keepdims", "dot-np-dot-batch", "matrix-b-eq-none", "sdpa-no-scaling",
          "weights-mask-after-softmax", "block-no-residuals", "forward-skips-last-block", "next-first-position",
          "gen-last-token-only", "softmax-ignores-axis", "next-keeps-row-axis", "pe-odd-broadcast"]


@pytest.fixture(scope="module")
def graded(assignment, tmp_path_factory):
    from grader.instructor.accuracy import student_corpus

    entries = [e for e in ENTRIES if e.id in SUBSET]
    return student_corpus(assignment, entries, build, tmp_path_factory.mktemp("students"))


def test_the_corpus_is_written_by_hand_over_every_function(assignment):
    functions = {f for e in assignment.exercises for f in e.functions}
    assert len(ENTRIES) >= 60 and {e.function for e in ENTRIES} == functions
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)
    import inspect

    from reference.mistakes import MISTAKES
    catalog = {"\n".join(inspect.getsource(m.implementation).splitlines()[1:]).strip() for m in MISTAKES}
    bodies = {"\n".join(e.source.strip().splitlines()[1:]).strip() for e in ENTRIES}
    assert not bodies & catalog   # no body copied from a catalog variant


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_each_family_is_named_with_no_wrong_remedy_and_no_hint_on_a_correct_function(graded, lang):
    assert len(graded) == len(SUBSET)
    for entry, found in graded:
        f = found[lang]
        assert f["detected"] and f["public"], entry.id          # nothing hidden-only
        assert f["outcome"] == "named", (entry.id, f["shown"][:2])
        assert f["correct_hinted"] == [], (entry.id, f["correct_hinted"])


def test_fix_first_names_the_root_cause_first_and_correct_callers_get_no_hint(assignment, tmp_path):
    """A wrong positional encoding: transformer_forward and generate are correct and fail only
    through it; they say to fix positional_encoding() first, and name no mistake of their own."""
    from grader.grading.engine import Expectations, grade, select_cases

    source = '''
def positional_encoding(n_positions, d_model, base=10000.0):
    PE = np.zeros((n_positions, d_model))
    for p in range(n_positions):
        for i in range(0, d_model, 2):
            PE[p, i] = np.cos(p / base ** (i / d_model))
            if i + 1 < d_model:
                PE[p, i + 1] = np.sin(p / base ** (i / d_model))
    return PE
'''
    entry = Entry("pe-swapped-loop", "positional", "positional_encoding", "formula", "", ["sin"], source)
    folder = build(entry, tmp_path / "exercises")
    plan = Expectations(assignment, use_reference=True).plan(
        select_cases(assignment, ["positional_encoding", "transformer_forward", "generate"]))
    result = grade(assignment, folder, plan)
    callers = [c for c in result.cases if c.function in ("transformer_forward", "generate") and not c.passed]
    assert callers
    for c in callers:
        assert c.diagnosis is None and c.mistake is None, (c.id, c.diagnosis)
        assert "fix positional_encoding()" in c.message, c.message
    generate = [c for c in callers if c.function == "generate"]
    assert generate and all("fix positional_encoding(), transformer_forward() first" in c.message for c in generate)


def test_a_step_mistake_is_named_in_the_function_where_it_is_written(assignment, tmp_path):
    """No 1/√d_k in multi_head_attention written from scratch: the catalog's attention-no-scaling
    belongs to attention_weights, and is composed into every function that holds that step."""
    from grader.grading.diagnosis import composed
    from reference.mistakes import MISTAKES

    names = {m.name for m, _ in composed(MISTAKES, "attention", "multi_head_attention")}
    assert {"attention-no-scaling", "softmax-wrong-axis", "attention-mask-after-softmax"} <= names
    assert not {m.name for m, _ in composed(MISTAKES, "similarity", "dot_product")}


# --- the held-out corpus (bench/student_mistakes/heldout.py) -----------------------------------

HELDOUT_SUBSET = ["h-weights-divided-by-dk", "h-ffn-no-b1", "h-block-ln-after-ffn", "h-ln-gamma-beta-swapped",
                  "h-pe-multiplies", "h-one-hot-transposed", "h-gen-samples", "h-scaled-times-sqrt",
                  # the families of the second round: any permutation of the heads, a step applied to
                  # another tensor, a greedy step that is not the most probable id, a call's arguments swapped
                  "h-mha-heads-reversed", "h-ffn-gelu-first", "h-forward-pe-args-swapped"]
SECOND_ROUND = ["h-mha-heads-reversed", "h-ffn-gelu-first", "h-gen-samples", "h-forward-pe-args-swapped"]


def test_the_heldout_corpus_copies_neither_the_corpus_nor_the_catalog():
    import inspect

    from reference.mistakes import MISTAKES
    from student_mistakes.heldout import ENTRIES as HELDOUT

    assert len(HELDOUT) >= 25 and len({e.function for e in HELDOUT}) >= 15
    assert len({e.id for e in HELDOUT}) == len(HELDOUT) and not {e.id for e in HELDOUT} & {e.id for e in ENTRIES}
    catalog = {"\n".join(inspect.getsource(m.implementation).splitlines()[1:]).strip() for m in MISTAKES}
    first = {"\n".join(e.source.strip().splitlines()[1:]).strip() for e in ENTRIES}
    bodies = {"\n".join(e.source.strip().splitlines()[1:]).strip() for e in HELDOUT}
    assert not bodies & catalog and not bodies & first


def test_heldout_mistakes_get_a_true_explanation_and_no_wrong_remedy(assignment, tmp_path):
    """Mistakes no catalog variant was written for: the generic diagnoses (a slipped input, the
    scores' constant, a LayerNorm after the residual, a transposed result, the heads in another
    order, a step moved inside the function, a call's two sizes swapped…) name them, and a
    sampled generate gets no coincidental catalog mistake but the first id that is not the most
    probable one. In English and in French: the subset is graded once, what each student is told
    rendered in both (a verdict is data; grading again per language would judge the same thing
    twice)."""
    from grader.instructor.accuracy import student_corpus
    from student_mistakes.heldout import ENTRIES as HELDOUT

    entries = [e for e in HELDOUT if e.id in HELDOUT_SUBSET]
    rows = student_corpus(assignment, entries, build, tmp_path, ("en", "fr"))
    assert len(rows) == len(HELDOUT_SUBSET)
    for lang in ("en", "fr"):
        outcomes = {entry.id: found[lang]["outcome"] for entry, found in rows}
        assert "wrong_remedy" not in outcomes.values(), (lang, outcomes)
        assert all(not found[lang]["correct_hinted"] for _, found in rows), lang
        assert sum(o == "named" for o in outcomes.values()) >= len(HELDOUT_SUBSET) - 1, (lang, outcomes)
        assert all(outcomes[name] == "named" for name in SECOND_ROUND), (lang, outcomes)


def test_a_crash_is_named_by_its_hint_not_by_the_line_of_code_it_quotes():
    """The accuracy bench judges a crash explanation by its hint alone: the student's line it
    quotes (`h = x @ W2.T`) holds the words of the mistake and would « name » it whatever the hint says."""
    from types import SimpleNamespace

    from grader.instructor.accuracy import classify
    from grader.model.result import CaseResult
    from grader.model.said import Said

    entry = Entry("w2-transposed", "transformer", "feed_forward", "shape", "W2 transposed", [("W2", ".T")], "")

    def result_with(hint):
        said = Said("crash.at_because", where="transformer.py:12", code="h = x @ W2.T", hint=hint) if hint \
            else Said("crash.at", where="transformer.py:12", code="h = x @ W2.T")
        case = CaseResult(id="transformer/feed_forward/random-0", exercise="transformer", function="feed_forward",
                          visibility="public", kind="random", status="error", message="ValueError: matmul", points=0,
                          max_points=1, diagnosis=said.render("en"), diagnosis_said=said)
        return SimpleNamespace(cases=[case])

    for lang in ("en", "fr"):
        assert classify(result_with(None), entry, lang)["outcome"] == "symptom"
        unrelated = classify(result_with(Said("crash.keepdims", axis=-1, big="(6, 7)", small="(6,)")), entry, lang)
        assert unrelated["outcome"] == "symptom", unrelated["shown"]
    told = classify(result_with("you wrote W2.T: use W2 as it is"), entry, "en")
    assert told["outcome"] == "named", told["shown"]
