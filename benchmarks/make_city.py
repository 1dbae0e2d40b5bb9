"""Generate a deterministic synthetic Rome-sized city for the benchmarks.

The city is a jittered street grid with irregular block sizes, curved streets
(shape points between intersections), randomly removed street segments and
diagonal avenues.  A meandering river crosses it and may only be crossed on
ways tagged ``bridge=yes``; a non-walkable ring motorway shares no node with
the streets and is crossed a few times by street overpasses or underpasses.
Streets mix walkable highway types (residential, tertiary, secondary,
pedestrian, footway, steps) with non-walkable ones (cycleway, ``foot=no``,
``access=private``).  The walkable network is connected by construction.

Every size is written to ``<data-dir>/<size>/``:

``city.osm.pbf`` and ``city.osm``
    The same OSM data in PBF and XML form.
``spaces.csv``
    Coworking spaces (``space_id,name,address,seats,kind,lat,lon``).  Each
    space sits exactly on the coordinates of a walkable intersection node, so
    snapping to the nearest edge point and to the nearest node coincide.  The
    spaces are also in the OSM files as ``amenity=coworking_space`` nodes.
``zones.geojson``
    About 150 polygons tiling the area (EPSG:4326; ``zone_id``, ``name``,
    ``population``).
``meta.json``
    Counts predicted from the generated geometry and the generation time.

Usage::

    python benchmarks/make_city.py --size s
    python benchmarks/make_city.py --all
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from city_sizes import DEFAULT_DATA_DIR, SIZES, CitySpec
from osmium.osm.mutable import Node, Way
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SEED = 15_2025
CENTER_LON = 12.4964
CENTER_LAT = 41.9028
EARTH_RADIUS_M = 6_371_009.0
COORD_SCALE = 10_000_000

RIVER_HALF_WIDTH_M = 12.0
RING_HALF_WIDTH_M = 15.0
BRIDGE_SPACING_M = 700.0
MAX_SEGMENTS_PER_WAY = 12
N_ZONES_X, N_ZONES_Y = 15, 10

# Segment variants: index -> (highway override or None, extra tags, walkable).
VARIANTS: tuple[tuple[str | None, dict[str, str], bool], ...] = (
    (None, {}, True),
    ("pedestrian", {}, True),
    ("footway", {}, True),
    ("steps", {}, True),
    ("cycleway", {}, False),
    (None, {"foot": "no"}, False),
    (None, {"access": "private"}, False),
    (None, {"bridge": "yes", "layer": "1"}, True),
    (None, {"layer": "-1"}, True),
)
PLAIN, PEDESTRIAN, FOOTWAY, STEPS, CYCLEWAY, FOOT_NO, PRIVATE, BRIDGE, UNDERPASS = range(9)
RANDOM_VARIANT_P = {FOOTWAY: 0.03, STEPS: 0.01, CYCLEWAY: 0.025, FOOT_NO: 0.01, PRIVATE: 0.01}
STREET_NAMES = (
    "Via Appia",
    "Via Aurelia",
    "Via Cassia",
    "Via Flaminia",
    "Via Salaria",
    "Via Tiburtina",
    "Via Prenestina",
    "Via Casilina",
    "Via Ostiense",
    "Via Portuense",
    "Via della Libertà",
    "Via dei Fori",
    "Via Nomentana",
    "Via Tuscolana",
    "Via Laurentina",
)
KINDS = ("coworking", "hub", "studio", "library", "café")


@dataclass(frozen=True)
class CityStats:
    """Summary of one generated city, also written to ``meta.json``.

    Attributes
    ----------
    size : str
        Size name.
    osm_nodes : int
        Number of OSM nodes written.
    osm_ways : int
        Number of OSM ways written.
    walk_nodes : int
        Nodes of the simplified walking graph (walkable intersections and
        dead ends, i.e. walkable degree other than 2).
    walk_intersections : int
        Walkable nodes with walkable degree of at least 3.
    walk_edges_undirected : int
        Edges of the simplified walking graph (street segments between
        ``walk_nodes``).
    walk_edges_directed : int
        ``2 * walk_edges_undirected``.
    spaces : int
        Number of coworking spaces.
    zones : int
        Number of zones.
    river_bridges : int
        Street bridges over the river.
    ring_crossings : int
        Streets crossing the ring motorway.
    pbf_bytes : int
        Size of ``city.osm.pbf``.
    xml_bytes : int
        Size of ``city.osm``.
    seconds : float
        Generation wall time.
    """

    size: str
    osm_nodes: int
    osm_ways: int
    walk_nodes: int
    walk_intersections: int
    walk_edges_undirected: int
    walk_edges_directed: int
    spaces: int
    zones: int
    river_bridges: int
    ring_crossings: int
    pbf_bytes: int
    xml_bytes: int
    seconds: float


@dataclass
class Streets:
    """Street segments between grid intersections and their attributes.

    Attributes
    ----------
    xy : numpy.ndarray
        ``(n*n, 2)`` local coordinates of the grid intersections, metres.
    a, b : numpy.ndarray
        Grid node index of each segment's start and end.
    line : numpy.ndarray
        Street (grid row, column or diagonal) of each segment.
    pos : numpy.ndarray
        Position of the segment along its street.
    shape_start : numpy.ndarray
        Offsets into ``shape_xy``; segment ``k`` owns the shape points
        ``shape_start[k]:shape_start[k + 1]``.
    shape_xy : numpy.ndarray
        Local coordinates of all shape points, metres.
    variant : numpy.ndarray
        Index into :data:`VARIANTS`.
    keep : numpy.ndarray
        Whether the segment is written.
    river_bridges : numpy.ndarray
        Segments bridging the river.
    ring_crossings : numpy.ndarray
        Segments crossing the ring motorway; even positions are overpasses,
        odd positions underpasses.
    """

    xy: np.ndarray
    a: np.ndarray
    b: np.ndarray
    line: np.ndarray
    pos: np.ndarray
    shape_start: np.ndarray
    shape_xy: np.ndarray
    variant: np.ndarray
    keep: np.ndarray
    river_bridges: np.ndarray
    ring_crossings: np.ndarray


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Convert local metres to integer OSM coordinates (1e-7 degrees).

    Parameters
    ----------
    xy : numpy.ndarray
        ``(k, 2)`` local easting/northing in metres around the city centre.

    Returns
    -------
    numpy.ndarray
        ``(k, 2)`` int64 longitude/latitude in units of 1e-7 degrees, so that
        every coordinate survives the OSM fixed-point encoding unchanged.
    """
    lat = CENTER_LAT + np.degrees(xy[:, 1] / EARTH_RADIUS_M)
    lon = CENTER_LON + np.degrees(xy[:, 0] / (EARTH_RADIUS_M * np.cos(np.radians(CENTER_LAT))))
    return np.rint(np.column_stack([lon, lat]) * COORD_SCALE).astype(np.int64)


