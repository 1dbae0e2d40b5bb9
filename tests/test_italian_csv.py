"""Spreadsheet exports as they come (Excel in Italian), and numbers that must be refused.

One reader serves ``analyze``/``suggest`` (``spaces_from_file``) and ``registry``: these
tests feed both the same files and expect the same reading.
"""

from __future__ import annotations

import codecs
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin import registry
from fifteenmin._tables import (
    AmbiguousNumberError,
    decode_text,
    number_style,
    parse_number,
    read_csv_cells,
)
from fifteenmin.cli import main
from fifteenmin.errors import InputError

# An "albo" as Excel on an Italian Windows saves it with "CSV (delimitato dal separatore
# di elenco)": semicolons, decimal commas, thousands points, Windows-1252, CRLF.
ALBO = (
    "Nome;Indirizzo;Municipio;Postazioni;Tipo;Latitudine;Longitudine\r\n"
    "Caffè Letterario;Via Ostiense 95;VIII;1.200;internet café;41,8673;12,4793\r\n"
    "Spazio Esquilino;Via Principe Amedeo 188;I;35;coworking;41,8933;12,5047\r\n"
    '"Città dell\'Altra Economia; Testaccio";Largo Dino Frisullo;I;80;;41,8746;12,4751\r\n'
)


def _albo(tmp_path: Path, text: str = ALBO, encoding: str = "cp1252", name: str = "albo.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- the Excel export


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16", "latin-1"])
def test_excel_export_reads_the_same_in_every_encoding(tmp_path, encoding):
    spaces = fm.spaces_from_file(_albo(tmp_path, encoding=encoding))
    assert spaces["name"].tolist() == [
        "Caffè Letterario",
        "Spazio Esquilino",
        "Città dell'Altra Economia; Testaccio",
    ]
    assert spaces["address"].iloc[1] == "Via Principe Amedeo 188"
    assert spaces["seats"].tolist() == [1200, 35, 80]  # 1.200 with decimal commas: 1200
    assert spaces.geometry.iloc[1].equals(shapely.Point(12.5047, 41.8933))
    assert spaces["Municipio"].tolist() == ["VIII", "I", "I"]


def test_registry_reads_the_export_as_analyze_does(tmp_path):
    path = _albo(tmp_path)
    assert [p for p in registry.validate_registry(path) if p.severity == "error"] == []
    table = registry.read_registry(path)
    spaces = fm.spaces_from_file(path)
    assert table["seats"].tolist() == spaces["seats"].tolist() == [1200, 35, 80]
    assert table["row"].tolist() == [2, 3, 4]
    assert table["kind"].tolist()[:2] == ["internet_cafe", "coworking"]
    for a, b in zip(table.geometry, spaces.geometry, strict=True):
        assert a.equals(b)


def test_windows_1252_characters_are_not_latin_1(tmp_path):
    text = "nome;indirizzo;lat;lon\nL’Officina € 5;Via dell’Arco;41,9;12,5\n"
    spaces = fm.spaces_from_file(_albo(tmp_path, text))
    assert spaces.loc[0, "name"] == "L’Officina € 5"
    assert spaces.loc[0, "address"] == "Via dell’Arco"


def test_decoding_order():
    path = Path("t.csv")
    assert decode_text("Città".encode(), path) == ("Città", "utf-8")
    assert decode_text(codecs.BOM_UTF8 + "Città".encode(), path) == ("Città", "utf-8-sig")
    assert decode_text("Città".encode("cp1252"), path) == ("Città", "cp1252")
    # 0x81 is not a Windows-1252 character: only Latin-1 reads such a file
    assert decode_text(b"Citt\xe0\x81", path) == ("Citt\xe0\x81", "latin-1")
    with pytest.raises(InputError, match="Excel workbook"):
        decode_text(b"PK\x03\x04 rest of an xlsx", path)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ('name,address,lat,lon\nA,"Via Roma, 1",41.9,12.5\n', ","),
        ("name;address;lat;lon\nA;Via Roma, 1;41,9;12,5\n", ";"),
        ("name\taddress\tlat\tlon\nA\tVia Roma, 1\t41,9\t12,5\n", "\t"),
        ("sep=;\nname,x;address;lat;lon\nA,1;Via Roma, 1;41,9;12,5\n", ";"),
    ],
)
def test_delimiter_is_detected(tmp_path, text, delimiter):
    cells = read_csv_cells(_albo(tmp_path, text, "utf-8"))
    assert cells.delimiter == delimiter
    assert cells.header[-2:] == ["lat", "lon"]
    assert cells.rows[2][1] == "Via Roma, 1"


