"""Load the walking network: OSM files, GraphML or OSMnx by place, as a compact table or a graph."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

from . import _osm
from ._geom import substrings
from ._io import check_file
from .errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_SPEED_KMH = 4.8
EARTH_RADIUS_M = 6_371_009.0  # as OSMnx's great_circle


def great_circle_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in metres (haversine, OSMnx's formula and earth radius)."""
    y1, x1, y2, x2 = (np.deg2rad(np.asarray(a, dtype=float)) for a in (lat1, lon1, lat2, lon2))
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS 84 / UTM zone CRS containing ``(lon, lat)``.

    Examples
    --------
    >>> utm_crs(12.5, 41.9).to_epsg()
    32633
    """
    zone = int((lon + 180) // 6) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@dataclass(frozen=True)
class StreetNetwork:
    """An undirected walking network as arrays, in a projected metric CRS.

    Every street segment between two nodes appears once; walking is allowed both ways.
    ``edge_geometry`` runs from ``edge_u`` to ``edge_v``. ``edge_length_m`` is the
    great-circle length along the street (as OSMnx's ``length``).
    """

    crs: pyproj.CRS
    node_osmid: np.ndarray
    node_xy: np.ndarray
    node_lonlat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_attrs: pd.DataFrame
    source: str = ""
    file_bounds: tuple[float, float, float, float] | None = None
    """``(west, south, east, north)`` the source file says it covers (OSM ``<bounds>``)."""
    osm_timestamp: str | None = None
    """When the OSM data were taken, if the file says."""
    osm_generator: str | None = None
    """The program that wrote the OSM file, if it says (``"fifteenmin.sample (SYNTHETIC
    data)"`` for the sample city: see :attr:`synthetic`)."""

    @property
    def synthetic(self) -> bool:
        """Whether the file says its data are SYNTHETIC (the sample city), not OSM's."""
        return "SYNTHETIC" in (self.osm_generator or "").upper()

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_osmid)

    @property
    def n_edges(self) -> int:
        """Number of undirected street segments."""
        return len(self.edge_u)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the street geometry in the projected CRS.

        The streets' shape points count, not only the nodes: a long curved street
        reaches beyond its ends. Computed once and kept.
        """
        return self._bounds

    @cached_property
    def _bounds(self) -> tuple[float, float, float, float]:
        w, s, e, n = shapely.total_bounds(self.edge_geometry)
        return float(w), float(s), float(e), float(n)

    @cached_property
    def to_lonlat(self) -> pyproj.Transformer:
        """Transformer from the network's CRS to longitude, latitude; made once."""
        return pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of the street geometries, built on first use and kept."""
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """The street segments as an upper-triangular sparse matrix of lengths in metres.

        The shortest of parallel segments, no self-loops; explicit zeros are zero-length
        segments. Built on first use and kept, so repeated searches on one network skip
        the sort.
        """
        return _csr(self.edge_u, self.edge_v, self.edge_length_m, self.n_nodes)


def _shortest_pairs(
    u: np.ndarray, v: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges as (min, max, weight), the shortest of parallel ones, no self-loops."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], w[first]


def _csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """Upper-triangular CSR with the shortest of parallel edges; self-loops dropped."""
    a, b, w = _shortest_pairs(u, v, w)
    # explicit zero-length edges stay edges in scipy's sparse csgraph input
    return sp.csr_matrix((w, (a, b)), shape=(n, n))


@dataclass(frozen=True)
class Chains:
    """Streets split at points along them: each becomes a chain ``u - c1 - c2 ... - v``.

    One row per piece: its ends ``u``/``v``, its part ``[start_m, end_m]`` of street
    ``edge`` and its line; ``first`` marks the first piece of each street (those come first,
    one per cut, then the last piece of each street).
    """

    u: np.ndarray
    v: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray
    edge: np.ndarray
    geometry: np.ndarray
    first: np.ndarray


def split_chains(
    streets: StreetNetwork, edge: np.ndarray, offset_m: np.ndarray, new_node: np.ndarray
) -> Chains:
    """Split ``streets`` at the cuts ``(edge, offset_m)``, sorted by edge then offset, each
    cut becoming node ``new_node``; pieces' lengths in proportion to their geometry."""
    first = np.ones(len(edge), dtype=bool)
    first[1:] = edge[1:] != edge[:-1]
    last = np.ones(len(edge), dtype=bool)  # no cut at all: no last piece either
    last[:-1] = first[1:]
    prev_node = np.where(first, streets.edge_u[edge], np.roll(new_node, 1))
    prev_off = np.where(first, 0.0, np.roll(offset_m, 1))
    ch_edge = np.concatenate([edge, edge[last]])
    start = np.concatenate([prev_off, offset_m[last]])
    end = np.concatenate([offset_m, streets.edge_length_m[edge][last]])
    geoms = streets.edge_geometry[ch_edge]
    length = streets.edge_length_m[ch_edge]
    scale = np.divide(shapely.length(geoms), length, out=np.zeros(len(ch_edge)), where=length > 0)
    return Chains(
        u=np.concatenate([prev_node, new_node[last]]),
        v=np.concatenate([new_node, streets.edge_v[edge][last]]),
        start_m=start,
        end_m=end,
        edge=ch_edge,
        geometry=substrings(geoms, start * scale, end * scale),
        first=np.concatenate([first, np.zeros(int(last.sum()), dtype=bool)]),
    )


