"""Every loader, fed hostile input, ends in a result or an InputError: never another exception.

Hypothesis writes structurally plausible but hostile files (CSV cells such as ``nan``,
``1e300``, ``=cmd``, ragged rows, any encoding; GeoJSON and GeoPackage zones with absurd
populations and coordinates; OSM XML and PBF with broken coordinates and references;
GraphML with odd attributes; random bytes) and command lines with odd numbers. The
command line must answer bad input with exit status 2 and one error line. About a minute
in all; raise ``FUZZ_SCALE`` (e.g. ``FUZZ_SCALE=10``) for a longer hunt.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fifteenmin as fm
from fifteenmin import registry
from fifteenmin.cli import main
from fifteenmin.errors import InputError

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(n: int) -> Callable[[Any], Any]:
    """Hypothesis settings for a loader: ``n`` examples (times FUZZ_SCALE), no deadline."""
    return settings(
        max_examples=n * SCALE,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,  # capsys: read out before each example
        ],
        database=None,
    )


def mostly(
    plausible: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any], odds: int = 5
) -> Any:
    """Hostile values once in ``odds``, so that they reach deep into a loader."""
    return st.integers(1, odds).flatmap(lambda k: hostile if k == 1 else plausible)


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz") as tmp:
        yield Path(tmp)


# Crashes found by this suite and fixed, each kept as a test at the end; a new one found
# while a fix is under way can be listed here (exception type, innermost fifteenmin function)
KNOWN_CRASHES: set[tuple[str, str]] = set()


def _known(exc: Exception) -> bool:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "fifteenmin" in f.filename]
    return bool(frames) and (type(exc).__name__, frames[-1].name) in KNOWN_CRASHES


def outcome(load: Callable[[], Any]) -> Any:
    """The loader's result, or the InputError it raised; any other exception fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load()
        except InputError as exc:
            assert str(exc).strip(), "an InputError without a message"
            return exc
        except Exception as exc:
            if _known(exc):
                return exc
            raise


# ---------------------------------------------------------------- hostile text

HOSTILE = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "infinito", "1e300", "-1e300", "1e-300",
    "1e309", "0", "-0", "00", "41,8933", "41.8933", "12,4964", "-12,5", "1.200", "3.975",
    "3,975", "1.234.567", "1,234.5", "1.234,5", "1 234", "1\u202f234", "1,5E+03", "+1", "-",
    ".", ",", "=cmd|' /C calc'!A0", "=1+1", "@SUM(A1)", "+39 06", "\t=x", "", " ", '"', '""',
    "'", ";", "\n", "\r", "°", "41°53'N", "Caffè", "Città", "€", "\u2028", "\u202e",
    "\x1b[31m", "<!--<script>", "</script>", "&amp;", "\ufeff", "null", "None", "true",
    "-999999999999999999999", "9" * 400,
]  # fmt: skip
NAMES = [
    "name", "nome", "lat", "lon", "latitude", "longitude", "latitudine", "longitudine", "x",
    "y", "seats", "postazioni", "capacity", "kind", "tipo", "address", "indirizzo", "id",
    "space_id", "source", "municipio", "network_member", "rete", "last_verified", "",
    "lat", "=cmd", "Nome ", " LAT",
]  # fmt: skip

