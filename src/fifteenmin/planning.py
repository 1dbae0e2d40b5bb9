"""Where new spaces would help most: greedy maximum coverage of residents within a walk."""

from __future__ import annotations

import dataclasses
import heapq
import logging
import math
import numbers
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from . import _names as N
from ._io import ProgressBar, output_folder
from ._tables import spreadsheet_safe
from .errors import InputError
from .network import _csr
from .pipeline import Analysis
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


def new_residents_column(minutes: float) -> str:
    """Column of the residents a site adds within ``minutes`` (``new_residents_15min``)."""
    return f"new_residents_{N.minutes_label(minutes)}"


def cumulative_share_column(minutes: float) -> str:
    """Column of the city-wide share within ``minutes`` after sites 1..k."""
    return f"cumulative_share_{N.minutes_label(minutes)}"


def reach_column(minutes: float) -> str:
    """Column of all residents within ``minutes`` of a site, served already or not."""
    return f"residents_{N.minutes_label(minutes)}"


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
        sites 1..k). ``attrs`` holds ``baseline_share`` (before), ``residents_total``,
        ``minutes`` and ``candidates_searched``. Concatenated with the spaces, the sites
        can be passed to :func:`~fifteenmin.pipeline.analyze`, which then finds the same
        shares.

    Raises
    ------
    InputError
        If an option is out of range, the zones carry no residents, or a given candidate
        is not a point.

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
    minutes = float(minutes)
    walk, zone_gdf = _inputs(source, zones)
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
    # the pieces' nearest spaces are not used here: only their edges and distances
    with_candidates = dataclasses.replace(
        walk, graph=graph, dist_m=dist, nearest=np.full(graph.n_nodes, -1)
    )
    # residents as in the zone figures: on the streets off the fragments
    pieces = street_pieces(with_candidates, geoms)
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=nz)
    density = np.divide(pop, total, out=np.zeros(nz), where=total > 0)
    res = _Residents(graph, dist, pieces, density, limit_m)

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
            np.divide(res.covered_by_zone(nz), total, out=np.zeros(nz), where=total > 0), 0, 1
        )
        return float(pop[total > 0] @ covered[total > 0]) + fixed

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
    min_gain = _MIN_GAIN_M * float(density.max())
    heap = [(-g, int(i)) for g, i in zip(first, pool, strict=True) if g > min_gain]
    heapq.heapify(heap)
    fresh_in = np.full(n_cand, -1)
    fresh_in[pool] = 0
    open_ = np.ones(n_cand, dtype=bool)

    baseline = within()
    rows: list[dict[str, float]] = []
    before = baseline
    for k in range(n_sites):
        pick = _lazy_pick(heap, fresh_in, open_, k, res, cand_node, min_gain)
        if pick is None:
            logger.info("no candidate reaches anybody new after %d site(s)", k)
            break
        if cell_m > 0:
            pick = _refine(pick, heap, open_, res, cand_node, cand_xy, _REFINE_CELLS * cell_m)
        reach = res.add(int(cand_node[pick]))
        after = within()
        gone = ((cand_xy - cand_xy[pick]) ** 2).sum(axis=1) < min_separation_m**2
        open_ &= ~gone
        open_[pick] = False
        rows.append(
            {"pick": pick, "new": after - before, "reach": reach, "share": after / pop_total}
        )
        before = after
    sites = _table(rows, walk, zone_gdf, cand_node, cand_xy, points, minutes)
    sites.attrs.update(
        baseline_share=baseline / pop_total,
        residents_total=pop_total,
        minutes=minutes,
        candidates_searched=len(pool),
    )
    return sites


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
            new_residents_column(minutes): [float(r["new"]) for r in rows],
            reach_column(minutes): [float(r["reach"]) for r in rows],
            cumulative_share_column(minutes): [float(r["share"]) for r in rows],
        }
    )
    return gpd.GeoDataFrame(table, geometry=shapely.points(xy), crs=walk.streets.crs)


def write_sites(sites: gpd.GeoDataFrame, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``suggested_sites.gpkg`` and ``suggested_sites.csv`` as the folder ``out``.

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
    ['.fifteenmin', 'suggested_sites.csv', 'suggested_sites.gpkg']
    """
    with output_folder(out, overwrite=overwrite, command="suggest") as tmp:
        sites.to_file(tmp / "suggested_sites.gpkg", layer="suggested_sites", driver="GPKG")
        spreadsheet_safe(pd.DataFrame(sites.drop(columns=sites.geometry.name))).to_csv(
            tmp / "suggested_sites.csv", index=False
        )
    logger.info("wrote %s", out)
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
