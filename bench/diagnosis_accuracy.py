"""How often diagnosis names the right mistake.

    python bench/diagnosis_accuracy.py [--seed N] [--only catalog|students|heldout] [--verbose]

Three corpora.

The catalog: for every mistake of `reference/mistakes.py`, a submission whose function is that
variant, graded on every case of its function (public and hidden). On each case it fails, the
grader's diagnosis must name that mistake — or a variant that returns exactly the same output on
that case (indistinguishable there, so not a confusion). Then the correct submissions: the
reference, and the reference computing in float32, must never get a diagnosis.

The students: `bench/student_mistakes/corpus.py`, single-mistake submissions written by hand
the way students write them (not from the catalog), each graded through the real pipeline
(worker, comparison, diagnosis, fix-first). Per language it counts what the student is told on
the public cases of the function they got wrong: *named* (a verdict or explanation says the
cause), *symptom* (an explanation without the cause), *no hint* (nothing but the verdict),
*wrong remedy* (an explanation proposing a fix that is not the cause), and the submissions in
which a function that is itself correct gets a hint. Targets: ≥ 90 % named, 0 wrong remedies,
0 hints on correct functions.

The held-out students: `bench/student_mistakes/heldout.py`, more single-mistake submissions
written after the diagnosis was tuned on the first corpus (no catalog variant was added for
them): the same pipeline and the same classification measure how the diagnosis generalises.

Prints Markdown tables; exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from grader.model.assignment import load_assignment  # noqa: E402
from grader.instructor.accuracy import accuracy, student_corpus  # noqa: E402

LANGUAGES = ("en", "fr")


def catalog(assignment, seed) -> bool:
    rows, false, correct_failing = accuracy(assignment, seed)
    print("| mistake | function | failing cases | named right | accuracy |")
    print("| --- | --- | ---: | ---: | ---: |")
    total = right = 0
    for m, failing, named, wrong in rows:
        total, right = total + failing, right + named
        print(f"| {m.name} | {m.exercise}.{m.function} | {failing} | {named} | "
              f"{(100 * named / failing if failing else 100):.0f}% |")
        for w in wrong[:3]:
            print(f"|   ↳ {w} | | | | |")
    print(f"\n{right}/{total} failing cases diagnosed right ({100 * right / max(total, 1):.1f}%); "
          f"{len(rows)} mistakes; correct submissions (float64 and float32): {correct_failing} failing cases, "
          f"{len(false)} diagnosed (false diagnoses)")
    for f in false[:10]:
        print("  false:", f)
    return right == total and not false


def students(assignment, seed, verbose: bool, corpus: str = "corpus") -> bool:
    import importlib

    from student_mistakes import build

    entries = importlib.import_module(f"student_mistakes.{corpus}").ENTRIES
    title = "Held-out student-written corpus" if corpus == "heldout" else "Student-written corpus"
    with tempfile.TemporaryDirectory(prefix="student-corpus-") as work:
        rows = student_corpus(assignment, entries, build, work, LANGUAGES, seed)
    print(f"\n### {title} ({len(rows)} submissions, "
          f"{len({e.function for e, _ in rows})} functions)\n")
    print("| language | detected | named | symptom only | no hint | wrong remedy | hints on correct functions "
          "| hidden only |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    n = len(rows)
    for lang in LANGUAGES:
        counts = Counter(found[lang]["outcome"] for _, found in rows)
        detected = sum(found[lang]["detected"] for _, found in rows)
        hidden = sum(found[lang]["detected"] and not found[lang]["public"] for _, found in rows)
        hinted = sum(bool(found[lang]["correct_hinted"]) for _, found in rows)
        print(f"| {lang} | {detected}/{n} | {counts['named']} ({100 * counts['named'] / n:.0f}%) | "
              f"{counts['symptom']} | {counts['no_hint']} | {counts['wrong_remedy']} | {hinted} | {hidden} |")
        ok = ok and counts["named"] >= 0.9 * n and counts["wrong_remedy"] == 0 and hinted == 0
    print("\n| submission | function | family | en | fr | correct functions hinted |")
    print("| --- | --- | --- | --- | --- | --- |")
    for entry, found in rows:
        marks = [found[lang]["outcome"] for lang in LANGUAGES]
        if not verbose and all(m == "named" for m in marks) and not found["en"]["correct_hinted"]:
            continue
        print(f"| {entry.id} | {entry.function} | {entry.family} | {marks[0]} | {marks[1]} | "
              f"{', '.join(found['en']['correct_hinted'])} |")
        if verbose:
            for text in found["en"]["shown"][:2]:
                print(f"|   ↳ {text[:300]} | | | | | |")
    return ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int)
    p.add_argument("--only", choices=("catalog", "students", "heldout"))
    p.add_argument("--verbose", action="store_true", help="every student submission and what it is told")
    args = p.parse_args(argv)
    assignment = load_assignment(ROOT / "assignment.yaml")
    ok = True
    if args.only in (None, "catalog"):
        ok = catalog(assignment, args.seed) and ok
    if args.only in (None, "students"):
        ok = students(assignment, args.seed, args.verbose) and ok
    if args.only in (None, "heldout"):
        ok = students(assignment, args.seed, args.verbose, "heldout") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