cells = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=10),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(min_value=-200, max_value=200).map(lambda v: f"{v:.6f}".replace(".", ",")),
)
headers = st.lists(st.one_of(st.sampled_from(NAMES), st.text(max_size=6)), min_size=1, max_size=8)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """A CSV as a person or a spreadsheet might save it, or raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    header = draw(headers)
    rows = draw(
        st.lists(
            st.lists(cells, min_size=0, max_size=len(header) + 2),  # ragged both ways
            max_size=6,
        )
    )
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=quoting,  # type: ignore[arg-type]
        lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
    )
    if draw(st.booleans()):
        buffer.write(f"sep={delimiter}\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:  # cut anywhere, e.g. inside a quoted cell
        text = text[: draw(st.integers(0, len(text)))]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


# ---------------------------------------------------------------- CSV: spaces and registry


@fuzz(300)
@given(data=csv_bytes())
def test_spaces_csv(data: bytes) -> None:
    with folder() as tmp:
        path = tmp / "spaces.csv"
        path.write_bytes(data)
        result = outcome(lambda: fm.spaces_from_file(path))
    if isinstance(result, gpd.GeoDataFrame):
        assert len(result) > 0
        assert np.isfinite(result.geometry.x).all() and np.isfinite(result.geometry.y).all()
        assert (result.geometry.y.abs() <= 90).all() and (result.geometry.x.abs() <= 180).all()
        seats = result["seats"].dropna()
        assert ((seats >= 0) & (seats <= fm.spaces.MAX_SEATS)).all()


@fuzz(200)
@given(data=csv_bytes())
def test_registry_csv(data: bytes) -> None:
    with folder() as tmp:
        path = tmp / "albo.csv"
        path.write_bytes(data)
        problems = outcome(lambda: registry.validate_registry(path))
        table = outcome(lambda: registry.read_registry(path))
    if isinstance(problems, list):
        assert isinstance(table, gpd.GeoDataFrame)
        for line in registry.format_problems(problems).splitlines():
            assert "\x1b" not in line and "\r" not in line
        seats = table["seats"].dropna()
        assert ((seats >= 0) & (seats <= fm.spaces.MAX_SEATS)).all()
        lat, lon = table["lat"].dropna(), table["lon"].dropna()
        assert (lat.abs() <= 90).all() and (lon.abs() <= 180).all()


# ---------------------------------------------------------------- zones: GeoJSON, GeoPackage

coordinates = st.one_of(
    st.floats(min_value=-10, max_value=10),
    st.sampled_from([0.0, 1e300, -1e300, 1e-300, 180.0, 90.0, 1e8]),
    st.floats(allow_nan=True, allow_infinity=True),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    cells,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def polygon_geometries(draw: st.DrawFn) -> dict[str, Any] | None:
    kind = draw(st.sampled_from(["Polygon", "Polygon", "MultiPolygon", "Point", "null", "bad"]))
    if kind == "null":
        return None
    x, y = draw(coordinates), draw(coordinates)
    w, h = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    if draw(st.booleans()):
        ring = draw(st.lists(st.tuples(coordinates, coordinates).map(list), max_size=6))
    if kind == "Point":
        return {"type": "Point", "coordinates": [x, y]}
    if kind == "bad":
        return {"type": "Polygon", "coordinates": draw(st.sampled_from([[], [[]], [[1]], "x"]))}
    return {"type": kind, "coordinates": [ring] if kind == "Polygon" else [[ring]]}


@st.composite
def geojson_text(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    features = [
        {
            "type": "Feature",
            "properties": draw(
                st.dictionaries(
                    st.sampled_from(["zone_id", "id", "name", "population", "pop", ""]),
                    values,
                    max_size=4,
                )
            ),
            "geometry": draw(polygon_geometries()),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if draw(st.booleans()):
        document["crs"] = {
            "type": "name",
            "properties": {"name": draw(st.sampled_from(["EPSG:32633", "EPSG:3857", "bad"]))},
        }
    text = json.dumps(document)  # NaN and Infinity as JavaScript writes them
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@fuzz(100)
@given(text=geojson_text(), population=st.sampled_from([None, "population", "pop"]))
def test_geojson_zones(text: str, population: str | None) -> None:
    with folder() as tmp:
        path = tmp / "zones.geojson"
        path.write_text(text, encoding="utf-8")
        result = outcome(lambda: fm.zones_from_file(path, population_column=population))
    if isinstance(result, gpd.GeoDataFrame) and population is not None:
        residents = result[fm._names.POPULATION]
        assert np.isfinite(residents).all() and (residents >= 0).all()


@st.composite
def zone_frames(draw: st.DrawFn) -> gpd.GeoDataFrame:
    n = draw(st.integers(1, 4))
    geometries = []
    for _ in range(n):
        x, y = (draw(mostly(st.floats(-5, 5), coordinates)) for _ in range(2))
        size = draw(mostly(st.floats(0.001, 1), st.floats(0, 1)))
        kind = draw(mostly(st.just("box"), st.sampled_from(["point", "bowtie", None])))
        try:
            geometries.append(
                shapely.box(x, y, x + size, y + size)
                if kind == "box"
                else shapely.Point(x, y)
                if kind == "point"
                else shapely.Polygon([(x, y), (x + 1, y + 1), (x + 1, y), (x, y + 1), (x, y)])
                if kind == "bowtie"  # self-intersecting: repaired by make_valid
                else None
            )
        except shapely.errors.GEOSException:  # NaN corners: no polygon to write
            geometries.append(None)
    population = draw(
        st.lists(
            mostly(
                st.integers(0, 10**6),
                st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**12)),
            ),
            min_size=n,
            max_size=n,
        )
    )
    names = draw(st.lists(st.sampled_from(HOSTILE), min_size=n, max_size=n))
    crs = draw(st.sampled_from([4326, 32633, 3857]))
    return gpd.GeoDataFrame(
        {"zone_id": names, "population": population}, geometry=geometries, crs=crs
    )


@fuzz(40)
@given(frame=zone_frames(), garbage=st.one_of(st.none(), st.binary(max_size=200)))
def test_geopackage_zones(frame: gpd.GeoDataFrame, garbage: bytes | None) -> None:
    with folder() as tmp:
        path = tmp / "zones.gpkg"
        if garbage is not None:
            path.write_bytes(garbage)
        else:
            try:
                frame.to_file(path, driver="GPKG")
            except Exception:  # noqa: BLE001 - what GDAL cannot write is not our input
                assume(False)
        result = outcome(lambda: fm.zones_from_file(path, population_column="population"))
    if isinstance(result, gpd.GeoDataFrame):
        residents = result[fm._names.POPULATION]
        assert np.isfinite(residents).all() and (residents <= 1e9).all()


# ---------------------------------------------------------------- OSM: XML and PBF

osm_ids = st.one_of(st.integers(1, 8), st.sampled_from([0, -1, 2**62, 2**63 - 1]))
degrees = st.one_of(
    st.floats(-0.01, 0.01).map(lambda v: f"{v:.7f}"),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "95", "-181", "1e2", "abc", "", "0"]),
    st.sampled_from(HOSTILE),
)
tag_values = st.one_of(
    st.sampled_from(["residential", "footway", "motorway", "coworking_space", "yes", "no"]),
    st.text(max_size=5),
)
tags = st.dictionaries(
    st.sampled_from(["highway", "amenity", "name", "foot", "access", "addr:street", "capacity"]),
    tag_values,
    max_size=3,
)


def _xml_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _xml_tags(t: dict[str, str]) -> str:
    return "".join(f'<tag k="{_xml_attr(k)}" v="{_xml_attr(v)}"/>' for k, v in t.items())


@st.composite
def osm_xml(draw: st.DrawFn) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="fuzz">']
    if draw(st.booleans()):
        parts.append(
            f'<bounds minlat="{draw(degrees)}" minlon="{draw(degrees)}" '
            f'maxlat="{draw(degrees)}" maxlon="{draw(degrees)}"/>'
        )
    for _ in range(draw(st.integers(0, 6))):
        node = f'<node id="{draw(osm_ids)}" lat="{_xml_attr(draw(degrees))}" '
        node += f'lon="{_xml_attr(draw(degrees))}"'
        node_tags = draw(tags)
        parts.append(f"{node}>{_xml_tags(node_tags)}</node>" if node_tags else f"{node}/>")
    for _ in range(draw(st.integers(0, 3))):
        refs = draw(st.lists(osm_ids, max_size=5))
        way_tags = draw(tags) | ({"highway": "residential"} if draw(st.booleans()) else {})
        parts.append(
            f'<way id="{draw(osm_ids)}">'
            + "".join(f'<nd ref="{r}"/>' for r in refs)
            + _xml_tags(way_tags)
            + "</way>"
        )
    parts.append("</osm>")
    text = "\n".join(parts)
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _osm_loaders(path: Path) -> None:
    for load in (
        lambda: fm.read_streets(path),
        lambda: fm.spaces_from_osm(path),
        lambda: registry.osm_addresses_from_file(path),
    ):
        result = outcome(load)
        if isinstance(result, fm.network.StreetNetwork):
            assert np.isfinite(result.node_lonlat).all()
            assert (np.abs(result.node_lonlat[:, 1]) <= 90).all()
        elif isinstance(result, gpd.GeoDataFrame) and len(result):
            assert (result.geometry.y.abs() <= 90).all()


@fuzz(120)
@given(text=osm_xml())
def test_osm_xml(text: str) -> None:
    with folder() as tmp:
        path = tmp / "network.osm"
        path.write_text(text, encoding="utf-8")
        _osm_loaders(path)


@fuzz(30)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".osm", ".osm.pbf", ".osm.bz2"]))
def test_osm_random_bytes(data: bytes, suffix: str) -> None:
    with folder() as tmp:
        path = tmp / f"network{suffix}"
        path.write_bytes(data)
        _osm_loaders(path)


pbf_tags = tags.map(lambda t: {k: v.replace("\x00", "") for k, v in t.items()})  # NUL: crashes
pbf_degrees = st.one_of(
    st.floats(-0.01, 0.01), st.sampled_from([95.0, -181.0, 180.0, 90.0, 0.0, 214.0])
)


@fuzz(60)
@given(
    nodes=st.lists(st.tuples(osm_ids, pbf_degrees, pbf_degrees, pbf_tags), max_size=6),
    ways=st.lists(st.tuples(osm_ids, st.lists(osm_ids, max_size=5), pbf_tags), max_size=3),
)
def test_osm_pbf(nodes: list[Any], ways: list[Any]) -> None:
    with folder() as tmp:
        path = tmp / "network.osm.pbf"
        try:
            with osmium.SimpleWriter(str(path)) as writer:
                for node_id, lon, lat, node_tags in sorted(nodes, key=lambda n: n[0]):
                    writer.add_node(
                        osmium.osm.mutable.Node(id=node_id, location=(lon, lat), tags=node_tags)
                    )
                for way_id, refs, way_tags in sorted(ways, key=lambda w: w[0]):
                    writer.add_way(
                        osmium.osm.mutable.Way(
                            id=way_id, nodes=refs, tags={"highway": "residential", **way_tags}
                        )
                    )
        except Exception:  # noqa: BLE001 - what osmium cannot write is not our input
            assume(False)
        _osm_loaders(path)


# ---------------------------------------------------------------- GraphML

graph_values = st.one_of(
    st.floats(-0.01, 0.01),
    st.floats(-0.01, 0.01),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE),
)


@st.composite
def graphml_text(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    crs = draw(st.sampled_from(["epsg:4326", "epsg:4326", "EPSG:32633", "bad", ""]))
    graph = nx.MultiDiGraph(crs=crs)
    graph.graph["simplified"] = True
    ids = draw(st.lists(st.integers(1, 6), min_size=1, max_size=5, unique=True))
    for node in ids:
        attrs = {}
        for key in ("x", "y"):
            if draw(st.integers(0, 19)):
                attrs[key] = draw(mostly(st.floats(-0.01, 0.01), graph_values, 30))
        attrs["street_count"] = draw(mostly(st.integers(0, 4), graph_values, 30))
        graph.add_node(node, **attrs)
    for _ in range(draw(st.integers(0, 5))):
        u, v = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        attrs = {
            "osmid": draw(mostly(st.integers(1, 10**10), graph_values, 30)),
            "highway": draw(st.sampled_from(["residential", "footway", "motorway", "", "x"])),
            "length": draw(mostly(st.floats(0, 500), graph_values, 30)),
            "oneway": draw(mostly(st.sampled_from(["True", "False"]), graph_values, 30)),
            "reversed": draw(mostly(st.sampled_from(["True", "False"]), graph_values, 30)),
        }
        if draw(st.integers(0, 3)) == 0:
            attrs["geometry"] = draw(
                st.sampled_from(
                    ["LINESTRING (0 0, 0.001 0.001)", "LINESTRING EMPTY", "POINT (0 0)"]
                )
                | graph_values
            )
        for key in ("name", "foot", "access"):
            if draw(st.integers(0, 3)) == 0:
                attrs[key] = draw(
                    st.sampled_from(["no", "yes", "private"]) | st.sampled_from(HOSTILE)
                )
        graph.add_edge(u, v, **attrs)
    # as osmnx.save_graphml writes them: every attribute as text
    for _, attrs in graph.nodes(data=True):
        attrs.update({k: str(v) for k, v in attrs.items()})
    for _, _, attrs in graph.edges(data=True):
        attrs.update({k: str(v) for k, v in attrs.items()})
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    text = buffer.getvalue().decode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(len(text) // 2, len(text)))]
    return text


@fuzz(80)
@given(text=graphml_text())
def test_graphml(text: str) -> None:
    with folder() as tmp:
        path = tmp / "streets.graphml"
        path.write_text(text, encoding="utf-8")
        result = outcome(lambda: fm.read_streets(path))
    if isinstance(result, fm.network.StreetNetwork):
        lonlat = result.node_lonlat
        if not (np.isfinite(lonlat).all() and (np.abs(lonlat) <= [180, 90]).all()):
            return  # known: node coordinates are not checked (test_known_graphml_node_off_earth)
        assert np.isfinite(result.edge_length_m).all()


# ---------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 4 x 4 street grid of 200 m blocks, one space, two zones with residents."""
    d = tmp_path_factory.mktemp("town")
    n = 4
    nodes = {1 + i * n + j: (i * 200.0, j * 200.0) for i in range(n) for j in range(n)}
    ways = [(100 + i, [1 + i * n + j for j in range(n)], STREET) for i in range(n)]
    ways += [(200 + j, [1 + i * n + j for i in range(n)], STREET) for j in range(n)]
    write_osm(d / "net.osm", nodes, ways)
    lon, lat = lonlat(300, 300)
    (d / "spaces.csv").write_text(f"name,lat,lon\nA,{lat:.7f},{lon:.7f}\n")
    (w, s), (e, n_), (mx, _) = lonlat(-50, -50), lonlat(650, 650), lonlat(300, 0)
    features = [
        {
            "type": "Feature",
            "properties": {"zone_id": zid, "population": pop},
            "geometry": shapely.geometry.mapping(shapely.box(x0, s, x1, n_)),
        }
        for zid, pop, x0, x1 in (("a", 100, w, mx), ("b", 50, mx, e))
    ]
    zones = {"type": "FeatureCollection", "features": features}
    (d / "zones.geojson").write_text(json.dumps(zones))
    return {"network": d / "net.osm", "spaces": d / "spaces.csv", "zones": d / "zones.geojson"}


