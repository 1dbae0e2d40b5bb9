"""H3 hexagon zones over a study area, with residents carried onto them by street length."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from . import _names as N
from . import _osm
from .errors import InputError
from .network import StreetNetwork
from .study_area import buffer_m

logger = logging.getLogger(__name__)

DEFAULT_RESOLUTION = 9
"""H3 resolution of ``--zones hex``: about 0.1 km² per hexagon (edge about 200 m)."""
MAX_CELLS = 500_000
"""More hexagons than this is refused (choose a coarser resolution)."""


def parse_hex_spec(spec: object) -> int | None:
    """The H3 resolution of a ``hex`` / ``hex:RES`` zones argument, or None if it is not one.

    Examples
    --------
    >>> parse_hex_spec("hex:8"), parse_hex_spec("hex"), parse_hex_spec("zones.geojson")
    (8, 9, None)
    """
    text = str(spec).strip().lower()
    if text != "hex" and not text.startswith("hex:"):
        return None
    res = text.partition(":")[2] or str(DEFAULT_RESOLUTION)
    if not res.isdigit() or not 0 <= int(res) <= 15:
        raise InputError(
            f"zones {spec!r}: the H3 resolution must be a whole number 0-15 "
            "(e.g. hex:9, about 0.1 km² per hexagon; hex:8, about 0.7 km²)"
        )
    return int(res)


def _cell_polygon(cell: str) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def hex_zones(
    area_polygon_4326: shapely.Geometry,
    resolution: int = DEFAULT_RESOLUTION,
    *,
    clip: bool = True,
) -> gpd.GeoDataFrame:
    """An H3 hexagon grid covering a study area, as zones.

    Every hexagon that overlaps the area (not only those whose centre is inside) is
    kept, so the grid covers the whole area; with ``clip`` the hexagons are cut to the
    area and their union is the area.

    Parameters
    ----------
    area_polygon_4326
        Shapely (Multi)Polygon in EPSG:4326 (lon, lat).
    resolution
        H3 resolution 0-15; 9 gives hexagons of about 0.1 km², 8 of about 0.74 km².
    clip
        Cut the hexagons at the border of the area.

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id`` and ``name`` (the H3 cell index), ``geometry``; EPSG:4326, sorted
        by cell.

    Examples
    --------
    >>> import shapely
    >>> square = shapely.box(12.49, 41.89, 12.50, 41.90)
    >>> hexes = hex_zones(square, 9)
    >>> list(hexes.columns), len(hexes) > 5
    (['zone_id', 'name', 'geometry'], True)
    >>> bool(abs(hexes.union_all().area - square.area) < 1e-12)
    True
    """
    area = _osm.check_polygon(area_polygon_4326)
    if not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 15:
        raise InputError(f"H3 resolution {resolution!r} must be a whole number 0-15 (e.g. 9)")
    resolution = int(resolution)
    # any hexagon overlapping the area has its centre within one circumradius (= edge
    # length, up to about twice the average) of it
    edge_m = h3.average_hexagon_edge_length(resolution, unit="m")
    grown = buffer_m(area, 2.5 * edge_m)
    expected = _area_m2(grown) / h3.average_hexagon_area(resolution, unit="m^2")
    if expected > MAX_CELLS:
        raise InputError(
            f"hex:{resolution} over this area would make about {expected:,.0f} hexagons "
            f"(more than {MAX_CELLS:,}); choose a coarser resolution, e.g. hex:{resolution - 1}"
        )
    cells = sorted(h3.geo_to_cells(grown, resolution))
    polys = np.array([_cell_polygon(c) for c in cells], dtype=object)
    shapely.prepare(area)
    overlap = shapely.intersects(area, polys)
    cells = [c for c, ok in zip(cells, overlap, strict=True) if ok]
    polys = polys[overlap]
    if clip:
        cut = shapely.intersection(polys, area)
        polys = np.array([_polygon_part(g) for g in cut], dtype=object)
        keep = shapely.area(polys) > 0
        cells = [c for c, ok in zip(cells, keep, strict=True) if ok]
        polys = polys[keep]
    logger.info("%d H3 hexagons at resolution %d", len(cells), resolution)
    return gpd.GeoDataFrame({N.ZONE_ID: cells, N.ZONE_NAME: cells}, geometry=list(polys), crs=4326)


def _polygon_part(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else shapely.Polygon()


def _area_m2(polygon_4326: shapely.Geometry) -> float:
    series = gpd.GeoSeries([polygon_4326], crs=4326)
    return float(series.to_crs(series.estimate_utm_crs()).area.iloc[0])


def _street_length(polygons: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Length of ``lines`` inside each polygon (planar, in the lines' units)."""
    out = np.zeros(len(polygons))
    if len(polygons) == 0 or len(lines) == 0:
        return out
    tree = shapely.STRtree(lines)
    p_i, l_i = tree.query(polygons, predicate="intersects")
    whole = shapely.covers(polygons[p_i], lines[l_i])
    np.add.at(out, p_i[whole], shapely.length(lines[l_i[whole]]))
    cut = ~whole
    if cut.any():
        parts = shapely.intersection(lines[l_i[cut]], polygons[p_i[cut]])
        np.add.at(out, p_i[cut], shapely.length(parts))
    return out


