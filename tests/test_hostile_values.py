"""The grader survives its students: nothing a submission returns, prints, raises or forges crashes
or stalls it. An unexpected value is that case's failure with a clear message — never a traceback,
never the run's crash — and every bound is linear in what the submission sent.

Direct tests of protocol.decode (an exact list of dtype codes, ProtocolError and nothing else on
thousands of mutated frames, header and value-count caps checked before parsing), compare (strings
where numbers are expected, ints beyond any float, inputs swapped for something else, bounded
quotes), diagnosis and hints on hostile values, the engine's per-case containment, JSON-safe details
and linear, capped refusals; then one submission full of such values through the real CLI.
"""
from __future__ import annotations

import json
import math
import random
import struct
import sys
import time
import tracemalloc

import numpy as np
import pytest

from conftest import ROOT, run_grade, solution_folder, validate_result
from grader.sandbox.runtime import protocol
from grader.model.assignment import Tolerance
from grader.grading.compare import Verdict, _inputs_changed, compare, compare_values, quote
from grader.grading.engine import MAX_PROBLEMS, Expectations, Problems, _refusals, contained, judge, json_safe, select_cases
from grader.grading.expected import Expected
from grader.grading import properties as property_engine
from grader.model.assignment import load_assignment
from grader.sandbox.supervisor import Outcome

TOL = Tolerance(rtol=1e-6, atol=1e-8)
EXACT = Tolerance()
COURSE = load_assignment(ROOT / "assignment.yaml")
CHECKED = sorted(property_engine.load_properties(COURSE).functions())


def property_hint(exercise, function, inputs, value):
    """The course's property hint, as the engine asks for it."""
    return property_engine.property_hint(COURSE, exercise, function, inputs, value)
MESSAGE_LIMIT = 600  # characters: far above any honest message, far below a quoted 12 MB word


def frame(header, blob: bytes = b"") -> bytes:
    """A protocol message with this header (a dict, or raw bytes) and these array bytes."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + blob


def decodes_or_refuses(data, **kwargs):
    """decode's only two outcomes: a value, or ProtocolError."""
    try:
        return protocol.decode(data, **kwargs)
    except protocol.ProtocolError:
        return None


# --- protocol: what a frame may hold --------------------------------------------------------------

@pytest.mark.parametrize("code", ["<i16", "<U0", "<f16", "<c16", "|O", "<M8[ns]", "<m8", "|V8", "|S3", "=f8", "<b1",
                                  "<i1", "f8", "<f8 ", " <f8", "<U4097", "<U999999999", ">U00", "<U-1", "<u16",
                                  "<f4,<f4", "[('a', '<f8')]", "", "<", "\u00e9f8"])
def test_decode_refuses_every_dtype_code_outside_the_exact_list(code):
    data = frame({"tree": {"$nd": 0}, "arrays": [[code, [2]]]}, b"\0" * 32)
    with pytest.raises(protocol.ProtocolError, match="not accepted"):
        protocol.decode(data, kinds=protocol.INPUT_KINDS)


@pytest.mark.parametrize("dtype", ["|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<u2", ">u2",
                                   "<u4", ">u4", "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"])
def test_every_code_an_honest_worker_writes_round_trips(dtype):
    array = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
    back = protocol.decode(protocol.encode({"value": array, "empty": np.zeros((0, 4), dtype)}))
    assert back["value"].dtype == array.dtype and np.array_equal(back["value"], array)
    assert back["empty"].shape == (0, 4) and back["empty"].dtype == np.dtype(dtype)


