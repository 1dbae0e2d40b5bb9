"""Capacity (2SFCA, E2SFCA) and what each space is worth: a line by hand, PySAL access,
brute-force per-space searches, and the Esquilino extract."""

from __future__ import annotations

import dataclasses
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
from fifteenmin import capacity as C
from fifteenmin.errors import InputError

REL = 1e-5  # the zone edges are straight in degrees, not in UTM: a few mm of street


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """A 2,000 m street; zone ``a`` (x 0-1,000) holds 1,000 residents, ``b`` (1,000-2,000)
    500; space s0 (10 seats) at x=0, s1 (20 seats) at x=2,000. 15 min = 1,200 m: s0 reaches
    x <= 1,200, s1 reaches x >= 800."""
    xs = [0, 500, 1000, 1500, 2000]
    nodes = {i + 1: (x, 0) for i, x in enumerate(xs)}
    path = write_osm(
        tmp_path_factory.mktemp("capline") / "line.osm",
        nodes,
        [(i, [i, i + 1], STREET) for i in range(1, len(xs))],
    )
    boxes = [((-50, -50), (1000, 50)), ((1000, -50), (2050, 50))]
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "name": ["West", "East"], "population": [1000.0, 500.0]},
        geometry=[shapely.box(*lonlat(*lo), *lonlat(*hi)) for lo, hi in boxes],
        crs=4326,
    )
    spaces = spaces_at((0, 0), (2000, 0))
    spaces["seats"] = [10, 20]
    return fm.analyze(
        fm.read_streets(path), spaces, zones, population_column="population", sparse_share=0
    )


def test_line_2sfca_by_hand(line):
    cap = C.capacity(line, seats_per_1000=20)
    # demand within reach: s0 1,000 + 200 x 0.5 = 1,100; s1 200 x 1 + 1,000 x 0.5 = 700
    r0, r1 = 10 / 1100, 20 / 700
    seats_a = 1000 * r0 + 200 * r1  # x 0-800: s0 only; 800-1,000: both
    seats_b = 100 * r0 + 500 * r1  # x 1,000-1,200: both (100 residents); 1,200-2,000: s1
    got = cap.set_index("zone_id")
    assert got.loc["a", "seats_2sfca"] == pytest.approx(seats_a, rel=REL)
    assert got.loc["b", "seats_2sfca"] == pytest.approx(seats_b, rel=REL)
    assert got.loc["a", "seats_per_1000_2sfca"] == pytest.approx(seats_a, rel=REL)
    assert got.loc["b", "seats_per_1000_2sfca"] == pytest.approx(seats_b * 2, rel=REL)
    assert cap["seats_2sfca"].sum() == pytest.approx(30)  # every seat shared out
    assert got.loc["a", "shortfall_seats"] == pytest.approx(20 - seats_a, rel=REL)
    assert got.loc["b", "shortfall_seats"] == 0  # 15.2 seats for a target of 10
    assert cap.attrs["seats_reached"] == 30


def test_line_e2sfca_linear_by_hand(line):
    """Linear decay w = 1 - t/15 min: the integrals by hand (exact with Gauss-Legendre)."""
    cap = C.capacity(line, kernel="linear").set_index("zone_id")

    def integral(x0: float, x1: float) -> float:  # of 1 - x / 1,200 over [x0, x1]
        return (x1 - x0) - (x1**2 - x0**2) / 2400

    near, far = integral(0, 1000), integral(1000, 1200)  # by symmetry for s1 too
    d0 = 1.0 * near + 0.5 * far
    d1 = 0.5 * near + 1.0 * far
    r0, r1 = 10 / d0, 20 / d1
    seats_a = r0 * near + r1 * far
    seats_b = 0.5 * (r0 * far + r1 * near)
    assert cap.loc["a", "seats_e2sfca"] == pytest.approx(seats_a, rel=REL)
    assert cap.loc["b", "seats_e2sfca"] == pytest.approx(seats_b, rel=REL)
    assert seats_a + seats_b == pytest.approx(30)


