"""Study area: margin, zone clipping, and the analysis clipped to a boundary."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from osmium.osm.mutable import Node, Way
from pyproj import Transformer

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin.errors import InputError
from fifteenmin.network import great_circle_m
from fifteenmin.study_area import StudyArea, study_area_from, walk_margin_m

# A street along y = 0 from x = 0 to 5 km (UTM 33N metres from an origin in Rome), drawn as
# ten 500 m ways with a vertex every 100 m.
UTM = "EPSG:32633"
E0, N0 = 290_000.0, 4_640_000.0
_TO_DEG = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def _deg(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_DEG.transform(E0 + x, N0 + y)
    return round(lon, 7), round(lat, 7)


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in local metres, as lon/lat (densified so it stays a rectangle in UTM)."""
    ring = shapely.segmentize(shapely.box(x0, y0, x1, y1), 10.0)
    return shapely.transform(ring, lambda c: np.array([_deg(x, y) for x, y in c]))


BOUNDARY = (-50.0, -500.0, 1550.0, 500.0)
ZONES = {  # zone_id -> (x0, x1, residents); every zone spans y -100 .. 100
    "ZB": (0.0, 500.0, 300.0),
    "ZA": (1000.0, 1500.0, 600.0),
    "ZD": (1400.0, 1700.0, 1200.0),  # straddles the boundary: half of it inside
    "ZC": (2000.0, 2500.0, 900.0),  # outside
}
SPACES = {"S_in": 100.0, "S_out": 1600.0}  # on the street; S_out is 50 m outside


def _scale() -> float:
    """Street length (great circle, as OSMnx) per UTM metre along the street."""
    (lon0, lat0), (lon1, lat1) = _deg(0, 0), _deg(5000, 0)
    return float(great_circle_m(lat0, lon0, lat1, lon1)) / 5000.0


R = _scale()  # about 0.9973 here: walking m per UTM m


@pytest.fixture(scope="module")
def line_city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("line_city")
    with osmium.SimpleWriter(str(d / "line.osm.pbf")) as writer:
        for k in range(51):
            writer.add_node(Node(id=k + 1, location=_deg(100.0 * k, 0.0)))
        for w in range(10):
            refs = list(range(5 * w + 1, 5 * w + 7))
            writer.add_way(Way(id=100 + w, nodes=refs, tags={"highway": "footway"}))
    gpd.GeoDataFrame({"name": ["boundary"]}, geometry=[_box(*BOUNDARY)], crs=4326).to_file(
        d / "boundary.geojson"
    )
    gpd.GeoDataFrame(
        {"zone_id": list(ZONES), "residents": [z[2] for z in ZONES.values()]},
        geometry=[_box(x0, -100, x1, 100) for x0, x1, _ in ZONES.values()],
        crs=4326,
    ).to_file(d / "zones.geojson")
    rows = ["space_id,name,lat,lon"] + [
        f"{sid},{sid},{_deg(x, 0)[1]},{_deg(x, 0)[0]}" for sid, x in SPACES.items()
    ]
    (d / "spaces.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {
        "network": d / "line.osm.pbf",
        "boundary": d / "boundary.geojson",
        "zones": d / "zones.geojson",
        "spaces": d / "spaces.csv",
    }


def _run(city: dict[str, Path], **kwargs: object) -> fm.Analysis:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ZD is cut by the boundary: warned, tested below
        return fm.analyze(
            city["network"],
            city["spaces"],
            city["zones"],
            population_column="residents",
            boundary=city["boundary"],
            **kwargs,
        )


def _zone(result: fm.Analysis, zone_id: str) -> dict:
    zones = result.zones.set_index(N.ZONE_ID)
    return zones.loc[zone_id].to_dict()


def test_walk_margin() -> None:
    assert walk_margin_m([5, 10, 15], 4.8) == pytest.approx(1200.0)
    assert walk_margin_m(20, 3.6) == pytest.approx(1200.0)