def test_str_arrays_travel_only_where_kinds_allow_them_and_only_as_real_text():
    words = np.array([["apple", "pear"], ["a", "é"]])
    assert np.array_equal(protocol.decode(protocol.encode(words), kinds=protocol.INPUT_KINDS), words)
    assert protocol.decode(protocol.encode(np.array("queen")), kinds=protocol.INPUT_KINDS) == np.array("queen")
    with pytest.raises(protocol.ProtocolError, match="not accepted"):
        protocol.decode(protocol.encode(words))  # student outputs: ARRAY_KINDS, no str
    with pytest.raises(protocol.ProtocolError, match="not accepted"):
        protocol.decode(protocol.encode(np.array(["w" * (protocol.MAX_UNICODE + 1)])), kinds=protocol.INPUT_KINDS)
    for bad in (0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF):  # a surrogate, beyond Unicode: not a text
        data = frame({"tree": {"$nd": 0}, "arrays": [["<U2", [1]]]}, struct.pack("<2I", 0x61, bad))
        with pytest.raises(protocol.ProtocolError, match="invalid characters"):
            protocol.decode(data, kinds=protocol.INPUT_KINDS)


def test_a_lone_surrogate_escaped_in_the_header_becomes_a_replacement_character():
    value = protocol.decode(frame({"tree": ["a\ud800b", {"$dict": {"k\udfff": "é"}}], "arrays": []}))
    assert value == ["a\ufffdb", {"k\ufffd": "é"}]
    "".join([value[0], *value[1]]).encode("utf-8")  # printable, writable


@pytest.mark.parametrize("data", [
    b"", b"\0\0\0", b"\0\0\0\5abc", b"\xff\xff\xff\xff", b"\0\0\0\2{}", b"\0\0\0\4null", b"\0\0\0\2[]",
    frame(b'{"tree": 1}'), frame(b'{"tree": 1, "arrays": {}}'), frame(b'{"tree": 1, "arrays": [], "x": 2}'),
    frame(b'{"tree": 1, "arrays": []}', b"extra"), frame(b'\xff\xfe{"tree"'), frame(b"[" * 100_000),
    frame(b'{"tree": ' + b"1" * 5000 + b', "arrays": []}'),  # beyond Python's int digits
    frame({"tree": {"$nd": 1}, "arrays": [["<f8", [1]]]}, b"\0" * 8),
    frame({"tree": {"$nd": True}, "arrays": []}), frame({"tree": {"$float": ["nan"]}, "arrays": []}),
    frame({"tree": {"$set": []}, "arrays": []}), frame({"tree": {"$nd": 0, "$tuple": []}, "arrays": []}),
    frame({"tree": [[[[[[[[[[[[[[1]]]]]]]]]]]]]], "arrays": []}),
    frame({"tree": 1, "arrays": [["<f8", [-1]]]}), frame({"tree": 1, "arrays": [["<f8", [2.0]]]}),
    frame({"tree": 1, "arrays": [["<f8", [True]]]}), frame({"tree": 1, "arrays": [["<f8", [2**40, 2**40]]]}),
    frame({"tree": 1, "arrays": [["<f8", [1] * 33]]}), frame({"tree": 1, "arrays": [["<f8", [3]]]}, b"\0" * 23),
    frame({"tree": 1, "arrays": [["<f8"]]}), frame({"tree": 1, "arrays": [[1, [1]]]}),
    bytearray(frame({"tree": 1, "arrays": []}) + b"x"), "not bytes", None, 42,
])
def test_every_malformed_message_raises_protocol_error_and_nothing_else(data):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(data, kinds=protocol.INPUT_KINDS)


