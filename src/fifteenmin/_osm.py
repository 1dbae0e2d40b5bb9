"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.pbf) into compact walkable-way arrays."""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import osmium
import shapely

from .errors import InputError

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

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


def is_walkable(tags: Mapping[str, object]) -> bool:
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
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an OSM file")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise InputError(
            f"{path}: unknown network file type; use .osm, .osm.bz2, .osm.pbf or .graphml"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; export the area again")
    return path


BBox = tuple[float, float, float, float]
"""``(west, south, east, north)`` in degrees (EPSG:4326)."""

_SCALE = 10_000_000  # osmium stores coordinates as integers of 1e-7 degree


def area_filter(
    *, bbox: BBox | None = None, polygon: shapely.Geometry | None = None
) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
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
    """
    if bbox is None and polygon is None:
        return None
    box = _check_bbox(bbox) if bbox is not None else None
    if polygon is not None:
        polygon = _check_polygon(polygon)
        shapely.prepare(polygon)
        pb = polygon.bounds
        box = (
            pb
            if box is None
            else (max(box[0], pb[0]), max(box[1], pb[1]), min(box[2], pb[2]), min(box[3], pb[3]))
        )
    w, s, e, n = box  # type: ignore[misc]

    def inside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            mask = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        if polygon is not None and mask.any():
            cand = np.flatnonzero(mask)
            mask[cand] = shapely.intersects_xy(polygon, lon[cand], lat[cand])
        return mask

    return inside


def _check_bbox(bbox: Sequence[float]) -> BBox:
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


def _check_polygon(polygon: shapely.Geometry) -> shapely.Geometry:
    kind = getattr(polygon, "geom_type", type(polygon).__name__)
    if kind not in ("Polygon", "MultiPolygon") or polygon.is_empty:
        raise InputError(
            f"study area: expected a non-empty Polygon or MultiPolygon, got {kind}; "
            "give a polygon layer"
        )
    w, s, e, n = polygon.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InputError(
            f"study area polygon bounds {polygon.bounds} are not degrees; "
            "give the polygon in EPSG:4326 (GeoSeries.to_crs(4326))"
        )
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def _bar(items: Iterable[_T], what: str, progress: bool) -> Iterable[_T]:
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=what, unit=" obj", unit_scale=True, leave=False)


def _read_error(path: Path, exc: Exception) -> InputError:
    return InputError(f"{path}: cannot be read as OSM data ({exc}); check the file")


def _node_locations(
    path: Path, tracker: osmium.IdTracker, *, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Second pass: sorted ids and integer x, y (1e-7 degree) of the tracked nodes.

    Only the nodes of ``tracker`` reach Python (the id filter runs in C++), and they are
    kept in compact arrays, so memory grows with the nodes used, not with the file.
    A node that appears twice keeps its last location (as osmium's location index).
    """
    ids, xs, ys = array("q"), array("i"), array("i")
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(tracker.id_filter())
    for node in _bar(processor, f"{path.name}: node locations", progress):
        loc = node.location
        if loc.valid():
            ids.append(node.id)
            xs.append(loc.x)
            ys.append(loc.y)
    id_arr = np.frombuffer(ids, dtype=np.int64) if ids else np.zeros(0, np.int64)
    x_arr = np.frombuffer(xs, dtype=np.int32) if xs else np.zeros(0, np.int32)
    y_arr = np.frombuffer(ys, dtype=np.int32) if ys else np.zeros(0, np.int32)
    # last occurrence of each id wins; the result is sorted by id
    uniq, first_rev = np.unique(id_arr[::-1], return_index=True)
    last = len(id_arr) - 1 - first_rev
    return uniq, x_arr[last], y_arr[last]


