"""The Italian of fifteenmin: the glossary, plural forms, the console in Italian."""

from __future__ import annotations

import ast
import re
import time
import tomllib
from pathlib import Path

import pytest

from fifteenmin import _glossary
from fifteenmin._glossary import Console, glossary, log_templates, messages
from fifteenmin.cli import main
from fifteenmin.outputs._i18n import MESSAGES, Translator

SRC = Path(__file__).resolve().parents[1] / "src" / "fifteenmin"
_FIELDS = re.compile(r"\{(\w+)[}|]")
_NOT_WORDS = re.compile(r"\{[^{}]*\}|\b[\w-]+\.(?:csv|gpkg|html|json|pdf|png)\b")
_CONVERSIONS = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdgfr%]")


def _italian_texts() -> dict[str, str]:
    """Every Italian text: the report's and the maps', the console's, the categories'."""
    texts = {f"MESSAGES[it][{k}]": v for k, v in MESSAGES["it"].items()}
    texts |= {f"message {m.en!r}": m.it for m in messages()}
    texts |= {f"log {k!r}": v for k, v in log_templates().items()}
    table = tomllib.loads((SRC / "categories.toml").read_text(encoding="utf-8"))
    texts |= {f"category {c['name']}": c.get("label_it", "") for c in table["category"]}
    return texts


# ---------------------------------------------------------------- the glossary


def test_every_italian_text_keeps_to_the_glossary() -> None:
    terms = glossary()["term"]
    assert {"strada percorribile a piedi", "residenti", "area di studio", "postazioni"} <= {
        t["it"] for t in terms
    }
    # fields ({residents}) and file names (isochrones.gpkg) are not words of the text
    texts = {k: _NOT_WORDS.sub(" ", v) for k, v in _italian_texts().items()}
    wrong = [
        f"{where}: {avoid!r} (use {term['it']!r})"
        for term in terms
        for avoid in term.get("avoid", [])
        for where, text in texts.items()
        if avoid.lower() in text.lower()
    ]
    assert not wrong, "\n".join(wrong)
    joined = "\n".join(texts.values())
    for term in ("strada percorribile a piedi", "tempo a piedi", "area di studio", "carent"):
        assert term in joined


def test_messages_have_the_same_keys_and_fields_in_each_language() -> None:
    assert MESSAGES["en"].keys() == MESSAGES["it"].keys()
    for key, en in MESSAGES["en"].items():
        assert set(_FIELDS.findall(en)) == set(_FIELDS.findall(MESSAGES["it"][key])), key


@pytest.mark.parametrize(
    ("lang", "key", "one", "two"),
    [
        ("en", "map_label_without", "1 resident without", "2 residents without"),
        ("it", "map_label_without", "1 residente senza", "2 residenti senza"),
        ("en", "miss_map_total", "1 resident has everything", "2 residents have everything"),
        ("it", "miss_map_total", "1 residente ha tutto", "2 residenti hanno tutto"),
        ("en", "underserved_of", "of 1 zone", "of 2 zones"),
        ("it", "underserved_of", "su 1 zona", "su 2 zone"),
        ("it", "map_left_out", "1 zona non conteggiata", "2 zone non conteggiate"),
        ("it", "spaces_intro", "L'unico spazio dell'analisi", "I 2 spazi dell'analisi"),
        ("en", "partial_note", "1 zone lies partly", "2 zones lie partly"),
        ("it", "partial_note", "1 zona è in parte", "2 zone sono in parte"),
    ],
)
def test_plural_forms_agree_with_the_count(lang: str, key: str, one: str, two: str) -> None:
    t = Translator(lang)
    values = {"n": "1", "what": "x", "total": "5", "m": "15"}
    assert one in t(key, **values)
    assert two in t(key, **(values | {"n": "2"}))


def test_plural_forms_of_several_counts() -> None:
    t = Translator("it")
    text = t("cap_target", target="10", short="1", n="1", short_e="1")
    assert "Manca 1 postazione raggiungibile a piedi, in 1 zona" in text
    text = t("cap_target", target="10", short="2", n="3", short_e="1")
    assert "Mancano 2 postazioni raggiungibili a piedi, in 3 zone" in text
    en = Translator("en")("cap_target", target="10", short="1", n="1", short_e="1")
    assert "1 desk is missing" in en and "in 1 zone " in en


def test_synthetic_note_is_translated() -> None:
    from fifteenmin.sample import SYNTHETIC_NOTE

    assert Translator("en").note(SYNTHETIC_NOTE) == SYNTHETIC_NOTE
    assert Translator("it").note(SYNTHETIC_NOTE).startswith("Città campione SINTETICA")
    assert Translator("it").note("my own note") == "my own note"


# ---------------------------------------------------------------- the console catalogue


