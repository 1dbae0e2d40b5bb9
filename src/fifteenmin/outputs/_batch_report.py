"""The comparison page of a batch: areas ranked, one map of them all, links to their reports."""

from __future__ import annotations

import base64
import html
import io
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _names as N
from ._i18n import Translator

logger = logging.getLogger(__name__)

MAX_LABELS = 80
"""Areas are labelled with their ids on the map up to this many."""
_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif'
_CSS = """
body { font-family: FONTS; color: #1d2329; margin: 0; line-height: 1.45; font-size: 15px; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 28px 0 10px; border-bottom: 2px solid #e3e6ea; }
.generated, figcaption, footer { color: #5c6770; font-size: 0.9em; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
.figure { flex: 1 1 180px; border: 1px solid #d8dde3; border-radius: 6px; padding: 10px 14px;
  background: #f7f9fb; }
.figure .value { font-size: 1.6em; font-weight: 700; color: #1f4e9c; }
img.map { display: block; max-width: 100%; height: auto; border: 1px solid #e3e6ea; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 8px; text-align: left; }
th { background: #eef1f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fff4ce; padding: 6px 10px; border-radius: 4px; }
""".replace("FONTS", _FONTS)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def share_column(table: pd.DataFrame, minutes: float) -> str:
    """The share mapped and ranked: of residents within ``minutes``, else of area."""
    pop = N.share("pop", minutes)
    if pop in table and pd.to_numeric(table[pop], errors="coerce").notna().any():
        return pop
    return N.share("area", minutes)


def areas_map_png(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    column: str,
    *,
    t: Translator,
    service: str,
    title: str = "",
    note: str = "",
    sources: list[str] | None = None,
) -> bytes:
    """A map of every area coloured by ``column`` (a share); areas without figures hatched;
    texts by ``t``, the data's ``sources`` under it."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    from ..network import utm_crs
    from .maps import _extent, _figure, _titles, add_map_furniture

    shown = areas.assign(value=pd.to_numeric(table[column], errors="coerce").to_numpy())
    shown = shown.loc[shown.geometry.notna() & ~shown.geometry.is_empty]
    if not len(shown):
        return _png(Figure(figsize=(8, 7), dpi=130))
    centre = shown.union_all().centroid
    shown = shown.to_crs(utm_crs(centre.x, centre.y))
    bounds = tuple(float(b) for b in shown.total_bounds)
    fig, ax = _figure(bounds)  # the page of the analysis maps: sources under the map
    fig.set_dpi(130)
    cmap = colormaps["RdYlGn"]
    known = shown["value"].notna()
    if known.any():
        shown.loc[known].plot(
            ax=ax, column="value", cmap=cmap, vmin=0, vmax=1, edgecolor="#444", linewidth=0.4
        )
    if (~known).any():
        shown.loc[~known].plot(
            ax=ax, facecolor="#dddddd", edgecolor="#777", hatch="///", linewidth=0.4
        )
    _extent(ax, bounds)
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=ax, shrink=0.6, pad=0.01,
                       aspect=25, format=lambda v, _: t.pct(v, 0))  # fmt: skip
    bar.ax.tick_params(labelsize=8)
    if len(shown) <= MAX_LABELS:
        for geom, label in zip(shown.geometry, shown["area_id"], strict=True):
            at = geom.representative_point()
            ax.annotate(str(label), (at.x, at.y), ha="center", va="center", fontsize=7)
    what = t("batch_what_pop" if "_pop_" in column else "batch_what_area")
    minutes = t.minutes(float(column.rsplit("_", 1)[-1].removesuffix("min")))
    heading = t("batch_map_title", what=what, m=minutes, service=service)
    _titles(fig, ax, heading, [], kicker=title)
    add_map_furniture(ax, note=note, lines=sources)
    return _png(fig)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def batch_html(
    table: pd.DataFrame,
    manifest: dict[str, Any],
    options: dict[str, Any],
    png: bytes,
    *,
    t: Translator,
    service: str,
    title: str | None = None,
    note: str = "",
    sources: list[str] | None = None,
) -> str:
    """The page: headline, map, areas ranked, failures, inputs; texts by ``t``."""
    minutes = [float(m) for m in options["minutes"]]
    walk = float(options.get("underserved_minutes", 15.0))
    mw = t.minutes(walk)
    column = share_column(table, walk)
    by_pop = column.startswith("share_pop")
    what = t("batch_what_pop" if by_pop else "batch_what_area")
    done = table.loc[table["status"].isin(["ok", "no_spaces"])]
    residents = pd.to_numeric(done["residents"], errors="coerce")
    parts = []
    for m in minutes:
        reached = pd.to_numeric(done[N.residents(m)], errors="coerce")
        total = residents[reached.notna()].sum()
        share = reached.sum() / total if total > 0 else None
        parts.append(
            f'<div class="figure"><div class="value">{_e(t.pct(share))}</div>'
            f"<div>{_e(t('batch_within', what=what, m=t.minutes(m)))}</div></div>"
        )
    run = manifest.get("run", {})
    counts = run.get("by_status", {})

    def status_text(status: str) -> str:
        key = f"batch_status_{status}"
        return t(key) if key in t._messages else str(status)

    status = ", ".join(f"{v} {status_text(k)}" for k, v in counts.items() if v)
    ranked = table.assign(_v=pd.to_numeric(table[column], errors="coerce"))
    ranked = ranked.sort_values(["_v", "area_id"], na_position="last", kind="stable")
    cols = [
        ("#", True),
        (t("batch_col_area"), False),
        (t("batch_col_name"), False),
        (t("batch_col_status"), False),
        (t("batch_col_residents"), True),
        *((t("batch_col_within", m=t.minutes(m)), True) for m in minutes),
        (t("batch_col_underserved"), True),
        (t("batch_col_seconds"), True),
        (t("batch_col_report"), False),
    ]
    head = "".join(
        f"<th class='num'>{_e(n)}</th>" if num else f"<th>{_e(n)}</th>" for n, num in cols
    )
    rows = []
    for rank, row in enumerate(ranked.itertuples(index=False), start=1):
        rec = row._asdict()
        kind = "pop" if by_pop else "area"
        shares = "".join(
            f"<td class='num'>{_e(t.pct(_finite(rec.get(N.share(kind, m)))))}</td>" for m in minutes
        )
        link = rec.get("report")
        cell = (
            f'<a href="{_e(link)}">{_e(t("batch_report_link"))}</a>'
            if isinstance(link, str)
            else ""
        )
        rows.append(
            f"<tr><td class='num'>{rank}</td><td>{_e(rec['area_id'])}</td><td>{_e(rec['name'])}"
            f"</td><td>{_e(status_text(rec['status']))}</td>"
            f"<td class='num'>{_e(t.integer(_finite(rec.get('residents'))))}</td>"
            f"{shares}<td class='num'>{_e(t.integer(_finite(rec.get('underserved_zones'))))}</td>"
            f"<td class='num'>{_e(t.num(_finite(rec.get('seconds')), 1))}</td><td>{cell}</td></tr>"
        )
    failed = table.loc[table["status"].isin(["failed", "not_run"])]
    fail_rows = "".join(
        f"<tr><td>{_e(r.area_id)}</td><td>{_e(r.name)}</td><td>{_e(status_text(r.status))}</td>"
        f"<td>{_e(r.error)}</td></tr>"
        for r in failed.itertuples(index=False)
    )
    inputs = "".join(
        f"<tr><td>{_e(role)}</td><td><code>{_e(info.get('path'))}</code></td>"
        f"<td><code>{_e(str(info.get('sha256', ''))[:16])}</code></td></tr>"
        for role, info in manifest.get("inputs", {}).items()
        if isinstance(info, dict)
    )
    img = base64.b64encode(png).decode("ascii")
    heading = title or t("batch_title")
    margin = t.integer(_finite(manifest.get("parameters", {}).get("margin_m")))
    failed_html = (
        f"<h2>{_e(t('batch_sec_failed'))}</h2><table><thead><tr>"
        f"<th>{_e(t('batch_col_area'))}</th><th>{_e(t('batch_col_name'))}</th>"
        f"<th>{_e(t('batch_col_status'))}</th><th>{_e(t('batch_col_reason'))}</th></tr></thead>"
        f"<tbody>{fail_rows}</tbody></table>"
        if fail_rows
        else ""
    )
    source_lines = "".join(f"<br>{_e(line)}" for line in sources or [])
    generated = t(
        "batch_generated",
        n=t.integer(len(table)),
        status=status,
        date=manifest.get("generated"),
        version=manifest.get("fifteenmin"),
        cluster=run.get("cluster") or "",
    )
    return f"""<!DOCTYPE html>