numbers_text = mostly(
    st.floats(min_value=0.001, max_value=30).map(lambda v: f"{v:g}") | st.integers(1, 20).map(str),
    st.sampled_from(
        ["nan", "inf", "-inf", "1e300", "-1e300", "0", "-0", "1,5", "", "abc", "0x10", "1e-300"]
    )
    | st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.integers(-5, 3000).map(str),
    odds=2,
)


def _options(draw: st.DrawFn, names: list[str]) -> list[str]:
    argv: list[str] = []
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)):
        count = 4 if name == "--bbox" else draw(st.integers(1, 2)) if name == "--minutes" else 1
        argv += [name, *(draw(numbers_text) for _ in range(count))]
    return argv


@st.composite
def analyze_options(draw: st.DrawFn) -> list[str]:
    names = ["--minutes", "--speed-kmh", "--buffer-m", "--underserved-share", "--margin-m"]
    return _options(draw, [*names, "--bbox"])


@st.composite
def suggest_options(draw: st.DrawFn) -> list[str]:
    names = ["--minutes", "--speed-kmh", "--sites", "--min-separation-m", "--max-candidates"]
    return _options(draw, [*names, "--margin-m", "--bbox"])


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    """Exit status of ``fifteenmin ARGV``; a failure must be status 2 and one error line."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refused an option
        code = exc.code if isinstance(exc.code, int) else 2
    err = capsys.readouterr().err
    assert code in (0, 2), (argv, code, err)
    lines = err.strip().splitlines()
    if code == 2 and not (lines and re.search(r": \d+ errors?, \d+ warnings?$", lines[-1])):
        errors = [line for line in lines if "error:" in line]  # (registry validate: a count)
        assert len(errors) == 1 and lines[-1] == errors[0], (argv, err)
    return code


def _fast_write(self: fm.Analysis, out: Any, **_: Any) -> Path:
    """Analysis.write without the maps and report (seconds each): zones.csv only."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fm.pipeline.zones_table(self).to_csv(out / "zones.csv", index=False)
    return out


