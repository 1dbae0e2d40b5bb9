"""Maps: the layers, legend and furniture each map needs, and the files Analysis.write saves."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _osmfixtures import STREET, lonlat, write_osm
from _statusfixtures import fragments_near, with_statuses
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.path import Path as MplPath
from matplotlib_scalebar.scalebar import ScaleBar
from PIL import Image

import fifteenmin as fm
from fifteenmin import _names as N
from fifteenmin import plot

FILES = [f"{name}.{fmt}" for name in ("coverage_map", "walk_time_map") for fmt in plot.FORMATS]


@pytest.fixture(scope="module")
def report(sample_analysis, tmp_path_factory):
    """The sample analysis written once as a report folder."""
    return sample_analysis.write(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def noted(sample_city):
    """The sample analysis with a synthetic-data note."""
    return fm.analyze(
        sample_city.network,
        sample_city.spaces,
        sample_city.zones,
        population_column="population",
        note="SYNTHETIC test city",
    )


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _check_furniture(fig: Figure, note: str) -> None:
    ax = fig.axes[0]
    assert any(isinstance(a, ScaleBar) for a in ax.artists), "no scale bar"
    assert "N" in _texts(fig), "no north arrow"
    attribution = [t for t in _texts(fig) if plot.ATTRIBUTION in t]
    assert attribution and note in attribution[0], "attribution or note missing"
    assert fig.legends, "no legend"


def test_coverage_map_layers_legend_and_labels(noted):
    fig = plot.coverage_map(noted)
    _check_furniture(fig, "SYNTHETIC test city")
    labels = _legend_labels(fig)
    under = noted.zones[noted.zones["underserved"]]
    assert f"space ({len(noted.spaces)})" in labels
    assert "within a 15-min walk" in labels
    assert f"underserved zone ({len(under)} of {len(noted.zones)})" in labels
    # every underserved zone is labelled with its name, share and residents without access
    texts = _texts(fig)
    for _, zone in under.iterrows():
        label = next(t for t in texts if t.startswith(zone["name"] + "\n"))
        share = int(np.floor(zone["share_pop_15min"] * 100 + 1e-6))
        assert f"{share}% within 15 min" in label
        without = zone[N.POPULATION] - zone["pop_15min"]
        assert f"{without:,.0f} residents without" in label
    # the coverage overlay is hatched; the colour bar is in shares with 50 % marked
    assert any(c.get_hatch() == "////" for c in fig.axes[0].collections)
    cbar = fig.axes[1]
    assert [t.get_text() for t in cbar.get_yticklabels()] == ["0%", "25%", "50%", "75%", "100%"]
    assert "residents" in cbar.get_ylabel()
    assert "71% of 60,000 residents" in fig.axes[0].get_title(loc="left")


def test_coverage_map_shares_of_area_without_population(sample_city):
    zones = fm.zones_from_file(sample_city.zones).drop(columns="population")
    result = fm.analyze(sample_city.network, sample_city.spaces, zones)
    fig = plot.coverage_map(result)
    assert "area" in fig.axes[1].get_ylabel()
    assert not any("residents without" in t for t in _texts(fig))


def test_walk_time_map_colours_segments_by_node_times(noted):
    fig = plot.walk_time_map(noted)
    _check_furniture(fig, "SYNTHETIC test city")
    lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    coloured = next(c for c in lines if c.get_array() is not None)
    minutes = np.asarray(coloured.get_array())
    segments = coloured.get_segments()
    assert len(segments) == len(minutes) > 0
    # independent check: a segment between two street nodes takes the mean of their times
    nodes = noted.walk.node_times()
    tree = shapely.STRtree(nodes.geometry.to_numpy())
    times = nodes["walk_time_s"].to_numpy() / 60
    checked = 0
    for seg, value in zip(segments, minutes, strict=True):
        ends = shapely.points([seg[0], seg[-1]])
        idx, dist = tree.query_nearest(ends, return_distance=True, all_matches=False)
        if (dist < 1e-6).all():
            assert value == pytest.approx(times[idx[1]].mean(), abs=1e-6)
            checked += 1
    assert checked > 0.9 * len(segments)
    # colour bar: minutes 0-30, 15 marked in bold, longer walks in the "over" colour
    cbar = fig.axes[1]
    assert cbar.get_ylabel() == "walking time to the nearest space (min)"
    ticks = {t.get_text(): t for t in cbar.get_yticklabels()}
    assert {"0", "15", "30"} <= set(ticks)
    assert ticks["15"].get_fontweight() == "bold"
    cmap, norm = coloured.get_cmap(), coloured.norm
    assert norm.vmin == 0 and norm.vmax == 30
    assert np.allclose(cmap(norm(45.0)), cmap.get_over())
    assert {"space (14)", "≤ 15 min walk", "> 15 min walk"} <= set(_legend_labels(fig))
    # every street reaches a space here: no legend entry for streets that do not
    assert np.isfinite(times).all()
    assert "no space reachable" not in _legend_labels(fig)


def test_walk_time_map_shows_streets_without_a_space(tmp_path):
    # two streets 500 m apart, one space on the southern one: the northern one is unreachable
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (0, 500), 5: (200, 500)}
    osm = write_osm(tmp_path / "two.osm", nodes, [(10, [1, 2, 3], STREET), (11, [4, 5], STREET)])
    spaces = gpd.GeoDataFrame(
        {"space_id": ["A"], "kind": ["coworking"]},
        geometry=[shapely.Point(lonlat(50, 5))],
        crs=4326,
    )
    box = shapely.box(*lonlat(-50, -50), *lonlat(250, 550))
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z"], "name": ["Zone"], "population": [100.0]}, geometry=[box], crs=4326
    )
    result = fm.analyze(osm, spaces, zones, keep_fragments=True)  # not a fragment: unreached
    geoms, minutes = plot.segment_walk_minutes(result)
    assert np.isinf(minutes).sum() == 1  # the northern street
    # the southern street (one 200 m segment, node 2 is no junction) split where the space
    # joins it, 5 m away: ends at 5 m and 55 m (west part), 5 m and 155 m (east part)
    finite = np.sort(minutes[np.isfinite(minutes)]) * 60 * (4.8 / 3.6)
    assert finite == pytest.approx([(5 + 55) / 2, (5 + 155) / 2], abs=0.01)
    fig = plot.walk_time_map(result)
    grey = [
        c
        for c in fig.axes[0].collections
        if isinstance(c, LineCollection) and c.get_array() is None
    ]
    assert len(grey) == 1 and len(grey[0].get_segments()) == 1
    assert "no space reachable" in _legend_labels(fig)


def test_isochrone_map_bands_and_unknown_space(sample_analysis):
    fig = plot.isochrone_map(sample_analysis)
    assert {"≤ 5 min", "≤ 10 min", "≤ 15 min"} <= set(_legend_labels(fig))
    one = plot.isochrone_map(sample_analysis, space_id="S02")
    assert "space S02" in _legend_labels(one)
    with pytest.raises(ValueError, match="no isochrones for space 'nope'"):
        plot.isochrone_map(sample_analysis, space_id="nope")


def test_fill_small_holes_keeps_large_holes():
    outer = shapely.box(0, 0, 100, 100)
    small, large = shapely.box(10, 10, 20, 20), shapely.box(40, 40, 80, 80)
    donut = outer.difference(small).difference(large)
    filled = plot.fill_small_holes(donut, 500)
    assert filled.equals(outer.difference(large))
    assert plot.fill_small_holes(shapely.Polygon(), 10).is_empty


def test_walk_time_colormap_rejects_a_mark_outside_the_scale():
    with pytest.raises(ValueError, match="must lie between"):
        plot.walk_time_colormap(10, 15)


def test_write_saves_every_map_in_every_format(report):
    names = {p.name for p in report.iterdir()}
    assert set(FILES) <= names
    for name in ("coverage_map", "walk_time_map"):
        png = Image.open(report / f"{name}.png")
        assert png.info["dpi"][0] == pytest.approx(200, abs=1)
        assert min(png.size) > 1200
        svg = ET.parse(report / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg")
        assert (report / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    title = ET.parse(report / "walk_time_map.svg").getroot().find(".//{*}title")
    assert title is not None and title.text == "Walking time to the nearest space"


def test_save_figure_replaces_the_suffix(sample_analysis, tmp_path):
    fig = plot.isochrone_map(sample_analysis)
    written = plot.save_figure(fig, tmp_path / "sub" / "bands.png", formats=("png", "svg"))
    assert [p.name for p in written] == ["bands.png", "bands.svg"]
    assert all(p.stat().st_size > 0 for p in written)


def test_maps_use_no_pyplot_and_no_backend():
    code = (
        "import sys, matplotlib; before = matplotlib.rcParams._get('backend');"
        "import fifteenmin.plot;"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported';"
        "assert matplotlib.rcParams._get('backend') == before, 'backend changed'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_street_gap_area_equals_the_zones_minus_the_buffered_streets():
    # short random streets with an empty block and an area reaching past them
    rng = np.random.default_rng(7)
    start = rng.uniform(0, 3000, (1500, 2))
    start = start[~((start[:, 0] > 900) & (start[:, 0] < 2000) & (start[:, 1] > 700))]
    angle = rng.uniform(0, np.pi, len(start))
    end = start + np.c_[np.cos(angle), np.sin(angle)] * rng.uniform(20, 90, (len(start), 1))
    lines = shapely.linestrings(np.stack([start, end], axis=1))
    area = shapely.Polygon([(-400, -300), (3300, 50), (3100, 3600), (150, 3200)])
    for distance in (200.0, 120.0):
        exact = area.difference(shapely.union_all(shapely.buffer(lines, distance, quad_segs=4)))
        gap = plot._far_from_lines(lines, area, distance)
        assert exact.area > 1e5
        assert gap.is_valid
        assert gap.symmetric_difference(exact).area < 1e-6 * exact.area
    assert plot._far_from_lines(lines[:0], area, 200.0).equals(area)
    assert plot._far_from_lines(lines, area, 0.0).equals(area)
    exact = area.difference(shapely.union_all(shapely.buffer(lines, 1.0, quad_segs=4)))
    assert plot._far_from_lines(lines, area, 1.0).equals(exact)  # too many cells: no grid
    assert plot._far_from_lines(lines, shapely.box(1000, 100, 1100, 200), 200.0).is_empty


def test_fill_small_holes_drops_islands_in_filled_holes():
    outer = shapely.box(0, 0, 100, 100).difference(shapely.box(10, 10, 50, 50))
    island, apart = shapely.box(20, 20, 30, 30), shapely.box(200, 0, 210, 10)
    shape = shapely.MultiPolygon([outer, island, apart])
    filled = plot.fill_small_holes(shape, 5000)
    assert filled.is_valid and shapely.get_num_geometries(filled) == 2
    assert filled.equals(shapely.union_all([shapely.box(0, 0, 100, 100), apart]))
    assert plot.fill_small_holes(shape, 500).equals(shape)


@pytest.fixture()
def dense(monkeypatch):
    """Draw the sample city's streets as those of a city of a million segments."""
    monkeypatch.setattr(plot, "DENSE_LINES", 100)