def test_old_mac_line_endings_and_blank_rows_keep_row_numbers(tmp_path):
    text = "name;lat;lon\r\rA;41,9;12,5\rB;abc;12,5\r"
    with pytest.raises(InputError, match=r"albo.csv row 4, column lat: 'abc' is not a number"):
        fm.spaces_from_file(_albo(tmp_path, text))


# ---------------------------------------------------------------- ragged rows


def test_row_with_more_values_than_the_header_is_one_line(tmp_path):
    text = "name,lat,lon\nA,41.9,12.5\nB,Via Roma, 1,41.9,12.5\n"
    path = _albo(tmp_path, text, "utf-8")
    with pytest.raises(InputError) as info:
        fm.spaces_from_file(path)
    message = str(info.value)
    assert message.startswith(f"{path} row 3: has 5 values but the header has 3 columns")
    assert "double quotes" in message and "\n" not in message
    problems = registry.validate_registry(path)
    assert (3, None, "error") in [(p.row, p.column, p.severity) for p in problems]


def test_trailing_empty_cells_are_not_ragged(tmp_path):
    text = "name;lat;lon\nA;41,9;12,5;;\n"
    assert len(fm.spaces_from_file(_albo(tmp_path, text))) == 1


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "count", "style", "expected"),
    [
        ("41,8933", False, None, 41.8933),
        ("41.8933", False, True, 41.8933),
        ("−12,5", False, None, -12.5),
        ("3.975", True, True, 3975),
        ("3.975", True, False, 3.975),
        ("3,975", True, False, 3975),
        ("3,975", True, True, 3.975),
        ("1.234.567", True, None, 1234567),
        ("1,234,567", True, None, 1234567),
        ("1.234,5", True, None, 1234.5),
        ("1 234 567", True, None, 1234567),
        ("1\u202f234", True, None, 1234),
        ("1234", True, None, 1234),
        ("12,5", True, None, 12.5),
        ("1,5E+03", True, None, 1500),
    ],
)
def test_parse_number(text, count, style, expected):
    assert parse_number(text, count=count, decimal_comma=style) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["3.975", "3,975", "-1.200"])
def test_one_group_of_three_digits_without_evidence_is_refused(text):
    with pytest.raises(AmbiguousNumberError, match="could be"):
        parse_number(text, count=True)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e400", "abc", "1.2.3", ""])
