"""The report: one self-contained HTML file (and its PDF) with figures, map, tables and method."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .. import _names as N
from .._credits import attribution_lines
from ..errors import FifteenMinError, InputError
from ._i18n import MESSAGES, Translator
from .maps import hexagon_zones, space_numbers, underserved_mask, zone_statuses

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..pipeline import Analysis
    from ..scenarios import Comparison

logger = logging.getLogger(__name__)

PARENT_COLUMNS = (
    "municipio",
    "municipality",
    "circoscrizione",
    "district",
    "distretto",
    "borough",
    "parent",
    "parent_id",
    "parent_zone",
)
"""Zone columns taken as the parent zone (first match, case-insensitive) for the report."""

DEFAULT_CURVE_MINUTES = np.arange(0, 30.5, 0.5)
"""Walking times of the cumulative curve: 0 to 30 minutes every half minute."""

FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", '
    '"DejaVu Sans", Arial, sans-serif'
)

_GREEN, _BLUE, _RED, _GREY = "#1a7f37", "#1f4e9c", "#7a0019", "#5c6770"

INPUT_ROLES = ("network", "spaces", "zones", "population", "boundary")
"""Input files in the order the report lists them (others follow)."""


# --------------------------------------------------------------------------- figures


def cumulative_share(
    analysis: Analysis, minutes: Sequence[float] | np.ndarray = DEFAULT_CURVE_MINUTES
) -> pd.DataFrame:
    """Share of residents (or of street length) within each walking time of the nearest space.

    Residents are spread evenly over the walkable street length inside their zone, as in
    :func:`~fifteenmin.zones.zone_coverage`, and the street length within each walk is
    exact (partial segments included), so the curve passes through the headline figures
    at the analysis' thresholds. Only the zones counted in the headline figures (status
    ``ok`` or ``partial_data``) take part. A zone with residents but no street inside counts
    with its share of area at the largest threshold not above each time (0 below the
    first). Without population the share is of the walkable street length inside them.

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    minutes
        Walking times, in minutes.

    Returns
    -------
    pandas.DataFrame
        ``minutes``, ``share`` (0 to 1) and ``residents`` (NaN without population).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> curve = cumulative_share(result, minutes=[0, 15, 60])
    >>> bool(curve["share"].is_monotonic_increasing)
    True
    >>> bool(abs(curve["share"][1] - result.summary["within"]["15"]["share"]) < 1e-9)
    True
    """
    walk = analysis.walk
    zones = analysis.zones.to_crs(walk.streets.crs)
    nz = len(zones)
    times = np.asarray(minutes, dtype=float)
    pieces = analysis.street_pieces
    counted = np.isin(zone_statuses(zones), N.COUNTED)
    length = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=nz)
    total = np.where(counted, length, 0.0)
    has_pop = analysis.has_population
    pop = np.where(counted, zones[N.POPULATION].fillna(0).to_numpy(dtype=float), 0.0)
    thresholds = sorted(float(m) for m in analysis.parameters["minutes"])
    area_share = np.nan_to_num(
        zones[[N.share("area", m) for m in thresholds]].to_numpy(dtype=float)
    )
    shares, residents = [], []
    for t in times:
        covered = np.bincount(
            pieces.zone, weights=pieces.covered_m(walk.minutes_to_m(t)), minlength=nz
        )
        covered = np.where(counted, covered, 0.0)
        if has_pop:
            k = int(np.searchsorted(thresholds, t, side="right")) - 1
            fallback = area_share[:, k] if k >= 0 else np.zeros(nz)
            street = np.divide(covered, total, out=np.zeros(nz), where=total > 0)
            zone_share = np.clip(np.where(total > 0, street, fallback), 0, 1)
            within = float((pop * zone_share).sum())
            residents.append(within)
            shares.append(within / pop.sum() if pop.sum() > 0 else np.nan)
        else:
            residents.append(np.nan)
            shares.append(float(covered.sum() / total.sum()) if total.sum() > 0 else np.nan)
    return pd.DataFrame({"minutes": times, "share": shares, "residents": residents})


def find_parent_column(zones: pd.DataFrame, parent_column: str | None = None) -> str | None:
    """The column of ``zones`` naming each zone's parent (municipio, district...), if any.

    Parameters
    ----------
    zones
        The zones table.
    parent_column
        A column to use; by default the first of :data:`PARENT_COLUMNS` (any case) that
        is not the zone id or name and groups the zones (fewer values than zones).

    Examples
    --------
    >>> import pandas as pd
    >>> find_parent_column(pd.DataFrame({"name": ["a", "b"], "Municipio": [1, 1]}))
    'Municipio'
    """
    if parent_column is not None:
        if parent_column not in zones.columns:
            columns = ", ".join(str(c) for c in zones.columns if c != "geometry")
            raise InputError(
                f"no zone column {parent_column!r} for the parent zone; columns are {columns}"
            )
        return parent_column
    lower = {str(c).lower(): c for c in zones.columns if c not in (N.ZONE_ID, N.ZONE_NAME)}
    for name in PARENT_COLUMNS:
        col = lower.get(name)
        if col is not None and 0 < zones[col].nunique() < len(zones):
            return str(col)
    return None


def by_parent(analysis: Analysis, column: str) -> pd.DataFrame:
    """Residents and coverage aggregated per parent zone.

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    column
        Zone column naming the parent (see :func:`find_parent_column`).

    Returns
    -------
    pandas.DataFrame
        One row per parent, in natural order: ``parent``, ``zones``, ``area_in_study_km2``,
        ``underserved``, ``left_out`` (zones not counted in the headline figures: no street
        data or sparse streets), ``residents`` (all zones) and ``residents_counted``, per
        threshold ``pop_<m>min`` and ``share_pop_<m>min`` (with population) or the
        area-weighted ``share_area_<m>min``, and ``without_access`` (residents beyond the
        underserved walk). Shares are over the counted zones (NaN for a parent with none).
    """
    zones = pd.DataFrame(analysis.zones.drop(columns="geometry"))
    minutes = [float(m) for m in analysis.parameters["minutes"]]
    m_u = float(analysis.parameters["underserved_minutes"])
    counted = pd.Series(np.isin(zone_statuses(zones), N.COUNTED), index=zones.index)
    zones["_parent"] = zones[column].map(_label)
    grouped = zones.groupby("_parent", sort=False)
    parent = zones["_parent"]
    area = zones[N.AREA_KM2].where(counted, 0.0)
    out = pd.DataFrame(
        {
            "zones": grouped.size(),
            N.AREA_KM2: grouped[N.AREA_KM2].sum(),
            N.UNDERSERVED: pd.Series(underserved_mask(zones), index=zones.index)
            .groupby(parent, sort=False)
            .sum()
            .astype(int),
            "left_out": (~counted).groupby(parent, sort=False).sum().astype(int),
        }
    )
    if analysis.has_population:
        out[N.POPULATION] = grouped[N.POPULATION].sum()
        out["residents_counted"] = zones[N.POPULATION].where(counted, 0.0).groupby(parent).sum()
        for m in minutes:
            out[N.residents(m)] = zones[N.residents(m)].where(counted, 0.0).groupby(parent).sum()
            out[N.share("pop", m)] = np.divide(
                out[N.residents(m)],
                out["residents_counted"],
                where=out["residents_counted"] > 0,
                out=np.full(len(out), np.nan),
            )
        without = out["residents_counted"] - out[N.residents(m_u)]
        out["without_access"] = without.where(out["zones"] > out["left_out"])
    else:
        counted_area = area.groupby(parent).sum().reindex(out.index).to_numpy()
        for m in minutes:
            weighted = (zones[N.share("area", m)].fillna(0.0) * area).groupby(parent).sum()
            out[N.share("area", m)] = np.divide(
                weighted.reindex(out.index).to_numpy(),
                counted_area,
                where=counted_area > 0,
                out=np.full(len(out), np.nan),
            )
    out = out.reset_index(names="parent")
    return out.iloc[_natural_order(out["parent"])].reset_index(drop=True)


def _natural_order(values: pd.Series) -> np.ndarray:
    """Order labels numerically when they are numbers, else alphabetically."""
    numbers = pd.to_numeric(values, errors="coerce")
    keys = [
        (0, float(n), "") if pd.notna(n) else (1, 0.0, str(v).lower())
        for v, n in zip(values, numbers, strict=True)
    ]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=int)


def _label(value: Any) -> str:
    """A parent value as text: ``1.0`` -> ``"1"``, missing -> ``"–"``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------- HTML pieces


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num_attr(value: float | None) -> str:
    """The exact value for a ``data-value`` attribute (what tests compare with summary.json)."""
    return "" if value is None else repr(float(value))


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    table_class: str,
    row_attrs: Sequence[str] | None = None,
    numeric: Sequence[bool] | None = None,
    footer: Sequence[str] | None = None,
) -> str:
    """An HTML table; cells are HTML already escaped by the caller."""
    numeric = numeric or [False] * len(headers)
    row_attrs = row_attrs or [""] * len(rows)

    def cells(values: Sequence[str], tag: str) -> str:
        num_class = ' class="num"'
        return "".join(
            f"<{tag}{num_class if num else ''}>{v}</{tag}>"
            for v, num in zip(values, numeric, strict=True)
        )

    head = f"<thead><tr>{cells([_e(h) for h in headers], 'th')}</tr></thead>"
    body = "".join(
        f"<tr{(' ' + a) if a else ''}>{cells(r, 'td')}</tr>"
        for r, a in zip(rows, row_attrs, strict=True)
    )
    foot = f"<tfoot><tr>{cells(footer, 'td')}</tr></tfoot>" if footer else ""
    lines = _printed_lines([headers, *rows, *([footer] if footer else [])])
    table = f'<table class="{table_class}">{head}<tbody>{body}</tbody>{foot}</table>'
    if lines <= SHORT_TABLE_LINES:  # printed whole on one page
        return f'<div class="keep">{table}</div>'
    return table


SHORT_TABLE_LINES = 30
"""Tables of about this many printed lines or fewer are printed whole on one page (in a
``div.keep``, with what leads to them); longer ones break between rows, never before their
last two rows."""
_PRINT_LINE_CHARS = 150  # characters on a printed line across the page's width
_TAG = re.compile(r"<[^>]*>")