def test_line_worth_and_robustness_by_hand(line):
    worth = C.space_worth(line).set_index("space_id")
    assert worth.loc["s0", "residents_15min"] == pytest.approx(1100, rel=REL)
    assert worth.loc["s1", "residents_15min"] == pytest.approx(700, rel=REL)
    assert worth.loc["s0", "sole_residents_15min"] == pytest.approx(800, rel=REL)
    assert worth.loc["s1", "sole_residents_15min"] == pytest.approx(400, rel=REL)
    assert worth.loc["s1", "seats_per_1000_residents_15min"] == pytest.approx(20 / 0.7, rel=REL)
    assert worth.attrs["residents_covered"] == pytest.approx(1500, rel=REL)
    assert worth.attrs["residents_covered_2plus"] == pytest.approx(300, rel=REL)
    rob = C.zone_robustness(line).set_index("zone_id")
    assert rob.loc["a", "pop_2plus_15min"] == pytest.approx(200, rel=REL)
    assert rob.loc["b", "pop_2plus_15min"] == pytest.approx(100, rel=REL)
    assert rob["share_pop_2plus_15min"].to_numpy() == pytest.approx([0.2, 0.2], rel=REL)


def test_line_second_nearest(line):
    walk = line.walk
    d2, s2 = C.second_nearest(walk)
    at = {int(o): i for i, o in enumerate(walk.streets.node_osmid)}
    assert d2[at[1]] == pytest.approx(2000) and s2[at[1]] == 1
    assert d2[at[5]] == pytest.approx(2000) and s2[at[5]] == 0
    assert d2[at[3]] == pytest.approx(1000) and s2[at[3]] != walk.nearest[at[3]]


def _access(points: pd.DataFrame, costs: pd.DataFrame, seats: pd.Series, minutes, fn):
    from access import Access

    acc = Access(
        demand_df=points[["demand"]],
        demand_index=True,
        demand_value="demand",
        supply_df=seats.rename("seats").to_frame(),
        supply_index=True,
        supply_value="seats",
        cost_df=costs,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost_min",
    )
    if fn is None:
        out = acc.two_stage_fca(name="fca", max_cost=minutes)
    else:
        out = acc.enhanced_two_stage_fca(name="fca", max_cost=minutes, weight_fn=fn)
    return out["fca_seats"].reindex(points.index).fillna(0.0)


@pytest.mark.parametrize("kernel", [None, "gaussian", "linear"])
def test_matches_pysal_access(sample_analysis, kernel):
    """Our 2SFCA / E2SFCA against PySAL access on the same demand points and costs."""
    pytest.importorskip("access")
    points, costs = C.demand_points(sample_analysis)
    seats = sample_analysis.walk.spaces.set_index("space_id")["seats"].astype(float)
    decay = None if kernel is None else C.kernel_function(kernel, 15.0)
    fn = None if decay is None else (lambda t: float(decay(np.array([t]))[0]))
    per_point = _access(points, costs, seats, 15.0, fn)
    zones = sample_analysis.zones
    want = (
        np.bincount(points["zone"], weights=per_point * points["demand"], minlength=len(zones))
        / zones[N.POPULATION].to_numpy()
        * 1000
    )
    cap = C.capacity(sample_analysis, kernel=kernel or "gaussian")
    col = "seats_per_1000_2sfca" if kernel is None else "seats_per_1000_e2sfca"
    np.testing.assert_allclose(cap[col].to_numpy(), want, rtol=1e-9, atol=1e-9)
    assert np.count_nonzero(want) >= 8


