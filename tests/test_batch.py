"""Many areas at once (fifteenmin.batching): equal to one-by-one, resumable, robust to failures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely

import fifteenmin as fm
from fifteenmin import _cluster
from fifteenmin import _names as N
from fifteenmin._cut import cut_region
from fifteenmin.batching import read_zones
from fifteenmin.cli import main
from fifteenmin.errors import InputError

GROUPS = {"A": "N01 N02 N05 N06", "B": "N03 N04 N07 N08", "C": "N09 N10", "D": "N11 N12"}
STAMP = "2024-05-01T00:00:00Z"


@pytest.fixture(scope="module")
def client():
    """A local cluster of two single-threaded workers, shared by the tests of this file."""
    plan = _cluster.Plan((4 * 2**30, 4 * 2**30), "test")
    with _cluster.local_client(plan) as c:
        yield c


@pytest.fixture(scope="module")
def region(sample_city, tmp_path_factory) -> dict[str, Path]:
    """The sample city as a regional .osm.pbf (with a header box and timestamp), and its
    neighbourhoods grouped into four areas."""
    folder = tmp_path_factory.mktemp("region")
    pbf = folder / "city.osm.pbf"
    header = osmium.io.Header()
    box = fm._osm.file_header(sample_city.network).bounds
    header.add_box(osmium.osm.Box(osmium.osm.Location(*box[:2]), osmium.osm.Location(*box[2:])))
    header.set("osmosis_replication_timestamp", STAMP)
    header.set("generator", fm._osm.file_header(sample_city.network).generator)  # synthetic
    writer = osmium.SimpleWriter(str(pbf), header=header)
    for obj in osmium.FileProcessor(str(sample_city.network)):
        writer.add(obj)
    writer.close()
    hoods = gpd.read_file(sample_city.zones)
    group = {z: a for a, zs in GROUPS.items() for z in zs.split()}
    hoods["code"] = hoods["zone_id"].map(group)
    areas = hoods.dissolve("code").reset_index()[["code", "geometry"]]
    areas["nome"] = "Area " + areas["code"]
    path = folder / "areas.geojson"
    areas.to_file(path)
    return {"network": pbf, "areas": path}


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _figures(zones: pd.DataFrame) -> pd.DataFrame:
    return zones.drop(columns=[c for c in ("geometry", "area_id") if c in zones]).reset_index(
        drop=True
    )


def test_cut_reads_as_the_region(region):
    """An area's cut file gives the streets that reading the region with its polygon gives."""
    areas = gpd.read_file(region["areas"])
    polygons = {
        r.code: fm.StudyArea(r.geometry).with_margin(600).polygon for r in areas.itertuples()
    }
    cut = cut_region(region["network"], {k: p.bounds for k, p in polygons.items()}, region[
        "network"].parent / "cut")  # fmt: skip
    assert cut.seconds_read >= 0 and cut.ways > 0
    for code, polygon in polygons.items():
        whole = fm.read_streets(region["network"], polygon=polygon)
        part = fm.read_streets(cut.areas[code].path, polygon=polygon)
        assert part.n_edges == whole.n_edges and part.n_nodes == whole.n_nodes
        np.testing.assert_array_equal(part.node_osmid, whole.node_osmid)
        np.testing.assert_allclose(part.edge_length_m, whole.edge_length_m, rtol=1e-12)
        assert part.file_bounds == whole.file_bounds
        assert part.osm_timestamp == whole.osm_timestamp == STAMP
        assert part.osm_generator == whole.osm_generator
        assert cut.areas[code].ways < cut.ways  # the area's file is smaller than the region


