"""Benchmark fifteenmin against its peers on the synthetic city of ``make_city.py``.

Systems (each run in a fresh subprocess, ``python benchmarks/run.py --worker ...``):

``fifteenmin``
    End to end: the ``fifteenmin analyze`` command on ``city.osm.pbf``.
``fifteenmin_search``
    fifteenmin's search alone through its Python API (snapping, graph split and the
    multi-source search), with the network read beforehand.
``osmnx_recipe``
    End to end, the OSMnx-documented way: ``graph_from_xml``, the ``walk`` filter,
    simplification, projection, per-space ``ego_graph`` + 50 m buffers, the zone
    overlay and ``multi_source_dijkstra_path_length``.
``pandana``
    Contraction (``pandana.Network``) and ``nearest_pois`` on the same edges.
``scipy_floor``
    One bare ``scipy.sparse.csgraph.dijkstra(..., min_only=True)`` on the same edges.

Before any timing is printed, every system's walking time from each node to the
nearest space is checked against the reference (fifteenmin when it runs) on the
node ids they share; a disagreement stops the run.

Usage::

    python benchmarks/run.py --sizes xs s m l
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from city_sizes import DEFAULT_DATA_DIR, SIZES

if TYPE_CHECKING:
    import networkx as nx

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS_DIR = HERE / "results"
WALK_SPEED_MPS = 4.8 / 3.6
ISOCHRONE_S = 900.0
BUFFER_M = 50.0
PANDANA_MAXDIST_S = 3600.0
# pandana's contraction hierarchy stores each edge weight as an integer number of
# thousandths (truncated) and returns float32 distances: a path of k edges comes out
# up to k ms short, plus float32 rounding (0.24 ms at 3600 s).
PANDANA_ATOL_S = 0.5
EXACT_RTOL = 1e-6
EXACT_ATOL_S = 1e-6
SYSTEMS = (
    "fifteenmin",
    "fifteenmin_search",
    "fifteenmin_scenario",
    "osmnx_recipe",
    "pandana",
    "scipy_floor",
)
SCOPE = {
    "fifteenmin": "end to end",
    "fifteenmin_search": "search",
    "fifteenmin_scenario": "scenario",
    "osmnx_recipe": "end to end",
    "pandana": "search",
    "scipy_floor": "search",
}
BASELINE = {
    "end to end": "fifteenmin",
    "search": "fifteenmin_search",
    "scenario": "fifteenmin_scenario",
}
NEEDS_GRAPH = ("pandana", "scipy_floor")
GRAPH_CACHE_VERSION = 2
REFERENCE_ORDER = (
    "fifteenmin",
    "fifteenmin_search",
    "fifteenmin_scenario",
    "scipy_floor",
    "osmnx_recipe",
    "pandana",
)
SCENARIO_RUNS = 6


class VerificationError(RuntimeError):
    """A system's walking times disagree with the reference."""


@dataclass(frozen=True)
class City:
    """Paths of one generated city size.

    Parameters
    ----------
    directory : pathlib.Path
        ``<data-dir>/<size>`` as written by ``make_city.py``.
    """

    directory: Path

    @property
    def pbf(self) -> Path:
        """``city.osm.pbf``."""
        return self.directory / "city.osm.pbf"

    @property
    def xml(self) -> Path:
        """``city.osm`` (OSM XML, for OSMnx)."""
        return self.directory / "city.osm"

    @property
    def spaces(self) -> Path:
        """``spaces.csv``."""
        return self.directory / "spaces.csv"

    @property
    def zones(self) -> Path:
        """``zones.geojson``."""
        return self.directory / "zones.geojson"

    @property
    def graph_cache(self) -> Path:
        """OSMnx walking graph as arrays, shared by pandana and the SciPy floor."""
        return self.directory / "walk_graph.npz"

    def meta(self) -> dict:
        """Contents of ``meta.json``."""
        return json.loads((self.directory / "meta.json").read_text())

    def check(self) -> None:
        """Raise if any input file is missing."""
        for path in (self.pbf, self.xml, self.spaces, self.zones, self.directory / "meta.json"):
            if not path.exists():
                size = self.directory.name
                raise FileNotFoundError(
                    f"{path} is missing; run: python benchmarks/make_city.py --size {size}"
                )


@dataclass
class WorkerResult:
    """What one system run reports.

    Attributes
    ----------
    seconds : float
        Wall time of the timed region.
    phases : dict
        Named parts of ``seconds`` (or notes) in seconds.
    peak_rss_mb : float
        Peak resident set size of the process doing the work, MiB.
    osmid : numpy.ndarray
        Node ids.
    walk_time_s : numpy.ndarray
        Walking time from each node to the nearest space (inf if none).
    """

    seconds: float
    phases: dict[str, float]
    peak_rss_mb: float
    osmid: np.ndarray = field(repr=False)
    walk_time_s: np.ndarray = field(repr=False)


