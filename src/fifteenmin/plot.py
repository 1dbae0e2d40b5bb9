"""Maps: zones coloured by coverage, spaces, coverage outline, legend, scale bar, north arrow."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from . import _names as N

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .pipeline import Analysis

ATTRIBUTION = "© OpenStreetMap contributors"


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
    )


def add_map_furniture(ax: Axes, *, note: str = "") -> None:
    """Scale bar (metres), north arrow and the OSM attribution (plus ``note``)."""
    ax.add_artist(ScaleBar(1, "m", location="lower left", box_alpha=0.7))
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
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none"},
    )
    ax.set_axis_off()


def coverage_map(analysis: Analysis, *, minutes: float | None = None) -> Figure:
    """Zones coloured by the share covered within ``minutes`` (default: the underserved walk).

    The share is of residents when the zones carry population, else of area.
    """
    m = float(minutes if minutes is not None else analysis.parameters["underserved_minutes"])
    kind = "pop" if analysis.has_population else "area"
    column = N.share(kind, m)
    zones = analysis.zones
    fig = Figure(figsize=(9, 9))  # no pyplot: no global backend state
    ax = fig.subplots()
    zones.plot(
        ax=ax,
        column=column,
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        edgecolor="#555555",
        linewidth=0.4,
        legend=True,
        missing_kwds={"color": "#dddddd"},
        legend_kwds={
            "label": f"share of {'residents' if kind == 'pop' else 'area'} within {m:g} min walk",
            "shrink": 0.6,
        },
    )
    under = zones[zones[N.UNDERSERVED]]
    if len(under):
        under.boundary.plot(ax=ax, color="#7a0019", linewidth=1.4)
    streets = analysis.walk.streets.edge_geometry
    gpd.GeoSeries(streets, crs=analysis.walk.streets.crs).plot(
        ax=ax, color="#333333", linewidth=0.2, alpha=0.5
    )
    cov = analysis.coverage[analysis.coverage["minutes"] == m]
    cov.boundary.plot(ax=ax, color="#1f4e9c", linewidth=1.2)
    analysis.spaces.to_crs(zones.crs).plot(
        ax=ax,
        color="#1f4e9c",
        markersize=28,
        marker="o",
        edgecolor="white",
        linewidth=0.8,
        zorder=5,
    )
    bounds = zones.total_bounds
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            color="#1f4e9c",
            markeredgecolor="white",
            linestyle="none",
            markersize=8,
            label=f"space ({len(analysis.walk.spaces)})",
        ),
        Line2D([], [], color="#1f4e9c", linewidth=1.2, label=f"{m:g}-min walk coverage"),
        Patch(
            facecolor="none",
            edgecolor="#7a0019",
            linewidth=1.4,
            label=f"underserved zone ({len(under)})",
        ),
        Line2D([], [], color="#333333", linewidth=0.6, label="walkable street"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    ax.set_title(f"Walking access to the nearest space within {m:g} minutes")
    add_map_furniture(ax, note=analysis.note)
    return fig
