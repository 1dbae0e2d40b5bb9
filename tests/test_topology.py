"""Gap joins and fragments: hand-made networks checked against NetworkX, and the Rome extracts."""

from __future__ import annotations

import dataclasses
import warnings
from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin import _topology
from fifteenmin._topology import JOIN_COLUMN, fragment_table, join_gaps
from fifteenmin.errors import InputError
from fifteenmin.travel import build_search_graph, snap_spaces
from fifteenmin.zones import street_pieces

FOOTWAY = {"highway": "footway"}


def network(tmp_path, footways, *, street_tags=STREET):
    """Street A(0, 0) - B(200, 0) (way 10), plus footways given as lists of (x, y) points.

    Footway ``k`` has nodes ``100 * (k + 1) + i``, one way (``20 + k``, ``30 + k``...)
    per pair of consecutive points, so that each point is a node.
    """
    nodes = {1: (0.0, 0.0), 2: (200.0, 0.0)}
    ways = [(10, [1, 2], street_tags)]
    for k, points in enumerate(footways):
        ids = [100 * (k + 1) + i for i in range(len(points))]
        nodes.update(zip(ids, points, strict=True))
        ways += [(20 + k + 10 * i, [a, b], FOOTWAY) for i, (a, b) in enumerate(pairwise(ids))]
    return fm.read_streets(write_osm(tmp_path / "net.osm", nodes, ways))


def xy(streets, x, y):
    """Local metres (see ``_osmfixtures.lonlat``) to the network's projected CRS."""
    lon, lat = lonlat(x, y)
    return streets.to_lonlat.transform(lon, lat, direction="INVERSE")


def dijkstra_m(streets, source_osmid):
    """Plain NetworkX Dijkstra over the street arrays, by osmid."""
    graph = nx.Graph()
    ids = streets.node_osmid
    for u, v, w in zip(streets.edge_u, streets.edge_v, streets.edge_length_m, strict=True):
        a, b = int(ids[u]), int(ids[v])
        if a != b and (not graph.has_edge(a, b) or graph[a][b]["w"] > w):
            graph.add_edge(a, b, w=float(w))
    return nx.single_source_dijkstra_path_length(graph, source_osmid, weight="w")


def test_footway_two_metres_short_is_joined(tmp_path):
    streets = network(tmp_path, [[(100, 2), (100, 100)]])
    before = dataclasses.asdict(streets)
    joined, joins = join_gaps(streets)
    # the input is not changed
    for key, value in dataclasses.asdict(streets).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, before[key])
    assert JOIN_COLUMN not in streets.edge_attrs
    assert len(joins) == 1
    row = joins.iloc[0]
    assert row["from_osmid"] == 100 and row["to_osmid"] < 0 and row["street_osmid"] == 10
    assert row["gap_m"] == pytest.approx(2.0, abs=0.02)  # OSM: 1e-7 degrees
    assert joins.crs == streets.crs and joins.geometry.iloc[0].length == pytest.approx(2, rel=0.01)
    assert _topology.components(joined.csr)[0] == 1
    # the street split at x=100: two pieces summing to its length, the old index kept
    assert joined.n_nodes == streets.n_nodes + 1 and joined.n_edges == streets.n_edges + 2
    new = joined.n_nodes - 1
    assert joined.node_osmid[new] == row["to_osmid"]
    np.testing.assert_allclose(joined.node_xy[new], xy(streets, 100, 0), atol=0.01)
    street = np.flatnonzero(joined.edge_attrs["osmid"].to_numpy() == 10)
    assert 0 in street and len(street) == 2
    assert joined.edge_length_m[street].sum() == pytest.approx(streets.edge_length_m[0], rel=1e-12)
    np.testing.assert_allclose(joined.edge_length_m[street], 100, rtol=1e-3)
    union = shapely.line_merge(shapely.union_all(joined.edge_geometry[street]))
    assert union.equals(streets.edge_geometry[0])
    conn = joined.edge_attrs.iloc[-1]
    assert conn[JOIN_COLUMN] and conn["highway"] == "footway" and conn["osmid"] == -1
    assert joined.edge_attrs[JOIN_COLUMN].sum() == 1
    # distances: walking 100 m along the street, 2 m across, 98 m up the footway
    ref = dijkstra_m(joined, 1)
    assert ref[101] == pytest.approx(200, abs=0.01)
    wt = fm.walk_times(joined, spaces_at((0, 0)))
    times = wt.node_times().set_index("osmid")["walk_time_s"] * wt.speed_mps
    for osmid, d in ref.items():
        assert times[osmid] == pytest.approx(d, abs=1e-6)
    assert not wt.fragment_nodes.any()


