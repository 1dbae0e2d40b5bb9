"""Print-quality maps: zone coverage, walking-time heat map and isochrone bands."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import colormaps
from matplotlib import patheffects as pe
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from . import _names as N

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .pipeline import Analysis

ATTRIBUTION = "© OpenStreetMap contributors"
FORMATS = ("png", "svg", "pdf")
DPI = 200
MAX_LABELLED_ZONES = 40

# One palette for the maps and the QGIS styles (see ``_qgis``).
SHARE_BOUNDS = (0.0, 0.25, 0.5, 0.75, 1.0)
SHARE_COLORS = ("#e34a33", "#fdbb84", "#c6dbef", "#6baed6")
SPACE_FACE, SPACE_EDGE = "#ffffff", "#111111"
COVERAGE_COLOR = "#1a1a1a"
UNDERSERVED_COLOR = "#67001f"
STREET_COLOR = "#4d4d4d"
UNREACHED_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#e0e0e0"
ZONE_FILL = "#f4f4f4"
ZONE_EDGE = "#7f7f7f"
WALK_OVER_COLOR = "#3f0011"
GAP_COLOR, GAP_ALPHA = "#ffffff", 0.75

_HALO = [pe.withStroke(linewidth=2.5, foreground="white")]


def add_north_arrow(ax: Axes, *, x: float = 0.95, y: float = 0.93) -> None:
    """Draw a north arrow in axes coordinates (the map is in a north-up projected CRS)."""
    ax.annotate(
        "N",
        xy=(x, y),
        xytext=(x, y - 0.09),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12, "headlength": 10},
        path_effects=_HALO,
    )


def add_map_furniture(ax: Axes, *, note: str = "") -> None:
    """Scale bar (metres), north arrow and the OSM attribution (plus ``note``)."""
    ax.add_artist(
        ScaleBar(1, "m", location="lower left", box_alpha=0.8, font_properties={"size": 8})
    )
    add_north_arrow(ax)
    text = ATTRIBUTION + (f"\n{note}" if note else "")
    ax.text(
        0.99,
        0.01,
        text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        zorder=20,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 2},
    )
    ax.set_axis_off()


def fill_small_holes(geometry: shapely.Geometry, max_area_m2: float) -> shapely.Geometry:
    """Drop the interior rings smaller than ``max_area_m2`` (for display only).

    A block whose streets are all within the walk shows up as a hole of the buffered
    streets; it is reached through its own street fronts, so maps draw it as covered.

    Examples
    --------
    >>> ring = shapely.box(0, 0, 10, 10).exterior
    >>> donut = shapely.Polygon(shapely.box(-5, -5, 15, 15).exterior, [ring])
    >>> fill_small_holes(donut, 50).area, fill_small_holes(donut, 500).area
    (300.0, 400.0)
    """
    if geometry is None or geometry.is_empty:
        return geometry
    parts = []
    for poly in shapely.get_parts(geometry):
        if poly.geom_type != "Polygon":
            continue
        holes = [r for r in poly.interiors if shapely.Polygon(r).area > max_area_m2]
        parts.append(shapely.Polygon(poly.exterior, holes))
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _figure(bounds: Sequence[float], *, colorbar: bool = True) -> tuple[Figure, Axes]:
    """A figure whose shape follows the map's, so the page has no empty bands."""
    minx, miny, maxx, maxy = bounds
    aspect = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
    width = 8.5
    height = float(np.clip(width * aspect, 4.0, 11.0))
    if height == 11.0:  # tall map: narrow the page instead
        width = height / aspect
    size = (width + (1.4 if colorbar else 0.3), height + 1.3)
    # no pyplot: no global backend state; the pads are the page margins, in inches
    fig = Figure(figsize=size, layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    _extent(ax, bounds)
    return fig, ax


def _extent(ax: Axes, bounds: Sequence[float], pad: float = 0.03) -> None:
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * pad, (maxy - miny) * pad
    ax.set_xlim(minx - dx, maxx + dx)
    ax.set_ylim(miny - dy, maxy + dy)


def _map_bounds(analysis: Analysis, zones: gpd.GeoDataFrame) -> tuple[float, ...]:
    """The zones' extent (the streets' where there are no zones)."""
    bounds = zones.total_bounds if len(zones) else analysis.walk.streets.bounds()
    return tuple(float(b) for b in bounds)


def _titles(fig: Figure, ax: Axes, title: str, parts: Sequence[str]) -> None:
    fig.suptitle(title, x=0.02, ha="left", fontsize=14, fontweight="bold")
    ax.set_title("; ".join(p for p in parts if p), loc="left", fontsize=9, color="#333333")


def _plot_spaces(ax: Axes, analysis: Analysis, crs: Any) -> Line2D:
    spaces = analysis.spaces.to_crs(crs)
    ax.scatter(
        spaces.geometry.x,
        spaces.geometry.y,
        s=42,
        marker="o",
        facecolor=SPACE_FACE,
        edgecolor=SPACE_EDGE,
        linewidth=1.2,
        zorder=10,
    )
    return Line2D(
        [],
        [],
        marker="o",
        markerfacecolor=SPACE_FACE,
        markeredgecolor=SPACE_EDGE,
        markeredgewidth=1.2,
        linestyle="none",
        markersize=7,
        label=f"space ({len(spaces)})",
    )


def _streets(analysis: Analysis) -> gpd.GeoSeries:
    streets = analysis.walk.streets
    return gpd.GeoSeries(streets.edge_geometry, crs=streets.crs)


def _legend(fig: Figure, handles: list[Any]) -> None:
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 5),
        frameon=False,
        fontsize=8,
        handlelength=2.2,
    )


