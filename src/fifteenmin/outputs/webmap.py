"""Interactive map: one offline HTML file with Leaflet inlined and the layers as GeoJSON."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _names as N
from .._credits import attribution_lines
from .._tables import json_for_html
from ..errors import InputError
from ._i18n import Translator
from ._places import MIN_ZOOM, place_names
from .maps import (
    COVERAGE_COLOR,
    FRAGMENT_COLOR,
    NO_DATA_COLOR,
    SHARE_BOUNDS,
    SHARE_COLORS,
    SPACE_EDGE,
    SPACE_FACE,
    SPARSE_EDGE,
    STATUS_HATCH_COLOR,
    UNDERSERVED_COLOR,
    _map_bounds,
    fill_small_holes,
    street_fragments,
    underserved_mask,
    zone_statuses,
)

if TYPE_CHECKING:
    from ..pipeline import Analysis

logger = logging.getLogger(__name__)

LEAFLET_VERSION = "1.9.4"
"""Version of the Leaflet library vendored in ``fifteenmin/outputs/static/leaflet``."""

SIMPLIFY_M = 2.0
"""Tolerance (metres) for simplifying outlines before they go into the page."""

DETAIL_VERTICES = 250_000
"""Coverage and isochrone outlines with more vertices than this in all are simplified by
``COARSE_SIMPLIFY_M`` and rounded to 5 decimals of a degree (about 1 m) instead."""

COARSE_SIMPLIFY_M = 5.0
"""Tolerance (metres) for the outlines of a large analysis (see ``DETAIL_VERTICES``)."""

MAX_STREETS = 150_000
"""Networks with more street segments leave the street layer out of the page (with a note)."""

MAX_ISOCHRONE_SPACES = 1_000
"""With more spaces the per-space isochrones are left out of the page (with a note)."""

FILL_HOLES_KM2 = 0.05
"""Holes of the covered area smaller than this (street blocks, reached from their own
street fronts) are drawn as covered, as on :func:`~fifteenmin.outputs.maps.coverage_map`."""

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
"""OpenStreetMap's own tiles (mind their usage policy: light, interactive use only)."""

OSM_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
"""The attribution of :data:`OSM_TILES`, the default for a basemap of OpenStreetMap's."""

# the palette of maps.coverage_map, so the static and the interactive map read alike
_COLOURS = {
    "no_data": NO_DATA_COLOR,
    "underserved": UNDERSERVED_COLOR,
    "coverage": COVERAGE_COLOR,
    "space_face": SPACE_FACE,
    "space_edge": SPACE_EDGE,
    "fragment": FRAGMENT_COLOR,
    "status_hatch": STATUS_HATCH_COLOR,
    "sparse_edge": SPARSE_EDGE,
}
_FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", '
    '"DejaVu Sans", Arial, sans-serif'
)


def _static(name: str) -> bytes:
    return files("fifteenmin.outputs").joinpath("static", "leaflet", name).read_bytes()


def leaflet_assets() -> tuple[str, str]:
    """The vendored Leaflet ``(javascript, css)``, ready to inline.

    The CSS images become ``data:`` URIs and the source-map comment is dropped, so the
    page asks for nothing outside itself.
    """
    js = _static("leaflet.js").decode("utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = _static("leaflet.css").decode("utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = base64.b64encode(_static(f"images/{match.group(1)}")).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    return js, css


def _round(geoms: np.ndarray, digits: int = 6) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, digits))


def _to_wgs84(gs: gpd.GeoSeries, *, simplify_m: float = SIMPLIFY_M, digits: int = 6) -> np.ndarray:
    """Outlines simplified in their projected CRS, then in EPSG:4326 rounded (6: ~0.1 m)."""
    if gs.crs is not None and gs.crs.is_projected and simplify_m > 0:
        gs = gs.simplify(simplify_m)
    return _round(gs.to_crs(4326).to_numpy(), digits)


def _show_isochrones(analysis: Analysis) -> bool:
    return len(analysis.walk.spaces) <= MAX_ISOCHRONE_SPACES


def _show_streets(analysis: Analysis) -> bool:
    return analysis.walk.streets.n_edges <= MAX_STREETS


