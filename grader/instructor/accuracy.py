"""How well diagnosis names the mistakes, over three corpora (bench/diagnosis_accuracy.py):

- `accuracy`: a corpus made from the variants themselves (`grade validate` too): each variant's
  failing outputs must be named as that variant, and the reference's own outputs (float64 and
  float32) never named at all;
- `student_corpus`: submissions written by hand the way students write them
  (bench/student_mistakes: corpus.py, and heldout.py written after the diagnosis was tuned on
  the first, to measure how it generalises), graded through the real pipeline, and `classify`: what the student
  is told on the public cases of the function they got wrong — named, symptom only, no hint,
  wrong remedy — and whether a correct function got a hint."""
from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np

from grader.grading.compare import compare
from grader.grading.diagnosis import Diagnoser, load_mistakes, variant_outputs
from grader.grading.engine import Expectations, select_cases
from grader.grading.variants import same_inputs
from grader.i18n import t
from grader.model.said import render
from grader.sandbox.supervisor import Outcome


def _run(fn, inputs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*copy.deepcopy(inputs).values()), None
        except Exception as exc:
            return None, exc


def _as_float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        with np.errstate(over="ignore"):  # huge-value cases become inf in float32, as a student's would
            return value.astype(np.float32)
    if isinstance(value, dict):
        return {k: _as_float32(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_as_float32(v) for v in value)
    return value


def accuracy(assignment, seed=None):
    """A corpus from the variants themselves: for each mistake, its output on every case of its
    function that it fails must be diagnosed as that mistake (or as a variant returning exactly
    the same output there: indistinguishable, so not a confusion); the reference, in float64 and
    float32, must never be diagnosed (neither a named mistake nor a generic relation). Returns
    ([(mistake, failing, named right, wrong)],
    [false diagnoses], failing cases of the correct submissions)."""
    mistakes = load_mistakes(assignment)
    diagnoser = Diagnoser(assignment, mistakes)
    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), seed=seed)
    rows = []
    for m in mistakes:
        failing = named = 0
        wrong = []
        for case in plan.cases:
            if case.function != m.function or case.exercise != m.exercise:
                continue
            expected = plan.expected[case.id]
            value, exc = _run(m.implementation, expected.inputs)
            if exc is not None or expected.error:
                continue  # an exception is explained by its message, not by diagnosis
            spec = assignment.exercise(case.exercise).functions[case.function]
            verdict = compare(case, spec, expected, Outcome("returned", value=value, inputs_after=expected.inputs))
            if verdict.status != "failed":
                continue
            failing += 1
            found = diagnoser.diagnose(case, expected.inputs, value, expected.value)
            twins = {name for name, out in variant_outputs(mistakes, case, expected.inputs).items()
                     if same_inputs(out, value)}
            if found is not None and (found.name == m.name or found.name in twins):
                named += 1
            else:
                wrong.append(t("diagnosis.confused", case=case.id,
                               found=found.name if found else t("diagnosis.nothing")))
        rows.append((m, failing, named, wrong))
    false, correct_failing = [], 0
    for label, convert in ((t("diagnosis.reference"), lambda v: v), (t("diagnosis.reference_float32"), _as_float32)):
        for case in plan.cases:
            expected = plan.expected[case.id]
            if expected.error:
                continue
            value, exc = _run(_reference_function(assignment, case), convert(expected.inputs))
            if exc is not None:
                continue
            spec = assignment.exercise(case.exercise).functions[case.function]
            verdict = compare(case, spec, expected, Outcome("returned", value=value, inputs_after=expected.inputs))
            if verdict.status != "failed":
                continue
            correct_failing += 1  # e.g. float32 beyond a float64 tolerance: a failure, but no mistake
            # neither a named mistake nor a generic relation (diagnosis.Related) may explain it
            if diagnoser.diagnose(case, expected.inputs, value, expected.value) is not None \
                    or diagnoser.relate(case, expected.inputs, value, expected.value) is not None:
                false.append(t("diagnosis.false_diagnosis", label=label, case=case.id))
    return rows, false, correct_failing


def _reference_function(assignment, case):
    return getattr(importlib.import_module(f"{assignment.reference}.{case.exercise}"), case.function)


# --- a corpus written by hand: what a student who makes a mistake is told ----------------------

OUTCOMES = ("named", "no_hint", "symptom", "wrong_remedy")


def _said_texts(case, lang):
    """(verdict, explanation, judged) of a case in `lang`: the explanation is the `likely:` line (a
    named mistake, a property hint, a crash explained); `judged` is the part of it that says why —
    for a crash, its hint alone: the line of the student's code it quotes would otherwise « name »
    any mistake whose words that line holds (`W2.T`)."""
    verdict = case.render(lang) or ""
    explanation = case.render_diagnosis(lang) or ""
    said = case.diagnosis_said
    judged = explanation
    if said is not None and said.key.startswith("crash.at"):
        hint = said.fields.get("hint")
        judged = render(hint, lang) if hint is not None else ""
    return verdict, explanation, judged


def _words(named, lang):
    if isinstance(named, dict):
        named = named.get(lang) or named.get("en") or []
    return [(w,) if isinstance(w, str) else tuple(w) for w in named]


def _says(text: str, alternatives) -> bool:
    low = text.lower()
    return any(all(word.lower() in low for word in words) for words in alternatives)


def classify(result, entry, lang: str) -> dict:
    """What the student who made `entry`'s mistake is told, in `lang`:
    {"outcome": named | no_hint | symptom | wrong_remedy, "detected": bool, "public": bool,
     "correct_hinted": [function, …], "shown": [texts]}. Only public cases count for what the
    student is told (a hidden case shows its verdict alone); every case counts for `detected`
    and for hints on correct functions (a function other than the one replaced)."""
    mine = [c for c in result.cases if c.function == entry.function]
    failing = [c for c in mine if not c.passed]
    public = [c for c in failing if c.visibility == "public"]
    alternatives = _words(entry.named, lang)
    wrong_words = [(w,) for w in entry.wrong]
    shown, explanations, named = [], [], False
    wrong = False
    for c in public:
        verdict, explanation, judged = _said_texts(c, lang)
        shown.append(verdict + (f"  ⟶ {explanation}" if explanation else ""))
        if explanation:
            explanations.append(explanation)
        if _says(verdict, alternatives) or (judged and _says(judged, alternatives)):
            named = True
        if judged and wrong_words and _says(judged, wrong_words):
            wrong = True
        said = c.diagnosis_said
        if said is not None and said.key == "diagnosis.known" and not _says(explanation, alternatives):
            wrong = True   # a catalog mistake named on a submission that does not make it
    outcome = "wrong_remedy" if wrong else "named" if named else "symptom" if explanations else "no_hint"
    hinted = sorted({c.function for c in result.cases if c.function != entry.function and c.diagnosis})
    return {"outcome": outcome, "detected": bool(failing), "public": bool(public), "correct_hinted": hinted,
            "shown": shown}


def student_corpus(assignment, entries, build, workdir, languages=("en", "fr"), seed=None):
    """Grade every entry of a hand-written corpus through the real pipeline (`build(entry,
    folder)` writes its submission) and classify what it is told in each language. Returns
    [(entry, {lang: classify(...)})]."""
    from pathlib import Path

    from grader.grading.engine import grade

    plan = Expectations(assignment, use_reference=True).plan(select_cases(assignment), seed=seed)
    rows = []
    for entry in entries:
        folder = build(entry, Path(workdir) / entry.id / "exercises")
        result = grade(assignment, folder, plan)
        rows.append((entry, {lang: classify(result, entry, lang) for lang in languages}))
    return rows
