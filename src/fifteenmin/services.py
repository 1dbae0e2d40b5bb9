"""Many categories of services on one network: the walk to each category, to all of them,
and where one category (work) is the only thing missing from a 15-minute life.

Method
------
The network is read, simplified and indexed once. Every service point of every category
joins it as :func:`~fifteenmin.travel.walk_times` joins a space (nearest point of the
nearest walkable street, the straight walk to it counted), all in **one** search graph,
split at every access point. Then one multi-source search per category (scipy Dijkstra on
the same CSR matrix) gives every node the walking distance to the nearest service of that
category. The street pieces (streets clipped to the zones) are computed once.

On a piece of a segment of length ``L`` whose ends are ``d_u`` and ``d_v`` from the nearest
service of category ``c``, a point at ``x`` is within the walk ``limit`` when
``min(d_u + x, d_v + L - x) <= limit``; the points *not* within it form one interval,
``(limit - d_u, L - limit + d_v)`` (empty when the two reaches overlap; ``inf`` where an
end is not reached at all). So, exactly:

- within reach of category ``c``: the piece minus that interval;
- within reach of **every** category: the piece minus the union of the categories'
  intervals (an intersection of reached parts, not an average of node times);
- **the missing piece** (all categories but one, e.g. work, within reach, that one not):
  that category's interval minus the union of the others' intervals;
- categories within reach, per resident: the sum over categories of the share within reach
  (the mean count, by linearity);

A category with no service anywhere in the study area (an extract with streets only, a
table whose tags the extract does not use) is **not reachable**: its own share is 0 in
every zone. The figures that combine categories are then **not assessed** (NaN), never 0:
within reach of all of them, and the missing piece when that category is one of the
others (no data cannot tell "no pharmacy" from "pharmacies not in the extract"). The
count of categories within reach, the mean category walk and the worst category are over
the categories with services (see :func:`not_assessed`).
- mean walking time to a category: the exact mean of ``min(d_u + x, d_v + L - x)`` over the
  zone's streets (piecewise linear, integrated in closed form).

Residents are spread evenly over the walkable street length of their zone, as in the zone
figures (:func:`~fifteenmin.zones.zone_coverage`). Street fragments (parts of the network
with no service of any category and less than ``fragment_max_m`` of street) are left out.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from . import _names as N
from . import _topology
from ._topology import FRAGMENT_MAX_M
from .errors import InputError
from .network import DEFAULT_SPEED_KMH, StreetNetwork, _check_speed, streets_from_graph
from .travel import MAX_SNAP_M, SearchGraph, WalkTimes, _from_osm, _snap, build_search_graph
from .zones import StreetPieces, street_pieces

logger = logging.getLogger(__name__)

_CHUNK = 200_000  # pieces per block in the interval sums (memory: pieces x categories)


@dataclass(frozen=True)
class CategoryTimes:
    """Walking distance from every node to the nearest service of each category.

    ``dist_m[c, i]``: metres from node ``i`` of :attr:`graph` to the nearest service of
    category ``names[c]`` (``inf`` where none is reachable). ``services``: every service
    point, with its ``category``; ``counts``: services per category (0: none in the area).
    """

    streets: StreetNetwork
    graph: SearchGraph
    names: tuple[str, ...]
    dist_m: np.ndarray
    services: gpd.GeoDataFrame
    counts: dict[str, int]
    speed_kmh: float
    walk: WalkTimes  # the union of all services: pieces, fragments, node positions

    def minutes_to_m(self, minutes: float) -> float:
        """Walking distance covered in ``minutes``."""
        return minutes * 60.0 * self.speed_kmh / 3.6

    def node_times(self) -> gpd.GeoDataFrame:
        """One point per network node: ``osmid`` and ``walk_time_s_<category>`` for each
        category (NaN where none is reachable), ``fragment``."""
        n = self.graph.n_street_nodes
        speed = self.speed_kmh / 3.6
        data: dict[str, Any] = {"osmid": self.streets.node_osmid}
        for name, d in zip(self.names, self.dist_m[:, :n], strict=True):
            data[f"walk_time_s_{name}"] = np.where(np.isfinite(d), d / speed, np.nan)
        data["fragment"] = self.walk.fragment_nodes
        return gpd.GeoDataFrame(
            data,
            geometry=gpd.points_from_xy(self.streets.node_xy[:, 0], self.streets.node_xy[:, 1]),
            crs=self.streets.crs,
        )


def category_times(
    streets: StreetNetwork | nx.MultiDiGraph,
    services: Mapping[str, gpd.GeoDataFrame],
    *,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
    fragment_max_m: float | None = FRAGMENT_MAX_M,
) -> CategoryTimes:
    """One search graph for the services of every category; one search per category.

    Parameters
    ----------
    streets
        The network (loaded once).
    services
        Per category name, points (any CRS) with a ``space_id`` column; an empty frame is
        a category with no service in the area (its walks are ``inf``, with a warning).
    speed_kmh
        Walking speed.
    max_snap_m
        Services farther than this from a walkable street: an error for a registry row,
        left out with a warning for a point from OSM tags (``source`` starting "osm").
    fragment_max_m
        Components without any service and with less street than this are fragments.
        Found again on this graph, not taken from the analysis's walk: a component is
        kept here if it holds a service of any category, not just one of the analysis's
        spaces (and the analysis's spaces need not be a category), so the two sets of
        fragments differ in general.

    Raises
    ------
    InputError
        If no category is given, a name repeats, or no category has any service.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> streets = fm.read_streets(city.network)
    >>> spaces = fm.spaces_from_file(city.spaces)
    >>> ct = category_times(streets, {"work": spaces, "north": spaces.iloc[:3]})
    >>> n = ct.graph.n_street_nodes  # street nodes: "north" is a subset of "work"
    >>> ct.names, bool((ct.dist_m[1, :n] >= ct.dist_m[0, :n]).all())
    (('work', 'north'), True)
    """
    _check_speed(speed_kmh)
    if isinstance(streets, nx.MultiDiGraph):
        streets = streets_from_graph(streets)
    names = tuple(str(n) for n in services)
    if not names:
        raise InputError("no service category given; give at least one category")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"category {dup!r} is given twice; give each category once")
    frames = []
    for name, frame in services.items():
        if len(frame) == 0:
            continue
        if "space_id" not in frame.columns or frame.crs is None:
            raise InputError(f"category {name!r}: the services need a space_id column and a CRS")
        part = frame[["space_id", "geometry"]].copy()
        part["name"] = frame["name"].to_numpy() if "name" in frame else None
        part["source"] = frame["source"].to_numpy() if "source" in frame else None
        part["category"] = str(name)
        frames.append(part.to_crs(4326))
    if not frames:
        raise InputError(
            f"none of the {len(names)} categories has a service in the study area "
            f"({', '.join(names)}); check the tags of the category table and the extract"
        )
    allpts = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
    snaps, skipped = _snap(streets, allpts, max_snap_m, _from_osm(allpts))
    if len(skipped):
        warnings.warn(
            f"{len(skipped)} service point(s) from OSM tags left out: farther than "
            f"{max_snap_m:g} m from a walkable street or outside the network (e.g. "
            f"{skipped['space_id'].iloc[0]!r})",
            stacklevel=2,
        )
        allpts = allpts.iloc[snaps.index.to_numpy()].reset_index(drop=True)
        snaps = snaps.reset_index(drop=True)
    graph = build_search_graph(streets, snaps)
    category = allpts["category"].to_numpy()
    dist = np.full((len(names), graph.n_nodes), np.inf)
    counts = {}
    for c, name in enumerate(names):
        own = graph.space_node[category == name]
        counts[name] = int(len(own))
        if len(own):
            dist[c] = dijkstra(graph.csr, directed=False, indices=own, min_only=True)
    empty = [n for n in names if counts[n] == 0]
    if empty:
        warnings.warn(
            f"{len(empty)} categor{'y has' if len(empty) == 1 else 'ies have'} no service in "
            f"the study area, so no zone reaches {'it' if len(empty) == 1 else 'them'}: "
            f"{', '.join(empty)}; check the category table's tags against the extract",
            stacklevel=2,
        )
    nearest_any = dist.min(axis=0)
    walk = WalkTimes(
        streets=streets,
        graph=graph,
        snaps=snaps,
        spaces=allpts,
        speed_kmh=speed_kmh,
        dist_m=nearest_any,
        nearest=np.full(graph.n_nodes, -1),
        fragment_nodes=_topology.fragment_nodes(graph, streets, max_length_m=fragment_max_m),
        fragment_max_m=fragment_max_m or None,
    )
    return CategoryTimes(
        streets=streets,
        graph=graph,
        names=names,
        dist_m=dist,
        services=allpts,
        counts=counts,
        speed_kmh=speed_kmh,
        walk=walk,
    )


def _gaps(
    p: StreetPieces, g: SearchGraph, dist: np.ndarray, limit_m: float, rows: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Per piece of ``rows`` and category: the interval not within ``limit_m``, clipped to
    the piece (``lo >= hi``: none)."""
    u, v = g.u[p.edge[rows]], g.v[p.edge[rows]]
    s, e, length = p.start_m[rows], p.end_m[rows], p.length_m[rows]
    with np.errstate(invalid="ignore"):
        lo = limit_m - dist[:, u]  # reached from u up to here
        hi = length[None, :] - limit_m + dist[:, v]  # and from v back to here
    lo = np.clip(np.nan_to_num(lo, nan=np.inf, neginf=-np.inf), s, e)
    hi = np.clip(np.nan_to_num(hi, nan=-np.inf, posinf=np.inf), s, e)
    return lo.T, hi.T  # pieces x categories


def _union_length(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, the length of the union of the intervals ``(lo[:, k], hi[:, k])``."""
    if lo.shape[1] == 0:
        return np.zeros(lo.shape[0])
    order = np.argsort(lo, axis=1)
    lo = np.take_along_axis(lo, order, axis=1)
    hi = np.take_along_axis(hi, order, axis=1)
    hi = np.maximum(hi, lo)  # empty intervals have no length
    reach = np.maximum.accumulate(hi, axis=1)  # the union so far ends here
    start = lo.copy()
    start[:, 1:] = np.maximum(lo[:, 1:], reach[:, :-1])
    return np.clip(hi - start, 0.0, None).sum(axis=1)


def _mean_time_m(p: StreetPieces, g: SearchGraph, d: np.ndarray, rows: slice) -> np.ndarray:
    """Per piece: the integral over it of the walk ``min(d_u + x, d_v + L - x)`` (m x m)."""
    u, v = g.u[p.edge[rows]], g.v[p.edge[rows]]
    s, e, length = p.start_m[rows], p.end_m[rows], p.length_m[rows]
    du, dv = d[u], d[v]
    with np.errstate(invalid="ignore"):
        turn = np.clip((dv + length - du) / 2, s, e)  # where the walks from u and v meet
    turn = np.where(np.isinf(du) & np.isinf(dv), s, np.where(np.isnan(turn), s, turn))
    turn = np.where(np.isinf(du), s, np.where(np.isinf(dv), e, turn))
    with np.errstate(invalid="ignore"):
        left = np.where(turn > s, du * (turn - s) + (turn**2 - s**2) / 2, 0.0)
        right = np.where(e > turn, (dv + length) * (e - turn) - (e**2 - turn**2) / 2, 0.0)
    out = left + right
    return np.where(np.isinf(du) & np.isinf(dv), np.inf, out)


def category_coverage(
    times: CategoryTimes,
    zones: gpd.GeoDataFrame,
    *,
    minutes: float = 15.0,
    missing: str | None = "work",
    pieces: StreetPieces | None = None,
) -> pd.DataFrame:
    """Per zone: residents within ``minutes`` of each category, of all of them, and for whom
    ``missing`` is the only category out of reach.

    Parameters
    ----------
    times
        Result of :func:`category_times`.
    zones
        Zones (any CRS) with ``zone_id`` and ``residents`` (NaN: figures are shares of
        street length); ``status`` respected when present (``no_data`` zones get NaN).
    minutes
        The walk.
    missing
        The category whose absence is "the missing piece" (default ``work``; ``None`` or a
        name that is not a category: no such columns).
    pieces
        :func:`~fifteenmin.zones.street_pieces` of ``times.walk`` for these zones, if
        already computed.

    Returns
    -------
    pandas.DataFrame
        One row per zone: ``zone_id``; per category ``share_pop_<m>min_<cat>`` (of
        residents; of street length without population) and ``mean_walk_time_s_<cat>``;
        ``share_pop_<m>min_all`` (every category within reach), ``categories_<m>min`` (mean
        number of categories within reach), ``mean_category_time_s`` (mean over the
        categories of their mean walk) and ``worst_category`` (the category with the
        longest mean walk); with ``missing``: ``missing_<cat>_<m>min`` (residents with
        every other category within reach but not this one) and its share
        ``share_missing_<cat>_<m>min``; with residents, ``pop_<m>min_all``.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> spaces = result.walk.spaces
    >>> ct = category_times(result.walk.streets, {"work": spaces, "north": spaces.iloc[:3]})
    >>> cov = category_coverage(ct, result.zones)
    >>> bool((cov["share_pop_15min_all"] <= cov["share_pop_15min_work"] + 1e-12).all())
    True
    """
    if not minutes > 0:
        raise InputError(f"walk of {minutes!r} minutes is not a positive number; use e.g. 15")
    z = zones.to_crs(times.streets.crs).reset_index(drop=True)
    nz = len(z)
    if pieces is None:
        from .zones import counted_geometries

        pieces = street_pieces(times.walk, counted_geometries(z))
    p, g = pieces, times.graph
    names = list(times.names)
    k = len(names)
    limit = times.minutes_to_m(minutes)
    miss = names.index(missing) if missing in names else None
    total = np.bincount(p.zone, weights=p.end_m - p.start_m, minlength=nz)
    reached = np.zeros((k, nz))
    gap_all = np.zeros(nz)
    gap_miss = np.zeros(nz)
    integral = np.zeros((k, nz))
    for lo_i in range(0, len(p.zone), _CHUNK):
        rows = slice(lo_i, lo_i + _CHUNK)
        zone = p.zone[rows]
        piece_len = p.end_m[rows] - p.start_m[rows]
        lo, hi = _gaps(p, g, times.dist_m, limit, rows)
        gap = np.clip(hi - lo, 0.0, None)
        for c in range(k):
            reached[c] += np.bincount(zone, weights=piece_len - gap[:, c], minlength=nz)
            integral[c] += np.bincount(
                zone, weights=_mean_time_m(p, g, times.dist_m[c], rows), minlength=nz
            )
        gap_all += np.bincount(zone, weights=_union_length(lo, hi), minlength=nz)
        if miss is not None:
            others = [c for c in range(k) if c != miss]
            # the missing category's gap, minus where another category is out of reach too
            w_lo, w_hi = lo[:, [miss]], hi[:, [miss]]
            both = _union_length(np.maximum(lo[:, others], w_lo), np.minimum(hi[:, others], w_hi))
            gap_miss += np.bincount(zone, weights=gap[:, miss] - both, minlength=nz)
    has_streets = total > 0
    absent = [c for c, name in enumerate(names) if times.counts.get(name, 0) == 0]
    present = [c for c in range(k) if c not in absent]
    status = z[N.STATUS].to_numpy() if N.STATUS in z.columns else np.full(nz, N.OK, dtype=object)
    no_data = (status == N.NO_DATA) | ~has_streets
    pop = (
        z[N.POPULATION].to_numpy(dtype=float) if N.POPULATION in z.columns else np.full(nz, np.nan)
    )
    has_pop = bool(np.isfinite(pop).any())

    def share(length: np.ndarray) -> np.ndarray:
        out = np.clip(np.divide(length, total, out=np.zeros(nz), where=has_streets), 0, 1)
        return np.where(no_data, np.nan, out)

    label = N.minutes_label(minutes)
    out = pd.DataFrame({N.ZONE_ID: z[N.ZONE_ID].to_numpy()})
    speed = times.speed_kmh / 3.6
    mean_s = np.where(
        has_streets[None, :], integral / np.where(has_streets, total, 1.0)[None, :] / speed, np.nan
    )
    mean_s = np.where(no_data[None, :], np.nan, mean_s)
    counted_cats = np.zeros(nz)
    for c, name in enumerate(names):
        sh = share(reached[c])
        out[f"share_pop_{label}_{name}"] = sh
        out[f"mean_walk_time_s_{name}"] = np.where(np.isfinite(mean_s[c]), mean_s[c], np.nan)
        counted_cats += np.nan_to_num(sh)
    # every category within reach: not assessed where one has no service at all
    all_share = np.full(nz, np.nan) if absent else share(total - gap_all)
    out[f"share_pop_{label}_all"] = all_share
    if has_pop:
        out[f"pop_{label}_all"] = pop * all_share
    out[f"categories_{label}"] = np.where(no_data, np.nan, counted_cats)
    # the mean and the worst walk over the categories with a service (others: inf)
    own = mean_s[present] if present else np.full((1, nz), np.nan)
    finite = np.where(np.isfinite(own), own, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN zones
        mean_cat = np.where(np.isinf(own).any(axis=0), np.inf, np.nanmean(finite, axis=0))
    worst = np.argmax(np.where(np.isnan(own), -1.0, own), axis=0)
    worst_names: list[str | None] = [names[c] for c in present] or [None]
    worst_name = np.array(worst_names, dtype=object)[worst]
    out["mean_category_time_s"] = np.where(no_data, np.nan, mean_cat)
    out["worst_category"] = np.where(no_data | (not present), None, worst_name)
    if miss is not None:
        # not assessed where another category has no service: no data, not "missing"
        miss_share = np.full(nz, np.nan) if set(absent) - {miss} else share(gap_miss)
        out[f"share_missing_{names[miss]}_{label}"] = miss_share
        if has_pop:
            out[f"missing_{names[miss]}_{label}"] = pop * miss_share
    return out


def brute_force_shares(
    times: CategoryTimes, pieces: StreetPieces, minutes: float, n_zones: int, samples: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Shares within reach of every category, and of the missing piece (the last
    category), by sampling each piece at ``samples`` points: an independent check of
    :func:`category_coverage` (slow; for tests)."""
    g = times.graph
    limit = times.minutes_to_m(minutes)
    u, v = g.u[pieces.edge], g.v[pieces.edge]
    frac = (np.arange(samples) + 0.5) / samples
    x = pieces.start_m[:, None] + frac[None, :] * (pieces.end_m - pieces.start_m)[:, None]
    within = np.stack(
        [
            np.minimum(d[u][:, None] + x, d[v][:, None] + pieces.length_m[:, None] - x) <= limit
            for d in times.dist_m
        ]
    )  # categories x pieces x samples
    step = (pieces.end_m - pieces.start_m) / samples
    all_ = within.all(axis=0).sum(axis=1) * step
    last = (within[:-1].all(axis=0) & ~within[-1]).sum(axis=1) * step
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=n_zones)
    div = np.where(total > 0, total, 1.0)
    return (
        np.bincount(pieces.zone, weights=all_, minlength=n_zones) / div,
        np.bincount(pieces.zone, weights=last, minlength=n_zones) / div,
    )


def check_categories(names: Sequence[str]) -> None:
    """Refuse an empty list or a repeated category name (one line)."""
    if not names:
        raise InputError("no service category given; give at least one category")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"category {n!r} is given twice; give each category once")
        seen.add(n)


