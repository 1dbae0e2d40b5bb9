"""Network topology repairs: join dangling ends across small gaps, find street fragments."""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from .errors import InputError
from .network import StreetNetwork, great_circle_m, split_chains

if TYPE_CHECKING:
    from .travel import SearchGraph

logger = logging.getLogger(__name__)

DEFAULT_JOIN_GAP_M = 5.0
"""Default widest gap (metres) between a dangling end and another component's street that
:func:`join_gaps` bridges: OSM footways and steps drawn up to the kerb, a few metres from
the street's centre line, but not joined to it. On the Esquilino extract (2016) 3 m makes
1 connector (two flights of steps, to each other), 5 m 4 (42 components -> 39: a footway
and 6 nodes of steps joined to the main network), 10 m 28; on Nomentano (2012) 5 m makes
1 (a footway 1.0 m from its street); the next gap there, 4.2 m, is a footway over a road
tunnel, which the level rule (bridge/tunnel) refuses."""

FRAGMENT_MAX_M = 1000.0
"""Default street length (metres) below which a component without a space is a fragment.

Measured on the Rome extracts (after :func:`join_gaps`): on Esquilino (2016) the main
component holds 56.2 km of street (1,075 nodes); the 38 others 868, 713 and 572 m (park
and archaeological-area footways, 16, 34 and 2 nodes), 464 m (21 nodes), 443 m (a street
cut by the extract's edge) and 280 m or less (courtyard footways, steps); on Nomentano
(2012) 109.0 km, then 592, 319, 211 and 29 m. At 500 m, suggested sites still landed on
the 572-868 m footway islands; 1,000 m leaves out every component of either extract but
the main one, which is 50 times longer."""

JOIN_COLUMN = "fifteenmin_join"
"""Edge attribute marking the connectors added by :func:`join_gaps` (True) in ``edge_attrs``."""

_AT_END_M = 0.01  # a join this close to a street's end goes to its end node (no split)


def components(csr: sp.spmatrix) -> tuple[int, np.ndarray]:
    """``(count, label per node)`` of the connected components of an undirected graph."""
    n, labels = connected_components(csr, directed=False)
    return int(n), labels


def _level(attrs: pd.DataFrame) -> np.ndarray:
    """Per edge: 1 on a bridge, -1 in a tunnel, 0 on the ground (a building passage too)."""
    level = np.zeros(len(attrs), dtype=np.int8)
    for column, value in (("bridge", 1), ("tunnel", -1)):
        if column in attrs.columns:
            tag = attrs[column].astype("string").str.lower()
            off = tag.isna() | tag.isin(["no", "false", "0", "", "building_passage"])
            level[~off.to_numpy(dtype=bool)] = value
    return level


def _joins_frame(
    streets: StreetNetwork,
    from_osmid: np.ndarray,
    to_osmid: np.ndarray,
    street_osmid: np.ndarray,
    gap_m: np.ndarray,
    geometry: np.ndarray,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "from_osmid": np.asarray(from_osmid, dtype=np.int64),
            "to_osmid": np.asarray(to_osmid, dtype=np.int64),
            "street_osmid": np.asarray(street_osmid),
            "gap_m": np.asarray(gap_m, dtype=float),
        },
        geometry=np.asarray(geometry, dtype=object),
        crs=streets.crs,
    )


