"""Service categories: the shipped table, bad tables and options, services read from OSM."""

from __future__ import annotations

import bz2
import time
import tomllib
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from _osmfixtures import DEG_M, LON0, STREET, lonlat, write_osm

import fifteenmin as fm
from fifteenmin import categories as cat
from fifteenmin.errors import InputError

# Documented values per key, from the OSM wiki (Map features and the Key:* / Tag:* pages):
# a reference list kept by hand, wider than the table, not read from the table.
OSM_VALUES: dict[str, set[str]] = {
    "amenity": {
        # sustenance
        "bar", "biergarten", "cafe", "fast_food", "food_court", "ice_cream", "pub",
        "restaurant",
        # education
        "childcare", "college", "dancing_school", "driving_school", "kindergarten",
        "language_school", "library", "music_school", "research_institute", "school",
        "toy_library", "university",
        # transportation
        "bicycle_parking", "bicycle_rental", "bus_station", "car_rental", "car_sharing",
        "ferry_terminal", "fuel", "parking", "taxi",
        # financial
        "atm", "bank", "bureau_de_change",
        # healthcare
        "clinic", "dentist", "doctors", "hospital", "nursing_home", "pharmacy", "veterinary",
        # entertainment, arts and culture
        "arts_centre", "cinema", "community_centre", "exhibition_centre", "nightclub",
        "social_centre", "theatre",
        # public service and others
        "courthouse", "fire_station", "police", "post_office", "townhall", "marketplace",
        "place_of_worship", "social_facility", "coworking_space", "drinking_water", "toilets",
    },
    "shop": {
        "bakery", "butcher", "cheese", "chemist", "convenience", "dairy", "deli",
        "department_store", "general", "greengrocer", "hairdresser", "kiosk", "laundry",
        "dry_cleaning", "mall", "seafood", "supermarket", "beauty", "books", "clothes",
        "hardware", "newsagent", "optician", "pastry", "beverages", "florist", "bicycle",
    },
    "leisure": {
        "dog_park", "fitness_centre", "fitness_station", "garden", "nature_reserve", "park",
        "pitch", "playground", "sports_centre", "stadium", "swimming_pool", "track",
        "picnic_table", "common", "ice_rink", "marina", "sports_hall",
    },
    "landuse": {"recreation_ground", "village_green", "residential", "retail", "cemetery"},
    "tourism": {"museum", "gallery", "artwork", "attraction", "viewpoint", "zoo"},
    "highway": {"bus_stop", "platform", "pedestrian", "footway", "residential"},
    "public_transport": {"platform", "stop_position", "station", "stop_area"},
    "railway": {"station", "halt", "tram_stop", "subway_entrance", "platform"},
    "office": {"coworking", "government", "company", "association"},
    "healthcare": {
        "alternative", "audiologist", "birthing_centre", "blood_donation", "clinic",
        "dentist", "doctor", "hospital", "laboratory", "optometrist", "pharmacy",
        "physiotherapist", "psychotherapist", "rehabilitation",
    },
}  # fmt: skip

SONY_CSL = [
    "outdoor", "learning", "supplies", "eating", "moving", "cultural", "exercise",
    "services", "healthcare",
]  # fmt: skip


# ---------------------------------------------------------------- the shipped table


def test_shipped_table_is_the_nine_categories_and_work() -> None:
    categories = cat.load_categories()
    assert [c.name for c in categories] == [*SONY_CSL, "work"]
    for c in categories:
        assert c.label_en and c.label_it and c.tags and c.file is None
        assert len(set(c.tags)) == len(c.tags)
    work = categories[-1]
    assert set(work.tags) == {"amenity=coworking_space", "office=coworking"}
    assert work.query == {
        "amenity": frozenset({"coworking_space"}),
        "office": frozenset({"coworking"}),
    }


