"""Many areas at once: the analysis of every area of a layer, run on Dask, into one folder."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import io
import json
import logging
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _cluster
from . import _names as N
from ._geom import polygonal
from ._io import (
    VECTOR_SUFFIXES,
    check_file,
    check_output_folder,
    now_utc,
    output_folder,
    read_marker,
    read_vector,
)
from ._osm import check_osm_path
from .errors import FifteenMinError, InputError, Terminated, forget_stop
from .hexagons import parse_hex_spec
from .isochrones import DEFAULT_MINUTES
from .network import DEFAULT_SPEED_KMH, _check_speed
from .spaces import spaces_from_file, spaces_from_frame
from .study_area import StudyArea, as_study_area, walk_margin_m
from .zones import _ID_NAMES, _pick, check_underserved, zones_from_frame

if TYPE_CHECKING:
    from distributed import Client, Future

logger = logging.getLogger(__name__)

ID_COLUMNS = ("area_id", "id", "code", "codice", "pro_com_t", "pro_com", "cod_istat", "fid")
"""Columns taken as the areas' ids (first match, case-insensitive) without ``id_column``."""
NAME_COLUMNS = ("name", "nome", "area_name", "comune", "denominazione", "label")
"""Columns taken as the areas' names without ``name_column`` (else the id)."""

MEMORY_BASE_MB = 400.0
"""Memory of a task before its streets: a worker's libraries and a small area's report
(measured about 290 MB, benchmarks/README.md)."""
MEMORY_PER_SEGMENT_KB = 1.5
"""Memory of a task per street segment of its area's cut, report included (measured about
0.9 KB from 30,000 to 460,000 segments; benchmarks/README.md)."""

OK, FAILED, NO_SPACES, NOT_RUN = "ok", "failed", "no_spaces", "not_run"
STATUSES = (OK, NO_SPACES, FAILED, NOT_RUN)
"""An area's status: analysed; no space within reach (nobody within a walk: no analysis
needed); failed (the reason is recorded); not run (the batch was interrupted first)."""

CONNECT_TIMEOUT_S = 10.0
"""How long :func:`batch` waits for a scheduler given by address."""

MANIFEST = "manifest.json"
ZONES = "zones"
AREAS = "areas"
PARTITION = "area_id"

_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")
_FAULT_ENV = "FIFTEENMIN_TEST_BATCH_FAULT"  # test hook read in batch(): see _faults
_NOT_OPTIONS = {
    "network",
    "spaces",
    "zones",
    "population",
    "boundary",
    "bbox",
    "progress",
    "categories",
    "work_category",
    "lat_column",
    "lon_column",
    "margin_m",
    "minutes",
    "speed_kmh",
    "population_column",
}


@dataclass(frozen=True)
class BatchResult:
    """What :func:`batch` wrote: the folder, the table of areas and the task table."""

    out: Path
    areas: pd.DataFrame
    manifest: dict[str, Any] = field(repr=False)

    def zones(self) -> gpd.GeoDataFrame:
        """Every area's zones, with ``area_id`` (see :func:`read_zones`)."""
        return read_zones(self.out)

    @property
    def failed(self) -> pd.DataFrame:
        """The areas that failed, with their error."""
        return self.areas.loc[self.areas["status"] == FAILED, ["area_id", "name", "error"]]


def read_zones(out: str | Path) -> gpd.GeoDataFrame:
    """The zones of every area of a batch folder (``OUT/zones``), ids kept as text.

    The dataset is partitioned by ``area_id`` (one folder ``area_id=<id>`` per area); read
    this way, ids such as ``058091`` keep their leading zero (a plain
    ``geopandas.read_parquet`` infers numbers from the folder names).
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    folder = Path(out) / ZONES
    if not folder.is_dir():
        raise InputError(f"{out}: no {ZONES}/ folder; give a folder written by fifteenmin batch")
    parts = ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")
    return gpd.read_parquet(folder, partitioning=parts)


# ---------------------------------------------------------------------------- the areas


def areas_from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    where: str = "areas",
) -> gpd.GeoDataFrame:
    """The areas of a batch: ``area_id`` (text), ``name``, ``problem`` and the geometry (EPSG:4326).

    Every area needs an id, unique in the layer, made of letters, digits, ``_``, ``-`` or
    ``.`` (it names the area's folder); a layer without such ids is an error. An area that
    is not a polygon (a point, a line, no geometry) is kept with its ``problem`` said: it is
    recorded as failed, and the others run.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"code": [58091.0, 58092.0], "nome": ["Roma", "x"]},
    ...     geometry=[shapely.box(12.4, 41.8, 12.6, 42.0), shapely.Point(12, 41)], crs=4326)
    >>> areas_from_frame(gdf)[["area_id", "name", "problem"]].values.tolist()
    [['58091', 'Roma', None], ['58092', 'x', 'not a polygon (Point); give the area as a polygon']]
    """
    if gdf.crs is None:
        raise InputError(f"{where}: the areas have no CRS; set one (e.g. EPSG:4326)")
    if len(gdf) == 0:
        raise InputError(f"{where}: the layer has no areas")
    columns = gdf.columns.drop(gdf.geometry.name)
    for given, label in ((id_column, "id"), (name_column, "name")):
        if given is not None and given not in columns:
            raise InputError(
                f"{where}: no column {given!r} for the area {label}; columns are "
                f"{', '.join(map(str, columns))}"
            )
    id_col = id_column or _pick(columns, ID_COLUMNS)
    if id_col is None:
        raise InputError(
            f"{where}: no id column (looked for {', '.join(ID_COLUMNS)}; columns are "
            f"{', '.join(map(str, columns)) or 'none'}); name one with --id-column "
            "(id_column=), e.g. an ISTAT code"
        )
    name_col = name_column or _pick(columns, NAME_COLUMNS)
    cells = [_id_text(v) for v in gdf[id_col].tolist()]
    for row, value in enumerate(cells, start=1):
        if value is None:
            raise InputError(
                f"{where} feature {row}: no id in column {id_col!r}; every area needs one "
                "(it names the area's folder and its rows)"
            )
        if not _SAFE_ID.fullmatch(value):
            raise InputError(
                f"{where} feature {row}: id {value!r} (column {id_col!r}) cannot name a folder; "
                "ids are 1-100 letters, digits, '_', '-' or '.' (not first); choose a code "
                "column with --id-column"
            )
    ids = [str(v) for v in cells]  # none is empty: checked above
    seen: dict[str, int] = {}
    for row, value in enumerate(ids, start=1):
        if value in seen:
            raise InputError(
                f"{where}: area id {value!r} (column {id_col!r}) is on features {seen[value]} "
                f"and {row}; ids must be unique, choose another --id-column"
            )
        seen[value] = row
    names = (
        [str(v) if v is not None and v == v else i for v, i in zip(gdf[name_col], ids, strict=True)]
        if name_col
        else ids
    )
    geoms, problems = [], []
    for geom in gdf.to_crs(4326).geometry.to_numpy():
        area, problem = _area_geometry(geom)
        geoms.append(area)
        problems.append(problem)
    return gpd.GeoDataFrame(
        {"area_id": ids, "name": names, "problem": pd.Series(problems, dtype=object)},
        geometry=geoms,
        crs=4326,
    )


def _id_text(value: Any) -> str | None:
    """An id cell as text: ``1.0`` -> ``"1"``; None for an empty cell."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _area_geometry(geom: Any) -> tuple[shapely.Geometry | None, str | None]:
    """The polygonal part of an area's geometry, or None and why."""
    if geom is None or shapely.is_missing(geom) or geom.is_empty:
        return None, "no geometry; give the area as a polygon"
    if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, f"not a polygon ({geom.geom_type}); give the area as a polygon"
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    area = polygonal(geom)
    if area.is_empty:
        return None, f"not a polygon ({geom.geom_type} without area); give the area as a polygon"
    return area, None


