"""Isochrones: the streets reachable within a walk (partial segments too), buffered."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely
from tqdm.auto import tqdm

from ._geom import substrings
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
    graph: SearchGraph, dist_m: np.ndarray, limits_m: Sequence[float], buffer_m: float
) -> list[shapely.Geometry]:
    """Isochrone polygons for increasing ``limits_m`` from one set of node distances.

    Each polygon is the previous one united with the buffers of the lines that were not
    yet reached in full: the same polygon as buffering all its lines, for less work.
    """
    polygons: list[shapely.Geometry] = []
    done = np.zeros(0, dtype=np.int64)
    for limit in limits_m:
        lines, owner, full = _reach(graph, dist_m, limit)
        new = lines[~np.isin(owner, done)]
        parts = shapely.buffer(new, buffer_m, quad_segs=4)
        if polygons:
            parts = np.append(parts, polygons[-1])
        polygons.append(_union(parts))
        done = full
    return polygons


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
    minutes = sorted(float(m) for m in minutes)
    limits = [walk.minutes_to_m(m) for m in minutes]
    ids = walk.spaces["space_id"].astype(str).to_numpy()
    polygons: list[shapely.Geometry] = []
    bar = tqdm(total=len(ids), desc="isochrones", unit="space", disable=not progress)
    # GEOS releases the GIL, so threads share the buffering and union work across cores
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for _, dist in walk.per_space_m(limits[-1]):
            for polys in pool.map(
                lambda d: nested_polygons(walk.graph, d, limits, buffer_m), list(dist)
            ):
                polygons.extend(polys)
            bar.update(len(dist))
    bar.close()
    gdf = gpd.GeoDataFrame(
        {"space_id": np.repeat(ids, len(minutes)), "minutes": minutes * len(ids)},
        geometry=polygons,
        crs=walk.streets.crs,
    )
    gdf.insert(2, "area_km2", gdf.area / 1e6)
    return gdf


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
    minutes = sorted(float(m) for m in minutes)
    if isochrones is not None:
        geoms = [
            shapely.union_all(isochrones.geometry[isochrones["minutes"] == m].to_numpy())
            for m in minutes
        ]
    else:
        limits = [walk.minutes_to_m(m) for m in minutes]
        geoms = nested_polygons(walk.graph, walk.dist_m, limits, buffer_m)
    gdf = gpd.GeoDataFrame({"minutes": minutes}, geometry=geoms, crs=walk.streets.crs)
    gdf.insert(1, "area_km2", gdf.area / 1e6)
    return gdf
