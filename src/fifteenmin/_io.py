"""File helpers: checked reading of tables and layers, all-or-nothing output folders."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import gc
import json
import logging
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from .errors import (
    FifteenMinError,
    InputError,
    OutputError,
    check_stopped,
    forget_stop,
    terminate,
)

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
    """Read a CSV as a spreadsheet opens it: text cells indexed by spreadsheet row number.

    Encoding (UTF-8 with or without BOM, else Windows-1252, else Latin-1), delimiter
    (``,``, ``;`` or tab) and quoting are detected as :func:`._tables.read_csv_cells`
    describes; the header is row 1, so the first data row is 2 and blank lines count.
    Cells are text (empty ones None): read numbers with :func:`._tables.table_numbers`,
    which knows decimal commas and thousands points (``41,8933``, ``1.200``).

    Raises
    ------
    InputError
        If the file is missing, empty or not text, has no data rows, or a row has more
        values than the header (the message names the row).
    """
    from ._tables import read_csv_cells

    path = check_file(path, (".csv", ".txt"), "table")
    cells = read_csv_cells(path)
    if cells.ragged:
        row = min(cells.ragged)
        raise InputError(f"{path} row {row}: {cells.ragged_message(row)}")
    df = pd.DataFrame.from_dict(cells.rows, orient="index", columns=cells.header, dtype=object)
    return df.map(lambda cell: cell if cell.strip() else None)


def read_vector(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile...) with a checked outcome."""
    path = check_file(path, VECTOR_SUFFIXES, "layer")
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - any GDAL failure is a bad file
        raise InputError(f"{path}: cannot be read as a vector layer ({str(exc).strip()})") from None
    if gdf.empty:
        raise InputError(f"{path}: the layer has no features")
    return gdf


# ---------------------------------------------------------------- outputs: whole or not at all

MARKER = ".fifteenmin"
"""The file that marks a folder written by fifteenmin (JSON: command, version, files)."""

_TEMP = ".fm-"  # prefix of temporary names: short, so a long --out name still fits
_WRITTEN: list[Path] = []  # outputs this process has put in place, in order (see written())
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WRITE_PROBLEMS = {  # errno -> (cause, what to do with {what})
    errno.EACCES: ("permission denied", "choose another {what}, where you can write"),
    errno.EPERM: ("permission denied", "choose another {what}, where you can write"),
    errno.EROFS: ("read-only file system", "choose another {what}, where you can write"),
    errno.ENOSPC: (
        "no space left on the disk",
        "free some space, or choose another {what} on a disk with room",
    ),
    getattr(errno, "EDQUOT", -1): (
        "disk quota exceeded",
        "free some space, or choose another {what}",
    ),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose another {what}"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter {what} name"),
}


