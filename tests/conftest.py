"""Shared fixtures: tiny hand-checkable inputs, the sample city and the Rome data in ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import fifteenmin as fm

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FIFTEENMIN_SHARED", REPO.parent / "shared"))
ROME = SHARED / "data" / "rome"


def _need(path: Path) -> Path:
    """Skip (or fail under CI=true) when a file of ../shared is missing."""
    if not path.exists():
        reason = f"needs the shared Rome data at {path} (absent here)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def rome() -> Path:
    """Folder of the real Rome data (../shared/data/rome)."""
    return _need(ROME)


@pytest.fixture(scope="session")
def rome_file(rome: Path):
    """Function returning a checked path inside the Rome data folder."""
    return lambda rel: _need(rome / rel)


@pytest.fixture(scope="session")
def sample_city(tmp_path_factory: pytest.TempPathFactory) -> fm.sample.SampleCity:
    """The bundled synthetic sample city, written once per test session."""
    return fm.sample.write_sample_city(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def sample_analysis(sample_city: fm.sample.SampleCity) -> fm.Analysis:
    """The full analysis of the sample city (computed once per session)."""
    return fm.analyze(
        sample_city.network, sample_city.spaces, sample_city.zones, population_column="population"
    )


@pytest.fixture(autouse=True)
def _english_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's tests expect English unless they ask for Italian: an Italian locale
    (LANG=it_IT.UTF-8 on a developer's machine) would make ``fifteenmin`` speak Italian."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name, "").lower().startswith("it"):
            monkeypatch.setenv(name, "C.UTF-8")
