"""Print-quality maps: zone coverage, walking-time heat map and isochrone bands."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import artist as martist
from matplotlib import colormaps, rc_context
from matplotlib import patheffects as pe
from matplotlib.cm import ScalarMappable
from matplotlib.collections import Collection, LineCollection, PathCollection
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap, to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib_scalebar.scalebar import ScaleBar

from .. import _names as N
from ._i18n import Translator

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..pipeline import Analysis
    from ..scenarios import Comparison

ATTRIBUTION = "© OpenStreetMap contributors"
FORMATS = ("png", "svg", "pdf")
DPI = 200
MAX_LABELLED_ZONES = 40
DENSE_LINES = 20_000
"""Street layers with more segments than this are drawn as a few compound paths per colour
(fast to build and draw) and as images in SVG and PDF files (small files); coverage
outlines with more vertices are simplified to a quarter of a pixel."""

# One palette for the maps and the QGIS styles (see ``_qgis``).
SHARE_BOUNDS = (0.0, 0.25, 0.5, 0.75, 1.0)
SHARE_COLORS = ("#e34a33", "#fdbb84", "#c6dbef", "#6baed6")
SPACE_FACE, SPACE_EDGE = "#ffffff", "#111111"
COVERAGE_COLOR = "#1a1a1a"
UNDERSERVED_COLOR = "#67001f"
STREET_COLOR = "#4d4d4d"
UNREACHED_COLOR = "#9e9e9e"
NO_DATA_COLOR = "#e0e0e0"
STATUS_HATCH_COLOR = "#8c8c8c"  # hatching of the zones without (enough) street data
NO_DATA_HATCH = "\\\\\\"  # against the grain of the coverage hatching ("////")
SPARSE_HATCH = "...."
SPARSE_EDGE = "#5c5c5c"
FRAGMENT_COLOR = "#d95f02"
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


def add_map_furniture(ax: Axes, *, note: str = "", lines: Sequence[str] | None = None) -> None:
    """Scale bar (metres), north arrow and the sources: ``lines`` (default the OSM
    attribution), then ``note``.

    On a map of this module the sources are lines under the map, each fitted to the page
    (see :func:`_fit_page`); on another figure, a box at the map's lower right.
    """
    ax.add_artist(
        ScaleBar(1, "m", location="lower left", box_alpha=0.8, font_properties={"size": 8})
    )
    add_north_arrow(ax)
    texts = [str(x) for x in (lines if lines is not None else [ATTRIBUTION]) if x]
    if note:
        texts.append(note)
    page = _page(ax.figure)
    if page is not None:
        page.footer = texts
        ax.set_axis_off()
        _fit_page(ax.figure)  # type: ignore[arg-type]
        return
    text = "\n".join(texts)
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
    parts = shapely.get_parts(geometry)
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]
    if len(parts) == 0:
        return shapely.Polygon()
    n_holes = shapely.get_num_interior_rings(parts)
    owner = np.repeat(np.arange(len(parts)), n_holes)
    first = np.repeat(np.cumsum(n_holes) - n_holes, n_holes)
    holes = shapely.get_interior_ring(parts[owner], np.arange(len(owner)) - first)
    keep = shapely.area(shapely.polygons(holes)) > max_area_m2
    # each part's shell, then the holes it keeps, in one ring array (vectorised)
    rings = np.concatenate([shapely.get_exterior_ring(parts), holes[keep]])
    index = np.concatenate([np.arange(len(parts)), owner[keep]])
    order = np.argsort(index, kind="stable")
    filled = shapely.polygons(rings[order], indices=index[order])
    if keep.all():
        filled = parts
    elif len(filled) > 1:
        # a part inside a hole that is now filled is covered by its surrounding part
        inner, outer = shapely.STRtree(filled).query(filled, predicate="within")
        inside = np.zeros(len(filled), dtype=bool)
        inside[inner[inner != outer]] = True
        filled = filled[~inside]
    return filled[0] if len(filled) == 1 else shapely.multipolygons(filled)


@dataclass
class _Page:
    """What a map's page holds around the map: its title block above, its sources below.

    The figure's height is the map's plus those blocks' and the legend's, as drawn, so
    that every text fits inside the image whatever its length or language (see
    :func:`_fit_page`).
    """

    map_height_in: float
    per_pt: float  # map units per typographic point on the map
    kicker: str = ""  # the analysis's title, above the map's
    title: str = ""
    parts: Sequence[str] = ()
    footer: Sequence[str] = ()
    texts: list[Any] = field(default_factory=list)  # the text artists placed last time


_MARGIN_IN = 0.15  # the page's margin around the title block and the sources
_FOOT_PT, _SUB_PT, _KICKER_PT = 7.0, 9.0, 9.0
_TITLE_PT = (14.0, 12.0)  # the title's size, and its size when it takes 3 lines or more
MIN_PAGE_WIDTH_IN = 6.0
"""Maps are at least this wide, so that a tall narrow area leaves room for its legend."""


def _page(fig: Any) -> _Page | None:
    page = getattr(fig, "_fifteenmin_page", None)
    return page if isinstance(page, _Page) else None


def _figure(bounds: Sequence[float], *, colorbar: bool = True) -> tuple[Figure, Axes]:
    """A figure whose shape follows the map's, so the page has no empty bands.

    The title block, the legend and the sources are added to its height as they come
    (:func:`_fit_page`), sized by Agg's text metrics.
    """
    minx, miny, maxx, maxy = bounds
    aspect = (maxy - miny) / (maxx - minx) if maxx > minx else 1.0
    width = 8.5
    height = float(np.clip(width * aspect, 4.0, 11.0))
    if height == 11.0:  # tall map: narrow the page instead
        width = height / aspect
    page_width = max(width + (1.4 if colorbar else 0.3), MIN_PAGE_WIDTH_IN)
    # no pyplot: no global backend state; the pads are the page margins, in inches
    fig = Figure(
        figsize=(page_width, height + 0.8),
        layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12),
    )
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    _extent(ax, bounds)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    map_width = min(width, page_width - (1.4 if colorbar else 0.3))
    per_pt = max((x1 - x0) / (map_width * 72), (y1 - y0) / (height * 72))
    fig._fifteenmin_page = _Page(map_height_in=height, per_pt=per_pt)  # type: ignore[attr-defined]
    return fig, ax


def _renderer(fig: Figure) -> Any:
    """An Agg renderer at ``fig``'s resolution, to measure texts (the figure is not drawn:
    attaching an Agg canvas would make every plot call draw it all)."""
    from matplotlib.backends.backend_agg import RendererAgg

    cached = getattr(fig, "_fifteenmin_renderer", None)
    if cached is None or cached.dpi != fig.dpi:
        cached = RendererAgg(1, 1, fig.dpi)
        fig._fifteenmin_renderer = cached  # type: ignore[attr-defined]
    return cached


def _text_width_px(fig: Figure, text: str, size: float, weight: str = "normal") -> float:
    """Width of one line of ``text`` on ``fig``, in pixels, by Agg's metrics."""
    from matplotlib.font_manager import FontProperties

    renderer = _renderer(fig)
    prop = FontProperties(size=size, weight=weight)
    width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def wrap_text(
    fig: Figure, parts: Sequence[str], width_px: float, *, size: float, sep: str = "; ",
    weight: str = "normal",
) -> list[str]:  # fmt: skip
    """``parts`` joined by ``sep`` into lines no wider than ``width_px`` on ``fig``.

    A part moves to the next line whole when it does not fit on the current one; a part
    wider than a line is broken between words (a word wider than a line stands alone).
    """
    lines: list[str] = []
    line = ""
    for part in (str(p) for p in parts if p):
        trial = f"{line}{sep}{part}" if line else part
        if _text_width_px(fig, trial, size, weight) <= width_px:
            line = trial
            continue
        if line:
            lines.append(line + sep.rstrip())
            line = ""
        for word in part.split(" "):
            trial = f"{line} {word}" if line else word
            if line and _text_width_px(fig, trial, size, weight) > width_px:
                lines.append(line)
                trial = word
            line = trial
    if line:
        lines.append(line)
    return lines


