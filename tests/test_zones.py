"""Zone coverage: invariants, exact shares on hand-made zones, and zone-layer loading."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin.errors import InputError


def test_residents_are_conserved_and_shares_bounded(sample_analysis, sample_city):
    zones = sample_analysis.zones
    raw = gpd.read_file(sample_city.zones)
    assert zones["residents"].sum() == pytest.approx(raw["population"].sum())
    for m in (5, 10, 15):
        for kind in ("pop", "area", "streets"):
            assert zones[f"share_{kind}_{m}min"].between(0, 1).all()
    assert (zones["share_pop_5min"] <= zones["share_pop_10min"] + 1e-12).all()
    assert (zones["share_pop_10min"] <= zones["share_pop_15min"] + 1e-12).all()
    assert zones["walk_time_median_s"].le(zones["walk_time_p90_s"]).all()


def test_underserved_rule(sample_analysis):
    zones = sample_analysis.zones
    assert zones["underserved"].equals(zones["share_pop_15min"] < 0.5)
    assert zones["underserved"].any() and not zones["underserved"].all()


def test_zone_with_a_space_at_its_centre_is_covered(sample_city):
    zones = fm.zones_from_file(sample_city.zones, population_column="population")
    centre = zones.to_crs(32631).representative_point().to_crs(4326).iloc[[0]]
    spaces = gpd.GeoDataFrame({"space_id": ["c"]}, geometry=centre.to_numpy(), crs=4326)
    result = fm.analyze(sample_city.network, spaces, zones)
    z = result.zones.iloc[0]
    assert z["share_pop_15min"] > 0.5 and not z["underserved"]


def test_more_spaces_never_lower_coverage(sample_city):
    spaces = fm.spaces_from_file(sample_city.spaces)
    fewer = fm.analyze(
        sample_city.network, spaces.iloc[::2], sample_city.zones, population_column="population"
    )
    more = fm.analyze(
        sample_city.network, spaces, sample_city.zones, population_column="population"
    )
    for m in (5, 10, 15):
        for kind in ("pop", "area"):
            col = f"share_{kind}_{m}min"
            assert (more.zones[col] >= fewer.zones[col] - 1e-9).all(), col


def test_exact_street_shares(tmp_path):
    """A 1,000 m street through two zones split at x=300; a space at x=0.

    Within 5 min (400 m): the first zone's 300 m are covered, the second has 100 of 700 m.
    """
    nodes = {1: (0, 0), 2: (1000, 0)}
    streets = fm.read_streets(write_osm(tmp_path / "s.osm", nodes, [(1, [1, 2], STREET)]))
    boxes = [((-50, -50), (300, 50)), ((300, -50), (1050, 50))]
    polys = [shapely.box(*lonlat(*a), *lonlat(*b)) for a, b in boxes]
    zones = gpd.GeoDataFrame(
        {"zone_id": ["a", "b"], "population": [300.0, 700.0]}, geometry=polys, crs=4326
    )
    result = fm.analyze(
        streets, spaces_at((0, 0)), zones, population_column="population", minutes=[5, 15]
    )
    z = result.zones.set_index("zone_id")
    assert z.loc["a", "share_pop_5min"] == pytest.approx(1.0, abs=1e-4)
    assert z.loc["b", "share_pop_5min"] == pytest.approx(100 / 700, abs=1e-4)
    assert z.loc["b", "pop_5min"] == pytest.approx(100, abs=0.1)
    # median walk in b: half of its 700 m lies within 300 + 350 = 650 m
    assert z.loc["b", "walk_time_median_s"] == pytest.approx(650 / (4.8 / 3.6), abs=0.5)
    assert z.loc["a", "nearest_walk_time_s"] == pytest.approx(0, abs=0.05)
    assert z.loc["b", "nearest_walk_time_s"] == pytest.approx(300 / (4.8 / 3.6), abs=0.05)
    assert result.summary["within"]["5"]["residents"] == pytest.approx(400, abs=0.2)


def test_zone_without_residents_is_reported(sample_city, tmp_path):
    raw = gpd.read_file(sample_city.zones)
    raw.loc[0, "population"] = 0
    raw.to_file(tmp_path / "z.geojson")
    result = fm.analyze(
        sample_city.network,
        sample_city.spaces,
        tmp_path / "z.geojson",
        population_column="population",
    )
    first = result.zones.iloc[0]
    assert np.isnan(first["share_pop_15min"]) and first["pop_15min"] == 0
    assert not first["underserved"]
    assert result.summary["zones_without_residents"] == [first["zone_id"]]


def test_area_shares_without_population(sample_city):
    result = fm.analyze(sample_city.network, sample_city.spaces, sample_city.zones)
    assert "share_pop_15min" not in result.zones.columns
    assert result.zones["underserved"].equals(result.zones["share_area_15min"] < 0.5)


def test_non_numeric_population_is_an_error(sample_city, tmp_path):
    raw = gpd.read_file(sample_city.zones)
    raw["population"] = raw["population"].astype(str)
    raw.loc[3, "population"] = "n.d."
    raw.to_file(tmp_path / "z.geojson")
    with pytest.raises(InputError, match=r"feature 4: population column 'population' holds 'n.d.'"):
        fm.zones_from_file(tmp_path / "z.geojson", population_column="population")


def test_layer_without_polygons_is_an_error(sample_city, tmp_path):
    fm.spaces_from_file(sample_city.spaces).to_file(tmp_path / "points.geojson")
    with pytest.raises(InputError, match="has no polygons"):
        fm.zones_from_file(tmp_path / "points.geojson")


def test_a_feature_with_nan_coordinates_is_one_line(tmp_path):
    """Found by the fuzz suite: a point (0, NaN) beside a collapsed polygon crashed GEOS."""
    path = tmp_path / "z.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]]}}, "
        '{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": '
        "[0.0, NaN]}}]}",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="not numbers"):
        fm.zones_from_file(path)
