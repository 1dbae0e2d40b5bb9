"""Neighbourhood polygons and their coverage: share of area and residents within each walk."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _names as N
from ._geom import parts_inside, polygonal
from ._io import read_vector
from .errors import InputError
from .travel import WalkTimes, reachable_parts

logger = logging.getLogger(__name__)

_ID_NAMES = ("zone_id", "id", "code", "codice", "zu_cod", "codzu", "cod", "fid")
_NAME_NAMES = ("name", "nome", "zu_nome", "zone_name", "municipio", "label")


def _pick(columns: pd.Index, names: Sequence[str]) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def zones_from_file(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer of zones (GeoJSON, GeoPackage, Shapefile).

    Invalid polygons are repaired with ``make_valid`` and only their polygonal parts kept.

    Parameters
    ----------
    path
        The layer.
    id_column, name_column
        Columns holding the zone id and name; by default the first of the usual names
        (``zone_id``/``id``/``code``..., ``name``/``nome``...), else a running number.
    population_column
        Numeric column of residents (or any weight, e.g. residents aged 65+).
    layer
        Layer name in a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id`` (str), ``name``, ``residents`` (float, from ``population_column``; NaN
        without one), then the input columns, those whose names clash with an output
        column prefixed ``src_`` (see :func:`zones_from_frame`); the input CRS is kept.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> zones = fm.zones_from_file(city.zones, population_column="population")
    >>> list(zones.columns[:3]), bool(zones["residents"].gt(0).all())
    (['zone_id', 'name', 'residents'], True)
    """
    path = Path(path)
    gdf = read_vector(path, layer=layer)
    return zones_from_frame(
        gdf,
        id_column=id_column,
        name_column=name_column,
        population_column=population_column,
        where=str(path),
    )