@dataclass
class Measurement:
    """All runs of one system at one size.

    Attributes
    ----------
    system, size : str
        What was measured.
    seconds : list of float
        Timed region of every run.
    peak_rss_mb : list of float
        Peak RSS of every run.
    phases : list of dict
        Phases of every run.
    note : str
        Why fewer runs were made, or why there is no result.
    agreement : str
        Outcome of the check against the reference.
    """

    system: str
    size: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)
    note: str = ""
    agreement: str = ""

    @property
    def median(self) -> float:
        """Median wall time, NaN without runs."""
        return float(np.median(self.seconds)) if self.seconds else float("nan")

    @property
    def median_phases(self) -> dict[str, float]:
        """Phases of the median run (the faster middle one for an even count)."""
        if not self.phases:
            return {}
        return self.phases[int(np.argsort(self.seconds)[(len(self.seconds) - 1) // 2])]


# --------------------------------------------------------------------------- workers


def _peak_rss_mb() -> float:
    """Peak resident set size of this process, MiB.

    Linux's ``VmHWM`` when available: ``ru_maxrss`` of ``RUSAGE_SELF`` also counts the
    high-water mark of the parent that forked this process, which would put a floor
    under a lean worker.
    """
    status = Path("/proc/self/status")
    if status.exists():
        found = re.search(r"VmHWM:\s*(\d+) kB", status.read_text())
        if found:
            return int(found.group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _spaces_lonlat(city: City) -> np.ndarray:
    """``(k, 2)`` longitude/latitude of the spaces, parsed with ``float`` as OSMnx does."""
    with city.spaces.open(newline="", encoding="utf-8") as f:
        return np.array([(float(row["lon"]), float(row["lat"])) for row in csv.DictReader(f)])


def _project(lonlat: np.ndarray, crs: str) -> np.ndarray:
    """Project longitude/latitude to ``crs`` the way OSMnx projects graph nodes."""
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]), crs=4326).to_crs(crs)
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _osmnx_walk_filter() -> list[tuple[str, re.Pattern[str] | None]]:
    """OSMnx's own ``walk`` Overpass filter as ``(key, excluded regex or None)``.

    ``None`` means the key must be present; a regex excludes ways whose value matches
    it anywhere (Overpass ``!~``, which also passes ways without the key).
    """
    from osmnx import _overpass

    text = _overpass._get_network_filter("walk")
    rules = re.findall(r'\["([^"]+)"(?:!~"([^"]*)")?\]', text)
    if not rules or "".join(f'["{k}"' + (f'!~"{v}"' if v else "") + "]" for k, v in rules) != text:
        raise RuntimeError(f"cannot parse the OSMnx walk filter {text!r}")
    return [(k, re.compile(v) if v else None) for k, v in rules]


def osmnx_walk_graph(osm_xml: Path) -> nx.MultiDiGraph:
    """Load the walking network the OSMnx way, with ``travel_time``.

    ``graph_from_xml`` cannot take a network type, so the graph is read unsimplified,
    the ``walk`` filter is applied to the edges' OSM tags, and only then is it
    simplified (simplifying first would merge walkable and non-walkable ways).

    Parameters
    ----------
    osm_xml : pathlib.Path
        OSM XML file.

    Returns
    -------
    networkx.MultiDiGraph
        Simplified walking graph in longitude/latitude; ``travel_time`` in seconds
        at 4.8 km/h.
    """
    import networkx as nx
    import osmnx as ox

    rules = _osmnx_walk_filter()
    ox.settings.useful_tags_way = sorted({*ox.settings.useful_tags_way, *(k for k, _ in rules)})
    graph = ox.graph_from_xml(osm_xml, bidirectional=True, simplify=False, retain_all=True)

    def walkable(data: dict) -> bool:
        for key, pattern in rules:
            value = data.get(key)
            if pattern is None and value is None:
                return False
            if pattern is not None and value is not None and pattern.search(str(value)):
                return False
        return True

    graph.remove_edges_from(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not walkable(d)]
    )
    graph.remove_nodes_from(list(nx.isolates(graph)))
    graph = ox.simplify_graph(graph)
    for _, _, data in graph.edges(data=True):
        data["travel_time"] = data["length"] / WALK_SPEED_MPS
    return graph