def source_date_epoch() -> int | None:
    """``SOURCE_DATE_EPOCH`` (seconds since 1970, the reproducible-builds convention), if set."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(
            f"SOURCE_DATE_EPOCH={value!r} is not a whole number of seconds since 1970-01-01; "
            "unset it, or give e.g. SOURCE_DATE_EPOCH=1700000000"
        ) from None


def now_utc() -> dt.datetime:
    """The current time in UTC; the ``SOURCE_DATE_EPOCH`` time instead when that is set.

    Every date fifteenmin writes comes from here, so that with ``SOURCE_DATE_EPOCH`` set
    (https://reproducible-builds.org/specs/source-date-epoch/) reruns give identical files.
    """
    epoch = source_date_epoch()
    if epoch is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


@contextlib.contextmanager
def fixed_dates() -> Iterator[None]:
    """While the block runs, GDAL dates GeoPackages (``last_change``) by ``SOURCE_DATE_EPOCH``.

    Nothing changes when ``SOURCE_DATE_EPOCH`` is not set (GDAL then uses the clock).
    """
    if source_date_epoch() is None:
        yield
        return
    import pyogrio

    stamp = now_utc().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def written() -> list[Path]:
    """The outputs this process has put in place so far (folders and files, oldest first)."""
    return list(_WRITTEN)


def read_marker(folder: str | Path) -> dict[str, Any] | None:
    """The :data:`MARKER` of a folder fifteenmin wrote (``command``, ``files``...), else None."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != "fifteenmin":
        return None
    return data


def _write_marker(folder: Path, command: str) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("fifteenmin")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        release = "0+unknown"
    files = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    data = {"written_by": "fifteenmin", "command": command, "version": release, "files": files}
    (folder / MARKER).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _some(names: Iterable[str], n: int = 3) -> str:
    names = sorted(names)
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def _output_error(message: str, code: int) -> OutputError:
    exc = OutputError(message)
    exc.errno = code
    return exc


def _write_error(exc: OSError, out: Path, what: str) -> OutputError:
    """One line for an OSError met while writing ``out``: the path, the cause, what to do."""
    cause, fix = _WRITE_PROBLEMS.get(exc.errno or 0, (exc.strerror or str(exc), "check the {what}"))
    if exc.errno == errno.ENOTDIR:
        in_the_way = _file_in_the_way(_absolute(out).parent)
        if in_the_way is not None:
            cause = f"{in_the_way} is a file, not a folder"
    return _output_error(f"{out}: cannot write ({cause}); {fix.format(what=what)}", exc.errno or 0)


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) when it is not a folder."""
    for p in (folder, *folder.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def _check_inputs(out: Path, inputs: Iterable[str | Path | None], what: str) -> None:
    real = Path(os.path.realpath(out))
    for item in inputs:
        if item is None:
            continue
        source = Path(os.path.realpath(item))
        if source == real:
            raise InputError(f"{out}: is the input {item}; choose another {what}")
        if real in source.parents:
            raise InputError(
                f"{out}: holds the input {item}; choose another {what}, so that no input is "
                "overwritten"
            )


def _check_writable(out: Path, what: str) -> None:
    """OutputError unless the folder that will hold ``out`` can be made and written to."""
    where = _absolute(out)
    existing = next(p for p in where.parents if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise _output_error(
            f"{out}: cannot write ({existing} is a file, not a folder); choose another {what}",
            errno.ENOTDIR,
        )
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no pathconf (Windows)
        name_max = 255
    for part in where.relative_to(existing).parts:
        if len(os.fsencode(part)) > name_max:
            raise _output_error(
                f"{out}: cannot write (the name {part[:24]}... is {len(os.fsencode(part))} bytes "
                f"long, the file system allows {name_max}); choose a shorter {what} name",
                errno.ENAMETOOLONG,
            )
    if not os.access(existing, os.W_OK | os.X_OK):
        read_only = (
            bool(os.statvfs(existing).f_flag & os.ST_RDONLY) if hasattr(os, "statvfs") else False
        )
        code = errno.EROFS if read_only else errno.EACCES
        cause, fix = _WRITE_PROBLEMS[code]
        raise _output_error(
            f"{out}: cannot write in {existing} ({cause}); {fix.format(what=what)}", code
        )


def check_output_folder(
    out: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    overwrite: bool = False,
    owned: bool = False,
    what: str = "output folder",
    overwrite_hint: str = "pass overwrite=True",
) -> Path:
    """Check, before any work, that writing the folder ``out`` harms nothing; return ``out``.

    ``out`` may be new, or an empty folder, or, with ``overwrite``, a folder fifteenmin
    wrote before (it holds :data:`MARKER` and no file fifteenmin did not write), which is
    then replaced as a whole (``owned``: the caller knows ``out`` is its own, replace it
    whatever it holds). Anything else raises :class:`~fifteenmin.errors.InputError`, as
    does an ``out`` that is one of the ``inputs`` or holds one; a place that cannot be
    written (no permission, read-only, a file as a parent, a name too long) raises
    :class:`~fifteenmin.errors.OutputError`. ``what`` and ``overwrite_hint`` name the
    option in the messages (the CLI: ``"--out folder"``, ``"add --overwrite"``).
    """
    out = Path(out)
    if not _absolute(out).name:
        raise InputError(f"{out}: not a folder fifteenmin can replace; choose another {what}")
    _check_inputs(out, inputs, what)
    _check_writable(out, what)
    where = _absolute(out)
    if where.is_symlink():
        raise InputError(f"{out}: is a symbolic link; choose another {what} (a real folder)")
    cwd = Path.cwd().resolve()
    if where.exists() and (where.resolve() == cwd or where.resolve() in cwd.parents):
        raise InputError(
            f"{out}: is the current folder or holds it; it would be replaced under your "
            f"feet; choose a new {what}, e.g. {Path(out) / 'report'}"
        )
    if not where.exists():
        return out
    if not where.is_dir():
        raise InputError(f"{out}: exists and is a file; choose a new or empty {what}")
    names = os.listdir(where)
    if not names or owned:
        return out
    marker = read_marker(where)
    if marker is None:
        raise InputError(
            f"{out}: the folder holds files that fifteenmin did not write ({_some(names)}); "
            f"choose a new or empty {what}"
        )
    ours = {MARKER, *marker.get("files", [])}
    foreign = [n for n in names if n not in ours]
    if foreign:
        raise InputError(
            f"{out}: holds a previous fifteenmin output and files it did not write "
            f"({_some(foreign)}); move them out, or choose another {what}"
        )
    if not overwrite:
        raise InputError(
            f"{out}: holds a previous fifteenmin output ({marker.get('command') or 'unknown'}); "
            f"{overwrite_hint} to replace it, or choose another {what}"
        )
    return out


def check_output_file(
    out: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    overwrite: bool = False,
    suffixes: tuple[str, ...] = (".gpkg",),
    what: str = "output file",
    overwrite_hint: str = "pass overwrite=True",
) -> Path:
    """Check, before any work, that writing the file ``out`` harms nothing; return ``out``.

    Refused (:class:`~fifteenmin.errors.InputError`): ``out`` is one of the ``inputs``, has
    none of the ``suffixes``, is a folder, or exists and ``overwrite`` is False.
    """
    out = Path(out)
    _check_inputs(out, inputs, what)
    if not out.name.lower().endswith(suffixes):
        raise InputError(
            f"{out}: the output is written as {' or '.join(suffixes)}, not "
            f"{''.join(out.suffixes) or '(no suffix)'}; give the {what} a name ending in "
            f"{suffixes[0]}"
        )
    _check_writable(out, what)
    where = _absolute(out)
    if where.is_dir():
        raise InputError(f"{out}: is a folder; give the {what} a name ending in {suffixes[0]}")
    if (where.exists() or where.is_symlink()) and not overwrite:
        raise InputError(f"{out}: exists; {overwrite_hint} to replace it, or choose another {what}")
    return out


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block has run, then act (in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: object) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if pending:
            signal.raise_signal(pending[0])


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM raises :class:`~fifteenmin.errors.Terminated` in the block, so cleanup runs.

    Only where SIGTERM has its default action (which ends the process on the spot); a
    handler set by the program (the CLI sets one) is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    forget_stop()
    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _free_name(folder: Path, suffix: str = "") -> Path:
    while True:
        path = folder / f"{_TEMP}{secrets.token_hex(4)}{suffix}"
        if not (path.exists() or path.is_symlink()):
            return path


def _make_parents(folder: Path, created: list[Path]) -> None:
    """Make ``folder`` and its missing parents, listing in ``created`` those made."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    for p in missing:
        p.mkdir()
        created.append(p)


