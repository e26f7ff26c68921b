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
  not_implemented, missing), "error" (error, timeout) — the `classroom` column of
  grader/model/statuses.py; top-level `status` "pass" when every case
  passed, "error" when the submission as a whole could not be graded (result status crash,
  invalid, timeout), "fail" otherwise.
* `score` per test, so that the reporter's running sum (`acc.totalPoints += score`, left to right,
  IEEE doubles — the same arithmetic as Python floats) is our exact score, the JSON's
  `round(score, 6)`: millionths are shared out among the passed cases, then the last passed case
  absorbs the binary rounding of the sum (a difference below 1e-12). `max_score` is ours. The
  notice `Points X/Y` — what GitHub Classroom records — is then the JSON's score (JavaScript and
  Python both print a double as its shortest round-trip decimal).
* The console table of the released v1 (dist/main.js) is another number:
      getTestScore = A => A.tests.reduce((r,{status:s}) => s==="pass" ? r+1 : r, 0) / e.length * (max_score||0)
  passed tests × max_score / tests, whatever each test's score; and "Total points for grade:
  X.toFixed(2)/max" prints it. No set of tests of equal weight can make it our score in general
  (10/14 of an exercise is 0.714285…), so the step summary says which number Classroom records
  (`classroom_note`).
* The job's colour: the reporter calls `core.setFailed` when the top-level `status` is "fail" or
  "error". Ours follows `grade --ci`'s exit status: "pass" when the score reaches `--min-score`
  (without it: when every case passes), "error" when the submission could not be graded, else
  "fail" — so the reporter turns the job red exactly when `grade --ci` does.
* The whole payload (base64) stays within PAYLOAD_BUDGET bytes: the reporter reads it from one
  environment variable, which Linux caps at 128 KiB (MAX_ARG_STRLEN), and 500 characters of
  emoji are 2,000 bytes. When it would not fit, every message (then every replay command) is cut
  to the same number of bytes, at a character boundary (valid UTF-8), with a word saying so.
* `line_no` is 0 (the console prints "line undefined" for a missing one), `filename` "".
* An "error" test is printed without its name, so its message starts with the case id.
* `test_code` holds the replay command for a public case that did not pass (printed under the
  verdict), and is empty otherwise: a passed case needs none, a hidden case has none.
* `duration` in milliseconds, as the io grader writes it.
* Messages are cut at 500 characters (as the python grader cuts captured output), then to the
  byte budget above.
* A submission that could not be graded at all (no case: an empty folder, a notebook that is not
  JSON) is one "error" test named "submission", score 0, its message the reason.