def not_assessed(counts: Mapping[str, int], missing: str | None = None) -> dict[str, str]:
    """Which combined figures cannot be assessed, and why: ``{"all": reason}`` when a
    category has no service in the study area, and ``{"missing": reason}`` when one of
    the categories other than ``missing`` has none (empty: everything assessed)."""
    absent = [n for n, k in counts.items() if k == 0]
    out = {}
    if absent:
        out["all"] = f"no service in the study area for: {', '.join(absent)}"
    others = [n for n in absent if n != missing]
    if missing is not None and missing in counts and others:
        out["missing"] = f"no service in the study area for: {', '.join(others)}"
    return out


@dataclass(frozen=True, repr=False)
class CategoryFigures:
    """Every category's figures for the zones of an analysis (see :func:`category_figures`).

    ``zones``: :func:`category_coverage`'s table. ``citywide``: one row per category
    (``category``, ``label_en``, ``label_it``, ``services``, ``share``, ``residents_within``
    over the counted zones) and one row ``all``. ``missing``: the category whose absence
    is the missing piece (None when not among them).
    """

    times: CategoryTimes
    zones: pd.DataFrame
    citywide: pd.DataFrame
    labels: dict[str, dict[str, str]]
    minutes: float
    missing: str | None

    @property
    def absent(self) -> tuple[str, ...]:
        """The categories with no service in the study area (not reachable)."""
        return tuple(n for n in self.times.names if self.times.counts.get(n, 0) == 0)

    def label(self, name: str, lang: str) -> str:
        """A category's name in ``lang`` (``"en"``, ``"it"``): its label, else its name."""
        return self.labels.get(name, {}).get(lang, name)

    @property
    def not_assessed(self) -> dict[str, str]:
        """``{"all": reason}`` and ``{"missing": reason}`` for the combined figures left
        NaN because a category has no service in the study area (see the module's notes)."""
        return not_assessed(self.times.counts, self.missing)

    def __repr__(self) -> str:
        """A few lines: per category its services and the share of residents within the
        walk (the whole tables are :attr:`zones` and :attr:`citywide`)."""
        rows = self.citywide.to_dict("records")
        lines = [
            f"<fifteenmin.services.CategoryFigures: {len(self.times.names)} categories within "
            f"{self.minutes:g} min, {len(self.zones)} zones; missing piece: {self.missing}>"
        ]
        width = max((len(str(r["category"])) for r in rows), default=0)
        for r in rows:
            share = r.get("share")
            share_text = "-" if share is None or pd.isna(share) else f"{float(share):.1%}"
            services = r.get("services")
            count = "" if services is None or pd.isna(services) else f"{int(services):,} services, "
            lines.append(
                f"  {str(r['category']):<{width}}  {count}{share_text} of residents within"
            )
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """The figures as saved under ``categories`` in ``summary.json``."""
        label = N.minutes_label(self.minutes)
        rows = [
            {k: (None if v is None or pd.isna(v) else v) for k, v in r.items()}  # JSON: null
            for r in self.citywide.astype(object).to_dict("records")
        ]
        out: dict[str, Any] = {
            "minutes": self.minutes,
            "categories": [r for r in rows if r["category"] != "all"],
            "all": next(r for r in rows if r["category"] == "all"),
            "not_reachable": [n for n, k in self.times.counts.items() if k == 0],
            "missing_category": self.missing,
        }
        if self.missing is not None:
            col = f"missing_{self.missing}_{label}"
            share = f"share_missing_{self.missing}_{label}"
            z = self.zones
            reason = self.not_assessed.get("missing")
            out["missing_piece"] = {
                "residents": float(z[col].sum()) if col in z and reason is None else None,
                "not_assessed": reason,
                "zones": [
                    {
                        "zone_id": str(r[N.ZONE_ID]),
                        "share": float(r[share]),
                        "residents": float(r[col]) if col in z else None,
                    }
                    for _, r in z.sort_values(share, ascending=False).head(10).iterrows()
                    if np.isfinite(r[share]) and r[share] > 0
                ],  # fmt: skip
            }
        return out