# ---------------------------------------------------------------------------- the plan


@dataclass
class _Entry:
    """One area of the task table (``manifest.json``)."""

    area_id: str
    name: str
    status: str = NOT_RUN
    error: str | None = None
    input_hash: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    street_segments_cut: int | None = None
    memory_estimate_mb: float | None = None
    seconds: float | None = None
    seconds_analyze: float | None = None
    seconds_report: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    worker: str | None = None
    reused: bool = False
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Task:
    """What a worker needs to analyse one area (everything travels with it: the workers of
    a remote cluster need not see this machine's files)."""

    area_id: str
    name: str
    polygon: shapely.Geometry
    network_name: str
    network: bytes
    spaces: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | str
    population: gpd.GeoDataFrame | None
    options: dict[str, Any]
    inputs: dict[str, Any]
    report: bool
    lang: str
    pdf: bool
    texts: dict[str, Any] = field(default_factory=dict)  # title, service_name... of write()
    drop_columns: tuple[str, ...] = ()
    fault: str | None = None


@dataclass(frozen=True)
class _Outcome:
    """What a worker sends back for one area."""

    area_id: str
    status: str
    error: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    zones: bytes | None = None  # GeoParquet of the area's zones (EPSG:4326)
    files: dict[str, bytes] = field(default_factory=dict)  # the area's report folder
    seconds_analyze: float | None = None
    seconds_report: float | None = None
    cpu_seconds: float | None = None  # of the worker process while the task ran
    peak_rss_mb: float | None = None
    worker: str | None = None


class _Layer:
    """A polygon layer read once (zones or population), cut per area by intersection."""

    def __init__(self, raw: gpd.GeoDataFrame) -> None:
        self.raw = raw
        geoms = raw.to_crs(4326).geometry.to_numpy()
        ok = ~shapely.is_missing(geoms)
        bad = ok & ~shapely.is_valid(geoms)
        geoms = np.where(bad, shapely.make_valid(geoms), geoms)
        self.tree = shapely.STRtree(geoms)

    def within(self, polygon: shapely.Geometry) -> gpd.GeoDataFrame:
        rows = np.sort(self.tree.query(polygon, predicate="intersects"))
        return self.raw.iloc[rows].reset_index(drop=True)


def _digest(frame: gpd.GeoDataFrame | None) -> str | None:
    """SHA-256 of a frame's rows (attributes and geometry)."""
    if frame is None:
        return None
    h = hashlib.sha256()
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    h.update(attrs.to_csv(index=False).encode("utf-8"))
    for wkb in shapely.to_wkb(frame.geometry.to_numpy(), hex=True).tolist():
        h.update((wkb or "").encode("ascii"))
    h.update(str(frame.crs).encode("utf-8"))
    return h.hexdigest()