def join_gaps(
    streets: StreetNetwork, *, max_gap_m: float = DEFAULT_JOIN_GAP_M
) -> tuple[StreetNetwork, gpd.GeoDataFrame]:
    """Join dangling ends to a nearby street of another component by a short connector.

    A dangling end (a node with one street) lying within ``max_gap_m`` of a street of
    another connected component, on the same level (both on the ground, on a bridge or
    in a tunnel, by their ``bridge``/``tunnel`` tags), is joined to the nearest point of
    the nearest such street. The street is split there at a new node with a synthetic
    negative ``osmid`` (below every id of the network), its two pieces' lengths in
    proportion to their geometry and summing to the street's length; a join within 1 cm
    of the street's end goes to its end node. The connector's length is the great-circle
    distance of its ends; its ``edge_attrs`` are ``osmid`` -1, ``highway`` ``"footway"``
    and ``fifteenmin_join`` True (False on every other edge). One pass: ends of two
    components both joining one street are both joined.

    Parameters
    ----------
    streets
        The network (not changed).
    max_gap_m
        Widest gap bridged, in metres of the network's CRS; 0 joins nothing.

    Returns
    -------
    tuple of StreetNetwork and geopandas.GeoDataFrame
        The joined network (the old nodes and edges keep their index; a split street's
        first piece keeps its place, new pieces and connectors follow; ``streets`` itself
        when nothing is joined, without the ``fifteenmin_join`` column) and one row per
        connector: ``from_osmid`` (the dangling end), ``to_osmid`` (the node joined to),
        ``street_osmid`` (the way joined), ``gap_m`` and a LineString in the network's CRS.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> streets = fm.read_streets(city.network)
    >>> joined, joins = join_gaps(streets)
    >>> list(joins.columns)
    ['from_osmid', 'to_osmid', 'street_osmid', 'gap_m', 'geometry']
    >>> joined is streets  # one connected network: nothing to join, the input comes back
    True
    """
    ok_number = isinstance(max_gap_m, numbers.Real) and not isinstance(max_gap_m, bool)
    if not (ok_number and math.isfinite(max_gap_m) and max_gap_m >= 0):
        raise InputError(
            f"gap to join of {max_gap_m!r} m is not a number >= 0; use e.g. "
            f"{DEFAULT_JOIN_GAP_M:g}, or 0 to join nothing"
        )
    n0, m0 = streets.n_nodes, streets.n_edges
    none = _joins_frame(streets, *(np.empty(0),) * 4, np.empty(0, dtype=object))
    degree = np.bincount(streets.edge_u, minlength=n0) + np.bincount(streets.edge_v, minlength=n0)
    ends = np.flatnonzero(degree == 1)
    if max_gap_m <= 0 or not len(ends):
        return streets, none
    _, labels = components(streets.csr)
    own_edge = np.empty(n0, dtype=np.int64)  # the one edge of each dangling end
    own_edge[streets.edge_v] = np.arange(m0)
    own_edge[streets.edge_u] = np.arange(m0)
    points = shapely.points(streets.node_xy[ends])
    p, e = streets.edge_tree.query(points, predicate="dwithin", distance=max_gap_m)
    level = _level(streets.edge_attrs)
    ok = (labels[streets.edge_u[e]] != labels[ends[p]]) & (level[e] == level[own_edge[ends[p]]])
    p, e = p[ok], e[ok]
    if not len(p):
        return streets, none
    gap = shapely.distance(points[p], streets.edge_geometry[e])
    order = np.lexsort((e, gap, p))  # nearest street per end (ties: lowest index)
    first = np.ones(len(order), dtype=bool)
    first[1:] = p[order][1:] != p[order][:-1]
    p, e = p[order][first], e[order][first]
    end = ends[p]
    geoms = streets.edge_geometry[e]
    frac = np.nan_to_num(shapely.line_locate_point(geoms, points[p], normalized=True), nan=0.0)
    length = streets.edge_length_m[e]
    offset = frac * length

    # the node each end joins: a street's end node, or a new node splitting the street
    at_u, at_v = offset <= _AT_END_M, offset >= length - _AT_END_M
    target = np.where(at_u, streets.edge_u[e], streets.edge_v[e])
    split = ~(at_u | at_v)
    # two dangling ends joining each other: one connector
    a, b = np.minimum(end, target), np.maximum(end, target)
    pair = np.where(split, -1 - np.arange(len(end)), a * n0 + b)
    once = np.zeros(len(end), dtype=bool)
    once[np.unique(pair, return_index=True)[1]] = True
    end, e, offset, target, split = end[once], e[once], offset[once], target[once], split[once]
    cut, pos = np.unique(  # sorted (street, offset); ends joining one point share it
        np.column_stack([e[split], offset[split]]), axis=0, return_inverse=True
    )
    cut_edge, cut_offset = cut[:, 0].astype(np.int64), cut[:, 1]
    k = len(cut_edge)
    new_node = n0 + np.arange(k)
    target[split] = new_node[pos.reshape(-1)]
    cut_xy = shapely.get_coordinates(
        shapely.line_interpolate_point(
            streets.edge_geometry[cut_edge],
            np.divide(cut_offset, streets.edge_length_m[cut_edge]),
            normalized=True,
        )
    ).reshape(-1, 2)
    lon, lat = streets.to_lonlat.transform(cut_xy[:, 0], cut_xy[:, 1])
    node_xy = np.concatenate([streets.node_xy, cut_xy])
    node_lonlat = np.concatenate([streets.node_lonlat, np.column_stack([lon, lat]).reshape(-1, 2)])
    low = min(0, int(streets.node_osmid.min()))
    node_osmid = np.concatenate(
        [streets.node_osmid, np.asarray(low - 1 - np.arange(k), dtype=streets.node_osmid.dtype)]
    )

    # each split street becomes a chain u - c1 - c2 ... - v through its cuts; the first
    # piece of each street takes its place, the others are appended
    chains = split_chains(streets, cut_edge, cut_offset, new_node)
    in_place = chains.first

    conn_xy = np.stack([streets.node_xy[end], node_xy[target]], axis=1)
    connectors = np.asarray(shapely.linestrings(conn_xy), dtype=object)
    gap_m = great_circle_m(
        node_lonlat[end, 1], node_lonlat[end, 0], node_lonlat[target, 1], node_lonlat[target, 0]
    )

    edge_u, edge_v = streets.edge_u.copy(), streets.edge_v.copy()
    edge_length_m = streets.edge_length_m.copy()
    edge_geometry = streets.edge_geometry.copy()
    pieces_m = chains.end_m - chains.start_m
    idx = chains.edge[in_place]
    edge_u[idx], edge_v[idx] = chains.u[in_place], chains.v[in_place]
    edge_length_m[idx] = pieces_m[in_place]
    edge_geometry[idx] = chains.geometry[in_place]
    attrs = streets.edge_attrs.assign(**{JOIN_COLUMN: False})
    extra = attrs.iloc[chains.edge[~in_place]]
    conn_attrs = pd.DataFrame(
        {"osmid": np.full(len(end), -1, dtype=np.int64), "highway": "footway", JOIN_COLUMN: True}
    )
    new_attrs = pd.concat([attrs, extra, conn_attrs], ignore_index=True)
    new_attrs[JOIN_COLUMN] = new_attrs[JOIN_COLUMN].astype(bool)
    joined = dataclasses.replace(  # the network's other fields (CRS, source...) kept
        streets,
        node_osmid=node_osmid,
        node_xy=node_xy,
        node_lonlat=node_lonlat,
        edge_u=np.concatenate([edge_u, chains.u[~in_place], end]),
        edge_v=np.concatenate([edge_v, chains.v[~in_place], target]),
        edge_length_m=np.concatenate([edge_length_m, pieces_m[~in_place], gap_m]),
        edge_geometry=np.concatenate([edge_geometry, chains.geometry[~in_place], connectors]),
        edge_attrs=new_attrs,
    )
    street_osmid = streets.edge_attrs["osmid"].to_numpy()[e] if "osmid" in attrs else e
    joins = _joins_frame(
        streets, streets.node_osmid[end], node_osmid[target], street_osmid, gap_m, connectors
    )
    logger.info(
        "joined %d dangling end(s) within %g m of another component (%d street(s) split)",
        len(end),
        max_gap_m,
        len(np.unique(cut_edge)),
    )
    return joined, joins


