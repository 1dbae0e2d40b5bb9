"""Downloads through OSMnx, with recorded-style answers instead of the live web.

``requests.get`` / ``requests.post`` (what OSMnx's Nominatim and Overpass layers call) are
replaced by fakes that answer from a tiny hand-made network, and any real connection
attempt fails the test. The live check at the end is marked ``network`` (deselected).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import requests

import fifteenmin as fm
from fifteenmin import cli
from fifteenmin.errors import DownloadError, InputError
from fifteenmin.network import great_circle_m, streets_from_bbox, streets_from_polygon

ox = pytest.importorskip("osmnx")

LON0, LAT0, STEP = 12.490, 41.890, 0.002  # a 3 x 3 street grid, 2 x 2 blocks
BBOX = (LON0 - 0.001, LAT0 - 0.001, LON0 + 2 * STEP + 0.001, LAT0 + 2 * STEP + 0.001)


def _grid() -> tuple[dict[int, tuple[float, float]], dict[int, list[int]]]:
    nodes = {
        100 + 3 * i + j: (round(LON0 + j * STEP, 7), round(LAT0 + i * STEP, 7))
        for i in range(3)
        for j in range(3)
    }
    ways = {1000 + i: [100 + 3 * i + j for j in range(3)] for i in range(3)}  # rows
    ways |= {2000 + j: [100 + 3 * i + j for i in range(3)] for j in range(3)}  # columns
    return nodes, ways


def overpass_answer() -> dict[str, Any]:
    """What Overpass returns for the walk query over the grid (format of ``out body``)."""
    nodes, ways = _grid()
    elements: list[dict[str, Any]] = [
        {"type": "node", "id": nid, "lat": lat, "lon": lon} for nid, (lon, lat) in nodes.items()
    ]
    elements += [
        {
            "type": "way",
            "id": wid,
            "nodes": refs,
            "tags": {"highway": "residential" if wid < 2000 else "footway", "name": f"Via {wid}"},
        }
        for wid, refs in ways.items()
    ]
    return {
        "version": 0.6,
        "generator": "Overpass API (recorded-style test answer)",
        "osm3s": {"timestamp_osm_base": "2026-01-01T00:00:00Z"},
        "elements": elements,
    }


def nominatim_answer(geometry: str = "Polygon") -> list[dict[str, Any]]:
    """What Nominatim's search returns for a place covering the grid."""
    w, s, e, n = BBOX
    geojson: dict[str, Any] = (
        {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
        if geometry == "Polygon"
        else {"type": "Point", "coordinates": [LON0, LAT0]}
    )
    return [
        {
            "place_id": 1,
            "licence": "Data © OpenStreetMap contributors, ODbL 1.0",
            "osm_type": "relation",
            "osm_id": 1,
            "lat": str((s + n) / 2),
            "lon": str((w + e) / 2),
            "class": "boundary",
            "type": "administrative",
            "importance": 0.8,
            "display_name": "Rione di Prova, Roma, Lazio, Italia",
            "boundingbox": [str(s), str(n), str(w), str(e)],
            "geojson": geojson,
        }
    ]


def _expected_length_m() -> float:
    nodes, ways = _grid()
    total = 0.0
    for refs in ways.values():
        lon, lat = np.array([nodes[r] for r in refs]).T
        total += float(great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())
    return total


def _response(payload: object, url: str, status: int = 200) -> requests.Response:
    """A response with ``payload`` as JSON, or as the body when it is bytes."""
    response = requests.Response()
    response.status_code = status
    response.reason = "OK" if status == 200 else "Error"
    response.url = url
    response._content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response.headers["Content-Type"] = "application/json"
    return response


class FakeWeb:
    """Answers OSMnx's HTTP calls; ``overpass`` / ``nominatim`` hold a payload or an error."""

    def __init__(self) -> None:
        self.overpass: object = overpass_answer()
        self.nominatim: object = nominatim_answer()
        self.calls: list[str] = []

    def _answer(self, what: str, url: str) -> requests.Response:
        self.calls.append(what)
        payload = getattr(self, what)
        if isinstance(payload, BaseException):
            raise payload
        return _response(payload, url)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        assert "overpass" in url or "interpreter" in url, url
        return self._answer("overpass", url)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        assert "nominatim" in url, url
        return self._answer("nominatim", url)


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> FakeWeb:
    fake = FakeWeb()
    monkeypatch.setattr(requests, "post", fake.post)
    monkeypatch.setattr(requests, "get", fake.get)
    monkeypatch.setattr(ox._http, "_config_dns", lambda url: None)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    no_sleep = SimpleNamespace(sleep=lambda seconds: None)
    monkeypatch.setattr(ox._nominatim, "time", no_sleep)
    monkeypatch.setattr(ox._overpass, "time", no_sleep)

    def no_connection(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to reach the live web")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_connection)
    return fake


def _check_grid(streets: fm.network.StreetNetwork) -> None:
    assert set(streets.edge_attrs["osmid"]) <= {1000, 1001, 1002, 2000, 2001, 2002}
    assert streets.edge_length_m.sum() == pytest.approx(_expected_length_m(), rel=1e-9)
    assert set(streets.node_osmid) <= set(_grid()[0])


def test_bbox_download_builds_the_network_then_uses_the_cache(web: FakeWeb, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = streets_from_bbox(BBOX, cache_folder=cache)
    _check_grid(first)
    assert web.calls == ["overpass"]
    assert list(cache.glob("*.json")), "the answer was not cached"
    second = streets_from_bbox(BBOX, cache_folder=cache)
    assert web.calls == ["overpass"], "the second call went to the web"
    np.testing.assert_array_equal(first.node_osmid, second.node_osmid)
    np.testing.assert_allclose(first.edge_length_m, second.edge_length_m)
    assert ox.settings.cache_folder != str(cache), "OSMnx settings were not restored"


def test_polygon_download(web: FakeWeb, tmp_path: Path) -> None:
    area = fm.study_area.StudyArea.from_bbox(BBOX)
    streets = streets_from_polygon(area.polygon, cache_folder=tmp_path)
    _check_grid(streets)
    streets_from_polygon(area.polygon, cache_folder=tmp_path)
    assert web.calls == ["overpass"]


def test_place_download(web: FakeWeb, tmp_path: Path) -> None:
    streets = fm.network.streets_from_place("Rione di Prova, Roma", cache_folder=tmp_path)
    _check_grid(streets)
    assert web.calls == ["nominatim", "overpass"]
    fm.network.streets_from_place("Rione di Prova, Roma", cache_folder=tmp_path)
    assert web.calls == ["nominatim", "overpass"]


def _error(fn: Any) -> str:
    with pytest.raises(DownloadError) as info:
        fn()
    assert isinstance(info.value, InputError | OSError)
    message = str(info.value)
    assert "--network FILE.osm.pbf" in message
    assert "\n" not in message
    return message


def test_timeout(web: FakeWeb, tmp_path: Path) -> None:
    web.overpass = requests.exceptions.ReadTimeout("read timed out")
    message = _error(lambda: streets_from_bbox(BBOX, cache_folder=tmp_path, timeout_s=30))
    assert "did not answer within 30 s" in message
    assert not list(tmp_path.glob("*.json")), "a failed download must not be cached"


def test_no_connection(web: FakeWeb, tmp_path: Path) -> None:
    web.overpass = requests.exceptions.ConnectionError("Name or service not known")
    assert "cannot reach" in _error(lambda: streets_from_bbox(BBOX, cache_folder=tmp_path))


def test_unknown_place(web: FakeWeb, tmp_path: Path) -> None:
    web.nominatim = []
    message = _error(lambda: fm.network.streets_from_place("Romaa", cache_folder=tmp_path))
    assert "place 'Romaa'" in message and "no such place" in message
    assert web.calls == ["nominatim"]


def test_place_that_is_a_point(web: FakeWeb, tmp_path: Path) -> None:
    web.nominatim = nominatim_answer("Point")
    message = _error(lambda: fm.network.streets_from_place("Fontana", cache_folder=tmp_path))
    assert "not an area" in message


def test_empty_result(web: FakeWeb, tmp_path: Path) -> None:
    web.overpass = {**overpass_answer(), "elements": []}
    message = _error(lambda: streets_from_bbox(BBOX, cache_folder=tmp_path))
    assert "no walkable street" in message


def test_server_error(web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html = b"<html><body><p><strong>Error</strong>: runtime error: out of memory</p></body></html>"
    monkeypatch.setattr(
        requests, "post", lambda url, **kw: _response(html, url, status=500)
    )  # not 429/504: OSMnx retries those
    message = _error(lambda: streets_from_bbox(BBOX, cache_folder=tmp_path))
    assert "server answered with an error" in message


def _spaces_csv(path: Path) -> Path:
    nodes, _ = _grid()
    lon, lat = nodes[104]  # the centre of the grid
    path.write_text(f"space_id,name,lat,lon\nS1,Centro,{lat + 0.0001},{lon}\n", encoding="utf-8")
    return path


def test_cli_downloads_by_bbox_and_reports_errors(
    web: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)  # the default cache is data/raw/cache under the working folder
    spaces = _spaces_csv(tmp_path / "spaces.csv")
    bbox = [str(v) for v in BBOX]
    args = ["analyze", "--bbox", *bbox, "--spaces", str(spaces), "--zones", "hex:10"]
    assert cli.main([*args, "--out", "out", "--quiet", "--margin-m", "0"]) == 0
    assert (tmp_path / "out" / "summary.json").exists()
    assert list((tmp_path / "data" / "raw" / "cache").glob("*.json"))
    assert web.calls == ["overpass"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["hex_resolution"] == 10
    # a second run is answered from the cache
    assert cli.main([*args, "--out", "out2", "--quiet", "--margin-m", "0"]) == 0
    assert web.calls == ["overpass"]
    # errors: one line, exit code 2, no traceback
    web.overpass = requests.exceptions.ReadTimeout("read timed out")
    capsys.readouterr()
    wider = [str(v + d) for v, d in zip(BBOX, (-0.01, -0.01, 0.01, 0.01), strict=True)]
    code = cli.main(
        ["analyze", "--bbox", *wider, "--spaces", str(spaces), "--zones", "hex"]
        + [
            "--out",
            "out3",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("fifteenmin: error: bbox") and "--network FILE.osm.pbf" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_cli_needs_a_network_source(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spaces = _spaces_csv(tmp_path / "spaces.csv")
    code = cli.main(["analyze", "--spaces", str(spaces), "--zones", "hex", "--out", "o"])
    assert code == 2
    assert "--network FILE.osm.pbf" in capsys.readouterr().err


@pytest.mark.network
def test_live_place_download(tmp_path: Path) -> None:
    """Needs the internet: run with ``pytest -m network``."""
    streets = fm.network.streets_from_place(
        "Piazza Navona, Roma, Lazio, Italia", cache_folder=tmp_path
    )
    assert streets.n_edges > 10
