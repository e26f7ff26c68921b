"""GitHub outputs from the engine's result JSON (`Result.to_json()`): a job summary, and the runner
result GitHub Classroom's autograding reporter reads.

    step_summary(result) -> str               GitHub-flavoured Markdown
    append_step_summary(result, path=None)    appends it to $GITHUB_STEP_SUMMARY (no-op when unset)
    classroom_result(result) -> dict          the runner result
    classroom_output(result) -> str           … as base64 JSON, the step output `result`
    write_classroom_output(result, path=None) appends `result=<base64>` to $GITHUB_OUTPUT (no-op when unset)

A reader of the result dict, never a second grading path.

GitHub Classroom — what the reporter reads. Sources (public action code):

* classroom-resources/autograding-python-grader, bin/run.sh — how a runner publishes its result:
      echo "result=$(jq -c . autograding_output/results.json | jq -sRr @base64)" >> "$GITHUB_OUTPUT"
* classroom-resources/autograding-io-grader, src/main.js — the shape of one result:
      const result = {
        version: 1,
        status,
        max_score: inputs.maxScore,
        tests: [{ name: inputs.testName, status, message,
                  test_code: `${inputs.command} <stdin>${inputs.input}`,
                  filename: '', line_no: 0, duration: endTime - startTime, score }],
      }
      core.setOutput('result', btoa(JSON.stringify(result)))
  with `let status = 'pass'` … `status = 'fail'`; the python grader's statuses are
  `Status.PASS / FAIL / ERROR` written as `value.name.lower()` ("pass", "fail", "error").
* classroom-resources/autograding-grading-reporter — how it decodes and scores:
  src/main.js
      const encodedResults = process.env[`${runner.trim().toUpperCase()}_RESULTS`];
      const json = Buffer.from(encodedResults, "base64").toString("utf-8");
      return { runner, results: JSON.parse(json) };
      ...
      if (runnerResults.some((r) => r.results.status === "fail")) { core.setFailed("Some tests failed.");
      } else if (runnerResults.some((r) => r.results.status === 'error')) { core.setFailed("Some tests errored.");
  src/notify-classroom.js — the points GitHub Classroom records:
      if (!results.max_score) return acc;
      acc.maxPoints += results.max_score;
      results.tests.forEach(({ score }) => { acc.totalPoints += score; });
      ...
      const text = `Points ${totalPoints}/${maxPoints}`;
      core.notice(text, { title: "Autograding complete" })
  src/console-results.js — the log students read:
      if (test.status === 'pass') { ... `✅ ${test.name}` (+ ` - line ${test.line_no}` if test.line_no !== 0)
      } else if (test.status === 'error') { console.log(`Error: ${test.message || ...}`)
      } else { `❌ ${test.name}` ... }
      if (test.test_code) { console.log(`Test code:\\n${test.test_code}\\n`) }
  src/helpers/test-helpers.js (console table only): getTestScore = passed / tests.length * max_score.

Consequences, all followed below:
* One test per case, `name` = case id; `status` "pass" (passed), "fail" (failed, violation,
  not_implemented, missing), "error" (error, timeout); top-level `status` "pass" when every case
  passed, "error" when the submission as a whole could not be graded (result status crash,
  invalid, timeout), "fail" otherwise.
* `score` per test, so that the reporter's running sum (`acc.totalPoints += score`, left to right,
  IEEE doubles — the same arithmetic as Python floats) is our score rounded to 2 decimals,
  exactly: cents are shared out by largest remainder among the passed cases, then the last
  passed case absorbs the binary rounding of the sum (a difference below 1e-12). `max_score` is
  ours. (The console table's "Test Score" column counts passed tests, not points: it can differ;
  the points GitHub Classroom records are the `Points X/Y` notice.)
* `line_no` is 0 (the console prints "line undefined" for a missing one), `filename` "".
* An "error" test is printed without its name, so its message starts with the case id.
* `test_code` holds the replay command for a public case that did not pass (printed under the
  verdict), and is empty otherwise: a passed case needs none, a hidden case has none.
* `duration` in milliseconds, as the io grader writes it.
* Messages are cut at 500 characters (as the python grader cuts captured output) so the base64
  stays far below what an environment variable can hold (the reporter reads it from one).

The step summary is Markdown for $GITHUB_STEP_SUMMARY: a points line, a table per exercise,
failing public cases with their messages in <details>, hidden cases only as counts; its words are
in the language of the run (grader/i18n.py, section export_github), the runner result's field
names and statuses never change (the reporter reads them). Messages are
student-influenced text: control characters and ANSI sequences removed, HTML escaped, table
pipes and Markdown punctuation backslash-escaped, newlines as <br>.
"""
from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