def _swap_in(tmp: Path, out: Path, check: Callable[[], object]) -> None:
    """Put the finished folder ``tmp`` in place of ``out``; signals wait till it is done.

    A new ``out`` is one rename. An existing one (checked again by ``check`` first) is
    renamed aside, ``tmp`` renamed in, and the old one removed; if the second rename fails,
    the old one goes back. ``FIFTEENMIN_TEST_SWAP_DELAY_S`` (a test hook, read only here)
    waits that long between the renames, so that tests can signal in the middle.
    """
    where = _absolute(out)
    with _signals_held():
        check_stopped()  # one dropped by a finalizer (see fifteenmin.errors.terminate)
        check()
        delay = float(os.environ.get("FIFTEENMIN_TEST_SWAP_DELAY_S") or 0)
        if where.exists():
            aside = _free_name(where.parent)
            os.rename(where, aside)
            try:
                time.sleep(delay)
                os.rename(tmp, where)
            except BaseException:
                os.rename(aside, where)
                raise
            _WRITTEN.append(out)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            time.sleep(delay)
            os.rename(tmp, where)
            _WRITTEN.append(out)


def _refused_write(folder: Path | None) -> OSError | None:
    """The OSError a small write in ``folder`` now meets (a full disk...), or None."""
    if folder is None:
        return None
    probe = folder / f"{_TEMP}probe"
    try:
        with open(probe, "wb") as f:
            f.write(bytes(1 << 16))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        return exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