def _share_text(analysis: Analysis, minutes: float) -> str:
    """``"71% of 60,000 residents live within a 15-min walk of a space"``."""
    within = analysis.summary.get("within", {}).get(f"{minutes:g}")
    if not within:
        return ""
    total = analysis.summary.get("residents_total")
    if total:
        return (
            f"{_pct(within['share'])} of {total:,.0f} residents live within a {minutes:g}-min walk"
        )
    return f"{_pct(within['share'])} of the area lies within a {minutes:g}-min walk"


def _speed_text(analysis: Analysis) -> str:
    return f"walking at {analysis.walk.speed_kmh:g} km/h"


def _pct(share: float) -> str:
    """A share as a whole percentage, rounded down (49.96 % is not yet 50 %)."""
    if not np.isfinite(share):
        return "n/a"
    return f"{math.floor(share * 100 + 1e-6):.0f}%"


def _sample_analysis() -> Analysis:  # pragma: no cover - used by the doctests only
    import tempfile

    from . import sample
    from .pipeline import analyze

    city = sample.write_sample_city(tempfile.mkdtemp(prefix="fifteenmin-doctest-"))
    return analyze(city.network, city.spaces, city.zones, population_column="population")


def street_gap_area(
    analysis: Analysis, zones: gpd.GeoDataFrame, *, distance_m: float = 200.0
) -> shapely.Geometry:
    """The part of the zones farther than ``distance_m`` from any street of the network.

    There the analysis has no streets to place residents on (outside a street extract,
    or a large park or rail yard); maps veil it so zone colours do not speak for it.
    """
    if len(zones) == 0:
        return shapely.Polygon()
    streets = gpd.GeoSeries(analysis.walk.streets.edge_geometry, crs=analysis.walk.streets.crs)
    near = streets.to_crs(zones.crs).buffer(distance_m, quad_segs=4).union_all()
    return shapely.simplify(zones.union_all().difference(near), distance_m / 20)