def test_gaussian_quadrature_is_fine(sample_analysis):
    """Two Gauss-Legendre nodes per sub-piece vs a 400-point midpoint rule on each piece."""
    cap = C.capacity(sample_analysis)
    points, costs = C.demand_points(sample_analysis)
    walk = sample_analysis.walk
    g = walk.graph
    decay = C.kernel_function("gaussian", 15.0)
    limit = walk.minutes_to_m(15)
    pieces = sample_analysis.street_pieces
    zones = sample_analysis.zones
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=len(zones))
    dens = zones[N.POPULATION].to_numpy() / total
    k = len(walk.spaces)
    f = (np.arange(400) + 0.5) / 400
    x = pieces.start_m[:, None] + f * (pieces.end_m - pieces.start_m)[:, None]
    h = ((pieces.end_m - pieces.start_m) / 400)[:, None] * dens[pieces.zone][:, None]
    w = np.zeros((k, *x.shape))
    for idx, dist in walk.per_space_m(limit):
        du = dist[:, g.u[pieces.edge]][:, :, None]
        dv = dist[:, g.v[pieces.edge]][:, :, None]
        t = np.minimum(du + x, dv + pieces.length_m[:, None] - x)
        w[idx] = np.where(t <= limit, decay(t / walk.speed_mps / 60), 0.0)
    seats = walk.spaces["seats"].to_numpy(dtype=float)
    ratio = seats / (w * h).sum(axis=(1, 2))
    per = (ratio[:, None, None] * w).sum(axis=0) * h
    want = 1000 * np.bincount(pieces.zone, weights=per.sum(axis=1), minlength=len(zones))
    want /= zones[N.POPULATION].to_numpy()
    np.testing.assert_allclose(cap["seats_per_1000_e2sfca"], want, rtol=1e-5, atol=1e-7)
    assert len(points) < 20 * len(pieces.zone)  # few points: only where needed


def test_second_nearest_matches_per_space_searches(sample_analysis):
    walk = sample_analysis.walk
    d2, s2 = C.second_nearest(walk)
    g = walk.graph
    full = np.vstack([d for _, d in walk.per_space_m(np.inf)])  # spaces x nodes
    order = np.sort(full, axis=0)
    np.testing.assert_allclose(d2, order[1], rtol=1e-12, atol=1e-9)
    has = s2 >= 0
    np.testing.assert_allclose(full[s2[has], np.flatnonzero(has)], d2[has], rtol=1e-12)
    street = has & (np.arange(g.n_nodes) < g.n_street_nodes)
    assert (s2[street] != walk.nearest[street]).all()  # a second space, not the nearest again
    assert (~has == ~np.isfinite(order[1])).all()
    assert len(d2) == g.n_nodes


def test_covered_is_one_plus_two_or_more(sample_analysis):
    """Exactly on street pieces, two ways: the k=2 search, and the per-space catchments of
    the demand points (each sub-piece holds a fixed set of spaces within reach)."""
    worth = C.space_worth(sample_analysis)
    sole = worth["sole_residents_15min"].sum()
    covered, two = worth.attrs["residents_covered"], worth.attrs["residents_covered_2plus"]
    assert covered == pytest.approx(sole + two, rel=1e-12)
    zones = sample_analysis.zones
    assert covered == pytest.approx(zones.loc[sample_analysis.counted, "pop_15min"].sum(), 1e-9)
    points, costs = C.demand_points(sample_analysis)
    n_reach = costs.groupby("origin").size().reindex(points.index, fill_value=0)
    assert points.loc[n_reach >= 1, "demand"].sum() == pytest.approx(covered, rel=1e-9)
    assert points.loc[n_reach >= 2, "demand"].sum() == pytest.approx(two, rel=1e-9)
    only = costs[costs["origin"].isin(points.index[n_reach == 1])]
    by_space = points["demand"].reindex(only["origin"]).groupby(only["dest"].to_numpy()).sum()
    got = worth.set_index("space_id")["sole_residents_15min"]
    np.testing.assert_allclose(
        got.to_numpy(), by_space.reindex(got.index, fill_value=0).to_numpy(), atol=1e-6
    )
    reach = costs.groupby("dest")["origin"].apply(lambda o: points["demand"].loc[o].sum())
    np.testing.assert_allclose(
        worth.set_index("space_id")["residents_15min"], reach.reindex(got.index), rtol=1e-9
    )


