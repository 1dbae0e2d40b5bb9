"""The whole analysis in one call: inputs -> walk times -> isochrones -> zones -> outputs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from . import _names as N
from ._io import VECTOR_SUFFIXES, alongside, check_file, now_utc, output_folder
from ._tables import spreadsheet_safe
from .errors import InputError
from .hexagons import hex_zones, interpolate_population, parse_hex_spec
from .isochrones import DEFAULT_BUFFER_M, DEFAULT_MINUTES, coverage, isochrones
from .network import (
    DEFAULT_SPEED_KMH,
    StreetNetwork,
    _check_speed,
    read_streets,
    streets_from_graph,
)
from .spaces import spaces_from_file, spaces_from_frame, spaces_from_osm
from .study_area import StudyArea, study_area_from, walk_margin_m
from .travel import MAX_SNAP_M, WalkTimes, walk_times
from .zones import (
    StreetPieces,
    check_underserved,
    street_pieces,
    zone_coverage,
    zones_from_file,
)

logger = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class Analysis:
    """Everything one run computes; :meth:`write` saves it as a report folder."""

    walk: WalkTimes
    isochrones: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    parameters: dict[str, Any]
    inputs: dict[str, Any]
    note: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    _pieces: StreetPieces | None = field(default=None, repr=False, compare=False)

    @cached_property
    def street_pieces(self) -> StreetPieces:
        """The walkable streets clipped to the zones, as counted in the zone figures."""
        if self._pieces is not None:
            return self._pieces
        zones = self.zones.to_crs(self.walk.streets.crs)
        return street_pieces(self.walk, zones.geometry.to_numpy())

    @property
    def spaces(self) -> gpd.GeoDataFrame:
        """The spaces with where they join the network (``access_m``)."""
        spaces = self.walk.spaces.copy()
        spaces["access_m"] = self.walk.snaps["access_m"].to_numpy()
        return spaces

    @property
    def has_population(self) -> bool:
        """Whether the zones carry residents."""
        return bool(self.zones[N.POPULATION].notna().any())

    def write(
        self,
        out: str | Path,
        *,
        overwrite: bool = False,
        progress: bool = False,
        lang: str = "en",
        pdf: bool = False,
    ) -> Path:
        """Write the report folder ``out``, whole or not at all.

        ``out`` must be new or an empty folder; a report folder written before (it holds
        the ``.fifteenmin`` marker, and only files fifteenmin wrote) is replaced as a whole
        with ``overwrite=True``. Anything else, or an ``out`` that is or holds an input
        file, raises :class:`~fifteenmin.errors.InputError` before anything is written; a
        place that cannot be written raises :class:`~fifteenmin.errors.OutputError`. The
        files are written to a temporary folder beside ``out`` that is renamed to ``out``
        at the end; on failure or interruption nothing changes (see
        :func:`fifteenmin._io.output_folder`).

        Files: ``zones.gpkg``, ``zones.csv``, ``walk_times.gpkg``, ``isochrones.gpkg``
        (layers ``isochrones`` and ``coverage``), ``spaces.gpkg`` (each GeoPackage with its
        default QGIS style in ``layer_styles``), ``coverage_map`` and ``walk_time_map``
        (``.png`` at 200 dpi, ``.svg``, ``.pdf``), ``summary.json``, ``report.html`` and
        ``map.html`` (self-contained); texts in ``lang``: ``"en"`` or ``"it"``; ``report.pdf``
        with ``pdf=True`` (needs WeasyPrint). With ``SOURCE_DATE_EPOCH`` set, every date
        written is that time, and a rerun gives the same bytes.
        """
        sources = [v.get("path") for v in self.inputs.values() if isinstance(v, dict)]
        logger.info("writing the report to %s", out)
        with output_folder(out, overwrite=overwrite, inputs=sources, command="analyze") as tmp:
            self._write_into(tmp, lang=lang, pdf=pdf)
        logger.debug("wrote %s", out)
        return Path(out)

    def _write_into(self, folder: Path, *, lang: str = "en", pdf: bool = False) -> None:
        """Write the report's files into ``folder``, a fresh temporary folder (see write)."""
        from ._qgis import write_styles
        from .plot import coverage_map, save_figure, walk_time_map
        from .report import coverage_map_png, write_report, write_report_pdf
        from .webmap import write_map

        tmp = Path(folder)

        def maps() -> None:  # the vector coverage maps and the walking-time map
            vector = coverage_map(self, lang=lang)
            save_figure(vector, tmp / "coverage_map", formats=["svg", "pdf"])
            save_figure(walk_time_map(self, lang=lang), tmp / "walk_time_map")

        # on Linux a forked process draws those while this one writes the rest
        with alongside(maps):
            save_figure(coverage_map(self, lang=lang), tmp / "coverage_map", formats=["png"])
            self.zones.to_file(tmp / "zones.gpkg", layer="zones", driver="GPKG")
            table = spreadsheet_safe(self.zones.drop(columns="geometry"))  # no formulas
            table.to_csv(tmp / "zones.csv", index=False)
            self.walk.node_times().to_file(
                tmp / "walk_times.gpkg", layer="walk_times", driver="GPKG"
            )
            self.isochrones.to_file(tmp / "isochrones.gpkg", layer="isochrones", driver="GPKG")
            self.coverage.to_file(tmp / "isochrones.gpkg", layer="coverage", driver="GPKG")
            self.spaces.to_file(tmp / "spaces.gpkg", layer="spaces", driver="GPKG")
            write_styles(self, tmp)  # QGIS default styles inside the GeoPackages
            (tmp / "summary.json").write_text(
                json.dumps(self.summary, indent=2, ensure_ascii=False, default=_json_default),
                encoding="utf-8",
            )
            # the report's image: that PNG, cropped and resampled
            png = coverage_map_png(self, from_png=tmp / "coverage_map.png")
            report = write_report(self, tmp / "report.html", lang=lang, map_png=png)
            write_map(self, tmp / "map.html", lang=lang)
            if pdf:
                write_report_pdf(self, tmp / "report.pdf", html_text=report.read_text("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _file_info(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    stat = p.stat()
    return {
        "path": str(p),
        "size_bytes": stat.st_size,
        "modified": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds"),
    }


def analyze(
    network: str | Path | StreetNetwork | nx.MultiDiGraph,
    spaces: str | Path | gpd.GeoDataFrame,
    zones: str | Path | gpd.GeoDataFrame,
    *,
    population_column: str | None = None,
    population: str | Path | gpd.GeoDataFrame | None = None,
    boundary: str | Path | StudyArea | gpd.GeoDataFrame | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    margin_m: float | None = None,
    minutes: Sequence[float] = DEFAULT_MINUTES,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    buffer_m: float = DEFAULT_BUFFER_M,
    underserved_share: float = 0.5,
    underserved_minutes: float = 15.0,
    max_snap_m: float = MAX_SNAP_M,
    lat_column: str | None = None,
    lon_column: str | None = None,
    note: str = "",
    progress: bool = False,
) -> Analysis:
    """Run the whole analysis.

    Parameters
    ----------
    network
        An OSM/GraphML file, a :class:`~fifteenmin.network.StreetNetwork` or an OSMnx graph.
    spaces
        A spaces file (CSV with lat/lon, GeoJSON, GeoPackage), a GeoDataFrame, or ``"osm"``
        to take the coworking spaces tagged in the network file.
    zones
        A polygon layer or GeoDataFrame (see :func:`~fifteenmin.zones.zones_from_file`),
        or ``"hex:RES"`` for an H3 hexagon grid over the study area (``"hex"``: resolution
        9, see :func:`~fifteenmin.hexagons.hex_zones`).
    population_column
        Residents column (any numeric column, e.g. ``pop2018_65p``) of the zones file, or
        of ``population`` when given (ignored for zones given as a GeoDataFrame, which
        must already carry ``population`` if any).
    population
        A separate population layer (polygons with ``population_column``) whose residents
        are carried onto the zones by walkable street length
        (:func:`~fifteenmin.hexagons.interpolate_population`), e.g. for hexagon zones.
    boundary
        Study area (a polygon layer, e.g. the municipal boundary, or a StudyArea): zones
        are clipped to it (zones outside dropped), while network and spaces are read
        within it plus ``margin_m``, so that services just outside still count.
    bbox
        ``(west, south, east, north)`` in degrees: a rectangular study area (intersected
        with ``boundary`` when both are given).
    margin_m
        Margin of network and spaces around the study area; default the walking distance
        of the longest threshold (1,200 m for 15 min at 4.8 km/h).
    minutes
        Walking-time thresholds.
    speed_kmh
        Walking speed.
    buffer_m
        Width counted as covered on each side of a reachable street.
    underserved_share, underserved_minutes
        A zone is underserved when less than this share of its residents (or area) is
        within this walk.
    max_snap_m
        Spaces farther than this from any walkable street are an error.
    lat_column, lon_column
        Coordinate columns of a CSV spaces file.
    note
        A line shown in every output (e.g. that the data are synthetic).
    progress
        Show progress bars.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> 0 <= result.summary["within"]["15"]["share"] <= 1
    True
    """
    minutes = sorted({float(m) for m in minutes})
    if not minutes or min(minutes) <= 0:
        raise InputError(f"walking-time thresholds must be positive minutes, got {minutes}")
    _check_speed(speed_kmh)
    check_underserved(minutes, underserved_minutes, underserved_share)
    if buffer_m < 0:
        raise InputError(f"buffer {buffer_m} m is negative; use 0 or more")
    # check the small inputs before the (possibly long) network read: fail fast
    if isinstance(spaces, str | Path) and str(spaces) != "osm":
        check_file(spaces, (".csv", ".txt", *VECTOR_SUFFIXES), "spaces")
    if isinstance(zones, str | Path) and parse_hex_spec(zones) is None:
        check_file(zones, VECTOR_SUFFIXES, "zones")
    inputs: dict[str, Any] = {}
    area = study_area_from(boundary, bbox)
    margin = walk_margin_m(minutes, speed_kmh) if margin_m is None else float(margin_m)
    read_area = area.with_margin(margin) if area is not None else None
    read_polygon = read_area.polygon if read_area is not None else None
    if isinstance(boundary, str | Path):
        inputs["boundary"] = _file_info(boundary)
    if isinstance(network, StreetNetwork):
        streets = network
    elif isinstance(network, nx.MultiDiGraph):
        streets = streets_from_graph(network)
    else:
        logger.info("reading the walking network from %s", network)
        streets = read_streets(network, polygon=read_polygon, progress=progress)
        inputs["network"] = _file_info(network)
    logger.info("network: %d nodes, %d street segments", streets.n_nodes, streets.n_edges)

    if isinstance(spaces, gpd.GeoDataFrame):
        space_gdf = spaces_from_frame(spaces)
    elif str(spaces) == "osm":
        if isinstance(network, (StreetNetwork, nx.MultiDiGraph)):
            raise InputError("spaces='osm' needs the network as an OSM file path")
        space_gdf = spaces_from_osm(network, polygon=read_polygon)
        inputs["spaces"] = {"from": "OSM tags of the network file"}
    else:
        space_gdf = spaces_from_file(spaces, lat_column=lat_column, lon_column=lon_column)
        inputs["spaces"] = _file_info(spaces)
    if read_area is not None:
        space_gdf = _spaces_within(space_gdf, read_area, margin)
    logger.info("spaces: %d", len(space_gdf))

    hex_res = None if isinstance(zones, gpd.GeoDataFrame) else parse_hex_spec(zones)
    if hex_res is not None:
        if population is None and population_column is not None:
            raise InputError(
                f"population column {population_column!r} with hexagon zones needs the "
                "population layer that holds it: pass --population FILE"
            )
        hex_area = area if area is not None else StudyArea.from_streets(streets)
        zone_gdf = hex_zones(hex_area.polygon, hex_res).assign(**{N.POPULATION: np.nan})
    elif isinstance(zones, gpd.GeoDataFrame):
        zone_gdf = zones
        if N.POPULATION not in zone_gdf.columns:
            zone_gdf = zone_gdf.assign(**{N.POPULATION: np.nan})
    else:
        zone_column = population_column if population is None else None
        zone_gdf = zones_from_file(zones, population_column=zone_column)
        inputs["zones"] = _file_info(zones)
    if area is not None and hex_res is None:
        zone_gdf = area.clip_zones(zone_gdf)
    if population is not None:
        zone_gdf = _carry_population(zone_gdf, population, population_column, streets, inputs)
    logger.info("zones: %d", len(zone_gdf))

    logger.info("walking times (one multi-source search)")
    walk = walk_times(streets, space_gdf, speed_kmh=speed_kmh, max_snap_m=max_snap_m)
    logger.info("isochrones for %d spaces x %d thresholds", len(space_gdf), len(minutes))
    iso = isochrones(walk, minutes=minutes, buffer_m=buffer_m, progress=progress)
    cov = coverage(walk, minutes=minutes, buffer_m=buffer_m, isochrones=iso)
    logger.info("zone coverage")
    zone_gdf = zone_gdf.to_crs(streets.crs).reset_index(drop=True)
    pieces = street_pieces(walk, zone_gdf.geometry.to_numpy())
    zone_stats = zone_coverage(
        walk,
        zone_gdf,
        cov,
        underserved_share=underserved_share,
        underserved_minutes=underserved_minutes,
        pieces=pieces,
    )
    parameters = {
        "minutes": minutes,
        "speed_kmh": speed_kmh,
        "buffer_m": buffer_m,
        "underserved_share": underserved_share,
        "underserved_minutes": underserved_minutes,
        "max_snap_m": max_snap_m,
        "population_column": population_column,
        "study_area": area.source if area is not None else None,
        "margin_m": margin if area is not None else None,
        "hex_resolution": hex_res,
        "crs": streets.crs.to_string(),
    }
    analysis = Analysis(walk, iso, cov, zone_stats, parameters, inputs, note, _pieces=pieces)
    analysis.summary.update(summarize(analysis))
    return analysis


def _spaces_within(spaces: gpd.GeoDataFrame, area: StudyArea, margin_m: float) -> gpd.GeoDataFrame:
    """The spaces inside the study area grown by its margin (others cannot reach it)."""
    inside = area.contains(spaces)
    if not inside.any():
        raise InputError(
            f"none of the {len(spaces)} spaces lies within the study area or {margin_m:g} m "
            "of it; check that spaces and boundary/bbox describe the same place"
        )
    if not inside.all():
        logger.info(
            "%d space(s) farther than %g m outside the study area left out",
            int((~inside).sum()),
            margin_m,
        )
    return spaces.loc[inside].reset_index(drop=True)


def _carry_population(
    zones: gpd.GeoDataFrame,
    population: str | Path | gpd.GeoDataFrame,
    column: str | None,
    streets: StreetNetwork,
    inputs: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Zones with residents carried from a separate population layer by street length."""
    if isinstance(population, gpd.GeoDataFrame):
        source, column = population, column or N.POPULATION
    else:
        if column is None:
            raise InputError(
                f"{population}: name the residents column of the population layer with "
                "--population-column COL (e.g. pop2018)"
            )
        source = zones_from_file(population, population_column=column)
        column = N.POPULATION
        inputs["population"] = _file_info(population)
    residents = interpolate_population(source, zones, streets, column)
    return zones.assign(**{N.POPULATION: residents.to_numpy()})


def summarize(analysis: Analysis) -> dict[str, Any]:
    """Headline figures of an analysis, as saved in ``summary.json``."""
    zones, walk, params = analysis.zones, analysis.walk, analysis.parameters
    has_pop = analysis.has_population
    total_pop = float(zones[N.POPULATION].sum()) if has_pop else None
    nodes = walk.node_times()
    within: dict[str, Any] = {}
    for m in params["minutes"]:
        key = f"{m:g}"
        entry: dict[str, Any] = {
            "share_area": float(
                (zones[N.share("area", m)] * zones[N.AREA_KM2]).sum() / zones[N.AREA_KM2].sum()
            )
        }
        if has_pop and total_pop:
            residents = float(zones[N.residents(m)].sum())
            entry.update(residents=residents, share=residents / total_pop)
        else:
            entry["share"] = entry["share_area"]
        within[key] = entry
    under = zones[zones[N.UNDERSERVED]]
    m_u = params["underserved_minutes"]
    under_rows = []
    for _, z in under.iterrows():
        row = {"zone_id": z[N.ZONE_ID], "name": z[N.ZONE_NAME]}
        if has_pop:
            row.update(
                population=float(z[N.POPULATION]),
                share_within=float(z[N.share("pop", m_u)]),
                residents_without_access=float(z[N.POPULATION] - z[N.residents(m_u)]),
            )
        else:
            row["share_area_within"] = float(z[N.share("area", m_u)])
        under_rows.append(row)
    if has_pop:
        under_rows.sort(key=lambda r: -r["residents_without_access"])
    return {
        "note": analysis.note,
        "generated": now_utc().isoformat(timespec="seconds"),  # SOURCE_DATE_EPOCH if set
        "attribution": OSM_ATTRIBUTION,
        "inputs": analysis.inputs,
        "parameters": params,
        "counts": {
            "spaces": len(walk.spaces),
            "network_nodes": int(walk.streets.n_nodes),
            "street_segments": int(walk.streets.n_edges),
            "nodes_without_reachable_space": int(nodes["walk_time_s"].isna().sum()),
            "zones": len(zones),
            "underserved_zones": len(under),
        },
        "residents_total": total_pop,
        "population_weighting": (
            "residents spread evenly over the walkable street length inside each zone"
            if has_pop
            else "no population given: shares are of area"
        ),
        "within": within,
        "underserved": under_rows,
        "zones_without_residents": (
            zones.loc[zones[N.POPULATION] <= 0, N.ZONE_ID].tolist() if has_pop else []
        ),
        "software": _versions(),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("fifteenmin", "geopandas", "shapely", "scipy", "networkx", "osmium", "osmnx"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def zones_table(analysis: Analysis) -> pd.DataFrame:
    """The per-zone table without geometry (as in ``zones.csv``)."""
    return pd.DataFrame(analysis.zones.drop(columns="geometry"))