def test_parse_number_refuses(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_number_style_evidence():
    assert number_style(["41,8933"]) is True
    assert number_style(["41.8933"]) is False
    assert number_style(["41,8933", "41.8933"]) is None  # both ways: no evidence
    assert number_style([], ["1.200", "3,975"]) is None  # one group either way tells nothing
    assert number_style([], ["1.234.567"]) is True
    assert number_style([], ["12,5"]) is True


def test_ambiguous_seats_without_evidence_name_row_and_column(tmp_path):
    text = "nome;postazioni;lat;lon\nA;35;42;12\nB;3.975;42;12\n"  # whole-degree coordinates
    with pytest.raises(InputError) as info:
        fm.spaces_from_file(_albo(tmp_path, text))
    message = str(info.value)
    assert "albo.csv row 3, column postazioni: '3.975' could be 3975 or 3.975" in message
    assert "write 3975 without the point" in message
    text = "nome;indirizzo;postazioni\nA;Via Roma 1;3.975\n"
    (problem,) = registry.validate_registry(_albo(tmp_path, text))
    assert (problem.row, problem.column, problem.severity) == (2, "postazioni", "error")
    assert "could be 3975 or 3.975" in problem.message


def test_seats_with_decimal_points_elsewhere_are_not_thousands(tmp_path):
    text = "name,seats,lat,lon\nA,1.200,41.8933,12.5047\n"  # points are decimals here
    with pytest.raises(InputError, match="has 1.2 seats; write a whole number"):
        fm.spaces_from_file(_albo(tmp_path, text, "utf-8"))
    (problem,) = registry.validate_registry(_albo(tmp_path, text, "utf-8"))
    assert "'1.200' is not a whole number" in problem.message


@pytest.mark.parametrize("value", ["nan", "inf", "Infinity", "1e300", "-3"])
def test_spaces_refuse_non_finite_coordinates_and_seats(tmp_path, value):
    text = f"name,seats,lat,lon\nA,{value},41.9,12.5\n"
    with pytest.raises(InputError, match="albo.csv"):
        fm.spaces_from_file(_albo(tmp_path, text, "utf-8"))
    if value == "-3":
        return  # a fine latitude
    text = f"name,lat,lon\nA,{value},12.5\n"
    with pytest.raises(InputError, match="albo.csv row 2"):
        fm.spaces_from_file(_albo(tmp_path, text, "utf-8"))


# ---------------------------------------------------------------- zones' population


def _zones(tmp_path: Path, values: list[object]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"zone_id": f"z{i}", "population": v},
            "geometry": shapely.geometry.mapping(
                shapely.box(12 + i / 100, 41.9, 12.01 + i / 100, 41.91)
            ),
        }
        for i, v in enumerate(values)
    ]
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([100, math.inf], "feature 2: population column 'population' holds inf"),
        ([100, 1e300], "holds 1e\\+300"),
        ([100, -5], "holds -5"),
        ([0, 0], "is 0 in every zone"),
        (["3.975", "35"], "could be 3975 or 3.975"),
    ],
)
def test_population_refused(tmp_path, values, message):
    with pytest.raises(InputError, match=message):
        fm.zones_from_file(_zones(tmp_path, values), population_column="population")


def test_population_text_as_spreadsheets_write_it(tmp_path):
    zones = fm.zones_from_file(
        _zones(tmp_path, ["3.975", "1.234.567", "12"]), population_column="population"
    )
    assert zones[N.POPULATION].tolist() == [3975, 1234567, 12]


# ---------------------------------------------------------------- the command line


def _italian_spaces(sample_city, tmp_path: Path) -> Path:
    """The sample city's spaces re-saved by "Excel": ; decimal commas, 1.200 seats, cp1252."""
    spaces = fm.spaces_from_file(sample_city.spaces)
    lines = ["Nome;Indirizzo;Postazioni;Latitudine;Longitudine"]
    for i, row in enumerate(spaces.itertuples()):
        seats = "1.200" if i == 0 else str(row.seats)
        lat = f"{row.geometry.y:.7f}".replace(".", ",")
        lon = f"{row.geometry.x:.7f}".replace(".", ",")
        lines.append(f"Caffè {row.name};{row.address};{seats};{lat};{lon}")
    return _albo(tmp_path, "\r\n".join(lines) + "\r\n", name="albo_excel.csv")