def interpolate_population(
    source_zones: gpd.GeoDataFrame,
    target_zones: gpd.GeoDataFrame,
    streets: StreetNetwork,
    column: str = N.POPULATION,
) -> pd.Series:
    """Carry residents from a population layer to other zones, by walkable street length.

    Each source zone's residents are spread evenly over the walkable street length inside
    it; a target zone receives the residents of the street length of each source zone
    inside it. A source zone without streets is split by area instead. Each source zone's
    residents are conserved exactly (up to float rounding) when the targets cover it;
    residents of the parts outside every target are dropped, with a warning.

    Parameters
    ----------
    source_zones
        Polygons with residents in ``column`` (e.g. zone urbanistiche with ``pop2018``).
    target_zones
        Polygons to carry the residents to (e.g. :func:`hex_zones`).
    streets
        The walking network (its street segments weight the split).
    column
        Numeric column of ``source_zones`` (any non-negative count, e.g. residents 65+).

    Returns
    -------
    pandas.Series
        Residents per target zone (float), indexed like ``target_zones``, named ``column``.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> zones = fm.zones_from_file(city.zones, population_column="population")
    >>> streets = fm.read_streets(city.network)
    >>> hexes = hex_zones(zones.union_all(), 9)
    >>> pop = interpolate_population(zones, hexes, streets, "population")
    >>> round(pop.sum()), round(zones["population"].sum())
    (60000, 60000)
    """
    for name, gdf in (("source", source_zones), ("target", target_zones)):
        if gdf.crs is None:
            raise InputError(f"{name} zones have no CRS; set one (e.g. EPSG:4326)")
    if column not in source_zones.columns:
        raise InputError(
            f"population layer: no column {column!r}; columns are "
            f"{', '.join(map(str, source_zones.columns.drop(source_zones.geometry.name)))}"
        )
    pop = pd.to_numeric(source_zones[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"population layer feature {i + 1}: {column!r} is {source_zones[column].iloc[i]!r}, "
            "not a number >= 0; fix the value or choose a numeric column"
        )
    src = source_zones.to_crs(streets.crs).geometry.to_numpy()
    tgt = target_zones.to_crs(streets.crs).geometry.to_numpy()
    lines = np.asarray(streets.edge_geometry, dtype=object)

    s_i, t_i = shapely.STRtree(tgt).query(src, predicate="intersects")
    pieces = shapely.intersection(src[s_i], tgt[t_i])
    piece_area = shapely.area(pieces)
    piece_len = _street_length(pieces, lines)
    ns = len(src)
    src_area = shapely.area(src)
    covered_area = np.bincount(s_i, weights=piece_area, minlength=ns)
    # streets and area of each source zone outside every target
    out_len, out_area = np.zeros(ns), np.clip(src_area - covered_area, 0, None)
    partial = np.flatnonzero(covered_area < src_area * (1 - 1e-9))
    if len(partial):
        rest = shapely.difference(src[partial], shapely.union_all(tgt))
        out_len[partial] = _street_length(rest, lines)
        out_area[partial] = shapely.area(rest)
    total_len = np.bincount(s_i, weights=piece_len, minlength=ns) + out_len
    total_area = covered_area + out_area
    by_street = total_len[s_i] > 0
    share = np.where(
        by_street,
        np.divide(piece_len, total_len[s_i], out=np.zeros(len(s_i)), where=by_street),
        np.divide(piece_area, total_area[s_i], out=np.zeros(len(s_i)), where=total_area[s_i] > 0),
    )
    result = np.bincount(t_i, weights=pop[s_i] * share, minlength=len(tgt))

    no_street = (total_len <= 0) & (pop > 0)
    if no_street.any():
        logger.info("%d source zone(s) without streets split by area", int(no_street.sum()))
    kept = np.bincount(s_i, weights=pop[s_i] * share, minlength=ns)
    lost = pop - kept
    if lost.sum() >= 0.5:
        worst = int(np.argmax(lost))
        warnings.warn(
            f"{lost.sum():,.0f} of {pop.sum():,.0f} residents ({column}) live outside the "
            f"target zones and were not carried over (most in source feature {worst + 1}: "
            f"{lost[worst]:,.0f}); make the zones cover the population layer to keep them",
            stacklevel=2,
        )
    return pd.Series(result, index=target_zones.index, name=column)
