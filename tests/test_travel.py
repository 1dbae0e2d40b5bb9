"""Walking times on hand-checkable networks and against plain NetworkX Dijkstra."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm

import fifteenmin as fm
from fifteenmin.errors import InputError

SPEED = 4.8 / 3.6


def spaces_at(*points: tuple[float, float]) -> gpd.GeoDataFrame:
    """Spaces at local (x, y) metres, ids s0, s1..."""
    ll = [lonlat(x, y) for x, y in points]
    return gpd.GeoDataFrame(
        {"space_id": [f"s{i}" for i in range(len(ll))]},
        geometry=gpd.points_from_xy([p[0] for p in ll], [p[1] for p in ll]),
        crs=4326,
    )


def times_by_osmid(wt: fm.travel.WalkTimes) -> dict[int, float]:
    nodes = wt.node_times()
    return dict(zip(nodes["osmid"], nodes["walk_time_s"], strict=True))


@pytest.fixture
def line(tmp_path):
    """A - B - C along x (0, 100, 200 m), two ways so B is a node."""
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0)}
    return write_osm(tmp_path / "line.osm", nodes, [(10, [1, 2], STREET), (11, [2, 3], STREET)])


def test_space_in_the_middle_of_an_edge(line):
    # 10 m north of the point 30 m along A-B: walk 10 m to the street, then along it
    wt = fm.walk_times(fm.read_streets(line), spaces_at((30, 10)))
    t = times_by_osmid(wt)
    assert t[1] == pytest.approx((10 + 30) / SPEED, abs=0.02)
    assert t[2] == pytest.approx((10 + 70) / SPEED, abs=0.02)
    assert t[3] == pytest.approx((10 + 170) / SPEED, abs=0.02)
    assert set(wt.node_times()["space_id"]) == {"s0"}


def test_nearest_of_two_spaces_wins(line):
    wt = fm.walk_times(fm.read_streets(line), spaces_at((0, 0), (190, 0)))
    nodes = wt.node_times().set_index("osmid")
    assert nodes.loc[1, "space_id"] == "s0" and nodes.loc[3, "space_id"] == "s1"
    assert nodes.loc[2, "walk_time_s"] == pytest.approx(90 / SPEED, abs=0.02)
    assert nodes.loc[3, "walk_time_s"] == pytest.approx(10 / SPEED, abs=0.02)


def test_two_spaces_on_one_edge(line):
    wt = fm.walk_times(fm.read_streets(line), spaces_at((20, 0), (60, 0)))
    t = times_by_osmid(wt)
    assert t[1] == pytest.approx(20 / SPEED, abs=0.02)
    assert t[2] == pytest.approx(40 / SPEED, abs=0.02)


def test_grid_manhattan_distances(tmp_path):
    ids = {(i, j): 100 + 10 * i + j for i in range(4) for j in range(4)}
    nodes = {nid: (i * 100.0, j * 100.0) for (i, j), nid in ids.items()}
    ways = [(1000 + j, [ids[i, j] for i in range(4)], STREET) for j in range(4)]
    ways += [(2000 + i, [ids[i, j] for j in range(4)], STREET) for i in range(4)]
    path = write_osm(tmp_path / "grid.osm", nodes, ways)
    wt = fm.walk_times(fm.read_streets(path), spaces_at((0, 0)))
    t = times_by_osmid(wt)
    for (i, j), nid in ids.items():
        assert t[nid] == pytest.approx((i + j) * 100 / SPEED, abs=0.02)


def test_river_crossed_only_at_the_bridge(tmp_path):
    """Two north-south streets 100 m apart, a river between, one bridge 500 m north.

    A motorway links their south ends directly but is not walkable.
    """
    nodes = {1: (0, 0), 2: (0, 500), 3: (100, 0), 4: (100, 500), 5: (40, 0), 6: (60, 0)}
    ways = [
        (10, [1, 2], STREET),
        (11, [3, 4], STREET),
        (12, [2, 4], {"highway": "footway", "bridge": "yes"}),
        (13, [1, 5, 6, 3], {"highway": "motorway"}),
    ]
    path = write_osm(tmp_path / "river.osm", nodes, ways)
    streets = fm.read_streets(path)
    assert 5 not in set(streets.node_osmid)
    wt = fm.walk_times(streets, spaces_at((0, 0)))
    assert times_by_osmid(wt)[3] == pytest.approx((500 + 100 + 500) / SPEED, abs=0.02)


def test_unreachable_component_has_no_time(tmp_path):
    nodes = {1: (0, 0), 2: (100, 0), 3: (0, 300), 4: (100, 300)}
    ways = [(10, [1, 2], STREET), (11, [3, 4], STREET)]
    wt = fm.walk_times(
        fm.read_streets(write_osm(tmp_path / "two.osm", nodes, ways)), spaces_at((50, 0))
    )
    nodes_t = wt.node_times().set_index("osmid")
    assert np.isnan(nodes_t.loc[3, "walk_time_s"]) and pd.isna(nodes_t.loc[3, "space_id"])


def test_space_far_from_streets_is_an_error(tmp_path):
    nodes = {1: (0, 0), 2: (0, 500), 3: (100, 0), 4: (100, 500)}
    ways = [(10, [1, 2], STREET), (11, [3, 4], STREET)]
    streets = fm.read_streets(write_osm(tmp_path / "two.osm", nodes, ways))
    with pytest.raises(InputError, match=r"'s0' is 50 m from the nearest walkable street"):
        fm.walk_times(streets, spaces_at((50, 250)), max_snap_m=40)


def test_space_outside_the_extent_is_an_error(line):
    with pytest.raises(InputError, match="outside the network's extent"):
        fm.walk_times(fm.read_streets(line), spaces_at((5000, 0)))


def test_speed_scales_times(line):
    streets = fm.read_streets(line)
    fast = times_by_osmid(fm.walk_times(streets, spaces_at((0, 0)), speed_kmh=4.8))
    slow = times_by_osmid(fm.walk_times(streets, spaces_at((0, 0)), speed_kmh=3.6))
    assert slow[3] == pytest.approx(fast[3] * 4.8 / 3.6)


def test_graph_input_equals_file_input(sample_city):
    streets = fm.read_streets(sample_city.network)
    graph = fm.to_graph(streets)
    spaces = fm.spaces_from_file(sample_city.spaces)
    a = fm.walk_times(streets, spaces).node_times().set_index("osmid")["walk_time_s"]
    b = fm.walk_times(graph, spaces).node_times().set_index("osmid")["walk_time_s"]
    np.testing.assert_allclose(a.sort_index(), b.sort_index(), rtol=1e-9)


def test_graph_is_osmnx_compatible(sample_city):
    import osmnx as ox

    graph = fm.network_from_file(sample_city.network)
    assert graph.graph["crs"] == "EPSG:32631"
    nodes, edges = ox.graph_to_gdfs(graph)
    assert {"x", "y", "street_count"} <= set(nodes.columns)
    assert {"length", "length_m", "walk_time_s", "geometry", "highway"} <= set(edges.columns)
    assert not edges["highway"].isin(["motorway", "cycleway"]).any()
    # both directions of every street exist
    assert all(graph.has_edge(v, u) for u, v in graph.edges())
    np.testing.assert_allclose(edges["walk_time_s"], edges["length_m"] / SPEED)


def test_times_match_networkx_dijkstra_on_sample(sample_city):
    """The scipy search equals NetworkX's multi-source Dijkstra on the OSMnx-style graph."""
    streets = fm.read_streets(sample_city.network)
    spaces = fm.spaces_from_file(sample_city.spaces)
    wt = fm.walk_times(streets, spaces)
    g = wt.graph
    ref_graph = nx.Graph()
    for u, v, w in zip(g.u, g.v, g.length_m, strict=True):
        if u != v and (not ref_graph.has_edge(u, v) or ref_graph[u][v]["w"] > w):
            ref_graph.add_edge(int(u), int(v), w=float(w))
    ref = nx.multi_source_dijkstra_path_length(ref_graph, set(map(int, g.space_node)), weight="w")
    for node in range(g.n_street_nodes):
        assert wt.dist_m[node] == pytest.approx(ref.get(node, np.inf), rel=1e-9)


