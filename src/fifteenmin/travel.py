"""Walking times from every node to the nearest space: snapping, one multi-source search."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from . import _topology
from ._topology import FRAGMENT_MAX_M
from .errors import InputError
from .network import (
    DEFAULT_SPEED_KMH,
    StreetNetwork,
    _check_speed,
    _shortest_pairs,
    great_circle_m,
    split_chains,
    streets_from_graph,
)

logger = logging.getLogger(__name__)

MAX_SNAP_M = 500.0


@dataclass(frozen=True)
class SearchGraph:
    """Street segments split at the spaces' access points, plus one connector per space.

    Nodes ``0 .. n_street_nodes-1`` are the network's nodes in :class:`StreetNetwork`
    order; then one access-point node per space, then one node per space itself.
    Edge arrays run over street sub-segments (``is_street``) and connectors.
    """

    n_street_nodes: int
    node_xy: np.ndarray
    space_node: np.ndarray
    csr: sp.csr_matrix
    # the edge arrays below are assembled on first use (a search alone needs none)
    streets: StreetNetwork = field(repr=False)
    kept: np.ndarray = field(repr=False)  # the street segments not split, in order
    new_u: np.ndarray = field(repr=False)  # then: split pieces, then connectors
    new_v: np.ndarray = field(repr=False)
    new_length_m: np.ndarray = field(repr=False)
    new_geometry: np.ndarray = field(repr=False)
    new_street_edge: np.ndarray | None = field(default=None, repr=False)  # -1: connector
    new_start_m: np.ndarray | None = field(default=None, repr=False)  # along that street

    @cached_property
    def u(self) -> np.ndarray:
        """First node of each edge."""
        return np.concatenate([self.streets.edge_u[self.kept], self.new_u])

    @cached_property
    def v(self) -> np.ndarray:
        """Second node of each edge."""
        return np.concatenate([self.streets.edge_v[self.kept], self.new_v])

    @cached_property
    def length_m(self) -> np.ndarray:
        """Walking length of each edge in metres."""
        return np.concatenate([self.streets.edge_length_m[self.kept], self.new_length_m])

    @cached_property
    def geometry(self) -> np.ndarray:
        """Line of each edge (projected)."""
        return np.concatenate([self.streets.edge_geometry[self.kept], self.new_geometry])

    @cached_property
    def is_street(self) -> np.ndarray:
        """Whether each edge is (part of) a street, not a space's connector."""
        is_street = np.ones(len(self.kept) + len(self.new_u), dtype=bool)
        is_street[len(is_street) - len(self.space_node) :] = False
        return is_street

    def street_position(self) -> tuple[np.ndarray, np.ndarray]:
        """Per edge: the street segment of :attr:`streets` it is (part of), -1 for a
        connector, and where along that segment it starts (metres)."""
        if self.new_street_edge is None or self.new_start_m is None:
            raise ValueError("this search graph does not record where its pieces lie")
        return (
            np.concatenate([self.kept, self.new_street_edge]),
            np.concatenate([np.zeros(len(self.kept)), self.new_start_m]),
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes, virtual ones included."""
        return len(self.node_xy)

    @cached_property
    def node_edges(self) -> sp.csr_matrix:
        """Incidence matrix: row ``i`` lists the edges touching node ``i``."""
        m = len(self.u)
        ones = np.ones(2 * m, dtype=np.int8)
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([np.arange(m), np.arange(m)])
        return sp.csr_matrix((ones, (rows, cols)), shape=(self.n_nodes, m))

    def edges_touching(self, nodes: np.ndarray) -> np.ndarray:
        """Sorted indices of the edges with an end in ``nodes``."""
        inc = self.node_edges
        starts, ends = inc.indptr[nodes], inc.indptr[nodes + 1]
        counts = ends - starts
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return np.unique(inc.indices[idx])


SKIPPED_COLUMNS = ("space_id", "name", "source", "distance_m", "reason")
"""Columns of :attr:`WalkTimes.skipped`: the spaces left out for lying far from the streets."""


def _no_skipped() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "distance_m" else object)
                         for c in SKIPPED_COLUMNS})  # fmt: skip


def _from_osm(spaces: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each space was located from OSM tags (``source`` starting with "osm")."""
    if "source" not in spaces.columns:
        return np.zeros(len(spaces), dtype=bool)
    source = spaces["source"].astype("string").str.strip().str.lower()
    return source.str.startswith("osm").fillna(False).to_numpy(dtype=bool)


def snap_spaces(
    streets: StreetNetwork,
    spaces: gpd.GeoDataFrame,
    *,
    max_distance_m: float = MAX_SNAP_M,
    on_far: str = "raise",
) -> pd.DataFrame:
    """Find where each space joins the network: the nearest point of the nearest street.

    Returns a table aligned with ``spaces``: ``edge`` (index into the street arrays),
    ``offset_m`` (distance along the street from its ``u`` end), ``access_m``
    (straight walk from the space to the street), ``x``/``y`` (space, projected),
    ``snap_x``/``snap_y`` (access point).

    Parameters
    ----------
    streets
        The network.
    spaces
        Points with a ``space_id`` column (any CRS).
    max_distance_m
        Farthest a space may lie from a walkable street.
    on_far
        ``"raise"``: a space outside the extent of the streets' geometry (grown by
        ``max_distance_m``) or farther than ``max_distance_m`` from every street is an
        error. ``"skip"``: such spaces are left out; the table then holds the kept spaces
        only (its index: their positions in ``spaces``) and ``attrs["skipped"]`` lists the
        others (:data:`SKIPPED_COLUMNS`).

    Raises
    ------
    InputError
        With ``on_far="raise"``, if a space lies outside the network's extent or farther
        than ``max_distance_m`` from any walkable street.
    """
    if on_far not in ("raise", "skip"):
        raise InputError(f"on_far={on_far!r} is not one of 'raise', 'skip'")
    may_skip = np.full(len(spaces), on_far == "skip")
    snaps, skipped = _snap(streets, spaces, max_distance_m, may_skip)
    if on_far == "skip":
        snaps.attrs["skipped"] = skipped
    return snaps


def _snap(
    streets: StreetNetwork, spaces: gpd.GeoDataFrame, max_distance_m: float, may_skip: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snaps of the kept spaces (index: their positions) and the far spaces left out.

    A far space is left out where ``may_skip`` is True, else an error naming it.
    """
    points = spaces.to_crs(streets.crs).geometry.to_numpy()
    ids = spaces["space_id"].astype(str).to_numpy()
    where = [
        f"{src}: " if isinstance(src, str) else ""
        for src in spaces.get("source", [None] * len(ids))
    ]
    # the extent of the street geometry: a space beside a long curved street is inside
    minx, miny, maxx, maxy = streets.bounds()
    margin = max_distance_m
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    outside = (
        (xs < minx - margin) | (xs > maxx + margin) | (ys < miny - margin) | (ys > maxy + margin)
    )
    if (outside & ~may_skip).any():
        i = int(np.flatnonzero(outside & ~may_skip)[0])
        lon, lat = spaces.to_crs(4326).geometry.iloc[i].coords[0]
        raise InputError(
            f"{where[i]}space {ids[i]!r} ({lat:.6f}, {lon:.6f}) lies outside the network's extent "
            f"({int(outside.sum())} space(s) in all); use a network that covers every space, "
            "or remove the spaces outside it"
        )
    (pt_idx, edge_idx), dist = streets.edge_tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    order = np.argsort(pt_idx)
    edge_idx, dist = edge_idx[order], dist[order]
    too_far = (dist > max_distance_m) & ~outside
    if (too_far & ~may_skip).any():
        i = int(np.flatnonzero(too_far & ~may_skip)[0])
        raise InputError(
            f"{where[i]}space {ids[i]!r} is {dist[i]:.0f} m from the nearest walkable street "
            f"(limit {max_distance_m:.0f} m; {int(too_far.sum())} space(s) in all); check its "
            "coordinates or use a network that includes the streets around it"
        )
    far = outside | too_far
    skipped = _no_skipped()
    if far.any():
        skipped = pd.DataFrame(
            {
                "space_id": ids[far],
                "name": spaces["name"].to_numpy()[far] if "name" in spaces else None,
                "source": spaces["source"].to_numpy()[far] if "source" in spaces else None,
                "distance_m": dist[far],
                "reason": np.where(
                    outside[far],
                    "outside the network's extent",
                    f"farther than {max_distance_m:g} m from any walkable street",
                ),
            }
        )
        keep = np.flatnonzero(~far)
        points, ids, edge_idx, dist = points[keep], ids[keep], edge_idx[keep], dist[keep]
        xs, ys = xs[keep], ys[keep]
    else:
        keep = np.arange(len(ids))
    geoms = streets.edge_geometry[edge_idx]
    frac = shapely.line_locate_point(geoms, points, normalized=True)
    frac = np.nan_to_num(frac, nan=0.0)
    snapped = shapely.line_interpolate_point(geoms, frac, normalized=True)
    snap_x, snap_y = shapely.get_x(snapped), shapely.get_y(snapped)
    # the walk to the street is measured on the great circle, like the street lengths
    to_lonlat = streets.to_lonlat
    (lon0, lon1), (lat0, lat1) = (
        np.array(a)
        for a in zip(to_lonlat.transform(xs, ys), to_lonlat.transform(snap_x, snap_y), strict=True)
    )
    snaps = pd.DataFrame(
        {
            "space_id": ids,
            "edge": edge_idx,
            "offset_m": frac * streets.edge_length_m[edge_idx],
            "access_m": great_circle_m(lat0, lon0, lat1, lon1),
            "x": xs,
            "y": ys,
            "snap_x": snap_x,
            "snap_y": snap_y,
        },
        index=keep if far.any() else None,
    )
    return snaps, skipped


def build_search_graph(streets: StreetNetwork, snaps: pd.DataFrame) -> SearchGraph:
    """Split the snapped streets at the access points and add the space connectors."""
    n0, k = streets.n_nodes, len(snaps)
    access_node = n0 + np.arange(k)
    space_node = n0 + k + np.arange(k)
    edge = snaps["edge"].to_numpy()
    split = np.zeros(streets.n_edges, dtype=bool)
    split[edge] = True

    # each split street becomes a chain u - p1 - p2 ... - v through its access points
    order = np.lexsort((snaps["offset_m"].to_numpy(), edge))
    e = edge[order]
    length = streets.edge_length_m[e]
    offset = np.clip(snaps["offset_m"].to_numpy()[order], 0, length)
    chains = split_chains(streets, e, offset, access_node[order])
    connectors = shapely.linestrings(
        np.stack([snaps[["x", "y"]].to_numpy(), snaps[["snap_x", "snap_y"]].to_numpy()], axis=1)
    )
    node_xy = np.concatenate(
        [streets.node_xy, snaps[["snap_x", "snap_y"]].to_numpy(), snaps[["x", "y"]].to_numpy()]
    )
    # split pieces, then connectors
    new_u = np.concatenate([chains.u, space_node])
    new_v = np.concatenate([chains.v, access_node])
    new_length_m = np.concatenate([chains.end_m - chains.start_m, snaps["access_m"].to_numpy()])
    # the network's cached street matrix, with rows added for the new nodes: the split
    # streets stay in it, which changes no distance (u - p - v is as long as u - v), so
    # nothing is sorted per run; an undirected search reads each entry both ways
    a, b, w = _shortest_pairs(new_u, new_v, new_length_m)
    n = len(node_xy)
    new = sp.csr_matrix((w, (b - n0, a)), shape=(n - n0, n))  # b: always a new node
    street = streets.csr
    csr = sp.csr_matrix(
        (
            np.concatenate([street.data, new.data]),
            np.concatenate([street.indices, new.indices]),
            np.concatenate([street.indptr, street.indptr[-1] + new.indptr[1:]]),
        ),
        shape=(n, n),
    )
    logger.debug("search graph: %d nodes, %d pieces of split streets", n, len(chains.u))
    return SearchGraph(
        n_street_nodes=n0,
        node_xy=node_xy,
        space_node=space_node,
        csr=csr,
        streets=streets,
        kept=np.flatnonzero(~split),
        new_u=new_u,
        new_v=new_v,
        new_length_m=new_length_m,
        new_geometry=np.concatenate([chains.geometry, connectors]),
        new_street_edge=np.concatenate([chains.edge, np.full(k, -1)]),
        new_start_m=np.concatenate([chains.start_m, np.zeros(k)]),
    )


@dataclass(frozen=True)
class WalkTimes:
    """Walking distance from every node of a :class:`SearchGraph` to the nearest space.

    ``fragment_nodes`` marks the street nodes on fragments (components without a space
    and with little street, see :func:`walk_times`); ``skipped`` lists the spaces left
    out for lying far from the streets (:data:`SKIPPED_COLUMNS`).
    """

    streets: StreetNetwork
    graph: SearchGraph
    snaps: pd.DataFrame
    spaces: gpd.GeoDataFrame
    speed_kmh: float
    dist_m: np.ndarray
    nearest: np.ndarray  # space index per node, -1 where no space is reachable
    fragment_nodes: np.ndarray = None  # type: ignore[assignment]  # filled in __post_init__
    skipped: pd.DataFrame = field(default_factory=_no_skipped)
    fragment_max_m: float | None = None

    def __post_init__(self) -> None:
        if self.fragment_nodes is None:  # no fragments marked: every street counts
            object.__setattr__(
                self, "fragment_nodes", np.zeros(self.graph.n_street_nodes, dtype=bool)
            )

    def street_edge_mask(self, graph: SearchGraph | None = None) -> np.ndarray:
        """Whether each edge of ``graph`` (default :attr:`graph`) is a street off the fragments.

        ``graph`` may be another search graph on the same streets, e.g. one also split at
        candidate sites; connectors to spaces are never streets.
        """
        graph = self.graph if graph is None else graph
        if not self.fragment_nodes.any():
            return np.asarray(graph.is_street)
        return _topology.edge_mask(graph, self.fragment_nodes)

    def fragments(self) -> gpd.GeoDataFrame:
        """The fragments of the network, one row each (see :func:`walk_times`).

        Columns ``component`` (a label of the network's connected components),
        ``n_nodes``, ``street_length_m``, ``lon``, ``lat`` (a point on its streets) and
        its streets as a MultiLineString in the network's CRS.
        """
        return _topology.fragment_table(self.streets, self.fragment_nodes)

    def distinct_spaces(self) -> tuple[np.ndarray, np.ndarray]:
        """Spaces that share their point and access point reach the same streets: the index
        of one space of each such group, and each space's group (``first[group]``)."""
        key = self.snaps[["x", "y", "edge", "offset_m"]].to_numpy(dtype=float)
        _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
        return first, group.ravel()

    @property
    def speed_mps(self) -> float:
        """Walking speed in metres per second."""
        return self.speed_kmh / 3.6

    def minutes_to_m(self, minutes: float) -> float:
        """Walking distance covered in ``minutes``."""
        return minutes * 60.0 * self.speed_mps

    def node_times(self) -> gpd.GeoDataFrame:
        """One point per network node: ``osmid``, ``walk_time_s``, ``space_id``, ``fragment``.

        Unreachable nodes (in a component without a space) have ``walk_time_s`` NaN
        and ``space_id`` None; ``fragment`` is True on the nodes of fragments.
        """
        n = self.graph.n_street_nodes
        dist = self.dist_m[:n]
        nearest = self.nearest[:n]
        ids = self.spaces["space_id"].astype(str).to_numpy()
        space_id = np.where(nearest >= 0, ids[np.maximum(nearest, 0)], None)
        return gpd.GeoDataFrame(
            {
                "osmid": self.streets.node_osmid,
                "walk_time_s": np.where(np.isfinite(dist), dist / self.speed_mps, np.nan),
                "space_id": space_id,
                "fragment": self.fragment_nodes,
            },
            geometry=gpd.points_from_xy(self.streets.node_xy[:, 0], self.streets.node_xy[:, 1]),
            crs=self.streets.crs,
        )

    def per_space_m(
        self, limit_m: float, *, chunk: int = 32, spaces: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(space indices, distances)`` blocks, distances beyond ``limit_m`` = inf.

        ``spaces``: the indices of the spaces to search from (default all of them).
        """
        order = np.arange(len(self.graph.space_node)) if spaces is None else np.asarray(spaces)
        for start in range(0, len(order), chunk):
            idx = order[start : start + chunk]
            yield (
                idx,
                dijkstra(
                    self.graph.csr,
                    directed=False,
                    indices=self.graph.space_node[idx],
                    limit=limit_m,
                ),
            )


def walk_times(
    streets: StreetNetwork | nx.MultiDiGraph,
    spaces: gpd.GeoDataFrame,
    *,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
    fragment_max_m: float | None = FRAGMENT_MAX_M,
    skip_far: bool = False,
) -> WalkTimes:
    """Walking time from every node to the nearest space, in one multi-source search.

    Each space joins the network at the nearest point of the nearest walkable street;
    the straight walk to that point and the partial street from it to either end count.

    Parameters
    ----------
    streets
        A :class:`~fifteenmin.network.StreetNetwork` or an OSMnx graph.
    spaces
        Points with a ``space_id`` column (any CRS).
    speed_kmh
        Walking speed.
    max_snap_m
        Spaces farther than this from any walkable street are an error.
    fragment_max_m
        A connected component of the network that holds no space and less than this
        street length (metres) is a fragment (a courtyard footway, steps not joined to
        the street in OSM): marked in :attr:`WalkTimes.fragment_nodes`, so that zone
        figures and site suggestions leave it out instead of counting it as out of reach.
        An island with a space is never a fragment. ``None`` or 0: keep everything.
    skip_far
        Leave out the spaces located from OSM tags (``source`` starting with "osm") that
        lie outside the network or farther than ``max_snap_m`` from a street, with a
        warning, and list them in :attr:`WalkTimes.skipped`; other spaces that far (rows
        of a registry file) are still an error naming them.

    Raises
    ------
    InputError
        If a space is farther than ``max_snap_m`` from the streets (and not skipped), or
        every space is skipped.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> wt = fm.walk_times(fm.read_streets(city.network), fm.spaces_from_file(city.spaces))
    >>> nodes = wt.node_times()
    >>> bool((nodes["walk_time_s"].dropna() >= 0).all())
    True
    """
    _check_speed(speed_kmh)
    if isinstance(streets, nx.MultiDiGraph):
        streets = streets_from_graph(streets)
    if len(spaces) == 0:
        raise InputError("no spaces given; give at least one space")
    if fragment_max_m is not None and not fragment_max_m >= 0:
        raise InputError(
            f"fragment length {fragment_max_m!r} m is not a number >= 0; use e.g. "
            f"{FRAGMENT_MAX_M:g}, or 0 to keep every part of the network"
        )
    spaces = spaces.reset_index(drop=True)
    may_skip = _from_osm(spaces) if skip_far else np.zeros(len(spaces), dtype=bool)
    snaps, skipped = _snap(streets, spaces, max_snap_m, may_skip)
    if len(skipped):
        if not len(snaps):
            raise InputError(
                f"all {len(spaces)} space(s) lie outside the network or farther than "
                f"{max_snap_m:g} m from its streets (e.g. {skipped['space_id'].iloc[0]!r}, "
                f"{skipped['distance_m'].iloc[0]:.0f} m); use a network that covers the spaces"
            )
        first = skipped.iloc[0]
        warnings.warn(
            f"{len(skipped)} space(s) from OSM tags left out: outside the network or farther "
            f"than {max_snap_m:g} m from its streets (e.g. {first['space_id']!r}, "
            f"{first['distance_m']:.0f} m away); they are listed in WalkTimes.skipped; use a "
            "network that covers them to include them",
            stacklevel=2,
        )
        spaces = spaces.iloc[snaps.index.to_numpy()].reset_index(drop=True)
        snaps = snaps.reset_index(drop=True)
    graph = build_search_graph(streets, snaps)
    dist, _, source = dijkstra(
        graph.csr,
        directed=False,
        indices=graph.space_node,
        min_only=True,
        return_predecessors=True,
    )
    nearest = np.where(source >= 0, source - graph.space_node[0], -1)
    return WalkTimes(
        streets=streets,
        graph=graph,
        snaps=snaps,
        spaces=spaces,
        speed_kmh=speed_kmh,
        dist_m=dist,
        nearest=nearest,
        fragment_nodes=_topology.fragment_nodes(graph, streets, max_length_m=fragment_max_m),
        skipped=skipped,
        fragment_max_m=fragment_max_m or None,
    )


def reachable_parts(
    length_m: np.ndarray, d_u: np.ndarray, d_v: np.ndarray, limit_m: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How far along each edge is reached from its ``u`` end and from its ``v`` end.

    A point at distance ``x`` from ``u`` is reached when ``min(d_u + x, d_v + L - x) <=
    limit``, i.e. when ``x <= a`` or ``x >= L - b`` with the returned ``a``, ``b``
    (both clipped to ``[0, L]``; ``nan`` when the end itself is not reached).

    Examples
    --------
    >>> a, b = reachable_parts(np.array([100.0]), np.array([20.0]), np.array([np.inf]), 50.0)
    >>> float(a[0]), float(b[0])
    (30.0, nan)
    """
    with np.errstate(invalid="ignore"):
        a = np.where(d_u <= limit_m, np.minimum(limit_m - d_u, length_m), np.nan)
        b = np.where(d_v <= limit_m, np.minimum(limit_m - d_v, length_m), np.nan)
    return a, b
