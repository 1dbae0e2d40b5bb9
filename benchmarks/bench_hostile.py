"""Hostile but valid inputs grow the work in proportion to their size (issue 10, item 6).

Three cases, each at two sizes a factor of 10 apart, on the synthetic sample city; the
ratio of the times is printed (1 would be constant, 10 proportional, 100 quadratic):

- ``zones``: an H3 hexagon layer of many small zones (``hex:12`` gives about 53,000 over
  the sample city, the most this case reaches; the small size takes a spread subset),
  through ``fm.analyze``;
- ``long_way``: one footway of N nodes zig-zagging across the city, read and analysed;
- ``same_point``: N spaces at one point (a registry row pasted N times), through
  ``fm.analyze`` (spaces at one access point are searched once).

Usage::

    python benchmarks/bench_hostile.py            # all cases, sizes 10,000 and 100,000
    python benchmarks/bench_hostile.py --small 2000 --large 20000 --only long_way
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np

import fifteenmin as fm


def _time(call) -> float:  # noqa: ANN001 - a callable
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call()
    return time.perf_counter() - start


def zones_case(city: fm.sample.SampleCity, n: int) -> tuple[float, int]:
    area = fm.zones_from_file(city.zones).to_crs(4326).union_all()
    hexes = fm.hex_zones(area, 12)
    step = max(1, len(hexes) // n)
    zones = hexes.iloc[::step].head(n).reset_index(drop=True)
    return _time(lambda: fm.analyze(city.network, city.spaces, zones)), len(zones)


def long_way_case(city: fm.sample.SampleCity, n: int, folder: Path) -> tuple[float, int]:
    streets = fm.read_streets(city.network)
    (w, s), (e, nn) = streets.node_lonlat.min(axis=0), streets.node_lonlat.max(axis=0)
    t = np.linspace(0, 1, n)
    lon = w + (e - w) * t
    lat = s + (nn - s) * (0.5 + 0.45 * np.sin(t * 200 * np.pi))
    text = city.network.read_text(encoding="utf-8").rsplit("</osm>", 1)[0]
    ids = np.arange(n) + 10_000_000
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>\n'
        for i, x, y in zip(ids, lon, lat, strict=True)
    )
    refs = "".join(f'<nd ref="{i}"/>' for i in ids)
    way = f'<way id="99999999" version="1">{refs}<tag k="highway" v="footway"/></way>\n'
    path = folder / f"long_way_{n}.osm"
    path.write_text(text + nodes + way + "</osm>\n", encoding="utf-8")
    return _time(lambda: fm.analyze(path, city.spaces, city.zones)), n


def same_point_case(city: fm.sample.SampleCity, n: int) -> tuple[float, int]:
    one = fm.spaces_from_file(city.spaces).iloc[[0]]
    spaces = gpd.GeoDataFrame(
        {"space_id": [f"s{i}" for i in range(n)]}, geometry=[one.geometry.iloc[0]] * n, crs=4326
    )
    return _time(lambda: fm.analyze(city.network, spaces, city.zones)), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--only", choices=["zones", "long_way", "same_point"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        city = fm.sample.write_sample_city(folder / "city")
        cases = {
            "zones": lambda n: zones_case(city, n),
            "long_way": lambda n: long_way_case(city, n, folder),
            "same_point": lambda n: same_point_case(city, n),
        }
        for name, case in cases.items():
            if args.only and name != args.only:
                continue
            (small, n_small), (large, n_large) = case(args.small), case(args.large)
            print(
                f"{name}: {small:.1f} s at {n_small:,}, {large:.1f} s at {n_large:,}: "
                f"x{large / small:.1f} for x{n_large / n_small:.1f} the size"
            )


if __name__ == "__main__":
    main()
