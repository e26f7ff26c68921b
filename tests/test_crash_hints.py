"""Crashes explained in NumPy terms (grader/grading/crash_hints.py): the student's file:line and
a fix matched to the exception's signature, as data rendered in both languages; a correct
function calling a stub says which stub; end to end, the terminal shows the place and the fix."""
import pytest

from conftest import run_grade, solution_folder
from grader.grading.crash_hints import explain, innermost, stub_called


def exc(kind, message, code="x = 1", function="softmax", mro=None):
    return {"type": kind, "mro": mro or [kind, "Exception"], "message": message,
            "traceback": [f"exercises/softmax.py, line 7, in {function}\n    {code}"]}


CASES = [
    # (exception, student's line, words the English hint must contain, words the French one must)
    ("ValueError", "operands could not be broadcast together with shapes (6,7) (6,) ",
     "return e / np.sum(e, axis=axis)", ["keepdims=True", "(6, 7) became (6,)"], ["keepdims=True", "passez"]),
    ("ValueError", "shapes (3,2) and (3,2) not aligned: 2 (dim 1) != 3 (dim 0)",
     "return np.dot(a, b)", ["np.sum(a * b, axis=-1)", "@"], ["np.sum(a * b, axis=-1)"]),
    ("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
     "(n?,k),(k,m?)->(n?,m?) (size 2 is different from 4)", "scores = Q @ K.T / np.sqrt(d)",
     ["np.swapaxes(K, -1, -2)"], ["np.swapaxes(K, -1, -2)"]),
    # .T on a matrix that should not be transposed: not only the batched case's swapaxes
    ("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
     "(n?,k),(k,m?)->(n?,m?) (size 8 is different from 32)", "return h @ W2.T + b2",
     ["np.swapaxes", "transposed at all", "(in, out)"], ["bien être transposée"]),
    ("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
     "(n?,k),(k,m?)->(n?,m?) (size 12 is different from 8)", "return x @ E",
     ["A.shape[-1] == B.shape[-2]", "8 and 12", ".T"], ["8 et 12"]),
    ("ValueError", "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
     "if B == None:", ["is None"], ["is None"]),
    ("ValueError", "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
     "B = B or A", ["B = A if B is None else B"], ["B = A if B is None else B"]),
    ("ValueError", "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
     "if na == 0 or nb == 0:", ["np.where", "np.maximum"], ["np.where", "np.maximum"]),
    ("TypeError", "slice indices must be integers or None or have an __index__ method",
     "s = slice(h * d_k, (h + 1) * d_k)", ["//"], ["//"]),
    ("TypeError", "Cannot interpret '7' as a data type", "out = np.zeros(len(ids), vocab_size)",
     ["np.zeros((n, m))"], ["np.zeros((n, m))"]),
    ("ValueError", "could not broadcast input array from shape (28,14) into shape (28,13)",
     "PE[:, 1::2] = np.cos(angles)", ["odd", "d_model // 2"], ["impair"]),
    ("ValueError", "setting an array element with a sequence. The requested array has an inhomogeneous shape "
     "after 1 dimensions.", "x = x + multi_head_attention(h, W_q, W_k, W_v, W_o, n_heads, mask)",
     ["[0]", "(output, weights)"], ["[0]"]),
    ("AttributeError", "'numpy.ndarray' object has no attribute 'append'", "token_ids.append(nxt)",
     ["token_ids = list(token_ids)"], ["token_ids = list(token_ids)"]),
    ("AxisError", "axis 2 is out of bounds for array of dimension 2", "np.sum(x, axis=2)",
     ["-1"], ["-1"]),
    # the one call on the line that takes two sizes (E and token_ids read as arrays) is named, swapped
    ("ValueError", "operands could not be broadcast together with shapes (3,8) (8,3) ",
     "x = embed(token_ids, E) + positional_encoding(d, n)", ["(3, 8) and (8, 3)", "transpose", "wrong order",
                                                             "positional_encoding(d, n)", "positional_encoding(n, d)"],
     ["transposée", "mauvais ordre", "positional_encoding(n, d)"]),
    ("ValueError", "operands could not be broadcast together with shapes (4,6) (6,4) ",
     "return X + np.ones(len(X[0]), n)", ["np.ones(len(X[0]), n)", "np.ones(n, len(X[0]))"], ["np.ones(n, len(X[0]))"]),
    ("ValueError", "operands could not be broadcast together with shapes (4,6) (6,4) ",
     "h = f(n, d) + g(d, n)", ["f(n, d) and g(d, n)", "each against its signature"], ["f(n, d) et g(d, n)"]),
    # no call with two sizes: the transpose alone (an array's method is not a call to swap)
    ("ValueError", "operands could not be broadcast together with shapes (4,6) (6,4) ",
     "y = X + Y.reshape(d, n)", ["one is the other's transpose", ".T"], ["transposée"]),
    ("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
     "(n?,k),(k,m?)->(n?,m?) (size 20 is different from 5)",
     "return np.concatenate(heads) @ W_o, np.stack(weights, axis=-3)", ["axis 0", "axis=-1"], ["axe 0", "axis=-1"]),
    ("IndexError", "index 5 is out of bounds for axis 1 with size 3", "return E[:, ids].T",
     ["[:, ids]", "rows", "[ids]"], ["[:, ids]", "lignes", "[ids]"]),
]


