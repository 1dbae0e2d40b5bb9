"""Service categories as data (a TOML table), and their service points read from OSM.

The categories
--------------
A category is a name, a label in English and Italian, a list of OSM tag filters
(``key=value``, or ``key=*`` for any value) and optionally a registry file of its places.
fifteenmin ships a table (``categories.toml``, :func:`load_categories` with no path) of the
nine daily-service categories of the Sony CSL 15-minute city measures (Bruno et al., Nature
Cities 2024: outdoor activities, learning, supplies, eating, moving, cultural activities,
physical exercise, services, healthcare), each with common OSM tags, plus ``work``
(``amenity=coworking_space``, ``office=coworking``). Users copy and edit it
(``--categories FILE``), or give one category on the command line
(:func:`parse_category_option`): ``NAME=FILE`` (a registry file, read with
:func:`fifteenmin.spaces.spaces_from_file`), ``NAME=key=value,key=value`` (tags), or both
(``work=albo.csv,amenity=coworking_space``).

The service points (:func:`services_from_osm`)
----------------------------------------------
All categories are read from one OSM file together (``.osm``, ``.osm.bz2``, ``.osm.pbf``),
by :func:`fifteenmin._osm.read_tagged_features`: two streaming passes, a third when
multipolygons match. A feature belongs to every category one of whose tags it carries.

- A **node** is a service at its location (``access`` ``node``).
- A **way** is a service at the mean of its vertices (``centroid``); a closed way, unless
  ``area=no``, is an area.
- A **multipolygon relation** (``type=multipolygon``) is an area assembled from its member
  ways; a small one is a service at its centroid (``centroid``).
- A **large area**, more than :data:`LARGE_AREA_M2` (1 ha, a park, a campus, in any
  category), is reached at its edge, not at its middle. When entrance nodes are tagged on
  its outline (``entrance=*`` other than ``no``/``emergency``/``exit``/``service``, or
  ``barrier=gate``/``entrance``/``kissing_gate``/``lift_gate``/``swing_gate``/``turnstile``,
  not ``access``/``foot=no``/``private``), each is a service point (``entrance``). Else,
  given the walkable streets (``streets=``), the points of its outer boundary within
  :data:`STREET_DISTANCE_M` (25 m) of a walkable street, footpaths inside it included
  (the boundary is sampled every 5 m; each stretch of such points gets one point per
  :data:`ACCESS_SPACING_M`, 50 m, of its length, at least one, spread along it: a path
  crossing the edge gives a point where it crosses), ``edge``; when no point of its
  boundary is that near, the one point of the boundary nearest to a street. Without
  streets, points spread along its outer boundary about every 50 m. Inner rings (holes)
  are not edges. Areas are measured in the streets' CRS, else the UTM zone of the data.
- Features tagged ``access=private`` or ``access=no`` are left out (a private garden is
  not a park); a value ``a;b`` matches ``a`` and ``b``.
- With ``bbox``/``polygon`` (EPSG:4326, e.g. a study area with its walking margin), only
  service points inside are kept; a large area meeting it keeps its points inside.

Each category's frame (:data:`SERVICE_COLUMNS`, EPSG:4326) has one row per service point:
``space_id`` is ``osm:node/123``, ``osm:way/45``, ``osm:relation/7``, or ``osm:way/45#3``
for the third access point of a large area (``feature_id`` ``osm:way/45`` groups them).
A category with no service in the file gets an empty frame: not an error, the caller
reports it. :func:`load_services` adds each category's registry file.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import _osm
from ._io import VECTOR_SUFFIXES, check_file
from .errors import InputError

if TYPE_CHECKING:
    from .network import StreetNetwork

logger = logging.getLogger(__name__)

TABLE = "categories.toml"
"""Name of the shipped category table (package data)."""

CATEGORY_KEYS = ("name", "label_en", "label_it", "tags", "file")
"""The keys a ``[[category]]`` of a table may have."""

REGISTRY_SUFFIXES = (".csv", ".txt", *VECTOR_SUFFIXES)
"""File types of a category's registry file."""

LARGE_AREA_M2 = 10_000.0
"""Areas larger than this (1 ha) are reached at their edge, not at their centroid."""

ACCESS_SPACING_M = 50.0
"""About how far apart the access points along a large area's edge are."""

STREET_DISTANCE_M = 25.0
"""A point of a large area's edge within this of a walkable street is an access point."""