@contextlib.contextmanager
def output_folder(
    out: str | Path,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | Path | None] = (),
    command: str = "",
    owned: bool = False,
    what: str = "output folder",
    overwrite_hint: str = "pass overwrite=True",
) -> Iterator[Path]:
    """Yield an empty temporary folder that becomes ``out`` whole, if the block succeeds.

    ``out`` is checked first (:func:`check_output_folder`: new, empty, or with ``overwrite``
    a folder fifteenmin wrote). The temporary folder (``.fm-XXXXXXXX`` beside ``out``) gets
    the :data:`MARKER` (naming ``command``) and is renamed to ``out`` in one step; an old
    ``out`` is moved aside, then removed (:func:`_swap_in`). On any failure or interruption
    (SIGINT, and SIGTERM: see :func:`_sigterm_exits`) the temporary folder and the parents
    made for it are removed and ``out`` is as it was. An OSError while writing (no
    permission, disk full...) becomes a one-line :class:`~fifteenmin.errors.OutputError`.
    GeoPackages written in the block carry ``SOURCE_DATE_EPOCH`` when set (:func:`fixed_dates`).
    """
    out = Path(out)
    names = {"what": what, "overwrite_hint": overwrite_hint}
    check_output_folder(out, inputs=inputs, overwrite=overwrite, owned=owned, **names)
    where = _absolute(out)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        with _sigterm_exits():
            try:
                _make_parents(where.parent, created)
                tmp = Path(tempfile.mkdtemp(prefix=_TEMP, dir=where.parent))
                tmp.chmod(0o777 & ~_umask())  # as a folder made by mkdir (mkdtemp: 0o700)
                with fixed_dates():
                    yield tmp
                _write_marker(tmp, command)
                _swap_in(
                    tmp,
                    out,
                    lambda: check_output_folder(out, overwrite=overwrite, owned=owned, **names),
                )
            except FifteenMinError:
                raise
            except OSError as exc:
                raise _write_error(exc, out, what) from exc
            except Exception as exc:
                refused = _refused_write(tmp)
                if refused is None:
                    raise
                raise _write_error(refused, out, what) from exc
    finally:
        with _signals_held():
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)  # gone already once renamed to out
            for folder in reversed(created):  # those that stay empty
                with contextlib.suppress(OSError):
                    folder.rmdir()