def _graph_arrays(graph: nx.MultiDiGraph) -> dict[str, np.ndarray]:
    """Arrays of an unprojected walking graph for pandana and the SciPy floor.

    Nodes with longitude/latitude and projected coordinates; undirected edges with the
    shortest of parallel edges and no self-loops.
    """
    import osmnx as ox

    osmid = np.fromiter(graph.nodes, dtype=np.int64, count=len(graph))
    projected = ox.project_graph(graph)
    index = {n: i for i, n in enumerate(osmid.tolist())}
    u = np.array([index[a] for a, _ in graph.edges()], dtype=np.int64)
    v = np.array([index[b] for _, b in graph.edges()], dtype=np.int64)
    w = np.array([t for _, _, t in graph.edges(data="travel_time")], dtype=np.float64)
    a, b = np.minimum(u, v), np.maximum(u, v)
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(a.size, bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return {
        "osmid": osmid,
        "lon": np.array([graph.nodes[n]["x"] for n in osmid.tolist()]),
        "lat": np.array([graph.nodes[n]["y"] for n in osmid.tolist()]),
        "x": np.array([projected.nodes[n]["x"] for n in osmid.tolist()]),
        "y": np.array([projected.nodes[n]["y"] for n in osmid.tolist()]),
        "u": a[first],
        "v": b[first],
        "walk_time_s": w[first],
    }


def _source_stamp(city: City) -> np.ndarray:
    """Identifies the cache layout and the ``city.osm`` a graph cache was built from."""
    stat = city.xml.stat()
    return np.array([GRAPH_CACHE_VERSION, stat.st_size, stat.st_mtime_ns], dtype=np.int64)


def graph_cache_is_fresh(city: City) -> bool:
    """Whether ``walk_graph.npz`` exists and was built from the current ``city.osm``.

    Parameters
    ----------
    city : City
        The city.

    Returns
    -------
    bool
        True when the cache can be used.
    """
    if not city.graph_cache.exists():
        return False
    with np.load(city.graph_cache) as cache:
        return bool(np.array_equal(cache["source"], _source_stamp(city)))


def _load_graph(city: City) -> dict[str, np.ndarray]:
    with np.load(city.graph_cache) as cache:
        return {k: cache[k] for k in cache.files}


def _source_index(graph: dict[str, np.ndarray], city: City) -> np.ndarray:
    """Graph node index of every space, matched on identical coordinates.

    The generator puts every space exactly on an intersection node, so snapping to
    the nearest node is exact; a space off the graph's nodes is an error.
    """
    nodes = np.column_stack([graph["lon"], graph["lat"]]).tolist()
    index = {tuple(p): i for i, p in enumerate(nodes)}
    spaces = [tuple(p) for p in _spaces_lonlat(city).tolist()]
    missing = [p for p in spaces if p not in index]
    if missing:
        raise RuntimeError(
            f"{len(missing)} space(s) not on a walking-graph node, e.g. {missing[0]}"
        )
    return np.array([index[p] for p in spaces], dtype=np.int64)


def worker_prepare(city: City) -> WorkerResult:
    """Build the shared walking graph cache with OSMnx (not a benchmarked system)."""
    t0 = time.perf_counter()
    arrays = _graph_arrays(osmnx_walk_graph(city.xml))
    np.savez(city.graph_cache, source=_source_stamp(city), **arrays)
    empty = np.empty(0)
    return WorkerResult(
        time.perf_counter() - t0,
        {},
        _peak_rss_mb(),
        empty.astype(np.int64),
        empty,
    )


def _fifteenmin_command() -> list[str]:
    """The ``fifteenmin`` console script next to this interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("fifteenmin")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fifteenmin.cli"]


def worker_fifteenmin(city: City) -> WorkerResult:
    """Time ``fifteenmin analyze`` end to end and read back its ``walk_times.gpkg``.

    The peak RSS is the command's (``RUSAGE_CHILDREN``); this worker imports nothing
    heavy before starting it, so the floor inherited from it stays small.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        cmd = [
            *_fifteenmin_command(), "analyze",
            "--network", str(city.pbf),
            "--spaces", str(city.spaces),
            "--zones", str(city.zones),
            "--population-column", "population",
            "--out", str(out),
            "--quiet",
        ]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        seconds = time.perf_counter() - t0
        import pyogrio

        nodes = pyogrio.read_dataframe(
            out / "walk_times.gpkg",
            layer="walk_times",
            columns=["osmid", "walk_time_s"],
            read_geometry=False,
        )
    return WorkerResult(
        seconds,
        {},
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        nodes["osmid"].to_numpy(dtype=np.int64),
        nodes["walk_time_s"].to_numpy(dtype=float),
    )


def worker_fifteenmin_search(city: City) -> WorkerResult:
    """Time fifteenmin's search alone through its Python API.

    HOOK(lead): this is the one place that calls fifteenmin's search API; it uses
    ``fifteenmin.read_streets``, ``fifteenmin.spaces_from_file`` and
    ``fifteenmin.travel.walk_times`` (snapping, graph split, multi-source Dijkstra).
    Adjust here if that API changes.
    """
    import fifteenmin as fm

    t0 = time.perf_counter()
    streets = fm.read_streets(city.pbf)
    t_read = time.perf_counter() - t0
    spaces = fm.spaces_from_file(city.spaces)
    # first call: builds the network's spatial index and sorted edge pairs, which it
    # keeps (the counterpart of the floor's CSR, built outside its timed region); the
    # timed call is the search a planner repeats per scenario on a loaded network
    t0 = time.perf_counter()
    fm.travel.walk_times(streets, spaces)
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    walk = fm.travel.walk_times(streets, spaces)
    seconds = time.perf_counter() - t0
    nodes = walk.node_times()
    return WorkerResult(
        seconds,
        {"read network (untimed)": t_read, "first call, index built (untimed)": t_cold},
        _peak_rss_mb(),
        nodes["osmid"].to_numpy(dtype=np.int64),
        nodes["walk_time_s"].to_numpy(dtype=float),
    )


def worker_fifteenmin_scenario(city: City) -> WorkerResult:
    """Time one what-if scenario on a loaded analysis through the Python API.

    HOOK(lead): ``fifteenmin.analyze`` (untimed), then ``Scenarios(analysis).figures``:
    the first call (untimed) builds the street pieces; the timed calls alternate adding
    one new space (at a street node's coordinates, moved 20 m) and removing one space,
    and recompute every zone's residents within 5, 10 and 15 minutes. The time is the
    median of :data:`SCENARIO_RUNS` scenarios.
    """
    import geopandas as gpd

    import fifteenmin as fm
    from fifteenmin.scenarios import Scenarios

    t0 = time.perf_counter()
    result = fm.analyze(
        city.pbf, city.spaces, city.zones, population_column="population", progress=False
    )
    t_analyze = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = Scenarios(result)
    engine.figures()
    t_first = time.perf_counter() - t0
    ids = result.spaces["space_id"].astype(str).to_numpy()
    xy = result.walk.streets.node_xy
    rng = np.random.default_rng(0)
    times = []
    for i in range(SCENARIO_RUNS):
        if i % 2 == 0:
            x, y = xy[rng.integers(len(xy))] + 20.0
            new = gpd.GeoDataFrame(
                {"space_id": [f"new-{i}"]}, geometry=gpd.points_from_xy([x], [y]),
                crs=result.walk.streets.crs,
            )  # fmt: skip
            t0 = time.perf_counter()
            engine.figures(add=new)
        else:
            t0 = time.perf_counter()
            engine.figures(remove=[ids[rng.integers(len(ids))]])
        times.append(time.perf_counter() - t0)
    nodes = result.walk.node_times()
    return WorkerResult(
        float(np.median(times)),
        {"analyze (untimed)": t_analyze, "first figures (untimed)": t_first},
        _peak_rss_mb(),
        nodes["osmid"].to_numpy(dtype=np.int64),
        nodes["walk_time_s"].to_numpy(dtype=float),
    )


def worker_osmnx_recipe(city: City) -> WorkerResult:
    """Time the OSMnx recipe end to end."""
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import shapely

    lonlat = _spaces_lonlat(city)
    zones = gpd.read_file(city.zones)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    graph = ox.project_graph(osmnx_walk_graph(city.xml))
    phases["load"] = time.perf_counter() - t0

    t = time.perf_counter()
    xy = _project(lonlat, graph.graph["crs"])
    sources = sorted(set(ox.distance.nearest_nodes(graph, xy[:, 0], xy[:, 1]).tolist()))
    reach = []
    for node in sources:
        sub = nx.ego_graph(graph, node, radius=ISOCHRONE_S, distance="travel_time")
        if sub.number_of_edges():
            edges = ox.graph_to_gdfs(sub, nodes=False)
            reach.append(shapely.union_all(edges.geometry.buffer(BUFFER_M).to_numpy()))
    covered = gpd.GeoDataFrame(geometry=[shapely.union_all(reach)], crs=graph.graph["crs"])
    phases["isochrones"] = time.perf_counter() - t

    t = time.perf_counter()
    zones = zones.to_crs(graph.graph["crs"])
    zones["area"] = zones.area
    parts = gpd.overlay(zones[["zone_id", "area", "geometry"]], covered, how="intersection")
    share = (parts.area / parts["area"]).groupby(parts["zone_id"]).sum()
    zones["covered_share"] = zones["zone_id"].map(share).fillna(0.0)  # the recipe's product
    phases["zones"] = time.perf_counter() - t

    t = time.perf_counter()
    dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="travel_time")
    phases["nearest"] = time.perf_counter() - t
    seconds = time.perf_counter() - t0

    osmid = np.fromiter(graph.nodes, dtype=np.int64, count=len(graph))
    times = np.array([dist.get(n, np.inf) for n in osmid.tolist()])
    return WorkerResult(seconds, phases, _peak_rss_mb(), osmid, times)