_SAMPLE_M = 5.0  # step of the boundary sampling

SERVICE_COLUMNS: dict[str, str] = {
    "space_id": "osm:node/123, osm:way/45, osm:way/45#3 (an access point), or the file's id",
    "name": "name of the service, if known",
    "category": "the category's name",
    "tag": "the category's tag the feature matched (amenity=school); None for file rows",
    "access": "node, centroid, entrance or edge (OSM); point (a registry file)",
    "feature_id": "the OSM feature (osm:way/45) or file row the point belongs to",
    "seats": "seats of a registry file's place, if known (nullable integer)",
    "source": "osm, or the registry file's name",
    "geometry": "point, EPSG:4326",
}
"""Schema of each category's service points from :func:`services_from_osm`."""

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_KEY = re.compile(r"[A-Za-z0-9_:.\-]+\Z")
_HEADER = re.compile(r"\s*\[\[\s*category\s*\]\]")
_CLOSED = frozenset({"private", "no"})  # access=* values that leave a feature out


@dataclass(frozen=True)
class Category:
    """A kind of daily service: its name, labels, OSM tags and registry file.

    Examples
    --------
    >>> eating = Category("eating", ("amenity=restaurant", "amenity=cafe"), label_it="Mangiare")
    >>> eating.label("it"), eating.label("en"), sorted(eating.query["amenity"])
    ('Mangiare', 'eating', ['cafe', 'restaurant'])
    """

    name: str
    tags: tuple[str, ...] = ()
    """OSM tag filters, ``key=value`` or ``key=*``."""
    label_en: str | None = None
    label_it: str | None = None
    file: Path | None = None
    """A registry file of the category's places, added to those its tags find."""

    def __post_init__(self) -> None:
        where = f"category {self.name!r}"
        _check_name(self.name, where)
        tags = (self.tags,) if isinstance(self.tags, str) else self.tags
        object.__setattr__(self, "tags", tuple(_parse_tag(t, where) for t in tags))
        if self.file is not None:
            object.__setattr__(self, "file", Path(self.file))

    def label(self, lang: str = "en") -> str:
        """The label in ``lang`` (``en`` or ``it``), else the name."""
        return {"en": self.label_en, "it": self.label_it}.get(lang) or self.name

    @property
    def filters(self) -> tuple[tuple[str, str | None], ...]:
        """``(key, value)`` per tag, value None for ``key=*``."""
        pairs = (tag.split("=", 1) for tag in self.tags)
        return tuple((k, None if v == "*" else v) for k, v in pairs)

    @property
    def query(self) -> _osm.TagQuery:
        """The tags as key -> accepted values (None: any value)."""
        query: dict[str, set[str] | None] = {}
        for key, value in self.filters:
            known = query.setdefault(key, set())
            query[key] = None if value is None or known is None else known | {value}
        return {k: None if v is None else frozenset(v) for k, v in query.items()}

    def with_file(self, path: str | Path) -> Category:
        """This category with a registry file (checked), e.g. ``work`` with the albo."""
        return replace(self, file=check_file(path, REGISTRY_SUFFIXES, "registry"))

    def matched_tag(self, tags: Mapping[str, str]) -> str | None:
        """The first of this category's tags that ``tags`` carry, or None."""
        for tag, (key, value) in zip(self.tags, self.filters, strict=True):
            found = tags.get(key)
            if found is not None and (
                value is None or found == value or value in (p.strip() for p in found.split(";"))
            ):
                return tag
        return None


# ---------------------------------------------------------------- the table


