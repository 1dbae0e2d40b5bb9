"""The report folders: everything an analysis or a comparison writes, in one place.

:meth:`Analysis.write <fifteenmin.pipeline.Analysis.write>` and :meth:`Comparison.write
<fifteenmin.scenarios.Comparison.write>` delegate here (imported on call); the command
line calls :func:`write_analysis_into` for ``demo``, whose folder also holds the sample
data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _names as N
from .._io import alongside, output_folder
from .._tables import spreadsheet_safe
from . import _qgis, maps, report, webmap

if TYPE_CHECKING:
    from ..pipeline import Analysis
    from ..scenarios import Comparison

logger = logging.getLogger(__name__)


def write_analysis(
    analysis: Analysis,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = False,
    lang: str = "en",
    pdf: bool = False,
    basemap: str | None = None,
    basemap_attribution: str | None = None,
    title: str | None = None,
    service_name: str | None = None,
    attributions: Sequence[str] | None = None,
    note: str | None = None,
) -> Path:
    """Write the report folder ``out`` of ``analysis``, whole or not at all: what
    :meth:`Analysis.write <fifteenmin.pipeline.Analysis.write>` does (its docstring says
    which files, and how ``out`` is checked)."""
    if {title, service_name, note} != {None} or attributions is not None:
        labels = {"title": title, "service_name": service_name, "note": note}
        return write_analysis(
            analysis.labelled(**labels, attributions=attributions),
            out,
            overwrite=overwrite,
            progress=progress,
            lang=lang,
            pdf=pdf,
            basemap=basemap,
            basemap_attribution=basemap_attribution,
        )
    if basemap is not None:  # a bad URL or a missing attribution: before any work
        webmap.basemap_source(basemap, attribution=basemap_attribution)
    sources = [v.get("path") for v in analysis.inputs.values() if isinstance(v, dict)]
    logger.info("writing the report to %s", out)
    with output_folder(out, overwrite=overwrite, inputs=sources, command="analyze") as tmp:
        write_analysis_into(
            analysis,
            tmp,
            lang=lang,
            pdf=pdf,
            basemap=basemap,
            basemap_attribution=basemap_attribution,
        )
    logger.debug("wrote %s", out)
    return Path(out)


def write_analysis_into(
    analysis: Analysis,
    folder: Path,
    *,
    lang: str = "en",
    pdf: bool = False,
    basemap: str | None = None,
    basemap_attribution: str | None = None,
) -> None:
    """Write the report's files into ``folder``, a fresh temporary folder (see
    :func:`write_analysis`)."""
    tmp = Path(folder)
    # through the modules, at call time: a test may replace one map
    coverage_map, save_figure = maps.coverage_map, maps.save_figure

    def draw_maps() -> None:  # the vector coverage maps and the walking-time map
        vector = coverage_map(analysis, lang=lang)
        save_figure(vector, tmp / "coverage_map", formats=["svg", "pdf"])
        save_figure(maps.walk_time_map(analysis, lang=lang), tmp / "walk_time_map")
        if analysis.categories is not None:
            save_figure(maps.categories_map(analysis, lang=lang), tmp / "categories_map")
            cats = analysis.categories
            if cats.missing is not None and "missing" not in cats.not_assessed:
                save_figure(maps.missing_piece_map(analysis, lang=lang), tmp / "missing_piece_map")

    # on Linux a forked process draws those while this one writes the rest
    with alongside(draw_maps):
        save_figure(coverage_map(analysis, lang=lang), tmp / "coverage_map", formats=["png"])
        analysis.zones.to_file(tmp / "zones.gpkg", layer="zones", driver="GPKG")
        table = spreadsheet_safe(analysis.zones.drop(columns="geometry"))  # no formulas
        table.to_csv(tmp / "zones.csv", index=False)
        analysis.walk.node_times().to_file(
            tmp / "walk_times.gpkg", layer="walk_times", driver="GPKG"
        )
        if analysis.categories is not None:  # per node the walk to each category
            analysis.categories.times.node_times().to_file(
                tmp / "walk_times.gpkg", layer="categories", driver="GPKG"
            )
        analysis.isochrones.to_file(tmp / "isochrones.gpkg", layer="isochrones", driver="GPKG")
        analysis.coverage.to_file(tmp / "isochrones.gpkg", layer="coverage", driver="GPKG")
        spaces = analysis.spaces
        spaces.to_file(tmp / "spaces.gpkg", layer="spaces", driver="GPKG")
        # lat/lon as read (not through the network's CRS and back: 2.99735 stays so)
        table = space_table(spaces, points=analysis.walk.spaces.geometry)
        spreadsheet_safe(table).to_csv(tmp / "spaces.csv", index=False)
        _qgis.write_styles(analysis, tmp, lang=lang)  # QGIS default styles in the GeoPackages
        (tmp / "summary.json").write_text(
            json.dumps(analysis.summary, indent=2, ensure_ascii=False, default=json_default),
            encoding="utf-8",
        )
        if analysis.categories is not None:  # city-wide per category
            spreadsheet_safe(analysis.categories.citywide).to_csv(
                tmp / "categories.csv", index=False
            )
        if analysis.sensitivity is not None:  # city-wide, and one row per zone and case
            sens = analysis.sensitivity
            spreadsheet_safe(sens.citywide).to_csv(tmp / "sensitivity.csv", index=False)
            spreadsheet_safe(sens.table).to_csv(tmp / "sensitivity_zones.csv", index=False)
        webmap.write_map(
            analysis,
            tmp / "map.html",
            lang=lang,
            basemap=basemap,
            basemap_attribution=basemap_attribution,
        )
    # the report's images: the saved PNGs (the walking-time map's from the forked
    # writer, done now), cropped and resampled
    html_path = report.write_report(
        analysis,
        tmp / "report.html",
        lang=lang,
        map_png=report.coverage_map_png(analysis, from_png=tmp / "coverage_map.png"),
        walk_map_png=report.coverage_map_png(analysis, from_png=tmp / "walk_time_map.png"),
    )
    if pdf:
        report.write_report_pdf(
            analysis, tmp / "report.pdf", html_text=html_path.read_text("utf-8")
        )


def write_comparison(
    comparison: Comparison, out: str | Path, *, overwrite: bool = False, lang: str = "en"
) -> Path:
    """Write the folder ``out`` of ``comparison``, whole or not at all: what
    :meth:`Comparison.write <fifteenmin.scenarios.Comparison.write>` does."""
    sources = []
    for side in comparison.lineage.values():
        for info in side.values() if isinstance(side, dict) else ():
            if isinstance(info, dict) and info.get("path"):
                sources.append(info["path"])
    with output_folder(out, overwrite=overwrite, inputs=sources, command="compare") as tmp:
        zones = comparison.zones
        zones.to_file(tmp / "zones_change.gpkg", layer="zones_change", driver="GPKG")
        table = pd.DataFrame(zones.drop(columns=zones.geometry.name))
        spreadsheet_safe(table).to_csv(tmp / "zones_change.csv", index=False)
        spaces = pd.DataFrame(comparison.spaces.drop(columns=comparison.spaces.geometry.name))
        spaces["lon"], spaces["lat"] = comparison.spaces.geometry.x, comparison.spaces.geometry.y
        spreadsheet_safe(spaces).to_csv(tmp / "spaces_change.csv", index=False)
        fig = maps.change_map(comparison, lang=lang)
        maps.save_figure(fig, tmp / "change_map", formats=["png", "svg"])
        (tmp / "summary.json").write_text(
            json.dumps(comparison.summary(), indent=2, ensure_ascii=False, default=json_default),
            encoding="utf-8",
        )
        report.write_comparison_report(
            comparison, tmp / "report.html", lang=lang, map_png=(tmp / "change_map.png")
        )
    return Path(out)


def space_table(spaces: gpd.GeoDataFrame, *, points: gpd.GeoSeries | None = None) -> pd.DataFrame:
    """The spaces without geometry, with ``lat``/``lon`` (WGS84) after the id and name:
    of ``points`` (the same spaces as read) when given, else of their geometry."""
    points = (spaces.geometry if points is None else points).to_crs(4326)
    table = pd.DataFrame(spaces.drop(columns=spaces.geometry.name))
    clash = {c: N.SOURCE_PREFIX + str(c) for c in table if str(c).lower() in ("lat", "lon")}
    table = table.rename(columns=clash)
    at = min(2, len(table.columns))
    table.insert(at, "lat", points.y.to_numpy())
    table.insert(at + 1, "lon", points.x.to_numpy())
    return table


def json_default(value: Any) -> Any:
    """``json.dumps``'s ``default`` for ``summary.json``: numpy scalars as Python's."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