def worker_pandana(city: City) -> WorkerResult:
    """Time pandana's contraction and ``nearest_pois`` on the shared walking graph."""
    import pandana
    import pandas as pd

    g = _load_graph(city)
    ids = g["osmid"]
    poi = _source_index(g, city)  # the spaces' projected coordinates are their nodes'
    t0 = time.perf_counter()
    net = pandana.Network(
        pd.Series(g["x"], index=ids),
        pd.Series(g["y"], index=ids),
        pd.Series(ids[g["u"]]),
        pd.Series(ids[g["v"]]),
        pd.DataFrame({"walk_time_s": g["walk_time_s"]}),
        twoway=True,
    )
    t_setup = time.perf_counter() - t0
    t = time.perf_counter()
    net.set_pois(
        "spaces",
        maxdist=PANDANA_MAXDIST_S,
        maxitems=1,
        x_col=pd.Series(g["x"][poi]),
        y_col=pd.Series(g["y"][poi]),
    )
    nearest = net.nearest_pois(PANDANA_MAXDIST_S, "spaces", num_pois=1)[1]
    t_query = time.perf_counter() - t
    return WorkerResult(
        t_setup + t_query,
        {"setup": t_setup, "query": t_query},
        _peak_rss_mb(),
        nearest.index.to_numpy(dtype=np.int64),
        nearest.to_numpy(dtype=float),
    )


