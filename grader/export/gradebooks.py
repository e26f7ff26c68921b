"""Class gradebooks for `grade bulk`: one CSV for the instructor, one for Moodle, one for Canvas.

`write_gradebooks` reads the per-student result dicts (`Result.to_json()`, schema_version 2, with
`student = {"id", "name", "origin", "lms_id", "fingerprint", "source"}`) and writes them in `out`.

What its consumers read, quoted from their sources, and the rules this module follows:
docs/consumers.md, section « grader/export/gradebooks.py ».
"""
from __future__ import annotations

import csv
import html
import io
import math
import re
from datetime import datetime, timezone
from pathlib import Path

from grader.export.junit import hidden_like, public_twin
from grader.model.files import atomic_write
from grader.i18n import t
from grader.model.statuses import describe
from grader.model.result import QUOTE, as_real, bounded_repr, clip_text, shown_points

GRADEBOOK = "gradebook.csv"
MOODLE = "gradebook-moodle.csv"
CANVAS = "gradebook-canvas.csv"

# --- Moodle ---------------------------------------------------------------------------------------
# The worksheet Moodle exports, mod/assign/gradingtable.php (moodle/moodle), when downloading:
#     $columns[] = 'recordid';          $headers[] = get_string('recordid', 'assign');
#     $columns[] = 'fullname';          $headers[] = get_string('fullname');
#     (the site's identity fields, e.g. the email address, here)
#     $columns[] = 'status';            $headers[] = get_string('status', 'assign');
#     $columns[] = 'grade';             $headers[] = get_string('grade');
#     $columns[] = 'grademax';          $headers[] = get_string('maxgrade', 'assign');
#     $columns[] = 'gradecanbechanged'; $headers[] = get_string('gradecanbechanged', 'assign');
#     $columns[] = 'timesubmitted';     $headers[] = get_string('lastmodifiedsubmission', 'assign');
#     $columns[] = 'timemarked';        $headers[] = get_string('lastmodifiedgrade', 'assign');
#     feedback plugins: foreach ($plugin->get_editor_fields() as $field => $description)
#                                        $headers[] = $description;
#   and the identifier of a row:
#     public function col_recordid(stdClass $row) {
#         return get_string('hiddenuser', 'assign') . $this->assignment->get_uniqueid_for_user($row->userid);
# with the English strings (mod/assign/lang/en/assign.php, lang/en/moodle.php,
# mod/assign/feedback/comments/lang/en/assignfeedback_comments.php):
#     $string['recordid'] = 'Identifier';            $string['hiddenuser'] = 'Participant ';
#     $string['fullname'] = 'Full name';             $string['status'] = 'Status';
#     $string['grade'] = 'Grade';  (4.x: 'gradenoun', also 'Grade')
#     $string['maxgrade'] = 'Maximum Grade';         $string['gradecanbechanged'] = 'Grade can be changed';
#     $string['lastmodifiedsubmission'] = 'Last modified (submission)';
#     $string['lastmodifiedgrade'] = 'Last modified (grade)';
#     $string['pluginname'] = 'Feedback comments';   (get_editor_fields: 'comments' => that string)
# so "Participant 123456": the number is the participant id, the same one Moodle puts in the
# "Download all submissions" folder names (intake.py), so a Moodle-origin student's id is it.
#
# What the upload reads, mod/assign/feedback/offline/importgradeslib.php, init():
#     $strgrade = get_string('gradenoun');   (older: get_string('grade'))
#     $strid = get_string('recordid', 'assign');
#     $strmodified = get_string('lastmodifiedgrade', 'assign');
#     ... if ($this->idindex < 0 || $this->gradeindex < 0 || $this->modifiedindex < 0) { return false; }
# — the columns are found by header text, in the uploading user's language: these English
# headers need Moodle in English at upload time (the French pack says 'Identifiant', 'Dernière
# modification (note)', and a 'Participant' without the space). Every other column is ignored
# except the feedback plugins' columns, matched by their description. And next():
#     // Strip the integer from the end of the participant string.
#     $id = substr($idstr, strlen(get_string('hiddenuser', 'assign')));
#     if ($userid = $this->assignment->get_user_id_for_uniqueid($id)) {
#         if (array_key_exists($userid, $this->validusers)) { ... return $result; }
#     }
# — a row whose identifier is no participant of this assignment is skipped without a word: the
# confirmation page (importgradesform.php) lists only the grades and comments it will change.
# So rows of students who did not come from Moodle (plain folders, Canvas) are written with the
# identifier "Participant 0": it names nobody (participant ids are database ids, from 1), and its
# tail stays a number, whereas an empty or textual one ("Participant alice" → "") would be sent
# as the id to the database, where PostgreSQL refuses '' for an integer column and MySQL turns a
# digit-led tail into a number that may be someone else. The Status column says such a row is not
# imported. process_import_grades() then also skips a grade that is empty, negative, above the
# assignment's maximum grade (set it to at least our max_total), unchanged, locked, or — unless
# "Ignore last modified date" is ticked — older than the grade in Moodle by more than 60 s:
#     $stalemodificationdate = ($usergrade && $usergrade->timemodified > ($modified + 60));
# with $modified = strtotime(<Last modified (grade)>). We write the time of writing, in ISO 8601
# (which strtotime reads in any language), so grades entered in Moodle after this file was made win.
# Feedback comments are stored with commentformat FORMAT_HTML (assignfeedback_comments,
# set_editor_text): ours are HTML-escaped text.
MOODLE_PARTICIPANT = "Participant "          # get_string('hiddenuser', 'assign'), trailing space included
MOODLE_NOBODY = "0"                           # participant ids start at 1
MOODLE_HEADER = ["Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Grade can be changed",
                 "Last modified (submission)", "Last modified (grade)", "Feedback comments"]