def _png(fig: Figure, **kwargs) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **kwargs)
    return np.asarray(Image.open(buf).convert("RGB")).astype(int)


def test_dense_streets_are_one_image_in_vector_files(sample_analysis, monkeypatch, tmp_path):
    plain = _png(plot.coverage_map(sample_analysis), dpi=100)
    monkeypatch.setattr(plot, "DENSE_LINES", 100)  # as a city of a million segments
    fig = plot.coverage_map(sample_analysis)
    streets = [c for c in fig.axes[0].collections if c.get_rasterized()]
    assert len(streets) == 1 and len(streets[0].get_paths()) < 10
    # the map of one path per street, but for where the thin streets overlap
    diff = np.abs(_png(fig, dpi=100) - plain).sum(axis=2)
    assert diff.mean() < 0.5 and (diff > 60).mean() < 0.001
    plot.save_figure(fig, tmp_path / "dense")
    svg = (tmp_path / "dense.svg").read_text(encoding="utf-8")
    assert svg.count("<image") == 1
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)  # restored


def test_dense_walk_time_map_keeps_each_segments_colour(sample_analysis, dense):
    fig = plot.walk_time_map(sample_analysis)
    (coloured,) = [c for c in fig.axes[0].collections if c.get_rasterized() and c.zorder == 3]
    geoms, minutes = plot.segment_walk_minutes(sample_analysis)
    reached = np.isfinite(minutes)
    cmap, norm = plot.walk_time_colormap(30, 15)
    want = cmap(norm(minutes[reached]))
    # every vertex of every path has the colour of the segment it comes from
    lookup = {}
    for geom, rgba in zip(geoms[reached], want, strict=True):
        for xy in shapely.get_coordinates(geom):
            lookup.setdefault(tuple(xy), set()).add(tuple(rgba))
    for path, rgba in zip(coloured.get_paths(), coloured.get_edgecolor(), strict=True):
        assert all(tuple(rgba) in lookup[tuple(xy)] for xy in path.vertices)
    assert sum(len(p.vertices) for p in coloured.get_paths()) == sum(
        len(shapely.get_coordinates(g)) for g in geoms[reached]
    )


