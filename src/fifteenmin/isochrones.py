"""Isochrones: the streets reachable within a walk (partial segments too), buffered."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely
from scipy import ndimage

from ._geom import mask_boxes, substrings
from ._io import ProgressBar
from .errors import InputError
from .travel import SearchGraph, WalkTimes, reachable_parts

logger = logging.getLogger(__name__)

DEFAULT_MINUTES = (5, 10, 15)
DEFAULT_BUFFER_M = 50.0


def reached_lines(graph: SearchGraph, dist_m: np.ndarray, limit_m: float) -> np.ndarray:
    """Street and connector lines within ``limit_m`` of walking, given node distances.

    A partly reachable segment contributes its reachable part(s), measured along the
    street from whichever end(s) are reached. Only the edges touching a reached node
    are looked at, so the cost follows the size of the isochrone, not of the city.
    """
    return _reach(graph, dist_m, limit_m)[0]


def _reach(
    graph: SearchGraph, dist_m: np.ndarray, limit_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reached lines, the edge of each line, and the edges reached in full."""
    edges = graph.edges_touching(np.flatnonzero(dist_m <= limit_m))
    length = graph.length_m[edges]
    a, b = reachable_parts(length, dist_m[graph.u[edges]], dist_m[graph.v[edges]], limit_m)
    a0, b0 = np.nan_to_num(a), np.nan_to_num(b)
    full = a0 + b0 >= length
    lines, owner = [graph.geometry[edges[full]]], [edges[full]]
    partial = edges[~full]
    if len(partial):
        geoms = graph.geometry[partial]
        glen = shapely.length(geoms)
        lp = length[~full]
        scale = np.divide(glen, lp, out=np.zeros_like(glen), where=lp > 0)
        ap, bp = a0[~full] * scale, b0[~full] * scale
        head, tail = ap > 0, bp > 0
        lines += [
            substrings(geoms[head], 0.0, ap[head]),
            substrings(geoms[tail], glen[tail] - bp[tail], glen[tail]),
        ]
        owner += [partial[head], partial[tail]]
    return np.concatenate(lines), np.concatenate(owner), edges[full]


def nested_polygons(
    graph: SearchGraph,
    dist_m: np.ndarray,
    limits_m: Sequence[float],
    buffer_m: float,
    *,
    interior: bool = True,
) -> list[shapely.Geometry]:
    """Isochrone polygons for increasing ``limits_m`` from one set of node distances.

    Each polygon is the previous one united with the buffers of the lines that were not
    yet reached in full: the same polygon as buffering all its lines, for less work.
    With ``interior``, the buffers lying wholly inside ground that is certainly covered
    (see :func:`_interior_boxes`) are replaced by that ground: again the same polygon.
    """
    polygons: list[shapely.Geometry] = []
    done = np.zeros(0, dtype=np.int64)
    for limit in limits_m:
        lines, owner, full = _reach(graph, dist_m, limit)
        new = lines[~np.isin(owner, done)]
        boxes = np.empty(0, dtype=object)
        if interior:
            new, boxes = _interior_boxes(new, graph.geometry[full], buffer_m)
        parts = np.concatenate(
            [
                shapely.buffer(new, buffer_m, quad_segs=_QUAD_SEGS),
                boxes,
                np.array(polygons[-1:], dtype=object),
            ]
        )
        polygons.append(_union(parts))
        done = full
    return polygons


_QUAD_SEGS = 4  # segments per quarter circle of the buffers: at most 1 m short of 50 m
_FINE_CELLS = 5  # fine grid cells per certainly-covered radius
_BLOCK = 3  # fine cells per side of a coarse cell
_MAX_GRID_CELLS = 4_000_000


