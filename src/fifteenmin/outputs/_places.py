"""Place names for the interactive map: districts, stations, landmarks, squares and main streets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._osm import read_tagged_features
from ..errors import InputError

if TYPE_CHECKING:
    from ..network import StreetNetwork
    from ..pipeline import Analysis

logger = logging.getLogger(__name__)

MAX_PLACE_NAMES = 200
"""At most this many names go into the map page, the most important first."""

STREET_HIGHWAYS = ("primary", "secondary", "tertiary", "pedestrian")
"""``highway=*`` values of the streets that get a name on the map (the longest first)."""

MIN_ZOOM = {
    "suburb": 12,
    "quarter": 13,
    "station": 13,
    "neighbourhood": 14,
    "square": 15,
    "street": 15,
    "landmark": 16,
}
"""The Leaflet zoom from which each kind of name is shown (15: about 3.5 m a pixel)."""

_DISTRICTS = ("suburb", "quarter", "neighbourhood")
_TIERED = ("suburb", "quarter", "station", "neighbourhood")  # before all the others
_ROUND_ROBIN = ("square", "street", "landmark")  # taken in turn, each by its own rank
_MIN_SQUARE_M2 = 1_000.0  # a named street closing around less is not a square
_SQUARE_ROUNDNESS = 0.4  # 4 pi area / perimeter²: 0.79 a square, 0.5 a 4:1 rectangle
_QUERY: dict[str, list[str] | str | bool] = {
    "place": ["square", *_DISTRICTS],
    "railway": "station",
    "tourism": "attraction",
    "historic": True,
    "highway": "pedestrian",
}


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": pd.Series(dtype=str), "kind": pd.Series(dtype=str)},
        geometry=gpd.GeoSeries([], crs=4326),
    )


def _feature_kind(tags: dict[str, str], has_shape: bool) -> str | None:
    """What a tagged OSM feature is on the map (None: no label)."""
    place = tags.get("place")
    if place in _DISTRICTS:
        return place
    if tags.get("railway") == "station":
        return "station"
    if place == "square":
        return "square"
    if tags.get("highway") == "pedestrian":
        multipolygon = tags.get("type") == "multipolygon"
        if has_shape and (tags.get("area") == "yes" or multipolygon):
            return "square"
        return None  # a pedestrian street: among the streets
    if tags.get("tourism") == "attraction" or "historic" in tags:
        return "landmark"
    return None


def _file_places(path: Path, area: shapely.Geometry) -> list[dict[str, object]]:
    """Named districts, stations, landmarks and squares of the OSM file inside ``area``."""
    rows: list[dict[str, object]] = []
    for f in read_tagged_features(path, _QUERY, polygon=area, areas=True):
        name = (f.tags.get("name") or "").strip()
        kind = _feature_kind(f.tags, f.shape is not None)
        if not name or kind is None:
            continue
        point = shapely.Point(f.lon, f.lat)
        if f.shape is not None:
            point = f.shape.point_on_surface()
        if not area.intersects(point):
            continue  # an area that reaches in, labelled outside
        # size ranks squares and landmarks; a wiki article marks a landmark worth naming
        size = float(f.shape.area) if f.shape is not None else 0.0
        famous = bool(f.tags.get("wikidata") or f.tags.get("wikipedia"))
        rows.append({"name": name, "kind": kind, "rank": (famous, size), "geometry": point})
    return rows


def _street_places(streets: StreetNetwork, area: shapely.Geometry) -> list[dict[str, object]]:
    """The named main streets, one label each at the middle of its longest stretch; a
    named street that closes around a roundish block (Piazza Vittorio Emanuele II) is
    that square, labelled at its middle."""
    attrs = streets.edge_attrs
    if "name" not in attrs.columns or "highway" not in attrs.columns:
        return []
    names = attrs["name"].where(attrs["name"].map(lambda v: isinstance(v, str)))
    main = attrs["highway"].isin(STREET_HIGHWAYS).to_numpy() & names.notna().to_numpy()
    if not main.any():
        return []
    lines = gpd.GeoDataFrame(
        {"name": names[main].str.strip().to_numpy()},
        geometry=gpd.GeoSeries(streets.edge_geometry[main], crs=streets.crs),
    )
    found: list[tuple[str, str, float, shapely.Geometry]] = []  # name, kind, size, point
    for name, group in lines.groupby("name", sort=True):
        if not name:
            continue
        merged = shapely.line_merge(shapely.union_all(group.geometry.to_numpy()))
        square = _enclosed_square(merged)
        if square is not None:
            found.append((name, "square", float(square.area), square.point_on_surface()))
            continue
        parts = shapely.get_parts(merged)
        longest = parts[int(np.argmax(shapely.length(parts)))]
        middle = shapely.line_interpolate_point(longest, 0.5, normalized=True)
        found.append((name, "street", float(shapely.length(merged)), middle))
    if not found:
        return []
    points = gpd.GeoSeries([f[3] for f in found], crs=streets.crs).to_crs(4326).to_numpy()
    return [
        {"name": name, "kind": kind, "rank": (False, size), "geometry": point}
        for (name, kind, size, _), point in zip(found, points, strict=True)
        if area.intersects(point)
    ]


def _enclosed_square(lines: shapely.Geometry) -> shapely.Geometry | None:
    """The roundish area a street's lines close around, if it is one of at least
    ``_MIN_SQUARE_M2`` (a long dual carriageway closes around a thin strip: not one)."""
    polygons = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    if len(polygons) == 0:
        return None
    parts = shapely.get_parts(shapely.union_all(polygons))
    shape = parts[int(np.argmax(shapely.area(parts)))]  # the largest, if several
    area = float(shape.area)
    roundness = 4 * np.pi * area / float(shapely.length(shape.exterior)) ** 2
    return shape if area >= _MIN_SQUARE_M2 and roundness >= _SQUARE_ROUNDNESS else None


def _ordered(rows: Sequence[dict[str, object]], limit: int) -> gpd.GeoDataFrame:
    """Each name once (its most important place), the most important first, ``limit`` at
    most: districts and stations, then squares, streets and landmarks in turn, each
    kind by its own rank (a wiki article, then size)."""
    by_kind: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_kind.setdefault(str(row["kind"]), []).append(row)
    keys: list[tuple[int, int, int]] = []
    ordered: list[dict[str, object]] = []
    for kind, group in by_kind.items():
        group.sort(key=lambda r: r["rank"], reverse=True)  # type: ignore[arg-type,return-value]
        for i, row in enumerate(group):
            if kind in _TIERED:
                keys.append((_TIERED.index(kind), i, 0))
            else:
                keys.append((len(_TIERED), i, _ROUND_ROBIN.index(kind)))
            ordered.append(row)
    seen: set[str] = set()
    out = []
    for _, row in sorted(zip(keys, ordered, strict=True), key=lambda kr: kr[0]):
        name = str(row["name"])
        if name.casefold() in seen:
            continue
        seen.add(name.casefold())
        out.append({"name": name, "kind": row["kind"], "geometry": row["geometry"]})
        if len(out) >= limit:
            break
    if not out:
        return _empty()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def place_names(analysis: Analysis, *, limit: int = MAX_PLACE_NAMES) -> gpd.GeoDataFrame:
    """Names to write on the map, inside the study area, the most important first.

    Districts (``place=suburb/quarter/neighbourhood``), stations (``railway=station``),
    landmarks (``tourism=attraction``, ``historic=*``) and squares (``place=square``, named
    pedestrian areas) are read from the OSM file the analysis read its network from; the
    main streets (named ``highway`` in :data:`STREET_HIGHWAYS`, the longest first) come
    from its street network. A network given as a graph has no file: only the streets.
    Columns ``name``, ``kind`` (a key of :data:`MIN_ZOOM`) and ``geometry`` (points in
    EPSG:4326); each name once; ``limit`` rows at most.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> names = place_names(result)
    >>> list(names.columns), set(names["kind"]) <= set(MIN_ZOOM)
    (['name', 'kind', 'geometry'], True)
    """
    streets = analysis.walk.streets
    if analysis.study_area is not None:
        area = analysis.study_area.polygon
    else:  # (an analysis made by hand) the streets' box
        box = gpd.GeoSeries([shapely.box(*streets.bounds())], crs=streets.crs)
        area = shapely.box(*box.to_crs(4326).total_bounds)
    rows = _street_places(streets, area)
    network = analysis.inputs.get("network")
    path = network.get("path") if isinstance(network, dict) else None
    if path is not None:
        try:
            rows = _file_places(Path(path), area) + rows
        except (InputError, OSError) as exc:
            logger.warning("%s: place names not read (%s); the map names streets only", path, exc)
    return _ordered(rows, limit)