def _fit_page(fig: Figure) -> None:
    """Lay the title block out above the map and the sources below it, each line wrapped
    to the page's width, and make the figure as tall as the map, the legend and those.

    The texts stand outside the constrained layout (``in_layout=False``); the layout
    fills the rectangle between them (its ``rect``), legend and colour bar included.
    """
    page = _page(fig)
    if page is None:
        return
    for artist in page.texts:
        artist.remove()
    page.texts = []
    if fig._suptitle is not None:  # type: ignore[attr-defined]
        fig._suptitle.remove()  # type: ignore[attr-defined]
        fig._suptitle = None  # type: ignore[attr-defined]
    dpi = fig.dpi
    width_px = (fig.get_figwidth() - 2 * _MARGIN_IN) * dpi * 0.98  # 2 %: hinting at other dpi
    renderer = _renderer(fig)
    header: list[tuple[Any, float]] = []  # (text, gap above it in inches)

    def block(lines: list[str], gap: float, **style: Any) -> Any:
        text = fig.text(0, 0, "\n".join(lines), va="top", linespacing=1.25, **style)
        text.set_in_layout(False)
        header.append((text, gap))
        return text

    if page.kicker:
        block(wrap_text(fig, [page.kicker], width_px, size=_KICKER_PT), 0.0,
              fontsize=_KICKER_PT, color="#555555", ha="left")  # fmt: skip
    if page.title:
        size = _TITLE_PT[0]
        lines = wrap_text(fig, [page.title], width_px, size=size, weight="bold")
        if len(lines) > 2:
            size = _TITLE_PT[1]
            lines = wrap_text(fig, [page.title], width_px, size=size, weight="bold")
        title = fig.suptitle(
            "\n".join(lines), ha="left", va="top", fontsize=size, fontweight="bold",
            linespacing=1.15,
        )  # fmt: skip
        title.set_in_layout(False)
        header.append((title, 0.04 if page.kicker else 0.0))
    parts = [p for p in page.parts if p]
    if parts:
        block(wrap_text(fig, parts, width_px, size=_SUB_PT), 0.06,
              fontsize=_SUB_PT, color="#333333", ha="left")  # fmt: skip
    footer = []
    for line in page.footer:
        footer += wrap_text(fig, [line], width_px, size=_FOOT_PT)
    foot = None
    if footer:
        foot = fig.text(0, 0, "\n".join(footer), ha="right", va="bottom", fontsize=_FOOT_PT,
                        color="#333333", linespacing=1.2)  # fmt: skip
        foot.set_in_layout(False)

    def height_in(text: Any) -> float:
        return float(text.get_window_extent(renderer).height) / dpi

    header_in = sum(height_in(text) + gap for text, gap in header)
    header_in += 0.08 if header else 0.0
    footer_in = height_in(foot) + 0.06 if foot is not None else 0.0
    legends = [legend for legend in fig.legends if not legend.get_in_layout()]
    legend_in = sum(float(legend.get_window_extent(renderer).height) / dpi for legend in legends)
    legend_in += 0.08 * len(legends)
    total = page.map_height_in + header_in + footer_in + legend_in + 2 * _MARGIN_IN + 0.3
    fig.set_figheight(total)
    left, right = _MARGIN_IN / fig.get_figwidth(), 1 - _MARGIN_IN / fig.get_figwidth()
    y = total - _MARGIN_IN
    for text, gap in header:
        y -= gap
        text.set_position((left, y / total))
        y -= height_in(text)
        page.texts.append(text)
    if foot is not None:
        foot.set_position((right, _MARGIN_IN / total))
        page.texts.append(foot)
    y = _MARGIN_IN + footer_in
    for legend in legends:
        legend.set_bbox_to_anchor((0.5, y / total), transform=fig.transFigure)
        y += float(legend.get_window_extent(renderer).height) / dpi + 0.08
    if fig._suptitle is not None:  # type: ignore[attr-defined]
        page.texts.remove(fig._suptitle)  # type: ignore[attr-defined]
    bottom = (_MARGIN_IN + footer_in + legend_in) / total
    top = (_MARGIN_IN + header_in) / total
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0.0, bottom, 1.0, max(1.0 - bottom - top, 0.1)))


def _extent(ax: Axes, bounds: Sequence[float], pad: float = 0.03) -> None:
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * pad, (maxy - miny) * pad
    ax.set_xlim(minx - dx, maxx + dx)
    ax.set_ylim(miny - dy, maxy + dy)


def _map_bounds(analysis: Analysis, zones: gpd.GeoDataFrame) -> tuple[float, ...]:
    """The extent of the zones with street data and of the spaces (of every zone where
    none has data; the streets' where there are no zones): zones without street data
    around a small extract are context, and must not shrink it to a dot."""
    if not len(zones):
        return tuple(float(b) for b in analysis.walk.streets.bounds())
    with_data = zones[zone_statuses(zones) != N.NO_DATA]
    frame = with_data if len(with_data) else zones
    spaces = analysis.walk.spaces.to_crs(zones.crs).total_bounds
    lo = np.fmin(frame.total_bounds[:2], spaces[:2])
    hi = np.fmax(frame.total_bounds[2:], spaces[2:])
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def _titles(fig: Figure, ax: Axes, title: str, parts: Sequence[str], *, kicker: str = "") -> None:
    """The map's title (the figure's suptitle), ``kicker`` above it (the analysis's title)
    and ``parts`` under it (its figures, joined by semicolons), fitted to the page."""
    page = _page(fig)
    if page is None:
        fig.suptitle(title, x=0.02, ha="left", fontsize=14, fontweight="bold")
        ax.set_title("; ".join(p for p in parts if p), loc="left", fontsize=9, color="#333333")
        return
    page.kicker, page.title, page.parts = kicker, title, tuple(parts)
    _fit_page(fig)


def subtitle(fig: Figure) -> str:
    """A map's subtitle (its figures under the title) on one line.

    Examples
    --------
    >>> "71% of 60,000 residents" in subtitle(coverage_map(_sample_analysis()))
    True
    """
    page = _page(fig)
    if page is None:
        return fig.axes[0].get_title(loc="left") if fig.axes else ""
    return "; ".join(p for p in page.parts if p)


def _service(analysis: Analysis) -> str:
    """The analysis's ``service_name`` with a capital, or ""."""
    name = str(getattr(analysis, "service_name", "") or "").strip()
    return name[:1].upper() + name[1:]


def _plot_spaces(ax: Axes, analysis: Analysis, crs: Any, t: Translator) -> Line2D:
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
        label=(
            t("map_spaces_svc", service=analysis.service_name, n=t.integer(len(spaces)))
            if getattr(analysis, "service_name", "")
            else t("map_spaces", n=t.integer(len(spaces)))
        ),
    )


MAX_NAMED_SPACES = 30
"""Up to this many spaces, each is labelled with its name where that fits (else its number)."""
MAX_NUMBERED_SPACES = 400
"""Up to this many spaces, each is labelled with its number where a name does not fit; the
numbers are those of the report's table of spaces (:func:`space_numbers`)."""
_SPACE_PT = 6.5  # size of the spaces' labels


def space_numbers(analysis: Analysis) -> np.ndarray:
    """Each space's number on the maps and in the report's table of spaces: 1, 2, ... in
    the order of ``analysis.spaces``.

    Examples
    --------
    >>> space_numbers(_sample_analysis())[:3].tolist()
    [1, 2, 3]
    """
    return np.arange(1, len(analysis.walk.spaces) + 1)