def test_raster_once_collection_draws_as_a_plain_collection(tmp_path):
    def figure(cls):
        fig = Figure(figsize=(3, 2))
        ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        paths = [MplPath([(1, 1), (9, 2.3), (8, 9)]), MplPath([(2, 8), (7, 1)])]
        lines = cls(paths, facecolors="none", edgecolors=["red", "blue"], linewidths=2, alpha=0.6)
        lines.set_rasterized(True)
        ax.add_collection(lines)
        return fig

    once, plain = figure(plot._OnceRasterCollection), figure(PathCollection)
    for dpi in (100, 200, 100):
        assert np.abs(_png(once, dpi=dpi) - _png(plain, dpi=dpi)).max() <= 2
    for fmt in ("svg", "pdf"):
        once.savefig(tmp_path / f"once.{fmt}", format=fmt, dpi=100)
    assert (tmp_path / "once.svg").read_text(encoding="utf-8").count("<image") == 1


def test_maps_in_italian(noted):
    fig = plot.coverage_map(noted, lang="it")
    assert fig.get_suptitle() == "Accesso a piedi allo spazio più vicino entro 15 minuti"
    labels = _legend_labels(fig)
    under = noted.zones[noted.zones["underserved"]]
    assert f"zona carente ({len(under)} su {len(noted.zones)})" in labels
    assert "entro 15 min a piedi" in labels and "strada percorribile a piedi" in labels
    assert "71% di 60.000 residenti" in fig.axes[0].get_title(loc="left")  # Italian separators
    assert any(" residenti senza" in t for t in _texts(fig))
    assert "quota di residenti" in fig.axes[1].get_ylabel()
    walk = plot.walk_time_map(noted, lang="it")
    assert walk.get_suptitle() == "Tempo di cammino fino allo spazio più vicino"
    assert "≤ 15 min a piedi" in _legend_labels(walk)
    assert walk.axes[1].get_ylabel() == "tempo di cammino fino allo spazio più vicino (min)"
    bands = plot.isochrone_map(noted, space_id="S01", lang="it")
    assert bands.get_suptitle() == "Isocrone a piedi dello spazio S01"
    assert "≤ 15 min" in _legend_labels(bands)
    with pytest.raises(fm.errors.InputError, match="language"):
        plot.coverage_map(noted, lang="fr")


