"""Issue 17: every report back through Moodle in one zip, read as Moodle's importer reads it.

The importer, mod/assign/feedback/file/importziplib.php (moodle/moodle),
assignfeedback_file_zip_importer::is_valid_filename_for_import():

    $pathparts = explode('/', $fileinfo->get_filepath() . $fileinfo->get_filename());
    while (!empty($pathparts)) {
        $pathpart = array_shift($pathparts);
        $info = explode('_', $pathpart, 5);
        if (count($info) < 4) { continue; }
        $participantid = $info[1];
        if (!is_numeric($participantid)) { continue; }
        $participantid += 0;
        if (empty($participants[$participantid])) { continue; }
        $user = $participants[$participantid];
        $plugin = $assignment->get_plugin_by_type($info[2], $info[3]);
        if (!$plugin) { continue; }
        if (count($info) == 4) { $info[4] = ''; }
        array_unshift($pathparts, $info[4]);
        $filename = implode('/', $pathparts);
        return true;
    }
    return false;

(hidden files — a name starting with "." or "~" — are skipped first; directories too).
"""
import json
import re
import zipfile
from pathlib import Path

from grader.bulk.intake import Entry, discover
from grader.export.lms_feedback import MOODLE_LIST, MOODLE_ZIP, moodle_folder, write_moodle_feedback
from grader.model.result import Result

PLUGINS = {("assignfeedback", "file"), ("assignsubmission", "file"), ("assignfeedback", "comments")}


def php_explode(separator: str, text: str, limit: int) -> list:
    """PHP's explode() with a positive limit: at most `limit` parts, the last holding the rest."""
    return text.split(separator, limit - 1)


def is_numeric(text: str) -> bool:
    """PHP's is_numeric for the strings at hand (an optional sign, digits, a decimal part)."""
    return re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text) is not None


def moodle_import(member: str, participants: dict):
    """(user, plugin, filename) as is_valid_filename_for_import() finds them, or None."""
    path, _, name = member.rpartition("/")
    if name.startswith((".", "~")) or member.endswith("/"):
        return None
    parts = ("/" + path + "/" + name if path else "/" + name).split("/")
    while parts:
        part = parts.pop(0)
        info = php_explode("_", part, 5)
        if len(info) < 4 or not is_numeric(info[1]):
            continue
        participant = int(float(info[1]))
        if participant not in participants:
            continue
        plugin = (info[2], info[3])
        if plugin not in PLUGINS:
            continue
        if len(info) == 4:
            info.append("")
        parts.insert(0, info[4])
        return participants[participant], plugin, "/".join(parts)
    return None


def result_for(sid: str, score: float) -> dict:
    return Result(submission=sid, seed=1, score=score, max_score=100.0, exercises=[], status="ok").to_json()


def test_moodle_zip_places_every_participant_and_lists_the_others(tmp_path):
    """A class mixing a Moodle export, a blind-marked Moodle export, a Canvas export and a plain folder."""
    subs, work, out = tmp_path / "subs", tmp_path / "work", tmp_path / "out"
    for folder in ("Zoé Dupont_123456_assignsubmission_file", "Participant_777001_assignsubmission_file",
                   "Li Wang 王_88_assignsubmission_file", "alice"):
        (subs / folder).mkdir(parents=True)
        (subs / folder / "softmax.py").write_text("def softmax(x):\n    return x\n")
    (subs / "doejane_4242_987_softmax.py").write_text("def softmax(x):\n    return x\n")
    (subs / "anon_Ab3dE_989_softmax.py").write_text("def softmax(x):\n    return x\n")
    entries = discover(subs, work)
    assert {e.student_id: e.lms_id for e in entries} == {
        "123456": "123456", "777001": "777001", "88": "88", "alice": None, "4242": "4242", "anon_Ab3dE": None}
    (out / "reports").mkdir(parents=True)
    (out / "results").mkdir()
    for i, e in enumerate(entries):
        (out / "reports" / f"{e.student_id}.html").write_text(f"<p>report of {e.student_id}</p>")
        (out / "results" / f"{e.student_id}.json").write_text(json.dumps(result_for(e.student_id, 66.625 + i)))
    written, left_out = write_moodle_feedback(entries, out)
    assert [p.name for p in written] == [MOODLE_ZIP, MOODLE_LIST]
    with zipfile.ZipFile(out / MOODLE_ZIP) as archive:
        members = archive.namelist()
        contents = {m: archive.read(m).decode() for m in members}
    assert members == ["Li Wang 王_88_assignfeedback_file/grade-report.html",
                       "Participant_777001_assignfeedback_file/grade-report.html",
                       "Zoé Dupont_123456_assignfeedback_file/grade-report.html"]
    participants = {123456: "zoe", 777001: "blind", 88: "li"}
    found = {moodle_import(m, participants) for m in members}
    assert found == {("zoe", ("assignfeedback", "file"), "/grade-report.html"),
                     ("blind", ("assignfeedback", "file"), "/grade-report.html"),
                     ("li", ("assignfeedback", "file"), "/grade-report.html")}
    assert contents["Zoé Dupont_123456_assignfeedback_file/grade-report.html"] == "<p>report of 123456</p>"
    # never silently dropped: the plain folder and both Canvas students are listed, with why
    assert sorted(line.split(":")[0] for line in left_out) == ["4242", "alice", "anon_Ab3dE"]
    listing = (out / MOODLE_LIST).read_text()
    for e in entries:
        assert e.student_id in listing


def test_folder_names_survive_underscores_slashes_and_empty_names():
    assert moodle_folder("Jean_Pierre/Marie", "42") == "Jean Pierre Marie_42_assignfeedback_file"
    assert moodle_folder("", "42") == "Participant_42_assignfeedback_file"
    assert moodle_folder(".hidden", "7").startswith("hidden_7_")
    for name in ("Jean_Pierre", "a/b", "", "~x", "Zoé"):
        member = moodle_folder(name, "99") + "/grade-report.html"
        assert moodle_import(member, {99: "u"}) == ("u", ("assignfeedback", "file"), "/grade-report.html")


def test_no_zip_without_a_moodle_participant(tmp_path):
    plain = Entry("alice", None, tmp_path, tmp_path, "plain", None, "0" * 64)
    assert write_moodle_feedback([plain], tmp_path) == ([], [])
    assert not (tmp_path / MOODLE_ZIP).exists()
