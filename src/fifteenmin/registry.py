"""Read, validate and merge Roma Capitale's registry (albo) of coworking spaces with OSM.

The registry is a table with one row per space, as CSV (as a spreadsheet exports it: UTF-8
or Windows-1252, ``,`` ``;`` or tab delimiter, decimal commas; see ``_tables.read_csv_cells``
and ``_tables.parse_number``) or as GeoJSON / GeoPackage, where a point geometry takes the
place of ``lat``/``lon``. Its columns are described in ``REGISTRY_COLUMNS``; Italian headers
in ``COLUMN_ALIASES`` (``nome``, ``indirizzo``, ``postazioni``, ...) are accepted too. Only
``name`` is required, and a row needs either coordinates or an address.

Row numbers (``Problem.row``, ``registry_row``) are counted as a spreadsheet shows them:
in a CSV the header is row 1, so the first data row is row 2. In GeoJSON / GeoPackage files
features are numbered from 1 in file order, and row 0 means the file's columns as a whole.

Examples
--------
>>> normalise_name("IMPACT HUB - Roma"), normalise_kind("Internet Cafè")
('impact hub', 'internet_cafe')
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from . import _osm
from ._tables import number_style, parse_number, read_csv_cells, terminal_safe
from .errors import InputError
from .network import utm_crs
from .spaces import MAX_SEATS

logger = logging.getLogger(__name__)

REGISTRY_COLUMNS: dict[str, str] = {
    "name": "Name of the space (required).",
    "address": "Street address, e.g. 'Via Ostiense 92' or 'Via Ostiense, 92/A'.",
    "municipio": "District label, e.g. 'I'..'XV' or any other label (free text).",
    "seats": "Number of workstations (postazioni): a whole number >= 0.",
    "kind": "coworking, internet_cafe, community_space or other "
    "(case, spaces, hyphens and Italian names such as 'spazio comunitario' are accepted).",
    "network_member": "Member of the city's coworking network: yes/no, si/no, true/false, 1/0.",
    "source": "Where the record comes from (free text).",
    "last_verified": "Date the record was last checked, ISO format YYYY-MM-DD.",
    "lat": "Latitude in decimal degrees, WGS 84 (optional if an address is given).",
    "lon": "Longitude in decimal degrees, WGS 84 (optional if an address is given).",
}
COLUMN_ALIASES: dict[str, str] = {
    "nome": "name", "denominazione": "name", "indirizzo": "address", "postazioni": "seats",
    "posti": "seats", "tipo": "kind", "tipologia": "kind", "rete": "network_member",
    "fonte": "source", "ultima_verifica": "last_verified", "data_verifica": "last_verified",
    "latitude": "lat", "latitudine": "lat", "longitude": "lon", "longitudine": "lon",
    "lng": "lon",
}  # fmt: skip
KINDS = ("coworking", "internet_cafe", "community_space", "other")
_KIND_ALIASES = {
    "co_working": "coworking", "cowork": "coworking", "spazio_coworking": "coworking",
    "spazio_di_coworking": "coworking", "internet_caffe": "internet_cafe",
    "internetcafe": "internet_cafe", "internet_point": "internet_cafe",
    "cybercafe": "internet_cafe", "cyber_cafe": "internet_cafe",
    "spazio_comunitario": "community_space", "spazio_di_comunita": "community_space",
    "centro_comunitario": "community_space", "community_centre": "community_space",
    "community_center": "community_space", "altro": "other", "altra": "other",
}  # fmt: skip
#: Words dropped by ``normalise_name``: "coworking" and its spellings, "spazio"/"space",
#: legal forms, articles and prepositions, and the city's name. Distinctive words such as
#: "hub", "garden" or "center" are kept ("Impact Hub" and "Impact Center" must not match).
GENERIC_NAME_WORDS = frozenset(
    "coworking spazio spazi space spaces srl srls spa snc sas scarl onlus aps ets associazione "
    "the a an of and at il lo la i gli le l un una di del dello della dei degli delle dell da "
    "dal dalla dall in e ed al alla all roma rome rm".split()
)
REGISTRY_SUFFIXES = (".csv", ".geojson", ".json", ".gpkg")
DUPLICATE_DISTANCE_M = 100.0
NAME_SIMILARITY = 0.85
PROVENANCE_FIELDS = ("name", "address", "seats", "kind", "geometry")
MERGED_COLUMNS = [
    "space_id", "name", "address", "seats", "kind", "source", "geometry", "municipio",
    "network_member", "last_verified", "geocode_quality",
    *(f"{f}_source" for f in PROVENANCE_FIELDS),
    "registry_row", "osm_id", "registry_source", "match_distance_m", "note",
]  # fmt: skip

_COWORK_RE = re.compile(r"\bco[\s\-_]*wo(?:rk(?:ing)?)?\b")
_NUMBER = r"(?:n\.?|nr\.?|civico)?\s*(\d+)\s*(?:/\s*)?([a-z]|bis|ter)?"
_ADDRESS_RE = re.compile(rf"(.*?\D)\s+{_NUMBER}")
_NUMBER_RE = re.compile(_NUMBER)
_STREET_ABBREVIATIONS = [
    (re.compile(pattern), repl)
    for pattern, repl in [
        (r"^v\.?\s*le\b\.?", "viale "),
        (r"^p\.?\s*le\b\.?", "piazzale "),
        (r"^p\.?\s*z?za\b\.?", "piazza "),
        (r"^l\.?\s*go\b\.?", "largo "),
        (r"^c\.?\s*so\b\.?", "corso "),
        (r"^l\.?\s*(?:gt|tevere)\b\.?", "lungotevere "),
        (r"^v\.?\s*lo\b\.?", "vicolo "),
        (r"^v(?:\.|\s)\s*", "via "),
    ]
]
_STREET_PARTICLES = frozenset(
    "di d de del dello della dei degli delle dell l lo la il i gli le".split()
)
_CITY_PART_RE = re.compile(r"\b(?:\d{5}|roma|rome|rm|italia|italy)\b|[()]")
_TRUE = frozenset({"yes", "y", "si", "true", "vero", "1"})
_FALSE = frozenset({"no", "n", "false", "falso", "0"})

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a registry file.

    ``row`` follows the module's convention: in a CSV the header is row 1 and the first data
    row is row 2; GeoJSON / GeoPackage features count from 1 and row 0 is the file as a whole.
    ``column`` is the header as written in the file (``None`` for a whole row).
    Errors are values that cannot be used; warnings are usable values that look wrong.
    """

    row: int
    column: str | None
    severity: Severity
    message: str
    file: str = ""


