"""Many areas at once: ``fifteenmin batch`` on 1 and 2 workers against a plain loop.

The benchmark city of ``make_city.py`` (its 150 zones grouped into areas by a G x G grid
of their representative points) is analysed area by area three ways:

- ``loop``: ``fm.analyze(city.osm.pbf, spaces, zones, boundary=AREA)`` for each area in
  one process, one after the other (each reads the whole regional file);
- ``batch_1``, ``batch_2``: ``fm.batch(...)`` on a local Dask cluster of 1 and 2 workers
  (the region read once and cut into one file per area, then a task per area).

It reports wall time, speed-up over the loop, peak memory per worker (``VmHWM`` per task,
reset before each), the time to cut the region against the time of the searches (the
analyses), reading the region against reading an area's cut, and a linear fit of the
per-area time and memory against the area's street segments, used in
``benchmarks/README.md`` to estimate Lazio and Italy.

Usage::

    python benchmarks/bench_batch.py --size m --grid 4              # 16 areas
    python benchmarks/bench_batch.py --size l --grid 5 --no-loop    # batch only
    python benchmarks/bench_batch.py --size m --grid 3 --reports    # with report folders
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_reset() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_areas(zones_path: Path, grid: int, out: Path) -> Path:
    """The zones grouped into areas by a ``grid`` x ``grid`` grid of their points."""
    import geopandas as gpd
    import numpy as np

    zones = gpd.read_file(zones_path)
    pts = zones.geometry.representative_point()
    w, s, e, n = zones.total_bounds
    col = np.minimum(((pts.x - w) / (e - w) * grid).astype(int), grid - 1)
    row = np.minimum(((pts.y - s) / (n - s) * grid).astype(int), grid - 1)
    zones["area_id"] = [f"R{r}C{c}" for r, c in zip(row, col, strict=True)]
    areas = zones.dissolve("area_id").reset_index()[["area_id", "geometry"]]
    areas["name"] = "area " + areas["area_id"]
    areas.to_file(out)
    return out


def run_loop(network: Path, spaces: Path, zones: Path, areas: Path, limit: int | None) -> dict:
    """The plain loop: analyze with each area as boundary, one after the other."""
    import geopandas as gpd

    import fifteenmin as fm
    from fifteenmin.study_area import StudyArea, walk_margin_m

    layer = gpd.read_file(areas)
    rows = []
    for i in range(len(layer) if limit is None else min(limit, len(layer))):
        one = layer.iloc[[i]]
        polygon = StudyArea(one.geometry.iloc[0]).with_margin(walk_margin_m([15], 4.8)).polygon
        peak_reset()
        t0 = time.perf_counter()
        region = fm.read_streets(network, polygon=polygon)  # what analyze reads first
        read_s = time.perf_counter() - t0
        t1, cpu1 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fm.analyze(
                network, spaces, zones, population_column="population", boundary=one
            )
        rows.append(
            {
                "area_id": one["area_id"].iloc[0],
                "seconds": time.perf_counter() - t1,
                "cpu_seconds": time.process_time() - cpu1,
                "read_region_s": read_s,
                "street_segments": result.summary["counts"]["street_segments"],
                "region_segments": region.n_edges,
                "peak_mb": peak_mb(),
            }
        )
    # the loop's time: its analyses (each reads the region), not the extra reads timed here
    return {"seconds": sum(r["seconds"] for r in rows), "areas": rows}


def run_batch(
    network: Path, spaces: Path, zones: Path, areas: Path, out: Path, workers: int, reports: bool
) -> dict:
    import fifteenmin as fm

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fm.batch(
            areas,
            network,
            spaces,
            zones,
            out,
            population_column="population",
            workers=workers,
            area_reports=reports,
            overwrite=True,
        )
    wall = time.perf_counter() - t0
    entries = result.manifest["areas"]
    per_worker: dict[str, float] = {}
    for e in entries:
        if e.get("peak_rss_mb") is not None:
            per_worker[e["worker"]] = max(per_worker.get(e["worker"], 0.0), e["peak_rss_mb"])
    return {
        "workers": workers,
        "seconds": wall,
        "run": result.manifest["run"],
        "peak_mb_per_worker": per_worker,
        "areas": [
            {
                k: e.get(k)
                for k in (
                    "area_id",
                    "status",
                    "street_segments_cut",
                    "memory_estimate_mb",
                    "seconds_analyze",
                    "seconds_report",
                    "cpu_seconds",
                    "peak_rss_mb",
                )
            }
            | {k: (e.get("figures") or {}).get(k) for k in ("street_segments", "spaces")}
            for e in entries
        ],
    }


def read_cut_seconds(network: Path, areas: Path) -> list[dict]:
    """Per area: reading its cut file against reading the region with its polygon."""
    import geopandas as gpd

    import fifteenmin as fm
    from fifteenmin._cut import cut_region
    from fifteenmin.study_area import StudyArea, walk_margin_m

    layer = gpd.read_file(areas)
    polys = {
        r.area_id: StudyArea(r.geometry).with_margin(walk_margin_m([15], 4.8)).polygon
        for r in layer.itertuples()
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        cut = cut_region(network, {k: p.bounds for k, p in polys.items()}, folder)
        cut_s = time.perf_counter() - t0
        for key in list(polys)[:3]:
            t1 = time.perf_counter()
            fm.read_streets(cut.areas[key].path, polygon=polys[key])
            rows.append({"area_id": key, "read_cut_s": time.perf_counter() - t1})
    return [{"cut_s": cut_s, "read_s": cut.seconds_read, "write_s": cut.seconds_write}, *rows]


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares ``y = a + b x``."""
    import numpy as np

    x, y = np.asarray(xs, float), np.asarray(ys, float)
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def fit2(xs: list[float], zs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares ``y = a + b x + c z``."""
    import numpy as np

    m = np.column_stack([np.ones(len(xs)), xs, zs]).astype(float)
    coef, *_ = np.linalg.lstsq(m, np.asarray(ys, float), rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="m", choices=["xs", "s", "m", "l"])
    parser.add_argument("--grid", type=int, default=4, help="areas: GRID x GRID cells of zones")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-loop", action="store_true", help="skip the plain loop")
    parser.add_argument("--loop-areas", type=int, help="run the loop on this many areas only")
    parser.add_argument("--reports", action="store_true", help="write each area's report")
    args = parser.parse_args()
    city = args.data_dir / args.size
    if not (city / "city.osm.pbf").exists():
        sys.exit(f"{city}: no city.osm.pbf; run python benchmarks/make_city.py --size {args.size}")
    network, spaces, zones = city / "city.osm.pbf", city / "spaces.csv", city / "zones.geojson"
    with tempfile.TemporaryDirectory() as tmp:
        areas = make_areas(zones, args.grid, Path(tmp) / "areas.geojson")
        out: dict = {"size": args.size, "grid": args.grid, "reports": args.reports}
        out["load_before"] = os.getloadavg()
        out["cut"] = read_cut_seconds(network, areas)
        if not args.no_loop:
            out["loop"] = run_loop(network, spaces, zones, areas, args.loop_areas)
        out["batch"] = [
            run_batch(network, spaces, zones, areas, Path(tmp) / f"b{w}", w, args.reports)
            for w in args.workers
        ]
    out["load_after"] = os.getloadavg()
    report(out)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"batch-{args.size}-{stamp}.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    print(f"\nraw figures: {path}")


def report(out: dict) -> None:
    """Print the Markdown tables."""
    batches = out["batch"]
    n = len(batches[0]["areas"])
    loop = out.get("loop")
    print(f"\n## batch, size {out['size']}, {n} areas, reports: {out['reports']}\n")
    load = ", ".join(f"{v:.1f}" for v in out["load_before"])
    print(f"load average before: {load} on {os.cpu_count()} cores\n")
    heads = ["run", "wall s", "speed-up vs loop", "CPU s of the analyses"]
    print("| " + " | ".join([*heads, "peak MB per worker (max)", "cut s"]) + " |")
    print("|---|---:|---:|---:|---:|---:|")
    base = None
    if loop is not None:
        done = len(loop["areas"])
        base = loop["seconds"] * n / done
        peak = max(a["peak_mb"] for a in loop["areas"])
        extra = f" ({done} areas, scaled)" if done < n else ""
        cpu = sum(a["cpu_seconds"] for a in loop["areas"]) * n / done
        print(f"| loop{extra} | {base:.1f} | 1.00 | {cpu:.1f} | {peak:.0f} | – |")
    for b in batches:
        cut = b["run"]["seconds_cut_read"] + b["run"]["seconds_cut_write"]
        peak = max(b["peak_mb_per_worker"].values()) if b["peak_mb_per_worker"] else float("nan")
        speed = f"{base / b['seconds']:.2f}" if base else "–"
        cpu = sum(a["cpu_seconds"] or 0 for a in b["areas"])
        cells = [f"batch, {b['workers']} worker(s)", f"{b['seconds']:.1f}", speed, f"{cpu:.1f}"]
        print("| " + " | ".join([*cells, f"{peak:.0f}", f"{cut:.1f}"]) + " |")
    first = batches[0]
    analyses = [a for a in first["areas"] if a["status"] == "ok"]
    search = sum(a["seconds_analyze"] for a in analyses)
    report_s = sum(a["seconds_report"] or 0 for a in analyses)
    cut = out["cut"][0]
    print(
        f"\ncutting the region: {cut['cut_s']:.1f} s (read {cut['read_s']:.1f} s, write "
        f"{cut['write_s']:.1f} s) against {search:.1f} s of analyses (searches) and "
        f"{report_s:.1f} s of reports in all areas"
    )
    if loop is not None:
        reads = [a["read_region_s"] for a in loop["areas"]]
        print(
            f"the loop reads the region for each area: {sum(reads) / len(reads):.2f} s per "
            f"area; reading an area's cut: "
            + ", ".join(f"{r['read_cut_s']:.2f} s" for r in out["cut"][1:])
        )
    xs = [a["street_segments_cut"] for a in analyses]
    a_t, b_t = fit(xs, [a["seconds_analyze"] for a in analyses])
    a_m, b_m = fit(xs, [a["peak_rss_mb"] for a in analyses])
    c0, c1, c2 = fit2(xs, [a["spaces"] for a in analyses], [a["seconds_analyze"] for a in analyses])
    print(
        f"per area, with its spaces: seconds = {c0:.2f} + {c1 * 1e5:.2f} per 100k segments + "
        f"{c2:.3f} per space within its margin"
    )
    print(
        f"per area (batch, 1 worker): seconds = {a_t:.2f} + {b_t * 1e5:.2f} per 100k street "
        f"segments of its cut; peak MB = {a_m:.0f} + {b_m * 1e5:.0f} per 100k segments"
    )
    if out["reports"]:
        a_r, b_r = fit(xs, [a["seconds_report"] for a in analyses])
        print(f"report per area: seconds = {a_r:.2f} + {b_r * 1e5:.2f} per 100k segments")


if __name__ == "__main__":
    main()