@fuzz(30)
@given(options=analyze_options())
def test_cli_analyze_options(town: dict[str, Path], capsys: Any, options: list[str]) -> None:
    with folder() as tmp, mock.patch.object(fm.Analysis, "write", _fast_write):
        argv = ["analyze", "--network", str(town["network"]), "--spaces", str(town["spaces"])]
        argv += ["--zones", str(town["zones"]), "--population-column", "population"]
        run_cli([*argv, "--out", str(tmp / "out"), "--quiet", *options], capsys)


@fuzz(30)
@given(options=suggest_options())
def test_cli_suggest_options(town: dict[str, Path], capsys: Any, options: list[str]) -> None:
    with folder() as tmp:
        argv = ["suggest", "--network", str(town["network"]), "--spaces", str(town["spaces"])]
        argv += ["--zones", str(town["zones"]), "--population-column", "population"]
        run_cli([*argv, "--out", str(tmp / "out"), "--quiet", *options], capsys)


@fuzz(20)
@given(distance=numbers_text, data=csv_bytes())
def test_cli_registry(town: dict[str, Path], capsys: Any, distance: str, data: bytes) -> None:
    with folder() as tmp:
        albo = tmp / "albo.csv"
        albo.write_bytes(data)
        run_cli(["registry", "validate", str(albo)], capsys)
        argv = ["registry", "merge", str(albo), "--osm", str(town["network"])]
        run_cli([*argv, "--out", str(tmp / "m.gpkg"), "--max-distance-m", distance], capsys)