def _printed_lines(rows: Sequence[Sequence[str]]) -> int:
    """About how many lines ``rows`` (HTML cells) take when printed: per row, its cell
    that wraps the most in an equal share of the line."""
    if not rows:
        return 0
    width = max(4, _PRINT_LINE_CHARS // max(len(rows[0]), 1))
    total = 0
    for row in rows:
        lengths = [len(html.unescape(_TAG.sub("", str(cell)))) for cell in row]
        total += max((-(-n // width) for n in lengths), default=1) or 1
    return total


def _figure(value_id: str, value: float | None, text: str, label: str, detail: str = "") -> str:
    detail_html = f'<div class="detail">{detail}</div>' if detail else ""
    return (
        '<div class="figure">'
        f'<div class="label">{_e(label)}</div>'
        f'<div class="value" id="{_e(value_id)}" data-value="{_num_attr(value)}">{_e(text)}</div>'
        f"{detail_html}</div>"
    )


def _t_html(t: Translator, key: str, **values: str) -> str:
    """Text ``key``, HTML-escaped, with ``values`` (HTML already) filled in."""
    marks = {k: f"\x00{i}\x00" for i, k in enumerate(values)}
    text = _e(t(key, **marks))
    for k, mark in marks.items():
        text = text.replace(mark, values[k])
    return text


def _span(value_id: str, value: float | None, text: str) -> str:
    return f'<span id="{_e(value_id)}" data-value="{_num_attr(value)}">{_e(text)}</span>'


def status_counts(analysis: Analysis) -> dict[str, dict[str, float | None]]:
    """Zones and residents (None without population) per status, as in ``summary.json``.

    Taken from ``summary["data_quality"]["zones_by_status"]`` when the run recorded it,
    else counted from the zones (all ``ok`` when they carry no status).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> status_counts(result)["no_data"]["zones"]
    0
    """
    recorded = (analysis.summary.get("data_quality") or {}).get("zones_by_status") or {}
    status = zone_statuses(analysis.zones)
    pop = analysis.has_population
    out: dict[str, dict[str, float | None]] = {}
    for name in N.STATUSES:
        rows = status == name
        entry = dict(recorded.get(name) or {})
        entry.setdefault("zones", int(rows.sum()))
        if "residents" not in entry:
            residents = analysis.zones.loc[rows, N.POPULATION].sum() if pop else None
            entry["residents"] = None if residents is None else float(residents)
        entry["area_km2"] = float(analysis.zones.loc[rows, N.AREA_KM2].sum())
        out[name] = entry
    return out


def _underserved_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """The summary's underserved zones, less any not counted (never underserved)."""
    rows = list(analysis.summary.get("underserved") or [])
    zones = analysis.zones
    if N.STATUS not in zones.columns:
        return rows
    status = dict(zip(zones[N.ZONE_ID].astype(str), zone_statuses(zones), strict=True))
    return [r for r in rows if status.get(str(r["zone_id"]), N.OK) in N.COUNTED]


def _row_residents(row: dict[str, Any]) -> float:
    """Residents of an underserved zone's summary row (``residents`` or ``population``)."""
    value = row.get(N.POPULATION, row.get("population"))
    return float(value) if value is not None else float("nan")


def _left_out_sentences(analysis: Analysis, t: Translator) -> list[str]:
    """One sentence per reason zones were left out (and for partly covered zones)."""
    counts = status_counts(analysis)
    total = t.integer(len(analysis.zones))
    pop = analysis.has_population
    out = []
    for status, key in ((N.NO_DATA, "left_out_no_data"), (N.SPARSE_STREETS, "left_out_sparse")):
        entry = counts[status]
        n = int(entry["zones"] or 0)
        if not n:
            continue
        one = "_one" if n == 1 else ""
        if pop:
            residents = t.integer(entry["residents"])
            out.append(t(f"{key}{one}", n=t.integer(n), total=total, residents=residents))
        else:
            area = t.num(entry["area_km2"], 2)
            out.append(t(f"{key}_area{one}", n=t.integer(n), total=total, area=area))
    partial = int(counts[N.PARTIAL_DATA]["zones"] or 0)
    if partial:
        out.append(t("partial_note_one" if partial == 1 else "partial_note", n=t.integer(partial)))
    return out


def _headline(analysis: Analysis, t: Translator) -> str:
    summary = analysis.summary
    params = analysis.parameters
    has_pop = analysis.has_population
    m_u = float(params["underserved_minutes"])
    parts = []
    for key, entry in summary["within"].items():
        m = t.minutes(float(key))
        if has_pop:
            parts.append(
                _figure(
                    f"h-within-{key}-residents",
                    entry["residents"],
                    t.integer(entry["residents"]),
                    t("within_residents", m=m),
                    _t_html(
                        t,
                        "share_of_residents",
                        share=_span(f"h-within-{key}-share", entry["share"], t.pct(entry["share"])),
                    ),
                )
            )
        else:
            parts.append(
                _figure(
                    f"h-within-{key}-share",
                    entry["share"],
                    t.pct(entry["share"]),
                    t("within_area", m=m),
                    _e(t("share_of_area", share=t.pct(entry["share"]))),
                )
            )
    counts = summary["counts"]
    statuses = status_counts(analysis)
    left_zones = sum(int(statuses[s]["zones"] or 0) for s in N.STATUSES if s not in N.COUNTED)
    left_residents = sum(
        float(statuses[s]["residents"] or 0) for s in N.STATUSES if s not in N.COUNTED
    )
    n_zones = int(counts.get("zones", len(analysis.zones)))
    counted_zones = int(counts.get("zones_counted", n_zones - left_zones))
    rows = _underserved_rows(analysis)
    n_under = int(counts.get("underserved_zones", len(rows)))
    service = str(getattr(analysis, "service_name", "") or "")
    parts.append(
        _figure(
            "h-spaces",
            counts["spaces"],
            t.integer(counts["spaces"]),
            service[:1].upper() + service[1:] if service else t("spaces"),
            _e(t("spaces_detail")),
        )
    )
    parts.append(
        _figure(
            "h-underserved-zones",
            n_under,
            t.integer(n_under),
            t("underserved_zones"),
            _e(
                t("underserved_of_counted", n=t.integer(counted_zones))
                if left_zones
                else t("underserved_of", n=t.integer(n_zones))
            ),
        )
    )
    if has_pop:
        residents = float(sum(_row_residents(r) for r in rows))
        without = float(sum(r["residents_without_access"] for r in rows))
        parts.append(
            _figure(
                "h-underserved-residents",
                residents,
                t.integer(residents),
                t("underserved_residents"),
                _t_html(
                    t,
                    "without_access",
                    n=_span("h-underserved-without", without, t.integer(without)),
                    m=_e(t.minutes(m_u)),
                ),
            )
        )
        total = summary.get("residents_total")
        if left_zones:
            left = t("residents_left_out", n=t.integer(left_residents), k=t.integer(left_zones))
            parts.append(
                _figure(
                    "h-residents-counted",
                    total,
                    t.integer(total),
                    t("residents_counted"),
                    _e(left),
                )
            )
        else:
            parts.append(
                _figure("h-residents-total", total, t.integer(total), t("residents_total"))
            )
    else:
        counted = np.isin(zone_statuses(analysis.zones), N.COUNTED)
        area = float(analysis.zones.loc[counted, N.AREA_KM2].sum())
        label = t("area_counted" if left_zones else "area_total")
        parts.append(_figure("h-area-total", area, t("km2", value=t.num(area, 1)), label))
    warning = ""
    no_data = int(statuses[N.NO_DATA]["zones"] or 0)
    if n_zones and no_data > n_zones / 2:
        text = t(
            "warn_most_no_data",
            n=t.integer(no_data),
            total=t.integer(n_zones),
            share=t.pct(no_data / n_zones, 0),
        )
        warning = f'<p class="warning" id="warn-no-data" role="alert">{_e(text)}</p>'
    sentences = _left_out_sentences(analysis, t)
    left_out = (
        f'<div class="left-out" id="left-out">{"".join(f"<p>{_e(x)}</p>" for x in sentences)}</div>'
        if sentences
        else ""
    )
    return (
        f'<section id="headline"><h2>{_e(t("sec_headline"))}</h2>{warning}'
        f'<div class="figures">{"".join(parts)}</div>{left_out}</section>'
    )


def coverage_map_png(
    analysis: Analysis,
    *,
    figure: Figure | None = None,
    dpi: int = 110,
    from_png: str | Path | None = None,
) -> bytes:
    """The report's map: :func:`~fifteenmin.outputs.maps.coverage_map` as PNG bytes, cropped.

    ``figure`` is that map if already drawn (drawing it takes a while for a large city).
    ``from_png``: the map already saved as PNG at a higher resolution, which is cropped
    and resampled (Lanczos) instead of drawing the figure again.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> coverage_map_png(result).startswith(b"\\x89PNG")
    True
    """
    buf = io.BytesIO()
    if from_png is not None:
        from PIL import Image, ImageChops

        with Image.open(from_png) as source:
            image = source.convert("RGB")
            scale = dpi / source.info.get("dpi", (200, 200))[0]
        box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
        if box is not None:  # as bbox_inches="tight": the drawing plus a margin
            pad = round(0.1 * dpi / scale)
            image = image.crop(
                (
                    max(box[0] - pad, 0),
                    max(box[1] - pad, 0),
                    min(box[2] + pad, image.width),
                    min(box[3] + pad, image.height),
                )
            )
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image.resize(size, Image.Resampling.LANCZOS).save(buf, format="png", dpi=(dpi, dpi))
        return buf.getvalue()
    from .maps import coverage_map

    fig = figure if figure is not None else coverage_map(analysis)
    # the title block, legend and sources stand outside the layout: named to be kept
    extra = [*fig.texts, *fig.legends]
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", bbox_extra_artists=extra)
    return buf.getvalue()


def _map_section(analysis: Analysis, t: Translator, png: bytes) -> str:
    m = t.minutes(float(analysis.parameters["underserved_minutes"]))
    data = base64.b64encode(png).decode("ascii")
    caption = t("map_caption_pop" if analysis.has_population else "map_caption_area", m=m)
    statuses = set(zone_statuses(analysis.zones))
    if N.NO_DATA in statuses:
        caption += " " + t("map_caption_no_data")
    if N.SPARSE_STREETS in statuses:
        caption += " " + t("map_caption_sparse")
    return (
        f'<section id="map"><h2>{_e(t("sec_map"))}</h2><figure>'
        f'<img class="map" alt="{_e(t("map_alt", m=m))}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)} {_e(t('map_interactive'))}</figcaption>"
        "</figure></section>"
    )


def curve_svg(
    curve: pd.DataFrame,
    *,
    thresholds: Sequence[float],
    lang: str = "en",
    population: bool = True,
    width: int = 680,
    height: int = 330,
) -> str:
    """An inline SVG line chart of :func:`cumulative_share`, marking the thresholds.

    Examples
    --------
    >>> import pandas as pd
    >>> svg = curve_svg(pd.DataFrame({"minutes": [0, 15, 30], "share": [0, .5, 1]}),
    ...                 thresholds=[15])
    >>> svg.startswith("<svg") and "50.0%" in svg
    True
    """
    t = Translator(lang)
    left, right, top, bottom = 64, 18, 16, 52
    x_max = float(max(curve["minutes"].max(), 1.0))
    pw, ph = width - left - right, height - top - bottom

    def x(m: float) -> float:
        return left + pw * m / x_max

    def y(s: float) -> float:
        return top + ph * (1 - s)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="curve" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family=\'{_e(FONT_STACK)}\' '
        f'font-size="12"><title>{_e(t("curve_title"))}</title>'
    ]
    step = 5 if x_max <= 40 else 10
    for m in np.arange(0, x_max + 1e-9, step):
        out.append(
            f'<line x1="{x(m):.1f}" y1="{top}" x2="{x(m):.1f}" y2="{top + ph}" '
            'stroke="#e3e6ea" stroke-width="1"/>'
            f'<text x="{x(m):.1f}" y="{top + ph + 16}" text-anchor="middle" fill="#333">'
            f"{_e(t.minutes(m))}</text>"
        )
    for s in np.linspace(0, 1, 6):
        out.append(
            f'<line x1="{left}" y1="{y(s):.1f}" x2="{left + pw}" y2="{y(s):.1f}" '
            'stroke="#e3e6ea" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(s) + 4:.1f}" text-anchor="end" fill="#333">'
            f"{_e(t.pct(s, 0))}</text>"
        )
    out.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#333"/>'
    )
    pts = " ".join(
        f"{x(m):.1f},{y(s):.1f}"
        for m, s in zip(curve["minutes"], curve["share"], strict=True)
        if np.isfinite(s)
    )
    out.append(
        f'<polyline class="curve-line" points="{pts}" fill="none" stroke="{_BLUE}" '
        'stroke-width="2.5" stroke-linejoin="round"/>'
    )
    placed: list[tuple[float, float, float, float]] = []
    for m in thresholds:
        hit = curve.loc[np.isclose(curve["minutes"], m), "share"]
        if hit.empty or not np.isfinite(hit.iloc[0]):
            continue
        s = float(hit.iloc[0])
        label = t.pct(s)
        out.append(
            f'<line x1="{x(m):.1f}" y1="{y(s):.1f}" x2="{x(m):.1f}" y2="{top + ph}" '
            f'stroke="{_BLUE}" stroke-dasharray="3 3"/>'
            f'<circle class="threshold" cx="{x(m):.1f}" cy="{y(s):.1f}" r="4.5" fill="{_BLUE}" '
            'stroke="white" stroke-width="1.5"/>'
        )
        box, anchor, tx, ty = _curve_label_place(x(m), y(s), label, placed, left)
        placed.append(box)
        out.append(
            f'<text class="threshold-label" x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" '
            f'fill="{_BLUE}" font-weight="bold" data-box="{" ".join(f"{v:.1f}" for v in box)}">'
            f"{_e(label)}</text>"
        )
    y_label = t("curve_y_pop" if population else "curve_y_streets")
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 10}" text-anchor="middle" fill="#333">'
        f"{_e(t('curve_x'))}</text>"
        f'<text transform="translate(16 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'fill="#333">{_e(y_label)}</text></svg>'
    )
    return "".join(out)


