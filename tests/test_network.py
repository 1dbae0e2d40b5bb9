"""Reading the walking network: formats, the walk filter, projection, lengths and times."""

from __future__ import annotations

import bz2

import numpy as np
import osmnx as ox
import pytest
import shapely
from _osmfixtures import STREET, write_osm

import fifteenmin as fm
from fifteenmin._osm import is_walkable
from fifteenmin.errors import InputError


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "footway"}, True),
        ({"highway": "steps"}, True),
        ({"highway": "service"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "construction"}, False),
        ({"highway": "residential", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "service": "private"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "primary", "sidewalk": "separate"}, False),
        ({"waterway": "river"}, False),
    ],
)
def test_walk_filter_matches_osmnx(tags, walkable):
    assert is_walkable(tags) is walkable


def test_simplified_at_intersections_only(tmp_path):
    # one way with a bend (shape point 2) and a side street at node 3
    nodes = {1: (0, 0), 2: (50, 10), 3: (100, 0), 4: (200, 0), 5: (100, 80)}
    path = write_osm(tmp_path / "n.osm", nodes, [(1, [1, 2, 3, 4], STREET), (2, [3, 5], STREET)])
    streets = fm.read_streets(path)
    assert sorted(streets.node_osmid) == [1, 3, 4, 5]
    assert streets.n_edges == 3
    bent = streets.edge_geometry[np.flatnonzero(streets.edge_length_m > 100)[0]]
    assert shapely.get_num_coordinates(bent) == 3  # the shape point is kept in the geometry


def test_bz2_equals_xml(sample_city, tmp_path):
    packed = tmp_path / "city.osm.bz2"
    packed.write_bytes(bz2.compress(sample_city.network.read_bytes()))
    a, b = fm.read_streets(sample_city.network), fm.read_streets(packed)
    assert np.array_equal(a.node_osmid, b.node_osmid)
    np.testing.assert_array_equal(a.edge_length_m, b.edge_length_m)


def test_graphml_round_trip(sample_city, tmp_path):
    graph = fm.network_from_file(sample_city.network)
    ox.save_graphml(graph, tmp_path / "g.graphml")
    back = fm.read_streets(tmp_path / "g.graphml")
    orig = fm.read_streets(sample_city.network)
    assert np.array_equal(back.node_osmid, orig.node_osmid)
    assert back.n_edges == orig.n_edges
    np.testing.assert_allclose(np.sort(back.edge_length_m), np.sort(orig.edge_length_m))


def test_graphml_clipped_to_the_study_area(sample_city, tmp_path):
    """A GraphML network is read within a bbox or polygon too: segments with an end node
    inside, kept whole, with their nodes."""
    ox.save_graphml(fm.network_from_file(sample_city.network), tmp_path / "g.graphml")
    whole = fm.read_streets(tmp_path / "g.graphml")
    bbox = (2.99, 0.49, 3.0, 0.5)
    part = fm.read_streets(tmp_path / "g.graphml", bbox=bbox)
    assert 0 < part.n_edges < whole.n_edges
    lon, lat = whole.node_lonlat.T
    inside = (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
    expected = inside[whole.edge_u] | inside[whole.edge_v]
    assert part.n_edges == int(expected.sum())
    assert set(part.node_osmid) == set(
        whole.node_osmid[np.concatenate([whole.edge_u[expected], whole.edge_v[expected]])]
    )
    # each kept segment joins the same two OSM nodes with the same length as before
    got = {
        (part.node_osmid[u], part.node_osmid[v], round(length, 6))
        for u, v, length in zip(part.edge_u, part.edge_v, part.edge_length_m, strict=True)
    }
    want = {
        (whole.node_osmid[u], whole.node_osmid[v], round(length, 6))
        for u, v, length in zip(
            whole.edge_u[expected],
            whole.edge_v[expected],
            whole.edge_length_m[expected],
            strict=True,
        )
    }
    assert got == want
    box = shapely.box(*bbox)
    assert fm.read_streets(tmp_path / "g.graphml", polygon=box).n_edges == part.n_edges
    with pytest.raises(fm.errors.InputError, match="no street of the graph"):
        fm.read_streets(tmp_path / "g.graphml", bbox=(10.0, 10.0, 10.1, 10.1))


def test_lengths_match_osmnx(sample_city, monkeypatch):
    """Great-circle lengths as OSMnx computes them, on OSMnx's own (unfiltered) graph."""
    tags = ["foot", "sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"]
    monkeypatch.setattr(ox.settings, "useful_tags_way", [*ox.settings.useful_tags_way, *tags])
    graph = ox.graph_from_xml(sample_city.network, simplify=False, retain_all=True)
    undirected = ox.convert.to_undirected(graph)
    theirs = sum(d["length"] for *_, d in undirected.edges(data=True) if is_walkable(d))
    ours = fm.read_streets(sample_city.network).edge_length_m.sum()
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_projected_to_utm(sample_city):
    streets = fm.read_streets(sample_city.network)
    assert streets.crs.to_epsg() == 32631
    assert fm.network.utm_crs(12.5, 41.9).to_epsg() == 32633


def test_speed_must_be_plausible(sample_city):
    with pytest.raises(InputError, match="walking speed 0 km/h"):
        fm.network_from_file(sample_city.network, speed_kmh=0)


def test_corrupt_osm_file(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(InputError, match="bad.osm"):
        fm.read_streets(bad)


@pytest.mark.network
def test_graph_from_place_live():  # pragma: no cover - needs the internet
    graph = fm.graph_from_place("Piazza Vittorio Emanuele II, Roma")
    assert graph.number_of_edges() > 0