def test_space_exactly_at_a_node_keeps_line_geometries(line):
    wt = fm.walk_times(fm.read_streets(line), spaces_at((100, 0)))
    assert set(shapely.get_type_id(wt.graph.geometry)) == {1}  # all LineStrings
    assert times_by_osmid(wt)[2] == pytest.approx(0, abs=0.02)


def test_space_beside_a_long_curved_street(tmp_path):
    """The extent is that of the street geometry, not of its nodes: a street from (0, 0) to
    (200, 0) bulging 800 m north has a space 10 m beyond its far bend."""
    nodes = {1: (0, 0), 2: (0, 800), 3: (200, 800), 4: (200, 0)}
    path = write_osm(tmp_path / "bend.osm", nodes, [(10, [1, 2, 3, 4], STREET)])
    streets = fm.read_streets(path)
    assert streets.n_nodes == 2  # the bend's vertices are shape points
    wt = fm.walk_times(streets, spaces_at((100, 810)), max_snap_m=50)
    assert wt.snaps["access_m"].iloc[0] == pytest.approx(10, abs=0.02)
    assert times_by_osmid(wt)[1] == pytest.approx((10 + 100 + 800) / SPEED, abs=0.05)


@pytest.fixture
def park_far_away(tmp_path):
    """The line A - B - C and a street 1 km south of it; two parks tagged on nodes beside
    the line, a park mapped as a way 600-700 m north of it (outside the extent) and one
    halfway between the streets (500 m from both: too far)."""
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (50, 5), 5: (150, 5)}
    nodes |= {6: (0, -1000), 7: (200, -1000)}
    nodes |= {11: (0, 600), 12: (100, 600), 13: (100, 700), 14: (0, 700)}
    nodes |= {21: (50, -450), 22: (150, -450), 23: (150, -550), 24: (50, -550)}
    ways = [(10, [1, 2], STREET), (11, [2, 3], STREET), (12, [6, 7], STREET)]
    ways += [(30, [11, 12, 13, 14, 11], {"leisure": "park", "name": "Far Park"})]
    ways += [(31, [21, 22, 23, 24, 21], {"leisure": "park", "name": "South Park"})]
    tagged = {4: {"leisure": "park", "name": "Near"}, 5: {"leisure": "park"}}
    return write_osm(tmp_path / "parks.osm", nodes, ways, tagged_nodes=tagged)