def load_categories(path: str | Path | None = None) -> list[Category]:
    """Read a category table (TOML), by default the one shipped with fifteenmin.

    Parameters
    ----------
    path
        A ``.toml`` file of ``[[category]]`` tables with the keys :data:`CATEGORY_KEYS`
        (see the shipped ``categories.toml``, the template); None for the shipped one.

    Returns
    -------
    list of Category
        In the table's order.

    Raises
    ------
    InputError
        A file that is not TOML (the message names the line), a ``[[category]]`` without
        a name or with an unknown key, a tag without ``=``, an empty tag list, a
        category without tags or file, two categories with one name, a missing file.

    Examples
    --------
    >>> [c.name for c in load_categories()]  # doctest: +NORMALIZE_WHITESPACE
    ['outdoor', 'learning', 'supplies', 'eating', 'moving', 'cultural', 'exercise',
     'services', 'healthcare', 'work']
    >>> load_categories()[-1].tags
    ('amenity=coworking_space', 'office=coworking')
    """
    if path is None:
        text = resources.files("fifteenmin").joinpath(TABLE).read_text(encoding="utf-8")
        where, base = f"the shipped {TABLE}", None
    else:
        path = check_file(path, (".toml",), "categories table")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text; save the table as UTF-8") from None
        where, base = str(path), path.parent
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: not a valid TOML table: {exc}; correct that line") from None
    lines = _Lines(text, where)
    unknown = [k for k in data if k != "category"]
    if unknown:
        raise InputError(
            f"{lines.at_key(None, unknown[0])}: unknown table {unknown[0]!r}; "
            "write each category as a [[category]] table"
        )
    tables = data.get("category")
    if not isinstance(tables, list) or not tables:
        raise InputError(
            f"{where}: no [[category]] table; write one per category with name and tags"
        )
    categories = [_category(t, i, lines, base) for i, t in enumerate(tables)]
    _check_unique(categories, lines.at)
    return categories


def _category(table: object, i: int, lines: _Lines, base: Path | None) -> Category:
    """The ``i``-th ``[[category]]`` of a table, checked."""
    if not isinstance(table, dict):
        raise InputError(f"{lines.at(i)}: a category must be a [[category]] table")
    unknown = [k for k in table if k not in CATEGORY_KEYS]
    name = table.get("name")
    what = f"category {name!r}" if isinstance(name, str) else f"category {i + 1}"
    if unknown:
        raise InputError(
            f"{lines.at_key(i, unknown[0])}: {what}: unknown key {unknown[0]!r}; "
            f"allowed keys: {', '.join(CATEGORY_KEYS)}"
        )
    if name is None:
        raise InputError(f'{lines.at(i)}: {what} has no name; add name = "..."')
    name = _check_name(name, f"{lines.at_key(i, 'name')}")
    for key in ("label_en", "label_it", "file"):
        if key in table and not (isinstance(table[key], str) and table[key].strip()):
            raise InputError(f"{lines.at_key(i, key)}: {what}: {key} must be a non-empty text")
    tags: tuple[str, ...] = ()
    if "tags" in table:
        raw = table["tags"]
        where = lines.at_key(i, "tags")
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise InputError(f'{where}: {what}: tags must be a list of "key=value" texts')
        if not raw:
            raise InputError(
                f'{where}: {what}: the tag list is empty; list OSM tags ("amenity=library") '
                "or remove tags and give a file"
            )
        tags = tuple(_parse_tag(t, f"{lines.at_text(i, t, 'tags')}: {what}") for t in raw)
    file = None
    if "file" in table:
        file = Path(table["file"].strip())
        if base is not None and not file.is_absolute():
            file = base / file
        try:
            file = check_file(file, REGISTRY_SUFFIXES, "registry")
        except InputError as exc:
            raise InputError(f"{lines.at_key(i, 'file')}: {what}: {exc}") from None
    if not tags and file is None:
        raise InputError(
            f"{lines.at(i)}: {what} has neither tags nor file; give OSM tags, a registry "
            "file, or both"
        )
    return Category(
        name,
        tags,
        label_en=table.get("label_en"),
        label_it=table.get("label_it"),
        file=file,
    )


class _Lines:
    """Line numbers of a table's ``[[category]]`` headers and keys, for messages."""

    def __init__(self, text: str, where: str) -> None:
        self.lines = text.splitlines()
        self.where = where
        self.headers = [n for n, line in enumerate(self.lines) if _HEADER.match(line)]

    def at(self, i: int | None) -> str:
        """``where line N`` of the ``i``-th header, or ``where`` if not found."""
        if i is None or i >= len(self.headers):
            return self.where
        return f"{self.where} line {self.headers[i] + 1}"

    def at_key(self, i: int | None, key: str) -> str:
        """``where line N`` of ``key`` in the ``i``-th category (top level for None)."""
        if i is None:
            start, end = 0, self.headers[0] if self.headers else len(self.lines)
        elif i < len(self.headers):
            start = self.headers[i]
            end = self.headers[i + 1] if i + 1 < len(self.headers) else len(self.lines)
        else:
            return self.where
        pattern = re.compile(rf"\s*\[*\s*[\"']?{re.escape(key)}[\"']?\s*[=\]]")
        for n in range(start, end):
            if pattern.match(self.lines[n]):
                return f"{self.where} line {n + 1}"
        return self.at(i)

    def at_text(self, i: int, text: str, key: str) -> str:
        """``where line N`` of the first line of category ``i`` holding ``text`` quoted."""
        if i < len(self.headers):
            end = self.headers[i + 1] if i + 1 < len(self.headers) else len(self.lines)
            for n in range(self.headers[i], end):
                if f'"{text}"' in self.lines[n] or f"'{text}'" in self.lines[n]:
                    return f"{self.where} line {n + 1}"
        return self.at_key(i, key)


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"{where}: category name {name!r} is not allowed; use lower-case letters, "
            "digits and _ starting with a letter (e.g. eating, green_areas)"
        )
    return name


