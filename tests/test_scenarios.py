"""Scenarios, compare and sensitivity: against a new analyze() run with the same spaces,
by hand on a line, and on the Esquilino extract with the real zone urbanistiche."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_rome import placed_spaces
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin.cli import main
from fifteenmin.errors import InputError
from fifteenmin.scenarios import (
    Scenarios,
    compare,
    diff_spaces,
    scenario_from_files,
    sensitivity,
)


def _same_figures(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, minutes, rtol=1e-9) -> None:
    for m in minutes:
        a = got[N.residents(m)].to_numpy(dtype=float)
        b = want[N.residents(m)].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), m
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6, equal_nan=True, err_msg=f"{m}")
    assert (got[N.UNDERSERVED].to_numpy() == want[N.UNDERSERVED].to_numpy()).all()


def _points(n: int, seed: int, bounds) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    w, s, e, no = bounds
    return gpd.GeoDataFrame(
        {"space_id": [f"new{i}" for i in range(n)], "name": [f"New {i}" for i in range(n)]},
        geometry=gpd.points_from_xy(rng.uniform(w, e, n), rng.uniform(s, no, n)),
        crs=4326,
    )


@pytest.fixture(scope="module")
def city(sample_city):
    return sample_city


@pytest.fixture(scope="module")
def base(sample_analysis):
    return sample_analysis


def _fresh(city, spaces: gpd.GeoDataFrame) -> fm.Analysis:
    return fm.analyze(city.network, spaces, city.zones, population_column="population")


def _base_spaces(analysis: fm.Analysis) -> gpd.GeoDataFrame:
    return analysis.walk.spaces[["space_id", "name", "geometry"]].to_crs(4326)


# ----------------------------------------------------------------------------- engine


def test_no_change_gives_the_analysis_figures_bit_for_bit(base):
    figures = base.scenarios.figures()
    for m in base.parameters["minutes"]:
        a, b = figures.zones[N.residents(m)], base.zones[N.residents(m)]
        assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)
        assert figures.within[f"{m:g}"]["share"] == base.summary["within"][f"{m:g}"]["share"]
    assert sorted(figures.underserved) == sorted(r["zone_id"] for r in base.summary["underserved"])


def test_remove_equals_a_new_analysis(city, base):
    spaces = _base_spaces(base)
    gone = ["S01", "S05", "S09"]
    got = base.scenarios.figures(remove=gone)
    want = _fresh(city, spaces[~spaces["space_id"].isin(gone)])
    _same_figures(got.zones, want.zones, base.parameters["minutes"], rtol=1e-12)
    assert got.removed == tuple(gone) and got.added == ()
    assert len(got.spaces) == len(spaces) - 3


def test_add_and_remove_equal_a_new_analysis(city, base):
    """Spaces added anywhere (mid-street, beside a base space's street, two on one
    street) give the figures of analyze() with those spaces, to rounding."""
    spaces = _base_spaces(base)
    new = _points(8, 3, (2.985, 0.49, 3.015, 0.51))
    # one added on the very street of a base space, a few metres from its access point
    p = spaces.to_crs(base.walk.streets.crs).geometry.iloc[3]
    twin = gpd.GeoDataFrame(
        {"space_id": ["twin"], "name": ["Twin"]},
        geometry=[shapely.Point(p.x + 15, p.y + 3)],
        crs=base.walk.streets.crs,
    ).to_crs(4326)
    new = pd.concat([new, twin], ignore_index=True)
    got = base.scenarios.figures(add=new, remove=["S02"])
    after = pd.concat([spaces[spaces["space_id"] != "S02"], new], ignore_index=True)
    want = _fresh(city, gpd.GeoDataFrame(after, crs=4326))
    _same_figures(got.zones, want.zones, base.parameters["minutes"])
    for key, w in want.summary["within"].items():
        assert got.within[key]["residents"] == pytest.approx(w["residents"], rel=1e-12)


def test_remove_then_add_back_restores_the_figures(base):
    spaces = _base_spaces(base)
    engine = base.scenarios
    before = engine.figures()
    gone = engine.figures(remove=["S04"])
    back = engine.figures(remove=["S04"], add=spaces[spaces["space_id"] == "S04"])
    again = engine.figures()  # the engine keeps no state between scenarios
    _same_figures(back.zones, before.zones, base.parameters["minutes"], rtol=1e-12)
    for m in base.parameters["minutes"]:
        assert np.array_equal(
            again.zones[N.residents(m)].to_numpy(), before.zones[N.residents(m)].to_numpy(),
            equal_nan=True,
        )  # fmt: skip
    assert gone.within["15"]["residents"] <= before.within["15"]["residents"]


def test_faster_never_lowers_coverage(base):
    shares = [base.scenarios.figures(speed_kmh=s) for s in (3.0, 3.6, 4.8, 5.4, 6.5)]
    for slow, fast in zip(shares, shares[1:], strict=False):
        for m in base.parameters["minutes"]:
            a = slow.zones[N.residents(m)].to_numpy()
            b = fast.zones[N.residents(m)].to_numpy()
            ok = ~np.isnan(a)
            assert (b[ok] >= a[ok] - 1e-9).all()


def test_line_by_hand(tmp_path):
    """A 2,000 m street, zone a (x 0-1,000, 1,000 residents), b (1,000-2,000, 500); one
    space at x=0. 15 min = 1,200 m: a covered, b 200 of 1,000 m. A space added at
    x=1,700 (20 m off the street) reaches x >= 520 and everything up to 2,000."""
    xs = [0, 500, 1000, 1500, 2000]
    nodes = {i + 1: (x, 0) for i, x in enumerate(xs)}
    path = write_osm(
        tmp_path / "line.osm", nodes, [(i, [i, i + 1], STREET) for i in range(1, len(xs))]
    )
    boxes = [((-50, -50), (1000, 50)), ((1000, -50), (2050, 50))]
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "population": [1000.0, 500.0]},
        geometry=[shapely.box(*lonlat(*lo), *lonlat(*hi)) for lo, hi in boxes],
        crs=4326,
    )
    result = fm.analyze(
        fm.read_streets(path), spaces_at((0, 0)), zones, population_column="population",
        sparse_share=0,
    )  # fmt: skip
    base = result.scenarios.figures().zones.set_index(N.ZONE_ID)
    assert base.loc["b", N.residents(15)] == pytest.approx(100, rel=1e-4)
    new = spaces_at((1700, 20)).assign(space_id="n")
    got = result.scenarios.figures(add=new).zones.set_index(N.ZONE_ID)
    assert got.loc["b", N.residents(15)] == pytest.approx(500, rel=1e-4)
    # 5 min = 400 m: from x=1,700 (20 m off) x in [1,320, 2,000] (the end at 2,000)
    assert got.loc["b", N.residents(5)] == pytest.approx(500 * 680 / 1000, rel=1e-4)
    with pytest.warns(UserWarning, match="removes every space"):
        gone = result.scenarios.figures(remove=["s0"]).zones.set_index(N.ZONE_ID)
    assert gone.loc["a", N.residents(15)] == 0 and gone.loc["b", N.residents(15)] == 0


def test_bad_scenarios_are_refused(base):
    engine = base.scenarios
    with pytest.raises(InputError, match="match no space.*'nope'"):
        engine.figures(remove=["nope"])
    with pytest.raises(InputError, match="already a space"):
        engine.figures(add=_base_spaces(base).iloc[[0]])
    far = gpd.GeoDataFrame({"space_id": ["far"]}, geometry=[shapely.Point(3.5, 0.5)], crs=4326)
    with pytest.raises(InputError, match="far"):
        engine.figures(add=far)
    for speed in (0, -1, float("nan")):
        with pytest.raises(InputError):
            engine.figures(speed_kmh=speed)
    with pytest.raises(InputError, match="not a column"):
        engine.figures(population_column="nope")


def test_scenarios_need_residents(city):
    result = fm.analyze(city.network, city.spaces, city.zones)
    with pytest.raises(InputError, match="residents"):
        Scenarios(result)


# ---------------------------------------------------------------------------- compare


def test_compare_with_itself_changes_nothing(base):
    comp = compare(base, base)
    for w in comp.within.values():
        assert w["change"] == 0
    for m in base.parameters["minutes"]:
        assert (comp.zones[f"change_{N.residents(m)}"].fillna(0) == 0).all()
    assert comp.newly_served == [] and comp.newly_underserved == []
    assert len(comp.spaces) == 0


def test_compare_sums_and_flags(base):
    after = base.scenarios.figures(remove=["S01"], add=_points(3, 8, (3.0, 0.505, 3.015, 0.512)))
    comp = compare(base, after)
    z = comp.zones
    counted = z[N.STATUS].isin(N.COUNTED)
    for m in base.parameters["minutes"]:
        change = z.loc[counted, f"change_{N.residents(m)}"].sum()
        assert change == pytest.approx(comp.within[f"{m:g}"]["change"], abs=1e-6)
    ub, ua = z["underserved_before"], z["underserved_after"]
    assert (z[N.NEWLY_SERVED] == (ub & ~ua)).all()
    assert sorted(comp.spaces["change"]) == ["added", "added", "added", "removed"]
    assert comp.newly_served  # the north-east corner gains a space


def test_compare_refuses_different_sides(city, base, tmp_path):
    zones = gpd.read_file(city.zones)
    fewer = fm.analyze(city.network, city.spaces, zones.iloc[1:], population_column="population")
    with pytest.raises(InputError, match="different zones"):
        compare(base, fewer)
    slower = fm.analyze(
        city.network, city.spaces, city.zones, population_column="population", speed_kmh=3.6
    )
    with pytest.raises(InputError, match="speed"):
        compare(base, slower)
    # the same zones on a network read within part of the city: another network
    streets = fm.read_streets(city.network, polygon=shapely.box(2.98, 0.48, 3.012, 0.52))
    assert streets.n_nodes < base.walk.streets.n_nodes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        other = fm.analyze(streets, city.spaces, city.zones, population_column="population")
    with pytest.raises(InputError, match="different networks"):
        compare(base, other)


def test_diff_spaces_moved_is_removed_and_added():
    a = gpd.GeoDataFrame(
        {"space_id": ["x", "y", "z"]}, geometry=gpd.points_from_xy([0, 100, 200], [0, 0, 0]),
        crs=3857,
    )  # fmt: skip
    b = gpd.GeoDataFrame(
        {"space_id": ["x", "y", "w"]}, geometry=gpd.points_from_xy([0.5, 150, 300], [0, 0, 0]),
        crs=3857,
    )  # fmt: skip
    gone, new = diff_spaces(a, b)
    assert a["space_id"].iloc[gone].tolist() == ["y", "z"]
    assert b["space_id"].iloc[new].tolist() == ["y", "w"]


def test_scenario_from_a_second_registry(city, base):
    spaces = _base_spaces(base)
    after = pd.concat(
        [spaces[~spaces["space_id"].isin(["S03", "S07"])], _points(2, 5, (2.99, 0.49, 3.01, 0.51))],
        ignore_index=True,
    )
    figures = scenario_from_files(base, gpd.GeoDataFrame(after, crs=4326))
    assert sorted(figures.removed) == ["S03", "S07"] and sorted(figures.added) == ["new0", "new1"]
    want = _fresh(city, gpd.GeoDataFrame(after, crs=4326))
    _same_figures(figures.zones, want.zones, base.parameters["minutes"])


# ------------------------------------------------------------------------- sensitivity


def test_sensitivity_matches_figures_and_flags_borderline(base):
    sens = sensitivity(base, speeds=[3.6, 5.4])
    assert sens.parameters["speeds_kmh"] == [3.6, 4.8, 5.4]  # the analysis's speed included
    at_base = sens.table.query("speed_kmh == 4.8 and minutes == 15").set_index(N.ZONE_ID)
    want = base.zones.set_index(N.ZONE_ID)
    np.testing.assert_array_equal(
        at_base["residents_within"].to_numpy(), want[N.residents(15)].to_numpy()
    )
    city15 = sens.citywide.query("minutes == 15").sort_values("speed_kmh")
    assert city15["share"].is_monotonic_increasing
    z = sens.zones.set_index(N.ZONE_ID)
    low, high = z[f"{N.share('pop', 15)}_low"], z[f"{N.share('pop', 15)}_high"]
    assert (low <= high).all()
    share = base.parameters["underserved_share"]
    counted = want[N.STATUS].isin(N.COUNTED) & (want[N.POPULATION] > 0)
    expect = counted & (low < share) & (high >= share)
    assert (z[N.BORDERLINE] == expect).all()


def test_sensitivity_pairs_a_group_with_its_speed(base):
    zones = base.zones.assign(pop_65p=base.zones[N.POPULATION] * 0.2)
    import dataclasses

    other = dataclasses.replace(base, zones=zones)
    other.__dict__.pop("scenarios", None)
    sens = sensitivity(
        other, speeds=[4.8, 5.4], population_columns=["population", "pop_65p"],
        pairs={"pop_65p": 3.6},
    )  # fmt: skip
    assert sens.combinations == [("population", 4.8), ("population", 5.4), ("pop_65p", 3.6)]
    old = sens.citywide.query("population_column == 'pop_65p' and minutes == 15")
    young = sens.citywide.query("population_column == 'population' and minutes == 15")
    assert old["share"].iloc[0] < young["share"].min()  # slower, so fewer within
    with pytest.raises(InputError, match="not among"):
        sensitivity(other, pairs={"other": 3.6})
    with pytest.raises(InputError):
        sensitivity(other, speeds=[0])


# -------------------------------------------------------------------------------- CLI


def _cli_inputs(city, tmp_path):
    spaces = pd.read_csv(city.spaces)
    after = pd.concat(
        [
            spaces[spaces["space_id"] != "S02"],
            pd.DataFrame(
                {"space_id": ["NEW1"], "name": ["Spazio Nuovo"], "lat": [0.511], "lon": [3.012]}
            ),
        ]
    )
    path = tmp_path / "albo_2026.csv"
    after.to_csv(path, index=False)
    return ["--network", str(city.network), "--zones", str(city.zones),
            "--population-column", "population", "--before", str(city.spaces)], path  # fmt: skip


def test_cli_compare_writes_the_comparison(city, tmp_path, capsys):
    args, after = _cli_inputs(city, tmp_path)
    out = tmp_path / "cmp"
    assert main(["compare", *args, "--after", str(after), "--out", str(out), "--lang", "it"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".fifteenmin", "change_map.png", "change_map.svg", "report.html", "spaces_change.csv",
        "summary.json", "zones_change.csv", "zones_change.gpkg",
    ]  # fmt: skip
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["spaces_added"] == ["NEW1"] and summary["spaces_removed"] == ["S02"]
    lineage = summary["lineage"]
    assert lineage["after"]["spaces"]["path"].endswith("albo_2026.csv")
    assert lineage["before"]["spaces"]["sha256"] != lineage["after"]["spaces"]["sha256"]
    assert lineage["before"]["network"]["sha256"] == lineage["after"]["network"]["sha256"]
    html = (out / "report.html").read_text("utf-8")
    assert "Cosa è cambiato" in html and "albo_2026.csv" in html and "NEW1" in html
    table = pd.read_csv(out / "zones_change.csv")
    assert {"pop_15min_before", "pop_15min_after", "change_pop_15min", "newly_served"} <= set(
        table.columns
    )
    printed = capsys.readouterr().out
    assert "residenti entro 15 min" in printed and "ora servite" in printed  # --lang it


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--remove", "NOPE"], "match no space"),
        ([], "nothing to compare"),
        (["--add", "missing.csv"], "not found"),
    ],
)
def test_cli_compare_bad_input(city, tmp_path, capsys, extra, message):
    args, _ = _cli_inputs(city, tmp_path)
    out = tmp_path / "cmp"
    assert main(["compare", *args, *extra, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("fifteenmin: error")
    assert not out.exists()


def test_cli_compare_bad_speed_is_an_argparse_error(city, tmp_path, capsys):
    args, _ = _cli_inputs(city, tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["compare", *args, "--remove", "S01", "--speed-kmh", "0", "--out", "x"])
    assert exit_.value.code == 2
    assert "--speed-kmh: 0 is outside" in capsys.readouterr().err


# ------------------------------------------------------------------------------- Rome


@pytest.fixture(scope="module", params=["rome_esquilino_2016.osm", "rome_nomentano_2012.osm"])
def esquilino(rome_file, request):
    """An extract of Rome (Esquilino, then Nomentano) against the 155 zone urbanistiche."""
    streets = fm.read_streets(rome_file(f"network/{request.param}"))
    spaces = placed_spaces(streets, 6, seed=21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zones without street data
        result = fm.analyze(
            streets, spaces, rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson"),
            population_column="pop2018",
        )  # fmt: skip
    return streets, spaces, result


def test_esquilino_scenario_equals_a_new_analysis(esquilino, rome_file):
    streets, spaces, result = esquilino
    added = placed_spaces(streets, 9, seed=5).iloc[6:].assign(space_id=["a1", "a2", "a3"])
    got = result.scenarios.figures(add=added, remove=["t0", "t4"])
    after = pd.concat([spaces[~spaces["space_id"].isin(["t0", "t4"])], added], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = fm.analyze(
            streets, gpd.GeoDataFrame(after, crs=4326),
            rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson"),
            population_column="pop2018",
        )  # fmt: skip
    _same_figures(got.zones, want.zones, result.parameters["minutes"])


def test_esquilino_older_residents_at_their_speed(esquilino):
    _, _, result = esquilino
    sens = sensitivity(
        result, speeds=[4.8, 5.4], population_columns=["pop2018", "pop2018_65p"],
        pairs={"pop2018_65p": 3.6},
    )  # fmt: skip
    city = sens.citywide.set_index(["population_column", "speed_kmh", "minutes"])["share"]
    assert city[("pop2018_65p", 3.6, 15.0)] < city[("pop2018", 4.8, 15.0)]
    counted = result.counted
    rows = sens.table.query("population_column == 'pop2018_65p' and minutes == 15")
    assert rows["residents"].to_numpy()[counted].sum() > 0


# ------------------------------------------------------------- sensitivity in analyze


def test_analyze_with_sensitivity_writes_it(city, tmp_path):
    zones = gpd.read_file(city.zones)
    zones["pop_65p"] = (zones["population"] * 0.22).round()
    result = fm.analyze(
        city.network, city.spaces, zones, population_column="population",
        speeds=[3.6, 5.4], population_columns=["pop_65p"], speed_pairs={"pop_65p": 3.6},
    )  # fmt: skip
    z = result.zones
    assert {"share_pop_15min_low", "share_pop_15min_high", N.BORDERLINE} <= set(z.columns)
    counted = result.counted
    assert (z.loc[counted, "share_pop_15min_low"] <= z.loc[counted, N.share("pop", 15)]).all()
    sens = result.summary["sensitivity"]
    assert sens["speeds_kmh"] == [3.6, 4.8, 5.4] and sens["pairs"] == {"pop_65p": 3.6}
    assert len(sens["citywide"]) == (3 + 1) * 3  # (3 speeds + the pair) x 3 thresholds
    borderline = sorted(r["zone_id"] for r in sens["borderline"])
    assert borderline == sorted(z.loc[z[N.BORDERLINE], N.ZONE_ID])
    out = result.write(tmp_path / "out", lang="it")
    city_csv = pd.read_csv(out / "sensitivity.csv")
    assert set(city_csv["population_column"]) == {"population", "pop_65p"}
    per_zone = pd.read_csv(out / "sensitivity_zones.csv")
    assert len(per_zone) == len(z) * 4 * 3
    html = (out / "report.html").read_text("utf-8")
    assert 'id="sensitivity"' in html and "Sensibilità" in html and 'class="curve band"' in html


def test_analyze_without_sensitivity_has_no_section(base, tmp_path):
    assert base.sensitivity is None and "sensitivity" not in base.summary
    assert N.BORDERLINE not in base.zones.columns


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speed-for", "x3.6"], "COL=KMH"),
        (["--speed-for", "nope=3.6"], "not among the population columns"),
        (["--speed-for", "population=0"], "outside"),
        (["--population-column", "population", "nope"], "'nope' is not a column"),
    ],
)
def test_cli_sensitivity_bad_input(city, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    args = ["analyze", "--network", str(city.network), "--spaces", str(city.spaces),
            "--zones", str(city.zones), "--population-column", "population", *extra,
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_cli_speeds_zero_is_refused(city, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "--network", str(city.network), "--spaces", str(city.spaces),
              "--zones", str(city.zones), "--population-column", "population",
              "--speeds", "0", "--out", str(tmp_path / "o")])  # fmt: skip
    assert exit_.value.code == 2 and "--speeds: 0 is outside" in capsys.readouterr().err


def test_hexagons_carry_every_population_group(esquilino, rome_file):
    streets, spaces, _ = esquilino
    zu = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        hexes = fm.analyze(
            streets, spaces, "hex:9", population=zu, population_column="pop2018",
            population_columns=["pop2018_65p"], speeds=[3.6],
        )  # fmt: skip
    z = hexes.zones
    share_old = z["pop2018_65p"].sum() / z[N.POPULATION].sum()
    source = gpd.read_file(zu)
    inside = source[source["zu_nome"].isin(["Esquilino", "Celio", "Zona Archeologica"])]
    want = inside["pop2018_65p"].sum() / inside["pop2018"].sum()
    assert share_old == pytest.approx(want, rel=0.15)  # 65+ follow their zones' mix
    rows = pd.DataFrame(hexes.summary["sensitivity"]["citywide"])
    assert set(rows["population_column"]) == {"pop2018", "pop2018_65p"}


# ------------------------------------------------------------ compare of two reports


def test_cli_compare_two_report_folders(city, tmp_path, capsys):
    args, after = _cli_inputs(city, tmp_path)
    common = ["--network", str(city.network), "--zones", str(city.zones),
              "--population-column", "population", "--quiet"]  # fmt: skip
    a, b = tmp_path / "r2025", tmp_path / "r2026"
    assert main(["analyze", *common, "--spaces", str(city.spaces), "--out", str(a)]) == 0
    assert main(["analyze", *common, "--spaces", str(after), "--out", str(b)]) == 0
    out = tmp_path / "cmp"
    assert main(["compare", "--before", str(a), "--after", str(b), "--out", str(out)]) == 0
    from_reports = json.loads((out / "summary.json").read_text("utf-8"))
    # the same comparison computed from the files
    out2 = tmp_path / "cmp2"
    assert main(["compare", *args, "--after", str(after), "--out", str(out2), "--quiet"]) == 0
    from_files = json.loads((out2 / "summary.json").read_text("utf-8"))
    assert from_reports["spaces_added"] == from_files["spaces_added"] == ["NEW1"]
    assert from_reports["newly_served"] == from_files["newly_served"]
    for key, w in from_files["within"].items():
        assert from_reports["within"][key]["change"] == pytest.approx(w["change"], rel=1e-9)
    # another study area (zones cut to a bbox): refused, saying what differs
    c = tmp_path / "rsmall"
    part = ["--network", str(city.network), "--bbox", "2.98", "0.48", "3.012", "0.52",
            "--zones", str(city.zones), "--population-column", "population"]  # fmt: skip
    assert main(["analyze", *part, "--spaces", str(city.spaces), "--out", str(c), "--quiet"]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["compare", "--before", str(a), "--after", str(c), "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "zones have the same ids but other boundaries" in err[0]
    assert not bad.exists()
    # a folder that is not a report
    assert main(["compare", "--before", str(a), "--after", str(tmp_path), "--out", str(bad)]) == 2
    assert "not a report folder" in capsys.readouterr().err