<html lang="{t.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(heading)}</title><style>{_CSS}</style></head>
<body><main>
<h1>{_e(heading)}</h1>
<p class="generated">{_e(generated)}</p>
{f'<p class="note">{_e(note)}</p>' if note else ""}
<div class="figures">{"".join(parts)}</div>
<h2>{_e(t("batch_sec_map"))}</h2>
<figure><img class="map" alt="{_e(t("batch_map_alt", what=what, m=mw))}"
 src="data:image/png;base64,{img}">
<figcaption>{_e(t("batch_map_caption", what=what, m=mw, service=service))}
(<code>{_e(column)}</code>).</figcaption></figure>
<h2>{_e(t("batch_sec_ranked"))}</h2>
<p>{_e(t("batch_ranked_intro", what=what, m=mw))}</p>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{failed_html}
<h2>{_e(t("batch_sec_inputs"))}</h2>
<table><thead><tr><th>{_e(t("batch_col_role"))}</th><th>{_e(t("batch_col_file"))}</th>
<th>SHA-256</th></tr></thead>
<tbody>{inputs}</tbody></table>
<footer><p>{_e(t("batch_footer", margin=margin))}{source_lines}</p></footer>
</main></body></html>
"""


def _finite(value: Any) -> float | None:
    """A number, or None where missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def write_batch_report(
    folder: Path,
    table: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    manifest: dict[str, Any],
    options: dict[str, Any],
    *,
    lang: str = "en",
    texts: dict[str, Any] | None = None,
    synthetic: bool = False,
) -> Path:
    """Write ``report.html`` and ``areas_map.png`` into ``folder``, in ``lang``, with the
    ``texts`` of the batch (``title``, ``service_name``, ``attributions``, ``note``); a
    ``synthetic`` network is credited as such, never to OpenStreetMap."""
    t = Translator(lang)
    texts = texts or {}
    walk = float(options.get("underserved_minutes", 15.0))
    column = share_column(table, walk)
    service = texts.get("service_name") or t("batch_service")
    sources = [t("attr_synthetic" if synthetic else "attr_osm"), *(texts.get("attributions") or [])]
    note = texts.get("note") or ""
    png = areas_map_png(
        areas, table, column, t=t, service=service, title=texts.get("title") or "", note=note,
        sources=sources,
    )  # fmt: skip
    (folder / "areas_map.png").write_bytes(png)
    path = folder / "report.html"
    page = batch_html(
        table, manifest, options, png, t=t, service=service, title=texts.get("title"),
        note=note, sources=sources,
    )  # fmt: skip
    path.write_text(page, encoding="utf-8")
    return path
