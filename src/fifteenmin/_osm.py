"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.pbf) into compact walkable-way arrays."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import logging
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import osmium
import shapely

from ._io import check_file
from .errors import InputError

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")

# OSMnx 2.x "walk" network_type filter, as Overpass regexes (unanchored, like Overpass).
_WALK_EXCLUDE: dict[str, re.Pattern[str]] = {
    "highway": re.compile(
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed"
        "|raceway|razed|rest_area|services"
    ),
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "foot": re.compile("no"),
    "service": re.compile("private"),
    "sidewalk": re.compile("separate"),
    "sidewalk:both": re.compile("separate"),
    "sidewalk:left": re.compile("separate"),
    "sidewalk:right": re.compile("separate"),
}
EDGE_TAGS = ("highway", "name", "bridge", "tunnel")


def is_walkable(tags: Mapping[str, object] | osmium.osm.TagList) -> bool:
    """Whether a way's tags pass OSMnx's ``walk`` network filter.

    A way is walkable when it has a ``highway`` tag and none of the excluded values:
    motorways, cycleways, ``foot=no``, private access or service, areas, ways under
    construction, and roads whose sidewalks are mapped as separate ways.

    Examples
    --------
    >>> is_walkable({"highway": "residential"})
    True
    >>> is_walkable({"highway": "motorway_link"}), is_walkable({"highway": "path", "foot": "no"})
    (False, False)
    """
    if not tags.get("highway"):
        return False
    for key, pattern in _WALK_EXCLUDE.items():
        value = tags.get(key)
        if isinstance(value, list):  # simplified OSMnx edges carry lists
            value = ";".join(map(str, value))
        if value is not None and value == value and pattern.search(str(value)):
            return False
    return True


@dataclass(frozen=True)
class WayArrays:
    """Walkable ways as flat arrays: one row per way vertex, ways split into runs.

    ``run_start`` holds the first vertex position of each run (a way, or the part of a way
    between nodes missing from the extract), with a final sentinel equal to the vertex count.
    """

    node_ref: np.ndarray  # int64, OSM node id of each vertex
    lon: np.ndarray
    lat: np.ndarray
    run_start: np.ndarray  # int64, len = runs + 1
    run_way: np.ndarray  # int64, index into ``way_id`` / ``tags`` per run
    way_id: np.ndarray  # int64
    tags: dict[str, list[str | None]]  # EDGE_TAGS -> value per way


def check_osm_path(path: str | Path) -> Path:
    """Return ``path`` as a Path if it names an existing, non-empty OSM file, else raise."""
    return check_file(path, OSM_SUFFIXES, "network")


BBox = tuple[float, float, float, float]
"""``(west, south, east, north)`` in degrees (EPSG:4326)."""

_SCALE = 10_000_000  # osmium stores coordinates as integers of 1e-7 degree


