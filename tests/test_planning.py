"""Suggested sites: a hand-checked line, the honest re-run of analyze, lazy = plain greedy."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin import planning
from fifteenmin.cli import main
from fifteenmin.errors import InputError

COLUMNS = [
    "rank",
    "space_id",
    "osmid",
    "candidate",
    "candidate_id",
    "candidate_name",
    "lon",
    "lat",
    "zone_id",
    "zone_name",
    "new_residents_15min",
    "residents_15min",
    "cumulative_share_15min",
    "seats",
    "seats_per_1000_residents_15min",
    "geometry",
]


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """A 3,000 m east-west street of 7 ways, nodes at the x below; a space at x=0.

    Zone ``a`` (x 2,000-3,000) holds 1,000 residents, one per metre of street; zone
    ``b`` (x 0-2,000) nobody. Within 5 min (400 m) a site at x reaches 800 m of zone
    ``a`` when x=2,600, 700 m at 2,300 and 400 m at 2,000 or 3,000.
    """
    xs = [0, 500, 1000, 1500, 2000, 2300, 2600, 3000]
    nodes = {i + 1: (x, 0) for i, x in enumerate(xs)}
    path = write_osm(
        tmp_path_factory.mktemp("line") / "line.osm",
        nodes,
        [(i, [i, i + 1], STREET) for i in range(1, len(xs))],
    )
    boxes = [((2000, -50), (3050, 50)), ((-50, -50), (2000, 50))]
    polys = [shapely.box(*lonlat(*a), *lonlat(*b)) for a, b in boxes]
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "name": ["East", "West"], "population": [1000.0, 0.0]},
        geometry=polys,
        crs=4326,
    )
    return fm.analyze(
        fm.read_streets(path),
        spaces_at((0, 0)),
        zones,
        population_column="population",
        minutes=[5, 15],
        sparse_share=0,
    )


def test_line_site_lands_among_the_residents(line):
    sites = planning.suggest_sites(line, n_sites=1, minutes=5)
    assert len(sites) == 1
    site = sites.iloc[0]
    assert site["osmid"] == 7  # x = 2,600
    assert site["zone_id"] == "a" and site["zone_name"] == "East"
    # to a few millimetres of street: the zone edges are straight in degrees, not in UTM
    assert site["new_residents_5min"] == pytest.approx(800, rel=1e-5)
    assert site["residents_5min"] == pytest.approx(800, rel=1e-5)
    assert site["cumulative_share_5min"] == pytest.approx(0.8, rel=1e-5)
    assert sites.attrs["baseline_share"] == 0
    assert sites.crs == line.walk.streets.crs
    lon, lat = lonlat(2600, 0)
    assert (site["lon"], site["lat"]) == pytest.approx((lon, lat), abs=1e-7)


def test_line_second_site_and_early_stop(line):
    # the 200 residents left at x 2,000-2,200 are reached from x=2,000 or x=2,300;
    # a 350 m separation rules out x=2,300, and then nobody is left for a third site
    sites = planning.suggest_sites(line, n_sites=3, minutes=5, min_separation_m=350)
    assert list(sites["osmid"]) == [7, 5]
    assert list(sites["new_residents_5min"]) == pytest.approx([800, 200], rel=1e-4)
    assert sites["cumulative_share_5min"].iloc[-1] == pytest.approx(1.0, rel=1e-5)


def test_line_nothing_to_gain(line):
    sites = planning.suggest_sites(line, n_sites=2, minutes=40)  # 3,200 m: all covered
    assert sites.empty and list(sites.columns) == [c.replace("15min", "40min") for c in COLUMNS]
    assert sites.attrs["baseline_share"] == pytest.approx(1.0)


def test_given_candidates_off_the_street(line):
    # candidates 30 m north of the street: the 30 m walk to it counts
    points = [lonlat(x, 30) for x in (2000, 2450, 2900)]
    cands = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*points, strict=True)), crs=4326)
    sites = planning.suggest_sites(line, n_sites=1, minutes=5, candidates=cands)
    site = sites.iloc[0]
    assert site["candidate"] == 1 and pd.isna(site["osmid"])
    # from x=2,450 with 370 m left: 2,080-2,820 (the snap is exact to a millimetre)
    assert site["new_residents_5min"] == pytest.approx(740, abs=0.01)
    assert (site["lon"], site["lat"]) == pytest.approx(points[1], abs=1e-9)


def _rerun(city, spaces, sites, minutes=15.0):
    """Share of residents within ``minutes`` when the sites open: analyze from scratch."""
    new = sites[["space_id", "geometry"]].to_crs(4326)
    both = gpd.GeoDataFrame(pd.concat([spaces, new], ignore_index=True), crs=4326)
    result = fm.analyze(
        city.network, both, city.zones, population_column="population", minutes=[minutes]
    )
    return result.summary["within"][f"{minutes:g}"]["share"]


@pytest.fixture(scope="module")
def sample_spaces(sample_city):
    return fm.spaces_from_file(sample_city.spaces)[["space_id", "geometry"]]


def test_analyze_rerun_confirms_the_prediction(sample_analysis, sample_city, sample_spaces):
    sites = fm.suggest_sites(sample_analysis, n_sites=3)
    assert sites.attrs["baseline_share"] == pytest.approx(
        sample_analysis.summary["within"]["15"]["share"], abs=1e-12
    )
    assert list(sites.columns) == COLUMNS
    assert sites["new_residents_15min"].gt(0).all()
    assert (sites["residents_15min"] >= sites["new_residents_15min"] - 1e-6).all()
    total = sites.attrs["residents_total"]
    steps = np.diff(np.r_[sites.attrs["baseline_share"], sites["cumulative_share_15min"]])
    assert steps * total == pytest.approx(sites["new_residents_15min"].to_numpy(), rel=1e-9)
    for k in (1, 3):
        got = _rerun(sample_city, sample_spaces, sites.iloc[:k])
        assert got == pytest.approx(sites["cumulative_share_15min"].iloc[k - 1], abs=1e-6)


def test_rerun_confirms_given_candidates(sample_analysis, sample_city, sample_spaces):
    rng = np.random.default_rng(7)
    xy = sample_analysis.walk.streets.node_xy[rng.choice(795, 40, replace=False)]
    xy = xy + rng.uniform(-60, 60, xy.shape)  # off the nodes, mid-street or off-street
    cands = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=sample_analysis.walk.streets.crs)
    sites = fm.suggest_sites(sample_analysis, n_sites=2, candidates=cands, min_separation_m=0)
    assert sites["candidate"].notna().all() and sites["osmid"].isna().all()
    got = _rerun(sample_city, sample_spaces, sites)
    assert got == pytest.approx(sites["cumulative_share_15min"].iloc[-1], abs=1e-6)


def _plain_greedy(source, n_sites, minutes=15.0):
    """Reference: evaluate every candidate every round (no lazy bounds, no separation)."""
    walk, zones = planning._inputs(source, None)
    geoms = zones.geometry.to_numpy()
    numbered = planning.dataclasses.replace(walk, nearest=np.arange(walk.graph.n_nodes))
    pieces = planning.street_pieces(numbered, geoms)
    pop = zones["residents"].to_numpy(float)
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=len(zones))
    density = np.divide(pop, total, out=np.zeros(len(zones)), where=total > 0)
    res = planning._Residents(walk.graph, walk.dist_m, pieces, density, walk.minutes_to_m(minutes))
    nodes = np.arange(walk.graph.n_street_nodes)
    picks, gains = [], []
    for _ in range(n_sites):
        g = res.gains(nodes)
        best = int(np.argmax(g))
        picks.append(best)
        gains.append(g[best])
        res.add(best)
    return picks, gains, res


def test_lazy_greedy_matches_plain_greedy(sample_analysis):
    picks, gains, _ = _plain_greedy(sample_analysis, 4)
    sites = fm.suggest_sites(sample_analysis, n_sites=4, min_separation_m=0, max_candidates=None)
    osmid = sample_analysis.walk.streets.node_osmid
    assert list(sites["osmid"]) == list(osmid[picks])
    assert list(sites["new_residents_15min"]) == pytest.approx(gains, rel=1e-9)


def test_default_candidates_miss_no_useful_node(sample_analysis):
    walk, zones = planning._inputs(sample_analysis, None)
    _, _, res = _plain_greedy(sample_analysis, 0)
    useful = np.flatnonzero(res.gains(np.arange(walk.graph.n_street_nodes)) > 1e-9)
    near = res.near_uncovered()
    assert near[useful].all()
    assert near.sum() < walk.graph.n_street_nodes  # and it does rule nodes out


def test_subsample_is_deterministic_and_bounded(sample_analysis):
    a = fm.suggest_sites(sample_analysis, n_sites=3, max_candidates=40)
    b = fm.suggest_sites(sample_analysis, n_sites=3, max_candidates=40)
    assert a.attrs["candidates_searched"] <= 40
    pd.testing.assert_frame_equal(a, b)
    full = fm.suggest_sites(sample_analysis, n_sites=3)
    # refined picks come close to the search over every node
    assert a["cumulative_share_15min"].iloc[-1] >= full["cumulative_share_15min"].iloc[-1] - 0.02


def test_min_separation(sample_analysis):
    sites = fm.suggest_sites(sample_analysis, n_sites=4, min_separation_m=1500)
    xy = shapely.get_coordinates(sites.geometry.to_numpy())
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert d[np.triu_indices(len(xy), 1)].min() >= 1500


def test_walk_times_and_zones(sample_analysis, sample_city):
    zones = fm.zones_from_file(sample_city.zones, population_column="population")
    a = fm.suggest_sites(sample_analysis.walk, zones, n_sites=2)
    b = fm.suggest_sites(sample_analysis, n_sites=2)
    assert list(a["osmid"]) == list(b["osmid"])
    assert list(a["cumulative_share_15min"]) == pytest.approx(list(b["cumulative_share_15min"]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_sites": 0}, "number of sites 0"),
        ({"n_sites": 2.5}, "number of sites 2.5"),
        ({"minutes": -5}, "walk of -5 minutes"),
        ({"minutes": float("nan")}, "walk of nan minutes"),
        ({"min_separation_m": -1}, "minimum separation -1"),
        ({"max_candidates": 0}, "maximum number of candidates 0"),
    ],
)
def test_bad_options(sample_analysis, options, message):
    with pytest.raises(InputError, match=message):
        fm.suggest_sites(sample_analysis, **options)


def test_bad_inputs(sample_analysis, sample_city):
    with pytest.raises(InputError, match="pass the zones too"):
        fm.suggest_sites(sample_analysis.walk)
    no_pop = fm.zones_from_file(sample_city.zones)
    with pytest.raises(InputError, match="no residents"):
        fm.suggest_sites(sample_analysis.walk, no_pop)
    with pytest.raises(InputError, match="cannot suggest sites from a str"):
        fm.suggest_sites("analysis")
    polys = gpd.GeoDataFrame(geometry=[shapely.box(3, 0.5, 3.001, 0.501)], crs=4326)
    with pytest.raises(InputError, match="candidate site 1 is a Polygon"):
        fm.suggest_sites(sample_analysis, candidates=polys)
    with pytest.raises(InputError, match="no candidate sites"):
        fm.suggest_sites(sample_analysis, candidates=polys.iloc[:0])
    far = gpd.GeoDataFrame(geometry=gpd.points_from_xy([40.0], [10.0]), crs=4326)
    with pytest.raises(InputError, match="candidate sites: .*outside the network"):
        fm.suggest_sites(sample_analysis, candidates=far)


@pytest.fixture(scope="module")
def courtyard(tmp_path_factory):
    """A 1,200 m street (nodes 1-7 every 200 m) with a space at x=0, and a courtyard
    footway (3 nodes, 40 m) 30 m north of x=800 that OSM does not join to it; one zone of
    1,000 residents over both. Within 5 min (400 m) the space reaches x 0-400."""
    nodes = {i + 1: (200.0 * i, 0.0) for i in range(7)}
    nodes |= {11: (780.0, 30.0), 12: (800.0, 30.0), 13: (820.0, 30.0)}
    ways = [(i, [i, i + 1], STREET) for i in range(1, 7)]
    ways += [(20, [11, 12], {"highway": "footway"}), (21, [12, 13], {"highway": "footway"})]
    path = write_osm(tmp_path_factory.mktemp("court") / "court.osm", nodes, ways)
    zone = shapely.box(*lonlat(-50, -50), *lonlat(1250, 80))
    zones = gpd.GeoDataFrame(
        {"zone_id": ["z"], "name": ["Z"], N.POPULATION: [1000.0]}, geometry=[zone], crs=4326
    )
    return fm.analyze(
        fm.read_streets(path),
        spaces_at((0, 0)),
        zones,
        minutes=[5, 15],
        sparse_share=0,
    )


def test_no_site_on_a_fragment(courtyard):
    walk = courtyard.walk
    assert walk.fragment_nodes.sum() == 3
    sites = planning.suggest_sites(courtyard, n_sites=3, minutes=5, min_separation_m=0)
    # one site at x=800 reaches x 400-1,200: everybody, the courtyard being left out
    assert list(sites["osmid"]) == [5]
    assert sites["new_residents_5min"].iloc[0] == pytest.approx(1000 * 800 / 1200, rel=1e-4)
    assert sites["cumulative_share_5min"].iloc[-1] == pytest.approx(1.0, rel=1e-5)
    # counted as out of reach (fragments kept), the courtyard draws a site of its own
    kept = dataclasses.replace(walk, fragment_nodes=np.zeros_like(walk.fragment_nodes))
    sites = planning.suggest_sites(kept, courtyard.zones, n_sites=3, minutes=5, min_separation_m=0)
    assert list(sites["osmid"])[0] == 5 and set(sites["osmid"][1:]) <= {11, 12, 13}
    assert len(sites) == 2
    assert sites["new_residents_5min"].iloc[1] == pytest.approx(1000 * 40 / 1240, rel=1e-3)


def test_cli_suggest_writes_files(sample_city, tmp_path, capsys):
    out = tmp_path / "sites"
    args = ["suggest", "--network", str(sample_city.network), "--spaces", str(sample_city.spaces)]
    args += ["--zones", str(sample_city.zones), "--population-column", "population"]
    assert main([*args, "--sites", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1. " in printed and "2. " in printed and "residents" in printed
    table = pd.read_csv(out / "suggested_sites.csv")
    layer = gpd.read_file(out / "suggested_sites.gpkg", layer="suggested_sites")
    assert list(table["rank"]) == [1, 2] and len(layer) == 2
    assert table["cumulative_share_15min"].is_monotonic_increasing
    summary = json.loads((out / "suggest_summary.json").read_text())
    assert summary["baseline_share"] < table["cumulative_share_15min"].iloc[0]
    assert summary["exact"]["candidates"] > 300 and not summary["exact"]["run"]
    assert "exact check not run" in printed
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_cli_suggest_needs_residents(sample_city, tmp_path, capsys):
    args = ["suggest", "--network", str(sample_city.network), "--spaces", str(sample_city.spaces)]
    assert main([*args, "--zones", str(sample_city.zones), "--out", str(tmp_path / "o")]) == 2
    assert "population-column" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