def worker_scipy_floor(city: City) -> WorkerResult:
    """Time one bare multi-source ``scipy.sparse.csgraph.dijkstra`` call."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    g = _load_graph(city)
    n = g["osmid"].size
    csr = sp.csr_matrix((g["walk_time_s"], (g["u"], g["v"])), shape=(n, n))
    sources = np.unique(_source_index(g, city))
    t0 = time.perf_counter()
    dist = dijkstra(csr, directed=False, indices=sources, min_only=True)
    seconds = time.perf_counter() - t0
    return WorkerResult(seconds, {}, _peak_rss_mb(), g["osmid"], dist)


WORKERS: dict[str, Callable[[City], WorkerResult]] = {
    "prepare": worker_prepare,
    "fifteenmin": worker_fifteenmin,
    "fifteenmin_search": worker_fifteenmin_search,
    "fifteenmin_scenario": worker_fifteenmin_scenario,
    "osmnx_recipe": worker_osmnx_recipe,
    "pandana": worker_pandana,
    "scipy_floor": worker_scipy_floor,
}


def run_worker(system: str, city: City, out: Path) -> None:
    """Run one system once and save its result to ``out`` (``.npz``).

    Parameters
    ----------
    system : str
        A key of :data:`WORKERS`.
    city : City
        Input city.
    out : pathlib.Path
        Result file.
    """
    result = WORKERS[system](city)
    info = {"seconds": result.seconds, "phases": result.phases, "peak_rss_mb": result.peak_rss_mb}
    with out.open("wb") as f:
        np.savez(
            f, osmid=result.osmid, walk_time_s=result.walk_time_s, info=np.array(json.dumps(info))
        )


# --------------------------------------------------------------------------- harness


def snapshot_fifteenmin(dest: Path) -> tuple[dict[str, str], str]:
    """Copy fifteenmin's package source to ``dest`` and describe its revision.

    Workers import fifteenmin from this copy (through ``PYTHONPATH``), so edits to the
    source during a long run cannot mix versions across sizes.

    Parameters
    ----------
    dest : pathlib.Path
        Empty folder for the copy.

    Returns
    -------
    env : dict
        Environment for the worker processes.
    revision : str
        Git revision of the copied source, for the report.
    """
    env = dict(os.environ)
    spec = importlib.util.find_spec("fifteenmin")  # a top-level spec imports nothing
    if spec is None or not spec.submodule_search_locations:
        return env, "not installed"
    src = Path(next(iter(spec.submodule_search_locations)))
    shutil.copytree(src, dest / "fifteenmin", ignore=shutil.ignore_patterns("__pycache__"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(dest), env.get("PYTHONPATH")) if p)

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=src, capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return env, f"{src} (not a git checkout)"
    dirty = git("diff", "--quiet", "HEAD", "--", ".").returncode != 0 or bool(
        git("ls-files", "--others", "--exclude-standard", ".").stdout.strip()
    )
    return env, f"commit {head.stdout.strip()}" + (" + uncommitted changes" if dirty else "")


def available(system: str, env: dict[str, str]) -> bool:
    """Whether a system can run here (fifteenmin's parts need its CLI / API importable).

    Parameters
    ----------
    system : str
        System name.
    env : dict
        Environment of the workers.

    Returns
    -------
    bool
        False when the fifteenmin module the system needs is not importable.
    """
    module = {
        "fifteenmin": "fifteenmin.cli",
        "fifteenmin_search": "fifteenmin.travel",
        "fifteenmin_scenario": "fifteenmin.scenarios",
    }.get(system)
    if module is None:
        return True
    # Import in a subprocess: keeps this (forking) process lean, see _peak_rss_mb.
    check = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)
    return check.returncode == 0


def spawn(
    system: str, size: str, data_dir: Path, out: Path, timeout_s: float, env: dict[str, str]
) -> WorkerResult | None:
    """Run one worker in a fresh subprocess.

    Parameters
    ----------
    system : str
        Worker name.
    size : str
        City size.
    data_dir : pathlib.Path
        Parent of the size directories.
    out : pathlib.Path
        Result file for the worker.
    timeout_s : float
        Kill the worker (and its children) after this many seconds.
    env : dict
        Environment of the worker.

    Returns
    -------
    WorkerResult or None
        None when the worker timed out.

    Raises
    ------
    RuntimeError
        If the worker fails.
    """
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        system,
        "--size",
        size,
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        log, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    if proc.returncode != 0:
        raise RuntimeError(
            f"{system} at size {size} failed (exit {proc.returncode}):\n{log[-4000:]}"
        )
    with np.load(out) as data:
        info = json.loads(str(data["info"]))
        return WorkerResult(
            info["seconds"], info["phases"], info["peak_rss_mb"], data["osmid"], data["walk_time_s"]
        )


def _agreement(system: str, got: WorkerResult, ref_name: str, ref: WorkerResult) -> str:
    """Compare per-node times with the reference; raise :class:`VerificationError`."""
    common, i_ref, i_got = np.intersect1d(ref.osmid, got.osmid, return_indices=True)
    if common.size < 0.5 * min(ref.osmid.size, got.osmid.size) or common.size == 0:
        raise VerificationError(
            f"{system} and {ref_name} share only {common.size} node ids "
            f"({got.osmid.size} vs {ref.osmid.size} nodes): not the same network"
        )
    expect = np.nan_to_num(ref.walk_time_s[i_ref], nan=np.inf)
    value = np.nan_to_num(got.walk_time_s[i_got], nan=np.inf)
    if system == "pandana":
        expect = np.minimum(expect, PANDANA_MAXDIST_S)
        ok = np.abs(value - expect) <= PANDANA_ATOL_S
        rule = f"Δ ≤ {PANDANA_ATOL_S} s"
    else:
        ok = (value == expect) | np.isclose(value, expect, rtol=EXACT_RTOL, atol=EXACT_ATOL_S)
        rule = f"rel ≤ {EXACT_RTOL:g}"
    finite = np.isfinite(expect) & np.isfinite(value)
    diff = np.abs(value - expect)[finite]
    worst = float(diff.max()) if diff.size else 0.0
    if not ok.all():
        bad = np.flatnonzero(~ok)
        k = bad[np.argmax(np.nan_to_num(np.abs(value - expect)[bad], posinf=np.inf))]
        raise VerificationError(
            f"{system} disagrees with {ref_name} at {bad.size} of {common.size} common nodes "
            f"({rule}); e.g. node {common[k]}: {value[k]!r} s vs {expect[k]!r} s"
        )
    return f"{common.size:,} nodes, {rule}, max Δ {worst:.1e} s"


def verify(results: dict[str, WorkerResult]) -> tuple[str, dict[str, str]]:
    """Check every system's per-node times against the reference system.

    Parameters
    ----------
    results : dict
        First-run result of every system that produced one, at one size.

    Returns
    -------
    reference : str
        The reference system (fifteenmin when it ran).
    agreement : dict
        Summary of the check per system.

    Raises
    ------
    VerificationError
        If any system disagrees or the node sets barely overlap.
    """
    ref_name = next(s for s in REFERENCE_ORDER if s in results)
    ref = results[ref_name]
    agreement = {ref_name: f"reference ({ref.osmid.size:,} nodes)"}
    for system, got in results.items():
        if system != ref_name:
            agreement[system] = _agreement(system, got, ref_name, ref)
    return ref_name, agreement


@dataclass
class Report:
    """Everything a benchmark run measured.

    Attributes
    ----------
    sizes : dict
        ``meta.json`` of each size.
    measurements : list of Measurement
        One per (size, system).
    reference : dict
        Reference system per size.
    prepare_seconds : dict
        Time spent building the shared walking graph per size (untimed setup).
    load_average : list of float
        1-minute load average of the machine at the start and at the end.
    fifteenmin_revision : str
        Git revision of the fifteenmin source that was benchmarked.
    """

    sizes: dict[str, dict] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    reference: dict[str, str] = field(default_factory=dict)
    prepare_seconds: dict[str, float] = field(default_factory=dict)
    load_average: list[float] = field(default_factory=lambda: [os.getloadavg()[0]])
    fifteenmin_revision: str = ""

    def get(self, size: str, system: str) -> Measurement | None:
        """The measurement of ``system`` at ``size``, if any."""
        return next((m for m in self.measurements if m.size == size and m.system == system), None)


def run_benchmark(
    sizes: Sequence[str],
    systems: Sequence[str],
    *,
    repeat: int = 3,
    budget_s: float = 600.0,
    timeout_s: float = 3600.0,
    data_dir: Path = DEFAULT_DATA_DIR,
    log: Callable[[str], None] = print,
) -> Report:
    """Run and verify every system at every size.

    Parameters
    ----------
    sizes : sequence of str
        City sizes (generated beforehand with ``make_city.py``).
    systems : sequence of str
        Systems from :data:`SYSTEMS`; unavailable ones are listed but not run.
    repeat : int
        Runs per system and size; the median is reported.
    budget_s : float
        A system whose first run exceeds this is not repeated at that size.
    timeout_s : float
        A run exceeding this is killed and reported as timed out.
    data_dir : pathlib.Path
        Parent of the size directories.
    log : callable
        Progress output.

    Returns
    -------
    Report
        The verified measurements.

    Raises
    ------
    VerificationError
        If any system's walking times disagree with the reference.
    """
    report = Report()
    with tempfile.TemporaryDirectory(prefix="fifteenmin-bench-") as tmp:
        env, report.fifteenmin_revision = snapshot_fifteenmin(Path(tmp) / "src")
        runnable = [s for s in systems if available(s, env)]
        for size in sizes:
            city = City(data_dir / size)
            city.check()
            report.sizes[size] = city.meta()
            if any(s in NEEDS_GRAPH for s in runnable) and not graph_cache_is_fresh(city):
                log(f"[{size}] building the shared OSMnx walking graph (untimed)")
                t0 = time.perf_counter()
                spawn("prepare", size, data_dir, Path(tmp) / "prepare.npz", timeout_s, env)
                report.prepare_seconds[size] = time.perf_counter() - t0
            firsts: dict[str, WorkerResult] = {}
            for system in systems:
                m = Measurement(system, size)
                report.measurements.append(m)
                if system not in runnable:
                    m.note = "not available (fifteenmin not importable)"
                    continue
                for r in range(repeat):
                    res = spawn(
                        system,
                        size,
                        data_dir,
                        Path(tmp) / f"{size}-{system}-{r}.npz",
                        timeout_s,
                        env,
                    )
                    if res is None:
                        m.note = f"killed after {timeout_s:.0f} s"
                        break
                    log(
                        f"[{size}] {system} run {r + 1}: {res.seconds:.2f} s, "
                        f"{res.peak_rss_mb:.0f} MiB"
                    )
                    m.seconds.append(res.seconds)
                    m.peak_rss_mb.append(res.peak_rss_mb)
                    m.phases.append(res.phases)
                    if r == 0:
                        firsts[system] = res
                    if res.seconds > budget_s and r + 1 < repeat:
                        m.note = f"1 run only: over the {budget_s:.0f} s budget"
                        break
            if firsts:
                report.reference[size], agreement = verify(firsts)
                for system, text in agreement.items():
                    report.get(size, system).agreement = text
    report.load_average.append(os.getloadavg()[0])
    return report


def growth_exponent(edges: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of ``log(seconds)`` against ``log(edges)``.

    Parameters
    ----------
    edges, seconds : sequence of float
        Graph size and time at each size (at least two).

    Returns
    -------
    float
        ``k`` in ``time ∝ edges**k``.

    Examples
    --------
    >>> round(growth_exponent([1e3, 1e4, 1e5], [0.1, 1.0, 10.0]), 6)
    1.0
    """
    k, _ = np.polyfit(np.log(edges), np.log(seconds), 1)
    return float(k)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        mem = f", {int(found.group(1)) / 2**20:.0f} GiB RAM" if found else ""
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} logical cores{mem}, {system}"


