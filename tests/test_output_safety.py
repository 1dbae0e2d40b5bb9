"""Outputs are written whole or not at all, never over what fifteenmin did not write.

--out rules (refused before any work), OS errors as one line, interruption by SIGINT and
SIGTERM at every phase of a real ``fifteenmin demo`` (start-up, computing, writing, the final
swap), the forked map writer ending with its parent, and byte-identical reruns with
SOURCE_DATE_EPOCH.
"""

from __future__ import annotations

import errno
import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fifteenmin import _io, errors
from fifteenmin.cli import main
from fifteenmin.errors import InputError, OutputError, Terminated

EPOCH = "1700000000"  # 2023-11-14 22:13:20 UTC
LINUX = sys.platform.startswith("linux")
SRC = Path(__file__).resolve().parents[1] / "src" / "fifteenmin"


# ---------------------------------------------------------------- helpers


def fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI; check exit 2 and one line without traceback; return that line."""
    rc = main([*args, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fifteenmin: error: "), err
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (hidden ones included) with its bytes (None: a folder)."""
    return {
        str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".fm-"))


def analyze_args(city, out: Path, *extra: str) -> list[str]:
    return [
        "analyze",
        "--network",
        str(city.network),
        "--spaces",
        str(city.spaces),
        "--zones",
        str(city.zones),
        "--population-column",
        "population",
        "--out",
        str(out),
        *extra,
    ]


def previous_output(folder: Path, command: str = "analyze") -> Path:
    """A folder as fifteenmin writes it: two files and the marker."""
    with _io.output_folder(folder, overwrite=True, command=command) as tmp:
        (tmp / "summary.json").write_text('{"old": true}')
        (tmp / "zones.csv").write_text("zone_id\nA\n")
    return folder


# ---------------------------------------------------------------- --out refused before any work


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda out: (out / "zones.gpkg").write_text("mine"), id="user-file"),
        pytest.param(
            lambda out: (
                (out / "spaces.gpkg").mkdir(),
                (out / "spaces.gpkg" / "a").write_text("x"),
            ),
            id="user-folder",
        ),
        pytest.param(lambda out: (out / "notes.txt").write_text("mine"), id="other-file"),
    ],
)
def test_a_folder_with_user_files_is_refused_untouched(sample_city, tmp_path, capsys, make):
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    before = snapshot(out)
    line = fails(analyze_args(sample_city, out, "--overwrite"), capsys)
    assert "did not write" in line and "choose a new or empty --out folder" in line
    assert snapshot(out) == before
    assert temporaries(tmp_path) == []


