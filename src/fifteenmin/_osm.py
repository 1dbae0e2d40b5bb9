"""Read OpenStreetMap files (.osm, .osm.bz2, .osm.pbf) into compact walkable-way arrays."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium

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


def _processor(path: Path, *filters: object) -> osmium.FileProcessor:
    fp = osmium.FileProcessor(str(path)).with_locations()
    for flt in filters:
        fp = fp.with_filter(flt)
    return fp


def read_walkable_ways(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> WayArrays:
    """Read the walkable ways of an OSM file, with node locations.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.
    bbox
        Optional ``(west, south, east, north)`` in degrees: keep only ways with at least
        one vertex inside it (whole ways are kept, so edges are not cut at the border).
    """
    path = check_osm_path(path)
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    run_start: list[int] = []
    run_way: list[int] = []
    way_ids: list[int] = []
    tags: dict[str, list[str | None]] = {k: [] for k in EDGE_TAGS}
    try:
        processor = _processor(
            path, osmium.filter.EntityFilter(osmium.osm.WAY), osmium.filter.KeyFilter("highway")
        )
        for way in processor:
            way_tags = way.tags
            if not is_walkable(way_tags):
                continue
            coords = [
                (n.ref, n.lon, n.lat) if n.location.valid() else (n.ref, np.nan, np.nan)
                for n in way.nodes
            ]
            if bbox is not None and not any(
                bbox[0] <= c[1] <= bbox[2] and bbox[1] <= c[2] <= bbox[3] for c in coords
            ):
                continue
            w = len(way_ids)
            way_ids.append(way.id)
            for key in EDGE_TAGS:
                tags[key].append(way_tags.get(key))
            run: list[tuple[int, float, float]] = []
            for c in [*coords, (0, np.nan, np.nan)]:  # sentinel closes the last run
                if c[1] == c[1]:
                    run.append(c)
                    continue
                if len(run) >= 2:
                    run_start.append(len(refs))
                    run_way.append(w)
                    refs.extend(r[0] for r in run)
                    lons.extend(r[1] for r in run)
                    lats.extend(r[2] for r in run)
                run = []
    except RuntimeError as exc:  # osmium parse errors
        raise InputError(f"{path}: cannot be read as OSM data ({exc}); check the file") from None
    run_start.append(len(refs))
    return WayArrays(
        node_ref=np.asarray(refs, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
        run_start=np.asarray(run_start, dtype=np.int64),
        run_way=np.asarray(run_way, dtype=np.int64),
        way_id=np.asarray(way_ids, dtype=np.int64),
        tags=tags,
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
    path: str | Path, tags: Mapping[str, str | Iterable[str] | bool]
) -> list[TaggedFeature]:
    """Read nodes and ways whose tags match any of ``tags``.

    ``tags`` maps a key to a value, a list of values, or ``True`` for any value
    (as OSMnx's ``features_from_*``). Ways are located at the mean of their vertices.
    """
    path = check_osm_path(path)
    wanted = {
        k: (None if v is True else {v} if isinstance(v, str) else set(v)) for k, v in tags.items()
    }
    found: list[TaggedFeature] = []
    processor = _processor(
        path,
        osmium.filter.EntityFilter(osmium.osm.NODE | osmium.osm.WAY),
        osmium.filter.KeyFilter(*wanted),
    )
    try:
        for obj in processor:
            if not any(
                k in obj.tags and (vals is None or obj.tags[k] in vals)
                for k, vals in wanted.items()
            ):
                continue
            if obj.is_node():
                if not obj.location.valid():
                    continue
                lon, lat = obj.location.lon, obj.location.lat
                kind = "node"
            else:
                pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                if not pts:
                    continue
                if len(pts) > 1 and pts[0] == pts[-1]:
                    pts = pts[:-1]
                lon = float(np.mean([p[0] for p in pts]))
                lat = float(np.mean([p[1] for p in pts]))
                kind = "way"
            found.append(TaggedFeature(kind, obj.id, lon, lat, dict(obj.tags)))
    except RuntimeError as exc:
        raise InputError(f"{path}: cannot be read as OSM data ({exc}); check the file") from None
    return found