def test_demand_share_and_column(sample_analysis):
    full = C.capacity(sample_analysis, seats_per_1000=40)
    part = C.capacity(sample_analysis, seats_per_1000=40, demand_share=0.3)
    ok = full["seats_per_1000_2sfca"].notna()
    # a third of the demand shares the same seats: 1 / 0.3 as many per 1,000 of it
    np.testing.assert_allclose(
        part.loc[ok, "seats_per_1000_2sfca"], full.loc[ok, "seats_per_1000_2sfca"] / 0.3
    )
    np.testing.assert_allclose(part["seats_2sfca"], full["seats_2sfca"])
    np.testing.assert_allclose(part["target_seats"], full["target_seats"] * 0.3)
    zones = sample_analysis.zones.copy()
    zones["over_65"] = zones[N.POPULATION] * 0.25
    other = dataclasses.replace(sample_analysis, zones=zones)
    by_col = C.capacity(other, population_column="over_65")
    np.testing.assert_allclose(by_col["demand"], zones["over_65"])
    np.testing.assert_allclose(
        by_col.loc[ok, "seats_per_1000_e2sfca"], full.loc[ok, "seats_per_1000_e2sfca"] * 4
    )


def test_custom_kernel(sample_analysis):
    step = C.capacity(sample_analysis, kernel="step")
    same = C.capacity(sample_analysis, kernel=lambda t: np.full(np.shape(t), 2.0))
    np.testing.assert_allclose(step["seats_per_1000_e2sfca"], step["seats_per_1000_2sfca"])
    np.testing.assert_allclose(same["seats_per_1000_e2sfca"], step["seats_per_1000_2sfca"])


def _with_seats(analysis: fm.Analysis, seats) -> fm.Analysis:
    spaces = analysis.walk.spaces.copy()
    spaces["seats"] = seats
    return dataclasses.replace(analysis, walk=dataclasses.replace(analysis.walk, spaces=spaces))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seats_per_1000": 0}, "target of 0 seats per 1,000"),
        ({"seats_per_1000": -5}, "is not a positive"),
        ({"demand_share": 0}, r"demand share 0 is outside \(0, 1\]"),
        ({"demand_share": 1.5}, "outside"),
        ({"minutes": -1}, "not a positive number"),
        ({"kernel": "cauchy"}, "not one of gaussian, linear, step"),
        ({"kernel": lambda t: -t}, "finite weight >= 0"),
        ({"population_column": "nope"}, "no column 'nope'"),
    ],
)
def test_bad_options(sample_analysis, options, message):
    with pytest.raises(InputError, match=message):
        C.capacity(sample_analysis, **options)


@pytest.mark.parametrize(
    ("value", "message"),
    [(-3, "has -3 seats"), (1e300, "seats"), (2.5, "whole number"), ("many", "'many' seats")],
)
def test_bad_seats(sample_analysis, value, message):
    seats = sample_analysis.walk.spaces["seats"].astype(object).to_numpy().copy()
    seats[2] = value
    with pytest.raises(InputError, match=message) as err:
        C.capacity(_with_seats(sample_analysis, seats))
    assert "\n" not in str(err.value) and "S03" in str(err.value)


def test_spaces_without_seats_left_out(sample_analysis):
    seats = sample_analysis.walk.spaces["seats"].astype("Float64").to_numpy().copy()
    seats[[0, 4]] = np.nan
    with pytest.warns(UserWarning, match=r"2 space\(s\) without a number of seats.*S01, S05"):
        cap = C.capacity(_with_seats(sample_analysis, seats))
    assert cap.attrs["seats_total"] == pytest.approx(np.nansum(seats.astype(float)))
    with pytest.raises(InputError, match="none of the 14 space"):
        C.capacity(_with_seats(sample_analysis, np.full(14, np.nan)))
    worth = C.space_worth(_with_seats(sample_analysis, seats))
    assert worth["seats_per_1000_residents_15min"].isna().sum() >= 2


def test_only_counted_zones(sample_analysis):
    zones = sample_analysis.zones.copy()
    zones.loc[[0, 3], N.STATUS] = [N.NO_DATA, N.SPARSE_STREETS]
    other = dataclasses.replace(sample_analysis, zones=zones)
    cap = C.capacity(other)
    assert cap.loc[[0, 3], "seats_per_1000_2sfca"].isna().all()
    assert cap.loc[~cap.index.isin([0, 3]), "seats_per_1000_2sfca"].notna().all()
    assert C.zone_robustness(other).loc[[0, 3], "share_pop_2plus_15min"].isna().all()