def test_far_osm_feature_is_skipped_and_listed(park_far_away):
    streets = fm.read_streets(park_far_away)
    parks = fm.spaces_from_osm(park_far_away, tags={"leisure": "park"}, kind="park")
    assert len(parks) == 4 and set(parks["source"]) == {"osm"}
    with pytest.raises(InputError, match="outside the network's extent"):
        fm.walk_times(streets, parks, max_snap_m=250)
    with pytest.warns(UserWarning, match=r"2 space\(s\) from OSM tags left out"):
        wt = fm.walk_times(streets, parks, max_snap_m=250, skip_far=True)
    # the street to the south, 200 m without a space, is a fragment
    assert wt.fragment_nodes.sum() == 2 and len(wt.fragments()) == 1
    assert sorted(wt.spaces["space_id"]) == ["n4", "n5"]
    assert list(wt.snaps["space_id"]) == list(wt.spaces["space_id"])
    assert len(wt.graph.space_node) == 2
    skipped = wt.skipped.set_index("space_id")
    assert list(wt.skipped.columns) == ["space_id", "name", "source", "distance_m", "reason"]
    assert sorted(skipped.index) == ["w30", "w31"]
    assert skipped.loc["w30", "name"] == "Far Park" and skipped.loc["w30", "source"] == "osm"
    assert skipped.loc["w30", "distance_m"] == pytest.approx(650, rel=0.01)  # the centroid
    assert skipped.loc["w30", "reason"] == "outside the network's extent"
    assert skipped.loc["w31", "distance_m"] == pytest.approx(500, rel=0.01)
    assert "farther than 250 m" in skipped.loc["w31", "reason"]
    # the kept spaces' times are those of a run without the far ones
    alone = fm.walk_times(streets, parks[parks["space_id"].isin(["n4", "n5"])])
    np.testing.assert_allclose(wt.dist_m, alone.dist_m)
    assert alone.skipped.empty


def test_far_registry_row_is_still_an_error(park_far_away):
    streets = fm.read_streets(park_far_away)
    spaces = spaces_at((50, 5), (50, -300)).assign(
        space_id=["registry/2", "registry/3"], source="registry"
    )
    with pytest.raises(InputError, match=r"registry: space 'registry/3' is (29\d|30\d) m from"):
        fm.walk_times(streets, spaces, max_snap_m=250, skip_far=True)
    # a registry row matched to OSM is still the registry's
    spaces["source"] = ["osm", "registry+osm"]
    with pytest.raises(InputError, match="'registry/3'"):
        fm.walk_times(streets, spaces, max_snap_m=250, skip_far=True)


def test_all_spaces_skipped_is_an_error(park_far_away):
    streets = fm.read_streets(park_far_away)
    parks = fm.spaces_from_osm(park_far_away, tags={"leisure": "park"})
    far = parks[parks["space_id"].isin(["w30", "w31"])]
    with pytest.raises(InputError, match=r"all 2 space\(s\) lie outside the network"):
        fm.walk_times(streets, far, max_snap_m=250, skip_far=True)


def test_snap_spaces_skip(line):
    streets = fm.read_streets(line)
    spaces = spaces_at((30, 10), (5000, 0), (60, 0))
    snaps = fm.travel.snap_spaces(streets, spaces, on_far="skip")
    assert list(snaps.index) == [0, 2] and list(snaps["space_id"]) == ["s0", "s2"]
    assert list(snaps.attrs["skipped"]["space_id"]) == ["s1"]
    with pytest.raises(InputError, match="on_far='drop' is not one of"):
        fm.travel.snap_spaces(streets, spaces, on_far="drop")