def _versions() -> str:
    out = [f"Python {platform.python_version()}"]
    for name in ("fifteenmin", "osmnx", "networkx", "pandana", "scipy", "numpy", "shapely"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} absent")
    return ", ".join(out)


def _fmt_phases(phases: dict[str, float]) -> str:
    return " · ".join(f"{k} {v:.2f}" for k, v in phases.items())


def to_markdown(report: Report, command: str) -> str:
    """Render a report as Markdown.

    Parameters
    ----------
    report : Report
        Measurements.
    command : str
        Command line that produced them.

    Returns
    -------
    str
        Markdown document.
    """
    lines = [
        f"# fifteenmin benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "",
        f"- Machine: {_machine()}; 1-minute load average "
        + " → ".join(f"{x:.1f}" for x in report.load_average)
        + " (start → end; above the core count, other jobs shared the machine)",
        f"- Software: {_versions()}; fifteenmin source {report.fifteenmin_revision} "
        "(copied at the start of the run)",
        f"- Command: `{command}`",
        "- Time: median wall time of the runs, seconds; *end to end* runs read the OSM file "
        "and write/compute everything, *search* runs start from a loaded network.",
        "- × fifteenmin: time ÷ fifteenmin's time of the same scope "
        "(end to end ÷ `fifteenmin`, search ÷ `fifteenmin_search`).",
        "- Peak RSS: peak resident memory of the process doing the work, interpreter and "
        "imports included (`VmHWM` of the worker; `ru_maxrss` of the CLI process for "
        "`fifteenmin`), MiB.",
        "- Agreement: walking time from every shared node to the nearest space versus the "
        f"reference; relative {EXACT_RTOL:g} for exact systems, ±{PANDANA_ATOL_S} s for pandana "
        "(integer milli-second weights, float32 output).",
        "",
    ]
    for size, meta in report.sizes.items():
        lines += [
            f"## Size `{size}`: {meta['walk_nodes']:,} nodes, "
            f"{meta['walk_edges_directed']:,} directed walkable edges, {meta['spaces']} spaces, "
            f"{meta['osm_nodes']:,} OSM nodes",
            "",
            "| system | scope | time (s) | runs | peak RSS (MiB) | × fifteenmin | phases (s) "
            "| agreement |",
            "|---|---|---:|---:|---:|---:|---|---|",
        ]
        for m in (m for m in report.measurements if m.size == size):
            if not m.seconds:
                lines.append(f"| {m.system} | {SCOPE[m.system]} | – | 0 | – | – | | {m.note} |")
                continue
            base = report.get(size, BASELINE[SCOPE[m.system]])
            ratio = f"{m.median / base.median:.2f}" if base and base.seconds else "–"
            runs = f"{len(m.seconds)}" + (f" ({m.note})" if m.note else "")
            phases = _fmt_phases(m.median_phases)
            lines.append(
                f"| {m.system} | {SCOPE[m.system]} | {m.median:.3f} | {runs} | "
                f"{max(m.peak_rss_mb):.0f} | {ratio} | {phases} | {m.agreement} |"
            )
        lines.append("")
    systems = list(dict.fromkeys(m.system for m in report.measurements))
    lines += [
        "## Growth with network size",
        "",
        "Least-squares slope k of log(time) against log(directed walkable edges): time ∝ edges^k.",
        "",
        "| system | k | sizes |",
        "|---|---:|---|",
    ]
    for system in systems:
        pts = [
            (report.sizes[m.size]["walk_edges_directed"], m.median, m.size)
            for m in report.measurements
            if m.system == system and m.seconds
        ]
        if len(pts) >= 2:
            k = growth_exponent([p[0] for p in pts], [p[1] for p in pts])
            lines.append(f"| {system} | {k:.2f} | {' '.join(p[2] for p in pts)} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code.
    """
    parser = argparse.ArgumentParser(description="Benchmark fifteenmin against its peers.")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per system and size")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=600.0,
        help="do not repeat a system whose first run takes longer",
    )
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="kill a run after this")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=list(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, City(args.data_dir / args.size), args.out)
        return 0

    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        report = run_benchmark(
            args.sizes,
            args.systems,
            repeat=args.repeat,
            budget_s=args.budget_s,
            timeout_s=args.timeout_s,
            data_dir=args.data_dir,
            log=lambda msg: print(msg, flush=True),
        )
    except VerificationError as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    text = to_markdown(report, command)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.results_dir / f"{stamp}.md").write_text(text, encoding="utf-8")
    raw = {
        "sizes": report.sizes,
        "reference": report.reference,
        "prepare_seconds": report.prepare_seconds,
        "load_average": report.load_average,
        "fifteenmin_revision": report.fifteenmin_revision,
        "measurements": [asdict(m) for m in report.measurements],
    }
    (args.results_dir / f"{stamp}.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    print(text)
    print(f"written to {args.results_dir / stamp}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
