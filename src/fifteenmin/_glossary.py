"""The Italian glossary (``glossary.toml``) and the console's texts in Italian.

``glossary.toml`` ships with the package and is the one place the Italian terms live: its
``[[term]]`` entries (the chosen term, the variants to avoid) are what every Italian text
is checked against (``tests/test_glossary.py``), and its console catalogue (``[log]``,
``[[message]]``, ``[words]``) is how ``fifteenmin ... --lang it`` writes its lines.

The library logs, warns and raises in English (it is an API); the command translates at its
boundary with a :class:`Console`: a log record by its %-template (exact match), any other
line by the English templates of ``[[message]]`` read as patterns (the first that matches
the whole line wins). A line that nothing matches is written in English as it is.

This module imports neither matplotlib nor the outputs: the command uses it at start-up.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "it")
"""Languages of the console (and of the report)."""

GLOSSARY = "glossary.toml"

_NAME = re.compile(r"\{(\w+)\}")
"""``{name}`` in a template."""
_FORM = r"((?:[^{}|]|\{\w+\})*)"  # a form: text, and {placeholders} in it
_PLURAL = re.compile(r"\{(\w+)\|" + _FORM + r"\|" + _FORM + r"\}")
"""``{name|singular|plural}`` in a text: the form that agrees with the value ``name``."""
_FIELD = re.compile(r"\{(\w+)(?:\|" + _FORM + r"\|" + _FORM + r")?\}")
"""``{name}`` or ``{name|one|other}`` in a template."""
_NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+(\.\d+)?|\d+\.\d+)%?")
"""A number as English writes it with separators: ``1,234``, ``12.5``, ``2,082.0``."""


@cache
def glossary() -> dict[str, Any]:
    """The shipped ``glossary.toml``, parsed."""
    text = resources.files("fifteenmin").joinpath(GLOSSARY).read_text(encoding="utf-8")
    return tomllib.loads(text)


def is_one(value: Any) -> bool:
    """Whether a count (a number, or a number as written in a text) takes the singular."""
    if isinstance(value, str):
        return value.strip() == "1"
    try:
        return float(value) == 1
    except (TypeError, ValueError):
        return False


def plural_forms(text: str, values: dict[str, Any]) -> str:
    """``text`` with each ``{name|singular|plural}`` replaced by the form ``values[name]``
    takes (a name not in ``values``: the plural).

    >>> plural_forms("{n} {n|zona|zone}, {k} {k|zona|zone}", {"n": 1, "k": "3"})
    '{n} zona, {k} zone'
    >>> plural_forms("{n|L'unico spazio|I {n} spazi}", {"n": 2})
    'I {n} spazi'
    """
    return _PLURAL.sub(
        lambda m: m[2] if is_one(values.get(m[1], 0)) else m[3],
        text,
    )


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with ``{name}`` filled and ``{n|one|other}`` in the form ``n`` takes.

    >>> fill("{n} {n|zona|zone} su {t}", {"n": "1", "t": 4})
    '1 zona su 4'
    """
    return _NAME.sub(lambda m: str(values.get(m[1], m[0])), plural_forms(template, values))