def space_labels(analysis: Analysis) -> list[str]:
    """Each space's name (its id where it has none), on one line and at most 28 characters."""
    spaces = analysis.walk.spaces
    ids = spaces[N.SPACE_ID].astype(str).tolist()
    names = spaces[N.SPACE_NAME].tolist() if N.SPACE_NAME in spaces else [None] * len(ids)
    out = []
    for ident, name in zip(ids, names, strict=True):
        text = " ".join(str(name).split()) if isinstance(name, str) and name.strip() else ident
        out.append(text if len(text) <= 28 else text[:27].rstrip() + "…")
    return out


def _placed(ax: Axes) -> list[tuple[float, float, float, float]]:
    """The boxes (map units) of the labels placed on ``ax`` so far, shared by every kind."""
    placed = getattr(ax, "_fifteenmin_placed", None)
    if placed is None:
        placed = []
        ax._fifteenmin_placed = placed  # type: ignore[attr-defined]
    return placed


def _per_pt(ax: Axes) -> float:
    """Map units per typographic point: from the map's size on the page when known."""
    page = _page(ax.figure)
    if page is not None:
        return page.per_pt
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    width_pt = ax.bbox.width * 72 / ax.figure.dpi
    height_pt = ax.bbox.height * 72 / ax.figure.dpi
    return max((x1 - x0) / width_pt, (y1 - y0) / height_pt)


def _overlaps(box: tuple[float, ...], boxes: Sequence[tuple[float, ...]]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def _label_spaces(ax: Axes, analysis: Analysis, crs: Any) -> bool:
    """Name each space beside its marker where the name fits, else number it (the number
    of the report's table of spaces), else leave it; no label covers another label, a
    marker or the map's edge. Returns whether some space is numbered."""
    spaces = analysis.walk.spaces.to_crs(crs)
    n = len(spaces)
    if n == 0 or n > MAX_NUMBERED_SPACES:
        return False
    fig = ax.figure
    per_pt = _per_pt(ax)
    xs, ys = spaces.geometry.x.to_numpy(), spaces.geometry.y.to_numpy()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    r = 3.5 * per_pt
    markers = [(x - r, y - r, x + r, y + r) for x, y in zip(xs, ys, strict=True)]
    placed = _placed(ax)
    names = space_labels(analysis) if n <= MAX_NAMED_SPACES else [None] * n
    numbered = False
    height = _SPACE_PT * 1.25 * per_pt
    gap = 4.5 * per_pt
    for i in range(n):
        x, y = xs[i], ys[i]
        if not (np.isfinite(x) and np.isfinite(y) and x0 <= x <= x1 and y0 <= y <= y1):
            continue
        others = markers[:i] + markers[i + 1 :]
        for text in [t for t in (names[i], str(i + 1)) if t]:
            width = _text_width_px(fig, text, _SPACE_PT) * 72 / fig.dpi * per_pt  # type: ignore[arg-type]
            # right of the marker, left, above, below
            for left, bottom in (
                (x + gap, y - height / 2),
                (x - gap - width, y - height / 2),
                (x - width / 2, y + r),
                (x - width / 2, y - r - height),
            ):
                box = (left, bottom, left + width, bottom + height)
                if box[0] < x0 or box[2] > x1 or box[1] < y0 or box[3] > y1:
                    continue
                if _overlaps(box, placed) or _overlaps(box, others):
                    continue
                placed.append(box)
                ax.text(left + width / 2, bottom + height / 2, text, ha="center",
                        va="center", fontsize=_SPACE_PT, color="#111111", zorder=16,
                        path_effects=_HALO)  # fmt: skip
                numbered |= text == str(i + 1)
                break
            else:
                continue
            break
    return numbered


def hexagon_zones(analysis: Analysis) -> bool:
    """Whether the zones are an H3 hexagon grid (``zones="hex:RES"``, or H3 cells named by
    their index): such zones get no labels on the maps (their names are cell ids).

    Examples
    --------
    >>> hexagon_zones(_sample_analysis())
    False
    """
    if (analysis.parameters or {}).get("hex_resolution") is not None:
        return True
    names = analysis.zones[N.ZONE_NAME].dropna().astype(str).head(20).tolist()
    if not names:
        return False
    import h3

    return all(h3.is_valid_cell(name) for name in names)


def _furniture(ax: Axes, analysis: Analysis, t: Translator, *, numbered: bool = False) -> None:
    """Scale bar, north arrow and the sources of the analysis's data, then its note."""
    from .._credits import attribution_lines, is_synthetic
    from ..sample import SYNTHETIC_NOTE

    lines = attribution_lines(analysis, t.lang)
    if numbered:
        lines.insert(0, t("map_numbered"))
    # the sample city's note says what its attribution line says: once is enough
    note = "" if is_synthetic(analysis) and analysis.note == SYNTHETIC_NOTE else analysis.note
    add_map_furniture(ax, note=note, lines=lines)


def _with_data(zones: pd.DataFrame) -> int:
    """How many zones have street data (the map frames those; others are context)."""
    return int((zone_statuses(zones) != N.NO_DATA).sum())


def zone_statuses(zones: pd.DataFrame) -> np.ndarray:
    """Each zone's status (``ok``, ``partial_data``, ``no_data``, ``sparse_streets``).

    Zones of an analysis without a ``status`` column are all ``ok``.

    Examples
    --------
    >>> import pandas as pd
    >>> zone_statuses(pd.DataFrame({"status": ["ok", "no_data", None]})).tolist()
    ['ok', 'no_data', 'ok']
    """
    if N.STATUS not in zones.columns:
        return np.full(len(zones), N.OK, dtype=object)
    return zones[N.STATUS].fillna(N.OK).astype(str).to_numpy(dtype=object)


def underserved_mask(zones: pd.DataFrame) -> np.ndarray:
    """Underserved zones among those counted (a zone without street data never is)."""
    under = zones[N.UNDERSERVED].fillna(False).astype(bool).to_numpy()
    return under & np.isin(zone_statuses(zones), N.COUNTED)


def _plot_status(ax: Axes, zones: gpd.GeoDataFrame, t: Translator) -> list[Patch]:
    """Hatch the zones without street data and those with sparse streets; legend entries.

    Zones without street data are grey with a grey hatching; zones with sparse streets
    keep their colour under a dotted hatching and a dashed outline.
    """
    status = zone_statuses(zones)
    handles = []
    no_data = zones[status == N.NO_DATA]
    if len(no_data):
        no_data.plot(
            ax=ax,
            facecolor=NO_DATA_COLOR,
            edgecolor=STATUS_HATCH_COLOR,
            hatch=NO_DATA_HATCH,
            linewidth=0,
            zorder=1.5,
        )
        handles.append(
            Patch(
                facecolor=NO_DATA_COLOR,
                edgecolor=STATUS_HATCH_COLOR,
                hatch=NO_DATA_HATCH,
                linewidth=0.5,
                label=t("map_status_no_data"),
            )
        )
    sparse = zones[status == N.SPARSE_STREETS]
    if len(sparse):
        sparse.plot(
            ax=ax,
            facecolor="none",
            edgecolor=STATUS_HATCH_COLOR,
            hatch=SPARSE_HATCH,
            linewidth=0,
            zorder=1.5,
        )
        sparse.boundary.plot(
            ax=ax, color=SPARSE_EDGE, linewidth=1.0, linestyle=(0, (4, 2)), zorder=4.6
        )
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=SPARSE_EDGE,
                hatch=SPARSE_HATCH,
                linewidth=1.0,
                linestyle=(0, (4, 2)),
                label=t("map_status_sparse"),
            )
        )
    return handles


def street_fragments(analysis: Analysis) -> gpd.GeoDataFrame | None:
    """The street fragments not joined to the main network (None when there are none)."""
    fragments = getattr(analysis, "fragments", None)
    if callable(fragments):
        fragments = fragments()
    if not isinstance(fragments, gpd.GeoDataFrame) or len(fragments) == 0:
        return None
    return fragments