# --- Canvas ---------------------------------------------------------------------------------------
# lib/gradebook_exporter.rb (instructure/canvas-lms), the file Canvas' own export writes:
#     header = @options[:show_student_first_last_name] ? ["LastName", "FirstName"] : ["Student"]
#     header << "ID"
#     header << "SIS User ID" if include_sis_id
#     header << "SIS Login ID"
#     header << "Section"
#     header.concat assignments.map(&:title_with_id)          # "#{title} (#{id})"
#     # Second Row
#     row = ["    Points Possible", nil, nil, nil]
# lib/gradebook_importer.rb, what the import reads:
#     def row_has_student_headers?(row)
#       (row.length > 3 && row[0].include?("Student") && row[1].include?("ID")) || ...
#     elsif row[student_name_column_count - 1] =~ /SIS\s+User\s+ID/ && row[student_name_column_count] =~ /SIS\s+Login\s+ID/
#     return false unless last_student_info_column(row).include?("Section")
#     if row[0]&.include?("Points Possible")   # this row is describing the assignment, has no student data
#     title, id = Assignment.title_and_id(name_and_id)      # /\A(.*)\s\((\d+)\)\z/
#     assignment = @all_assignments[id.to_i] if id.present?
#     assignment ||= @all_assignments.find { |_id, a| a.title == name_and_id }    # backward compat
#     assignment ||= Assignment.new(title: title || name_and_id)
# — so the assignment column is best given as "Title (assignment id)" (`canvas_column`); a bare
# title must equal the Canvas assignment's title exactly, or the import proposes a new assignment.
# Students are matched by their Canvas user id (the "ID" column):
#     student = @all_students[student_id.to_i] if student_id.present?
# then by SIS ids, then by name ("s.name == name || s.sortable_name == name"), else
#     student ||= User.new(name:)      →  @missing_student ||= student.new_record?
# and Canvas' import page lists such unknown students for the instructor to match or ignore.
# A Canvas-origin student's id is that user id (from the export's file names, intake.py), except
# under anonymous grading ("anon_…"), which gives no user id. Other students get an empty ID —
# never their own id, which could be some other Canvas user's number — and their name.
# Numbers: the importer normalises "7,5" to "7.5" (decimal_comma_to_period); we write "7.50".
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"   # as the exporter writes it (the importer looks for the words)