_CURVE_CHAR_PX = 7.6  # width of a bold character of the curve's 12-pixel labels, at most
_CURVE_TEXT_PX = (10.0, 3.0)  # their height above and below the baseline


def _curve_label_place(
    px: float,
    py: float,
    label: str,
    placed: Sequence[tuple[float, float, float, float]],
    left: float,
) -> tuple[tuple[float, float, float, float], str, float, float]:
    """Where a threshold's label goes: above and left of its point, else below and right.

    The curve rises (a share within a longer walk is never smaller), so it runs below
    and right of any point: a box wholly above and left of the point, or wholly below
    and right of it, never meets the line. The first of those that overlaps no label
    already ``placed`` (nor crosses the y axis or the top) is taken. Returns the box
    (x0, y0, x1, y1), the text anchor and the baseline's point.
    """
    width = _CURVE_CHAR_PX * len(label)
    up, down = _CURVE_TEXT_PX
    options = [
        ((px - 7 - width, py - 7 - up, px - 7, py - 7 + down), "end", px - 7, py - 7),
        ((px + 7, py + 7, px + 7 + width, py + 7 + up + down), "start", px + 7, py + 7 + up),
    ]
    for box, anchor, tx, ty in options:
        clear = (
            box[0] >= left
            and box[1] >= 0
            and not any(
                box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed
            )
        )
        if clear:
            return box, anchor, tx, ty
    return options[0]


def _curve_section(analysis: Analysis, t: Translator) -> str:
    curve = cumulative_share(analysis)
    pop = analysis.has_population
    svg = curve_svg(curve, thresholds=analysis.parameters["minutes"], lang=t.lang, population=pop)
    title = t("sec_curve" if pop else "sec_curve_streets")
    caption = t("curve_caption_pop" if pop else "curve_caption_streets")
    return (
        f'<section id="curve"><h2>{_e(title)}</h2><figure>{svg}'
        f"<figcaption>{_e(caption)}</figcaption></figure></section>"
    )


def _parent_names(column: str | None, t: Translator) -> tuple[str, str]:
    """(lower-case noun, column header) for a parent column."""
    key = str(column).lower()
    if key in ("municipio", "municipality", "circoscrizione"):
        kind = "municipio"
    elif key in ("district", "distretto", "borough"):
        kind = "district"
    else:
        kind = "other"
    return t(f"parent_{kind}"), t(f"col_parent_{kind}")


def _underserved_section(analysis: Analysis, t: Translator, parent: str | None) -> str:
    params = analysis.parameters
    m_u = float(params["underserved_minutes"])
    mm = t.minutes(m_u)
    share = t.pct(params["underserved_share"], 0)
    pop = analysis.has_population
    intro = t("underserved_intro_pop" if pop else "underserved_intro_area", share=share, m=mm)
    rows_in = _underserved_rows(analysis)
    head = f'<section id="underserved"><h2>{_e(t("sec_underserved"))}</h2><p>{_e(intro)}</p>'
    if not rows_in:
        return head + f'<p class="none">{_e(t("none_underserved"))}</p></section>'
    zones = analysis.zones.set_index(N.ZONE_ID, drop=False)
    status = pd.Series(zone_statuses(zones), index=zones.index)
    show_status = bool((status != N.OK).any())
    hexagons = hexagon_zones(analysis)
    if not pop:  # the worst first (with residents: most residents without access first)
        rows_in = sorted(rows_in, key=lambda r: float(r.get("share_area_within") or 0.0))
    total = len(rows_in)
    if hexagons:  # a grid has thousands: the worst
        rows_in = rows_in[:MAX_HEXAGON_ROWS]
    names = dict(zip(analysis.zones[N.ZONE_ID], analysis.zones[N.ZONE_NAME], strict=True))
    if hexagons:  # cells have no names: the street nearest to each centre
        ids = [r["zone_id"] for r in rows_in]
        names.update(zip(ids, nearest_street_names(analysis, ids), strict=True))
    space_names = _space_names(analysis)
    headers = [
        t("col_rank"),
        t("col_zone"),
        t("col_near_street") if hexagons else t("col_name"),
    ]
    numeric = [True, False, False]
    if parent:
        headers.append(_parent_names(parent, t)[1])
        numeric.append(False)
    if show_status:
        headers.append(t("col_data"))
        numeric.append(False)
    if pop:
        headers += [t("col_residents"), t("col_share_within", m=mm), t("col_without")]
        numeric += [True, True, True]
    else:
        headers += [t("col_area"), t("col_share_within", m=mm)]
        numeric += [True, True]
    headers += [t("col_median"), t("col_nearest")]
    numeric += [True, False]
    rows, attrs = [], []
    for rank, r in enumerate(rows_in, start=1):
        z = zones.loc[r["zone_id"]]
        cells = [str(rank), _e(r["zone_id"]), _e(names.get(r["zone_id"]) or "–")]
        if parent:
            cells.append(_e(_label(z[parent])))
        if show_status:
            cells.append(_e(t.status(str(status.loc[r["zone_id"]]))))
        if pop:
            cells += [
                _e(t.integer(_row_residents(r))),
                _e(t.pct(r["share_within"])),
                f'<span data-value="{_num_attr(r["residents_without_access"])}">'
                f"{_e(t.integer(r['residents_without_access']))}</span>",
            ]
        else:
            cells += [_e(t.num(z[N.AREA_KM2], 2)), _e(t.pct(r["share_area_within"]))]
        median = z[N.MEDIAN_S]
        nearest = z[N.NEAREST_SPACE]
        cells += [
            _e(t.num(median / 60 if pd.notna(median) else None, 1)),
            _e(space_names.get(str(nearest), nearest) if pd.notna(nearest) else "–"),
        ]
        rows.append(cells)
        attrs.append(f'class="underserved-row" data-zone-id="{_e(r["zone_id"])}"')
    table = _table(headers, rows, table_class="underserved", row_attrs=attrs, numeric=numeric)
    note = ""
    if hexagons:
        note = t("hex_names_note")
        if total > len(rows_in):
            note += " " + t("hex_worst", n=t.integer(len(rows_in)), total=t.integer(total))
        note = f'<p class="hex-note">{_e(note)}</p>'
    return head + note + table + "</section>"


MAX_HEXAGON_ROWS = 50
"""Underserved hexagons listed in the report at most (the worst; all are in zones.csv)."""


def _space_names(analysis: Analysis) -> dict[str, str]:
    """Each space's id -> its name (its id where it has none)."""
    spaces = analysis.walk.spaces
    ids = spaces[N.SPACE_ID].astype(str).tolist()
    names = spaces[N.SPACE_NAME].tolist() if N.SPACE_NAME in spaces else [None] * len(ids)
    return {
        i: (" ".join(str(n).split()) if isinstance(n, str) and n.strip() else i)
        for i, n in zip(ids, names, strict=True)
    }


def nearest_street_names(analysis: Analysis, zone_ids: Sequence[str]) -> list[str]:
    """For each zone, the name of the walkable street nearest to its centre (a point inside
    it), from the network's ``name`` tags; ``"–"`` where no street has a name.

    Hexagon zones have no names of their own: this says where each is.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, "hex:9")
    >>> nearest_street_names(result, result.zones["zone_id"][:1])[0].startswith("Via")
    True
    """
    streets = analysis.walk.streets
    attrs = streets.edge_attrs
    names = attrs["name"] if "name" in attrs else pd.Series([None] * streets.n_edges)
    named = np.flatnonzero(names.notna().to_numpy() & (names.astype(str).str.strip() != ""))
    if len(named) == 0:
        return ["–"] * len(zone_ids)
    zones = analysis.zones.set_index(N.ZONE_ID).to_crs(streets.crs)
    points = zones.loc[[str(z) for z in zone_ids]].geometry.representative_point().to_numpy()
    tree = shapely.STRtree(streets.edge_geometry[named])
    _, nearest = tree.query_nearest(points, all_matches=False)
    values = names.to_numpy()[named[nearest]]
    return [" ".join(str(v).split()) for v in values]


