"""French and English: the two catalogs match key for key and field for field, every key the
code and the templates use exists, no key is left unused, and the language is chosen as the
README says (--lang, else $GRADE_LANG, else the locale, else French)."""
import ast
import re
import string
from pathlib import Path

import pytest

from conftest import ROOT, run_grade
from grader import i18n

GRADER = ROOT / "grader"
TEMPLATE_KEY = re.compile(r"""\bt\(\s*(["'])([a-z0-9_.]+)\1""")


def fields(message) -> set:
    texts = message.values() if isinstance(message, dict) else [message]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(str(text)) if name}


def used_keys() -> dict:
    """{key: where} for every t("...") and Said("...") in the engine's code and templates; non-literal
    keys fail."""
    found, dynamic = {}, []
    for path in sorted(GRADER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "Said") \
                    and path.relative_to(ROOT).as_posix() == "grader/model/said.py":
                found.setdefault("compare.separator", "grader/model/said.py")  # renders the keys Said(...) names
                found.setdefault("submission.list_and", "grader/model/said.py")  # and LISTED with this one
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("t", "Said"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(first, ast.IfExp) and all(isinstance(b, ast.Constant) for b in (first.body, first.orelse)):
                    for branch in (first.body, first.orelse):
                        found.setdefault(branch.value, f"{path.relative_to(ROOT)}:{node.lineno}")
                elif node.func.id == "t":  # Said(some_said.key, …) copies a key a literal Said(...) named
                    dynamic.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in sorted(GRADER.rglob("*.j2")):
        for match in TEMPLATE_KEY.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(2), str(path.relative_to(ROOT)))
    assert not dynamic, f"t() with a key that is not a literal (a test cannot check it exists): {dynamic}"
    return found


def test_both_catalogs_have_the_same_keys_and_the_same_fields():
    fr, en = i18n.catalog("fr"), i18n.catalog("en")
    assert set(fr) == set(en), {"only in fr": sorted(set(fr) - set(en)), "only in en": sorted(set(en) - set(fr))}
    for key in en:
        assert fields(fr[key]) == fields(en[key]), key
        assert isinstance(fr[key], dict) == isinstance(en[key], dict), f"{key}: plural in one language only"
        if isinstance(en[key], dict):
            assert set(en[key]) == set(fr[key]) == {"one", "other"}, key
    assert len(en) > 500  # the whole engine, not a sample


def test_every_key_used_exists_and_every_key_is_used():
    used, catalog = used_keys(), i18n.catalog("en")
    missing = {k: where for k, where in used.items() if k not in catalog}
    assert not missing, f"keys used in code but in no catalog: {missing}"
    unused = sorted(set(catalog) - set(used))
    assert not unused, f"catalog keys nothing uses: {unused}"


def test_the_language_comes_from_the_environment_else_french():
    pick = i18n.language_from_environment
    assert pick({}) == "fr"
    assert pick({"LANG": "C.UTF-8"}) == "fr"              # no language at all: the course's
    assert pick({"LANG": "en_GB.UTF-8"}) == "en"
    assert pick({"LANG": "de_DE.UTF-8"}) == "fr"          # a language without a catalog
    assert pick({"LANGUAGE": "de:en", "LANG": "de_DE"}) == "en"  # the first preference we have
    assert pick({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}) == "fr"
    assert pick({"GRADE_LANG": "en", "LANG": "fr_FR.UTF-8"}) == "en"
    assert pick({"GRADE_LANG": "xx", "LANG": "en_US"}) == "en"


def test_a_plural_follows_each_languages_rule():
    assert i18n.plural_form("fr", 0) == "one" and i18n.plural_form("en", 0) == "other"
    assert i18n.plural_form("fr", 1) == "one" and i18n.plural_form("en", 1) == "one"
    assert i18n.plural_form("fr", 2) == "other" and i18n.plural_form("en", 2) == "other"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        i18n.set_language("de")


@pytest.mark.parametrize("flag, env, words, absent", [
    (["--lang", "fr"], "en", ["exercice", "réussis", "rapport :"], ["passed"]),
    (["--lang", "en"], "fr", ["exercise", "passed", "report:"], ["réussis"]),
    ([], "fr", ["exercice", "réussis"], ["passed"]),
])
def test_the_terminal_speaks_the_chosen_language(tmp_path, solution, flag, env, words, absent, monkeypatch):
    monkeypatch.setenv("GRADE_LANG", env)
    done = run_grade(solution, "-k", "softmax", "--report", tmp_path / "r.html", *flag)
    assert done.returncode == 0, done.stderr
    for word in words:
        assert word in done.stdout, (word, done.stdout)
    for word in absent:
        assert word not in done.stdout
    lang = (flag[1] if flag else env)
    assert f'<html lang="{lang}"' in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_help_is_translated_and_lang_may_come_before_a_subcommand():
    french = run_grade("--lang", "fr", "bulk", "--help")
    english = run_grade("--lang", "en", "bulk", "--help")
    assert french.returncode == english.returncode == 0
    assert "Corriger toute une classe" in french.stdout
    assert "Grade a whole class" in english.stdout
    wrong = run_grade("--lang", "de")
    assert wrong.returncode == 2 and "invalid choice: 'de'" in wrong.stderr