# Cells starting with one of these (after spaces) are formulas to some spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")   # = + - @ and full-width
FORMULA_CONTROLS = ("\t", "\r")

FEEDBACK_PROBLEM_CHARS = 200
MAX_CELL = 1000          # characters of a text cell (a name, an id: a few dozen in practice)


def _status_words(status: str) -> str:
    """A submission's status (a word of the JSON) in words, for the feedback comment."""
    words = {"ok": lambda: t("gradebook.submission_status.ok"),
             "timeout": lambda: t("gradebook.submission_status.timeout"),
             "crash": lambda: t("gradebook.submission_status.crash"),
             "invalid": lambda: t("gradebook.submission_status.invalid"),
             "violation": lambda: t("gradebook.submission_status.violation"),
             "error": lambda: t("gradebook.submission_status.error")}
    return words[status]() if status in words else status


def _case_words(visibility, status) -> tuple[str, str]:
    """A case's visibility and status (words of the JSON) as the feedback comment says them."""
    visibilities = {"hidden": lambda: t("gradebook.visibility.hidden"),
                    "public": lambda: t("gradebook.visibility.public")}
    return visibilities[visibility]() if visibility in visibilities else str(visibility), describe(status).word()


def write_gradebooks(results: list[dict], exercises: list[tuple[str, float]], out: Path, assignment_title: str,
                     canvas_column: str | None = None) -> list[Path]:
    """Writes out/gradebook.csv, out/gradebook-moodle.csv, out/gradebook-canvas.csv atomically
    (temporary file + os.replace); returns the paths.

    `exercises` is [(exercise name, max points)] in assignment order: every row has every column,
    an exercise missing from a result (an invalid submission has none) counting 0. `canvas_column`
    is the Canvas assignment's column header, e.g. "Séance 11 (12345)"; default the title.
    Raises ValueError, before writing anything, for a result without a student, two results for
    one student, or an exercise that is not in `exercises`."""
    out = Path(out)
    exercises = [(str(name), float(points)) for name, points in exercises]
    names = [name for name, _ in exercises]
    if len(set(names)) != len(names):
        raise ValueError(t("gradebook.names_repeat", names=names))
    rows = sorted((_row(result, i, names) for i, result in enumerate(results)), key=lambda r: r["id"])
    seen = set()
    for row in rows:
        if row["id"] in seen:
            raise ValueError(t("gradebook.two_results", student=bounded_repr(row["id"])))
        seen.add(row["id"])
    max_total = sum(points for _, points in exercises)
    now = _now()
    contents = {
        GRADEBOOK: "\ufeff" + _gradebook_csv(rows, exercises, max_total),
        MOODLE: _moodle_csv(rows, max_total, now),
        CANVAS: _canvas_csv(rows, max_total, canvas_column or assignment_title),
    }
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in contents.items():
        path = out / name
        atomic_write(path, text)
        paths.append(path)
    return paths


# --- reading the results ----------------------------------------------------------------------------