def _spaces_section(analysis: Analysis, t: Translator, *, max_rows: int = 500) -> str:
    """The spaces: their number on the maps, name, kind, seats and walk to the street."""
    spaces = analysis.spaces
    n = len(spaces)
    if n == 0:
        return ""
    numbers = space_numbers(analysis)
    names = _space_names(analysis)
    kinds = spaces["kind"] if "kind" in spaces else pd.Series([None] * n, index=spaces.index)
    seats = spaces[N.SEATS] if N.SEATS in spaces else pd.Series([np.nan] * n, index=spaces.index)
    rows, attrs = [], []
    for k, (number, ident, kind, seat, access) in enumerate(
        zip(numbers, spaces[N.SPACE_ID].astype(str), kinds, seats, spaces["access_m"],
            strict=True)
    ):  # fmt: skip
        if k >= max_rows:
            break
        key = f"kind_{kind}"
        kind_text = t(key) if key in MESSAGES[t.lang] else (kind if pd.notna(kind) else "–")
        rows.append(
            [
                _e(t.integer(number)),
                _e(names.get(ident, ident)),
                _e(str(kind_text).replace("_", " ")),
                _e(t.integer(seat) if pd.notna(seat) else "–"),
                _e(t.integer(access) if pd.notna(access) else "–"),
            ]
        )
        attrs.append(f'class="space-row" data-space="{_e(ident)}" data-number="{number}"')
    intro = t("spaces_intro", n=t.integer(n))
    if n > max_rows:
        intro += " " + t("spaces_more", n=t.integer(max_rows), total=t.integer(n))
    table = _table(
        [t("col_no"), t("col_name"), t("col_kind"), t("col_seats"), t("col_walk_street")],
        rows,
        table_class="spaces",
        row_attrs=attrs,
        numeric=[True, False, False, True, True],
    )
    return f'<section id="spaces"><h2>{_e(t("sec_spaces"))}</h2><p>{_e(intro)}</p>{table}</section>'


def _walk_map_section(analysis: Analysis, t: Translator, png: bytes) -> str:
    """The walking-time map (streets coloured by the walk to the nearest space)."""
    if not png:
        return ""
    m = t.minutes(float(analysis.parameters["underserved_minutes"]))
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<section id="walk-map"><h2>{_e(t("sec_walk_map"))}</h2><figure>'
        f'<img class="map" alt="{_e(t("walk_map_alt"))}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(t('walk_map_caption', m=m))}</figcaption></figure></section>"
    )


def _parent_section(analysis: Analysis, t: Translator, column: str) -> str:
    noun, header = _parent_names(column, t)
    table = by_parent(analysis, column)
    minutes = [float(m) for m in analysis.parameters["minutes"]]
    m_u = float(analysis.parameters["underserved_minutes"])
    pop = analysis.has_population
    headers = [header, t("col_zones")]
    numeric = [False, True]
    if pop:
        headers.append(t("col_residents"))
        numeric.append(True)
    else:
        headers.append(t("col_area"))
        numeric.append(True)
    headers += [t("col_share_within", m=t.minutes(m)) for m in minutes]
    numeric += [True] * len(minutes)
    if pop:
        headers.append(t("col_without") + f" ({t.minutes(m_u)} min)")
        numeric.append(True)
    headers.append(t("col_underserved"))
    numeric.append(True)
    left_out = bool(table["left_out"].sum())
    if left_out:  # residents and shares above are of the zones counted
        headers.append(t("col_left_out"))
        numeric.append(True)
        if pop:
            headers.append(t("col_left_out_residents"))
            numeric.append(True)
    kind = "pop" if pop else "area"
    no_street = _e(t("no_street_data"))
    rows, attrs = [], []
    for _, r in table.iterrows():
        none_counted = r["left_out"] >= r["zones"]
        cells = [_e(r["parent"]), _e(t.integer(r["zones"]))]
        residents = r["residents_counted"] if pop and left_out else r.get(N.POPULATION)
        cells.append(_e(t.integer(residents) if pop else t.num(r[N.AREA_KM2], 2)))
        cells += [no_street if none_counted else _e(t.pct(r[N.share(kind, m)])) for m in minutes]
        if pop:
            cells.append(no_street if none_counted else _e(t.integer(r["without_access"])))
        cells.append(_e(t.integer(r[N.UNDERSERVED])))
        if left_out:
            cells.append(_e(t.integer(r["left_out"])))
            if pop:
                cells.append(_e(t.integer(r[N.POPULATION] - r["residents_counted"])))
        rows.append(cells)
        attrs.append(f'class="parent-row" data-parent="{_e(r["parent"])}"')
    within = analysis.summary["within"]
    footer = [f"<strong>{_e(t('total'))}</strong>", _e(t.integer(table["zones"].sum()))]
    if pop:
        footer.append(_e(t.integer(analysis.summary.get("residents_total"))))
    else:
        footer.append(_e(t.num(table[N.AREA_KM2].sum(), 2)))
    footer += [_e(t.pct(within[f"{m:g}"]["share"])) for m in minutes]
    if pop:
        footer.append(_e(t.integer(table["without_access"].sum())))
    footer.append(_e(t.integer(table[N.UNDERSERVED].sum())))
    if left_out:
        footer.append(_e(t.integer(table["left_out"].sum())))
        if pop:
            footer.append(_e(t.integer((table[N.POPULATION] - table["residents_counted"]).sum())))
    return (
        f'<section id="parent"><h2>{_e(t("sec_parent", parent=noun))}</h2>'
        f"<p>{_e(t('parent_intro', parent=noun))}</p>"
        + _table(
            headers, rows, table_class="parent", row_attrs=attrs, numeric=numeric, footer=footer
        )
        + "</section>"
    )


