"""Honest figures on real data: zones outside the street data, partial extracts, source columns
that clash, and population carried onto hexagons without inflating it (issue 9)."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_rome import placed_spaces
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin.cli import main
from fifteenmin.errors import InputError

ESQUILINO = "network/rome_esquilino_2016.osm"
ZU_POP = "boundaries/roma_zone_urbanistiche_155_pop.geojson"
ESQUILINO_BBOX = (12.4833, 41.8850, 12.5063, 41.8991)


@pytest.fixture(scope="module")
def esquilino(rome_file):
    streets = fm.read_streets(rome_file(ESQUILINO))
    return streets, placed_spaces(streets, 4, seed=3)


def _quiet_analyze(*args, **kwargs) -> fm.Analysis:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fm.analyze(*args, **kwargs)


def test_municipio_boundary_zones_without_data_are_not_underserved(rome_file, esquilino):
    streets, spaces = esquilino
    municipi = gpd.read_file(rome_file("boundaries/roma_municipi_15.geojson"))
    m1 = municipi[municipi["NUMERO_ROM"] == "I"]
    result = _quiet_analyze(
        streets, spaces, rome_file(ZU_POP), population_column="pop2018", boundary=m1
    )
    zones = result.zones.set_index(N.ZONE_ID)
    no_data = zones[zones[N.STATUS] == N.NO_DATA]
    # Della Vittoria, Eroi, Prati, Trastevere, XX Settembre, Aventino, Testaccio
    assert set(no_data.index) == {"17A", "17B", "17C", "1B", "1C", "1D", "1F"}
    assert not no_data[N.UNDERSERVED].any()
    assert no_data[N.share("pop", 15)].isna().all()
    # the headline counts only the zones with data, and says what was left out
    counted = zones[zones[N.STATUS].isin(N.COUNTED)]
    assert result.summary["residents_total"] == pytest.approx(counted[N.POPULATION].sum())
    quality = result.summary["data_quality"]
    assert quality["zones_by_status"][N.NO_DATA]["zones"] == 7
    assert quality["left_out"]["residents"] == pytest.approx(
        zones.loc[~zones[N.STATUS].isin(N.COUNTED), N.POPULATION].sum()
    )
    # no_data zones keep all their residents (inside the boundary) as the left-out count
    source = gpd.read_file(rome_file(ZU_POP)).set_index("zu_cod")
    assert no_data.loc["17A", N.POPULATION] == pytest.approx(source.loc["17A", "pop2018"], 0.02)
    assert any("have no street data" in w for w in quality["warnings"])
    # Centro Storico holds 185 m of street data over a sliver: far below the typical density
    assert zones.loc["1A", N.STATUS] == N.SPARSE_STREETS
    assert not zones.loc["1A", N.UNDERSERVED]


def test_whole_city_zones_on_a_small_extract(rome_file, esquilino):
    streets, spaces = esquilino
    result = _quiet_analyze(streets, spaces, rome_file(ZU_POP), population_column="pop2018")
    zones = result.zones
    # the study area becomes the data extent: the extract's bounds, not the city
    extent = result.data_extent
    assert extent is not None and 2.5 < extent.area_km2 < 3.5
    assert result.summary["data_quality"]["study_area"]["area_km2"] == pytest.approx(
        extent.area_km2
    )
    assert (zones[N.STATUS] == N.NO_DATA).sum() >= 140
    assert zones.loc[zones[N.STATUS] == N.NO_DATA, N.UNDERSERVED].sum() == 0
    assert result.summary["counts"]["underserved_zones"] <= 3
    # what is counted is only what the extract covers, well under the city's 2.8 million
    assert result.summary["residents_total"] < 60_000
    assert any("have no street data" in w for w in result.summary["data_quality"]["warnings"])


def test_hexagons_and_zone_file_agree_on_residents(rome_file, esquilino):
    streets, spaces = esquilino
    by_zone = _quiet_analyze(
        streets, spaces, rome_file(ZU_POP), population_column="pop2018", bbox=ESQUILINO_BBOX
    )
    by_hex = _quiet_analyze(
        streets,
        spaces,
        "hex:9",
        population=rome_file(ZU_POP),
        population_column="pop2018",
        bbox=ESQUILINO_BBOX,
    )

    def residents(result: fm.Analysis) -> float:
        zones = result.zones
        return float(zones.loc[zones[N.STATUS] != N.NO_DATA, N.POPULATION].sum())

    # before: 64,159 on hexagons against 22,770 in the zone file (2.8x)
    assert residents(by_hex) == pytest.approx(residents(by_zone), rel=0.01)


def test_roma_capitale_shapefile_keeps_its_columns(rome_file, esquilino, tmp_path):
    streets, spaces = esquilino
    shp = rome_file("boundaries/roma_zone_urbanistiche_155.shp")
    result = _quiet_analyze(streets, spaces, shp, bbox=ESQUILINO_BBOX)
    zones = result.zones
    assert "src_Name" in zones.columns and "Name" not in zones.columns
    assert (zones["src_Name"] == zones[N.ZONE_NAME]).all()
    assert "AREA_ZU" in zones.columns  # kept as it was
    result.write(tmp_path / "out")  # GeoPackage field names are case-insensitive
    written = gpd.read_file(tmp_path / "out" / "zones.gpkg", layer="zones")
    assert {"src_Name", N.ZONE_NAME, N.STATUS} <= set(written.columns)
    info = result.summary["inputs"]["zones"]
    assert len(info["sha256"]) == 64 and set(info["sidecars"]) >= {
        "roma_zone_urbanistiche_155.dbf",
        "roma_zone_urbanistiche_155.prj",
    }


def test_source_area_column_is_not_overwritten(rome_file, esquilino):
    streets, spaces = esquilino
    result = _quiet_analyze(
        streets, spaces, rome_file(ZU_POP), population_column="pop2018", bbox=ESQUILINO_BBOX
    )
    zones = result.zones.set_index(N.ZONE_ID)
    source = gpd.read_file(rome_file(ZU_POP)).set_index("zu_cod")
    # the source's area_km2 and pop2018 stay the source's; computed columns are named apart
    assert zones["area_km2"].to_dict() == source.loc[zones.index, "area_km2"].to_dict()
    assert zones["pop2018"].to_dict() == source.loc[zones.index, "pop2018"].to_dict()
    partial = zones[zones[N.STATUS] == N.PARTIAL_DATA]
    assert len(partial) and (partial[N.AREA_KM2] < partial["area_km2"]).all()
    assert (partial[N.POPULATION] < partial["pop2018"]).all()


def test_zones_of_another_city_exit_2_and_write_nothing(rome_file, tmp_path, capsys):
    spaces = tmp_path / "spaces.csv"
    spaces.write_text("space_id,name,lat,lon\na,A,41.8955,12.4955\n", encoding="utf-8")
    milan = gpd.GeoDataFrame(
        {"zone_id": ["m1"], "population": [1000]},
        geometry=[shapely.box(9.15, 45.45, 9.22, 45.50)],
        crs=4326,
    )
    milan.to_file(tmp_path / "milan.geojson")
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            "--network",
            str(rome_file(ESQUILINO)),
            "--spaces",
            str(spaces),
            "--zones",
            str(tmp_path / "milan.geojson"),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()
    assert len(err) == 1 and "no zone overlaps the street data" in err[0]
    assert "9.1500" in err[0] and "12.4833" in err[0] and "swapped" in err[0]


def test_swapped_lat_lon_zones_are_refused(rome_file, esquilino):
    streets, spaces = esquilino
    zu = fm.zones_from_file(rome_file(ZU_POP), population_column="pop2018")
    swapped = zu.set_geometry(
        shapely.transform(zu.geometry.to_numpy(), lambda c: c[:, ::-1]), crs=4326
    )
    with pytest.raises(InputError, match="longitude and latitude are not swapped"):
        _quiet_analyze(streets, spaces, swapped)


# --- hand-made cases ----------------------------------------------------------------------


def _grid_streets(tmp_path, size_m: float = 1000, step_m: float = 100):
    """A street grid over [0, size] x [0, size] local metres, written with its bounds."""
    nodes, ways, nid = {}, [], 1
    ticks = np.arange(0, size_m + 1, step_m)
    ids = {}
    for x in ticks:
        for y in ticks:
            ids[x, y] = nid
            nodes[nid] = (x, y)
            nid += 1
    wid = 1
    for x in ticks:
        ways.append((wid, [ids[x, y] for y in ticks], STREET))
        wid += 1
    for y in ticks:
        ways.append((wid, [ids[x, y] for x in ticks], STREET))
        wid += 1
    path = write_osm(tmp_path / "grid.osm", nodes, ways)
    w, s = lonlat(0, 0)
    e, n = lonlat(size_m, size_m)
    text = path.read_text(encoding="utf-8").replace(
        '<osm version="0.6" generator="test">',
        f'<osm version="0.6" generator="test">\n  <bounds minlat="{s:.9f}" minlon="{w:.9f}" '
        f'maxlat="{n:.9f}" maxlon="{e:.9f}"/>',
    )
    path.write_text(text, encoding="utf-8")
    return path


def _box_zone(zone_id: str, x0, y0, x1, y1, population: float) -> dict:
    return {
        "zone_id": zone_id,
        "population": population,
        "geometry": shapely.box(*lonlat(x0, y0), *lonlat(x1, y1)),
    }


def test_zone_half_outside_the_data_is_partial(tmp_path):
    network = _grid_streets(tmp_path)
    zones = gpd.GeoDataFrame(
        [
            _box_zone("inside", 100, 100, 500, 900, 4000),
            _box_zone("half", 500, 100, 1500, 900, 2000),  # east half beyond the bounds
            _box_zone("outside", 3000, 100, 3800, 900, 3000),
        ],
        crs=4326,
    )
    result = _quiet_analyze(
        network, spaces_at((300, 500)), zones, population_column="population", minutes=[15]
    )
    z = result.zones.set_index(N.ZONE_ID)
    assert list(z[N.STATUS]) == [N.OK, N.PARTIAL_DATA, N.NO_DATA]
    assert z.loc["half", N.DATA_SHARE] == pytest.approx(0.5, abs=1e-3)
    assert z.loc["half", N.POPULATION] == pytest.approx(1000, rel=1e-3)  # scaled to its half
    assert z.loc["outside", N.POPULATION] == 3000  # left out whole
    assert np.isnan(z.loc["outside", N.share("pop", 15)])
    summary = json.loads(json.dumps(result.summary, default=str))
    assert summary["residents_total"] == pytest.approx(5000, rel=1e-3)
    assert summary["data_quality"]["left_out"] == {"zones": 1, "residents": 3000.0}
    assert summary["data_quality"]["largest_snaps"][0]["name"] is None  # no name, not "None"


def test_study_area_that_misses_the_data_is_one_line(tmp_path):
    network = fm.read_streets(_grid_streets(tmp_path))
    zones = gpd.GeoDataFrame([_box_zone("z", 100, 100, 500, 900, 10)], crs=4326)
    far = (*lonlat(5000, 5000), *lonlat(6000, 6000))
    with pytest.raises(InputError, match="do not overlap"):
        _quiet_analyze(network, spaces_at((300, 500)), zones, bbox=far)


def test_geodataframe_inputs_fail_early(tmp_path):
    network = _grid_streets(tmp_path)
    zones = gpd.GeoDataFrame([_box_zone("z", 100, 100, 500, 900, 10)], crs=4326)
    with pytest.raises(InputError, match="no column 'pop2018'"):
        fm.analyze(network, spaces_at((300, 500)), zones, population_column="pop2018")
    with pytest.raises(InputError, match="no CRS"):
        fm.analyze(network, spaces_at((300, 500)), zones.set_crs(None, allow_override=True))
    no_ids = zones.drop(columns=["zone_id"])
    result = _quiet_analyze(network, spaces_at((300, 500)), no_ids, minutes=[15])
    assert list(result.zones[N.ZONE_ID]) == ["1"]


def test_zone_coordinates_out_of_any_range_are_refused(tmp_path):
    zones = gpd.GeoDataFrame(
        {"zone_id": ["x"]}, geometry=[shapely.box(0, 0, 1e300, 1e300)], crs=4326
    )
    with pytest.raises(InputError, match="no map projection holds"):
        fm.zones.zones_from_frame(zones)


def test_zones_without_any_geometry_are_said_to_have_no_polygons():
    zones = gpd.GeoDataFrame({"zone_id": ["a", "b"]}, geometry=[None, shapely.Point()], crs=4326)
    with pytest.raises(InputError, match="the layer has no polygons"):  # not "reach nan"
        fm.zones.zones_from_frame(zones)


def test_graph_that_was_not_walk_filtered_is_filtered():
    import networkx as nx

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (x, y) in {1: (12.50, 41.90), 2: (12.501, 41.90), 3: (12.502, 41.90)}.items():
        graph.add_node(node, x=x, y=y)
    for u, v, highway in ((1, 2, "residential"), (2, 3, "motorway"), (2, 1, "residential")):
        graph.add_edge(u, v, highway=highway, length=83.0, osmid=u * 10 + v)
    streets = fm.network.streets_from_graph(graph)
    assert streets.n_edges == 1 and set(streets.edge_attrs["highway"]) == {"residential"}


def test_osm_tagged_space_far_from_the_streets_is_skipped_and_listed(tmp_path):
    nodes = {1: (0, 0), 2: (1000, 0), 3: (200, 10), 4: (500, 900)}
    tagged = {3: {"amenity": "coworking_space"}, 4: {"amenity": "coworking_space"}}
    network = write_osm(tmp_path / "n.osm", nodes, [(1, [1, 2], STREET)], tagged_nodes=tagged)
    zones = gpd.GeoDataFrame([_box_zone("z", -50, -50, 1050, 50, 100)], crs=4326)
    result = _quiet_analyze(network, "osm", zones, population_column="population", minutes=[15])
    assert len(result.spaces) == 1
    skipped = result.summary["data_quality"]["skipped"]
    assert len(skipped) == 1 and skipped[0]["id"] == "n4" and skipped[0]["reason"]
    assert any("4" in w for w in result.summary["data_quality"]["warnings"])


def test_kept_warnings_shows_a_repeated_warning_once():
    from fifteenmin.pipeline import _kept_warnings

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")
        with _kept_warnings() as said:
            for _ in range(3):  # one place, as a warning inside a loop
                warnings.warn("the same thing", UserWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == ["the same thing"]
    assert said == ["the same thing"]


def test_zones_without_data_keep_the_residents_of_a_population_layer(rome_file, esquilino):
    """Municipi as zones, residents from the zone urbanistiche: a municipio outside the
    extract is left out with the residents the layer places in it, not with none."""
    streets, spaces = esquilino
    municipi = gpd.read_file(rome_file("boundaries/roma_municipi_15.geojson"))
    municipi = municipi[["NUMERO_ROM", "geometry"]].rename(columns={"NUMERO_ROM": "zone_id"})
    result = _quiet_analyze(
        streets,
        spaces,
        municipi,
        population=rome_file(ZU_POP),
        population_column="pop2018",
    )
    zones = result.zones.set_index(N.ZONE_ID)
    zu = gpd.read_file(rome_file(ZU_POP))
    # municipio XV (the north-west): no street data, and its zone urbanistiche's residents
    assert zones.loc["XV", N.STATUS] == N.NO_DATA
    assert zones.loc["XV", N.POPULATION] == pytest.approx(
        zu.loc[zu["municipio"] == 15, "pop2018"].sum(), rel=0.05
    )
    left = result.summary["data_quality"]["left_out"]["residents"]
    assert left > 2_000_000  # most of Rome's 2.83 million live outside the extract
