"""What-if scenarios and sensitivity: the zone figures again for other spaces, walking
speeds and population groups, on the network and zones of an analysis already run.

Level of the computation
------------------------
The figures are those of :func:`~fifteenmin.zones.zone_coverage`: each zone's residents
spread evenly over its walkable street length (the *street pieces* of the analysis,
fragments left out), a point at ``x`` along a segment of length ``L`` within the walk when
``min(d_u + x, d_v + L - x) <= limit``. A scenario changes only the distances ``d``:

- a space removed stops being a source of the search;
- a space added joins the network as :func:`~fifteenmin.travel.walk_times` would join it
  (nearest point of the nearest walkable street), as a node linked to both ends of the
  piece of street it lies on; points of that piece are also reached straight from it
  (``a + |x - o|``, access walk ``a``, offset ``o``), so the figures are exact, equal to a
  new :func:`~fifteenmin.pipeline.analyze` with those spaces (to rounding).

One multi-source search bounded at the longest walk (about 0.2 s on the 1.29 million
directed edges of the Rome-sized benchmark city) and a pass over the pieces: a scenario
takes a fraction of a second after the first, which builds the pieces and the street
index. A walking speed changes only the limit in metres, so the sensitivity to the
speed needs no new search at all.

What a scenario keeps from its analysis: the zones, their status (``no_data``,
``sparse_streets``... depend on the streets and residents, not on the spaces), the
street fragments (a fragment stays left out even if a space is added on it, with a
warning) and the rule for ``underserved``. Shares of area (which need the isochrone
polygons) are not recomputed: scenarios count residents.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from . import _names as N
from ._credits import is_synthetic, summary_is_synthetic
from .errors import InputError
from .network import _check_speed, _shortest_pairs
from .pipeline import Analysis
from .spaces import spaces_from_frame
from .travel import snap_spaces
from .zones import covered_length

logger = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class Figures:
    """The zone figures of one scenario (see :meth:`Scenarios.figures`).

    ``zones``: per zone ``zone_id``, ``name``, ``status``, ``residents`` (of the
    population column), ``pop_<m>min`` and ``share_pop_<m>min`` per threshold,
    ``underserved``; NaN where the zone has no data. ``within``: per threshold (key
    ``"15"``) the residents of the counted zones within the walk and their share.
    ``spaces``: the spaces of the scenario (WGS84), ``added``/``removed``: their ids.
    """

    zones: gpd.GeoDataFrame
    within: dict[str, dict[str, float]]
    spaces: gpd.GeoDataFrame
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    """What identifies the network: its file's SHA-256, its nodes and street segments."""

    @property
    def underserved(self) -> list[str]:
        """Ids of the underserved zones."""
        return self.zones.loc[self.zones[N.UNDERSERVED], N.ZONE_ID].astype(str).tolist()

    def __repr__(self) -> str:
        """One line: spaces, zones, underserved zones and the share within each walk."""
        changed = ", ".join(
            f"{len(ids)} {what}" for what, ids in (("added", self.added), ("removed", self.removed))
        )
        shares = ", ".join(
            f"{key} min {_percent(entry.get('share'))}" for key, entry in self.within.items()
        )
        return (
            f"<fifteenmin.scenarios.Figures: {len(self.spaces)} spaces ({changed}), "
            f"{len(self.zones)} zones, {len(self.underserved)} underserved; residents within "
            f"{shares}>"
        )


@dataclass(frozen=True)
class _Added:
    """Spaces added by a scenario, placed on the search graph of the analysis."""

    ids: np.ndarray
    frame: gpd.GeoDataFrame
    edge: np.ndarray  # search-graph edge each lies on
    offset_m: np.ndarray  # along that edge from its u end
    access_m: np.ndarray  # straight walk to the street


def _check_ids(values: Iterable[object], what: str) -> list[str]:
    if isinstance(values, str | bytes):
        values = [values]
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            raise InputError(f"{what}: an empty space id; give the ids of the spaces")
        out.append(str(v).strip())
    return out