def test_footway_ten_metres_short_is_not_joined(tmp_path):
    streets = network(tmp_path, [[(100, 10), (100, 100)]])
    joined, joins = join_gaps(streets)
    assert joined is streets and joins.empty
    assert list(joins.columns) == ["from_osmid", "to_osmid", "street_osmid", "gap_m", "geometry"]
    joined, joins = join_gaps(streets, max_gap_m=12)
    assert len(joins) == 1 and joins["gap_m"].iloc[0] == pytest.approx(10, abs=0.02)


def test_two_ends_join_one_street(tmp_path):
    # one footway north of the street, one south; a third ends just past B (joins B itself)
    streets = network(
        tmp_path, [[(50, 2), (50, 80)], [(150, -3), (150, -90)], [(201, 1), (260, 1)]]
    )
    joined, joins = join_gaps(streets)
    # B and the third footway's end join each other: one connector, no split at the end
    assert sorted(joins["from_osmid"]) == [2, 100, 200]
    by_end = joins.set_index("from_osmid")
    assert by_end.loc[2, "to_osmid"] == 300
    assert by_end.loc[100, "to_osmid"] < 0 and by_end.loc[200, "to_osmid"] < 0
    assert len(set(joined.node_osmid)) == joined.n_nodes  # new ids are unique
    assert joined.node_osmid[streets.n_nodes :].max() < 0
    street = joined.edge_attrs["osmid"].to_numpy() == 10
    assert street.sum() == 3
    assert joined.edge_length_m[street].sum() == pytest.approx(streets.edge_length_m[0])
    np.testing.assert_allclose(np.sort(joined.edge_length_m[street]), [50, 50, 100], rtol=1e-3)
    ref = dijkstra_m(joined, 1)
    assert ref[101] == pytest.approx(50 + 2 + 78, abs=0.01)
    assert ref[201] == pytest.approx(150 + 3 + 87, abs=0.01)
    assert ref[301] == pytest.approx(200 + np.hypot(1, 1) + 59, abs=0.01)


def test_no_join_across_levels(tmp_path):
    # the street runs in a tunnel: the footway 2 m away is above it
    streets = network(tmp_path, [[(100, 2), (100, 100)]], street_tags={**STREET, "tunnel": "yes"})
    joined, joins = join_gaps(streets)
    assert joins.empty and joined is streets


def test_join_gap_must_be_a_number(tmp_path):
    streets = network(tmp_path, [[(100, 2), (100, 100)]])
    with pytest.raises(InputError, match="gap to join of -1 m"):
        join_gaps(streets, max_gap_m=-1)
    assert join_gaps(streets, max_gap_m=0)[1].empty


@pytest.fixture
def courtyard(tmp_path):
    """Main street A - B, and a 3-node courtyard footway (40 m) 50 m north of it."""
    return network(tmp_path, [[(80, 50), (100, 50), (120, 50)]])


def test_courtyard_is_a_fragment(courtyard):
    wt = fm.walk_times(courtyard, spaces_at((10, 0)))
    court = np.isin(courtyard.node_osmid, [100, 101, 102])
    np.testing.assert_array_equal(wt.fragment_nodes, court)
    nodes = wt.node_times()
    assert nodes["fragment"].tolist() == court.tolist()
    frag = wt.fragments()
    assert len(frag) == 1 and frag.crs == courtyard.crs
    row = frag.iloc[0]
    assert row["n_nodes"] == 3 and row["street_length_m"] == pytest.approx(40, rel=1e-3)
    assert row.geometry.geom_type == "MultiLineString" and row.geometry.length == pytest.approx(
        40, rel=0.01
    )
    assert (row["lon"], row["lat"]) == pytest.approx(lonlat(100, 50), abs=2e-4)
    mask = wt.street_edge_mask()
    g = wt.graph
    on_court = np.isin(g.u, np.flatnonzero(court)) | np.isin(g.v, np.flatnonzero(court))
    np.testing.assert_array_equal(mask, g.is_street & ~on_court)
    # kept with fragment_max_m None, 0, or below its length
    for keep in (None, 0, 30.0):
        assert not fm.walk_times(
            courtyard, spaces_at((10, 0)), fragment_max_m=keep
        ).fragment_nodes.any()


def test_island_with_a_space_is_kept(courtyard):
    wt = fm.walk_times(courtyard, spaces_at((10, 0), (100, 55)))
    assert not wt.fragment_nodes.any() and wt.fragments().empty
    assert wt.street_edge_mask().sum() == wt.graph.is_street.sum()
    assert not wt.node_times()["fragment"].any()


