"""Smoke test of the benchmark harness (benchmarks/) at the smallest city size."""

from __future__ import annotations

import csv
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SIZE = "xs"
KEEP_EVERY = 10  # keep every 10th space: the OSMnx recipe costs ~0.3 s per space


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    """The ``make_city`` and ``run`` scripts, imported as modules."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("make_city"), importlib.import_module("run")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def data_dir(
    bench: tuple[ModuleType, ModuleType], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The smallest city in a temporary folder, with a tenth of its spaces."""
    make_city, _ = bench
    data = tmp_path_factory.mktemp("bench")
    make_city.generate_city(SIZE, data)
    path = data / SIZE / "spaces.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[::KEEP_EVERY])
    return data


def test_generator_is_deterministic_and_consistent(
    bench: tuple[ModuleType, ModuleType], data_dir: Path, tmp_path: Path
) -> None:
    make_city, _ = bench
    again = make_city.generate_city(SIZE, tmp_path)
    assert (tmp_path / SIZE / "city.osm").read_bytes() == (
        data_dir / SIZE / "city.osm"
    ).read_bytes()
    assert again.walk_intersections > 0.5 * make_city.SIZES[SIZE].n ** 2
    assert again.spaces >= 120
    lonlat = {
        (row["lon"], row["lat"]) for row in csv.DictReader((tmp_path / SIZE / "spaces.csv").open())
    }
    assert len(lonlat) == again.spaces


def test_peers_agree(bench: tuple[ModuleType, ModuleType], data_dir: Path) -> None:
    _, run = bench
    systems = ["osmnx_recipe", "pandana", "scipy_floor"]
    report = run.run_benchmark([SIZE], systems, repeat=1, data_dir=data_dir, log=lambda _: None)
    assert report.reference[SIZE] == "scipy_floor"
    for system in systems:
        m = report.get(SIZE, system)
        assert len(m.seconds) == 1 and m.agreement, system
    meta = report.sizes[SIZE]
    with np.load(data_dir / SIZE / "walk_graph.npz") as graph:
        assert graph["osmid"].size == meta["walk_nodes"]  # OSMnx sees the generator's graph
    text = run.to_markdown(report, "pytest")
    assert all(f"| {s} |" in text for s in systems)


def test_verify_catches_a_wrong_time(bench: tuple[ModuleType, ModuleType]) -> None:
    _, run = bench
    ids = np.arange(1, 101, dtype=np.int64)
    times = np.linspace(0.0, 900.0, 100)
    ref = run.WorkerResult(1.0, {}, 1.0, ids, times)
    wrong = times.copy()
    wrong[50] *= 1 + 1e-5
    with pytest.raises(run.VerificationError, match="1 of 100"):
        run.verify({"scipy_floor": ref, "osmnx_recipe": run.WorkerResult(1.0, {}, 1.0, ids, wrong)})
    coarse = np.float32(times) - 0.004  # pandana: truncated milli-second weights, float32
    _, agreement = run.verify(
        {"scipy_floor": ref, "pandana": run.WorkerResult(1.0, {}, 1.0, ids, coarse)}
    )
    assert "100 nodes" in agreement["pandana"]


def test_fifteenmin_agrees(bench: tuple[ModuleType, ModuleType], data_dir: Path) -> None:
    pytest.importorskip("fifteenmin.cli")
    _, run = bench
    report = run.run_benchmark(
        [SIZE], ["fifteenmin", "scipy_floor"], repeat=1, data_dir=data_dir, log=lambda _: None
    )
    assert report.reference[SIZE] == "fifteenmin"
    assert report.get(SIZE, "scipy_floor").agreement