def _valid_encodings() -> list:
    values = [
        {"type": "result", "id": "softmax/softmax/random-0", "status": "returned", "value": np.eye(3),
         "inputs_after": {"x": np.arange(6.0).reshape(2, 3), "axis": -1}, "output": "hé", "violations": []},
        {"type": "result", "value": (np.zeros((2, 2), np.float32), np.array([True, False])), "duration": 0.1},
        [1, 2.5, None, True, "word", {"k": [np.arange(3, dtype=">i2")]}, (float("nan"), float("-inf"))],
        {"value": np.array(["apple", "pear"]), "n": 10**18},
        np.arange(4, dtype=np.uint8),
    ]
    return [protocol.encode(v) for v in values]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    if len(data) < 5:
        return bytes(data) + bytes([rng.randrange(256)])
    (n,) = struct.unpack(">I", data[:4])
    choice = rng.randrange(9)
    if choice == 0:  # flip bytes anywhere
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif choice == 1:  # flip bytes of the header only
        for _ in range(rng.randint(1, 4)):
            data[4 + rng.randrange(max(1, min(n, len(data) - 4)))] = rng.choice(b'[]{}",:0123456789-e.$ndtupleU<>|')
    elif choice == 2:  # truncate
        del data[rng.randrange(len(data)):]
    elif choice == 3:  # extend
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif choice == 4:  # another length prefix
        data[:4] = struct.pack(">I", rng.choice([0, 1, n - 1, n + 1, n * 2, 2**31, 2**32 - 1, rng.randrange(2**32)]) % 2**32)
    else:  # rewrite the header's dtype codes, shapes or tags
        header = data[4:4 + n].decode("utf-8", "surrogateescape")
        text = rng.choice([
            lambda h: h.replace('"<f8"', json.dumps(rng.choice(["<i16", "<U0", "|O", "<f16", ">f8", "<U3", "|b1",
                                                                 "<U9999999", "<c16", "<M8", "=f8", ""]))),
            lambda h: h.replace('"|b1"', '"<U1"').replace('"<i8"', '"<f16"'),
            lambda h: h.replace("[3, 3]", json.dumps(rng.choice([[9, 9], [-3], [0, 3], [3.0, 3], ["3"], [2**62],
                                                                 [1] * 40, []]))),
            lambda h: h.replace('{"$nd": 0}', rng.choice(['{"$nd": 7}', '{"$nd": -1}', '{"$nd": "0"}', "[]",
                                                         '{"$nd": 0, "x": 1}', '{"$float": "1e999"}'])),
            lambda h: h.replace('"$tuple"', '"$dict"').replace('"$dict"', rng.choice(['"$tuple"', '"$set"'])),
            lambda h: h.replace("[", "[" * rng.choice([5, 20, 1000])),
        ])(header)
        data[4:4 + n] = text.encode("utf-8", "surrogateescape")
        if rng.random() < 0.5:  # a header of the right length, sometimes
            data[:4] = struct.pack(">I", len(text.encode("utf-8", "surrogateescape")))
    return bytes(data)


def test_fuzzed_frames_either_decode_or_raise_protocol_error():
    """Thousands of mutations of valid messages (seeded): decode returns or raises ProtocolError,
    never anything else, whatever kinds and header cap it is given."""
    rng = random.Random(20260601)
    seeds = _valid_encodings()
    outcomes = {"value": 0, "refused": 0}
    for i in range(6000):
        data = _mutate(rng, rng.choice(seeds))
        if rng.random() < 0.3:
            data = _mutate(rng, data)
        kwargs = {"kinds": rng.choice([protocol.ARRAY_KINDS, protocol.INPUT_KINDS]),
                  "max_header": rng.choice([None, protocol.MAX_HEADER, 64])}
        try:
            protocol.decode(data, **kwargs)
            outcomes["value"] += 1
        except protocol.ProtocolError:
            outcomes["refused"] += 1
        except BaseException as exc:  # pragma: no cover - the failure being tested
            pytest.fail(f"mutation {i} raised {type(exc).__name__}: {exc} (frame {data[:200]!r}…)")
    assert outcomes["value"] > 100 and outcomes["refused"] > 1000, outcomes  # the fuzzer reaches both


def test_a_header_over_max_header_is_refused_before_it_is_parsed(monkeypatch):
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(protocol.json, "loads", lambda raw, *a, **k: parsed.append(len(raw)) or real_loads(raw, *a, **k))
    big = protocol.encode({"value": "w" * (protocol.MAX_HEADER + 10)})
    with pytest.raises(protocol.ProtocolError, match="header"):
        protocol.decode(big, max_header=protocol.MAX_HEADER)
    assert parsed == []  # never handed to the parser
    assert protocol.decode(big)["value"] == "w" * (protocol.MAX_HEADER + 10)  # the grader's own requests: no cap
    assert parsed == [len(big) - 4]