def test_mask_on_another_search_graph_and_pieces(courtyard):
    wt = fm.walk_times(courtyard, spaces_at((10, 0)))
    # planning's graph: also split at candidates, one on the main street, one in the courtyard
    cands = spaces_at((150, 5), (90, 52)).assign(space_id=["c0", "c1"])
    snaps = pd.concat([wt.snaps, snap_spaces(courtyard, cands)], ignore_index=True)
    graph = build_search_graph(courtyard, snaps)
    mask = wt.street_edge_mask(graph)
    assert len(mask) == len(graph.u)
    court = np.flatnonzero(np.isin(courtyard.node_osmid, [100, 101, 102]))
    # the courtyard's pieces: the two footway segments, one split at c1 (3 pieces)
    in_court = shapely.distance(graph.geometry, shapely.Point(xy(courtyard, 100, 50))) < 25
    assert (graph.is_street & in_court).sum() == 3
    np.testing.assert_array_equal(mask, graph.is_street & ~in_court)
    assert not np.isin(graph.u[mask], court).any()
    # the zone figures' pieces: every piece with no fragment marked, else those off them
    walk = dataclasses.replace(
        wt, graph=graph, dist_m=np.zeros(graph.n_nodes), nearest=np.full(graph.n_nodes, -1)
    )
    unmarked = dataclasses.replace(walk, fragment_nodes=np.zeros(courtyard.n_nodes, dtype=bool))
    zone = np.array([shapely.box(*xy(courtyard, -100, -100), *xy(courtyard, 300, 200))])
    pieces = street_pieces(unmarked, zone)
    kept = street_pieces(walk, zone)
    assert len(kept.edge) == len(pieces.edge) - 3 and mask[kept.edge].all()
    assert len(kept.d_u) == len(kept.zone) == len(kept.edge)


def test_fragment_table_without_fragments(courtyard):
    frag = fragment_table(courtyard, np.zeros(courtyard.n_nodes, dtype=bool))
    assert frag.empty and "street_length_m" in frag.columns


@pytest.fixture(scope="module")
def esquilino(rome_file):
    return fm.read_streets(rome_file("network/rome_esquilino_2016.osm"))


def main_street_spaces(streets, n, seed):
    """Spaces the test places itself, at the middle of random main-component streets."""
    _, labels = _topology.components(streets.csr)
    main = np.argmax(np.bincount(labels[streets.edge_u], weights=streets.edge_length_m))
    highway = streets.edge_attrs["highway"].isin(["primary", "secondary", "tertiary"])
    ok = (labels[streets.edge_u] == main) & highway.to_numpy() & (streets.edge_length_m > 40)
    edges = np.random.default_rng(seed).choice(np.flatnonzero(ok), n, replace=False)
    points = shapely.line_interpolate_point(streets.edge_geometry[edges], 0.5, normalized=True)
    return gpd.GeoDataFrame(
        {"space_id": [f"m{i}" for i in range(n)]}, geometry=points, crs=streets.crs
    ).to_crs(4326)


def test_esquilino_joins_and_fragments(esquilino):
    assert esquilino.n_nodes == 1257 and _topology.components(esquilino.csr)[0] == 42
    spaces = main_street_spaces(esquilino, 2, seed=3)
    plain = fm.walk_times(esquilino, spaces)
    assert plain.fragment_nodes.sum() == 192 and len(plain.fragments()) == 41
    joined, joins = join_gaps(esquilino)
    assert len(joins) == 4 and joins["gap_m"].max() < 5
    assert _topology.components(joined.csr)[0] == 39
    np.testing.assert_allclose(
        joined.edge_length_m.sum() - joins["gap_m"].sum(), esquilino.edge_length_m.sum()
    )
    wt = fm.walk_times(joined, spaces)
    frag = wt.fragments()
    assert len(frag) == 38 and frag["street_length_m"].max() < _topology.FRAGMENT_MAX_M
    assert wt.fragment_nodes.sum() == frag["n_nodes"].sum() == 184
    # joining changes no distance on the main network (connectors only reach dead ends)
    both = np.isfinite(plain.dist_m[: esquilino.n_nodes])
    np.testing.assert_allclose(
        wt.dist_m[: esquilino.n_nodes][both], plain.dist_m[: esquilino.n_nodes][both], atol=1e-6
    )


def test_esquilino_no_site_on_a_fragment(esquilino, rome_file):
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    spaces = main_street_spaces(esquilino, 2, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zones outside the extract have no street
        result = fm.analyze(esquilino, spaces, zones, population_column="pop2018", minutes=[15])
        walk = result.walk
        sites = fm.suggest_sites(result, n_sites=5)
        no_fragments = np.zeros(walk.streets.n_nodes, dtype=bool)
        kept = fm.suggest_sites(
            dataclasses.replace(walk, fragment_nodes=no_fragments), result.zones, n_sites=5
        )
    streets = walk.streets  # the analysis may have joined gaps: ids are not sorted
    _, labels = _topology.components(streets.csr)
    main = np.argmax(np.bincount(labels))

    def nodes(table):
        return pd.Index(streets.node_osmid).get_indexer(table["osmid"].to_numpy(dtype=np.int64))

    assert len(sites) >= 1 and (labels[nodes(sites)] == main).all()
    assert not walk.fragment_nodes[nodes(sites)].any()
    # keeping the fragments, the sites go to them (the measured problem)
    assert (labels[nodes(kept)] != main).sum() >= 3