def _interior_boxes(
    lines: np.ndarray, full_lines: np.ndarray, buffer_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the lines whose buffer lies in ground certainly covered by ``full_lines``.

    Returns the remaining lines and boxes tiling the covered ground that was used. Every
    point within ``r`` of a line is inside its buffer polygon, where ``r`` is the buffer
    width less the chord error of its arcs. On a fine grid of side ``r / 5``, the cells
    holding points of ``full_lines`` are marked, then every cell whose every point is
    within ``r`` of a marked cell's point (a dilation); coarse cells of 3 x 3 fine ones
    wholly covered make the boxes. A line's buffer lies inside them when its bounding box
    widened by ``buffer_m`` does. The union of the boxes and the remaining buffers is
    the union of all the buffers, while the buffering and union work falls with the
    lines dropped (about half of a 15-minute isochrone's, a third less time).
    """
    none = np.empty(0, dtype=object)
    radius = buffer_m * np.cos(np.pi / (4 * _QUAD_SEGS)) * 0.99
    full_lines = full_lines[shapely.length(full_lines) > 0]
    if radius <= 0 or len(full_lines) == 0 or len(lines) == 0:
        return lines, none
    fine = radius / _FINE_CELLS
    coarse = fine * _BLOCK
    xy = shapely.get_coordinates(shapely.segmentize(full_lines, fine / 2))
    x0 = np.floor(xy[:, 0].min() / coarse) * coarse - 2 * coarse
    y0 = np.floor(xy[:, 1].min() / coarse) * coarse - 2 * coarse
    ix = ((xy[:, 0] - x0) // fine).astype(np.int64)
    iy = ((xy[:, 1] - y0) // fine).astype(np.int64)
    height = (int(iy.max()) // _BLOCK + 3) * _BLOCK
    width = (int(ix.max()) // _BLOCK + 3) * _BLOCK
    if height * width > _MAX_GRID_CELLS:
        return lines, none
    marked = np.zeros((height, width), dtype=bool)
    marked[iy, ix] = True
    covered = ndimage.binary_dilation(marked, structure=_footprint(_FINE_CELLS))
    blocks = covered.reshape(height // _BLOCK, _BLOCK, width // _BLOCK, _BLOCK).all(axis=(1, 3))
    # uncovered coarse cells in any rectangle, from a summed-area table
    gaps = np.zeros((blocks.shape[0] + 1, blocks.shape[1] + 1), dtype=np.int64)
    gaps[1:, 1:] = np.cumsum(np.cumsum(~blocks, axis=0), axis=1)
    b = shapely.bounds(lines)
    c0 = np.floor((b[:, 0] - buffer_m - x0) / coarse).astype(np.int64)
    c1 = np.floor((b[:, 2] + buffer_m - x0) / coarse).astype(np.int64)
    r0 = np.floor((b[:, 1] - buffer_m - y0) / coarse).astype(np.int64)
    r1 = np.floor((b[:, 3] + buffer_m - y0) / coarse).astype(np.int64)
    within = (c0 >= 0) & (r0 >= 0) & (c1 < blocks.shape[1]) & (r1 < blocks.shape[0])
    c0, r0 = np.clip(c0, 0, None), np.clip(r0, 0, None)
    c1, r1 = np.minimum(c1, blocks.shape[1] - 1), np.minimum(r1, blocks.shape[0] - 1)
    n_gaps = gaps[r1 + 1, c1 + 1] - gaps[r0, c1 + 1] - gaps[r1 + 1, c0] + gaps[r0, c0]
    inside = within & (n_gaps == 0)
    if not inside.any():
        return lines, none
    return lines[~inside], mask_boxes(blocks, x0, y0, coarse)


def _footprint(cells: int) -> np.ndarray:
    """Offsets (in cells) of the cells wholly within ``cells`` cell sides of any point
    of the centre cell."""
    d = np.abs(np.arange(-cells, cells + 1))
    return ((d[:, None] + 1) ** 2 + (d[None, :] + 1) ** 2) <= cells**2


def _union(parts: np.ndarray) -> shapely.Geometry:
    # buffering lines one by one then a cascaded union is ~40x faster than buffering
    # one MultiLineString, and gives the same polygon
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def isochrones(
    walk: WalkTimes,
    *,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    buffer_m: float = DEFAULT_BUFFER_M,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """One polygon per space and threshold: the streets within that walk, buffered.

    Parameters
    ----------
    walk
        Result of :func:`~fifteenmin.travel.walk_times`.
    minutes
        Thresholds in minutes.
    buffer_m
        Distance around the reachable street lines counted as covered.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        ``space_id``, ``minutes``, ``area_km2``, ``geometry`` (in the network's CRS).
    """
    minutes = _checked(minutes, buffer_m)
    limits = [walk.minutes_to_m(m) for m in minutes]
    ids = walk.spaces["space_id"].astype(str).to_numpy()
    # spaces at one point with one access point share their isochrones: searched once
    first, group = walk.distinct_spaces()
    polygons: list[shapely.Geometry] = []
    bar = ProgressBar(total=len(first), desc="isochrones", unit="space", disable=not progress)
    # GEOS releases the GIL, so threads share the buffering and union work across cores;
    # this thread meanwhile runs the next block's searches, one block ahead (memory: a
    # block of distances is one row of node distances per space)
    pool = ThreadPoolExecutor(max_workers=threads())
    try:
        pending: list[Future[list[shapely.Geometry]]] = []
        for _, dist in walk.per_space_m(limits[-1], spaces=first):
            submitted = [
                pool.submit(nested_polygons, walk.graph, d, limits, buffer_m) for d in dist
            ]
            _collect(pending, polygons, bar)
            pending = submitted
        _collect(pending, polygons, bar)
    except BaseException:  # Ctrl-C: drop the queued work, do not wait for it
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    bar.close()
    per_space = np.asarray(polygons, dtype=object).reshape(len(first), len(minutes))[group]
    gdf = gpd.GeoDataFrame(
        {"space_id": np.repeat(ids, len(minutes)), "minutes": minutes * len(ids)},
        geometry=per_space.ravel(),
        crs=walk.streets.crs,
    )
    gdf.insert(2, "area_km2", gdf.area / 1e6)
    return gdf


def threads() -> int:
    """Threads the isochrones' buffering may use: ``FIFTEENMIN_THREADS`` if set (a batch's
    workers run with 1: the parallelism is theirs), else every core."""
    value = os.environ.get("FIFTEENMIN_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return os.cpu_count() or 1


def _checked(minutes: Sequence[float], buffer_m: float) -> list[float]:
    """The thresholds, sorted, once they and the buffer are finite (minutes > 0, buffer >= 0)."""
    values = sorted(float(m) for m in minutes)
    if not values or not all(0 < m < np.inf for m in values):
        raise InputError(f"walking-time thresholds must be finite minutes > 0, got {values}")
    if not 0 <= buffer_m < np.inf:
        raise InputError(f"buffer {buffer_m} m is not a finite distance >= 0; use e.g. 50 m")
    return values


def _collect(
    futures: list[Future[list[shapely.Geometry]]],
    polygons: list[shapely.Geometry],
    bar: ProgressBar,
) -> None:
    for future in futures:
        polygons.extend(future.result())
    bar.update(len(futures))


def coverage(
    walk: WalkTimes,
    *,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    buffer_m: float = DEFAULT_BUFFER_M,
    isochrones: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The union of all spaces' isochrones per threshold: the area the city covers.

    With ``isochrones`` (from :func:`isochrones`, same ``minutes`` and ``buffer_m``) the
    union is taken of those polygons, which is fast; without, it is built from the
    nearest-space distances, which gives the same polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        ``minutes``, ``area_km2``, ``geometry``; one row per threshold.
    """
    minutes = _checked(minutes, buffer_m)
    if isochrones is not None:
        geoms = [  # spaces sharing an isochrone (one point) share one polygon: united once
            shapely.union_all(
                list({id(g): g for g in isochrones.geometry[isochrones["minutes"] == m]}.values())
            )
            for m in minutes
        ]
    else:
        limits = [walk.minutes_to_m(m) for m in minutes]
        geoms = nested_polygons(walk.graph, walk.dist_m, limits, buffer_m)
    gdf = gpd.GeoDataFrame({"minutes": minutes}, geometry=geoms, crs=walk.streets.crs)
    gdf.insert(1, "area_km2", gdf.area / 1e6)
    return gdf
