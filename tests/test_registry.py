"""Tests for fifteenmin.registry: reading, validation, name/address normalisation, merging."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from fifteenmin.errors import InputError
from fifteenmin.registry import (
    REGISTRY_COLUMNS,
    Problem,
    _parse_address,
    _street_key,
    format_problems,
    merge_registry,
    normalise_kind,
    normalise_name,
    osm_addresses_from_file,
    read_registry,
    validate_registry,
)

ROME = shapely.box(12.2, 41.6, 12.9, 42.1)

# Registry for the merge: rows 2..7 (the header is row 1).
MERGE_CSV = """\
name,address,municipio,seats,kind,network_member,source,last_verified,lat,lon
Impact Hub Roma,Via Palermo 41,I,80,coworking,sì,albo 2023,2024-03-01,41.8990,12.4930
Talent Garden Ostiense,"Via Ostiense, 92",VIII,120,Co-Working,yes,albo,2024-01-15,41.8700,12.4800
Wire,,II,100,coworking,no,albo 2023,,41.9200,12.4700
Officine Farneto,Via dei Monti della Farnesina 77,XV,200,coworking,1,albo 2023,,,
Re-work,"P.zza Vittorio Emanuele II, 10/A",I,15,spazio comunitario,0,albo 2023,,,
Formi cowo,Via Inesistente 5,V,12,coworking,si,albo 2023,,,
"""

OSM_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="41.9400" lon="12.4600">
    <tag k="addr:street" v="Via dei Monti della Farnesina"/><tag k="addr:housenumber" v="77"/>
  </node>
  <node id="2" lat="41.8950" lon="12.5030">
    <tag k="addr:street" v="Piazza Vittorio Emanuele II"/><tag k="addr:housenumber" v="8"/>
  </node>
  <node id="3" lat="41.8960" lon="12.5040">
    <tag k="addr:street" v="Piazza Vittorio Emanuele II"/><tag k="addr:housenumber" v="14"/>
  </node>
  <node id="10" lat="41.8700" lon="12.4800"/>
  <node id="11" lat="41.8700" lon="12.4810"/>
  <node id="12" lat="41.8710" lon="12.4810"/>
  <node id="13" lat="41.8710" lon="12.4800"/>
  <way id="20">
    <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
    <tag k="building" v="yes"/>
    <tag k="addr:street" v="Via Ostiense"/><tag k="addr:housenumber" v="92"/>
  </way>
</osm>
"""


def _osm_spaces() -> gpd.GeoDataFrame:
    rows = [  # (space_id, name, seats, lon, lat)
        ("node/1", "IMPACT HUB - Roma", 80, 12.4932, 41.8991),  # ~20 m from row 2
        ("node/2", "Talent Garden Ostiense", 150, 12.4801, 41.8701),  # ~14 m from row 3
        ("node/5", "Talent Garden Ostiense", 150, 12.4806, 41.8703),  # ~58 m: loses to node/2
        ("node/3", "Officine Farneto", None, 12.4602, 41.9401),  # ~22 m from geocoded row 5
        ("node/4", "Biblioteca Coworking Pigneto", 20, 12.5300, 41.8880),  # no registry row
    ]
    return gpd.GeoDataFrame(
        {
            "space_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "address": [None] * len(rows),
            "seats": [r[2] for r in rows],
            "kind": ["coworking"] * len(rows),
            "source": ["osm"] * len(rows),
        },
        geometry=[shapely.Point(r[3], r[4]) for r in rows],
        crs=4326,
    )


@pytest.fixture
def merge_files(tmp_path: Path) -> tuple[Path, Path]:
    registry = tmp_path / "albo.csv"
    registry.write_text(MERGE_CSV, encoding="utf-8")
    osm = tmp_path / "addresses.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    return registry, osm


def _problems(tmp_path: Path, text: str, name: str = "albo.csv", **kw: object) -> list[Problem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return validate_registry(path, **kw)  # type: ignore[arg-type]


def _by_row(problems: list[Problem]) -> dict[int, list[Problem]]:
    out: dict[int, list[Problem]] = {}
    for p in problems:
        out.setdefault(p.row, []).append(p)
    return out


# ---------------------------------------------------------------- normalisation


def test_schema_is_documented() -> None:
    assert list(REGISTRY_COLUMNS)[:1] == ["name"]
    assert {"address", "municipio", "seats", "kind", "network_member", "source"} <= set(
        REGISTRY_COLUMNS
    )
    assert {"last_verified", "lat", "lon"} <= set(REGISTRY_COLUMNS)
    assert all(REGISTRY_COLUMNS.values())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Impact Hub Roma", "IMPACT HUB - Roma"),
        ("Città dell'Altra Economia", "CITTA DELL ALTRA ECONOMIA"),
        ("Spazio Co-Working Pigneto S.r.l.", "pigneto coworking"),
        ("Formi cowo", "Formi"),
    ],
)
def test_normalise_name_equal(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b) != ""