def test_catalogue_entries_are_consistent() -> None:
    for m in messages():
        assert m.fields("en") == m.fields("it"), m.en
    for en, it in log_templates().items():
        assert _CONVERSIONS.findall(en) == _CONVERSIONS.findall(it), en


def _logged_templates() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("info", "warning", "error")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "logger"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_log_line_of_the_library_has_its_italian() -> None:
    templates = _logged_templates()
    assert "reading the walking network from %s" in templates  # the search finds them
    missing = sorted(templates - log_templates().keys())
    assert not missing, f"add these to [log] in glossary.toml: {missing}"


def test_console_translates_and_falls_back() -> None:
    it = Console("it")
    assert it.translate("an unknown message: 42") == "an unknown message: 42"
    assert Console("en").translate("a.csv: the file is empty") == "a.csv: the file is empty"
    assert it.translate("a.csv: the file is empty") == "a.csv: il file è vuoto"
    assert it.say("only {n} {n|site reaches|sites reach} anybody new", n=1) == (
        "solo un sito raggiunge nuovi residenti"
    )
    assert (
        it.log("network: %d nodes, %d street segments", (1234, 5))
        == "rete: 1.234 nodi, 5 tratti stradali"
    )
    assert it.log("a new line %s", ("x",)) == "a new line x"


def test_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert _glossary.language_from_environment() == "en"
    monkeypatch.setenv("LANG", "it_IT.UTF-8")
    assert _glossary.language_from_environment() == "it"


# ---------------------------------------------------------------- the command in Italian


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, list[str]]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, [line for line in (err + out).splitlines() if line.strip()]


def _normalised(lines: list[str], folder: Path) -> list[str]:
    return [line.replace(str(folder), "OUT") for line in lines]


def test_demo_in_italian_has_every_line_in_italian(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    code, en = _run(capsys, ["demo", "--out", str(tmp_path / "en")])
    assert code == 0
    code, it = _run(capsys, ["demo", "--out", str(tmp_path / "it"), "--lang", "it"])
    assert code == 0
    en, it = _normalised(en, tmp_path / "en"), _normalised(it, tmp_path / "it")
    assert len(en) == len(it)
    same = [a for a, b in zip(en, it, strict=True) if a == b]
    assert not same, same
    text = "\n".join(it)
    assert "zone carenti: 4 su 12 con dati stradali" in text
    assert "rete stradale percorribile a piedi" in text and "report scritto in" in text
    assert "Città campione SINTETICA" in text
    assert 'lang="it"' in (tmp_path / "it" / "report.html").read_text(encoding="utf-8")
    # the locale alone: the console and the report in Italian
    monkeypatch.setenv("LANG", "it_IT.UTF-8")
    code, by_locale = _run(capsys, ["demo", "--out", str(tmp_path / "loc")])
    assert code == 0 and _normalised(by_locale, tmp_path / "loc") == it
    assert 'lang="it"' in (tmp_path / "loc" / "report.html").read_text(encoding="utf-8")


ALBO = (
    "Nome;Indirizzo;Municipio;Postazioni;Tipo;Latitudine;Longitudine\r\n"
    "Spazio Esquilino;Via Principe Amedeo 188;I;35;coworking;41,8933;12,5047\r\n"
    "Senza numero;Via X 1;I;abc;coworking;91,5;12,4\r\n"
)


def test_registry_in_italian(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    albo = tmp_path / "albo.csv"
    albo.write_bytes(ALBO.encode("cp1252"))
    code, lines = _run(capsys, ["registry", "validate", str(albo), "--lang", "it"])
    assert code == 2
    assert f"{albo}: 2 errori, 0 avvisi" in lines
    assert any(
        "riga 3, colonna Postazioni: errore: seats 'abc' non è un numero" in x for x in lines
    )
    assert any("lat e lon sembrano scambiate" in x for x in lines)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["registry", "validate", "NOPE.csv"],
            "NOPE.csv: file non trovato; controllare il percorso",
        ),
        (
            ["registry", "validate", "EMPTY.csv"],
            "EMPTY.csv: il file è vuoto; esportare di nuovo l'albo",
        ),
    ],
)
def test_errors_in_italian(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "EMPTY.csv").write_text("")
    code, lines = _run(capsys, [*argv, "--lang", "it"])
    assert code == 2 and lines == [f"fifteenmin: errore: {expected}"]


def test_an_unknown_error_stays_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fifteenmin import cli
    from fifteenmin.errors import InputError

    def fail(args: object) -> int:
        raise InputError("something nobody translated yet")

    monkeypatch.setattr(cli, "_run_registry", fail)
    code, lines = _run(capsys, ["registry", "validate", "x.csv", "--lang", "it"])
    assert code == 2 and lines == ["fifteenmin: errore: something nobody translated yet"]


# ---------------------------------------------------------------- every error and warning