def _grid(spec: CitySpec, rng: np.random.Generator) -> np.ndarray:
    """Jittered grid with irregular block sizes and a gentle warp."""
    s = spec.spacing_m
    cols = np.cumsum(rng.uniform(0.7, 1.3, spec.n) * s)
    rows = np.cumsum(rng.uniform(0.7, 1.3, spec.n) * s)
    cols -= cols.mean()
    rows -= rows.mean()
    gx, gy = np.meshgrid(cols, rows)  # node index = row * n + col
    gx = gx + 0.25 * s * np.sin(gy / (9 * s))
    gy = gy + 0.25 * s * np.sin(gx / (11 * s) + 1.0)
    jitter = np.clip(rng.normal(0.0, 0.08 * s, (2, spec.n, spec.n)), -0.2 * s, 0.2 * s)
    return np.column_stack([(gx + jitter[0]).ravel(), (gy + jitter[1]).ravel()])


def _segments(spec: CitySpec, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Grid and diagonal segments as ``(a, b, line, pos, is_grid)`` arrays."""
    n = spec.n
    idx = np.arange(n * n).reshape(n, n)  # idx[row, col]
    along = np.tile(np.arange(n - 1), n)
    # Horizontal streets are lines 0..n-1, vertical streets lines n..2n-1.
    parts = [
        (idx[:, :-1].ravel(), idx[:, 1:].ravel(), np.repeat(np.arange(n), n - 1), along),
        (idx[:-1, :].T.ravel(), idx[1:, :].T.ravel(), n + np.repeat(np.arange(n), n - 1), along),
    ]
    # Rising avenues follow col - row = c1 and falling ones row + col = c2.
    # All c are even, so two avenues meet at a grid node (c1 + c2 even) and
    # never cross inside a block.
    rising = 2 * rng.choice(np.arange(-n // 6, n // 6 + 1), spec.n_diagonals, replace=False)
    falling = 2 * rng.choice(np.arange(n // 3, 2 * n // 3 + 1), spec.n_diagonals, replace=False)
    line_id = 2 * n
    for c in rising:
        row = np.arange(max(0, -c), min(n - 1, n - 1 - c))
        parts.append(
            (
                idx[row, row + c],
                idx[row + 1, row + c + 1],
                np.full(row.size, line_id),
                np.arange(row.size),
            )
        )
        line_id += 1
    for c in falling:
        col = np.arange(max(0, c - n + 1), min(n - 1, c))
        parts.append(
            (
                idx[c - col, col],
                idx[c - col - 1, col + 1],
                np.full(col.size, line_id),
                np.arange(col.size),
            )
        )
        line_id += 1
    a, b, line, pos = (np.concatenate(p) for p in zip(*parts, strict=True))
    return a, b, line, pos, line < 2 * n


def _shape_points(
    xy: np.ndarray, a: np.ndarray, b: np.ndarray, is_grid: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Curve every grid street segment with 0-3 shape points on a sine arc."""
    counts = np.where(is_grid, rng.choice(4, a.size, p=[0.35, 0.35, 0.2, 0.1]), 0)
    start = np.concatenate([[0], np.cumsum(counts)])
    seg = np.repeat(np.arange(a.size), counts)
    t = (np.arange(seg.size) - start[seg] + 1) / (counts[seg] + 1)
    pa, pb = xy[a[seg]], xy[b[seg]]
    d = pb - pa
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    bend = rng.uniform(-0.06, 0.06, a.size)[seg]
    return start, pa + d * t[:, None] + normal * (bend * np.sin(np.pi * t))[:, None]


def _segment_geometries(
    xy: np.ndarray, a: np.ndarray, b: np.ndarray, shape_start: np.ndarray, shape_xy: np.ndarray
) -> np.ndarray:
    """Linestrings ``a -> shape points -> b`` of every segment."""
    counts = np.diff(shape_start)
    first = np.concatenate([[0], np.cumsum(counts + 2)[:-1]])
    coords = np.empty((first[-1] + counts[-1] + 2, 2))
    coords[first] = xy[a]
    coords[first + counts + 1] = xy[b]
    seg = np.repeat(np.arange(a.size), counts)
    coords[first[seg] + 1 + np.arange(seg.size) - shape_start[seg]] = shape_xy
    return shapely.linestrings(coords, indices=np.repeat(np.arange(a.size), counts + 2))


def _river(half: float) -> np.ndarray:
    """Vertices of a meandering river running north to south through the centre."""
    v = np.linspace(1.1, -1.1, max(200, int(2.2 * half / 40)))
    x = half * (0.22 * np.sin(2.6 * v + 0.4) + 0.06 * np.sin(8.5 * v + 1.3))
    return np.column_stack([x, v * half])


def _ring(half: float) -> np.ndarray:
    """Vertices of the closed ring motorway (first vertex not repeated)."""
    r0 = 0.55 * half
    theta = np.linspace(0, 2 * np.pi, max(120, int(2 * np.pi * r0 / 50)), endpoint=False)
    r = r0 * (1 + 0.05 * np.sin(3 * theta) + 0.03 * np.sin(5 * theta + 1))
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def _near(tree: shapely.STRtree, vertices: np.ndarray, half_width: float) -> np.ndarray:
    """Tree items within ``half_width`` of the polyline through ``vertices``.

    The polyline is queried piece by piece so that the index prunes by small
    bounding boxes rather than by the envelope of the whole line.
    """
    pieces = shapely.buffer(
        shapely.linestrings(np.stack([vertices[:-1], vertices[1:]], axis=1)), half_width
    )
    return np.unique(tree.query(pieces, predicate="intersects")[1])


def _crossing_candidates(
    geoms: np.ndarray,
    near: np.ndarray,
    xy_a: np.ndarray,
    xy_b: np.ndarray,
    line: shapely.Geometry,
    half_width: float,
) -> np.ndarray:
    """Segments among ``near`` crossing ``line`` once with both ends clear of it."""
    clear = (shapely.distance(shapely.points(xy_a[near]), line) > half_width) & (
        shapely.distance(shapely.points(xy_b[near]), line) > half_width
    )
    once = shapely.get_num_coordinates(shapely.intersection(geoms[near], line)) == 1
    return near[clear & once]


def _pick_spread(keys: np.ndarray, targets: np.ndarray, window: float) -> np.ndarray:
    """Positions of the key nearest to each target, if within ``window``."""
    if keys.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    right = np.clip(np.searchsorted(sorted_keys, targets), 0, keys.size - 1)
    left = np.clip(right - 1, 0, keys.size - 1)
    best = np.where(
        np.abs(sorted_keys[left] - targets) <= np.abs(sorted_keys[right] - targets), left, right
    )
    return np.unique(order[best[np.abs(sorted_keys[best] - targets) <= window]])


def build_streets(
    spec: CitySpec, rng: np.random.Generator
) -> tuple[Streets, np.ndarray, np.ndarray]:
    """Lay out streets, cut them at the river and the ring and tag them.

    Parameters
    ----------
    spec : CitySpec
        Size parameters.
    rng : numpy.random.Generator
        Seeded generator.

    Returns
    -------
    streets : Streets
        All segments with variants and the ``keep`` mask.
    river : numpy.ndarray
        River centre-line vertices, local metres.
    ring : numpy.ndarray
        Ring motorway vertices, local metres.
    """
    xy = _grid(spec, rng)
    a, b, line, pos, is_grid = _segments(spec, rng)
    shape_start, shape_xy = _shape_points(xy, a, b, is_grid, rng)
    half = float(np.abs(xy).max())
    geoms = _segment_geometries(xy, a, b, shape_start, shape_xy)
    tree = shapely.STRtree(geoms)
    river_xy, ring_xy = _river(half), _ring(half)
    river, ring = shapely.LineString(river_xy), shapely.LinearRing(ring_xy)
    near_river = _near(tree, river_xy, RIVER_HALF_WIDTH_M)
    near_ring = _near(tree, np.vstack([ring_xy, ring_xy[:1]]), RING_HALF_WIDTH_M)
    removed = is_grid & (rng.random(a.size) < 0.06)

    eligible = ~removed & ~np.isin(np.arange(a.size), near_ring)
    cand = _crossing_candidates(
        geoms, near_river[eligible[near_river]], xy[a], xy[b], river, RIVER_HALF_WIDTH_M
    )
    along = shapely.line_locate_point(river, shapely.points((xy[a[cand]] + xy[b[cand]]) / 2))
    targets = np.arange(BRIDGE_SPACING_M / 2, river.length, BRIDGE_SPACING_M)
    bridges = cand[_pick_spread(along, targets, BRIDGE_SPACING_M / 3)]

    eligible = ~removed & ~np.isin(np.arange(a.size), near_river)
    cand = _crossing_candidates(
        geoms, near_ring[eligible[near_ring]], xy[a], xy[b], ring, RING_HALF_WIDTH_M
    )
    mid = (xy[a[cand]] + xy[b[cand]]) / 2
    step = 2 * np.pi / spec.n_ring_crossings
    targets = -np.pi + step / 2 + step * np.arange(spec.n_ring_crossings)
    crossings = cand[_pick_spread(np.arctan2(mid[:, 1], mid[:, 0]), targets, step / 2)]

    variant = np.zeros(a.size, dtype=np.int8)
    r = rng.random(a.size)
    lo = 0.0
    for v, p in RANDOM_VARIANT_P.items():
        variant[(r >= lo) & (r < lo + p)] = v
        lo += p
    centre = np.hypot(*((xy[a] + xy[b]) / 2).T) < 0.12 * half
    variant[centre & (variant == PLAIN) & (rng.random(a.size) < 0.25)] = PEDESTRIAN
    variant[~is_grid] = PLAIN
    variant[bridges] = BRIDGE
    variant[crossings[::2]] = BRIDGE
    variant[crossings[1::2]] = UNDERPASS

    keep = ~removed
    keep[near_river] = False
    keep[near_ring] = False
    keep[bridges] = keep[crossings] = True
    streets = Streets(xy, a, b, line, pos, shape_start, shape_xy, variant, keep, bridges, crossings)
    _drop_disconnected(streets)
    return streets, river_xy, ring_xy


def walkable(streets: Streets) -> np.ndarray:
    """Mask of kept segments that are walkable."""
    ok = np.array([v[2] for v in VARIANTS])
    return streets.keep & ok[streets.variant]


def _drop_disconnected(streets: Streets) -> None:
    """Drop walkable segments outside the largest walkable component."""
    w = walkable(streets)
    n = streets.xy.shape[0]
    adj = coo_matrix((np.ones(w.sum()), (streets.a[w], streets.b[w])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    deg = np.bincount(streets.a[w], minlength=n) + np.bincount(streets.b[w], minlength=n)
    giant = np.bincount(label[deg > 0]).argmax()
    streets.keep &= ~(w & (label[streets.a] != giant))


def _walk_counts(streets: Streets) -> tuple[int, int, int, np.ndarray]:
    """Simplified walking-graph counts and walkable degree per grid node.

    Shape points and grid nodes of walkable degree 2 disappear when the
    graph is simplified; each such node merges two edges into one.
    """
    w = walkable(streets)
    n = streets.xy.shape[0]
    deg = np.bincount(streets.a[w], minlength=n) + np.bincount(streets.b[w], minlength=n)
    deg2 = int((deg == 2).sum())
    return int((deg > 0).sum()) - deg2, int((deg >= 3).sum()), int(w.sum()) - deg2, deg


def _way_runs(streets: Streets) -> tuple[np.ndarray, np.ndarray]:
    """Group kept segments into ways: same street, consecutive, same variant.

    Returns
    -------
    segs : numpy.ndarray
        Kept segment indices sorted along their streets.
    starts : numpy.ndarray
        Offsets into ``segs`` where a new way starts.
    """
    segs = np.flatnonzero(streets.keep)
    segs = segs[np.lexsort((streets.pos[segs], streets.line[segs]))]
    line, pos, var = streets.line[segs], streets.pos[segs], streets.variant[segs]
    new = np.ones(segs.size, bool)
    new[1:] = (line[1:] != line[:-1]) | (pos[1:] != pos[:-1] + 1) | (var[1:] != var[:-1])
    first = np.flatnonzero(new)
    new |= (np.arange(segs.size) - first[np.cumsum(new) - 1]) % MAX_SEGMENTS_PER_WAY == 0
    return segs, np.flatnonzero(new)


def _street_tags(
    spec: CitySpec, rng: np.random.Generator
) -> tuple[list[str], list[str], np.ndarray]:
    """Name, base highway type and oneway flag of every street (line)."""
    names = [
        f"{STREET_NAMES[i % len(STREET_NAMES)]} {i // len(STREET_NAMES) + 1}"
        for i in range(2 * spec.n)
    ]
    names += [f"Viale Diagonale {i + 1}" for i in range(2 * spec.n_diagonals)]
    base = [
        "secondary" if i % 10 == 0 else "tertiary" if i % 5 == 0 else "residential"
        for i in range(2 * spec.n)
    ]
    base += ["secondary"] * (2 * spec.n_diagonals)
    oneway = (rng.random(len(base)) < 0.1) & (np.array(base) == "residential")
    return names, base, oneway


def _ring_ways(
    ring_xy: np.ndarray, first_id: int, river_xy: np.ndarray, underpasses: np.ndarray
) -> list[tuple[list[int], dict[str, str]]]:
    """Split the ring into motorway ways; pieces over the river or a street are bridges.

    Parameters
    ----------
    ring_xy : numpy.ndarray
        Ring vertices, local metres.
    first_id : int
        OSM id of the first ring vertex; the others follow consecutively.
    river_xy : numpy.ndarray
        River vertices, local metres.
    underpasses : numpy.ndarray
        ``(k, 2, 2)`` end points of the streets passing under the ring.

    Returns
    -------
    list of (list of int, dict)
        Node ids and tags of each motorway way.
    """
    closed = np.vstack([ring_xy, ring_xy[:1]])
    edges = shapely.linestrings(np.stack([closed[:-1], closed[1:]], axis=1))
    obstacles = shapely.union_all(
        [
            shapely.LineString(river_xy).buffer(RIVER_HALF_WIDTH_M),
            *shapely.buffer(shapely.linestrings(underpasses), 20.0),
        ]
    )
    bridge = shapely.intersects(edges, obstacles)
    # Start at a vertex after a non-bridge edge so that no bridge run wraps around.
    order = np.roll(np.arange(ring_xy.shape[0]), -int(np.flatnonzero(~bridge)[0]))
    bridge = bridge[order]
    cuts = np.flatnonzero(np.diff(bridge.astype(np.int8))) + 1
    ways = []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, order.size], strict=True):
        nodes = (first_id + np.r_[order[lo:hi], order[hi % order.size]]).tolist()
        tags = {
            "highway": "motorway",
            "ref": "A90",
            "name": "Grande Raccordo Anulare",
            "lanes": "3",
        }
        if bridge[lo]:
            tags |= {"bridge": "yes", "layer": "1"}
        ways.append((nodes, tags))
    return ways


def _zones(grid_xy: np.ndarray, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Voronoi zones tiling the bounding box of the city, EPSG:4326."""
    lo, hi = grid_xy.min(axis=0) - 100.0, grid_xy.max(axis=0) + 100.0
    gx, gy = np.meshgrid(
        (np.arange(N_ZONES_X) + 0.5) / N_ZONES_X, (np.arange(N_ZONES_Y) + 0.5) / N_ZONES_Y
    )
    jitter = rng.uniform(-0.35, 0.35, (gx.size, 2)) / [N_ZONES_X, N_ZONES_Y]
    seeds = lo + (np.column_stack([gx.ravel(), gy.ravel()]) + jitter) * (hi - lo)
    box = shapely.box(*lo, *hi)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box, ordered=True)
    polys = shapely.intersection(shapely.get_parts(cells), box)
    density = 14_000 * np.exp(-np.hypot(*seeds.T) / 6_000) + 600  # inhabitants per km2
    noise = rng.lognormal(0, 0.25, seeds.shape[0])
    return gpd.GeoDataFrame(
        {
            "zone_id": [f"Z{i + 1:03d}" for i in range(seeds.shape[0])],
            "name": [f"Zona {i + 1}" for i in range(seeds.shape[0])],
            "population": np.rint(shapely.area(polys) / 1e6 * density * noise).astype(np.int64),
        },
        geometry=shapely.transform(polys, lambda c: to_lonlat(c) / COORD_SCALE),
        crs="EPSG:4326",
    )


def _pick_spaces(
    xy: np.ndarray, deg: np.ndarray, n_spaces: int, rng: np.random.Generator
) -> np.ndarray:
    """Grid nodes hosting coworking spaces: walkable intersections, centre-weighted."""
    cand = np.flatnonzero(deg >= 3)
    r = np.hypot(*xy[cand].T)
    dense = np.exp(-0.5 * (r / (0.3 * np.abs(xy).max())) ** 2)
    p = 0.3 / cand.size + 0.7 * dense / dense.sum()
    return np.sort(rng.choice(cand, n_spaces, replace=False, p=p / p.sum()))


def _write_spaces_csv(
    path: Path, lonlat: np.ndarray, rng: np.random.Generator
) -> list[dict[str, str]]:
    """Write ``spaces.csv`` and return its rows."""
    rows = [
        {
            "space_id": f"CW{i + 1:04d}",
            "name": f"Spazio Coworking {i + 1}",
            "address": f"{STREET_NAMES[i % len(STREET_NAMES)]} {int(rng.integers(1, 200))}, Roma",
            "seats": str(int(rng.integers(8, 240))),
            "kind": KINDS[int(rng.integers(len(KINDS)))],
            "lat": f"{lat / COORD_SCALE:.7f}",
            "lon": f"{lon / COORD_SCALE:.7f}",
        }
        for i, (lon, lat) in enumerate(lonlat)
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


class _DualWriter:
    """Write every object to both the PBF and the XML file."""

    def __init__(self, out: Path) -> None:
        header = osmium.io.Header()
        header.set("generator", "fifteenmin benchmarks/make_city.py")
        self.writers = [
            osmium.SimpleWriter(str(out / name), header=header, overwrite=True)
            for name in ("city.osm.pbf", "city.osm")
        ]
        self.nodes = 0
        self.ways = 0

    def node(self, node_id: int, lonlat: np.ndarray, tags: dict[str, str] | None = None) -> None:
        """Add a node at integer 1e-7 degree coordinates."""
        node = Node(
            id=node_id, location=(lonlat[0] / COORD_SCALE, lonlat[1] / COORD_SCALE), tags=tags or {}
        )
        for w in self.writers:
            w.add_node(node)
        self.nodes += 1

    def way(self, nodes: list[int], tags: dict[str, str]) -> None:
        """Add a way with the next way id."""
        self.ways += 1
        way = Way(id=self.ways, nodes=nodes, tags=tags)
        for w in self.writers:
            w.add_way(way)

    def close(self) -> None:
        """Flush and close both files."""
        for w in self.writers:
            w.close()


def generate_city(size: str, data_dir: Path = DEFAULT_DATA_DIR) -> CityStats:
    """Generate one city size into ``data_dir / size``.

    Parameters
    ----------
    size : str
        One of :data:`SIZES`.
    data_dir : pathlib.Path
        Parent directory of the per-size output directories.

    Returns
    -------
    CityStats
        Counts, file sizes and generation time (also in ``meta.json``).
    """
    t0 = time.perf_counter()
    spec = SIZES[size]
    rng = np.random.default_rng([SEED, spec.n])
    out = data_dir / size
    out.mkdir(parents=True, exist_ok=True)

    streets, river_xy, ring_xy = build_streets(spec, rng)
    names, base, oneway = _street_tags(spec, rng)
    walk_nodes, walk_intersections, walk_edges, deg = _walk_counts(streets)
    grid_ll, shape_ll = to_lonlat(streets.xy), to_lonlat(streets.shape_xy)
    river_ll, ring_ll = to_lonlat(river_xy), to_lonlat(ring_xy)
    # OSM ids: grid nodes 1..n*n, then shape points, river, ring and spaces.
    shape_first = grid_ll.shape[0] + 1
    river_first = shape_first + shape_ll.shape[0]
    ring_first = river_first + river_ll.shape[0]
    space_first = ring_first + ring_ll.shape[0]

    space_nodes = _pick_spaces(streets.xy, deg, spec.n_spaces, rng)
    space_rows = _write_spaces_csv(out / "spaces.csv", grid_ll[space_nodes], rng)
    _zones(streets.xy, rng).to_file(out / "zones.geojson", driver="GeoJSON")

    segs, starts = _way_runs(streets)
    used_grid = np.zeros(grid_ll.shape[0], bool)
    used_grid[streets.a[segs]] = used_grid[streets.b[segs]] = True
    used_shape = np.repeat(streets.keep, np.diff(streets.shape_start))
    signals = used_grid & (deg >= 3) & (rng.random(used_grid.size) < 0.02)
    under = streets.ring_crossings[1::2]
    ring_ways = _ring_ways(
        ring_xy,
        ring_first,
        river_xy,
        np.stack([streets.xy[streets.a[under]], streets.xy[streets.b[under]]], axis=1),
    )

    writer = _DualWriter(out)
    for i in np.flatnonzero(used_grid):
        writer.node(i + 1, grid_ll[i], {"highway": "traffic_signals"} if signals[i] else None)
    for i in np.flatnonzero(used_shape):
        writer.node(shape_first + i, shape_ll[i])
    for i, ll in enumerate(river_ll):
        writer.node(river_first + i, ll)
    for i, ll in enumerate(ring_ll):
        writer.node(ring_first + i, ll)
    for i, row in enumerate(space_rows):
        writer.node(
            space_first + i,
            grid_ll[space_nodes[i]],
            {"amenity": "coworking_space", "name": row["name"], "ref": row["space_id"]},
        )
    for lo, hi in zip(starts, np.r_[starts[1:], segs.size], strict=True):
        run = segs[lo:hi]
        nodes: list[int] = []
        for s in run:
            nodes.append(int(streets.a[s]) + 1)
            nodes.extend(
                range(
                    shape_first + streets.shape_start[s], shape_first + streets.shape_start[s + 1]
                )
            )
        nodes.append(int(streets.b[run[-1]]) + 1)
        line = int(streets.line[run[0]])
        highway, extra, _ = VARIANTS[streets.variant[run[0]]]
        tags = {"highway": highway or base[line], "name": names[line], **extra}
        if highway is None and oneway[line]:
            tags["oneway"] = "yes"
        writer.way(nodes, tags)
    writer.way(list(range(river_first, ring_first)), {"waterway": "river", "name": "Tevere"})
    for nodes, tags in ring_ways:
        writer.way(nodes, tags)
    writer.close()

    stats = CityStats(
        size=size,
        osm_nodes=writer.nodes,
        osm_ways=writer.ways,
        walk_nodes=walk_nodes,
        walk_intersections=walk_intersections,
        walk_edges_undirected=walk_edges,
        walk_edges_directed=2 * walk_edges,
        spaces=len(space_rows),
        zones=N_ZONES_X * N_ZONES_Y,
        river_bridges=int(streets.keep[streets.river_bridges].sum()),
        ring_crossings=int(streets.keep[streets.ring_crossings].sum()),
        pbf_bytes=(out / "city.osm.pbf").stat().st_size,
        xml_bytes=(out / "city.osm").stat().st_size,
        seconds=round(time.perf_counter() - t0, 2),
    )
    meta = {**asdict(stats), "seed": SEED, "spec": asdict(spec)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return stats


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; defaults to ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(description="Generate the synthetic benchmark city.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--size", choices=list(SIZES), action="append", help="size to generate (repeatable)"
    )
    group.add_argument("--all", action="store_true", help="generate every size")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="output parent directory"
    )
    args = parser.parse_args(argv)
    for size in list(SIZES) if args.all else args.size:
        print(json.dumps(asdict(generate_city(size, args.data_dir))), flush=True)


if __name__ == "__main__":
    main()
