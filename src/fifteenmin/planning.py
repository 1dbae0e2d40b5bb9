"""Where new spaces would help most: greedy maximum coverage of residents within a walk."""

from __future__ import annotations

import dataclasses
import functools
import heapq
import json
import logging
import math
import numbers
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from . import _mclp
from . import _names as N
from ._io import ProgressBar, output_folder, read_table, read_vector
from ._tables import spreadsheet_safe
from .capacity import capacity
from .errors import InputError
from .network import _csr
from .pipeline import Analysis
from .spaces import (
    _LAT_NAMES,
    _LON_NAMES,
    MAX_SEATS,
    _find_column,
    spaces_from_file,
    spaces_from_frame,
)
from .travel import (
    MAX_SNAP_M,
    SearchGraph,
    WalkTimes,
    build_search_graph,
    reachable_parts,
    snap_spaces,
)
from .zones import StreetPieces, covered_length, street_pieces

logger = logging.getLogger(__name__)

DEFAULT_MAX_CANDIDATES = 5_000
"""Default cap on the candidate street nodes searched exhaustively (a spatial subsample)."""
DEFAULT_MIN_SEPARATION_M = 300.0
"""Default least straight-line distance between two suggested sites (about a 4-minute walk)."""
_CHUNK_CELLS = 8_000_000  # distance-matrix cells per Dijkstra batch: 64 MB of float64
_FULL_TOL_M = 1e-9  # a piece is fully covered when less than this is left uncovered
_REFINE_CELLS = 2.5  # a subsample's pick is refined among all candidates this many cells away
_MIN_GAIN_M = 0.01  # gains below the residents of 1 cm of the densest street are rounding
OBJECTIVES = ("residents", "shortfall", "missing")
"""What greedy maximises (see :func:`suggest_sites`)."""
DEFAULT_EXACT_MAX_CANDIDATES = 300
"""The exact check runs only with at most this many candidate sites."""
DEFAULT_EXACT_TIME_LIMIT_S = 120.0
"""The solver's time limit for the exact check; then the best set found is reported."""
SUMMARY_FILE = "suggest_summary.json"


def _groups(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, order)``: the items with key ``k`` are ``order[ptr[k]:ptr[k + 1]]``."""
    order = np.argsort(keys, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))])
    return ptr, order


def _expand(
    ptr: np.ndarray, order: np.ndarray, keys: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All items of each key in ``keys``, with the matching entry of ``rows`` repeated."""
    starts = ptr[keys]
    counts = ptr[keys + 1] - starts
    idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return order[idx], np.repeat(rows, counts)


