"""Many categories on one network: by hand on a line, against brute-force sampling along
the streets, and against separate single-category runs."""

from __future__ import annotations

import dataclasses
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from test_travel import spaces_at

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin.errors import InputError
from fifteenmin.services import (
    brute_force_shares,
    category_coverage,
    category_figures,
    category_times,
)
from fifteenmin.zones import counted_geometries, street_pieces


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """A 2,000 m street in one zone of 2,000 residents."""
    xs = [0, 500, 1000, 1500, 2000]
    nodes = {i + 1: (x, 0) for i, x in enumerate(xs)}
    path = write_osm(
        tmp_path_factory.mktemp("line") / "line.osm",
        nodes,
        [(i, [i, i + 1], STREET) for i in range(1, len(xs))],
    )
    zone = gpd.GeoDataFrame(
        {"zone_id": ["z"], "residents": [2000.0]},
        geometry=[shapely.box(*lonlat(-50, -50), *lonlat(2050, 50))],
        crs=4326,
    )
    return fm.read_streets(path), zone


def test_all_categories_by_hand(line):
    """A at x=0 reaches [0, 1,200], B at x=2,000 reaches [800, 2,000], work at x=0 too
    within 5 min: each single share is 0.6, their average 0.6, but only [800, 1,200] has
    both: 0.2; with B as the missing piece, [0, 800) has A and not B: 0.4."""
    streets, zone = line
    a, b = spaces_at((0, 0)), spaces_at((2000, 0))
    ct = category_times(streets, {"a": a, "b": b})
    cov = category_coverage(ct, zone, missing="b").iloc[0]
    assert cov["share_pop_15min_a"] == pytest.approx(0.6, abs=1e-6)
    assert cov["share_pop_15min_b"] == pytest.approx(0.6, abs=1e-6)
    assert cov["share_pop_15min_all"] == pytest.approx(0.2, abs=1e-6)
    assert cov["pop_15min_all"] == pytest.approx(400, abs=1e-3)
    assert cov["share_missing_b_15min"] == pytest.approx(0.4, abs=1e-6)
    assert cov["missing_b_15min"] == pytest.approx(800, abs=1e-3)
    assert cov["categories_15min"] == pytest.approx(1.2, abs=1e-6)
    # mean walk to A along the street: x / 1.333 m/s averaged over 0-2,000 m
    assert cov["mean_walk_time_s_a"] == pytest.approx(1000 / (4.8 / 3.6), rel=1e-4)
    assert cov["worst_category"] in ("a", "b")


def test_a_category_without_service(line):
    streets, zone = line
    empty = spaces_at((0, 0)).iloc[:0]
    with pytest.warns(UserWarning, match="1 category has no service.*: none;"):
        ct = category_times(streets, {"a": spaces_at((0, 0)), "none": empty})
    cov = category_coverage(ct, zone, missing="none").iloc[0]
    # "none" itself is not reachable (0); "all of them" is not assessed, never 0
    assert cov["share_pop_15min_none"] == 0 and np.isnan(cov["share_pop_15min_all"])
    # the missing piece is "none" itself: everything else (a) is there, so it is assessed
    assert cov["share_missing_none_15min"] == pytest.approx(0.6, abs=1e-6)
    # the mean and the worst walk are over the categories with a service
    assert np.isnan(cov["mean_walk_time_s_none"]) and cov["worst_category"] == "a"
    assert cov["mean_category_time_s"] == pytest.approx(cov["mean_walk_time_s_a"])
    assert cov["categories_15min"] == pytest.approx(cov["share_pop_15min_a"])
    # with "a" as the missing piece, another category (none) has no data: not assessed
    other = category_coverage(ct, zone, missing="a").iloc[0]
    assert np.isnan(other["share_missing_a_15min"])
    figures = category_figures(ct, zone.assign(residents=100.0), missing="a")
    every = figures.citywide.set_index("category").loc["all"]
    assert np.isnan(every["share"]) and every["not_assessed"] == (
        "no service in the study area for: none"
    )
    summary = figures.summary()
    json.dumps(summary, allow_nan=False)  # NaN written as null
    assert summary["all"]["share"] is None and summary["not_reachable"] == ["none"]
    assert summary["missing_piece"]["residents"] is None
    assert "none" in summary["missing_piece"]["not_assessed"]
    assert figures.not_assessed.keys() == {"all", "missing"}


def test_bad_categories(line):
    streets, _ = line
    with pytest.raises(InputError, match="no service category"):
        category_times(streets, {})
    empty = spaces_at((0, 0)).iloc[:0]
    with pytest.raises(InputError, match="none of the 1 categories"):
        category_times(streets, {"x": empty})