def test_three_60_mb_frames_of_nested_empty_lists_cost_neither_time_nor_memory():
    """The attack measured at 5.7 GB and 84 s: refused from a bound on the values the header can
    hold, counted on its bytes without copying or parsing them."""
    header = b'{"tree": {"$dict": {"type": "result", "id": "x", "status": "returned", "value": [' + \
        b"[]," * 20_000_000 + b'[]]}}, "arrays": []}'
    data = struct.pack(">I", len(header)) + header
    del header
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for max_header in (None, None, protocol.MAX_HEADER):
            with pytest.raises(protocol.ProtocolError, match="values|header"):
                protocol.decode(data, kinds=protocol.INPUT_KINDS, max_header=max_header)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB allocated while refusing a {len(data) / 1e6:.0f} MB frame"


def test_the_value_count_bound_is_never_below_the_real_count():
    rng = random.Random(7)

    def tree(depth=0):
        pick = rng.randrange(6 if depth < 6 else 3)
        if pick == 0:
            return rng.choice([None, True, 1, 2.5, "a,b:[c]", ""])
        if pick == 1:
            return rng.random()
        if pick == 2:
            return "s" * rng.randrange(4)
        if pick == 3:
            return [tree(depth + 1) for _ in range(rng.randrange(5))]
        if pick == 4:
            return {"$tuple": [tree(depth + 1) for _ in range(rng.randrange(4))]}
        return {"$dict": {f"k{i}": tree(depth + 1) for i in range(rng.randrange(4))}}

    def count(value):
        if isinstance(value, list):
            return 1 + sum(map(count, value))
        if isinstance(value, dict):
            return 1 + sum(1 + count(v) for v in value.values())
        return 1

    for _ in range(500):
        header = json.dumps({"tree": tree(), "arrays": []}).encode()
        assert protocol._most_values(header, 0, len(header)) >= count(json.loads(header))


# --- compare: unexpected values are failed verdicts with plain messages -----------------------------

def test_a_str_array_of_the_right_shape_is_a_failed_verdict_naming_strings():
    words = np.array([["apple", "pear"], ["plum", "fig"]])
    verdict = compare_values(words, np.ones((2, 2)), TOL)
    assert verdict.status == "failed" and verdict.margin == math.inf
    assert verdict.message == ("the result is an array of strings (dtype <U5) where numbers are expected: "
                               "return the numbers themselves, not their text")
    assert compare_values(words, np.ones((2, 2)), EXACT).status == "failed"  # exact comparisons too
    assert "boolean" in compare_values(words, np.ones((2, 2), bool), TOL).message
    assert compare_values(np.array("0.5"), np.float64(0.5), TOL).status == "failed"


def test_an_int_too_large_for_a_float_is_a_failed_verdict():
    for huge in (10**400, -10**400):
        verdict = compare_values(huge, np.float64(0.998), TOL)
        assert verdict.status == "failed"
        assert verdict.message == (f"the result is an integer of about {'-' if huge < 0 else ''}10^400: too large for "
                                   f"a float (the largest is about 1.8e308)")
    assert compare_values(2**70, np.float64(2.0**70), TOL).status == "passed"  # large, but a float holds it
    assert compare_values(10**400, np.ones(3), TOL).message == \
        "the result should be a NumPy array, got a int (an integer of about 10^400)"
    assert compare_values([10**400, 3, 0], np.ones(3), TOL).status == "failed"
    verdict = compare_values([10**400, 3], [5, 3], EXACT)  # ids: an exact comparison quoting the huge int
    assert verdict.message == "the result: item 0 is an integer of about 10^400, expected 5 (2 items, expected 2)"