def _outline_detail(analysis: Analysis) -> tuple[float, int]:
    """Simplification (metres) and decimals of the coverage and isochrone outlines.

    Full detail unless they have more than ``DETAIL_VERTICES`` vertices in all: a city
    with hundreds of spaces would otherwise make a page of tens of megabytes.
    """
    layers = [analysis.coverage]
    if _show_isochrones(analysis):
        layers.append(analysis.isochrones)
    vertices = sum(int(shapely.get_num_coordinates(g.geometry.to_numpy()).sum()) for g in layers)
    return (SIMPLIFY_M, 6) if vertices <= DETAIL_VERTICES else (COARSE_SIMPLIFY_M, 5)


def _features(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    feats = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": p}
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)


def share_colour(share: float | None) -> str:
    """Fill colour of a zone's share, in the classes of
    :func:`~fifteenmin.outputs.maps.coverage_map`.

    Examples
    --------
    >>> share_colour(0.1) == SHARE_COLORS[0], share_colour(1.0) == SHARE_COLORS[-1]
    (True, True)
    """
    if share is None or not np.isfinite(share):
        return NO_DATA_COLOR
    k = int(np.searchsorted(SHARE_BOUNDS, float(share), side="right")) - 1
    return SHARE_COLORS[min(max(k, 0), len(SHARE_COLORS) - 1)]


_TILE_FIELDS = re.compile(r"\{([^{}]*)\}")
_TILE_FIELDS_KNOWN = {"z", "x", "y", "-y", "s", "r"}  # what Leaflet's L.tileLayer fills in


def basemap_source(url: str, *, attribution: str | None = None) -> tuple[str, str]:
    """A tile basemap's ``(url, attribution)``, checked; an InputError says what is wrong.

    ``url`` is an XYZ template over http(s) with ``{z}``, ``{x}`` and ``{y}`` (``{-y}``,
    ``{s}`` and ``{r}`` as Leaflet knows them). The tiles' ``attribution`` is required,
    as their providers' terms ask, except for OpenStreetMap's own tiles
    (:data:`OSM_TILES`), whose default is :data:`OSM_TILE_ATTRIBUTION`.

    Examples
    --------
    >>> basemap_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    ('https://tile.openstreetmap.org/{z}/{x}/{y}.png', '© OpenStreetMap contributors')
    >>> basemap_source("https://tiles.example.org/{z}/{x}/{y}.png", attribution="© Example")
    ('https://tiles.example.org/{z}/{x}/{y}.png', '© Example')
    """
    url = str(url).strip()
    example = f"e.g. {OSM_TILES}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"basemap {url!r}: expected an http(s) tile URL template, {example}")
    fields = set(_TILE_FIELDS.findall(url))
    unknown = sorted(fields - _TILE_FIELDS_KNOWN)
    if unknown or not {"z", "x"} <= fields or not fields & {"y", "-y"}:
        what = (
            f"{{{unknown[0]}}} is not a tile field (use {{z}} {{x}} {{y}}, {{s}}, {{r}})"
            if unknown
            else "it lacks {z}, {x} or {y}"
        )
        raise InputError(f"basemap {url!r}: {what}; an XYZ tile URL template, {example}")
    text = (attribution or "").strip()
    host = (parts.hostname or "").lower()
    if not text and (host == "tile.openstreetmap.org" or host.endswith(".tile.openstreetmap.org")):
        text = OSM_TILE_ATTRIBUTION
    if not text:
        raise InputError(
            f"basemap {url!r}: give its attribution (--basemap-attribution TEXT, e.g. "
            "'© OpenStreetMap contributors, © CARTO'): the tiles' terms require it on the map"
        )
    return url, text


