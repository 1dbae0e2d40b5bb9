"""Loading spaces: CSV, GeoJSON, GeoPackage and OSM tags, into the documented schema."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import fifteenmin as fm
from fifteenmin.errors import InputError
from fifteenmin.spaces import SPACE_COLUMNS


def test_csv_schema(sample_city):
    spaces = fm.spaces_from_file(sample_city.spaces)
    assert list(spaces.columns[: len(SPACE_COLUMNS)]) == list(SPACE_COLUMNS)
    assert spaces.crs.to_epsg() == 4326 and len(spaces) == 14
    assert spaces["source"].eq("spaces.csv").all()
    assert str(spaces["seats"].dtype) == "Int64"


def test_csv_with_other_column_names(tmp_path):
    csv = tmp_path / "albo.csv"
    csv.write_text("nome;postazioni;Y_WGS;X_WGS\nWire;120;41.92;12.47\n", encoding="utf-8")
    spaces = fm.spaces_from_file(csv, lat_column="Y_WGS", lon_column="X_WGS")
    assert spaces.loc[0, "name"] == "Wire" and spaces.loc[0, "seats"] == 120
    assert spaces.geometry.iloc[0].equals(shapely.Point(12.47, 41.92))
    assert spaces.loc[0, "space_id"] == "S001"


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_vector_files(sample_city, tmp_path, suffix):
    spaces = fm.spaces_from_file(sample_city.spaces)
    path = tmp_path / f"spaces{suffix}"
    spaces.to_crs(32631).to_file(path)
    back = fm.spaces_from_file(path)
    assert list(back["space_id"]) == list(spaces["space_id"])
    assert back.crs.to_epsg() == 4326
    assert shapely.equals_exact(back.geometry.to_numpy(), spaces.geometry.to_numpy(), 1e-7).all()


def test_features_without_location_are_left_out_with_a_warning(sample_city, tmp_path):
    spaces = fm.spaces_from_file(sample_city.spaces)
    spaces.loc[2, "geometry"] = None
    spaces.to_file(tmp_path / "s.gpkg")
    with pytest.warns(UserWarning, match=r"1 space\(s\) without a location left out"):
        back = fm.spaces_from_file(tmp_path / "s.gpkg")
    assert len(back) == 13


def test_duplicate_ids_are_an_error(sample_city, tmp_path):
    df = pd.read_csv(sample_city.spaces)
    df.loc[1, "space_id"] = df.loc[0, "space_id"]
    df.to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(InputError, match="appears more than once"):
        fm.spaces_from_file(tmp_path / "s.csv")


def test_spaces_from_osm_tags(sample_city):
    spaces = fm.spaces_from_osm(sample_city.network)
    assert len(spaces) == 3 and spaces["source"].eq("osm").all()
    assert set(spaces["space_id"].str[0]) == {"n", "w"}  # nodes and a way (at its centroid)


def test_any_service_by_tags(sample_city):
    with pytest.raises(InputError, match="no OSM node or way tagged amenity=hospital"):
        fm.spaces_from_osm(sample_city.network, tags={"amenity": "hospital"})
    parks = fm.spaces_from_osm(sample_city.network, tags={"leisure": "park"}, kind="park")
    assert len(parks) == 1 and parks["kind"].eq("park").all()


def test_spaces_file_from_another_crs_lands_in_place(sample_city, tmp_path):
    spaces = fm.spaces_from_file(sample_city.spaces)
    gpd.GeoDataFrame(spaces, crs=4326).to_crs(3857).to_file(tmp_path / "web.geojson")
    back = fm.spaces_from_file(tmp_path / "web.geojson")
    assert shapely.equals_exact(back.geometry.to_numpy(), spaces.geometry.to_numpy(), 1e-6).all()