The step summary is Markdown for $GITHUB_STEP_SUMMARY: a points line, a table per exercise,
failing public cases with their messages in <details>, hidden cases only as counts; its words are
in the language of the run (grader/i18n/__init__.py, sections export_github and status: a verdict is
its status's tag, "FAIL", "todo"…), the runner result's field
names and statuses never change (the reporter reads them).

Messages, notes, problems and student ids are student-influenced text, rendered by GitHub as
Markdown: bounded (grader.model.result.clip_text), control characters, ANSI sequences and bidirectional
controls removed (export/junit.py clean_text), then (`md_text`) every word that GitHub would turn into
a link or a notification — a URL (`://`, `www.`, `scheme:…`), an e-mail address or an @mention,
an issue reference `#12` — goes into an inline code span (`md_code`: delimited by one more backtick
than its longest run of backticks, so it cannot close early), where Markdown shows it as it is; the
other words are HTML-escaped (no raw HTML: `<img>`, `</details>`, `</table>` are text) and their
Markdown punctuation backslash-escaped (no emphasis, link or image syntax, no `$` math); table pipes
are escaped, in code spans too, and newlines become <br>, so a message stays in its table cell.
In the Classroom result, messages are on one line (newlines as ⏎) and never hold "##[": the
reporter prints them to the job's log, where a line starting with "::" or holding "##[" would be
a workflow command (a fake annotation, a mask).
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from pathlib import Path

from grader.export.junit import case_message, clean_text, replay_seed
from grader.i18n import t
from grader.model.replay import replay_command
from grader.model.result import QUOTE, as_real, bounded_repr, shown_points
from grader.model.statuses import ClassroomStatus, describe
from grader.model import truncation

MESSAGE_LIMIT = 500
PAYLOAD_BUDGET = 64 * 1024     # bytes of base64, well under Linux's 128 KiB for one environment variable
MIN_MESSAGE_BYTES = 200        # a message cut to fewer bytes than this: the replay commands are dropped first
UNITS = 1_000_000              # a test's score is a whole number of millionths (the JSON's 6 decimals)
PASS, FAIL, ERROR = "pass", "fail", "error"
NOT_GRADED = ("crash", "invalid", "timeout", "error")   # a submission's status: nothing (more) to grade


def verdict_label(status: str) -> str:
    """The verdict column of the summary's case tables ("FAIL", "todo"…); an unknown status escaped."""
    return md_escape(clean_text(describe(status).tag(), QUOTE))


def _exercises(result: dict) -> list[dict]:
    exercises = result.get("exercises")
    return [e for e in exercises if isinstance(e, dict)] if isinstance(exercises, list) else []


def _cases(result: dict):
    for exercise in _exercises(result):
        cases = exercise.get("cases")
        for case in cases if isinstance(cases, list) else []:
            if isinstance(case, dict):
                yield exercise, case


def _cut(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _points(value) -> str:
    """A score as people read it (grader.model.result.shown_points); a value that is no number as
    it is, bounded and escaped."""
    v = as_real(value)
    if math.isnan(v) and not isinstance(value, float):
        return md_code(bounded_repr(value, 60))
    return shown_points(v)


def _score(value) -> float:
    """A score for the Classroom result: a finite float (JSON without NaN), 0 for anything else."""
    v = as_real(value)
    return v if math.isfinite(v) else 0.0


def _count(value) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else md_code(bounded_repr(value, 60))


# ---------------------------------------------------------------------------------------------
# the job summary

_MD_SPECIAL = "\\`*_[]|~$"
_BACKTICKS = re.compile(r"`+")
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_WORDS = re.compile(r"\s+")
# a word GitHub could make a link or a notification of: a URL, a scheme (mailto:, javascript:),
# www., an e-mail address or @mention, an issue reference (#12)
_LINKABLE = re.compile(r"@|:\S|www\.|#\d", re.IGNORECASE)


def md_escape(text) -> str:
    """Text inside a Markdown table cell or paragraph, for the grader's own words (exercise names,
    statuses): no HTML, no table break, no accidental emphasis or link, one line."""
    text = html.escape(clean_text(text), quote=False)
    text = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
    return "<br>".join(line.strip() for line in text.splitlines())


def md_code(text, table: bool = True) -> str:
    """Text as one inline code span, which GitHub shows as it is (no link, mention, HTML,
    emphasis): on one line (newlines as ⏎), delimited by one more backtick than its longest run of
    backticks, padded with a space when it starts or ends with one; `|` escaped in a table cell
    (GFM splits cells before it reads code spans)."""
    text = _LINE_BREAK.sub("⏎", clean_text(text))
    if not text.strip():
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " "):
        text = f" {text} "
    return fence + (text.replace("|", "\\|") if table else text) + fence


def md_text(text, table: bool = True) -> str:
    """Student-influenced text (a message, a note) as Markdown GitHub cannot turn into anything
    else: a word it could make a link or a notification of goes into a code span (`md_code`);
    the others are HTML-escaped and their Markdown punctuation backslash-escaped; lines are
    joined with <br>. Bounded by the caller (MESSAGE_LIMIT), cleaned here."""
    lines = []
    for line in _LINE_BREAK.split(clean_text(text)):
        words = []
        for word in _WORDS.split(line.strip()):
            if _LINKABLE.search(word):
                words.append(md_code(word, table))
            else:
                escaped = html.escape(word, quote=False)
                words.append("".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in escaped))
        lines.append(" ".join(w for w in words if w))
    return "<br>".join(lines)


def _code(text) -> str:
    """An identifier of ours (a case id, a function, a command) as code."""
    return md_code(text)


def _list(value) -> list:
    return value if isinstance(value, list) else []