def _zone_layer(analysis: Analysis, t: Translator) -> tuple[dict[str, Any], str]:
    zones = analysis.zones
    minutes = [float(m) for m in analysis.parameters["minutes"]]
    m_u = float(analysis.parameters["underserved_minutes"])
    kind = "pop" if analysis.has_population else "area"
    geoms = _to_wgs84(zones.geometry)
    statuses = zone_statuses(zones)
    under = underserved_mask(zones)
    named = _space_names(analysis)
    props = []
    for (_, z), status, underserved in zip(zones.iterrows(), statuses, under, strict=True):
        share = z[N.share(kind, m_u)]
        ok = pd.notna(share) and status != N.NO_DATA
        pairs = [(t("tip_status"), t.status(status))]
        if kind == "pop":
            pairs.append((t("tip_population"), t.integer(z[N.POPULATION])))
        pairs.append((t("tip_area"), t("km2", value=t.num(z[N.AREA_KM2], 2))))
        no_data = status == N.NO_DATA
        for m in minutes:
            within = t("no_street_data") if no_data else t.pct(z[N.share(kind, m)])
            pairs.append((t("tip_within", m=t.minutes(m)), within))
        for key, col in (("tip_median", N.MEDIAN_S), ("tip_p90", N.P90_S)):
            value = z[col]
            text = t("minutes_value", value=t.num(value / 60, 1)) if pd.notna(value) else "–"
            pairs.append((t(key), text))
        nearest = z[N.NEAREST_SPACE]
        pairs.append((t("tip_nearest"), named.get(str(nearest), "–") if pd.notna(nearest) else "–"))
        pairs.append((t("tip_underserved"), t("yes") if underserved else t("no")))
        tooltip = (
            f'<div class="fm-tip"><b>{_e(z[N.ZONE_NAME])}</b> <span>({_e(z[N.ZONE_ID])})</span>'
            f"<table>{_rows(pairs)}</table></div>"
        )
        props.append(
            {
                "id": str(z[N.ZONE_ID]),
                "share": float(share) if ok else None,
                "fill": share_colour(float(share) if ok else None),
                "underserved": bool(underserved),
                "status": str(status),
                "tooltip": tooltip,
            }
        )
    name = t("layer_zones_pop" if kind == "pop" else "layer_zones_area", m=t.minutes(m_u))
    return _features(geoms, props), name


def _space_names(analysis: Analysis) -> dict[str, str]:
    """Each space's id -> ``"Name (id)"`` (the id alone where it has no name), as the
    report names the nearest space."""
    spaces = analysis.spaces
    names = spaces["name"] if "name" in spaces else pd.Series([None] * len(spaces))
    out = {}
    for sid, name in zip(spaces["space_id"].astype(str), names, strict=True):
        has = name is not None and pd.notna(name) and str(name).strip()
        out[sid] = f"{str(name).strip()} ({sid})" if has else sid
    return out


def _space_layer(analysis: Analysis, t: Translator) -> dict[str, Any]:
    spaces = analysis.spaces.to_crs(4326)
    props = []
    for _, s in spaces.iterrows():
        name = s.get("name")
        title = str(name) if pd.notna(name) and str(name).strip() else str(s["space_id"])
        pairs = [(t("tip_space"), str(s["space_id"]))]
        seats = s.get("seats")
        pairs.append((t("tip_seats"), t.integer(seats) if pd.notna(seats) else t("unknown")))
        for key, col in (("tip_address", "address"), ("tip_kind", "kind")):
            value = s.get(col)
            if value is not None and pd.notna(value) and str(value).strip():
                text = str(value)
                if col == "kind" and f"kind_{text}" in t._messages:  # in the page's language
                    text = t(f"kind_{text}")
                pairs.append((t(key), text))
        props.append(
            {
                "id": str(s["space_id"]),
                "tooltip": f'<div class="fm-tip"><b>{_e(title)}</b>'
                f"<table>{_rows(pairs)}</table></div>",
            }
        )
    return _features(_round(spaces.geometry.to_numpy()), props)


def _filled(gs: gpd.GeoSeries) -> gpd.GeoSeries:
    """``gs`` with the holes under ``FILL_HOLES_KM2`` filled (for display only): the
    blocks between covered streets are not outlined one by one."""
    filled = [fill_small_holes(g, FILL_HOLES_KM2 * 1e6) for g in gs]
    return gpd.GeoSeries(filled, index=gs.index, crs=gs.crs)


def _coverage_layers(analysis: Analysis, t: Translator) -> list[dict[str, Any]]:
    cov = analysis.coverage.sort_values("minutes", ascending=False)
    simplify_m, digits = _outline_detail(analysis)
    geoms = _to_wgs84(_filled(cov.geometry), simplify_m=simplify_m, digits=digits)
    out = []
    for m, g in zip(cov["minutes"], geoms, strict=True):
        name = t("layer_coverage", m=t.minutes(m))
        out.append({"minutes": float(m), "name": name, "data": _features(np.array([g]), [{}])})
    return out


