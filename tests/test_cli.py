"""The command line: the demo, and one clear message + exit 2 + untouched --out for bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm

from fifteenmin.cli import main


def test_demo_writes_the_report(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out), "--data-dir", str(tmp_path / "sample"), "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "zones.gpkg",
        "zones.csv",
        "walk_times.gpkg",
        "isochrones.gpkg",
        "coverage_map.png",
        "summary.json",
    } <= names
    summary = json.loads((out / "summary.json").read_text())
    assert "SYNTHETIC" in summary["note"]
    assert summary["attribution"] == "© OpenStreetMap contributors"
    walk = gpd.read_file(out / "walk_times.gpkg", layer="walk_times")
    assert {"osmid", "walk_time_s", "space_id"} <= set(walk.columns)
    iso = gpd.read_file(out / "isochrones.gpkg", layer="coverage")
    assert list(iso["minutes"]) == [5.0, 10.0, 15.0]
    zones = pd.read_csv(out / "zones.csv")
    assert zones["population"].sum() == pytest.approx(60_000)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp folder left


def test_analyze_with_osm_spaces(sample_city, tmp_path):
    out = tmp_path / "osm"
    rc = main(
        [
            "analyze",
            "--network",
            str(sample_city.network),
            "--spaces",
            "osm",
            "--zones",
            str(sample_city.zones),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    assert json.loads((out / "summary.json").read_text())["counts"]["spaces"] == 3


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """An existing report folder (marked as fifteenmin's) whose content must survive a
    failed run, even with --overwrite."""
    from fifteenmin._io import output_folder

    out = tmp_path / "out"
    with output_folder(out, command="analyze") as tmp:
        (tmp / "keep.txt").write_text("previous report")
    return out


def run_bad(args: list[str], out: Path, capsys) -> str:
    """Run the CLI on bad input; check exit 2, one line, no traceback, --out untouched."""
    rc = main([*args, "--out", str(out), "--overwrite", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fifteenmin: error: "), err
    assert sorted(p.name for p in out.iterdir()) == [".fifteenmin", "keep.txt"]
    assert (out / "keep.txt").read_text() == "previous report"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []
    return lines[0]


def analyze_args(city, *, network=None, spaces=None, zones=None, extra=()) -> list[str]:
    return [
        "analyze",
        "--network",
        str(network or city.network),
        "--spaces",
        str(spaces or city.spaces),
        "--zones",
        str(zones or city.zones),
        "--population-column",
        "population",
        *extra,
    ]


def test_missing_file(sample_city, out_dir, capsys, tmp_path):
    msg = run_bad(analyze_args(sample_city, network=tmp_path / "nope.osm"), out_dir, capsys)
    assert "nope.osm: file not found" in msg


def test_unknown_extension(sample_city, out_dir, capsys, tmp_path):
    bad = tmp_path / "streets.dxf"
    bad.write_text("x")
    msg = run_bad(analyze_args(sample_city, network=bad), out_dir, capsys)
    assert "streets.dxf: unknown network file type" in msg and ".osm.pbf" in msg
    assert ".graphml" in msg


@pytest.mark.parametrize("which", ["network", "spaces", "zones"])
def test_empty_file(sample_city, out_dir, capsys, tmp_path, which):
    suffix = {"network": ".osm", "spaces": ".csv", "zones": ".geojson"}[which]
    empty = tmp_path / f"empty{suffix}"
    empty.write_text("")
    msg = run_bad(analyze_args(sample_city, **{which: empty}), out_dir, capsys)
    assert f"empty{suffix}: the file is empty" in msg


def test_csv_without_coordinates(sample_city, out_dir, capsys, tmp_path):
    csv = tmp_path / "spaces.csv"
    pd.read_csv(sample_city.spaces).drop(columns=["lat"]).to_csv(csv, index=False)
    msg = run_bad(analyze_args(sample_city, spaces=csv), out_dir, capsys)
    assert "spaces.csv: no latitude column" in msg and "--lat-column" in msg


def test_coordinates_out_of_range(sample_city, out_dir, capsys, tmp_path):
    csv = tmp_path / "spaces.csv"
    df = pd.read_csv(sample_city.spaces)
    df.loc[4, "lat"] = 141.9
    df.to_csv(csv, index=False)
    msg = run_bad(analyze_args(sample_city, spaces=csv), out_dir, capsys)
    assert "spaces.csv row 6: latitude 141.9 is outside [-90, 90]" in msg


def test_coordinates_swapped(sample_city, out_dir, capsys, tmp_path):
    csv = tmp_path / "spaces.csv"
    df = pd.read_csv(sample_city.spaces)
    df = df.rename(columns={"lat": "lon", "lon": "lat"})  # every row swapped
    df.loc[:, ["lat"]] = df["lat"] + 88  # a latitude of ~91: impossible, longitude fine
    df.to_csv(csv, index=False)
    msg = run_bad(analyze_args(sample_city, spaces=csv), out_dir, capsys)
    assert "spaces.csv row 2:" in msg and "swapped" in msg


def test_space_far_from_any_street(sample_city, out_dir, capsys, tmp_path):
    # two streets 1,400 m apart; the third space sits between them, 700 m from both
    nodes = {1: (0, 0), 2: (0, 2000), 3: (1400, 0), 4: (1400, 2000)}
    net = write_osm(tmp_path / "two.osm", nodes, [(1, [1, 2], STREET), (2, [3, 4], STREET)])
    csv = tmp_path / "spaces.csv"
    pts = [lonlat(0, 100), lonlat(1400, 100), lonlat(700, 1000)]
    pd.DataFrame(
        {"name": ["a", "b", "c"], "lat": [p[1] for p in pts], "lon": [p[0] for p in pts]}
    ).to_csv(csv, index=False)
    zones = tmp_path / "zones.geojson"
    gpd.GeoDataFrame(
        {"zone_id": ["z"], "population": [10]},
        geometry=[shapely.box(*lonlat(-100, -100), *lonlat(1500, 2100))],
        crs=4326,
    ).to_file(zones)
    msg = run_bad(analyze_args(sample_city, network=net, spaces=csv, zones=zones), out_dir, capsys)
    assert re.search(r"spaces\.csv: space 'S003' is 70\d m from the nearest walkable street", msg)


def test_space_outside_network_extent(sample_city, out_dir, capsys, tmp_path):
    csv = tmp_path / "spaces.csv"
    df = pd.read_csv(sample_city.spaces)
    df.loc[0, ["lat", "lon"]] = [41.9, 12.5]  # Rome, far from the sample city
    df.to_csv(csv, index=False)
    msg = run_bad(analyze_args(sample_city, spaces=csv), out_dir, capsys)
    assert "space 'S01'" in msg and "outside the network's extent" in msg


def test_zones_without_polygons(sample_city, out_dir, capsys, tmp_path):
    pts = tmp_path / "points.geojson"
    gpd.read_file(sample_city.zones).assign(geometry=lambda g: g.representative_point()).to_file(
        pts
    )
    msg = run_bad(analyze_args(sample_city, zones=pts), out_dir, capsys)
    assert "points.geojson: the layer has no polygons" in msg


def test_population_not_numeric(sample_city, out_dir, capsys, tmp_path):
    z = tmp_path / "z.geojson"
    raw = gpd.read_file(sample_city.zones)
    raw["population"] = raw["population"].astype(str)
    raw.loc[1, "population"] = "tanti"
    raw.to_file(z)
    msg = run_bad(analyze_args(sample_city, zones=z), out_dir, capsys)
    assert "z.geojson feature 2: population column 'population' holds 'tanti'" in msg


def test_unknown_population_column(sample_city, out_dir, capsys):
    args = analyze_args(sample_city)
    args[args.index("population")] = "residenti"
    msg = run_bad(args, out_dir, capsys)
    assert "no column 'residenti'" in msg


def test_network_without_walkable_way(sample_city, out_dir, capsys, tmp_path):
    nodes = {1: (0, 0), 2: (1000, 0)}
    net = write_osm(tmp_path / "motorway.osm", nodes, [(1, [1, 2], {"highway": "motorway"})])
    msg = run_bad(analyze_args(sample_city, network=net), out_dir, capsys)
    assert "motorway.osm: no walkable way found" in msg


def test_registry_validate_exit_code(tmp_path, capsys):
    csv = tmp_path / "albo.csv"
    csv.write_text("name,seats,lat,lon\nWire,120,41.92,12.47\n,-3,141.9,12.5\n")
    assert main(["registry", "validate", str(csv)]) == 2
    out = capsys.readouterr().out
    assert "albo.csv row 3, column name" in out


def test_failure_keeps_no_partial_output(sample_city, tmp_path, capsys):
    """A new --out folder is not created at all when the run fails."""
    out = tmp_path / "new"
    rc = main([*analyze_args(sample_city, network=tmp_path / "missing.osm"), "--out", str(out)])
    assert rc == 2 and not out.exists()
    shutil.rmtree(tmp_path / "sample", ignore_errors=True)


def test_main_leaves_no_log_handler_behind(tmp_path, capsys):
    import logging

    before = list(logging.getLogger("fifteenmin").handlers)
    for _ in range(2):
        assert main(["registry", "validate", str(tmp_path / "missing.csv")]) == 2
    assert logging.getLogger("fifteenmin").handlers == before
    assert len(capsys.readouterr().err.strip().splitlines()) == 2