def streets_from_ways(ways: _osm.WayArrays, *, source: str = "") -> StreetNetwork:
    """Split walkable ways at intersections into a :class:`StreetNetwork`.

    Nodes are way ends and vertices shared by two or more ways (or used twice by one);
    other vertices become shape points of the edge geometry.
    """
    n = len(ways.node_ref)
    if n == 0:
        raise InputError(
            f"{source or 'network'}: no walkable way found (only motorways, private or foot=no "
            "ways, or no highway at all); use an extract that contains streets or footpaths"
        )
    _, inverse, counts = np.unique(ways.node_ref, return_inverse=True, return_counts=True)
    starts, ends = ways.run_start[:-1], ways.run_start[1:] - 1
    is_node = counts[inverse] > 1
    is_node[starts] = True
    is_node[ends] = True
    pos = np.flatnonzero(is_node)
    run_of_pos = np.searchsorted(ways.run_start, pos, side="right") - 1
    same_run = run_of_pos[:-1] == run_of_pos[1:]
    e_start, e_end = pos[:-1][same_run], pos[1:][same_run]
    e_way = ways.run_way[run_of_pos[:-1][same_run]]

    # segment lengths between consecutive vertices (zero across run boundaries)
    seg = great_circle_m(ways.lat[:-1], ways.lon[:-1], ways.lat[1:], ways.lon[1:])
    seg[ends[:-1]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = cum[e_end] - cum[e_start]

    crs = utm_crs(float(np.mean(ways.lon)), float(np.mean(ways.lat)))
    to_utm = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_utm.transform(ways.lon, ways.lat)
    xy = np.column_stack([x, y])

    n_coords = e_end - e_start + 1
    edge_of_coord = np.repeat(np.arange(len(e_start)), n_coords)
    offsets = np.arange(n_coords.sum()) - np.repeat(np.cumsum(n_coords) - n_coords, n_coords)
    coord_pos = np.repeat(e_start, n_coords) + offsets
    geometry = shapely.linestrings(xy[coord_pos], indices=edge_of_coord)

    node_pos = pos[np.unique(ways.node_ref[pos], return_index=True)[1]]
    node_ids = ways.node_ref[node_pos]
    u = np.searchsorted(node_ids, ways.node_ref[e_start])
    v = np.searchsorted(node_ids, ways.node_ref[e_end])
    attrs = pd.DataFrame({"osmid": ways.way_id[e_way]})
    for key, values in ways.tags.items():
        attrs[key] = np.asarray(values, dtype=object)[e_way]
    return StreetNetwork(
        crs=crs,
        node_osmid=node_ids,
        node_xy=xy[node_pos],
        node_lonlat=np.column_stack([ways.lon[node_pos], ways.lat[node_pos]]),
        edge_u=u,
        edge_v=v,
        edge_length_m=length,
        edge_geometry=np.asarray(geometry, dtype=object),
        edge_attrs=attrs,
        source=source,
    )


def streets_from_graph(graph: nx.MultiDiGraph, *, source: str = "graph") -> StreetNetwork:
    """Build a :class:`StreetNetwork` from an OSMnx graph (projected or not).

    Non-walkable edges (by their ``highway``, ``foot``, ``access``... attributes) are
    dropped; the two directions of a street become one undirected segment.
    """
    if graph.number_of_edges() == 0:
        raise InputError(f"{source}: the graph has no edges; use a graph with streets")
    nodes = pd.DataFrame.from_dict(dict(graph.nodes(data=True)), orient="index")
    missing = {"x", "y"} - set(nodes.columns)
    if missing:
        raise InputError(f"{source}: graph nodes lack {sorted(missing)}; save it with OSMnx")
    try:
        crs = pyproj.CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    except pyproj.exceptions.CRSError:
        raise InputError(
            f"{source}: the graph's crs {graph.graph.get('crs')!r} is not a coordinate "
            "reference system; save the graph with OSMnx (e.g. crs 'epsg:4326')"
        ) from None
    rows = []
    for u, v, data in graph.edges(data=True):
        if "highway" in data and not _osm.is_walkable(data):
            continue
        rows.append((u, v, data))
    if not rows:
        raise InputError(
            f"{source}: no walkable edge in the graph; use a walk network (network_type='walk')"
        )
    if len(rows) < graph.number_of_edges():
        logger.info(
            "%s: %d of %d edges are not walkable (motorways, cycleways, private...) and were "
            "left out (OSMnx's walk filter)",
            source,
            graph.number_of_edges() - len(rows),
            graph.number_of_edges(),
        )
    node_ids = np.sort(nodes.index.to_numpy(dtype=np.int64))
    nodes = nodes.loc[node_ids]
    xy = nodes[["x", "y"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if crs.is_geographic:
        lonlat = xy
    elif {"lon", "lat"} <= set(nodes.columns):
        lonlat = nodes[["lon", "lat"]].to_numpy(dtype=float)
    else:
        lonlat = np.column_stack(
            pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
        )
    with np.errstate(invalid="ignore"):
        off = ~np.isfinite(lonlat).all(axis=1) | (np.abs(lonlat) > [180, 90]).any(axis=1)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(
            f"{source}: node {node_ids[i]} has no position on Earth (x {xy[i, 0]!r}, "
            f"y {xy[i, 1]!r} in {crs.to_string()}; {int(off.sum())} such node(s)); fix or "
            "remove them, or save the graph again with OSMnx"
        )
    target = utm_crs(float(lonlat[:, 0].mean()), float(lonlat[:, 1].mean()))
    to_target = pyproj.Transformer.from_crs(crs, target, always_xy=True)
    u = np.searchsorted(node_ids, [r[0] for r in rows])
    v = np.searchsorted(node_ids, [r[1] for r in rows])
    geoms = [
        r[2].get("geometry") or shapely.LineString([xy[a], xy[b]])
        for r, a, b in zip(rows, u, v, strict=True)
    ]
    geometry = shapely.transform(np.asarray(geoms, dtype=object), _xy_transform(to_target))
    lengths = np.array(
        [float(r[2].get("length_m", r[2].get("length", np.nan))) for r in rows], dtype=float
    )
    lengths = np.where(np.isnan(lengths), shapely.length(geometry), lengths)
    osmid = [r[2].get("osmid", -1) for r in rows]
    attrs = pd.DataFrame(
        {
            "osmid": [o[0] if isinstance(o, list) else o for o in osmid],
            **{k: [_scalar(r[2].get(k)) for r in rows] for k in _osm.EDGE_TAGS},
        }
    )
    # one undirected segment per street: drop the reverse twin of each edge
    a, b = np.minimum(u, v), np.maximum(u, v)
    key = pd.DataFrame({"a": a, "b": b, "len": np.round(lengths, 3)})
    keep = ~key.duplicated().to_numpy()
    tx, ty = to_target.transform(xy[:, 0], xy[:, 1])
    return StreetNetwork(
        crs=target,
        node_osmid=node_ids,
        node_xy=np.column_stack([tx, ty]),
        node_lonlat=lonlat,
        edge_u=u[keep],
        edge_v=v[keep],
        edge_length_m=lengths[keep],
        edge_geometry=geometry[keep],
        edge_attrs=attrs[keep].reset_index(drop=True),
        source=source,
    )


def _scalar(value: Any) -> Any:
    return ";".join(map(str, value)) if isinstance(value, list) else value


def _xy_transform(transformer: pyproj.Transformer) -> Any:
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def read_streets(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    progress: bool = False,
) -> StreetNetwork:
    """Read a walking network file into a :class:`StreetNetwork`.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.pbf`` (read with pyosmium) or ``.graphml`` (OSMnx).
    bbox
        ``(west, south, east, north)`` in degrees to read only part of the file.
    polygon
        Shapely (Multi)Polygon in EPSG:4326 to read only part of the file (e.g. a
        study area out of a regional ``.osm.pbf`` extract). With ``bbox`` and ``polygon``,
        ways with a vertex inside both are kept; ways are kept whole (from a GraphML
        graph: the segments with an end node inside, kept whole).
    progress
        Show progress bars while reading an OSM file.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> part = fm.read_streets(city.network, bbox=(2.99, 0.49, 3.0, 0.5))
    >>> 0 < part.n_edges < fm.read_streets(city.network).n_edges
    True
    """
    path = check_file(path, (*_osm.OSM_SUFFIXES, ".graphml"), "network")
    if path.name.lower().endswith(".graphml"):
        import osmnx as ox

        try:
            graph = ox.load_graphml(path)
        except Exception as exc:  # noqa: BLE001 - any parse failure is bad input
            raise InputError(
                f"{path}: cannot be read as an OSMnx GraphML file ({exc}); save it with "
                "osmnx.save_graphml"
            ) from None
        streets = streets_from_graph(graph, source=str(path))
        inside = _osm.area_filter(bbox=bbox, polygon=polygon)
        return streets if inside is None else _clip_streets(streets, inside, str(path))
    ways = _osm.read_walkable_ways(path, bbox=bbox, polygon=polygon, progress=progress)
    header = _osm.file_header(path)
    return dataclasses.replace(
        streets_from_ways(ways, source=str(path)),
        file_bounds=header.bounds,
        osm_timestamp=header.timestamp,
        osm_generator=header.generator,
    )


def _clip_streets(streets: StreetNetwork, inside: _osm._Area, source: str) -> StreetNetwork:
    """The segments with an end node ``inside`` (kept whole) and the nodes they use."""
    lon, lat = streets.node_lonlat[:, 0], streets.node_lonlat[:, 1]
    node_in = inside(lon, lat)
    keep = node_in[streets.edge_u] | node_in[streets.edge_v]
    if not keep.any():
        raise InputError(
            f"{source}: no street of the graph lies in the study area; check the area or "
            "use a graph that covers it"
        )
    used = np.unique(np.concatenate([streets.edge_u[keep], streets.edge_v[keep]]))
    index = np.full(streets.n_nodes, -1, dtype=np.int64)
    index[used] = np.arange(len(used))
    return StreetNetwork(
        crs=streets.crs,
        node_osmid=streets.node_osmid[used],
        node_xy=streets.node_xy[used],
        node_lonlat=streets.node_lonlat[used],
        edge_u=index[streets.edge_u[keep]],
        edge_v=index[streets.edge_v[keep]],
        edge_length_m=streets.edge_length_m[keep],
        edge_geometry=streets.edge_geometry[keep],
        edge_attrs=streets.edge_attrs[keep].reset_index(drop=True),
        source=streets.source,
    )


def to_graph(streets: StreetNetwork, *, speed_kmh: float = DEFAULT_SPEED_KMH) -> nx.MultiDiGraph:
    """Build an OSMnx-compatible MultiDiGraph (both directions) from a street table.

    Node attributes: ``x``, ``y`` (projected), ``lon``, ``lat``, ``street_count``.
    Edge attributes: ``osmid``, ``highway``, ``name``, ``length`` and ``length_m`` (metres),
    ``walk_time_s`` (seconds at ``speed_kmh``), ``geometry``, ``reversed``.
    """
    _check_speed(speed_kmh)
    graph = nx.MultiDiGraph(crs=streets.crs.to_string(), simplified=True, speed_kmh=speed_kmh)
    degree = np.bincount(streets.edge_u, minlength=streets.n_nodes) + np.bincount(
        streets.edge_v, minlength=streets.n_nodes
    )
    graph.add_nodes_from(
        (
            int(osmid),
            {"x": x, "y": y, "lon": lon, "lat": lat, "street_count": int(d)},
        )
        for osmid, (x, y), (lon, lat), d in zip(
            streets.node_osmid, streets.node_xy, streets.node_lonlat, degree, strict=True
        )
    )
    speed = speed_kmh / 3.6
    records = streets.edge_attrs.to_dict("records")
    ids = streets.node_osmid
    for i, (u, v, length, geom) in enumerate(
        zip(
            streets.edge_u,
            streets.edge_v,
            streets.edge_length_m,
            streets.edge_geometry,
            strict=True,
        )
    ):
        data = {k: val for k, val in records[i].items() if val is not None and val == val}
        data.update(length=float(length), length_m=float(length), walk_time_s=length / speed)
        graph.add_edge(int(ids[u]), int(ids[v]), **data, geometry=geom, reversed=False)
        if u != v:
            graph.add_edge(int(ids[v]), int(ids[u]), **data, geometry=geom.reverse(), reversed=True)
    return graph


def _check_speed(speed_kmh: float) -> None:
    if not (0 < speed_kmh <= 20):
        raise InputError(
            f"walking speed {speed_kmh} km/h is outside (0, 20]; typical values are 3.6-5"
        )


def network_from_file(
    path: str | Path,
    *,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    progress: bool = False,
) -> nx.MultiDiGraph:
    """Read the walking network of an OSM or GraphML file as a projected OSMnx graph.

    Only walkable ways are kept (OSMnx's ``walk`` filter); the graph is in the UTM zone
    of the data and every edge has ``length_m`` and ``walk_time_s``. ``bbox`` (west,
    south, east, north) and ``polygon`` (EPSG:4326) read only the ways with a vertex
    inside the area, streaming, out of a larger OSM extract (see :func:`read_streets`).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> G = fm.network_from_file(city.network)
    >>> G.graph["crs"], all("walk_time_s" in d for _, _, d in G.edges(data=True))
    ('EPSG:32631', True)
    """
    streets = read_streets(path, bbox=bbox, polygon=polygon, progress=progress)
    return to_graph(streets, speed_kmh=speed_kmh)


def graph_from_place(
    query: str | dict[str, str],
    *,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    cache_folder: str | Path = "data/raw/cache",
) -> nx.MultiDiGraph:
    """Download the walking network of a place with OSMnx (cached on disk), projected.

    Needs the internet the first time; later calls are answered from ``cache_folder``.
    """
    return to_graph(streets_from_place(query, cache_folder=cache_folder), speed_kmh=speed_kmh)


def streets_from_place(
    query: str | dict[str, str],
    *,
    cache_folder: str | Path = "data/raw/cache",
    timeout_s: float = 180.0,
) -> StreetNetwork:
    """Download the walk network of a place through OSMnx into a :class:`StreetNetwork`.

    Uses ``osmnx.graph_from_place(query, network_type="walk", retain_all=True)``. Answers
    are cached in ``cache_folder``, so a second run does not download again. Failures
    (no connection, timeout, unknown place, empty result) raise
    :class:`~fifteenmin.errors.DownloadError` naming the offline alternative.
    """
    from . import _online

    graph = _online.download_graph(
        f"place {query!r}",
        lambda ox: ox.graph_from_place(query, **_online.graph_kwargs()),
        cache_folder=cache_folder,
        timeout_s=timeout_s,
    )
    return streets_from_graph(graph, source=f"OSM place {query!r}")


def streets_from_bbox(
    bbox: tuple[float, float, float, float],
    *,
    cache_folder: str | Path = "data/raw/cache",
    timeout_s: float = 180.0,
) -> StreetNetwork:
    """Download the walk network inside ``(west, south, east, north)`` through OSMnx.

    As :func:`streets_from_place`, with ``osmnx.graph_from_bbox``.
    """
    from . import _online

    w, s, e, n = _osm.check_bbox(bbox)
    graph = _online.download_graph(
        f"bbox {w:g} {s:g} {e:g} {n:g}",
        lambda ox: ox.graph_from_bbox((w, s, e, n), **_online.graph_kwargs()),
        cache_folder=cache_folder,
        timeout_s=timeout_s,
    )
    return streets_from_graph(graph, source=f"OSM bbox {w:g} {s:g} {e:g} {n:g}")


def streets_from_polygon(
    polygon: shapely.Geometry,
    *,
    cache_folder: str | Path = "data/raw/cache",
    timeout_s: float = 180.0,
) -> StreetNetwork:
    """Download the walk network inside a (Multi)Polygon in EPSG:4326 through OSMnx.

    As :func:`streets_from_place`, with ``osmnx.graph_from_polygon``.
    """
    from . import _online

    polygon = _osm.check_polygon(polygon)
    w, s, e, n = polygon.bounds
    what = f"polygon within {w:.4f} {s:.4f} {e:.4f} {n:.4f}"
    graph = _online.download_graph(
        what,
        lambda ox: ox.graph_from_polygon(polygon, **_online.graph_kwargs()),
        cache_folder=cache_folder,
        timeout_s=timeout_s,
    )
    return streets_from_graph(graph, source=f"OSM {what}")


def save_graphml(
    streets: StreetNetwork, path: str | Path, *, speed_kmh: float = DEFAULT_SPEED_KMH
) -> Path:
    """Save a street network as an OSMnx GraphML file (readable by :func:`read_streets`).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> streets = fm.read_streets(city.network)
    >>> path = save_graphml(streets, getfixture("tmp_path") / "streets.graphml")
    >>> fm.read_streets(path).n_edges == streets.n_edges
    True
    """
    import osmnx as ox

    path = Path(path)
    ox.save_graphml(to_graph(streets, speed_kmh=speed_kmh), path)
    return path