def _isochrone_layers(analysis: Analysis, t: Translator) -> list[dict[str, Any]]:
    if not _show_isochrones(analysis):
        return []
    iso = analysis.isochrones
    simplify_m, digits = _outline_detail(analysis)
    out = []
    for m in sorted({float(v) for v in iso["minutes"]}):
        part = iso[iso["minutes"] == m]
        geoms = _to_wgs84(_filled(part.geometry), simplify_m=simplify_m, digits=digits)
        props = [{"space_id": str(sid)} for sid in part["space_id"]]
        out.append(
            {
                "minutes": m,
                "name": t("layer_isochrones", m=t.minutes(m)),
                "data": _features(geoms, props),
            }
        )
    return out


def _street_layer(analysis: Analysis) -> dict[str, Any] | None:
    if not _show_streets(analysis):
        return None
    streets = analysis.walk.streets
    lines = gpd.GeoSeries(streets.edge_geometry, crs=streets.crs)
    merged = shapely.multilinestrings(_to_wgs84(lines, simplify_m=1.0))
    return _features(np.array([merged]), [{}])


def _fragment_layer(analysis: Analysis) -> dict[str, Any] | None:
    """The street fragments not joined to the main network, as one multi-line (if any)."""
    fragments = street_fragments(analysis)
    if fragments is None or len(fragments) > MAX_STREETS:
        return None
    lines = shapely.get_parts(fragments.geometry.to_numpy())
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return None
    wgs = _to_wgs84(gpd.GeoSeries(lines, crs=fragments.crs), simplify_m=1.0)
    return _features(np.array([shapely.multilinestrings(shapely.get_parts(wgs))]), [{}])


def map_notes(analysis: Analysis, *, lang: str = "en") -> list[str]:
    """What a large analysis leaves out of the map page, one sentence each (in ``lang``).

    The street layer is left out above ``MAX_STREETS`` segments and the per-space
    isochrones above ``MAX_ISOCHRONE_SPACES`` spaces.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> map_notes(result)
    []
    """
    t = Translator(lang)
    notes = []
    if not _show_streets(analysis):
        n = analysis.walk.streets.n_edges
        notes.append(t("map_streets_omitted", n=t.integer(n), max=t.integer(MAX_STREETS)))
    if not _show_isochrones(analysis):
        n = len(analysis.walk.spaces)
        notes.append(
            t("map_isochrones_omitted", n=t.integer(n), max=t.integer(MAX_ISOCHRONE_SPACES))
        )
    return notes


def _place_layer(analysis: Analysis) -> list[dict[str, Any]]:
    """The place names (:func:`fifteenmin.outputs._places.place_names`), most important first."""
    places = place_names(analysis)
    return [
        {
            "name": str(name),
            "kind": str(kind),
            "min_zoom": MIN_ZOOM[str(kind)],
            "lat": round(float(point.y), 6),
            "lon": round(float(point.x), 6),
        }
        for name, kind, point in zip(
            places["name"], places["kind"], places.geometry.to_numpy(), strict=True
        )
    ]


def _bounds(analysis: Analysis) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of the zones with street data and the spaces
    (as the static maps frame them): a small extract among a city's zones is not a dot."""
    zones = analysis.zones
    box = shapely.box(*_map_bounds(analysis, zones))
    w, s, e, n = gpd.GeoSeries([box], crs=zones.crs).to_crs(4326).total_bounds
    return [[float(s), float(w)], [float(n), float(e)]]


