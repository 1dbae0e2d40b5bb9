"""Reading .osm.pbf: same graph as OSM XML, streaming study-area filters, tagged features."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from osmium.osm.mutable import Node, Way

import fifteenmin as fm
from fifteenmin import _osm
from fifteenmin.errors import InputError
from fifteenmin.network import great_circle_m

VALHALLA = [
    "network/valhalla_rome.osm.pbf",
    "network/valhalla_via_montebello_roma_italy.osm.pbf",
]


def _convert(src: Path, out: Path) -> Path:
    """Copy every object of ``src`` into ``out`` with pyosmium (format from the suffix)."""
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return out


def _edges(streets: fm.network.StreetNetwork) -> dict[tuple[int, int, int], float]:
    """(u osmid, v osmid, way osmid) -> length of every street segment."""
    ids = streets.node_osmid
    return {
        (int(ids[u]), int(ids[v]), int(w)): float(length)
        for u, v, w, length in zip(
            streets.edge_u,
            streets.edge_v,
            streets.edge_attrs["osmid"],
            streets.edge_length_m,
            strict=True,
        )
    }


def _assert_same_network(a: fm.network.StreetNetwork, b: fm.network.StreetNetwork) -> None:
    np.testing.assert_array_equal(a.node_osmid, b.node_osmid)
    np.testing.assert_array_equal(a.node_lonlat, b.node_lonlat)
    ea, eb = _edges(a), _edges(b)
    assert ea.keys() == eb.keys()
    for key, length in ea.items():
        assert abs(length - eb[key]) <= 1e-9, key
    assert shapely.equals_exact(a.edge_geometry, b.edge_geometry, tolerance=1e-9).all()


def _graph_edges(graph) -> dict[tuple[int, int, int], float]:
    return {(u, v, d["osmid"]): d["length_m"] for u, v, d in graph.edges(data=True)}


@pytest.mark.parametrize("rel", VALHALLA)
def test_pbf_graph_equals_xml_graph(rome_file, tmp_path: Path, rel: str) -> None:
    pbf = rome_file(rel)
    xml = _convert(pbf, tmp_path / (pbf.name.removesuffix(".pbf")))
    _assert_same_network(fm.read_streets(pbf), fm.read_streets(xml))
    g_pbf, g_xml = fm.network_from_file(pbf), fm.network_from_file(xml)
    assert sorted(g_pbf.nodes) == sorted(g_xml.nodes)
    e_pbf, e_xml = _graph_edges(g_pbf), _graph_edges(g_xml)
    assert e_pbf.keys() == e_xml.keys()
    assert max(abs(e_pbf[k] - e_xml[k]) for k in e_pbf) <= 1e-9


@pytest.mark.parametrize("rel", VALHALLA)
def test_pbf_length_matches_osmnx(rome_file, tmp_path: Path, rel: str) -> None:
    """Independent reference: OSMnx's unsimplified graph of the same data as XML."""
    ox = pytest.importorskip("osmnx")
    pbf = rome_file(rel)
    xml = _convert(pbf, tmp_path / "data.osm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ox.graph_from_xml(xml, simplify=False, retain_all=True, bidirectional=True)
    segments = {
        (min(u, v), max(u, v), d["osmid"]): d["length"]
        for u, v, d in graph.edges(data=True)
        if _osm.is_walkable(d)
    }
    streets = fm.read_streets(pbf)
    assert set(streets.edge_attrs["osmid"]) == {k[2] for k in segments}
    assert streets.edge_length_m.sum() == pytest.approx(sum(segments.values()), rel=1e-12)
    assert set(streets.node_osmid) <= set(graph.nodes)


# --- a hand-made file --------------------------------------------------------------------
# Nodes on a 0.001-degree lattice around (12.50, 41.90); the study bbox is the square
# 12.500-12.502 E x 41.900-41.902 N.
LON0, LAT0, D = 12.500, 41.900, 0.001
BBOX = (LON0, LAT0, LON0 + 2 * D, LAT0 + 2 * D)


def _xy(i: float, j: float) -> tuple[float, float]:
    return (round(LON0 + i * D, 7), round(LAT0 + j * D, 7))


NODES: dict[int, tuple[float, float]] = {
    1: _xy(0.5, 0.5),  # inside
    2: _xy(1.5, 0.5),  # inside
    3: _xy(1.5, 1.5),  # inside
    4: _xy(3.0, 0.5),  # outside (east)
    5: _xy(4.0, 0.5),  # outside
    6: _xy(4.0, 3.0),  # outside
    7: _xy(-1.0, 1.0),  # outside (west)
    8: _xy(3.0, 1.0),  # outside (east): 7-8 crosses the bbox with no vertex inside
    9: _xy(2.0, 1.8),  # exactly on the east border
    10: _xy(3.0, 1.8),  # outside
    11: _xy(0.5, 1.5),  # inside
    12: _xy(1.9, 1.9),  # inside the bbox, outside the L-shaped polygon below
    13: _xy(3.0, 3.0),  # outside
}
# way id -> (node refs, tags)
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    101: ([1, 2, 3], {"highway": "residential", "name": "Via Dentro"}),  # inside
    102: ([2, 4, 5], {"highway": "footway"}),  # crosses the border: kept whole
    103: ([5, 6], {"highway": "residential"}),  # outside
    104: ([7, 8], {"highway": "primary"}),  # crosses, no vertex inside: dropped
    105: ([9, 10], {"highway": "service"}),  # vertex on the border: kept
    106: ([1, 11], {"highway": "cycleway"}),  # inside but not walkable
    107: ([11, 3], {"highway": "path", "foot": "no"}),  # inside but not walkable
    108: ([12, 13], {"highway": "steps"}),  # inside the bbox only
    109: ([3, 999, 12, 13], {"highway": "pedestrian"}),  # node 999 missing from the file
    110: ([11, 12], {"building": "yes"}),  # no highway
}
# L-shaped polygon: the bbox minus its north-east quarter (where node 12 lies)
L_SHAPE = shapely.Polygon(
    [
        _xy(0, 0),
        _xy(2, 0),
        _xy(2, 1.8),
        _xy(1.7, 1.8),
        _xy(1.7, 2),
        _xy(0, 2),
    ]
)