def test_analyze_accepts_the_italian_export(sample_city, tmp_path, capsys):
    albo = _italian_spaces(sample_city, tmp_path)
    assert fm.spaces_from_file(albo)["seats"].iloc[0] == 1200
    out = tmp_path / "report"
    args = ["--network", str(sample_city.network), "--zones", str(sample_city.zones)]
    rc = main(["analyze", *args, "--spaces", str(albo), "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert main(["registry", "validate", str(albo), "--quiet"]) == 0


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and errors[0] == lines[-1], lines
    return errors[0]


@pytest.mark.parametrize(
    "option",
    [
        ["--minutes", "nan"],
        ["--minutes", "5", "inf"],
        ["--buffer-m", "nan"],
        ["--speed-kmh", "-inf"],
        ["--underserved-share", "nan"],
        ["--margin-m", "1e300"],
        ["--bbox", "12", "41", "nan", "42"],
    ],
)
def test_cli_refuses_non_finite_numbers(sample_city, tmp_path, capsys, option):
    args = ["analyze", "--network", str(sample_city.network), "--zones", str(sample_city.zones)]
    args += ["--spaces", str(sample_city.spaces), "--out", str(tmp_path / "o"), *option]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert f"argument {option[0]}:" in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "option",
    [
        ["--sites", "nan"],
        ["--sites", "0"],
        ["--sites", "9" * 400],  # too large for a float: one line, not an OverflowError
        ["--min-separation-m", "inf"],
    ],
)
def test_cli_suggest_refuses_bad_numbers(sample_city, tmp_path, capsys, option):
    args = ["suggest", "--network", str(sample_city.network), "--zones", str(sample_city.zones)]
    args += ["--spaces", str(sample_city.spaces), "--out", str(tmp_path / "o"), *option]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert f"argument {option[0]}:" in _one_error_line(capsys)


def test_cli_registry_merge_refuses_infinite_distance(tmp_path, capsys):
    albo = _albo(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["registry", "merge", str(albo), "--osm", "x.osm", "--out", "o.gpkg",
              "--max-distance-m", "inf"])  # fmt: skip
    assert info.value.code == 2
    assert "argument --max-distance-m:" in _one_error_line(capsys)


def test_library_refuses_nan_buffer_and_minutes(sample_analysis):
    with pytest.raises(InputError, match="buffer nan m"):
        fm.isochrones.coverage(sample_analysis.walk, buffer_m=np.nan)
    with pytest.raises(InputError, match="finite minutes"):
        fm.isochrones.coverage(sample_analysis.walk, minutes=[np.inf])


def test_zone_population_of_zeros_is_exit_2(sample_city, tmp_path, capsys):
    zones = gpd.read_file(sample_city.zones).assign(population=0)
    zones.to_file(tmp_path / "zeros.geojson")
    args = ["analyze", "--network", str(sample_city.network), "--spaces", str(sample_city.spaces)]
    args += ["--zones", str(tmp_path / "zeros.geojson"), "--population-column", "population"]
    assert main([*args, "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "is 0 in every zone" in _one_error_line(capsys)


def test_zone_coordinates_of_1e300_are_exit_2(sample_city, tmp_path, capsys):
    data = json.loads(Path(sample_city.zones).read_text())
    ring = data["features"][0]["geometry"]["coordinates"][0]
    ring[0] = ring[-1] = [1e300, 1e300]
    (tmp_path / "huge.geojson").write_text(json.dumps(data))
    args = ["analyze", "--network", str(sample_city.network), "--spaces", str(sample_city.spaces)]
    args += ["--zones", str(tmp_path / "huge.geojson"), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(args) == 2
    assert "huge.geojson" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("lat", "expected"),
    [
        ("nan", "node 1 has lat='nan'"),
        ("95", "node 1 has lat=95.0"),
        ("abc", "node 1 has lat='abc'"),
    ],
)
def test_osm_node_without_degrees_is_named(sample_city, tmp_path, capsys, lat, expected):
    osm = tmp_path / "bad.osm"
    osm.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        f'<node id="1" lat="{lat}" lon="3.0"/><node id="2" lat="0.5" lon="3.0"/>'
        '<way id="5"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way></osm>'
    )
    with pytest.raises(InputError, match=f"bad.osm: {expected}"):
        fm.read_streets(osm)
    args = ["analyze", "--network", str(osm), "--spaces", str(sample_city.spaces)]
    args += ["--zones", str(sample_city.zones), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(args) == 2
    assert expected in _one_error_line(capsys)