@pytest.mark.parametrize("kind, message, code, en, fr", CASES, ids=[c[1][:30] for c in CASES])
def test_each_signature_names_its_fix_and_the_students_line(kind, message, code, en, fr):
    said = explain(exc(kind, message, code), "softmax")
    assert said is not None and said.key == "crash.at_because", said
    english, french = said.render("en"), said.render("fr")
    assert english.startswith(f"at exercises/softmax.py:7 ({code})")
    assert french.startswith(f"à exercises/softmax.py:7 ({code})")
    for word in en:
        assert word in english, english
    for word in fr:
        assert word in french, french


def test_an_unknown_crash_still_gets_its_place():
    said = explain(exc("ZeroDivisionError", "division by zero", "y = 1 / 0"), "softmax")
    assert said.key == "crash.at" and said.render("en") == "raised at exercises/softmax.py:7: y = 1 / 0"


def test_an_index_error_where_a_value_error_is_expected_says_to_check_the_range():
    said = explain(exc("IndexError", "index 10 is out of bounds for axis 0 with size 10", "return np.eye(V)[ids]"),
                   "one_hot", expected_error="ValueError")
    assert ">=" in said.render("en") and "ValueError" in said.render("en")


def test_untrusted_tracebacks_never_raise():
    for traceback in (None, [], [None, 3, "garbage"], ["x" * 100_000], "not a list"):
        assert explain({"type": "ValueError", "message": "m", "traceback": traceback}, "f") is None
    assert explain("not a dict", "f") is None
    assert innermost(["a.py, line 3, in f\n    y = 1"]).where == "a.py:3"


def test_a_stub_called_by_a_correct_function_is_named():
    stub = {"type": "NotImplementedError", "mro": ["NotImplementedError", "RuntimeError", "Exception"],
            "message": "", "traceback": ["exercises/attention.py, line 20, in attention_weights\n    return softmax(s)",
                                         "exercises/softmax.py, line 47, in softmax\n    raise NotImplementedError("]}
    assert stub_called(stub, "attention_weights", {"softmax", "attention_weights"}) == "softmax"
    assert stub_called(stub, "softmax", {"softmax", "attention_weights"}) is None


def test_end_to_end_the_terminal_shows_the_line_and_the_fix(tmp_path):
    folder = solution_folder(tmp_path / "crash" / "exercises")
    path = folder / "softmax.py"
    path.write_text(path.read_text().replace("return e / np.sum(e, axis=axis, keepdims=True)",
                                             "return e / np.sum(e, axis=axis)"))
    proc = run_grade(folder, "-k", "softmax", "attention_weights", "--no-color", "--report", tmp_path / "r.html")
    assert "likely: at exercises/softmax.py:" in proc.stdout, proc.stdout
    assert "keepdims=True" in proc.stdout
    # the correct caller says to fix softmax first, without a hint of its own
    lines = proc.stdout.splitlines()
    caller = [i for i, line in enumerate(lines) if "attention/attention_weights/" in line and "hidden" not in line]
    assert caller and all("fix softmax() first" in lines[i] for i in caller), proc.stdout
    assert all(not lines[i + 1].strip().startswith("likely:") for i in caller if i + 1 < len(lines))


def test_end_to_end_a_function_calling_a_stub_names_the_stub(tmp_path):
    folder = solution_folder(tmp_path / "stub" / "exercises")
    path = folder / "softmax.py"
    path.write_text(path.read_text().replace(
        "    e = np.exp(x - np.max(x, axis=axis, keepdims=True))", "    raise NotImplementedError\n    e = 0"))
    proc = run_grade(folder, "-k", "attention_weights", "--no-color", "--report", tmp_path / "r.html")
    assert "attention_weights() calls softmax(), which is not implemented yet" in proc.stdout, proc.stdout