def test_space_just_outside_covers_the_edge_zone(line_city: dict[str, Path]) -> None:
    result = _run(line_city)
    assert result.parameters["margin_m"] == pytest.approx(1200.0)
    # the space 50 m outside the boundary is kept, and it is the nearest for the edge zones
    assert set(result.walk.spaces["space_id"]) == {"S_in", "S_out"}
    zd, za = _zone(result, "ZD"), _zone(result, "ZA")
    assert zd["nearest_space_id"] == "S_out"
    assert zd[N.share("streets", 5)] == pytest.approx(1.0)
    # ZA (x 1000-1500) is 100-600 m from S_out: within 400 m (5 min) from x = 1200 on
    assert za[N.share("streets", 5)] == pytest.approx((1500 - (1600 - 400 / R)) / 500, abs=1e-4)
    assert za[N.share("streets", 10)] == pytest.approx(1.0)
    # zones: ZC (outside) dropped, ZD clipped to its half inside, residents scaled to it
    assert set(result.zones[N.ZONE_ID]) == {"ZA", "ZB", "ZD"}
    assert zd[N.POPULATION] == pytest.approx(600.0, rel=1e-3)
    assert zd[N.AREA_KM2] == pytest.approx(150 * 200 / 1e6, rel=1e-3)
    assert zd[N.STREET_LENGTH_M] == pytest.approx(150.0 * R, abs=0.01)
    # the network is read within the boundary plus 1200 m: ways up to x = 3000 m
    streets = result.walk.streets
    assert set(streets.edge_attrs["osmid"]) == {100, 101, 102, 103, 104, 105}


def test_without_margin_the_outside_space_is_lost(line_city: dict[str, Path]) -> None:
    result = _run(line_city, margin_m=0)
    assert set(result.walk.spaces["space_id"]) == {"S_in"}
    assert set(result.walk.streets.edge_attrs["osmid"]) == {100, 101, 102, 103}
    zd, za = _zone(result, "ZD"), _zone(result, "ZA")
    assert zd[N.share("streets", 15)] == pytest.approx(0.0)
    assert zd[N.UNDERSERVED]
    # ZA is 900-1400 m from S_in: within 1200 m (15 min) up to x = 1300
    assert za[N.share("streets", 5)] == pytest.approx(0.0)
    assert za[N.share("streets", 15)] == pytest.approx((100 + 1200 / R - 1000) / 500, abs=1e-4)


def test_cut_zone_warns(line_city: dict[str, Path]) -> None:
    with pytest.warns(UserWarning, match="partly outside the study area.*'ZD'"):
        fm.analyze(
            line_city["network"],
            line_city["spaces"],
            line_city["zones"],
            population_column="residents",
            boundary=line_city["boundary"],
        )


def test_with_margin_geometry() -> None:
    area = StudyArea(_box(0, 0, 1000, 1000))
    grown = area.with_margin(200)
    # square of side a grown by m: a^2 + 4am + pi m^2 (buffer arcs are polygons: 0.2 %)
    expected = 1000**2 + 4 * 1000 * 200 + np.pi * 200**2
    assert grown.area_km2 * 1e6 == pytest.approx(expected, rel=2e-3)
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    inner = shapely.transform(area.polygon, lambda c: np.column_stack(to_utm.transform(*c.T)))
    outer = shapely.transform(grown.polygon, lambda c: np.column_stack(to_utm.transform(*c.T)))
    # every point of the grown outline is 200 m from the square (in UTM, up to the arcs'
    # polygon approximation)
    assert shapely.hausdorff_distance(inner.exterior, outer.exterior) == pytest.approx(
        200, rel=2e-3
    )
    assert area.with_margin(0) == area
    with pytest.raises(InputError, match="margin"):
        area.with_margin(-5)


def test_clip_zones_sample_city(sample_city: fm.sample.SampleCity) -> None:
    zones = fm.zones_from_file(sample_city.zones, population_column="population")
    area = StudyArea.from_bbox((2.985, 0.488, 3.0, 0.51))
    with pytest.warns(UserWarning, match="scaled by the share of area inside"):
        clipped = area.clip_zones(zones)
    assert 0 < len(clipped) < len(zones)
    assert clipped.crs == zones.crs
    # the clipped zones tile the part of the city inside the area
    utm = "EPSG:32631"
    inside = shapely.intersection(zones.union_all(), shapely.segmentize(area.polygon, 1e-3))
    got = clipped.to_crs(utm).area.sum()
    want = gpd.GeoSeries([inside], crs=4326).to_crs(utm).area.iloc[0]
    assert got == pytest.approx(want, rel=1e-7)
    # residents scale with the share of area inside
    full = zones.set_index(N.ZONE_ID).to_crs(utm)
    for _, z in clipped.to_crs(utm).iterrows():
        share = z.geometry.area / full.loc[z[N.ZONE_ID]].geometry.area
        assert z[N.POPULATION] == pytest.approx(full.loc[z[N.ZONE_ID], N.POPULATION] * share)