@dataclass(frozen=True)
class MergeResult:
    """The registry merged with OSM spaces, with what matched, clashed or could not be placed.

    ``merged`` holds every registry row and every OSM space (nothing is dropped), in
    EPSG:4326, with ``MERGED_COLUMNS``. ``conflicts`` has one row per field on which a matched
    pair disagrees (``registry_row, osm_id, field, registry_value, osm_value``);
    ``unmatched_registry`` and ``unmatched_osm`` list records without a partner, and
    ``not_geocoded`` the registry rows that have no usable coordinates and whose address could
    not be found (they are in ``merged`` with an empty geometry and a ``note``).
    """

    merged: gpd.GeoDataFrame
    conflicts: pd.DataFrame
    unmatched_registry: pd.DataFrame
    unmatched_osm: pd.DataFrame
    not_geocoded: pd.DataFrame

    def write(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a GeoPackage with layers "spaces", "conflicts", "unmatched", "not_geocoded".

        "spaces" is ``merged``; the other layers are attribute tables without geometry
        ("unmatched" stacks both sides, told apart by its ``side`` column). ``path`` must end
        in ``.gpkg``; an existing file is replaced only with ``overwrite=True``. The file is
        written to a temporary sibling and then moved into place, so a failed or interrupted
        run never leaves a half-written file. Returns the path written.
        """
        from ._io import output_file

        path = Path(path)
        unmatched = pd.concat(
            [
                self.unmatched_registry.assign(side="registry"),
                self.unmatched_osm.assign(side="osm"),
            ],
            ignore_index=True,
        )
        layers: dict[str, pd.DataFrame] = {
            "spaces": self.merged,
            "conflicts": self.conflicts,
            "unmatched": unmatched,
            "not_geocoded": self.not_geocoded,
        }
        with output_file(path, overwrite=overwrite) as tmp:
            for layer, frame in layers.items():
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        logger.debug("wrote %d spaces to %s", len(self.merged), path)  # the CLI says so once
        return path


# ---------------------------------------------------------------- value normalisation


def _fold(text: object) -> str:
    """Casefold and strip accents (NFKD, combining marks dropped)."""
    s = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in s if not unicodedata.combining(c)).strip()


def _missing(value: object) -> bool:
    """Whether a cell is empty: None, NaN, NA, NaT or blank text."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # array-like values are not missing
        return False


def _text(value: object) -> str | None:
    return None if _missing(value) else str(value).strip()


def normalise_name(name: object) -> str:
    """Normalise a space's name for matching.

    Casefold, strip accents, unify "co-working"/"cowork"/"cowo" as "coworking", delete dots
    (``S.r.l.`` -> ``srl``), turn other punctuation into spaces, collapse whitespace and drop
    ``GENERIC_NAME_WORDS``. If only generic words remain, they are all kept, so "Coworking
    Roma" does not become empty. A missing name gives "".

    Examples
    --------
    >>> normalise_name("IMPACT HUB - Roma")
    'impact hub'
    >>> normalise_name("Spazio Co-Working Città dell'Altra Economia S.r.l.")
    'citta altra economia'
    >>> normalise_name("Coworking Roma")
    'coworking roma'
    """
    if _missing(name):
        return ""
    s = _COWORK_RE.sub(" coworking ", _fold(name)).replace(".", "")
    tokens = re.sub(r"[\W_]+", " ", s).split()
    kept = [t for t in tokens if t not in GENERIC_NAME_WORDS]
    return " ".join(kept or tokens)


def normalise_kind(kind: object) -> str | None:
    """Return the ``KINDS`` value for ``kind``, or ``None`` if it is empty or unknown.

    Examples
    --------
    >>> normalise_kind("Co-Working"), normalise_kind("spazio comunitario"), normalise_kind("bar")
    ('coworking', 'community_space', None)
    """
    if _missing(kind):
        return None
    key = re.sub(r"[\W_]+", "_", _fold(kind)).strip("_")
    return key if key in KINDS else _KIND_ALIASES.get(key)


def _parse_float(value: object, column: str, decimal_comma: bool | None = None) -> float | None:
    """A coordinate: ``41.8933`` or ``41,8933`` (see ``_tables.parse_number``)."""
    if _missing(value):
        return None
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise ValueError(f"{column} {value!r} is not a finite number; write decimal degrees")
        return float(value)
    try:
        return parse_number(
            str(value),
            decimal_comma=decimal_comma,
            hint="; write decimal degrees such as 41.8933",
        )
    except ValueError as exc:
        raise ValueError(f"{column} {exc}") from None


def _parse_seats(value: object, decimal_comma: bool | None = None) -> int | None:
    """A count of seats: ``1200``, ``1.200`` in a file with decimal commas, ``1.234.567``."""
    if _missing(value):
        return None
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = parse_number(
                str(value),
                count=True,
                decimal_comma=decimal_comma,
                hint="; write a whole number of desks (postazioni) such as 24",
            )
        except ValueError as exc:
            raise ValueError(f"seats {exc}") from None
    if not np.isfinite(number):
        raise ValueError(
            f"seats {value!r} is not a finite number; write a whole number of desks (postazioni)"
        )
    if not number.is_integer():
        raise ValueError(
            f"seats {value!r} is not a whole number; write a whole number of desks (postazioni)"
        )
    if number < 0:
        raise ValueError(f"seats {value!r} is negative; write 0 or more postazioni")
    if number > MAX_SEATS:
        raise ValueError(f"seats {value!r} is more than {MAX_SEATS:,} postazioni; check the value")
    return int(number)


def _parse_bool(value: object) -> bool | None:
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_) or (isinstance(value, int | float) and value in (0, 1)):
        return bool(value)
    key = _fold(value)
    if key in _TRUE or key in _FALSE:
        return key in _TRUE
    raise ValueError(f"network_member {value!r} is not yes/no; write si/no, yes/no or 1/0")