@contextlib.contextmanager
def output_file(
    out: str | Path,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | Path | None] = (),
    suffixes: tuple[str, ...] = (".gpkg",),
    what: str = "output file",
    overwrite_hint: str = "pass overwrite=True",
) -> Iterator[Path]:
    """Yield a temporary path beside ``out`` that replaces ``out`` if the block succeeds.

    ``out`` is checked first (:func:`check_output_file`); the finished file is moved in
    place with one ``os.replace``. On failure or interruption the temporary file (and any
    SQLite side file) and the parents made for it are removed, and ``out`` is as it was.
    """
    out = Path(out)
    names = {"what": what, "overwrite_hint": overwrite_hint, "suffixes": suffixes}
    check_output_file(out, inputs=inputs, overwrite=overwrite, **names)  # type: ignore[arg-type]
    where = _absolute(out)
    created: list[Path] = []
    tmp: Path | None = None
    try:
        with _sigterm_exits():
            try:
                _make_parents(where.parent, created)
                tmp = _free_name(where.parent, suffix=where.suffix)
                with fixed_dates():
                    yield tmp
                with _signals_held():
                    check_stopped()
                    check_output_file(out, overwrite=overwrite, **names)  # type: ignore[arg-type]
                    os.replace(tmp, where)
                    _WRITTEN.append(out)
            except FifteenMinError:
                raise
            except OSError as exc:
                raise _write_error(exc, out, what) from exc
            except Exception as exc:
                refused = _refused_write(where.parent if where.parent.exists() else None)
                if refused is None:
                    raise
                raise _write_error(refused, out, what) from exc
    finally:
        with _signals_held():
            if tmp is not None:
                for side in ("", "-journal", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        tmp.with_name(tmp.name + side).unlink()
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()


class ProgressBar(tqdm):  # type: ignore[misc]
    """A tqdm progress bar on a terminal (or in a notebook); plain log lines elsewhere.

    Redrawn with carriage returns, a bar is garbage in a log file or a pipe: there the bar
    stays hidden and a line ``"isochrones: 120/1,000 (12%), 30 s"`` is logged (INFO,
    logger ``fifteenmin._io``) every :attr:`log_every_s` seconds, and a last one when a
    step that logged finishes. :attr:`terminal` (None: ask ``sys.stderr.isatty()``) forces
    either.

    No monitor thread: tqdm's (a thread that refreshes stalled bars) would stay for the
    life of the process, and a process with threads does not fork (see :func:`can_fork`);
    our bars are updated as work completes, so they do not need it.
    """

    monitor_interval = 0
    terminal: bool | None = None
    """Draw bars (True), log lines (False), or decide from ``sys.stderr`` (None)."""
    log_every_s = 15.0
    """Seconds between two log lines of a step without a terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        plain = not kwargs.get("disable", False) and not _draws_bars(type(self).terminal)
        self._plain = plain
        self._what = str(kwargs.get("desc") or "")
        self._unit = str(kwargs.get("unit") or "it").strip()
        self._count = 0
        self._logged = False
        self._start = self._last = time.monotonic()
        if plain:
            kwargs["disable"] = True
        super().__init__(*args, **kwargs)

    def update(self, n: float | None = 1) -> bool | None:
        """Count ``n`` more done (a log line when one is due, without a terminal)."""
        if self._plain:
            self._count += int(n or 0)
            self._tick()
        return super().update(n)

    def __iter__(self) -> Iterator[Any]:
        if not self._plain:
            yield from super().__iter__()
            return
        count = 0
        for count, item in enumerate(self.iterable, start=1):
            yield item
            if not count & 0x3FF:  # the clock every 1,024 items: cheap for millions of them
                self._count = count
                self._tick()
        self._count = count

    def close(self) -> None:
        if getattr(self, "_plain", False) and self._logged:
            self._logged = False
            _progress_log.info("%s", self._line(done=True))
        super().close()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.log_every_s:
            self._last = now
            self._logged = True
            _progress_log.info("%s", self._line())

    def _line(self, *, done: bool = False) -> str:
        total = getattr(self, "total", None)
        seconds = f"{time.monotonic() - self._start:.0f} s"
        count = f"{self._count:,}"
        if total:
            count += f"/{int(total):,} ({self._count / total:.0%})"
        state = "done, " if done else ""
        return f"{self._what}: {state}{count} {self._unit}, {seconds}"

    def __del__(self) -> None:
        if hasattr(self, "pos"):  # not a bar whose __init__ was interrupted (Ctrl-C)
            super().__del__()


_progress_log = logging.getLogger(__name__)


def _draws_bars(terminal: bool | None) -> bool:
    """Whether progress bars are drawn: on a terminal, or in a notebook (tqdm.auto's
    widget), unless ``terminal`` says otherwise."""
    if terminal is not None:
        return terminal
    if "notebook" in tqdm.__module__:
        return True
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


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
    parent = os.getpid()

    def child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and stops this
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # process with SIGTERM (terminate)
        _die_with_parent(parent)
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
    # garbage left from before the fork is collected here, and what remains is frozen so
    # that the child never collects it: destructors of native objects (an osmium reader
    # whose condition variables belong to threads of this process) hang in the child
    gc.collect()
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
    send.close()
    try:
        yield
        try:
            error = receive.recv()
        except EOFError:  # the process ended without a word: see its exit code
            error = None
        process.join()
    except BaseException:  # the block failed or was interrupted: stop the task, then go on
        process.terminate()
        process.join()
        raise
    finally:
        receive.close()
    if error is not None:
        raise error
    if process.exitcode != 0:
        raise RuntimeError(f"the background writer stopped with exit code {process.exitcode}")


def _die_with_parent(parent: int) -> None:
    """In a forked child: be killed when the parent ends, however it ends (Linux).

    ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: a parent killed outright (SIGKILL, or a signal
    without a handler) cannot stop its child itself, which would go on writing.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent ended before that took effect
        os._exit(1)