@pytest.fixture(scope="module")
def esquilino(rome_file):
    path = rome_file("network/rome_esquilino_2016.osm")
    zones_path = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(path)
    spaces = placed_spaces(streets, 6, seed=11)
    spaces["seats"] = [12, 40, 8, 25, 60, 30]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zones without street data
        return fm.analyze(streets, spaces, zones_path, population_column="pop2018")


def test_esquilino(esquilino):
    pytest.importorskip("access")
    cap = C.capacity(esquilino, seats_per_1000=5)
    counted = esquilino.counted
    assert cap.loc[counted, "seats_per_1000_2sfca"].notna().all()
    assert cap.loc[~counted, "seats_per_1000_2sfca"].isna().all()
    assert cap["seats_2sfca"].sum() == pytest.approx(cap.attrs["seats_reached"], rel=1e-12)
    # PySAL access on the same points and costs
    points, costs = C.demand_points(esquilino)
    seats = esquilino.walk.spaces.set_index("space_id")["seats"].astype(float)
    decay = C.kernel_function("gaussian", 15.0)
    per_point = _access(points, costs, seats, 15.0, lambda t: float(decay(np.array([t]))[0]))
    demand = cap["demand"].to_numpy()
    want = np.bincount(points["zone"], weights=per_point * points["demand"], minlength=len(cap))
    np.testing.assert_allclose(
        cap.loc[counted, "seats_per_1000_e2sfca"], 1000 * want[counted] / demand[counted],
        rtol=1e-9,
    )  # fmt: skip
    # k=2 search against per-space searches
    walk = esquilino.walk
    d2, _ = C.second_nearest(walk)
    full = np.vstack([d for _, d in walk.per_space_m(np.inf)])
    np.testing.assert_allclose(d2, np.sort(full, axis=0)[1], rtol=1e-12, atol=1e-9)
    worth = C.space_worth(esquilino)
    covered = worth.attrs["residents_covered"]
    assert covered == pytest.approx(
        worth["sole_residents_15min"].sum() + worth.attrs["residents_covered_2plus"], rel=1e-12
    )
    assert covered == pytest.approx(esquilino.zones.loc[counted, "pop_15min"].sum(), rel=1e-9)
    n_reach = costs.groupby("origin").size().reindex(points.index, fill_value=0)
    assert points.loc[n_reach >= 2, "demand"].sum() == pytest.approx(
        worth.attrs["residents_covered_2plus"], rel=1e-9
    )
    rob = C.zone_robustness(esquilino)
    assert rob.loc[counted, "pop_2plus_15min"].sum() == pytest.approx(
        worth.attrs["residents_covered_2plus"], rel=1e-9
    )


def test_twin_spaces(line):
    """Two spaces at one point: each is the other's second nearest, nobody is theirs alone."""
    spaces = line.walk.spaces.iloc[[0, 0, 1]].reset_index(drop=True)
    spaces["space_id"] = ["s0", "twin", "s1"]
    walk = fm.walk_times(line.walk.streets, spaces)
    d2, s2 = C.second_nearest(walk)
    n = walk.graph.n_street_nodes
    at = {int(o): i for i, o in enumerate(walk.streets.node_osmid)}
    assert d2[at[1]] == pytest.approx(0) and set(s2[walk.graph.space_node[:2]]) == {0, 1}
    assert d2[at[3]] == pytest.approx(1000)
    full = np.vstack([d for _, d in walk.per_space_m(np.inf)])
    np.testing.assert_allclose(d2, np.sort(full, axis=0)[1], atol=1e-9)
    worth = C.space_worth(dataclasses.replace(line, walk=walk, _pieces=None)).set_index("space_id")
    assert worth.loc["s0", "sole_residents_15min"] == 0
    assert worth.loc["twin", "sole_residents_15min"] == 0
    assert worth.loc["s1", "sole_residents_15min"] == pytest.approx(400, rel=REL)
    assert worth.attrs["residents_covered_2plus"] == pytest.approx(1100, rel=REL)
    nodes = C.two_nearest(walk)
    assert len(nodes) == n
    assert nodes.set_index("osmid").loc[1, "space_id2"] in {"s0", "twin"}
    assert nodes.set_index("osmid").loc[5, "walk_time2_s"] == pytest.approx(2000 / walk.speed_mps)
