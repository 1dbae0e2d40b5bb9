"""Load service locations (coworking spaces, libraries...) from files or OSM tags."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import _osm
from ._io import read_table, read_vector
from ._tables import table_numbers
from .errors import InputError

logger = logging.getLogger(__name__)

SPACE_COLUMNS: dict[str, str] = {
    "space_id": "unique identifier (string)",
    "name": "name of the space",
    "address": "street address, if known",
    "seats": "number of desks (postazioni), if known (nullable integer)",
    "kind": "coworking, internet_cafe, community_space or other",
    "source": "where the record comes from: the file name, or 'osm'",
    "geometry": "point, EPSG:4326",
}
"""Schema of the spaces table from :func:`spaces_from_file` and :func:`spaces_from_osm`."""

COWORKING_TAGS: dict[str, str | list[str] | bool] = {
    "amenity": "coworking_space",
    "office": "coworking",
}
"""OSM tags of coworking spaces."""

_LAT_NAMES = ("lat", "latitude", "y", "lat_wgs84", "latitudine")
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "lon_wgs84", "longitudine")
_ID_NAMES = ("space_id", "id", "osmid")
_SEATS_NAMES = ("seats", "postazioni", "desks", "capacity")
MAX_SEATS = 100_000
"""The most seats a space may have; more is a mistake in the data (e.g. 1e300)."""


def _find_column(columns: Iterable[str], names: Iterable[str]) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _finish(df: pd.DataFrame, geometry: gpd.GeoSeries, source: str) -> gpd.GeoDataFrame:
    """Give a spaces table the documented schema (other columns are kept after it)."""
    out = pd.DataFrame(index=range(len(df)))
    id_col = _find_column(df.columns, _ID_NAMES)
    out["space_id"] = (
        df[id_col].astype(str).to_numpy() if id_col else [f"S{i + 1:03d}" for i in range(len(df))]
    )
    for col, italian in (("name", "nome"), ("address", "indirizzo")):
        found = _find_column(df.columns, (col, italian))
        out[col] = df[found].to_numpy() if found else None
    seats_col = _find_column(df.columns, _SEATS_NAMES)
    out["seats"] = (
        _seats(df[seats_col], out["space_id"], source)
        if seats_col
        else pd.array([pd.NA] * len(df), dtype="Int64")
    )
    kind_col = _find_column(df.columns, ("kind", "tipo"))
    out["kind"] = df[kind_col].fillna("coworking").to_numpy() if kind_col else "coworking"
    out["source"] = df["source"].to_numpy() if "source" in df.columns else source
    extra = [c for c in df.columns if c not in out.columns and c != "geometry"]
    for col in extra:
        out[col] = df[col].to_numpy()
    if out["space_id"].duplicated().any():
        dup = out.loc[out["space_id"].duplicated(), "space_id"].iloc[0]
        raise InputError(f"{source}: space_id {dup!r} appears more than once; ids must be unique")
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=4326)


def _seats(values: pd.Series, ids: pd.Series, source: str) -> pd.api.extensions.ExtensionArray:
    """Seats as whole numbers, empty cells unknown.

    In a spaces file, a count no space can have (1.5, -3, 1e300, "abc") is an InputError
    naming the space. OSM ``capacity`` tags are other people's data: one that is not such a
    count ("20-30", "ca. 50") leaves the space's seats unknown, with a warning naming it.
    """
    raw = values.to_numpy(dtype=object)
    blank = pd.isna(values).to_numpy() | np.array(
        [isinstance(v, str) and not v.strip() for v in raw], dtype=bool
    )
    seats = np.array(pd.to_numeric(values.where(~blank), errors="coerce"), dtype=float)
    with np.errstate(invalid="ignore"):
        whole = (seats >= 0) & (seats <= MAX_SEATS) & (seats == np.round(seats))
    bad = ~blank & ~whole
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = f"{seats[i]:g}" if np.isfinite(seats[i]) else repr(raw[i])
        if source != "osm":
            raise InputError(
                f"{source}: space {ids.iloc[i]!r} has {shown} seats; write a whole "
                f"number of desks from 0 to {MAX_SEATS:,}, or leave it empty"
            )
        warnings.warn(
            f"{source}: {int(bad.sum())} space(s) with a capacity tag that is not a number of "
            f"desks (e.g. {ids.iloc[i]!r}: {raw[i]!r}) have no seats; write capacity=N in OSM "
            "or give the seats in a spaces file",
            stacklevel=3,
        )
        seats[bad] = np.nan
    return pd.array(seats, dtype="Int64")


def _check_lonlat(lon: pd.Series, lat: pd.Series, where: str, rows: pd.Index) -> None:
    """Raise on missing, out-of-range or apparently swapped coordinates (1-based data rows)."""
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        row = f"{where} row {rows[i]}"
        if not (np.isfinite(x) and np.isfinite(y)):
            raise InputError(f"{row}: missing or non-numeric coordinates; fill in lat and lon")
        if abs(y) > 90:
            hint = "; lat/lon look swapped" if abs(x) <= 90 else ""
            raise InputError(f"{row}: latitude {y} is outside [-90, 90]{hint}")
        if abs(x) > 180:
            raise InputError(f"{row}: longitude {x} is outside [-180, 180]")


def spaces_from_file(
    path: str | Path,
    *,
    lat_column: str | None = None,
    lon_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read service locations from CSV (lat/lon columns), GeoJSON or GeoPackage.

    Parameters
    ----------
    path
        ``.csv`` with latitude/longitude columns (found by name: ``lat``/``latitude``,
        ``lon``/``lng``/``longitude``, or given), or a point layer.
    lat_column, lon_column
        Names of the coordinate columns of a CSV, when not one of the usual names.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`SPACE_COLUMNS` (EPSG:4326), then any other input columns.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> spaces = fm.spaces_from_file(city.spaces)
    >>> list(spaces.columns[:7])
    ['space_id', 'name', 'address', 'seats', 'kind', 'source', 'geometry']
    """
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        df = read_table(path)
        lat = lat_column or _find_column(df.columns, _LAT_NAMES)
        lon = lon_column or _find_column(df.columns, _LON_NAMES)
        for name, col in (("latitude", lat), ("longitude", lon)):
            if col is None or col not in df.columns:
                raise InputError(
                    f"{path}: no {name} column (looked for {col or 'lat/latitude, lon/longitude'}"
                    f"; found {', '.join(map(str, df.columns))}); name the columns lat and lon "
                    "or pass --lat-column/--lon-column"
                )
        assert lat is not None and lon is not None  # checked just above
        seats = _find_column(df.columns, _SEATS_NAMES)
        id_col = _find_column(df.columns, _ID_NAMES)  # named in messages when given
        numbers = table_numbers(
            df,
            decimal=[lat, lon],
            counts=[seats] if seats else [],
            where=str(path),
            labels=[f"space {str(v)!r}" for v in df[id_col]] if id_col else None,
            hints={
                lat: "decimal degrees such as 41.8933",
                lon: "decimal degrees such as 12.4964",
                **({seats: "a whole number of desks such as 24"} if seats else {}),
            },
        )
        lat_v, lon_v = pd.Series(numbers[lat]), pd.Series(numbers[lon])
        _check_lonlat(lon_v, lat_v, str(path), df.index)
        if seats:
            df[seats] = numbers[seats]
        geometry = gpd.GeoSeries(gpd.points_from_xy(lon_v, lat_v), crs=4326)
        return _finish(df.drop(columns=[lat, lon]), geometry, path.name)
    return spaces_from_frame(read_vector(path), source=path.name, where=str(path))