@pytest.fixture(scope="module")
def city_categories(sample_analysis):
    spaces = sample_analysis.walk.spaces
    rng = np.random.default_rng(0)
    cats = {
        name: spaces.iloc[rng.choice(len(spaces), k, replace=False)]
        for name, k in (("supplies", 4), ("health", 3), ("learning", 5), ("work", 2))
    }
    return cats, category_times(sample_analysis.walk.streets, cats)


def test_against_brute_force_sampling(sample_analysis, city_categories):
    _, ct = city_categories
    zones = sample_analysis.zones.to_crs(ct.streets.crs)
    pieces = street_pieces(ct.walk, counted_geometries(zones))
    cov = category_coverage(ct, zones, pieces=pieces)
    samples = 4000
    all_bf, miss_bf = brute_force_shares(ct, pieces, 15.0, len(zones), samples=samples)
    # sampling misplaces each interval end by at most one step: 1 / samples of the piece
    np.testing.assert_allclose(cov["share_pop_15min_all"], all_bf, atol=1 / samples)
    np.testing.assert_allclose(cov["share_missing_work_15min"], miss_bf, atol=1 / samples)
    singles = cov[[f"share_pop_15min_{n}" for n in ct.names]].to_numpy()
    assert (cov["share_pop_15min_all"].to_numpy() <= singles.min(axis=1) + 1e-12).all()
    # the mean walk, sampled
    g = ct.graph
    u, v = g.u[pieces.edge], g.v[pieces.edge]
    frac = (np.arange(samples) + 0.5) / samples
    x = pieces.start_m[:, None] + frac[None, :] * (pieces.end_m - pieces.start_m)[:, None]
    d = ct.dist_m[0]
    t = np.minimum(d[u][:, None] + x, d[v][:, None] + pieces.length_m[:, None] - x).mean(axis=1)
    length = pieces.end_m - pieces.start_m
    want = np.bincount(pieces.zone, weights=t * length) / np.bincount(pieces.zone, weights=length)
    np.testing.assert_allclose(
        cov[f"mean_walk_time_s_{ct.names[0]}"], want / (4.8 / 3.6), rtol=1e-6
    )


def test_each_category_equals_its_own_run(sample_city, sample_analysis, city_categories):
    cats, ct = city_categories
    cov = category_coverage(ct, sample_analysis.zones)
    for name, frame in cats.items():
        single = fm.analyze(
            sample_analysis.walk.streets, frame.to_crs(4326), sample_city.zones,
            population_column="population",
        )  # fmt: skip
        np.testing.assert_allclose(
            cov[f"share_pop_15min_{name}"], single.zones[N.share("pop", 15)], rtol=0, atol=1e-12,
            err_msg=name,
        )  # fmt: skip


def test_one_search_per_category_is_fast(sample_analysis, city_categories):
    """The network is indexed once: ten categories cost ten searches, not ten runs."""
    import time

    cats, _ = city_categories
    streets = sample_analysis.walk.streets
    ten = {f"c{i}": cats["learning"] for i in range(10)}
    t0 = time.perf_counter()
    category_times(streets, {"one": cats["learning"]})
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    category_times(streets, ten)
    many = time.perf_counter() - t0
    assert many < 10 * one + 0.5


# ------------------------------------------------------------- in analyze and the CLI


@pytest.fixture(scope="module")
def with_categories(sample_city):
    return fm.analyze(
        sample_city.network, sample_city.spaces, sample_city.zones,
        population_column="population", categories="default",
    )  # fmt: skip


def test_analyze_with_the_default_table(with_categories, sample_analysis):
    result = with_categories
    z = result.zones
    names = result.categories.times.names
    assert names[-1] == "work" and len(names) == 10
    # work is the analysis's spaces: its figures are the headline's
    np.testing.assert_allclose(
        z["share_pop_15min_work"], sample_analysis.zones[N.share("pop", 15)], atol=1e-12
    )
    singles = z[[f"share_pop_15min_{n}" for n in names]].to_numpy()
    assert (z["share_pop_15min_all"].to_numpy() <= singles.min(axis=1) + 1e-12).all()
    summary = result.summary["categories"]
    assert summary["not_reachable"] == []
    piece = summary["missing_piece"]
    assert piece["residents"] == pytest.approx(z["missing_work_15min"].sum())
    assert piece["zones"][0]["zone_id"] == "N04"  # the north-east town has all but work
    # the headline figures do not move
    assert result.summary["within"] == sample_analysis.summary["within"]


