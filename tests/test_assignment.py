"""Errors about an invalid assignment file (grader/model/assignment.py): file, line and key, then what
is wrong, in the language of the run — jsonschema's English rebuilt in French for the common
errors, and exactly jsonschema's own text in English."""
import copy
import re

import jsonschema
import pytest
import yaml

from conftest import ROOT
from grader.model.assignment import SCHEMA, find_assignment, load_assignment, schema_message
from grader.model.errors import AssignmentError
from grader.i18n import set_language




def broken(tmp_path, old, new):
    path = tmp_path / "assignment.yaml"
    text = (ROOT / "assignment.yaml").read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(AssignmentError) as caught:
        load_assignment(path)
    return str(caught.value)


def test_a_schema_error_in_french_keeps_file_line_and_key(tmp_path, french):
    path = broken(tmp_path, "timeout: 3.0", "timeout: soon")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("timeout: soon"))
    assert error_of(path) == f"{path}:{line}: clé timeout : 'soon' n'est pas du type 'number'"


def test_a_loader_error_in_french_keeps_file_line_and_key(tmp_path, french):
    path = broken(tmp_path, "{tolerance: block}", "{tolerance: nope}")
    message = error_of(path)
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+: clé exercises/0/functions/\w+/tolerance : "
                        r"tolérance inconnue 'nope' ; définissez-la sous `tolerances` \(connues : \[.*\]\)", message), message


def test_the_same_errors_in_english_are_unchanged(tmp_path):
    path = broken(tmp_path, "timeout: 3.0", "timeout: soon")
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+: at timeout: 'soon' is not of type 'number'", error_of(path))
    path = broken(tmp_path, "{tolerance: block}", "{tolerance: nope}")
    assert re.search(r":\d+: at exercises/0/functions/\w+/tolerance: unknown tolerance 'nope'; define it under "
                     r"`tolerances` \(known: \[", error_of(path))


def test_no_assignment_file_in_french(tmp_path, french):
    with pytest.raises(AssignmentError, match="aucun fichier assignment.yaml dans .* ni dans les dossiers au-dessus"):
        find_assignment(tmp_path)


def test_properties_names_the_module_of_the_courses_property_checks(tmp_path):
    """`properties:` is a module name, loaded like `generators` (grader/grading/properties.py)."""
    assert load_assignment(ROOT / "assignment.yaml").properties == "course.properties"
    assert load_assignment(broken(tmp_path, "properties: course.properties", "properties: other.checks")).properties \
        == "other.checks"
    path = broken(tmp_path, "properties: course.properties", "properties: course/properties.py")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith("properties:"))
    assert error_of(path).startswith(f"{path}:{line}: at properties: 'course/properties.py' does not match")
    path = broken(tmp_path, "properties: course.properties", "properties: [course.properties]")
    assert f"{path}:{line}: at properties: ['course.properties'] is not of type 'string'" == error_of(path)


MUTATIONS = [
    lambda d: d.update(timeout="soon"),                                            # type
    lambda d: d.pop("title"),                                                      # required
    lambda d: d.update(bogus=1),                                                   # additionalProperties (one)
    lambda d: d.update(bogus=1, other=2),                                          # additionalProperties (two)
    lambda d: d.update(exercises=[]),                                              # minItems
    lambda d: d["exercises"][0]["cases"][0].update(id="Bad Id"),                   # pattern
    lambda d: d["exercises"][0]["cases"][0].update(count=0),                       # minimum
    lambda d: d["exercises"][0].update(points=-1),                                 # minimum
    lambda d: d["tolerances"].update(block="loose"),                               # oneOf: none
    lambda d: d["exercises"][0]["cases"][0].update(generator="x", inputs={}),      # oneOf: both
    lambda d: d["exercises"][0].update(functions={}),                              # minProperties
    lambda d: d["exercises"][0]["cases"][0].update(dtypes={"x": "int8"}),          # enum
    lambda d: d.update(schema_version=2),                                          # const
    lambda d: d.update(properties="course/properties.py"),                         # pattern (a module name)
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_schema_messages_english_is_jsonschemas_own_and_french_is_translated(mutate):
    data = yaml.safe_load((ROOT / "assignment.yaml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    mutate(data)
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))
    assert errors
    for error in errors:
        assert schema_message(error) == error.message          # the test suite runs in English
        set_language("fr")
        try:
            french = schema_message(error)
        finally:
            set_language("en")
        assert french != error.message, error.message          # every error of this schema is rebuilt