def map_data(
    analysis: Analysis,
    *,
    lang: str = "en",
    basemap: str | None = None,
    basemap_attribution: str | None = None,
) -> dict[str, Any]:
    """Everything the map page shows, as one JSON-ready dict (GeoJSON in EPSG:4326).

    Keys: ``zones``, ``spaces``, ``streets`` (GeoJSON; ``None`` above ``MAX_STREETS``
    segments), ``coverage`` and ``isochrones`` (lists of ``{"minutes", "name", "data"}``,
    one per threshold; no isochrones above ``MAX_ISOCHRONE_SPACES`` spaces), ``places``
    (``{"name", "kind", "min_zoom", "lat", "lon"}``, the most important first; see
    :func:`fifteenmin.outputs._places.place_names`), ``basemap`` (``{"url", "attribution"}``, the
    attribution as HTML, or ``None``; see :func:`basemap_source`), ``bounds``
    (``[[south, west], [north, east]]`` of the zones with street data and the spaces),
    ``labels`` (texts in ``lang``), ``legend`` and ``notes`` (:func:`map_notes`).
    Coverage and isochrone outlines have their holes under ``FILL_HOLES_KM2`` filled and
    are simplified by ``SIMPLIFY_M``, or by ``COARSE_SIMPLIFY_M`` above
    ``DETAIL_VERTICES`` vertices.
    """
    t = Translator(lang)
    tiles = None
    if basemap is not None:
        url, attribution = basemap_source(basemap, attribution=basemap_attribution)
        tiles = {"url": url, "attribution": _e(attribution)}
    m_u = t.minutes(float(analysis.parameters["underserved_minutes"]))
    zones, zone_name = _zone_layer(analysis, t)
    pop = analysis.has_population
    statuses = set(zone_statuses(analysis.zones))
    fragments = _fragment_layer(analysis)
    # grey without hatching: zones with streets but no figures (no residents)
    grey = any(
        f["properties"]["fill"] == NO_DATA_COLOR and f["properties"]["status"] != N.NO_DATA
        for f in zones["features"]
    )
    return {
        "zones": zones,
        "spaces": _space_layer(analysis, t),
        "streets": _street_layer(analysis),
        "fragments": fragments,
        "coverage": _coverage_layers(analysis, t),
        "isochrones": _isochrone_layers(analysis, t),
        "places": _place_layer(analysis),
        "basemap": tiles,
        "bounds": _bounds(analysis),
        "labels": {
            "zones": zone_name,
            "spaces": t("layer_spaces"),
            "streets": t("layer_streets"),
            "fragments": t("layer_fragments"),
            "places": t("layer_places"),
            "basemap": t("layer_basemap"),
            "attribution": _e(" · ".join(attribution_lines(analysis, lang))),  # as HTML
        },
        "legend": {
            "title": t("legend_pop" if pop else "legend_area", m=m_u),
            "classes": [
                [colour, f"{t.pct(lo, 0)}–{t.pct(hi, 0)}"]
                for colour, lo, hi in zip(
                    SHARE_COLORS, SHARE_BOUNDS[:-1], SHARE_BOUNDS[1:], strict=True
                )
            ],
            "no_data": t("legend_no_data") if pop and grey else "",
            "status_no_data": t("map_status_no_data") if N.NO_DATA in statuses else "",
            "status_sparse": t("map_status_sparse") if N.SPARSE_STREETS in statuses else "",
            "fragments": t("map_fragments") if fragments is not None else "",
            "underserved": t("legend_underserved"),
            "coverage": t("layer_coverage", m=m_u),
            "space": t("legend_space"),
        },
        "colours": _COLOURS,
        "notes": map_notes(analysis, lang=lang),
    }


_PAGE_CSS = """
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font-family: __FONTS__; color: #1d2329; }
header { padding: 8px 14px; border-bottom: 1px solid #d8dde3; background: #f7f9fb; }
header h1 { font-size: 1.15em; margin: 0; }
header p { margin: 2px 0 0; font-size: 0.88em; color: #3c4650; }
header .note { color: #6b4e00; font-weight: 600; }
header .omitted { color: #6b4e00; }
#map { flex: 1 1 auto; min-height: 300px; background: #f2efe9; }
.fm-tip table { border-collapse: collapse; margin-top: 4px; }
.fm-tip th { text-align: left; font-weight: normal; color: #5c6770; padding: 0 8px 0 0; }
.fm-tip td { text-align: right; font-variant-numeric: tabular-nums; padding: 0; }
.fm-legend { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  font-size: 12px; line-height: 1.4; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.fm-legend .key { display: flex; align-items: center; gap: 6px; margin-top: 3px; }
.fm-legend .swatch { width: 16px; height: 11px; display: inline-block; box-sizing: border-box; }
.fm-zone.fm-nodata { fill: url(#fm-hatch-nodata); }
.fm-legend .dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block;
  box-sizing: border-box; }
.leaflet-pane > svg { pointer-events: none; }
.fm-place span { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
  white-space: nowrap; font-size: 11px; line-height: 1.2; color: #22272c;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.fm-place-street span { font-style: italic; font-size: 10.5px; color: #3a4047; }
.fm-place-square span { font-weight: 600; }
.fm-place-station span { font-weight: 700; color: #17375e; }
.fm-place-landmark span { font-style: italic; font-weight: 600; color: #5b3a12; }
.fm-place-suburb span, .fm-place-quarter span, .fm-place-neighbourhood span {
  text-transform: uppercase; letter-spacing: 0.07em; font-weight: 600; color: #454b52; }
.fm-place-suburb span { font-size: 13px; }
"""

_HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="fm-hatch-nodata" width="7" height="7" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)">'
    f'<rect width="7" height="7" fill="{NO_DATA_COLOR}"/>'
    f'<line x1="0" y1="0" x2="0" y2="7" stroke="{STATUS_HATCH_COLOR}" stroke-width="2"/>'
    "</pattern></defs></svg>"
)
"""The hatching of zones without street data (the SVG pattern the map's CSS fills with)."""

_BASEMAP_JS = """tiles = L.tileLayer(D.basemap.url, {attribution: D.basemap.attribution,
    maxZoom: 19, className: 'fm-basemap'});"""
"""The tile layer, in the page only with a basemap: an offline page holds no tile code."""

_PAGE_JS = """
(function () {
  var D = JSON.parse(document.getElementById('fm-data').textContent);
  var C = D.colours;
  var map = L.map('map', {preferCanvas: false, zoomSnap: 0.25, maxZoom: 19});
  window.fifteenminMap = map;  // for the browser console
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(D.labels.attribution + ' | Leaflet');
  // panes, bottom to top (tiles below all): only the zones and the spaces take the
  // pointer, so a zone answers hover and click under the coverage and the names
  [['fm-streets', 410, false], ['fm-zones', 420, true], ['fm-cover', 430, false],
   ['fm-places', 440, false], ['fm-spaces', 450, true]].forEach(function (p) {
    var pane = map.createPane(p[0]);
    pane.style.zIndex = p[1];
    if (!p[2]) { pane.style.pointerEvents = 'none'; }
  });
  function tip(layer, feature) {
    if (feature.properties && feature.properties.tooltip) {
      layer.bindTooltip(feature.properties.tooltip, {sticky: true, direction: 'auto'});
    }
  }
  var overlays = {};
  var tiles = null;
  /*__BASEMAP__*/
  if (tiles) { overlays[D.labels.basemap] = tiles; }
  var streets = D.streets && L.geoJSON(D.streets, {interactive: false, pane: 'fm-streets',
    style: {color: '#555', weight: 0.6, opacity: 0.55}});
  if (streets) { overlays[D.labels.streets] = streets; }
  var fragments = D.fragments && L.geoJSON(D.fragments, {interactive: false, pane: 'fm-cover',
    style: {color: C.fragment, weight: 1.6, opacity: 0.9, dashArray: '4 3',
            className: 'fm-fragment'}});
  if (fragments) { overlays[D.labels.fragments] = fragments; }
  var zones = L.geoJSON(D.zones, {
    pane: 'fm-zones',
    style: function (f) {
      var p = f.properties, sparse = p.status === 'sparse_streets';
      return {fillColor: p.fill, fillOpacity: tiles ? 0.55 : 0.75,
              color: p.underserved ? C.underserved : (sparse ? C.sparse_edge : '#ffffff'),
              weight: p.underserved ? 2.5 : (sparse ? 1.5 : 1),
              dashArray: sparse ? '5 3' : null,
              className: 'fm-zone' + (p.underserved ? ' fm-underserved' : '') +
                (p.status === 'no_data' ? ' fm-nodata' : '') + (sparse ? ' fm-sparse' : '')};
    },
    onEachFeature: function (f, layer) {
      tip(layer, f);
      layer.on('mouseover', function () {
        layer.setStyle({weight: 3, color: '#111'});
        layer.bringToFront();
      });
      layer.on('mouseout', function () { zones.resetStyle(layer); });
    }
  });
  overlays[D.labels.zones] = zones;
  var dashes = [null, '6 3', '2 3'];
  D.coverage.forEach(function (c, i) {
    overlays[c.name] = L.geoJSON(c.data, {interactive: false, pane: 'fm-cover',
      style: {color: C.coverage, weight: 1.4, dashArray: dashes[Math.min(i, 2)],
              fillColor: C.coverage, fillOpacity: 0.08, className: 'fm-coverage'}});
  });
  D.isochrones.forEach(function (c) {
    overlays[c.name] = L.geoJSON(c.data, {interactive: false, pane: 'fm-cover',
      style: {color: '#08519c', weight: 1, fillOpacity: 0.04, dashArray: '4 3',
              className: 'fm-isochrone'}});
  });
  var spaces = L.geoJSON(D.spaces, {
    pane: 'fm-spaces',
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {radius: 6, color: C.space_edge, weight: 1.5,
        fillColor: C.space_face, fillOpacity: 1, className: 'fm-space', pane: 'fm-spaces'});
    },
    onEachFeature: function (f, l) { tip(l, f); }
  });
  overlays[D.labels.spaces] = spaces;
  // place names: each from its zoom on, the more important first where two would meet
  var places = L.layerGroup();
  var names = D.places.map(function (p) {
    var text = document.createElement('span');
    text.textContent = p.name;
    var marker = L.marker([p.lat, p.lon], {pane: 'fm-places', interactive: false,
      keyboard: false, icon: L.divIcon({html: text, iconSize: null,
                                        className: 'fm-place fm-place-' + p.kind})});
    marker.addTo(places);
    return {marker: marker, minZoom: p.min_zoom};
  });
  if (names.length) { overlays[D.labels.places] = places; }
  function showPlaces() {
    if (!map.hasLayer(places)) { return; }
    var z = map.getZoom(), box = map.getContainer().getBoundingClientRect();
    var kept = Array.prototype.map.call(  // nor under the controls
      map.getContainer().querySelectorAll('.leaflet-control'),
      function (el) { return el.getBoundingClientRect(); });
    names.forEach(function (n) {
      var el = n.marker.getElement();
      if (!el) { return; }
      el.style.display = z >= n.minZoom ? '' : 'none';
      if (z < n.minZoom) { return; }
      var r = el.firstChild.getBoundingClientRect();
      var show = r.left >= box.left && r.right <= box.right && r.top >= box.top &&
        r.bottom <= box.bottom && !kept.some(function (k) {
          return r.left < k.right + 4 && r.right > k.left - 4 &&
            r.top < k.bottom + 2 && r.bottom > k.top - 2;
        });
      if (show) { kept.push(r); } else { el.style.display = 'none'; }
    });
  }
  if (tiles) { tiles.addTo(map); }
  if (streets) { streets.addTo(map); }
  zones.addTo(map);
  if (fragments) { fragments.addTo(map); }
  D.coverage.forEach(function (c) {
    if (c.minutes === D.underserved_minutes) { overlays[c.name].addTo(map); }
  });
  spaces.addTo(map);
  if (names.length) { places.addTo(map); }
  L.control.layers(null, overlays, {collapsed: false}).addTo(map);
  L.control.scale({imperial: false}).addTo(map);
  var legend = L.control({position: 'bottomright'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'fm-legend');
    var G = D.legend;
    var title = L.DomUtil.create('b', '', div);
    title.textContent = G.title;
    function key(swatch, text) {
      var k = L.DomUtil.create('div', 'key', div);
      k.appendChild(swatch);
      var s = document.createElement('span'); s.textContent = text; k.appendChild(s);
    }
    function swatch(fill, border) {
      var w = document.createElement('span'); w.className = 'swatch';
      w.style.background = fill; w.style.border = border || 'none';
      return w;
    }
    G.classes.slice().reverse().forEach(function (c) { key(swatch(c[0]), c[1]); });
    if (G.no_data) { key(swatch(C.no_data), G.no_data); }
    if (G.status_no_data) {
      key(swatch('repeating-linear-gradient(135deg, ' + C.status_hatch + ' 0 1.5px, ' +
                 C.no_data + ' 1.5px 5px)'), G.status_no_data);
    }
    if (G.status_sparse) { key(swatch('transparent', '1.5px dashed ' + C.sparse_edge),
                               G.status_sparse); }
    key(swatch('transparent', '2.5px solid ' + C.underserved), G.underserved);
    key(swatch('transparent', '1.5px solid ' + C.coverage), G.coverage);
    if (G.fragments) {
      var line = swatch('transparent'); line.style.height = '0';
      line.style.borderTop = '2px dashed ' + C.fragment;
      key(line, G.fragments);
    }
    var d = document.createElement('span'); d.className = 'dot';
    d.style.background = C.space_face; d.style.border = '1.5px solid ' + C.space_edge;
    key(d, G.space);
    return div;
  };
  legend.addTo(map);
  map.on('zoomend moveend resize overlayadd', showPlaces);
  map.fitBounds(D.bounds, {padding: [12, 12]});
  showPlaces();
  document.body.setAttribute('data-ready', '1');
})();
"""