def _row(result: dict, index: int, exercise_names: list[str]) -> dict:
    student = result.get("student") if isinstance(result, dict) else None
    if not isinstance(student, dict) or not isinstance(student.get("id"), str) or not student["id"]:
        where = _text_of(result.get("submission", f"#{index}")) if isinstance(result, dict) else f"#{index}"
        raise ValueError(t("gradebook.no_student_id", where=where))
    points: dict = dict.fromkeys(exercise_names, 0.0)
    unreadable = []
    exercises = result.get("exercises")
    for exercise in exercises if isinstance(exercises, list) else []:
        if not isinstance(exercise, dict):
            continue
        name = exercise.get("name")
        if not isinstance(name, str) or name not in points:
            raise ValueError(t("gradebook.unknown_exercise", student=bounded_repr(student["id"]),
                               exercise=bounded_repr(name), exercises=", ".join(exercise_names)))
        score = exercise.get("score") or 0.0
        value = as_real(score)
        if not math.isfinite(value) or isinstance(score, (bool, str)):
            unreadable.append(score)
            points[name] = None               # an empty cell: no LMS imports it
        elif points[name] is not None:
            points[name] += value
    # not graded (the grader or the machine failed, not the student): no grade, not a 0
    exact = as_real(result.get("score"))      # the JSON's score, exact: the total of every format
    if isinstance(result.get("score"), (bool, str)) or not math.isfinite(exact):
        exact = sum(v for v in points.values() if v is not None)
    total = None if unreadable or result.get("status") == "error" else exact
    lms_id = student.get("lms_id")
    return {"id": student["id"], "name": _text_of(student.get("name")),
            "origin": _text_of(student.get("origin")) or "plain",
            "lms_id": lms_id if isinstance(lms_id, str) and re.fullmatch(r"[0-9]+", lms_id) else None,
            "source": _text_of(student.get("source")), "status": _text_of(result.get("status")),
            "points": points, "total": total, "unreadable": unreadable, "result": result}


def _text_of(value) -> str:
    """A text field of a result, bounded: "" for None, a str as it is, anything else as a bounded repr."""
    return "" if value is None else clip_text(value if isinstance(value, str) else bounded_repr(value, QUOTE),
                                                MAX_CELL)


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _first_problem(result: dict) -> str:
    """What a student should look at first: a submission-wide note (why it could not be graded,
    a cell that failed), else an exercise's problem (an import error, a rule violation), else the
    first case that did not pass (a hidden case's message is not in the JSON, and stays hidden: its
    verdict, and the public case that exercises the same thing when it has one)."""
    for note in _items(result.get("notes")):
        if note:
            return _brief(note)
    exercises = [e for e in _items(result.get("exercises")) if isinstance(e, dict)]
    for exercise in exercises:
        for problem in _items(exercise.get("problems")):
            if problem:
                return t("gradebook.exercise_problem", exercise=_brief(exercise.get("name")), problem=_brief(problem))
    for exercise in exercises:
        for case in _items(exercise.get("cases")):
            if isinstance(case, dict) and case.get("status") != "passed":
                twin = public_twin(case)
                if twin:        # a hidden case: its verdict and the public case that exercises the same thing
                    return t("gradebook.case_problem", case_id=_brief(case.get("id")),
                             message=hidden_like(describe(case.get("status")).word(), _brief(twin)))
                if case.get("visibility") == "hidden" or not case.get("message"):
                    visibility, status = _case_words(_brief(case.get("visibility")),
                                                     _brief(case.get("status", "failed")))
                    return t("gradebook.case_problem_brief", exercise=_brief(exercise.get("name")),
                             function=_brief(case.get("function")), visibility=visibility, status=status)
                return t("gradebook.case_problem", case_id=_brief(case.get("id")), message=_brief(case.get("message")))
    return ""


def _brief(value) -> str:
    """A piece of the feedback comment: bounded before it is joined (a 12 MB message costs a slice)."""
    return clip_text(value if isinstance(value, str) else bounded_repr(value, QUOTE), FEEDBACK_PROBLEM_CHARS * 2)


