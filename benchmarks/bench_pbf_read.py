"""Time and peak memory of reading a walking network from a large .osm.pbf.

Writes a synthetic PBF (a street grid with shape points plus building outlines, so
that most nodes are not walkable, as in real extracts) and reads it in fresh
processes, reporting wall time and the peak resident memory above the imports:

- ``two_pass``: :func:`fifteenmin._osm.read_walkable_ways` (ways pass, then a pass over
  the nodes those ways use; no index of every node);
- ``two_pass_polygon``: the same with a small study-area polygon;
- ``index_<storage>``: one pass with pyosmium's index of every node location,
  ``FileProcessor.with_locations(storage)`` (the reader's former approach), collecting
  the same arrays, for comparison.

Peak memory is ``VmHWM`` from /proc (Linux) minus the resident memory after imports.

Usage::

    python benchmarks/bench_pbf_read.py --grid 300                 # ~1.7 M nodes
    python benchmarks/bench_pbf_read.py --grid 300 --buildings 12  # ~5 M nodes, 13 % walkable
    python benchmarks/bench_pbf_read.py --file extract.osm.pbf      # any PBF
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LON0, LAT0, STEP = 12.40, 41.85, 1e-3


def write_pbf(path: Path, n: int, *, buildings_per_block: int = 3, shape_points: int = 3) -> dict:
    """An ``n`` x ``n`` street grid (5 highway kinds, 1 in 5 non-walkable) plus buildings."""
    import osmium
    from osmium.osm.mutable import Node, Way

    writer = osmium.SimpleWriter(str(path), overwrite=True)
    nid = 0
    grid = {}
    for i in range(n):
        for j in range(n):
            nid += 1
            grid[i, j] = nid
            writer.add_node(Node(id=nid, location=(LON0 + j * STEP, LAT0 + i * STEP)))
    ways = []
    for i in range(n):
        for j in range(n - 1):
            for a, b in (((i, j), (i, j + 1)), ((j, i), (j + 1, i))):
                (ya, xa), (yb, xb) = a, b
                refs = [grid[a]]
                for k in range(1, shape_points + 1):
                    f = k / (shape_points + 1)
                    nid += 1
                    lon = LON0 + (xa + f * (xb - xa)) * STEP + 1e-5
                    lat = LAT0 + (ya + f * (yb - ya)) * STEP + 1e-5
                    writer.add_node(Node(id=nid, location=(lon, lat)))
                    refs.append(nid)
                refs.append(grid[b])
                ways.append(refs)
    buildings = []
    for i in range(n - 1):
        for j in range(n - 1):
            for b in range(buildings_per_block):
                x, y = LON0 + (j + 0.2 + 0.2 * b) * STEP, LAT0 + (i + 0.3) * STEP
                ring = []
                for dx, dy in ((0, 0), (1e-4, 0), (1e-4, 1e-4), (0, 1e-4)):
                    nid += 1
                    writer.add_node(Node(id=nid, location=(x + dx, y + dy)))
                    ring.append(nid)
                buildings.append([*ring, ring[0]])
    kinds = ["residential", "footway", "primary", "cycleway", "service"]
    wid = 0
    for k, refs in enumerate(ways):
        wid += 1
        writer.add_way(Way(id=wid, nodes=refs, tags={"highway": kinds[k % 5], "name": f"Via {k}"}))
    for refs in buildings:
        wid += 1
        writer.add_way(Way(id=wid, nodes=refs, tags={"building": "yes"}))
    writer.close()
    return {"nodes": nid, "ways": wid, "street_ways": len(ways), "bytes": path.stat().st_size}


def _index_reader(path: str, storage: str) -> int:
    """One pass with pyosmium's index of every node location (the reader's former approach).

    Collects the same arrays as the two-pass reader (same :class:`_WayCollector`), so
    only the way node locations are obtained differently.
    """
    import osmium

    from fifteenmin._osm import _WayCollector, is_walkable

    collector = _WayCollector()
    processor = (
        osmium.FileProcessor(path)
        .with_locations(storage)
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if len(way.nodes) >= 2 and is_walkable(way.tags):
            collector.add(way)
    return len(collector.arrays(Path(path), None).node_ref)


def _memory_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(method: str, path: str) -> None:
    import fifteenmin._osm as osm  # imports first: they are not the reader's memory

    base = _memory_mb("VmRSS")
    t0 = time.perf_counter()
    if method == "two_pass":
        n = len(osm.read_walkable_ways(path).node_ref)
    elif method == "two_pass_polygon":
        import shapely

        area = shapely.Point(LON0 + 0.15, LAT0 + 0.15).buffer(0.02)
        n = len(osm.read_walkable_ways(path, polygon=area).node_ref)
    else:
        n = _index_reader(path, method.removeprefix("index_"))
    seconds = time.perf_counter() - t0
    peak = _memory_mb("VmHWM")  # ru_maxrss would inherit the parent's peak across exec
    print(
        json.dumps(
            {
                "method": method,
                "seconds": round(seconds, 2),
                "vertices": n,
                "peak_rss_mb": round(peak),
                "above_imports_mb": round(peak - base),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--grid", type=int, default=300, help="streets per side (300: ~1.7 M nodes)"
    )
    parser.add_argument(
        "--buildings", type=int, default=3, help="buildings (4-node outlines) per block (default 3)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--file", type=Path, help="read this PBF instead of generating one")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    tmp = Path(tempfile.mkdtemp(prefix="fifteenmin-pbf-"))
    if args.file:
        path, args.keep = args.file, True
    else:
        path = tmp / f"grid{args.grid}.osm.pbf"
        t0 = time.perf_counter()
        info = write_pbf(path, args.grid, buildings_per_block=args.buildings)
        write_s = round(time.perf_counter() - t0, 1)
        print(json.dumps({"file": str(path), **info, "write_s": write_s}), flush=True)
    methods = ["two_pass", "two_pass_polygon", "index_flex_mem", "index_sparse_mem_array"]
    for method in methods:
        subprocess.run([sys.executable, __file__, "--child", method, str(path)], check=True)
    if not args.keep:
        path.unlink()
    if not any(tmp.iterdir()):
        tmp.rmdir()


if __name__ == "__main__":
    main()