def test_every_shipped_tag_value_is_a_real_osm_value() -> None:
    for category in cat.load_categories():
        for key, value in category.filters:
            assert key in OSM_VALUES, f"{category.name}: key {key} not in the reference list"
            assert value is None or value in OSM_VALUES[key], f"{category.name}: {key}={value}"


def test_table_is_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "categories.toml" in pyproject["tool"]["setuptools"]["package-data"]["fifteenmin"]


def test_a_copied_table_reads_the_same(tmp_path: Path) -> None:
    shipped = Path(cat.__file__).with_name(cat.TABLE)
    copy = tmp_path / "mine.toml"
    copy.write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    assert cat.load_categories(copy) == cat.load_categories()


# ---------------------------------------------------------------- bad tables

GOOD = """\
# two categories
[[category]]
name = "eating"
label_en = "Eating"
label_it = "Ristorazione"
tags = ["amenity=restaurant", "amenity=cafe"]

[[category]]
name = "green"
tags = ["leisure=park"]
"""


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cats.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_table(tmp_path: Path) -> None:
    eating, green = cat.load_categories(_table(tmp_path, GOOD))
    assert eating.tags == ("amenity=restaurant", "amenity=cafe")
    assert (green.label("en"), green.label("it")) == ("green", "green")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # tomllib's own error, with its line, inside one line of ours
        (GOOD.replace('name = "green"', 'name = "green'), r"cats\.toml: not a valid TOML.*line 9"),
        (GOOD.replace('"leisure=park"', '"leisure"'), r"toml line 10: .*'leisure' has no '='"),
        (GOOD.replace('"leisure=park"', '"leisure=park=x"'), r"line 10: .*is not key=value"),
        (GOOD.replace('"green"', '"eating"'), r"line 8: category 'eating' is given twice .*line 2"),
        (GOOD.replace('tags = ["leisure=park"]', 'tag = ["leisure=park"]'),
         r"line 10: category 'green': unknown key 'tag'; allowed keys: name, label_en"),
        (GOOD.replace('tags = ["leisure=park"]', "tags = []"), r"line 10: .*the tag list is empty"),
        (GOOD.replace('tags = ["leisure=park"]', ""), r"line 8: .*neither tags nor file"),
        (GOOD.replace('name = "green"\n', ""), r"line 8: category 2 has no name"),
        (GOOD.replace('"green"', '"Green Areas"'), r"line 9: category name 'Green Areas'"),
        (GOOD.replace('tags = ["leisure=park"]', 'tags = "leisure=park"'), r"line 10: .*a list"),
        (GOOD.replace('tags = ["leisure=park"]', 'file = "none.csv"'),
         r"line 10: category 'green': .*none\.csv: file not found"),
        ("[[categories]]\nname = 'x'\n", r"line 1: unknown table 'categories'"),
        ("# nothing\n", r"no \[\[category\]\] table"),
    ],
)  # fmt: skip
def test_bad_tables_say_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        cat.load_categories(_table(tmp_path, text))
    assert "\n" not in str(info.value)


def test_a_bad_tag_names_its_own_line(tmp_path: Path) -> None:
    text = GOOD.replace('tags = ["leisure=park"]', 'tags = [\n  "leisure=park",\n  "leisure"\n]')
    with pytest.raises(InputError, match=r"line 12: category 'green': tag 'leisure' has no"):
        cat.load_categories(_table(tmp_path, text))