from .export_junit import ERROR_STATUSES, case_message, clean_text
from .i18n import t
from .replay import replay_command, result_seed

MESSAGE_LIMIT = 500
PASS, FAIL, ERROR = "pass", "fail", "error"


def verdict_label(status: str) -> str:
    """The verdict column of the summary's case tables ("FAIL", "todo"…); an unknown status escaped."""
    labels = {"failed": t("export_github.label.failed"), "error": t("export_github.label.error"),
              "timeout": t("export_github.label.timeout"), "not_implemented": t("export_github.label.not_implemented"),
              "missing": t("export_github.label.missing"), "violation": t("export_github.label.violation")}
    return labels.get(status) or md_escape(status)


def _cases(result: dict):
    for exercise in result.get("exercises", []):
        for case in exercise["cases"]:
            yield exercise, case


def _cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(value) -> str:
    return f"{float(value):.1f}"


# ---------------------------------------------------------------------------------------------
# the job summary

_MD_SPECIAL = "\\`*_[]|~"


def md_escape(text) -> str:
    """Student-influenced text inside a Markdown table cell or paragraph: no HTML, no table
    break, no accidental emphasis or link, one line."""
    text = html.escape(clean_text(text), quote=False)
    text = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
    return "<br>".join(line.strip() for line in text.splitlines())


def _code(text: str) -> str:
    text = clean_text(text)
    return f"`{text}`" if "`" not in text and "|" not in text and "\n" not in text else md_escape(text)


def step_summary(result: dict) -> str:
    exercises = result.get("exercises", [])
    cases = [c for _, c in _cases(result)]
    passed = sum(c["status"] == "passed" for c in cases)
    hidden_failing = [(e, c) for e, c in _cases(result) if c["status"] != "passed" and c["visibility"] == "hidden"]
    icon = "✅" if cases and passed == len(cases) else "❌"
    lines = [t("export_github.points", icon=icon, score=_points(result["score"]),
               max_score=_points(result["max_score"])), ""]
    student = result.get("student") or {}
    facts = [t("export_github.status", status=md_escape(result["status"])),
             t("export_github.cases_passed", passed=passed, total=len(cases))]
    if student.get("id"):
        facts.insert(0, t("export_github.student", id=md_escape(student["id"])))
    if result.get("expected_from") == "public-cases file":
        facts.append(t("export_github.public_only"))
    lines += [" · ".join(facts), ""]
    for note in result.get("notes", []):
        lines.append(t("export_github.note", note=md_escape(_cut(clean_text(note)))))
    if result.get("notes"):
        lines.append("")
    lines += [t("export_github.table.header"), "| --- | ---: | ---: |"]
    for e in exercises:
        mark = "✅" if e["passed"] == e["total"] else "❌"
        lines.append(f"| {mark} {md_escape(e['name'])} | {e['passed']}/{e['total']} | "
                     f"{_points(e['score'])} / {_points(e['max_score'])} |")
    total = t("export_github.table.total")
    lines += [f"| **{total}** | **{passed}/{len(cases)}** | "
              f"**{_points(result['score'])} / {_points(result['max_score'])}** |", ""]

    failing_public = [(e, [c for c in e["cases"] if c["status"] != "passed" and c["visibility"] != "hidden"])
                      for e in exercises]
    if any(cs for _, cs in failing_public) or any(e.get("problems") for e in exercises):
        lines += [t("export_github.failing.title"), ""]
        for e, failing in failing_public:
            if not failing and not e.get("problems"):
                continue
            lines += [t("export_github.failing.summary", count=len(failing),
                        exercise=html.escape(clean_text(e["name"]))), ""]
            for problem in e.get("problems", []):
                lines.append(t("export_github.failing.problem", problem=md_escape(_cut(clean_text(problem)))))
            todo = [c for c in failing if c["status"] == "not_implemented"]
            if todo:
                functions = list(dict.fromkeys(c["function"] for c in todo))
                lines.append(t("export_github.failing.not_implemented", count=len(functions),
                               functions=", ".join(_code(f) for f in functions)))
            others = [c for c in failing if c["status"] != "not_implemented"]
            if e.get("problems") or todo:
                lines.append("")
            if others:
                lines += [t("export_github.failing.header"), "| --- | --- | --- |"]
                for c in others:
                    message = md_escape(_cut(case_message(c)))
                    if c.get("diagnosis"):
                        message += "<br>" + md_escape(_cut(clean_text(c["diagnosis"])))
                    lines.append(f"| {_code(c['id'])} | {verdict_label(c['status'])} | {message} |")
                lines.append("")
            lines += ["</details>", ""]
        if any(c["status"] != "not_implemented" for _, cs in failing_public for c in cs):
            lines += [t("export_github.replay", command=_code(replay_command("CASE_ID"))), ""]
    if hidden_failing:
        per_exercise = {}
        for e, _ in hidden_failing:
            per_exercise[e["name"]] = per_exercise.get(e["name"], 0) + 1
        detail = ", ".join(f"{md_escape(name)}: {n}" for name, n in per_exercise.items())
        lines += [t("export_github.hidden", count=len(hidden_failing), detail=detail), ""]
    return "\n".join(lines)