def _hash(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def estimate_memory_mb(street_segments: int) -> float:
    """Memory one area's task needs (analysis and report), from its street segments.

    Examples
    --------
    >>> round(estimate_memory_mb(100_000))
    546
    """
    return MEMORY_BASE_MB + street_segments * MEMORY_PER_SEGMENT_KB / 1024


# ---------------------------------------------------------------------------- the batch


def batch(
    areas: str | Path | gpd.GeoDataFrame,
    network: str | Path,
    spaces: str | Path | gpd.GeoDataFrame,
    zones: str | Path | gpd.GeoDataFrame,
    out: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    population: str | Path | gpd.GeoDataFrame | None = None,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    margin_m: float | None = None,
    lat_column: str | None = None,
    lon_column: str | None = None,
    scheduler: str | Client | None = None,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    area_reports: bool = True,
    lang: str = "en",
    pdf: bool = False,
    title: str | None = None,
    service_name: str | None = None,
    attributions: Sequence[str] | None = None,
    note: str | None = None,
    connect_timeout_s: float | None = None,
    progress: bool = False,
    **options: Any,
) -> BatchResult:
    """Run the analysis of every area of a layer, on Dask, and write one folder.

    Each area is analysed as :func:`~fifteenmin.pipeline.analyze` analyses a ``boundary``:
    its zones clipped to it, the network and spaces within the walking margin around it, so
    that spaces and streets just across its border count. Its figures equal those of
    ``analyze(network, spaces, zones, boundary=area)`` on the same inputs.

    The regional network is read once: its walkable ways are cut into one small file per
    area (the area's box grown by the margin; :func:`fifteenmin._cut.cut_region`), so each
    task's work grows with its area. Tasks run on Dask (``dask.distributed``): by default a
    ``LocalCluster`` started here, one worker process per core (fewer when the largest area
    would not fit in a worker's share of memory), one thread each; or on the running cluster
    at ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``). The largest areas go first; each task
    asks for the memory estimated from its street segments (:func:`estimate_memory_mb`) as
    the worker resource ``MEMORY`` when the workers declare one. A task whose worker dies
    runs again once; dying twice, or raising twice, it is recorded as failed with its
    error, and the other areas complete.

    Parameters
    ----------
    areas
        A polygon layer (file or GeoDataFrame): one area per feature, with an id and a
        name (see :func:`areas_from_frame`).
    network
        The regional OSM extract (``.osm.pbf``, ``.osm``...).
    spaces
        A spaces file (CSV with lat/lon, GeoJSON, GeoPackage) or GeoDataFrame.
    zones
        A polygon layer of zones (file or GeoDataFrame), or ``"hex:RES"``.
    out
        The folder to write (see Notes): new, empty, a batch folder to replace with
        ``overwrite=True``, or to continue with ``resume=True``.
    id_column, name_column
        The areas' id and name columns (default: the first of :data:`ID_COLUMNS`,
        :data:`NAME_COLUMNS`).
    population_column, population, minutes, speed_kmh, margin_m, lat_column, lon_column
        As for :func:`~fifteenmin.pipeline.analyze`.
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``; default
        ``DASK_SCHEDULER_ADDRESS``, else a local cluster.
    workers
        Workers of the local cluster (default: one per core, as memory allows).
    resume
        Continue the batch folder ``out``: areas analysed there whose inputs have not
        changed (the area, its part of every input, the options) are kept, the others run.
    overwrite
        Replace a batch folder written before.
    area_reports
        Write each area's full report folder (``areas/<id>/``); False writes only the
        figures (much faster for thousands of areas: the maps take most of a task).
    lang, pdf
        Language of the reports; also ``report.pdf`` per area.
    title, service_name, attributions, note
        The texts of every area's report and of the batch's own page, as
        :meth:`Analysis.write <fifteenmin.pipeline.Analysis.write>` takes them (the title,
        what the spaces are, the inputs' sources, a note).
    connect_timeout_s
        How long to wait for the ``scheduler`` (default :data:`CONNECT_TIMEOUT_S`).
    progress
        Show a progress bar.
    **options
        Further keyword arguments of :func:`~fifteenmin.pipeline.analyze` (``buffer_m``,
        ``underserved_share``, ``sparse_share``, ``speeds``...).

    Returns
    -------
    BatchResult

    Notes
    -----
    The folder (written whole, as every fifteenmin output): ``zones/area_id=<id>/`` (one
    GeoParquet dataset of every area's zones, EPSG:4326), ``areas.csv`` and ``areas.gpkg``
    (one row per area: status, residents, share within each walk, underserved zones, time
    taken, error), ``report.html`` (areas ranked, a map coloured by the share within the
    walk, a link to each area's report), ``areas/<id>/`` (each area's report folder) and
    ``manifest.json`` (the task table: each area's input hashes, status and timings). Stopped
    by Ctrl-C or SIGTERM while areas run, the folder is written with the areas done so far
    (the others ``not_run``), and ``resume=True`` continues it.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path") / "city")
    >>> hoods = fm.zones_from_file(city.zones).iloc[:2]
    >>> done = fm.batch(hoods, city.network, city.spaces, city.zones, getfixture("tmp_path") / "b",
    ...                 id_column="zone_id", population_column="population", workers=1,
    ...                 area_reports=False)
    >>> done.areas["status"].tolist()
    ['ok', 'ok']
    """
    t_start = time.perf_counter()
    out = Path(out)
    minutes = sorted({float(m) for m in minutes})
    if not minutes or min(minutes) <= 0 or not all(np.isfinite(minutes)):
        raise InputError(f"walking-time thresholds must be positive minutes, got {minutes}")
    _check_speed(float(speed_kmh))
    bad = sorted(set(options) - _analyze_options())
    if bad:
        raise InputError(
            f"batch: {bad[0]!r} is not an option of the analysis; options are "
            f"{', '.join(sorted(_analyze_options()))}"
        )
    check_underserved(
        minutes,
        float(options.get("underserved_minutes", 15.0)),
        float(options.get("underserved_share", 0.5)),
    )
    if lang not in ("en", "it"):
        raise InputError(f"lang {lang!r}: use 'en' or 'it'")
    margin = walk_margin_m(minutes, speed_kmh) if margin_m is None else float(margin_m)
    if not np.isfinite(margin) or margin < 0:
        raise InputError(f"margin {margin_m} m must be a number >= 0 (e.g. 1200)")
    network = check_osm_path(network)
    hex_res = None if isinstance(zones, gpd.GeoDataFrame) else parse_hex_spec(zones)
    if isinstance(spaces, str | Path) and str(spaces) == "osm":
        raise InputError(
            "batch: spaces 'osm' is not supported (the areas' files hold only streets); "
            "extract the tagged spaces once (fifteenmin registry merge ... --osm REGION) and "
            "give that file as --spaces"
        )
    if hex_res is not None and population is None and population_column is not None:
        raise InputError(
            f"population column {population_column!r} with hexagon zones needs the "
            "population layer that holds it: pass --population FILE"
        )
    paths: dict[str, Path] = {"network": network}
    for role, value, allowed in (
        ("areas", areas, VECTOR_SUFFIXES),
        ("spaces", spaces, (".csv", ".txt", *VECTOR_SUFFIXES)),
        ("zones", None if hex_res is not None else zones, VECTOR_SUFFIXES),
        ("population", population, VECTOR_SUFFIXES),
    ):
        if isinstance(value, str | Path):
            paths[role] = check_file(value, allowed, role)
    opts: dict[str, Any] = {"what": "--out folder", "overwrite_hint": _OVERWRITE_HINT}
    previous = _previous(out, resume)
    check_output_folder(out, inputs=paths.values(), overwrite=overwrite or resume, **opts)

    # read every layer once, before any work: bad input stops here
    layer = areas if isinstance(areas, gpd.GeoDataFrame) else read_vector(paths["areas"])
    area_gdf = areas_from_frame(
        layer,
        id_column=id_column,
        name_column=name_column,
        where=str(areas) if not isinstance(areas, gpd.GeoDataFrame) else "areas",
    )
    if isinstance(spaces, gpd.GeoDataFrame):
        space_gdf = spaces_from_frame(spaces)
    else:
        space_gdf = spaces_from_file(paths["spaces"], lat_column=lat_column, lon_column=lon_column)
    zone_layer, drop_columns = _zone_layer(zones, paths, population_column, population, hex_res)
    pop_layer = _population_layer(population, paths, population_column)
    address = None if scheduler is None or not isinstance(scheduler, str) else scheduler
    address = _cluster.scheduler_address(address) if not _is_client(scheduler) else None
    analysis_options = {
        "population_column": population_column,
        "minutes": minutes,
        "speed_kmh": float(speed_kmh),
        "margin_m": margin,
        **options,
    }
    fault = _faults()
    with contextlib.ExitStack() as stack:
        client: Client | None = None
        if _is_client(scheduler):
            client = scheduler  # type: ignore[assignment]
        elif address is not None:  # reached before anything is written
            wait = CONNECT_TIMEOUT_S if connect_timeout_s is None else connect_timeout_s
            client = stack.enter_context(
                contextlib.closing(_cluster.connect(address, timeout_s=wait))
            )
        files = {role: _file_info(p) for role, p in paths.items()}
        run = _Run(
            area_gdf=area_gdf,
            space_gdf=space_gdf,
            zone_layer=zone_layer,
            hex_spec=None if hex_res is None else f"hex:{hex_res}",
            pop_layer=pop_layer,
            drop_columns=drop_columns,
            network=network,
            files=files,
            options=analysis_options,
            margin=margin,
            report=area_reports,
            lang=lang,
            pdf=pdf,
            texts={
                "title": title,
                "service_name": service_name,
                "attributions": list(attributions) if attributions is not None else None,
                "note": note,
            },
            synthetic=_synthetic(network),
            previous=previous,
            fault=fault,
            progress=progress,
            workers=workers,
            client=client,
            address=address,
        )
        interrupted: BaseException | None = None
        with output_folder(
            out,
            overwrite=overwrite or resume,
            inputs=paths.values(),
            command="batch",
            **opts,
        ) as tmp:
            interrupted = run.execute(tmp, out)
            run.seconds_total = time.perf_counter() - t_start
            manifest = run.finish(tmp, id_column, name_column)
    if interrupted is not None:
        raise interrupted
    return BatchResult(out, run.table(), manifest)


_OVERWRITE_HINT = (
    "add --resume to continue it (keeping areas whose inputs did not change) or --overwrite"
)


def _analyze_options() -> set[str]:
    from .pipeline import analyze

    return set(inspect.signature(analyze).parameters) - _NOT_OPTIONS


def _is_client(value: Any) -> bool:
    return type(value).__name__ == "Client" and hasattr(value, "submit")


def _faults() -> dict[str, str]:
    """Test hook: ``FIFTEENMIN_TEST_BATCH_FAULT="ID=raise,ID=die-once"`` makes those areas'
    tasks raise, kill their worker once (then run), or every time (``die``), or send SIGTERM
    to the process running the batch (``term``)."""
    faults = {}
    for item in os.environ.get(_FAULT_ENV, "").split(","):
        key, _, action = item.partition("=")
        if key.strip():
            faults[key.strip()] = action.strip()
    if faults:
        token = f"{secrets.token_hex(4)}-{os.getpid()}"
        faults = {k: f"{v}:{token}" for k, v in faults.items()}
    return faults


def _previous(out: Path, resume: bool) -> dict[str, Any] | None:
    """The task table of the batch folder ``out`` to continue (``resume``), if any."""
    if not resume or not out.is_dir() or not any(out.iterdir()):
        return None
    marker = read_marker(out)
    if marker is None or marker.get("command") != "batch":
        what = "not a fifteenmin output" if marker is None else f"written by {marker['command']}"
        raise InputError(
            f"{out}: --resume continues a folder written by fifteenmin batch; this one is {what}"
        )
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("%s: no readable %s; every area runs again", out, MANIFEST)
        return None
    if not isinstance(data, dict):
        return None
    data["_folder"] = str(out)
    return data


def _zone_layer(
    zones: str | Path | gpd.GeoDataFrame,
    paths: dict[str, Path],
    population_column: str | None,
    population: Any,
    hex_res: int | None,
) -> tuple[_Layer | None, tuple[str, ...]]:
    """The zones read and checked once, and the columns added to keep their ids."""
    if hex_res is not None:
        return None, ()
    raw = zones if isinstance(zones, gpd.GeoDataFrame) else read_vector(paths["zones"])
    where = "zones" if isinstance(zones, gpd.GeoDataFrame) else str(paths["zones"])
    column = population_column if population is None else None
    zones_from_frame(raw, population_column=column, where=where)  # checked as analyze would
    columns = raw.columns.drop(raw.geometry.name)
    if _pick(columns, _ID_NAMES) is not None:
        return _Layer(raw.reset_index(drop=True)), ()
    # ids are running numbers over the whole layer: carried, so an area's zones keep theirs
    raw = raw.reset_index(drop=True).assign(**{N.ZONE_ID: [str(i + 1) for i in range(len(raw))]})
    return _Layer(raw), (N.SOURCE_PREFIX + N.ZONE_ID,)


def _population_layer(
    population: str | Path | gpd.GeoDataFrame | None,
    paths: dict[str, Path],
    column: str | None,
) -> _Layer | None:
    if population is None:
        return None
    if column is None:
        raise InputError(
            "population layer: name its residents column with population_column= "
            "(--population-column COL, e.g. pop2018)"
        )
    raw = (
        population if isinstance(population, gpd.GeoDataFrame) else read_vector(paths["population"])
    )
    zones_from_frame(raw, population_column=column, where=str(population))
    return _Layer(raw.reset_index(drop=True))


def _file_info(path: Path) -> dict[str, Any]:
    from .pipeline import _file_info as info

    return info(path)


@dataclass
class _Run:
    """One batch: the plan, the tasks on Dask, and the folder."""

    area_gdf: gpd.GeoDataFrame
    space_gdf: gpd.GeoDataFrame
    zone_layer: _Layer | None
    hex_spec: str | None
    pop_layer: _Layer | None
    drop_columns: tuple[str, ...]
    network: Path
    files: dict[str, Any]
    options: dict[str, Any]
    margin: float
    report: bool
    lang: str
    pdf: bool
    texts: dict[str, Any]
    synthetic: bool
    previous: dict[str, Any] | None
    fault: dict[str, str]
    progress: bool
    workers: int | None
    client: Client | None
    address: str | None
    entries: dict[str, _Entry] = field(default_factory=dict)
    cluster_text: str = ""
    seconds_cut_read: float = 0.0
    seconds_cut_write: float = 0.0
    seconds_total: float = 0.0
    interrupted: bool = False

    # -------------------------------------------------------------- planning

    def _plan(self, tmp: Path) -> list[tuple[_Entry, dict[str, Any]]]:
        """Entries for every area; those to run, with what their task needs."""
        from . import __version__

        old = {
            a.get("area_id"): a
            for a in (self.previous or {}).get("areas", [])
            if isinstance(a, dict)
        }
        old_root = Path(self.previous["_folder"]) if self.previous else None
        spaces = self.space_gdf
        points = spaces.geometry.to_numpy()
        space_tree = shapely.STRtree(points)
        options = json.loads(json.dumps(self.options, default=str))
        todo = []
        for row in self.area_gdf.itertuples(index=False):
            entry = _Entry(row.area_id, row.name)
            self.entries[row.area_id] = entry
            if isinstance(row.problem, str):
                entry.status, entry.error = FAILED, row.problem
                continue
            polygon = row.geometry
            boundary = gpd.GeoDataFrame(geometry=[polygon], crs=4326)
            area = as_study_area(boundary)
            read_area = area.with_margin(self.margin)
            mine = spaces.iloc[np.sort(space_tree.query(read_area.polygon, predicate="intersects"))]
            mine = mine.reset_index(drop=True)
            zones = self.zone_layer.within(polygon) if self.zone_layer is not None else None
            pop = self.pop_layer.within(polygon) if self.pop_layer is not None else None
            entry.inputs = {
                "network_sha256": self.files["network"]["sha256"],
                "area": hashlib.sha256(shapely.to_wkb(polygon, byte_order=1)).hexdigest(),
                "spaces": _digest(mine),
                "zones": self.hex_spec or _digest(zones),
                "population": _digest(pop),
            }
            entry.input_hash = _hash(
                {
                    **entry.inputs,
                    "options": options,
                    "fifteenmin": __version__,
                    "report": [self.report, self.lang, self.pdf, self.texts],
                }
            )
            before = old.get(row.area_id)
            if (
                old_root is not None
                and before is not None
                and before.get("status") == OK
                and before.get("input_hash") == entry.input_hash
                and (old_root / ZONES / f"{PARTITION}={row.area_id}").is_dir()
                and (not self.report or (old_root / AREAS / row.area_id).is_dir())
            ):
                self._reuse(entry, before, old_root, tmp)
                continue
            if zones is not None and not len(zones):
                entry.status = FAILED
                entry.error = "no zone of the zones layer overlaps the area"
                continue
            if not len(mine):
                self._no_spaces(entry, area, zones, pop)
                continue
            todo.append(
                (
                    entry,
                    {
                        "polygon": polygon,
                        "box": read_area.polygon.bounds,
                        "spaces": mine,
                        "zones": zones,
                        "population": pop,
                    },
                )
            )
        return todo

    def _reuse(self, entry: _Entry, before: dict[str, Any], root: Path, tmp: Path) -> None:
        for name in (f"{ZONES}/{PARTITION}={entry.area_id}", f"{AREAS}/{entry.area_id}"):
            if (root / name).is_dir():
                _link_tree(root / name, tmp / name)
        for key in (
            "status",
            "error",
            "seconds",
            "seconds_analyze",
            "seconds_report",
            "cpu_seconds",
            "peak_rss_mb",
            "worker",
            "street_segments_cut",
            "memory_estimate_mb",
        ):
            setattr(entry, key, before.get(key))
        entry.figures = dict(before.get("figures") or {})
        entry.reused = True

    def _no_spaces(
        self,
        entry: _Entry,
        area: StudyArea,
        zones: gpd.GeoDataFrame | None,
        pop: gpd.GeoDataFrame | None,
    ) -> None:
        """No space within the margin: nobody in the area is within a walk of one."""
        entry.status = NO_SPACES
        entry.error = (
            f"no space lies within the area or {self.margin:g} m of it: nobody there is "
            "within a walk of one"
        )
        residents = np.nan
        column = self.options.get("population_column")
        source = pop if pop is not None else zones
        if column is not None and source is not None and len(source):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    clipped = area.clip_zones(zones_from_frame(source, population_column=column))
                    residents = float(clipped[N.POPULATION].sum())
                except InputError:
                    residents = 0.0
        figures: dict[str, Any] = {"residents": residents}
        for m in self.options["minutes"]:
            figures[N.residents(m)] = 0.0 if np.isfinite(residents) else None
            figures[N.share("pop", m)] = 0.0 if np.isfinite(residents) else None
            figures[N.share("area", m)] = 0.0
        entry.figures = figures

    # -------------------------------------------------------------- running

    def execute(self, tmp: Path, out: Path) -> BaseException | None:
        """Plan, cut, run the tasks; an interruption is returned (after cancelling)."""
        from ._cut import cut_region

        todo = self._plan(tmp)
        reused = sum(e.reused for e in self.entries.values())
        logger.info(
            "%d area(s): %d to run, %d kept from before (%s), %d failed or without a space "
            "before running",
            len(self.entries),
            len(todo),
            reused,
            out if self.previous else "none",
            len(self.entries) - len(todo) - reused,
        )
        if not todo:
            return None
        cut_folder = tmp / ".cut"
        boxes = {entry.area_id: plan["box"] for entry, plan in todo}
        try:
            cut = cut_region(self.network, boxes, cut_folder, progress=self.progress)
        except BaseException:
            shutil.rmtree(cut_folder, ignore_errors=True)
            raise
        self.seconds_cut_read, self.seconds_cut_write = cut.seconds_read, cut.seconds_write
        tasks = []
        for entry, plan in todo:
            piece = cut.areas[entry.area_id]
            entry.street_segments_cut = piece.segments
            if piece.path is None:
                entry.status = FAILED
                span = (
                    "the network has no walkable street"
                    if cut.bounds is None
                    else "its walkable streets lie within "
                    + ", ".join(f"{v:.4f}" for v in cut.bounds)
                )
                entry.error = (
                    f"outside the network's extent: no walkable street of {self.network.name} "
                    f"lies within the area or {self.margin:g} m of it ({span}, west, south, "
                    "east, north in degrees)"
                )
                continue
            entry.memory_estimate_mb = round(estimate_memory_mb(piece.segments), 1)
            tasks.append((entry, plan, piece.path))
        tasks.sort(key=lambda t: -(t[0].street_segments_cut or 0))
        try:
            if tasks:
                self._run_tasks(tasks, tmp)
        except (KeyboardInterrupt, Terminated) as exc:
            forget_stop()  # handled: the areas done are written, then it is raised
            self.interrupted = True
            logger.warning(
                "interrupted: writing the %d area(s) done; --resume continues the others",
                sum(e.status != NOT_RUN for e in self.entries.values()),
            )
            return exc
        finally:
            shutil.rmtree(cut_folder, ignore_errors=True)
        return None

    def _run_tasks(self, tasks: list[tuple[_Entry, dict[str, Any], Path]], tmp: Path) -> None:
        with contextlib.ExitStack() as stack:
            client = self.client
            if client is None:
                estimates = [int((e.memory_estimate_mb or 0) * 2**20) for e, _, _ in tasks]
                plan = _cluster.plan_local(estimates, workers=self.workers)
                logger.info("starting a local Dask cluster: %s (%s)", plan.describe(), plan.reason)
                client = stack.enter_context(_cluster.local_client(plan))
                self.cluster_text = f"local: {plan.describe()}"
            else:
                self.cluster_text = f"scheduler {self.address or client.scheduler.address}"
            self._submit_all(client, tasks, tmp)

    def _submit_all(
        self, client: Client, tasks: list[tuple[_Entry, dict[str, Any], Path]], tmp: Path
    ) -> None:
        from distributed import as_completed

        cap = _cluster.memory_resource(client)
        if cap is None:
            logger.info(
                "the workers declare no %s resource: tasks are not limited by memory (start "
                "workers with --resources %s=BYTES to do so)",
                _cluster.MEMORY,
                _cluster.MEMORY,
            )
        # as many tasks given out as the workers have threads: a worker that dies takes no
        # task waiting on it down with it (which would count as dying for that task too)
        in_flight = max(1, _cluster.threads(client))
        pending = iter(tasks)
        running: dict[Future, _Entry] = {}
        done = as_completed(loop=client.loop)
        started: dict[str, float] = {}

        def submit() -> None:
            item = next(pending, None)
            if item is None:
                return
            entry, plan, path = item
            task = _Task(
                area_id=entry.area_id,
                name=entry.name,
                polygon=plan["polygon"],
                network_name=path.name,
                network=path.read_bytes(),
                spaces=plan["spaces"],
                zones=self.hex_spec if self.hex_spec is not None else plan["zones"],
                population=plan["population"],
                options=self.options,
                inputs=self.files,
                report=self.report,
                lang=self.lang,
                pdf=self.pdf,
                texts=self.texts,
                drop_columns=self.drop_columns,
                fault=self.fault.get(entry.area_id),
            )
            resources = None
            if cap is not None:
                need = (entry.memory_estimate_mb or MEMORY_BASE_MB) * 2**20
                resources = {_cluster.MEMORY: min(need, cap)}
            future = client.submit(
                _run_area,
                task,
                key=f"fifteenmin-area-{entry.area_id}-{secrets.token_hex(4)}",
                resources=resources,
                retries=1,
                priority=int(entry.street_segments_cut or 0),
                pure=False,
            )
            started[entry.area_id] = time.perf_counter()
            running[future] = entry
            done.add(future)

        for _ in range(in_flight):
            submit()
        bar = _progress(len(tasks), self.progress)
        try:
            for future in done:
                entry = running.pop(future)
                outcome = _collect(future, entry.area_id)
                self._store(tmp, entry, outcome, time.perf_counter() - started[entry.area_id])
                bar.update(1)
                submit()
        except BaseException:
            for future in running:
                future.cancel()
            raise
        finally:
            bar.close()

    def _store(self, tmp: Path, entry: _Entry, outcome: _Outcome, elapsed: float) -> None:
        """Write one area's results into the folder and its entry into the table."""
        entry.status, entry.error = outcome.status, outcome.error
        entry.figures = outcome.figures
        entry.seconds_analyze = outcome.seconds_analyze
        entry.seconds_report = outcome.seconds_report
        entry.cpu_seconds = outcome.cpu_seconds
        entry.peak_rss_mb = outcome.peak_rss_mb
        entry.worker = outcome.worker
        entry.seconds = (
            round((outcome.seconds_analyze or 0) + (outcome.seconds_report or 0), 3)
            if outcome.seconds_analyze is not None
            else round(elapsed, 3)
        )
        if outcome.zones is not None:
            part = tmp / ZONES / f"{PARTITION}={entry.area_id}"
            part.mkdir(parents=True, exist_ok=True)
            (part / "part-0.parquet").write_bytes(outcome.zones)
        if outcome.files:
            folder = tmp / AREAS / entry.area_id
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in outcome.files.items():
                if Path(name).name != name or name in ("", ".", ".."):
                    continue  # only plain names come back from a report folder
                (folder / name).write_bytes(data)
        if entry.status == FAILED:
            logger.warning("area %s (%s) failed: %s", entry.area_id, entry.name, entry.error)

    # -------------------------------------------------------------- the folder

    def table(self) -> pd.DataFrame:
        """One row per area, in the layer's order (``areas.csv``)."""
        rows = []
        minutes = self.options["minutes"]
        for entry in self.entries.values():
            fig = entry.figures or {}
            row: dict[str, Any] = {
                "area_id": entry.area_id,
                "name": entry.name,
                "status": entry.status,
                "residents": fig.get("residents"),
            }
            for m in minutes:
                row[N.residents(m)] = fig.get(N.residents(m))
                row[N.share("pop", m)] = fig.get(N.share("pop", m))
            for m in minutes:
                row[N.share("area", m)] = fig.get(N.share("area", m))
            for key in (
                "zones",
                "zones_counted",
                "underserved_zones",
                "spaces",
                "street_segments",
                "residents_left_out",
            ):
                row[key] = fig.get(key)
            row["seconds"] = entry.seconds
            row["reused"] = entry.reused
            row["error"] = entry.error
            has_report = self.report and entry.status == OK
            row["report"] = f"{AREAS}/{entry.area_id}/report.html" if has_report else None
            rows.append(row)
        return pd.DataFrame(rows)

    def finish(self, tmp: Path, id_column: str | None, name_column: str | None) -> dict[str, Any]:
        """Write the tables, the comparison report and the task table into ``tmp``.

        The comparison page is :func:`fifteenmin.outputs.write_batch_report`, imported on
        call (the computation imports ``fifteenmin.outputs`` nowhere else at run time but in
        :meth:`Analysis.write <fifteenmin.pipeline.Analysis.write>` and
        :meth:`Comparison.write <fifteenmin.scenarios.Comparison.write>`).
        """
        from . import __version__
        from ._tables import spreadsheet_safe
        from .outputs import write_batch_report

        _unify_zones(tmp / ZONES)
        table = self.table()
        spreadsheet_safe(table).to_csv(tmp / "areas.csv", index=False)
        geo = gpd.GeoDataFrame(
            table.drop(columns=["report"]),
            geometry=self.area_gdf.geometry.to_numpy(),
            crs=4326,
        )
        geo.to_file(tmp / "areas.gpkg", layer="areas", driver="GPKG")
        counts = {s: int((table["status"] == s).sum()) for s in STATUSES}
        manifest = {
            "written_by": "fifteenmin batch",
            "fifteenmin": __version__,
            "generated": now_utc().isoformat(timespec="seconds"),
            "inputs": self.files,
            "parameters": {
                **json.loads(json.dumps(self.options, default=str)),
                "margin_m": self.margin,
                "id_column": id_column,
                "name_column": name_column,
                "area_reports": self.report,
                "lang": self.lang,
                **{k: v for k, v in self.texts.items() if v is not None},
            },
            "run": {
                "cluster": self.cluster_text or None,
                "areas": len(table),
                "by_status": counts,
                "run_now": int(((table["status"] != NOT_RUN) & ~table["reused"]).sum()),
                "reused": int(table["reused"].sum()),
                "interrupted": self.interrupted,
                "seconds_total": round(self.seconds_total, 3),
                "seconds_cut_read": round(self.seconds_cut_read, 3),
                "seconds_cut_write": round(self.seconds_cut_write, 3),
            },
            "areas": [dataclasses.asdict(e) for e in self.entries.values()],
        }
        write_batch_report(
            tmp,
            table,
            self.area_gdf,
            manifest,
            self.options,
            lang=self.lang,
            texts=self.texts,
            synthetic=self.synthetic,
        )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, indent=1, ensure_ascii=False, default=_json_value) + "\n",
            encoding="utf-8",
        )
        return manifest


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return str(value)