def zones_from_frame(
    gdf: gpd.GeoDataFrame,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    population_column: str | None = None,
    where: str = "zones",
) -> gpd.GeoDataFrame:
    """Zones from a polygon GeoDataFrame, checked as :func:`zones_from_file` checks a file.

    Ids and names are taken from the usual columns (else a running number); residents from
    ``population_column``, or from ``residents`` when the frame has one; input columns
    whose names clash, case-insensitively, with an output column (``name``, ``residents``,
    ``area_in_study_km2``, ``share_...``, ``status``...) are kept with the prefix ``src_``
    (e.g. ``src_Name``), so a source value is never overwritten by a computed one.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame({"Name": ["a"], "area_km2": [1.0]},
    ...                        geometry=[shapely.box(0, 0, 0.01, 0.01)], crs=4326)
    >>> list(zones_from_frame(gdf).columns)
    ['zone_id', 'name', 'residents', 'src_Name', 'area_km2', 'geometry']
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{where}: expected a GeoDataFrame of zone polygons, got {type(gdf).__name__}"
        )
    if gdf.crs is None:
        raise InputError(
            f"{where}: the zones have no CRS; set one (e.g. gdf.set_crs(4326) or save the "
            "layer with its CRS)"
        )
    if len(gdf) == 0:
        raise InputError(f"{where}: no zones")
    if population_column is None and N.POPULATION in gdf.columns:
        if gdf[N.POPULATION].notna().any():  # zones made by fifteenmin, with residents
            population_column = N.POPULATION
        else:
            gdf = gdf.drop(columns=[N.POPULATION])
    geoms = gdf.geometry.to_numpy()
    _check_coordinates(geoms, gdf.crs, where)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        logger.info("%s: repaired %d invalid polygon(s) with make_valid", where, int(bad.sum()))
        geoms = np.where(bad, shapely.make_valid(geoms), geoms)
    geoms = np.array([polygonal(g) for g in geoms], dtype=object)
    empty = shapely.is_empty(geoms)
    if empty.all():
        raise InputError(
            f"{where}: the layer has no polygons (found "
            f"{', '.join(sorted(set(gdf.geom_type.dropna())))}); "
            "give a layer of zone polygons"
        )
    if empty.any():
        warnings.warn(
            f"{where}: {int(empty.sum())} feature(s) without polygon area dropped "
            f"(first: feature {int(np.flatnonzero(empty)[0]) + 1}); fix them to include them",
            stacklevel=2,
        )
    for given, label in (
        (id_column, "id"),
        (name_column, "name"),
        (population_column, "population"),
    ):
        if given is not None and given not in gdf.columns:
            raise InputError(
                f"{where}: no column {given!r} for the zone {label}; columns are "
                f"{', '.join(map(str, gdf.columns.drop(gdf.geometry.name)))}"
            )
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    id_col = id_column or _pick(attrs.columns, _ID_NAMES)
    name_col = name_column or _pick(attrs.columns, _NAME_NAMES)
    out = pd.DataFrame(index=attrs.index)
    out[N.ZONE_ID] = (
        attrs[id_col].astype(str) if id_col else [str(i + 1) for i in range(len(attrs))]
    )
    out[N.ZONE_NAME] = _zone_names(attrs[name_col]) if name_col else out[N.ZONE_ID]
    out[N.POPULATION] = (
        _population(attrs[population_column], where) if population_column else np.nan
    )
    for col in attrs.columns:
        name = str(col)
        if N.is_output_column(name) or name.lower() == "geometry":
            name = N.SOURCE_PREFIX + name
        out[name] = attrs[col]
    if out[N.ZONE_ID].duplicated().any():
        dup = out.loc[out[N.ZONE_ID].duplicated(), N.ZONE_ID].iloc[0]
        raise InputError(
            f"{where}: zone id {dup!r} appears more than once in column {id_col!r}; "
            "pass --id-column with a unique column"
        )
    result = gpd.GeoDataFrame(out, geometry=geoms, crs=gdf.crs)
    return result.loc[~empty].reset_index(drop=True)


_GENERIC_NAMES = ("name", "nome", "zu_nome", "zone_name", "label")


def _zone_names(column: pd.Series) -> pd.Series:
    """A name column as text; numbers (a ``MUNICIPIO`` column of 1.0, 2.0...) as whole
    numbers after the column's name: ``"Municipio 1"``, so that maps show names, not ``1.0``.

    Examples
    --------
    >>> _zone_names(pd.Series([1.0, 15.0], name="MUNICIPIO")).tolist()
    ['Municipio 1', 'Municipio 15']
    >>> _zone_names(pd.Series(["Esquilino", "Celio"], name="nome")).tolist()
    ['Esquilino', 'Celio']
    """
    numbers = pd.to_numeric(column, errors="coerce")
    if not pd.api.types.is_numeric_dtype(column) or numbers.isna().any():
        return column.astype(str)
    whole = numbers.to_numpy() == np.round(numbers.to_numpy())
    text = [str(int(v)) if w else f"{v:g}" for v, w in zip(numbers, whole, strict=True)]
    label = str(column.name or "").strip()
    if label and label.lower() not in _GENERIC_NAMES:
        prefix = label.replace("_", " ").capitalize()
        text = [f"{prefix} {v}" for v in text]
    return pd.Series(text, index=column.index, dtype=object)


def _check_coordinates(geoms: np.ndarray, crs: object, where: str) -> None:
    """Refuse coordinates that no CRS can hold (1e300, inf): one line, not a crash later."""
    if (shapely.is_missing(geoms) | shapely.is_empty(geoms)).all():
        return  # no coordinates at all: "the layer has no polygons", said by the caller
    coords = shapely.get_coordinates(geoms)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():  # NaN or inf: no geometry operation can use them
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where}: a feature has coordinates that are not numbers ({coords[i, 0]}, "
            f"{coords[i, 1]}); fix or remove it"
        )
    with np.errstate(invalid="ignore"):
        bounds = shapely.total_bounds(geoms)
    if not np.isfinite(bounds).all() or np.abs(bounds).max() > 1e8:
        raise InputError(
            f"{where}: zone coordinates reach {np.nanmax(np.abs(bounds)):.3g}, which no map "
            f"projection holds (CRS {crs}); check the layer's coordinates and CRS"
        )


def _population(values: pd.Series, path: str | Path) -> pd.Series:
    from ._tables import AmbiguousNumberError, number_style, parse_number

    style = number_style([], values.tolist())  # text as spreadsheets write it: 1.234,5

    def read(i: int, value: object) -> object:
        try:
            return parse_number(value, count=True, decimal_comma=style)  # type: ignore[arg-type]
        except AmbiguousNumberError as exc:
            raise InputError(f"{path} feature {i + 1}: population column: {exc}") from None
        except (ValueError, AttributeError):  # not text, or not a number: judged below
            return value

    numbers = pd.to_numeric(pd.Series([read(i, v) for i, v in enumerate(values)]), errors="coerce")
    bad = ~((numbers >= 0) & (numbers <= 1e9))  # NaN, inf, 1e300: no zone has 1e9 residents
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        shown = values.iloc[i].item() if isinstance(values.iloc[i], np.generic) else values.iloc[i]
        raise InputError(
            f"{path} feature {i + 1}: population column {values.name!r} holds {shown!r}, "
            f"not a number >= 0 (at most 1e9 per zone; {int(bad.sum())} such value(s)); "
            "choose a numeric column or fix the values"
        )
    if not (numbers > 0).any():
        raise InputError(
            f"{path}: population column {values.name!r} is 0 in every zone; choose the column "
            "of residents, or leave out the population column to weigh zones by area"
        )
    return pd.Series(numbers.to_numpy(dtype=float), index=values.index, name=values.name)


@dataclass(frozen=True)
class StreetPieces:
    """Street segments clipped to zones: per piece its zone and position along its segment."""

    zone: np.ndarray
    edge: np.ndarray  # index into the search graph's edges
    start_m: np.ndarray
    end_m: np.ndarray
    length_m: np.ndarray  # of the whole segment
    d_u: np.ndarray
    d_v: np.ndarray
    src_u: np.ndarray
    src_v: np.ndarray

    def covered_m(self, limit_m: float | np.ndarray) -> np.ndarray:
        """Length of each piece within ``limit_m`` of walking (scalar or one per piece)."""
        return covered_length(self.start_m, self.end_m, self.length_m, self.d_u, self.d_v, limit_m)


def covered_length(
    start_m: np.ndarray,
    end_m: np.ndarray,
    length_m: np.ndarray,
    d_u: np.ndarray,
    d_v: np.ndarray,
    limit_m: float | np.ndarray,
) -> np.ndarray:
    """Length of the part ``[start_m, end_m]`` of each segment within ``limit_m`` of walking.

    A segment of length ``L`` whose ends are ``d_u`` and ``d_v`` from the nearest space is
    reached at ``x`` when ``min(d_u + x, d_v + L - x) <= limit``: from the ``u`` end up
    to ``a`` and from the ``v`` end down to ``L - b`` (see ``reachable_parts``).

    Examples
    --------
    >>> float(covered_length(np.array([0.0]), np.array([100.0]), np.array([100.0]),
    ...                      np.array([0.0]), np.array([np.inf]), 30.0)[0])
    30.0
    """
    a, b = reachable_parts(length_m, d_u, d_v, limit_m)
    s, e = start_m, end_m
    head = np.where(np.isnan(a), 0.0, np.clip(np.minimum(e, a) - s, 0, None))
    tail_start = length_m - b
    tail = np.where(np.isnan(b), 0.0, np.clip(e - np.maximum(s, tail_start), 0, None))
    both = np.where(
        np.isnan(a) | np.isnan(b),
        0.0,
        np.clip(np.minimum(e, a) - np.maximum(s, tail_start), 0, None),
    )
    return head + tail - both


def street_pieces(walk: WalkTimes, zone_geoms: np.ndarray) -> StreetPieces:
    """Clip the walkable street segments to the zones (exact geometry).

    Street fragments (:attr:`~fifteenmin.travel.WalkTimes.fragment_nodes`) are left out:
    their residents are not counted, as their streets do not join the city's.
    """
    g = walk.graph
    street = np.flatnonzero(walk.street_edge_mask())  # street fragments left out
    lines = g.geometry[street]
    tree = shapely.STRtree(zone_geoms)
    e_i, z_i = tree.query(lines, predicate="intersects")
    shapely.prepare(zone_geoms)  # makes the pairwise covers() below fast
    within = shapely.covers(zone_geoms[z_i], lines[e_i])
    edge = [street[e_i[within]]]
    zone = [z_i[within]]
    start = [np.zeros(int(within.sum()))]
    end = [g.length_m[edge[0]]]
    cut_e, cut_z = e_i[~within], z_i[~within]
    if len(cut_e):
        clipped = shapely.intersection(lines[cut_e], zone_geoms[cut_z])
        parts, owner = shapely.get_parts(clipped, return_index=True)
        is_line = shapely.get_type_id(parts) == 1
        parts, owner = parts[is_line], owner[is_line]
        base = lines[cut_e][owner]
        p0 = shapely.get_point(parts, 0)
        p1 = shapely.get_point(parts, -1)
        f0 = shapely.line_locate_point(base, p0, normalized=True)
        f1 = shapely.line_locate_point(base, p1, normalized=True)
        seg = street[cut_e][owner]
        edge.append(seg)
        zone.append(cut_z[owner])
        start.append(np.minimum(f0, f1) * g.length_m[seg])
        end.append(np.maximum(f0, f1) * g.length_m[seg])
    edge_a = np.concatenate(edge)
    d = walk.dist_m
    return StreetPieces(
        zone=np.concatenate(zone),
        edge=edge_a,
        start_m=np.concatenate(start),
        end_m=np.concatenate(end),
        length_m=g.length_m[edge_a],
        d_u=d[g.u[edge_a]],
        d_v=d[g.v[edge_a]],
        src_u=walk.nearest[g.u[edge_a]],
        src_v=walk.nearest[g.v[edge_a]],
    )


def _quantile_limits(
    pieces: StreetPieces, totals: np.ndarray, q: float, n_zones: int
) -> np.ndarray:
    """Per zone, the walking distance within which a share ``q`` of its streets lie.

    Bisection on the exact covered-length function, to a millionth of the zone's range
    (a few millimetres); NaN where that share of the zone is never reached.
    """
    ends = np.maximum(pieces.d_u, pieces.d_v) + pieces.length_m
    ends = np.where(np.isfinite(ends), ends, np.fmin(pieces.d_u, pieces.d_v) + pieces.length_m)
    hi = np.zeros(n_zones)
    np.maximum.at(hi, pieces.zone, np.nan_to_num(ends, posinf=0.0))
    reach = np.bincount(pieces.zone, weights=pieces.covered_m(np.inf), minlength=n_zones)
    ok = (totals > 0) & (reach >= q * totals * (1 - 1e-12))
    lo = np.zeros(n_zones)
    for _ in range(20):
        mid = (lo + hi) / 2
        got = np.bincount(
            pieces.zone, weights=pieces.covered_m(mid[pieces.zone]), minlength=n_zones
        )
        enough = got >= q * totals
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    return np.where(ok, hi, np.nan)


def check_underserved(
    minutes: Sequence[float], underserved_minutes: float, underserved_share: float
) -> None:
    """Raise unless the underserved rule can be applied to these thresholds."""
    if float(underserved_minutes) not in [float(m) for m in minutes]:
        raise InputError(
            f"underserved threshold {underserved_minutes:g} min is not among the thresholds "
            f"{', '.join(f'{m:g}' for m in minutes)}; add it to --minutes"
        )
    if not 0 < underserved_share <= 1:
        raise InputError(f"underserved share {underserved_share} is outside (0, 1]")


def check_sparse_share(sparse_share: float) -> None:
    """Raise unless ``sparse_share`` is a share in ``[0, 1)`` (0: no sparse-streets rule)."""
    if not np.isfinite(sparse_share) or not 0 <= sparse_share < 1:
        raise InputError(f"sparse-streets share {sparse_share} is outside [0, 1); e.g. 0.1")


def counted_geometries(zones: gpd.GeoDataFrame) -> np.ndarray:
    """The zones' geometries whose streets are counted: empty where there is no data.

    A zone with ``share_area_with_data`` 0 lies outside the data extent: streets that
    cross it (complete ways reaching beyond an extract) are not its street data.
    """
    geoms = zones.geometry.to_numpy()
    if N.DATA_SHARE not in zones.columns:
        return geoms
    share = pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy()
    return np.where(share > 0, geoms, shapely.Polygon())


SPARSE_SHARE = 0.1
"""A zone whose walkable street length per resident (per km² without population) is below
this share of the median of the study area's zones has ``sparse_streets``: too little
street data to judge it (see :func:`zone_status`)."""
PARTIAL_SHARE = 0.99
"""A zone with less than this share of its area inside the study area is ``partial_data``."""


def zone_status(
    zones: pd.DataFrame, street_length_m: np.ndarray, *, sparse_share: float = SPARSE_SHARE
) -> np.ndarray:
    """The status of each zone's figures (``ok``, ``partial_data``, ``no_data``,
    ``sparse_streets``), from its share of area with data, its street length and residents.

    ``no_data``: no walkable street inside (or outside the data extent).
    ``sparse_streets``: walkable street length per resident (per km² without population)
    below ``sparse_share`` times the median of the zones with streets (0 turns the rule
    off): residents piled on a few metres of street, as where an extract ends in a zone.
    Per resident, not per km², so that a rural zone with few streets and few residents
    is judged like any other. ``partial_data``: less than 99 % of the zone's area inside
    the study area (its figures are for the part inside). Else ``ok``.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"area_in_study_km2": [1.0, 1.0, 1.0, 1.0, 9.0],
    ...                   "share_area_with_data": [1.0, 0.5, 1.0, 1.0, 1.0],
    ...                   "residents": [10e3, 5e3, 10e3, 10e3, 500]})
    >>> list(zone_status(z, np.array([20e3, 10e3, 0.0, 500.0, 2e3])))
    ['ok', 'partial_data', 'no_data', 'sparse_streets', 'ok']
    """
    n = len(zones)
    share = (
        pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy()
        if N.DATA_SHARE in zones.columns
        else np.ones(n)
    )
    status = np.full(n, N.OK, dtype=object)
    status[share < PARTIAL_SHARE] = N.PARTIAL_DATA
    no_data = (street_length_m <= 0) | (share <= 0)
    residents = (
        zones[N.POPULATION].fillna(0).to_numpy(dtype=float)
        if N.POPULATION in zones.columns and zones[N.POPULATION].notna().any()
        else None
    )
    if residents is None:  # without population: street per km²
        base, judged = zones[N.AREA_KM2].to_numpy(dtype=float), ~no_data
    else:  # street per resident; a zone without residents has nobody to misjudge
        base, judged = residents, ~no_data & (residents > 0)
    per = np.divide(street_length_m, base, out=np.zeros(n), where=base > 0)
    if sparse_share > 0 and judged.sum() >= 3:
        typical = float(np.median(per[judged]))
        status[judged & (per < sparse_share * typical)] = N.SPARSE_STREETS
    status[no_data] = N.NO_DATA
    return status


def sparse_rule(sparse_share: float, *, per_resident: bool = True) -> str:
    """The ``sparse_streets`` rule in words (for reports and summary.json)."""
    if sparse_share <= 0:
        return "off"
    per = "per resident" if per_resident else "per km²"
    return (
        f"walkable street length {per} below {sparse_share:.0%} of the median of the "
        "study area's zones with streets"
    )


def zone_coverage(
    walk: WalkTimes,
    zones: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    underserved_share: float = 0.5,
    underserved_minutes: float = 15.0,
    sparse_share: float = SPARSE_SHARE,
    pieces: StreetPieces | None = None,
) -> gpd.GeoDataFrame:
    """Coverage of each zone within each threshold of ``coverage``, with its status.

    Residents are spread evenly over the walkable street length inside their zone, so a
    zone's share of residents within a walk is the share of its street length within that
    walk (exact, partial segments included). Each zone gets a ``status``
    (:func:`zone_status`): a ``no_data`` zone has no figures (NaN) and is never
    underserved; a ``sparse_streets`` zone has figures but is never underserved.

    Parameters
    ----------
    walk
        Result of :func:`~fifteenmin.travel.walk_times`.
    zones
        Zones from :func:`zones_from_file` (any CRS), optionally cut to the data extent
        (:meth:`~fifteenmin.study_area.StudyArea.cover_zones`).
    coverage
        Result of :func:`~fifteenmin.isochrones.coverage` (one row per threshold).
    underserved_share
        A zone is underserved when less than this share of its residents (of its area,
        without population) lives within ``underserved_minutes``.
    underserved_minutes
        The walk that counts for ``underserved``; must be one of the thresholds.
    sparse_share
        The ``sparse_streets`` rule (see :func:`zone_status`); 0 turns it off.
    pieces
        :func:`street_pieces` of ``walk`` and these zones' :func:`counted_geometries` (in
        the network's CRS, index reset), if already computed.

    Returns
    -------
    geopandas.GeoDataFrame
        Per zone: ``status``, ``area_in_study_km2``, ``street_length_m``,
        ``share_area_<m>min``, ``share_streets_<m>min``, ``pop_<m>min`` and
        ``share_pop_<m>min`` (with population), ``walk_time_median_s``,
        ``walk_time_p90_s``, ``nearest_space_id``, ``nearest_walk_time_s``,
        ``underserved``; in the network's CRS (see ``docs/outputs.md``).
    """
    minutes = [float(m) for m in coverage["minutes"]]
    check_underserved(minutes, underserved_minutes, underserved_share)
    check_sparse_share(sparse_share)
    out = zones.to_crs(walk.streets.crs).reset_index(drop=True)
    geoms = out.geometry.to_numpy()
    nz = len(out)
    area = shapely.area(geoms)
    if pieces is None:
        pieces = street_pieces(walk, counted_geometries(out))
    total = np.bincount(pieces.zone, weights=pieces.end_m - pieces.start_m, minlength=nz)
    has_pop = out[N.POPULATION].notna().any()
    pop = out[N.POPULATION].fillna(0).to_numpy(dtype=float)
    out[N.AREA_KM2] = area / 1e6
    out[N.STREET_LENGTH_M] = total
    if N.DATA_SHARE not in out.columns:
        out[N.DATA_SHARE] = 1.0
    status = zone_status(out, total, sparse_share=sparse_share)
    no_data = status == N.NO_DATA
    out = out.drop(columns=[N.STATUS], errors="ignore")
    out.insert(2, N.STATUS, status)
    for m, cov in zip(minutes, coverage.geometry, strict=True):
        area_share = np.divide(
            shapely.area(parts_inside(geoms, cov)), area, out=np.zeros(nz), where=area > 0
        )
        covered = np.bincount(
            pieces.zone, weights=pieces.covered_m(walk.minutes_to_m(m)), minlength=nz
        )
        street_share = np.divide(covered, total, out=np.zeros(nz), where=total > 0)
        out[N.share("area", m)] = np.where(no_data, np.nan, np.clip(area_share, 0, 1))
        out[N.share("streets", m)] = np.where(no_data, np.nan, np.clip(street_share, 0, 1))
        if has_pop:
            pop_share = np.where(no_data, np.nan, np.clip(street_share, 0, 1))
            out[N.residents(m)] = pop * pop_share
            out[N.share("pop", m)] = np.where(pop > 0, pop_share, np.nan)
    out[N.MEDIAN_S] = _quantile_limits(pieces, total, 0.5, nz) / walk.speed_mps
    out[N.P90_S] = _quantile_limits(pieces, total, 0.9, nz) / walk.speed_mps
    out[N.NEAREST_SPACE], out[N.NEAREST_S] = _nearest_space(walk, pieces, nz)
    basis = N.share("pop", underserved_minutes) if has_pop else N.share("area", underserved_minutes)
    share_ok = out[basis].fillna(0).to_numpy() >= underserved_share
    judged = (status == N.OK) | (status == N.PARTIAL_DATA)
    out[N.UNDERSERVED] = ~share_ok & judged & ((pop > 0) if has_pop else True)
    return out


def _nearest_space(walk: WalkTimes, p: StreetPieces, nz: int) -> tuple[np.ndarray, np.ndarray]:
    """The space reached first from the zone's streets, and that walking time."""
    cand_d = np.column_stack(
        [
            p.d_u + p.start_m,
            p.d_v + p.length_m - p.start_m,
            p.d_u + p.end_m,
            p.d_v + p.length_m - p.end_m,
        ]
    )
    cand_s = np.column_stack([p.src_u, p.src_v, p.src_u, p.src_v])
    best = np.argmin(cand_d, axis=1)
    rows = np.arange(len(best))
    d, s = cand_d[rows, best], cand_s[rows, best]
    order = np.lexsort((d, p.zone))
    first = np.ones(len(order), dtype=bool)
    first[1:] = p.zone[order][1:] != p.zone[order][:-1]
    zone_d = np.full(nz, np.inf)
    zone_s = np.full(nz, -1)
    zone_d[p.zone[order][first]] = d[order][first]
    zone_s[p.zone[order][first]] = s[order][first]
    ids = walk.spaces["space_id"].astype(str).to_numpy()
    reached = np.isfinite(zone_d) & (zone_s >= 0)
    space = np.asarray(np.where(reached, ids[np.maximum(zone_s, 0)], None))
    return space, np.where(reached, zone_d / walk.speed_mps, np.nan)
