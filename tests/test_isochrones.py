"""Isochrones: exact reachable street length, partial segments, and polygon checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _osmfixtures import STREET, write_osm
from shapely.ops import substring
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin._geom import substrings
from fifteenmin.isochrones import nested_polygons, reached_lines

SPEED = 4.8 / 3.6


@pytest.fixture
def cross(tmp_path):
    """A plus sign: centre node 0 with four 400 m arms."""
    nodes = {1: (0, 0), 2: (400, 0), 3: (-400, 0), 4: (0, 400), 5: (0, -400)}
    ways = [(10 + i, [1, n], STREET) for i, n in enumerate((2, 3, 4, 5))]
    return fm.read_streets(write_osm(tmp_path / "cross.osm", nodes, ways))


def test_partial_segments_are_included(cross):
    # a space on the centre: within 1 minute (80 m) the isochrone reaches 80 m up each arm
    wt = fm.walk_times(cross, spaces_at((0, 0)))
    lines = reached_lines(wt.graph, wt.dist_m, wt.minutes_to_m(1))
    lines = lines[shapely.length(lines) > 0]
    assert len(lines) == 4
    # exact geometry: 80 m (of great-circle length) of each arm, measured from the centre
    arms = cross.edge_geometry
    frac = 80 / cross.edge_length_m
    expected = [substring(a, 0, f, normalized=True) for a, f in zip(arms, frac, strict=True)]
    got = shapely.union_all(lines)
    assert shapely.symmetric_difference(got, shapely.union_all(expected)).length < 1e-6
    iso = fm.isochrones.isochrones(wt, minutes=[1], buffer_m=10)
    plus = shapely.union_all(shapely.buffer(expected, 10, quad_segs=4))
    assert iso.area.iloc[0] == pytest.approx(plus.area, rel=1e-9)


def test_no_convex_hull(cross):
    wt = fm.walk_times(cross, spaces_at((0, 0)))
    iso = fm.isochrones.isochrones(wt, minutes=[5], buffer_m=50)
    poly = iso.geometry.iloc[0]
    # the hull of a 400 m plus is a diamond of 320,000 m2; the buffered plus is far smaller
    assert poly.area < 0.6 * poly.convex_hull.area


def test_union_equals_union_of_space_isochrones(sample_analysis):
    iso, cov = sample_analysis.isochrones, sample_analysis.coverage
    for m in (5, 10, 15):
        union = shapely.union_all(iso.loc[iso["minutes"] == m].geometry.to_numpy())
        whole = cov.loc[cov["minutes"] == m].geometry.iloc[0]
        assert shapely.symmetric_difference(union, whole).area < 1e-6 * whole.area + 1


def test_isochrones_grow_with_time(sample_analysis):
    iso = sample_analysis.isochrones
    for space_id, group in iso.groupby("space_id"):
        g = group.sort_values("minutes").geometry.to_numpy()
        assert g[0].area <= g[1].area <= g[2].area, space_id
        assert shapely.difference(g[0], g[1].buffer(1e-6)).area < 1e-3


def test_substrings_match_shapely():
    rng = np.random.default_rng(0)
    lines = [shapely.LineString(rng.uniform(0, 100, (k, 2))) for k in (2, 3, 7, 12)]
    geoms = np.array(lines, dtype=object)
    lens = shapely.length(geoms)
    start, end = lens * 0.2, lens * 0.7
    got = substrings(geoms, start, end)
    for g, line, s, e in zip(got, lines, start, end, strict=True):
        assert g.equals_exact(substring(line, s, e), 1e-9)


def test_spaces_file_layers(sample_analysis, tmp_path):
    sample_analysis.isochrones.to_file(tmp_path / "iso.gpkg")
    back = gpd.read_file(tmp_path / "iso.gpkg")
    assert set(back["minutes"]) == {5.0, 10.0, 15.0}
    assert len(back) == 3 * len(sample_analysis.walk.spaces)


def test_nested_polygons_equal_direct_buffering(sample_analysis):
    """Growing each polygon from the previous one gives the polygon of all its lines."""
    walk = sample_analysis.walk
    limits = [walk.minutes_to_m(m) for m in (5, 10, 15)]
    _, dist = next(walk.per_space_m(limits[-1], chunk=3))
    for d in dist:
        nested = nested_polygons(walk.graph, d, limits, 50.0)
        for limit, poly in zip(limits, nested, strict=True):
            lines = reached_lines(walk.graph, d, limit)
            direct = shapely.union_all(shapely.buffer(lines, 50.0, quad_segs=4))
            assert shapely.symmetric_difference(poly, direct).area < 1e-6 * direct.area