def category_figures(
    times: CategoryTimes,
    zones: gpd.GeoDataFrame,
    *,
    labels: dict[str, dict[str, str]] | None = None,
    minutes: float = 15.0,
    missing: str | None = "work",
    counted: np.ndarray | None = None,
) -> CategoryFigures:
    """:func:`category_coverage` with the city-wide shares over the ``counted`` zones
    (default all), weighted by residents (by street length without population)."""
    cov = category_coverage(times, zones, minutes=minutes, missing=missing)
    n = len(zones)
    counted = np.ones(n, dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
    pop = (
        zones[N.POPULATION].to_numpy(dtype=float)
        if N.POPULATION in zones.columns
        else np.full(n, np.nan)
    )
    if np.isfinite(pop).any():
        weight = np.nan_to_num(pop)
    else:  # no residents: the zones' street length
        z = zones.to_crs(times.streets.crs)
        weight = (
            z[N.STREET_LENGTH_M].to_numpy(dtype=float)
            if N.STREET_LENGTH_M in z.columns
            else np.ones(n)
        )
    weight = np.where(counted, weight, 0.0)
    label = N.minutes_label(minutes)
    labels = labels or {}
    unknown = not_assessed(times.counts)
    rows = []
    for name in [*times.names, "all"]:
        share = np.nan_to_num(cov[f"share_pop_{label}_{name}"].to_numpy(dtype=float))
        got = np.nan if name in unknown else float(weight @ share)
        lab = labels.get(name, {})
        rows.append(
            {
                "category": name,
                "label_en": lab.get("en", name),
                "label_it": lab.get("it", name),
                "services": int(times.counts[name]) if name in times.counts else None,
                "share": got / weight.sum() if weight.sum() > 0 else float("nan"),
                "residents_within": got if np.isfinite(pop).any() else None,
                "not_assessed": unknown.get(name),
            }
        )
    table = pd.DataFrame(rows)
    table["services"] = table["services"].astype("Int64")
    return CategoryFigures(
        times=times,
        zones=cov,
        citywide=table,
        labels=labels,
        minutes=float(minutes),
        missing=missing if missing in times.names else None,
    )


def missing_piece_pieces(
    times: CategoryTimes, pieces: StreetPieces, *, minutes: float, missing: str
) -> StreetPieces:
    """The parts of ``pieces`` where every category but ``missing`` is within ``minutes``
    and ``missing`` is not: one piece per such stretch (same segment, narrower
    ``start_m``/``end_m``), with the distances to ``missing``. Their residents are those
    :func:`category_coverage` counts as the missing piece; a site for ``missing`` reaching
    them completes the 15-minute city there (see
    :func:`~fifteenmin.planning.suggest_sites`, ``objective="missing"``)."""
    if missing not in times.names:
        raise InputError(
            f"category {missing!r} is not among the categories ({', '.join(times.names)})"
        )
    g = times.graph
    limit = times.minutes_to_m(minutes)
    w = times.names.index(missing)
    others = [c for c in range(len(times.names)) if c != w]
    keep_piece, starts, ends = [], [], []
    for lo_i in range(0, len(pieces.zone), _CHUNK):
        rows = slice(lo_i, lo_i + _CHUNK)
        lo, hi = _gaps(pieces, g, times.dist_m, limit, rows)
        w_lo, w_hi = lo[:, w], hi[:, w]
        o_lo = np.maximum(lo[:, others], w_lo[:, None])  # the others' gaps within w's
        o_hi = np.minimum(hi[:, others], w_hi[:, None])
        gap = np.clip(w_hi - w_lo, 0.0, None) - _union_length(o_lo, o_hi)
        for j in np.flatnonzero(gap > 1e-9):  # the stretches of w's gap the others leave
            at = float(w_lo[j])
            for a, b in sorted(zip(o_lo[j], o_hi[j], strict=True)):
                if b <= a:
                    continue
                if a > at:
                    keep_piece.append(lo_i + j)
                    starts.append(at)
                    ends.append(float(a))
                at = max(at, float(b))
            if w_hi[j] > at:
                keep_piece.append(lo_i + j)
                starts.append(at)
                ends.append(float(w_hi[j]))
    idx = np.asarray(keep_piece, dtype=np.int64)
    d = times.dist_m[w]
    return StreetPieces(
        zone=pieces.zone[idx],
        edge=pieces.edge[idx],
        start_m=np.asarray(starts, dtype=float),
        end_m=np.asarray(ends, dtype=float),
        length_m=pieces.length_m[idx],
        d_u=d[g.u[pieces.edge[idx]]],
        d_v=d[g.v[pieces.edge[idx]]],
        src_u=np.full(len(idx), -1),
        src_v=np.full(len(idx), -1),
    )