@pytest.fixture(scope="module")
def done(region, sample_city, client, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "out"
    result = _quiet(
        fm.batch,
        region["areas"],
        region["network"],
        sample_city.spaces,
        sample_city.zones,
        out,
        population_column="population",
        scheduler=client,
        area_reports=False,
    )
    return result


def test_batch_equals_one_by_one(done, region, sample_city):
    areas = gpd.read_file(region["areas"])
    zones = read_zones(done.out)
    assert zones["area_id"].dtype == object or str(zones["area_id"].dtype).startswith("str")
    table = done.areas.set_index("area_id")
    assert list(table.index) == ["A", "B", "C", "D"]
    assert (table["status"] == "ok").all()
    assert list(table["name"]) == ["Area A", "Area B", "Area C", "Area D"]
    for i, code in enumerate(areas["code"]):
        one = _quiet(
            fm.analyze,
            region["network"],
            sample_city.spaces,
            sample_city.zones,
            population_column="population",
            boundary=areas.iloc[[i]],
        )
        mine = zones[zones["area_id"] == code].sort_values(N.ZONE_ID)
        ref = one.zones.to_crs(4326).sort_values(N.ZONE_ID)
        pd.testing.assert_frame_equal(_figures(mine), _figures(ref), check_dtype=False)
        assert (
            mine.geometry.reset_index(drop=True)
            .geom_equals_exact(ref.geometry.reset_index(drop=True), 1e-9)
            .all()
        )
        row = table.loc[code]
        assert row["residents"] == pytest.approx(one.summary["residents_total"])
        for m in (5, 10, 15):
            assert row[N.share("pop", m)] == pytest.approx(one.summary["within"][str(m)]["share"])
        assert row["underserved_zones"] == one.summary["counts"]["underserved_zones"]


def test_batch_folder(done):
    out = done.out
    names = {p.name for p in out.iterdir()}
    assert {"areas.csv", "areas.gpkg", "report.html", "manifest.json", "zones", ".fifteenmin"} <= (
        names
    )
    assert not any(n.startswith(".fm-") or n == ".cut" for n in names)
    assert json.loads((out / ".fifteenmin").read_text())["command"] == "batch"
    csv = pd.read_csv(out / "areas.csv", dtype={"area_id": str})
    assert list(csv["area_id"]) == ["A", "B", "C", "D"] and (csv["seconds"] > 0).all()
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["areas"][0]
    assert entry["status"] == "ok" and len(entry["input_hash"]) == 64
    assert set(entry["inputs"]) >= {"network_sha256", "area", "spaces", "zones"}
    assert manifest["run"]["run_now"] == 4 and manifest["run"]["seconds_cut_read"] > 0
    assert entry["street_segments_cut"] > 0 and entry["peak_rss_mb"] > 0
    html = (out / "report.html").read_text()
    assert "Areas ranked" in html and "Area D" in html and "data:image/png;base64" in html
    # the ranking: lowest share within 15 minutes first
    shares = done.areas.set_index("area_id")[N.share("pop", 15)]
    worst = shares.idxmin()
    assert html.index(f">Area {worst}<") < html.index(f">Area {shares.idxmax()}<")


def test_rerun_skips_unchanged_areas(done, region, sample_city, client, tmp_path):
    again = _quiet(
        fm.batch,
        region["areas"],
        region["network"],
        sample_city.spaces,
        sample_city.zones,
        done.out,
        population_column="population",
        scheduler=client,
        area_reports=False,
        resume=True,
    )
    assert again.manifest["run"]["run_now"] == 0 and again.areas["reused"].all()
    pd.testing.assert_frame_equal(
        again.areas.drop(columns=["reused"]), done.areas.drop(columns=["reused"])
    )
    assert len(read_zones(done.out)) == len(read_zones(done.out))
    # one area redrawn: only it runs again
    areas = gpd.read_file(region["areas"])
    d = areas["code"] == "D"
    areas.loc[d, "geometry"] = shapely.buffer(areas.loc[d].geometry.to_numpy(), -1e-4)
    moved = tmp_path / "areas.geojson"
    areas.to_file(moved)
    third = _quiet(
        fm.batch,
        moved,
        region["network"],
        sample_city.spaces,
        sample_city.zones,
        done.out,
        population_column="population",
        scheduler=client,
        area_reports=False,
        resume=True,
    )
    assert third.areas.set_index("area_id")["reused"].to_dict() == {
        "A": True,
        "B": True,
        "C": True,
        "D": False,
    }
    # without --resume nor --overwrite, the folder is refused, untouched
    with pytest.raises(InputError, match="--resume"):
        fm.batch(moved, region["network"], sample_city.spaces, sample_city.zones, done.out)


def test_failures_are_recorded_and_the_rest_completes(
    region, sample_city, client, tmp_path, monkeypatch
):
    """A task that raises (twice: Dask retries it once), a worker killed mid-task (once: Dask
    runs the task again), a point among the areas and an area off the map: recorded, with
    their reason, and the others complete."""
    areas = gpd.read_file(region["areas"])
    extra = gpd.GeoDataFrame(
        {"code": ["P", "F"], "nome": ["a point", "far away"]},
        geometry=[shapely.Point(3.0, 0.5), shapely.box(3.2, 0.6, 3.25, 0.65)],
        crs=4326,
    )
    path = tmp_path / "areas.geojson"
    pd.concat([areas, extra]).to_file(path)
    far = gpd.GeoDataFrame(geometry=[shapely.box(3.2, 0.6, 3.25, 0.65)], crs=4326)
    far = far.assign(zone_id="far", name="far", population=100)
    zones = pd.concat([gpd.read_file(sample_city.zones), far])
    zones_path = tmp_path / "zones.geojson"
    zones.to_file(zones_path)
    spaces = pd.read_csv(sample_city.spaces)
    spaces.loc[len(spaces)] = ["SF", "far", "", 5, "coworking", 0.62, 3.22]
    spaces_path = tmp_path / "spaces.csv"
    spaces.to_csv(spaces_path, index=False)
    monkeypatch.setenv("FIFTEENMIN_TEST_BATCH_FAULT", "B=raise,C=die-once")
    inputs = (path, region["network"], spaces_path, zones_path, tmp_path / "out")
    options = {"population_column": "population", "scheduler": client, "area_reports": False}
    result = _quiet(fm.batch, *inputs, **options)
    table = result.areas.set_index("area_id")
    assert table["status"].to_dict() == {
        "A": "ok",
        "B": "failed",
        "C": "ok",
        "D": "ok",
        "P": "failed",
        "F": "failed",
    }
    assert table.loc["B", "error"].startswith("RuntimeError: injected failure")
    assert table.loc["P", "error"].startswith("not a polygon (Point)")
    assert "outside the network's extent" in table.loc["F", "error"]
    assert set(read_zones(result.out)["area_id"]) == {"A", "C", "D"}
    html = (result.out / "report.html").read_text()
    assert "Failed or not run" in html and "injected failure" in html
    # a rerun retries the failed areas only
    monkeypatch.delenv("FIFTEENMIN_TEST_BATCH_FAULT")
    again = _quiet(fm.batch, *inputs, **options, resume=True)
    status = again.areas.set_index("area_id")
    assert status["status"].to_dict() == {**table["status"].to_dict(), "B": "ok"}
    assert not status.loc[["B", "P", "F"], "reused"].any()
    assert status.loc[["A", "C", "D"], "reused"].all()


def test_a_task_whose_worker_dies_twice_is_recorded(
    region, sample_city, client, tmp_path, monkeypatch
):
    monkeypatch.setenv("FIFTEENMIN_TEST_BATCH_FAULT", "D=die")
    areas = gpd.read_file(region["areas"])
    result = _quiet(
        fm.batch,
        areas[areas["code"] == "D"],
        region["network"],
        sample_city.spaces,
        sample_city.zones,
        tmp_path / "out",
        population_column="population",
        scheduler=client,
        area_reports=False,
    )
    row = result.areas.iloc[0]
    assert row["status"] == "failed" and "worker died twice" in row["error"]


def test_an_interrupted_batch_keeps_what_is_done(
    region, sample_city, client, tmp_path, monkeypatch
):
    """SIGTERM while areas run: the folder is written with the areas done (the others
    not_run), and --resume completes it."""
    monkeypatch.setenv("FIFTEENMIN_TEST_BATCH_FAULT", "C=term")
    areas = gpd.read_file(region["areas"]).query("code in ['C', 'D']")
    inputs = (areas, region["network"], sample_city.spaces, sample_city.zones, tmp_path / "out")
    options = {"population_column": "population", "scheduler": client, "area_reports": False}
    with pytest.raises(SystemExit) as stopped:
        _quiet(fm.batch, *inputs, **options)
    assert stopped.value.code == 143
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    status = {a["area_id"]: a["status"] for a in manifest["areas"]}
    assert manifest["run"]["interrupted"] and status["C"] == "not_run"
    assert set(status.values()) <= {"ok", "not_run"}
    monkeypatch.delenv("FIFTEENMIN_TEST_BATCH_FAULT")
    done = _quiet(fm.batch, *inputs, **options, resume=True)
    assert (done.areas["status"] == "ok").all()
    kept = done.areas.set_index("area_id")["reused"]
    assert all(kept[k] == (v == "ok") for k, v in status.items())


def test_area_reports_and_no_spaces(region, sample_city, client, tmp_path):
    """Each area's full report folder under areas/<id>/, linked from report.html; an area
    without a space within its margin has nobody within a walk, and needs no task."""
    areas = gpd.read_file(region["areas"])
    spaces = pd.read_csv(sample_city.spaces)
    path = tmp_path / "spaces.csv"
    spaces[spaces["space_id"] == "S12"].to_csv(path, index=False)  # in C, 800 m from B
    result = _quiet(
        fm.batch,
        areas[areas["code"].isin(["B", "C"])],
        region["network"],
        path,
        sample_city.zones,
        tmp_path / "out",
        id_column="code",
        population_column="population",
        scheduler=client,
        margin_m=300,
        lang="it",
        title="Coworking per quartiere",
        service_name="spazi di coworking",
        attributions=["Quartieri: comune di prova"],
        note="Bozza per la commissione",
    )
    table = result.areas.set_index("area_id")
    b, c = table.loc["B"], table.loc["C"]
    assert c["status"] == "ok" and b["status"] == "no_spaces"
    assert b[N.share("pop", 15)] == 0 and b["residents"] == pytest.approx(c["residents"] * 0 + (
        gpd.read_file(sample_city.zones).set_index("zone_id").loc[GROUPS["B"].split(),
        "population"].sum()), rel=1e-6)  # fmt: skip
    assert "no space lies within the area or 300 m" in b["error"]
    assert not (result.out / "areas" / "B").exists()
    folder = result.out / "areas" / "C"
    assert (folder / "report.html").exists() and (folder / "zones.gpkg").exists()
    assert fm._io.read_marker(folder)["command"] == "analyze"
    assert 'lang="it"' in (folder / "report.html").read_text()
    page = (result.out / "report.html").read_text()
    assert 'href="areas/C/report.html"' in page
    # the batch's page and every area's report carry the texts, in Italian
    area_page = (folder / "report.html").read_text()
    for text in ("Coworking per quartiere", "spazi di coworking", "Quartieri: comune di prova",
                 "Bozza per la commissione"):  # fmt: skip
        assert text.lower() in page.lower() and text.lower() in area_page.lower(), text
    assert 'lang="it"' in page and "Aree in ordine" in page and "senza spazi" in page
    assert "Areas ranked" not in page and "15-minute access" not in page
    synthetic = fm.outputs._i18n.MESSAGES["it"]["attr_synthetic"]
    assert synthetic in page and "© OpenStreetMap" not in page  # the sample region's data
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["parameters"]["title"] == "Coworking per quartiere"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["inputs"]["network"]["path"] == str(region["network"])
    assert summary["inputs"]["area"] == {"area_id": "C", "name": "Area C"}


def test_hexagons_with_a_population_layer(region, sample_city, client, tmp_path):
    """hex:RES zones, residents carried from a population layer cut to the area: as
    analyze --boundary AREA --zones hex:9 --population LAYER."""
    areas = gpd.read_file(region["areas"]).query("code == 'C'")
    options = {"population": sample_city.zones, "population_column": "population"}
    done = _quiet(
        fm.batch,
        areas,
        region["network"],
        sample_city.spaces,
        "hex:9",
        tmp_path / "out",
        scheduler=client,
        area_reports=False,
        **options,
    )
    one = _quiet(
        fm.analyze, region["network"], sample_city.spaces, "hex:9", boundary=areas, **options
    )
    mine = read_zones(done.out).sort_values(N.ZONE_ID)
    pd.testing.assert_frame_equal(
        _figures(mine), _figures(one.zones.sort_values(N.ZONE_ID)), check_dtype=False
    )


def test_rome_municipi_against_the_esquilino_extract(rome_file, client, tmp_path):
    """The 15 municipi against a small extract: those it does not reach fail cleanly as
    outside the network's extent, the one it covers runs, as analyze --boundary would."""
    network = rome_file("network/rome_esquilino_2016.osm")
    municipi = rome_file("boundaries/roma_municipi_15.geojson")
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(network)
    lon, lat = streets.node_lonlat[::97].T
    spaces = tmp_path / "spaces.csv"
    pd.DataFrame({"space_id": [f"S{i}" for i in range(len(lon))], "lat": lat, "lon": lon}).to_csv(
        spaces, index=False
    )
    result = _quiet(
        fm.batch,
        municipi,
        network,
        spaces,
        zones,
        tmp_path / "out",
        id_column="MUNICIPIO",
        name_column="NUMERO_ROM",
        population_column="pop2018",
        scheduler=client,
        area_reports=False,
    )
    table = result.areas.set_index("area_id")
    assert len(table) == 15
    ran = table.index[table["status"] == "ok"].tolist()
    assert "1" in ran and len(ran) <= 3
    outside = table[table["status"] != "ok"]
    assert len(outside) >= 12
    assert (
        outside["error"]
        .str.contains("outside the network|no space lies|do not overlap|no zone")
        .all()
    )
    one = _quiet(
        fm.analyze,
        network,
        spaces,
        zones,
        population_column="pop2018",
        boundary=gpd.read_file(municipi).query("MUNICIPIO == 1"),
    )
    assert table.loc["1", "residents"] == pytest.approx(one.summary["residents_total"])
    assert table.loc["1", N.share("pop", 15)] == pytest.approx(one.summary["within"]["15"]["share"])


def test_bad_areas_are_refused_before_any_work(region, sample_city, tmp_path):
    areas = gpd.read_file(region["areas"])
    out = tmp_path / "out"
    common = (region["network"], sample_city.spaces, sample_city.zones, out)
    with pytest.raises(InputError, match="no id column"):
        fm.batch(areas.drop(columns=["code"]).rename(columns={"nome": "x"}), *common)
    dup = areas.assign(code=["A", "A", "B", "C"])
    with pytest.raises(InputError, match="'A' .* features 1 and 2"):
        fm.batch(dup, *common)
    empty = areas.assign(code=["A", None, "B", "C"])
    with pytest.raises(InputError, match="feature 2: no id"):
        fm.batch(empty, *common)
    with pytest.raises(InputError, match="cannot name a folder"):
        fm.batch(areas.assign(code=["A", "B/C", "D", "E"]), *common)
    with pytest.raises(InputError, match="not supported"):
        fm.batch(areas, region["network"], "osm", sample_city.zones, out)
    assert not out.exists()


def test_cli_unreachable_scheduler(region, sample_city, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fm.batching, "CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "out"
    code = main(
        [
            "batch",
            "--areas",
            str(region["areas"]),
            "--network",
            str(region["network"]),
            "--spaces",
            str(sample_city.spaces),
            "--zones",
            str(sample_city.zones),
            "--population-column",
            "population",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(out),
        ]  # fmt: skip
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "no Dask scheduler answers" in err[0] and "Traceback" not in err[0]
    assert not out.exists() and not list(tmp_path.glob(".fm-*"))


def test_local_plan_fits_memory(monkeypatch):
    gib = 2**30
    monkeypatch.setattr(_cluster, "usable_memory", lambda: 16 * gib)
    monkeypatch.setattr(_cluster, "cores", lambda: 8)
    assert _cluster.plan_local([gib] * 100).memory == (2 * gib,) * 8
    # one large area: a worker of its size, the others share the rest
    plan = _cluster.plan_local([5 * gib] + [gib] * 99)
    assert plan.workers == 8 and plan.memory[0] == 5 * gib
    assert set(plan.memory[1:]) == {11 * gib // 7} and sum(plan.memory) <= 16 * gib
    assert "5.0 GiB for the largest" in plan.describe()
    # three of 5 GiB leave room for one more worker of 1 GiB, not seven: fewer workers
    plan = _cluster.plan_local([5 * gib] * 3 + [gib] * 99)
    assert plan.memory == (5 * gib,) * 3 + (gib,) and "fewer than the cores" in plan.reason
    assert _cluster.plan_local([2**20, 2**20]).workers == 2
    assert _cluster.plan_local([2**20] * 100, workers=5).workers == 5
