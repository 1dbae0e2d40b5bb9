"""Place names for map.html (_places) and the optional tile basemap (webmap.basemap_source)."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely
from test_rome import placed_spaces

import fifteenmin as fm
from fifteenmin.cli import main
from fifteenmin.errors import InputError
from fifteenmin.outputs import _places, webmap

ESQUILINO = "network/rome_esquilino_2016.osm"
ZONES_155 = "boundaries/roma_zone_urbanistiche_155_pop.geojson"

# a few tagged features around (0.5, 0.5); the suburb "Fuori" lies outside the area
_TAGGED = {
    "suburb": (0.5000, 0.5000, {"place": "suburb", "name": "Borgo Alto"}),
    "neighbourhood": (0.5010, 0.5010, {"place": "neighbourhood", "name": "Rione Basso"}),
    "station": (0.5020, 0.5000, {"railway": "station", "name": "Stazione Centrale"}),
    "landmark": (0.5000, 0.5020, {"historic": "monument", "name": "Colonna", "wikidata": "Q1"}),
    "attraction": (0.4990, 0.4990, {"tourism": "attraction", "name": "Fontana"}),
    "square": (0.4980, 0.5000, {"place": "square", "name": "Piazzetta"}),
    "unnamed": (0.4970, 0.5000, {"historic": "memorial"}),
    "outside": (0.6000, 0.6000, {"place": "suburb", "name": "Fuori"}),
}


def _osm_with_places(path: Path) -> Path:
    """An OSM file of tagged nodes and two closed pedestrian ways: 'Piazza Grande' an
    area (area=yes), 'Anello' a loop street (no area tag)."""
    nodes, ways = [], []
    for i, (lat, lon, tags) in enumerate(_TAGGED.values(), start=1):
        tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        nodes.append(f'<node id="{i}" lat="{lat}" lon="{lon}">{tag_xml}</node>')
    for w, (name, area, (lat, lon)) in enumerate(
        [("Piazza Grande", True, (0.503, 0.503)), ("Anello", False, (0.497, 0.503))], start=1
    ):
        ids = []
        for k, (dy, dx) in enumerate([(0, 0), (0, 0.001), (0.001, 0.001), (0.001, 0)]):
            node_id = 100 * w + k
            ids.append(node_id)
            nodes.append(f'<node id="{node_id}" lat="{lat + dy}" lon="{lon + dx}"/>')
        refs = "".join(f'<nd ref="{n}"/>' for n in [*ids, ids[0]])
        area_tag = '<tag k="area" v="yes"/>' if area else ""
        ways.append(
            f'<way id="{w}">{refs}<tag k="highway" v="pedestrian"/>'
            f'<tag k="name" v="{name}"/>{area_tag}</way>'
        )
    body = "\n".join(nodes + ways)
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n', "utf-8")
    return path


def test_file_places_are_read_by_kind_and_ranked(tmp_path: Path) -> None:
    path = _osm_with_places(tmp_path / "places.osm")
    area = shapely.box(0.49, 0.49, 0.51, 0.51)
    rows = _places._file_places(path, area)
    kinds = {str(r["name"]): r["kind"] for r in rows}
    assert kinds == {
        "Borgo Alto": "suburb",
        "Rione Basso": "neighbourhood",
        "Stazione Centrale": "station",
        "Colonna": "landmark",
        "Fontana": "landmark",
        "Piazzetta": "square",
        "Piazza Grande": "square",
    }
    assert all(area.intersects(r["geometry"]) for r in rows)
    ordered = _places._ordered(rows, limit=10)
    assert list(ordered["name"][:3]) == ["Borgo Alto", "Stazione Centrale", "Rione Basso"]
    # the larger square first, the landmark with a wiki article first; kinds in turn
    rest = list(ordered["name"][3:])
    assert rest.index("Piazza Grande") < rest.index("Piazzetta")
    assert rest.index("Colonna") < rest.index("Fontana")
    assert list(_places._ordered(rows, limit=2)["name"]) == ["Borgo Alto", "Stazione Centrale"]


def test_one_label_per_name() -> None:
    point = shapely.Point(0, 0)
    rows = [
        {"name": "Piazza X", "kind": "street", "rank": (False, 500.0), "geometry": point},
        {"name": "Piazza X", "kind": "square", "rank": (False, 10.0), "geometry": point},
    ]
    names = _places._ordered(rows, limit=10)
    assert list(names["name"]) == ["Piazza X"] and list(names["kind"]) == ["square"]
    assert len(_places._ordered([], limit=10)) == 0


@pytest.fixture(scope="module")
def esquilino(rome_file) -> fm.Analysis:
    path = rome_file(ESQUILINO)
    streets = fm.read_streets(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 151 of 155 zones have no street data
        return fm.analyze(
            path,
            placed_spaces(streets, 4, seed=1),
            rome_file(ZONES_155),
            population_column="pop2018",
        )


def _named_pedestrian_areas(path: Path) -> set[str]:
    """Independent reference: the named pedestrian areas of the file (ElementTree)."""
    names = set()
    for el in ET.parse(path).getroot():
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if tags.get("highway") != "pedestrian" or "name" not in tags:
            continue
        refs = [nd.get("ref") for nd in el.findall("nd")]
        closed_area = el.tag == "way" and refs[0] == refs[-1] and tags.get("area") == "yes"
        if closed_area or (el.tag == "relation" and tags.get("type") == "multipolygon"):
            names.add(tags["name"])
    return names


def test_rome_place_names(esquilino: fm.Analysis, rome_file) -> None:
    names = _places.place_names(esquilino)
    assert 0 < len(names) <= _places.MAX_PLACE_NAMES
    assert names["name"].is_unique
    kinds = dict(zip(names["name"], names["kind"], strict=True))
    # the named pedestrian areas of the file are squares (or, named like a longer
    # street, that street), every one inside the study area
    squares = _named_pedestrian_areas(rome_file(ESQUILINO))
    assert len(squares) >= 8
    inside = [n for n in squares if n in kinds]
    assert len(inside) >= 8 and {kinds[n] for n in inside} <= {"square", "street"}
    assert kinds["Piazza del Colosseo"] == "square"
    assert kinds["Via Merulana"] == kinds["Via Cavour"] == "street"
    assert kinds["Piazza Vittorio Emanuele II"] == "street"  # only part of its ring here
    assert kinds["Largo Magnanapoli"] == "square"  # a street closing around a garden
    area = esquilino.study_area.polygon
    assert shapely.contains_xy(area, names.geometry.x, names.geometry.y).all()
    first = _places.place_names(esquilino, limit=5)
    assert list(first["name"]) == list(names["name"][:5])


def test_network_without_a_file_has_street_names_only(esquilino: fm.Analysis) -> None:
    no_file = fm.Analysis(
        walk=esquilino.walk,
        isochrones=esquilino.isochrones,
        coverage=esquilino.coverage,
        zones=esquilino.zones,
        parameters=esquilino.parameters,
        inputs={k: v for k, v in esquilino.inputs.items() if k != "network"},
        study_area=esquilino.study_area,
    )
    names = _places.place_names(no_file)
    assert set(names["kind"]) <= {"street", "square"}
    assert "Piazza dell'Esquilino" not in set(names["name"])  # a pedestrian area only
    assert "Via Merulana" in set(names["name"])


def test_map_data_carries_the_names(esquilino: fm.Analysis) -> None:
    data = webmap.map_data(esquilino, lang="it")
    places = data["places"]
    assert places and places[0].keys() == {"name", "kind", "min_zoom", "lat", "lon"}
    assert all(p["min_zoom"] == _places.MIN_ZOOM[p["kind"]] for p in places)
    assert data["labels"]["places"] == "Toponimi" and data["basemap"] is None
    # the map opens on the extract, not on the 155 zones of all Rome
    (s, w), (n, e) = data["bounds"]
    assert (n - s) < 0.05 and (e - w) < 0.05


def test_coverage_is_drawn_without_the_holes_of_blocks(esquilino: fm.Analysis) -> None:
    data = webmap.map_data(esquilino)
    cov = esquilino.coverage
    holes = int(shapely.get_num_interior_rings(shapely.get_parts(cov.geometry)).sum())
    drawn = 0
    for layer in data["coverage"]:
        shape = shapely.from_geojson(webmap.json.dumps(layer["data"]["features"][0]["geometry"]))
        drawn += int(shapely.get_num_interior_rings(shapely.get_parts(shape)).sum())
    assert holes > 20 and drawn < holes / 4


@pytest.mark.parametrize(
    ("url", "attribution", "message"),
    [
        ("tile.openstreetmap.org/{z}/{x}/{y}.png", None, "http"),
        ("ftp://tiles.example.org/{z}/{x}/{y}.png", "© X", "http"),
        ("https://tiles.example.org/{z}/{x}.png", "© X", r"lacks \{z\}, \{x\} or \{y\}"),
        ("https://tiles.example.org/{z}/{x}/{y}{q}.png", "© X", r"\{q\} is not a tile field"),
        ("https://tiles.example.org/{z}/{x}/{y}.png", None, "--basemap-attribution"),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "  ", "--basemap-attribution"),
    ],
)
def test_bad_basemaps_are_refused(url: str, attribution: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        webmap.basemap_source(url, attribution=attribution)


def test_basemap_attribution() -> None:
    osm = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert webmap.basemap_source(osm) == (osm, webmap.OSM_TILE_ATTRIBUTION)
    assert webmap.basemap_source(osm, attribution="© mine")[1] == "© mine"
    tms = "http://127.0.0.1:8000/{z}/{x}/{-y}.png"
    assert webmap.basemap_source(tms, attribution="<b>x</b>") == (tms, "<b>x</b>")


def test_map_html_with_and_without_a_basemap(sample_analysis: fm.Analysis) -> None:
    plain = webmap.map_html(sample_analysis)
    assert "tileLayer(" not in plain and "tile.openstreetmap.org" not in plain
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = webmap.map_html(sample_analysis, basemap=url, basemap_attribution="<b>© Ex</b>")
    assert "tileLayer(" in page and url in page and "<b>© Ex" not in page
    data = webmap.map_data(sample_analysis, basemap=url, basemap_attribution="<b>© Ex</b>")
    assert data["basemap"] == {"url": url, "attribution": "&lt;b&gt;© Ex&lt;/b&gt;"}  # text


def test_cli_checks_the_basemap_before_any_work(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert main(["demo", "--out", str(out), "--quiet", "--basemap", url]) == 2
    assert "--basemap-attribution" in capsys.readouterr().err
    assert main(["demo", "--out", str(out), "--quiet", "--basemap-attribution", "© X"]) == 2
    assert "needs --basemap" in capsys.readouterr().err
    assert not out.exists()


def test_the_demo_reads_its_own_place_names(tmp_path: Path, monkeypatch, capsys) -> None:
    """The demo reads the sample city as sample_data/... inside its folder: map.html gets
    the town's place names from that file, and no warning says it could not read it."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--out", "report"]) == 0
    err = capsys.readouterr().err
    assert "place names not read" not in err, err
    page = (tmp_path / "report" / "map.html").read_text("utf-8")
    assert "Rione Campione" in page and "Piazza del Campione" in page
