"""QGIS styles: the layer_styles table QGIS reads, valid QML per layer, layers still readable."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import pyogrio
import pytest

from fifteenmin.outputs import _qgis

# (file, layer) -> (renderer type, attribute)
EXPECTED = {
    ("zones.gpkg", "zones"): ("graduatedSymbol", "share_pop_15min"),
    ("isochrones.gpkg", "isochrones"): ("categorizedSymbol", "minutes"),
    ("isochrones.gpkg", "coverage"): ("categorizedSymbol", "minutes"),
    ("spaces.gpkg", "spaces"): ("categorizedSymbol", "kind"),
    ("walk_times.gpkg", "walk_times"): ("graduatedSymbol", "walk_time_s"),
}
QGIS_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


@pytest.fixture(scope="module")
def report(sample_analysis, tmp_path_factory) -> Path:
    return sample_analysis.write(tmp_path_factory.mktemp("report"))


def _rows(path: Path, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(path)) as con:
        return con.execute(sql, args).fetchall()


def _default_qml(path: Path, layer: str) -> str:
    rows = _rows(
        path,
        "SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1",
        layer,
    )
    assert len(rows) == 1, f"{path.name}:{layer} has {len(rows)} default styles"
    return rows[0][0]


def test_layer_styles_table_has_the_qgis_schema(report):
    for name in {f for f, _ in EXPECTED}:
        path = report / name
        columns = [r[1] for r in _rows(path, "PRAGMA table_info(layer_styles)")]
        assert columns == QGIS_COLUMNS
        registered = _rows(
            path, "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        )
        assert registered == [("attributes",)]


def test_one_default_style_per_layer_matching_the_geometry_column(report):
    for (name, layer), _ in EXPECTED.items():
        path = report / name
        geom = _rows(
            path, "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", layer
        )[0][0]
        rows = _rows(
            path,
            "SELECT f_table_catalog, f_table_schema, f_geometry_column, useAsDefault "
            "FROM layer_styles WHERE f_table_name = ?",
            layer,
        )
        # QGIS looks up f_table_schema = '' (not NULL) and the layer's geometry column
        assert rows == [("", "", geom, 1)]


@pytest.mark.parametrize(("name", "layer"), list(EXPECTED))
def test_qml_parses_with_the_expected_renderer(report, name, layer):
    kind, attr = EXPECTED[(name, layer)]
    root = ET.fromstring(_default_qml(report / name, layer))
    assert root.tag == "qgis"
    renderer = root.find("renderer-v2")
    assert renderer is not None
    assert (renderer.get("type"), renderer.get("attr")) == (kind, attr)
    classes = renderer.findall("ranges/range" if kind == "graduatedSymbol" else "categories/*")
    symbols = {s.get("name") for s in renderer.findall("symbols/symbol")}
    assert classes and {c.get("symbol") for c in classes} == symbols
    for layer_el in renderer.findall("symbols/symbol/layer"):
        # properties both as QGIS >= 3.26 reads them and as older QGIS 3 reads them
        options = {o.get("name"): o.get("value") for o in layer_el.findall("Option/Option")}
        props = {p.get("k"): p.get("v") for p in layer_el.findall("prop")}
        assert options and options == props


def test_class_values_follow_the_analysis(report, sample_analysis):
    zones = ET.fromstring(_default_qml(report / "zones.gpkg", "zones"))
    ranges = zones.findall("renderer-v2/ranges/range")
    assert [(float(r.get("lower")), float(r.get("upper"))) for r in ranges] == [
        (0.0, 0.25),
        (0.25, 0.5),
        (0.5, 0.75),
        (0.75, 1.0),
    ]
    assert zones.get("labelsEnabled") == "1"
    assert zones.find("labeling/settings/text-style").get("fieldName") == "name"
    cov = ET.fromstring(_default_qml(report / "isochrones.gpkg", "coverage"))
    values = [c.get("value") for c in cov.findall("renderer-v2/categories/category")]
    assert values == [f"{m:g}" for m in sample_analysis.parameters["minutes"]]
    order = cov.find("renderer-v2/orderby/orderByClause")
    assert order.text == '"minutes"' and order.get("asc") == "0"  # short walks drawn on top
    spaces = ET.fromstring(_default_qml(report / "spaces.gpkg", "spaces"))
    kinds = {c.get("value") for c in spaces.findall("renderer-v2/categories/category")}
    assert set(sample_analysis.spaces["kind"]) <= kinds and "" in kinds  # "" = all others
    walk = ET.fromstring(_default_qml(report / "walk_times.gpkg", "walk_times"))
    uppers = [float(r.get("upper")) for r in walk.findall("renderer-v2/ranges/range")]
    assert 900.0 in uppers  # the 15-minute break, in seconds


def test_gdal_still_reads_every_layer(report, sample_analysis):
    counts = {
        "zones": len(sample_analysis.zones),
        "isochrones": len(sample_analysis.isochrones),
        "coverage": len(sample_analysis.coverage),
        "spaces": len(sample_analysis.spaces),
        "walk_times": sample_analysis.walk.streets.n_nodes,
    }
    for name, layer in EXPECTED:
        path = report / name
        assert "layer_styles" in pyogrio.list_layers(path)[:, 0]
        df = pyogrio.read_dataframe(path, layer=layer)
        assert len(df) == counts[layer]
        styles = pyogrio.read_dataframe(path, layer="layer_styles")
        assert layer in set(styles["f_table_name"])


def test_restyling_replaces_the_default(report, sample_analysis, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(report, folder)
    path = folder / "zones.gpkg"
    # a style saved from QGIS, marked as default
    with closing(sqlite3.connect(path)) as con, con:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner) VALUES ('', '', 'zones', 'geom', 'mine', '<qgis/>', '', 1, '', '')"
        )
    styles = _qgis.write_styles(sample_analysis, folder)
    assert {(s.path.name, s.layer) for s in styles} == set(EXPECTED)
    rows = _rows(path, "SELECT styleName, useAsDefault FROM layer_styles ORDER BY id")
    assert rows == [("mine", 0), ("fifteenmin zones", 1)]  # ours again, theirs kept


def test_qml_escapes_labels():
    qml = _qgis.categorized_qml("kind", [("a&b", 'x "<y>"', "#123456")], "marker")
    category = ET.fromstring(qml).find("renderer-v2/categories/category")
    assert (category.get("value"), category.get("label")) == ("a&b", 'x "<y>"')


def test_qgis_loads_the_default_styles(report):
    """With QGIS installed (python3-qgis), open each layer and check its renderer."""
    python = shutil.which("python3", path="/usr/bin")
    probe = python and subprocess.run(
        [python, "-c", "import qgis.core"], capture_output=True, check=False
    )
    if not probe or probe.returncode != 0:
        pytest.skip("QGIS (python3-qgis) is not installed")
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from qgis.core import QgsApplication, QgsVectorLayer
        app = QgsApplication([], False)
        app.initQgis()
        for arg in sys.argv[1:]:
            path, layer = arg.split("|")
            lyr = QgsVectorLayer(f"{path}|layername={layer}", layer, "ogr")
            r = lyr.renderer()
            print(layer, lyr.isValid(), r.type(), r.classAttribute(), flush=True)
        os._exit(0)  # QgsApplication.exitQgis() may crash at shutdown
        """
    )
    args = [f"{report / name}|{layer}" for name, layer in EXPECTED]
    out = subprocess.run(
        [python, "-c", script, *args], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split("\n")
    got = {line.split()[0]: tuple(line.split()[1:]) for line in out if line.strip()}
    for (_, layer), (kind, attr) in EXPECTED.items():
        assert got[layer] == ("True", kind, attr)


def test_styles_in_italian(report, sample_analysis, tmp_path):
    """The legends and descriptions follow the report's language (QGIS shows them as is)."""
    folder = tmp_path / "it"
    shutil.copytree(report, folder)
    styles = {s.layer: s for s in _qgis.write_styles(sample_analysis, folder, lang="it")}
    assert styles["zones"].description == "zone per quota di residenti entro 15 min a piedi"
    assert styles["spaces"].description == "spazi per tipo"

    def labels(name: str, layer: str) -> list[str]:
        (qml,) = _rows(folder / name, "SELECT styleQML FROM layer_styles WHERE useAsDefault = 1 "
                       "AND f_table_name = ?", layer)[0]  # fmt: skip
        root = ET.fromstring(qml)
        return [e.get("label") for e in root.iter() if e.get("label") is not None]

    shares = labels("zones.gpkg", "zones")
    assert shares[0] == "0% – 25%" and len(shares) == 4, shares
    kinds = labels("spaces.gpkg", "spaces")
    assert "internet point" in kinds and "altro" in kinds and "internet cafe" not in kinds
    assert "5 – 10 min" in labels("walk_times.gpkg", "walk_times")