def test_differences_that_overflow_and_zero_tolerances_never_give_nan():
    verdict = compare_values(np.array([1e308, -1e308]), np.array([-1e308, 1e308]), TOL)
    assert verdict.status == "failed" and verdict.margin == math.inf and verdict.details["max_abs_error"] == math.inf
    zero = Tolerance(rtol=0.0, atol=0.0)
    assert compare_values(np.array([0.0, 1.0]), np.array([0.0, 1.0]), zero).status == "passed"
    assert compare_values(np.array([0.5]), np.array([0.0]), zero).margin == math.inf


def test_quote_is_bounded_in_size_and_never_builds_the_whole_text():
    class Untouchable(str):
        def __repr__(self):
            raise AssertionError("the whole repr was built")
        __str__ = __format__ = __repr__

    long_word = Untouchable("w" * 12_000_000)
    assert str(quote(long_word)) == "'" + "w" * 80 + "'… (12000000 characters in all)"
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)  # str() of a 400-digit int would raise: quote never calls it
    try:
        assert str(quote(10**400)) == "an integer of about 10^400"
        assert str(quote([10**401, 1])) == "[an integer of about 10^401, 1]"
    finally:
        sys.set_int_max_str_digits(old)
    assert [quote(v) for v in (np.bool_(True), np.float32(0.5), np.int64(7), np.str_("ab"), (1,))] == \
        ["True", "0.5", "7", "'ab'", "(1,)"]
    values = [list(range(10**6)), {"k": "v" * 10**6}, tuple(["x" * 10**6] * 3), np.zeros((10**3, 10**3)),
              np.array(["w" * 4096] * 100), np.str_("y" * 10**6), [[[[[["deep"]]]]]], b"b" * 10**6,
              object(), {"a": [1, (2, {"b": None})]}, float("nan"), np.float32(1.5), np.int64(-3), True, None,
              np.bool_(False)]
    for value in values:
        started = time.perf_counter()
        text = quote(value)
        assert time.perf_counter() - started < 0.05
        assert len(text) <= 200, (type(value), text)
        assert repr(text) == str(text) == f"{text!r}"  # already quoted: `!r` in a catalog adds nothing


def test_every_message_quoting_a_value_is_bounded(assignment):
    word = "w" * 12_000_000
    messages = [
        compare_values(word, "queen", EXACT).message,
        compare_values([word, "x"], ["a", "x"], EXACT).message,
        compare_values(["a", word], ["a"], EXACT).message,
        compare_values(["a"], ["a", word], EXACT).message,
        compare_values({"k": word}, "queen", EXACT).message,
        compare_values(word, np.zeros(3), TOL).message,
        compare_values(np.array([word[:4096]] * 3), np.array(["a", "b", "c"]), EXACT).message,
        compare_values(np.array([word[:4096]] * 3), np.array(["a", "b", "c"]), TOL).message,
        property_hint("embeddings", "analogy", {"words": ["king", "queen"], "a": "man"}, word),
        property_hint("embeddings", "analogy", {"words": ["king"], "a": word}, word),
        property_hint("embeddings", "skipgram_pairs", {"tokens": ["a", "b"]}, [[word, "a"]]),
        property_hint("embeddings", "skipgram_pairs", {}, [[word, "a"]]),
        property_hint("transformer", "generate", {"n_new": 1, "params": {"token_embedding": np.zeros((3, 2))}},
                      [10**400]),
    ]
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, ["analogy"]))
    case = next(c for c in plan.cases if plan.expected[c.id].error is None)
    spec = assignment.exercise(case.exercise).functions[case.function]
    messages.append(compare(case, spec, Expected({}, error="ValueError"), Outcome("returned", value=word)).message)
    for message in messages:
        assert message and len(message) < MESSAGE_LIMIT, message[:300]
        assert "characters in all" in message or "10^400" in message


# --- the input-mutation check, on whatever comes back ------------------------------------------------

