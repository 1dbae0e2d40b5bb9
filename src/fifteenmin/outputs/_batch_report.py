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


def _num(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{float(value):,.{digits}f}"


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{100 * float(value):.1f} %"


def share_column(table: pd.DataFrame, minutes: float) -> str:
    """The share mapped and ranked: of residents within ``minutes``, else of area."""
    pop = N.share("pop", minutes)
    if pop in table and pd.to_numeric(table[pop], errors="coerce").notna().any():
        return pop
    return N.share("area", minutes)


def areas_map_png(
    areas: gpd.GeoDataFrame, table: pd.DataFrame, column: str, *, note: str = ""
) -> bytes:
    """A map of every area coloured by ``column`` (a share); areas without figures hatched."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from ..network import utm_crs
    from .maps import add_map_furniture

    shown = areas.assign(value=pd.to_numeric(table[column], errors="coerce").to_numpy())
    shown = shown.loc[shown.geometry.notna() & ~shown.geometry.is_empty]
    fig = Figure(figsize=(8, 7), dpi=130)
    ax = fig.add_axes((0.02, 0.02, 0.82, 0.9))
    if not len(shown):
        return _png(fig)
    centre = shown.union_all().centroid
    shown = shown.to_crs(utm_crs(centre.x, centre.y))
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
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    bar = fig.add_axes((0.86, 0.2, 0.03, 0.6))
    fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), cax=bar, format=lambda v, _: f"{v:.0%}")
    if len(shown) <= MAX_LABELS:
        for geom, label in zip(shown.geometry, shown["area_id"], strict=True):
            at = geom.representative_point()
            ax.annotate(str(label), (at.x, at.y), ha="center", va="center", fontsize=7)
    what = "residents" if "_pop_" in column else "area"
    minutes = column.rsplit("_", 1)[-1].replace("min", " min")
    fig.suptitle(
        f"Share of {what} within {minutes} of a space, by area; hatched: no figures", fontsize=10
    )
    add_map_furniture(ax, note=note)
    return _png(fig)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def batch_html(
    table: pd.DataFrame, manifest: dict[str, Any], options: dict[str, Any], png: bytes
) -> str:
    """The page: headline, map, areas ranked, failures, inputs."""
    minutes = [float(m) for m in options["minutes"]]
    walk = float(options.get("underserved_minutes", 15.0))
    column = share_column(table, walk)
    by_pop = column.startswith("share_pop")
    done = table.loc[table["status"].isin(["ok", "no_spaces"])]
    residents = pd.to_numeric(done["residents"], errors="coerce")
    parts = []
    for m in minutes:
        reached = pd.to_numeric(done[N.residents(m)], errors="coerce")
        total = residents[reached.notna()].sum()
        share = reached.sum() / total if total > 0 else None
        parts.append(
            f'<div class="figure"><div class="value">{_pct(share)}</div>'
            f"<div>of residents within {m:g} min (all areas analysed)</div></div>"
        )
    run = manifest.get("run", {})
    counts = run.get("by_status", {})
    status = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    ranked = table.assign(_v=pd.to_numeric(table[column], errors="coerce"))
    ranked = ranked.sort_values(["_v", "area_id"], na_position="last", kind="stable")
    head = (
        "<tr><th class='num'>#</th><th>area</th><th>name</th><th>status</th>"
        "<th class='num'>residents</th>"
        + "".join(f"<th class='num'>within {m:g} min</th>" for m in minutes)
        + "<th class='num'>underserved zones</th><th class='num'>seconds</th><th>report</th></tr>"
    )
    rows = []
    for rank, row in enumerate(ranked.itertuples(index=False), start=1):
        rec = row._asdict()
        shares = "".join(
            f"<td class='num'>{_pct(rec.get(N.share('pop' if by_pop else 'area', m)))}</td>"
            for m in minutes
        )
        link = rec.get("report")
        cell = f'<a href="{_e(link)}">report</a>' if isinstance(link, str) else ""
        rows.append(
            f"<tr><td class='num'>{rank}</td><td>{_e(rec['area_id'])}</td><td>{_e(rec['name'])}"
            f"</td><td>{_e(rec['status'])}</td><td class='num'>{_num(rec.get('residents'))}</td>"
            f"{shares}<td class='num'>{_num(rec.get('underserved_zones'))}</td>"
            f"<td class='num'>{_num(rec.get('seconds'), 1)}</td><td>{cell}</td></tr>"
        )
    failed = table.loc[table["status"].isin(["failed", "not_run"])]
    fail_rows = "".join(
        f"<tr><td>{_e(r.area_id)}</td><td>{_e(r.name)}</td><td>{_e(r.status)}</td>"
        f"<td>{_e(r.error)}</td></tr>"
        for r in failed.itertuples(index=False)
    )
    inputs = "".join(
        f"<tr><td>{_e(role)}</td><td><code>{_e(info.get('path'))}</code></td>"
        f"<td><code>{_e(str(info.get('sha256', ''))[:16])}</code></td></tr>"
        for role, info in manifest.get("inputs", {}).items()
        if isinstance(info, dict)
    )
    note = options.get("note") or ""
    img = base64.b64encode(png).decode("ascii")
    what = "residents" if by_pop else "area"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>15-minute access by area</title><style>{_CSS}</style></head>
<body><main>
<h1>15-minute access by area</h1>
<p class="generated">{len(table)} areas: {_e(status)}. Generated {_e(manifest.get("generated"))}
by fifteenmin {_e(manifest.get("fifteenmin"))}; {_e(run.get("cluster") or "")}.</p>
{f'<p class="note">{_e(note)}</p>' if note else ""}
<div class="figures">{"".join(parts)}</div>
<h2>Map</h2>
<figure><img class="map" alt="areas by share within {walk:g} minutes"
 src="data:image/png;base64,{img}">
<figcaption>Share of {what} within a {walk:g}-minute walk of a space, per area
(<code>{_e(column)}</code>).</figcaption></figure>
<h2>Areas ranked</h2>
<p>Lowest share of {what} within {walk:g} minutes first. Areas without a space within the
walking margin (<code>no_spaces</code>) have nobody within a walk.</p>
<table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>
{
        "<h2>Failed or not run</h2><table><thead><tr><th>area</th><th>name</th><th>status</th>"
        "<th>reason</th></tr></thead><tbody>" + fail_rows + "</tbody></table>"
        if fail_rows
        else ""
    }
<h2>Inputs</h2>
<table><thead><tr><th>role</th><th>file</th><th>SHA-256</th></tr></thead>
<tbody>{inputs}</tbody></table>
<footer><p>Each area is analysed as <code>fifteenmin analyze --boundary AREA</code>: zones
clipped to it, streets and spaces within {_num(manifest.get("parameters", {}).get("margin_m"))}
m around it counted. Per-zone figures of every area: <code>zones/</code> (GeoParquet,
partitioned by <code>area_id</code>); the task table: <code>manifest.json</code>.
Street data © OpenStreetMap contributors.</p></footer>
</main></body></html>
"""


def write_batch_report(
    folder: Path,
    table: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    manifest: dict[str, Any],
    options: dict[str, Any],
) -> Path:
    """Write ``report.html`` and ``areas_map.png`` into ``folder``."""
    walk = float(options.get("underserved_minutes", 15.0))
    column = share_column(table, walk)
    png = areas_map_png(areas, table, column, note=options.get("note") or "")
    (folder / "areas_map.png").write_bytes(png)
    path = folder / "report.html"
    path.write_text(batch_html(table, manifest, options, png), encoding="utf-8")
    return path