def _parse_date(value: object) -> dt.date | None:
    if _missing(value):
        return None
    if isinstance(value, dt.date):  # also datetime and pd.Timestamp
        return value.date() if isinstance(value, dt.datetime) else value
    s = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?", s):
        try:
            return dt.date.fromisoformat(s[:10])
        except ValueError:
            pass
    hint = ""
    if m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", s):
        hint = f" ({s} would be {m[3]}-{int(m[2]):02d}-{int(m[1]):02d})"
    raise ValueError(f"last_verified {s!r} is not a date; write it as YYYY-MM-DD{hint}")


def _street_key(street: object) -> str:
    """Street name for matching: folded, abbreviations expanded, particles dropped."""
    s = _fold(street)
    for pattern, repl in _STREET_ABBREVIATIONS:
        s, n = pattern.subn(repl, s, count=1)
        if n:
            break
    return " ".join(t for t in re.sub(r"[\W_]+", " ", s).split() if t not in _STREET_PARTICLES)


def _parse_address(address: object) -> tuple[str, int | None, str]:
    """Split an address into ``(street key, house number, suffix)``.

    Accepts "Via Ostiense 92", "Via Ostiense, 92", "Via Ostiense 92/A" and a trailing
    postcode or city ("..., 00154 Roma"). Returns ``("", None, "")`` for a missing address.
    """
    if _missing(address):
        return "", None, ""
    parts = [_CITY_PART_RE.sub(" ", p).strip(" -") for p in _fold(address).split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return "", None, ""
    if len(parts) > 1 and (m := _NUMBER_RE.fullmatch(parts[1])):
        return _street_key(parts[0]), int(m[1]), m[2] or ""
    if m := _ADDRESS_RE.fullmatch(parts[0]):
        return _street_key(m[1]), int(m[2]), m[3] or ""
    return _street_key(parts[0]), None, ""


def _address_key(address: object) -> str:
    street, number, suffix = _parse_address(address)
    return f"{street} {number}{suffix}" if number is not None else street


def _parse_housenumber(value: object) -> tuple[int | None, str]:
    if _missing(value):
        return None, ""
    s = _fold(value)
    if m := _NUMBER_RE.fullmatch(s):
        return int(m[1]), m[2] or ""
    m = re.match(r"\s*(\d+)", s)  # "92-94", "92;94": the first number
    return (int(m[1]), "") if m else (None, "")


# ---------------------------------------------------------------- reading


def _column_key(header: object) -> str:
    key = re.sub(r"[\W_]+", "_", _fold(header)).strip("_")
    return key if key in REGISTRY_COLUMNS else COLUMN_ALIASES.get(key, key)


def _canonical_columns(
    df: pd.DataFrame, *, file: str, header_row: int
) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    """Rename known headers to ``REGISTRY_COLUMNS`` names; report unknown and missing ones."""
    problems: list[Problem] = []
    cols: dict[str, str] = {}  # canonical -> header as written
    for header in df.columns:
        key = _column_key(header)
        if key not in REGISTRY_COLUMNS:
            known = ", ".join(REGISTRY_COLUMNS)
            message = f"unknown column {header!r} is ignored; known columns: {known}"
        elif key in cols:
            message = f"column {header!r} repeats {cols[key]!r} and is ignored; keep one of them"
        else:
            cols[key] = str(header)
            continue
        problems.append(Problem(header_row, str(header), "warning", message, file))
    out = pd.DataFrame({key: df[header].astype(object) for key, header in cols.items()})
    out.index = df.index
    for key in REGISTRY_COLUMNS:
        if key not in out:
            out[key] = None
    if "name" not in cols:
        problems.append(
            Problem(header_row, "name", "error", "required column 'name' is missing; add it", file)
        )
    if not {"lat", "lon", "address"} & cols.keys():
        problems.append(
            Problem(
                header_row, None, "error",
                "no lat/lon and no address column; add one so the spaces can be located", file,
            )
        )  # fmt: skip
    return out, cols, problems


def _lonlat_from_geometry(
    gdf: gpd.GeoDataFrame, *, file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Replace a GeoDataFrame's geometry by lat/lon columns (EPSG:4326)."""
    problems: list[Problem] = []
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    elif not gdf.crs.equals(pyproj.CRS.from_epsg(4326)):
        gdf = gdf.to_crs(4326)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    lon: list[float | None] = []
    lat: list[float | None] = []
    for row, geom in zip(df.index, gdf.geometry, strict=True):
        if geom is None or geom.is_empty:
            lon.append(None)
            lat.append(None)
            continue
        if geom.geom_type != "Point":
            message = f"geometry is a {geom.geom_type}; its centroid is used, store a point"
            problems.append(Problem(int(row), "geometry", "warning", message, file))
            geom = geom.centroid
        lon.append(geom.x)
        lat.append(geom.y)
    has_geometry = [x is not None for x in lon]
    for key, values in (("lon", lon), ("lat", lat)):
        column = next((c for c in df.columns if _column_key(c) == key), key)
        old = df[column].astype(object) if column in df else pd.Series(None, index=df.index)
        df[column] = [v if g else o for v, g, o in zip(values, has_geometry, old, strict=True)]
    return df, problems


def _read_raw(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    """Read a registry file as raw values indexed by row number, with header problems."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path")
    suffix = path.suffix.lower()
    if suffix not in REGISTRY_SUFFIXES:
        raise InputError(
            f"{path}: unknown registry file type {suffix!r}; use .csv, .geojson or .gpkg"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty; export the registry again")
    if suffix != ".csv":
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types
            raise InputError(f"{path}: cannot be read ({exc}); check the file") from None
        if gdf.empty:
            raise InputError(f"{path}: the file has no features; export the registry again")
        gdf.index = pd.RangeIndex(1, len(gdf) + 1)
        problems: list[Problem] = []
        if isinstance(gdf, gpd.GeoDataFrame):
            gdf, problems = _lonlat_from_geometry(gdf, file=file)
        raw, cols, header_problems = _canonical_columns(gdf, file=file, header_row=0)
        return raw, cols, header_problems + problems
    cells = read_csv_cells(path, what="registry")
    problems = [
        Problem(row, None, "error", cells.ragged_message(row), file) for row in cells.ragged
    ]
    df = pd.DataFrame.from_dict(cells.rows, orient="index", columns=cells.header, dtype=object)
    raw, cols, header_problems = _canonical_columns(df, file=file, header_row=cells.header_row)
    return raw, cols, header_problems + problems


def _raw_from_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    """Raw values from an in-memory table; rows numbered as a CSV of it would be."""
    df = df.copy()
    df.index = df.pop("row").astype(int) if "row" in df else pd.RangeIndex(2, len(df) + 2)
    problems: list[Problem] = []
    if isinstance(df, gpd.GeoDataFrame):
        df, problems = _lonlat_from_geometry(df, file="<table>")
    raw, cols, header_problems = _canonical_columns(df, file="<table>", header_row=1)
    return raw, cols, header_problems + problems


# ---------------------------------------------------------------- parsing and checks


def _parse_rows(
    raw: pd.DataFrame, cols: dict[str, str], file: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Typed records (``read_registry``'s table) and the problems of each row's values."""
    problems: list[Problem] = []
    records: list[dict[str, Any]] = []

    def report(row: int, column: str | None, message: str) -> None:
        problems.append(Problem(row, cols.get(column or "", column), "error", message, file))

    # decimal commas (41,8933) tell how the file writes 1.200 seats: see _tables.number_style
    style = number_style([*raw["lat"], *raw["lon"]], raw["seats"])
    for row, values in zip(map(int, raw.index), raw.to_dict("records"), strict=True):
        rec: dict[str, Any] = {"row": row}
        for key in ("name", "address", "municipio", "source"):
            rec[key] = _text(values[key])
        if rec["name"] is None and "name" in cols:
            report(row, "name", "name is empty; every space needs a name")
        for key, parse in (
            ("seats", partial(_parse_seats, decimal_comma=style)),
            ("network_member", _parse_bool),
            ("last_verified", _parse_date),
        ):
            try:
                rec[key] = parse(values[key])
            except ValueError as exc:
                rec[key] = None
                report(row, key, str(exc))
        rec["kind"] = normalise_kind(values["kind"])
        if rec["kind"] is None and not _missing(values["kind"]):
            report(
                row, "kind", f"kind {values['kind']!r} is unknown; use one of {', '.join(KINDS)}"
            )
        coords: dict[str, float | None] = {}
        for key in ("lat", "lon"):
            try:
                coords[key] = _parse_float(values[key], key, style)
            except ValueError as exc:
                coords[key] = np.nan  # given but unreadable: reported, never used
                report(row, key, str(exc))
        lat, lon = coords["lat"], coords["lon"]
        rec["lat"] = rec["lon"] = np.nan
        if lat is None and lon is None:
            if rec["address"] is None and ({"lat", "lon", "address"} & cols.keys()):
                report(row, None, "no coordinates and no address; add lat/lon or an address")
        elif lat is None or lon is None:
            given, empty = ("lat", "lon") if lon is None else ("lon", "lat")
            report(row, empty, f"{given} is given but {empty} is empty; give both, or neither")
        elif np.isnan(lat) or np.isnan(lon):
            pass
        elif not -90 <= lat <= 90 and -180 <= lat <= 180 and -90 <= lon <= 90:
            message = (
                f"lat {lat} is outside [-90, 90] but lon {lon} would be a valid latitude: "
                "lat and lon look swapped; swap the two values"
            )
            report(row, "lat", message)
        elif not -90 <= lat <= 90:
            report(row, "lat", f"lat {lat} is outside [-90, 90]; write decimal degrees")
        elif not -180 <= lon <= 180:
            report(row, "lon", f"lon {lon} is outside [-180, 180]; write decimal degrees")
        else:
            rec["lat"], rec["lon"] = lat, lon
        records.append(rec)
    table = pd.DataFrame.from_records(records, columns=["row", *REGISTRY_COLUMNS])
    table["seats"] = pd.array(table["seats"].tolist(), dtype="Int64")
    table["network_member"] = pd.array(table["network_member"].tolist(), dtype="boolean")
    table["last_verified"] = pd.to_datetime(table["last_verified"].tolist())
    table[["lat", "lon"]] = table[["lat", "lon"]].astype(float)
    table["kind"] = table["kind"].astype(object)
    geometry = [
        None if np.isnan(y) else shapely.Point(x, y)
        for x, y in zip(table["lon"], table["lat"], strict=True)
    ]
    return gpd.GeoDataFrame(table, geometry=geometry, crs=4326), problems


def _utm_at(lon: Iterable[float], lat: Iterable[float]) -> pyproj.CRS:
    """The UTM zone at the mean of the points (NaN ignored)."""
    return utm_crs(
        float(np.nanmean(np.asarray(list(lon), dtype=float))),
        float(np.nanmean(np.asarray(list(lat), dtype=float))),
    )


def _xy(geometry: gpd.GeoSeries, crs: pyproj.CRS) -> np.ndarray:
    """Projected (x, y) of each geometry's centroid; NaN where there is none."""
    projected = geometry.to_crs(crs)
    centroid = projected.centroid
    return np.column_stack([centroid.x.to_numpy(float), centroid.y.to_numpy(float)])


def _points(xy: np.ndarray) -> np.ndarray:
    """Shapely points from an (n, 2) array, ``None`` where a coordinate is NaN."""
    points = shapely.points(xy)
    points[np.isnan(xy).any(axis=1)] = None
    return points


def _area_problems(
    table: gpd.GeoDataFrame, area: shapely.Geometry, cols: dict[str, str], file: str
) -> list[Problem]:
    problems: list[Problem] = []
    located = table[table.geometry.notna()]
    inside = shapely.covers(area, located.geometry.to_numpy())
    swapped = shapely.covers(area, shapely.points(located["lat"], located["lon"]))
    for row, lat, lon, ok, swap_ok in zip(
        located["row"], located["lat"], located["lon"], inside, swapped, strict=True
    ):
        if ok:
            continue
        if swap_ok:
            message = (
                f"lat {lat}, lon {lon} is outside the study area but lat {lon}, lon {lat} is "
                "inside: lat and lon look swapped; swap the two values"
            )
            problems.append(Problem(int(row), cols.get("lat", "lat"), "error", message, file))
        else:
            message = (
                f"lat {lat}, lon {lon} is outside the study area; check the coordinates "
                "or the study area"
            )
            problems.append(Problem(int(row), cols.get("lat", "lat"), "warning", message, file))
    return problems


def _duplicate_problems(table: gpd.GeoDataFrame, cols: dict[str, str], file: str) -> list[Problem]:
    """Rows with the same normalised name as an earlier row, within 100 m or at its address."""
    problems: list[Problem] = []
    located = table.geometry.notna()
    xy = (
        _xy(table.geometry, _utm_at(table["lon"], table["lat"]))
        if located.any()
        else np.full((len(table), 2), np.nan)
    )
    names, rows = table["name"].tolist(), table["row"].tolist()
    addresses = [_address_key(a) for a in table["address"]]
    seen: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        if not (key := normalise_name(name)):
            continue
        for i in seen.setdefault(key, []):
            distance = float(np.hypot(*(xy[i] - xy[j])))  # NaN unless both are located
            if distance <= DUPLICATE_DISTANCE_M or (addresses[j] and addresses[i] == addresses[j]):
                where = (
                    f"{distance:.0f} m away"
                    if distance <= DUPLICATE_DISTANCE_M
                    else ("at the same address")
                )
                message = f"duplicates row {rows[i]} ({names[i]!r}, {where}); remove or merge one"
                problems.append(
                    Problem(rows[j], cols.get("name", "name"), "warning", message, file)
                )
                break
        seen[key].append(j)
    return problems


# ---------------------------------------------------------------- public API


def read_registry(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a registry file into typed records, one per data row, in EPSG:4326.

    Columns: ``row`` (see the module docstring) and ``REGISTRY_COLUMNS``, with ``seats``
    as Int64, ``network_member`` as boolean, ``last_verified`` as datetime, ``kind``
    normalised to ``KINDS`` and a point geometry where lat/lon are usable. Values that cannot
    be read are left empty; ``validate_registry`` says which and why.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "albo.csv"
    >>> _ = path.write_text("nome;postazioni;tipo;lat;lon\\nWire;120;Co-working;41,92;12,47\\n")
    >>> read_registry(path)[["row", "name", "seats", "kind"]].to_dict("records")
    [{'row': 2, 'name': 'Wire', 'seats': 120, 'kind': 'coworking'}]
    """
    raw, cols, problems = _read_raw(path)
    table, row_problems = _parse_rows(raw, cols, str(path))
    _log_problems(problems + row_problems, str(path))
    return table


def _log_problems(problems: Sequence[Problem], file: str) -> None:
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        logger.warning(
            "%s: %d value(s) could not be used; run `fifteenmin registry validate %s` to see them",
            file, errors, file,
        )  # fmt: skip


def validate_registry(
    path: str | os.PathLike[str], *, study_area: shapely.Geometry | None = None
) -> list[Problem]:
    """Check a registry file and report every problem found, sorted by row.

    Errors: missing name; neither coordinates nor address; only one of lat/lon; lat/lon not
    numbers, out of range or apparently swapped; unknown kind; seats negative or not whole;
    last_verified not an ISO date; network_member not yes/no. Warnings: duplicate rows (same
    normalised name within 100 m, or same name and address), points outside ``study_area``,
    unknown columns. Row numbers: the header is row 1 in a CSV (see the module docstring).

    Parameters
    ----------
    path
        ``.csv``, ``.geojson`` or ``.gpkg`` file.
    study_area
        Optional polygon in EPSG:4326. Points outside it are reported, and flagged as swapped
        when swapping lat and lon would put them inside.

    Raises
    ------
    InputError
        If the file is missing, empty, not text (CSV) or of an unknown type.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "albo.csv"
    >>> _ = path.write_text("name,seats,lat,lon\\nWire,120,41.92,12.47\\n,-3,141.9,12.5\\n")
    >>> [(p.row, p.column, p.severity) for p in validate_registry(path)]
    [(3, 'name', 'error'), (3, 'seats', 'error'), (3, 'lat', 'error')]
    """
    file = str(path)
    raw, cols, problems = _read_raw(path)
    table, row_problems = _parse_rows(raw, cols, file)
    problems = problems + row_problems + _duplicate_problems(table, cols, file)
    if study_area is not None:
        problems += _area_problems(table, study_area, cols, file)
    return sorted(problems, key=lambda p: p.row)


def format_problems(problems: Iterable[Problem]) -> str:
    """One line per problem: ``FILE row N, column C: severity: message``.

    Control characters from the file (line breaks, terminal escape sequences) are left out
    (``_tables.terminal_safe``), so each problem prints as one harmless line.

    Examples
    --------
    >>> problem = Problem(7, "lat", "error", "lat 141.9 is outside [-90, 90]", "a.csv")
    >>> print(format_problems([problem]))
    a.csv row 7, column lat: error: lat 141.9 is outside [-90, 90]
    """
    lines = []
    for p in problems:
        where = f"{p.file} row {p.row}" + (f", column {p.column}" if p.column else "")
        lines.append(terminal_safe(f"{where}: {p.severity}: {p.message}"))
    return "\n".join(lines)


def osm_addresses_from_file(
    path: str | os.PathLike[str], *, polygon: shapely.Geometry | None = None
) -> gpd.GeoDataFrame:
    """Read OSM nodes and ways tagged ``addr:street`` from an .osm, .osm.bz2 or .osm.pbf file.

    Ways are placed at the centroid of their node locations; relations are skipped. Returns
    columns ``osm_id`` ("n1", "w2", as in ``spaces_from_osm``), ``addr:street``,
    ``addr:housenumber`` (missing where untagged) and point geometry in EPSG:4326, ready for
    ``merge_registry``. With ``polygon`` (EPSG:4326, e.g. the city boundary) only the
    addresses inside it are kept, so a regional extract does not fill memory with the
    addresses of the whole region.
    """
    path = Path(path)
    if not path.name.lower().endswith(_osm.OSM_SUFFIXES):
        raise InputError(f"{path}: not an OSM file; use .osm, .osm.bz2 or .osm.pbf")
    features = _osm.read_tagged_features(path, {"addr:street": True}, polygon=polygon)
    logger.info("%s: %d OSM features with addr:street", path, len(features))
    return gpd.GeoDataFrame(
        {
            "osm_id": [f"{f.osm_type[0]}{f.osm_id}" for f in features],
            "addr:street": [f.tags["addr:street"] for f in features],
            "addr:housenumber": [f.tags.get("addr:housenumber") for f in features],
        },
        geometry=shapely.points([f.lon for f in features], [f.lat for f in features]),
        crs=4326,
    )


def _names_match(a: str, b: str) -> bool:
    if not a or not b:
        return False
    contained = f" {a} " in f" {b} " or f" {b} " in f" {a} "
    return a == b or contained or difflib.SequenceMatcher(None, a, b).ratio() >= NAME_SIMILARITY


def _same_value(field: str, a: object, b: object) -> bool:
    if field == "name":
        return normalise_name(a) == normalise_name(b)
    if field == "address":
        return _address_key(a) == _address_key(b)
    return a == b


class _Geocoder:
    """Offline geocoder: registry addresses against OSM ``addr:*`` features."""

    def __init__(self, addresses: gpd.GeoDataFrame) -> None:
        missing = {"addr:street", "addr:housenumber"} - set(addresses.columns)
        if missing:
            raise InputError(
                f"osm_addresses lacks column(s) {', '.join(sorted(missing))}; "
                "build it with osm_addresses_from_file"
            )
        if addresses.crs is not None:
            addresses = addresses.to_crs(4326)
        points = shapely.centroid(addresses.geometry.to_numpy())
        self.streets: dict[str, list[tuple[int | None, str, shapely.Point]]] = {}
        for street, number, point in zip(
            addresses["addr:street"], addresses["addr:housenumber"], points, strict=True
        ):
            if _missing(street) or point is None or point.is_empty:
                continue
            self.streets.setdefault(_street_key(street), []).append(
                (*_parse_housenumber(number), point)
            )

    def __call__(self, address: str) -> tuple[shapely.Point | None, str, str]:
        """Return ``(point, geocode_quality, note)``."""
        street, number, suffix = _parse_address(address)
        candidates = self.streets.get(street, [])
        if not street or not candidates:
            return None, "none", f"street of {address!r} not found in OSM addresses; add lat/lon"
        if number is None:
            return None, "none", f"address {address!r} has no house number; add one or lat/lon"
        target = number
        numbered = [(n, s, point) for n, s, point in candidates if n is not None]
        for n, s, point in numbered:
            if n == target and s == suffix:
                return point, "exact", ""
        if not numbered:
            return None, "none", f"no house numbers on the street of {address!r}; add lat/lon"
        # nearest number, then the same side of the street (same parity), then no suffix
        n, s, point = min(numbered, key=lambda c: (abs(c[0] - target), (c[0] - target) % 2, c[1]))
        return point, "street_nearest_number", f"approximate: placed at house number {n}{s}"


def _seats_or_none(value: object) -> int | None:
    try:
        return _parse_seats(value)
    except ValueError:
        return None


def _osm_table(osm_spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "space_id" not in osm_spaces or not isinstance(osm_spaces, gpd.GeoDataFrame):
        raise InputError("osm_spaces must be a GeoDataFrame with a space_id column")
    osm = osm_spaces.set_crs(4326) if osm_spaces.crs is None else osm_spaces.to_crs(4326)
    osm = osm.reset_index(drop=True)
    for column in ("name", "address", "seats", "kind", "source"):
        if column not in osm:
            osm[column] = None
    osm["kind"] = [normalise_kind(k) or _text(k) for k in osm["kind"]]
    osm["seats"] = pd.array([_seats_or_none(s) for s in osm["seats"]], dtype="Int64")
    return osm


def merge_registry(
    registry: str | os.PathLike[str] | pd.DataFrame,
    osm_spaces: gpd.GeoDataFrame,
    *,
    osm_addresses: gpd.GeoDataFrame | None = None,
    max_distance_m: float = 100.0,
    prefer: Literal["registry", "osm"] = "registry",
) -> MergeResult:
    """Merge the registry with spaces found in OSM, keeping the provenance of every field.

    Registry rows without usable coordinates are first geocoded offline against
    ``osm_addresses``: the same street and house number (``geocode_quality`` "exact"), else
    the nearest house number on the same street ("street_nearest_number", with a note), else
    "none" (listed in ``not_geocoded``). Street names are compared folded, with
    abbreviations expanded (V.le, P.zza, L.go, C.so, ...) and particles (di, dei, ...) dropped.
    ``geocode_quality`` is missing for rows that had their own coordinates.

    A registry row and an OSM space match when their normalised names are equal, one
    contains the other, or their difflib ratio is >= 0.85, and they lie within
    ``max_distance_m``, measured in the UTM zone of the data's centroid. Pairs are taken
    greedily, nearest first, each record at most once.

    For a matched pair, each of name, address, seats and kind comes from the side that has
    it; ``<field>_source`` says "registry", "osm" or "both" (both agree). Where they
    disagree, ``prefer`` wins and the pair is listed in ``conflicts``. The geometry is the
    registry's own point, or the OSM point if the registry row was only geocoded.
    ``source`` is "registry", "osm" or "registry+osm"; the registry's ``source`` column is
    kept as ``registry_source``. ``space_id`` is "registry/<row>" for registry rows and the
    OSM ``space_id`` otherwise (kept as ``osm_id`` for matches).

    Parameters
    ----------
    registry
        Registry file, or a table with the registry's columns (for example from
        ``read_registry``).
    osm_spaces
        Columns space_id, name, address, seats, kind, source and point geometry.
    osm_addresses
        OSM features with ``addr:street``, ``addr:housenumber`` and point geometry, as from
        ``osm_addresses_from_file``. Without it, address-only rows are not geocoded.
    max_distance_m
        Largest distance between a registry row and its OSM match, in metres.
    prefer
        Which side wins a conflict.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> albo = pd.DataFrame({"name": ["Impact Hub Roma"], "seats": [80],
    ...                      "lat": [41.8922], "lon": [12.5168]})
    >>> osm = gpd.GeoDataFrame({"space_id": ["node/1"], "name": ["IMPACT HUB - Roma"],
    ...                         "seats": [60], "kind": ["coworking"], "source": ["osm"]},
    ...                        geometry=[shapely.Point(12.5169, 41.8923)], crs=4326)
    >>> result = merge_registry(albo, osm)
    >>> result.merged[["space_id", "seats", "seats_source", "kind_source"]].to_dict("records")
    [{'space_id': 'registry/2', 'seats': 80, 'seats_source': 'registry', 'kind_source': 'osm'}]
    >>> result.conflicts[["field", "registry_value", "osm_value"]].to_dict("records")
    [{'field': 'seats', 'registry_value': '80', 'osm_value': '60'}]
    """
    if not 0 < max_distance_m < np.inf:
        raise InputError(f"max_distance_m is {max_distance_m}; use a distance above 0 metres")
    if prefer not in ("registry", "osm"):
        raise InputError(f"prefer is {prefer!r}; use 'registry' or 'osm'")
    if isinstance(registry, pd.DataFrame):
        file, (raw, cols, problems) = "<table>", _raw_from_frame(registry)
    else:
        file, (raw, cols, problems) = str(registry), _read_raw(registry)
    reg, row_problems = _parse_rows(raw, cols, file)
    _log_problems(problems + row_problems, file)
    osm = _osm_table(osm_spaces)
    reg, quality, notes = _geocode(reg, osm_addresses)
    match = _match(reg, osm, max_distance_m)

    records: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    unmatched_reg: list[dict[str, Any]] = []
    not_geocoded: list[dict[str, Any]] = []
    for i, r in enumerate(reg.to_dict("records")):
        rec: dict[str, Any] = {
            "space_id": f"registry/{r['row']}",
            "source": "registry",
            "municipio": r["municipio"],
            "network_member": r["network_member"],
            "last_verified": r["last_verified"],
            "geocode_quality": quality[i],
            "registry_row": r["row"],
            "registry_source": r["source"],
            "note": notes[i],
        }
        for field in PROVENANCE_FIELDS:
            rec[field] = None if _missing(r[field]) else r[field]
            rec[f"{field}_source"] = None if rec[field] is None else "registry"
        brief = {"registry_row": r["row"], "name": r["name"], "address": r["address"]}
        if quality[i] == "none":
            not_geocoded.append({**brief, "note": notes[i]})
        if i not in match:
            reason = (
                notes[i]
                if rec["geometry"] is None
                else (f"no OSM space with a matching name within {max_distance_m:g} m")
            )
            unmatched_reg.append({**brief, "osm_id": None, "reason": reason})
            records.append(rec)
            continue
        j, distance = match[i]
        o = osm.iloc[j]
        rec.update(source="registry+osm", osm_id=o["space_id"], match_distance_m=round(distance, 1))
        for field in PROVENANCE_FIELDS[:-1]:
            ours, theirs = rec[field], None if _missing(o[field]) else o[field]
            if theirs is None:
                continue
            if ours is None:
                rec[field], rec[f"{field}_source"] = theirs, "osm"
            elif _same_value(field, ours, theirs):
                rec[f"{field}_source"] = "both"
            else:
                rec[field] = theirs if prefer == "osm" else ours
                rec[f"{field}_source"] = prefer
                conflicts.append(
                    {"registry_row": r["row"], "osm_id": o["space_id"], "field": field,
                     "registry_value": str(ours), "osm_value": str(theirs)}
                )  # fmt: skip
        if prefer == "osm" or quality[i] is not None:  # a geocoded point is only approximate
            rec["geometry"], rec["geometry_source"] = o.geometry, "osm"
        records.append(rec)

    matched_osm = {j for j, _ in match.values()}
    unmatched_osm: list[dict[str, Any]] = []
    for j, o in osm.iterrows():
        if j in matched_osm:
            continue
        rec = {"space_id": o["space_id"], "source": _text(o["source"]) or "osm"}
        rec.update(osm_id=o["space_id"], note="")
        for field in PROVENANCE_FIELDS:
            value = o.geometry if field == "geometry" else o[field]
            rec[field] = None if _missing(value) else value
            rec[f"{field}_source"] = None if rec[field] is None else "osm"
        records.append(rec)
        reason = f"no registry row with a matching name within {max_distance_m:g} m"
        unmatched_osm.append(
            {"registry_row": None, "osm_id": o["space_id"], "name": o["name"],
             "address": o["address"], "reason": reason}
        )  # fmt: skip

    merged = pd.DataFrame.from_records(records, columns=MERGED_COLUMNS)
    merged["seats"] = pd.array(merged["seats"].tolist(), dtype="Int64")
    merged["registry_row"] = pd.array(merged["registry_row"].tolist(), dtype="Int64")
    merged["network_member"] = pd.array(merged["network_member"].tolist(), dtype="boolean")
    merged["last_verified"] = pd.to_datetime(merged["last_verified"])
    merged["match_distance_m"] = merged["match_distance_m"].astype(float)
    unmatched_columns = ["registry_row", "osm_id", "name", "address", "reason"]
    logger.debug(  # the counts are the result's; the CLI prints them once
        "merged %d registry rows and %d OSM spaces: %d matched, %d conflicts, %d not geocoded",
        len(reg), len(osm), len(match), len(conflicts), len(not_geocoded),
    )  # fmt: skip
    return MergeResult(
        merged=gpd.GeoDataFrame(merged, geometry="geometry", crs=4326),
        conflicts=_table(
            conflicts, ["registry_row", "osm_id", "field", "registry_value", "osm_value"]
        ),
        unmatched_registry=_table(unmatched_reg, unmatched_columns),
        unmatched_osm=_table(unmatched_osm, unmatched_columns),
        not_geocoded=_table(not_geocoded, ["registry_row", "name", "address", "note"]),
    )


def _geocode(
    reg: gpd.GeoDataFrame, osm_addresses: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str | None], list[str]]:
    """Locate rows without usable coordinates; return the table, qualities and notes."""
    quality: list[str | None] = [None] * len(reg)
    notes = [""] * len(reg)
    geometry = list(reg.geometry)
    geocoder = _Geocoder(osm_addresses) if osm_addresses is not None else None
    for i, (point, address) in enumerate(zip(reg.geometry, reg["address"], strict=True)):
        if point is not None:
            continue
        if address is None:
            quality[i], notes[i] = "none", "no usable coordinates and no address; add lat/lon"
        elif geocoder is None:
            quality[i], notes[i] = "none", "not geocoded: no OSM addresses given; add lat/lon"
        else:
            geometry[i], quality[i], notes[i] = geocoder(address)
    return reg.set_geometry(gpd.GeoSeries(geometry, index=reg.index, crs=4326)), quality, notes


def _match(
    reg: gpd.GeoDataFrame, osm: gpd.GeoDataFrame, max_distance_m: float
) -> dict[int, tuple[int, float]]:
    """Registry position -> (OSM position, distance in m): names match, nearest pairs first."""
    if not (reg.geometry.notna().any() and osm.geometry.notna().any()):
        return {}
    centroids = shapely.centroid(np.concatenate([reg.geometry.to_numpy(), osm.geometry.to_numpy()]))
    crs = _utm_at(shapely.get_x(centroids), shapely.get_y(centroids))
    reg_xy, osm_xy = _xy(reg.geometry, crs), _xy(osm.geometry, crs)
    tree = shapely.STRtree(_points(osm_xy))
    ri, oi = tree.query(_points(reg_xy), predicate="dwithin", distance=max_distance_m)
    reg_names = [normalise_name(n) for n in reg["name"]]
    osm_names = [normalise_name(n) for n in osm["name"]]
    pairs = sorted(
        (float(np.hypot(*(reg_xy[i] - osm_xy[j]))), int(i), int(j))
        for i, j in zip(ri, oi, strict=True)
        if _names_match(reg_names[i], osm_names[j])
    )
    match: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for d, i, j in pairs:
        if i not in match and j not in used:
            match[i] = (j, d)
            used.add(j)
    return match


def _table(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    table = pd.DataFrame.from_records(records, columns=columns)
    if "registry_row" in table:
        table["registry_row"] = pd.array(table["registry_row"].tolist(), dtype="Int64")
    return table
