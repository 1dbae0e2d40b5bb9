"""The study area: the polygon an analysis reports on, read with a walking margin around it."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import ndimage

from . import _names as N
from . import _osm
from ._geom import mask_boxes, parts_inside, polygonal
from ._io import read_vector
from .errors import InputError
from .network import StreetNetwork, utm_crs

logger = logging.getLogger(__name__)

MIN_INSIDE_SHARE = 0.001
"""Zones with less than this share of their area inside the study area are dropped."""
SLIVER_WIDTH_M = 25.0
"""Zone parts inside the study area thinner than this on average (2 x area / perimeter)
are slivers left by boundaries drawn differently in two layers, and are dropped."""
CUT_WARNING_SHARE = 0.01
"""Warn when a zone with residents loses more than this share of its area to the clip."""
DATA_EXTENT_BUFFER_M = 500.0
"""Ground within this distance of a walkable street counts as covered by the street data."""
_EXTENT_CELL_M = 100.0
_DENSIFY_DEG = 0.001  # about 100 m: long edges follow their meridian/parallel in UTM


def walk_margin_m(minutes: float | Sequence[float], speed_kmh: float) -> float:
    """Walking distance of the longest threshold: the default margin around a study area.

    A service farther than this outside the area cannot be reached from inside within
    the longest threshold, so network and spaces beyond it do not change the results.

    Examples
    --------
    >>> walk_margin_m([5, 10, 15], 4.8)
    1200.0
    """
    longest = max(np.atleast_1d(np.asarray(minutes, dtype=float)))
    return float(longest) / 60.0 * float(speed_kmh) * 1000.0


def buffer_m(polygon: shapely.Geometry, distance_m: float) -> shapely.Geometry:
    """Buffer a lon/lat geometry by ``distance_m`` metres (in its UTM zone), back in degrees.

    Examples
    --------
    >>> import shapely
    >>> square = shapely.box(12.49, 41.89, 12.50, 41.90)
    >>> grown = buffer_m(square, 100)
    >>> grown.contains(square), round(grown.bounds[0], 4)
    (True, 12.4888)
    """
    if distance_m == 0:
        return polygon
    centre = polygon.centroid
    crs = utm_crs(centre.x, centre.y)
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    to_deg = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    metric = shapely.transform(shapely.segmentize(polygon, _DENSIFY_DEG), _apply(to_m))
    return shapely.transform(shapely.buffer(metric, distance_m), _apply(to_deg))


def _apply(transformer: pyproj.Transformer):  # noqa: ANN202 - shapely.transform callback
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


@dataclass(frozen=True)
class StudyArea:
    """A study area: one (Multi)Polygon in EPSG:4326 (lon, lat).

    Results are reported for the zones inside :attr:`polygon`; network and spaces are
    read within :meth:`with_margin` so that services just outside still count.

    Examples
    --------
    >>> area = StudyArea.from_bbox((12.49, 41.89, 12.50, 41.90))
    >>> round(area.area_km2, 2), round(area.with_margin(1200).area_km2, 1)
    (0.92, 10.1)
    """

    polygon: shapely.Geometry
    source: str = ""

    def __post_init__(self) -> None:
        geom = self.polygon
        if isinstance(geom, shapely.Geometry) and not geom.is_valid:
            geom = shapely.make_valid(geom)
        if isinstance(geom, shapely.Geometry):
            geom = polygonal(geom)
        object.__setattr__(self, "polygon", _osm.check_polygon(geom))

    @classmethod
    def from_file(cls, path: str | Path, *, layer: str | None = None) -> StudyArea:
        """Read a boundary layer (GeoJSON, GeoPackage, Shapefile): the union of its polygons.

        Examples
        --------
        >>> import fifteenmin as fm
        >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
        >>> area = StudyArea.from_file(city.zones)
        >>> area.polygon.geom_type, round(area.area_km2, 1)
        ('Polygon', 12.9)
        """
        path = Path(path)
        gdf = read_vector(path, layer=layer)
        if gdf.crs is None:
            raise InputError(
                f"{path}: the boundary layer has no CRS; set one (e.g. EPSG:4326) and save again"
            )
        geoms = gdf.to_crs(4326).geometry.dropna().to_numpy()
        geoms = np.where(shapely.is_valid(geoms), geoms, shapely.make_valid(geoms))
        polygon = polygonal(shapely.union_all([polygonal(g) for g in geoms]))
        if polygon.is_empty:
            kinds = ", ".join(sorted(set(gdf.geom_type.dropna())))
            raise InputError(
                f"{path}: the boundary layer has no polygon (found {kinds}); "
                "give a polygon layer such as a municipal boundary"
            )
        return cls(polygon, source=str(path))

    @classmethod
    def from_bbox(cls, bbox: Sequence[float]) -> StudyArea:
        """The rectangle ``(west, south, east, north)`` in degrees."""
        w, s, e, n = _osm.check_bbox(bbox)
        return cls(shapely.box(w, s, e, n), source=f"bbox {w:g} {s:g} {e:g} {n:g}")

    @classmethod
    def from_streets(
        cls, streets: StreetNetwork, *, buffer_m: float = DATA_EXTENT_BUFFER_M
    ) -> StudyArea:
        """Where a network has street data: its data extent, the default study area.

        The ground within about ``buffer_m`` of a walkable street (cells of a 100 m grid
        within that distance of a point of a street), cut to the box the file says it
        covers (``<bounds>`` of OSM XML, the header box of a PBF) when it says one:
        complete ways reach beyond that box, but the streets around them are not in the
        file. Zones outside the extent have no street data; zones partly inside it are
        counted for the part inside.

        Examples
        --------
        >>> import fifteenmin as fm
        >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
        >>> extent = StudyArea.from_streets(fm.read_streets(city.network))
        >>> extent.polygon.geom_type in ("Polygon", "MultiPolygon"), 10 < extent.area_km2 < 40
        (True, True)
        """
        if not np.isfinite(buffer_m) or buffer_m <= 0:
            raise InputError(f"data extent buffer {buffer_m} m must be a number > 0 (e.g. 500)")
        cell = _EXTENT_CELL_M
        lines = shapely.segmentize(np.asarray(streets.edge_geometry, dtype=object), cell / 2)
        xy = shapely.get_coordinates(lines)
        if len(xy) == 0:
            raise InputError(f"{streets.source or 'network'}: it has no streets")
        reach = int(np.ceil(buffer_m / cell))
        origin = xy.min(axis=0) - (reach + 1) * cell
        ij = np.floor((xy - origin) / cell).astype(np.int64)
        shape = tuple(ij.max(axis=0) + reach + 2)
        if shape[0] * shape[1] > 400_000_000:
            raise InputError(
                f"{streets.source or 'network'}: its streets span "
                f"{shape[0] * cell / 1000:,.0f} x {shape[1] * cell / 1000:,.0f} km; "
                "give --boundary or --bbox to set the study area"
            )
        grid = np.zeros(shape, dtype=bool)
        grid[ij[:, 0], ij[:, 1]] = True
        yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
        disk = (xx**2 + yy**2) * cell**2 <= buffer_m**2
        grid = ndimage.binary_dilation(grid, structure=disk)
        boxes = mask_boxes(grid.T, origin[0], origin[1], cell)  # rows: y, columns: x
        extent = shapely.union_all(boxes)
        to_deg = pyproj.Transformer.from_crs(streets.crs, 4326, always_xy=True)
        polygon = shapely.transform(shapely.segmentize(extent, 1000.0), _apply(to_deg))
        source = f"walkable streets of {streets.source or 'the network'} buffered by {buffer_m:g} m"
        if streets.file_bounds is not None:
            box = shapely.box(*streets.file_bounds)
            cut = polygonal(shapely.intersection(polygon, box))
            if not cut.is_empty:
                polygon = cut
                source += " ∩ the file's bounds"
        return cls(polygon, source=source)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees."""
        w, s, e, n = self.polygon.bounds
        return float(w), float(s), float(e), float(n)

    @property
    def area_km2(self) -> float:
        """Area in km² (in the UTM zone of the area)."""
        return float(shapely.area(self._metric(self._utm()))) / 1e6

    def _utm(self) -> pyproj.CRS:
        c = self.polygon.centroid
        return utm_crs(c.x, c.y)

    def _metric(self, crs: pyproj.CRS) -> shapely.Geometry:
        """The polygon in a metric CRS; long edges (a bbox) are densified first so that
        they follow their meridian or parallel."""
        to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
        return shapely.transform(shapely.segmentize(self.polygon, _DENSIFY_DEG), _apply(to_m))

    def with_margin(self, margin_m: float) -> StudyArea:
        """The area grown by ``margin_m`` metres (buffered in UTM, back in EPSG:4326)."""
        if not np.isfinite(margin_m) or margin_m < 0:
            raise InputError(f"margin {margin_m} m must be a number >= 0 (e.g. 1200)")
        return StudyArea(buffer_m(self.polygon, float(margin_m)), source=self.source)

    def intersection(self, other: StudyArea) -> StudyArea:
        """The part common to two areas (e.g. a boundary and a bbox)."""
        common = polygonal(shapely.intersection(self.polygon, other.polygon))
        if common.is_empty:
            raise InputError(
                f"study area: {self.source or 'the boundary'} and {other.source or 'the bbox'} "
                "do not overlap; check both (bbox order is west south east north)"
            )
        return StudyArea(common, source=f"{self.source} ∩ {other.source}")

    def contains(self, gdf: gpd.GeoDataFrame) -> np.ndarray:
        """Whether each feature's representative point lies in the area (border included)."""
        pts = gdf.to_crs(4326).geometry.representative_point()
        inside = _osm.area_filter(polygon=self.polygon)
        assert inside is not None
        return inside(pts.x.to_numpy(dtype=float), pts.y.to_numpy(dtype=float))

    def clip_zones(self, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Clip zones to the area; zones outside it are dropped.

        Area statistics of the result refer to the part inside. A zone that is cut keeps
        a share of its ``population`` equal to the share of its area inside (a warning
        names zones that lose more than 1 %). Zones with less than 0.1 % of their area
        inside, or whose part inside is a sliver thinner than 25 m on average (two layers
        drawing the same border slightly differently), are dropped. The zones' CRS is kept.

        Examples
        --------
        >>> import fifteenmin as fm
        >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
        >>> zones = fm.zones_from_file(city.zones)
        >>> west = StudyArea.from_bbox((2.98, 0.48, 2.995, 0.52))
        >>> clipped = west.clip_zones(zones)
        >>> 0 < len(clipped) < len(zones)
        True
        """
        inside, share, keep = self._inside_parts(zones)
        if not keep.any():
            raise InputError(
                f"none of the {len(zones)} zones overlaps the study area "
                f"{self.source or ''}; check that zones and boundary cover the same place"
            )
        slivers = int((~keep & (share > 0)).sum())
        if (~keep).any():
            logger.info(
                "%d zone(s) outside the study area dropped (%d of them only a sliver inside)",
                int((~keep).sum()),
                slivers,
            )
        out = zones.loc[keep].copy()
        out = out.set_geometry(inside[keep], crs=zones.crs)
        share = share[keep]
        if N.POPULATION in out.columns:
            pop = pd.to_numeric(out[N.POPULATION], errors="coerce")
            cut = (share < 1 - CUT_WARNING_SHARE) & pop.gt(0).to_numpy()
            if cut.any():
                first = out.index[cut][0]
                warnings.warn(
                    f"{int(cut.sum())} zone(s) with residents are partly outside the study "
                    f"area (e.g. {out.loc[first, N.ZONE_ID]!r}: "
                    f"{1 - share[cut][0]:.0%} of its area outside); their residents were "
                    "scaled by the share of area inside; use zones that nest in the boundary",
                    stacklevel=2,
                )
            out[N.POPULATION] = pop * np.minimum(share, 1.0)
        out[N.DATA_SHARE] = _prior_share(out) * np.minimum(share, 1.0)
        return out.reset_index(drop=True)

    def cover_zones(self, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Zones cut to this area (the data extent), none dropped.

        A zone overlapping the area is cut to it: its figures will be for the part inside,
        its ``residents`` scaled by the share of its area inside, and ``share_area_with_data``
        says how much that is. A zone outside it (less than 0.1 % inside, or only a
        sliver) keeps its geometry and residents, with ``share_area_with_data`` 0: it has no
        street data and gets no figures (status ``no_data``).

        Examples
        --------
        >>> import fifteenmin as fm
        >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
        >>> zones = fm.zones_from_file(city.zones, population_column="population")
        >>> west = StudyArea.from_bbox((2.98, 0.48, 2.995, 0.52))
        >>> covered = west.cover_zones(zones)
        >>> len(covered) == len(zones), bool((covered["share_area_with_data"] == 0).any())
        (True, True)
        """
        inside, share, keep = self._inside_parts(zones)
        share = np.where(keep, np.minimum(share, 1.0), 0.0)
        out = zones.copy()
        out = out.set_geometry(np.where(keep, inside, zones.geometry.to_numpy()), crs=zones.crs)
        if N.POPULATION in out.columns:
            pop = pd.to_numeric(out[N.POPULATION], errors="coerce").to_numpy(dtype=float)
            out[N.POPULATION] = np.where(keep, pop * share, pop)
        out[N.DATA_SHARE] = _prior_share(out) * share
        return out.reset_index(drop=True)

    def _inside_parts(self, zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per zone: its part inside the area (zones' CRS), the share of its area that is,
        and whether that part counts (not a sliver, not a mere touch)."""
        if zones.crs is None:
            raise InputError("zones have no CRS; set one (e.g. EPSG:4326)")
        metric = self._utm()
        area = self._metric(metric)
        geoms = zones.to_crs(metric).geometry.to_numpy()
        inside = np.array([polygonal(g) for g in parts_inside(geoms, area)], dtype=object)
        whole, part = shapely.area(geoms), shapely.area(inside)
        share = np.divide(part, whole, out=np.zeros(len(geoms)), where=whole > 0)
        perimeter = shapely.length(inside)
        width = np.divide(2 * part, perimeter, out=np.zeros(len(geoms)), where=perimeter > 0)
        # a sliver is a thin part of a cut zone; a small zone wholly inside is no sliver
        keep = (share >= MIN_INSIDE_SHARE) & ((width >= SLIVER_WIDTH_M) | (share >= 0.99))
        back = gpd.GeoSeries(inside, crs=metric).to_crs(zones.crs).to_numpy()
        return back, share, keep


def _prior_share(zones: gpd.GeoDataFrame) -> np.ndarray:
    """The share of each zone's area already kept by an earlier cut (1 if none)."""
    if N.DATA_SHARE not in zones.columns:
        return np.ones(len(zones))
    return pd.to_numeric(zones[N.DATA_SHARE], errors="coerce").fillna(1.0).to_numpy(dtype=float)


def study_area_from(
    boundary: str | Path | StudyArea | shapely.Geometry | gpd.GeoDataFrame | None = None,
    bbox: Sequence[float] | None = None,
) -> StudyArea | None:
    """The study area of a boundary and/or a bbox (their intersection), or None.

    Examples
    --------
    >>> study_area_from(None, None) is None
    True
    >>> study_area_from(bbox=(12.49, 41.89, 12.50, 41.90)).bounds
    (12.49, 41.89, 12.5, 41.9)
    """
    area = as_study_area(boundary) if boundary is not None else None
    if bbox is not None:
        box = StudyArea.from_bbox(bbox)
        area = box if area is None else area.intersection(box)
    return area


def as_study_area(
    area: str | Path | StudyArea | shapely.Geometry | gpd.GeoDataFrame | gpd.GeoSeries,
) -> StudyArea:
    """A :class:`StudyArea` from a boundary file, a polygon (EPSG:4326) or a GeoDataFrame."""
    if isinstance(area, StudyArea):
        return area
    if isinstance(area, str | Path):
        return StudyArea.from_file(area)
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise InputError("boundary has no CRS; set one (e.g. EPSG:4326)")
        return StudyArea(shapely.union_all(area.to_crs(4326).geometry.to_numpy()), "boundary")
    if isinstance(area, shapely.Geometry):
        return StudyArea(area, source="boundary polygon")
    raise InputError(
        f"boundary: expected a file, a shapely polygon or a GeoDataFrame, got {type(area).__name__}"
    )


def streets_from_study_area(
    area: StudyArea,
    *,
    margin_m: float,
    shape: str = "polygon",
    cache_folder: str | Path = "data/raw/cache",
    timeout_s: float = 180.0,
) -> StreetNetwork:
    """Download the walk network of a study area plus its margin through OSMnx (cached).

    ``shape="polygon"`` asks OpenStreetMap for the area grown by ``margin_m``;
    ``shape="bbox"`` for the bounding box of that grown area.
    """
    from .network import streets_from_bbox, streets_from_polygon

    grown = area.with_margin(margin_m)
    if shape == "polygon":
        return streets_from_polygon(grown.polygon, cache_folder=cache_folder, timeout_s=timeout_s)
    if shape == "bbox":
        return streets_from_bbox(grown.bounds, cache_folder=cache_folder, timeout_s=timeout_s)
    raise InputError(f"shape {shape!r} must be 'polygon' or 'bbox'")