def coverage_map(
    analysis: Analysis,
    *,
    minutes: float | None = None,
    label_zones: bool = True,
    fill_holes_km2: float = 0.05,
    no_street_m: float = 200.0,
) -> Figure:
    """Zones classed by the share covered within ``minutes``, with the covered area hatched.

    The share is of residents when the zones carry population, else of area. Underserved
    zones get a dark outline and a label with their share (and residents without access).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    minutes
        Threshold to map (default: the underserved walk, usually 15).
    label_zones
        Label underserved zones (and name the others when there are at most 40 zones).
    fill_holes_km2
        Holes of the covered area smaller than this (street blocks, reached from their
        own street fronts) are drawn as covered; the statistics are not affected.
    no_street_m
        Parts of zones farther than this from any street of the network are veiled (no
        street data there: the zone's residents are placed on its streets elsewhere).

    Examples
    --------
    >>> fig = coverage_map(_sample_analysis())
    >>> fig.get_suptitle()
    'Walking access to the nearest space within 15 minutes'
    """
    m = float(minutes if minutes is not None else analysis.parameters["underserved_minutes"])
    kind = "pop" if analysis.has_population else "area"
    column = N.share(kind, m)
    crs = analysis.walk.streets.crs
    zones = analysis.zones.to_crs(crs)
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds)

    cmap = ListedColormap(SHARE_COLORS).with_extremes(bad=NO_DATA_COLOR)
    norm = BoundaryNorm(SHARE_BOUNDS, cmap.N)
    zones.plot(
        ax=ax,
        column=column,
        cmap=cmap,
        norm=norm,
        edgecolor="white",
        linewidth=0.8,
        missing_kwds={"color": NO_DATA_COLOR, "edgecolor": "white", "linewidth": 0.8},
        zorder=1,
    )
    _streets(analysis).plot(ax=ax, color=STREET_COLOR, linewidth=0.25, alpha=0.6, zorder=2)

    cov = analysis.coverage[analysis.coverage["minutes"] == m].to_crs(crs)
    area = zones.union_all() if len(zones) else None
    shapes = []
    for geom in cov.geometry:
        shape = fill_small_holes(geom, fill_holes_km2 * 1e6)
        shapes.append(shape.intersection(area) if area is not None else shape)
    shape = gpd.GeoSeries(shapes, crs=crs)
    shape.plot(
        ax=ax,
        facecolor="none",
        edgecolor=COVERAGE_COLOR,
        hatch="////",
        linewidth=0,
        alpha=0.5,
        zorder=3,
    )
    shape.boundary.plot(ax=ax, color=COVERAGE_COLOR, linewidth=0.8, zorder=4)

    gap = street_gap_area(analysis, zones, distance_m=no_street_m)
    if not gap.is_empty:
        gpd.GeoSeries([gap], crs=crs).plot(
            ax=ax, facecolor=GAP_COLOR, edgecolor="none", alpha=GAP_ALPHA, zorder=4.5
        )
    under = zones[zones[N.UNDERSERVED]]
    if len(under):
        under.boundary.plot(ax=ax, color=UNDERSERVED_COLOR, linewidth=2.0, zorder=5)
    space_handle = _plot_spaces(ax, analysis, crs)
    _extent(ax, bounds)
    if label_zones:
        _label_zones(ax, zones, m, kind)

    threshold = float(analysis.parameters["underserved_share"])
    cbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01, aspect=25
    )
    cbar.set_ticks(SHARE_BOUNDS, labels=[f"{b:.0%}" for b in SHARE_BOUNDS])
    cbar.ax.axhline(threshold, color="black", linewidth=2)
    cbar.ax.tick_params(labelsize=8)
    who = "residents" if kind == "pop" else "area"
    cbar.set_label(
        f"share of {who} within a {m:g}-min walk\n(black line: underserved below {threshold:.0%})",
        fontsize=9,
    )
    handles = [
        space_handle,
        Patch(
            facecolor="none",
            edgecolor=COVERAGE_COLOR,
            hatch="////",
            linewidth=0.8,
            label=f"within a {m:g}-min walk",
        ),
        Patch(
            facecolor="none",
            edgecolor=UNDERSERVED_COLOR,
            linewidth=2.0,
            label=f"underserved zone ({len(under)} of {len(zones)})",
        ),
        Line2D([], [], color=STREET_COLOR, linewidth=0.6, label="walkable street"),
    ]
    if not gap.is_empty:
        handles.append(
            Patch(
                facecolor=GAP_COLOR,
                alpha=GAP_ALPHA,
                edgecolor="#bbbbbb",
                label=f"no street data (> {no_street_m:g} m from a street)",
            )
        )
    if zones[column].isna().any():
        handles.append(Patch(facecolor=NO_DATA_COLOR, label="no residents / streets"))
    _legend(fig, handles)
    parts = (
        _share_text(analysis, m),
        f"{len(under)} of {len(zones)} zones underserved",
        _speed_text(analysis),
    )
    _titles(fig, ax, f"Walking access to the nearest space within {m:g} minutes", parts)
    add_map_furniture(ax, note=analysis.note)
    return fig