def test_out_holding_the_inputs_is_refused(sample_city, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(sample_city.directory, data)
    before = snapshot(data)
    city = type(sample_city)(
        data, data / "sample_city.osm", data / "spaces.csv", data / "neighbourhoods.geojson"
    )
    for args in (
        analyze_args(city, data),
        analyze_args(city, data, "--overwrite"),
        analyze_args(city, data / "spaces.csv", "--overwrite"),  # --out equal to an input
    ):
        line = fails(args, capsys)
        assert "the input" in line, line
    assert snapshot(data) == before


def test_an_input_inside_a_previous_report_is_refused_even_with_overwrite(
    sample_city, tmp_path, capsys
):
    out = previous_output(tmp_path / "out")
    shutil.copy(sample_city.spaces, out / "spaces.csv")  # a user file; and an input
    line = fails(
        ["analyze", "--network", str(sample_city.network), "--spaces", str(out / "spaces.csv")]
        + ["--zones", str(sample_city.zones), "--out", str(out), "--overwrite"],
        capsys,
    )
    assert "holds the input" in line


def test_a_previous_report_is_replaced_only_with_overwrite(sample_city, tmp_path, capsys):
    out = previous_output(tmp_path / "out")
    before = snapshot(out)
    line = fails(analyze_args(sample_city, out), capsys)
    assert "previous fifteenmin output (analyze)" in line and "add --overwrite" in line
    assert snapshot(out) == before
    (out / "mine.txt").write_text("added by hand")  # then it is no longer all ours
    line = fails(analyze_args(sample_city, out, "--overwrite"), capsys)
    assert "files it did not write (mine.txt)" in line
    # the Python API: the same rule, replaced whole
    (out / "mine.txt").unlink()
    with pytest.raises(InputError, match="pass overwrite=True"):
        with _io.output_folder(out, command="analyze"):
            pass
    with _io.output_folder(out, overwrite=True, command="analyze") as tmp:
        (tmp / "summary.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == [".fifteenmin", "summary.json"]
    marker = json.loads((out / ".fifteenmin").read_text())
    assert marker["command"] == "analyze" and marker["files"] == ["summary.json"]
    assert marker["written_by"] == "fifteenmin" and marker["version"]
    assert temporaries(tmp_path) == []


def test_an_empty_folder_is_used_and_a_file_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with _io.output_folder(empty, command="analyze") as tmp:
        (tmp / "a.txt").write_text("a")
    assert (empty / "a.txt").read_text() == "a"
    assert empty.stat().st_mode & 0o777 == 0o777 & ~_io._umask()  # as mkdir, not mkdtemp
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="exists and is a file"):
        _io.check_output_folder(tmp_path / "file")


def test_a_failure_leaves_no_trace(tmp_path):
    """A block that fails: no --out, no temporary folder, no parent folders made for it."""
    out = tmp_path / "new" / "deeper" / "out"
    with pytest.raises(KeyError), _io.output_folder(out) as tmp:
        (tmp / "half.txt").write_text("half")
        raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- registry merge --out FILE


@pytest.fixture
def registry_files(tmp_path: Path) -> tuple[Path, Path]:
    from test_registry import MERGE_CSV, OSM_XML

    registry = tmp_path / "albo.csv"
    registry.write_text(MERGE_CSV, encoding="utf-8")
    osm = tmp_path / "addresses.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    return registry, osm


def merge_args(registry: Path, osm: Path, out: Path, *extra: str) -> list[str]:
    return ["registry", "merge", str(registry), "--osm", str(osm), "--out", str(out), *extra]


def test_registry_merge_out_rules(registry_files, tmp_path, capsys):
    registry, osm = registry_files
    before = snapshot(tmp_path)
    line = fails(merge_args(registry, osm, registry, "--overwrite"), capsys)
    assert "is the input" in line
    line = fails(merge_args(registry, osm, tmp_path / "merged.csv"), capsys)
    assert "ending in .gpkg" in line
    assert snapshot(tmp_path) == before
    out = tmp_path / "merged.gpkg"
    assert main([*merge_args(registry, osm, out), "--quiet"]) == 0
    first = out.read_bytes()
    line = fails(merge_args(registry, osm, out), capsys)
    assert "exists; add --overwrite" in line
    assert out.read_bytes() == first
    assert main([*merge_args(registry, osm, out, "--overwrite"), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["addresses.osm", "albo.csv", out.name]


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (errno.EROFS, "read-only file system"),
        (errno.ENOSPC, "no space left on the disk"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_an_os_error_while_writing_is_one_line(
    registry_files, tmp_path, capsys, monkeypatch, code, cause
):
    """Simulated (tests may run as root, whom chmod does not stop): the writer fails."""
    import pyogrio

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(args[1]))

    monkeypatch.setattr(pyogrio, "write_dataframe", refuse)
    registry, osm = registry_files
    out = tmp_path / "new" / "merged.gpkg"
    line = fails(merge_args(registry, osm, out), capsys)
    assert line.startswith(f"fifteenmin: error: {out}: cannot write ({cause}); "), line
    assert ("free some space" in line) == (code == errno.ENOSPC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["addresses.osm", "albo.csv"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_an_os_error_in_the_report_folder(tmp_path, monkeypatch, code):
    """OSError raised while writing (or by the temporary folder) -> OutputError, no trace."""
    out = tmp_path / "out"
    with pytest.raises(OutputError) as info, _io.output_folder(out, what="--out folder"):
        raise OSError(code, os.strerror(code))
    assert info.value.errno == code and str(info.value).startswith(f"{out}: cannot write (")
    assert list(tmp_path.iterdir()) == []

    def no_tmp(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_io.tempfile, "mkdtemp", no_tmp)
    with pytest.raises(OutputError, match="cannot write"), _io.output_folder(out):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_refuses_writes_explains_a_library_error(tmp_path, monkeypatch):
    """GDAL or SQLite report a full disk in their own words: the disk is then probed."""
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(_io, "_refused_write", lambda folder: full)
    with pytest.raises(OutputError, match="no space left"), _io.output_folder(tmp_path / "o"):
        raise RuntimeError("sqlite3: database or disk is full")
    monkeypatch.setattr(_io, "_refused_write", lambda folder: None)
    with pytest.raises(RuntimeError, match="a bug"), _io.output_folder(tmp_path / "o"):
        raise RuntimeError("a bug")  # not the disk's fault: raised as it is


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_read_only_parent_folder(sample_city, tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root writing (simulated above)")
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        line = fails(analyze_args(sample_city, parent / "out"), capsys)
        assert "permission denied" in line and "you can write to" in line
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o755)


def test_a_parent_that_is_a_file(sample_city, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    line = fails(analyze_args(sample_city, tmp_path / "file.txt" / "out"), capsys)
    assert f"({tmp_path / 'file.txt'} is a file, not a folder)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_a_name_too_long(sample_city, tmp_path, capsys):
    line = fails(analyze_args(sample_city, tmp_path / ("x" * 300)), capsys)
    assert "300 bytes long" in line and "choose a shorter --out folder name" in line
    # the longest name allowed works: the temporary name beside it is short
    longest = tmp_path / ("y" * 255)
    with _io.output_folder(longest) as tmp:
        (tmp / "a").write_text("a")
    assert (longest / "a").exists()
    assert temporaries(tmp_path) == []


# ---------------------------------------------------------------- demo data folder


def test_demo_data_dir_never_replaces_user_files(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "README.md").write_text("my notes")
    (data / "spaces.csv").write_text("my spaces")
    before = snapshot(data)
    line = fails(["demo", "--data-dir", str(data), "--out", str(tmp_path / "r")], capsys)
    assert "not the sample city's" in line and "--data-dir folder" in line
    assert snapshot(data) == before
    line = fails(["demo", "--data-dir", str(data), "--out", str(data)], capsys)
    assert "is the input" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_sample_folder_rules(tmp_path):
    from fifteenmin.sample import SAMPLE_FILES, check_sample_folder, write_sample_city

    city = write_sample_city(tmp_path / "city")
    assert sorted(p.name for p in city.directory.iterdir()) == sorted(
        [*SAMPLE_FILES, ".fifteenmin"]
    )
    assert check_sample_folder(city.directory)
    (city.directory / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"not the sample city's \(notes.txt\)"):
        write_sample_city(city.directory, overwrite=True)
    assert (city.directory / "notes.txt").read_text() == "mine"
    (city.directory / "notes.txt").unlink()
    (city.directory / ".fifteenmin").unlink()  # as written by an earlier fifteenmin
    assert check_sample_folder(city.directory)  # told by its README


# ---------------------------------------------------------------- SOURCE_DATE_EPOCH


def test_now_utc_follows_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert _io.now_utc().isoformat() == "2023-11-14T22:13:20+00:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH='yesterday'"):
        _io.now_utc()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert abs(_io.now_utc().timestamp() - time.time()) < 60


# ---------------------------------------------------------------- real runs, real signals


def demo(cwd: Path, out: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -m fifteenmin.cli demo`` in ``cwd`` (stderr to cwd/../NAME.err)."""
    cwd.mkdir(parents=True, exist_ok=True)
    err = open(cwd.parent / f"{cwd.name}.err", "w")  # noqa: SIM115 - closed by the process end
    return subprocess.Popen(
        [sys.executable, "-m", "fifteenmin.cli", "demo", "--out", out, *extra],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=err,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})},
        # a shell without job control starts background jobs with SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stderr_of(cwd: Path) -> str:
    return (cwd.parent / f"{cwd.name}.err").read_text()


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the demo ended (rc {proc.returncode}) before the phase"
        assert time.monotonic() < end, "the phase never came"
        time.sleep(0.02)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def all_gone(pids: list[int], timeout: float = 3) -> bool:
    end = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def same_tree(a: Path, b: Path) -> None:
    """The same file list (hidden files included) and the same bytes in every file."""
    names_a = sorted(str(p.relative_to(a)) for p in a.rglob("*"))
    names_b = sorted(str(p.relative_to(b)) for p in b.rglob("*"))
    assert names_a == names_b
    different = [n for n in names_a if (a / n).is_file() and not filecmp.cmp(a / n, b / n, False)]
    assert different == []


@pytest.fixture(scope="module")
def first_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One complete demo with SOURCE_DATE_EPOCH, started in an empty folder."""
    cwd = tmp_path_factory.mktemp("first") / "run"
    proc = demo(cwd, "report")
    assert proc.wait(timeout=300) == 0, stderr_of(cwd)
    # without --data-dir the demo writes only inside --out (the sample city included)
    assert sorted(p.name for p in cwd.iterdir()) == ["report"]
    assert (cwd / "report" / "sample_data" / "sample_city.osm").exists()
    return cwd / "report"


linux_only = pytest.mark.skipif(not LINUX, reason="signals and /proc as on Linux")


EAGER_PACKAGE = "def __getattr__" not in (SRC / "__init__.py").read_text()


@linux_only
@pytest.mark.parametrize(
    "sig",
    [
        pytest.param(
            signal.SIGINT,
            marks=pytest.mark.xfail(
                EAGER_PACKAGE,
                reason="fifteenmin/__init__.py imports every module before the CLI runs: "
                "Ctrl-C there is outside main()",
            ),
        ),
        signal.SIGTERM,
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_interrupted_at_start_up(tmp_path, sig):
    proc = demo(tmp_path / "run", "report")
    time.sleep(0.3)
    proc.send_signal(sig)
    rc = proc.wait(timeout=30)
    err = stderr_of(tmp_path / "run")
    assert "Traceback" not in err, err
    assert rc in ({signal.SIGINT: 130, signal.SIGTERM: 143}[sig], -sig), err
    assert list((tmp_path / "run").iterdir()) == []


@linux_only
def test_sigint_while_computing_keeps_the_previous_report(first_report, tmp_path):
    cwd = tmp_path / "run"
    cwd.mkdir()
    shutil.copytree(first_report, cwd / "report")
    before = snapshot(cwd / "report")
    proc = demo(cwd, "report", "--overwrite")
    wait_for(proc, lambda: any((d / "sample_data").is_dir() for d in cwd.glob(".fm-*")))
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    err = stderr_of(cwd)
    assert err.rstrip().endswith("fifteenmin: interrupted; nothing was written"), err
    assert "Traceback" not in err
    assert sorted(p.name for p in cwd.iterdir()) == ["report"]  # no temporary folder left
    assert snapshot(cwd / "report") == before


@linux_only
def test_sigterm_while_writing_stops_the_map_writer(tmp_path):
    """The forked map writer is at work: it is stopped, the temporary folder removed, and
    nothing is written."""
    cwd = tmp_path / "run"
    proc = demo(cwd, "report")
    wait_for(proc, lambda: any((d / "zones.gpkg").exists() for d in cwd.glob(".fm-*")))
    writers = children(proc.pid)
    assert writers, "no forked map writer at work"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    err = stderr_of(cwd)
    assert err.rstrip().endswith("fifteenmin: interrupted; nothing was written"), err
    assert "Traceback" not in err
    assert all_gone(writers)
    assert list(cwd.iterdir()) == []


class StopInFinalizer:
    """Its finalizer sends ``sig`` and runs on: the handler's exception is raised inside
    ``__del__``, where Python prints and drops it (as in a garbage collection while a
    report is written)."""

    def __init__(self, sig: int) -> None:
        self.sig = sig

    def __del__(self) -> None:
        os.kill(os.getpid(), self.sig)
        for _ in range(10_000):  # the handler runs at one of these steps
            pass


@linux_only
@pytest.mark.parametrize("kind", ["folder", "file"])
@pytest.mark.parametrize(
    ("sig", "stop"), [(signal.SIGTERM, Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_stop_dropped_by_a_finalizer_still_stops_the_output(
    tmp_path, monkeypatch, kind, sig, stop
):
    dropped: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: dropped.append(u.exc_value))
    previous = signal.signal(signal.SIGINT, errors.interrupt)  # as the command line sets it
    try:
        out = tmp_path / ("report" if kind == "folder" else "zones.gpkg")
        writer = _io.output_folder(out) if kind == "folder" else _io.output_file(out)
        with pytest.raises(stop), writer as tmp:
            (tmp / "a.txt" if kind == "folder" else tmp).write_text("written")
            StopInFinalizer(sig)  # collected at once
            (tmp / "b.txt" if kind == "folder" else tmp).write_text("written on")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert [type(e) for e in dropped] == [stop]  # the handler did run, and was dropped
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@linux_only
def test_the_forked_writer_dies_with_a_killed_parent(tmp_path):
    """SIGKILL cannot be handled: the forked writer (alongside) must not go on writing."""
    late = tmp_path / "late.txt"
    code = (
        "import sys, time\n"
        "from fifteenmin import _io\n"
        "def task():\n"
        "    time.sleep(4)\n"
        f"    open({str(late)!r}, 'w').write('written')\n"
        "with _io.alongside(task):\n"
        "    print('started', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
    writers = children(proc.pid)
    assert writers
    proc.kill()
    proc.wait(timeout=30)
    assert all_gone(writers), "the forked writer outlived its parent"
    time.sleep(4.5)
    assert not late.exists()


@linux_only
def test_rerun_is_byte_identical_and_sigterm_in_the_swap_completes_it(first_report, tmp_path):
    """A second demo (another --out, over an older report, with --overwrite) is the first
    one byte for byte (SOURCE_DATE_EPOCH). Signals wait during the swap: --out is then the
    complete new report, and the message says so (not 'nothing was written')."""
    cwd = tmp_path / "run"
    cwd.mkdir()
    out = cwd / "other_name"
    shutil.copytree(first_report, out)
    (out / "summary.json").write_text('{"old": true}')  # as an older report
    proc = demo(cwd, "other_name", "--overwrite", env={"FIFTEENMIN_TEST_SWAP_DELAY_S": "1.5"})
    wait_for(proc, lambda: not out.exists(), timeout=120)  # the old one moved aside
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    err = stderr_of(cwd)
    assert "Traceback" not in err
    assert "nothing was written" not in err
    assert "interrupted; other_name had been written in full" in err, err
    assert sorted(p.name for p in cwd.iterdir()) == ["other_name"]  # old one gone, no temporary
    same_tree(first_report, out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generated"] == "2023-11-14T22:13:20+00:00"
    assert summary["inputs"]["spaces"]["path"] == "sample_data/spaces.csv"
    assert "Generated on 2023-11-14 22:13 UTC" in (out / "report.html").read_text()


@linux_only
def test_ctrl_c_during_the_isochrones_acts_within_a_second(sample_city, tmp_path):
    """Many spaces keep the polygon threads busy; Ctrl-C must not wait for their queue."""
    import numpy as np
    import pandas as pd

    base = pd.read_csv(sample_city.spaces)
    rng = np.random.default_rng(0)
    many = base.sample(2000, replace=True, random_state=0).reset_index(drop=True)
    many["lat"] += rng.uniform(-0.001, 0.001, len(many))
    many["lon"] += rng.uniform(-0.001, 0.001, len(many))
    many["space_id"] = [f"m{i}" for i in range(len(many))]
    spaces = tmp_path / "many.csv"
    many.to_csv(spaces, index=False)
    cwd = tmp_path / "run"
    cwd.mkdir()
    err_path = tmp_path / "run.err"
    with open(err_path, "w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fifteenmin.cli",
                "analyze",
                "--network",
                str(sample_city.network),
                "--spaces",
                str(spaces),
                "--zones",
                str(sample_city.zones),
                "--out",
                "report",
            ],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        wait_for(proc, lambda: "isochrones for" in err_path.read_text(), timeout=120)
        time.sleep(1.0)  # well inside the polygon work (2,000 spaces: about a minute)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        waited = time.monotonic() - sent
    assert waited < 1.5, f"Ctrl-C took {waited:.1f} s"
    assert "Traceback" not in err_path.read_text()
    assert list(cwd.iterdir()) == []


def test_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for out in (".", str(here), str(tmp_path)):
        with pytest.raises(InputError, match="is the current folder or holds it"):
            _io.check_output_folder(out)
    assert here.is_dir() and list(here.iterdir()) == []