def _when(iso: str | None) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM`` (UTC)."""
    if not iso:
        return "–"
    try:
        stamp = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M")


def _inputs_table(analysis: Analysis, t: Translator) -> str:
    """Each input file with its size, date and SHA-256 (one line per input)."""
    summary = analysis.summary
    recorded = (summary.get("data_quality") or {}).get("inputs") or {}
    inputs = {**(summary.get("inputs") or analysis.inputs or {})}
    for role, info in recorded.items():
        inputs[role] = {**(inputs.get(role) or {}), **(info or {})}
    roles = [r for r in INPUT_ROLES if inputs.get(r)]
    roles += [r for r in inputs if r not in INPUT_ROLES and inputs.get(r)]
    rows = []
    for role in roles:
        info = inputs[role]
        label = t(f"input_{role}") if role in INPUT_ROLES else role
        if "path" in info:
            digest = info.get("sha256")
            size = info.get("size_bytes")
            rows.append(
                [
                    _e(label),
                    f"<code>{_e(info['path'])}</code>",
                    _e(t("bytes", value=t.integer(size)) if size is not None else "–"),
                    _e(_when(info.get("modified"))),
                    f'<code class="sha256">{_e(digest)}</code>' if digest else "–",
                ]
            )
        else:
            rows.append([_e(label), _e(t("spaces_from_osm")), "–", "–", "–"])
    if not rows:
        return f"<p>{_e(t('input_in_memory'))}</p>"
    return _table(
        [t("col_input"), t("col_file"), t("col_size"), t("col_modified"), t("col_sha256")],
        rows,
        table_class="inputs",
        numeric=[False, False, True, False, False],
    )


def _area_text(info: dict[str, Any] | None, t: Translator) -> str | None:
    """``"<source> (<area> km²)"`` of a recorded study area or data extent."""
    if not info:
        return None
    source = t.area_source(info.get("source") or "–")
    area = info.get("area_km2")
    return t("dq_area_value", source=source, area=t.num(area, 2)) if area is not None else source


def _data_quality_section(analysis: Analysis, t: Translator) -> str:
    """Extent of the data, zones by status, what was left out and why, warnings, inputs."""
    summary, params = analysis.summary, analysis.parameters
    dq: dict[str, Any] = summary.get("data_quality") or {}
    pop = analysis.has_population
    parts = [
        f'<section id="data-quality"><h2>{_e(t("sec_data_quality"))}</h2><p>{_e(t("dq_intro"))}</p>'
    ]
    # the extent of the data
    study = _area_text(dq.get("study_area"), t) or params.get("study_area")
    margin = dq.get("margin_m", params.get("margin_m"))
    extent_info = dq.get("data_extent") or {}
    extent = _e(_area_text(extent_info, t) or "–")
    bounds = extent_info.get("bounds")
    if bounds:
        text = t("dq_bounds", bounds=", ".join(f"{float(b):.5f}" for b in bounds))
        extent += f'<br><span class="bounds">{_e(text)}</span>'
    stamp = dq.get("osm_timestamp")
    items = [
        ("dq_study_area", _e(study or t("dq_study_area_none"))),
        (
            "dq_margin",
            _e(t("dq_metres", value=t.num(margin)) if margin is not None else t("dq_margin_none")),
        ),
        ("dq_data_extent", extent),
        ("dq_osm_timestamp", _e(_when(stamp) + " UTC" if stamp else t("unknown"))),
    ]
    fragments = dq.get("fragments")
    if fragments is not None:
        count = int(fragments.get("count") or 0)
        value = t("dq_fragments_none")
        if count:
            kept = "dq_fragments_kept" if fragments.get("kept") else "dq_fragments_dropped"
            value = t(
                "dq_fragments_value",
                n=t.integer(count),
                nodes=t.integer(fragments.get("nodes")),
                km=t.num((fragments.get("street_length_m") or 0) / 1000, 2),
                kept=t(kept),
                rule=t.recorded(fragments.get("rule") or "–"),
            )
        items.append(("dq_fragments", _e(value)))
    joins = dq.get("joins")
    if joins is not None:
        count = int(joins.get("count") or 0)
        value = (
            t("dq_joins_value", n=t.integer(count), gap=t.num(joins.get("max_gap_m"), 1))
            if count
            else t("dq_fragments_none")
        )
        items.append(("dq_joins", _e(value)))
    parts.append(
        _table(
            [t("col_item"), t("col_value")],
            [[_e(t(key)), value] for key, value in items],
            table_class="data-extent",
        )
    )
    # zones by status
    parts.append(f"<h3>{_e(t('sec_dq_status'))}</h3>")
    counts = status_counts(analysis)
    headers = [t("col_status"), t("col_meaning"), t("col_zones")]
    numeric = [False, False, True]
    headers.append(t("col_residents") if pop else t("col_area"))
    numeric.append(True)
    headers.append(t("col_counted"))
    numeric.append(False)
    rows, attrs = [], []
    for status in N.STATUSES:
        entry = counts[status]
        n = int(entry["zones"] or 0)
        amount = t.integer(entry["residents"]) if pop else t.num(entry["area_km2"], 2)
        rows.append(
            [
                _e(t.status(status)),
                _e(t(f"status_{status}_means")),
                _e(t.integer(n)),
                _e(amount),
                _e(t("yes") if status in N.COUNTED else t("no")),
            ]
        )
        attrs.append(f'class="status-row" data-status="{_e(status)}" data-zones="{n}"')
    total_amount = (
        t.integer(sum(float(c["residents"] or 0) for c in counts.values()))
        if pop
        else t.num(sum(float(c["area_km2"] or 0) for c in counts.values()), 2)
    )
    footer = [
        f"<strong>{_e(t('total'))}</strong>",
        "",
        _e(t.integer(sum(int(c["zones"] or 0) for c in counts.values()))),
        _e(total_amount),
        "",
    ]
    parts.append(
        _table(
            headers,
            rows,
            table_class="statuses",
            row_attrs=attrs,
            numeric=numeric,
            footer=footer,
        )
    )
    sentences = _left_out_sentences(analysis, t)
    share = analysis.parameters.get("sparse_share")
    if dq.get("sparse_rule") and share is not None:  # the rule in this language
        per = "pop" if analysis.has_population else "area"
        rule = t(f"sparse_rule_{per}", share=t.pct(share, 0)) if share > 0 else t("sparse_off")
        sentences.append(t("sparse_rule", rule=rule))
    parts += [f'<p class="left-out">{_e(x)}</p>' for x in sentences]
    # where the spaces join the streets
    snaps = dq.get("largest_snaps")
    if snaps is None:
        spaces = analysis.spaces.sort_values("access_m", ascending=False).head(5)
        names = spaces["name"] if "name" in spaces.columns else spaces["space_id"]
        snaps = [
            {"space_id": i, "name": n, "access_m": a}
            for i, n, a in zip(spaces["space_id"], names, spaces["access_m"], strict=True)
        ]
    if snaps:
        parts.append(f"<h3>{_e(t('sec_dq_snaps'))}</h3>")
        parts.append(
            _table(
                [t("col_space"), t("col_name"), t("col_access_m")],
                [
                    [
                        _e(r.get("space_id", "–")),
                        _e(r.get("name") if pd.notna(r.get("name")) else "–"),
                        _e(t.num(r.get("access_m"), 1)),
                    ]
                    for r in snaps
                ],
                table_class="snaps",
                numeric=[False, False, True],
            )
        )
    # what the run skipped, and every warning
    if "skipped" in dq:
        parts.append(f"<h3>{_e(t('sec_dq_skipped'))}</h3>")
        skipped = dq.get("skipped") or []
        if skipped:
            parts.append(
                _table(
                    [t("col_what"), t("col_id"), t("col_reason")],
                    [
                        [_e(r.get("what", "–")), _e(r.get("id", "–")), _e(r.get("reason", "–"))]
                        for r in skipped
                    ],
                    table_class="skipped",
                )
            )
        else:
            parts.append(f'<p class="none">{_e(t("none_skipped"))}</p>')
    if "warnings" in dq:
        parts.append(f"<h3>{_e(t('sec_dq_warnings'))}</h3>")
        said = dq.get("warnings") or []
        if said:
            items_html = "".join(f"<li>{_e(t.recorded(w))}</li>" for w in said)
            parts.append(f'<ul class="warnings" id="run-warnings">{items_html}</ul>')
        else:
            parts.append(f'<p class="none">{_e(t("none_warnings"))}</p>')
    parts.append(f"<h3>{_e(t('sec_inputs'))}</h3>")
    parts.append(_inputs_table(analysis, t))
    parts.append("</section>")
    return "".join(parts)


def _method_section(analysis: Analysis, t: Translator) -> str:
    summary, params = analysis.summary, analysis.parameters
    pop = analysis.has_population
    m_u = t.minutes(float(params["underserved_minutes"]))
    share = t.pct(params["underserved_share"], 0)
    paras = [
        t("method_text", speed=t.num(params["speed_kmh"], 1), buffer=t.num(params["buffer_m"])),
        t("weighting_pop" if pop else "weighting_area"),
        t("underserved_rule_pop" if pop else "underserved_rule_area", share=share, m=m_u),
        *_method_data(analysis, t),
    ]
    parts = [f'<section id="method"><h2>{_e(t("sec_method"))}</h2>']
    parts += [f"<p>{_e(p)}</p>" for p in paras]
    if analysis.note:
        parts.append(
            f'<p class="note"><strong>{_e(t("note_label"))}:</strong> '
            f"{_e(t.note(analysis.note))}</p>"
        )
    parts.append(f"<h3>{_e(t('sec_parameters'))}</h3>")
    values = [
        ("param_minutes", ", ".join(t.minutes(m) for m in params["minutes"])),
        ("param_speed", t.num(params["speed_kmh"], 1)),
        ("param_buffer", t.num(params["buffer_m"])),
        ("param_underserved_share", t.pct(params["underserved_share"], 0)),
        ("param_underserved_minutes", m_u),
        ("param_max_snap", t.num(params["max_snap_m"])),
        ("param_population_column", params.get("population_column") or t("not_given")),
        ("param_crs", params["crs"]),
    ]
    parts.append(
        _table(
            [t("col_parameter"), t("col_value")],
            [[_e(t(k)), _e(v)] for k, v in values],
            table_class="parameters",
        )
    )
    parts.append(f"<h3>{_e(t('sec_software'))}</h3>")
    software = summary.get("software", {})
    parts.append(
        _table(
            [t("col_package"), t("col_version")],
            [[_e(k), _e(v)] for k, v in software.items()],
            table_class="software",
        )
    )
    parts.append(f"<h3>{_e(t('sec_sources'))}</h3>")
    lines = "".join(f"<li>{_e(line)}</li>" for line in attribution_lines(analysis, t.lang))
    parts.append(f'<ul class="attribution" id="sources">{lines}</ul></section>')
    return "".join(parts)


def _method_data(analysis: Analysis, t: Translator) -> list[str]:
    """Two sentences of the method: the study area and its margin, and the data quality
    figures (zones counted, fragments, joins, the farthest space from its street)."""
    summary, params = analysis.summary, analysis.parameters
    dq: dict[str, Any] = summary.get("data_quality") or {}
    area = _area_text(dq.get("study_area"), t) or params.get("study_area")
    area = area or t("dq_study_area_none")
    margin = dq.get("margin_m", params.get("margin_m"))
    out = [
        t("method_area", area=area, margin=t.num(margin))
        if margin is not None
        else t("method_area_no_margin", area=area)
    ]
    counts = status_counts(analysis)
    zones = sum(int(c["zones"] or 0) for c in counts.values())
    counted = sum(int(counts[s]["zones"] or 0) for s in N.COUNTED)
    snaps = dq.get("largest_snaps") or []
    access = analysis.walk.snaps["access_m"] if not snaps else pd.Series([snaps[0]["access_m"]])
    out.append(
        t(
            "method_quality",
            counted=t.integer(counted),
            zones=t.integer(zones),
            left=t.integer(zones - counted),
            fragments=t.integer((dq.get("fragments") or {}).get("count") or 0),
            joins=t.integer((dq.get("joins") or {}).get("count") or 0),
            snap=t.integer(float(access.max()) if len(access) else 0.0),
        )
    )
    return out


_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: __FONTS__; color: #1d2329; background: #fff; margin: 0;
  line-height: 1.45; font-size: 15px; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 40px; }
header h1 { font-size: 1.7em; margin: 0 0 4px; }
header .subtitle { font-size: 1.1em; color: #3c4650; margin: 0 0 6px; }
header .generated { color: #5c6770; font-size: 0.9em; margin: 0; }
.banner { background: #fff4ce; border: 1px solid #e0b400; border-radius: 4px;
  padding: 8px 12px; margin: 14px 0 0; }
h2 { font-size: 1.3em; margin: 30px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid #e3e6ea; break-after: avoid; }
h3 { font-size: 1.05em; margin: 18px 0 8px; break-after: avoid; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { flex: 1 1 200px; border: 1px solid #d8dde3; border-radius: 6px;
  padding: 10px 14px; background: #f7f9fb; break-inside: avoid; }
.figure .label { font-size: 0.9em; color: #3c4650; }
.figure .value { font-size: 1.7em; font-weight: 700; color: __BLUE__; }
.figure .detail { font-size: 0.9em; color: #3c4650; }
figure { margin: 0; break-inside: avoid; }
img.map { display: block; max-width: 100%; height: auto; margin: 0 auto;
  border: 1px solid #e3e6ea; }
svg.curve { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #3c4650; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot { display: table-row-group; }  /* the total once, not on every printed page */
tfoot td { border-top: 2px solid #c5ccd3; font-weight: 600; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
tr.underserved-row td:nth-child(2) { color: __RED__; font-weight: 600; }
code { font-size: 0.9em; word-break: break-all; }
.note { background: #fff4ce; padding: 6px 10px; border-radius: 4px; }
.warning { background: #fde8e8; border: 1px solid __RED__; border-left-width: 5px;
  border-radius: 4px; padding: 8px 12px; margin: 6px 0 12px; font-weight: 600; }
.left-out p, p.left-out { margin: 8px 0 0; color: #3c4650; }
#headline .left-out { border-left: 3px solid #c5ccd3; padding-left: 10px; margin-top: 10px; }
ul.warnings { margin: 4px 0 10px; padding-left: 20px; font-size: 0.92em; }
code.sha256 { font-size: 0.8em; }
.bounds { color: #5c6770; font-size: 0.9em; }
table.categories-parent { font-size: 0.8em; }
.attribution, footer { color: #5c6770; font-size: 0.9em; }
@page { size: A4; margin: 15mm 13mm 16mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 9pt;
  color: #5c6770; } }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  header h1 { font-size: 1.45em; }
  header .subtitle { font-size: 1em; margin-bottom: 2px; }
  .banner { margin-top: 6px; padding: 4px 10px; }
  .figures { gap: 6px; }
  .figure { flex: 1 1 120px; padding: 4px 8px; }
  .figure .value { font-size: 1.3em; }
  /* page 1: the headline and the coverage map; the other maps a page each at most */
  img.map { max-height: 180mm; width: auto; }  /* the coverage map's: see report_html */
  #walk-map img.map { max-height: 140mm; }  /* with the curve on one page */
  svg.curve { width: 140mm; height: 68mm; }  /* 680 x 330 */
  h2 { margin-top: 14px; }
  p, li, figcaption { orphans: 3; widows: 3; }
  div.keep { break-inside: avoid; break-before: avoid; }  /* with what leads to it */
  /* no lone tail: the last two rows and the total go with the rows before them */
  tbody tr:nth-last-child(-n+2), tfoot { break-before: avoid; }
}
"""