def _write(path: Path, *, ways_first: bool = False) -> Path:
    """Write NODES and WAYS (plus two coworking spaces) with pyosmium's SimpleWriter."""
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:

        def nodes() -> None:
            for nid, loc in NODES.items():
                writer.add_node(Node(id=nid, location=loc))
            writer.add_node(
                Node(id=50, location=_xy(1, 1), tags={"amenity": "coworking_space", "name": "In"})
            )
            writer.add_node(
                Node(id=51, location=_xy(5, 5), tags={"amenity": "coworking_space", "name": "Out"})
            )

        def ways() -> None:
            for wid, (refs, tags) in WAYS.items():
                writer.add_way(Way(id=wid, nodes=refs, tags=tags))
            writer.add_way(Way(id=120, nodes=[11, 12, 3, 11], tags={"office": "coworking"}))

        if ways_first:  # an unsorted file: the reader must not depend on the order
            ways()
            nodes()
        else:
            nodes()
            ways()
    return path


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("pbf") / "handmade.osm.pbf")


def _kept(ways: _osm.WayArrays) -> set[int]:
    return {int(w) for w in ways.way_id}


def test_handmade_pbf_equals_xml_and_unsorted(handmade: Path, tmp_path: Path) -> None:
    xml = _write(tmp_path / "handmade.osm")
    unsorted = _write(tmp_path / "unsorted.osm.pbf", ways_first=True)
    ref = fm.read_streets(handmade)
    _assert_same_network(ref, fm.read_streets(xml))
    _assert_same_network(ref, fm.read_streets(unsorted))
    _assert_same_network(ref, fm.read_streets(_convert(handmade, tmp_path / "copy.osm")))