def _plot_fragments(ax: Axes, analysis: Analysis, crs: Any, t: Translator) -> Line2D | None:
    """The street fragments not joined to the main network, thin and dashed (if any)."""
    fragments = street_fragments(analysis)
    if fragments is None:
        return None
    geoms = shapely.get_parts(fragments.to_crs(crs).geometry.to_numpy())
    geoms = geoms[~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        return None
    dashes = (0, (3, 2))
    _add_lines(ax, geoms, color=FRAGMENT_COLOR, linewidth=0.8, linestyle=dashes, zorder=2.5)
    return Line2D(
        [], [], color=FRAGMENT_COLOR, linewidth=0.8, linestyle=dashes, label=t("map_fragments")
    )


def _plot_streets(ax: Axes, analysis: Analysis, **style: Any) -> Collection:
    """The walkable streets in one colour (see :func:`_add_lines`)."""
    return _add_lines(ax, analysis.walk.streets.edge_geometry, **style)


def _add_lines(
    ax: Axes,
    geoms: np.ndarray,
    *,
    color: Any = None,
    values: np.ndarray | None = None,
    cmap: Colormap | None = None,
    norm: BoundaryNorm | None = None,
    linewidth: float,
    zorder: float,
    alpha: float | None = None,
    linestyle: Any = "solid",
    capstyle: str | None = None,
) -> Collection:
    """Lines in ``color``, or coloured by ``values`` through ``cmap`` and ``norm``.

    Up to ``DENSE_LINES`` lines: a LineCollection, one path per line. Above: one compound
    path per colour in each run of ``_LINES_PER_PATH`` lines, drawn once as an image
    (:class:`_OnceRasterCollection`), which SVG and PDF files embed.
    A hundred thousand separate paths take seconds to build and to draw, and make vector
    files of a hundred megabytes that viewers struggle with; zones, outlines, labels and
    legend stay vector. Where lines overlap, a compound path is painted once, so with
    ``alpha`` the crossings are not darker.
    """
    if len(geoms) <= DENSE_LINES:
        lines = LineCollection(
            _line_segments(geoms),
            colors=color,
            cmap=cmap,
            norm=norm,
            linewidths=linewidth,
            linestyles=linestyle,
            alpha=alpha,
            capstyle=capstyle,
            zorder=zorder,
        )
        if values is not None:
            lines.set_array(values)
        ax.add_collection(lines)
        return lines
    if values is None:
        colours, group = np.array([to_rgba(color)]), np.zeros(len(geoms), dtype=int)
    else:
        rgba = ScalarMappable(norm=norm, cmap=cmap).to_rgba(values)
        colours, group = np.unique(rgba, axis=0, return_inverse=True)
        group = group.ravel()
    paths, edgecolors = [], []
    for n, start in enumerate(range(0, len(geoms), _LINES_PER_PATH)):
        part = geoms[start : start + _LINES_PER_PATH]
        part_group = group[start : start + _LINES_PER_PATH]
        present = np.unique(part_group)
        # where lines of two colours meet, the one drawn last shows: alternating the order
        # keeps either end of the scale from prevailing, as the lines' own order does
        for k in present[::-1] if n % 2 else present:
            paths.append(_compound_path(part[part_group == k]))
            edgecolors.append(tuple(colours[k]))
    dense = _OnceRasterCollection(
        paths,
        facecolors="none",
        edgecolors=edgecolors,
        linewidths=linewidth,
        linestyles=linestyle,
        alpha=alpha,
        capstyle=capstyle,
        zorder=zorder,
    )
    dense.set_rasterized(True)
    ax.add_collection(dense, autolim=False)
    return dense


def _simplify_dense(geoms: Sequence[Any], bounds: Sequence[float]) -> np.ndarray:
    """Outlines of over ``DENSE_LINES`` vertices in all, simplified for the map.

    The tolerance, 1/8000 of the map's extent, is about a quarter of a pixel at 200 dpi:
    the map looks the same, and its SVG and PDF files do not carry every vertex of the
    buffered streets.
    """
    array = np.asarray(geoms, dtype=object)
    if int(shapely.get_num_coordinates(array).sum()) <= DENSE_LINES:
        return array
    minx, miny, maxx, maxy = bounds
    return shapely.simplify(array, max(maxx - minx, maxy - miny) / 8000)


_LINES_PER_PATH = 2_000  # lines per compound path: few paths, and the lines' order kept


class _OnceRasterCollection(PathCollection):
    """A rasterised PathCollection drawn once per canvas and view, then pasted as an image.

    Saving a map as PNG, SVG and PDF at one dpi draws it three times on canvases of the
    same size (the vector files rasterise it); a dense street layer takes a second or two
    each time. Painting the layer on a blank canvas and pasting that over the figure
    gives the same pixels ("over" compositing is associative).
    """

    _cache: tuple[tuple[Any, ...], int, int, np.ndarray] | None = None

    @martist.allow_rasterization
    def draw(self, renderer: Any) -> None:
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.backends.backend_mixed import MixedModeRenderer

        agg = renderer._renderer if isinstance(renderer, MixedModeRenderer) else renderer
        if not self.get_visible() or not isinstance(agg, RendererAgg):
            super().draw(renderer)
            return
        width, height = agg.get_canvas_width_height()
        clip = self.get_clip_box()
        key = (
            int(width),  # a float in the renderer rasterising for SVG and PDF
            int(height),
            agg.dpi,
            self.get_transform().get_matrix().tobytes(),
            None if clip is None else tuple(clip.bounds),
        )
        if self._cache is None or self._cache[0] != key:
            blank = RendererAgg(width, height, agg.dpi)
            super().draw(blank)
            image = np.asarray(blank.buffer_rgba())
            rows = np.flatnonzero(image[..., 3].any(axis=1))
            cols = np.flatnonzero(image[..., 3].any(axis=0))
            if len(rows):
                # draw_image takes rows bottom up from the lower left corner (x, y)
                image = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1][::-1]
                bottom = int(height) - int(rows[-1]) - 1
                self._cache = (key, int(cols[0]), bottom, image.copy())
            else:
                self._cache = (key, 0, 0, image[:0, :0])
        _, x, y, image = self._cache
        if image.size:
            gc = renderer.new_gc()
            renderer.draw_image(gc, x, y, image)
            gc.restore()


def _compound_path(geoms: np.ndarray) -> MplPath:
    """``geoms`` (lines) as one path: a MOVETO at the start of each line."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[np.flatnonzero(np.diff(index, prepend=-1))] = MplPath.MOVETO
    return MplPath(coords, codes)


def _legend(fig: Figure, handles: list[Any]) -> None:
    """The legend under the map, in as many columns (up to 5) as fit the page's width."""
    page = _page(fig)
    width_px = (fig.get_figwidth() - 2 * _MARGIN_IN) * fig.dpi
    for ncols in range(min(len(handles), 5), 0, -1):
        if page is None:
            fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
                       frameon=False, fontsize=8, handlelength=2.2)  # fmt: skip
            return
        legend = fig.legend(handles=handles, loc="lower center", ncols=ncols, frameon=False,
                            fontsize=8, handlelength=2.2, borderaxespad=0.0)  # fmt: skip
        legend.set_in_layout(False)  # placed by _fit_page, between the map and the sources
        if ncols == 1:
            break
        if legend.get_window_extent(_renderer(fig)).width <= width_px:
            break
        legend.remove()
    _fit_page(fig)


def _share_text(analysis: Analysis, minutes: float, t: Translator) -> str:
    """``"71% of 60,000 residents live within a 15-min walk"`` (in ``t``'s language)."""
    within = analysis.summary.get("within", {}).get(f"{minutes:g}")
    if not within:
        return ""
    total = analysis.summary.get("residents_total")
    share, m = _pct(within["share"]), t.minutes(minutes)
    if total:
        return t("map_share_pop", share=share, total=t.integer(total), m=m)
    return t("map_share_area", share=share, m=m)


def _speed_text(analysis: Analysis, t: Translator) -> str:
    return t("map_speed", speed=t.minutes(analysis.walk.speed_kmh))


