"""The reference reproduces what the lecture's slides show, in the assignment's lecture cases.

Cases whose lecture block quotes `numbers` are checked generically: the reference's output
(the component named by `lecture.output` for tuple-valued functions), rounded to the slide's
`decimals`, equals the slide's numbers. The other lecture cases make a point rather than
quote numbers (bear/honey, apple/orange vs apple phone, write a story ., king/queen,
rince et répète); each point has its own test.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.same_on_every_backend("the lecture cases are built and checked in this process: no worker")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.lecture import BEAR_EMBEDDINGS, BEAR_FEATURES  # noqa: E402
from grader.model.assignment import load_assignment  # noqa: E402
from grader.grading.cases import CaseBuilder  # noqa: E402
from grader.grading.expected import ReferenceOracle  # noqa: E402
from reference.mistakes import by_name  # noqa: E402
from reference.similarity import cosine_similarity  # noqa: E402

ASSIGNMENT = load_assignment(ROOT / "assignment.yaml")
BUILDER = CaseBuilder(ASSIGNMENT)
ORACLE = ReferenceOracle(ASSIGNMENT)
LECTURE_CASES = [c for c in ASSIGNMENT.cases() if c.lecture is not None]
NUMBER_CASES = [c for c in LECTURE_CASES if c.lecture.numbers is not None]

# The contract's "Lecture cases the assignment must contain" (docs/contract.md §10), topic -> case ids.
CONTRACT_LECTURE_CASES = {
    "similarity: the slide vectors (1,4), (0,3), (3,0)": [
        "similarity/dot_product/slide-vectors",
        "similarity/scaled_dot_product/slide-vectors",
        "similarity/cosine_similarity/slide-vectors"],
    "similarity: Personality embeddings (Jay Alammar)": [
        "similarity/cosine_similarity/personality-2-traits",
        "similarity/cosine_similarity/personality-5-traits"],
    "similarity: Thought experiment (Strawberry vs Apple)": [
        "similarity/cosine_similarity/strawberry-apple"],
    "similarity: the Tech/Fruitiness/Other table": [
        "similarity/cosine_similarity_matrix/orange-phone-apple-and-an"],
    "softmax: [1, 0.71] and [1, -1] (need coefficients to be positive)": [
        "softmax/softmax/orange-apple",
        "softmax/softmax/orange-motorcycle"],
    "embeddings: The quick brown fox, window 2": [
        "embeddings/skipgram_pairs/quick-brown-fox"],
    "embeddings: king - man + woman = queen": [
        "embeddings/analogy/king-queen"],
    "attention: an apple and an orange vs an apple phone": [
        "attention/similarity_attention/an-apple-and-an-orange",
        "attention/similarity_attention/an-apple-phone"],
    "attention: The bear ate the honey because it was hungry / delicious": [
        "attention/scaled_dot_product_attention/bear-honey-hungry",
        "attention/scaled_dot_product_attention/bear-honey-delicious"],
    "positional: write a story . vs story . a write": [
        "positional/positional_encoding/write-a-story"],
    "transformer: rince et répète": [
        "transformer/generate/rince-et-repete"],
}


def run(case_id):
    """(case, inputs, reference value) of one case, at the assignment's seed."""
    case = ASSIGNMENT.case(case_id)
    inputs = BUILDER.inputs(case, ASSIGNMENT.seed)
    return case, inputs, ORACLE.expected(case, inputs).value


def component(case, value, name):
    """The output called `name` of a tuple-valued function (the value itself otherwise)."""
    outputs = ASSIGNMENT.exercise(case.exercise).functions[case.function].outputs
    if not outputs or name is None:
        return value
    return value[outputs.index(name)]


def is_numeric(numbers):
    flat = np.ravel(np.array(numbers, dtype=object))
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat)


