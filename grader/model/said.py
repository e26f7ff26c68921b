"""A message as data: a catalog key and its fields, rendered in the reader's language only where
it is shown (terminal, HTML, the JSON's `message`, JUnit, …), never before.

    Said("compare.wrong_shape", name=Said("compare.the_result"), shape=(3, 4), expected=(4, 3))
    .render("fr")  -> "le résultat a la forme (3, 4) au lieu de (4, 3)"
    .to_json()     -> {"code": "compare.wrong_shape", "fields": {"name": {"code": …}, "shape": [3, 4], …}}

Fields are numbers, booleans, None, text (values a submission returned are already quoted and
bounded: `compare.quote`), tuples of those, nested `Said`, and `Texts` — one text per language,
for words that come from outside the catalogs (a mistake's hint, a course's property hint).
Three keys are not in any catalog: CONCAT (its `parts`, end to end), JOINED (its `parts`, with
the catalog's separator) and LISTED (its `items` as "a, b and c"). A tuple goes to JSON as a list and comes back a tuple, NaN and
infinities as {"float": "nan"}, Texts as {"texts": {…}}, so a stored verdict renders as it did
when graded, in either language.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from grader.i18n import language, t

CONCAT = "concat"
JOINED = "joined"
LISTED = "listed"
SEPARATOR = "compare.separator"
LIST_AND = "submission.list_and"


class Quoted(str):
    """Text already quoted: shown as is by `{field}` and by `{field!r}` alike (catalogs quote
    values with !r; what a Said holds is quoted once, when it was made)."""
    __slots__ = ()

    def __repr__(self):
        return str.__str__(self)


class Texts(dict):
    """One text per language ({"en": …, "fr": …}), shown in the reader's (English when it has
    none in that language)."""

    def render(self, lang: str | None = None) -> str:
        return self.get(lang or language()) or self.get("en") or next(iter(self.values()), "")

    def __str__(self):  # where a text is expected (an f-string, a template): the reader's language
        return self.render()


@dataclass(frozen=True)
class Said:
    key: str
    fields: dict = field(default_factory=dict)

    def __init__(self, key: str, /, **fields):
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "fields", fields)

    @property
    def code(self) -> str:
        """The key a reader groups by: a concatenation's is its first part's."""
        if self.key in (CONCAT, JOINED):
            parts = self.fields.get("parts") or []
            return parts[0].code if parts and isinstance(parts[0], Said) else self.key
        return self.key

    def render(self, lang: str | None = None) -> str:
        if self.key in (CONCAT, JOINED):
            parts = [render(p, lang) for p in self.fields.get("parts", ())]
            return (t(SEPARATOR, _lang=lang) if self.key == JOINED else "").join(parts)
        if self.key == LISTED:
            items = [render(i, lang) for i in self.fields.get("items", ())]
            if len(items) < 2:
                return "".join(items)
            return t(LIST_AND, _lang=lang, items=", ".join(items[:-1]), last=items[-1])
        return t(self.key, _lang=lang, **{k: _field(v, lang) for k, v in self.fields.items()})

    def __str__(self):
        return self.render()

    def to_json(self) -> dict:
        return {"code": self.key, "fields": {k: _to_json(v) for k, v in self.fields.items()}}

    @classmethod
    def from_json(cls, data) -> Said | None:
        """The Said of `to_json`; None for anything else (a result of an older schema, a field
        edited by hand)."""
        if type(data) is not dict or type(data.get("code")) is not str or type(data.get("fields", {})) is not dict:
            return None
        return cls(data["code"], **{str(k): _from_json(v) for k, v in data.get("fields", {}).items()})


def concat(*parts) -> Said:
    return Said(CONCAT, parts=tuple(parts))


def joined(parts) -> Said:
    return Said(JOINED, parts=tuple(parts))


def listed(items) -> Said:
    """"a, b and c" in the reader's language."""
    return Said(LISTED, items=tuple(items))


def render(value, lang: str | None = None) -> str:
    """A Said in `lang`, a text as it is."""
    return value.render(lang) if isinstance(value, Said) else ("" if value is None else str(value))


def _field(value, lang):
    if isinstance(value, (Texts, Said)):
        return Quoted(value.render(lang))
    if isinstance(value, str):
        return Quoted(value)
    return value


def _to_json(value):
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN or infinity
        return {"float": repr(value)}
    if isinstance(value, Texts):
        return {"texts": {str(k): str(v) for k, v in value.items()}}
    if isinstance(value, Said):
        return value.to_json()
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _from_json(value):
    if type(value) is dict and set(value) == {"float"} and value["float"] in ("nan", "inf", "-inf"):
        return float(value["float"])
    if type(value) is dict and set(value) == {"texts"} and type(value["texts"]) is dict:
        return Texts({str(k): str(v) for k, v in value["texts"].items()})
    if type(value) is dict:
        return Said.from_json(value)
    if type(value) is list:
        return tuple(_from_json(v) for v in value)
    return value