_ERRORS = {"InputError", "OutputError", "DownloadError"}
"""Errors built anywhere (``raise``, or kept to raise later); any ``raise <X>Error(...)``
and any ``warnings.warn(...)`` is searched too."""


def _called(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _message_calls(tree: ast.AST) -> list[ast.Call]:
    """The calls that build an error or a warning of the library, in ``tree``."""
    calls: dict[int, ast.Call] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            if _called(node.exc.func).endswith("Error"):
                calls[id(node.exc)] = node.exc
        elif isinstance(node, ast.Call) and (
            _called(node.func) in _ERRORS
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "warn"
                and _called(node.func.value) == "warnings"
            )
        ):
            calls[id(node)] = node
    return sorted(calls.values(), key=lambda c: (c.lineno, c.col_offset))


def _parts(node: ast.expr) -> list[str | ast.FormattedValue | ast.expr] | None:
    """A message as its literal texts and its expressions (each a placeholder); None where
    it is not a literal, an f-string or a concatenation of them (a variable, a call)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value if isinstance(v, ast.Constant) else v for v in node.values]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _parts(node.left), _parts(node.right)
        if left is None and right is None:
            return None
        return [*(left or [node.left]), *(right or [node.right])]
    return None


def _choice(part: ast.FormattedValue | ast.expr) -> ast.IfExp | None:
    """``'a' if ... else 'b'``, a choice of two texts, in a placeholder."""
    value = part.value if isinstance(part, ast.FormattedValue) else part
    if (
        isinstance(value, ast.IfExp)
        and isinstance(value.body, ast.Constant)
        and isinstance(value.orelse, ast.Constant)
    ):
        return value
    return None


def _filled(part: ast.FormattedValue | ast.expr, i: int) -> str:
    """What a placeholder is filled with in the samples: a token (``X3``), or a number
    where a format spec asks for one."""
    spec = getattr(part, "format_spec", None)
    if spec is not None and all(isinstance(v, ast.Constant) for v in spec.values):
        text = "".join(str(v.value) for v in spec.values)
        for number in (1234 + i, 1234.5 + i):
            try:
                return format(number, text)
            except ValueError:
                continue
    token = f"X{i}"
    return repr(token) if getattr(part, "conversion", -1) == ord("r") else token


def _samples(parts: list[str | ast.FormattedValue | ast.expr]) -> list[str]:
    """The message filled with tokens (the same expression, the same token); one sample per
    way of its two-text choices (choices on the same condition go together)."""
    tests = list(
        dict.fromkeys(
            ast.dump(c.test) for p in parts if not isinstance(p, str) and (c := _choice(p))
        )
    )
    samples = []
    for way in range(2 ** len(tests)):
        text, tokens = "", {}
        for part in parts:
            if isinstance(part, str):
                text += part
            elif (choice := _choice(part)) is not None:
                first = not way >> tests.index(ast.dump(choice.test)) & 1
                text += str((choice.body if first else choice.orelse).value)
            else:
                key = ast.dump(part.value if isinstance(part, ast.FormattedValue) else part)
                text += _filled(part, tokens.setdefault(key, len(tokens) + 1))
        samples.append(text)
    return samples


def _written_out(tree: ast.Module, call: ast.Call) -> list[ast.expr] | None:
    """The messages a call raises or warns, as written in the module: its argument; or,
    where that is a call of a function of the module, what the function returns; or, where
    it is a parameter of the function around it, what the module's calls of it pass."""
    arg = call.args[0]
    if _parts(arg) is not None:
        return [arg]
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    if isinstance(arg, ast.Call) and _called(arg.func) in functions:
        body = functions[_called(arg.func)]
        found = [r.value for r in ast.walk(body) if isinstance(r, ast.Return) and r.value]
    elif isinstance(arg, ast.Name):
        around = [
            f
            for f in functions.values()
            if f.lineno <= call.lineno <= (f.end_lineno or 0)
            and arg.id in {a.arg for a in f.args.args}
        ]
        found = [
            c.args[0]
            for f in around
            for c in ast.walk(tree)
            if isinstance(c, ast.Call) and _called(c.func) == f.name and c.args
        ]
    else:
        return None
    return found if found and all(_parts(x) is not None for x in found) else None


def _library_messages() -> dict[str, list[str] | None]:
    """Every error and warning message of ``src/fifteenmin``: ``"file.py: <source>"`` -> its
    samples, or None where the message is not written out there (built elsewhere)."""
    found: dict[str, list[str] | None] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _message_calls(tree):
            if not call.args:
                continue
            key = f"{path.relative_to(SRC).as_posix()}: {ast.unparse(call.args[0])}"
            written = _written_out(tree, call)
            if written is None:
                found[key] = None
            for node in written or []:
                text = ast.unparse(node)
                parts = _parts(node)
                assert parts is not None
                found[key if text == key.split(": ", 1)[1] else f"{key} -> {text}"] = _samples(
                    parts
                )
    return found


