"""GitHub outputs from the engine's result JSON (`Result.to_json()`): a job summary, and the runner
result GitHub Classroom's autograding reporter reads.

    step_summary(result) -> str               GitHub-flavoured Markdown
    append_step_summary(result, path=None)    appends it to $GITHUB_STEP_SUMMARY (no-op when unset)
    classroom_result(result) -> dict          the runner result
    classroom_output(result) -> str           … as base64 JSON, the step output `result`
    write_classroom_output(result, path=None) appends `result=<base64>` to $GITHUB_OUTPUT (no-op when unset)

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/export/github.py ».
"""
from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from pathlib import Path

from grader.export.junit import case_message, clean_text, public_twin, replay_seed
from grader.i18n import t
from grader.model.replay import replay_command
from grader.model.result import QUOTE, as_real, bounded_repr, shown_points
from grader.model.statuses import ClassroomStatus, describe
from grader.model import truncation

MESSAGE_LIMIT = 500
PAYLOAD_BUDGET = 64 * 1024     # bytes of base64, well under Linux's 128 KiB for one environment variable
SHORT_NAME_BYTES = 40          # a test's name in the last resort before one test per exercise
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
        twins = hidden_twin_lines(hidden_failing)
        if twins:
            lines += twins + [""]
    if classroom:
        lines += [classroom_note(result, min_score), ""]
    return "\n".join(lines)


def hidden_twin_lines(failing: list) -> list[str]:
    """The failing hidden cases (exercise, case) that have a public twin, as the terminal lists
    them: one line per function, verdict and twin (`terminal.case`, or `terminal.cases` with a
    count and the first names), at most LISTED_SHORT lines. Cases without a twin stay a count."""
    groups: dict = {}
    for exercise, case in failing:
        twin = public_twin(case)
        if twin:
            status = case.get("status") if isinstance(case.get("status"), str) else None
            key = (clean_text(exercise.get("name"), QUOTE), clean_text(case.get("function"), QUOTE), status, twin)
            groups.setdefault(key, []).append(clean_text(case.get("id"), QUOTE))
    lines = []
    for (exercise, function, status, twin), ids in list(groups.items())[:truncation.LISTED_SHORT]:
        reason = t("terminal.hidden_like", case=md_code(twin, table=False), count=len(ids))
        if len(ids) == 1:
            line = t("terminal.case", label=verdict_label(status), id=md_code(ids[0], table=False), reason=reason)
        else:
            short = [md_escape(i.rsplit("/", 1)[-1]) for i in ids]
            line = t("terminal.cases", label=verdict_label(status), count=len(ids), reason=reason,
                     function=md_code(f"{exercise}/{function}", table=False),
                     names=", ".join(short[:3]) + (", …" if len(short) > 3 else ""))
        lines.append(f"- {line}")
    if len(groups) > truncation.LISTED_SHORT:
        lines.append(t("export_github.hidden_more", count=len(groups) - truncation.LISTED_SHORT))
    return lines


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
    return _summing_exactly(*_case_units(result))


def _case_units(result: dict) -> tuple[list, int]:
    """(each case's score in millionths, the JSON's score in millionths), the first summing to the second."""
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
    return units, goal


def _summing_exactly(units: list, goal: int) -> list:
    """The scores `units` (millionths) as floats whose left-to-right sum is goal / UNITS exactly."""
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
    equal number of bytes that fits (then every replay command, then the names; past that, one
    test per exercise)."""
    encoded = _encode(classroom_result(result, min_score))
    if len(encoded) <= budget:
        return encoded
    for code_bytes, floor in ((None, MIN_MESSAGE_BYTES), (0, 0)):   # the replay commands go before the verdicts do
        best = _encode(classroom_result(result, min_score, floor, code_bytes))
        if len(best) > budget:  # not even at the floor: no size fits (thousands of cases need no search)
            continue
        low, high = floor + 1, MESSAGE_LIMIT * 4
        while low <= high:              # the largest message size that fits
            middle = (low + high) // 2
            trial = _encode(classroom_result(result, min_score, middle, code_bytes))
            if len(trial) <= budget:
                best, low = trial, middle + 1
            else:
                high = middle - 1
        return best
    data = classroom_result(result, min_score, 0, 0)   # thousands of cases: short names too
    for test in data["tests"]:
        test["name"] = _cut_bytes(test["name"], SHORT_NAME_BYTES)
    encoded = _encode(data)
    return encoded if len(encoded) <= budget else _encode(_folded(result, data))


def _folded(result: dict, data: dict) -> dict:
    """`data` with one test per exercise (more cases than 64 KiB can name, even cut): its points
    summed, so the notice's total stays the score, its worst status, how many of its cases did
    not pass; the job's log (the terminal output) still lists them."""
    groups, units = {}, {}
    case_units, goal = _case_units(result)
    for (exercise, _), test, unit in zip(_cases(result), data["tests"], case_units):
        name = _cut_bytes(clean_text(exercise.get("name"), QUOTE), SHORT_NAME_BYTES)
        groups.setdefault(name, []).append(test)
        units[name] = units.get(name, 0) + unit
    scores = dict(zip(units, _summing_exactly(list(units.values()), goal)))
    tests = []
    for name, members in groups.items():
        statuses = {test["status"] for test in members}
        status = ERROR if ERROR in statuses else FAIL if FAIL in statuses else PASS
        message = t("export_github.classroom_folded", failed=sum(test["status"] != PASS for test in members),
                    total=len(members))
        if status == ERROR:  # the reporter prints an error's message without the test's name
            message = f"{name}: {message}"
        tests.append({"name": name, "status": status, "score": scores[name],
                      "message": None if status == PASS else message,
                      "test_code": "", "filename": "", "line_no": 0,
                      "duration": sum(test["duration"] for test in members)})
    return {**data, "tests": tests or data["tests"]}


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