class Scenarios:
    """Zone figures of ``analysis`` recomputed for other spaces, speeds or populations.

    Build it once per analysis (or use :attr:`Analysis.scenarios
    <fifteenmin.pipeline.Analysis>`): the first figures take the longest; each scenario
    after that is one bounded search and a pass over the street pieces.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> engine = Scenarios(result)
    >>> base = engine.figures()
    >>> round(base.within["15"]["share"], 6) == round(result.summary["within"]["15"]["share"], 6)
    True
    >>> first = str(result.spaces["space_id"].iloc[0])
    >>> engine.figures(remove=[first]).within["15"]["share"] <= base.within["15"]["share"]
    True
    """

    def __init__(self, analysis: Analysis) -> None:
        if not isinstance(analysis, Analysis):
            raise InputError(
                f"expected the result of analyze(), got a {type(analysis).__name__}; run "
                "fifteenmin.analyze(...) with population_column= first"
            )
        if not analysis.has_population:
            raise InputError(
                "scenarios count residents, and the zones carry none; run the analysis with "
                "population_column= (--population-column COL) naming the residents column"
            )
        self.analysis = analysis
        walk = analysis.walk
        p = analysis.street_pieces
        g = walk.graph
        self._walk = walk
        self._pieces = p
        self._u, self._v = g.u[p.edge], g.v[p.edge]
        nz = len(analysis.zones)
        self._nz = nz
        self._total = np.bincount(p.zone, weights=p.end_m - p.start_m, minlength=nz)
        status = analysis.zones[N.STATUS].to_numpy()
        self._no_data = status == N.NO_DATA
        self._judged = np.isin(status, N.COUNTED)
        self._ids = walk.spaces["space_id"].astype(str).to_numpy()
        self._by_edge: tuple[np.ndarray, np.ndarray] | None = None
        self._street_index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ---- inputs -------------------------------------------------------------------
    def _removed(self, remove: Iterable[object]) -> np.ndarray:
        ids = _check_ids(remove, "remove")
        unknown = sorted(set(ids) - set(self._ids))
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            raise InputError(
                f"remove: {len(unknown)} id(s) match no space of the analysis ({shown}); "
                f"its spaces are e.g. {', '.join(repr(i) for i in self._ids[:3])}"
            )
        return np.isin(self._ids, ids)

    def _added(self, add: gpd.GeoDataFrame | None, removed: np.ndarray) -> _Added | None:
        if add is None:
            return None
        frame = spaces_from_frame(add)
        ids = frame["space_id"].astype(str).to_numpy()
        kept = set(self._ids[~removed])
        clash = [i for i in ids if i in kept]
        if clash:
            raise InputError(
                f"add: space id {clash[0]!r} is already a space of the analysis "
                f"({len(clash)} such id(s)); give new ids, or remove those spaces too "
                "(a space moved is removed and added)"
            )
        walk = self._walk
        snaps = snap_spaces(
            walk.streets, frame, max_distance_m=float(self.analysis.parameters["max_snap_m"])
        )
        street_edge = snaps["edge"].to_numpy()
        edge, offset = self._graph_edge(street_edge, snaps["offset_m"].to_numpy())
        on_fragment = walk.fragment_nodes[walk.streets.edge_u[street_edge]]
        if on_fragment.any():
            warnings.warn(
                f"add: {int(on_fragment.sum())} added space(s) lie on street fragments left "
                f"out of the figures (e.g. {ids[np.flatnonzero(on_fragment)[0]]!r}); their "
                "residents stay uncounted here; run analyze() with those spaces to count them",
                stacklevel=3,
            )
        return _Added(
            ids=ids,
            frame=frame,
            edge=edge,
            offset_m=offset,
            access_m=snaps["access_m"].to_numpy(dtype=float),
        )

    def _graph_edge(
        self, street_edge: np.ndarray, offset_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The search-graph edge holding each point ``offset_m`` along ``street_edge``."""
        if self._street_index is None:
            ge_street, ge_start = self._walk.graph.street_position()
            order = np.lexsort((ge_start, ge_street))
            self._street_index = (order, ge_street[order], ge_start[order])
        order, s_sorted, start_sorted = self._street_index
        lo = np.searchsorted(s_sorted, street_edge, side="left")
        hi = np.searchsorted(s_sorted, street_edge, side="right")
        out = np.empty(len(street_edge), dtype=np.int64)
        start = np.empty(len(street_edge))
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            j = a + max(int(np.searchsorted(start_sorted[a:b], offset_m[i], side="right")) - 1, 0)
            out[i], start[i] = order[j], start_sorted[j]
        g = self._walk.graph
        return out, np.clip(offset_m - start, 0.0, g.length_m[out])

    # ---- distances ------------------------------------------------------------------
    def _distances(self, removed: np.ndarray, added: _Added | None, limit_m: float) -> np.ndarray:
        walk, g = self._walk, self._walk.graph
        if not removed.any() and added is None:
            return walk.dist_m
        sources = list(g.space_node[~removed])
        csr = g.csr
        if added is not None:
            n, k = g.n_nodes, len(added.ids)
            new = n + np.arange(k)
            a, b, w = _shortest_pairs(
                np.concatenate([new, new]),
                np.concatenate([g.u[added.edge], g.v[added.edge]]),
                np.concatenate(
                    [
                        added.access_m + added.offset_m,
                        added.access_m + g.length_m[added.edge] - added.offset_m,
                    ]
                ),
            )
            rows = sp.csr_matrix((w, (b - n, a)), shape=(k, n + k))  # b: always a new node
            csr = sp.csr_matrix(
                (
                    np.concatenate([csr.data, rows.data]),
                    np.concatenate([csr.indices, rows.indices]),
                    np.concatenate([csr.indptr, csr.indptr[-1] + rows.indptr[1:]]),
                ),
                shape=(n + k, n + k),
            )
            sources.extend(new)
        if not sources:
            return np.full(g.n_nodes, np.inf)
        dist = dijkstra(
            csr, directed=False, indices=np.asarray(sources), min_only=True, limit=limit_m
        )
        return np.asarray(dist[: g.n_nodes])

    def _covered(self, dist: np.ndarray, added: _Added | None, limit_m: float) -> np.ndarray:
        """Length of each piece within ``limit_m`` of a space of the scenario."""
        p = self._pieces
        cov = covered_length(p.start_m, p.end_m, p.length_m, dist[self._u], dist[self._v], limit_m)
        if added is None:
            return cov
        if self._by_edge is None:
            order = np.argsort(p.edge, kind="stable")
            self._by_edge = (order, p.edge[order])
        order, edges = self._by_edge
        lo = np.searchsorted(edges, added.edge, side="left")
        hi = np.searchsorted(edges, added.edge, side="right")
        extra: dict[int, list[tuple[float, float]]] = {}
        for i in range(len(added.ids)):
            r = limit_m - added.access_m[i]
            if r < 0:
                continue
            for j in order[lo[i] : hi[i]]:
                extra.setdefault(int(j), []).append((added.offset_m[i] - r, added.offset_m[i] + r))
        for j, spans in extra.items():  # a few pieces: those on the streets of added spaces
            du, dv, length = dist[self._u[j]], dist[self._v[j]], p.length_m[j]
            if du <= limit_m:
                spans.append((0.0, limit_m - du))
            if dv <= limit_m:
                spans.append((length - (limit_m - dv), length))
            cov[j] = _union_length(spans, float(p.start_m[j]), float(p.end_m[j]))
        return cov

    # ---- figures --------------------------------------------------------------------
    def residents(self, population_column: str | None = None) -> np.ndarray:
        """Residents per zone of ``population_column`` (default the analysis's), as in the
        zone figures: another column is scaled, like the residents, to the part of the
        zone with data; NaN where a value is missing."""
        zones = self.analysis.zones
        if population_column is None or population_column == N.POPULATION:
            return zones[N.POPULATION].to_numpy(dtype=float)
        if population_column not in zones.columns:
            cols = [c for c in zones.columns if c != zones.geometry.name]
            raise InputError(
                f"population column {population_column!r} is not a column of the zones; "
                f"columns are {', '.join(map(str, cols))}"
            )
        values = pd.to_numeric(zones[population_column], errors="coerce").to_numpy(dtype=float)
        bad = self._judged & ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"zone {zones[N.ZONE_ID].iloc[i]!r}: population column {population_column!r} "
                f"holds {zones[population_column].iloc[i]!r}, not a number of residents >= 0 "
                f"({int(bad.sum())} such zone(s)); fix the values or name another column"
            )
        share = pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy()
        return values * np.where(self._no_data, 1.0, share)

    def figures(
        self,
        *,
        add: gpd.GeoDataFrame | None = None,
        remove: Iterable[object] = (),
        speed_kmh: float | None = None,
        population_column: str | None = None,
        minutes: Sequence[float] | None = None,
    ) -> Figures:
        """The zone figures with spaces added or removed, at another speed or population.

        Parameters
        ----------
        add
            Spaces to add (points with ``space_id``, any CRS; as
            :func:`~fifteenmin.spaces.spaces_from_frame` reads them); ids must be new.
        remove
            Ids of spaces of the analysis to remove.
        speed_kmh
            Walking speed (default the analysis's).
        population_column
            A numeric column of the analysis's zones counted instead of the residents
            (e.g. ``pop2018_65p``; scaled like the residents to the part with data).
        minutes
            Thresholds (default the analysis's).

        Raises
        ------
        InputError
            If an id matches no space, an added space repeats an id or lies far from
            the streets, or a value is out of range.
        """
        params = self.analysis.parameters
        speed = float(params["speed_kmh"] if speed_kmh is None else speed_kmh)
        _check_number(speed, "walking speed (km/h)")
        _check_speed(speed)
        mins = [float(m) for m in (params["minutes"] if minutes is None else minutes)]
        for m in mins:
            _check_number(m, "walking-time threshold (minutes)")
            if m <= 0:
                raise InputError(f"walking-time threshold {m:g} min must be positive")
        mins = sorted(set(mins))
        removed = self._removed(remove)
        added = self._added(add, removed)
        if (~removed).sum() == 0 and added is None:
            warnings.warn("the scenario removes every space: nobody is within a walk", stacklevel=2)
        to_m = speed / 3.6 * 60.0
        dist = self._distances(removed, added, max(mins) * to_m)
        pop = self.residents(population_column)
        total, nz = self._total, self._nz
        zones = self.analysis.zones
        out = zones[[N.ZONE_ID, N.ZONE_NAME, N.STATUS]].copy()
        out[N.POPULATION] = pop
        has = np.nan_to_num(pop) > 0
        counted = self._judged
        pop_total = float(np.nansum(pop[counted]))
        within: dict[str, dict[str, float]] = {}
        for m in mins:
            cov = np.bincount(
                self._pieces.zone, weights=self._covered(dist, added, m * to_m), minlength=nz
            )
            share = np.clip(np.divide(cov, total, out=np.zeros(nz), where=total > 0), 0, 1)
            share = np.where(self._no_data, np.nan, share)
            out[N.residents(m)] = pop * share
            out[N.share("pop", m)] = np.where(has, share, np.nan)
            got = float(np.nansum((pop * share)[counted]))
            within[f"{m:g}"] = {
                "residents": got,
                "share": got / pop_total if pop_total > 0 else float("nan"),
                "residents_total": pop_total,
            }
        m_u = float(params["underserved_minutes"])
        if m_u in mins:
            ok = out[N.share("pop", m_u)].fillna(0).to_numpy() >= params["underserved_share"]
            out[N.UNDERSERVED] = ~ok & counted & has
        spaces = self._spaces(removed, added)
        return Figures(
            zones=gpd.GeoDataFrame(out, geometry=zones.geometry.to_numpy(), crs=zones.crs),
            within=within,
            spaces=spaces,
            added=tuple(added.ids) if added is not None else (),
            removed=tuple(self._ids[removed]),
            parameters={
                "minutes": mins,
                "speed_kmh": speed,
                "population_column": population_column or params.get("population_column"),
                "underserved_share": params["underserved_share"],
                "underserved_minutes": m_u,
            },
            inputs=dict(self.analysis.inputs),
            network=_network_key(self.analysis),
        )

    def _spaces(self, removed: np.ndarray, added: _Added | None) -> gpd.GeoDataFrame:
        base = self._walk.spaces.loc[~removed].to_crs(4326)
        if added is None:
            return base.reset_index(drop=True)
        new = added.frame.to_crs(4326)
        return gpd.GeoDataFrame(pd.concat([base, new], ignore_index=True), crs=4326)


def _check_number(value: object, what: str) -> None:
    if not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        raise InputError(f"{what}: {value!r} is not a finite number")


def _union_length(spans: list[tuple[float, float]], s: float, e: float) -> float:
    """Length of the union of the intervals ``spans`` within ``[s, e]``."""
    clipped = sorted((max(a, s), min(b, e)) for a, b in spans if min(b, e) > max(a, s))
    total, end = 0.0, -np.inf
    for a, b in clipped:
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


# ------------------------------------------------------------------------ comparison


def _network_key(analysis: Analysis) -> dict[str, Any]:
    """What identifies the network of an analysis: its file (SHA-256) and its size; and
    whether it is synthetic (the maps then do not credit OpenStreetMap)."""
    streets = analysis.walk.streets
    info = analysis.inputs.get("network") if isinstance(analysis.inputs, dict) else None
    return {
        "sha256": info.get("sha256") if isinstance(info, dict) else None,
        "nodes": int(streets.n_nodes),
        "street_segments": int(streets.n_edges),
        "synthetic": is_synthetic(analysis),
    }


@dataclass(frozen=True, repr=False)
class Comparison:
    """Two scenarios of one network and one zone layer, zone by zone (see :func:`compare`).

    ``zones``: per zone ``zone_id``, ``name``, ``status``, ``residents``, then per
    threshold ``pop_<m>min_before``, ``pop_<m>min_after``, ``change_pop_<m>min``,
    ``share_pop_<m>min_before``, ``share_pop_<m>min_after``; ``underserved_before``,
    ``underserved_after``, ``newly_served`` and ``newly_underserved``. ``within``: per
    threshold the residents within the walk before and after, and the change.
    ``spaces``: the spaces added and removed (``change``: ``added``/``removed``, WGS84).
    ``lineage``: the inputs of both sides.
    """

    zones: gpd.GeoDataFrame
    within: dict[str, dict[str, float]]
    spaces: gpd.GeoDataFrame
    parameters: dict[str, Any]
    lineage: dict[str, Any]
    before: Figures = field(repr=False)
    after: Figures = field(repr=False)

    @property
    def newly_served(self) -> list[str]:
        """Ids of the zones underserved before and not after."""
        return self.zones.loc[self.zones[N.NEWLY_SERVED], N.ZONE_ID].astype(str).tolist()

    @property
    def newly_underserved(self) -> list[str]:
        """Ids of the zones underserved after and not before."""
        return self.zones.loc[self.zones[N.NEWLY_UNDERSERVED], N.ZONE_ID].astype(str).tolist()

    def __repr__(self) -> str:
        """A few lines: the spaces added and removed, the zones that changed side, and the
        residents within each walk before and after."""
        change = self.spaces["change"] if "change" in self.spaces else pd.Series(dtype=str)
        lines = [
            f"<fifteenmin.scenarios.Comparison: {int((change == 'added').sum())} spaces "
            f"added, {int((change == 'removed').sum())} removed; "
            f"{len(self.newly_served)} zones newly served, "
            f"{len(self.newly_underserved)} newly underserved>"
        ]
        width = max((len(str(k)) for k in self.within), default=0)
        for key, entry in self.within.items():
            before, after = entry.get("residents_before"), entry.get("residents_after")
            if before is None or after is None:
                continue
            lines.append(
                f"  residents within {key:>{width}} min: {before:,.0f} -> {after:,.0f} "
                f"({after - before:+,.0f}; {_percent(entry.get('share_before'))} -> "
                f"{_percent(entry.get('share_after'))})"
            )
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """The comparison's headline figures and lineage, as saved in ``summary.json``."""
        from ._io import now_utc
        from .pipeline import OSM_ATTRIBUTION

        changed = self.spaces
        return {
            "generated": now_utc().isoformat(timespec="seconds"),
            "attribution": OSM_ATTRIBUTION,
            "parameters": self.parameters,
            "within": self.within,
            "spaces_added": changed.loc[changed["change"] == "added", "space_id"].tolist(),
            "spaces_removed": changed.loc[changed["change"] == "removed", "space_id"].tolist(),
            "underserved_before": self.before.underserved,
            "underserved_after": self.after.underserved,
            "newly_served": self.newly_served,
            "newly_underserved": self.newly_underserved,
            "lineage": self.lineage,
        }

    def write(self, out: str | Path, *, overwrite: bool = False, lang: str = "en") -> Path:
        """Write the comparison as the folder ``out``, whole or not at all.

        Files: ``zones_change.gpkg`` and ``zones_change.csv`` (:attr:`zones`),
        ``spaces_change.csv`` (added and removed spaces), ``change_map`` (``.png``,
        ``.svg``: gains and losses), ``summary.json`` (:meth:`summary`) and
        ``report.html``; ``out`` as for :meth:`Analysis.write
        <fifteenmin.pipeline.Analysis.write>` (new, empty, or an earlier output with
        ``overwrite=True``).

        A convenience: the writing is :func:`fifteenmin.outputs.write_comparison`, imported
        on call, so that the comparison itself needs neither matplotlib nor the report's
        code.
        """
        from .outputs import write_comparison

        return write_comparison(self, out, overwrite=overwrite, lang=lang)


def _figures_of(side: Analysis | Figures, what: str) -> tuple[Figures, Analysis | None]:
    if isinstance(side, Figures):
        return side, None
    if isinstance(side, Analysis):
        return side.scenarios.figures(), side
    raise InputError(
        f"compare: the {what} side is a {type(side).__name__}; give the result of analyze() "
        "or of Scenarios.figures()"
    )


def compare(
    before: Analysis | Figures,
    after: Analysis | Figures,
    *,
    lineage: dict[str, Any] | None = None,
) -> Comparison:
    """Compare two scenarios zone by zone: residents gained or lost within each walk,
    zones newly served and newly underserved, spaces added and removed.

    Parameters
    ----------
    before, after
        Results of :func:`~fifteenmin.pipeline.analyze` (e.g. the albo of 2025 and of
        2026 on one network and zone layer) or figures of one analysis's
        :class:`Scenarios`.
    lineage
        The inputs of each side (``{"before": {...}, "after": {...}}``); by default those
        the analyses recorded.

    Raises
    ------
    InputError
        If the two sides differ in network, zones, thresholds, walking speed, population
        column or underserved rule (the line says which).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> first = str(result.spaces["space_id"].iloc[0])
    >>> comp = compare(result, result.scenarios.figures(remove=[first]))
    >>> comp.within["15"]["change"] <= 0
    True
    """
    fb, _ = _figures_of(before, "before")
    fa, _ = _figures_of(after, "after")
    kb, ka = fb.network, fa.network
    if kb and ka:
        if kb != ka:
            diff = [k for k in kb if kb[k] != ka[k]]
            raise InputError(
                "compare: the two sides use different networks ("
                + ", ".join(f"{k} {kb[k]} vs {ka[k]}" for k in diff)
                + "); run both on the same network file"
            )
    zb, za = fb.zones, fa.zones
    if (
        len(zb) != len(za)
        or not (zb[N.ZONE_ID].astype(str).to_numpy() == za[N.ZONE_ID].astype(str).to_numpy()).all()
    ):
        raise InputError(
            f"compare: the two sides use different zones ({len(zb)} vs {len(za)} zones, or "
            "other ids); run both on the same zone layer"
        )
    if (
        zb.crs != za.crs
        or not zb.geometry.geom_equals_exact(za.geometry.to_crs(zb.crs), tolerance=0.01).all()
    ):
        raise InputError(
            "compare: the two sides' zones have the same ids but other boundaries; run both "
            "on the same zone layer and study area"
        )
    for key in ("minutes", "speed_kmh", "population_column", "underserved_share",
                "underserved_minutes"):  # fmt: skip
        if fb.parameters.get(key) != fa.parameters.get(key):
            raise InputError(
                f"compare: the two sides differ in {key.replace('_', ' ')} "
                f"({fb.parameters.get(key)} vs {fa.parameters.get(key)}); run both alike"
            )
    out = zb[[N.ZONE_ID, N.ZONE_NAME, N.STATUS, N.POPULATION]].copy()
    within: dict[str, dict[str, float]] = {}
    for m in fb.parameters["minutes"]:
        col, share = N.residents(m), N.share("pop", m)
        out[f"{col}_before"] = zb[col].to_numpy()
        out[f"{col}_after"] = za[col].to_numpy()
        out[f"change_{col}"] = za[col].to_numpy() - zb[col].to_numpy()
        out[f"{share}_before"] = zb[share].to_numpy()
        out[f"{share}_after"] = za[share].to_numpy()
        key = f"{m:g}"
        b, a = fb.within[key], fa.within[key]
        within[key] = {
            "residents_before": b["residents"],
            "residents_after": a["residents"],
            "change": a["residents"] - b["residents"],
            "share_before": b["share"],
            "share_after": a["share"],
        }
    ub, ua = zb[N.UNDERSERVED].to_numpy(bool), za[N.UNDERSERVED].to_numpy(bool)
    out["underserved_before"], out["underserved_after"] = ub, ua
    out[N.NEWLY_SERVED] = ub & ~ua
    out[N.NEWLY_UNDERSERVED] = ua & ~ub
    zones = gpd.GeoDataFrame(out, geometry=zb.geometry.to_numpy(), crs=zb.crs)
    spaces = _changed_spaces(fb.spaces, fa.spaces)
    if lineage is None:
        lineage = {"before": fb.inputs, "after": fa.inputs}
    return Comparison(
        zones=zones,
        within=within,
        spaces=spaces,
        parameters=dict(fb.parameters),
        lineage=lineage,
        before=fb,
        after=fa,
    )


_SAME_PLACE_M = 1.0  # a space with the same id this close is the same space


def _changed_spaces(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The spaces only in ``before`` (removed) and only in ``after`` (added); a space whose
    id stays but which moved more than 1 m is both."""
    removed, added = diff_spaces(before, after)
    cols = ["space_id", "name"]
    parts = []
    for frame, idx, label in ((before, removed, "removed"), (after, added, "added")):
        part = frame.iloc[idx].to_crs(4326)
        part = part.assign(name=part["name"] if "name" in part else None, change=label)
        parts.append(part[[*cols, "change", part.geometry.name]])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)


def diff_spaces(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the spaces of ``before`` not in ``after`` and of ``after`` not in
    ``before``: a space is the same when its ``space_id`` and (within 1 m) its place are.

    Examples
    --------
    >>> import geopandas as gpd
    >>> a = gpd.GeoDataFrame({"space_id": ["x", "y"]}, geometry=gpd.points_from_xy([0, 1], [0, 0]),
    ...                      crs=3857)
    >>> b = gpd.GeoDataFrame({"space_id": ["y", "z"]}, geometry=gpd.points_from_xy([1, 2], [0, 0]),
    ...                      crs=3857)
    >>> [i.tolist() for i in diff_spaces(a, b)]
    [[0], [1]]
    """
    crs = (
        before.estimate_utm_crs()
        if before.crs is not None and before.crs.is_geographic
        else before.crs
    )
    pb, pa = before.to_crs(crs), after.to_crs(crs)
    ib = pb["space_id"].astype(str).to_numpy()
    ia = pa["space_id"].astype(str).to_numpy()
    where_a = {sid: i for i, sid in enumerate(ia)}
    same_b = np.zeros(len(ib), dtype=bool)
    same_a = np.zeros(len(ia), dtype=bool)
    for i, sid in enumerate(ib):
        j = where_a.get(sid)
        if j is not None and pb.geometry.iloc[i].distance(pa.geometry.iloc[j]) <= _SAME_PLACE_M:
            same_b[i] = same_a[j] = True
    return np.flatnonzero(~same_b), np.flatnonzero(~same_a)


def scenario_from_files(
    analysis: Analysis,
    after: gpd.GeoDataFrame | None = None,
    *,
    add: gpd.GeoDataFrame | None = None,
    remove: Sequence[object] = (),
) -> Figures:
    """The figures of ``analysis`` with its spaces replaced by ``after`` (a whole new
    registry) and/or with ``add`` added and ``remove`` removed.

    ``after``: the spaces of the other side; those with an id and place of the analysis
    stay, the others are added, and the analysis's spaces missing from it are removed.
    Spaces of ``after``/``add`` farther from the study area than the analysis's margin are
    left out, as :func:`~fifteenmin.pipeline.analyze` leaves them out.
    """
    engine = analysis.scenarios
    base = analysis.walk.spaces
    remove_ids = _check_ids(remove, "remove")
    add_frames = []
    if after is not None:
        after = _within_margin(analysis, spaces_from_frame(after))
        gone, new = diff_spaces(base, after)
        remove_ids = list(dict.fromkeys([*base["space_id"].astype(str).iloc[gone], *remove_ids]))
        add_frames.append(after.iloc[new])
    if add is not None:
        add_frames.append(_within_margin(analysis, spaces_from_frame(add)))
    added = None
    if add_frames:
        frames = [f.to_crs(4326) for f in add_frames]
        added = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326)
        if not len(added):
            added = None
    return engine.figures(add=added, remove=remove_ids)


def _within_margin(analysis: Analysis, spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    margin = analysis.parameters.get("margin_m")
    area = analysis.study_area
    if margin is None or area is None:
        return spaces
    inside = area.with_margin(float(margin)).contains(spaces)
    return spaces.loc[inside].reset_index(drop=True)


def _percent(share: Any) -> str:
    """A share as ``71.3%`` (``-`` where missing), for the reprs."""
    return "-" if share is None or pd.isna(share) else f"{float(share):.1%}"


# ----------------------------------------------------------------------- sensitivity


@dataclass(frozen=True, repr=False)
class Sensitivity:
    """How the figures move with walking speed and population group (see
    :func:`sensitivity`).

    ``table``: one row per zone, population column, speed and threshold
    (``population_column``, ``speed_kmh``, ``minutes``, ``residents``,
    ``residents_within``, ``share``). ``citywide``: the same over the counted zones.
    ``zones``: per zone, for the underserved walk, the lowest and highest share of the
    first population column over its speeds (``share_pop_<m>min_low``/``_high``) and
    ``borderline``: the zone is underserved in some combinations of a population column
    and not in others (any column).
    ``combinations``: the (population column, speed) pairs computed.
    """

    table: pd.DataFrame
    citywide: pd.DataFrame
    zones: pd.DataFrame
    combinations: list[tuple[str, float]]
    parameters: dict[str, Any]

    @property
    def borderline(self) -> list[str]:
        """Ids of the zones whose underserved status flips within the band."""
        return self.zones.loc[self.zones[N.BORDERLINE], N.ZONE_ID].astype(str).tolist()

    def __repr__(self) -> str:
        """One line: the cases computed, the zones and how many are borderline."""
        cases = ", ".join(f"{column} at {speed:g} km/h" for column, speed in self.combinations)
        return (
            f"<fifteenmin.scenarios.Sensitivity: {len(self.combinations)} cases ({cases}); "
            f"{len(self.zones)} zones, {len(self.borderline)} borderline>"
        )


def sensitivity(
    analysis: Analysis,
    *,
    speeds: Sequence[float] | None = None,
    population_columns: Sequence[str] | None = None,
    pairs: dict[str, float] | None = None,
) -> Sensitivity:
    """The zone figures for several walking speeds and population columns in one run.

    No new search: walking distances do not depend on the speed, only the distance a
    walk of ``m`` minutes covers does, so each combination is a pass over the street
    pieces of the analysis (see :class:`Scenarios`).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`, with residents.
    speeds
        Walking speeds in km/h (e.g. ``[3.6, 4.8, 5.4]``); default the analysis's. The
        analysis's own speed is always included.
    population_columns
        Numeric columns of the zones to count (e.g. ``["pop2018", "pop2018_65p"]``); the
        analysis's population column counts as its residents. Default: the residents.
    pairs
        A speed for a population column (``{"pop2018_65p": 3.6}``): that column is then
        computed at that speed only, not at each of ``speeds``.

    Raises
    ------
    InputError
        If a speed is not a positive number, a column is missing or not numeric, or a
        pair names a column not listed.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> sens = sensitivity(result, speeds=[3.6, 4.8, 5.4])
    >>> shares = sens.citywide.query("minutes == 15")["share"].tolist()
    >>> shares == sorted(shares)
    True
    """
    engine = analysis.scenarios
    params = analysis.parameters
    base_speed = float(params["speed_kmh"])
    speed_list = [base_speed] if speeds is None else list(speeds)
    for s in speed_list:
        _check_number(s, "walking speed (km/h)")
        _check_speed(float(s))
    speed_list = sorted({float(s) for s in speed_list} | {base_speed})
    main = params.get("population_column") or N.POPULATION
    columns = list(dict.fromkeys(population_columns or [main]))
    pairs = dict(pairs or {})
    for col, s in pairs.items():
        if col not in columns:
            raise InputError(
                f"speed pair {col}={s}: {col!r} is not among the population columns "
                f"({', '.join(columns)}); add it to --population-column"
            )
        _check_number(s, f"walking speed of {col} (km/h)")
        _check_speed(float(s))
    combos = [
        (col, s) for col in columns for s in ([float(pairs[col])] if col in pairs else speed_list)
    ]
    zones = analysis.zones
    m_u = float(params["underserved_minutes"])
    rows: list[pd.DataFrame] = []
    city: list[dict[str, Any]] = []
    under: dict[str, list[np.ndarray]] = {}  # per population column: its zones underserved, per run
    for col, s in combos:
        fig = engine.figures(speed_kmh=s, population_column=None if col == main else col)
        z = fig.zones
        for m in fig.parameters["minutes"]:
            rows.append(
                pd.DataFrame(
                    {
                        N.ZONE_ID: z[N.ZONE_ID].to_numpy(),
                        N.ZONE_NAME: z[N.ZONE_NAME].to_numpy(),
                        N.STATUS: z[N.STATUS].to_numpy(),
                        "population_column": col,
                        "speed_kmh": s,
                        "minutes": m,
                        "residents": z[N.POPULATION].to_numpy(),
                        "residents_within": z[N.residents(m)].to_numpy(),
                        "share": z[N.share("pop", m)].to_numpy(),
                    }
                )
            )
            w = fig.within[f"{m:g}"]
            city.append(
                {
                    "population_column": col,
                    "speed_kmh": s,
                    "minutes": m,
                    "residents": w["residents_total"],
                    "residents_within": w["residents"],
                    "share": w["share"],
                }
            )
        under.setdefault(col, []).append(z[N.UNDERSERVED].to_numpy(bool))
    table = pd.concat(rows, ignore_index=True)
    at_m = table[(table["minutes"] == m_u) & (table["population_column"] == columns[0])]
    band = at_m.groupby(N.ZONE_ID, sort=False)["share"]
    low = band.min().reindex(zones[N.ZONE_ID]).to_numpy()
    high = band.max().reindex(zones[N.ZONE_ID]).to_numpy()
    flips = np.zeros(len(zones), dtype=bool)
    for flags in under.values():
        stack = np.vstack(flags)
        flips |= stack.any(axis=0) & ~stack.all(axis=0)
    out = zones[[N.ZONE_ID, N.ZONE_NAME, N.STATUS]].copy()
    share = N.share("pop", m_u)
    out[f"{share}_low"], out[f"{share}_high"] = low, high
    out[N.BORDERLINE] = flips
    return Sensitivity(
        table=table,
        citywide=pd.DataFrame(city),
        zones=pd.DataFrame(out),
        combinations=combos,
        parameters={
            "speeds_kmh": speed_list,
            "population_columns": columns,
            "pairs": {k: float(v) for k, v in pairs.items()},
            "underserved_minutes": m_u,
            "underserved_share": params["underserved_share"],
        },
    )


def figures_from_report(folder: str | Path) -> Figures:
    """The figures of an analysis written before (``fifteenmin analyze --out FOLDER``), to
    compare two runs already made without computing them again.

    Reads ``summary.json``, ``zones.gpkg`` and ``spaces.gpkg`` of the folder.

    Raises
    ------
    InputError
        If the folder is not a report of ``analyze`` or its analysis counted no residents.
    """
    import json

    import pyogrio

    folder = Path(folder)
    files = [folder / n for n in ("summary.json", "zones.gpkg", "spaces.gpkg")]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise InputError(
            f"{folder}: not a report folder of fifteenmin analyze (no {', '.join(missing)}); "
            "give the --out folder of an analyze run"
        )
    try:
        summary = json.loads(files[0].read_text(encoding="utf-8"))
        params, inputs = summary["parameters"], summary.get("inputs") or {}
        counts = summary["counts"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{files[0]}: not a summary written by fifteenmin ({exc})") from None
    if not summary.get("residents_total"):
        raise InputError(
            f"{folder}: that analysis counted no residents; compare needs runs made with "
            "--population-column"
        )
    zones = pyogrio.read_dataframe(files[1], layer="zones")
    spaces = pyogrio.read_dataframe(files[2], layer="spaces")
    minutes = [float(m) for m in params["minutes"]]
    wanted = [N.ZONE_ID, N.ZONE_NAME, N.STATUS, N.POPULATION, N.UNDERSERVED]
    wanted += [c for m in minutes for c in (N.residents(m), N.share("pop", m))]
    absent = [c for c in wanted if c not in zones.columns]
    if absent:
        raise InputError(f"{files[1]}: no column {absent[0]!r}; was it written by analyze?")
    total = float(summary["residents_total"])
    within = {
        f"{m:g}": {
            "residents": float(summary["within"][f"{m:g}"]["residents"]),
            "share": float(summary["within"][f"{m:g}"]["share"]),
            "residents_total": total,
        }
        for m in minutes
    }
    recorded = inputs.get("network")
    network: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    zones[N.ZONE_ID] = zones[N.ZONE_ID].astype(str)
    zones[N.UNDERSERVED] = zones[N.UNDERSERVED].astype(bool)
    return Figures(
        zones=zones[[*wanted, zones.geometry.name]],
        within=within,
        spaces=spaces.to_crs(4326),
        parameters={
            "minutes": minutes,
            "speed_kmh": float(params["speed_kmh"]),
            "population_column": params.get("population_column"),
            "underserved_share": params["underserved_share"],
            "underserved_minutes": float(params["underserved_minutes"]),
        },
        inputs={**inputs, "report": {"path": str(folder)}},
        network={
            "sha256": network.get("sha256"),
            "nodes": int(counts["network_nodes"]),
            "street_segments": int(counts["street_segments"]),
            "synthetic": summary_is_synthetic(summary),
        },
    )
