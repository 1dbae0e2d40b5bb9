"""File helpers: checked reading of tables and layers, all-or-nothing output folders."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from .errors import InputError

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet")


def check_file(path: str | Path, allowed: tuple[str, ...], what: str) -> Path:
    """Return ``path`` if it exists, is non-empty and has one of the ``allowed`` suffixes."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path of the {what}")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the {what} file")
    if not path.name.lower().endswith(allowed):
        raise InputError(
            f"{path}: unknown {what} file type {''.join(path.suffixes) or '(none)'}; "
            f"use one of {', '.join(allowed)}"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (comma, semicolon or tab separated, UTF-8) with a checked outcome."""
    path = check_file(path, (".csv", ".txt"), "table")
    try:
        df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, Exception) as exc:  # noqa: BLE001
        raise InputError(f"{path}: cannot be read as CSV ({exc}); save it as UTF-8 CSV") from None
    if df.empty:
        raise InputError(f"{path}: the table has a header but no rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_vector(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile...) with a checked outcome."""
    path = check_file(path, VECTOR_SUFFIXES, "layer")
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure is a bad file
        raise InputError(f"{path}: cannot be read as a vector layer ({exc})") from None
    if gdf.empty:
        raise InputError(f"{path}: the layer has no features")
    return gdf


@contextlib.contextmanager
def atomic_directory(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out`` only if the block succeeds.

    Files already in ``out`` are kept unless a new file of the same name replaces them.
    On failure nothing in ``out`` changes.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        out.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            target = out / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class ProgressBar(tqdm):  # type: ignore[misc]
    """A tqdm progress bar that starts no monitor thread.

    tqdm's monitor (a thread that refreshes stalled bars) would stay for the life of the
    process, and a process with threads does not fork (see :func:`can_fork`); our bars
    are updated as work completes, so they do not need it.
    """

    monitor_interval = 0


def can_fork() -> bool:
    """Whether work may go to a forked process: on Linux, from a single-threaded process.

    Forking a process that runs other threads (a notebook kernel, a progress-bar monitor)
    can deadlock the child on a lock held by a thread that does not exist there; macOS
    and Windows have no safe ``fork``.
    """
    return sys.platform.startswith("linux") and threading.active_count() == 1


@contextlib.contextmanager
def alongside(task: Callable[[], None]) -> Iterator[None]:
    """Run ``task`` in a forked process while the block runs, and wait for it at the end.

    ``task`` must only write files. Its exception is raised here after the block (or the
    block's own, the task then being stopped). Where forking is not safe
    (:func:`can_fork`), ``task`` runs first, in this process.
    """
    if not can_fork():
        task()
        yield
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            task()
        except BaseException as exc:  # noqa: BLE001 - handed to the parent
            try:
                send.send(exc)
            except Exception:  # noqa: BLE001 - an exception that cannot be pickled
                send.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
            os._exit(1)
        send.send(None)

    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    try:
        yield
    except BaseException:
        process.terminate()
        process.join()
        raise
    try:
        error = receive.recv()
    except EOFError:  # the process ended without a word: see its exit code
        error = None
    process.join()
    receive.close()
    if error is not None:
        raise error
    if process.exitcode != 0:
        raise RuntimeError(f"the background writer stopped with exit code {process.exitcode}")