def test_clip_zones_nothing_inside(sample_city: fm.sample.SampleCity) -> None:
    zones = fm.zones_from_file(sample_city.zones)
    with pytest.raises(InputError, match="none of the 12 zones"):
        StudyArea.from_bbox((12.4, 41.8, 12.6, 41.9)).clip_zones(zones)


def test_from_file_rome(rome_file) -> None:
    area = StudyArea.from_file(rome_file("boundaries/roma_capitale_boundary_osm.geojson"))
    assert area.area_km2 == pytest.approx(1286, rel=2e-3)
    w, s, e, n = area.bounds
    assert (round(w, 2), round(s, 2), round(e, 2), round(n, 2)) == (12.23, 41.66, 12.86, 42.14)
    assert area.with_margin(1200).polygon.contains(area.polygon)


def test_area_inputs(tmp_path: Path) -> None:
    assert study_area_from(None, None) is None
    bbox = (_deg(500, 0)[0], 40.0, 13.0, 42.5)
    both = study_area_from(_box(0, 0, 1000, 1000), bbox)
    assert both.polygon.equals(shapely.intersection(_box(0, 0, 1000, 1000), shapely.box(*bbox)))
    assert 0.45 < both.area_km2 < 0.55
    with pytest.raises(InputError, match="do not overlap"):
        study_area_from(_box(0, 0, 1000, 1000), (13.0, 40.0, 13.5, 40.5))
    lines = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(12, 41), (13, 42)])], crs=4326).to_file(lines)
    with pytest.raises(InputError, match="no polygon"):
        StudyArea.from_file(lines)
    projected = tmp_path / "projected.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)], crs=UTM).to_file(projected)
    assert StudyArea.from_file(projected).bounds[0] == pytest.approx(10.51, abs=0.01)


def test_spaces_osm_within_area(sample_city: fm.sample.SampleCity) -> None:
    every = fm.spaces_from_osm(sample_city.network)
    west = StudyArea.from_bbox((2.97, 0.47, 2.999, 0.53))
    inside = fm.spaces_from_osm(sample_city.network, polygon=west.polygon)
    assert set(inside["space_id"]) == set(every.loc[west.contains(every), "space_id"])


def test_cli_boundary_and_hexagons(line_city: dict[str, Path], tmp_path: Path) -> None:
    from fifteenmin import cli

    common = ["analyze", "--network", str(line_city["network"]), "--spaces"]
    common += [str(line_city["spaces"]), "--boundary", str(line_city["boundary"]), "--quiet"]
    out = tmp_path / "zones"
    args = ["--zones", str(line_city["zones"]), "--population-column", "residents"]
    assert cli.main([*common, *args, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["margin_m"] == pytest.approx(1200)
    assert summary["inputs"]["boundary"]["path"] == str(line_city["boundary"])
    assert summary["counts"]["zones"] == 3 and summary["counts"]["spaces"] == 2
    # hexagons over the boundary, residents carried from the zones by street length:
    # ZB and ZA whole, the half of ZD's street inside the boundary, nothing of ZC
    out = tmp_path / "hex"
    args = ["--zones", "hex:10", "--population", str(line_city["zones"])]
    args += ["--population-column", "residents", "--margin-m", "300"]
    assert cli.main([*common, *args, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["hex_resolution"] == 10
    assert summary["parameters"]["margin_m"] == pytest.approx(300)
    assert summary["residents_total"] == pytest.approx(300 + 600 + 1200 / 2, rel=1e-3)
    assert summary["counts"]["spaces"] == 2


def test_clip_drops_slivers_of_neighbouring_zones(rome_file, tmp_path: Path) -> None:
    """Municipio I from the municipi layer keeps exactly its zone urbanistiche.

    The two layers draw shared borders a few metres apart, so neighbouring zones overlap
    the boundary by thin slivers (up to 1.7 % of their area); they are not in the study area.
    """
    municipi = gpd.read_file(rome_file("boundaries/roma_municipi_15.geojson"))
    boundary = tmp_path / "municipio_I.geojson"
    municipi[municipi["NUMERO_ROM"] == "I"].to_file(boundary)
    zu = fm.zones_from_file(
        rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson"), population_column="pop2018"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clipped = StudyArea.from_file(boundary).clip_zones(zu)
    assert set(clipped[N.ZONE_ID]) == set(zu.loc[zu["municipio"] == 1, N.ZONE_ID])