def append_step_summary(result: dict, path=None):
    """Append the summary to `path`, else to the file named by $GITHUB_STEP_SUMMARY; no-op (None)
    when neither is given. Returns the path written."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(step_summary(result) + "\n")
    return Path(target)


# ---------------------------------------------------------------------------------------------
# GitHub Classroom

def classroom_status(case_status: str) -> str:
    if case_status == "passed":
        return PASS
    return ERROR if case_status in ERROR_STATUSES else FAIL


def _js_sum(values) -> float:
    """The reporter's `acc.totalPoints += score`, from 0, left to right."""
    total = 0
    for value in values:
        total += value
    return total


def _cents(value) -> int:
    """round(value, 2) in cents, with Python's rounding (the number our tests compare)."""
    return int(round(round(float(value), 2) * 100))


def case_scores(result: dict) -> list:
    """One score per case, in order, whose running sum (the reporter's) is round(score, 2)
    exactly; only passed cases score, none more than its points rounded up to the cent."""
    cases = [c for _, c in _cases(result)]
    micro = [int(round(float(c["points"]) * 1_000_000)) if c["status"] == "passed" else 0 for c in cases]
    cents = [m // 10_000 for m in micro]
    missing = _cents(result["score"]) - sum(cents)
    order = sorted((i for i, m in enumerate(micro) if m > 0), key=lambda i: (-(micro[i] % 10_000), i))
    while missing > 0 and order:  # largest remainder first
        for i in order[:missing]:
            cents[i] += 1
        missing -= min(missing, len(order))
    while missing < 0:  # the floors overshoot (a score inconsistent with its cases): smallest remainder first
        candidates = [i for i in reversed(order) if cents[i] > 0][:-missing]
        if not candidates:
            break
        for i in candidates:
            cents[i] -= 1
        missing += len(candidates)
    scores = [c / 100 for c in cents]
    goal = _cents(result["score"]) / 100
    for last in reversed([i for i, s in enumerate(scores) if s > 0]):
        if _js_sum(scores) == goal:
            break
        # binary rounding of the running sum: one scorer absorbs it (a change below 1e-12)
        trial = list(scores)
        trial[last] = goal - _js_sum(scores[:last]) - _js_sum(scores[last + 1:])
        if abs(trial[last] - scores[last]) < 1e-9 and _js_sum(trial) == goal:
            scores = trial
    return scores


def classroom_result(result: dict) -> dict:
    cases = list(_cases(result))
    scores = case_scores(result)
    if result.get("status") in ("crash", "invalid", "timeout"):
        status = ERROR
    elif cases and all(c["status"] == "passed" for _, c in cases):
        status = PASS
    else:
        status = FAIL
    tests = []
    for (exercise, case), score in zip(cases, scores):
        test_status = classroom_status(case["status"])
        message = None if test_status == PASS else _cut(case_message(case))
        if test_status == ERROR:  # the reporter prints an error's message without the test's name
            message = f"{clean_text(case['id'])}: {message}"
        replay = test_status != PASS and case["visibility"] != "hidden"
        tests.append({
            "name": clean_text(case["id"]),
            "status": test_status,
            "score": score,
            "message": message,
            "test_code": replay_command(case["id"], seed=result_seed(result)) if replay else "",
            "filename": "",
            "line_no": 0,
            "duration": int(round(float((case.get("details") or {}).get("duration") or 0) * 1000)),
        })
    return {"version": 1, "status": status, "max_score": round(float(result["max_score"]), 2), "tests": tests}


def classroom_output(result: dict) -> str:
    """The step output `result`: base64 of the compact JSON, one line, as the runners write it."""
    text = json.dumps(classroom_result(result), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def write_classroom_output(result: dict, path=None):
    """Append `result=<base64>` to `path`, else to the file named by $GITHUB_OUTPUT; no-op (None)
    when neither is given. Returns the path written.

    In the workflow: `id: grade` on this step, then the reporter with
    `env: GRADE_RESULTS: "${{ steps.grade.outputs.result }}"` and `with: runners: grade`."""
    target = path or os.environ.get("GITHUB_OUTPUT")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"result={classroom_output(result)}\n")
    return Path(target)