def _pct(share: float) -> str:
    """A share as a whole percentage, rounded down (49.96 % is not yet 50 %)."""
    if not np.isfinite(share):
        return "n/a"
    return f"{math.floor(share * 100 + 1e-6):.0f}%"


def _sample_analysis() -> Analysis:  # pragma: no cover - used by the doctests only
    import tempfile

    from .. import sample
    from ..pipeline import analyze

    city = sample.write_sample_city(tempfile.mkdtemp(prefix="fifteenmin-doctest-"))
    return analyze(city.network, city.spaces, city.zones, population_column="population")


def street_gap_area(
    analysis: Analysis, zones: gpd.GeoDataFrame, *, distance_m: float = 200.0
) -> shapely.Geometry:
    """The part of the zones farther than ``distance_m`` from any street of the network.

    There the analysis has no streets to place residents on (outside a street extract,
    or a large park or rail yard); maps veil it so zone colours do not speak for it.

    The area is that of the zones minus the streets buffered by ``distance_m`` (four
    segments per quarter circle), simplified by ``distance_m / 20``. Only the streets
    near the edge of that area are buffered, so a city of a million street segments
    takes seconds, not minutes.

    Examples
    --------
    >>> result = _sample_analysis()
    >>> street_gap_area(result, result.zones.to_crs(result.walk.streets.crs)).is_empty
    True
    """
    if len(zones) == 0:
        return shapely.Polygon()
    streets = gpd.GeoSeries(analysis.walk.streets.edge_geometry, crs=analysis.walk.streets.crs)
    lines = streets.to_crs(zones.crs).to_numpy()
    area = zones.union_all()
    far = _far_from_lines(lines, area, distance_m)
    return shapely.simplify(far, distance_m / 20)


_QUAD_SEGS = 4  # segments per quarter circle of the street buffers
_MAX_CELLS = 4_000_000  # grid cells of _far_from_lines (some 100 MB of arrays)


