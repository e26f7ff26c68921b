"""Messages in French and English: one catalog per language, `grader/i18n/locales/<lang>.yaml`.

    t("terminal.points", score=12, total=100)   -> "Points 12.0/100.0"

A catalog is a YAML mapping, one section per module, keys under it; a message is a
`str.format` template whose fields are the keyword arguments. A message that depends on a
count is a mapping {one: ..., other: ...} and is chosen by `count=` (French: 0 and 1 are
singular; English: only 1). Both catalogs have exactly the same keys, and every key the code
uses exists (tests/test_i18n.py).

The language is chosen once per process (`grade --lang`, else $GRADE_LANG, else the locale,
else French, the course's language) and held here: a grading run is in one language, and the
worker processes forked for it inherit that choice.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from grader.model import usercache

LANGUAGES = ("fr", "en")
DEFAULT = "fr"          # the course is taught in French
LOCALES = Path(__file__).parent / "locales"

_current = None


def language_from_environment(environ=None) -> str:
    """$GRADE_LANG, else the first of $LANGUAGE, $LC_ALL, $LC_MESSAGES, $LANG (POSIX's order) that
    names a language; French or English when it is one of them, else French."""
    environ = os.environ if environ is None else environ
    chosen = (environ.get("GRADE_LANG") or "").strip().lower()
    if chosen in LANGUAGES:
        return chosen
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        codes = [value.split(".")[0].split("@")[0].split("_")[0].split("-")[0].strip().lower()
                 for value in (environ.get(variable) or "").split(":")]
        for code in codes:           # $LANGUAGE is a list of preferences: the first we have
            if code in LANGUAGES:
                return code
        if any(code and code not in ("c", "posix") for code in codes):
            return DEFAULT           # a language we have no catalog for: the course's
    return DEFAULT


def set_language(lang: str | None) -> str:
    """Use `lang` ("fr" or "en"; None: from the environment) for every message from now on."""
    global _current
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    _current = lang or language_from_environment()
    return _current


def language() -> str:
    return _current or set_language(None)


@contextmanager
def speaking(lang: str):
    """Messages in `lang` inside the block, the run's language again after it."""
    global _current
    before = _current
    _current = lang
    try:
        yield
    finally:
        _current = before


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    """{dotted key: message} of one language (a plural message stays a {one, other} mapping)."""
    return read_catalog(LOCALES / f"{lang}.yaml")


def read_catalog(path) -> dict:
    """{dotted key: message} of a YAML catalog file (the engine's, or a course's own). Kept in
    the user's cache as JSON, keyed by the file's sha256 (grader/model/usercache.py): a run whose
    catalogs did not change imports no YAML parser."""
    raw = Path(path).read_bytes()
    key = usercache.key(raw)
    where = usercache.content_slot(key)
    cached = usercache.read("catalog", where, key)
    if cached is not None:
        try:
            flat = json.loads(cached)
            if type(flat) is dict:
                return flat
        except ValueError:
            pass
    import yaml
    flat = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    _flatten(yaml.load(text, Loader=loader) or {}, "", flat)
    try:
        encoded = json.dumps(flat, ensure_ascii=False, allow_nan=False)
        if json.loads(encoded) == flat:
            usercache.write("catalog", where, key, encoded.encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        pass
    return flat


def _flatten(node, prefix, flat):
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not set(value) <= {"one", "other"}:
            _flatten(value, name + ".", flat)
        else:
            flat[name] = value


def plural_form(lang: str, count) -> str:
    try:
        n = abs(float(count))
    except (TypeError, ValueError):
        return "other"
    return "one" if (n < 2 if lang == "fr" else n == 1) else "other"


def t(key: str, /, _lang: str | None = None, **params) -> str:
    """The message `key` in the current language (or `_lang`), filled with `params` (any names,
    `key` and `lang` included). A key missing from that catalog falls back to English, then to
    the key itself: never a crash while reporting (the tests make sure no key is missing)."""
    lang = _lang or language()
    return fill(catalog(lang).get(key), catalog("en").get(key, key), lang, params)


def fill(message, fallback, lang: str, params: dict) -> str:
    """A catalog's `message` (None: `fallback`, the English one) in `lang`: its plural form
    chosen by params["count"], filled with `params`; never an exception for a value its format
    cannot take (then the message as it is)."""
    if message is None:
        message = fallback
    if isinstance(message, dict):
        message = message.get(plural_form(lang, params.get("count")), message.get("other", fallback))
    try:
        return str(message).format(**params) if params else str(message)
    except (KeyError, IndexError, ValueError, TypeError, OverflowError):  # a value its format cannot take
        return str(message)
