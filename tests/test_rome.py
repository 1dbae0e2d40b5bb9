"""On the real Rome extracts: walking times against an independent OSMnx + NetworkX reference,
and the municipi / zone urbanistiche as zone layers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

import fifteenmin as fm
from fifteenmin._osm import is_walkable
from fifteenmin.network import great_circle_m

EXTRACTS = ["network/rome_esquilino_2016.osm", "network/rome_nomentano_2012.osm"]


def placed_spaces(streets: fm.network.StreetNetwork, n: int, seed: int) -> gpd.GeoDataFrame:
    """Spaces the test places itself: 20 m off random points of random streets."""
    rng = np.random.default_rng(seed)
    edges = rng.choice(streets.n_edges, size=n, replace=False)
    geoms = streets.edge_geometry[edges]
    pts = shapely.line_interpolate_point(geoms, rng.uniform(0.1, 0.9, n), normalized=True)
    pts = shapely.transform(pts, lambda c: c + rng.uniform(-20, 20, c.shape))
    return gpd.GeoDataFrame(
        {"space_id": [f"t{i}" for i in range(n)]}, geometry=pts, crs=streets.crs
    ).to_crs(4326)


def reference_times(
    path, spaces: gpd.GeoDataFrame, speed_mps: float
) -> tuple[dict[int, float], set[int]]:
    """Independent reference: the XML parsed with ElementTree into an unsimplified graph
    (one edge per pair of consecutive way vertices), geopandas snapping, NetworkX Dijkstra.

    (OSMnx's ``graph_from_xml`` is not used: the Esquilino file repeats way 140754165,
    Via Leonina, once without tags, and OSMnx keeps the untagged copy and loses the street.)
    """
    root = ET.parse(path).getroot()
    lonlat = {
        int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")
    }
    und = nx.Graph()
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if not is_walkable(tags):
            continue
        refs = [int(nd.get("ref")) for nd in way.iter("nd") if int(nd.get("ref")) in lonlat]
        for a, b in zip(refs[:-1], refs[1:], strict=True):
            (x0, y0), (x1, y1) = lonlat[a], lonlat[b]
            length = float(great_circle_m(y0, x0, y1, x1))
            if a != b and (not und.has_edge(a, b) or und[a][b]["length"] > length):
                und.add_edge(a, b, length=length)
    to_utm = pyproj.Transformer.from_crs(4326, 32633, always_xy=True)
    segs = gpd.GeoDataFrame(
        {
            "u": [u for u, _ in und.edges],
            "v": [v for _, v in und.edges],
            "length": [d["length"] for *_, d in und.edges(data=True)],
        },
        geometry=[
            shapely.LineString([to_utm.transform(*lonlat[u]), to_utm.transform(*lonlat[v])])
            for u, v in und.edges
        ],
        crs=32633,
    )
    pts = spaces.to_crs(32633)
    near = gpd.sjoin_nearest(pts, segs, distance_col="d")
    near = near[~near.index.duplicated()]
    for i, row in near.iterrows():
        frac = segs.geometry[row["index_right"]].project(pts.geometry[i], normalized=True)
        snap = f"snap{i}"
        und.add_edge(row["u"], snap, length=frac * row["length"])
        und.add_edge(snap, row["v"], length=(1 - frac) * row["length"])
        und.add_edge(snap, f"space{i}", length=row["d"])
    dist = nx.multi_source_dijkstra_path_length(
        und, {f"space{i}" for i in near.index}, weight="length"
    )
    nodes = {n for n in und.nodes if not isinstance(n, str)}
    return {n: d / speed_mps for n, d in dist.items() if n in nodes}, nodes


@pytest.mark.parametrize("extract", EXTRACTS)
def test_walk_times_equal_networkx_reference(rome_file, extract):
    path = rome_file(extract)
    streets = fm.read_streets(path)
    assert streets.crs.to_epsg() == 32633
    spaces = placed_spaces(streets, 6, seed=len(extract))
    wt = fm.walk_times(streets, spaces)
    ref, ref_nodes = reference_times(path, spaces, wt.speed_mps)
    ours = wt.node_times().set_index("osmid")["walk_time_s"]
    assert set(ours.index) <= ref_nodes  # every intersection is in the unsimplified graph
    got = ours.to_numpy()
    want = np.array([ref.get(n, np.inf) for n in ours.index])
    reached = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), reached)
    # the access walk is measured on the great circle here, in UTM in the reference:
    # they differ by the UTM scale factor (< 0.04 %) over at most ~20 m
    np.testing.assert_allclose(got[reached], want[reached], rtol=1e-6, atol=0.02)


def test_municipi_work_as_zones(rome_file):
    path = rome_file("boundaries/roma_municipi_15.geojson")
    raw = gpd.read_file(path)
    assert (~raw.is_valid).sum() == 3  # II, IV and VII need make_valid
    zones = fm.zones_from_file(path)
    assert len(zones) == 15 and zones.is_valid.all()
    assert zones.to_crs(32633).area.sum() / 1e6 == pytest.approx(1287, rel=0.01)


@pytest.fixture(scope="module")
def esquilino_analysis(rome_file):
    path = rome_file("network/rome_esquilino_2016.osm")
    zones_path = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(path)
    with pytest.warns(UserWarning, match="151 of 155 zones have no street data"):
        result = fm.analyze(
            streets, placed_spaces(streets, 4, seed=1), zones_path, population_column="pop2018"
        )
    return result, zones_path


def test_zone_urbanistiche_with_residents(esquilino_analysis):
    result, zones_path = esquilino_analysis
    zones = result.zones
    assert len(zones) == 155
    raw = gpd.read_file(zones_path)
    assert raw["pop2018"].sum() == 2_830_254
    # zones outside the extract keep all their residents (left out); the others are cut
    source = raw.set_index("zu_cod")["pop2018"]
    by_id = zones.set_index("zone_id")
    no_data = by_id[by_id["status"] == "no_data"]
    assert len(no_data) > 140
    assert (no_data["residents"] == source.loc[no_data.index]).all()
    assert (by_id["residents"] <= source.loc[by_id.index] + 1e-6).all()
    for m in (5, 10, 15):
        share = zones[f"share_pop_{m}min"].dropna()
        assert share.between(0, 1).all()
        covered = zones[f"pop_{m}min"]
        assert (covered.isna() | covered.le(zones["residents"] + 1e-6)).all()
    esq = zones.set_index("zone_id").loc["1E"]  # Esquilino lies in the extract
    assert esq["street_length_m"] > 10_000 and esq["share_pop_15min"] > 0
    assert 0 <= result.summary["within"]["15"]["share"] <= 1