def _far_from_lines(
    lines: np.ndarray, area: shapely.Geometry, distance_m: float
) -> shapely.Geometry:
    """``area`` minus the union of ``lines`` buffered by ``distance_m``, without that union.

    A grid of cells of ``distance_m / 2`` covers ``area``. A cell holding a vertex of a
    line lies inside the buffers, as does one whose centre is nearer to a line than the
    buffers' inner radius less the cell's half-diagonal; one whose centre is farther than
    ``distance_m`` plus the half-diagonal lies outside. Only the cells in between are cut
    by the buffers of the lines near them, so the result equals
    ``area.difference(shapely.buffer(lines, distance_m, quad_segs=4).union_all())``.
    """
    lines = lines[~shapely.is_empty(lines) & ~shapely.is_missing(lines)]
    if len(lines) == 0 or area.is_empty or distance_m <= 0:
        return area
    cell = distance_m / 2
    half = cell * math.sqrt(0.5)
    minx, miny, maxx, maxy = area.bounds
    nx = max(1, math.ceil((maxx - minx) / cell))
    ny = max(1, math.ceil((maxy - miny) / cell))
    if nx * ny > _MAX_CELLS:  # a short distance over a large area: buffer every line
        buffers = shapely.buffer(lines, distance_m, quad_segs=_QUAD_SEGS)
        return area.difference(shapely.union_all(buffers))
    xs = minx + cell * np.arange(nx + 1)
    ys = miny + cell * np.arange(ny + 1)
    inner = distance_m * math.cos(math.pi / (4 * _QUAD_SEGS))  # polygon buffer's inradius
    # a cell holding a vertex is inside (its centre is within ``half`` of the line, and
    # 2 * half < inner); the distance to the lines is measured for the others in ``area``
    vertex = shapely.get_coordinates(lines)
    col = np.floor((vertex[:, 0] - minx) / cell).astype(np.int64)
    row = np.floor((vertex[:, 1] - miny) / cell).astype(np.int64)
    on = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    unsure = np.flatnonzero(np.bincount(row[on] * nx + col[on], minlength=nx * ny) == 0)
    x0, y0 = xs[unsure % nx], ys[unsure // nx]
    shapely.prepare(area)
    unsure = unsure[shapely.intersects(area, shapely.box(x0, y0, x0 + cell, y0 + cell))]
    if len(unsure) == 0:
        return shapely.Polygon()
    tree = shapely.STRtree(lines)
    centres = shapely.points(xs[unsure % nx] + cell / 2, ys[unsure // nx] + cell / 2)
    (index, _), nearest = tree.query_nearest(centres, return_distance=True, all_matches=False)
    dist = np.zeros(nx * ny)  # cells outside the area count as inside the buffers
    dist[unsure[index]] = nearest
    dist = dist.reshape(ny, nx)
    far = dist > distance_m + half
    edge = ~far & (dist > inner - half)
    pieces = list(_row_boxes(far, xs, ys))
    boxes = _row_boxes(edge, xs, ys)
    if len(boxes):
        near = tree.geometries.take(
            np.unique(tree.query(boxes, predicate="dwithin", distance=distance_m)[1])
        )
        cut = shapely.union_all(boxes)
        if len(near):
            buffers = shapely.buffer(near, distance_m, quad_segs=_QUAD_SEGS)
            cut = cut.difference(shapely.union_all(buffers))
        pieces.append(cut)
    if not pieces:
        return shapely.Polygon()
    return shapely.union_all(pieces).intersection(area)


def _row_boxes(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """One box per run of ``True`` cells along each row of ``mask`` (cell edges ``xs, ys``)."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    row, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)  # same row order as the starts
    return shapely.box(xs[start], ys[row], xs[stop], ys[row + 1])


def coverage_map(
    analysis: Analysis,
    *,
    minutes: float | None = None,
    label_zones: bool = True,
    fill_holes_km2: float = 0.05,
    no_street_m: float = 200.0,
    lang: str = "en",
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
    lang
        Language of the texts: ``"en"`` or ``"it"``.

    Examples
    --------
    >>> fig = coverage_map(_sample_analysis())
    >>> fig.get_suptitle()
    'Walking access to the nearest space within 15 minutes'
    """
    t = Translator(lang)
    m = float(minutes if minutes is not None else analysis.parameters["underserved_minutes"])
    mm = t.minutes(m)
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
    status = zone_statuses(zones)
    status_handles = _plot_status(ax, zones, t)
    _plot_streets(ax, analysis, color=STREET_COLOR, linewidth=0.25, alpha=0.6, zorder=2)
    fragment_handle = _plot_fragments(ax, analysis, crs, t)

    cov = analysis.coverage[analysis.coverage["minutes"] == m].to_crs(crs)
    with_data = zones[status != N.NO_DATA]  # no coverage drawn where there is no data
    area = with_data.union_all() if len(zones) else None
    shapes = []
    for geom in cov.geometry:
        shape = fill_small_holes(geom, fill_holes_km2 * 1e6)
        shapes.append(shape.intersection(area) if area is not None else shape)
    shape = gpd.GeoSeries(_simplify_dense(shapes, bounds), crs=crs)
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

    # zones without street data are hatched as such, not veiled
    gap = street_gap_area(analysis, zones[status != N.NO_DATA], distance_m=no_street_m)
    if not gap.is_empty:
        gpd.GeoSeries([gap], crs=crs).plot(
            ax=ax, facecolor=GAP_COLOR, edgecolor="none", alpha=GAP_ALPHA, zorder=4.5
        )
    counted = int(np.isin(status, N.COUNTED).sum())
    under = zones[underserved_mask(zones)]
    if len(under):
        under.boundary.plot(ax=ax, color=UNDERSERVED_COLOR, linewidth=2.0, zorder=5)
    space_handle = _plot_spaces(ax, analysis, crs, t)
    _extent(ax, bounds)
    hexagons = hexagon_zones(analysis)
    shown = _label_zones(ax, zones, m, kind, t) if label_zones and not hexagons else len(under)
    numbered = _label_spaces(ax, analysis, crs)

    threshold = float(analysis.parameters["underserved_share"])
    cbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01, aspect=25
    )
    cbar.set_ticks(SHARE_BOUNDS, labels=[f"{b:.0%}" for b in SHARE_BOUNDS])
    cbar.ax.axhline(threshold, color="black", linewidth=2)
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label(t(f"map_cbar_{kind}", m=mm, limit=f"{threshold:.0%}"), fontsize=9)
    handles = [
        space_handle,
        Patch(
            facecolor="none",
            edgecolor=COVERAGE_COLOR,
            hatch="////",
            linewidth=0.8,
            label=t("map_within", m=mm),
        ),
        Patch(
            facecolor="none",
            edgecolor=UNDERSERVED_COLOR,
            linewidth=2.0,
            label=t("map_underserved_zone", n=len(under), total=counted),
        ),
        Line2D([], [], color=STREET_COLOR, linewidth=0.6, label=t("map_street")),
    ]
    if fragment_handle is not None:
        handles.append(fragment_handle)
    if not gap.is_empty:
        handles.append(
            Patch(
                facecolor=GAP_COLOR,
                alpha=GAP_ALPHA,
                edgecolor="#bbbbbb",
                label=t("map_no_street", d=t.minutes(no_street_m)),
            )
        )
    if (zones[column].isna().to_numpy() & (status != N.NO_DATA)).any():
        handles.append(Patch(facecolor=NO_DATA_COLOR, label=t("map_no_data")))
    handles += status_handles
    _legend(fig, handles)
    parts = (
        _share_text(analysis, m, t),
        t("map_underserved_count", n=len(under), total=counted),
        t("map_left_out", n=len(zones) - counted) if counted < len(zones) else "",
        _speed_text(analysis, t),
        t("map_labels_shown", n=shown) if shown < len(under) else "",
        t("map_hex_unlabelled") if hexagons and label_zones and len(under) else "",
    )
    service = _service(analysis)
    title = t("map_cov_title_svc", service=service, m=mm) if service else t("map_cov_title", m=mm)
    _titles(fig, ax, title, parts, kicker=analysis.title)
    _furniture(ax, analysis, t, numbered=numbered)
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


def _label_zones(
    ax: Axes, zones: gpd.GeoDataFrame, minutes: float, kind: str, t: Translator
) -> int:
    """Label underserved zones (name, share, residents without access); name the others.

    Labels that would overlap one already placed are left out: underserved zones go
    first, those with most residents without access (most area, without population)
    first. Returns the number of underserved zones labelled.
    """
    show_all = _with_data(zones) <= MAX_LABELLED_ZONES
    share = zones[N.share(kind, minutes)].to_numpy(dtype=float)
    under = underserved_mask(zones)
    if kind == "pop":
        without = zones[N.POPULATION].to_numpy(dtype=float) - zones[N.residents(minutes)].to_numpy(
            dtype=float
        )
    else:
        without = (1 - np.nan_to_num(share)) * zones.area.to_numpy()
    order = np.lexsort((-np.nan_to_num(without), ~under))  # underserved first, then most
    points = _zone_label_points(ax, zones)
    per_pt = _per_pt(ax)  # label sizes in map units
    placed = _placed(ax)
    shown = 0
    for i in order:
        point = points[i]
        if point is None or not (under[i] or show_all):
            continue
        name = str(zones[N.ZONE_NAME].iloc[i])
        if under[i]:
            lines = [name, t("map_label_share", share=_pct(share[i]), m=t.minutes(minutes))]
            if kind == "pop":
                lines.append(t("map_label_without", n=t.integer(without[i])))
            style: dict[str, Any] = {
                "fontsize": 7.5,
                "fontweight": "bold",
                "color": UNDERSERVED_COLOR,
                "zorder": 15,
            }
        else:
            lines = [name]
            style = {"fontsize": 6.5, "color": "#333333", "zorder": 14}
        half_w = 0.5 * 0.62 * style["fontsize"] * max(len(line) for line in lines) * per_pt
        half_h = 0.5 * 1.25 * style["fontsize"] * len(lines) * per_pt
        extent = (point.x - half_w, point.y - half_h, point.x + half_w, point.y + half_h)
        if any(
            extent[0] < b[2] and b[0] < extent[2] and extent[1] < b[3] and b[1] < extent[3]
            for b in placed
        ):
            continue
        placed.append(extent)
        shown += int(under[i])
        ax.text(
            point.x,
            point.y,
            "\n".join(lines),
            ha="center",
            va="center",
            path_effects=_HALO,
            **style,
        )
    return shown


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
    """Each zone's name at a point inside it, where it does not cover another label."""
    if _with_data(zones) > MAX_LABELLED_ZONES:
        return
    per_pt, placed = _per_pt(ax), _placed(ax)
    for name, point in zip(zones[N.ZONE_NAME], _zone_label_points(ax, zones), strict=True):
        if point is not None:
            half_w = 0.5 * 0.62 * 6.5 * len(str(name)) * per_pt
            half_h = 0.5 * 1.25 * 6.5 * per_pt
            box = (point.x - half_w, point.y - half_h, point.x + half_w, point.y + half_h)
            if _overlaps(box, placed):
                continue
            placed.append(box)
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
    lang: str = "en",
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
    lang
        Language of the texts: ``"en"`` or ``"it"``.

    Examples
    --------
    >>> fig = walk_time_map(_sample_analysis())
    >>> fig.axes[1].get_ylabel()
    'walking time to the nearest space (min)'
    """
    t = Translator(lang)
    mark = float(
        mark_minutes if mark_minutes is not None else analysis.parameters["underserved_minutes"]
    )
    top = float(max_minutes if max_minutes is not None else 2 * mark)
    cmap, norm = walk_time_colormap(top, mark)
    mmark = t.minutes(mark)
    crs = analysis.walk.streets.crs
    zones = analysis.zones.to_crs(crs)
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds)

    zones.plot(ax=ax, facecolor=ZONE_FILL, edgecolor=ZONE_EDGE, linewidth=0.6, zorder=1)
    status_handles = _plot_status(ax, zones, t)
    fragment_handle = _plot_fragments(ax, analysis, crs, t)
    geoms, minutes = segment_walk_minutes(analysis)
    reached = np.isfinite(minutes)
    _add_lines(
        ax,
        geoms[reached],
        values=minutes[reached],
        cmap=cmap,
        norm=norm,
        linewidth=1.1,
        capstyle="round",
        zorder=3,
    )
    if (~reached).any():
        _add_lines(
            ax,
            geoms[~reached],
            color=UNREACHED_COLOR,
            linewidth=0.7,
            linestyle=(0, (1.5, 1.5)),
            zorder=2,
        )
    space_handle = _plot_spaces(ax, analysis, crs, t)
    _extent(ax, bounds)
    if not hexagon_zones(analysis):
        _name_zones(ax, zones)
    numbered = _label_spaces(ax, analysis, crs)

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
    cbar.set_label(t("map_walk_cbar"), fontsize=9)

    handles = [
        space_handle,
        Line2D([], [], color=cmap(norm(mark / 2)), linewidth=2, label=t("map_walk_le", m=mmark)),
        Line2D(
            [],
            [],
            color=cmap(norm((mark + top) / 2)),
            linewidth=2,
            label=t("map_walk_gt", m=mmark),
        ),
        Patch(facecolor=ZONE_FILL, edgecolor=ZONE_EDGE, label=t("map_zone")),
    ]
    if (~reached).any():  # the legend names only what the map shows
        handles.insert(
            3,
            Line2D(
                [],
                [],
                color=UNREACHED_COLOR,
                linewidth=1,
                linestyle=(0, (1.5, 1.5)),
                label=t("map_unreached"),
            ),
        )
    if fragment_handle is not None:
        handles.insert(-1, fragment_handle)
    handles += status_handles
    _legend(fig, handles)
    nodes = analysis.walk.node_times()["walk_time_s"].dropna()
    half = f"{nodes.median() / 60:.0f}" if len(nodes) else ""
    parts = (
        _share_text(analysis, mark, t),
        t("map_half_nodes", m=half) if len(nodes) else "",
        _speed_text(analysis, t),
    )
    service = _service(analysis)
    title = t("map_walk_title_svc", service=service) if service else t("map_walk_title")
    _titles(fig, ax, title, parts, kicker=analysis.title)
    _furniture(ax, analysis, t, numbered=numbered)
    return fig


def isochrone_map(
    analysis: Analysis,
    *,
    space_id: str | None = None,
    fill_holes_km2: float = 0.05,
    lang: str = "en",
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
    lang
        Language of the texts: ``"en"`` or ``"it"``.

    Examples
    --------
    >>> fig = isochrone_map(_sample_analysis(), space_id="S01")
    >>> fig.get_suptitle()
    'Walking isochrones of space S01'
    """
    t = Translator(lang)
    crs = analysis.walk.streets.crs
    if space_id is None:
        bands = analysis.coverage.to_crs(crs)
        title = t("map_bands_title_all")
    else:
        bands = analysis.isochrones[analysis.isochrones["space_id"] == str(space_id)].to_crs(crs)
        if bands.empty:
            known = ", ".join(analysis.isochrones["space_id"].astype(str).unique()[:10])
            raise ValueError(f"no isochrones for space {space_id!r}; spaces include {known}")
        title = t("map_bands_title_one", id=space_id)
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
        gpd.GeoSeries(_simplify_dense(shape, bounds), crs=crs).plot(
            ax=ax, facecolor=color, edgecolor="white", linewidth=0.4, alpha=0.85, zorder=2
        )
        handles.insert(0, Patch(facecolor=color, alpha=0.85, label=t("map_band", m=t.minutes(m))))
    _plot_streets(ax, analysis, color=STREET_COLOR, linewidth=0.25, alpha=0.5, zorder=3)
    handles.insert(0, _plot_spaces(ax, analysis, crs, t))
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
                label=t("map_space", id=space_id),
            ),
        )
    _extent(ax, bounds)
    if not hexagon_zones(analysis):
        _name_zones(ax, zones)
    numbered = _label_spaces(ax, analysis, crs)
    _legend(fig, handles)
    _titles(fig, ax, title, (t("map_bands", speed=_speed_text(analysis, t)),),
            kicker=analysis.title)  # fmt: skip
    _furniture(ax, analysis, t, numbered=numbered)
    return fig


def save_figure(
    fig: Figure,
    path: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    dpi: int = DPI,
) -> list[Path]:
    """Save ``fig`` once per format next to ``path`` (its suffix is replaced).

    Returns the written paths. SVG and PDF carry no creation date, so reruns give the
    same files. The layout is that of the first format for all of them, so a dense street
    layer, drawn as an image, is drawn once (see :func:`_add_lines`).
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lstrip(".").lower() in FORMATS else path
    title = fig.get_suptitle() or stem.name
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    engine = fig.get_layout_engine()
    try:
        for fmt in formats:
            target = stem.parent / f"{stem.name}.{fmt}"
            metadata: dict[str, Any] = {"Title": title}
            if fmt == "svg":
                metadata["Date"] = None
            elif fmt == "pdf":
                metadata.update(CreationDate=None, ModDate=None)
            # a fixed salt for the SVG element ids (random by default): same map, same file
            with rc_context({"svg.hashsalt": "fifteenmin"}):
                fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata)
            written.append(target)
            fig.set_layout_engine("none")  # laid out now: keep it
    finally:
        fig.set_layout_engine(engine)
    return written


GAIN_COLOR, LOSS_COLOR = "#1a9850", "#b2182b"  # spaces added / removed; zones served / not


def change_map(comparison: Comparison, *, minutes: float | None = None, lang: str = "en") -> Figure:
    """Gains and losses between two scenarios: zones classed by the change in the share of
    their residents within ``minutes`` (default the underserved walk), zones newly served
    and newly underserved outlined, spaces added and removed marked.

    Examples
    --------
    >>> from fifteenmin.scenarios import compare
    >>> a = _sample_analysis()
    >>> fig = change_map(compare(a, a.scenarios.figures(remove=["S01"])))
    >>> fig.get_suptitle()
    'Change in residents within a 15-min walk'
    """
    from matplotlib.colors import TwoSlopeNorm

    t = Translator(lang)
    m = float(minutes if minutes is not None else comparison.parameters["underserved_minutes"])
    mm = t.minutes(m)
    zones = comparison.zones
    crs = zones.crs
    share = N.share("pop", m)
    change = 100 * (zones[f"{share}_after"] - zones[f"{share}_before"])
    status = zone_statuses(zones)
    spaces = comparison.after.spaces.to_crs(crs)
    changed = comparison.spaces.to_crs(crs)
    frame = zones[status != N.NO_DATA] if (status != N.NO_DATA).any() else zones
    lo = (
        np.fmin(frame.total_bounds[:2], spaces.total_bounds[:2])
        if len(spaces)
        else frame.total_bounds[:2]
    )
    hi = (
        np.fmax(frame.total_bounds[2:], spaces.total_bounds[2:])
        if len(spaces)
        else frame.total_bounds[2:]
    )
    if len(changed):
        lo = np.fmin(lo, changed.total_bounds[:2])
        hi = np.fmax(hi, changed.total_bounds[2:])
    bounds = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    fig, ax = _figure(bounds)
    top = float(np.nanmax(np.abs(change.to_numpy()), initial=0.0))
    top = max(top, 1.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-top, vmax=top)
    cmap = colormaps["RdBu"].with_extremes(bad=NO_DATA_COLOR)
    zones.assign(_change=change).plot(
        ax=ax,
        column="_change",
        cmap=cmap,
        norm=norm,
        edgecolor="white",
        linewidth=0.8,
        missing_kwds={"color": NO_DATA_COLOR, "edgecolor": "white", "linewidth": 0.8},
        zorder=1,
    )
    served = zones[zones[N.NEWLY_SERVED].to_numpy(bool)]
    worse = zones[zones[N.NEWLY_UNDERSERVED].to_numpy(bool)]
    if len(served):
        served.boundary.plot(ax=ax, color=GAIN_COLOR, linewidth=2.2, zorder=5)
    if len(worse):
        worse.boundary.plot(ax=ax, color=LOSS_COLOR, linewidth=2.2, linestyle="--", zorder=5)
    added = changed[changed["change"] == "added"]
    removed = changed[changed["change"] == "removed"]
    kept_ids = set(spaces["space_id"].astype(str)) - set(added["space_id"].astype(str))
    kept = spaces[spaces["space_id"].astype(str).isin(kept_ids)]
    ax.scatter(kept.geometry.x, kept.geometry.y, s=30, facecolor=SPACE_FACE,
               edgecolor=SPACE_EDGE, linewidth=1.0, zorder=10)  # fmt: skip
    ax.scatter(added.geometry.x, added.geometry.y, s=90, marker="P", facecolor=GAIN_COLOR,
               edgecolor="white", linewidth=0.8, zorder=11)  # fmt: skip
    ax.scatter(removed.geometry.x, removed.geometry.y, s=80, marker="X", facecolor=LOSS_COLOR,
               edgecolor="white", linewidth=0.8, zorder=11)  # fmt: skip
    _extent(ax, bounds)
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01,
                        aspect=25)  # fmt: skip
    cbar.ax.tick_params(labelsize=8)
    cbar.set_label(t("cmp_map_cbar", m=mm), fontsize=9)
    handles = [
        Line2D([], [], marker="o", markerfacecolor=SPACE_FACE, markeredgecolor=SPACE_EDGE,
               linestyle="none", markersize=6, label=t("cmp_kept", n=t.integer(len(kept)))),
        Line2D([], [], marker="P", markerfacecolor=GAIN_COLOR, markeredgecolor="white",
               linestyle="none", markersize=8, label=t("cmp_added", n=t.integer(len(added)))),
        Line2D([], [], marker="X", markerfacecolor=LOSS_COLOR, markeredgecolor="white",
               linestyle="none", markersize=8,
               label=t("cmp_removed", n=t.integer(len(removed)))),
        Patch(facecolor="none", edgecolor=GAIN_COLOR, linewidth=2.2,
              label=t("cmp_newly_served", n=len(served))),
        Patch(facecolor="none", edgecolor=LOSS_COLOR, linewidth=2.2, linestyle="--",
              label=t("cmp_newly_underserved", n=len(worse))),
    ]  # fmt: skip
    if (status == N.NO_DATA).any():
        handles.append(Patch(facecolor=NO_DATA_COLOR, label=t("cmp_no_data")))
    _legend(fig, handles)
    w = comparison.within.get(f"{m:g}", {})
    parts = [
        f"{_pct(w.get('share_before', np.nan))} → {_pct(w.get('share_after', np.nan))}",
        t("map_speed", speed=t.minutes(comparison.parameters["speed_kmh"])),
    ]
    _titles(fig, ax, t("cmp_map_title", m=mm), parts)
    synthetic = comparison.after.network.get("synthetic") or comparison.before.network.get(
        "synthetic"
    )
    add_map_furniture(ax, lines=[t("attr_synthetic" if synthetic else "attr_osm")])
    return fig


def _label_values(ax: Axes, zones: gpd.GeoDataFrame, texts: Sequence[str | None]) -> None:
    """A short label per zone (name and value) where it does not overlap another."""
    if _with_data(zones) > MAX_LABELLED_ZONES:
        return
    points = _zone_label_points(ax, zones)
    per_pt = _per_pt(ax)
    placed = _placed(ax)
    for point, name, text in zip(points, zones[N.ZONE_NAME].astype(str), texts, strict=True):
        if point is None or text is None:
            continue
        lines = [name, text]
        half_w = 0.5 * 0.62 * 7 * max(len(s) for s in lines) * per_pt
        half_h = 0.5 * 1.25 * 7 * 2 * per_pt
        box = (point.x - half_w, point.y - half_h, point.x + half_w, point.y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        ax.text(point.x, point.y, "\n".join(lines), ha="center", va="center", fontsize=7,
                color="#222222", zorder=15, path_effects=_HALO)  # fmt: skip


def _classed_zones(
    ax: Axes,
    analysis: Analysis,
    zones: gpd.GeoDataFrame,
    column: str,
    cmap: Any,
    norm: Any,
    t: Translator,
    bounds: Sequence[float],
) -> tuple[list[Any], Any]:
    """Zones (in the streets' CRS) classed by ``column``, their statuses, the streets and
    the spaces, framed to ``bounds``; the legend handles of the statuses and the spaces."""
    zones.plot(ax=ax, column=column, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.8,
               missing_kwds={"color": NO_DATA_COLOR, "edgecolor": "white"}, zorder=1)  # fmt: skip
    handles = _plot_status(ax, zones, t)
    _plot_streets(ax, analysis, color=STREET_COLOR, linewidth=0.25, alpha=0.5, zorder=2)
    space_handle = _plot_spaces(ax, analysis, zones.crs, t)
    _extent(ax, bounds)
    return handles, space_handle


def categories_map(analysis: Analysis, *, lang: str = "en") -> Figure:
    """Zones classed by the number of service categories within the walk (mean per
    resident), with the zones' statuses; needs ``analyze(categories=...)``.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones,
    ...                     population_column="population", categories="default")
    >>> categories_map(result).get_suptitle()
    'Daily services within a 15-minute walk'
    """
    figures = analysis.categories
    if figures is None:
        raise ValueError("the analysis has no categories: run analyze(categories=...)")
    t = Translator(lang)
    m = figures.minutes
    mm = t.minutes(m)
    crs = analysis.walk.streets.crs
    zones = analysis.zones.to_crs(crs)
    k = len(figures.times.names)
    found = k - len(figures.absent)  # the count is over the categories with places
    column = f"categories_{N.minutes_label(m)}"
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds)
    bins = np.arange(0, found + 2) - 0.5
    cmap = colormaps["YlGnBu"].resampled(found + 1).with_extremes(bad=NO_DATA_COLOR)
    norm = BoundaryNorm(bins, cmap.N)
    handles, space_handle = _classed_zones(ax, analysis, zones, column, cmap, norm, t, bounds)
    values = zones[column].to_numpy(dtype=float)
    if not hexagon_zones(analysis):
        texts = [None if np.isnan(v) else t.num(v, 1) + f" / {found}" for v in values]
        _label_values(ax, zones, texts)
    numbered = _label_spaces(ax, analysis, crs)
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01,
                        aspect=25)  # fmt: skip
    cbar.set_ticks(list(range(found + 1)))
    cbar.ax.tick_params(labelsize=8)
    cbar_text = (
        t("cat_map_cbar_found", m=mm, k=found) if figures.absent else t("cat_map_cbar", m=mm, k=k)
    )
    cbar.set_label(cbar_text, fontsize=9)
    _legend(fig, [space_handle, *handles])
    if figures.absent:  # "all of them" cannot be assessed: say so, never 0%
        absent = ", ".join(figures.label(n, lang) for n in figures.absent)
        everything_text = t("cat_map_all_na", k=k, absent=absent)
    else:
        everything = figures.citywide.set_index("category").loc["all", "share"]
        everything_text = t("cat_map_all", share=_pct(everything), k=k, m=mm)
    parts = [everything_text, _speed_text(analysis, t)]
    _titles(fig, ax, t("cat_map_title", m=mm), parts, kicker=analysis.title)
    _furniture(ax, analysis, t, numbered=numbered)
    return fig


def missing_piece_map(analysis: Analysis, *, lang: str = "en") -> Figure:
    """Zones classed by the share of residents with every other category within the walk
    but not the missing one (work): where a new space completes the 15-minute city."""
    figures = analysis.categories
    if figures is None or figures.missing is None:
        raise ValueError("the analysis has no missing category: run analyze(categories=...)")
    if "missing" in figures.not_assessed:
        raise ValueError(f"the missing piece is not assessed: {figures.not_assessed['missing']}")
    t = Translator(lang)
    m = figures.minutes
    mm = t.minutes(m)
    crs = analysis.walk.streets.crs
    zones = analysis.zones.to_crs(crs)
    label = N.minutes_label(m)
    share = f"share_missing_{figures.missing}_{label}"
    bounds = _map_bounds(analysis, zones)
    fig, ax = _figure(bounds)
    bounds_share = (0.0, 0.05, 0.15, 0.3, 0.5, 1.0)
    cmap = ListedColormap(["#f7f7f7", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]).with_extremes(
        bad=NO_DATA_COLOR
    )
    norm = BoundaryNorm(bounds_share, cmap.N)
    handles, space_handle = _classed_zones(ax, analysis, zones, share, cmap, norm, t, bounds)
    values = zones[share].to_numpy(dtype=float)
    if not hexagon_zones(analysis):
        _label_values(ax, zones, [None if not v > 0 else _pct(v) for v in values])
    numbered = _label_spaces(ax, analysis, crs)
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6, pad=0.01,
                        aspect=25)  # fmt: skip
    cbar.set_ticks(bounds_share, labels=[f"{b:.0%}" for b in bounds_share])
    cbar.ax.tick_params(labelsize=8)
    what = figures.labels.get(figures.missing, {}).get(lang, figures.missing)
    cbar.set_label(t("miss_map_cbar", m=mm, what=what), fontsize=9)
    _legend(fig, [space_handle, *handles])
    total = analysis.summary.get("categories", {}).get("missing_piece", {}).get("residents")
    parts = [t("miss_map_total", n=t.integer(total), what=what) if total else "",
             _speed_text(analysis, t)]  # fmt: skip
    _titles(fig, ax, t("miss_map_title", what=what, m=mm), parts, kicker=analysis.title)
    _furniture(ax, analysis, t, numbered=numbered)
    return fig