def _feedback(row: dict, max_total: float) -> str:
    score = shown_points(row["total"]) if row["total"] is not None else "?"
    total, status = shown_points(max_total), _status_words(row["status"])
    if row["unreadable"]:                 # first of all: why there is no grade
        problem = t("gradebook.not_points", value=bounded_repr(row["unreadable"][0], 60))
    else:
        problem = " ".join(_first_problem(row["result"]).split())
    if problem:
        if len(problem) > FEEDBACK_PROBLEM_CHARS:
            problem = problem[:FEEDBACK_PROBLEM_CHARS - 1].rstrip() + "…"
        text = t("gradebook.feedback_problem", score=score, total=total, status=status, problem=problem)
    else:
        text = t("gradebook.feedback", score=score, total=total, status=status)
    return html.escape(text, quote=False)


def _moodle_participant(row: dict) -> str | None:
    """The Moodle participant id of a Moodle-origin student, as intake read it (`lms_id`)."""
    return row["lms_id"] if row["origin"] == "moodle" else None


def _canvas_user(row: dict) -> str | None:
    """The Canvas user id of a Canvas-origin student, as intake read it (none under anonymous grading)."""
    return row["lms_id"] if row["origin"] == "canvas" else None


# --- the three files --------------------------------------------------------------------------------

def _gradebook_csv(rows: list[dict], exercises: list[tuple[str, float]], max_total: float) -> str:
    table = [["student_id", "name", *(name for name, _ in exercises), "total", "max_total", "status"]]
    for row in rows:
        table.append([_text(row["id"]), _text(row["name"]), *(_points(row["points"][name]) for name, _ in exercises),
                      _points(row["total"]), _points(max_total), _text(row["status"])])
    return _csv(table)


def _moodle_csv(rows: list[dict], max_total: float, now: datetime) -> str:
    modified = now.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    table = [list(MOODLE_HEADER)]
    for row in rows:
        participant = _moodle_participant(row)
        if participant is None:
            identifier = MOODLE_PARTICIPANT + MOODLE_NOBODY
            status = t("gradebook.moodle.not_moodle", origin=row["origin"], student=row["id"])
        else:
            identifier = MOODLE_PARTICIPANT + participant
            status = t("gradebook.moodle.autograded", status=row["status"])
        table.append([identifier, _line(row["name"] or row["id"]), _line(status), _points(row["total"]),
                      _points(max_total), "Yes", "", modified, _line(_feedback(row, max_total))])
    return _csv(table)


def _canvas_csv(rows: list[dict], max_total: float, column: str) -> str:
    table = [[*CANVAS_HEADER, column], [CANVAS_POINTS_POSSIBLE, "", "", "", "", _points(max_total)]]
    for row in rows:
        table.append([_line(row["name"] or row["id"]), _canvas_user(row) or "", "", "", "", _points(row["total"])])
    return _csv(table)


def _csv(table: list[list[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue()


# --- cells ----------------------------------------------------------------------------------------------

def _points(value) -> str:
    """The exact score, as the JSON has it: round(value, 6), without exponent or trailing zeros
    (66.625 → "66.625", 7.5 → "7.5", 100.0 → "100"); None (a score that could not be read) is an
    empty cell."""
    if value is None:
        return ""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(t("gradebook.not_points", value=value))
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clean(text) -> str:
    """Text from a submission: no NUL or other control characters but TAB, LF, CR (the csv
    module refuses NUL; the others are escape-sequence tricks), no lone surrogates (file names
    read with surrogateescape: not encodable)."""
    text = "" if text is None else clip_text(text, MAX_CELL)
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text
                   if c in "\t\n\r" or not (ord(c) < 32 or ord(c) == 127))


def _neutralise(text: str) -> str:
    """OWASP CSV injection: a cell a spreadsheet would run as a formula is prefixed with "'"."""
    if text.startswith(FORMULA_CONTROLS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _text(value) -> str:
    """A text cell of gradebook.csv: kept as it is (line breaks included: the csv module quotes them)."""
    return _neutralise(_clean(value))


def _line(value) -> str:
    """A text cell of an LMS file: on one line (the importers read names and comments as one line)."""
    return _neutralise(" ".join(_clean(value).split()))


# --- writing --------------------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(timezone.utc)


