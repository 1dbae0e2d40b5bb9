"""Cut a regional OSM extract into one small walking-network file per area, reading it once."""

from __future__ import annotations

import gzip
import logging
import time
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import osmium
import shapely

from . import _osm
from .errors import InputError

logger = logging.getLogger(__name__)

KEPT_KEYS = tuple(dict.fromkeys(("highway", *_osm.EDGE_TAGS, *_osm._WALK_EXCLUDE)))
"""The tags a cut file keeps: those the network reader uses (:data:`~fifteenmin._osm.EDGE_TAGS`)
and those of the walk filter, so that a way of a cut file is read as it is from the region."""

_KEPT = frozenset(KEPT_KEYS)
_SCALE = 10_000_000  # osmium's integer coordinates: 1e-7 degree
_CHUNK = 1 << 20  # way boxes routed at a time
_BLOCK = 20_000  # ways' WKB decoded at a time
_UNDEFINED = 2**31 - 1  # osmium's integer coordinate of a node without a location


@dataclass(frozen=True)
class AreaCut:
    """One area's file: its walkable ways (whole, with all their nodes) and their size."""

    path: Path | None  # None: no walkable street of the region meets the area's box
    ways: int
    nodes: int
    segments: int  # street segments (pairs of consecutive vertices): the size of the work


@dataclass(frozen=True)
class RegionCut:
    """What cutting the region read and wrote."""

    areas: dict[str, AreaCut]
    ways: int  # walkable ways of the region
    nodes: int  # their located nodes
    bounds: tuple[float, float, float, float] | None  # of those nodes, degrees
    seconds_read: float
    seconds_write: float


@dataclass(frozen=True)
class _Ways:
    """The walkable ways of a region, as flat arrays (one row per way vertex)."""

    way_id: np.ndarray  # int64, per way, in file order
    start: np.ndarray  # int64, first vertex of each way, with a final sentinel
    ref: np.ndarray  # int64, node id per vertex
    tag_index: np.ndarray  # int64, per way, into ``tags``
    tags: list[tuple[tuple[str, str], ...]]
    node_id: np.ndarray  # int64, sorted: the located nodes
    node_x: np.ndarray  # int32, 1e-7 degree
    node_y: np.ndarray
    vertex_node: np.ndarray  # int64, per vertex: index into node_id, -1 where not located

    def boxes(self) -> np.ndarray:
        """Per way ``(west, south, east, north)`` of its located vertices (NaN: none)."""
        located = self.vertex_node >= 0
        at = np.where(located, self.vertex_node, 0)
        x = self.node_x[at].astype(np.float64) / _SCALE
        y = self.node_y[at].astype(np.float64) / _SCALE
        starts = self.start[:-1]
        out = np.full((len(starts), 4), np.nan)
        if not len(starts):
            return out
        big = np.inf
        out[:, 0] = np.minimum.reduceat(np.where(located, x, big), starts)
        out[:, 1] = np.minimum.reduceat(np.where(located, y, big), starts)
        out[:, 2] = np.maximum.reduceat(np.where(located, x, -big), starts)
        out[:, 3] = np.maximum.reduceat(np.where(located, y, -big), starts)
        out[~np.isfinite(out).all(axis=1)] = np.nan
        return out


def _read_ways(path: Path, *, progress: bool = False) -> _Ways:
    """The walkable ways of ``path`` and their nodes' locations, in two streaming passes.

    The same ways as :func:`fifteenmin._osm.read_walkable_ways` reads (a ``highway`` tag,
    :func:`~fifteenmin._osm.is_walkable`, two nodes or more), kept whole with the node ids of
    every vertex. The second pass locates just their nodes in C++ (osmium's location
    handler on the tracked nodes, each way's coordinates handed over as WKB); nodes that
    come after their ways are found in one more pass over just those.
    """
    way_ids, refs, counts, tag_index = array("q"), array("q"), array("q"), array("q")
    table: dict[tuple[tuple[str, str], ...], int] = {}
    try:
        highways: Iterable[Any] = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for way in _osm._bar(highways, f"{path.name}: ways", progress):
            nodes = way.nodes
            if len(nodes) < 2 or not _osm.is_walkable(way.tags):
                continue
            way_ids.append(way.id)
            refs.extend([n.ref for n in nodes])
            counts.append(len(nodes))
            kept = tuple(sorted((t.k, t.v) for t in way.tags if t.k in _KEPT))
            tag_index.append(table.setdefault(kept, len(table)))
        ref = np.frombuffer(refs, dtype=np.int64) if len(refs) else np.zeros(0, np.int64)
        ids = np.frombuffer(way_ids, dtype=np.int64) if len(way_ids) else np.zeros(0, np.int64)
        _osm._check_ids(path, "node", ref)
        _osm._check_ids(path, "way", ids)
        count = np.frombuffer(counts, dtype=np.int64) if len(counts) else np.zeros(0, np.int64)
        start = np.concatenate([[0], np.cumsum(count)]).astype(np.int64)
        xs, ys = _locate(path, ref, ids, start, progress=progress)
        lon, _ = _osm._lonlat(path, ref, xs, ys)  # after their ways, or absent (NaN)
    except InputError:
        raise
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:  # osmium parse errors
        raise _osm._read_error(path, exc) from None
    located = ~np.isnan(lon)
    if not located.all():  # found by the extra pass: their coordinates from there
        _, lat = _osm._lonlat(path, ref, xs, ys)
        xs = np.where(located, np.rint(lon * _SCALE), 0).astype(np.int32)
        ys = np.where(located, np.rint(lat * _SCALE), 0).astype(np.int32)
    node_id, first = np.unique(ref[located], return_index=True)
    pos = np.searchsorted(node_id, ref)
    return _Ways(
        way_id=ids.copy(),
        start=start,
        ref=ref,
        tag_index=np.array(tag_index, dtype=np.int64),
        tags=list(table),
        node_id=node_id,
        node_x=xs[located][first],
        node_y=ys[located][first],
        vertex_node=np.where(located, pos, -1).astype(np.int64),
    )