def _progress(total: int, show: bool) -> Any:
    from ._io import ProgressBar

    return ProgressBar(total=total, desc="areas", unit=" area", disable=not show, leave=False)


def _link_tree(src: Path, dst: Path) -> None:
    """Copy the folder ``src`` to ``dst`` by hard links (a copy where links fail)."""
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def _collect(future: Future, area_id: str) -> _Outcome:
    """The outcome of a finished task; a task that raised or whose worker died, as failed."""
    from distributed import KilledWorker

    try:
        if future.status == "finished":
            return future.result()
        exc = future.exception()
    except Exception as error:  # noqa: BLE001 - e.g. the result could not be fetched
        exc = error
    finally:
        future.release()
    if isinstance(exc, KilledWorker):
        text = (
            "its worker died twice while running it (out of the worker's memory limit, or "
            "killed); run it alone with more memory per worker"
        )
    else:
        text = _one_line(exc)
    return _Outcome(area_id, FAILED, text)


def _synthetic(network: Path) -> bool:
    """Whether the regional network is synthetic data (its OSM header says so, as the
    sample city's does): the batch's page then credits no OpenStreetMap."""
    from ._osm import file_header

    try:
        return "SYNTHETIC" in (file_header(network).generator or "").upper()
    except FifteenMinError:
        return False


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "the task ended without a result"
    text = " ".join(str(exc).split())
    if isinstance(exc, FifteenMinError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unify_zones(folder: Path) -> None:
    """Give every part of the zones dataset one schema (a column missing in an area's zones,
    e.g. capacity where no space has seats, added as empty), so the dataset reads whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(folder.glob(f"{PARTITION}=*/part-0.parquet"))
    if len(parts) < 2:
        return
    schemas = [pq.read_schema(p) for p in parts]
    try:
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        logger.warning("zones dataset: the areas' columns differ in type (%s)", exc)
        return
    for path, schema in zip(parts, schemas, strict=True):
        if schema.remove_metadata().equals(unified.remove_metadata()):
            continue
        table = pq.read_table(path)
        columns = [
            table.column(f.name).cast(f.type)
            if f.name in table.column_names
            else pa.nulls(len(table), f.type)
            for f in unified
        ]
        fixed = pa.Table.from_arrays(columns, schema=unified.with_metadata(schema.metadata))
        pq.write_table(fixed, path)


# ---------------------------------------------------------------------------- on a worker


def _run_area(task: _Task) -> _Outcome:
    """Analyse one area on a worker: what ``analyze(..., boundary=area)`` computes, and the
    area's report folder. Bad input for this area is its outcome (failed, not retried);
    anything else raises, and Dask runs the task once more."""
    from .pipeline import analyze

    _fault(task)
    worker = _worker_name()
    _reset_peak()
    with _one_thread(), tempfile.TemporaryDirectory(prefix="fifteenmin-area-") as folder:
        here = Path(folder)
        network = here / task.network_name
        network.write_bytes(task.network)
        boundary = gpd.GeoDataFrame({"area_id": [task.area_id]}, geometry=[task.polygon], crs=4326)
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # kept in the summary's warnings
                analysis = analyze(
                    network,
                    task.spaces,
                    task.zones,
                    boundary=boundary,
                    population=task.population,
                    **task.options,
                )
        except FifteenMinError as exc:
            return _Outcome(
                task.area_id,
                FAILED,
                _one_line(exc),
                worker=worker,
                seconds_analyze=round(time.perf_counter() - t0, 3),
            )
        seconds_analyze = time.perf_counter() - t0
        analysis = _as_batch_area(analysis, task)
        figures = _figures(analysis.summary, task.options["minutes"])
        zones = analysis.zones.to_crs(4326)
        buffer = io.BytesIO()
        zones.to_parquet(buffer, index=False)
        files: dict[str, bytes] = {}
        t1 = time.perf_counter()
        if task.report:
            report = here / "report"
            analysis.write(report, lang=task.lang, pdf=task.pdf, **task.texts)
            files = {p.name: p.read_bytes() for p in sorted(report.iterdir()) if p.is_file()}
        return _Outcome(
            task.area_id,
            OK,
            figures=figures,
            zones=buffer.getvalue(),
            files=files,
            seconds_analyze=round(seconds_analyze, 3),
            seconds_report=round(time.perf_counter() - t1, 3) if task.report else 0.0,
            cpu_seconds=round(time.process_time() - cpu0, 3),
            peak_rss_mb=_peak_rss_mb(),
            worker=worker,
        )


def _as_batch_area(analysis: Any, task: _Task) -> Any:
    """The area's analysis naming the regional inputs (not the cut) and without the columns
    added to carry zone ids."""
    analysis.inputs.clear()  # the summary's inputs are this same dict
    analysis.inputs.update({**task.inputs, "area": {"area_id": task.area_id, "name": task.name}})
    study = analysis.summary.get("data_quality", {}).get("study_area")
    if isinstance(study, dict):
        study["source"] = f"area {task.area_id} ({task.name}) of the batch"
    drop = [c for c in task.drop_columns if c in analysis.zones.columns]
    if drop:
        analysis = dataclasses.replace(analysis, zones=analysis.zones.drop(columns=drop))
    return analysis


def _figures(summary: dict[str, Any], minutes: Sequence[float]) -> dict[str, Any]:
    """An area's row of the areas table, from its summary."""
    within = summary.get("within", {})
    figures: dict[str, Any] = {"residents": summary.get("residents_total")}
    for m in minutes:
        w = within.get(f"{m:g}", {})
        figures[N.residents(m)] = w.get("residents")
        figures[N.share("pop", m)] = w.get("share")
        figures[N.share("area", m)] = w.get("share_area")
    counts = summary.get("counts", {})
    for key in ("zones", "zones_counted", "underserved_zones", "spaces", "street_segments"):
        figures[key] = counts.get(key)
    left = summary.get("data_quality", {}).get("left_out") or {}
    figures["residents_left_out"] = left.get("residents")
    return figures


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """The numeric libraries on one thread while a task runs, on any cluster: the
    isochrones' threads (``FIFTEENMIN_THREADS``, unless the worker sets it) and the BLAS and
    OpenMP pools (threadpoolctl, if installed); the parallelism is the workers'."""
    os.environ.setdefault("FIFTEENMIN_THREADS", "1")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def _reset_peak() -> None:
    """Start the peak memory count of this process afresh (Linux; else it stays since start)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float | None:
    """The peak resident memory of this process since :func:`_reset_peak`, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    except ImportError:  # pragma: no cover - Windows
        return None


def _fault(task: _Task) -> None:
    """The test hook of :func:`_faults` (nothing unless a test set it)."""
    if not task.fault:
        return
    action, _, token = task.fault.partition(":")
    if action == "raise":
        raise RuntimeError(f"injected failure of area {task.area_id} ({_FAULT_ENV})")
    if action == "term":  # the batch is stopped while this task runs
        os.kill(int(token.rsplit("-", 1)[1]), signal.SIGTERM)
        time.sleep(3)
        return
    once = Path(tempfile.gettempdir()) / f"fifteenmin-fault-{token}-{task.area_id}"
    if action == "die" or (action == "die-once" and not once.exists()):
        once.touch()
        os.kill(os.getpid(), signal.SIGKILL)