def test_bad_table_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        cat.load_categories(tmp_path / "missing.toml")
    with pytest.raises(InputError, match="use one of .toml"):
        cat.load_categories(_table(tmp_path, GOOD).rename(tmp_path / "cats.txt"))
    latin = tmp_path / "latin.toml"
    latin.write_bytes(GOOD.replace("Ristorazione", "Ristorazione è").encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        cat.load_categories(latin)


def test_a_table_category_with_a_registry_file(tmp_path: Path) -> None:
    (tmp_path / "albo.csv").write_text("name,lat,lon\nA,0.001,3.001\n", encoding="utf-8")
    text = GOOD + '\n[[category]]\nname = "work"\nfile = "albo.csv"\ntags = ["office=coworking"]\n'
    work = cat.load_categories(_table(tmp_path, text))[-1]
    assert work.file == tmp_path / "albo.csv" and work.tags == ("office=coworking",)


def test_categories_are_checked_when_made() -> None:
    with pytest.raises(InputError, match="has no '='"):
        cat.Category("eating", ("amenity",))
    with pytest.raises(InputError, match="category name 'Eating'"):
        cat.Category("Eating", ("amenity=cafe",))
    assert cat.Category("x", [" amenity = cafe "]).tags == ("amenity=cafe",)


# ---------------------------------------------------------------- --category


def test_category_option_with_tags() -> None:
    c = cat.parse_category_option("libraries=amenity=library,amenity=toy_library")
    assert (c.name, c.tags, c.file) == (
        "libraries",
        ("amenity=library", "amenity=toy_library"),
        None,
    )
    assert c.label("it") == "libraries"
    assert cat.parse_category_option("health=healthcare=*").query == {"healthcare": None}


def test_category_option_with_a_file(tmp_path: Path) -> None:
    albo = tmp_path / "albo.csv"
    albo.write_text("name,lat,lon\nA,0.001,3.001\n", encoding="utf-8")
    c = cat.parse_category_option(f"work={albo}")
    assert (c.name, c.tags, c.file) == ("work", (), albo)
    both = cat.parse_category_option(f"work={albo},amenity=coworking_space")
    assert (both.tags, both.file) == (("amenity=coworking_space",), albo)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("libraries", "write NAME=FILE or NAME=key=value"),
        ("libraries=", "write NAME=FILE or NAME=key=value"),
        ("libraries=amenity", "'amenity' has no '=' and is not a registry file"),
        ("libraries=amenity=library,,", "an empty item"),
        ("Libraries=amenity=library", "category name 'Libraries'"),
        ("work=missing.csv", r"missing\.csv: file not found"),
        ("work=a.csv,b.csv", "give one registry file per category"),
        ("work=amenity=", "is not key=value"),
    ],
)
def test_bad_category_options(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        cat.parse_category_option(text)
    assert str(info.value).startswith(f"--category {text}:")


def test_merge_options_into_the_table() -> None:
    table = cat.load_categories()
    merged = cat.merge_categories(
        table,
        [
            cat.parse_category_option("eating=amenity=restaurant"),
            cat.parse_category_option("benches=amenity=bench"),
        ],
    )
    assert [c.name for c in merged] == [c.name for c in table] + ["benches"]
    eating = merged[3]
    assert (eating.tags, eating.label("it")) == (("amenity=restaurant",), "Ristorazione")
    twice = [cat.parse_category_option("a=amenity=bench")] * 2
    with pytest.raises(InputError, match="category 'a' is given twice"):
        cat.merge_categories(table, twice)


# ---------------------------------------------------------------- services from OSM
#
# Local metres (x east, y north). A street along y = 0; north of it:
# - a multipolygon park (relation 900; outer ring from two ways, a hole) over x 0..200,
#   y 20..170, with a gate on its outline at (100, 20) where a footway enters;
# - a park drawn as a closed way (50) over x 300..500, y 20..170: no entrance tagged;
# - a small garden (60), a private garden (61), a café node, a library node, a school way.

NODES = {
    1: (-50.0, 0.0), 2: (650.0, 0.0), 3: (100.0, 0.0),
    30: (100.0, 20.0), 31: (100.0, 60.0),
    10: (0.0, 20.0), 11: (200.0, 20.0), 12: (200.0, 170.0), 13: (0.0, 170.0),
    14: (80.0, 80.0), 15: (120.0, 80.0), 16: (120.0, 120.0), 17: (80.0, 120.0),
    20: (300.0, 20.0), 21: (500.0, 20.0), 22: (500.0, 170.0), 23: (300.0, 170.0),
    40: (550.0, 10.0), 41: (570.0, 10.0), 42: (570.0, 30.0), 43: (550.0, 30.0),
    44: (600.0, 10.0), 45: (620.0, 10.0), 46: (620.0, 30.0), 47: (600.0, 30.0),
    70: (20.0, -10.0), 71: (250.0, -10.0),
    80: (-40.0, -40.0), 81: (-20.0, -40.0), 82: (-20.0, -20.0), 83: (-40.0, -20.0),
}  # fmt: skip
WAYS = [
    (101, [1, 3, 2], STREET),
    (102, [3, 30, 31], {"highway": "footway"}),
    (110, [10, 30, 11, 12], {}),
    (111, [12, 13, 10], {}),
    (112, [14, 15, 16, 17, 14], {}),
    (50, [20, 21, 22, 23, 20], {"leisure": "park", "name": "Parco Via"}),
    (60, [40, 41, 42, 43, 40], {"leisure": "garden"}),
    (61, [44, 45, 46, 47, 44], {"leisure": "garden", "access": "private"}),
    (62, [80, 81, 82, 83, 80], {"amenity": "school", "name": "Scuola"}),
]
TAGGED = {
    30: {"barrier": "gate"},
    70: {"amenity": "cafe;bar", "name": "Bar Uno"},
    71: {"amenity": "library", "name": "Biblioteca"},
}
RELATIONS = [
    (
        900,
        [(110, "outer"), (111, "outer"), (112, "inner")],
        {"type": "multipolygon", "leisure": "park", "name": "Parco Relazione"},
    )
]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("town") / "town.osm"
    return write_osm(path, NODES, WAYS, tagged_nodes=TAGGED, relations=RELATIONS)


def _xy(frame) -> np.ndarray:
    """Points of a frame in local metres."""
    return np.column_stack([(frame.geometry.x - LON0) * DEG_M, frame.geometry.y * DEG_M])


def test_nodes_ways_and_multipolygons(town: Path) -> None:
    streets = fm.read_streets(town)
    found = cat.services_from_osm(town, cat.load_categories(), streets=streets)
    assert list(found) == [c.name for c in cat.load_categories()]
    assert list(found["eating"].columns) == list(cat.SERVICE_COLUMNS)
    assert found["eating"].crs.to_epsg() == 4326
    cafe = found["eating"].iloc[0]
    assert (cafe.space_id, cafe["name"], cafe.tag, cafe.access) == (
        "osm:node/70", "Bar Uno", "amenity=cafe", "node"
    )  # fmt: skip
    # a feature in two categories
    assert found["learning"]["space_id"].tolist() == ["osm:node/71", "osm:way/62"]
    assert found["cultural"]["space_id"].tolist() == ["osm:node/71"]
    school = found["learning"].iloc[1]
    assert school.access == "centroid"
    assert _xy(found["learning"].iloc[[1]])[0] == pytest.approx((-30.0, -30.0), abs=0.02)
    for empty in ("supplies", "moving", "exercise", "services", "healthcare", "work"):
        assert found[empty].empty and list(found[empty].columns) == list(cat.SERVICE_COLUMNS)

    outdoor = found["outdoor"]
    assert set(outdoor["feature_id"]) == {"osm:relation/900", "osm:way/50", "osm:way/60"}
    # the multipolygon park: its one gate, not its centroid
    rel = outdoor[outdoor["feature_id"] == "osm:relation/900"]
    assert rel["space_id"].tolist() == ["osm:relation/900#1"]
    assert rel["access"].tolist() == ["entrance"]
    assert _xy(rel)[0] == pytest.approx((100.0, 20.0), abs=0.02)
    # the park without entrances: points of its edge within 25 m of the street
    park = outdoor[outdoor["feature_id"] == "osm:way/50"]
    xy = _xy(park)
    edge = shapely.box(300, 20, 500, 170).exterior
    assert set(park["access"]) == {"edge"} and len(park) == 4
    assert park["space_id"].tolist() == [f"osm:way/50#{k}" for k in range(1, 5)]
    assert all(edge.distance(shapely.Point(p)) < 0.01 for p in xy)
    assert (xy[:, 1] <= 25.0 + 0.01).all()  # the street is y = 0
    gaps = np.diff(np.sort(xy[:, 0]))
    assert gaps == pytest.approx([52.5, 52.5, 52.5], abs=0.5)  # 210 m of edge, 4 parts
    assert np.hypot(*(xy - (400.0, 95.0)).T).min() > 70  # nowhere near its centroid
    # the small garden at its centroid; the private one left out
    garden = outdoor[outdoor["feature_id"] == "osm:way/60"]
    assert garden["access"].tolist() == ["centroid"]
    assert _xy(garden)[0] == pytest.approx((560.0, 20.0), abs=0.02)


def test_multipolygon_shape_has_its_hole(town: Path) -> None:
    (park,) = fm._osm.read_tagged_features(town, {"leisure": "park"}, areas=True)[1:]
    assert (park.osm_type, park.osm_id) == ("relation", 900)
    area_m2 = shapely.transform(park.shape, lambda c: (c - (LON0, 0.0)) * DEG_M).area
    assert area_m2 == pytest.approx(200 * 150 - 40 * 40, rel=1e-4)
    assert len(park.entrances) == 1
    assert park.entrances[0] == pytest.approx(lonlat(100.0, 20.0), abs=2e-7)
    y = (200 * 150 * 95.0 - 40 * 40 * 100.0) / (200 * 150 - 40 * 40)  # the hole moves it
    assert (park.lon, park.lat) == pytest.approx(lonlat(100.0, y), abs=2e-7)


def test_large_areas_without_streets_and_rules(town: Path) -> None:
    parks = [cat.Category("parks", ("leisure=park",))]
    park = cat.services_from_osm(town, parks)["parks"]
    way = park[park["feature_id"] == "osm:way/50"]
    assert len(way) == 14  # 700 m of outline, about every 50 m, all round
    assert _xy(way)[:, 1].max() > 150
    # the threshold: a park below it is one point at its centroid
    small = cat.services_from_osm(town, parks, large_area_m2=1e6)["parks"]
    assert small["access"].tolist() == ["centroid", "centroid"]
    assert _xy(small)[0] == pytest.approx((400.0, 95.0), abs=0.02)


def test_study_polygon(town: Path) -> None:
    west = shapely.box(*lonlat(-60.0, -60.0), *lonlat(250.0, 200.0))
    found = cat.services_from_osm(
        town, cat.load_categories(), polygon=west, streets=fm.read_streets(town)
    )
    assert set(found["outdoor"]["feature_id"]) == {"osm:relation/900"}
    assert found["eating"]["space_id"].tolist() == ["osm:node/70"]
    assert found["learning"]["space_id"].tolist() == ["osm:node/71", "osm:way/62"]
    # a large area straddling the border keeps its points inside
    half = shapely.box(*lonlat(350.0, -60.0), *lonlat(700.0, 200.0))
    park = cat.services_from_osm(town, cat.load_categories(), polygon=half)["outdoor"]
    way = park[park["feature_id"] == "osm:way/50"]
    assert len(way) and (_xy(way)[:, 0] >= 350 - 1e-6).all()


@pytest.mark.parametrize("suffix", [".osm.pbf", ".osm.bz2"])
def test_pbf_and_bz2_read_the_same(town: Path, tmp_path: Path, suffix: str) -> None:
    other = tmp_path / f"town{suffix}"
    if suffix == ".osm.bz2":
        other.write_bytes(bz2.compress(town.read_bytes()))
    else:
        with osmium.SimpleWriter(str(other)) as writer:
            for obj in osmium.FileProcessor(str(town)):
                writer.add(obj)
    categories = cat.load_categories()
    want = cat.services_from_osm(town, categories)
    got = cat.services_from_osm(other, categories)
    for name in want:
        assert got[name].geom_equals_exact(want[name], tolerance=1e-7).all()
        assert got[name]["space_id"].tolist() == want[name]["space_id"].tolist()


def test_load_services_adds_registry_files(town: Path, tmp_path: Path) -> None:
    albo = tmp_path / "albo.csv"
    albo.write_text(
        "space_id,name,lat,lon,seats\nA1,Uno,{1},{0},12\nA2,Fuori,{3},{2},\n".format(
            *lonlat(10.0, 10.0), *lonlat(5000.0, 10.0)
        ),
        encoding="utf-8",
    )
    work = cat.load_categories()[-1].with_file(albo)
    area = shapely.box(*lonlat(-100.0, -100.0), *lonlat(1000.0, 300.0))
    found = cat.load_services([work], osm=town, polygon=area)["work"]
    assert found["space_id"].tolist() == ["A1"]  # no OSM coworking here; A2 is outside
    row = found.iloc[0]
    assert (row.access, row.source, row.seats, row.tag) == ("point", "albo.csv", 12, None)
    only_file = cat.parse_category_option(f"work={albo}")
    assert len(cat.load_services([only_file])["work"]) == 2
    with pytest.raises(InputError, match="no OSM file was given"):
        cat.load_services(cat.load_categories())


# ---------------------------------------------------------------- the Rome extracts


def _tagged(path: Path) -> list[tuple[str, dict[str, str]]]:
    """Every node and way with tags, public ones only: plain Python over the file."""
    out = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        if len(obj.tags) and obj.tags.get("access") not in ("private", "no"):
            out.append((f"osm:{'node' if obj.is_node() else 'way'}/{obj.id}", dict(obj.tags)))
    return out


@pytest.mark.parametrize(
    ("name", "least"),
    [
        # streets only (an Overpass extract of highway ways): only stops are tagged
        ("network/rome_esquilino_2016.osm", {"moving"}),
        # a full OSM API export: every daily-service category has services
        ("network/rome_nomentano_2012.osm", set(SONY_CSL)),
    ],
)
def test_rome_extracts(rome_file, name: str, least: set[str]) -> None:
    path = rome_file(name)
    streets = fm.read_streets(path)
    categories = cat.load_categories()
    start = time.perf_counter()
    found = cat.services_from_osm(path, categories, streets=streets)
    assert time.perf_counter() - start < 5.0
    assert {n for n, frame in found.items() if len(frame)} >= least
    tagged = _tagged(path)
    for category in categories:
        frame = found[category.name]
        features = {f for f in frame["feature_id"] if not f.startswith("osm:relation/")}
        reference = {
            i
            for i, tags in tagged
            if any(
                k in tags and (v is None or v in {p.strip() for p in tags[k].split(";")})
                for k, v in category.filters
            )
        }
        assert features == reference, category.name
        assert frame["space_id"].is_unique


def test_rome_park_is_reached_at_its_edge(rome_file) -> None:
    path = rome_file("network/rome_nomentano_2012.osm")
    streets = fm.read_streets(path)
    outdoor = cat.services_from_osm(path, cat.load_categories()[:1], streets=streets)["outdoor"]
    torlonia = outdoor[outdoor["name"] == "Villa Torlonia"].to_crs(streets.crs)
    (feature,) = [
        f
        for f in fm._osm.read_tagged_features(path, {"leisure": "park"}, areas=True)
        if f.tags.get("name") == "Villa Torlonia"
    ]
    import geopandas as gpd

    shape = gpd.GeoSeries([feature.shape], crs=4326).to_crs(streets.crs).iloc[0]
    assert len(torlonia) >= 10 and set(torlonia["access"]) == {"edge"}
    assert (torlonia.distance(shape.exterior) < 0.01).all()
    near = streets.edge_tree.query(
        torlonia.geometry.to_numpy(), predicate="dwithin", distance=25.01
    )
    assert set(near[0]) == set(range(len(torlonia)))
    assert torlonia.distance(shape.centroid).min() > 100