def test_inputs_swapped_for_str_arrays_are_detected_as_modified():
    before = {"E": np.arange(6.0).reshape(2, 3), "params": {"W": np.ones(2)}, "tokens": ["a", "b"], "n": 3}
    assert _inputs_changed(before, {**before}) is None
    assert _inputs_changed(before, {**before, "E": np.full((2, 3), "zz")}) == "E"
    assert _inputs_changed(before, {**before, "E": before["E"].astype(np.float32)}) == "E"
    assert _inputs_changed(before, {**before, "params": {"W": np.array(["a", "b"])}}) == "params['W']"


@pytest.mark.parametrize("after", [
    None, 42, "text", [1, 2], {"E": None}, {"E": "w" * 10**6}, {"E": [[0.0] * 3] * 2}, {"E": np.arange(7)},
    {"E": np.zeros((2, 3), np.int64)}, {}, {"E": {"$nd": 0}}, {"params": "x", "extra": list(range(10**5))},
    {"E": np.arange(6.0).reshape(2, 3), "params": [np.ones(2)], "tokens": None},
    {"E": np.arange(6.0).reshape(2, 3), "params": {"W": np.ones(2), "x": 10**400}, "tokens": ["a"] * 10**5},
])
def test_anything_sent_back_as_inputs_after_never_crashes_the_mutation_check(after):
    before = {"E": np.arange(6.0).reshape(2, 3), "params": {"W": np.ones(2)}, "tokens": ["a", "b"]}
    changed = _inputs_changed(before, after)
    if isinstance(after, dict) and not (type(after.get("E")) is np.ndarray and after["E"].dtype == np.float64
                                        and after["E"].shape == (2, 3)):
        assert changed == "E"  # the array is gone, replaced, or of another dtype or shape
    elif isinstance(after, dict) and type(after.get("params")) is not dict:
        assert changed == "params"


# --- the engine: diagnosis, hints and judging contained per case -----------------------------------

def _hostile(value, outputs):
    """Values a forged or silly frame can carry (only what protocol.decode can produce)."""
    shape = np.shape(value) if isinstance(value, np.ndarray) else (3,)
    plain = [np.full(shape, "apple"), 10**400, -10**400, [10**400, 1], "w" * 1_000_000, None, True,
             float("nan"), float("inf"), 1e308, {"$nd": 0}, {"a": np.zeros(3)}, [], np.zeros((2,) * 8),
             np.arange(200_000), np.full(shape, 1e308), np.full(shape, -1e308), [["a", "b"]] * 3,
             np.array(["a", "b", "c"]), (1, 2, 3, 4)]
    if outputs:
        plain += [tuple(np.full(np.shape(v), "x") for v in value), tuple([10**400] * len(outputs)),
                  tuple(np.full(np.shape(v), -1e308) for v in value)]
    return plain


def test_diagnosis_hints_and_comparison_judge_hostile_values_of_every_function_as_failures(assignment):
    """For one case of each function, with the instructor's live mistake variants, every hostile
    value is judged — failed, with a bounded message and JSON-safe details — and never by the
    containment of an internal failure."""
    expectations = Expectations(assignment, use_reference=True)
    plan = expectations.plan(select_cases(assignment))
    seen = set()
    for case in plan.cases:
        expected = plan.expected[case.id]
        if case.function in seen or expected.error:
            continue
        seen.add(case.function)
        spec = assignment.exercise(case.exercise).functions[case.function]
        for value in _hostile(expected.value, spec.outputs):
            outcome = Outcome("returned", value=value, inputs_after=expected.inputs)
            verdict, diagnosis, mistake, details = contained(judge, case, spec, expected, outcome, plan.diagnoser)
            what = f"{case.id} with {quote(value)}"
            assert "internal_error" not in details, f"{what}: {verdict.message}"
            assert verdict.status == "failed", f"{what}: {verdict.status} {verdict.message}"
            assert len(verdict.message) < MESSAGE_LIMIT and len(diagnosis or "") < MESSAGE_LIMIT, what
            json.dumps(details, allow_nan=False)
    assert len(seen) >= 15


