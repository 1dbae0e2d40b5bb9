"""Ten categories of service in one run against one category (issue 12, item 4).

On a benchmark city (``make_city.py``; the Rome-sized ``l`` by default), the same
``fm.analyze`` twice in fresh processes: with the spaces only, and with ten categories
(nine made of random street points, as many as the city's spaces each, given as registry
files, plus ``work``, the spaces themselves). The network is read, simplified and indexed
once per run; only the searches and the street-piece sums repeat per category. Prints the
median of ``--repeat`` runs of each and their ratio (target: under 2).

Usage::

    python benchmarks/bench_categories.py --data-dir benchmarks/data --size l --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = r"""
import json, sys, time, warnings
from pathlib import Path
import fifteenmin as fm
from fifteenmin.categories import Category
city, cats = sys.argv[1], sys.argv[2]
categories = None
if cats != "-":
    categories = [Category(p.stem, file=p) for p in sorted(Path(cats).glob("*.csv"))]
    categories.append(Category("work", ("amenity=coworking_space",)))
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    r = fm.analyze(f"{city}/city.osm.pbf", f"{city}/spaces.csv", f"{city}/zones.geojson",
                   population_column="population", categories=categories)
seconds = time.perf_counter() - t0
peak = 0.0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        peak = int(line.split()[1]) / 1024
out = {"seconds": seconds, "peak_mib": peak}
if r.categories is not None:
    out["all_share"] = float(r.categories.citywide.iloc[-1]["share"])
print(json.dumps(out))
"""


def make_categories(city: Path, folder: Path, n_categories: int = 9, seed: int = 1) -> None:
    """``n_categories`` registry files of random street points, as many as the spaces."""
    import numpy as np
    import pandas as pd

    import fifteenmin as fm

    streets = fm.read_streets(city / "city.osm.pbf")
    n = len(pd.read_csv(city / "spaces.csv"))
    rng = np.random.default_rng(seed)
    lonlat = streets.node_lonlat
    for c in range(n_categories):
        pick = rng.choice(len(lonlat), n, replace=False)
        pd.DataFrame(
            {"space_id": [f"c{c}-{i}" for i in range(n)], "lon": lonlat[pick, 0],
             "lat": lonlat[pick, 1]}
        ).to_csv(folder / f"cat{c}.csv", index=False)  # fmt: skip


def run(city: Path, cats: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(city), cats], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--size", default="l")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    city = args.data_dir / args.size
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        make_categories(city, Path(tmp))
        print(f"category files written in {time.perf_counter() - t0:.1f} s (untimed)")
        one, ten = [], []
        for _ in range(args.repeat):
            one.append(run(city, "-"))
            ten.append(run(city, tmp))
    s1 = statistics.median(r["seconds"] for r in one)
    s10 = statistics.median(r["seconds"] for r in ten)
    p1, p10 = max(r["peak_mib"] for r in one), max(r["peak_mib"] for r in ten)
    print(
        f"size {args.size}: one category {s1:.1f} s (peak {p1:.0f} MiB), ten categories "
        f"{s10:.1f} s (peak {p10:.0f} MiB), ratio {s10 / s1:.2f}; share within 15 min of all "
        f"ten: {ten[0]['all_share']:.1%}"
    )


if __name__ == "__main__":
    main()
