"""Isochrones: exact reachable street length, partial segments, and polygon checks."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _osmfixtures import STREET, write_osm
from shapely.ops import substring
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin._geom import mask_boxes, substrings
from fifteenmin.isochrones import (
    _footprint,
    _interior_boxes,
    _reach,
    nested_polygons,
    reached_lines,
)

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


def test_footprint_cells_lie_within_the_radius():
    """Every point of a footprint cell is within ``cells`` of every point of the centre."""
    cells = 5
    foot = _footprint(cells)
    for i, j in zip(*np.nonzero(foot), strict=True):
        di, dj = abs(i - cells), abs(j - cells)
        # the farthest pair of points: opposite corners of the two cells
        assert np.hypot(di + 1, dj + 1) <= cells
    # and it is not needlessly small: the cells along the axes reach 3 of 5
    assert foot[cells, cells + 3] and not foot[cells, cells + 4]


def test_mask_boxes_tile_the_mask_exactly():
    rng = np.random.default_rng(7)
    mask = rng.random((23, 31)) < 0.6
    mask[5:15, 3:20] = True  # a block, which runs stack into few boxes
    boxes = mask_boxes(mask, 100.0, -50.0, 2.0)
    union = shapely.union_all(boxes)
    assert np.isclose(sum(b.area for b in boxes), mask.sum() * 4.0)  # disjoint
    assert np.isclose(union.area, mask.sum() * 4.0)
    assert len(boxes) < np.count_nonzero(np.diff(np.pad(mask, ((0, 0), (1, 0))), axis=1))
    iy, ix = np.indices(mask.shape)
    centres = shapely.points(100.0 + (ix + 0.5) * 2.0, -50.0 + (iy + 0.5) * 2.0)
    assert (shapely.contains(union, centres) == mask).all()


@pytest.fixture
def dense_grid(tmp_path):
    """A 25 x 25 street grid with 60 m blocks (as in central Rome), a park in the middle."""
    ids = {(i, j): 1000 + 100 * i + j for i in range(25) for j in range(25)}
    nodes = {nid: (i * 60.0, j * 60.0) for (i, j), nid in ids.items()}
    park = {(i, j) for i in range(10, 15) for j in range(10, 15)}
    ways = []
    for j in range(25):
        for i in range(24):
            if not {(i, j), (i + 1, j)} <= park:
                ways.append((len(ways) + 1, [ids[i, j], ids[i + 1, j]], STREET))
    for i in range(25):
        for j in range(24):
            if not {(i, j), (i, j + 1)} <= park:
                ways.append((len(ways) + 1, [ids[i, j], ids[i, j + 1]], STREET))
    return fm.read_streets(write_osm(tmp_path / "dense.osm", nodes, ways))


@pytest.mark.parametrize("minutes", [5, 10, 15])
def test_interior_boxes_replace_only_covered_buffers(dense_grid, minutes):
    """The boxes lie inside the fully reached streets' buffers, and the dropped buffers
    inside the boxes: united with the kept buffers they give the same polygon."""
    walk = fm.walk_times(dense_grid, spaces_at((430, 430)))
    limit = walk.minutes_to_m(minutes)
    lines, _, full = _reach(walk.graph, walk.dist_m, limit)
    kept, boxes = _interior_boxes(lines, walk.graph.geometry[full], 50.0)
    assert 0 < len(kept) < 0.8 * len(lines) and len(boxes) > 0
    everything = shapely.union_all(shapely.buffer(lines, 50.0, quad_segs=4))
    full_buffers = shapely.union_all(shapely.buffer(walk.graph.geometry[full], 50.0, quad_segs=4))
    ground = shapely.union_all(boxes)
    assert shapely.difference(ground, full_buffers).area < 1e-6
    rebuilt = shapely.union_all(np.concatenate([shapely.buffer(kept, 50.0, quad_segs=4), boxes]))
    assert shapely.symmetric_difference(rebuilt, everything).area < 1e-6 * everything.area
    if minutes == 15:  # the park's middle (more than 50 m from any street) stays a hole
        assert len(everything.interiors) == 1
        xy = walk.graph.node_xy[: walk.graph.n_street_nodes]
        assert not rebuilt.contains(shapely.Point((xy.min(axis=0) + xy.max(axis=0)) / 2))


def test_interior_boxes_skip_degenerate_cases(sample_analysis):
    walk = sample_analysis.walk
    lines = walk.graph.geometry[:50]
    for full, buffer_m in ((lines[:0], 50.0), (lines, 0.0)):
        kept, boxes = _interior_boxes(lines, full, buffer_m)
        assert len(kept) == len(lines) and len(boxes) == 0


def test_interior_shortcut_gives_the_same_isochrones_in_rome(rome_file):
    """On the Esquilino extract (irregular blocks, piazzas): with and without the
    certainly-covered ground, the same polygons for 5, 10 and 15 minutes."""
    streets = fm.read_streets(rome_file("network/rome_esquilino_2016.osm"))
    gdf = gpd.GeoDataFrame(
        {"space_id": ["termini", "vittorio", "colosseo"]},
        geometry=gpd.points_from_xy([12.5016, 12.5065, 12.4922], [41.9009, 41.8950, 41.8902]),
        crs=4326,
    )
    walk = fm.walk_times(streets, gdf)
    limits = [walk.minutes_to_m(m) for m in (5, 10, 15)]
    for _, dist in walk.per_space_m(limits[-1]):
        for d in dist:
            fast = nested_polygons(walk.graph, d, limits, 50.0)
            plain = nested_polygons(walk.graph, d, limits, 50.0, interior=False)
            for a, b in zip(fast, plain, strict=True):
                assert a.is_valid
                assert shapely.symmetric_difference(a, b).area < 1e-6 * b.area


def test_spaces_at_one_point_are_searched_once(sample_city):
    """10,000 spaces at one point (a registry's duplicated row): one search, same figures."""
    one = fm.spaces_from_file(sample_city.spaces).iloc[[0]]
    many = gpd.GeoDataFrame(
        {"space_id": [f"s{i}" for i in range(10_000)]},
        geometry=[one.geometry.iloc[0]] * 10_000,
        crs=one.crs,
    )
    start = time.perf_counter()
    walk = fm.walk_times(fm.read_streets(sample_city.network), many)
    first, group = walk.distinct_spaces()
    assert len(first) == 1 and (group == 0).all()
    iso = fm.isochrones.isochrones(walk, minutes=[15])
    cov = fm.coverage(walk, minutes=[15], isochrones=iso)
    assert time.perf_counter() - start < 60  # was: did not finish in 170 s
    assert len(iso) == 10_000 and iso.geometry.iloc[0].equals(iso.geometry.iloc[-1])
    single = fm.walk_times(fm.read_streets(sample_city.network), one)
    alone = fm.isochrones.isochrones(single, minutes=[15]).geometry.iloc[0]
    assert cov.geometry.iloc[0].symmetric_difference(alone).area < 1e-6 * alone.area
