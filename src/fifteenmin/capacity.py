"""Seats within reach per resident (2SFCA, E2SFCA) and what each space is worth.

Everything here is computed on the residents of the zone figures: each counted zone's
residents (status ``ok`` or ``partial_data``) spread evenly over its walkable street length
(street fragments left out), on the exact walking times of the per-space searches.

Level of the computation
------------------------
The demand lives on *street pieces* (the streets clipped to the zones, as in
:func:`~fifteenmin.zones.street_pieces`). A point at ``x`` along a segment of length ``L``
is ``t_j(x) = min(d_j(u) + x, d_j(v) + L - x)`` metres from space ``j``, with ``d_j`` the
per-space search (:meth:`~fifteenmin.travel.WalkTimes.per_space_m`). Each piece is cut at
every point where it enters or leaves a space's catchment (``t_j = limit``) and where
``t_j`` turns (the meeting point of the two ends), so that on each sub-piece the set of
spaces within reach is fixed and every ``t_j`` is linear. Each sub-piece becomes two
*demand points* at its two-point Gauss-Legendre nodes, each with half its residents, at the
exact walking time there. The 2SFCA figures are then exact (every resident counted with
exactly the spaces within reach); the E2SFCA figures integrate the decay along the street
with two-point Gauss-Legendre, whose error falls with the fourth power of the sub-piece's
length: exact for linear decay; for the Gaussian, the zone figures of the sample city
agree with a 400-point rule per piece to 2e-6 relative (see the tests).
:func:`demand_points` returns those points and their cost table, the input of PySAL
``access``, which gives the same figures.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from . import _names as N
from .errors import InputError
from .pipeline import Analysis
from .spaces import MAX_SEATS
from .travel import WalkTimes
from .zones import StreetPieces, covered_length

logger = logging.getLogger(__name__)

Kernel = Callable[[np.ndarray], np.ndarray]
"""A decay: weights (>= 0) for walking times in minutes, applied within the catchment."""

KERNELS = ("gaussian", "linear", "step")
"""Named decays for E2SFCA, with ``T`` the catchment in minutes: ``gaussian`` (Dai 2010:
``(exp(-(t/T)**2/2) - exp(-1/2)) / (1 - exp(-1/2))``, 1 at the door, 0 at ``T``),
``linear`` (``1 - t/T``) and ``step`` (1: plain 2SFCA)."""

_GL = 0.5 / math.sqrt(3.0)  # two-point Gauss-Legendre nodes: mid -/+ h / (2 sqrt 3)
_CUT_TOL_M = 1e-9  # cuts closer than this to a piece's end or to each other are merged
_PAIR_BLOCK = 1 << 16  # (piece, space) pairs expanded to their points at a time
_FCA_BLOCK = 1 << 20  # (point, space) pairs weighed at a time
_SEARCH_BLOCK = 8  # per-space searches at a time: 8 x nodes distances in memory


def _gaussian(minutes: float) -> Kernel:
    floor = math.exp(-0.5)

    def weight(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.clip((np.exp(-0.5 * (t / minutes) ** 2) - floor) / (1.0 - floor), 0.0, None)

    return weight


def kernel_function(kernel: str | Kernel, minutes: float) -> Kernel:
    """The decay ``kernel`` (a name of :data:`KERNELS` or a callable) for a walk of ``minutes``.

    Examples
    --------
    >>> f = kernel_function("gaussian", 15.0)
    >>> [round(float(w), 3) for w in f(np.array([0.0, 7.5, 15.0]))]
    [1.0, 0.701, 0.0]
    """
    if callable(kernel):
        return kernel
    if kernel == "gaussian":
        return _gaussian(minutes)
    if kernel == "linear":
        return lambda t: np.clip(1.0 - np.asarray(t, dtype=float) / minutes, 0.0, None)
    if kernel == "step":
        return lambda t: np.ones_like(np.asarray(t, dtype=float))
    raise InputError(
        f"decay kernel {kernel!r} is not one of {', '.join(KERNELS)}; give one of those names "
        "or a function of the walking time in minutes"
    )


def _number(value: object) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _check_minutes(minutes: float) -> float:
    m = _number(minutes)
    if m is None or m <= 0:
        raise InputError(f"walk of {minutes!r} minutes is not a positive number; use e.g. 15")
    return m


def _check_options(seats_per_1000: float | None, demand_share: float) -> None:
    if seats_per_1000 is not None:
        s = _number(seats_per_1000)
        if s is None or s <= 0:
            raise InputError(
                f"target of {seats_per_1000!r} seats per 1,000 residents is not a positive "
                "number; give e.g. 20, or None for no target"
            )
    share = _number(demand_share)
    if share is None or not 0 < share <= 1:
        raise InputError(
            f"demand share {demand_share!r} is outside (0, 1]; give the share of residents "
            "who would use a space, e.g. 0.3, or 1 for all of them"
        )


def space_seats(spaces: pd.DataFrame) -> np.ndarray:
    """Seats of each space as floats, NaN where unknown; bad values raise :class:`InputError`.

    Examples
    --------
    >>> space_seats(pd.DataFrame({"space_id": ["a", "b"], "seats": [12, None]}))
    array([12., nan])
    """
    if "seats" not in spaces.columns:
        raise InputError(
            "the spaces have no seats column; add one (seats, postazioni, desks or capacity) "
            "with the number of desks of each space"
        )
    raw = spaces["seats"]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    missing = pd.isna(raw).to_numpy()
    with np.errstate(invalid="ignore"):
        good = (num >= 0) & (num <= MAX_SEATS) & (num == np.round(num))
    bad = ~missing & ~good
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        ids = spaces["space_id"].astype(str).to_numpy() if "space_id" in spaces else None
        name = repr(ids[i]) if ids is not None else f"number {i + 1}"
        raise InputError(
            f"space {name} has {raw.iloc[i]!r} seats ({int(bad.sum())} such space(s)); write a "
            f"whole number of desks from 0 to {MAX_SEATS:,}, or leave it empty"
        )
    return np.where(missing, np.nan, num)


@dataclass(frozen=True)
class _Demand:
    """Residents (or demand) per counted zone, spread over its pieces."""

    pieces: StreetPieces
    density: np.ndarray  # per zone, per metre of street; 0 outside the counted zones
    demand: np.ndarray  # per zone; NaN outside the counted zones
    counted: np.ndarray


def _demand(
    analysis: Analysis, population_column: str | None = None, demand_share: float = 1.0
) -> _Demand:
    if not isinstance(analysis, Analysis):
        raise InputError(
            f"expected the result of analyze(), got a {type(analysis).__name__}; run "
            "fifteenmin.analyze(...) with population_column= first"
        )
    zones = analysis.zones
    column = N.POPULATION if population_column is None else population_column
    if column not in zones.columns:
        raise InputError(
            f"the zones have no column {column!r}; columns are "
            f"{', '.join(map(str, zones.columns.drop(zones.geometry.name)))}"
        )
    values = pd.to_numeric(zones[column], errors="coerce").to_numpy(dtype=float)
    counted = analysis.counted
    if column != N.POPULATION and N.DATA_SHARE in zones.columns:  # as residents: the part counted
        values = values * pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy()
    values = np.where(counted, values, np.nan)
    if not np.nansum(values) > 0:
        raise InputError(
            f"the counted zones have no residents in column {column!r}; run the analysis "
            "with population_column= (--population-column COL) naming the residents column"
        )
    with np.errstate(invalid="ignore"):
        bad = counted & ~((values >= 0) & np.isfinite(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"zone {zones[N.ZONE_ID].iloc[i]!r}: column {column!r} holds "
            f"{zones[column].iloc[i]!r}, "
            f"not a number of residents >= 0 ({int(bad.sum())} such zone(s)); name a numeric "
            "column or fix the values"
        )
    pieces = analysis.street_pieces
    nz = len(zones)
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=nz)
    demand = values * float(demand_share)
    density = np.divide(np.nan_to_num(demand), total, out=np.zeros(nz), where=counted & (total > 0))
    return _Demand(pieces=pieces, density=density, demand=demand, counted=counted)


@dataclass(frozen=True)
class _Reach:
    """The (piece, space) pairs with part of the piece within the walk of the space."""

    piece: np.ndarray
    space: np.ndarray  # index into walk.spaces
    d_u: np.ndarray
    d_v: np.ndarray
    covered_m: np.ndarray  # length of the piece within the walk of the space


def _reach(
    walk: WalkTimes, p: StreetPieces, keep: np.ndarray, limit_m: float, spaces: np.ndarray
) -> _Reach:
    """Per-space searches, up to ``limit_m``: the pairs that reach the pieces ``keep``.

    A search reaches a few thousand nodes of a city's hundreds of thousands, so the pieces
    are found from the nodes reached (through each node's pieces), not by reading every
    piece's ends in every search: on a Rome-sized network that is ten times faster and
    needs no block of searches times pieces in memory.
    """
    g = walk.graph
    idx = np.flatnonzero(keep)
    u, v = g.u[p.edge[idx]], g.v[p.edge[idx]]
    n = len(idx)
    # each node's pieces (by position in idx), grouped by node
    ends = np.concatenate([u, v])
    by_node = np.argsort(ends, kind="stable")
    of_node = np.concatenate([np.arange(n), np.arange(n)])[by_node]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(ends, minlength=g.n_nodes))])
    out: list[tuple[np.ndarray, ...]] = []
    searches = walk.per_space_m(limit_m, spaces=spaces, chunk=_SEARCH_BLOCK) if n else ()
    for block, dist in searches:
        rows, nodes = np.nonzero(np.isfinite(dist))
        counts = ptr[nodes + 1] - ptr[nodes]
        at = np.repeat(ptr[nodes], counts) + np.arange(counts.sum()) - _ragged(counts)
        # (search, piece) once each, in search then piece order
        key = np.unique(np.repeat(rows, counts).astype(np.int64) * n + of_node[at])
        row, col = key // n, key % n
        q = idx[col]
        du, dv = dist[row, u[col]], dist[row, v[col]]
        cov = covered_length(p.start_m[q], p.end_m[q], p.length_m[q], du, dv, limit_m)
        hit = cov > 0
        out.append((q[hit], block[row[hit]], du[hit], dv[hit], cov[hit]))
    parts = [np.concatenate(a) for a in zip(*out, strict=True)] if out else [np.empty(0)] * 5
    return _Reach(
        piece=parts[0].astype(np.int64),
        space=parts[1].astype(np.int64),
        d_u=parts[2],
        d_v=parts[3],
        covered_m=parts[4],
    )


def _ragged(counts: np.ndarray) -> np.ndarray:
    """For groups of ``counts`` items laid end to end: each item's group start index."""
    return np.repeat(np.cumsum(counts) - counts, counts)


@dataclass(frozen=True)
class _Points:
    """Demand points (two Gauss-Legendre nodes per sub-piece) and their pairs with spaces."""

    piece: np.ndarray
    x_m: np.ndarray
    demand: np.ndarray
    zone: np.ndarray
    pair_point: np.ndarray
    pair_space: np.ndarray
    pair_m: np.ndarray  # walking distance, metres, always within the limit


def _points(p: StreetPieces, r: _Reach, density: np.ndarray, limit_m: float) -> _Points:
    """Cut the reached pieces where a catchment begins or ends and where a walk turns."""
    s, e, length = p.start_m[r.piece], p.end_m[r.piece], p.length_m[r.piece]
    with np.errstate(invalid="ignore"):
        cuts = np.concatenate(
            [
                limit_m - r.d_u,  # the walk from u reaches this far
                length - (limit_m - r.d_v),  # the walk from v reaches back to here
                (r.d_v + length - r.d_u) / 2,  # where the walks from u and from v meet
            ]
        )
    owner = np.tile(r.piece, 3)
    lo, hi = np.tile(s, 3), np.tile(e, 3)
    inner = np.isfinite(cuts) & (cuts > lo + _CUT_TOL_M) & (cuts < hi - _CUT_TOL_M)
    reached = np.unique(r.piece)
    owner = np.concatenate([owner[inner], reached, reached])
    cuts = np.concatenate([cuts[inner], p.start_m[reached], p.end_m[reached]])
    order = np.lexsort((cuts, owner))
    owner, cuts = owner[order], cuts[order]
    same = owner[1:] == owner[:-1]
    # one sub-piece between consecutive cuts of the same piece (tiny gaps merged)
    step = np.flatnonzero(same & (cuts[1:] - cuts[:-1] > _CUT_TOL_M))
    sub_piece = owner[step]
    a, b = cuts[step], cuts[step + 1]
    # the last sub-piece of each piece must end at the piece's end (merged cuts)
    last = np.ones(len(step), dtype=bool)
    last[:-1] = sub_piece[1:] != sub_piece[:-1]
    b = np.where(last, p.end_m[sub_piece], b)
    first = np.ones(len(step), dtype=bool)
    first[1:] = sub_piece[1:] != sub_piece[:-1]
    a = np.where(first, p.start_m[sub_piece], a)
    b[:-1] = np.where(~last[:-1], a[1:], b[:-1])  # contiguous: no length lost to merging
    mid, half = (a + b) / 2, (b - a) / 2
    piece = np.repeat(sub_piece, 2)
    x = np.column_stack([mid - 2 * _GL * half, mid + 2 * _GL * half]).ravel()
    zone = p.zone[piece]
    demand = density[zone] * np.repeat(half, 2)
    del s, e, length, cuts, owner, lo, hi, inner, order, same, step, a, b, mid, half, last, first
    # pairs: every point of a piece with every space reaching the piece, a block of
    # (piece, space) pairs at a time, so that those beyond the catchment never fill memory;
    # indices as int32 (half the memory of the pairs, the largest arrays here)
    pt_order = np.argsort(piece, kind="stable")  # already sorted by piece
    n_pieces = len(p.zone)
    pt_ptr = np.concatenate([[0], np.cumsum(np.bincount(piece, minlength=n_pieces))])
    all_counts = pt_ptr[r.piece + 1] - pt_ptr[r.piece]
    small = np.int32 if len(x) < 2**31 else np.int64  # (fewer spaces than points)
    kept: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for start in range(0, len(r.piece), _PAIR_BLOCK):
        counts = all_counts[start : start + _PAIR_BLOCK]
        pair = start + np.repeat(np.arange(len(counts)), counts)
        first_point = np.repeat(pt_ptr[r.piece[start : start + _PAIR_BLOCK]], counts)
        point = pt_order[first_point + np.arange(counts.sum()) - _ragged(counts)]
        xp = x[point]
        t = np.minimum(r.d_u[pair] + xp, r.d_v[pair] + p.length_m[piece[point]] - xp)
        within = t <= limit_m
        kept[0].append(point[within].astype(small))
        kept[1].append(r.space[pair[within]].astype(small))
        kept[2].append(t[within])
    pair_point, pair_space, pair_m = (
        _concat_freeing(k, dtype) for k, dtype in zip(kept, (small, small, float), strict=True)
    )
    return _Points(
        piece=piece,
        x_m=x,
        demand=demand,
        zone=zone,
        pair_point=pair_point,
        pair_space=pair_space,
        pair_m=pair_m,
    )


def _concat_freeing(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """``parts`` end to end, emptying the list as it goes (one copy in memory, not two)."""
    out: np.ndarray = np.empty(sum(len(q) for q in parts), dtype=dtype)
    at = 0
    parts.reverse()
    while parts:
        q = parts.pop()
        out[at : at + len(q)] = q
        at += len(q)
    return out


def _fca(
    points: _Points, weights: np.ndarray | None, seats: np.ndarray, n_spaces: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two-stage floating catchment: seats per demand at each point, and each space's ratio.

    ``weights`` per pair (None: all 1); a block of pairs at a time, so that no temporary
    as long as the pairs is made.
    """
    n = len(points.pair_point)
    blocks = [slice(i, i + _FCA_BLOCK) for i in range(0, n, _FCA_BLOCK)]
    catch = np.zeros(n_spaces)
    for b in blocks:
        wd = points.demand[points.pair_point[b]]
        if weights is not None:
            wd *= weights[b]
        catch += np.bincount(points.pair_space[b], weights=wd, minlength=n_spaces)
    ratio = np.divide(seats, catch, out=np.zeros(n_spaces), where=catch > 0)
    per_point = np.zeros(len(points.demand))
    for b in blocks:
        share = ratio[points.pair_space[b]]
        if weights is not None:
            share *= weights[b]
        per_point += np.bincount(points.pair_point[b], weights=share, minlength=len(per_point))
    return per_point, ratio


def _with_seats(walk: WalkTimes) -> tuple[np.ndarray, np.ndarray]:
    """Seats per space and the spaces that have them; warns about those left out."""
    seats = space_seats(walk.spaces)
    known = ~np.isnan(seats)
    if not known.any():
        raise InputError(
            f"none of the {len(seats)} space(s) has a number of seats; fill the seats column "
            "(seats, postazioni, desks or capacity) of the spaces file"
        )
    if not known.all():
        ids = walk.spaces["space_id"].astype(str).to_numpy()[~known]
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        warnings.warn(
            f"{len(ids)} space(s) without a number of seats left out of the capacity figures "
            f"(neither supply nor competition): {shown}; fill their seats to include them",
            stacklevel=3,
        )
    return np.nan_to_num(seats), np.flatnonzero(known)


def demand_points(
    analysis: Analysis,
    *,
    minutes: float = 15.0,
    population_column: str | None = None,
    demand_share: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand points and the cost table that :func:`capacity` computes on.

    Parameters
    ----------
    analysis
        The result of :func:`~fifteenmin.pipeline.analyze`, with residents.
    minutes, population_column, demand_share
        As in :func:`capacity`.

    Returns
    -------
    points : pandas.DataFrame
        One row per demand point (index ``point``): ``zone`` (position in
        ``analysis.zones``), ``zone_id``, ``edge`` (of the search graph), ``x_m`` (along it
        from its ``u`` end) and ``demand`` (residents there, times ``demand_share``). Only
        points on streets within reach of some space with seats.
    costs : pandas.DataFrame
        ``origin`` (point), ``dest`` (``space_id``), ``cost_min`` (walking minutes, at most
        ``minutes``): the pairs within reach, as PySAL ``access`` takes them.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> points, costs = demand_points(result)
    >>> bool(costs["cost_min"].le(15).all()), bool(points["demand"].gt(0).all())
    (True, True)
    """
    minutes = _check_minutes(minutes)
    _check_options(None, demand_share)
    walk = analysis.walk
    _, supply = _with_seats(walk)
    dem = _demand(analysis, population_column, demand_share)
    pts = _points_for(walk, dem, walk.minutes_to_m(minutes), supply)
    ids = walk.spaces["space_id"].astype(str).to_numpy()
    points = pd.DataFrame(
        {
            "zone": pts.zone,
            "zone_id": analysis.zones[N.ZONE_ID].astype(str).to_numpy()[pts.zone],
            "edge": dem.pieces.edge[pts.piece],
            "x_m": pts.x_m,
            "demand": pts.demand,
        }
    ).rename_axis("point")
    costs = pd.DataFrame(
        {
            "origin": pts.pair_point,
            "dest": ids[pts.pair_space],
            "cost_min": pts.pair_m / walk.speed_mps / 60.0,
        }
    )
    return points, costs


def _searches(walk: WalkTimes, dem: _Demand, limit_m: float, spaces: np.ndarray) -> _Reach:
    """The per-space searches from ``spaces`` over the pieces where residents live."""
    keep = dem.density[dem.pieces.zone] > 0
    return _reach(walk, dem.pieces, keep, limit_m, spaces)


def _points_for(walk: WalkTimes, dem: _Demand, limit_m: float, spaces: np.ndarray) -> _Points:
    reach = _searches(walk, dem, limit_m, spaces)
    return _points(dem.pieces, reach, dem.density, limit_m)


def capacity(
    analysis: Analysis,
    *,
    minutes: float = 15.0,
    kernel: str | Kernel = "gaussian",
    seats_per_1000: float | None = None,
    demand_share: float = 1.0,
    population_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Seats within reach per 1,000 residents of each zone, by 2SFCA and E2SFCA.

    Two-stage floating catchment (Luo and Wang 2003): each space's seats are shared among
    the demand within its catchment, ``R_j = seats_j / sum_i(demand_i * w_ij)``, and each
    resident gets the shares of the spaces within reach, ``A_i = sum_j(R_j * w_ij)``; a
    zone's figure is the mean of ``A_i`` over its residents, times 1,000. 2SFCA: ``w_ij`` is
    1 within ``minutes`` of walking, else 0; E2SFCA: ``w_ij = kernel(t_ij)`` within
    ``minutes``, else 0. The seats of a space whose catchment holds demand are all shared
    out: the seats reached, summed over the demand, are the seats supplied.

    The demand is the zones' residents, spread evenly over each zone's walkable street
    length as in the zone figures, on the exact walking times along the streets (see the
    module's notes and :func:`demand_points`). Only the counted zones (status ``ok`` or
    ``partial_data``) take part: residents of the zones left out do not compete for seats.

    Parameters
    ----------
    analysis
        The result of :func:`~fifteenmin.pipeline.analyze`, with residents; the spaces'
        ``seats`` column is the supply. Spaces without seats are left out, neither supply
        nor competition, with a warning naming them.
    minutes
        The catchment: the longest walk that counts.
    kernel
        The decay for E2SFCA: ``"gaussian"`` (default), ``"linear"``, ``"step"`` (see
        :data:`KERNELS`) or a function of the walking time in minutes (an array) returning
        weights >= 0.
    seats_per_1000
        Target seats per 1,000 residents (of demand); adds ``shortfall_seats``.
    demand_share
        Share of residents who would use a space (e.g. 0.3): the demand is the residents
        times it, and the figures are per 1,000 of that demand.
    population_column
        Column of ``analysis.zones`` to use as residents instead of ``residents``, scaled
        like it to the part of the zone inside the study area (``share_area_with_data``).

    Returns
    -------
    geopandas.GeoDataFrame
        Per zone (all zones; NaN outside the counted ones): ``zone_id``, ``name``,
        ``status``, ``demand`` (residents times ``demand_share``), ``seats_per_1000_2sfca``,
        ``seats_per_1000_e2sfca``, ``seats_2sfca`` and ``seats_e2sfca`` (seats reached by
        the zone's demand: ratio times demand / 1,000); with ``seats_per_1000``:
        ``target_seats`` and ``shortfall_seats`` (``max(0, target - seats_2sfca)``, on the
        15-minute rule) and ``shortfall_seats_e2sfca``. ``attrs``: ``minutes``, ``kernel``,
        ``demand_share``, ``seats_per_1000`` (the target, or None), ``seats_total`` (of the
        spaces with seats), ``seats_reached``, ``spaces_with_seats`` (how many) and
        ``spaces_without_seats`` (their ids, left out).

    Raises
    ------
    InputError
        If an option is out of range, a space has a negative or absurd number of seats,
        no space has seats, or the zones carry no residents.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> cap = capacity(result, seats_per_1000=50)
    >>> ok = cap["status"].isin(["ok", "partial_data"])
    >>> bool((cap.loc[ok, "seats_per_1000_2sfca"] >= 0).all())
    True
    >>> bool(abs(cap["seats_2sfca"].sum() - cap.attrs["seats_reached"]) < 1e-6)
    True
    """
    minutes = _check_minutes(minutes)
    _check_options(seats_per_1000, demand_share)
    decay = kernel_function(kernel, minutes)
    walk = analysis.walk
    seats, supply = _with_seats(walk)
    dem = _demand(analysis, population_column, demand_share)
    pts = _points_for(walk, dem, walk.minutes_to_m(minutes), supply)
    return _capacity_table(
        analysis,
        dem,
        pts,
        seats,
        supply,
        decay,
        kernel=kernel,
        minutes=minutes,
        seats_per_1000=seats_per_1000,
        demand_share=demand_share,
    )


def _capacity_table(
    analysis: Analysis,
    dem: _Demand,
    pts: _Points,
    seats: np.ndarray,
    supply: np.ndarray,
    decay: Kernel,
    *,
    kernel: str | Kernel,
    minutes: float,
    seats_per_1000: float | None,
    demand_share: float,
) -> gpd.GeoDataFrame:
    """The table of :func:`capacity` from its demand points."""
    walk = analysis.walk
    k = len(walk.spaces)
    w = np.empty(len(pts.pair_m))
    for start in range(0, len(w), _FCA_BLOCK):  # (the decay's temporaries a block long)
        t_min = pts.pair_m[start : start + _FCA_BLOCK] / walk.speed_mps / 60.0
        got = np.asarray(decay(t_min), dtype=float)
        if got.shape != t_min.shape or not (np.isfinite(got) & (got >= 0)).all():
            raise InputError(
                "the decay kernel must return one finite weight >= 0 per walking time; check "
                "the function given as kernel="
            )
        w[start : start + _FCA_BLOCK] = got
    nz = len(analysis.zones)
    out = analysis.zones[[N.ZONE_ID, N.ZONE_NAME, N.STATUS]].copy()
    out[N.DEMAND] = dem.demand
    has = dem.counted & (dem.demand > 0)
    reached = 0.0
    for method, weights in zip(N.METHODS, (None, w), strict=True):
        per_point, ratio = _fca(pts, weights, seats, k)
        zone_seats = np.bincount(pts.zone, weights=per_point * pts.demand, minlength=nz)
        out[N.seats_per_1000(method)] = np.where(
            has, 1000.0 * zone_seats / np.where(has, dem.demand, 1.0), np.nan
        )
        out[N.seats_reached(method)] = np.where(dem.counted, zone_seats, np.nan)
        if method == "2sfca":
            reached = float(seats[ratio > 0].sum())
    if seats_per_1000 is not None:
        target = dem.demand * float(seats_per_1000) / 1000.0
        out[N.TARGET_SEATS] = target
        for column, method in ((N.SHORTFALL, "2sfca"), (N.SHORTFALL_E2SFCA, "e2sfca")):
            got = out[N.seats_reached(method)].to_numpy()
            out[column] = np.clip(target - got, 0, None)
    result = gpd.GeoDataFrame(
        out, geometry=analysis.zones.geometry.to_numpy(), crs=analysis.zones.crs
    )
    result.attrs.update(
        minutes=minutes,
        kernel=kernel if isinstance(kernel, str) else getattr(kernel, "__name__", "custom"),
        demand_share=float(demand_share),
        seats_per_1000=None if seats_per_1000 is None else float(seats_per_1000),
        seats_total=float(seats[supply].sum()),
        seats_reached=reached,
        spaces_with_seats=len(supply),
        spaces_without_seats=[
            str(s) for s in np.delete(walk.spaces[N.SPACE_ID].astype(str).to_numpy(), supply)
        ],
    )
    return result


def second_nearest(walk: WalkTimes) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance from every node to its second-nearest space, and which space.

    One search, not one per space. Every node belongs to the cell of its nearest space.
    The walk from the second-nearest space ``s2`` to a node ``v`` in the cell of ``s1``
    crosses into that cell once, over an edge ``(x, y)`` from another cell, and then stays
    in it; no walk from ``x``'s own nearest space is longer than the one from ``s2``.
    So a single multi-source search, from each space ``s`` entering the other cells over
    their border edges at ``dist(x) + length(x, y)`` for the ``x`` of the cell of ``s``, and
    then walking only inside cells, finds the second-nearest distance of every node
    (ties between equally near spaces go either way).

    Parameters
    ----------
    walk
        Result of :func:`~fifteenmin.travel.walk_times`.

    Returns
    -------
    dist2_m : numpy.ndarray
        Per node of ``walk.graph``: metres to the second-nearest space (``inf`` where at
        most one space is reachable).
    source2 : numpy.ndarray
        That space's index in ``walk.spaces`` (-1 where none).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> wt = fm.walk_times(fm.read_streets(city.network), fm.spaces_from_file(city.spaces))
    >>> d2, s2 = second_nearest(wt)
    >>> bool((d2 >= wt.dist_m).all()), bool(((s2 != wt.nearest) | (s2 < 0)).all())
    (True, True)
    """
    g = walk.graph
    n, k = g.n_nodes, len(g.space_node)
    d1 = walk.dist_m.astype(float).copy()
    s1 = walk.nearest.astype(np.int64).copy()
    d1[g.space_node], s1[g.space_node] = 0.0, np.arange(k)  # each space is its own nearest
    coo = g.csr.tocoo()
    a = np.concatenate([coo.row, coo.col]).astype(np.int64)
    b = np.concatenate([coo.col, coo.row]).astype(np.int64)
    w = np.concatenate([coo.data, coo.data]).astype(float)
    ok = (s1[a] >= 0) & (s1[b] >= 0)
    inside = ok & (s1[a] == s1[b])
    border = ok & (s1[a] != s1[b])
    rows = np.concatenate([a[inside], n + s1[a[border]]])
    cols = np.concatenate([b[inside], b[border]])
    data = np.concatenate([w[inside], d1[a[border]] + w[border]])
    order = np.lexsort((data, cols, rows))  # the shortest of parallel entries
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    graph = sp.csr_matrix((data[first], (rows[first], cols[first])), shape=(n + k, n + k))
    dist, _, source = dijkstra(
        graph, directed=True, indices=n + np.arange(k), min_only=True, return_predecessors=True
    )
    dist2 = np.asarray(dist[:n], dtype=float)
    source2 = np.where(source[:n] >= 0, source[:n] - n, -1)
    return dist2, source2


def two_nearest(walk: WalkTimes) -> gpd.GeoDataFrame:
    """One point per network node: the walk to the nearest and to the second-nearest space.

    Columns ``osmid``, ``walk_time_s`` and ``space_id`` (as
    :meth:`~fifteenmin.travel.WalkTimes.node_times`), ``walk_time2_s`` and ``space_id2``
    (the second-nearest space, from :func:`second_nearest`; NaN and None where at most one
    space is reachable), ``fragment``.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> wt = fm.walk_times(fm.read_streets(city.network), fm.spaces_from_file(city.spaces))
    >>> nodes = two_nearest(wt)
    >>> bool((nodes["walk_time2_s"].dropna() >= nodes["walk_time_s"].dropna()).all())
    True
    """
    nodes = walk.node_times()
    n = walk.graph.n_street_nodes
    d2, s2 = second_nearest(walk)
    d2, s2 = d2[:n], s2[:n]
    ids = walk.spaces["space_id"].astype(str).to_numpy()
    nodes.insert(3, "walk_time2_s", np.where(np.isfinite(d2), d2 / walk.speed_mps, np.nan))
    nodes.insert(4, "space_id2", np.where(s2 >= 0, ids[np.maximum(s2, 0)], None))
    return nodes


def _union_m(
    intervals: list[tuple[np.ndarray, np.ndarray]], s: np.ndarray, e: np.ndarray
) -> np.ndarray:
    """Length of the union of up to three intervals ``[lo, hi]``, within ``[s, e]``."""
    total = np.zeros(len(s))
    m = len(intervals)
    for mask in range(1, 2**m):
        chosen = [intervals[i] for i in range(m) if mask >> i & 1]
        lo = np.maximum.reduce([s, *(c[0] for c in chosen)])
        hi = np.minimum.reduce([e, *(c[1] for c in chosen)])
        sign = 1.0 if len(chosen) % 2 else -1.0
        total += sign * np.clip(hi - lo, 0.0, None)
    return total


@dataclass(frozen=True)
class _Cover:
    """Per piece: length within the walk of one space or more, of two or more, and of
    exactly one, credited to that space (``only_u`` to ``src_u``, ``only_v`` to ``src_v``)."""

    one_m: np.ndarray
    two_m: np.ndarray
    only_u_m: np.ndarray
    only_v_m: np.ndarray
    src_u: np.ndarray
    src_v: np.ndarray


def _cover(walk: WalkTimes, p: StreetPieces, limit_m: float) -> _Cover:
    """How many spaces reach each point of each piece: one or more, two or more, exactly one.

    From the ends' nearest and second-nearest spaces (``d1``/``s1``, ``d2``/``s2``): a point
    is within reach of two spaces or more exactly when it is in ``[0, a2]`` (two via ``u``),
    in ``[L - b2, L]`` (two via ``v``), or in ``[L - b1, a1]`` with ``s1(u) != s1(v)``.
    """
    g = walk.graph
    d2, s2 = second_nearest(walk)
    u, v = g.u[p.edge], g.v[p.edge]
    d1u, d1v = walk.dist_m[u], walk.dist_m[v]
    s1u, s1v = walk.nearest[u], walk.nearest[v]
    length, s, e = p.length_m, p.start_m, p.end_m
    zero = np.zeros(len(s))
    a1, a2 = limit_m - d1u, limit_m - d2[u]  # -inf where unreached
    b1, b2 = length - (limit_m - d1v), length - (limit_m - d2[v])  # +inf where unreached
    pre1, pre2 = (zero, a1), (zero, a2)
    suf1, suf2 = (b1, length), (b2, length)
    mid = (np.where(s1u != s1v, b1, np.inf), a1)
    one = _union_m([pre1, suf1], s, e)
    two = _union_m([pre2, suf2, mid], s, e)
    # within the walk of one space only: near u that is s1(u), else s1(v)
    pre1_two = _union_m([pre2, (np.maximum(zero, b2), a1), mid], s, e)
    only_u = _union_m([pre1], s, e) - pre1_two
    only_v = (one - two) - only_u
    return _Cover(
        one_m=one,
        two_m=two,
        only_u_m=np.clip(only_u, 0.0, None),
        only_v_m=np.clip(only_v, 0.0, None),
        src_u=s1u,
        src_v=s1v,
    )


def zone_robustness(analysis: Analysis, *, minutes: float = 15.0) -> gpd.GeoDataFrame:
    """Residents of each zone within ``minutes`` of two spaces or more (robustness).

    Counted exactly on the street pieces, as the zone figures (residents spread evenly
    over the walkable street length of their zone), from the nearest and second-nearest
    space of every node (:func:`second_nearest`).

    Returns
    -------
    geopandas.GeoDataFrame
        Per zone: ``zone_id``, ``name``, ``status``, ``residents``, ``pop_<m>min`` (within
        reach of one space or more), ``pop_2plus_<m>min``, ``share_pop_2plus_<m>min`` (of
        the residents); NaN outside the counted zones.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> rob = zone_robustness(result)
    >>> bool((rob["pop_2plus_15min"] <= rob["pop_15min"] + 1e-9).all())
    True
    """
    minutes = _check_minutes(minutes)
    dem = _demand(analysis)
    c = _cover(analysis.walk, dem.pieces, analysis.walk.minutes_to_m(minutes))
    return _robustness_table(analysis, dem, c, minutes)


def _robustness_table(
    analysis: Analysis, dem: _Demand, c: _Cover, minutes: float
) -> gpd.GeoDataFrame:
    """The table of :func:`zone_robustness` from the cover of the pieces."""
    p = dem.pieces
    nz = len(analysis.zones)
    dens = dem.density[p.zone]
    one = np.bincount(p.zone, weights=dens * c.one_m, minlength=nz)
    two = np.bincount(p.zone, weights=dens * c.two_m, minlength=nz)
    out = analysis.zones[[N.ZONE_ID, N.ZONE_NAME, N.STATUS]].copy()
    out[N.POPULATION] = dem.demand
    out[N.residents(minutes)] = np.where(dem.counted, one, np.nan)
    out[N.residents_2plus(minutes)] = np.where(dem.counted, two, np.nan)
    has = dem.counted & (dem.demand > 0)
    out[N.share("pop_2plus", minutes)] = np.where(has, two / np.where(has, dem.demand, 1.0), np.nan)
    return gpd.GeoDataFrame(
        out, geometry=analysis.zones.geometry.to_numpy(), crs=analysis.zones.crs
    )


def space_worth(analysis: Analysis, *, minutes: float = 15.0) -> gpd.GeoDataFrame:
    """What each space is worth: residents within its walk, and those it alone serves.

    Residents as in the zone figures (counted zones, spread evenly over their walkable
    streets), counted exactly on the street pieces.

    Parameters
    ----------
    analysis
        The result of :func:`~fifteenmin.pipeline.analyze`, with residents.
    minutes
        The walk that counts.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per space, in the network's CRS: ``space_id``, ``name``, ``seats``,
        ``residents_<m>min`` (within its walk, whether other spaces reach them or not),
        ``sole_residents_<m>min`` (for whom it is the only space within the walk: who lose
        access if it closes), ``seats_per_1000_residents_<m>min`` (its seats per 1,000
        residents within its walk; NaN without seats or residents). ``attrs``: ``minutes``,
        ``residents_covered`` (within the walk of one space or more) and
        ``residents_covered_2plus`` (two or more), so that ``residents_covered`` equals the
        sum of ``sole_residents_<m>min`` plus ``residents_covered_2plus``.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> worth = space_worth(result)
    >>> bool((worth["sole_residents_15min"] <= worth["residents_15min"] + 1e-9).all())
    True
    """
    minutes = _check_minutes(minutes)
    dem, reach, cover = _worth_searches(analysis, analysis.walk.minutes_to_m(minutes))
    return _worth_table(analysis, dem, reach, cover, minutes)


def _worth_searches(analysis: Analysis, limit_m: float) -> tuple[_Demand, _Reach, _Cover]:
    """The residents, the searches from every space and the cover of the pieces: what
    :func:`space_worth` and :func:`capacity_figures` compute on."""
    walk = analysis.walk
    dem = _demand(analysis)
    reach = _searches(walk, dem, limit_m, np.arange(len(walk.spaces)))
    return dem, reach, _cover(walk, dem.pieces, limit_m)


def _worth_table(
    analysis: Analysis, dem: _Demand, reach: _Reach, c: _Cover, minutes: float
) -> gpd.GeoDataFrame:
    """The table of :func:`space_worth` from the per-space searches and the cover."""
    walk = analysis.walk
    p = dem.pieces
    k = len(walk.spaces)
    dens = dem.density[p.zone]
    keep = dens > 0
    residents = np.bincount(reach.space, weights=dens[reach.piece] * reach.covered_m, minlength=k)
    sole = np.zeros(k)
    for src, only in ((c.src_u, c.only_u_m), (c.src_v, c.only_v_m)):
        hit = (src >= 0) & keep & (only > 0)
        sole += np.bincount(src[hit], weights=dens[hit] * only[hit], minlength=k)
    seats = space_seats(walk.spaces) if N.SEATS in walk.spaces.columns else np.full(k, np.nan)
    out = pd.DataFrame(
        {
            N.SPACE_ID: walk.spaces[N.SPACE_ID].astype(str).to_numpy(),
            N.SPACE_NAME: (
                walk.spaces[N.SPACE_NAME].to_numpy() if N.SPACE_NAME in walk.spaces else None
            ),
            N.SEATS: seats,
            N.space_residents(minutes): residents,
            N.sole_residents(minutes): sole,
            N.space_seats_per_1000(minutes): np.divide(
                1000.0 * seats, residents, out=np.full(k, np.nan), where=residents > 0
            ),
        }
    )
    points = walk.spaces.to_crs(walk.streets.crs).geometry.to_numpy()
    result = gpd.GeoDataFrame(out, geometry=points, crs=walk.streets.crs)
    result.attrs.update(
        minutes=minutes,
        residents_covered=float(dens @ c.one_m),
        residents_covered_2plus=float(dens @ c.two_m),
    )
    return result


@dataclass(frozen=True)
class CapacityFigures:
    """What :func:`capacity_figures` computes: one row per space and two tables per zone."""

    worth: gpd.GeoDataFrame
    """:func:`space_worth`."""
    robustness: gpd.GeoDataFrame
    """:func:`zone_robustness`."""
    capacity: gpd.GeoDataFrame | None
    """:func:`capacity`; None when no space has a number of seats."""


def capacity_figures(
    analysis: Analysis,
    *,
    minutes: float = 15.0,
    kernel: str | Kernel = "gaussian",
    seats_per_1000: float | None = None,
    demand_share: float = 1.0,
) -> CapacityFigures:
    """:func:`space_worth`, :func:`zone_robustness` and :func:`capacity` together.

    The same figures as those three functions, from one set of per-space searches and one
    second-nearest search (about half the time of calling them one by one); the capacity
    only when some space has a number of seats (the others left out with a warning).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> figures = capacity_figures(result, seats_per_1000=50)
    >>> cap = capacity(result, seats_per_1000=50)
    >>> bool(np.allclose(figures.capacity["seats_2sfca"], cap["seats_2sfca"], equal_nan=True))
    True
    """
    minutes = _check_minutes(minutes)
    _check_options(seats_per_1000, demand_share)
    decay = kernel_function(kernel, minutes)
    walk = analysis.walk
    limit_m = walk.minutes_to_m(minutes)
    dem, reach, cover = _worth_searches(analysis, limit_m)
    worth = _worth_table(analysis, dem, reach, cover, minutes)
    robustness = _robustness_table(analysis, dem, cover, minutes)
    if N.SEATS not in walk.spaces.columns or not walk.spaces[N.SEATS].notna().any():
        return CapacityFigures(worth, robustness, None)
    seats, supply = _with_seats(walk)
    mine = np.isin(reach.space, supply)  # the searches from the spaces with seats
    sub = _Reach(*(getattr(reach, f.name)[mine] for f in dataclasses.fields(_Reach)))
    del reach, cover, mine  # (their memory, for the demand points)
    demand = dem if demand_share == 1 else _demand(analysis, None, demand_share)
    pts = _points(demand.pieces, sub, demand.density, limit_m)
    table = _capacity_table(
        analysis,
        demand,
        pts,
        seats,
        supply,
        decay,
        kernel=kernel,
        minutes=minutes,
        seats_per_1000=seats_per_1000,
        demand_share=demand_share,
    )
    return CapacityFigures(worth, robustness, table)