def test_normalise_name_keeps_distinctive_words() -> None:
    assert normalise_name("Impact Hub") != normalise_name("Impact Center")
    assert normalise_name("Coworking Roma") == "coworking roma"  # all generic: kept
    assert normalise_name(None) == normalise_name("  ") == ""


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("Coworking", "coworking"),
        ("co-working", "coworking"),
        ("Internet Cafè", "internet_cafe"),
        ("internet-cafe", "internet_cafe"),
        ("Spazio comunitario", "community_space"),
        ("COMMUNITY SPACE", "community_space"),
        ("altro", "other"),
        ("bar", None),
    ],
)
def test_normalise_kind(raw: str, kind: str | None) -> None:
    assert normalise_kind(raw) == kind


@pytest.mark.parametrize(
    "address",
    [
        "Via Ostiense 92",
        "Via Ostiense, 92",
        "via ostiense 92, 00154 Roma",
        "V. Ostiense n. 92",
        "Via Ostiense 92 - 00154 Roma (RM)",
    ],
)
def test_parse_address_forms(address: str) -> None:
    assert _parse_address(address) == ("via ostiense", 92, "")


def test_parse_address_suffix_and_numbered_street_names() -> None:
    assert _parse_address("Via Ostiense 92/A") == ("via ostiense", 92, "a")
    assert _parse_address("Via Ostiense, 92A") == ("via ostiense", 92, "a")
    assert _parse_address("Viale XXI Aprile 5") == ("viale xxi aprile", 5, "")
    assert _parse_address("Via 4 Novembre") == ("via 4 novembre", None, "")


@pytest.mark.parametrize(
    ("short", "full"),
    [
        ("P.zza Vittorio Emanuele II", "Piazza Vittorio Emanuele II"),
        ("P.za Bologna", "Piazza Bologna"),
        ("V.le Trastevere", "Viale di Trastevere"),
        ("L.go Preneste", "Largo Preneste"),
        ("V. dei Volsci", "Via dei Volsci"),
        ("C.so Vittorio Emanuele II", "Corso Vittorio Emanuele II"),
        ("Via Dell'Università", "via dell universita"),
    ],
)
def test_street_key_abbreviations(short: str, full: str) -> None:
    assert _street_key(short) == _street_key(full)


# ---------------------------------------------------------------- reading


def test_read_registry_types_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "albo.csv"
    path.write_text(
        "Nome;Indirizzo;Postazioni;Tipo;Rete;last_verified;Latitudine;Longitudine\n"
        "Wire;Via Nomentana 1;100;Co-Working;Sì;2024-03-01;41,92;12,47\n"
        "\n"
        "Re-work;Via Prenestina 10;;internet cafè;no;;;\n",
        encoding="utf-8",
    )
    table = read_registry(path)
    assert table["row"].tolist() == [2, 4]  # the blank line 3 still counts
    assert table["kind"].tolist() == ["coworking", "internet_cafe"]
    assert table["network_member"].tolist() == [True, False]
    assert table.loc[0, "seats"] == 100 and pd.isna(table.loc[1, "seats"])
    assert table.loc[0, "last_verified"] == pd.Timestamp("2024-03-01")
    assert table.geometry.iloc[0].equals(shapely.Point(12.47, 41.92))
    assert table.geometry.iloc[1] is None
    assert table.crs.to_epsg() == 4326


