"""QGIS styles (QML) for the report's GeoPackages, stored in their ``layer_styles`` table.

QGIS looks for a layer's default style in the GeoPackage's ``layer_styles`` table (the
table its "Save Style... > In Database" writes): a row with ``f_table_schema = ''``, the
layer's name and geometry column, and ``useAsDefault`` true. The table here has the
columns and types QGIS creates through GDAL, and is registered in ``gpkg_contents`` as
an attribute table, so GDAL lists it as a layer like QGIS's own.

The QML is QGIS 3 ``renderer-v2`` XML; symbol layer properties are written both as
``<Option type="Map">`` (read by QGIS >= 3.26) and as ``<prop k v>`` (read by older
QGIS 3 releases), as QGIS 3.16-3.24 themselves wrote them.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex, to_rgba

from .. import _names as N
from .._io import now_utc
from ._i18n import Translator
from .maps import (
    SHARE_BOUNDS,
    SHARE_COLORS,
    SPACE_EDGE,
    WALK_OVER_COLOR,
    walk_time_colors,
)

if TYPE_CHECKING:
    from ..pipeline import Analysis

QGIS_VERSION = "3.22.0-Białowieża"
"""The QGIS version the QML says it was written for (read by every QGIS 3 since)."""

Geometry = Literal["fill", "line", "marker"]
_GEOMETRY_TYPE = {"marker": "0", "line": "1", "fill": "2"}  # <layerGeometryType>

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS "layer_styles" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "f_table_catalog" TEXT(256),
    "f_table_schema" TEXT(256),
    "f_table_name" TEXT(256),
    "f_geometry_column" TEXT(256),
    "styleName" TEXT(30),
    "styleQML" TEXT,
    "styleSLD" TEXT,
    "useAsDefault" BOOLEAN,
    "description" TEXT,
    "owner" TEXT(30),
    "ui" TEXT(30),
    "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""
"""The ``layer_styles`` table as QGIS creates it in a GeoPackage (through GDAL)."""

SPACE_KINDS: dict[str, tuple[str, str]] = {
    "coworking": ("#6a3d9a", "circle"),
    "internet_cafe": ("#1f78b4", "square"),
    "community_space": ("#33a02c", "triangle"),
    "other": ("#ff7f00", "diamond"),
}
"""Colour and QGIS marker shape per space ``kind``."""


@dataclass(frozen=True)
class LayerStyle:
    """One default style written into a GeoPackage."""

    path: Path
    layer: str
    renderer: str
    attribute: str
    description: str


def _rgba(color: str, alpha: float | None = None) -> str:
    """``"#ff0000"`` -> ``"255,0,0,255"`` (QGIS colour strings)."""
    r, g, b, a = to_rgba(color, alpha)
    return ",".join(str(round(c * 255)) for c in (r, g, b, a))


def _symbol_layer(cls: str, props: Mapping[str, str]) -> ET.Element:
    layer = ET.Element("layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    options = ET.SubElement(layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return layer


def symbol(
    name: str,
    geometry: Geometry,
    color: str,
    *,
    alpha: float = 1.0,
    outline: str = "#ffffff",
    outline_width_mm: float = 0.26,
    size_mm: float = 2.0,
    shape: str = "circle",
    hatch: str | None = None,
) -> ET.Element:
    """A QGIS symbol: a simple fill, line or marker; ``hatch`` adds a hatched fill layer.

    Examples
    --------
    >>> el = symbol("0", "marker", "#6a3d9a", shape="square")
    >>> el.get("type"), el.find("layer").get("class"), el.find("layer/prop[@k='name']").get("v")
    ('marker', 'SimpleMarker', 'square')
    """
    sym = ET.Element(
        "symbol",
        {
            "type": geometry,
            "name": name,
            "alpha": f"{alpha:g}",
            "clip_to_extent": "1",
            "force_rhr": "0",
        },
    )
    if geometry == "fill":
        sym.append(
            _symbol_layer(
                "SimpleFill",
                {
                    "color": _rgba(color),
                    "style": "solid",
                    "outline_color": _rgba(outline),
                    "outline_style": "solid" if outline_width_mm > 0 else "no",
                    "outline_width": f"{outline_width_mm:g}",
                    "outline_width_unit": "MM",
                    "joinstyle": "bevel",
                    "offset": "0,0",
                    "offset_unit": "MM",
                },
            )
        )
        if hatch:
            sym.append(
                _symbol_layer(
                    "SimpleFill",
                    {
                        "color": _rgba(hatch),
                        "style": "b_diagonal",
                        "outline_color": _rgba(hatch),
                        "outline_style": "solid",
                        "outline_width": "0.4",
                        "outline_width_unit": "MM",
                        "joinstyle": "bevel",
                        "offset": "0,0",
                        "offset_unit": "MM",
                    },
                )
            )
    elif geometry == "line":
        sym.append(
            _symbol_layer(
                "SimpleLine",
                {
                    "line_color": _rgba(color),
                    "line_style": "solid",
                    "line_width": f"{outline_width_mm:g}",
                    "line_width_unit": "MM",
                    "capstyle": "round",
                    "joinstyle": "round",
                },
            )
        )
    elif geometry == "marker":
        sym.append(
            _symbol_layer(
                "SimpleMarker",
                {
                    "name": shape,
                    "color": _rgba(color),
                    "outline_color": _rgba(outline),
                    "outline_style": "solid" if outline_width_mm > 0 else "no",
                    "outline_width": f"{outline_width_mm:g}",
                    "outline_width_unit": "MM",
                    "size": f"{size_mm:g}",
                    "size_unit": "MM",
                    "angle": "0",
                    "scale_method": "diameter",
                    "joinstyle": "bevel",
                    "horizontal_anchor_point": "1",
                    "vertical_anchor_point": "1",
                    "offset": "0,0",
                    "offset_unit": "MM",
                },
            )
        )
    else:
        raise ValueError(f"geometry must be 'fill', 'line' or 'marker', got {geometry!r}")
    return sym


def _document(renderer: ET.Element, geometry: Geometry, *, label_field: str | None = None) -> str:
    root = ET.Element(
        "qgis",
        {
            "version": QGIS_VERSION,
            "styleCategories": "Symbology|Labeling|Rendering",
            "labelsEnabled": "1" if label_field else "0",
            "hasScaleBasedVisibilityFlag": "0",
        },
    )
    root.append(renderer)
    if label_field:
        root.append(_labeling(label_field))
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_TYPE[geometry]
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _labeling(field: str) -> ET.Element:
    """Simple labels from ``field``: small dark text with a white buffer, inside polygons."""
    labeling = ET.Element("labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutEnabled="0")
    style = ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": field,
            "isExpression": "0",
            "fontSize": "8",
            "fontSizeUnit": "Point",
            "textColor": "40,40,40,255",
            "textOpacity": "1",
            "fontWeight": "50",
            "fontItalic": "0",
            "namedStyle": "Regular",
            "multilineHeight": "1",
            "blendMode": "0",
        },
    )
    ET.SubElement(
        style,
        "text-buffer",
        {
            "bufferDraw": "1",
            "bufferSize": "0.8",
            "bufferSizeUnits": "MM",
            "bufferColor": "255,255,255,255",
            "bufferOpacity": "0.85",
            "bufferNoFill": "1",
            "bufferJoinStyle": "128",
            "bufferBlendMode": "0",
        },
    )
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "1"})
    ET.SubElement(
        settings,
        "placement",
        {"placement": "1", "centroidInside": "1", "centroidWhole": "0", "priority": "5"},
    )
    ET.SubElement(settings, "rendering", {"obstacle": "1", "fontLimitPixelSize": "0"})
    return labeling


def _renderer(kind: str, attr: str, *, order_by: str | None, descending: bool) -> ET.Element:
    renderer = ET.Element(
        "renderer-v2",
        {
            "type": kind,
            "attr": attr,
            "symbollevels": "0",
            "forceraster": "0",
            "enableorderby": "1" if order_by else "0",
        },
    )
    if kind == "graduatedSymbol":
        renderer.set("graduatedMethod", "GraduatedColor")
    if order_by:
        orderby = ET.SubElement(renderer, "orderby")
        clause = ET.SubElement(
            orderby, "orderByClause", asc="0" if descending else "1", nullsFirst="0"
        )
        clause.text = f'"{order_by}"'
    return renderer


def graduated_qml(
    attr: str,
    ranges: Sequence[tuple[float, float, str, str]],
    geometry: Geometry,
    *,
    label_field: str | None = None,
    order_by: str | None = None,
    descending: bool = False,
    **symbol_options: object,
) -> str:
    """QML of a graduated renderer: ``(lower, upper, label, colour)`` per class.

    Examples
    --------
    >>> qml = graduated_qml("walk_time_s", [(0, 300, "0-5 min", "#08306b")], "marker")
    >>> root = ET.fromstring(qml.split("\\n", 1)[1])
    >>> r = root.find("renderer-v2"); r.get("type"), r.get("attr"), len(r.find("ranges"))
    ('graduatedSymbol', 'walk_time_s', 1)
    """
    renderer = _renderer("graduatedSymbol", attr, order_by=order_by, descending=descending)
    ranges_el = ET.Element("ranges")
    symbols = ET.Element("symbols")
    for i, (lower, upper, label, color) in enumerate(ranges):
        ET.SubElement(
            ranges_el,
            "range",
            {
                "lower": f"{lower:.15g}",
                "upper": f"{upper:.15g}",
                "symbol": str(i),
                "label": label,
                "render": "true",
            },
        )
        symbols.append(symbol(str(i), geometry, color, **symbol_options))  # type: ignore[arg-type]
    renderer.insert(0, ranges_el)
    renderer.insert(1, symbols)
    return _document(renderer, geometry, label_field=label_field)


def categorized_qml(
    attr: str,
    categories: Sequence[tuple[object, str, str]],
    geometry: Geometry,
    *,
    value_type: Literal["string", "double", "integer"] = "string",
    label_field: str | None = None,
    order_by: str | None = None,
    descending: bool = False,
    shapes: Mapping[object, str] | None = None,
    **symbol_options: object,
) -> str:
    """QML of a categorised renderer: ``(value, label, colour)`` per category.

    A category whose value is ``""`` catches all other values (as in QGIS).

    Examples
    --------
    >>> qml = categorized_qml("minutes", [(15.0, "15 min", "#c7e9b4")], "fill", value_type="double")
    >>> root = ET.fromstring(qml.split("\\n", 1)[1])
    >>> root.find("renderer-v2/categories/category").get("value")
    '15'
    """
    renderer = _renderer("categorizedSymbol", attr, order_by=order_by, descending=descending)
    cats = ET.Element("categories")
    symbols = ET.Element("symbols")
    for i, (value, label, color) in enumerate(categories):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        ET.SubElement(
            cats,
            "category",
            {
                "value": text,
                "type": value_type if text else "string",
                "symbol": str(i),
                "label": label,
                "render": "true",
            },
        )
        options = dict(symbol_options)
        if shapes and value in shapes:
            options["shape"] = shapes[value]
        symbols.append(symbol(str(i), geometry, color, **options))  # type: ignore[arg-type]
    renderer.insert(0, cats)
    renderer.insert(1, symbols)
    return _document(renderer, geometry, label_field=label_field)


def geometry_column(gpkg: str | Path, layer: str) -> str:
    """The geometry column of ``layer`` in a GeoPackage (``geom`` when written by GDAL)."""
    with closing(sqlite3.connect(gpkg)) as con:
        row = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
        ).fetchone()
    if row is None:
        raise ValueError(f"{gpkg}: no spatial layer {layer!r}")
    return str(row[0])


def add_layer_style(
    gpkg: str | Path,
    layer: str,
    qml: str,
    *,
    name: str | None = None,
    description: str = "",
) -> None:
    """Store ``qml`` as the default QGIS style of ``layer`` (replacing its previous default).

    Creates the ``layer_styles`` table (and its ``gpkg_contents`` entry) when missing.
    """
    column = geometry_column(gpkg, layer)
    now = now_utc().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # SOURCE_DATE_EPOCH if set
    with closing(sqlite3.connect(gpkg)) as con, con:
        con.execute(CREATE_TABLE)
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
            "last_change, srs_id) SELECT 'layer_styles', 'attributes', 'layer_styles', '', "
            "?, 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')",
            (now,),
        )
        has_ogr = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_ogr_contents'"
        ).fetchone()
        con.execute(
            "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ? "
            "AND f_geometry_column = ?",
            (layer, column),
        )
        con.execute(
            "DELETE FROM layer_styles WHERE f_table_name = ? AND f_geometry_column = ? "
            "AND styleName = ?",
            (layer, column, name or layer),
        )
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
            (layer, column, name or layer, qml, description, now),
        )
        if has_ogr:
            count = con.execute("SELECT COUNT(*) FROM layer_styles").fetchone()[0]
            con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'")
            con.execute(
                "INSERT INTO gpkg_ogr_contents (table_name, feature_count) "
                "VALUES ('layer_styles', ?)",
                (count,),
            )


def _minutes_colors(minutes: Sequence[float]) -> list[str]:
    """Dark for the shortest walk, light for the longest (as in ``maps.isochrone_map``)."""
    return [to_hex(c) for c in colormaps["YlGnBu"](np.linspace(0.85, 0.3, len(minutes)))]


def _pct_label(lower: float, upper: float, t: Translator) -> str:
    return f"{t.pct(lower, 0)} – {t.pct(upper, 0)}"


def _kinds(values: Iterable[object]) -> list[str]:
    known = list(SPACE_KINDS)
    extra = sorted({str(v) for v in values if v is not None and str(v) not in SPACE_KINDS})
    return known + extra


def write_styles(
    analysis: Analysis, directory: str | Path, *, lang: str = "en"
) -> list[LayerStyle]:
    """Give every GeoPackage of a report folder its default QGIS style, its legend and
    description in ``lang``.

    - ``zones.gpkg``: graduated by the share (of residents, else of area) within the
      underserved walk, in the classes and colours of the coverage map; labelled by name.
    - ``isochrones.gpkg``: layers ``isochrones`` and ``coverage`` categorised by
      ``minutes`` (short walks dark and drawn on top).
    - ``spaces.gpkg``: categorised by ``kind``.
    - ``walk_times.gpkg``: graduated by ``walk_time_s``, in the walking-time map's colours.
    """
    directory = Path(directory)
    t = Translator(lang)
    m = float(analysis.parameters["underserved_minutes"])
    kind = "pop" if analysis.has_population else "area"
    share_col = N.share(kind, m)
    styles: list[LayerStyle] = []

    def add(path: Path, layer: str, qml: str, renderer: str, attr: str, text: str) -> None:
        add_layer_style(path, layer, qml, name=f"fifteenmin {layer}", description=text)
        styles.append(LayerStyle(path, layer, renderer, attr, text))

    share_ranges = [
        (lo, hi, _pct_label(lo, hi, t), color)
        for lo, hi, color in zip(SHARE_BOUNDS[:-1], SHARE_BOUNDS[1:], SHARE_COLORS, strict=True)
    ]
    add(
        directory / "zones.gpkg",
        "zones",
        graduated_qml(share_col, share_ranges, "fill", label_field=N.ZONE_NAME, outline="#ffffff"),
        "graduatedSymbol",
        share_col,
        t("qgis_zones_pop" if kind == "pop" else "qgis_zones_area", m=t.minutes(m)),
    )

    minutes = [float(x) for x in analysis.parameters["minutes"]]
    colors = _minutes_colors(minutes)
    for layer, alpha in (("isochrones", 0.3), ("coverage", 0.5)):
        cats = [(x, f"≤ {t.minutes(x)} min", c) for x, c in zip(minutes, colors, strict=True)]
        add(
            directory / "isochrones.gpkg",
            layer,
            categorized_qml(
                "minutes",
                cats,
                "fill",
                value_type="double",
                order_by="minutes",
                descending=True,
                alpha=alpha,
                outline="#253494",
                outline_width_mm=0.2,
            ),
            "categorizedSymbol",
            "minutes",
            t(f"qgis_{layer}"),
        )

    kinds = _kinds(analysis.spaces["kind"])

    def kind_label(k: str) -> str:
        key = f"kind_{k}"
        return t(key) if key in t._messages else k.replace("_", " ")

    cats_k = [(k, kind_label(k), SPACE_KINDS.get(k, ("#999999", "circle"))[0]) for k in kinds]
    cats_k.append(("", t("kind_other"), "#999999"))
    add(
        directory / "spaces.gpkg",
        "spaces",
        categorized_qml(
            "kind",
            cats_k,
            "marker",
            shapes={k: v[1] for k, v in SPACE_KINDS.items()},
            outline=SPACE_EDGE,
            outline_width_mm=0.3,
            size_mm=3.2,
        ),
        "categorizedSymbol",
        "kind",
        t("qgis_spaces"),
    )

    step = m / 3
    edges = [i * step for i in range(7)]  # 0 .. 2 m, 3 classes on each side of m
    walk_ranges = [
        (lo * 60, hi * 60, f"{t.minutes(lo)} – {t.minutes(hi)} min", c)
        for lo, hi, c in zip(edges[:-1], edges[1:], walk_time_colors(3), strict=True)
    ]
    walk_ranges.append((edges[-1] * 60, 1e9, f"> {t.minutes(edges[-1])} min", WALK_OVER_COLOR))
    add(
        directory / "walk_times.gpkg",
        "walk_times",
        graduated_qml(
            "walk_time_s", walk_ranges, "marker", outline="#ffffff", outline_width_mm=0, size_mm=1.6
        ),
        "graduatedSymbol",
        "walk_time_s",
        t("qgis_walk_times"),
    )
    return styles