def fragment_nodes(
    graph: SearchGraph, streets: StreetNetwork, *, max_length_m: float | None
) -> np.ndarray:
    """Whether each street node lies on a fragment of the search ``graph``.

    A fragment is a connected component that holds no space and less than
    ``max_length_m`` of street (``None`` or 0: no fragments). One array over the
    ``graph.n_street_nodes`` street nodes.
    """
    n0 = graph.n_street_nodes
    if not max_length_m:
        return np.zeros(n0, dtype=bool)
    n, labels = components(graph.csr)
    length = np.bincount(labels[streets.edge_u], weights=streets.edge_length_m, minlength=n)
    has_space = np.zeros(n, dtype=bool)
    has_space[labels[graph.space_node]] = True
    fragment = ~has_space & (length < max_length_m)
    return fragment[labels[:n0]]


def edge_mask(graph: SearchGraph, fragment_nodes: np.ndarray) -> np.ndarray:
    """Street edges of ``graph`` outside the fragments whose street nodes are marked.

    ``graph`` may be any search graph on the same streets (split at other points): the
    components are those of ``graph``, marked through their street nodes.
    """
    n, labels = components(graph.csr)
    fragment = np.zeros(n, dtype=bool)
    fragment[labels[: graph.n_street_nodes][fragment_nodes]] = True
    return np.asarray(graph.is_street & ~fragment[labels[graph.u]])


def fragment_table(streets: StreetNetwork, fragment_nodes: np.ndarray) -> gpd.GeoDataFrame:
    """One row per component holding a marked node (see ``WalkTimes.fragments``).

    Columns ``component`` (scipy's label of the connected components of ``streets``),
    ``n_nodes``, ``street_length_m``, ``lon``, ``lat`` (a point on its streets) and its
    streets as a MultiLineString in the network's CRS (empty for a lone node).
    """
    n, labels = components(streets.csr)
    comp = np.unique(labels[np.asarray(fragment_nodes, dtype=bool)])
    edge_comp = labels[streets.edge_u]
    edges = np.flatnonzero(np.isin(edge_comp, comp))
    row = np.searchsorted(comp, edge_comp[edges])
    order = np.argsort(row, kind="stable")
    geometry = np.full(len(comp), shapely.MultiLineString(), dtype=object)
    if len(edges):
        shapely.multilinestrings(
            streets.edge_geometry[edges[order]], indices=row[order], out=geometry
        )
    point = shapely.get_coordinates(shapely.point_on_surface(geometry), include_z=False)
    xy = np.full((len(comp), 2), np.nan)
    has = ~shapely.is_empty(geometry)
    xy[has] = point
    # a fragment without streets (a lone node): its node
    first_node = np.full(n, -1)
    first_node[labels[::-1]] = np.arange(len(labels))[::-1]
    xy[~has] = streets.node_xy[first_node[comp[~has]]]
    lon, lat = streets.to_lonlat.transform(xy[:, 0], xy[:, 1])
    return gpd.GeoDataFrame(
        {
            "component": comp.astype(np.int64),
            "n_nodes": np.bincount(labels, minlength=n)[comp],
            "street_length_m": np.bincount(edge_comp, weights=streets.edge_length_m, minlength=n)[
                comp
            ],
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
        },
        geometry=geometry,
        crs=streets.crs,
    )