def map_html(
    analysis: Analysis,
    *,
    lang: str = "en",
    basemap: str | None = None,
    basemap_attribution: str | None = None,
) -> str:
    """The interactive map as one self-contained HTML page.

    Layers (switchable): walkable streets, zones coloured by the share within the
    underserved walk (hover or click for the zone's figures, whatever is drawn over
    it), the area covered within each threshold, the per-space isochrones of each
    threshold (off at first), place names (squares, main streets, stations, landmarks,
    districts; each kind from its zoom on, the less important left out where two would
    meet) and the spaces (hover for name and seats). Leaflet and the data are inlined;
    without ``basemap`` there is no tile layer, so the page needs no network. To keep
    the page light for a large city, the streets (above ``MAX_STREETS`` segments) and
    the per-space isochrones (above ``MAX_ISOCHRONE_SPACES`` spaces) are left out, with
    a note under the title, and the outlines are simplified more (see :func:`map_data`).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    lang
        ``"en"`` (default) or ``"it"``.
    basemap
        An XYZ tile URL template drawn under the zones, e.g. :data:`OSM_TILES`; the page
        then loads tiles from it. Default: none.
    basemap_attribution
        The tiles' attribution, shown on the map; required except for OpenStreetMap's
        own tiles (see :func:`basemap_source`).
    """
    t = Translator(lang)
    data = map_data(analysis, lang=lang, basemap=basemap, basemap_attribution=basemap_attribution)
    data["underserved_minutes"] = float(analysis.parameters["underserved_minutes"])
    payload = json_for_html(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    js, css = leaflet_assets()
    page_css = _PAGE_CSS.replace("__FONTS__", _FONT_STACK)
    page_js = _PAGE_JS.replace("/*__BASEMAP__*/", _BASEMAP_JS if data["basemap"] else "")
    note = f'<p class="note">{_e(t.note(analysis.note))}</p>' if analysis.note else ""
    note += "".join(f'<p class="omitted">{_e(text)}</p>' for text in data["notes"])
    title = t("map_title")
    return (
        f'<!DOCTYPE html>\n<html lang="{t.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title>"
        f"<style>{css}</style><style>{page_css}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>{_e(t('map_hint'))}</p>{note}</header>"
        f"{_HATCH_SVG}"
        '<div id="map"></div>'
        f'<script type="application/json" id="fm-data">{payload}</script>'
        f"<script>{js}</script><script>{page_js}</script></body></html>\n"
    )


def write_map(
    analysis: Analysis,
    path: str | Path,
    *,
    lang: str = "en",
    basemap: str | None = None,
    basemap_attribution: str | None = None,
) -> Path:
    """Write :func:`map_html` to ``path`` (UTF-8); returns the path.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> page = write_map(result, getfixture("tmp_path") / "map.html").read_text(encoding="utf-8")
    >>> "<script src=" in page, "L.geoJSON" in page
    (False, True)
    """
    path = Path(path)
    page = map_html(analysis, lang=lang, basemap=basemap, basemap_attribution=basemap_attribution)
    path.write_text(page, encoding="utf-8")
    logger.debug("wrote %s", path)
    return path
