"""Small geometry helpers shared by the input stages."""

from __future__ import annotations

import numpy as np
import shapely


def polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygonal part of a geometry (an empty MultiPolygon if none).

    Examples
    --------
    >>> polygonal(shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])).area
    1.0
    """
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def substrings(geoms: np.ndarray, start: np.ndarray | float, end: np.ndarray | float) -> np.ndarray:
    """Vectorised ``shapely.ops.substring`` for ``0 <= start < end <= length``."""
    n = len(geoms)
    if n == 0:
        return np.empty(0, dtype=object)
    start = np.broadcast_to(np.asarray(start, dtype=float), n)
    end = np.broadcast_to(np.asarray(end, dtype=float), n)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(owner, minlength=n)
    first = np.cumsum(counts) - counts
    seg = np.linalg.norm(np.diff(coords, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    along = cum - np.repeat(cum[first], counts)  # distance of each vertex along its line
    inside = (along > np.repeat(start, counts)) & (along < np.repeat(end, counts))
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    # assemble: start point, interior vertices, end point
    keys = np.concatenate([np.arange(n), owner[inside], np.arange(n)])
    rank = np.concatenate([np.full(n, -np.inf), along[inside], np.full(n, np.inf)])
    pts = np.concatenate([p0, coords[inside], p1])
    order = np.lexsort((rank, keys))
    return np.asarray(shapely.linestrings(pts[order], indices=keys[order]), dtype=object)


def parts_inside(geoms: np.ndarray, polygon: shapely.Geometry) -> np.ndarray:
    """The part of each geometry inside ``polygon``, intersecting only where needed.

    Geometries wholly inside (a prepared ``covers``) are kept as they are, those outside
    become empty, and only those crossing the border are intersected: with many small
    zones (hexagons) and a detailed polygon, most need no overlay.

    Examples
    --------
    >>> parts = parts_inside(np.array([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6),
    ...                                shapely.box(1, 1, 3, 3)]), shapely.box(0, 0, 2, 2))
    >>> [round(p.area, 6) for p in parts]
    [1.0, 0.0, 1.0]
    """
    shapely.prepare(polygon)
    inside = shapely.covers(polygon, geoms)
    touching = shapely.intersects(polygon, geoms)
    out = np.where(inside, geoms, shapely.Polygon())
    cut = touching & ~inside
    if cut.any():
        out[cut] = shapely.intersection(geoms[cut], polygon)
    return out


def mask_boxes(mask: np.ndarray, x0: float, y0: float, size: float) -> np.ndarray:
    """Rectangles covering the true cells of ``mask`` (row ``i`` at ``y0 + i * size``):
    runs along rows, stacked where consecutive rows have the same run."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    row, start = np.nonzero(edges == 1)
    _, stop = np.nonzero(edges == -1)
    order = np.lexsort((row, stop, start))
    row, start, stop = row[order], start[order], stop[order]
    first = np.ones(len(row), dtype=bool)
    first[1:] = (start[1:] != start[:-1]) | (stop[1:] != stop[:-1]) | (row[1:] != row[:-1] + 1)
    top = np.maximum.reduceat(row, np.flatnonzero(first)) if len(row) else row
    return np.asarray(
        shapely.box(
            x0 + start[first] * size,
            y0 + row[first] * size,
            x0 + stop[first] * size,
            y0 + (top + 1) * size,
        ),
        dtype=object,
    )