def test_categories_written(with_categories, tmp_path):
    out = with_categories.write(tmp_path / "out", lang="it")
    names = {p.name for p in out.iterdir()}
    assert {"categories.csv", "categories_map.png", "missing_piece_map.png"} <= names
    import pyogrio

    nodes = pyogrio.read_dataframe(out / "walk_times.gpkg", layer="categories")
    assert {"walk_time_s_work", "walk_time_s_eating"} <= set(nodes.columns)
    table = pd.read_csv(out / "categories.csv")
    assert table["category"].tolist()[-1] == "all"
    html = (out / "report.html").read_text("utf-8")
    assert 'id="categories"' in html and "Servizi quotidiani" in html
    assert "Rione Campione" in html  # the missing-piece zone is listed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--categories", "nope.toml"], "not found"),
        (["--category", "libraries=amenity"], "="),
        (["--category", "a=amenity=library", "--category", "a=shop=bakery"], "a"),
        (["--categories", "BAD"], "BAD"),
    ],
)
def test_cli_categories_bad_input(sample_city, tmp_path, capsys, extra, message):
    if "BAD" in extra:
        bad = tmp_path / "bad.toml"
        bad.write_text('[[category]]\nname = "x"\ntags = ["amenity=library"\n', "utf-8")
        extra = ["--categories", str(bad)]
        message = "bad.toml"
    out = tmp_path / "out"
    args = ["analyze", "--network", str(sample_city.network), "--spaces",
            str(sample_city.spaces), "--zones", str(sample_city.zones),
            "--population-column", "population", *extra, "--out", str(out), "--quiet"]  # fmt: skip
    from fifteenmin.cli import main

    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extract", "least"),
    [("rome_esquilino_2016.osm", 1), ("rome_nomentano_2012.osm", 8)],
)  # the Esquilino extract holds streets and bus stops only; Nomentano its shops, schools...
def test_rome_categories_equal_single_runs(rome_file, extract, least):
    """Categories from the extract's own OSM tags: each category's figures equal a separate
    run with that category's places as the spaces (every street kept on both sides)."""
    import warnings

    from test_rome import placed_spaces

    from fifteenmin.categories import load_categories

    network = rome_file(f"network/{extract}")
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    streets = fm.read_streets(network)
    spaces = placed_spaces(streets, 5, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = fm.analyze(
            network, spaces, zones, population_column="pop2018", categories=load_categories(),
            keep_fragments=True,
        )  # fmt: skip
    ct = result.categories.times
    found = [n for n, k in ct.counts.items() if k > 0]
    assert len(found) - 1 >= least, ct.counts  # work: the spaces placed here
    z = result.zones
    counted = result.counted
    # a category with no place in the extract: "all of them" is not assessed, never 0
    absent = len(found) < len(ct.names)
    assert np.isnan(z["share_pop_15min_all"]).all() == absent
    # over the categories found, "all" never exceeds the smallest
    keep = [ct.names.index(n) for n in found]
    sub = dataclasses.replace(
        ct, names=tuple(found), dist_m=ct.dist_m[keep], counts={n: ct.counts[n] for n in found}
    )
    cov = category_coverage(sub, z.reset_index(drop=True)).loc[counted]
    singles = cov[[f"share_pop_15min_{n}" for n in found]].to_numpy()
    assert (cov["share_pop_15min_all"].to_numpy() <= singles.min(axis=1) + 1e-12).all()
    services = ct.services
    for name in found[:4]:
        mine = services[services["category"] == name][["space_id", "geometry"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            single = fm.analyze(
                network, mine, zones, population_column="pop2018", keep_fragments=True
            )
        np.testing.assert_allclose(
            z.loc[counted, f"share_pop_15min_{name}"],
            single.zones.loc[counted, N.share("pop", 15)],
            rtol=0, atol=1e-9, err_msg=name,
        )  # fmt: skip


def test_suggest_for_the_missing_piece(with_categories, sample_analysis):
    from fifteenmin.services import missing_piece_pieces

    result = with_categories
    sites = fm.suggest_sites(result, n_sites=3, objective="missing", min_separation_m=300)
    total = result.summary["categories"]["missing_piece"]["residents"]
    assert sites["zone_id"].iloc[0] == "N04"  # the town with all but work
    gained = sites["completed_residents_15min"].to_numpy()
    assert gained.sum() <= total + 1e-6 and gained[0] > 0.9 * total
    assert sites.attrs["objective_value"] == pytest.approx(gained.sum())
    # the stretches greedy counts are exactly the missing piece of the zone figures
    ct = result.categories.times
    zones = result.zones.to_crs(ct.streets.crs)
    pieces = street_pieces(ct.walk, counted_geometries(zones))
    target = missing_piece_pieces(ct, pieces, minutes=15, missing="work")
    length = np.bincount(target.zone, weights=target.end_m - target.start_m, minlength=len(zones))
    total_len = np.bincount(
        pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=len(zones)
    )
    np.testing.assert_allclose(
        length / np.where(total_len > 0, total_len, 1), zones["share_missing_work_15min"],
        atol=1e-12,
    )  # fmt: skip
    with pytest.raises(InputError, match="categories"):
        fm.suggest_sites(sample_analysis, objective="missing")
    # a category other than work with no place: the missing piece is not assessed
    figures = result.categories
    counts = {**figures.times.counts, figures.times.names[0]: 0}
    blind = dataclasses.replace(
        result,
        categories=dataclasses.replace(
            figures, times=dataclasses.replace(figures.times, counts=counts)
        ),
    )
    with pytest.raises(InputError, match="missing piece is not assessed .*no service"):
        fm.suggest_sites(blind, objective="missing")


def test_cli_missing_objective_needs_categories(sample_city, tmp_path, capsys):
    from fifteenmin.cli import main

    out = tmp_path / "out"
    args = ["suggest", "--network", str(sample_city.network), "--spaces", str(sample_city.spaces),
            "--zones", str(sample_city.zones), "--population-column", "population",
            "--objective", "missing", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 2
    assert "--categories" in capsys.readouterr().err and not out.exists()


def test_a_streets_only_extract_says_not_assessed(rome_file, tmp_path, capsys):
    """Esquilino holds streets and bus stops only: 'every category' and the missing piece
    are not assessed in every output (never 0 %), the categories found are still counted."""
    from test_rome import placed_spaces

    from fifteenmin.cli import main

    network = rome_file("network/rome_esquilino_2016.osm")
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    spaces = tmp_path / "spaces.geojson"
    placed_spaces(fm.read_streets(network), 5, seed=2).to_file(spaces)
    out = tmp_path / "out"
    args = ["analyze", "--network", str(network), "--spaces", str(spaces), "--zones",
            str(zones), "--population-column", "pop2018", "--categories", "default",
            "--lang", "it", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    said = capsys.readouterr().out
    # the console in Italian (--lang it), the reasons too
    assert "da ogni categoria: non valutato (nessun servizio nell'area di studio per: " in said
    assert "tutto tranne Lavoro (coworking): non valutato" in said
    assert "per categoria: Trasporti 100%, Lavoro (coworking) 9" in said  # Italian labels
    assert "Ristorazione" in said and "eating" not in said
    summary = json.loads((out / "summary.json").read_text("utf-8"))["categories"]
    found = {r["category"] for r in summary["categories"] if r["services"]}
    assert found == {"moving", "work"}, found
    assert summary["all"]["share"] is None and summary["all"]["residents_within"] is None
    assert summary["missing_piece"]["residents"] is None
    assert set(summary["not_reachable"]) == {r["category"] for r in summary["categories"]} - found
    table = pd.read_csv(out / "categories.csv").set_index("category")
    assert np.isnan(table.loc["all", "share"]) and "eating" in table.loc["all", "not_assessed"]
    assert table.loc["eating", "share"] == 0  # not reachable: nobody reaches it
    zones_out = pd.read_csv(out / "zones.csv")
    assert zones_out["share_pop_15min_all"].isna().all()
    assert zones_out["categories_15min"].max() <= 2 + 1e-9  # of the two found
    names = {p.name for p in out.iterdir()}
    assert "categories_map.png" in names and "missing_piece_map.png" not in names
    html = (out / "report.html").read_text("utf-8")
    assert "non valutato: nessun luogo nei dati per" in html
    assert "non sono valutati" in html and "Ristorazione" in html
    assert "Tutte le categorie" in html and "cat-share-all" not in html
    # the run's warnings and the fragments' rule, recorded in English, in Italian
    assert "151 zone su 155 non hanno dati stradali" in html
    assert "zones have no street data" not in html and "components of the walking" not in html


def test_categories_map_says_not_assessed(rome_file):
    from fifteenmin.outputs import categories_map

    network = rome_file("network/rome_esquilino_2016.osm")
    zones = rome_file("boundaries/roma_zone_urbanistiche_155_pop.geojson")
    spaces = placed_spaces_for(network)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = fm.analyze(network, spaces, zones, population_column="pop2018",
                            categories="default")  # fmt: skip
    for lang, phrase, of in [
        ("en", "all 10 categories: not assessed (no place in the data for ", "of 2: those"),
        ("it", "tutte le 10 categorie: non valutato (nessun luogo nei dati per ", "su 2: quelle"),
    ]:
        fig = categories_map(result, lang=lang)
        texts = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
        assert phrase in texts and of in texts, texts
        assert "0%" not in texts and "0,0%" not in texts
        assert " / 2" in texts and " / 10" not in texts
        import matplotlib.pyplot as plt

        plt.close(fig)


def placed_spaces_for(network):
    from test_rome import placed_spaces

    return placed_spaces(fm.read_streets(network), 5, seed=2)
