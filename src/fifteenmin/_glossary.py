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


@dataclass(frozen=True)
class Message:
    """One entry of the console catalogue: an English template and its Italian."""

    en: str
    it: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.en)

    def fields(self, lang: str) -> set[str]:
        """The names of the ``{fields}`` of the template in ``lang``."""
        return {m[1] for m in _FIELD.finditer(getattr(self, lang))}


@cache
def _compiled(template: str) -> re.Pattern[str]:
    return _pattern(template)


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

    def translate(self, text: str) -> str:
        """An English line in this language: the first ``[[message]]`` whose template
        matches it whole, with its fields carried over; ``text`` itself where none does."""
        if self.lang == "en" or not text:
            return text
        for message in messages():
            m = message.pattern.match(text)
            if m is None:
                continue
            values: dict[str, Any] = {}
            for name, value in m.groupdict().items():
                if name == "msg" or name.startswith("msg_"):
                    value = self.translate(value)
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
                    self._value(self.translate(v)) if isinstance(v, str) else v for v in values
                )
                return italian % filled
            except (TypeError, ValueError):
                pass
        text = template % values if values else template
        return self.translate(str(text))