def _locate(
    path: Path, ref: np.ndarray, way_id: np.ndarray, start: np.ndarray, *, progress: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Integer coordinates (1e-7 degree) of every vertex, undefined where not located."""
    xs = np.full(len(ref), _UNDEFINED, dtype=np.int32)
    ys = np.full(len(ref), _UNDEFINED, dtype=np.int32)
    pending: dict[int, int] = {}
    for k, w in enumerate(way_id.tolist()):
        pending.setdefault(w, k)
    tracker = _osm._tracker(ref, pending)
    factory = osmium.geom.WKBFactory()
    block: list[str] = []
    index = array("q")

    def decode() -> None:
        if not block:
            return
        at = np.array(index, dtype=np.int64)
        n = start[at + 1] - start[at]
        raw = np.frombuffer(bytes.fromhex("".join(block)), dtype=np.uint8)
        size = 9 + 16 * n  # byte order, type, point count, then x, y doubles per point
        first = np.cumsum(size) - size
        body = np.ones(len(raw), dtype=bool)
        body[(first[:, None] + np.arange(9)).ravel()] = False
        coords = np.frombuffer(raw[body].tobytes(), dtype="<f8").reshape(-1, 2)
        where = np.repeat(start[at] - (np.cumsum(n) - n), n) + np.arange(int(n.sum()))
        xs[where] = np.rint(coords[:, 0] * _SCALE)
        ys[where] = np.rint(coords[:, 1] * _SCALE)
        block.clear()
        del index[:]

    for way in _osm._located_ways(path, tracker, progress=progress):
        i = pending.get(way.id)
        if i is None or len(way.nodes) != start[i + 1] - start[i] or not way.tags.get("highway"):
            continue  # a copy without tags (same id, as in some exports) is not the street
        del pending[way.id]
        try:
            block.append(factory.create_linestring(way, use_nodes=osmium.geom.ALL))
        except osmium.InvalidLocationError:  # a node not located (yet): node by node
            for k, node in enumerate(way.nodes):
                xs[start[i] + k], ys[start[i] + k] = node.location.x, node.location.y
            continue
        index.append(i)
        if len(block) >= _BLOCK:
            decode()
    decode()
    return xs, ys


def route(way_boxes: np.ndarray, area_boxes: np.ndarray) -> list[np.ndarray]:
    """Per area box, the ways (indices, ascending) whose box meets it (NaN boxes: none).

    A way with a vertex inside an area's box has a box meeting it, so every such way is
    routed there (some ways passing a corner of the box too, which costs a little room).
    """
    n_areas = len(area_boxes)
    if not n_areas or not len(way_boxes):
        return [np.zeros(0, dtype=np.int64) for _ in range(n_areas)]
    tree = shapely.STRtree(shapely.box(*area_boxes.T))
    ways_of, areas_of = [], []
    valid = np.flatnonzero(~np.isnan(way_boxes).any(axis=1))
    for lo in range(0, len(valid), _CHUNK):
        chunk = valid[lo : lo + _CHUNK]
        geoms = shapely.box(*way_boxes[chunk].T)
        q, t = tree.query(geoms, predicate="intersects")
        ways_of.append(chunk[q])
        areas_of.append(t)
    ways = np.concatenate(ways_of) if ways_of else np.zeros(0, np.int64)
    areas = np.concatenate(areas_of) if areas_of else np.zeros(0, np.int64)
    order = np.lexsort((ways, areas))
    ways, areas = ways[order], areas[order]
    bounds = np.searchsorted(areas, np.arange(n_areas + 1))
    return [ways[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(n_areas)]


def _preamble(path: Path) -> str:
    """The start of a cut file: the region's box, timestamp and generator, so that a cut file
    is read as the region is (its data extent cut to the region's box, not the area's; a
    synthetic city still said to be one)."""
    told = _osm.file_header(path)
    head = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    generator = f" generator={quoteattr(told.generator)}" if told.generator else ""
    head.append(f'<osm version="0.6"{generator}>\n')
    if told.timestamp:
        head.append(f" <meta osm_base={quoteattr(told.timestamp)}/>\n")
    if told.bounds is not None:
        w, s, e, n = told.bounds
        head.append(f' <bounds minlat="{s!r}" minlon="{w!r}" maxlat="{n!r}" maxlon="{e!r}"/>\n')
    return "".join(head)


def _write(ways: _Ways, index: np.ndarray, path: Path, preamble: str) -> AreaCut:
    """Write the ways ``index`` (whole, in file order) and their located nodes to ``path``
    (OSM XML, gzipped: written as text, ten times faster than building osmium objects)."""
    first, end = ways.start[index], ways.start[index + 1]
    count = end - first
    vertices = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    nodes = np.unique(ways.vertex_node[vertices])
    nodes = nodes[nodes >= 0]
    ids = ways.node_id[nodes].tolist()
    lon = [f"{x / _SCALE:.7f}" for x in ways.node_x[nodes].tolist()]
    lat = [f"{y / _SCALE:.7f}" for y in ways.node_y[nodes].tolist()]
    tags = [
        "".join(f" <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in pairs)
        for pairs in ways.tags
    ]
    ref, tag_index, way_id = ways.ref, ways.tag_index, ways.way_id
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        f.write(preamble)
        f.writelines(
            f' <node id="{i}" lat="{y}" lon="{x}"/>\n'
            for i, x, y in zip(ids, lon, lat, strict=True)
        )
        for i, a, b in zip(index.tolist(), first.tolist(), end.tolist(), strict=True):
            nds = "".join([f'<nd ref="{r}"/>' for r in ref[a:b].tolist()])
            f.write(f' <way id="{way_id[i]}">{nds}{tags[tag_index[i]]}</way>\n')
        f.write("</osm>\n")
    return AreaCut(path, len(index), len(nodes), int((count - 1).sum()))


def cut_region(
    path: str | Path,
    boxes: Mapping[str, tuple[float, float, float, float]],
    folder: str | Path,
    *,
    progress: bool = False,
) -> RegionCut:
    """Cut the walkable network of ``path`` into one ``.osm.pbf`` per box, in ``folder``.

    The region is read once (two streaming passes: the walkable ways, then just their
    nodes); each way is routed to every box (``(west, south, east, north)``, degrees) that
    its vertices' box meets, and written there whole, with every node of it that the region
    holds. A file carries the region's header box and timestamp. So reading an area's file
    with a polygon inside its box (:func:`fifteenmin.network.read_streets`) gives the
    streets that reading the region with that polygon gives, and the work per area grows
    with the area, not with the region.

    Returns
    -------
    RegionCut
        Per key of ``boxes``: the file (``folder/<n>.osm.pbf``, None when no way meets the
        box), its ways, nodes and street segments.
    """
    path = _osm.check_osm_path(path)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ways = _read_ways(path, progress=progress)
    way_boxes = ways.boxes()
    keys = list(boxes)
    area_boxes = np.array([boxes[k] for k in keys], dtype=np.float64).reshape(-1, 4)
    routed = route(way_boxes, area_boxes)
    seconds_read = time.perf_counter() - t0
    logger.info(
        "%s: %d walkable ways, %d nodes; cutting %d area(s)",
        path.name,
        len(ways.way_id),
        len(ways.node_id),
        len(keys),
    )
    t1 = time.perf_counter()
    preamble = _preamble(path)
    cuts: dict[str, AreaCut] = {}
    items = list(zip(keys, routed, strict=True))
    for i, (key, index) in enumerate(_osm._bar(items, "cutting areas", progress)):
        if not len(index):
            cuts[key] = AreaCut(None, 0, 0, 0)
            continue
        cuts[key] = _write(ways, index, folder / f"{i}.osm.gz", preamble)
    located = ways.node_x, ways.node_y
    bounds = None
    if len(located[0]):
        bounds = (
            float(located[0].min()) / _SCALE,
            float(located[1].min()) / _SCALE,
            float(located[0].max()) / _SCALE,
            float(located[1].max()) / _SCALE,
        )
    return RegionCut(
        cuts,
        ways=len(ways.way_id),
        nodes=len(ways.node_id),
        bounds=bounds,
        seconds_read=seconds_read,
        seconds_write=time.perf_counter() - t1,
    )
