"""Walking times from every node to the nearest space: snapping, one multi-source search."""

from __future__ import annotations

import logging
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

from ._geom import substrings
from .errors import InputError
from .network import (
    DEFAULT_SPEED_KMH,
    StreetNetwork,
    _check_speed,
    _shortest_pairs,
    great_circle_m,
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


def snap_spaces(
    streets: StreetNetwork,
    spaces: gpd.GeoDataFrame,
    *,
    max_distance_m: float = MAX_SNAP_M,
) -> pd.DataFrame:
    """Find where each space joins the network: the nearest point of the nearest street.

    Returns a table aligned with ``spaces``: ``edge`` (index into the street arrays),
    ``offset_m`` (distance along the street from its ``u`` end), ``access_m``
    (straight walk from the space to the street), ``x``/``y`` (space, projected),
    ``snap_x``/``snap_y`` (access point).

    Raises
    ------
    InputError
        If a space lies outside the network's extent or farther than ``max_distance_m``
        from any walkable street.
    """
    points = spaces.to_crs(streets.crs).geometry.to_numpy()
    ids = spaces["space_id"].astype(str).to_numpy()
    where = [
        f"{src}: " if isinstance(src, str) else ""
        for src in spaces.get("source", [None] * len(ids))
    ]
    minx, miny, maxx, maxy = streets.bounds()
    margin = max_distance_m
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    outside = (
        (xs < minx - margin) | (xs > maxx + margin) | (ys < miny - margin) | (ys > maxy + margin)
    )
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
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
    too_far = dist > max_distance_m
    if too_far.any():
        i = int(np.flatnonzero(too_far)[0])
        raise InputError(
            f"{where[i]}space {ids[i]!r} is {dist[i]:.0f} m from the nearest walkable street "
            f"(limit {max_distance_m:.0f} m; {int(too_far.sum())} space(s) in all); check its "
            "coordinates or use a network that includes the streets around it"
        )
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
    return pd.DataFrame(
        {
            "space_id": ids,
            "edge": edge_idx,
            "offset_m": frac * streets.edge_length_m[edge_idx],
            "access_m": great_circle_m(lat0, lon0, lat1, lon1),
            "x": xs,
            "y": ys,
            "snap_x": snap_x,
            "snap_y": snap_y,
        }
    )


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
    new_group = np.ones(k, dtype=bool)
    new_group[1:] = e[1:] != e[:-1]
    last = np.append(new_group[1:], True)
    prev_node = np.where(new_group, streets.edge_u[e], np.roll(access_node[order], 1))
    prev_cut = np.where(new_group, 0.0, np.roll(offset, 1))
    ch_u = np.concatenate([prev_node, access_node[order][last]])
    ch_v = np.concatenate([access_node[order], streets.edge_v[e][last]])
    ch_start = np.concatenate([prev_cut, offset[last]])
    ch_end = np.concatenate([offset, length[last]])
    ch_edge = np.concatenate([e, e[last]])
    geoms = streets.edge_geometry[ch_edge]
    scale = np.divide(
        shapely.length(geoms),
        streets.edge_length_m[ch_edge],
        out=np.zeros(len(ch_edge)),
        where=streets.edge_length_m[ch_edge] > 0,
    )
    pieces = substrings(geoms, ch_start * scale, ch_end * scale)
    connectors = shapely.linestrings(
        np.stack([snaps[["x", "y"]].to_numpy(), snaps[["snap_x", "snap_y"]].to_numpy()], axis=1)
    )
    node_xy = np.concatenate(
        [streets.node_xy, snaps[["snap_x", "snap_y"]].to_numpy(), snaps[["x", "y"]].to_numpy()]
    )
    # split pieces, then connectors
    new_u = np.concatenate([ch_u, space_node])
    new_v = np.concatenate([ch_v, access_node])
    new_length_m = np.concatenate([ch_end - ch_start, snaps["access_m"].to_numpy()])
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
    logger.debug("search graph: %d nodes, %d pieces of split streets", n, len(ch_u))
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
        new_geometry=np.concatenate([pieces, connectors]),
    )


@dataclass(frozen=True)
class WalkTimes:
    """Walking distance from every node of a :class:`SearchGraph` to the nearest space."""

    streets: StreetNetwork
    graph: SearchGraph
    snaps: pd.DataFrame
    spaces: gpd.GeoDataFrame
    speed_kmh: float
    dist_m: np.ndarray
    nearest: np.ndarray  # space index per node, -1 where no space is reachable

    @property
    def speed_mps(self) -> float:
        """Walking speed in metres per second."""
        return self.speed_kmh / 3.6

    def minutes_to_m(self, minutes: float) -> float:
        """Walking distance covered in ``minutes``."""
        return minutes * 60.0 * self.speed_mps

    def node_times(self) -> gpd.GeoDataFrame:
        """One point per network node: ``osmid``, ``walk_time_s``, ``space_id``.

        Unreachable nodes (in a component without a space) have ``walk_time_s`` NaN
        and ``space_id`` None.
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
            },
            geometry=gpd.points_from_xy(self.streets.node_xy[:, 0], self.streets.node_xy[:, 1]),
            crs=self.streets.crs,
        )

    def per_space_m(
        self, limit_m: float, *, chunk: int = 32
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(space indices, distances)`` blocks, distances beyond ``limit_m`` = inf."""
        for start in range(0, len(self.graph.space_node), chunk):
            idx = np.arange(start, min(start + chunk, len(self.graph.space_node)))
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
    spaces = spaces.reset_index(drop=True)
    snaps = snap_spaces(streets, spaces, max_distance_m=max_snap_m)
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