def test_read_geojson_uses_geometry(tmp_path: Path) -> None:
    text = (
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.47, 41.92]},'
        ' "properties": {"name": "Wire", "seats": 100}},'
        '{"type": "Feature", "geometry": null,'
        ' "properties": {"name": "Re-work", "address": "Via Prenestina 10"}},'
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.47, 41.92]},'
        ' "properties": {"name": null}}]}'
    )
    problems = _problems(tmp_path, text, "albo.geojson")
    assert [(p.row, p.column, p.severity) for p in problems] == [(3, "name", "error")]
    table = read_registry(tmp_path / "albo.geojson")
    assert table.loc[0, ["lon", "lat"]].tolist() == [12.47, 41.92]
    assert table.loc[1, "address"] == "Via Prenestina 10"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", None, "file not found"),
        ("albo.xlsx", "x", "unknown registry file type"),
        ("albo.csv", "", "is empty"),
        ("albo.csv", "name,lat,lon\n", "no data rows"),
    ],
)
def test_bad_files_raise_input_error(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=expected) as info:
        validate_registry(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_windows_1252_is_read(tmp_path: Path) -> None:
    path = tmp_path / "albo.csv"
    path.write_bytes("name;address\nCittà;Via Né\n".encode("cp1252"))
    assert read_registry(path)[["name", "address"]].iloc[0].tolist() == ["Città", "Via Né"]


# ---------------------------------------------------------------- validation

VALIDATE_CSV = """\
name;address;seats;kind;network_member;last_verified;lat;lon
Wire;;100;coworking;si;2024-03-01;41,92;12,47
;Via Ostiense 92;10;;;;;
Solo Nome;;;;;;;
Mezzo;;;;;;41,9;
Fuori;;;;;;41,9;200
Scambiato;;;;;;141,9;41,9
Bar Sport;Via Merulana 1;;bar;;;;
Negativo;Via Merulana 2;-3;;;;;
Mezza;Via Merulana 3;12,5;;;;;
Data;Via Merulana 4;;;;31/03/2024;;
Forse;Via Merulana 5;;;forse;;;
Wire Coworking;;;;;;41,9201;12,4701
Talent Garden Ostiense;Via Ostiense, 92;;;;;;
TALENT GARDEN - Ostiense;Via Ostiense 92;;;;;;

Lontano;;;;;;abc;12,5
"""


def test_validate_reports_every_problem_by_row(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALIDATE_CSV)
    rows = _by_row(problems)
    found = {r: [(p.column, p.severity) for p in ps] for r, ps in rows.items()}
    assert found == {
        3: [("name", "error")],
        4: [(None, "error")],
        5: [("lon", "error")],
        6: [("lon", "error")],
        7: [("lat", "error")],
        8: [("kind", "error")],
        9: [("seats", "error")],
        10: [("seats", "error")],
        11: [("last_verified", "error")],
        12: [("network_member", "error")],
        13: [("name", "warning")],
        15: [("name", "warning")],
        17: [("lat", "error")],  # row 16 is a blank line
    }
    text = {r: ps[0].message for r, ps in rows.items()}
    assert "name is empty" in text[3]
    assert "no coordinates and no address" in text[4]
    assert "lat is given but lon is empty" in text[5]
    assert "lon 200.0 is outside [-180, 180]" in text[6]
    assert "look swapped" in text[7]
    assert "'bar' is unknown" in text[8] and "community_space" in text[8]
    assert "'-3' is negative" in text[9]
    assert "'12,5' is not a whole number" in text[10]
    assert "YYYY-MM-DD" in text[11] and "2024-03-31" in text[11]
    assert "'forse' is not yes/no" in text[12]
    assert "duplicates row 2" in text[13] and "m away" in text[13]
    assert "duplicates row 14" in text[15] and "same address" in text[15]
    assert "'abc' is not a number" in text[17]


def test_validate_study_area_swapped_and_outside(tmp_path: Path) -> None:
    csv_text = "name,lat,lon\nDentro,41.89,12.49\nScambiato,12.49,41.89\nMilano,45.46,9.19\n"
    assert _problems(tmp_path, csv_text) == []  # all in range without a study area
    problems = _problems(tmp_path, csv_text, study_area=ROME)
    assert [(p.row, p.column, p.severity) for p in problems] == [
        (3, "lat", "error"),
        (4, "lat", "warning"),
    ]
    assert "look swapped" in problems[0].message
    assert "outside the study area" in problems[1].message


def test_validate_header_and_quoting_problems(tmp_path: Path) -> None:
    csv_text = "nome,indirizzo,latitute\nWire,Via Ostiense, 92,41.9\n"
    problems = _problems(tmp_path, csv_text)
    assert [(p.row, p.column, p.severity) for p in problems] == [
        (1, "latitute", "warning"),
        (2, None, "error"),
    ]
    assert "unknown column" in problems[0].message
    assert "double quotes" in problems[1].message


def test_format_problems(tmp_path: Path) -> None:
    path = tmp_path / "albo.csv"
    problems = _problems(tmp_path, "name,lat,lon\n,41.9,12.5\n")
    assert format_problems(problems) == f"{path} row 2, column name: error: name is empty; " + (
        "every space needs a name"
    )
    assert format_problems([]) == ""


# ---------------------------------------------------------------- OSM addresses and merge


def test_osm_addresses_from_file(merge_files: tuple[Path, Path]) -> None:
    addresses = osm_addresses_from_file(merge_files[1])
    assert addresses.crs.to_epsg() == 4326
    assert addresses["osm_id"].tolist() == ["n1", "n2", "n3", "w20"]
    way = addresses.set_index("osm_id").loc["w20"]
    assert way["addr:street"] == "Via Ostiense" and way["addr:housenumber"] == "92"
    assert way.geometry.equals_exact(shapely.Point(12.4805, 41.8705), 1e-9)


def test_osm_addresses_bad_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not an OSM file"):
        osm_addresses_from_file(tmp_path / "addresses.csv")


def test_merge_registry(merge_files: tuple[Path, Path]) -> None:
    registry, osm = merge_files
    result = merge_registry(registry, _osm_spaces(), osm_addresses=osm_addresses_from_file(osm))
    merged = result.merged
    assert len(merged) == 6 + 2  # every registry row and every unmatched OSM space
    assert merged.crs.to_epsg() == 4326
    by_id = merged.set_index("space_id")
    assert {f"registry/{r}" for r in range(2, 8)} | {"node/4", "node/5"} == set(by_id.index)

    hub = by_id.loc["registry/2"]  # name variant, same seats
    assert (hub["osm_id"], hub["source"], hub["name"]) == (
        "node/1",
        "registry+osm",
        "Impact Hub Roma",
    )
    assert (hub["name_source"], hub["seats_source"], hub["kind_source"]) == ("both",) * 3
    assert (hub["geometry_source"], hub["address_source"]) == ("registry", "registry")
    assert hub["network_member"] and hub["municipio"] == "I"
    assert hub["last_verified"] == pd.Timestamp("2024-03-01")
    assert pd.isna(hub["geocode_quality"]) and 15 < hub["match_distance_m"] < 30

    tag = by_id.loc["registry/3"]  # seats conflict, nearest of two OSM candidates
    assert (tag["osm_id"], tag["seats"], tag["seats_source"]) == ("node/2", 120, "registry")
    assert result.conflicts.to_dict("records") == [
        {"registry_row": 3, "osm_id": "node/2", "field": "seats",
         "registry_value": "120", "osm_value": "150"},
    ]  # fmt: skip

    farneto = by_id.loc["registry/5"]  # geocoded exactly, then matched: OSM point wins
    assert (farneto["geocode_quality"], farneto["osm_id"]) == ("exact", "node/3")
    assert farneto["geometry_source"] == "osm"
    assert farneto.geometry.equals(shapely.Point(12.4602, 41.9401))

    rework = by_id.loc["registry/6"]  # 10/A: nearest house number on the same street
    assert rework["geocode_quality"] == "street_nearest_number"
    assert rework.geometry.equals(shapely.Point(12.5030, 41.8950))  # number 8, not 14
    assert "approximate" in rework["note"] and rework["kind"] == "community_space"

    formi = by_id.loc["registry/7"]  # cannot be geocoded: kept, empty geometry, note
    assert formi.geometry is None and formi["geocode_quality"] == "none"
    assert "not found" in formi["note"]
    assert result.not_geocoded["registry_row"].tolist() == [7]

    assert result.unmatched_registry["registry_row"].tolist() == [4, 6, 7]
    assert result.unmatched_osm["osm_id"].tolist() == ["node/5", "node/4"]
    osm_only = by_id.loc["node/4"]
    assert (osm_only["source"], osm_only["name_source"], osm_only["seats"]) == ("osm", "osm", 20)
    assert pd.isna(osm_only["registry_row"])


def test_merge_prefer_osm_and_without_addresses(merge_files: tuple[Path, Path]) -> None:
    result = merge_registry(merge_files[0], _osm_spaces(), prefer="osm")
    by_id = result.merged.set_index("space_id")
    assert (by_id.loc["registry/3", "seats"], by_id.loc["registry/3", "seats_source"]) == (
        150,
        "osm",
    )
    assert result.not_geocoded["registry_row"].tolist() == [5, 6, 7]
    assert "no OSM addresses given" in result.not_geocoded["note"].iloc[0]
    assert len(result.merged) == 6 + 3  # Officine Farneto is not located, so not matched


def test_merge_max_distance(merge_files: tuple[Path, Path]) -> None:
    result = merge_registry(merge_files[0], _osm_spaces(), max_distance_m=10)
    assert result.conflicts.empty and len(result.merged) == 6 + 5
    with pytest.raises(InputError, match="max_distance_m"):
        merge_registry(merge_files[0], _osm_spaces(), max_distance_m=0)


def test_merge_result_write(merge_files: tuple[Path, Path], tmp_path: Path) -> None:
    registry, osm = merge_files
    result = merge_registry(registry, _osm_spaces(), osm_addresses=osm_addresses_from_file(osm))
    out = result.write(tmp_path / "out" / "spaces.gpkg")
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"spaces": "Point", "conflicts": None, "unmatched": None, "not_geocoded": None}
    spaces = gpd.read_file(out, layer="spaces")
    assert len(spaces) == len(result.merged) and spaces.crs.to_epsg() == 4326
    unmatched = pyogrio.read_dataframe(out, layer="unmatched", read_geometry=False)
    assert sorted(unmatched["side"]) == ["osm", "osm", "registry", "registry", "registry"]
    assert [p.name for p in out.parent.iterdir()] == ["spaces.gpkg"]  # no temp file left