def spaces_from_frame(
    gdf: gpd.GeoDataFrame, *, source: str = "GeoDataFrame", where: str | None = None
) -> gpd.GeoDataFrame:
    """Give a GeoDataFrame of spaces the documented schema (:data:`SPACE_COLUMNS`).

    Non-point features are located at a representative point; features without a location
    are left out with a warning; other columns are kept after the schema's.

    Parameters
    ----------
    gdf
        Spaces in any CRS.
    source
        Value of the ``source`` column when ``gdf`` has none.
    where
        Name used in messages (default: ``source``).
    """
    where = where or source
    if gdf.crs is None:
        raise InputError(f"{where}: the layer has no CRS; set one (e.g. EPSG:4326) and save again")
    gdf = gdf.to_crs(4326)
    kinds = set(gdf.geom_type.dropna())
    if not kinds <= {"Point", "MultiPoint"}:
        gdf = gdf.set_geometry(gdf.representative_point())
        logger.info("%s: non-point spaces located at a representative point", where)
    missing = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    if missing.all():
        raise InputError(f"{where}: no feature has a location; give the spaces coordinates")
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing)[:10])
        warnings.warn(
            f"{where}: {int(missing.sum())} space(s) without a location left out (features "
            f"{rows}); geocode them (fifteenmin registry merge) to include them",
            stacklevel=2,
        )
        gdf = gdf.loc[~missing].reset_index(drop=True)
    geometry = gdf.geometry.centroid if "MultiPoint" in kinds else gdf.geometry
    _check_lonlat(geometry.x, geometry.y, where, pd.RangeIndex(1, len(gdf) + 1))
    return _finish(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), geometry, source)


def spaces_from_osm(
    path: str | Path,
    *,
    tags: Mapping[str, str | list[str] | bool] = COWORKING_TAGS,
    kind: str = "coworking",
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Read spaces tagged in an OSM file (nodes, and ways at their centroid).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf``.
    tags
        OSM tags to match (any of them), by default coworking spaces
        (``amenity=coworking_space``, ``office=coworking``); e.g. ``{"amenity": "library"}``.
    kind
        Value of the ``kind`` column.
    bbox, polygon
        Keep only spaces inside ``(west, south, east, north)`` and/or a (Multi)Polygon
        in EPSG:4326 (e.g. a study area with its margin), read streaming from a large file.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> sorted(fm.spaces_from_osm(city.network)["source"].unique())
    ['osm']
    """
    features = _osm.read_tagged_features(path, tags, bbox=bbox, polygon=polygon)
    if not features:
        wanted = ", ".join(f"{k}={v}" for k, v in tags.items())
        raise InputError(
            f"{path}: no OSM node or way tagged {wanted}; pass a spaces file with --spaces FILE"
        )
    df = pd.DataFrame(
        {
            "space_id": [f"{f.osm_type[0]}{f.osm_id}" for f in features],
            "name": [f.tags.get("name") for f in features],
            "address": [_osm_address(f.tags) for f in features],
            "seats": [f.tags.get("capacity") for f in features],
            "kind": kind,
            "source": "osm",
        }
    )
    geometry = gpd.GeoSeries(
        gpd.points_from_xy([f.lon for f in features], [f.lat for f in features]), crs=4326
    )
    return _finish(df, geometry, "osm")


def _osm_address(tags: Mapping[str, str]) -> str | None:
    street = tags.get("addr:street")
    if not street:
        return None
    number = tags.get("addr:housenumber")
    return f"{street} {number}" if number else street