def report_html(
    analysis: Analysis,
    *,
    lang: str = "en",
    parent_column: str | None = None,
    map_png: bytes | None = None,
    walk_map_png: bytes | None = None,
) -> str:
    """The report as one self-contained HTML document (nothing is fetched when it opens).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    lang
        ``"en"`` (default) or ``"it"``.
    parent_column
        Zone column of the parent zone for the per-parent table; by default a
        ``municipio``/``district``/``parent`` column when the zones have one.
    map_png
        The coverage map as PNG bytes; by default drawn with
        :func:`coverage_map_png`.
    walk_map_png
        The walking-time map as PNG bytes; by default drawn (with
        :func:`~fifteenmin.outputs.maps.walk_time_map`); empty: left out.

    Returns
    -------
    str
        The HTML text: CSS inline, the map as a ``data:`` URI, the curve as inline SVG,
        the system font stack (no web fonts).
    """
    from .. import __version__

    t = Translator(lang)
    parent = find_parent_column(analysis.zones, parent_column)
    m_u = t.minutes(float(analysis.parameters["underserved_minutes"]))
    png = map_png if map_png is not None else coverage_map_png(analysis)
    if walk_map_png is None:
        from .maps import walk_time_map

        walk_map_png = coverage_map_png(analysis, figure=walk_time_map(analysis, lang=t.lang))
    banner = (
        f'<p class="banner" id="note"><strong>{_e(t("note_label"))}:</strong> '
        f"{_e(t.note(analysis.note))}</p>"
        if analysis.note
        else ""
    )
    headline = _headline(analysis, t)
    map_section = _map_section(analysis, t, png)
    sections = [
        headline,
        map_section,
        _walk_map_section(analysis, t, walk_map_png),
        _curve_section(analysis, t),
        _underserved_section(analysis, t, parent),
    ]
    if parent is not None:
        sections.append(_parent_section(analysis, t, parent))
    sections.append(_spaces_section(analysis, t))
    sections.append(_categories_section(analysis, t, parent))
    sections.append(_sensitivity_section(analysis, t))
    sections.append(_worth_section(analysis, t))
    sections.append(_capacity_section(analysis, t))
    sections.append(_data_quality_section(analysis, t))
    sections.append(_method_section(analysis, t))
    css = _CSS.replace("__FONTS__", FONT_STACK).replace("__BLUE__", _BLUE).replace("__RED__", _RED)
    service = str(getattr(analysis, "service_name", "") or "")
    title = (
        str(getattr(analysis, "title", "") or "")
        or (t("report_title_svc", service=service) if service else "")
        or t("report_title")
    )
    first_page = _first_page_map_mm(title, analysis.note, headline, map_section)
    css += f"@media print {{ #map img.map {{ max-height: {first_page:.0f}mm; }} }}\n"
    return (
        f'<!DOCTYPE html>\n<html lang="{t.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="fifteenmin {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body><main>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="subtitle">{_e(t("report_subtitle", m=m_u))}</p>'
        f'<p class="generated">'
        f"{_e(t('generated', date=_when(analysis.summary.get('generated')) + ' UTC'))}</p>"
        f"{banner}</header>"
        + "".join(sections)
        + f"<footer><p>{_e(t('footer', version=__version__))}</p></footer>"
        "</main></body></html>\n"
    )