UNMATCHED = {
    "_tables.py: f'{locate(i)}: {exc}'": "a place and a message, nothing else: the message is "
    "translated by its own entry (the catalogue's last entry, '{where}: {msg}')",
    "categories.py: f\"{lines.at_key(i, 'file')}: {what}: {exc}\"": "a place, a category and "
    "a message, nothing else: the message is translated by its own entry",
    "categories.py: f'{where}: {exc}'": "a place and a message, nothing else: the message is "
    "translated by its own entry",
    "registry.py: f'{column} {exc}'": "a column and a message: 'lat {msg}' and 'lon {msg}' "
    "match it (column is lat or lon), the message is translated by its own entry",
}
"""Messages no entry of their own can match (only placeholders), each with its reason."""


def _own_words(message: _glossary.Message) -> bool:
    """Whether an entry has words besides its placeholders (not the last resort
    ``{where}: {msg}``, which matches any line with a colon)."""
    return bool(re.sub(r"[\W_]+", "", _glossary._FIELD.sub("", message.en)))


def test_every_error_and_warning_of_the_library_has_its_italian() -> None:
    found = _library_messages()
    assert len(found) > 250  # the search finds them
    assert "errors.py" not in " ".join(found)  # (no message of its own)
    it, entries = Console("it"), [m for m in messages() if _own_words(m)]
    missing = []
    for key, samples in found.items():
        if key in UNMATCHED:
            continue
        assert samples is not None, f"{key}: the message is not written out; list it"
        for sample in samples:
            matched = next((m for m in entries if m.pattern.match(sample)), None)
            if matched is None or not it.translate(sample):
                missing.append(f"{key}\n    {sample}")
    assert not missing, "add these to [[message]] in glossary.toml:\n" + "\n".join(missing)
    assert not UNMATCHED.keys() - found.keys(), "the allow-list names messages no longer raised"


@pytest.mark.parametrize(
    ("english", "italian"),
    [
        (
            "'3.975' could be 3975 or 3.975 (the file shows no other decimals to tell whether "
            "it writes them with a comma or a point); write 3975 without the point",
            "'3.975' potrebbe essere 3975 o 3,975 (il file non ha altri decimali da cui capire "
            "se li scrive con la virgola o con il punto); scrivere 3975 senza il punto",
        ),
        (
            "out: cannot write (permission denied); choose another --out folder, where you can "
            "write",
            "out: impossibile scrivere (permesso negato); scegliere un'altra destinazione "
            "(cartella --out), dove si può scrivere",
        ),
        (
            "--category work=x.txt: x.txt: unknown registry file type .txt; use .csv, .geojson "
            "or .gpkg",
            "--category work=x.txt: x.txt: tipo di file dell'albo sconosciuto .txt; usare .csv, "
            ".geojson o .gpkg",
        ),
        (
            "lat 'abc' is not a number; write decimal degrees such as 41.8933",
            "lat 'abc' non è un numero; scrivere gradi decimali, per esempio 41.8933",
        ),
        (
            "2 categories have no service in the study area, so no zone reaches them: a, b; "
            "check the category table's tags against the extract",
            "2 categorie non hanno alcun servizio nell'area di studio, quindi nessuna zona le "
            "raggiunge: a, b; confrontare i tag della tabella delle categorie con l'estratto",
        ),
    ],
)
def test_messages_built_in_steps_are_translated_part_by_part(english: str, italian: str) -> None:
    assert Console("it").translate(english) == italian


@pytest.mark.parametrize(
    "text",
    [
        "a: " * 3000 + "end",  # "{where}: {msg}" inside itself without end
        ": ; , ( ) " * 3000,
        "'a' " * 3000 + "is not a column of the zones; columns are " + "b, " * 3000,
        ": ; , ( ) " * 40,  # short enough for the patterns: no power-law backtracking
        "a: " * 133,
    ],
)
def test_translating_a_long_odd_line_is_quick(text: str) -> None:
    """A user's own text inside a message can be long and full of the catalogue's
    separators: the line is translated (or left) at once, never minutes later."""
    start = time.perf_counter()
    Console("it").translate(text)
    assert time.perf_counter() - start < 2.0


def test_a_long_line_is_still_translated() -> None:
    path = "a.csv: " * 1000
    assert (
        Console("it")
        .translate(path + "file not found; check the path")
        .endswith("file non trovato; controllare il percorso")
    )


def test_log_lines_write_whole_numbers_the_italian_way() -> None:
    it = Console("it")
    assert it.log("network: %d nodes, %d street segments", (1257, 1562)) == (
        "rete: 1.257 nodi, 1.562 tratti stradali"
    )