def _pattern(template: str) -> re.Pattern[str]:
    """An English template as a pattern of the whole line: each ``{name}`` a (lazy) group,
    each ``{n|one|other}`` either form."""
    out, seen, pos = [], set(), 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        if m[2] is None:
            if m[1] in seen:
                out.append(f"(?P={m[1]})")
            else:
                seen.add(m[1])
                out.append(f"(?P<{m[1]}>.*?)")
        else:
            forms = (re.escape(m[2]), re.escape(m[3]))
            out.append(f"(?:{forms[0]}|{forms[1]})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


_MAX_DEPTH = 4
"""Messages inside messages are translated this deep (a line of a user's own text may
look like ``where: where: ...`` without end)."""
_REGEX_MAX_CHARS = 400
"""Longer lines are matched by :func:`_parse` alone: a pattern of several lazy groups can
take time growing as a power of the length on a line that almost matches."""


def _variants(template: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """A template as ``(leading text, ((field, text after it), ...))``, once per choice of
    its plural forms (the singular first)."""
    parts: list[list[str | tuple[str]]] = [[]]
    pos = 0
    for m in _FIELD.finditer(template):
        literal = template[pos : m.start()]
        if m[2] is None:
            parts = [[*p, literal, (m[1],)] for p in parts]
        else:
            parts = [[*p, literal + form] for form in (m[2], m[3]) for p in parts]
        pos = m.end()
    parts = [[*p, template[pos:]] for p in parts]
    out = []
    for p in parts:
        lead, fields = "", []
        for item in p:
            if isinstance(item, tuple):
                fields.append([item[0], ""])
            elif fields:
                fields[-1][1] += item
            else:
                lead += item
        out.append((lead, tuple((name, after) for name, after in fields)))
    return tuple(out)


def _parse(variant: tuple[str, tuple[tuple[str, str], ...]], text: str) -> dict[str, str] | None:
    """The fields of ``text`` read as ``variant``, each as short as it can be (what the
    lazy pattern finds first), without going back: None where that reading fails."""
    lead, fields = variant
    if not text.startswith(lead):
        return None
    if not fields:
        return {} if text == lead else None
    pos = len(lead)
    values: dict[str, str] = {}
    for i, (name, after) in enumerate(fields):
        if i == len(fields) - 1:
            end = len(text) - len(after)
            if end < pos or not text.endswith(after):
                return None
        elif not after:
            return None  # two fields side by side: only the pattern can split them
        else:
            end = text.find(after, pos)
            if end < 0:
                return None
        value = text[pos:end]
        if values.setdefault(name, value) != value:
            return None
        pos = end + len(after)
    return values


@dataclass(frozen=True)
class Message:
    """One entry of the console catalogue: an English template and its Italian."""

    en: str
    it: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.en)

    def match(self, text: str) -> dict[str, str] | None:
        """The fields of ``text`` if it is this template, filled; else None. Read without
        going back first; the pattern (with its backtracking) only for short lines that
        hold every piece of the template's text."""
        variants = _variants_of(self.en)
        for variant in variants:
            found = _parse(variant, text)
            if found is not None:
                return found
        if len(text) > _REGEX_MAX_CHARS or not any(_holds(v, text) for v in variants):
            return None
        m = self.pattern.match(text)
        return None if m is None else m.groupdict()

    def fields(self, lang: str) -> set[str]:
        """The names of the ``{fields}`` of the template in ``lang``."""
        return {m[1] for m in _FIELD.finditer(getattr(self, lang))}


@cache
def _compiled(template: str) -> re.Pattern[str]:
    return _pattern(template)


@cache
def _variants_of(template: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    return _variants(template)


def _holds(variant: tuple[str, tuple[tuple[str, str], ...]], text: str) -> bool:
    """Whether ``text`` starts and ends as ``variant`` and holds its texts in order."""
    lead, fields = variant
    if not text.startswith(lead) or (fields and not text.endswith(fields[-1][1])):
        return False
    pos = len(lead)
    for _, after in fields[:-1]:
        pos = text.find(after, pos)
        if pos < 0:
            return False
        pos += len(after)
    return True


@cache
def messages() -> tuple[Message, ...]:
    """The ``[[message]]`` entries, in order."""
    return tuple(Message(m["en"], m["it"]) for m in glossary().get("message", []))


@cache
def log_templates() -> dict[str, str]:
    """The ``[log]`` table: English %-template -> Italian %-template."""
    return dict(glossary().get("log", {}))


@cache
def _by_english() -> dict[str, Message]:
    return {m.en: m for m in messages()}


def language_from_environment(environ: dict[str, str] | None = None) -> str:
    """``"it"`` where the locale asks for Italian (the first set of ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG`` starts with ``it``), else ``"en"``.

    >>> language_from_environment({"LANG": "it_IT.UTF-8"}), language_from_environment({})
    ('it', 'en')
    >>> language_from_environment({"LC_ALL": "C", "LANG": "it_IT.UTF-8"})
    'en'
    """
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "it" if value.lower().startswith("it") else "en"
    return "en"


class Console:
    """The console's lines in one language.

    Examples
    --------
    >>> it = Console("it")
    >>> it.say("underserved zones: {n} of {total} with street data", n=4, total=1234)
    'zone carenti: 4 su 1.234 con dati stradali'
    >>> it.translate("a.csv: file not found; check the path")
    'a.csv: file non trovato; controllare il percorso'
    >>> it.translate("something new")
    'something new'
    >>> it.log("spaces: %d", (14,))
    'spazi: 14'
    """

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} is not available; use one of en, it")
        self.lang = lang

    # -- numbers
    def integer(self, value: float) -> str:
        """A whole number with the language's thousands separator."""
        text = f"{value:,.0f}"
        return text.replace(",", ".") if self.lang == "it" else text

    def decimal(self, value: float, digits: int = 1) -> str:
        """A number with ``digits`` decimals, in the language's separators."""
        return self._number(f"{value:,.{digits}f}")

    def pct(self, share: float) -> str:
        """A share in [0, 1] as a whole percentage."""
        return f"{share:.0%}"

    def minutes(self, value: float) -> str:
        """A number as a text writes it, with no trailing zeros: ``15``, ``7,5``."""
        return self._number(f"{float(value):g}")

    def note(self, note: str) -> str:
        """A run's note: the sample city's own note in this language, any other as is."""
        from .sample import SYNTHETIC_NOTE

        return self.say(SYNTHETIC_NOTE) if note == SYNTHETIC_NOTE else note

    def _number(self, text: str) -> str:
        if self.lang != "it":
            return text
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")

    def _value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.integer(value)
        if isinstance(value, str) and self.lang == "it" and _NUMBER.fullmatch(value):
            return self._number(value)
        return value

    # -- texts
    def say(self, template: str, **values: Any) -> str:
        """The CLI's own line ``template`` (an English ``[[message]]`` template), filled."""
        message = _by_english().get(template)
        text = template if message is None else getattr(message, self.lang)
        return fill(text, {k: self._value(v) for k, v in values.items()})

    def translate(self, text: str, *, depth: int = 0) -> str:
        """An English line in this language: the first ``[[message]]`` whose template
        matches it whole, with its fields carried over (the messages inside translated in
        turn, down to :data:`_MAX_DEPTH`); ``text`` itself where none does."""
        if self.lang == "en" or not text or depth > _MAX_DEPTH:
            return text
        for message in messages():
            found = message.match(text)
            if found is None:
                continue
            values: dict[str, Any] = {}
            for name, value in found.items():
                if name == "msg" or name.startswith("msg_"):
                    value = self.translate(value, depth=depth + 1)
                elif name == "sev":
                    value = glossary().get("words", {}).get(value, value)
                values[name] = self._value(value)
            return fill(message.it, values)
        return text

    def log(self, template: str, args: tuple[Any, ...] | Any) -> str:
        """A log record's text: its %-template in this language (the ``[log]`` table),
        the English phrases among its values translated; else the English line, translated
        as a whole where a ``[[message]]`` matches it."""
        values = args if isinstance(args, tuple) else (args,) if args else ()
        italian = log_templates().get(template) if self.lang == "it" else None
        if italian is not None:
            try:
                filled = tuple(
                    self._value(self.translate(v) if isinstance(v, str) else v) for v in values
                )  # whole numbers with the thousands separator, as the catalogue's lines
                return italian.replace("%d", "%s") % filled
            except (TypeError, ValueError):
                pass
        text = template % values if values else template
        return self.translate(str(text))