def _locate(
    refs: np.ndarray, ids: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat (degrees) of each node reference, NaN where the node is missing."""
    if len(ids) == 0:
        return np.full(len(refs), np.nan), np.full(len(refs), np.nan)
    pos = np.minimum(np.searchsorted(ids, refs), len(ids) - 1)
    found = ids[pos] == refs
    lon = np.where(found, xs[pos] / _SCALE, np.nan)
    lat = np.where(found, ys[pos] / _SCALE, np.nan)
    return lon, lat


def read_walkable_ways(
    path: str | Path,
    *,
    bbox: BBox | None = None,
    polygon: shapely.Geometry | None = None,
    progress: bool = False,
) -> WayArrays:
    """Read the walkable ways of an OSM file, with node locations, in two streaming passes.

    The first pass reads the ways with a ``highway`` tag (osmium skips the nodes) and
    keeps those passing :func:`is_walkable`; the second reads only the nodes these ways
    use. No index of every node location is built, so a regional ``.osm.pbf`` extract can
    be read with memory proportional to the walkable network, not to the file: about
    24 bytes per way vertex plus the way tags. The passes do not depend on the order
    of the file (nodes may come after the ways).

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
    refs, starts, way_ids = array("q"), array("q"), array("q")
    tags: dict[str, list[str | None]] = {k: [] for k in EDGE_TAGS}
    interned: dict[str, str] = {}
    tracker = osmium.IdTracker()
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        )
        for way in _bar(processor, f"{path.name}: ways", progress):
            way_tags = way.tags
            if len(way.nodes) < 2 or not is_walkable(way_tags):
                continue
            starts.append(len(refs))
            refs.extend([n.ref for n in way.nodes])
            way_ids.append(way.id)
            for key in EDGE_TAGS:
                value = way_tags.get(key)
                tags[key].append(None if value is None else interned.setdefault(value, value))
            tracker.add_references(way)
        ids, xs, ys = _node_locations(path, tracker, progress=progress)
    except RuntimeError as exc:  # osmium parse errors
        raise _read_error(path, exc) from None
    del tracker
    ref = np.frombuffer(refs, dtype=np.int64) if refs else np.zeros(0, np.int64)
    start = np.asarray(starts, dtype=np.int64)
    lon, lat = _locate(ref, ids, xs, ys)
    del ids, xs, ys
    n_ways = len(start)
    keep_way = np.ones(n_ways, dtype=bool)
    if inside is not None and n_ways:
        keep_way = np.logical_or.reduceat(inside(lon, lat), start)
    # runs: maximal stretches of located vertices within one kept way
    way_of = np.repeat(np.arange(n_ways), np.diff(np.append(start, len(ref))))
    valid = ~np.isnan(lon) & keep_way[way_of]
    first = np.zeros(len(ref), dtype=bool)
    first[start] = True
    prev_valid = np.concatenate([[False], valid[:-1]])
    begins = valid & (first | ~prev_valid)
    run_of = np.cumsum(begins) - 1
    run_len = np.bincount(run_of[valid], minlength=int(begins.sum()))
    vert = valid.copy()
    vert[valid] = run_len[run_of[valid]] >= 2
    kept_runs = np.flatnonzero(run_len >= 2)
    run_way_old = way_of[np.flatnonzero(begins)[kept_runs]]
    ways_used, run_way = np.unique(run_way_old, return_inverse=True)
    logger.info(
        "%s: %d walkable ways kept of %d (%d vertices)",
        path.name,
        len(ways_used),
        n_ways,
        int(vert.sum()),
    )
    way_id_arr = np.asarray(way_ids, dtype=np.int64)
    return WayArrays(
        node_ref=ref[vert].copy(),
        lon=lon[vert],
        lat=lat[vert],
        run_start=np.append(np.cumsum(run_len[kept_runs]) - run_len[kept_runs], vert.sum()),
        run_way=run_way.astype(np.int64),
        way_id=way_id_arr[ways_used],
        tags={k: [v[i] for i in ways_used] for k, v in tags.items()},
    )


@dataclass(frozen=True)
class TaggedFeature:
    """One OSM node or way matching a tag query, located at its point or way centroid."""

    osm_type: str
    osm_id: int
    lon: float
    lat: float
    tags: dict[str, str]


def read_tagged_features(
    path: str | Path,
    tags: Mapping[str, str | Iterable[str] | bool],
    *,
    bbox: BBox | None = None,
    polygon: shapely.Geometry | None = None,
) -> list[TaggedFeature]:
    """Read nodes and ways whose tags match any of ``tags``, in two streaming passes.

    ``tags`` maps a key to a value, a list of values, or ``True`` for any value
    (as OSMnx's ``features_from_*``). Ways are located at the mean of their vertices
    (read in a second pass over the nodes they use). With ``bbox`` and/or ``polygon``
    (EPSG:4326) only features located inside are returned.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> found = read_tagged_features(city.network, {"amenity": "coworking_space"})
    >>> sorted({f.osm_type for f in found}), all(f.tags["amenity"] for f in found)
    (['node'], True)
    """
    path = check_osm_path(path)
    inside = area_filter(bbox=bbox, polygon=polygon)
    wanted = {
        k: (None if v is True else {v} if isinstance(v, str) else set(v)) for k, v in tags.items()
    }
    # (type, id, tags, lon, lat) for nodes; (type, id, tags, refs) for ways
    hits: list[tuple[str, int, dict[str, str], object]] = []
    tracker = osmium.IdTracker()
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter(*wanted)
    )
    try:
        for obj in processor:
            if not any(
                k in obj.tags and (vals is None or obj.tags[k] in vals)
                for k, vals in wanted.items()
            ):
                continue
            if obj.is_node():
                if obj.location.valid():
                    loc = (obj.location.lon, obj.location.lat)
                    hits.append(("node", obj.id, dict(obj.tags), loc))
            else:
                hits.append(("way", obj.id, dict(obj.tags), [n.ref for n in obj.nodes]))
                tracker.add_references(obj)
        has_ways = any(h[0] == "way" for h in hits)
        ids, xs, ys = _node_locations(path, tracker) if has_ways else (np.zeros(0, np.int64),) * 3
    except RuntimeError as exc:
        raise _read_error(path, exc) from None
    found: list[TaggedFeature] = []
    for kind, osm_id, obj_tags, where in hits:
        if kind == "node":
            lon, lat = where  # type: ignore[misc]
        else:
            refs = np.asarray(where, dtype=np.int64)
            if len(refs) > 1 and refs[0] == refs[-1]:
                refs = refs[:-1]
            lons, lats = _locate(refs, ids, xs, ys)
            ok = ~np.isnan(lons)
            if not ok.any():
                continue
            lon, lat = float(np.mean(lons[ok])), float(np.mean(lats[ok]))
        if inside is not None and not inside(np.array([lon]), np.array([lat]))[0]:
            continue
        found.append(TaggedFeature(kind, osm_id, float(lon), float(lat), obj_tags))
    return found