def test_zone_labels_never_overlap(sample_city):
    """With many small zones (H3 hexagons) only labels that fit are drawn, the zones with
    most residents without access first, and the subtitle says so."""
    result = fm.analyze(
        sample_city.network,
        sample_city.spaces,
        "hex:10",
        population=sample_city.zones,
        population_column="population",
    )
    under = result.zones[result.zones["underserved"]]
    fig = plot.coverage_map(result)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts if "\n" in t.get_text()]
    assert 0 < len(boxes) < len(under)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    assert f"labels: the {len(boxes)} underserved zones" in fig.axes[0].get_title(loc="left")
    # the most residents without access is labelled
    worst = under.assign(w=under[N.POPULATION] - under["pop_15min"]).sort_values("w").iloc[-1]
    assert any(t.get_text().startswith(str(worst["name"]) + "\n") for t in fig.axes[0].texts)


def _hatches(fig: Figure) -> set[str]:
    return {c.get_hatch() for c in fig.axes[0].collections if c.get_hatch()}


def test_maps_mark_zones_without_street_data_and_fragments(sample_analysis):
    """Zones without street data are hatched grey and named in the legend, zones with sparse
    streets get their own hatching, fragments a dashed line; none is counted as underserved."""
    under = [z["zone_id"] for z in sample_analysis.summary["underserved"]]
    result = with_statuses(
        sample_analysis,
        no_data=["N01", "N05", under[0]],
        sparse=["N07"],
        fragments=fragments_near(sample_analysis),
    )
    counted = len(result.zones) - 4
    fig = plot.coverage_map(result)
    labels = _legend_labels(fig)
    assert "no street data" in labels and "sparse streets (not counted)" in labels
    assert "street fragment (not connected)" in labels
    assert "no residents / streets" not in labels  # the grey zones are those without data
    assert f"underserved zone ({len(under) - 1} of {counted})" in labels
    assert {plot.NO_DATA_HATCH, plot.SPARSE_HATCH} <= _hatches(fig)
    assert "4 zones not counted" in fig.axes[0].get_title(loc="left")
    # the no-data zone that was underserved is neither outlined nor labelled as such
    name = result.zones.set_index("zone_id").loc[under[0], "name"]
    assert not any(t.startswith(name + "\n") for t in _texts(fig))
    dashed = [
        c
        for c in fig.axes[0].collections
        if isinstance(c, LineCollection) and c.get_linestyle()[0][1] is not None
    ]
    assert any(len(c.get_segments()) == 3 for c in dashed)  # the three fragments

    walk = plot.walk_time_map(result, lang="it")
    labels = _legend_labels(walk)
    assert "nessun dato stradale" in labels and "strade scarse (non conteggiate)" in labels
    assert "frammento stradale (non collegato)" in labels
    assert plot.NO_DATA_HATCH in _hatches(walk)


def test_maps_without_statuses_have_no_status_legend(noted):
    for fig in (plot.coverage_map(noted), plot.walk_time_map(noted)):
        labels = _legend_labels(fig)
        assert "no street data" not in labels and "street fragment (not connected)" not in labels
        assert plot.NO_DATA_HATCH not in _hatches(fig)
