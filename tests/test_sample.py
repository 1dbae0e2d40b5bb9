"""Tests of the synthetic sample city generator."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

from fifteenmin.sample import TOTAL_POPULATION, SampleCity, write_sample_city

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
_NOT_WALK = {"motorway", "cycleway"}


def _walkable(tags: dict[str, str]) -> bool:
    return (
        tags.get("highway", "") not in {"", *_NOT_WALK}
        and tags.get("foot") != "no"
        and tags.get("access") != "private"
    )


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SampleCity:
    return write_sample_city(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def osm(city: SampleCity) -> tuple[dict[int, tuple[float, float]], list[tuple[list[int], dict]]]:
    """(node id -> projected x, y; [(node refs, tags)]) read back from the XML."""
    root = ET.parse(city.network).getroot()
    nodes = {
        int(n.attrib["id"]): _TO_UTM.transform(float(n.attrib["lon"]), float(n.attrib["lat"]))
        for n in root.iter("node")
    }
    ways = [
        (
            [int(nd.attrib["ref"]) for nd in w.iter("nd")],
            {t.attrib["k"]: t.attrib["v"] for t in w.iter("tag")},
        )
        for w in root.iter("way")
    ]
    return nodes, ways


def _line(nodes: dict[int, tuple[float, float]], refs: list[int]) -> LineString:
    return LineString([nodes[r] for r in refs])


def test_deterministic_and_overwrite(tmp_path: Path, city: SampleCity) -> None:
    other = write_sample_city(tmp_path / "b")
    for name in ("network", "spaces", "zones"):
        assert getattr(city, name).read_bytes() == getattr(other, name).read_bytes()
    assert "SYNTHETIC" in (other.directory / "README.md").read_text()
    assert not [p for p in other.directory.iterdir() if p.name.endswith(".tmp")]
    other.spaces.write_text("edited")
    write_sample_city(tmp_path / "b")  # existing files are kept...
    assert other.spaces.read_text() == "edited"
    write_sample_city(tmp_path / "b", overwrite=True)  # ...unless overwrite=True
    assert other.spaces.read_bytes() == city.spaces.read_bytes()
    other.zones.unlink()
    write_sample_city(tmp_path / "b")  # a missing file: all are written again
    assert other.zones.read_bytes() == city.zones.read_bytes()


def test_osmnx_reads_network(city: SampleCity) -> None:
    import osmnx

    graph = osmnx.graph_from_xml(city.network, retain_all=True)
    assert graph.number_of_nodes() > 500
    assert graph.number_of_edges() > 1000


def test_osm_content(city: SampleCity, osm: tuple) -> None:
    nodes, ways = osm
    root = ET.parse(city.network).getroot()
    tagged = [{t.attrib["k"]: t.attrib["v"] for t in n.iter("tag")} for n in root.iter("node")]
    assert sum(t.get("amenity") == "coworking_space" and "name" in t for t in tagged) == 2
    assert all(len(n.attrib["lat"].split(".")[1]) == 7 for n in root.iter("node"))
    assert all(n.attrib["version"] == "1" for n in root.iter("node"))
    assert min(nodes) > 0 and len(nodes) > 1000
    assert all(r in nodes for refs, _ in ways for r in refs)
    kinds = {t.get("highway") for _, t in ways}
    assert {
        "residential",
        "secondary",
        "tertiary",
        "footway",
        "steps",
        "pedestrian",
        "path",
        "cycleway",
        "motorway",
        "service",
    } <= kinds
    assert any(t.get("foot") == "no" for _, t in ways)
    assert any(t.get("access") == "private" for _, t in ways)
    assert sum(t.get("office") == "coworking" for _, t in ways) == 1
    assert any(len(refs) > 3 and t.get("highway") == "residential" for refs, t in ways)
    walk_nodes = {r for refs, t in ways if _walkable(t) for r in refs}
    motor_nodes = {r for refs, t in ways if t.get("highway") == "motorway" for r in refs}
    assert not walk_nodes & motor_nodes
    motorway = [t for _, t in ways if t.get("highway") == "motorway"]
    assert all(t["name"] == "Tangenziale Sintetica" and t["oneway"] == "yes" for t in motorway)
    park = next(refs for refs, t in ways if t.get("leisure") == "park")
    assert park[0] == park[-1]
    park_paths = [
        refs
        for refs, t in ways
        if t.get("highway") in {"footway", "path"}
        and _line(nodes, refs).intersects(shapely.Polygon([nodes[r] for r in park]))
    ]
    assert {r for refs in park_paths for r in refs} & {
        r for refs, t in ways if t.get("highway") == "residential" for r in refs
    }


def test_river_crossed_only_at_three_bridges(osm: tuple) -> None:
    nodes, ways = osm
    river = next(_line(nodes, refs) for refs, t in ways if t.get("waterway") == "river")
    streets = [(refs, t) for refs, t in ways if "highway" in t]
    crossing = [t for refs, t in streets if _line(nodes, refs).intersects(river)]
    walk_bridges = [t for t in crossing if t["highway"] != "motorway"]
    assert len(walk_bridges) == 3
    assert all(t.get("bridge") == "yes" and t.get("layer") == "1" for t in crossing)
    assert {t["highway"] for t in walk_bridges} <= {"secondary", "footway"}
    # without the bridges the walkable network falls apart into the two river sides
    graph = nx.Graph()
    for refs, t in streets:
        if _walkable(t) and t.get("bridge") != "yes":
            nx.add_path(graph, refs)
    sides = {
        n: Point(nodes[n]).x < river.interpolate(river.project(Point(nodes[n]))).x for n in graph
    }
    for comp in nx.connected_components(graph):
        assert len({sides[n] for n in comp}) == 1


def test_zones(city: SampleCity) -> None:
    zones = gpd.read_file(city.zones)
    assert zones.crs.to_epsg() == 4326
    assert 10 <= len(zones) <= 14
    assert list(zones.columns[:4]) == ["zone_id", "name", "population", "district"]
    assert zones.zone_id.is_unique and zones.zone_id.str.match(r"^N\d\d$").all()
    assert zones.geometry.is_valid.all() and (zones.geom_type == "Polygon").all()
    assert int(zones.population.sum()) == TOTAL_POPULATION and (zones.population > 0).all()
    assert 2 <= zones.district.nunique() <= 3
    metric = zones.to_crs("EPSG:32631").geometry
    for a, b in itertools.combinations(metric, 2):
        assert a.intersection(b).area < 1.0
    assert abs(metric.union_all().area - metric.area.sum()) < 10.0


def test_spaces(city: SampleCity, osm: tuple) -> None:
    nodes, ways = osm
    spaces = pd.read_csv(city.spaces)
    assert list(spaces.columns) == ["space_id", "name", "address", "seats", "kind", "lat", "lon"]
    assert len(spaces) == 14 and spaces.space_id.is_unique
    assert set(spaces.kind) <= {"coworking", "internet_cafe", "community_space", "other"}
    assert (spaces.seats > 0).all()
    xy = np.column_stack(_TO_UTM.transform(spaces.lon.to_numpy(), spaces.lat.to_numpy()))
    walk = shapely.MultiLineString([_line(nodes, refs) for refs, t in ways if _walkable(t)])
    assert all(walk.distance(Point(p)) <= 150 for p in xy)
    centre = np.array(_TO_UTM.transform(3.0, 0.5))
    near = np.hypot(*(xy - centre).T) <= 700
    assert 8 <= near.sum() <= 12


def test_some_zones_lack_a_space_within_15_minutes(city: SampleCity, osm: tuple) -> None:
    nodes, ways = osm
    graph = nx.Graph()
    for refs, t in ways:
        if _walkable(t):
            for a, b in itertools.pairwise(refs):
                graph.add_edge(a, b, length=Point(nodes[a]).distance(Point(nodes[b])))
    ids = np.array(list(graph))
    xy = np.array([nodes[n] for n in ids])
    spaces = pd.read_csv(city.spaces)
    sxy = np.column_stack(_TO_UTM.transform(spaces.lon.to_numpy(), spaces.lat.to_numpy()))
    sources = {int(ids[np.argmin(np.hypot(*(xy - p).T))]) for p in sxy}
    reached = nx.multi_source_dijkstra_path_length(graph, sources, cutoff=1200, weight="length")
    zones = gpd.read_file(city.zones).to_crs("EPSG:32631")
    inside = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=zones.crs)
    covered = [
        np.mean([n in reached for n in ids[inside.within(zone).to_numpy()]])
        for zone in zones.geometry
    ]
    assert sum(c < 0.25 for c in covered) >= 2  # uncovered neighbourhoods exist
    assert sum(c > 0.75 for c in covered) >= 2  # and covered ones


def test_streets_meet_only_at_shared_nodes(osm: tuple) -> None:
    nodes, ways = osm
    streets = [(refs, t) for refs, t in ways if "highway" in t]
    lines = [_line(nodes, refs) for refs, _ in streets]
    tree = shapely.STRtree(lines)
    for i, j in zip(*tree.query(lines, predicate="intersects"), strict=True):
        (refs_i, tags_i), (refs_j, tags_j) = streets[i], streets[j]
        if i < j and not set(refs_i) & set(refs_j):  # a crossing without a junction...
            assert "yes" in (tags_i.get("bridge"), tags_j.get("bridge"))  # ...is a bridge