def test_every_property_hint_survives_hostile_values():
    for (exercise, function) in CHECKED:
        for value in _hostile(np.zeros((2, 3)), ("out", "weights")):
            hint = property_hint(exercise, function, {"x": np.array(["a"]), "ids": 10**400, "n_q": 10**400}, value)
            assert hint is None or len(hint) < MESSAGE_LIMIT


def test_one_case_whose_judging_fails_is_an_error_naming_the_grader_and_the_others_are_graded(
        assignment, solution, monkeypatch):
    import grader.grading.engine as engine
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment, ["softmax"]))
    victim = plan.cases[1].id
    real_compare = engine.compare

    def broken_compare(case, *args):
        if case.id == victim:
            raise ValueError("could not convert string to float: 'apple'")
        return real_compare(case, *args)

    monkeypatch.setattr(engine, "compare", broken_compare)
    result = engine.grade(assignment, solution, plan)
    cases = {c.id: c for c in result.cases}
    assert cases[victim].status == "error" and cases[victim].points == 0
    assert cases[victim].message == ("the grader could not judge this value: ValueError: could not convert string to "
                                     "float: 'apple'. This is the grader's failure, not a verdict on your code: tell "
                                     "your instructor")
    assert all(c.status == "passed" for cid, c in cases.items() if cid != victim)
    assert result.status == "ok"  # not counted as a worker crash
    validate_result(result.to_json())


def test_details_stay_json_safe_whatever_numbers_they_hold():
    details = {"max_abs_error": math.inf, "max_rel_error": -math.inf, "fraction": math.nan, "margin": math.inf,
               "mismatches": np.int64(3), "worst_index": (np.int64(1), 2), "student_value": np.float64("nan"),
               "huge": 10**400, "nested": {"margin": np.float64("-inf"), "x": [np.float32(1.5), {1, 2}]}}
    safe = json_safe(details)
    text = json.dumps(safe, allow_nan=False)
    assert safe["margin"] is None and safe["nested"]["margin"] is None
    assert safe["max_abs_error"] == "inf" and float(safe["max_rel_error"]) == -math.inf
    assert safe["huge"] == "an integer of about 10^400" and safe["worst_index"] == [1, 2]
    assert json.loads(text)["mismatches"] == 3


def test_refusals_are_deduplicated_in_linear_time_and_capped():
    """60,000 distinct refusals (and as many repeats) in one call: linear, at most MAX_PROBLEMS
    listed, the rest counted."""
    class Case:
        exercise = "embeddings"

    flood = [{"kind": "file", "name": f"writing /etc/forbidden-{i}", "phase": "embeddings"} for i in range(60_000)]
    outcomes = {"embeddings/one_hot/random-0": Outcome("returned", violations=flood + flood)}
    started = time.perf_counter()
    cases, exercises, texts = _refusals(outcomes, {"embeddings/one_hot/random-0": Case()}, None, {}, {}, [])
    assert time.perf_counter() - started < 5
    listed = [str(p) for p in texts["embeddings"].said()]
    assert len(listed) == MAX_PROBLEMS + 1 and listed[-1] == "… and 59980 more"
    assert cases["embeddings/one_hot/random-0"].render() == listed[0]
    problems = Problems()
    for text in ["b", "a", "b"]:
        problems.add(text)
    assert problems.said(ordered=True) == ["a", "b"] and problems.first() == "b"


def test_contained_turns_any_exception_into_that_cases_error_verdict():
    def judge_case(case):
        raise RecursionError("maximum recursion depth exceeded")

    verdict, diagnosis, mistake, details = contained(judge_case, object())
    assert isinstance(verdict, Verdict) and verdict.status == "error"
    assert verdict.message.startswith("the grader could not judge this value: RecursionError: maximum recursion")
    assert (diagnosis, mistake) == (None, None) and details["internal_error"] == "RecursionError"