def _parse_tag(text: str, where: str) -> str:
    """``key=value`` or ``key=*`` with spaces around removed, or an InputError."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep:
        raise InputError(
            f"{where}: tag {text!r} has no '='; write key=value (amenity=library) "
            "or key=* for any value"
        )
    if not _KEY.match(key) or not value or "=" in value:
        raise InputError(
            f"{where}: tag {text!r} is not key=value; write one OSM key, '=', and one value "
            "(amenity=library) or * for any value"
        )
    return f"{key}={value}"


def _check_unique(categories: Sequence[Category], where: Callable[[int], str]) -> None:
    """Raise for the second category of a name; ``where(i)`` says where category i is."""
    seen: dict[str, int] = {}
    for i, category in enumerate(categories):
        if category.name in seen:
            first = where(seen[category.name])
            raise InputError(
                f"{where(i)}: category {category.name!r} is given twice (also {first}); "
                "give each category once, or rename one"
            )
        seen[category.name] = i


def parse_category_option(text: str) -> Category:
    """A category from a ``--category`` value: ``NAME=FILE``, ``NAME=TAGS``, or both.

    ``TAGS`` is ``key=value`` items (or ``key=*``) separated by commas; an item without
    ``=`` that names a registry file (:data:`REGISTRY_SUFFIXES`) is the category's file,
    read with :func:`fifteenmin.spaces.spaces_from_file`. Labels are the name.

    Raises
    ------
    InputError
        No ``NAME=``, a bad name, an empty item, an item that is neither ``key=value`` nor a
        registry file, two files, or a file that does not exist.

    Examples
    --------
    >>> parse_category_option("libraries=amenity=library, amenity=toy_library").tags
    ('amenity=library', 'amenity=toy_library')
    >>> parse_category_option("healthcare=healthcare=*").filters
    (('healthcare', None),)
    """
    where = f"--category {text}"
    name, sep, spec = text.partition("=")
    if not sep or not spec.strip():
        raise InputError(
            f"{where}: write NAME=FILE or NAME=key=value,key=value "
            "(e.g. work=albo.csv or libraries=amenity=library)"
        )
    name = _check_name(name.strip(), where)
    tags: list[str] = []
    files: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise InputError(f"{where}: an empty item between commas; remove the extra comma")
        if "=" in item:
            tags.append(_parse_tag(item, where))
        elif item.lower().endswith(REGISTRY_SUFFIXES):
            files.append(item)
        else:
            raise InputError(
                f"{where}: {item!r} has no '=' and is not a registry file; write OSM tags "
                f"as key=value (amenity=library) or key=*, or a file ending in "
                f"{', '.join(REGISTRY_SUFFIXES)}"
            )
    if len(files) > 1:
        raise InputError(
            f"{where}: two files ({files[0]}, {files[1]}); give one registry file per category"
        )
    if len(set(tags)) < len(tags):
        tags = list(dict.fromkeys(tags))
    file = None
    if files:
        try:
            file = check_file(files[0], REGISTRY_SUFFIXES, "registry")
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    return Category(name, tuple(tags), file=file)


def merge_categories(table: Sequence[Category], options: Sequence[Category]) -> list[Category]:
    """The table's categories with the ``--category`` ones: same name replaces, else added.

    A replacing category without labels keeps the table's. Two options of one name
    are an error.

    Examples
    --------
    >>> work = parse_category_option("work=amenity=coworking_space")
    >>> merged = merge_categories(load_categories(), [work])
    >>> len(merged), merged[-1].tags, merged[-1].label("it")
    (10, ('amenity=coworking_space',), 'Lavoro (coworking)')
    """
    _check_unique(options, lambda i: f"--category {options[i].name}=...")
    given = {c.name: c for c in options}
    out = []
    for category in table:
        new = given.pop(category.name, None)
        if new is None:
            out.append(category)
        else:
            out.append(
                replace(
                    new,
                    label_en=new.label_en or category.label_en,
                    label_it=new.label_it or category.label_it,
                )
            )
    return out + list(given.values())


# ---------------------------------------------------------------- the services


def services_from_osm(
    path: str | Path,
    categories: Sequence[Category],
    *,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    streets: StreetNetwork | None = None,
    large_area_m2: float = LARGE_AREA_M2,
    spacing_m: float = ACCESS_SPACING_M,
    street_distance_m: float = STREET_DISTANCE_M,
    progress: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """The service points of every category, from the tags of one OSM file.

    How nodes, ways, multipolygons and large areas become points is in the module's
    description (:mod:`fifteenmin.categories`). Registry files are not read here
    (:func:`load_services` adds them).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf``.
    categories
        From :func:`load_categories` / :func:`parse_category_option`; those without
        tags get an empty frame.
    bbox, polygon
        Keep only service points inside ``(west, south, east, north)`` and/or a
        (Multi)Polygon, EPSG:4326.
    streets
        The walkable streets (:func:`fifteenmin.network.read_streets`): large areas are
        reached where their edge meets them.
    large_area_m2, spacing_m, street_distance_m
        The rules for large areas (:data:`LARGE_AREA_M2`, :data:`ACCESS_SPACING_M`,
        :data:`STREET_DISTANCE_M`).
    progress
        Show a progress bar per pass over the file.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        Category name -> service points (:data:`SERVICE_COLUMNS`), in the categories'
        order; an empty frame for a category with no service in the file.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> streets = fm.read_streets(city.network)
    >>> found = services_from_osm(city.network, load_categories(), streets=streets)
    >>> len(found["work"]), len(found["eating"])  # the sample city's daily services
    (3, 4)
    >>> outdoor = found["outdoor"]  # the park (reached at its edge) and two playgrounds
    >>> park = outdoor[outdoor["access"] == "edge"]
    >>> park["feature_id"].nunique(), len(park) > 4, int((outdoor["access"] == "node").sum())
    (1, True, 2)
    """
    categories = list(categories)
    _check_unique(categories, lambda i: f"category {i + 1} of {len(categories)}")
    tagged = [c for c in categories if c.tags]
    rows: dict[str, list[dict[str, Any]]] = {c.name: [] for c in categories}
    if tagged:
        features = _osm.read_tagged_features(
            path,
            _union(c.query for c in tagged),
            bbox=bbox,
            polygon=polygon,
            areas=True,
            progress=progress,
        )
        private = [f for f in features if f.tags.get("access") in _CLOSED]
        if private:
            logger.info("%s: %d features tagged access=private/no left out", path, len(private))
        features = [f for f in features if f.tags.get("access") not in _CLOSED]
        inside = _osm.area_filter(bbox=bbox, polygon=polygon)
        rules = _Rules(large_area_m2, spacing_m, street_distance_m)
        points = _service_points(features, streets, rules, inside)
        for feature, pts in zip(features, points, strict=True):
            if not pts:
                continue
            for category in tagged:
                tag = category.matched_tag(feature.tags)
                if tag is not None:
                    rows[category.name] += _rows(feature, pts, category.name, tag)
    out = {c.name: _frame(rows[c.name]) for c in categories}
    for name, frame in out.items():
        logger.info("%s: %d service points of category %s", Path(path).name, len(frame), name)
    return out


def load_services(
    categories: Sequence[Category],
    *,
    osm: str | Path | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    polygon: shapely.Geometry | None = None,
    streets: StreetNetwork | None = None,
    large_area_m2: float = LARGE_AREA_M2,
    spacing_m: float = ACCESS_SPACING_M,
    street_distance_m: float = STREET_DISTANCE_M,
    progress: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """The service points of every category: its OSM tags (from ``osm``) and its file.

    As :func:`services_from_osm`, plus each category's registry file
    (:func:`fifteenmin.spaces.spaces_from_file`): one row per place inside
    ``bbox``/``polygon``, ``access`` ``point``, ``source`` the file's name.

    Raises
    ------
    InputError
        A category has tags but no ``osm`` file is given; an id is both in the file and OSM.

    Examples
    --------
    >>> import fifteenmin as fm
    >>> city = fm.sample.write_sample_city(getfixture("tmp_path"))
    >>> work = load_categories()[-1].with_file(city.spaces)
    >>> found = load_services([work], osm=city.network)["work"]
    >>> found["source"].value_counts().to_dict()
    {'spaces.csv': 14, 'osm': 3}
    """
    from .spaces import spaces_from_file

    categories = list(categories)
    if osm is None:
        needs = [c.name for c in categories if c.tags]
        if needs:
            raise InputError(
                f"categories {', '.join(needs)} are found by OSM tags, but no OSM file was "
                "given; give the network as an .osm/.osm.pbf file, or give these "
                "categories a registry file and no tags"
            )
        out = {c.name: _frame([]) for c in categories}
    else:
        out = services_from_osm(
            osm,
            categories,
            bbox=bbox,
            polygon=polygon,
            streets=streets,
            large_area_m2=large_area_m2,
            spacing_m=spacing_m,
            street_distance_m=street_distance_m,
            progress=progress,
        )
    inside = _osm.area_filter(bbox=bbox, polygon=polygon)
    for category in categories:
        if category.file is None:
            continue
        spaces = spaces_from_file(category.file)
        if inside is not None:
            spaces = spaces.loc[inside(spaces.geometry.x.to_numpy(), spaces.geometry.y.to_numpy())]
        ids = spaces["space_id"].astype(str)
        rows = [
            {
                "space_id": sid,
                "name": name,
                "category": category.name,
                "tag": None,
                "access": "point",
                "feature_id": sid,
                "seats": seats,
                "source": source,
                "lon": geom.x,
                "lat": geom.y,
            }
            for sid, name, seats, source, geom in zip(
                ids,
                spaces["name"],
                spaces["seats"],
                spaces["source"],
                spaces.geometry,
                strict=True,
            )
        ]
        both = set(ids) & set(out[category.name]["space_id"])
        if both:
            raise InputError(
                f"{category.file}: space_id {sorted(both)[0]!r} is also an OSM id of category "
                f"{category.name}; give the file's places other ids"
            )
        osm_rows = out[category.name]
        file_rows = _frame(rows)
        out[category.name] = file_rows if osm_rows.empty else _concat(osm_rows, file_rows)
    return out


def _union(queries: Iterable[_osm.TagQuery]) -> _osm.TagQuery:
    """One tag query matching what any of ``queries`` matches."""
    merged: dict[str, frozenset[str] | None] = {}
    for query in queries:
        for key, values in query.items():
            if key in merged:
                known = merged[key]
                merged[key] = None if known is None or values is None else known | values
            else:
                merged[key] = values
    return merged


@dataclass(frozen=True)
class _Rules:
    large_area_m2: float
    spacing_m: float
    street_distance_m: float


def _service_points(
    features: Sequence[_osm.TaggedFeature],
    streets: StreetNetwork | None,
    rules: _Rules,
    inside: _osm._Area | None,
) -> list[list[tuple[float, float, str]]]:
    """Per feature, its service points ``(lon, lat, access)`` inside the area."""
    from .network import utm_crs

    large = [i for i, f in enumerate(features) if f.shape is not None]
    shapes_m: dict[int, shapely.Geometry] = {}
    to_lonlat = None
    if large:
        lonlat = gpd.GeoSeries([features[i].shape for i in large], crs=4326)
        if streets is not None:
            crs = streets.crs
        else:
            centre = lonlat.union_all().centroid
            crs = utm_crs(centre.x, centre.y)
        projected = lonlat.to_crs(crs)
        big = projected.area.to_numpy() > rules.large_area_m2
        shapes_m = {i: g for i, g, b in zip(large, projected, big, strict=True) if b}
        to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    tree = streets.edge_tree if streets is not None and streets.n_edges else None
    out: list[list[tuple[float, float, str]]] = []
    for i, feature in enumerate(features):
        if i not in shapes_m:
            kind = "node" if feature.osm_type == "node" else "centroid"
            pts = [(feature.lon, feature.lat, kind)]
        elif feature.entrances:
            pts = [(x, y, "entrance") for x, y in feature.entrances]
        else:
            assert to_lonlat is not None
            xy = _edge_points(shapes_m[i], tree, rules)
            lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
            pts = [(float(x), float(y), "edge") for x, y in zip(lon, lat, strict=True)]
        if inside is not None and pts:
            keep = inside(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
            pts = [p for p, k in zip(pts, keep, strict=True) if k]
        out.append(pts)
    return out


def _edge_points(
    shape: shapely.Geometry, tree: shapely.STRtree | None, rules: _Rules
) -> np.ndarray:
    """Access points ``(n, 2)`` on the outer boundary of a projected area (module rules)."""
    rings = [p.exterior for p in shapely.get_parts(shape) if p.geom_type == "Polygon" and p.length]
    found: list[np.ndarray] = []
    nearest: tuple[float, np.ndarray] | None = None
    for ring in rings:
        length = ring.length
        if tree is None:
            n = max(1, math.ceil(length / rules.spacing_m))
            at = (np.arange(n) + 0.5) * (length / n)
        else:
            step = np.arange(0.0, length, _SAMPLE_M)
            samples = shapely.line_interpolate_point(ring, step)
            near = np.zeros(len(step), dtype=bool)
            near[tree.query(samples, predicate="dwithin", distance=rules.street_distance_m)[0]] = (
                True
            )
            if not near.any():
                pairs, dist = tree.query_nearest(samples, return_distance=True, all_matches=False)
                j = int(np.argmin(dist))
                if nearest is None or dist[j] < nearest[0]:
                    nearest = (float(dist[j]), shapely.get_coordinates(samples[pairs[0, j]]))
                continue
            at = _spread(step, near, length, rules.spacing_m)
        found.append(shapely.get_coordinates(shapely.line_interpolate_point(ring, at)))
    if not found and nearest is not None:
        found.append(nearest[1])
    return np.concatenate(found) if found else np.zeros((0, 2))


def _spread(at: np.ndarray, near: np.ndarray, length: float, spacing: float) -> np.ndarray:
    """Positions along a ring: per stretch of ``near`` samples, one per ``spacing`` of it.

    ``at`` are the samples' distances along the ring (from 0, increasing); a stretch
    may run on past the ring's start. Each stretch of length ``L`` gets
    ``max(1, round(L / spacing))`` positions at the middles of equal parts.

    Examples
    --------
    >>> at = np.arange(0.0, 400.0, 5.0)
    >>> _spread(at, (at >= 100) & (at <= 300), 400.0, 50.0).tolist()
    [125.0, 175.0, 225.0, 275.0]
    >>> _spread(at, (at <= 10) | (at >= 390), 400.0, 50.0).tolist()  # across the start
    [0.0]
    """
    if near.all():
        n = max(1, round(length / spacing))
        return np.arange(n) * (length / n)
    shift = int(np.flatnonzero(~near)[0])  # start at a sample that is not near
    at = np.roll(at, -shift)
    at = np.where(np.arange(len(at)) >= len(at) - shift, at + length, at)
    near = np.roll(near, -shift)
    edges = np.diff(np.concatenate([[0], near.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    out: list[float] = []
    for a, b in zip(at[starts], at[ends], strict=True):
        n = max(1, round((b - a) / spacing))
        out += ((a + (np.arange(n) + 0.5) * ((b - a) / n)) % length).tolist()
    return np.asarray(out)


def _rows(
    feature: _osm.TaggedFeature, pts: list[tuple[float, float, str]], category: str, tag: str
) -> list[dict[str, Any]]:
    base = f"osm:{feature.osm_type}/{feature.osm_id}"
    several = pts[0][2] in ("entrance", "edge")
    return [
        {
            "space_id": f"{base}#{k}" if several else base,
            "name": feature.tags.get("name"),
            "category": category,
            "tag": tag,
            "access": kind,
            "feature_id": base,
            "seats": pd.NA,
            "source": "osm",
            "lon": lon,
            "lat": lat,
        }
        for k, (lon, lat, kind) in enumerate(pts, start=1)
    ]


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Rows as a frame of :data:`SERVICE_COLUMNS` (EPSG:4326), empty ones included."""
    columns = [c for c in SERVICE_COLUMNS if c != "geometry"]
    df = pd.DataFrame(rows, columns=[*columns, "lon", "lat"])
    df["seats"] = pd.array(df["seats"].tolist(), dtype="Int64")
    for col in ("space_id", "category", "access", "feature_id", "source"):
        df[col] = df[col].astype(object)
    geometry = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float))
    return gpd.GeoDataFrame(df[columns], geometry=geometry, crs=4326)


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), geometry="geometry", crs=4326)