def js_number(value) -> str:
    """A double as JavaScript's String(x) writes it (the reporter's notice): the shortest decimal
    that reads back as it, without a trailing ".0"."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def js_fixed2(value) -> str:
    """JavaScript's x.toFixed(2): the exact binary value rounded half up."""
    from decimal import ROUND_HALF_UP, Decimal
    return str(Decimal(float(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def classroom_note(result: dict, min_score: float | None = None) -> str:
    """What GitHub Classroom shows and records, in words, for the step summary: the notice's
    points (what Classroom records: our score), the reporter's count-based table (not the grade),
    and why the job is red or green."""
    data = classroom_result(result, min_score)
    tests = data["tests"]
    passed = sum(test["status"] == PASS for test in tests)
    maximum = data["max_score"]
    count_based = passed / len(tests) * maximum if tests else 0.0
    lines = [t("export_github.classroom.records", score=js_number(_js_sum(test["score"] for test in tests)),
               max_score=js_number(maximum)),
             t("export_github.classroom.table", passed=passed, total=len(tests), max_score=js_number(maximum),
               count_based=js_fixed2(count_based))]
    if data["status"] == ERROR:
        lines.append(t("export_github.classroom.red_error"))
    elif min_score is not None:
        lines.append(t("export_github.classroom.green_min", min_score=js_number(min_score)) if data["status"] == PASS
                     else t("export_github.classroom.red_min", min_score=js_number(min_score)))
    else:
        lines.append(t("export_github.classroom.green_all") if data["status"] == PASS
                     else t("export_github.classroom.red_all"))
    return "\n".join(f"> {line}" for line in lines)


def step_summary(result: dict, classroom: bool = False, min_score: float | None = None) -> str:
    exercises = _exercises(result)
    cases = [c for _, c in _cases(result)]
    passed = sum(c.get("status") == "passed" for c in cases)
    hidden_failing = [(e, c) for e, c in _cases(result)
                      if c.get("status") != "passed" and c.get("visibility") == "hidden"]
    icon = "✅" if cases and passed == len(cases) else "❌"
    lines = [t("export_github.points", icon=icon, score=_points(result.get("score")),
               max_score=_points(result.get("max_score"))), ""]
    student = result.get("student") if isinstance(result.get("student"), dict) else {}
    facts = [t("export_github.status", status=md_escape(_cut(clean_text(result.get("status"), QUOTE)))),
             t("export_github.cases_passed", passed=passed, total=len(cases))]
    if student.get("id"):
        facts.insert(0, t("export_github.student", id=md_code(student["id"], table=False)))
    if result.get("expected_from") == "public-cases file":
        facts.append(t("export_github.public_only"))
    lines += [" · ".join(facts), ""]
    notes = _list(result.get("notes"))
    for note in notes[:truncation.LISTED_SHORT]:
        lines.append(t("export_github.note", note=md_text(_cut(clean_text(note)), table=False)))
    if notes:
        lines.append("")
    lines += [t("export_github.table.header"), "| --- | ---: | ---: |"]
    for e in exercises:
        mark = "✅" if e.get("passed") == e.get("total") else "❌"
        lines.append(f"| {mark} {md_escape(clean_text(e.get('name'), QUOTE))} | {_count(e.get('passed'))}/"
                     f"{_count(e.get('total'))} | {_points(e.get('score'))} / {_points(e.get('max_score'))} |")
    total = t("export_github.table.total")
    lines += [f"| **{total}** | **{passed}/{len(cases)}** | "
              f"**{_points(result.get('score'))} / {_points(result.get('max_score'))}** |", ""]

    failing_public = [(e, [c for _, c in _cases({"exercises": [e]})
                           if c.get("status") != "passed" and c.get("visibility") != "hidden"])
                      for e in exercises]
    if any(cs for _, cs in failing_public) or any(_list(e.get("problems")) for e in exercises):
        lines += [t("export_github.failing.title"), ""]
        for e, failing in failing_public:
            problems = _list(e.get("problems"))
            if not failing and not problems:
                continue
            lines += [t("export_github.failing.summary", count=len(failing),
                        exercise=html.escape(clean_text(e.get("name"), QUOTE))), ""]
            for problem in problems[:truncation.LISTED_SHORT]:
                lines.append(t("export_github.failing.problem",
                               problem=md_text(_cut(clean_text(problem)), table=False)))
            todo = [c for c in failing if c.get("status") == "not_implemented"]
            if todo:
                functions = list(dict.fromkeys(clean_text(c.get("function"), QUOTE) for c in todo))
                lines.append(t("export_github.failing.not_implemented", count=len(functions),
                               functions=", ".join(md_code(f, table=False) for f in functions)))
            others = [c for c in failing if c.get("status") != "not_implemented"]
            if problems or todo:
                lines.append("")
            if others:
                lines += [t("export_github.failing.header"), "| --- | --- | --- |"]
                for c in others:
                    message = md_text(_cut(case_message(c)))
                    if c.get("diagnosis"):
                        message += "<br>" + md_text(_cut(clean_text(c["diagnosis"])))
                    lines.append(f"| {_code(c.get('id'))} | {verdict_label(c.get('status'))} | {message} |")
                lines.append("")
            lines += ["</details>", ""]
        if any(c.get("status") != "not_implemented" for _, cs in failing_public for c in cs):
            lines += [t("export_github.replay", command=md_code(replay_command("CASE_ID"), table=False)), ""]
    if hidden_failing:
        per_exercise = {}
        for e, _ in hidden_failing:
            name = clean_text(e.get("name"), QUOTE)
            per_exercise[name] = per_exercise.get(name, 0) + 1
        detail = ", ".join(f"{md_escape(name)}: {n}" for name, n in per_exercise.items())
        lines += [t("export_github.hidden", count=len(hidden_failing), detail=detail), ""]
    if classroom:
        lines += [classroom_note(result, min_score), ""]
    return "\n".join(lines)


def append_step_summary(result: dict, path=None, min_score: float | None = None, classroom: bool | None = None):
    """Append the summary to `path`, else to the file named by $GITHUB_STEP_SUMMARY; no-op (None)
    when neither is given. Returns the path written. `classroom` (default: $GITHUB_OUTPUT is set,
    so the Classroom result is written too) adds what Classroom records and why the job is red."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    if classroom is None:
        classroom = bool(os.environ.get("GITHUB_OUTPUT"))
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(step_summary(result, classroom, min_score) + "\n")
    return Path(target)


# ---------------------------------------------------------------------------------------------
# GitHub Classroom

def classroom_status(case_status: str) -> ClassroomStatus:
    """A case's status as the Classroom reporter reads it: "pass", "fail" or "error"."""
    return describe(case_status).classroom


def _js_sum(values) -> float:
    """The reporter's `acc.totalPoints += score`, from 0, left to right."""
    total = 0
    for value in values:
        total += value
    return total


def _units(value) -> int:
    """round(value, 6) in millionths (the JSON's score); 0 for a value that is no finite number."""
    return int(round(round(min(max(_score(value), -1e12), 1e12), 6) * UNITS))


def case_scores(result: dict) -> list:
    """One score per case, in order, whose running sum (the reporter's) is the JSON's score,
    round(score, 6), exactly; only passed cases score, each within a few millionths of its
    points."""
    cases = [c for _, c in _cases(result)]
    units = [max(0, _units(c.get("points"))) if c.get("status") == "passed" else 0 for c in cases]
    goal = _units(result.get("score"))
    missing = goal - sum(units)
    scorers = [i for i, u in enumerate(units) if u > 0]
    if missing > 0 and scorers:            # each case's points rounded down: share out the rest
        share, extra = divmod(missing, len(scorers))
        for rank, i in enumerate(scorers):
            units[i] += share + (rank < extra)
    elif missing < 0:                       # rounded up, or a score inconsistent with its cases
        for i in sorted(scorers, key=lambda i: -units[i]):
            take = min(units[i], -missing)
            units[i] -= take
            missing += take
            if not missing:
                break
    scores = [u / UNITS for u in units]
    target = goal / UNITS
    for last in reversed([i for i, s in enumerate(scores) if s > 0]):
        if _js_sum(scores) == target:
            break
        # binary rounding of the running sum: one scorer absorbs it (a change below 1e-12)
        trial = list(scores)
        trial[last] = target - _js_sum(scores[:last]) - _js_sum(scores[last + 1:])
        if abs(trial[last] - scores[last]) < 1e-9 and _js_sum(trial) == target:
            scores = trial
    return scores


def top_status(result: dict, min_score: float | None = None) -> str:
    """The runner result's `status`, which decides the job's colour (the reporter fails the job on
    "fail" and "error"): as `grade --ci`'s exit status decides it."""
    if result.get("status") in NOT_GRADED:
        return ERROR
    cases = [c for _, c in _cases(result)]
    if min_score is not None:
        return PASS if as_real(result.get("score")) >= min_score - 1e-9 else FAIL
    return PASS if cases and all(c.get("status") == "passed" for c in cases) else FAIL


def _cut_bytes(text: str, limit: int | None) -> str:
    """`text` in at most `limit` UTF-8 bytes (None: whole), cut at a character boundary, with a
    word saying it was cut."""
    if limit is None or len(text.encode("utf-8")) <= limit:
        return text
    mark = t("export_github.classroom_cut")
    room = max(0, limit - len(mark.encode("utf-8")))
    return text.encode("utf-8")[:room].decode("utf-8", "ignore") + mark


def _submission_reason(result: dict) -> str:
    notes = [clean_text(n) for n in _list(result.get("notes")) if n]
    return " ".join(notes) or describe(result.get("status")).word()


def classroom_result(result: dict, min_score: float | None = None, message_bytes: int | None = None,
                     code_bytes: int | None = None) -> dict:
    """The runner result; `message_bytes` and `code_bytes` cut every message and replay command to
    that many bytes (classroom_output chooses them to fit PAYLOAD_BUDGET)."""
    cases = list(_cases(result))
    scores = case_scores(result)
    tests = []
    for (exercise, case), score in zip(cases, scores):
        test_status = classroom_status(case.get("status"))
        name = clean_text(case.get("id"), QUOTE)
        message = None if test_status == PASS else _log_line(_cut(case_message(case)))
        if test_status == ERROR:  # the reporter prints an error's message without the test's name
            message = f"{_log_line(name)}: {message}"
        replay = test_status != PASS and case.get("visibility") != "hidden"
        details = case.get("details") if isinstance(case.get("details"), dict) else {}
        duration = _score(details.get("duration"))
        code = _log_line(replay_command(name, seed=replay_seed(result))) if replay else ""
        tests.append({
            "name": name,
            "status": test_status,
            "score": score,
            "message": None if message is None else _cut_bytes(message, message_bytes),
            "test_code": _cut_bytes(code, code_bytes) if code_bytes != 0 else "",
            "filename": "",
            "line_no": 0,
            "duration": int(round(min(max(duration, 0.0), 1e9) * 1000)),
        })
    if not tests:  # nothing graded (an unreadable submission): one error test says why
        message = f"submission: {_log_line(_cut(_submission_reason(result)))}"
        tests.append({"name": "submission", "status": ERROR, "score": 0,
                      "message": _cut_bytes(message, message_bytes), "test_code": "", "filename": "",
                      "line_no": 0, "duration": 0})
    return {"version": 1, "status": top_status(result, min_score),
            "max_score": round(_score(result.get("max_score")), 6), "tests": tests}


def _log_line(text: str) -> str:
    """Text the reporter prints to the job's log: one line (newlines as ⏎), no "##[", so no
    workflow command can start in it."""
    return _LINE_BREAK.sub("⏎", text).replace("##[", "#\u200b#[")


def _encode(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def classroom_output(result: dict, min_score: float | None = None, budget: int = PAYLOAD_BUDGET) -> str:
    """The step output `result`: base64 of the compact JSON, one line, as the runners write it, in
    at most `budget` bytes: when the whole would not fit, every message is cut to the largest
    equal number of bytes that fits (then every replay command, then the names)."""
    encoded = _encode(classroom_result(result, min_score))
    if len(encoded) <= budget:
        return encoded
    for code_bytes, floor in ((None, MIN_MESSAGE_BYTES), (0, 0)):   # the replay commands go before the verdicts do
        low, high, best = floor, MESSAGE_LIMIT * 4, None
        while low <= high:              # the largest message size that fits
            middle = (low + high) // 2
            trial = _encode(classroom_result(result, min_score, middle, code_bytes))
            if len(trial) <= budget:
                best, low = trial, middle + 1
            else:
                high = middle - 1
        if best is not None:
            return best
    data = classroom_result(result, min_score, 0, 0)   # thousands of cases: short names too
    for test in data["tests"]:
        test["name"] = _cut_bytes(test["name"], 40)
    return _encode(data)


def write_classroom_output(result: dict, path=None, min_score: float | None = None):
    """Append `result=<base64>` to `path`, else to the file named by $GITHUB_OUTPUT; no-op (None)
    when neither is given. Returns the path written. `min_score`: `grade --ci --min-score`.

    In the workflow: `id: grade` on this step, then the reporter with
    `env: GRADE_RESULTS: "${{ steps.grade.outputs.result }}"` and `with: runners: grade`."""
    target = path or os.environ.get("GITHUB_OUTPUT")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"result={classroom_output(result, min_score)}\n")
    return Path(target)