def test_geocode_against_real_rome_extract(
    tmp_path: Path, rome_file: Callable[[str], Path]
) -> None:
    addresses = osm_addresses_from_file(
        rome_file("network/valhalla_via_montebello_roma_italy.osm.pbf")
    )
    assert {"n473194710", "w159813255"} <= set(addresses["osm_id"])  # both Via Gaeta 23
    path = tmp_path / "albo.csv"
    path.write_text('name,address\nA,"Via Gaeta, 23"\nB,Via Volturno 16\nC,V. Goito 35\n')
    merged = merge_registry(path, _osm_spaces().iloc[:0], osm_addresses=addresses).merged
    assert merged["geocode_quality"].tolist() == ["exact", "street_nearest_number", "exact"]
    node = addresses.set_index("osm_id").geometry["n473194710"]
    assert merged.geometry.iloc[0].equals(node)
    assert "house number 15" in merged["note"].iloc[1]  # "15/17" is the nearest to 16


def test_cli_merge_reads_only_the_study_area(
    merge_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --study-area, OSM spaces and addresses outside it are not read: the Farnesina
    address (north of the area) no longer geocodes row 5, Officine Farneto's OSM node is
    gone, and the rest merges as without it."""
    from fifteenmin.cli import main

    registry, osm = merge_files
    osm.write_text(  # the OSM spaces as tagged nodes, next to the addresses
        OSM_XML.replace(
            "</osm>",
            '  <node id="31" lat="41.9401" lon="12.4602">'
            '<tag k="amenity" v="coworking_space"/><tag k="name" v="Officine Farneto"/></node>\n'
            '  <node id="32" lat="41.8701" lon="12.4801">'
            '<tag k="amenity" v="coworking_space"/>'
            '<tag k="name" v="Talent Garden Ostiense"/></node>\n</osm>',
        ),
        encoding="utf-8",
    )
    area = tmp_path / "centre.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(12.47, 41.86, 12.52, 41.91)], crs=4326).to_file(area)
    outs = {}
    for name, extra in (("all", []), ("centre", ["--study-area", str(area)])):
        out = tmp_path / f"{name}.gpkg"
        argv = ["registry", "merge", str(registry), "--osm", str(osm), "--out", str(out)]
        assert main([*argv, *extra, "--quiet"]) == 0
        outs[name] = out
    capsys.readouterr()
    merged = {k: gpd.read_file(v, layer="spaces").set_index("name") for k, v in outs.items()}
    assert merged["all"].loc["Officine Farneto", "geocode_quality"] == "exact"
    assert merged["all"].loc["Officine Farneto", "source"] == "registry+osm"
    not_geocoded = pyogrio.read_dataframe(outs["centre"], layer="not_geocoded")
    assert "Officine Farneto" in set(not_geocoded["name"])
    assert merged["centre"].loc["Talent Garden Ostiense", "source"] == "registry+osm"
    assert merged["centre"].loc["Re-work", "geocode_quality"] == "street_nearest_number"
