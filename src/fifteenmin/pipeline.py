"""The whole analysis in one call: inputs -> walk times -> isochrones -> zones -> outputs."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import platform
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from . import _names as N
from ._credits import attribution_lines, street_attribution
from ._geom import polygonal
from ._io import VECTOR_SUFFIXES, check_file, now_utc
from ._topology import DEFAULT_JOIN_GAP_M, FRAGMENT_MAX_M, join_gaps
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
from .study_area import DATA_EXTENT_BUFFER_M, StudyArea, study_area_from, walk_margin_m
from .travel import MAX_SNAP_M, WalkTimes, walk_times
from .zones import (
    SPARSE_SHARE,
    StreetPieces,
    check_sparse_share,
    check_underserved,
    counted_geometries,
    sparse_rule,
    street_pieces,
    zone_coverage,
    zones_from_file,
    zones_from_frame,
)

if TYPE_CHECKING:
    from .categories import Category
    from .scenarios import Scenarios, Sensitivity
    from .services import CategoryFigures

logger = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True, repr=False)
class Analysis:
    """Everything one run computes; :meth:`write` saves it as a report folder.

    Every layer is in one projected CRS, the network's (the UTM zone of the data,
    ``parameters["crs"]``; EPSG:32633 for Rome): :attr:`zones`, :attr:`spaces`,
    :attr:`isochrones`, :attr:`coverage`, :attr:`fragments` and the walking times
    (``walk.node_times()``); ``.to_crs(4326)`` where degrees are wanted. Its ``repr`` is a
    few lines of headline figures (a small table in a notebook).

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    >>> print(repr(result).splitlines()[0])
    <fifteenmin.Analysis: 14 spaces, 12 zones (12 counted, 0 left out), 4 underserved>
    >>> result.spaces.crs == result.zones.crs == result.isochrones.crs
    True
    """

    walk: WalkTimes
    isochrones: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    parameters: dict[str, Any]
    inputs: dict[str, Any]
    note: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    study_area: StudyArea | None = None
    """The area reported on: the data extent, cut by the boundary/bbox when given."""
    data_extent: StudyArea | None = None
    """Where the network has street data (see :meth:`StudyArea.from_streets`)."""
    joins: gpd.GeoDataFrame | None = None
    sensitivity: Sensitivity | None = None
    categories: CategoryFigures | None = None
    """Every service category's figures, when asked for (see
    :func:`~fifteenmin.services.category_figures`)."""
    """The figures at other walking speeds and for other population columns, when asked
    for (see :func:`~fifteenmin.scenarios.sensitivity`)."""
    """The dangling street ends joined to a nearby street (see :func:`join_gaps`)."""
    capacity: gpd.GeoDataFrame | None = None
    """Seats within reach per zone by 2SFCA and E2SFCA, when the zones have residents and
    some space has seats (see :func:`~fifteenmin.capacity.capacity`)."""
    space_worth: gpd.GeoDataFrame | None = None
    """What each space is worth, when the zones have residents (see
    :func:`~fifteenmin.capacity.space_worth`)."""
    title: str = ""
    """The report's title (``--title``); empty: the default title, which names
    :attr:`service_name` when given."""
    service_name: str = ""
    """What the spaces are, in the words of the report's readers and language
    (``--service-name``, e.g. ``"spazi di coworking"``); empty: "spaces"."""
    attributions: tuple[str, ...] = ()
    """Where the inputs other than the streets come from (``--attribution``, e.g.
    ``"Zone urbanistiche: Roma Capitale"``), one line each after the streets' attribution on
    the maps and in the report; empty: the input files are named (see
    :func:`fifteenmin._credits.attribution_lines`)."""
    _pieces: StreetPieces | None = field(default=None, repr=False, compare=False)

    @cached_property
    def street_pieces(self) -> StreetPieces:
        """The walkable streets clipped to the zones, as counted in the zone figures."""
        if self._pieces is not None:
            return self._pieces
        zones = self.zones.to_crs(self.walk.streets.crs)
        return street_pieces(self.walk, counted_geometries(zones))

    @cached_property
    def scenarios(self) -> Scenarios:
        """The zone figures again for other spaces, speeds or population columns, fast
        (see :class:`~fifteenmin.scenarios.Scenarios`; built on first use)."""
        from .scenarios import Scenarios

        return Scenarios(self)

    @cached_property
    def fragments(self) -> gpd.GeoDataFrame:
        """The street fragments left out of the zone figures (one row each)."""
        return self.walk.fragments()

    @property
    def counted(self) -> np.ndarray:
        """Which zones count in the headline figures (status ``ok`` or ``partial_data``;
        every zone of zones without a status)."""
        if N.STATUS not in self.zones.columns:
            return np.ones(len(self.zones), dtype=bool)
        return self.zones[N.STATUS].isin(N.COUNTED).to_numpy()

    @property
    def spaces(self) -> gpd.GeoDataFrame:
        """The spaces with where they join the network (``access_m``) and, with residents,
        what each is worth (``residents_<m>min``, ``sole_residents_<m>min``,
        ``seats_per_1000_residents_<m>min``; see :func:`~fifteenmin.capacity.space_worth`).
        Input columns named like those get the prefix ``src_``. In the network's CRS, like
        the zones (``walk.spaces`` holds them as read, in WGS84)."""
        spaces = self.walk.spaces.to_crs(self.walk.streets.crs)
        spaces["access_m"] = self.walk.snaps["access_m"].to_numpy()
        worth = self.space_worth
        ids = spaces[N.SPACE_ID].astype(str).to_numpy()
        # (not the worth of other spaces: an analysis copied with another walk)
        if worth is not None and np.array_equal(worth[N.SPACE_ID].to_numpy(), ids):
            worth = worth.drop(columns=[N.SPACE_ID, N.SPACE_NAME, N.SEATS, worth.geometry.name])
            clash = {c: N.SOURCE_PREFIX + str(c) for c in spaces if N.is_worth_column(str(c))}
            spaces = spaces.rename(columns=clash)
            for column in worth.columns:
                spaces[column] = worth[column].to_numpy()
        return spaces

    @property
    def has_population(self) -> bool:
        """Whether the zones carry residents."""
        return bool(self.zones[N.POPULATION].notna().any())

    def __repr__(self) -> str:
        """A few lines: the headline figures, the parameters, the optional parts present
        and how to write the report (the whole tables are :attr:`zones`, :attr:`summary`)."""
        about = _about(self)
        if about is None:
            return f"<fifteenmin.Analysis: {len(self.zones)} zones>"
        lines = [f"<fifteenmin.Analysis: {about['title']}>"]
        lines += [f"  {label}: {value}" for label, value in about["rows"]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The same as :meth:`__repr__`, as a small table for notebooks."""
        from html import escape

        about = _about(self)
        if about is None:
            return f"<p><code>{escape(repr(self))}</code></p>"
        left = ' style="text-align:left"'
        rows = "".join(
            f"<tr><th{left}>{escape(label)}</th><td{left}>{escape(value)}</td></tr>"
            for label, value in about["rows"]
        )
        return (
            f'<div class="fifteenmin-analysis"><p><b>fifteenmin.Analysis</b>: '
            f"{escape(about['title'])}</p><table>{rows}</table></div>"
        )

    def labelled(
        self,
        *,
        title: str | None = None,
        service_name: str | None = None,
        attributions: Sequence[str] | None = None,
        note: str | None = None,
    ) -> Analysis:
        """A copy with the texts of the report and the maps set (None: kept as they are).

        ``title`` (the report's title), ``service_name`` (what the spaces are, e.g.
        ``"spazi di coworking"``), ``attributions`` (where the inputs other than the
        streets come from, one line each) and ``note`` (shown under the title and on the
        maps); ``summary`` records them. Nothing is computed again.

        Examples
        --------
        >>> import fifteenmin as fm
        >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
        >>> result = fm.analyze(city.network, city.spaces, city.zones)
        >>> named = result.labelled(title="Rome", attributions=["Zones: Roma Capitale"])
        >>> named.title, named.summary["attributions"][-1], result.title
        ('Rome', 'Zones: Roma Capitale', '')
        """
        from dataclasses import replace

        changes: dict[str, Any] = {}
        for name, value in (("title", title), ("service_name", service_name), ("note", note)):
            if value is not None:
                changes[name] = " ".join(str(value).split())  # one line
        if attributions is not None:
            lines = (" ".join(str(a).split()) for a in attributions)
            changes["attributions"] = tuple(a for a in lines if a)
        out = replace(self, **changes, summary=dict(self.summary), _pieces=self._pieces)
        out.summary.update(
            note=out.note,
            title=out.title or None,
            service_name=out.service_name or None,
            attribution=street_attribution(out),
            attributions=attribution_lines(out),
        )
        return out

    def write(
        self,
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
        default QGIS style in ``layer_styles``), ``spaces.csv``, ``coverage_map`` and
        ``walk_time_map``
        (``.png`` at 200 dpi, ``.svg``, ``.pdf``), ``summary.json``, ``report.html`` and
        ``map.html`` (self-contained); texts in ``lang``: ``"en"`` or ``"it"``; ``report.pdf``
        with ``pdf=True`` (needs WeasyPrint). With ``SOURCE_DATE_EPOCH`` set, every date
        written is that time, and a rerun gives the same bytes. ``basemap``: an XYZ tile URL
        template drawn under ``map.html``'s layers, with its ``basemap_attribution`` (see
        :func:`~fifteenmin.outputs.webmap.basemap_source`); without one the page fetches nothing.
        ``title``, ``service_name``, ``attributions`` and ``note``: the texts of the report
        and the maps, as :meth:`labelled` sets them (None: the analysis's own).

        A convenience, as pandas' ``DataFrame.plot`` is: the writing is
        :func:`fifteenmin.outputs.write_analysis`, imported on call, so that the analysis
        itself needs neither matplotlib nor the report's code. Without matplotlib this
        raises :class:`~fifteenmin.errors.FifteenMinError` naming it, before anything is
        written.
        """
        from .outputs import write_analysis

        return write_analysis(
            self,
            out,
            overwrite=overwrite,
            progress=progress,
            lang=lang,
            pdf=pdf,
            basemap=basemap,
            basemap_attribution=basemap_attribution,
            title=title,
            service_name=service_name,
            attributions=attributions,
            note=note,
        )


def _about(analysis: Analysis) -> dict[str, Any] | None:
    """What :meth:`Analysis.__repr__` shows: a title line and labelled rows (the note, the
    residents or the area within each walk, the parameters, the optional parts, how to
    write it); None where the summary lacks the figures."""
    summary = analysis.summary
    counts, within = summary.get("counts"), summary.get("within")
    if not isinstance(counts, dict) or not isinstance(within, dict):
        return None
    params = analysis.parameters
    try:
        zones, counted = int(counts["zones"]), int(counts["zones_counted"])
        title = (
            f"{counts['spaces']:,} spaces, {zones:,} zones ({counted:,} counted, "
            f"{zones - counted:,} left out), {counts['underserved_zones']:,} underserved"
        )
        total = summary.get("residents_total")
        rows = [("note", analysis.note)] if analysis.note else []
        width = max(len(str(k)) for k in within) if within else 0
        for key, entry in within.items():
            share = entry.get("share")
            if total and entry.get("residents") is not None:
                label = f"residents within {key:>{width}} min"
                value = f"{entry['residents']:,.0f} of {total:,.0f}"
                value += f" ({share:.1%})" if share is not None else ""
            else:
                label = f"area within {key:>{width}} min"
                value = "-" if share is None else f"{share:.1%}"
            rows.append((label, value))
        minutes = ", ".join(f"{m:g}" for m in params["minutes"])
        rows += [
            ("walks", f"{minutes} min at {params['speed_kmh']:g} km/h"),
            (
                "underserved",
                f"below {params['underserved_share']:.0%} of the "
                f"{'residents' if total else 'area'} within {params['underserved_minutes']:g} min",
            ),
        ]
    except (KeyError, TypeError, ValueError):  # a hand-made analysis: the short form
        return None
    crs = analysis.zones.crs
    data = f"CRS {crs.to_string() if crs is not None else 'none'}"
    if params.get("population_column"):
        data = f"residents column {params['population_column']!r}, {data}"
    parts = []
    if analysis.capacity is not None:
        target = params.get("seats_per_1000")
        parts.append(
            "capacity (2SFCA/E2SFCA"
            + (f", target {target:g} desks per 1,000" if target is not None else "")
            + ")"
        )
    elif analysis.space_worth is not None:
        parts.append("what each space is worth")
    if analysis.categories is not None:
        parts.append(f"categories ({len(analysis.categories.times.names)})")
    if analysis.sensitivity is not None:
        parts.append(f"sensitivity ({len(analysis.sensitivity.combinations)} cases)")
    rows += [
        ("data", data),
        ("optional parts", ", ".join(parts) or "none (capacity, categories, sensitivity)"),
        ("tables", ".zones, .spaces, .isochrones, .coverage (GeoDataFrames), .summary"),
        ("write", '.write("out/folder") saves the report folder'),
    ]
    return {"title": title, "rows": rows}


def _file_info(path: str | Path) -> dict[str, Any]:
    """Path, size, date and SHA-256 of an input file (and of a Shapefile's sidecars)."""
    p = Path(path)
    stat = p.stat()
    info: dict[str, Any] = {
        "path": str(p),
        "size_bytes": stat.st_size,
        "modified": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds"),
        "sha256": _sha256(p),
    }
    if p.suffix.lower() == ".shp":
        sidecars = sorted(q for q in p.parent.glob(p.stem + ".*") if q != p and q.is_file())
        info["sidecars"] = {q.name: _sha256(q) for q in sidecars}
    return info


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    sparse_share: float = SPARSE_SHARE,
    extent_buffer_m: float = DATA_EXTENT_BUFFER_M,
    join_gap_m: float = DEFAULT_JOIN_GAP_M,
    fragment_max_m: float = FRAGMENT_MAX_M,
    keep_fragments: bool = False,
    max_snap_m: float = MAX_SNAP_M,
    lat_column: str | None = None,
    lon_column: str | None = None,
    note: str = "",
    seats_per_1000: float | None = None,
    demand_share: float = 1.0,
    decay: str = "gaussian",
    speeds: Sequence[float] | None = None,
    population_columns: Sequence[str] | None = None,
    speed_pairs: dict[str, float] | None = None,
    categories: str | Path | Sequence[Category] | None = None,
    work_category: str = "work",
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
        Residents column (any numeric column, e.g. ``pop2018_65p``) of the zones (file or
        GeoDataFrame), or of ``population`` when given.
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
    sparse_share
        Zones with walkable street length per resident (per km² without population)
        below this share of the study area's
        median get the status ``sparse_streets`` (figures shown, not counted in the
        headline, never underserved); 0 turns the rule off.
    extent_buffer_m
        The network's data extent is the ground within this distance of its walkable
        streets, cut to the file's bounds (see
        :meth:`~fifteenmin.study_area.StudyArea.from_streets`); zones outside it have
        status ``no_data``, zones partly outside it ``partial_data``.
    join_gap_m
        Dangling street ends this close to a street of another part of the network are
        joined to it (footways that stop short of the road in OSM; 0: none); listed in
        ``summary["data_quality"]["joins"]``.
    fragment_max_m, keep_fragments
        Parts of the network without a space and with less street than this (courtyard
        footways, steps not joined to the street) are fragments: left out of the zone
        figures and of :func:`~fifteenmin.planning.suggest_sites`, and listed;
        ``keep_fragments=True`` counts them as streets without access.
    max_snap_m
        Spaces farther than this from any walkable street are an error.
    lat_column, lon_column
        Coordinate columns of a CSV spaces file.
    note
        A line shown in every output (e.g. that the data are synthetic).
    seats_per_1000, demand_share, decay
        Capacity (:func:`~fifteenmin.capacity.capacity_figures`), at the underserved walk:
        with residents, what each space is worth (:attr:`Analysis.space_worth`, columns of
        :attr:`Analysis.spaces`) and the residents within the walk of two spaces or more
        (``pop_2plus_<m>min``); when some space has seats, also the seats within reach per
        1,000 residents by 2SFCA and E2SFCA (:attr:`Analysis.capacity`, zone columns
        ``seats_per_1000_2sfca``...; spaces without seats left out with a warning), against
        a target of ``seats_per_1000`` (adds ``shortfall_seats``), for the share
        ``demand_share`` of residents who would use a space (0 < share <= 1), with the decay
        ``decay`` for E2SFCA (``"gaussian"``, ``"linear"`` or ``"step"``).
        ``summary["capacity"]`` and ``summary["spaces"]`` hold the city-wide figures.
    speeds, population_columns, speed_pairs
        Sensitivity in the same run (:func:`~fifteenmin.scenarios.sensitivity`): the
        zone figures also at these walking speeds (km/h; ``speed_kmh`` always included),
        for these further population columns of the zones (or of ``population``, carried
        like the residents), a column paired with one speed (``{"pop2018_65p": 3.6}``)
        computed at that speed only. Adds per zone ``share_pop_<m>min_low``/``_high``
        (the band of the residents over the speeds, at the underserved walk) and ``borderline``
        (underserved in some combinations of a population column and not in others),
        :attr:`Analysis.sensitivity` and ``summary["sensitivity"]``.
    categories, work_category
        Many kinds of service in the same run (:mod:`fifteenmin.services`): ``"default"``
        (the shipped table, :func:`~fifteenmin.categories.load_categories`), a table file,
        or a list of :class:`~fifteenmin.categories.Category`. Their services are read from
        the tags of the network file (and their registry files); the category
        ``work_category`` is the ``spaces`` of the analysis (its tags and file are not read:
        its figures are the headline's; merge OSM-tagged spaces into a registry with
        ``fifteenmin registry merge`` to count both), and its absence is "the missing
        piece". Adds per zone
        the share within ``underserved_minutes`` of each category, of all of them, the
        categories within reach, the mean walks and the missing piece;
        :attr:`Analysis.categories` and ``summary["categories"]``.
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
    with _kept_warnings() as said:
        minutes = sorted({_finite(m, "walking-time threshold (minutes)") for m in minutes})
        if not minutes or min(minutes) <= 0:
            raise InputError(f"walking-time thresholds must be positive minutes, got {minutes}")
        _check_speed(_finite(speed_kmh, "walking speed (km/h)"))
        check_underserved(minutes, underserved_minutes, _finite(underserved_share, "share"))
        if _finite(buffer_m, "buffer (m)") < 0:
            raise InputError(f"buffer {buffer_m} m is negative; use 0 or more")
        if _finite(max_snap_m, "largest walk to a street (m)") <= 0:
            raise InputError(f"largest walk to a street {max_snap_m} m must be > 0 (e.g. 500)")
        check_sparse_share(sparse_share)
        _check_capacity(seats_per_1000, demand_share, decay, underserved_minutes)
        extra_columns = _check_sensitivity(
            speeds, population_columns, speed_pairs, population_column
        )
        category_list = _category_list(categories)
        # check the small inputs before the (possibly long) network read: fail fast
        if isinstance(spaces, str | Path) and str(spaces) != "osm":
            check_file(spaces, (".csv", ".txt", *VECTOR_SUFFIXES), "spaces")
        hex_res = None if isinstance(zones, gpd.GeoDataFrame) else parse_hex_spec(zones)
        if isinstance(zones, str | Path) and hex_res is None:
            check_file(zones, VECTOR_SUFFIXES, "zones")
        elif isinstance(zones, gpd.GeoDataFrame):
            zones = zones_from_frame(
                zones, population_column=population_column if population is None else None
            )
        elif hex_res is None:
            raise InputError(
                f"zones: expected a file, 'hex:RES' or a GeoDataFrame, got {type(zones).__name__}"
            )
        if hex_res is not None and population is None and population_column is not None:
            raise InputError(
                f"population column {population_column!r} with hexagon zones needs the "
                "population layer that holds it: pass --population FILE"
            )
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
        streets, joins = join_gaps(streets, max_gap_m=_finite(join_gap_m, "join gap (m)"))
        extent = StudyArea.from_streets(streets, buffer_m=extent_buffer_m)
        study = extent if area is None else _study_area(area, extent)

        skip_far = False
        if isinstance(spaces, gpd.GeoDataFrame):
            space_gdf = spaces_from_frame(spaces)
        elif str(spaces) == "osm":
            if isinstance(network, (StreetNetwork, nx.MultiDiGraph)):
                raise InputError("spaces='osm' needs the network as an OSM file path")
            space_gdf = spaces_from_osm(network, polygon=read_polygon)
            inputs["spaces"] = {"from": "OSM tags of the network file"}
            skip_far = True  # a tagged feature far from the streets is skipped, not fatal
        else:
            space_gdf = spaces_from_file(spaces, lat_column=lat_column, lon_column=lon_column)
            inputs["spaces"] = _file_info(spaces)
        if read_area is not None:
            space_gdf = _spaces_within(space_gdf, read_area, margin)
        logger.info("spaces: %d", len(space_gdf))

        if hex_res is not None:
            zone_gdf = hex_zones(study.polygon, hex_res).assign(
                **{N.POPULATION: np.nan, N.DATA_SHARE: 1.0}
            )
        else:
            if isinstance(zones, gpd.GeoDataFrame):
                zone_gdf = zones
            else:
                zone_column = population_column if population is None else None
                zone_gdf = zones_from_file(zones, population_column=zone_column)
                inputs["zones"] = _file_info(zones)
            if area is not None:
                zone_gdf = area.clip_zones(zone_gdf)
            whole = zone_gdf.reset_index(drop=True)
            zone_gdf = extent.cover_zones(zone_gdf)
            if not (zone_gdf[N.DATA_SHARE] > 0).any():
                zb = ", ".join(f"{v:.4f}" for v in zone_gdf.to_crs(4326).total_bounds)
                eb = ", ".join(f"{v:.4f}" for v in extent.bounds)
                raise InputError(
                    f"no zone overlaps the street data: zones lie within ({zb}), the network's "
                    f"data within ({eb}) (west, south, east, north in degrees); check the "
                    "zones' CRS and that longitude and latitude are not swapped, or use a "
                    "network that covers the zones"
                )
        if population is not None:
            zone_gdf = _carry_population(
                zone_gdf, population, population_column, streets, inputs, study, extra_columns
            )
        logger.info("zones: %d", len(zone_gdf))
        missing = [c for c in extra_columns if c not in zone_gdf.columns]
        if missing:  # before the search: the further population groups must be there
            raise InputError(
                f"population column {missing[0]!r} is not a column of the zones; columns are "
                f"{', '.join(map(str, zone_gdf.columns.drop(zone_gdf.geometry.name)))}"
            )

        logger.info("walking times (one multi-source search)")
        walk = walk_times(
            streets,
            space_gdf,
            speed_kmh=speed_kmh,
            max_snap_m=max_snap_m,
            fragment_max_m=None if keep_fragments else fragment_max_m,
            skip_far=skip_far,
        )
        _warn_spaces_outside(walk, extent)
        logger.info("isochrones for %d spaces x %d thresholds", len(space_gdf), len(minutes))
        iso = isochrones(walk, minutes=minutes, buffer_m=buffer_m, progress=progress)
        cov = coverage(walk, minutes=minutes, buffer_m=buffer_m, isochrones=iso)
        logger.info("zone coverage")
        zone_gdf = zone_gdf.to_crs(streets.crs).reset_index(drop=True)
        pieces = street_pieces(walk, counted_geometries(zone_gdf))
        zone_stats = zone_coverage(
            walk,
            zone_gdf,
            cov,
            underserved_share=underserved_share,
            underserved_minutes=underserved_minutes,
            sparse_share=sparse_share,
            pieces=pieces,
        )
        if hex_res is None:
            zone_stats = _whole_where_no_data(zone_stats, whole)
        no_data = int((zone_stats[N.STATUS] == N.NO_DATA).sum())
        if no_data > len(zone_stats) / 2:
            warnings.warn(
                f"{no_data} of {len(zone_stats)} zones have no street data (the network covers "
                f"{extent.bounds[0]:.4f}, {extent.bounds[1]:.4f}, {extent.bounds[2]:.4f}, "
                f"{extent.bounds[3]:.4f}); they are left out of the figures; give --boundary or "
                "--bbox for the area the network covers, or a network that covers the zones",
                stacklevel=2,
            )
        parameters = {
            "minutes": minutes,
            "speed_kmh": speed_kmh,
            "buffer_m": buffer_m,
            "underserved_share": underserved_share,
            "underserved_minutes": underserved_minutes,
            "sparse_share": sparse_share,
            "extent_buffer_m": extent_buffer_m,
            "join_gap_m": join_gap_m,
            "joins": {"count": len(joins), "max_gap_m": join_gap_m},
            "fragment_max_m": fragment_max_m,
            "keep_fragments": keep_fragments,
            "fragment_rule": (
                "kept (--keep-fragments)"
                if keep_fragments
                else f"components of the walking network without a space and with less than "
                f"{fragment_max_m:g} m of street are left out of the zone figures and of suggest"
            ),
            "max_snap_m": max_snap_m,
            "seats_per_1000": seats_per_1000,
            "demand_share": demand_share,
            "decay": decay,
            "population_column": population_column,
            "study_area": study.source,
            "margin_m": margin if area is not None else None,
            "hex_resolution": hex_res,
            "crs": streets.crs.to_string(),
        }
        analysis = Analysis(
            walk,
            iso,
            cov,
            zone_stats,
            parameters,
            inputs,
            note,
            study_area=study,
            data_extent=extent,
            joins=joins,
            _pieces=pieces,
        )
        analysis.summary.update(summarize(analysis))
        analysis = _with_capacity(analysis)
        if speeds is not None or extra_columns or speed_pairs:
            analysis = _with_sensitivity(analysis, speeds, extra_columns, speed_pairs)
        if category_list is not None:
            osm = network if isinstance(network, str | Path) else None
            analysis = _with_categories(
                analysis, category_list, osm, read_polygon, work_category, progress
            )
    analysis.summary["data_quality"]["warnings"] = said
    return analysis


@contextlib.contextmanager
def _kept_warnings() -> Iterator[list[str]]:
    """Record the warnings of a run: shown as usual afterwards, and their texts kept for
    the report (each once)."""
    said: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield said
        finally:
            kept = list(caught)
    shown: dict[Any, Any] = {}  # one registry: a warning repeated at one place shows once
    for w in kept:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=shown)
        if issubclass(w.category, UserWarning) and str(w.message) not in said:
            said.append(str(w.message))