# --- end to end, through the real CLI ---------------------------------------------------------------

def _append(path, code):
    path.write_text(path.read_text() + "\n\n" + code)


def test_the_cli_grades_strings_huge_ints_a_huge_word_and_swapped_inputs_as_failures(tmp_path):
    """One submission returning, each in its own function, words where numbers are expected, an
    int beyond any float (alone, and in a list on a lecture case), a 3 MB word, and inputs
    swapped for str arrays: exit 1 (failures), no traceback, every other function untouched,
    strict JSON valid against the schema, small messages, JSON and report."""
    folder = solution_folder(tmp_path / "exercises")
    _append(folder / "embeddings.py", '''
_right_one_hot = one_hot


def one_hot(ids, vocab_size):
    try:
        return np.full(_right_one_hot(ids, vocab_size).shape, "zero")
    except ValueError:
        raise


def analogy(words, E, a, b, c):
    return "w" * 3_000_000
''')
    _append(folder / "similarity.py", '''
_right_scaled = scaled_dot_product


def cosine_similarity(a, b, eps=1e-8):
    return 10 ** 400


def scaled_dot_product(a, b):
    return [10 ** 400] + [float(v) for v in np.ravel(_right_scaled(a, b))][1:]
''')
    _append(folder / "attention.py", '''
import sys as _sys

_right_similarity_attention = similarity_attention


def similarity_attention(E):
    result = _right_similarity_attention(E.copy())
    frame = _sys._getframe(1)
    while frame is not None and not isinstance(frame.f_locals.get("args"), dict):
        frame = frame.f_back
    frame.f_locals["args"]["E"] = np.full(E.shape, "zz")
    return result
''')
    out, report = tmp_path / "result.json", tmp_path / "report.html"
    proc = run_grade(folder, "--json", out, "--report", report, "--no-color")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    text = out.read_text()
    result = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON: JSON has no {name}"))
    validate_result(result)
    assert out.stat().st_size < 1_000_000 and report.stat().st_size < 5_000_000  # no quoted 12 MB word
    cases = {c["id"]: c for e in result["exercises"] for c in e["cases"]}

    def public(function):
        return [c for c in cases.values() if c["function"] == function and c["visibility"] == "public"]

    for case in cases.values():
        if case["function"] in ("one_hot", "analogy", "cosine_similarity", "scaled_dot_product",
                                "similarity_attention"):
            if case["id"] not in ("embeddings/one_hot/id-too-large", "embeddings/one_hot/negative-id",
                                  "embeddings/one_hot/minus-one"):  # expected-error cases: refused anyway
                assert case["status"] in ("failed", "error") and case["points"] == 0, case
                assert case["status"] == "failed" or case["function"] == "analogy", case
        else:
            assert case["status"] == "passed", case  # every other function keeps its full result
        assert len(case["message"]) < MESSAGE_LIMIT and len(case["diagnosis"] or "") < MESSAGE_LIMIT, case["id"]
    assert all("array of strings (dtype <U4)" in c["message"] for c in public("one_hot")
               if c["id"] not in ("embeddings/one_hot/id-too-large", "embeddings/one_hot/minus-one"))
    # quoted in 80 characters; or, where the grader caps a worker's header (protocol.MAX_HEADER), refused whole
    assert all("3000000 characters in all" in c["message"] or c["status"] == "error" and "header" in c["message"]
               for c in public("analogy"))
    assert cases["similarity/cosine_similarity/strawberry-apple"]["message"] == \
        "the result is an integer of about 10^400: too large for a float (the largest is about 1.8e308)"
    assert "should be a NumPy array" in cases["similarity/scaled_dot_product/slide-vectors"]["message"]
    assert all(c["message"].startswith("modified its input `E` in place") for c in public("similarity_attention"))
    assert "Points " in proc.stdout