class _Area:
    """A bbox and/or polygon test: ``area(lon, lat)`` on arrays, ``area.point(lon, lat)``."""

    def __init__(self, box: BBox, polygon: shapely.Geometry | None) -> None:
        self.box, self.polygon = box, polygon

    def __call__(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        w, s, e, n = self.box
        with np.errstate(invalid="ignore"):
            mask = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        if self.polygon is not None and mask.any():
            cand = np.flatnonzero(mask)
            mask[cand] = shapely.intersects_xy(self.polygon, lon[cand], lat[cand])
        return mask

    def point(self, lon: float, lat: float) -> bool:
        """Whether one point is inside (border included)."""
        w, s, e, n = self.box
        if not (w <= lon <= e and s <= lat <= n):
            return False
        return self.polygon is None or bool(shapely.intersects_xy(self.polygon, lon, lat))

    def shape(self, geometry: shapely.Geometry) -> bool:
        """Whether a geometry (lon, lat) meets the area (border included)."""
        if not shapely.intersects(shapely.box(*self.box), geometry):
            return False
        return self.polygon is None or bool(shapely.intersects(self.polygon, geometry))


def area_filter(
    *, bbox: BBox | None = None, polygon: shapely.Geometry | None = None
) -> _Area | None:
    """A vectorised test ``inside(lon, lat) -> bool array`` for a bbox and/or polygon.

    Points on the border count as inside. With both, a point must be inside both.
    Returns None when neither is given.

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` in degrees.
    polygon
        A shapely Polygon or MultiPolygon in EPSG:4326 (lon, lat).

    Examples
    --------
    >>> import numpy as np
    >>> inside = area_filter(bbox=(12.0, 41.0, 13.0, 42.0))
    >>> inside(np.array([12.5, 14.0]), np.array([41.5, 41.5])).tolist()
    [True, False]
    >>> inside.point(12.5, 42.0)
    True
    """
    if bbox is None and polygon is None:
        return None
    box = check_bbox(bbox) if bbox is not None else None
    if polygon is not None:
        polygon = check_polygon(polygon)
        shapely.prepare(polygon)
        pb = polygon.bounds
        box = (
            pb
            if box is None
            else (max(box[0], pb[0]), max(box[1], pb[1]), min(box[2], pb[2]), min(box[3], pb[3]))
        )
    assert box is not None
    return _Area(box, polygon)


def check_bbox(bbox: Sequence[float]) -> BBox:
    """``bbox`` as four floats (west, south, east, north), or an InputError saying why not."""
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(
            f"bbox {bbox!r}: give four numbers west south east north in degrees"
        ) from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(
            f"bbox {w} {s} {e} {n}: need -180 <= west < east <= 180 and "
            "-90 <= south < north <= 90 (degrees, EPSG:4326, order west south east north)"
        )
    return w, s, e, n


def check_polygon(polygon: shapely.Geometry) -> shapely.Geometry:
    """A non-empty, valid (Multi)Polygon in degrees, or an InputError saying why not."""
    kind = getattr(polygon, "geom_type", type(polygon).__name__)
    if kind not in ("Polygon", "MultiPolygon") or polygon.is_empty:
        what = f"an empty {kind}" if kind in ("Polygon", "MultiPolygon") else kind
        raise InputError(
            f"study area: expected a non-empty Polygon or MultiPolygon, got {what}; "
            "give a polygon layer"
        )
    w, s, e, n = polygon.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InputError(
            f"study area polygon bounds {polygon.bounds} are not degrees; "
            "give the polygon in EPSG:4326 (GeoSeries.to_crs(4326))"
        )
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def _bar(items: Iterable[Any], what: str, progress: bool) -> Iterable[Any]:
    """``items`` with a progress bar when ``progress`` (osmium objects typed as Any)."""
    if not progress:
        return items
    from ._io import ProgressBar

    return ProgressBar(items, desc=what, unit=" obj", unit_scale=True, leave=False)


def _read_error(path: Path, exc: Exception) -> InputError:
    if isinstance(exc, osmium.InvalidLocationError):  # lat="nan", lon="abc": name the node
        bad = _unreadable_node(path)
        if bad is not None:
            return _node_error(path, *bad)
        return InputError(f"{path}: a coordinate is not a number ({exc}); fix the file")
    return InputError(f"{path}: cannot be read as OSM data ({exc}); check the file")


_UNDEFINED = 2**31 - 1  # osmium's integer coordinate of a node without a location


def _node_error(path: Path, node_id: object, lat: object, lon: object) -> InputError:
    what = "the <bounds> element" if node_id == "bounds" else f"node {node_id}"
    return InputError(
        f"{path}: {what} has lat={lat}, lon={lon}, not a location in degrees "
        f"(lat in [-90, 90], lon in [-180, 180]); correct or delete {what}"
    )


def _unreadable_node(path: Path) -> tuple[str, str, str] | None:
    """``(id, lat, lon)`` of the first XML node whose coordinates are not degrees, if any.

    Only called once osmium has refused a coordinate, which it reports without the node.
    """
    import xml.etree.ElementTree as ET

    try:
        with _open_bytes(path) as f:
            for _, elem in ET.iterparse(f, events=("end",)):
                if elem.tag == "node":
                    lat, lon = elem.get("lat"), elem.get("lon")
                    if not (_degrees(lat, 90) and _degrees(lon, 180)):
                        return elem.get("id", "?"), repr(lat), repr(lon)
                elif elem.tag == "bounds":
                    for lat, lon in (("minlat", "minlon"), ("maxlat", "maxlon")):
                        lat, lon = elem.get(lat), elem.get(lon)
                        if not (_degrees(lat, 90) and _degrees(lon, 180)):
                            return "bounds", repr(lat), repr(lon)
                elem.clear()
    except (ET.ParseError, OSError, EOFError, ValueError):
        return None
    return None


def _open_bytes(path: Path) -> Any:
    """``path`` opened for reading bytes, decompressed when it ends in ``.bz2`` or ``.gz``."""
    openers: dict[str, Any] = {".bz2": bz2.open, ".gz": gzip.open}
    return openers.get(path.suffix.lower(), open)(path, "rb")


def _degrees(text: str | None, limit: float) -> bool:
    if text is None:  # no location (a deleted node): not this problem
        return True
    try:
        return abs(float(text)) <= limit  # False for nan
    except ValueError:
        return False


def _check_defined(path: Path, refs: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    """Raise for the first node given a location outside the degrees' range (lat="95")."""
    wrong = ~_located(xs, ys) & (xs != _UNDEFINED) & (ys != _UNDEFINED)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise _node_error(path, int(refs[i]), int(ys[i]) / _SCALE, int(xs[i]) / _SCALE)


_MAX_ID = 2**40  # far above OSM's own ids (about 1.3e10 nodes in 2025)


def _check_ids(path: Path, what: str, ids: np.ndarray) -> None:
    """Raise for ids that osmium's id sets cannot hold: negative, or beyond ``_MAX_ID``.

    Negative ids mark objects not yet uploaded (JOSM saves new nodes and ways so); an id
    set's memory grows with the largest id, so 2**62 would not fit in memory.
    """
    if not len(ids):
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high > _MAX_ID:
        bad = low if low < 0 else high
        raise InputError(
            f"{path}: {what} {bad} has an id outside 0..2^40 (negative ids are edits not yet "
            "uploaded, as JOSM saves them); upload the edits, or renumber the file "
            "with `osmium renumber`"
        )


def _tracker(refs: np.ndarray, way_ids: Iterable[int] = ()) -> osmium.IdTracker:
    """An id tracker holding the nodes ``refs`` and the ways ``way_ids``.

    Ids an id set cannot hold (negative, beyond ``_MAX_ID``: see :func:`_check_ids`) are
    left out, so such nodes stay unlocated.
    """
    tracker = osmium.IdTracker()
    add_node, add_way = tracker.add_node, tracker.add_way
    unique = np.unique(refs)
    unique = unique[(unique >= 0) & (unique <= _MAX_ID)]
    for chunk in range(0, len(unique), 1 << 16):  # no Python list of every id at once
        for ref in unique[chunk : chunk + (1 << 16)].tolist():
            add_node(ref)
    for way_id in way_ids:
        if 0 <= way_id <= _MAX_ID:
            add_way(way_id)
    return tracker


def _located_ways(
    path: Path, tracker: osmium.IdTracker, *, progress: bool = False
) -> Iterator[Any]:
    """Second pass: the tracked ways, their node refs located from the tracked nodes only.

    The chain runs in C++: an id filter drops untracked objects, a location handler
    stores the surviving nodes in a small index, and an entity filter keeps the nodes
    from ever reaching Python. Ways before their nodes in the file stay unlocated.
    """
    store = osmium.index.create_map("flex_mem")
    locations = osmium.NodeLocationsForWays(store)
    locations.ignore_errors()
    id_filter = tracker.id_filter()
    only_ways = osmium.filter.EntityFilter(osmium.osm.WAY)
    with osmium.io.Reader(str(path), osmium.osm.NODE | osmium.osm.WAY) as reader:
        chain = osmium.OsmFileIterator(reader, id_filter, locations, only_ways)
        yield from _bar(chain, f"{path.name}: ways with locations", progress)


def _node_xy(path: Path, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted ids and integer x, y (1e-7 degree) of the nodes ``refs`` (a pass over nodes).

    Used for nodes that a way met before them in the file; a node present twice keeps
    its last location, as osmium's location index.
    """
    tracker = _tracker(refs)
    ids, xs, ys = array("q"), array("i"), array("i")
    id_filter = tracker.id_filter()
    nodes: Iterable[Any] = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(id_filter)
    for node in nodes:
        loc = node.location
        if loc.valid():
            ids.append(node.id)
            xs.append(loc.x)
            ys.append(loc.y)
        elif loc.x != _UNDEFINED and loc.y != _UNDEFINED:
            raise _node_error(path, node.id, loc.y / _SCALE, loc.x / _SCALE)
    id_arr, x_arr, y_arr = (
        np.array(a, dtype=t) for a, t in ((ids, np.int64), (xs, np.int32), (ys, np.int32))
    )
    uniq, first_rev = np.unique(id_arr[::-1], return_index=True)
    last = len(id_arr) - 1 - first_rev
    return uniq, x_arr[last], y_arr[last]


def _located(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Whether osmium's integer coordinates are a real location (not "undefined")."""
    return (np.abs(xs) <= 180 * _SCALE) & (np.abs(ys) <= 90 * _SCALE)


def _lonlat(
    path: Path, refs: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat in degrees from osmium's integer coordinates, NaN where not located.

    Vertices left unlocated by the second pass (a way before its nodes in the file) are
    looked up in one more pass over just those nodes; nodes absent from the file stay NaN.
    """
    located = _located(xs, ys)
    if not located.all():
        _check_defined(path, refs, xs, ys)
        missing = np.flatnonzero(~located)
        ids, mx, my = _node_xy(path, refs[missing])
        if len(ids):
            pos = np.minimum(np.searchsorted(ids, refs[missing]), len(ids) - 1)
            found = ids[pos] == refs[missing]
            xs, ys = xs.copy(), ys.copy()
            xs[missing[found]] = mx[pos[found]]
            ys[missing[found]] = my[pos[found]]
            located[missing[found]] = True
    lon = np.where(located, xs / _SCALE, np.nan)
    lat = np.where(located, ys / _SCALE, np.nan)
    return lon, lat


def read_walkable_ways(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    polygon: shapely.Geometry | None = None,
    progress: bool = False,
) -> WayArrays:
    """Read the walkable ways of an OSM file, with node locations, in two streaming passes.

    The first pass reads only ways with a ``highway`` tag (osmium skips the node blocks)
    and notes those passing :func:`is_walkable` and their nodes. The second pass stores
    the locations of just those nodes in a small index, in C++, and hands Python the
    walkable ways with located nodes. No index of every node of the file is built, so a
    regional ``.osm.pbf`` extract is read with memory that grows with the walkable
    network (way vertices and tags), not with the file (see ``docs/rome.md`` and
    ``benchmarks/bench_pbf_read.py``). Nodes that come after their ways (unsorted files)
    are found in one more pass over just those nodes.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    bbox
        ``(west, south, east, north)`` in degrees: keep only ways with at least one
        vertex inside it (whole ways are kept, so edges are not cut at the border).
    polygon
        Shapely (Multi)Polygon in EPSG:4326: keep only ways with at least one vertex
        inside it (whole ways kept). With ``bbox`` too, a vertex must be inside both.
    progress
        Show a progress bar per pass.

    Returns
    -------
    WayArrays
        Vertices of the kept ways; a way is split into runs where its nodes are missing
        from the file, and runs of fewer than two located vertices are dropped.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> ways = read_walkable_ways(city.network)
    >>> part = read_walkable_ways(city.network, bbox=(2.99, 0.49, 3.0, 0.5))
    >>> 0 < len(part.way_id) < len(ways.way_id)
    True
    """
    path = check_osm_path(path)
    inside = area_filter(bbox=bbox, polygon=polygon)
    try:
        walkable: list[int] = []
        tagged = 0  # ways with a highway tag: the filter's count before
        first_refs, counts = array("q"), array("q")
        highways: Iterable[Any] = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for way in _bar(highways, f"{path.name}: ways", progress):
            tagged += 1
            nodes = way.nodes
            if len(nodes) >= 2 and is_walkable(way.tags):
                walkable.append(way.id)
                refs = [n.ref for n in nodes]
                first_refs.extend(refs)
                counts.append(len(refs))
        refs_all = np.frombuffer(first_refs, dtype=np.int64)
        _check_ids(path, "node", refs_all)
        _check_ids(path, "way", np.asarray(walkable, dtype=np.int64))
        tracker = _tracker(refs_all, walkable)
        collector = _WayCollector(refs_all, np.frombuffer(counts, dtype=np.int64))
        pending: dict[int, int] = {}
        for i, way_id in enumerate(walkable):
            pending.setdefault(way_id, i)
        del walkable
        for way in _located_ways(path, tracker, progress=progress):
            # the tracker hands over the ways found walkable in pass 1; a copy of one
            # without tags (same id, as in some exports) is not the street
            first = pending.get(way.id)
            if first is not None and len(way.nodes) == counts[first] and way.tags.get("highway"):
                collector.add(way, first)
                del pending[way.id]
        del tracker
        return collector.arrays(path, inside, tagged=tagged)
    except InputError:
        raise
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:  # osmium parse errors
        raise _read_error(path, exc) from None


class _WayCollector:
    """Collects located walkable ways into compact arrays, then splits them into runs.

    A way's node refs come from the first pass; its coordinates as WKB made by osmium in
    C++ (decoded in blocks), or, for a way with a node not located, node by node.
    """

    _BLOCK = 20_000  # ways per decoded block of WKB

    def __init__(self, refs: np.ndarray, counts: np.ndarray) -> None:
        self.first_refs, self.first_counts = refs, counts
        self.first_starts = np.cumsum(counts) - counts
        self.index = array("q")  # pass-one index of each way, in the order added
        self.way_ids = array("q")
        self.located = array("b")  # 1: coordinates from WKB, 0: node by node
        self.xy: list[np.ndarray] = []  # WKB ways' coordinates, in order, per block
        self.slow_xs, self.slow_ys = array("i"), array("i")
        self.wkb: list[str] = []
        self.tags: dict[str, list[str | None]] = {k: [] for k in EDGE_TAGS}
        self._interned: dict[str, str] = {}
        self._factory = osmium.geom.WKBFactory()

    def add(self, way: Any, index: int) -> None:
        """Add one way whose node refs carry locations (undefined where unknown)."""
        self.index.append(index)
        self.way_ids.append(way.id)
        way_tags, interned = way.tags, self._interned
        for key in EDGE_TAGS:
            value = way_tags.get(key)
            self.tags[key].append(None if value is None else interned.setdefault(value, value))
        try:
            self.wkb.append(self._factory.create_linestring(way, use_nodes=osmium.geom.ALL))
        except osmium.InvalidLocationError:  # a node not located (yet): node by node
            self.located.append(0)
            for node in way.nodes:
                loc = node.location
                self.slow_xs.append(loc.x)
                self.slow_ys.append(loc.y)
            return
        self.located.append(1)
        if len(self.wkb) >= self._BLOCK:
            self._decode()

    def _decode(self) -> None:
        """Append the coordinates of the pending WKB linestrings, in integer 1e-7 degree."""
        if not self.wkb:
            return
        raw = np.frombuffer(bytes.fromhex("".join(self.wkb)), dtype=np.uint8)
        # each: byte order (1), type (4), point count (4), then x, y doubles per point
        size = 9 + 16 * np.array([len(w) // 32 for w in self.wkb], dtype=np.int64)
        start = np.cumsum(size) - size
        if not ((raw[start] == 1).all() and (raw[start + 1] == 2).all()):
            raise RuntimeError("unexpected WKB from osmium (not little-endian linestrings)")
        body = np.ones(len(raw), dtype=bool)
        body[(start[:, None] + np.arange(9)).ravel()] = False
        coords = np.frombuffer(raw[body].tobytes(), dtype="<f8").reshape(-1, 2)
        self.xy.append(np.rint(coords * _SCALE).astype(np.int32))
        self.wkb = []

    def arrays(self, path: Path, inside: _Area | None, *, tagged: int | None = None) -> WayArrays:
        """The ways with a vertex ``inside`` (all without), split where nodes are missing.

        Logs the counts before and after each filter: ``tagged`` ways with a highway tag
        in the file, those walkable (with located nodes), those kept in the area."""
        self._decode()
        index = np.asarray(self.index, dtype=np.int64)
        count = self.first_counts[index]
        n_vert = int(count.sum())
        start = np.cumsum(count) - count  # of each way's vertices
        ref = self.first_refs[
            np.repeat(self.first_starts[index] - start, count) + np.arange(n_vert)
        ]
        fast = np.repeat(np.asarray(self.located, dtype=bool), count)
        xs, ys = np.empty(n_vert, dtype=np.int32), np.empty(n_vert, dtype=np.int32)
        xy = np.concatenate(self.xy) if self.xy else np.zeros((0, 2), dtype=np.int32)
        xs[fast], ys[fast] = xy[:, 0], xy[:, 1]
        xs[~fast], ys[~fast] = self.slow_xs, self.slow_ys
        self.xy, self.slow_xs, self.slow_ys = [], array("i"), array("i")
        del xy
        lon, lat = _lonlat(path, ref, xs, ys)
        del xs, ys
        n_ways = len(start)
        keep_way = np.ones(n_ways, dtype=bool)
        if inside is not None and n_ways:
            keep_way = np.logical_or.reduceat(inside(lon, lat), start)
        # runs: maximal stretches of located vertices within one kept way
        way_of = np.repeat(np.arange(n_ways), np.diff(np.append(start, len(ref))))
        valid = ~np.isnan(lon) & keep_way[way_of]
        first = np.zeros(len(ref), dtype=bool)
        first[start] = True
        begins = valid & (first | ~np.concatenate([[False], valid[:-1]]))
        del first
        run_of = np.cumsum(begins) - 1
        run_len = np.bincount(run_of[valid], minlength=int(begins.sum()))
        vert = valid.copy()
        vert[valid] = run_len[run_of[valid]] >= 2
        kept_runs = np.flatnonzero(run_len >= 2)
        ways_used, run_way = np.unique(
            way_of[np.flatnonzero(begins)[kept_runs]], return_inverse=True
        )
        before = (
            f"{tagged:,} ways with a highway tag, {n_ways:,} of them walkable"
            if tagged is not None
            else f"{n_ways:,} walkable ways"
        )
        where = "in the study area" if inside is not None else "with located nodes"
        logger.info(
            "%s: %s; %s kept %s (%s vertices)",
            path.name,
            before,
            f"{len(ways_used):,}",
            where,
            f"{int(vert.sum()):,}",
        )
        return WayArrays(
            node_ref=ref[vert],
            lon=lon[vert],
            lat=lat[vert],
            run_start=np.append(np.cumsum(run_len[kept_runs]) - run_len[kept_runs], vert.sum()),
            run_way=run_way.astype(np.int64),
            way_id=np.asarray(self.way_ids, dtype=np.int64)[ways_used],
            tags={k: [v[i] for i in ways_used] for k, v in self.tags.items()},
        )


@dataclass(frozen=True)
class TaggedFeature:
    """One OSM node, way or multipolygon relation matching a tag query, located at a point.

    Nodes at their location, ways at the mean of their vertices (a closing vertex counted
    once), multipolygon relations at the centroid of their area. Read with ``areas=True``,
    ``shape`` is the area of a closed way (unless ``area=no``) or of a multipolygon
    relation, in lon/lat, and ``entrances`` the lon/lat of the entrance nodes
    (:data:`ENTRANCE_BARRIERS`, ``entrance=*``) on its outline.
    """

    osm_type: str
    osm_id: int
    lon: float
    lat: float
    tags: dict[str, str]
    shape: shapely.Geometry | None = None
    entrances: tuple[tuple[float, float], ...] = ()


TagQuery = dict[str, frozenset[str] | None]
"""Key -> accepted values, or None for any value."""

ENTRANCE_BARRIERS = frozenset(
    {"entrance", "gate", "kissing_gate", "lift_gate", "swing_gate", "turnstile"}
)
"""``barrier=*`` values of a node that is a way in for people on foot."""
_NOT_ENTRANCES = frozenset({"no", "emergency", "exit", "service"})  # entrance=* values
_CLOSED = frozenset({"no", "private"})  # access=* / foot=* values that keep walkers out


def tag_query(tags: Mapping[str, str | Iterable[str] | bool | None]) -> TagQuery:
    """``tags`` (key -> value, values, or True or None for any) as a :data:`TagQuery`."""
    return {
        k: (
            None
            if v is True or v is None
            else frozenset({v} if isinstance(v, str) else cast(Iterable[str], v))
        )
        for k, v in tags.items()
    }


def matches(tags: Mapping[str, str] | osmium.osm.TagList, query: TagQuery) -> bool:
    """Whether ``tags`` carry any of ``query``; ``a;b`` values match ``a`` and ``b``.

    Examples
    --------
    >>> q = tag_query({"amenity": ["cafe", "bar"], "shop": True})
    >>> matches({"amenity": "bar"}, q), matches({"amenity": "school;cafe"}, q)
    (True, True)
    >>> matches({"shop": "bakery"}, q), matches({"amenity": "school"}, q)
    (True, False)
    """
    for key, values in query.items():
        value = tags.get(key)
        if value is None:
            continue
        if values is None or value in values:
            return True
        if ";" in value and any(part.strip() in values for part in value.split(";")):
            return True
    return False


def _is_entrance(tags: osmium.osm.TagList) -> bool:
    """Whether a node's tags make it a way in on foot (an entrance or a gate)."""
    entrance = tags.get("entrance")
    door = (entrance is not None and entrance not in _NOT_ENTRANCES) or tags.get(
        "barrier"
    ) in ENTRANCE_BARRIERS
    return door and tags.get("access") not in _CLOSED and tags.get("foot") not in _CLOSED


def read_tagged_features(
    path: str | Path,
    tags: Mapping[str, str | Iterable[str] | bool | None],
    *,
    bbox: BBox | None = None,
    polygon: shapely.Geometry | None = None,
    areas: bool = False,
    progress: bool = False,
) -> list[TaggedFeature]:
    """Read nodes and ways (and multipolygons) whose tags match any of ``tags``.

    ``tags`` maps a key to a value, a list of values, or ``True`` for any value
    (as OSMnx's ``features_from_*``); a value ``a;b`` matches ``a`` and ``b``. Ways are
    located at the mean of their vertices (read in a second pass over the nodes they
    use). With ``bbox`` and/or ``polygon`` (EPSG:4326) only features located inside are
    returned.

    With ``areas=True`` the multipolygon relations (``type=multipolygon``) matching
    ``tags`` are read too, their member ways' nodes found by one more pass
    (:meth:`osmium.IdTracker.complete_backward_references`); closed ways (unless
    ``area=no``) and multipolygons carry their ``shape`` and ``entrances``
    (:class:`TaggedFeature`), and such an area is kept when its shape meets the
    ``bbox``/``polygon``, wherever its point lies. Multipolygons are assembled from
    their member ways by :func:`shapely.build_area` (inner and outer rings told apart
    by nesting, not by role; member relations are not followed).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> found = read_tagged_features(city.network, {"amenity": "coworking_space"})
    >>> sorted({f.osm_type for f in found}), all(f.tags["amenity"] for f in found)
    (['node'], True)
    >>> park = read_tagged_features(city.network, {"leisure": "park"}, areas=True)[0]
    >>> park.shape.geom_type
    'Polygon'
    """
    path = check_osm_path(path)
    inside = area_filter(bbox=bbox, polygon=polygon)
    wanted = tag_query(tags)
    keys = [*wanted, *(("entrance", "barrier") if areas else ())]
    kinds = osmium.osm.NODE | osmium.osm.WAY
    if areas:
        kinds |= osmium.osm.RELATION
    found: list[TaggedFeature | tuple[str, int]] = []  # a tuple: located in pass two
    way_refs = array("q")
    relations: dict[int, tuple[dict[str, str], list[int]]] = {}
    doors: dict[int, tuple[float, float]] = {}  # entrance node id -> lon, lat
    processor: Iterable[Any] = osmium.FileProcessor(str(path), kinds).with_filter(
        osmium.filter.KeyFilter(*dict.fromkeys(keys))
    )
    try:
        for obj in _bar(processor, f"{path.name}: tagged features", progress):
            if obj.is_node():
                loc = obj.location
                if not loc.valid() and loc.x != _UNDEFINED and loc.y != _UNDEFINED:
                    raise _node_error(path, obj.id, loc.y / _SCALE, loc.x / _SCALE)
                if areas and loc.valid() and _is_entrance(obj.tags):
                    doors[obj.id] = (loc.lon, loc.lat)
                if not matches(obj.tags, wanted):
                    continue
                if loc.valid() and (inside is None or inside.point(loc.lon, loc.lat)):
                    found.append(TaggedFeature("node", obj.id, loc.lon, loc.lat, dict(obj.tags)))
            elif not matches(obj.tags, wanted):
                continue
            elif obj.is_way():
                found.append(("way", obj.id))
                way_refs.extend([n.ref for n in obj.nodes])
            elif obj.tags.get("type") == "multipolygon":
                members = [m.ref for m in obj.members if m.type == "w"]
                if members:
                    found.append(("relation", obj.id))
                    relations[obj.id] = (dict(obj.tags), members)
        way_ids = [f[1] for f in found if isinstance(f, tuple) and f[0] == "way"]
        member_ids = sorted({m for _, members in relations.values() for m in members})
        ways: dict[int, TaggedFeature | None] = {}
        lines: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if way_ids or member_ids:
            refs = np.frombuffer(way_refs, dtype=np.int64)
            _check_ids(path, "node", refs)
            _check_ids(path, "way", np.asarray(way_ids + member_ids, dtype=np.int64))
            tracker = _tracker(refs, way_ids + member_ids)
            del way_refs, refs
            if member_ids:  # the member ways' nodes: one pass over the ways
                tracker.complete_backward_references(str(path))
            located = _located_ways(path, tracker, progress=progress)
            shapes = _Shapes(wanted, frozenset(member_ids), doors, areas)
            ways, lines = shapes.read(path, located, inside)
    except InputError:
        raise
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:  # e.g. "illegal id"
        raise _read_error(path, exc) from None
    out: list[TaggedFeature] = []
    for f in found:
        if isinstance(f, TaggedFeature):
            out.append(f)
            continue
        feature = (
            ways.get(f[1])
            if f[0] == "way"
            else _relation_feature(f[1], *relations[f[1]], lines, doors, inside)
        )
        if feature is not None:
            out.append(feature)
    return out


class _Shapes:
    """Located ways of pass two: tagged ways as features, member ways' lines kept."""

    def __init__(
        self,
        wanted: TagQuery,
        members: frozenset[int],
        doors: Mapping[int, tuple[float, float]],
        areas: bool,
    ) -> None:
        self.wanted, self.members, self.doors, self.areas = wanted, members, doors, areas

    def read(
        self, path: Path, ways: Iterable[Any], inside: _Area | None
    ) -> tuple[dict[int, TaggedFeature | None], dict[int, tuple[np.ndarray, np.ndarray]]]:
        """Features of the tagged ways, and ``(refs, lon/lat)`` of the member ways.

        Ways outside the area are dropped as they stream by; only ways with vertices not
        yet located (an unsorted file) wait for one more pass over their nodes.
        """
        out: dict[int, TaggedFeature | None] = {}
        lines: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        pending: list[tuple[int, dict[str, str] | None, np.ndarray]] = []
        for way in ways:  # osmium objects are only valid inside the loop: copy what is needed
            nodes = np.array(
                [(n.ref, n.location.x, n.location.y) for n in way.nodes], np.int64
            ).reshape(-1, 3)
            tags = dict(way.tags) if matches(way.tags, self.wanted) else None
            if _located(nodes[:, 1], nodes[:, 2]).all():
                lonlat = nodes[:, 1:] / _SCALE
                self._add(way.id, tags, nodes[:, 0], lonlat, out, lines, inside)
            else:
                pending.append((way.id, tags, nodes))
        if pending:  # one more pass over the nodes of all of them
            flat = np.concatenate([nodes for _, _, nodes in pending])
            lon, lat = _lonlat(path, flat[:, 0], flat[:, 1], flat[:, 2])
            bounds = np.cumsum([0] + [len(nodes) for _, _, nodes in pending])
            for (way_id, tags, nodes), a, b in zip(pending, bounds[:-1], bounds[1:], strict=True):
                lonlat = np.column_stack([lon[a:b], lat[a:b]])
                self._add(way_id, tags, nodes[:, 0], lonlat, out, lines, inside)
        return out, lines

    def _add(
        self,
        way_id: int,
        tags: dict[str, str] | None,
        refs: np.ndarray,
        lonlat: np.ndarray,
        out: dict[int, TaggedFeature | None],
        lines: dict[int, tuple[np.ndarray, np.ndarray]],
        inside: _Area | None,
    ) -> None:
        ok = ~np.isnan(lonlat[:, 0])
        if way_id in self.members:
            lines[way_id] = (refs, lonlat[ok])
        if tags is None:
            return
        closed = len(refs) > 1 and refs[0] == refs[-1]
        point = lonlat[:-1] if closed else lonlat  # the closing vertex counted once
        point = point[~np.isnan(point[:, 0])]
        if not len(point):  # no located vertex: no location
            out[way_id] = None
            return
        x, y = (float(v) for v in point.mean(axis=0))
        shape = None
        if self.areas and closed and len(refs) >= 4 and tags.get("area") != "no":
            shape = _area_shape(shapely.polygons(lonlat[ok]) if ok.sum() >= 4 else None)
        if inside is not None and not (inside.shape(shape) if shape else inside.point(x, y)):
            out[way_id] = None
            return
        doors = _doors(refs, self.doors) if shape is not None else ()
        out[way_id] = TaggedFeature("way", way_id, x, y, tags, shape, doors)


def _area_shape(geometry: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygonal part of ``geometry``, made valid; None when it has no area."""
    if geometry is None or geometry.is_empty:
        return None
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    polygons = [
        g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not polygons:
        return None
    shape = polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)
    return None if shape.is_empty or shape.area == 0 else shape


def _doors(
    refs: Iterable[int], doors: Mapping[int, tuple[float, float]]
) -> tuple[tuple[float, float], ...]:
    """Locations of the entrance nodes among ``refs``, each once, in order."""
    return tuple(dict.fromkeys(doors[r] for r in map(int, refs) if r in doors))


def _relation_feature(
    rel_id: int,
    tags: dict[str, str],
    members: list[int],
    lines: Mapping[int, tuple[np.ndarray, np.ndarray]],
    doors: Mapping[int, tuple[float, float]],
    inside: _Area | None,
) -> TaggedFeature | None:
    """A multipolygon relation assembled from its located member ways, or None."""
    parts = [lines[m] for m in dict.fromkeys(members) if m in lines and len(lines[m][1]) >= 2]
    if not parts:
        return None
    linework = shapely.multilinestrings([shapely.linestrings(xy) for _, xy in parts])
    shape = _area_shape(shapely.build_area(linework))
    if shape is None:
        logger.info("relation %d: its member ways do not close into an area; left out", rel_id)
        return None
    if inside is not None and not inside.shape(shape):
        return None
    centre = shape.centroid
    entrances = _doors((r for refs, _ in parts for r in refs), doors)
    return TaggedFeature("relation", rel_id, centre.x, centre.y, tags, shape, entrances)


@dataclass(frozen=True)
class FileHeader:
    """What an OSM file says of itself: the box it covers and when its data were taken."""

    bounds: BBox | None  # (west, south, east, north) in degrees; None when not stated
    timestamp: str | None  # the OSM data timestamp (replication or Overpass base), if any
    generator: str | None = None  # the program that wrote the file, if it says


_XML_TIMESTAMP = re.compile(rb'(?:osm_base|timestamp_osm_base)="([^"]+)"')


def file_header(path: str | Path) -> FileHeader:
    """The header of an OSM file: ``<bounds>`` (XML) or the header box (PBF), and timestamp.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> file_header(city.network).bounds is None or len(file_header(city.network).bounds) == 4
    True
    >>> file_header(city.network).generator
    'fifteenmin.sample (SYNTHETIC data)'
    """
    path = Path(path)
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        try:
            header = reader.header()
            box = header.box()
            stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
            generator = header.get("generator") or None
        finally:
            reader.close()
    except RuntimeError as exc:
        raise _read_error(path, exc) from None
    bounds: BBox | None = None
    if box.valid():
        w, s = box.bottom_left.lon, box.bottom_left.lat
        e, n = box.top_right.lon, box.top_right.lat
        if all(np.isfinite([w, s, e, n])) and w < e and s < n:
            bounds = (float(w), float(s), float(e), float(n))
    if not stamp and not path.name.lower().endswith(".pbf"):
        with contextlib.suppress(OSError):
            with _open_bytes(path) as f:
                found = _XML_TIMESTAMP.search(f.read(4096))
            if found:
                stamp = found.group(1).decode("ascii", "replace")
    return FileHeader(bounds, stamp or None, generator)