# ---------------------------------------------------------------- crashes found, fixed


def test_known_zone_with_infinite_coordinate(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"population": [1]}, geometry=[shapely.Point(0, np.inf)], crs=4326)
    frame.to_file(tmp_path / "z.gpkg", driver="GPKG")
    with pytest.raises(InputError):
        fm.zones_from_file(tmp_path / "z.gpkg")


def _graphml(tmp_path: Path, crs: str, x: str | None, y: str = "0.001") -> Path:
    graph = nx.MultiDiGraph(crs=crs)
    graph.add_node(1, x="0.0", y="0.0", street_count="1")
    graph.add_node(2, y=y, street_count="1", **({"x": x} if x is not None else {}))
    graph.add_edge(1, 2, osmid="1", highway="residential", length="100", oneway="False")
    graph.add_edge(2, 1, osmid="1", highway="residential", length="100", oneway="False")
    nx.write_graphml(graph, tmp_path / "g.graphml")
    return tmp_path / "g.graphml"


def test_known_graphml_with_bad_crs(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        fm.read_streets(_graphml(tmp_path, "bad", "0.001"))


def test_known_graphml_node_without_x(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        fm.read_streets(_graphml(tmp_path, "epsg:4326", None))


@pytest.mark.parametrize(("x", "y"), [("0.001", "nan"), ("181", "0.001"), ("0.001", "1e300")])
def test_known_graphml_node_off_earth(tmp_path: Path, x: str, y: str) -> None:
    with pytest.raises(InputError):
        fm.read_streets(_graphml(tmp_path, "epsg:4326", x, y=y))