def _first_page_map_mm(title: str, note: str, headline: str, map_section: str) -> float:
    """The printed height of the coverage map that leaves it on page 1 with the headline.

    An estimate from what stands above it on an A4 page (266 mm inside the margins): the
    title and note, the headline figures (four a row), its warning and sentences, the
    map's heading and caption; between 70 and 165 mm.
    """

    def lines(text: str, per_line: int) -> int:
        return max(1, -(-len(html.unescape(_TAG.sub("", text)).strip()) // per_line))

    used = 6.5 * lines(title, 60) + 4 + 6 + 5  # title, subtitle, date
    used += 4 + 4.6 * lines(note, 100) if note else 0
    used += 14 + 17 * -(-headline.count('class="figure"') // 4)
    for block in re.findall(r'<p class="warning"[^>]*>(.*?)</p>', headline, re.S):
        used += 6 + 4.6 * lines(block, 100)
    for block in re.findall(r'<div class="left-out"[^>]*>(.*?)</div>', headline, re.S):
        used += sum(2 + 4.6 * lines(p, 105) for p in re.findall(r"<p>(.*?)</p>", block, re.S))
    caption = re.search(r"<figcaption>(.*?)</figcaption>", map_section, re.S)
    used += 14 + 3 + 4.6 * lines(caption.group(1) if caption else "", 115)
    return float(np.clip(266 - used - 12, 70, 165))


def write_report(
    analysis: Analysis,
    path: str | Path,
    *,
    lang: str = "en",
    parent_column: str | None = None,
    map_png: bytes | None = None,
    walk_map_png: bytes | None = None,
) -> Path:
    """Write :func:`report_html` to ``path`` (UTF-8); returns the path.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> path = write_report(result, getfixture("tmp_path") / "report.html", lang="it")
    >>> "Zone carenti" in path.read_text(encoding="utf-8")
    True
    """
    path = Path(path)
    path.write_text(
        report_html(
            analysis,
            lang=lang,
            parent_column=parent_column,
            map_png=map_png,
            walk_map_png=walk_map_png,
        ),
        encoding="utf-8",
    )
    logger.debug("wrote %s", path)
    return path


def write_report_pdf(
    analysis: Analysis,
    path: str | Path,
    *,
    lang: str = "en",
    parent_column: str | None = None,
    map_png: bytes | None = None,
    html_text: str | None = None,
) -> Path:
    """Write the report as a PDF (A4) with WeasyPrint; nothing outside the file is fetched.

    Needs the ``pdf`` extra (``pip install 'fifteenmin[pdf]'``) and the Pango library
    (Debian: ``apt-get install libpango-1.0-0 libpangoft2-1.0-0``).

    Parameters
    ----------
    analysis
        Result of :func:`~fifteenmin.pipeline.analyze`.
    path
        The PDF to write.
    lang, parent_column, map_png
        As for :func:`report_html`.
    html_text
        The report HTML if already made (then the three options above are not used).

    Raises
    ------
    FifteenMinError
        If WeasyPrint or Pango is missing.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint without the Pango library
        raise FifteenMinError(
            f"the PDF report needs WeasyPrint and the Pango library ({exc}); install them with "
            "pip install 'fifteenmin[pdf]' and apt-get install libpango-1.0-0 libpangoft2-1.0-0, "
            "or leave out --pdf"
        ) from None
    if html_text is None:
        html_text = report_html(analysis, lang=lang, parent_column=parent_column, map_png=map_png)
    path = Path(path)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    weasyprint.HTML(string=html_text, url_fetcher=fetcher).write_pdf(path)
    logger.debug("wrote %s", path)
    return path


# --------------------------------------------------------------------------- compare


def comparison_html(
    comparison: Comparison,
    *,
    lang: str = "en",
    map_png: bytes | None = None,
    labels: tuple[str, str] | None = None,
    max_zones: int = 30,
) -> str:
    """The comparison of two scenarios as one self-contained HTML document.

    City-wide residents within each walk before and after, the zones that changed
    (newly served and newly underserved marked), the spaces added and removed, the map of
    gains and losses and the inputs of both sides (path and SHA-256).

    Parameters
    ----------
    comparison
        Result of :func:`~fifteenmin.scenarios.compare`.
    lang
        ``"en"`` (default) or ``"it"``.
    map_png
        :func:`~fifteenmin.outputs.maps.change_map` as PNG bytes (drawn when not given).
    labels
        Names of the two sides (default from the spaces files, else before/after).
    max_zones
        Most zones listed (largest change first).
    """
    from .. import __version__

    t = Translator(lang)
    params = comparison.parameters
    synthetic = any(side.network.get("synthetic") for side in (comparison.before, comparison.after))
    source = "attr_synthetic" if synthetic else "attr_osm"
    m = float(params["underserved_minutes"])
    if map_png is None:
        from .maps import change_map

        buf = io.BytesIO()
        change_map(comparison, lang=lang).savefig(buf, format="png", dpi=110, bbox_inches="tight")
        map_png = buf.getvalue()
    if labels is None:
        labels = (_side_label(comparison, "before", t), _side_label(comparison, "after", t))
    rows = []
    for key, w in comparison.within.items():
        rows.append(
            [
                _e(f"{t.minutes(float(key))} min"),
                _e(t.integer(w["residents_before"])),
                _e(t.integer(w["residents_after"])),
                _span(f"cmp-change-{key}", w["change"], _signed(t, w["change"])),
                _e(t.pct(w["share_before"])),
                _e(t.pct(w["share_after"])),
            ]
        )
    headline = (
        f'<section id="cmp-headline"><h2>{_e(t("cmp_sec_headline"))}</h2>'
        + _table(
            [
                t("cmp_col_minutes"),
                t("cmp_col_before"),
                t("cmp_col_after"),
                t("cmp_col_change"),
                t("cmp_col_share_before"),
                t("cmp_col_share_after"),
            ],
            rows,
            table_class="cmp-within",
            numeric=[False, True, True, True, True, True],
        )
        + "</section>"
    )
    data = base64.b64encode(map_png).decode("ascii")
    alt = _e(t("cmp_map_title", m=t.minutes(m)))
    map_section = (
        f'<section id="cmp-map"><figure><img class="map" alt="{alt}" '
        f'src="data:image/png;base64,{data}"></figure></section>'
    )
    z = comparison.zones
    col = f"change_{N.residents(m)}"
    moved = z.loc[z[col].abs().fillna(0) > 0.5].sort_values(col, key=np.abs, ascending=False)
    zone_rows, attrs = [], []
    for _, r in moved.head(max_zones).iterrows():
        flag = (
            t("cmp_flag_served")
            if r[N.NEWLY_SERVED]
            else t("cmp_flag_underserved")
            if r[N.NEWLY_UNDERSERVED]
            else ""
        )
        attrs.append(f'data-zone="{_e(r[N.ZONE_ID])}"')
        zone_rows.append(
            [
                _e(f"{r[N.ZONE_NAME]} ({r[N.ZONE_ID]})"),
                _e(t.integer(r[N.POPULATION])),
                _e(t.pct(r[f"{N.share('pop', m)}_before"])),
                _e(t.pct(r[f"{N.share('pop', m)}_after"])),
                _e(_signed(t, r[col])),
                _e(flag),
            ]
        )
    zones_html = (
        f'<section id="cmp-zones"><h2>{_e(t("cmp_sec_zones"))}</h2>'
        + (
            f"<p>{_e(t('cmp_zones_intro', m=t.minutes(m), n=min(len(moved), max_zones)))}</p>"
            + _table(
                [
                    t("cmp_col_zone"),
                    t("cmp_col_residents"),
                    t("cmp_col_share_before"),
                    t("cmp_col_share_after"),
                    t("cmp_col_change"),
                    t("cmp_col_flag"),
                ],
                zone_rows,
                table_class="cmp-zones",
                row_attrs=attrs,
                numeric=[False, True, True, True, True, False],
            )
            if len(moved)
            else f"<p>{_e(t('cmp_no_change'))}</p>"
        )
        + "</section>"
    )
    sp = comparison.spaces
    space_rows = [
        [
            f"<code>{_e(r['space_id'])}</code>",
            _e(r["name"] if isinstance(r["name"], str) else "–"),
            _e(t("cmp_change_added" if r["change"] == "added" else "cmp_change_removed")),
        ]
        for _, r in sp.iterrows()
    ]
    spaces_html = (
        f'<section id="cmp-spaces"><h2>{_e(t("cmp_sec_spaces"))}</h2>'
        + (
            _table(
                [t("cmp_col_space"), t("cmp_col_name"), t("cmp_col_change_kind")],
                space_rows,
                table_class="cmp-spaces",
            )
            if space_rows
            else f"<p>{_e(t('cmp_spaces_none'))}</p>"
        )
        + "</section>"
    )
    lineage_rows = []
    for side, inputs in comparison.lineage.items():
        for role, info in (inputs or {}).items():
            if not isinstance(info, dict):
                continue
            lineage_rows.append(
                [
                    _e(t(f"cmp_side_{side}") if side in ("before", "after") else side),
                    _e(role),
                    f"<code>{_e(info.get('path', info.get('from', '–')))}</code>",
                    f'<code class="sha256">{_e(info.get("sha256", "–"))}</code>',
                ]
            )
    method = t(
        "cmp_method",
        speed=t.minutes(params["speed_kmh"]),
        share=t.pct(params["underserved_share"], 0),
        m=t.minutes(m),
    )
    lineage_html = (
        f'<section id="cmp-lineage"><h2>{_e(t("cmp_sec_lineage"))}</h2>'
        + _table(
            [t("cmp_col_side"), t("cmp_col_input"), t("cmp_col_file"), t("cmp_col_sha")],
            lineage_rows,
            table_class="inputs",
        )
        + f'<p>{_e(method)}</p><p class="attribution">{_e(t(source))}</p>'
        "</section>"
    )
    css = _CSS.replace("__FONTS__", FONT_STACK).replace("__BLUE__", _BLUE).replace("__RED__", _RED)
    title = t("cmp_title", label_before=labels[0], label_after=labels[1])
    return (
        f'<!DOCTYPE html>\n<html lang="{t.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="fifteenmin {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body><main>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="subtitle">{_e(t("cmp_subtitle"))}</p>'
        f'<p class="generated">'
        f"{_e(t('generated', date=_when(comparison.summary().get('generated')) + ' UTC'))}</p>"
        "</header>"
        + headline
        + map_section
        + zones_html
        + spaces_html
        + lineage_html
        + f"<footer><p>{_e(t('footer', version=__version__))}</p></footer>"
        "</main></body></html>\n"
    )


def _signed(t: Translator, value: float) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return ("+" if value > 0 else "") + t.integer(value)


def _side_label(comparison: Comparison, side: str, t: Translator) -> str:
    info = (comparison.lineage.get(side) or {}).get("spaces")
    if isinstance(info, dict) and info.get("path"):
        return Path(str(info["path"])).name
    return t(f"cmp_side_{side}")


def write_comparison_report(
    comparison: Comparison,
    path: str | Path,
    *,
    lang: str = "en",
    map_png: str | Path | bytes | None = None,
) -> Path:
    """Write :func:`comparison_html` to ``path``; ``map_png`` may be the PNG file of the
    change map already saved (resampled for the page)."""
    png: bytes | None
    if isinstance(map_png, str | Path):
        from PIL import Image

        buf = io.BytesIO()
        with Image.open(map_png) as image:
            scale = 110 / image.info.get("dpi", (200, 200))[0]
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(buf, format="png")
        png = buf.getvalue()
    else:
        png = map_png
    path = Path(path)
    path.write_text(comparison_html(comparison, lang=lang, map_png=png), encoding="utf-8")
    return path


# ----------------------------------------------------------------------- sensitivity


def band_svg(citywide: pd.DataFrame, *, lang: str = "en", width: int = 680) -> str:
    """An inline SVG band chart: per threshold and population group, the range of the
    city-wide share within the walk across walking speeds, a dot per speed.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"population_column": ["p", "p"], "speed_kmh": [3.6, 4.8],
    ...                      "minutes": [15.0, 15.0], "share": [0.6, 0.7]})
    >>> svg = band_svg(rows)
    >>> svg.startswith("<svg") and "3.6 km/h" in svg and "70.0%" in svg
    True
    """
    t = Translator(lang)
    groups = list(dict.fromkeys(citywide["population_column"]))
    minutes = sorted(set(citywide["minutes"]))
    left, right, top, row_h = 170, 190, 26, 30
    rows = [(m, g) for m in minutes for g in groups]
    height = top + row_h * len(rows) + 34
    pw = width - left - right

    def x(s: float) -> float:
        return left + pw * s

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="curve band" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" '
        f"font-family='{_e(FONT_STACK)}' font-size=\"12\"><title>{_e(t('sens_chart_title'))}"
        "</title>"
    ]
    for s in np.linspace(0, 1, 5):
        out.append(
            f'<line x1="{x(s):.1f}" y1="{top - 6}" x2="{x(s):.1f}" y2="{height - 30}" '
            'stroke="#e3e6ea"/>'
            f'<text x="{x(s):.1f}" y="{height - 14}" text-anchor="middle" fill="#333">'
            f"{_e(t.pct(s, 0))}</text>"
        )
    for i, (m, g) in enumerate(rows):
        yc = top + row_h * i + row_h / 2
        part = citywide[(citywide["minutes"] == m) & (citywide["population_column"] == g)]
        part = part.sort_values("speed_kmh")
        shares = part["share"].to_numpy(dtype=float)
        ok = np.isfinite(shares)
        label = f"{t.minutes(m)} min · {g}"
        out.append(
            f'<text x="{left - 8}" y="{yc + 4:.1f}" text-anchor="end" fill="#333">'
            f"{_e(label)}</text>"
        )
        if not ok.any():
            continue
        lo, hi = float(shares[ok].min()), float(shares[ok].max())
        out.append(
            f'<rect class="band-range" x="{x(lo):.1f}" y="{yc - 6:.1f}" '
            f'width="{max(x(hi) - x(lo), 1.5):.1f}" height="12" rx="3" fill="{_BLUE}" '
            'fill-opacity="0.25"/>'
        )
        for speed, share in zip(part["speed_kmh"], shares, strict=True):
            if not np.isfinite(share):
                continue
            out.append(
                f'<circle cx="{x(share):.1f}" cy="{yc:.1f}" r="4" fill="{_BLUE}" '
                f'stroke="white"><title>{_e(t.minutes(speed))} km/h: {_e(t.pct(share))}'
                "</title></circle>"
            )
        speeds = part["speed_kmh"].to_numpy(dtype=float)
        note = f"{t.pct(hi)}" if lo == hi else f"{t.pct(lo)}–{t.pct(hi)}"
        where = f"{t.minutes(speeds.min())}–{t.minutes(speeds.max())} km/h"
        if speeds.min() == speeds.max():
            where = f"{t.minutes(speeds.min())} km/h"
        out.append(
            f'<text x="{x(hi) + 8:.1f}" y="{yc + 4:.1f}" fill="#333" font-size="11">'
            f"{_e(note)} ({_e(where)})</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _sensitivity_section(analysis: Analysis, t: Translator) -> str:
    """City-wide shares by walking speed and population group (a band chart), and the
    zones whose underserved status flips within the band."""
    sens = analysis.sensitivity
    if sens is None:
        return ""
    params = sens.parameters
    m = float(params["underserved_minutes"])
    svg = band_svg(sens.citywide, lang=t.lang)
    speeds = ", ".join(t.minutes(s) for s in params["speeds_kmh"])
    pairs = "; ".join(f"{c}: {t.minutes(s)} km/h" for c, s in params["pairs"].items())
    intro = t("sens_intro", speeds=speeds, groups=", ".join(params["population_columns"]))
    if pairs:
        intro += " " + t("sens_pairs", pairs=pairs)
    zones = analysis.zones
    share = N.share("pop", m)
    flagged = zones[zones[N.BORDERLINE].fillna(False).astype(bool)]
    if len(flagged):
        rows = [
            [
                _e(f"{r[N.ZONE_NAME]} ({r[N.ZONE_ID]})"),
                _e(t.integer(r[N.POPULATION])),
                _e(t.pct(r[share])),
                _e(f"{t.pct(r[f'{share}_low'])} – {t.pct(r[f'{share}_high'])}"),
            ]
            for _, r in flagged.sort_values(N.POPULATION, ascending=False).iterrows()
        ]
        table = f"<p>{_e(t('sens_borderline_intro', m=t.minutes(m)))}</p>" + _table(
            [t("col_zone"), t("col_residents"), t("sens_col_share"), t("sens_col_band")],
            rows,
            table_class="borderline",
            numeric=[False, True, True, True],
        )
    else:
        table = f"<p>{_e(t('sens_none_borderline'))}</p>"
    return (
        f'<section id="sensitivity"><h2>{_e(t("sens_sec"))}</h2><p>{_e(intro)}</p>'
        f"<figure>{svg}<figcaption>{_e(t('sens_caption'))}</figcaption></figure>"
        f"{table}</section>"
    )


def _worth_section(analysis: Analysis, t: Translator) -> str:
    """The spaces whose closure would leave the most residents without a space within the
    walk (``summary["spaces"]``); empty without it."""
    block = analysis.summary.get("spaces")
    if not block:
        return ""
    m = t.minutes(float(block["minutes"]))
    covered, two = block.get("residents_covered"), block.get("residents_2plus")
    sole = block.get("residents_sole")
    intro = _t_html(
        t,
        "worth_intro",
        m=_e(m),
        covered=_span("worth-covered", covered, t.integer(covered)),
        sole=_span("worth-sole", sole, t.integer(sole)),
        two=_span("worth-2plus", two, t.integer(two)),
        share=_span("worth-2plus-share", block.get("share_2plus"), t.pct(block.get("share_2plus"))),
    )
    rows = block.get("top_sole") or []
    parts = [f'<section id="space-worth"><h2>{_e(t("worth_sec"))}</h2><p>{intro}</p>']
    if rows:
        parts.append(f"<p>{_e(t('worth_top', n=t.integer(len(rows))))}</p>")
        parts.append(
            _table(
                [
                    t("col_rank"),
                    t("col_space"),
                    t("col_name"),
                    t("worth_col_sole"),
                    t("worth_col_within", m=m),
                    t("worth_col_seats"),
                    t("worth_col_ratio", m=m),
                ],
                [
                    [
                        _e(t.integer(i)),
                        _e(r.get("space_id", "–")),
                        _e(r["name"] if r.get("name") is not None else "–"),
                        _e(t.integer(r.get("sole_residents"))),
                        _e(t.integer(r.get("residents"))),
                        _e(t.integer(r.get("seats"))),
                        _e(t.num(r.get("seats_per_1000_residents"), 1)),
                    ]
                    for i, r in enumerate(rows, start=1)
                ],
                table_class="space-worth",
                row_attrs=[
                    f'data-space="{_e(r.get("space_id", ""))}" '
                    f'data-sole="{_num_attr(r.get("sole_residents"))}"'
                    for r in rows
                ],
                numeric=[True, False, False, True, True, True, True],
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _capacity_section(analysis: Analysis, t: Translator) -> str:
    """Desks within the walk per 1,000 residents, city-wide by 2SFCA and E2SFCA, how spaces
    without seats were handled and the largest shortfalls (``summary["capacity"]``)."""
    cap = analysis.summary.get("capacity")
    if not cap:
        return ""
    m = t.minutes(float(cap["minutes"]))
    who = t("cap_who_residents" if float(cap.get("demand_share", 1.0)) == 1 else "cap_who_users")
    kernel = str(cap.get("kernel"))
    if kernel == "step":
        e2_detail = t("cap_detail_e2sfca_step")
    else:
        key = f"cap_kernel_{kernel}"
        name = t(key) if key in MESSAGES[t.lang] else kernel
        e2_detail = t("cap_detail_e2sfca", kernel=name)
    figures = [
        _figure(
            "cap-2sfca",
            cap.get(N.seats_per_1000("2sfca")),
            t.num(cap.get(N.seats_per_1000("2sfca")), 1),
            t("cap_label_2sfca", m=m, who=who),
            _e(t("cap_detail_2sfca")),
        ),
        _figure(
            "cap-e2sfca",
            cap.get(N.seats_per_1000("e2sfca")),
            t.num(cap.get(N.seats_per_1000("e2sfca")), 1),
            t("cap_label_e2sfca", m=m, who=who),
            _e(e2_detail),
        ),
    ]
    spaces = analysis.summary.get("spaces") or {}
    if spaces.get("share_2plus") is not None:
        figures.append(
            _figure(
                "cap-2plus",
                spaces["share_2plus"],
                t.pct(spaces["share_2plus"]),
                t("cap_label_2plus", m=m),
                _e(t("cap_detail_2plus", n=t.integer(spaces.get("residents_2plus")))),
            )
        )
    text = [
        t(
            "cap_intro",
            m=m,
            reached=t.integer(cap["seats_reached"]),
            total=t.integer(cap["seats_total"]),
        )
    ]
    if float(cap.get("demand_share", 1.0)) < 1:
        text.append(t("cap_demand_share", share=t.pct(cap["demand_share"], 0)))
    missing = cap.get("spaces_without_seats") or {}
    if missing.get("count"):
        ids = [str(i) for i in missing.get("ids") or []]
        shown = ", ".join(ids[:10])
        if len(ids) > 10:
            shown = t("cap_more", ids=shown, n=t.integer(len(ids) - 10))
        total = int(missing["count"]) + int(cap.get("spaces_with_seats") or 0)
        text.append(
            t("cap_missing_seats", n=t.integer(missing["count"]), total=t.integer(total), ids=shown)
        )
    else:
        text.append(t("cap_all_seats"))
    parts = [
        f'<section id="capacity"><h2>{_e(t("cap_sec"))}</h2>',
        f'<div class="figures">{"".join(figures)}</div>',
        *(f"<p>{_e(x)}</p>" for x in text),
    ]
    target = cap.get("seats_per_1000")
    if target is not None:
        short = cap.get(N.SHORTFALL) or 0.0
        if short > 0:
            sentence = _t_html(
                t,
                "cap_target",
                target=_e(t.minutes(target)),
                short=_span("cap-shortfall", short, t.integer(short)),
                n=_e(t.integer(cap.get("zones_short"))),
                short_e=_e(t.integer(cap.get(N.SHORTFALL_E2SFCA))),
            )
        else:
            sentence = _e(t("cap_target_met", target=t.minutes(target)))
        parts.append(f'<p class="target">{sentence}</p>')
        worst = cap.get("largest_shortfall") or []
        if worst:
            parts.append(f"<p>{_e(t('cap_short_intro'))}</p>")
            parts.append(
                _table(
                    [
                        t("col_zone"),
                        t("col_name"),
                        t("cap_col_demand"),
                        t("cap_col_2sfca"),
                        t("cap_col_short"),
                    ],
                    [
                        [
                            _e(r.get("zone_id", "–")),
                            _e(r.get("name", "–")),
                            _e(t.integer(r.get(N.DEMAND))),
                            _e(t.num(r.get(N.seats_per_1000("2sfca")), 1)),
                            _e(t.integer(r.get(N.SHORTFALL))),
                        ]
                        for r in worst
                    ],
                    table_class="shortfall",
                    numeric=[False, False, True, True, True],
                )
            )
    parts.append("</section>")
    return "".join(parts)


# ------------------------------------------------------------------------ categories


def _categories_section(analysis: Analysis, t: Translator, parent: str | None) -> str:
    """Per category the residents within the walk, all of them, the missing piece; per
    parent zone (municipio) when the zones have one."""
    figures = analysis.categories
    if figures is None:
        return ""
    m = figures.minutes
    mm = t.minutes(m)
    label = N.minutes_label(m)
    names = list(figures.times.names)
    lang_key = f"label_{t.lang}"
    absent = ", ".join(figures.label(n, t.lang) for n in figures.absent)
    rows = []
    for _, r in figures.citywide.iterrows():
        is_all = r["category"] == "all"
        services = r["services"]
        empty = not is_all and (services is None or pd.isna(services) or int(services) == 0)
        name = t("cat_all") if is_all else str(r[lang_key])
        if empty:
            share = _e(t("cat_none"))
        elif is_all and figures.absent:  # not 0%: the data cannot tell
            share = _e(t("cat_not_assessed", absent=absent))
        else:
            share = _span(f"cat-share-{r['category']}", float(r["share"]), t.pct(r["share"]))
        rows.append(
            [
                f"<strong>{_e(name)}</strong>" if is_all else _e(name),
                "–" if is_all else _e(t.integer(services)),
                share,
            ]
        )
    what = figures.label(figures.missing or "", t.lang)
    source = Path(str((analysis.inputs.get("network") or {}).get("path", "–"))).name
    parts = [
        f'<section id="categories"><h2>{_e(t("cat_sec"))}</h2>',
        f"<p>{_e(t('cat_intro', m=mm, source=source, what=what))}</p>",
        _table(
            [t("cat_col_category"), t("cat_col_services"), t("cat_col_share", m=mm)],
            rows,
            table_class="categories",
            numeric=[False, True, True],
        ),
    ]
    zones = analysis.zones
    counted = analysis.counted
    if parent is not None:
        z = pd.DataFrame(zones.drop(columns="geometry")).loc[counted]
        weight = z[N.POPULATION].fillna(0.0) if analysis.has_population else z[N.STREET_LENGTH_M]
        keys = z[parent].map(_label)
        cols = [f"share_pop_{label}_{n}" for n in [*names, "all"]]
        sums = (z[cols].fillna(0.0).mul(weight, axis=0)).groupby(keys).sum()
        shares = sums.div(weight.groupby(keys).sum().replace(0, np.nan), axis=0)
        if figures.absent:  # "all" not assessed
            shares[cols[-1]] = np.nan
        shares = shares.iloc[_natural_order(pd.Series(shares.index))]
        cat_labels = [figures.label(n, t.lang) for n in names] + [t("cat_all")]

        def pct(v: float) -> str:
            return t.pct(v, 0) if np.isfinite(v) else t("not_assessed_short")

        if len(shares) <= 8:  # a column per parent, a row per category: fits the page
            head = [t("cat_col_category"), *map(str, shares.index)]
            body = [
                [_e(lab), *(_e(pct(v)) for v in col)]
                for lab, col in zip(cat_labels, shares.to_numpy().T, strict=True)
            ]
        else:  # a row per parent
            head = [_parent_names(parent, t)[1], *cat_labels]
            body = [
                [_e(key), *(_e(pct(v)) for v in row)]
                for key, row in zip(shares.index, shares.to_numpy(), strict=True)
            ]
        parts.append(f"<h3>{_e(t('cat_by_parent', parent=_parent_names(parent, t)[0]))}</h3>")
        parts.append(
            _table(
                head,
                body,
                table_class="categories-parent",
                numeric=[False] + [True] * (len(head) - 1),
            )  # fmt: skip
        )
    if "missing" in figures.not_assessed:
        others = ", ".join(figures.label(n, t.lang) for n in figures.absent if n != figures.missing)
        parts.append(f"<p>{_e(t('cat_missing_na', what=what, absent=others))}</p>")
    elif figures.missing is not None and analysis.has_population:
        col = f"missing_{figures.missing}_{label}"
        share = f"share_missing_{figures.missing}_{label}"
        z = zones.loc[counted & (zones[col].fillna(0) > 0.5)].sort_values(col, ascending=False)
        total = float(zones.loc[counted, col].sum())
        parts.append(
            "<p>"
            + _t_html(
                t,
                "cat_missing_intro",
                n=_span("missing-total", total, t.integer(total)),
                m=_e(mm),
                what=_e(what),
            )
            + "</p>"
        )
        if len(z):
            body = [
                [
                    _e(f"{r[N.ZONE_NAME]} ({r[N.ZONE_ID]})"),
                    _e(t.integer(r[N.POPULATION])),
                    _e(t.integer(r[col])),
                    _e(t.pct(r[share])),
                    _e(t.num(r[f"categories_{label}"], 1)),
                ]
                for _, r in z.head(15).iterrows()
            ]
            parts.append(
                _table(
                    [
                        t("col_zone"),
                        t("col_residents"),
                        t("cat_col_missing", what=what),
                        t("cat_col_missing_share"),
                        t("cat_col_count"),
                    ],
                    body,
                    table_class="missing-piece",
                    numeric=[False, True, True, True, True],
                )  # fmt: skip
            )
    parts.append("</section>")
    return "".join(parts)
