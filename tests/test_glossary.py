"""The Italian of fifteenmin: the glossary, plural forms, the console in Italian."""

from __future__ import annotations

import ast
import re
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
        == "rete: 1234 nodi, 5 tratti stradali"
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