def _zone_label_points(ax: Axes, zones: gpd.GeoDataFrame) -> list[shapely.Point | None]:
    """A point inside each zone's visible part (None where the zone is off the map)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    frame = shapely.box(x0, y0, x1, y1)
    points: list[shapely.Point | None] = []
    for geom in zones.geometry:
        visible = geom.intersection(frame) if geom is not None else shapely.Polygon()
        points.append(None if visible.is_empty else visible.representative_point())
    return points


def _label_zones(ax: Axes, zones: gpd.GeoDataFrame, minutes: float, kind: str) -> None:
    """Underserved zones: name, share and residents without access; others: the name."""
    show_all = len(zones) <= MAX_LABELLED_ZONES
    share = zones[N.share(kind, minutes)].to_numpy(dtype=float)
    under = zones[N.UNDERSERVED].to_numpy(dtype=bool)
    for i, point in enumerate(_zone_label_points(ax, zones)):
        if point is None or not (under[i] or show_all):
            continue
        name = str(zones[N.ZONE_NAME].iloc[i])
        if under[i]:
            lines = [name, f"{_pct(share[i])} within {minutes:g} min"]
            if kind == "pop":
                pop = float(zones[N.POPULATION].iloc[i])
                without = pop - float(zones[N.residents(minutes)].iloc[i])
                lines.append(f"{without:,.0f} residents without")
            style: dict[str, Any] = {
                "fontsize": 7.5,
                "fontweight": "bold",
                "color": UNDERSERVED_COLOR,
                "zorder": 15,
            }
        else:
            lines = [name]
            style = {"fontsize": 6.5, "color": "#333333", "zorder": 14}
        ax.text(
            point.x,
            point.y,
            "\n".join(lines),
            ha="center",
            va="center",
            path_effects=_HALO,
            **style,
        )


def walk_time_colormap(
    max_minutes: float = 30.0, mark_minutes: float = 15.0, *, bins: int = 6
) -> tuple[Colormap, BoundaryNorm]:
    """Blues up to ``mark_minutes``, oranges to reds beyond, ``bins`` classes on each side.

    Walks longer than ``max_minutes`` take the colour map's "over" colour.

    Examples
    --------
    >>> cmap, norm = walk_time_colormap(30, 15)
    >>> cmap.N, [float(b) for b in norm.boundaries[[0, 6, -1]]]
    (12, [0.0, 15.0, 30.0])
    """
    if not 0 < mark_minutes < max_minutes:
        raise ValueError(
            f"mark_minutes {mark_minutes:g} must lie between 0 and max_minutes {max_minutes:g}"
        )
    cmap = ListedColormap(walk_time_colors(bins), name="fifteenmin_walk").with_extremes(
        over=WALK_OVER_COLOR, bad=UNREACHED_COLOR
    )
    bounds = np.concatenate(
        [
            np.linspace(0, mark_minutes, bins + 1),
            np.linspace(mark_minutes, max_minutes, bins + 1)[1:],
        ]
    )
    return cmap, BoundaryNorm(bounds, cmap.N)


def walk_time_colors(bins: int = 6) -> list[str]:
    """The ``2 * bins`` hex colours of the walking-time classes (near blue, far red).

    Examples
    --------
    >>> len(walk_time_colors(3)), walk_time_colors(3)[0]
    (6, '#083c7d')
    """
    near = colormaps["Blues"](np.linspace(0.95, 0.4, bins))
    far = colormaps["OrRd"](np.linspace(0.35, 0.95, bins))
    return [to_hex(c) for c in np.vstack([near, far])]


def segment_walk_minutes(analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """Street segments and the mean walking time of their two ends, in minutes.

    Segments are those of the search graph (streets split where spaces join them);
    the time is ``inf`` where no space can be reached.

    Examples
    --------
    >>> geoms, minutes = segment_walk_minutes(_sample_analysis())
    >>> len(geoms) == len(minutes), bool((minutes >= 0).all())
    (True, True)
    """
    graph = analysis.walk.graph
    dist = analysis.walk.dist_m
    street = graph.is_street
    mean_m = (dist[graph.u[street]] + dist[graph.v[street]]) / 2.0
    return graph.geometry[street], mean_m / analysis.walk.speed_mps / 60.0


def _line_segments(geoms: np.ndarray) -> list[np.ndarray]:
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    return np.split(coords, np.flatnonzero(np.diff(index)) + 1)


def _name_zones(ax: Axes, zones: gpd.GeoDataFrame) -> None:
    if len(zones) > MAX_LABELLED_ZONES:
        return
    for name, point in zip(zones[N.ZONE_NAME], _zone_label_points(ax, zones), strict=True):
        if point is not None:
            ax.text(
                point.x,
                point.y,
                str(name),
                ha="center",
                va="center",
                fontsize=6.5,
                color="#222222",
                path_effects=_HALO,
                zorder=14,
            )


def walk_time_map(
    analysis: Analysis,
    *,
    max_minutes: float | None = None,
    mark_minutes: float | None = None,
) -> Figure:
    """Street segments coloured by the walking time to the nearest space.

    A segment's time is the mean of its two ends' times (the per-node times of
    :meth:`~fifteenmin.travel.WalkTimes.node_times`); streets from which no space can be
    reached are grey and dotted.

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    max_minutes
        End of the colour scale (default: twice ``mark_minutes``); longer walks get the
        darkest colour.
    mark_minutes
        The threshold marked on the colour bar (default: the underserved walk, usually 15).

    Examples
    --------
    >>> fig = walk_time_map(_sample_analysis())
    >>> fig.axes[1].get_ylabel()
    'walking time to the nearest space (min)'
    """
    mark = float(
        mark_minutes if mark_minutes is not None else analysis.parameters["underserved_minutes"]
    )
    top = float(max_minutes if max_minutes is not None else 2 * mark)
    cmap, norm = walk_time_colormap(top, mark)
    crs = analysis.walk.streets.crs
    zones = analysis.zones.to_crs(crs)
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds)

    zones.plot(ax=ax, facecolor=ZONE_FILL, edgecolor=ZONE_EDGE, linewidth=0.6, zorder=1)
    geoms, minutes = segment_walk_minutes(analysis)
    reached = np.isfinite(minutes)
    lines = LineCollection(
        _line_segments(geoms[reached]), cmap=cmap, norm=norm, linewidths=1.1, zorder=3
    )
    lines.set_array(minutes[reached])
    lines.set_capstyle("round")
    ax.add_collection(lines)
    if (~reached).any():
        ax.add_collection(
            LineCollection(
                _line_segments(geoms[~reached]),
                colors=UNREACHED_COLOR,
                linewidths=0.7,
                linestyles=(0, (1.5, 1.5)),
                zorder=2,
            )
        )
    space_handle = _plot_spaces(ax, analysis, crs)
    _extent(ax, bounds)
    _name_zones(ax, zones)

    cbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01, aspect=25, extend="max"
    )
    ticks = norm.boundaries[::2].tolist()
    labels = [f"{t:g}" for t in ticks]
    cbar.set_ticks(ticks, labels=labels)
    for label, tick in zip(cbar.ax.get_yticklabels(), ticks, strict=True):
        if np.isclose(tick, mark):
            label.set_fontweight("bold")
    cbar.ax.axhline(mark, color="black", linewidth=2)
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label("walking time to the nearest space (min)", fontsize=9)

    handles = [
        space_handle,
        Line2D([], [], color=cmap(norm(mark / 2)), linewidth=2, label=f"≤ {mark:g} min walk"),
        Line2D(
            [], [], color=cmap(norm((mark + top) / 2)), linewidth=2, label=f"> {mark:g} min walk"
        ),
        Line2D(
            [],
            [],
            color=UNREACHED_COLOR,
            linewidth=1,
            linestyle=(0, (1.5, 1.5)),
            label="no space reachable",
        ),
        Patch(facecolor=ZONE_FILL, edgecolor=ZONE_EDGE, label="zone"),
    ]
    _legend(fig, handles)
    nodes = analysis.walk.node_times()["walk_time_s"].dropna()
    parts = (
        _share_text(analysis, mark),
        f"half of the street nodes are within {nodes.median() / 60:.0f} min" if len(nodes) else "",
        _speed_text(analysis),
    )
    _titles(fig, ax, "Walking time to the nearest space", parts)
    add_map_furniture(ax, note=analysis.note)
    return fig


def isochrone_map(
    analysis: Analysis, *, space_id: str | None = None, fill_holes_km2: float = 0.05
) -> Figure:
    """Nested walking-time bands: the area within each threshold of any space (or of one).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    space_id
        Draw this space's isochrones instead of the area covered by all spaces.
    fill_holes_km2
        Holes smaller than this (street blocks) are drawn as covered.

    Examples
    --------
    >>> fig = isochrone_map(_sample_analysis(), space_id="S01")
    >>> fig.get_suptitle()
    'Walking isochrones of space S01'
    """
    crs = analysis.walk.streets.crs
    if space_id is None:
        bands = analysis.coverage.to_crs(crs)
        title = "Area within a walk of the nearest space"
    else:
        bands = analysis.isochrones[analysis.isochrones["space_id"] == str(space_id)].to_crs(crs)
        if bands.empty:
            known = ", ".join(analysis.isochrones["space_id"].astype(str).unique()[:10])
            raise ValueError(f"no isochrones for space {space_id!r}; spaces include {known}")
        title = f"Walking isochrones of space {space_id}"
    zones = analysis.zones.to_crs(crs)
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds, colorbar=False)
    zones.plot(ax=ax, facecolor=ZONE_FILL, edgecolor=ZONE_EDGE, linewidth=0.6, zorder=1)
    minutes = sorted(float(m) for m in bands["minutes"].unique())
    colors = colormaps["YlGnBu"](np.linspace(0.85, 0.3, len(minutes)))
    handles: list[Any] = []
    for m, color in reversed(list(zip(minutes, colors, strict=True))):
        shape = [
            fill_small_holes(g, fill_holes_km2 * 1e6)
            for g in bands.loc[bands["minutes"] == m].geometry
        ]
        gpd.GeoSeries(shape, crs=crs).plot(
            ax=ax, facecolor=color, edgecolor="white", linewidth=0.4, alpha=0.85, zorder=2
        )
        handles.insert(0, Patch(facecolor=color, alpha=0.85, label=f"≤ {m:g} min"))
    _streets(analysis).plot(ax=ax, color=STREET_COLOR, linewidth=0.25, alpha=0.5, zorder=3)
    handles.insert(0, _plot_spaces(ax, analysis, crs))
    if space_id is not None:
        spaces = analysis.spaces.to_crs(crs)
        chosen = spaces[spaces["space_id"].astype(str) == str(space_id)]
        ax.scatter(
            chosen.geometry.x,
            chosen.geometry.y,
            s=220,
            marker="*",
            facecolor="#ffd400",
            edgecolor=SPACE_EDGE,
            linewidth=1.0,
            zorder=11,
        )
        handles.insert(
            1,
            Line2D(
                [],
                [],
                marker="*",
                markerfacecolor="#ffd400",
                markeredgecolor=SPACE_EDGE,
                markersize=13,
                linestyle="none",
                label=f"space {space_id}",
            ),
        )
    _extent(ax, bounds)
    _name_zones(ax, zones)
    _legend(fig, handles)
    _titles(fig, ax, title, (f"walking-time bands; {_speed_text(analysis)}",))
    add_map_furniture(ax, note=analysis.note)
    return fig


def save_figure(
    fig: Figure, path: str | Path, *, formats: Sequence[str] = FORMATS, dpi: int = DPI
) -> list[Path]:
    """Save ``fig`` once per format next to ``path`` (its suffix is replaced).

    Returns the written paths. SVG and PDF carry no creation date, so reruns give the
    same files.
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lstrip(".").lower() in FORMATS else path
    title = fig.get_suptitle() or stem.name
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = stem.parent / f"{stem.name}.{fmt}"
        metadata: dict[str, Any] = {"Title": title}
        if fmt == "svg":
            metadata["Date"] = None
        elif fmt == "pdf":
            metadata.update(CreationDate=None, ModDate=None)
        fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata)  # laid out already
        written.append(target)
    return written


def write_maps(
    analysis: Analysis,
    directory: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    dpi: int = DPI,
) -> list[Path]:
    """Write ``coverage_map`` and ``walk_time_map`` in every format into ``directory``."""
    directory = Path(directory)
    written = save_figure(
        coverage_map(analysis), directory / "coverage_map", formats=formats, dpi=dpi
    )
    written += save_figure(
        walk_time_map(analysis), directory / "walk_time_map", formats=formats, dpi=dpi
    )
    return written