def plain(value):
    """Tuples and arrays of words as nested lists, for exact comparison with YAML lists."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


# --- the slides' numbers --------------------------------------------------------------------

@pytest.mark.parametrize("case", NUMBER_CASES, ids=[c.id for c in NUMBER_CASES])
def test_reference_reproduces_the_slide_numbers(case):
    lecture = case.lecture
    _, _, value = run(case.id)
    value = component(case, value, lecture.output)
    where = f"{case.id} — slide « {lecture.slide} » ({lecture.quote})"
    if is_numeric(lecture.numbers):
        got = np.asarray(value, dtype=np.float64)
        if lecture.decimals is not None:
            got = np.round(got, lecture.decimals)
        slide = np.asarray(lecture.numbers, dtype=np.float64)
        assert got.shape == slide.shape, f"{where}: output shape {got.shape}, the slide shows {slide.shape}"
        assert np.allclose(got, slide, rtol=0, atol=1e-9), (
            f"{where}: rounded to {lecture.decimals} decimals the reference gives {got.tolist()}, "
            f"the slide shows {slide.tolist()}")
    elif isinstance(lecture.numbers, list):  # pairs or words: the slide may show only the start
        got, slide = plain(value), plain(lecture.numbers)
        assert got[:len(slide)] == slide, f"{where}: the reference starts {got[:len(slide)]}, the slide shows {slide}"
    else:
        assert value == lecture.numbers, f"{where}: the reference gives {value!r}, the slide shows {lecture.numbers!r}"


def test_every_contract_lecture_case_is_in_the_assignment():
    missing = {topic: [i for i in case_ids if i not in {c.id for c in LECTURE_CASES}]
               for topic, case_ids in CONTRACT_LECTURE_CASES.items()}
    assert {t: m for t, m in missing.items() if m} == {}


@pytest.mark.parametrize("case", LECTURE_CASES, ids=[c.id for c in LECTURE_CASES])
def test_lecture_case_names_its_slide_and_quote(case):
    assert case.lecture.slide.strip() and case.lecture.quote.strip()
    assert case.visibility == "public", f"{case.id}: the lecture's own examples are public"


@pytest.mark.parametrize("case", [c for c in LECTURE_CASES if c.lecture.output],
                         ids=[c.id for c in LECTURE_CASES if c.lecture.output])
def test_lecture_output_names_one_of_the_functions_outputs(case):
    outputs = ASSIGNMENT.exercise(case.exercise).functions[case.function].outputs
    assert case.lecture.output in outputs


@pytest.mark.parametrize("case", [c for c in LECTURE_CASES if c.lecture.tokens],
                         ids=[c.id for c in LECTURE_CASES if c.lecture.tokens])
def test_lecture_tokens_label_every_row(case):
    _, _, value = run(case.id)
    value = np.asarray(component(case, value, case.lecture.output))
    assert len(case.lecture.tokens) == value.shape[0]


# --- similarity and softmax: the slides' conclusions ----------------------------------------

@pytest.mark.parametrize("case_id", ["similarity/cosine_similarity/personality-2-traits",
                                     "similarity/cosine_similarity/personality-5-traits"])
def test_jay_is_more_similar_to_person_1_than_to_person_2(case_id):
    _, _, (person_1, person_2) = run(case_id)
    assert person_1 > person_2


def test_plain_normalisation_of_orange_minus_motorcycle_divides_by_zero_and_softmax_does_not():
    _, inputs, weights = run("softmax/softmax/orange-motorcycle")
    assert inputs["x"].sum() == 0  # "(1 Orange − 1 Motorcycle) / (1 − 1)"
    assert np.all(weights > 0) and np.isclose(weights.sum(), 1.0)


def test_skipgram_of_the_quick_brown_fox_gives_30_pairs():
    _, _, pairs = run("embeddings/skipgram_pairs/quick-brown-fox")
    assert len(pairs) == 30


# --- attention: "an apple and an orange" vs "an apple phone" -------------------------------

FEATURE = {"Tech": 0, "Fruitiness": 1, "Other": 2}
APPLE_SENTENCES = [
    # case id, the word Apple is pulled toward, the feature that wins, the one that loses
    ("attention/similarity_attention/an-apple-and-an-orange", "Orange", "Fruitiness", "Tech"),
    ("attention/similarity_attention/an-apple-phone", "Phone", "Tech", "Fruitiness"),
]


@pytest.mark.parametrize("case_id,toward,wins,loses", APPLE_SENTENCES, ids=["orange", "phone"])
def test_apple_is_pulled_toward_its_context(case_id, toward, wins, loses):
    case, inputs, (output, _) = run(case_id)
    tokens = list(case.lecture.tokens)
    E = inputs["E"]
    apple, other = tokens.index("Apple"), tokens.index(toward)
    assert E[apple, FEATURE[wins]] == E[apple, FEATURE[loses]]  # Apple starts half tech, half fruit
    assert output[apple, FEATURE[wins]] > output[apple, FEATURE[loses]], (
        f"{case_id}: Apple's output {output[apple]} should have more {wins} than {loses}")
    assert cosine_similarity(output[apple], E[other]) > cosine_similarity(E[apple], E[other]), (
        f"{case_id}: Apple should move toward {toward}")


# --- attention: "The bear ate the honey because it was hungry / delicious" -----------------

BEAR_SENTENCES = [
    ("attention/scaled_dot_product_attention/bear-honey-hungry", "bear", "honey"),
    ("attention/scaled_dot_product_attention/bear-honey-delicious", "honey", "bear"),
]


def _it_row(case_id):
    case, inputs, (output, weights) = run(case_id)
    tokens = list(case.lecture.tokens)
    it = tokens.index("it")
    return tokens, output[it], weights[it]


@pytest.mark.parametrize("case_id,nearer,farther", BEAR_SENTENCES, ids=["hungry", "delicious"])
def test_contextualised_it_ends_nearer_the_right_noun(case_id, nearer, farther):
    _, it, _ = _it_row(case_id)
    near = cosine_similarity(it, np.array(BEAR_EMBEDDINGS[nearer], dtype=float))
    far = cosine_similarity(it, np.array(BEAR_EMBEDDINGS[farther], dtype=float))
    assert near > far, f"{case_id}: « it » has cos {near:.2f} with {nearer}, {far:.2f} with {farther}"


@pytest.mark.parametrize("case_id,nearer,farther", BEAR_SENTENCES, ids=["hungry", "delicious"])
def test_bear_honey_figures_of_the_case_note(case_id, nearer, farther):
    """The note says: « it » attends 0.21 to bear and honey, 0.47 to the adjective; cos 0.81 vs 0.32."""
    tokens, it, weights = _it_row(case_id)
    adjective = tokens[-1]
    assert np.round([weights[tokens.index("bear")], weights[tokens.index("honey")],
                     weights[tokens.index(adjective)]], 2).tolist() == [0.21, 0.21, 0.47]
    near = cosine_similarity(it, np.array(BEAR_EMBEDDINGS[nearer], dtype=float))
    far = cosine_similarity(it, np.array(BEAR_EMBEDDINGS[farther], dtype=float))
    assert [round(float(near), 2), round(float(far), 2)] == [0.81, 0.32]


def test_bear_honey_sentences_differ_only_in_the_last_word():
    hungry, delicious = (run(case_id)[0].lecture.tokens for case_id, _, _ in BEAR_SENTENCES)
    assert hungry[:-1] == delicious[:-1] and (hungry[-1], delicious[-1]) == ("hungry", "delicious")
    assert len(BEAR_FEATURES) == len(BEAR_EMBEDDINGS["it"])


# --- positional: "write a story ." vs "story . a write" -------------------------------------

def test_permuted_sentences_have_the_same_bag_of_embeddings_but_differ_with_positions():
    _, inputs, PE = run("positional/positional_encoding/write-a-story")
    words = ["write", "a", "story", "."]
    table = dict(zip(words, np.random.default_rng(11).standard_normal((len(words), inputs["d_model"]))))
    first = np.array([table[w] for w in "write a story .".split()])
    second = np.array([table[w] for w in "story . a write".split()])

    def bag(rows):
        return sorted(map(tuple, rows))

    assert bag(first) == bag(second)            # same words, same embeddings: a bag can't tell them apart
    assert bag(first + PE) != bag(second + PE)  # with their positions added, the inputs differ
    for word in words:                          # each word's vector now depends on where it stands
        i, j = "write a story .".split().index(word), "story . a write".split().index(word)
        assert not np.allclose((first + PE)[i], (second + PE)[j])


def test_write_a_story_positional_row_zero_is_zero_one_alternating():
    _, inputs, PE = run("positional/positional_encoding/write-a-story")
    assert PE.shape == (inputs["n_positions"], inputs["d_model"])
    np.testing.assert_array_equal(PE[0], np.arange(inputs["d_model"]) % 2)


# --- embeddings: king - man + woman ≈ queen -------------------------------------------------

def test_king_minus_man_plus_woman_is_queen():
    _, _, answer = run("embeddings/analogy/king-queen")
    assert answer == "queen"


def test_without_excluding_the_question_words_the_nearest_is_king():
    """The hand-made table makes the case catch an analogy that forgets to exclude a, b, c."""
    _, inputs, _ = run("embeddings/analogy/king-queen")
    words, E = inputs["words"], inputs["E"]
    index = {w: i for i, w in enumerate(words)}
    target = E[index["king"]] - E[index["man"]] + E[index["woman"]]
    assert words[int(np.argmax(cosine_similarity(E, target)))] == "king"
    assert by_name("analogy-returns-input-word").implementation(**inputs) == "king"


def test_king_queen_cosines_of_the_case_note():
    """The note says: king itself is nearest (cos 0.924), then queen (0.905)."""
    _, inputs, _ = run("embeddings/analogy/king-queen")
    words, E = inputs["words"], inputs["E"]
    index = {w: i for i, w in enumerate(words)}
    cos = cosine_similarity(E, E[index["king"]] - E[index["man"]] + E[index["woman"]])
    ranked = [words[i] for i in np.argsort(-cos)]
    assert ranked[:2] == ["king", "queen"]
    assert [round(float(cos[index[w]]), 3) for w in ("king", "queen")] == [0.924, 0.905]


# --- transformer: "rince et répète" ---------------------------------------------------------

def test_rince_et_repete_generates_exactly_n_new_ids_of_the_vocabulary():
    case, inputs, new_ids = run("transformer/generate/rince-et-repete")
    vocab = case.lecture.vocab
    assert len(new_ids) == inputs["n_new"]
    assert all(isinstance(i, int) and 0 <= i < len(vocab) for i in new_ids), new_ids


@pytest.mark.parametrize("case", [c for c in LECTURE_CASES if c.lecture.vocab],
                         ids=[c.id for c in LECTURE_CASES if c.lecture.vocab])
def test_rince_et_repete_vocabulary_matches_the_model(case):
    inputs = BUILDER.inputs(case, ASSIGNMENT.seed)
    assert inputs["params"]["token_embedding"].shape[0] == len(case.lecture.vocab)


def test_rince_et_repete_model_is_the_same_for_every_seed():
    case = ASSIGNMENT.case("transformer/generate/rince-et-repete")
    a, b = BUILDER.inputs(case, 0), BUILDER.inputs(case, 12345)
    np.testing.assert_array_equal(a["params"]["token_embedding"], b["params"]["token_embedding"])
    np.testing.assert_array_equal(a["token_ids"], b["token_ids"])
