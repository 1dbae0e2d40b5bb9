"""H3 hexagon zones, residents carried onto them by street length, population weighting."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin import _osm
from fifteenmin.errors import InputError
from fifteenmin.hexagons import hex_zones, interpolate_population, parse_hex_spec
from fifteenmin.network import streets_from_ways

UTM = "EPSG:32633"
E0, N0 = 290_000.0, 4_640_000.0
_TO_DEG = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
_TO_UTM = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)


def _deg(geom: shapely.Geometry) -> shapely.Geometry:
    """Local metres around (E0, N0) in UTM 33N -> lon/lat."""
    geom = shapely.segmentize(geom, 10.0)
    return shapely.transform(
        geom, lambda c: np.column_stack(_TO_DEG.transform(c[:, 0] + E0, c[:, 1] + N0))
    )


def _utm_area(geoms: gpd.GeoSeries | list) -> np.ndarray:
    return gpd.GeoSeries(list(geoms), crs=4326).to_crs(UTM).area.to_numpy()


# --- parse ---------------------------------------------------------------------------


def test_parse_hex_spec() -> None:
    assert parse_hex_spec("hex") == 9
    assert parse_hex_spec("hex:7") == 7
    assert parse_hex_spec("HEX:10") == 10
    assert parse_hex_spec(Path("zones.geojson")) is None
    for bad in ("hex:x", "hex:16", "hex:-1"):
        with pytest.raises(InputError, match="whole number 0-15"):
            parse_hex_spec(bad)


# --- the grid ------------------------------------------------------------------------

SQUARE = _deg(shapely.box(0, 0, 2000, 2000))  # 4 km² near Rome


@pytest.mark.parametrize("res", [8, 9, 10])
def test_hexagons_tile_the_area(res: int) -> None:
    hexes = hex_zones(SQUARE, res)
    assert list(hexes.columns) == [N.ZONE_ID, N.ZONE_NAME, "geometry"]
    assert hexes.crs.to_epsg() == 4326
    assert hexes[N.ZONE_ID].is_unique and (hexes[N.ZONE_ID] == hexes[N.ZONE_NAME]).all()
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == res for c in hexes[N.ZONE_ID])
    # clipped hexagons tile the area exactly: no gap, no overlap
    areas = _utm_area(hexes.geometry)
    assert areas.sum() == pytest.approx(_utm_area([SQUARE])[0], rel=1e-9)
    assert _utm_area([hexes.union_all()])[0] == pytest.approx(areas.sum(), rel=1e-9)
    # independent check: random points of the area fall in one of the cells (h3 lookup)
    rng = np.random.default_rng(0)
    w, s, e, n = SQUARE.bounds
    pts = np.column_stack([rng.uniform(w, e, 400), rng.uniform(s, n, 400)])
    pts = pts[shapely.contains_xy(SQUARE, pts[:, 0], pts[:, 1])]
    cells = {h3.latlng_to_cell(lat, lon, res) for lon, lat in pts}
    assert cells <= set(hexes[N.ZONE_ID])
    # count: at least area / cell area, at most that plus a ring of cells along the border
    full = hex_zones(SQUARE, res, clip=False)
    cell_m2 = h3.average_hexagon_area(res, unit="m^2")
    edge_m = h3.average_hexagon_edge_length(res, unit="m")
    assert len(full) == len(hexes)
    assert 4e6 / cell_m2 <= len(full) <= (np.sqrt(4e6) + 2 * 2 * edge_m) ** 2 / cell_m2 + 4
    assert full.union_all().covers(SQUARE)
    unclipped = _utm_area(full.geometry)
    assert unclipped.mean() == pytest.approx(cell_m2, rel=0.1)


def test_hexagons_of_a_multipolygon_and_errors() -> None:
    two = shapely.MultiPolygon(
        [_deg(shapely.box(0, 0, 500, 500)), _deg(shapely.box(3000, 0, 3500, 500))]
    )
    hexes = hex_zones(two, 9)
    assert _utm_area(hexes.geometry).sum() == pytest.approx(_utm_area([two])[0], rel=1e-9)
    with pytest.raises(InputError, match="coarser resolution"):
        hex_zones(SQUARE, 15)
    with pytest.raises(InputError, match="0-15"):
        hex_zones(SQUARE, 16)
    with pytest.raises(InputError, match="EPSG:4326"):
        hex_zones(shapely.box(E0, N0, E0 + 100, N0 + 100), 9)


# --- carrying residents ---------------------------------------------------------------


def _streets(lines_m: list[list[tuple[float, float]]]) -> fm.network.StreetNetwork:
    """A StreetNetwork from polylines in local metres (one way each)."""
    refs, lon, lat, starts = [], [], [], []
    for w, line in enumerate(lines_m):
        starts.append(len(refs))
        for k, (x, y) in enumerate(line):
            refs.append(1000 * (w + 1) + k)
            a, b = _TO_DEG.transform(x + E0, y + N0)
            lon.append(a)
            lat.append(b)
    starts.append(len(refs))
    ways = _osm.WayArrays(
        node_ref=np.array(refs),
        lon=np.array(lon),
        lat=np.array(lat),
        run_start=np.array(starts),
        run_way=np.arange(len(lines_m)),
        way_id=np.arange(1, len(lines_m) + 1),
        tags={k: [None] * len(lines_m) for k in _osm.EDGE_TAGS},
    )
    return streets_from_ways(ways)


def _zones(boxes: dict[str, tuple[float, float, float, float]], pop: dict[str, float]):
    return gpd.GeoDataFrame(
        {N.ZONE_ID: list(boxes), N.POPULATION: [pop.get(k, np.nan) for k in boxes]},
        geometry=[_deg(shapely.box(*b)) for b in boxes.values()],
        crs=4326,
    )


def test_interpolation_by_hand() -> None:
    # source A (1000 residents) holds 1400 m of street: 1000 m along y = 500, 400 m along
    # x = 300; source B (500 residents) has no street
    streets = _streets([[(0, 500), (1000, 500)], [(300, 0), (300, 400)]])
    source = _zones({"A": (0, 0, 1000, 1000), "B": (1000, 0, 2000, 1000)}, {"A": 1000, "B": 500})
    target = _zones({"T1": (0, 0, 600, 1000), "T2": (600, 0, 2000, 1000)}, {})
    pop = interpolate_population(source, target, streets, N.POPULATION)
    assert pop.name == N.POPULATION and pop.index.equals(target.index)
    # T1 gets 600 + 400 of A's 1400 m; T2 400 m of A, and all of B (by area)
    assert pop.tolist() == pytest.approx([1000 * 1000 / 1400, 1000 * 400 / 1400 + 500], rel=1e-6)
    # targets that cover part of the sources: the rest is dropped, with a warning
    with pytest.warns(UserWarning, match=r"786 of 1,500 residents"):
        part = interpolate_population(source, target.iloc[[0]], streets, N.POPULATION)
    assert part.tolist() == pytest.approx([1000 * 1000 / 1400], rel=1e-6)
    # a source zone outside all streets and targets is split by area
    target3 = _zones({"L": (1000, 0, 1250, 1000), "R": (1250, 0, 2000, 1000)}, {})
    by_area = interpolate_population(source.iloc[[1]], target3, streets, N.POPULATION)
    assert by_area.tolist() == pytest.approx([125.0, 375.0], rel=1e-6)


def test_interpolation_errors() -> None:
    streets = _streets([[(0, 500), (1000, 500)]])
    source = _zones({"A": (0, 0, 1000, 1000)}, {"A": 10})
    target = _zones({"T": (0, 0, 1000, 1000)}, {})
    with pytest.raises(InputError, match="no column 'inhabitants'"):
        interpolate_population(source, target, streets, "inhabitants")
    bad = source.assign(**{N.POPULATION: [-3]})
    with pytest.raises(InputError, match="not a number >= 0"):
        interpolate_population(bad, target, streets, N.POPULATION)


def _conserves(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, streets, column: str) -> None:
    """Each source zone alone lands entirely on the targets, and so does the total."""
    total = interpolate_population(source, target, streets, column)
    assert (total >= 0).all()
    assert total.sum() == pytest.approx(source[column].sum(), rel=1e-7)
    for i in range(len(source)):
        one = interpolate_population(source.iloc[[i]], target, streets, column)
        assert one.sum() == pytest.approx(source[column].iloc[i], rel=1e-7, abs=1e-9)


def test_sample_city_conservation(sample_city: fm.sample.SampleCity) -> None:
    zones = fm.zones_from_file(sample_city.zones, population_column="population")
    streets = fm.read_streets(sample_city.network)
    for res in (8, 9):
        hexes = hex_zones(zones.union_all(), res)
        _conserves(zones, hexes, streets, N.POPULATION)
    pop = interpolate_population(zones, hexes, streets, N.POPULATION)
    # residents follow streets: hexagons without a street get none (unless area fallback)
    lengths = fm.hexagons._street_length(
        hexes.to_crs(streets.crs).geometry.to_numpy(), streets.edge_geometry
    )
    assert (pop[lengths == 0] == 0).all()
    assert round(pop.sum()) == 60_000


def test_rome_zone_urbanistiche_conservation(rome_file) -> None:
    streets = fm.read_streets(rome_file("network/rome_esquilino_2016.osm"))
    zu = fm.zones_from_file(
        rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson"),
        population_column="pop2018",
    )
    hull = fm.study_area.StudyArea.from_streets(streets)
    near = zu[zu.intersects(hull.polygon)].reset_index(drop=True)
    assert 3 <= len(near) <= 12
    assert {"1A", "1E"} <= set(near[N.ZONE_ID])  # Centro Storico, Esquilino
    hexes = hex_zones(near.union_all(), 9)
    _conserves(near, hexes, streets, N.POPULATION)
    _conserves(near, hexes, streets, "pop2018_65p")
    # hexagons over the network only: zones with streets still land entirely on them
    local = hex_zones(hull.polygon, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = interpolate_population(near, local, streets, N.POPULATION)
    has_streets = fm.hexagons._street_length(
        near.to_crs(streets.crs).geometry.to_numpy(), streets.edge_geometry
    )
    assert pop.sum() >= near.loc[has_streets > 0, N.POPULATION].sum() * (1 - 1e-9)


# --- the pipeline with hexagons and population columns -----------------------------------


def test_analyze_hex_zones_with_population(sample_city: fm.sample.SampleCity) -> None:
    result = fm.analyze(
        sample_city.network,
        sample_city.spaces,
        "hex:9",
        population=sample_city.zones,
        population_column="population",
    )
    zones = result.zones
    assert all(h3.get_resolution(c) == 9 for c in zones[N.ZONE_ID])
    assert zones[N.POPULATION].sum() == pytest.approx(60_000, rel=1e-9)
    left_out = result.summary["data_quality"]["left_out"]["residents"]
    assert result.summary["residents_total"] + left_out == pytest.approx(60_000, rel=1e-9)
    assert result.summary["parameters"]["hex_resolution"] == 9
    assert result.inputs["population"]["path"] == str(sample_city.zones)
    # hexagons cover the study area (the network's data extent), without overlaps
    extent = fm.study_area.StudyArea.from_streets(result.walk.streets)
    assert zones.to_crs(4326).union_all().area == pytest.approx(extent.polygon.area, rel=1e-9)
    with pytest.raises(InputError, match="--population FILE"):
        fm.analyze(sample_city.network, sample_city.spaces, "hex", population_column="x")


def test_any_numeric_column_weights_results(
    sample_city: fm.sample.SampleCity, sample_analysis: fm.Analysis, tmp_path: Path
) -> None:
    zones = gpd.read_file(sample_city.zones)
    zones["pop_65p"] = zones["population"] * 0.25
    path = tmp_path / "zones65.geojson"
    zones.to_file(path)
    old = fm.analyze(sample_city.network, sample_city.spaces, path, population_column="pop_65p")
    base = sample_analysis.zones.set_index(N.ZONE_ID)
    got = old.zones.set_index(N.ZONE_ID).loc[base.index]
    for m in (5, 10, 15):
        np.testing.assert_allclose(got[N.residents(m)], 0.25 * base[N.residents(m)], rtol=1e-12)
        np.testing.assert_allclose(got[N.share("pop", m)], base[N.share("pop", m)], rtol=1e-12)
    assert old.summary["residents_total"] == pytest.approx(15_000)
    assert old.summary["parameters"]["population_column"] == "pop_65p"


def test_pop2018_65p_end_to_end_rome(rome_file, tmp_path: Path) -> None:
    network = rome_file("network/rome_esquilino_2016.osm")
    zu = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(network)
    # two spaces on street nodes of the extract
    lon, lat = streets.node_lonlat[[0, streets.n_nodes // 2]].T
    spaces = gpd.GeoDataFrame(
        {"space_id": ["A", "B"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    bbox = (12.487, 41.887, 12.503, 41.897)  # inside the extract
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zones are cut by the bbox: warned
        result = fm.analyze(streets, spaces, zu, population_column="pop2018_65p", bbox=bbox)
    zones = result.zones
    source = gpd.read_file(zu).set_index("zu_cod")
    assert set(zones[N.ZONE_ID]) <= set(source.index)
    assert 2 <= len(zones) <= 8
    # residents are the 65+ of each zone, scaled by its share of area inside the bbox
    box = shapely.segmentize(shapely.box(*bbox), 1e-4)
    for _, z in zones.iterrows():
        whole = source.loc[z[N.ZONE_ID]]
        share = _utm_area([whole.geometry.intersection(box)])[0] / _utm_area([whole.geometry])[0]
        assert z[N.POPULATION] == pytest.approx(whole["pop2018_65p"] * share, rel=1e-5)
        m15 = z[N.residents(15)]
        assert 0 <= m15 <= z[N.POPULATION] + 1e-9
    assert result.summary["residents_total"] == pytest.approx(zones[N.POPULATION].sum())
    result.write(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["population_column"] == "pop2018_65p"


def test_zones_without_residents_are_reported(sample_city: fm.sample.SampleCity) -> None:
    zones = fm.zones_from_file(sample_city.zones, population_column="population")
    empty = zones[N.ZONE_ID].iloc[[0, 5]].tolist()
    zones.loc[zones[N.ZONE_ID].isin(empty), N.POPULATION] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no division by zero anywhere
        result = fm.analyze(sample_city.network, sample_city.spaces, zones)
    assert result.summary["zones_without_residents"] == empty
    got = result.zones.set_index(N.ZONE_ID)
    for m in (5, 10, 15):
        assert (got.loc[empty, N.residents(m)] == 0).all()
        assert got.loc[empty, N.share("pop", m)].isna().all()
        assert np.isfinite(got.drop(index=empty)[N.share("pop", m)]).all()
    assert not got.loc[empty, N.UNDERSERVED].any()  # nobody to serve
    assert pd.Series(result.summary["zones_without_residents"]).is_unique
    # every zone empty: the wrong column, most likely; one line, not a report of nobody
    nobody = zones.assign(**{N.POPULATION: 0.0})
    with pytest.raises(InputError, match="is 0 in every zone"):
        fm.analyze(sample_city.network, sample_city.spaces, nobody)