def test_coordinates_decoded_in_blocks_keep_the_way_order(
    handmade: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ways located in C++ (WKB, decoded in blocks) and way 109, whose missing node makes
    it go node by node, come out in file order whatever the block size."""
    ref = fm.read_streets(handmade)
    monkeypatch.setattr(_osm._WayCollector, "_BLOCK", 2)
    _assert_same_network(ref, fm.read_streets(handmade))
    ways = _osm.read_walkable_ways(handmade)
    lon, lat = np.array([NODES[r] for r in ways.node_ref]).T
    np.testing.assert_array_equal(ways.lon, lon)
    np.testing.assert_array_equal(ways.lat, lat)


def test_handmade_graph_by_hand(handmade: Path) -> None:
    ways = _osm.read_walkable_ways(handmade)
    assert _kept(ways) == {101, 102, 103, 104, 105, 108, 109}
    streets = fm.read_streets(handmade)
    # way 109 is split at its missing node: 3 alone (dropped) and the run 12-13
    # intersections and ends: 1 (end), 2 (101 x 102), 3 (end), 5 (102 x 103), 6, 7, 8,
    # 9, 10, 12, 13; node 4 is a shape point of way 102
    assert streets.node_osmid.tolist() == [1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 13]
    lon, lat = np.array(list(NODES.values())).T
    idx = {nid: i for i, nid in enumerate(NODES)}

    def length(refs: list[int]) -> float:
        a, b = [idx[r] for r in refs[:-1]], [idx[r] for r in refs[1:]]
        return float(great_circle_m(lat[a], lon[a], lat[b], lon[b]).sum())

    expected = {
        (1, 2, 101): length([1, 2]),
        (2, 3, 101): length([2, 3]),
        (2, 5, 102): length([2, 4, 5]),
        (5, 6, 103): length([5, 6]),
        (7, 8, 104): length([7, 8]),
        (9, 10, 105): length([9, 10]),
        (12, 13, 108): length([12, 13]),
        (12, 13, 109): length([12, 13]),
    }
    got = _edges(streets)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12)


def test_bbox_keeps_ways_with_a_vertex_inside(handmade: Path) -> None:
    ways = _osm.read_walkable_ways(handmade, bbox=BBOX)
    assert _kept(ways) == {101, 102, 105, 108, 109}
    # whole ways are kept: the vertices of way 102 outside the bbox are there
    assert {2, 4, 5} <= set(ways.node_ref.tolist())
    streets = fm.read_streets(handmade, bbox=BBOX)
    assert set(streets.edge_attrs["osmid"]) == {101, 102, 105, 108, 109}


def test_polygon_filter_and_both(handmade: Path) -> None:
    # way 108 (nodes 12, 13) is inside the bbox but not the L; way 109 is kept through
    # node 3 although its only segment (12-13) lies outside
    in_l = {101, 102, 105, 109}
    assert _kept(_osm.read_walkable_ways(handmade, polygon=L_SHAPE)) == in_l
    # with a bbox too, a vertex must be inside both
    east = (LON0 + 1.0 * D, LAT0, LON0 + 5 * D, LAT0 + 5 * D)
    assert _kept(_osm.read_walkable_ways(handmade, polygon=L_SHAPE, bbox=east)) == in_l
    north = (LON0, LAT0 + 1.0 * D, LON0 + 5 * D, LAT0 + 5 * D)
    got = _kept(_osm.read_walkable_ways(handmade, polygon=L_SHAPE, bbox=north))
    assert got == {101, 105, 109}
    multi = shapely.MultiPolygon([L_SHAPE, shapely.box(*_xy(3.5, 2.5), *_xy(4.5, 3.5))])
    assert _kept(_osm.read_walkable_ways(handmade, polygon=multi)) == in_l | {103}
    graph = fm.network_from_file(handmade, polygon=L_SHAPE)
    assert {d["osmid"] for _, _, d in graph.edges(data=True)} == in_l


def test_filter_matches_reference_on_rome(rome_file) -> None:
    """The bbox filter against a plain-Python reference on a real extract."""
    path = rome_file("network/rome_esquilino_2016.osm")
    bbox = (12.490, 41.889, 12.497, 41.894)
    every = _osm.read_walkable_ways(path)
    expected = set()
    for r in range(len(every.run_way)):
        a, b = every.run_start[r], every.run_start[r + 1]
        lon, lat = every.lon[a:b], every.lat[a:b]
        if ((lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])).any():
            expected.add(int(every.way_id[every.run_way[r]]))
    got = _kept(_osm.read_walkable_ways(path, bbox=bbox))
    assert got == expected
    assert 0 < len(got) < len(every.way_id)
    poly = shapely.box(*bbox)
    assert _kept(_osm.read_walkable_ways(path, polygon=poly)) == expected


def test_tagged_features_in_area(handmade: Path, tmp_path: Path) -> None:
    tags = {"amenity": "coworking_space", "office": "coworking"}
    every = _osm.read_tagged_features(handmade, tags)
    assert {(f.osm_type, f.osm_id) for f in every} == {("node", 50), ("node", 51), ("way", 120)}
    unsorted = _write(tmp_path / "unsorted.osm.pbf", ways_first=True)
    assert sorted(_osm.read_tagged_features(unsorted, tags), key=str) == sorted(every, key=str)
    inside = _osm.read_tagged_features(handmade, tags, bbox=BBOX)
    assert {(f.osm_type, f.osm_id) for f in inside} == {("node", 50), ("way", 120)}
    way = next(f for f in inside if f.osm_type == "way")
    ring = np.array([NODES[11], NODES[12], NODES[3]])  # closed ring: last vertex dropped
    assert (way.lon, way.lat) == pytest.approx(tuple(ring.mean(axis=0)), abs=1e-12)
    spaces = fm.spaces_from_osm(handmade, polygon=shapely.box(*_xy(0.9, 0.9), *_xy(1.1, 1.1)))
    assert spaces["space_id"].tolist() == ["n50"]


def test_area_errors(handmade: Path) -> None:
    with pytest.raises(InputError, match="west < east"):
        fm.read_streets(handmade, bbox=(12.6, 41.8, 12.5, 41.9))
    with pytest.raises(InputError, match="EPSG:4326"):
        fm.read_streets(handmade, polygon=shapely.box(290_000, 4_640_000, 291_000, 4_641_000))
    with pytest.raises(InputError, match="Polygon"):
        fm.read_streets(handmade, polygon=shapely.Point(12.5, 41.9))
    with pytest.raises(InputError, match="no walkable way"):
        fm.read_streets(handmade, bbox=(13.0, 42.0, 13.1, 42.1))


def test_corrupt_pbf(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 4)
    with pytest.raises(InputError, match="cannot be read as OSM data"):
        fm.read_streets(bad)