class _Residents:
    """Residents on street pieces, the walk from each node to the nearest space, and gains.

    A point at ``x`` along a segment ``(u, v)`` of length ``L`` is within the walk when
    ``min(d[u] + x, d[v] + L - x) <= limit``; ``d`` is the distance to the nearest space
    (existing or added), so adding a site lowers ``d`` to ``min(d, d_site)`` and the
    residents newly covered follow exactly, partial segments included.
    """

    def __init__(
        self,
        graph: SearchGraph,
        dist: np.ndarray,
        pieces: StreetPieces,
        density: np.ndarray,
        limit_m: float,
    ) -> None:
        keep = density[pieces.zone] > 0
        self.csr = graph.csr
        self.n_nodes = graph.n_nodes
        self.limit_m = limit_m
        self.u = graph.u[pieces.edge[keep]]
        self.v = graph.v[pieces.edge[keep]]
        self.start = pieces.start_m[keep]
        self.end = pieces.end_m[keep]
        self.length = pieces.length_m[keep]
        self.zone = pieces.zone[keep]
        self.density = density[self.zone]
        self.dist = dist.copy()
        self._refresh()

    def covered(self, dist: np.ndarray) -> np.ndarray:
        """Covered length of every piece for a node distance array."""
        return covered_length(
            self.start, self.end, self.length, dist[self.u], dist[self.v], self.limit_m
        )

    def _refresh(self) -> None:
        """Recompute coverage; index the pieces that are not fully covered by their ends."""
        self.cov = self.covered(self.dist)
        active = np.flatnonzero(self.cov < (self.end - self.start) - _FULL_TOL_M)
        self.active = active
        ends, inv = np.unique(np.concatenate([self.u[active], self.v[active]]), return_inverse=True)
        self.ends = ends
        self.end_u, self.end_v = inv[: len(active)], inv[len(active) :]
        self.by_u = _groups(self.end_u, len(ends))
        self.by_v = _groups(self.end_v, len(ends))

    def covered_by_zone(self, n_zones: int) -> np.ndarray:
        """Covered street length per zone."""
        return np.bincount(self.zone, weights=self.cov, minlength=n_zones)

    def search(self, sources: np.ndarray) -> np.ndarray:
        """Walking distances from ``sources`` (one row each), ``inf`` beyond the limit."""
        return np.atleast_2d(
            dijkstra(self.csr, directed=False, indices=sources, limit=self.limit_m)
        )

    def gains(self, sources: np.ndarray, *, bar: ProgressBar | None = None) -> np.ndarray:
        """Residents each source node would add to those within the walk (vectorised)."""
        sources = np.asarray(sources, dtype=np.int64)
        out = np.zeros(len(sources))
        if not len(self.active) or not len(sources):
            return out
        chunk = max(1, min(256, _CHUNK_CELLS // max(self.n_nodes, 1)))
        act = self.active
        for lo in range(0, len(sources), chunk):
            src = sources[lo : lo + chunk]
            sub = self.search(src)[:, self.ends]
            rows, cols = np.nonzero(np.isfinite(sub))
            pu, ru = _expand(*self.by_u, cols, rows)
            pv, rv = _expand(*self.by_v, cols, rows)
            once = ~np.isfinite(sub[rv, self.end_u[pv]])  # counted from u already
            p = np.concatenate([pu, pv[once]])
            r = np.concatenate([ru, rv[once]])
            g = act[p]
            d_u = np.minimum(self.dist[self.u[g]], sub[r, self.end_u[p]])
            d_v = np.minimum(self.dist[self.v[g]], sub[r, self.end_v[p]])
            new = covered_length(self.start[g], self.end[g], self.length[g], d_u, d_v, self.limit_m)
            gain = self.density[g] * (new - self.cov[g])
            out[lo : lo + len(src)] = np.bincount(r, weights=gain, minlength=len(src))
            if bar is not None:
                bar.update(len(src))
        return out

    def add(self, source: int) -> float:
        """Add a space at node ``source``; return the residents within its walk alone."""
        d = self.search(np.array([source]))[0]
        reach = float(self.density @ self.covered(d))
        self.dist = np.minimum(self.dist, d)
        self._refresh()
        return reach

    def near_uncovered(self) -> np.ndarray:
        """Nodes within the walk of some resident not yet within the walk of a space.

        One search from a virtual node joined to each end of every piece left uncovered,
        at the distance from that end to the nearest uncovered point of the piece.
        """
        act = self.active
        n = self.n_nodes
        if not len(act):
            return np.zeros(n, dtype=bool)
        a, b = reachable_parts(
            self.length[act], self.dist[self.u[act]], self.dist[self.v[act]], self.limit_m
        )
        w_u = np.maximum(self.start[act], np.nan_to_num(a, nan=0.0))
        w_v = np.maximum(self.length[act] - self.end[act], np.nan_to_num(b, nan=0.0))
        coo = self.csr.tocoo()
        hub = np.full(2 * len(act), n)
        graph = _csr(
            np.concatenate([coo.row, self.u[act], self.v[act]]),
            np.concatenate([coo.col, hub[: len(act)], hub[len(act) :]]),
            np.concatenate([coo.data, w_u, w_v]),
            n + 1,
        )
        d = dijkstra(graph, directed=False, indices=n, limit=self.limit_m)
        return np.asarray(d[:n] <= self.limit_m)


def _is_count(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1


def _is_number(value: object, low: float) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
        and float(value) >= low
    )


def _check_options(
    n_sites: int, minutes: float, min_separation_m: float, max_candidates: int | None
) -> None:
    if not _is_count(n_sites):
        raise InputError(
            f"number of sites {n_sites!r} is not a whole number >= 1; ask for 1 or more"
        )
    if not (_is_number(minutes, 0.0) and minutes > 0):
        raise InputError(f"walk of {minutes!r} minutes is not a positive number; use e.g. 15")
    if not _is_number(min_separation_m, 0.0):
        raise InputError(
            f"minimum separation {min_separation_m!r} m is not a number >= 0; use 0 for none"
        )
    if max_candidates is not None and not _is_count(max_candidates):
        raise InputError(
            f"maximum number of candidates {max_candidates!r} is not a whole number >= 1; "
            "use None to search every candidate"
        )


def _check_siting(
    seats: int | None,
    objective: str,
    seats_per_1000: float | None,
    exact_max_candidates: int,
    exact_time_limit_s: float | None,
) -> None:
    """The options on seats, the objective and the exact check."""
    if seats is not None and not (
        isinstance(seats, numbers.Integral)
        and not isinstance(seats, bool)
        and 0 <= int(seats) <= MAX_SEATS
    ):
        raise InputError(
            f"seats of a new site {seats!r} is not a whole number of desks from 0 to "
            f"{MAX_SEATS:,}; give e.g. 40, or None"
        )
    if objective not in OBJECTIVES:
        raise InputError(
            f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}: 'residents' "
            "(residents newly within the walk), 'shortfall' (weighted by the zone's unmet "
            "share of a seats target) or 'missing' (residents with every other category of "
            "service within the walk, needs analyze(categories=...))"
        )
    if seats_per_1000 is not None and not (
        _is_number(seats_per_1000, 0.0) and 0 < seats_per_1000 <= 1000
    ):
        raise InputError(
            f"target of {seats_per_1000!r} seats per 1,000 residents is not a number in "
            "(0, 1000]; give e.g. 20"
        )
    if objective == "shortfall" and seats_per_1000 is None:
        raise InputError(
            "the shortfall objective needs a target of seats per 1,000 residents: give "
            "seats_per_1000= (--seats-per-1000 T), e.g. 20"
        )
    if objective == "residents" and seats_per_1000 is not None:
        raise InputError(
            "a target of seats per 1,000 residents only counts with the shortfall objective; "
            "add objective='shortfall' (--objective shortfall) or leave the target out"
        )
    if not (
        isinstance(exact_max_candidates, numbers.Integral)
        and not isinstance(exact_max_candidates, bool)
        and exact_max_candidates >= 0
    ):
        raise InputError(
            f"exact_max_candidates {exact_max_candidates!r} is not a whole number >= 0; "
            f"use e.g. {DEFAULT_EXACT_MAX_CANDIDATES}"
        )
    if exact_time_limit_s is not None and not (
        _is_number(exact_time_limit_s, 0.0) and exact_time_limit_s > 0
    ):
        raise InputError(
            f"time limit {exact_time_limit_s!r} s of the exact check is not a positive "
            "number; use e.g. 60, or None for none"
        )


def _inputs(
    source: Analysis | WalkTimes, zones: gpd.GeoDataFrame | None
) -> tuple[WalkTimes, gpd.GeoDataFrame]:
    if isinstance(source, Analysis):
        walk = source.walk
        zones = source.zones if zones is None else zones
    elif isinstance(source, WalkTimes):
        walk = source
        if zones is None:
            raise InputError(
                "walking times alone have no residents; pass the zones too: "
                "suggest_sites(walk, zones), or pass the result of analyze()"
            )
    else:
        raise InputError(
            f"cannot suggest sites from a {type(source).__name__}; pass the result of "
            "analyze(), or walk_times() and the zones"
        )
    if N.POPULATION not in zones.columns or not zones[N.POPULATION].fillna(0).gt(0).any():
        raise InputError(
            "the zones carry no residents, so there is nobody to reach; run the analysis with "
            "population_column= (--population-column COL) naming the residents column"
        )
    if zones.crs is None:
        raise InputError("the zones have no CRS; set one (e.g. EPSG:4326)")
    if N.STATUS in zones.columns:  # only the zones the figures count (see docs/outputs.md)
        zones = zones.loc[zones[N.STATUS].isin(N.COUNTED)]
    zones = zones.to_crs(walk.streets.crs).reset_index(drop=True)
    return walk, zones


def _candidate_points(candidates: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    geoms = candidates.geometry if isinstance(candidates, gpd.GeoDataFrame) else candidates
    if not isinstance(geoms, gpd.GeoSeries):
        raise InputError(
            f"candidates must be a GeoDataFrame or GeoSeries of points, not "
            f"{type(candidates).__name__}"
        )
    if geoms.crs is None:
        raise InputError("the candidate sites have no CRS; set one (e.g. EPSG:4326)")
    if len(geoms) == 0:
        raise InputError("no candidate sites given; give at least one point, or None")
    kinds = shapely.get_type_id(geoms.to_numpy())
    if (kinds != 0).any():
        i = int(np.flatnonzero(kinds != 0)[0])
        raise InputError(
            f"candidate site {i + 1} is a {geoms.iloc[i].geom_type if geoms.iloc[i] else 'missing'}"
            f" geometry; candidates must be points ({int((kinds != 0).sum())} not points)"
        )
    return geoms.reset_index(drop=True)


_CANDIDATE_ID_NAMES = ("candidate_id", "space_id", "id")
_CANDIDATE_NAME_NAMES = ("candidate_name", "name", "nome")


def _candidate_labels(
    candidates: gpd.GeoDataFrame | gpd.GeoSeries, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's id and name, from the first matching column (None where absent)."""
    out = []
    for names in (_CANDIDATE_ID_NAMES, _CANDIDATE_NAME_NAMES):
        col = (
            _find_column(map(str, candidates.columns), names)
            if isinstance(candidates, gpd.GeoDataFrame)
            else None
        )
        values = np.full(n, None, dtype=object)
        if col is not None:
            raw = candidates[col].to_numpy()
            values = np.array([None if pd.isna(v) else str(v) for v in raw], dtype=object)
        out.append(values)
    return out[0], out[1]


def candidates_from_file(path: str | Path) -> gpd.GeoDataFrame:
    """Read candidate sites (e.g. vacant premises): a CSV with lat/lon, or a point layer.

    Read as a spaces file is (:func:`~fifteenmin.spaces.spaces_from_file`): Italian
    exports with ``;``, decimal commas and ``latitudine``/``longitudine`` are fine;
    polygons (premises drawn as outlines) stand at a point inside them.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (the file's ``candidate_id``/``space_id``/``id`` column, else
        None), ``name`` (``name``/``nome``, else None), points in EPSG:4326.

    Raises
    ------
    InputError
        If the file cannot be read, has no coordinate columns or no located feature, or a
        coordinate is out of range.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> cands = candidates_from_file(city.spaces)
    >>> list(cands.columns), len(cands) > 0
    (['candidate_id', 'name', 'geometry'], True)
    """
    path = Path(path)
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            columns = [str(c) for c in read_table(path).columns]
            for what, names in (("latitude", _LAT_NAMES), ("longitude", _LON_NAMES)):
                if _find_column(columns, names) is None:
                    raise InputError(
                        f"{path}: no {what} column (found {', '.join(columns)}); name the "
                        "columns lat and lon (or latitudine and longitudine)"
                    )
            sites = spaces_from_file(path)
        else:
            frame = read_vector(path)
            columns = [str(c) for c in frame.columns]
            sites = spaces_from_frame(frame, source=path.name, where=str(path))
    except InputError as exc:
        raise InputError(f"candidate sites: {exc}") from None
    own = _find_column(columns, ("candidate_id",))
    if own is not None:
        ids = np.array([None if pd.isna(v) else str(v) for v in sites[own]], dtype=object)
    elif _find_column(columns, ("space_id", "id", "osmid")) is not None:
        ids = sites["space_id"].to_numpy(dtype=object)  # the reader's id column
    else:  # not the reader's running numbers: they would name nothing in the file
        ids = np.full(len(sites), None, dtype=object)
    return gpd.GeoDataFrame(
        {"candidate_id": ids, "name": sites["name"].to_numpy(dtype=object)},
        geometry=sites.geometry.to_numpy(),
        crs=sites.crs,
    )


def _with_candidates(
    walk: WalkTimes, points: gpd.GeoSeries
) -> tuple[SearchGraph, np.ndarray, np.ndarray]:
    """A search graph also split at the candidates; distances from the existing spaces."""
    frame = gpd.GeoDataFrame(
        {"space_id": [f"candidate {i + 1}" for i in range(len(points))]},
        geometry=points.to_numpy(),
        crs=points.crs,
    )
    try:
        snaps = snap_spaces(walk.streets, frame, max_distance_m=MAX_SNAP_M)
    except InputError as exc:
        raise InputError(f"candidate sites: {exc}") from None
    both = pd.concat([walk.snaps, snaps], ignore_index=True)
    graph = build_search_graph(walk.streets, both)
    k = len(walk.snaps)
    dist = dijkstra(graph.csr, directed=False, indices=graph.space_node[:k], min_only=True)
    return graph, dist, graph.space_node[k:]


def _missing_inputs(source: object, zones: object) -> tuple[Any, WalkTimes, str]:
    """For ``objective="missing"``: the analysis's category times, and the walk to its
    missing category (work) on their graph."""
    figures = getattr(source, "categories", None) if isinstance(source, Analysis) else None
    if zones is not None or figures is None or figures.missing is None:
        raise InputError(
            "the missing objective needs the result of analyze() with categories= "
            "(--categories default), without zones="
        )
    reason = figures.not_assessed.get("missing")
    if reason is not None:
        raise InputError(
            f"the missing piece is not assessed ({reason}), so no site can complete it; "
            "use a network file with those places (OSM tags) or a --category file for them, "
            "or choose --objective residents"
        )
    times = figures.times
    w = times.names.index(figures.missing)
    walk = dataclasses.replace(
        times.walk, dist_m=times.dist_m[w], nearest=np.full(times.graph.n_nodes, -1)
    )
    return times, walk, figures.missing


def _times_on(times: Any, graph: SearchGraph, new_graph: bool) -> Any:
    """Every category's distances on ``graph`` (the categories' own graph, or that graph
    also split at candidate sites)."""
    if not new_graph:
        return times
    category = times.walk.spaces["category"].to_numpy()
    k = len(category)
    dist = np.full((len(times.names), graph.n_nodes), np.inf)
    for c, name in enumerate(times.names):
        own = graph.space_node[:k][category == name]
        if len(own):
            dist[c] = dijkstra(graph.csr, directed=False, indices=own, min_only=True)
    return dataclasses.replace(times, graph=graph, dist_m=dist)


def _zone_of(xy: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Index of the (first) zone holding each point, -1 outside every zone."""
    points = shapely.points(xy)
    p, z = shapely.STRtree(geoms).query(points, predicate="intersects")
    out = np.full(len(xy), len(geoms))
    np.minimum.at(out, p, z)
    return np.where(out < len(geoms), out, -1)


def _thin(xy: np.ndarray, max_n: int) -> tuple[np.ndarray, float]:
    """At most ``max_n`` points, one per grid cell (the nearest its centre); cell size."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    h = math.sqrt(span[0] * span[1] / max_n)
    while True:
        cell = np.floor((xy - lo) / h).astype(np.int64)
        key = cell[:, 0] * (int(span[1] // h) + 2) + cell[:, 1]
        if len(np.unique(key)) <= max_n:
            break
        h *= 1.05
    off = ((xy - lo) / h - cell - 0.5) ** 2
    order = np.lexsort((np.arange(len(xy)), off.sum(axis=1), key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return np.sort(order[first]), h


def suggest_sites(
    source: Analysis | WalkTimes,
    zones: gpd.GeoDataFrame | None = None,
    *,
    n_sites: int = 5,
    minutes: float = 15.0,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    min_separation_m: float = DEFAULT_MIN_SEPARATION_M,
    max_candidates: int | None = DEFAULT_MAX_CANDIDATES,
    seats: int | None = None,
    objective: str = "residents",
    seats_per_1000: float | None = None,
    exact: bool = False,
    exact_max_candidates: int = DEFAULT_EXACT_MAX_CANDIDATES,
    exact_time_limit_s: float | None = DEFAULT_EXACT_TIME_LIMIT_S,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Where new spaces would bring the most residents within a walk (greedy coverage).

    Residents are spread over the walkable street length of their zone, as in the zone
    metrics (fragments of the network left out). Each round adds the candidate site that
    brings the most residents not yet within ``minutes`` of an existing or already
    suggested space, counted exactly (the reachable part of a partly reached street
    included). Because that coverage is submodular, gains computed in an earlier round
    are upper bounds, and only the candidates that could still win are searched again
    (lazy greedy: the same sites as the plain greedy search, much faster).

    Parameters
    ----------
    source
        The result of :func:`~fifteenmin.pipeline.analyze` (with residents), or the
        :func:`~fifteenmin.travel.walk_times` of the existing spaces.
    zones
        Zones with a ``population`` column; required with walking times, optional
        (replacing the analysis's) with an analysis.
    n_sites
        How many sites to suggest. Fewer come back when no candidate reaches anybody new
        (gains below the residents of 1 cm of the densest street count as rounding).
    minutes
        The walk that counts.
    candidates
        Points (any CRS) where a space could open, e.g. vacant premises; each joins the
        network like a space, at the nearest point of the nearest walkable street.
        Default: every network node inside a zone, off the fragments (see
        :func:`~fifteenmin.travel.walk_times`), that is within ``minutes`` of a resident
        not yet within ``minutes`` of a space.
    min_separation_m
        No two suggested sites closer than this (straight line), so that the list names
        distinct places; 0 for no limit.
    max_candidates
        With the default candidates, search at most this many in the first round: one
        node per cell of a regular grid (the one nearest the cell centre). Each pick is
        then refined by climbing to the best of all candidates within 2.5 cells, as long
        as that improves it. ``None``: search all.
    seats
        Desks of each new site: reported per site with its seats per 1,000 residents
        within its walk. They do not change the picks.
    objective
        What each round maximises. ``"residents"``: residents newly within ``minutes`` of
        a space (existing or suggested). ``"shortfall"``: residents within ``minutes`` of
        a suggested site, each weighted by the unmet share of their zone,
        ``max(0, 1 - seats_per_1000_2sfca / seats_per_1000)`` from
        :func:`~fifteenmin.capacity.capacity` with the existing spaces (their ``seats``),
        counted once however many suggested sites reach them; residents near an existing
        space count too (their zone may still lack seats), residents of zones that meet the
        target do not. The shares are computed once, before the first pick.
        ``"missing"``: residents newly within ``minutes`` who have every other category of
        service within it already (the missing piece of :func:`~fifteenmin.pipeline.analyze`
        with ``categories``), counted on the exact stretches of street where that holds
        (:func:`~fifteenmin.services.missing_piece_pieces`). Both need the result of
        :func:`~fifteenmin.pipeline.analyze` (without ``zones``).
    seats_per_1000
        The target of the ``"shortfall"`` objective: seats per 1,000 residents.
    exact
        Also solve the same problem exactly (maximal covering, spopt's MCLP with CBC; the
        extra ``fifteenmin[exact]``) and compare with greedy in ``attrs["exact"]``. Runs
        only with at most ``exact_max_candidates`` candidate sites, and says why not
        otherwise, or when spopt is not installed.
    exact_max_candidates
        The most candidate sites the exact check takes on.
    exact_time_limit_s
        The solver's time limit; when reached, the best set found is reported, with the
        status ``time_limit`` (not proven optimal). ``None``: no limit.
    progress
        Show a progress bar for the first round.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, best first, in the network's CRS: ``rank``, ``space_id``
        (``suggested-1``...), ``osmid`` of the node (missing for given candidates),
        ``candidate`` (position, from 0, among given candidates), ``lon``, ``lat``,
        ``zone_id`` and ``zone_name`` of the zone it lies in, ``new_residents_<m>min``
        (residents it adds), ``residents_<m>min`` (all residents within its walk),
        ``cumulative_share_<m>min`` (city-wide share of residents within the walk after
        sites 1..k), ``seats`` and ``seats_per_1000_residents_<m>min`` (missing without
        ``seats``), ``candidate_id`` and ``candidate_name`` (of given candidates, from
        their ``candidate_id``/``space_id``/``id`` and ``name`` columns); with the
        ``missing`` objective ``completed_residents_<m>min`` (residents who had every
        other category within the walk and now have this one too); with the
        ``shortfall`` objective also ``shortfall_residents_<m>min`` (what the site adds to
        it). ``attrs`` holds ``baseline_share`` (before), ``residents_total``, ``minutes``,
        ``candidates`` (how many), ``candidates_searched``, ``objective``,
        ``objective_value`` (greedy's total), ``seats_per_1000``, ``seats``,
        ``min_separation_m``, ``n_sites`` (asked) and ``exact`` (None without ``exact``;
        see docs/outputs.md). Concatenated with the spaces, the sites can be passed to
        :func:`~fifteenmin.pipeline.analyze`, which then finds the same shares.

    Raises
    ------
    InputError
        If an option is out of range, the zones carry no residents, a given candidate is
        not a point, or (``shortfall``) no space has seats.

    Notes
    -----
    Zones with residents but no walkable street (counted by share of area in the zone
    metrics) cannot be reached along streets here: their residents count in the total,
    with the coverage the analysis gave them, and no site adds to it.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> sites = fm.suggest_sites(result, n_sites=3)
    >>> list(sites["rank"]), bool(sites["new_residents_15min"].is_monotonic_decreasing)
    ([1, 2, 3], True)
    >>> share = sites["cumulative_share_15min"]
    >>> bool(result.summary["within"]["15"]["share"] < share.iloc[0] < share.iloc[-1])
    True
    """
    _check_options(n_sites, minutes, min_separation_m, max_candidates)
    _check_siting(seats, objective, seats_per_1000, exact_max_candidates, exact_time_limit_s)
    minutes = float(minutes)
    if objective == "shortfall" and not (isinstance(source, Analysis) and zones is None):
        raise InputError(
            "the shortfall objective needs the result of analyze() (its spaces' seats and its "
            "zones), without zones="
        )
    walk, zone_gdf = _inputs(source, zones)
    times, missing = None, ""
    if objective == "missing":  # on the graph of every category's services
        times, walk, missing = _missing_inputs(source, zones)
    limit_m = walk.minutes_to_m(minutes)
    geoms = zone_gdf.geometry.to_numpy()
    nz = len(zone_gdf)
    pop = zone_gdf[N.POPULATION].fillna(0).to_numpy(dtype=float)

    if candidates is None:
        graph, dist = walk.graph, walk.dist_m
        points = None
    else:
        points = _candidate_points(candidates)
        graph, dist, cand_node = _with_candidates(walk, points)
    if times is not None:  # every category's distances on that graph
        times = _times_on(times, graph, points is not None)
        dist = times.dist_m[times.names.index(missing)]
    # the pieces' nearest spaces are not used here: only their edges and distances
    with_candidates = dataclasses.replace(
        walk, graph=graph, dist_m=dist, nearest=np.full(graph.n_nodes, -1)
    )
    # residents as in the zone figures: on the streets off the fragments
    pieces = street_pieces(with_candidates, geoms)
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=nz)
    density = np.divide(pop, total, out=np.zeros(nz), where=total > 0)
    real = _Residents(graph, dist, pieces, density, limit_m)  # who is within the walk
    target = pieces  # the streets whose residents greedy counts
    if times is not None:  # the missing piece: only the streets that lack just this one
        from .services import missing_piece_pieces

        target = missing_piece_pieces(times, pieces, minutes=minutes, missing=missing)
        weight, res = density, _Residents(graph, dist, target, density, limit_m)
        if not len(target.zone):
            logger.info("nobody lacks %s alone within %g min", missing, minutes)
    elif objective == "shortfall":  # what greedy maximises: weighted, existing spaces ignored
        assert isinstance(source, Analysis) and seats_per_1000 is not None  # checked above
        weight = density * _unmet_share(source, minutes, float(seats_per_1000))
        res = _Residents(graph, np.full(graph.n_nodes, np.inf), pieces, weight, limit_m)
        if not weight.any():
            logger.info("every zone meets %g seats per 1,000 residents", seats_per_1000)
    else:
        weight, res = density, real

    no_street = (total <= 0) & (pop > 0)
    fixed = 0.0
    if no_street.any():
        col = N.residents(minutes)
        if col in zone_gdf.columns:
            fixed = float(zone_gdf.loc[no_street, col].fillna(0).sum())
        warnings.warn(
            f"{int(no_street.sum())} zone(s) with residents have no walkable street inside "
            f"(e.g. {zone_gdf.loc[no_street, N.ZONE_ID].iloc[0]!r}); no new site can reach "
            "them along streets, so their residents only count in the total; use a network "
            "that covers every zone",
            stacklevel=2,
        )
    pop_total = float(pop.sum())

    def within() -> float:
        covered = np.clip(
            np.divide(real.covered_by_zone(nz), total, out=np.zeros(nz), where=total > 0), 0, 1
        )
        return float(pop[total > 0] @ covered[total > 0]) + fixed

    def value() -> float:  # greedy's objective so far
        return within() if res is real else float(res.density @ res.cov)

    if points is None:
        n_street = graph.n_street_nodes
        zone_of = _zone_of(graph.node_xy[:n_street], geoms)
        useful = (zone_of >= 0) & res.near_uncovered()[:n_street] & ~walk.fragment_nodes
        cand_node = np.flatnonzero(useful)
        cand_xy = graph.node_xy[cand_node]
    else:
        cand_xy = shapely.get_coordinates(points.to_crs(walk.streets.crs).to_numpy())
    n_cand = len(cand_node)
    pool, cell_m = np.arange(n_cand), 0.0
    if points is None and max_candidates is not None and n_cand > max_candidates:
        pool, cell_m = _thin(cand_xy, max_candidates)
    logger.info("searching %d candidate site(s) (of %d) for %d site(s)", len(pool), n_cand, n_sites)

    bar = ProgressBar(total=len(pool), desc="candidate sites", unit="site", disable=not progress)
    first = res.gains(cand_node[pool], bar=bar)
    bar.close()
    min_gain = _MIN_GAIN_M * float(weight.max(initial=0.0))
    heap = [(-g, int(i)) for g, i in zip(first, pool, strict=True) if g > min_gain]
    heapq.heapify(heap)
    fresh_in = np.full(n_cand, -1)
    fresh_in[pool] = 0
    open_ = np.ones(n_cand, dtype=bool)

    baseline = within()
    rows: list[dict[str, float]] = []
    before, start = baseline, value()
    gained = start
    for k in range(n_sites):
        pick = _lazy_pick(heap, fresh_in, open_, k, res, cand_node, min_gain)
        if pick is None:
            logger.info("no candidate reaches anybody new after %d site(s)", k)
            break
        if cell_m > 0:
            pick = _refine(pick, heap, open_, res, cand_node, cand_xy, _REFINE_CELLS * cell_m)
        reach = real.add(int(cand_node[pick]))
        if res is not real:
            res.add(int(cand_node[pick]))
        after, now = within(), value()
        gone = ((cand_xy - cand_xy[pick]) ** 2).sum(axis=1) < min_separation_m**2
        open_ &= ~gone
        open_[pick] = False
        rows.append(
            {
                "pick": pick,
                "new": after - before,
                "reach": reach,
                "share": after / pop_total,
                "gain": now - gained,
            }
        )
        before, gained = after, now
    sites = _table(rows, walk, zone_gdf, cand_node, cand_xy, points, minutes)
    ids, names = (
        _candidate_labels(candidates, n_cand)
        if candidates is not None
        else (np.full(n_cand, None, dtype=object),) * 2
    )
    picks = np.array([int(r["pick"]) for r in rows], dtype=np.int64)
    _add_columns(sites, rows, ids[picks], names[picks], seats, objective, minutes)
    sites.attrs.update(
        baseline_share=baseline / pop_total,
        residents_total=pop_total,
        minutes=minutes,
        candidates=n_cand,
        candidates_searched=len(pool),
        objective=objective,
        objective_value=value(),
        seats_per_1000=None if seats_per_1000 is None else float(seats_per_1000),
        seats=None if seats is None else int(seats),
        min_separation_m=float(min_separation_m),
        n_sites=int(n_sites),
        exact=None,
    )
    if exact:
        sites.attrs["exact"] = _exact_check(
            with_candidates,
            target,
            weight,
            limit_m,
            existing=graph.space_node[: len(walk.snaps)] if res is real else None,
            cand_node=cand_node,
            cand_xy=cand_xy,
            picks=picks,
            n_sites=int(n_sites),
            min_separation_m=float(min_separation_m),
            greedy_value=value(),
            offset=fixed if res is real else 0.0,
            start=start,
            label=functools.partial(_site_label, walk, cand_node, points, ids, names),
            max_candidates=exact_max_candidates,
            time_limit_s=exact_time_limit_s,
        )
    return sites


def _unmet_share(analysis: Analysis, minutes: float, target: float) -> np.ndarray:
    """Per counted zone: ``max(0, 1 - seats_per_1000_2sfca / target)`` (1 without seats)."""
    cap = capacity(analysis, minutes=minutes, seats_per_1000=target)
    ratio = cap[N.seats_per_1000("2sfca")].to_numpy(dtype=float)[analysis.counted]
    return np.clip(1.0 - np.nan_to_num(ratio, nan=0.0) / target, 0.0, 1.0)


def _add_columns(
    sites: gpd.GeoDataFrame,
    rows: list[dict[str, float]],
    ids: np.ndarray,
    names: np.ndarray,
    seats: int | None,
    objective: str,
    minutes: float,
) -> None:
    """The candidates' ids and names, the seats, and the objective's gains (in place)."""
    n = len(sites)
    at = sites.columns.get_loc("candidate") + 1
    sites.insert(at, "candidate_id", pd.Series(list(ids), index=sites.index, dtype=object))
    sites.insert(at + 1, "candidate_name", pd.Series(list(names), index=sites.index, dtype=object))
    reach = sites[N.space_residents(minutes)].to_numpy(dtype=float)
    at = sites.columns.get_loc(sites.geometry.name)
    per_site = np.full(n, np.nan if seats is None else float(seats))
    sites.insert(at, "seats", pd.array([pd.NA if seats is None else int(seats)] * n, dtype="Int64"))
    sites.insert(
        at + 1,
        N.space_seats_per_1000(minutes),
        np.divide(1000.0 * per_site, reach, out=np.full(n, np.nan), where=reach > 0),
    )
    if objective == "shortfall":
        sites.insert(at + 2, N.shortfall_residents(minutes), [float(r["gain"]) for r in rows])
    elif objective == "missing":
        sites.insert(at + 2, N.completed_residents(minutes), [float(r["gain"]) for r in rows])


def _site_label(
    walk: WalkTimes,
    cand_node: np.ndarray,
    points: gpd.GeoSeries | None,
    ids: np.ndarray,
    names: np.ndarray,
    i: int,
) -> dict[str, Any]:
    """What names candidate ``i`` in a summary: node or position, id, name, lon/lat."""
    if points is None:
        osmid: int | None = int(walk.streets.node_osmid[cand_node[i]])
        lon, lat = walk.streets.node_lonlat[cand_node[i]]
    else:
        osmid = None
        lon, lat = shapely.get_coordinates(points.iloc[[i]].to_crs(4326).to_numpy())[0]
    return {
        "candidate": None if points is None else int(i),
        "osmid": osmid,
        "candidate_id": ids[i],
        "candidate_name": names[i],
        "lon": float(lon),
        "lat": float(lat),
    }


def _close_pairs(xy: np.ndarray, min_separation_m: float) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of points closer than ``min_separation_m`` (straight)."""
    if min_separation_m <= 0 or len(xy) < 2:
        return np.empty((0, 2), dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(min_separation_m, output_type="ndarray")
    d2 = ((xy[pairs[:, 0]] - xy[pairs[:, 1]]) ** 2).sum(axis=1)
    return pairs[d2 < min_separation_m**2].astype(np.int64)  # greedy's rule: strictly closer


def _exact_check(
    walk: WalkTimes,
    pieces: StreetPieces,
    weight: np.ndarray,
    limit_m: float,
    *,
    existing: np.ndarray | None,
    cand_node: np.ndarray,
    cand_xy: np.ndarray,
    picks: np.ndarray,
    n_sites: int,
    min_separation_m: float,
    greedy_value: float,
    offset: float,
    start: float,
    label: Callable[[int], dict[str, Any]],
    max_candidates: int,
    time_limit_s: float | None,
) -> dict[str, Any]:
    """Greedy's picks against the optimum of the same problem (see docs/outputs.md)."""
    n_cand = len(cand_node)
    head: dict[str, Any] = {"run": False, "candidates": n_cand, "max_candidates": max_candidates}
    if n_cand > max_candidates:
        return head | {
            "reason": f"{n_cand:,} candidate sites, more than the {max_candidates:,} the exact "
            "check takes on; give fewer candidates or raise exact_max_candidates (--exact-max)"
        }
    if not _mclp.available():
        return head | {"reason": f"spopt is not installed; {_mclp.INSTALL_HINT}"}
    t0 = time.perf_counter()
    k = 0 if existing is None else len(existing)
    sources = np.concatenate([[] if existing is None else existing, cand_node]).astype(np.int64)
    atoms = _mclp.street_atoms(walk, walk.graph, pieces, weight, limit_m, sources)
    atoms_s = time.perf_counter() - t0
    fixed = np.zeros(len(sources), dtype=bool)
    fixed[:k] = True
    mine = fixed.copy()
    mine[k + picks] = True
    greedy_on_atoms = atoms.value(mine) + offset
    sol = _mclp.solve(
        atoms,
        n_new=n_sites,
        fixed=fixed,
        exclusive=_close_pairs(cand_xy, min_separation_m) + k,
        time_limit_s=time_limit_s,
        start=mine,  # greedy's set: a time limit still leaves a solution as good
    )
    picked = set(picks.tolist())
    figures: dict[str, Any] = dict.fromkeys(
        ("optimum", "gap", "gap_pct", "gap_pct_of_gain", "optimum_sites")
    )
    if sol.status != "not_solved":
        chosen = np.flatnonzero(sol.open_[k:])
        optimum = sol.value + offset
        if optimum <= greedy_on_atoms:  # greedy's set is optimal (the solver's tolerance aside)
            optimum, chosen = greedy_on_atoms, np.sort(picks)
        gap = optimum - greedy_on_atoms
        gain = optimum - start
        figures = {
            "optimum": optimum,
            "gap": gap,
            "gap_pct": 100.0 * gap / optimum if optimum > 0 else 0.0,
            "gap_pct_of_gain": 100.0 * gap / gain if gain > 0 else 0.0,
            "optimum_sites": [
                label(int(i)) | {"greedy_pick": int(i) in picked} for i in chosen.tolist()
            ],
        }
    return {
        "run": True,
        "candidates": n_cand,
        "max_candidates": max_candidates,
        "n_sites": n_sites,
        "min_separation_m": min_separation_m,
        "greedy": greedy_value,
        "greedy_on_atoms": greedy_on_atoms,
        **figures,
        "greedy_sites": [label(int(i)) for i in picks],
        "status": sol.status,
        "solver_status": sol.solver_status,
        "solver": "spopt MCLP, CBC via PuLP",
        "time_limit_s": time_limit_s,
        "atoms": len(atoms),
        "rows": sol.n_rows,
        "columns": sol.n_columns,
        "seconds_atoms": atoms_s,
        "seconds_solve": sol.seconds,
    }


def _table(
    rows: list[dict[str, float]],
    walk: WalkTimes,
    zones: gpd.GeoDataFrame,
    cand_node: np.ndarray,
    cand_xy: np.ndarray,
    points: gpd.GeoSeries | None,
    minutes: float,
) -> gpd.GeoDataFrame:
    """The suggested sites as a table, best first."""
    pick = np.array([int(r["pick"]) for r in rows], dtype=np.int64)
    xy = cand_xy[pick].reshape(-1, 2)
    if points is None:
        osmid = pd.array(walk.streets.node_osmid[cand_node[pick]], dtype="Int64")
        candidate = pd.array([pd.NA] * len(pick), dtype="Int64")
        lonlat = walk.streets.node_lonlat[cand_node[pick]].reshape(-1, 2)
    else:
        osmid = pd.array([pd.NA] * len(pick), dtype="Int64")
        candidate = pd.array(pick, dtype="Int64")
        lonlat = shapely.get_coordinates(points.iloc[pick].to_crs(4326).to_numpy()).reshape(-1, 2)
    zone = _zone_of(xy, zones.geometry.to_numpy()) if len(pick) else np.empty(0, dtype=np.int64)
    inside = zone >= 0
    names = zones[N.ZONE_NAME] if N.ZONE_NAME in zones.columns else zones[N.ZONE_ID]
    zone_id = np.where(inside, zones[N.ZONE_ID].astype(str).to_numpy()[np.maximum(zone, 0)], None)
    zone_name = np.where(inside, names.astype(str).to_numpy()[np.maximum(zone, 0)], None)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(pick) + 1),
            "space_id": [f"suggested-{i}" for i in range(1, len(pick) + 1)],
            "osmid": osmid,
            "candidate": candidate,
            "lon": lonlat[:, 0],
            "lat": lonlat[:, 1],
            "zone_id": zone_id,
            "zone_name": zone_name,
            N.new_residents(minutes): [float(r["new"]) for r in rows],
            N.space_residents(minutes): [float(r["reach"]) for r in rows],
            N.cumulative_share(minutes): [float(r["share"]) for r in rows],
        }
    )
    return gpd.GeoDataFrame(table, geometry=shapely.points(xy), crs=walk.streets.crs)


def summary(sites: gpd.GeoDataFrame) -> dict[str, Any]:
    """What ``suggest_summary.json`` holds: the run's ``attrs``, as plain JSON values.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> sorted(summary(fm.suggest_sites(result, n_sites=1)))[:4]
    ['baseline_share', 'candidates', 'candidates_searched', 'exact']
    """
    return _plain(dict(sites.attrs))


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars as Python numbers and NaN as None (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_sites(sites: gpd.GeoDataFrame, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``suggested_sites.gpkg``, ``suggested_sites.csv`` and ``suggest_summary.json``.

    The summary holds the run's ``attrs`` (see :func:`summary` and docs/outputs.md): the
    baseline, the objective, and the exact check when it was asked for.

    ``out`` must be new or an empty folder, or (with ``overwrite=True``) a folder fifteenmin
    wrote before, which is replaced as a whole; it appears complete or not at all (see
    :func:`fifteenmin._io.output_folder`, whose ``.fifteenmin`` marker it holds).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path") / "city")
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> sites = fm.suggest_sites(result, n_sites=2)
    >>> out = fm.planning.write_sites(sites, getfixture("tmp_path") / "out")
    >>> sorted(p.name for p in out.iterdir())
    ['.fifteenmin', 'suggest_summary.json', 'suggested_sites.csv', 'suggested_sites.gpkg']
    """
    text = json.dumps(summary(sites), indent=2, ensure_ascii=False, allow_nan=False)
    with output_folder(out, overwrite=overwrite, command="suggest") as tmp:
        sites.to_file(tmp / "suggested_sites.gpkg", layer="suggested_sites", driver="GPKG")
        spreadsheet_safe(pd.DataFrame(sites.drop(columns=sites.geometry.name))).to_csv(
            tmp / "suggested_sites.csv", index=False
        )
        (tmp / SUMMARY_FILE).write_text(text + "\n", encoding="utf-8")
    logger.debug("wrote %s", out)  # the CLI says where, once
    return Path(out)


def _refine(
    pick: int,
    heap: list[tuple[float, int]],
    open_: np.ndarray,
    res: _Residents,
    cand_node: np.ndarray,
    cand_xy: np.ndarray,
    radius_m: float,
) -> int:
    """Climb from a subsample's pick to the best of all candidates within ``radius_m``.

    Repeated around each better candidate found, until none within reach is better.
    """
    best, best_gain, pick_gain = pick, -np.inf, None
    for _ in range(20):
        d2 = ((cand_xy - cand_xy[best]) ** 2).sum(axis=1)
        near = np.flatnonzero(open_ & (d2 <= radius_m**2))
        gains = res.gains(cand_node[near])
        if pick_gain is None:
            pick_gain = float(gains[near == pick][0])
        top = int(np.argmax(gains))
        if gains[top] <= best_gain:
            break
        best, best_gain = int(near[top]), float(gains[top])
    if best != pick and pick_gain is not None:  # the subsample's pick stays in the running
        heapq.heappush(heap, (-pick_gain, pick))
    return best


def _lazy_pick(
    heap: list[tuple[float, int]],
    fresh_in: np.ndarray,
    open_: np.ndarray,
    k: int,
    res: _Residents,
    cand_node: np.ndarray,
    min_gain: float,
    batch: int = 16,
) -> int | None:
    """Pop the candidate with the largest gain in round ``k`` (lazy greedy, ties: lowest)."""
    while heap:
        stale: list[int] = []
        while heap and len(stale) < batch:
            _, i = heap[0]
            if not open_[i]:
                heapq.heappop(heap)
            elif fresh_in[i] == k:
                break
            else:
                stale.append(heapq.heappop(heap)[1])
        if not stale:
            return heapq.heappop(heap)[1] if heap else None
        idx = np.array(stale)
        gains = res.gains(cand_node[idx])
        fresh_in[idx] = k
        for g, i in zip(gains, stale, strict=True):
            if g > min_gain:
                heapq.heappush(heap, (-g, i))
    return None