def _warn_spaces_outside(walk: WalkTimes, extent: StudyArea) -> None:
    """Warn of spaces outside the street data: they reach the streets in a straight line."""
    outside = ~extent.contains(walk.spaces)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        warnings.warn(
            f"{int(outside.sum())} space(s) lie outside the network's street data (e.g. "
            f"{walk.spaces['space_id'].iloc[i]!r}, {walk.snaps['access_m'].iloc[i]:.0f} m in a "
            "straight line from the nearest street of the file): their walks are "
            "approximate; use a network that covers every space",
            stacklevel=2,
        )


def _whole_where_no_data(stats: gpd.GeoDataFrame, whole: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``no_data`` zones shown whole (inside the boundary), with all their residents:
    the residents left out are the zone's, not those of a sliver that touched the data."""
    no_data = stats[N.STATUS].to_numpy() == N.NO_DATA
    if not no_data.any():
        return stats
    out = stats.copy()
    geoms = whole.to_crs(stats.crs).geometry.to_numpy()
    out.loc[no_data, out.geometry.name] = geoms[no_data]
    out.loc[no_data, N.AREA_KM2] = shapely.area(geoms[no_data]) / 1e6
    before = pd.to_numeric(whole[N.POPULATION], errors="coerce").to_numpy(dtype=float)
    keep = no_data & np.isfinite(before)
    out.loc[keep, N.POPULATION] = before[keep]
    return out


def _finite(value: float, what: str) -> float:
    """``value`` as a float, refusing NaN and infinity with one line."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {value!r} is not a number") from None
    if not np.isfinite(number):
        raise InputError(f"{what}: {value!r} is not a finite number")
    return number


def _study_area(area: StudyArea, extent: StudyArea) -> StudyArea:
    """The user's study area cut to the data extent; one line when they do not meet."""
    common = polygonal(shapely.intersection(area.polygon, extent.polygon))
    if common.is_empty:
        ab = ", ".join(f"{v:.4f}" for v in area.bounds)
        eb = ", ".join(f"{v:.4f}" for v in extent.bounds)
        raise InputError(
            f"the study area ({ab}) and the network's street data ({eb}) do not overlap "
            "(west, south, east, north in degrees); check the boundary's CRS, the bbox "
            "order (west south east north) and that the network covers the study area"
        )
    return StudyArea(common, source=f"{area.source} ∩ the street data")


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


def _check_capacity(
    seats_per_1000: float | None, demand_share: float, decay: str, minutes: float
) -> None:
    """Check the capacity options before any work (one line each, as capacity says)."""
    from .capacity import _check_options, kernel_function

    _check_options(seats_per_1000, demand_share)
    if not isinstance(decay, str):
        raise InputError(f"decay {decay!r}: give a name, one of gaussian, linear, step")
    kernel_function(decay, minutes)


def _with_capacity(analysis: Analysis) -> Analysis:
    """The analysis with what each space is worth and, with seats, the capacity (see
    analyze); as it was without residents in the counted zones."""
    import dataclasses

    from .capacity import capacity_figures

    zones, params = analysis.zones, analysis.parameters
    target = params["seats_per_1000"]
    if not analysis.has_population or not zones.loc[analysis.counted, N.POPULATION].sum() > 0:
        if target is not None:
            warnings.warn(
                f"no residents in the counted zones: the target of {target:g} desks per 1,000 "
                "residents is not assessed; name the residents column with "
                "--population-column COL",
                stacklevel=3,
            )
        return analysis
    spaces = analysis.walk.spaces
    if target is not None and not (N.SEATS in spaces and spaces[N.SEATS].notna().any()):
        warnings.warn(
            f"no space has a number of seats: the target of {target:g} desks per 1,000 "
            "residents is not assessed; fill the seats column (seats, postazioni, desks or "
            "capacity) of the spaces file",
            stacklevel=3,
        )
    m = float(params["underserved_minutes"])
    logger.info("capacity and what each space is worth (%g min)", m)
    figures = capacity_figures(
        analysis,
        minutes=m,
        kernel=params["decay"],
        seats_per_1000=params["seats_per_1000"],
        demand_share=params["demand_share"],
    )
    zones = zones.copy()
    for column in (N.residents_2plus(m), N.share("pop_2plus", m)):
        zones[column] = figures.robustness[column].to_numpy()
    cap = figures.capacity
    if cap is not None:
        for column in N.CAPACITY_COLUMNS:
            if column in cap.columns:
                zones[column] = cap[column].to_numpy()
    analysis = dataclasses.replace(analysis, zones=zones, capacity=cap, space_worth=figures.worth)
    analysis.summary["spaces"] = _spaces_summary(analysis)
    if cap is not None:
        analysis.summary["capacity"] = _capacity_summary(analysis)
    return analysis


def _spaces_summary(analysis: Analysis, top: int = 15) -> dict[str, Any]:
    """``summary["spaces"]``: what the spaces are worth, the most precious first."""
    worth = analysis.space_worth
    assert worth is not None  # called with it
    m = float(worth.attrs["minutes"])
    counted = analysis.zones.loc[analysis.counted]
    residents = float(counted[N.POPULATION].sum())
    two = float(counted[N.residents_2plus(m)].sum())
    sole, within = N.sole_residents(m), N.space_residents(m)
    order = worth.sort_values([sole, within], ascending=False, kind="stable").head(top)
    return {
        "minutes": m,
        "residents_covered": float(worth.attrs["residents_covered"]),
        "residents_sole": float(worth[sole].sum()),
        "residents_2plus": two,
        "share_2plus": two / residents if residents > 0 else None,
        "top_sole": [
            {
                "space_id": str(r[N.SPACE_ID]),
                "name": None if pd.isna(r[N.SPACE_NAME]) else str(r[N.SPACE_NAME]),
                "seats": None if pd.isna(r[N.SEATS]) else int(r[N.SEATS]),
                "residents": float(r[within]),
                "sole_residents": float(r[sole]),
                "seats_per_1000_residents": _or_none(r[N.space_seats_per_1000(m)]),
            }
            for r in order.to_dict("records")
        ],
    }


def _capacity_summary(analysis: Analysis, top: int = 10) -> dict[str, Any]:
    """``summary["capacity"]``: the city-wide seats within reach and the largest shortfalls."""
    cap = analysis.capacity
    assert cap is not None  # called with it
    a = cap.attrs
    counted = cap.loc[analysis.counted]
    demand = float(counted[N.DEMAND].sum())
    out: dict[str, Any] = {
        "minutes": a["minutes"],
        "kernel": a["kernel"],
        "demand_share": a["demand_share"],
        "seats_per_1000": a["seats_per_1000"],
        "seats_total": a["seats_total"],
        "seats_reached": a["seats_reached"],
        "spaces_with_seats": a["spaces_with_seats"],
        "spaces_without_seats": {
            "count": len(a["spaces_without_seats"]),
            "ids": a["spaces_without_seats"],
            "rule": "left out of the capacity figures: neither supply nor competition",
        },
        "demand": demand,
    }
    for method in N.METHODS:
        seats = float(counted[N.seats_reached(method)].sum())
        out[N.seats_per_1000(method)] = 1000.0 * seats / demand if demand > 0 else None
    if a["seats_per_1000"] is not None:
        out["target_seats"] = float(counted[N.TARGET_SEATS].sum())
        out[N.SHORTFALL] = float(counted[N.SHORTFALL].sum())
        out[N.SHORTFALL_E2SFCA] = float(counted[N.SHORTFALL_E2SFCA].sum())
        short = counted.loc[counted[N.SHORTFALL] > 0]
        out["zones_short"] = len(short)
        worst = short.sort_values(N.SHORTFALL, ascending=False, kind="stable").head(top)
        out["largest_shortfall"] = [
            {
                "zone_id": str(r[N.ZONE_ID]),
                "name": str(r[N.ZONE_NAME]),
                N.DEMAND: float(r[N.DEMAND]),
                N.seats_per_1000("2sfca"): _or_none(r[N.seats_per_1000("2sfca")]),
                N.SHORTFALL: float(r[N.SHORTFALL]),
            }
            for r in worst.to_dict("records")
        ]
    return out


def _or_none(value: Any) -> float | None:
    """A float for JSON, None where missing."""
    return None if value is None or pd.isna(value) else float(value)


def _category_list(categories: str | Path | Sequence[Category] | None) -> list[Category] | None:
    """The categories asked for, read and checked before any work (None: none)."""
    if categories is None:
        return None
    from .categories import Category, load_categories

    if isinstance(categories, str | Path):
        return load_categories(None if str(categories) == "default" else categories)
    out = list(categories)
    bad = [c for c in out if not isinstance(c, Category)]
    if bad or not out:
        raise InputError(
            "categories: give 'default', a category table file or a list of Category "
            f"(got {type(bad[0]).__name__ if bad else 'an empty list'})"
        )
    return out


def _with_categories(
    analysis: Analysis,
    categories: list[Category],
    osm: str | Path | None,
    polygon: Any,
    work: str,
    progress: bool,
) -> Analysis:
    """The analysis with every category's figures (see analyze)."""
    import dataclasses

    from .categories import load_services
    from .services import category_figures, category_times

    walk, params = analysis.walk, analysis.parameters
    logger.info("services of %d categories", len(categories))
    read = [c for c in categories if c.name != work and (c.tags or c.file is not None)]
    services = load_services(
        read,
        osm=osm if any(c.tags for c in read) else None,
        polygon=polygon,
        streets=walk.streets,
        progress=progress,
    )
    services = {c.name: services.get(c.name, walk.spaces.iloc[:0]) for c in categories}
    if work in services:  # work is the analysis's spaces: its figures are the headline's
        services[work] = walk.spaces.to_crs(4326).assign(category=work)
    times = category_times(
        walk.streets,
        services,
        speed_kmh=walk.speed_kmh,
        max_snap_m=params["max_snap_m"],
        fragment_max_m=None if params["keep_fragments"] else params["fragment_max_m"],
    )
    figures = category_figures(
        times,
        analysis.zones,
        labels={c.name: {"en": c.label("en"), "it": c.label("it")} for c in categories},
        minutes=float(params["underserved_minutes"]),
        missing=work,
        counted=analysis.counted,
    )
    extra = figures.zones.drop(columns=[N.ZONE_ID])
    zones = analysis.zones.drop(columns=extra.columns, errors="ignore")
    zones = pd.concat([zones, extra.set_index(zones.index)], axis=1)
    zones = gpd.GeoDataFrame(zones, geometry=analysis.zones.geometry.name, crs=analysis.zones.crs)
    analysis.summary["categories"] = figures.summary()
    analysis.parameters["categories"] = [c.name for c in categories]
    analysis.parameters["work_category"] = work
    return dataclasses.replace(analysis, zones=zones, categories=figures)


def _check_sensitivity(
    speeds: Sequence[float] | None,
    columns: Sequence[str] | None,
    pairs: dict[str, float] | None,
    population_column: str | None,
) -> list[str]:
    """Check the sensitivity options before any work; the further population columns."""
    for s in speeds or ():
        _check_speed(_finite(s, "walking speed of --speeds (km/h)"))
    if isinstance(columns, str):
        columns = [columns]
    extra = [str(c) for c in dict.fromkeys(columns or ()) if c != population_column]
    if (speeds is not None or extra or pairs) and population_column is None:
        raise InputError(
            "sensitivity (--speeds, several population columns, --speed-for) counts residents; "
            "name the residents column with --population-column COL"
        )
    for col, s in (pairs or {}).items():
        if col != population_column and col not in extra:
            raise InputError(
                f"--speed-for {col}={s}: {col!r} is not among the population columns "
                f"({', '.join([str(population_column), *extra])}); add it to "
                "--population-column"
            )
        _check_speed(_finite(s, f"walking speed of {col} (km/h)"))
    return extra


def _with_sensitivity(
    analysis: Analysis,
    speeds: Sequence[float] | None,
    extra: list[str],
    pairs: dict[str, float] | None,
) -> Analysis:
    """The analysis with its sensitivity band and borderline flags (see analyze)."""
    import dataclasses

    from .scenarios import sensitivity

    main = analysis.parameters["population_column"]
    for col in extra:
        if col not in analysis.zones.columns:
            raise InputError(
                f"population column {col!r} is not a column of the zones; give columns of "
                "the zones layer (or of --population)"
            )
    sens = sensitivity(
        analysis,
        speeds=speeds,
        population_columns=[main, *extra],
        pairs=pairs,
    )
    band = sens.zones.drop(columns=[N.ZONE_ID, N.ZONE_NAME, N.STATUS])
    zones = analysis.zones.drop(columns=band.columns, errors="ignore")
    zones = pd.concat([zones, band.set_index(zones.index)], axis=1)
    zones = gpd.GeoDataFrame(zones, geometry=analysis.zones.geometry.name, crs=analysis.zones.crs)
    summary = analysis.summary
    summary["sensitivity"] = {
        **sens.parameters,
        "citywide": sens.citywide.to_dict("records"),
        "borderline": [
            {"zone_id": str(z), "name": str(n)}
            for z, n in zip(
                sens.zones.loc[sens.zones[N.BORDERLINE], N.ZONE_ID],
                sens.zones.loc[sens.zones[N.BORDERLINE], N.ZONE_NAME],
                strict=True,
            )
        ],
    }
    analysis.parameters.update(
        speeds_kmh=sens.parameters["speeds_kmh"],
        population_columns=sens.parameters["population_columns"],
        speed_pairs=sens.parameters["pairs"],
    )
    return dataclasses.replace(analysis, zones=zones, sensitivity=sens)


def _carry_population(
    zones: gpd.GeoDataFrame,
    population: str | Path | gpd.GeoDataFrame,
    column: str | None,
    streets: StreetNetwork,
    inputs: dict[str, Any],
    study: StudyArea,
    extra: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Zones with residents carried from a separate population layer by street length.

    Each source zone brings only the residents of its part inside the study area (its
    residents scaled by the share of its area inside, the rule of the zones themselves),
    so a zone straddling the border of an extract does not pile all its residents onto
    the few streets inside. Zones outside the street data (``share_area_with_data`` 0)
    get the residents the layer places in them by area: those left out of the figures.
    """
    if column is None:
        raise InputError(
            "population layer: name its residents column with population_column= "
            "(--population-column COL, e.g. pop2018)"
        )
    if isinstance(population, gpd.GeoDataFrame):
        source = zones_from_frame(population, population_column=column, where="population")
        column = N.POPULATION
    else:
        source = zones_from_file(population, population_column=column)
        column = N.POPULATION
        inputs["population"] = _file_info(population)
    inside = study.cover_zones(source)
    inside = inside.loc[inside[N.DATA_SHARE].to_numpy() > 0]
    residents = interpolate_population(inside, zones, streets, column).to_numpy(copy=True)
    outside = zones[N.DATA_SHARE].to_numpy() <= 0
    if outside.any():
        residents[outside] = _by_area(source, zones.loc[outside], streets.crs)
    carried = {N.POPULATION: residents}
    share = pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy()
    for col in extra:  # further groups, e.g. residents 65+: for the whole zone, as a layer's
        if col not in source.columns:
            raise InputError(
                f"population column {col!r} is not a column of the population layer; "
                f"columns are {', '.join(map(str, source.columns.drop(source.geometry.name)))}"
            )
        values = pd.to_numeric(source[col], errors="coerce")
        if values.isna().any() or (values < 0).any():
            raise InputError(
                f"population layer: column {col!r} holds values that are not numbers of "
                "residents >= 0; fix them or name another column"
            )
        part = inside.assign(**{col: pd.to_numeric(inside[col]) * inside[N.DATA_SHARE]})
        got = interpolate_population(part, zones, streets, col).to_numpy(copy=True)
        got = np.divide(got, share, out=np.zeros_like(got), where=share > 0)
        if outside.any():
            got[outside] = _by_area(source.assign(**{N.POPULATION: values}), zones.loc[outside],
                                    streets.crs)  # fmt: skip
        carried[col] = got
    return zones.assign(**carried)


def _by_area(source: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, crs: Any) -> np.ndarray:
    """Residents of ``source`` falling in each target, in proportion to area."""
    src = source.to_crs(crs).geometry.to_numpy()
    tgt = targets.to_crs(crs).geometry.to_numpy()
    t_i, s_i = shapely.STRtree(src).query(tgt, predicate="intersects")
    whole = shapely.area(src[s_i])
    part = shapely.area(shapely.intersection(src[s_i], tgt[t_i]))
    share = np.divide(part, whole, out=np.zeros(len(s_i)), where=whole > 0)
    pop = source[N.POPULATION].to_numpy(dtype=float)[s_i]
    return np.bincount(t_i, weights=pop * share, minlength=len(tgt))


def summarize(analysis: Analysis) -> dict[str, Any]:
    """Headline figures of an analysis, as saved in ``summary.json``.

    The figures count the zones with status ``ok`` or ``partial_data`` only; how many
    zones and residents were left out, and why, is under ``data_quality``.
    """
    all_zones, walk, params = analysis.zones, analysis.walk, analysis.parameters
    has_pop = analysis.has_population
    zones = all_zones.loc[analysis.counted]
    total_pop = float(zones[N.POPULATION].sum()) if has_pop else None
    nodes = walk.node_times()
    within: dict[str, Any] = {}
    area_total = float(zones[N.AREA_KM2].sum())
    for m in params["minutes"]:
        key = f"{m:g}"
        share_area = (
            float((zones[N.share("area", m)] * zones[N.AREA_KM2]).sum() / area_total)
            if area_total > 0
            else None
        )
        entry: dict[str, Any] = {"share_area": share_area}
        if has_pop and total_pop:
            residents = float(zones[N.residents(m)].sum())
            entry.update(residents=residents, share=residents / total_pop)
        elif has_pop:  # residents given, but none in the counted zones: shares of area
            entry.update(residents=0.0, share=share_area)
        else:
            entry["share"] = share_area
        within[key] = entry
    under = all_zones[all_zones[N.UNDERSERVED]]
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
        "attribution": street_attribution(analysis),
        "attributions": attribution_lines(analysis),
        "inputs": analysis.inputs,
        "parameters": params,
        "counts": {
            "spaces": len(walk.spaces),
            "network_nodes": int(walk.streets.n_nodes),
            "street_segments": int(walk.streets.n_edges),
            "nodes_without_reachable_space": int(nodes["walk_time_s"].isna().sum()),
            "zones": len(all_zones),
            "zones_counted": len(zones),
            "underserved_zones": len(under),
        },
        "residents_total": total_pop,
        "population_weighting": (
            "residents spread evenly over the walkable street length inside each zone"
            if has_pop and total_pop
            else "no residents in the counted zones: shares are of area"
            if has_pop
            else "no population given: shares are of area"
        ),
        "within": within,
        "underserved": under_rows,
        "zones_without_residents": (
            zones.loc[zones[N.POPULATION] <= 0, N.ZONE_ID].tolist() if has_pop else []
        ),
        "data_quality": _data_quality(analysis),
        "software": _versions(),
    }


def _data_quality(analysis: Analysis) -> dict[str, Any]:
    """What the figures rest on: study area, data extent, zones by status, what was left
    out and why, snapping distances, skipped inputs, input files."""
    zones, walk, params = analysis.zones, analysis.walk, analysis.parameters
    has_pop = analysis.has_population
    by_status = {}
    for status in N.STATUSES:
        rows = zones[N.STATUS] == status
        by_status[status] = {
            "zones": int(rows.sum()),
            "residents": float(zones.loc[rows, N.POPULATION].sum()) if has_pop else None,
        }
    left = ~analysis.counted
    study, extent = analysis.study_area, analysis.data_extent
    snaps = analysis.spaces.sort_values("access_m", ascending=False).head(5)
    names = snaps["name"] if "name" in snaps.columns else snaps["space_id"]
    frag = analysis.fragments
    skipped = walk.skipped
    return {
        "study_area": (
            {"source": study.source, "area_km2": study.area_km2} if study is not None else None
        ),
        "margin_m": params.get("margin_m"),
        "data_extent": (
            {"source": extent.source, "area_km2": extent.area_km2, "bounds": list(extent.bounds)}
            if extent is not None
            else None
        ),
        "osm_timestamp": walk.streets.osm_timestamp,
        "osm_generator": walk.streets.osm_generator,
        "zones_by_status": by_status,
        "left_out": {
            "zones": int(left.sum()),
            "residents": float(zones.loc[left, N.POPULATION].sum()) if has_pop else None,
        },
        "sparse_rule": sparse_rule(params["sparse_share"], per_resident=has_pop),
        "fragments": {
            "count": len(frag),
            "nodes": int(frag["n_nodes"].sum()),
            "street_length_m": float(frag["street_length_m"].sum()),
            "rule": params["fragment_rule"],
            "kept": bool(params["keep_fragments"]),
        },
        "joins": params.get("joins"),
        "joined": [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}
            for r in analysis.joins.drop(columns="geometry").to_dict("records")
        ]
        if analysis.joins is not None
        else [],
        "largest_snaps": [
            {"space_id": str(i), "name": None if pd.isna(n) else str(n), "access_m": float(a)}
            for i, n, a in zip(snaps["space_id"], names, snaps["access_m"], strict=True)
        ],
        "skipped": [
            {"what": "OSM-tagged space", "id": str(r["space_id"]), "reason": str(r["reason"])}
            for r in skipped.to_dict("records")
        ],
        "warnings": [],
        "inputs": analysis.inputs,
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
