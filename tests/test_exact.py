"""The exact check of the suggested sites: atoms, greedy <= optimum, a known greedy trap,
the shortfall objective, seats of new sites, candidates files and the CLI."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm

import fifteenmin as fm
from fifteenmin import _mclp, planning
from fifteenmin.cli import main
from fifteenmin.errors import InputError

needs_spopt = pytest.mark.skipif(not _mclp.available(), reason="needs spopt (fifteenmin[exact])")


def _line_city(tmp_path, xs, zones, spaces, name="line"):
    """A straight street through nodes at ``xs`` (metres east), zones ``(x0, x1, residents)``
    and spaces ``(x, seats)``; walk 5 min = 400 m at 4.8 km/h."""
    nodes = {i + 1: (float(x), 0.0) for i, x in enumerate(xs)}
    path = write_osm(
        tmp_path / f"{name}.osm", nodes, [(i, [i, i + 1], STREET) for i in range(1, len(xs))]
    )
    polys = [shapely.box(*lonlat(a, -50), *lonlat(b, 50)) for a, b, _ in zones]
    zone_gdf = gpd.GeoDataFrame(
        {
            "zone_id": [f"z{i}" for i in range(len(zones))],
            "name": [f"Zone {i}" for i in range(len(zones))],
            "population": [float(p) for *_, p in zones],
        },
        geometry=polys,
        crs=4326,
    )
    ll = [lonlat(x, 0) for x, _ in spaces]
    space_gdf = gpd.GeoDataFrame(
        {"space_id": [f"s{i}" for i in range(len(spaces))], "seats": [s for _, s in spaces]},
        geometry=gpd.points_from_xy(*zip(*ll, strict=True)),
        crs=4326,
    )
    return fm.analyze(
        fm.read_streets(path),
        space_gdf,
        zone_gdf,
        population_column="population",
        minutes=[5, 15],
        sparse_share=0,
    )


def _points_at(*xs, y=0.0):
    ll = [lonlat(x, y) for x in xs]
    return gpd.GeoDataFrame(
        {"id": [f"c{x:g}" for x in xs], "name": [f"at {x:g}" for x in xs]},
        geometry=gpd.points_from_xy(*zip(*ll, strict=True)),
        crs=4326,
    )


@pytest.fixture(scope="module")
def trap(tmp_path_factory):
    """The classic trap of greedy coverage, on a street from x=-3,000 to 1,600.

    Residents: 200 on x 0-400, 800 on 400-1,200, 200 on 1,200-1,600; a space at x=-3,000
    reaches none of them in 5 min (400 m). Candidates at x=400 (reaches x 0-800: 600
    residents), 800 (400-1,200: 800) and 1,200 (800-1,600: 600). Greedy takes 800 first,
    then either other adds 200: 1,000. The best pair is 400 and 1,200: all 1,200.
    """
    xs = [-3000, -1000, 0, 400, 800, 1200, 1600]
    zones = [(0, 400, 200), (400, 1200, 800), (1200, 1600, 200)]
    return _line_city(tmp_path_factory.mktemp("trap"), xs, zones, [(-3000, 10)])


@needs_spopt
def test_greedy_trap_optimum_is_strictly_better(trap):
    sites = planning.suggest_sites(
        trap, n_sites=2, minutes=5, candidates=_points_at(400, 800, 1200), exact=True
    )
    assert list(sites["candidate"]) == [1, 0]  # x=800, then the lowest-numbered tie
    assert sites["new_residents_5min"].sum() == pytest.approx(1000, rel=1e-4)
    ex = sites.attrs["exact"]
    assert ex["run"] and ex["status"] == "optimal"
    assert ex["greedy"] == pytest.approx(1000, rel=1e-4)
    assert ex["optimum"] == pytest.approx(1200, rel=1e-4)
    assert ex["gap"] == pytest.approx(200, rel=1e-3) and ex["gap"] > 0
    assert ex["gap_pct"] == pytest.approx(100 * 200 / 1200, rel=1e-3)
    assert ex["gap_pct_of_gain"] == pytest.approx(ex["gap_pct"])  # nobody was served before
    assert sorted(s["candidate"] for s in ex["optimum_sites"]) == [0, 2]
    assert [s["candidate_id"] for s in ex["optimum_sites"]] == ["c400", "c1200"]
    assert [s["greedy_pick"] for s in ex["optimum_sites"]] == [True, False]
    assert ex["greedy_on_atoms"] == pytest.approx(ex["greedy"], rel=1e-6)


@needs_spopt
def test_one_site_greedy_is_optimal(trap):
    sites = planning.suggest_sites(
        trap, n_sites=1, minutes=5, candidates=_points_at(400, 800, 1200), exact=True
    )
    ex = sites.attrs["exact"]
    assert ex["gap"] == 0 and ex["optimum"] == pytest.approx(800, rel=1e-4)
    assert [s["candidate"] for s in ex["optimum_sites"]] == [1]


@needs_spopt
def test_separation_binds_the_optimum_too(trap):
    # 450 m apart at least: 400+800 and 800+1,200 are out; the pair 400+1,200 is allowed
    # and greedy's first pick (800) leaves nothing it may add
    sites = planning.suggest_sites(
        trap,
        n_sites=2,
        minutes=5,
        candidates=_points_at(400, 800, 1200),
        min_separation_m=450,
        exact=True,
    )
    assert list(sites["candidate"]) == [1]
    ex = sites.attrs["exact"]
    assert ex["optimum"] == pytest.approx(1200, rel=1e-4)
    assert ex["greedy"] == pytest.approx(800, rel=1e-4)
    # 900 m apart: only one site may open, and greedy's is the best
    sites = planning.suggest_sites(
        trap,
        n_sites=2,
        minutes=5,
        candidates=_points_at(400, 800, 1200),
        min_separation_m=900,
        exact=True,
    )
    assert sites.attrs["exact"]["gap"] == 0
    assert len(sites.attrs["exact"]["optimum_sites"]) == 1


@needs_spopt
def test_existing_space_is_predefined(tmp_path):
    # a space at x=400 serves x 0-800 already: the best new pair is then 1,200 alone
    # (x 800-1,600) plus anything; greedy finds it, gap 0, baseline counted in both
    xs = [0, 400, 800, 1200, 1600]
    city = _line_city(tmp_path, xs, [(0, 1600, 1600)], [(400, 10)], name="pre")
    sites = planning.suggest_sites(
        city, n_sites=2, minutes=5, candidates=_points_at(0, 800, 1200, 1600), exact=True
    )
    ex = sites.attrs["exact"]
    assert sites.attrs["baseline_share"] == pytest.approx(0.5, rel=1e-4)
    assert ex["greedy"] == pytest.approx(1600, rel=1e-4)
    assert ex["optimum"] == pytest.approx(1600, rel=1e-4) and ex["gap"] == 0
    assert ex["gap_pct_of_gain"] == 0


def _candidates(analysis, n, seed):
    rng = np.random.default_rng(seed)
    xy = analysis.walk.streets.node_xy
    xy = xy[rng.choice(len(xy), n, replace=False)] + rng.uniform(-60, 60, (n, 2))
    return gpd.GeoDataFrame(geometry=shapely.points(xy), crs=analysis.walk.streets.crs)


@needs_spopt
@pytest.mark.parametrize(("n", "seed", "sites"), [(12, 1, 2), (30, 2, 3), (40, 3, 4)])
def test_sample_city_greedy_at_most_optimum(sample_analysis, n, seed, sites):
    cands = _candidates(sample_analysis, n, seed)
    got = fm.suggest_sites(sample_analysis, n_sites=sites, candidates=cands, exact=True)
    ex = got.attrs["exact"]
    assert ex["run"] and ex["status"] == "optimal"
    assert ex["gap"] >= 0 and ex["optimum"] >= ex["greedy"] - 1e-9 * ex["optimum"]
    assert ex["gap"] == pytest.approx(ex["optimum"] - ex["greedy_on_atoms"], abs=1e-6)
    # the discretisation is exact: greedy's picks on the atoms = greedy's own figure
    total = got.attrs["residents_total"]
    assert ex["greedy"] == pytest.approx(got["cumulative_share_15min"].iloc[-1] * total)
    assert ex["greedy_on_atoms"] == pytest.approx(ex["greedy"], rel=1e-6)
    assert len(ex["optimum_sites"]) <= sites


def _brute_force(analysis, cands, n_sites, minutes=15.0):
    """Independent optimum: every set of ``n_sites`` candidates, counted with the greedy
    machinery (exact street coverage), not with the atoms."""
    walk, zones = planning._inputs(analysis, None)
    points = planning._candidate_points(cands)
    graph, dist, cand_node = planning._with_candidates(walk, points)
    numbered = planning.dataclasses.replace(
        walk, graph=graph, dist_m=dist, nearest=np.full(graph.n_nodes, -1)
    )
    pieces = planning.street_pieces(numbered, zones.geometry.to_numpy())
    pop = zones["residents"].to_numpy(float)
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=len(zones))
    density = np.divide(pop, total, out=np.zeros(len(zones)), where=total > 0)
    res = planning._Residents(graph, dist, pieces, density, walk.minutes_to_m(minutes))
    rows = res.search(cand_node)
    best = -np.inf
    for subset in itertools.combinations(range(len(cand_node)), n_sites):
        d = np.minimum(dist, rows[list(subset)].min(axis=0))
        best = max(best, float(res.density @ res.covered(d)))
    return best


@needs_spopt
def test_optimum_matches_brute_force(sample_analysis):
    cands = _candidates(sample_analysis, 12, 11)
    got = fm.suggest_sites(
        sample_analysis, n_sites=3, candidates=cands, exact=True, min_separation_m=0
    )
    assert got.attrs["exact"]["optimum"] == pytest.approx(
        _brute_force(sample_analysis, cands, 3), rel=1e-9
    )


@needs_spopt
def test_default_candidates_small_instance(trap):
    # the street nodes as candidates (no file): x=400, 800 and 1,200 among them
    sites = planning.suggest_sites(trap, n_sites=2, minutes=5, exact=True, min_separation_m=0)
    ex = sites.attrs["exact"]
    assert ex["run"] and ex["candidates"] == sites.attrs["candidates"]
    assert ex["optimum"] == pytest.approx(1200, rel=1e-4)
    assert {s["osmid"] for s in ex["optimum_sites"]} == {4, 6}  # x=400 and x=1,200
    assert ex["greedy_on_atoms"] == pytest.approx(ex["greedy"], rel=1e-6)


def test_exact_not_run_when_too_big_or_missing(trap, monkeypatch):
    cands = _points_at(400, 800, 1200)
    sites = planning.suggest_sites(
        trap, n_sites=1, minutes=5, candidates=cands, exact=True, exact_max_candidates=2
    )
    ex = sites.attrs["exact"]
    assert not ex["run"] and "3 candidate sites, more than the 2" in ex["reason"]
    monkeypatch.setattr(_mclp, "available", lambda: False)
    sites = planning.suggest_sites(trap, n_sites=1, minutes=5, candidates=cands, exact=True)
    ex = sites.attrs["exact"]
    assert not ex["run"] and ex["reason"].endswith("pip install fifteenmin[exact]")
    assert planning.suggest_sites(trap, n_sites=1, minutes=5).attrs["exact"] is None


def test_atoms_merge_by_covering_set():
    weight = np.array([1.0, 2, 3, 4, 5])
    point = np.array([0, 0, 1, 1, 2, 3, 3, 4])
    fac = np.array([2, 1, 1, 2, 0, 2, 1, 3])
    atoms = _mclp._merge(weight, point, fac, 4)
    sets = {
        tuple(sorted(atoms.fac[atoms.ptr[i] : atoms.ptr[i + 1]])): w
        for i, w in enumerate(atoms.weight)
    }
    assert sets == {(1, 2): 7.0, (0,): 3.0, (3,): 5.0}
    assert atoms.value(np.array([False, True, False, False])) == 7.0
    assert atoms.value(np.array([True, False, False, True])) == 8.0


@needs_spopt
@pytest.mark.parametrize("start", [None, [False, True, False, False], [True, False, False, False]])
def test_solve_small_programme(start):
    # sets {1, 2}: 7, {0}: 3, {3}: 5; facility 0 always open; 1 and 2 may not both open
    atoms = _mclp._merge(
        np.array([1.0, 2, 3, 4, 5]),
        np.array([0, 0, 1, 1, 2, 3, 3, 4]),
        np.array([2, 1, 1, 2, 0, 2, 1, 3]),
        4,
    )
    fixed = np.array([True, False, False, False])
    one = _mclp.solve(atoms, n_new=1, fixed=fixed, exclusive=np.array([[1, 2]]), start=start)
    assert one.status == "optimal" and one.value == 10.0 and one.open_[0]
    assert one.open_[1:3].sum() == 1 and not one.open_[3]
    # three new sites asked, two may open (1 and 2 exclude each other): empty columns fill up
    two = _mclp.solve(atoms, n_new=3, fixed=fixed, exclusive=np.array([[1, 2]]), start=start)
    assert two.value == 15.0 and two.open_[3] and two.open_.sum() == 3


# ------------------------------------------------------------------ shortfall and seats


@pytest.fixture(scope="module")
def short_city(tmp_path_factory):
    """West (x 0-800, 1,000 residents) is served by a space at x=400 with few seats; East
    (x 2,200-3,000, 400 residents) by none. Candidates at x=400 and x=2,600 reach all of
    West and all of East (5 min = 400 m)."""
    xs = [0, 400, 800, 1500, 2200, 2600, 3000]
    zones = [(0, 800, 1000), (2200, 3000, 400)]

    def city(seats):
        return _line_city(
            tmp_path_factory.mktemp("short"), xs, zones, [(400, seats)], name=f"s{seats}"
        )

    return city


@pytest.mark.parametrize(("seats", "west_first"), [(1, True), (100, False)])
def test_shortfall_goes_where_seats_are_missing(short_city, seats, west_first):
    city = short_city(seats)
    cands = _points_at(400, 2600)
    plain = planning.suggest_sites(city, n_sites=1, minutes=5, candidates=cands)
    assert list(plain["candidate"]) == [1]  # West is within reach already: East
    short = planning.suggest_sites(
        city, n_sites=1, minutes=5, candidates=cands, objective="shortfall", seats_per_1000=20
    )
    # West: 1 seat per 1,000 -> unmet 0.95, 950 weighted; East: unmet 1, 400 weighted.
    # With 100 seats West meets the target (unmet 0) and East comes first again.
    assert list(short["candidate"]) == ([0] if west_first else [1])
    col = "shortfall_residents_5min"
    expected = 1000 * (1 - 1 / 20) if west_first else 400
    assert short[col].iloc[0] == pytest.approx(expected, rel=1e-4)
    assert short.attrs["objective"] == "shortfall" and short.attrs["seats_per_1000"] == 20
    assert short.attrs["objective_value"] == pytest.approx(expected, rel=1e-4)
    # its new residents are still counted against every space: West's were served
    assert short["new_residents_5min"].iloc[0] == pytest.approx(0 if west_first else 400, abs=1)


@needs_spopt
def test_shortfall_exact_same_objective(short_city):
    city = short_city(1)
    short = planning.suggest_sites(
        city,
        n_sites=2,
        minutes=5,
        candidates=_points_at(400, 2600),
        objective="shortfall",
        seats_per_1000=20,
        exact=True,
    )
    ex = short.attrs["exact"]
    assert ex["greedy"] == pytest.approx(950 + 400, rel=1e-4)
    assert ex["optimum"] == pytest.approx(950 + 400, rel=1e-4) and ex["gap"] == 0
    assert ex["greedy_on_atoms"] == pytest.approx(ex["greedy"], rel=1e-6)


@needs_spopt
def test_shortfall_sample_city(sample_analysis):
    cands = _candidates(sample_analysis, 30, 5)
    kw = {"n_sites": 3, "candidates": cands, "exact": True}
    a = fm.suggest_sites(sample_analysis, **kw)
    b = fm.suggest_sites(sample_analysis, objective="shortfall", seats_per_1000=40, **kw)
    ex = b.attrs["exact"]
    assert ex["gap"] >= 0 and ex["greedy_on_atoms"] == pytest.approx(ex["greedy"], rel=1e-6)
    assert b["shortfall_residents_15min"].sum() == pytest.approx(ex["greedy"], rel=1e-9)
    assert "shortfall_residents_15min" not in a.columns
    # weighted gains fall round by round; never more than the residents reached
    assert b["shortfall_residents_15min"].is_monotonic_decreasing
    assert (b["shortfall_residents_15min"] <= b["residents_15min"] + 1e-6).all()


def test_new_seats_per_1000(line_city):
    sites = planning.suggest_sites(line_city, n_sites=1, minutes=5, seats=40)
    assert sites["seats"].iloc[0] == 40
    reach = sites["residents_5min"].iloc[0]
    assert sites["seats_per_1000_residents_5min"].iloc[0] == pytest.approx(40_000 / reach)
    plain = planning.suggest_sites(line_city, n_sites=1, minutes=5)
    assert plain["seats"].isna().all() and plain["seats_per_1000_residents_5min"].isna().all()
    assert list(plain["osmid"]) == list(sites["osmid"])  # seats do not move the picks


@pytest.fixture(scope="module")
def line_city(tmp_path_factory):
    xs = [0, 500, 1000, 1500, 2000, 2300, 2600, 3000]
    return _line_city(
        tmp_path_factory.mktemp("line"), xs, [(2000, 3000, 1000), (0, 2000, 0)], [(0, 5)]
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seats": -1}, "seats of a new site -1"),
        ({"seats": 2.5}, "seats of a new site 2.5"),
        ({"seats": 100_001}, "seats of a new site 100001"),
        ({"seats": "40"}, "seats of a new site '40'"),
        ({"objective": "desks"}, "objective 'desks'"),
        ({"objective": "shortfall"}, "needs a target"),
        ({"objective": "shortfall", "seats_per_1000": 0}, "target of 0 seats"),
        ({"objective": "shortfall", "seats_per_1000": -5}, "target of -5 seats"),
        ({"seats_per_1000": 20}, "only counts with the shortfall objective"),
        ({"exact_max_candidates": -1}, "exact_max_candidates -1"),
        ({"exact_time_limit_s": 0}, "time limit 0"),
    ],
)
def test_bad_siting_options(line_city, options, message):
    with pytest.raises(InputError, match=message):
        planning.suggest_sites(line_city, minutes=5, **options)


def test_shortfall_needs_the_analysis(line_city):
    with pytest.raises(InputError, match="needs the result of analyze"):
        planning.suggest_sites(
            line_city.walk, line_city.zones, objective="shortfall", seats_per_1000=20
        )


def test_shortfall_needs_seats(tmp_path):
    city = _line_city(tmp_path, [0, 400, 800], [(0, 800, 100)], [(0, None)], name="noseats")
    with pytest.raises(InputError, match="number of seats"):
        planning.suggest_sites(city, objective="shortfall", seats_per_1000=20)


# ------------------------------------------------------------------ candidates files


def test_candidates_from_italian_csv(tmp_path):
    csv = tmp_path / "locali.csv"
    csv.write_text(
        "id;nome;latitudine;longitudine\nV1;Ex negozio;41,8933;12,4829\nV2;Ex banca;41,9;12,5\n",
        encoding="utf-8",
    )
    cands = planning.candidates_from_file(csv)
    assert list(cands["candidate_id"]) == ["V1", "V2"]
    assert list(cands["name"]) == ["Ex negozio", "Ex banca"]
    assert cands.geometry.iloc[0].coords[0] == pytest.approx((12.4829, 41.8933))


def test_candidates_from_geojson_without_ids(tmp_path):
    path = tmp_path / "premises.geojson"
    gpd.GeoDataFrame(
        {"floor_m2": [80, 120]},
        geometry=[shapely.Point(12.48, 41.89), shapely.box(12.5, 41.9, 12.501, 41.901)],
        crs=4326,
    ).to_file(path)
    cands = planning.candidates_from_file(path)
    assert list(cands["candidate_id"]) == [None, None]  # not the reader's running numbers
    assert cands.geom_type.eq("Point").all()  # the outline stands at a point inside it


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id;nome;lat;lon\n", "no data rows|has no data"),
        ("id;nome;x_utm;y_utm\nV1;a;1;2\n", "no latitude column"),
        ("id;lat;lon\nV1;141.9;12.5\n", "latitude 141.9 is outside"),
    ],
)
def test_bad_candidates_file(tmp_path, text, message):
    csv = tmp_path / "c.csv"
    csv.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=f"candidate sites: .*({message})"):
        planning.candidates_from_file(csv)


# ------------------------------------------------------------------ command line


def _suggest_args(city, *extra):
    return [
        "suggest",
        "--network",
        str(city.network),
        "--spaces",
        str(city.spaces),
        "--zones",
        str(city.zones),
        "--population-column",
        "population",
        *extra,
    ]


@pytest.fixture(scope="module")
def premises(sample_city, tmp_path_factory):
    """Twenty vacant premises around the sample city, an Italian CSV export."""
    spaces = pd.read_csv(sample_city.spaces)
    rng = np.random.default_rng(3)
    lat = spaces["lat"].mean() + rng.uniform(-0.01, 0.01, 20)
    lon = spaces["lon"].mean() + rng.uniform(-0.01, 0.01, 20)
    path = tmp_path_factory.mktemp("premises") / "locali_sfitti.csv"
    pd.DataFrame(
        {
            "id": [f"V{i}" for i in range(20)],
            "nome": [f"Locale {i}" for i in range(20)],
            "latitudine": [f"{v:.6f}".replace(".", ",") for v in lat],
            "longitudine": [f"{v:.6f}".replace(".", ",") for v in lon],
        }
    ).to_csv(path, sep=";", index=False)
    return path


def test_cli_candidates_seats_and_summary(sample_city, premises, tmp_path, capsys):
    out = tmp_path / "sites"
    args = ["--sites", "3", "--candidates", str(premises), "--new-seats", "40"]
    assert main([*_suggest_args(sample_city, *args), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "suggested_sites.csv")
    assert table["candidate_id"].str.fullmatch(r"V\d+").all()
    assert table["candidate_name"].str.startswith("Locale ").all()
    assert (table["seats"] == 40).all()
    ratio = 40_000 / table["residents_15min"]
    assert table["seats_per_1000_residents_15min"].to_numpy() == pytest.approx(ratio.to_numpy())
    summary = json.loads((out / "suggest_summary.json").read_text())
    assert summary["seats"] == 40 and summary["objective"] == "residents"
    assert summary["candidates"] == 20
    exact = summary["exact"]
    if _mclp.available():
        assert exact["run"] and exact["gap"] >= 0 and exact["status"] == "optimal"
        assert "exact check: greedy" in printed
    else:
        assert not exact["run"] and "pip install fifteenmin[exact]" in printed
    assert "40 seats" in printed and "V" in printed
    layer = gpd.read_file(out / "suggested_sites.gpkg", layer="suggested_sites")
    assert len(layer) == len(table)


def test_cli_no_exact_and_shortfall(sample_city, premises, tmp_path, capsys):
    out = tmp_path / "sites"
    args = ["--sites", "2", "--candidates", str(premises), "--no-exact"]
    args += ["--objective", "shortfall", "--seats-per-1000", "40"]
    assert main([*_suggest_args(sample_city, *args), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "suggest_summary.json").read_text())
    assert summary["exact"] is None and summary["objective"] == "shortfall"
    table = pd.read_csv(out / "suggested_sites.csv")
    assert "shortfall_residents_15min" in table.columns


def test_cli_exact_max(sample_city, premises, tmp_path, capsys):
    out = tmp_path / "sites"
    args = ["--sites", "1", "--candidates", str(premises), "--exact-max", "10"]
    assert main([*_suggest_args(sample_city, *args), "--out", str(out)]) == 0
    assert "exact check not run: 20 candidate sites, more than the 10" in capsys.readouterr().out
    assert not json.loads((out / "suggest_summary.json").read_text())["exact"]["run"]


@pytest.fixture
def out_dir(tmp_path):
    """An earlier output that a failed run must leave as it was."""
    from fifteenmin._io import output_folder

    out = tmp_path / "out"
    with output_folder(out, command="suggest") as tmp:
        (tmp / "keep.txt").write_text("previous")
    return out


def _untouched(out):
    assert sorted(p.name for p in out.iterdir()) == [".fifteenmin", "keep.txt"]
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def _run_bad(argv, out, capsys):
    """Exit 2 with one error line (argparse: its usage, then one line), --out untouched."""
    try:
        rc = main([*argv, "--out", str(out), "--overwrite", "--quiet"])
    except SystemExit as exc:  # argparse refused an option
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and err.splitlines()[-1] == errors[0], err
    _untouched(out)
    return errors[0]


@pytest.mark.parametrize("value", ["-1", "abc", "100001", "2.5", "nan"])
def test_cli_bad_new_seats(sample_city, out_dir, capsys, value):
    msg = _run_bad(_suggest_args(sample_city, "--new-seats", value), out_dir, capsys)
    assert "--new-seats" in msg


@pytest.mark.parametrize("value", ["0", "-3", "abc"])
def test_cli_bad_target(sample_city, out_dir, capsys, value):
    args = ["--objective", "shortfall", "--seats-per-1000", value]
    msg = _run_bad(_suggest_args(sample_city, *args), out_dir, capsys)
    assert "--seats-per-1000" in msg


def test_cli_shortfall_without_target(sample_city, out_dir, capsys):
    msg = _run_bad(_suggest_args(sample_city, "--objective", "shortfall"), out_dir, capsys)
    assert msg.startswith("fifteenmin: error: --objective shortfall needs --seats-per-1000")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id;nome;lat;lon\n", "locali.csv"),
        ("id;nome;est;nord\nV1;a;1;2\n", "no latitude column"),
        ("id;lat;lon\nV1;10,0;40,0\n", "outside the network"),
    ],
)
def test_cli_bad_candidates(sample_city, out_dir, capsys, tmp_path, text, message):
    csv = tmp_path / "locali.csv"
    csv.write_text(text, encoding="utf-8")
    msg = _run_bad(_suggest_args(sample_city, "--candidates", str(csv)), out_dir, capsys)
    assert msg.startswith("fifteenmin: error: candidate sites: ") and message in msg


def test_cli_candidates_must_not_be_in_out(sample_city, premises, tmp_path, capsys):
    out = premises.parent
    rc = main([*_suggest_args(sample_city, "--candidates", str(premises)), "--out", str(out)])
    assert rc == 2
    assert "fifteenmin: error:" in capsys.readouterr().err


def _not_solved(atoms, *, n_new, fixed, **_):
    return _mclp.Solution(
        open_=np.asarray(fixed, dtype=bool),
        value=0.0,
        status="not_solved",
        solver_status="No Solution Found",
        seconds=120.0,
        n_rows=len(atoms),
        n_columns=atoms.n_facilities + n_new,
    )


@pytest.mark.parametrize("case", ["missing", "not_solved"])
def test_cli_exact_cannot_answer(sample_city, premises, tmp_path, capsys, monkeypatch, case):
    if case == "missing":
        monkeypatch.setattr(_mclp, "available", lambda: False)
    else:
        monkeypatch.setattr(_mclp, "available", lambda: True)
        monkeypatch.setattr(_mclp, "solve", _not_solved)
    out = tmp_path / "sites"
    args = ["--sites", "2", "--candidates", str(premises)]
    assert main([*_suggest_args(sample_city, *args), "--out", str(out)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "exact check" in line]
    exact = json.loads((out / "suggest_summary.json").read_text())["exact"]
    if case == "missing":
        assert lines == [
            "exact check not run: spopt is not installed; pip install fifteenmin[exact]"
        ]
        assert not exact["run"]
    else:
        assert len(lines) == 1 and "no solution within the time limit" in lines[0]
        assert exact["status"] == "not_solved" and exact["optimum"] is None
        assert exact["gap"] is None and exact["optimum_sites"] is None
