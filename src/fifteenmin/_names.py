"""The one place that names output columns, so every table shares a vocabulary."""

from __future__ import annotations


def minutes_label(minutes: float) -> str:
    """``15.0`` -> ``"15min"``, ``7.5`` -> ``"7.5min"``."""
    return f"{float(minutes):g}min"


def share(kind: str, minutes: float) -> str:
    """Column of the share of ``kind`` (area, pop, streets) within ``minutes``.

    Examples
    --------
    >>> share("pop", 15)
    'share_pop_15min'
    """
    return f"share_{kind}_{minutes_label(minutes)}"


def residents(minutes: float) -> str:
    """Column of the number of residents within ``minutes``."""
    return f"pop_{minutes_label(minutes)}"


ZONE_ID = "zone_id"
ZONE_NAME = "name"
POPULATION = "residents"  # scaled to the part of the zone counted
AREA_KM2 = "area_in_study_km2"  # the part of the zone counted
STREET_LENGTH_M = "street_length_m"
MEDIAN_S = "walk_time_median_s"
P90_S = "walk_time_p90_s"
NEAREST_SPACE = "nearest_space_id"
NEAREST_S = "nearest_walk_time_s"
UNDERSERVED = "underserved"

# what each zone's figures rest on (see docs/outputs.md)
STATUS = "status"
OK = "ok"
PARTIAL_DATA = "partial_data"  # part of the zone lies outside the study area / data extent
NO_DATA = "no_data"  # no walkable street inside: no figures, never underserved
SPARSE_STREETS = "sparse_streets"  # far less street per km² than is typical here
STATUSES = (OK, PARTIAL_DATA, NO_DATA, SPARSE_STREETS)
COUNTED = (OK, PARTIAL_DATA)  # the statuses whose residents count in the headline figures
DATA_SHARE = "share_area_with_data"  # share of the zone's area inside the study area
SOURCE_PREFIX = "src_"  # input columns clashing with an output column get this prefix


def is_output_column(name: str) -> bool:
    """Whether an input column named ``name`` would clash with an output column.

    GeoPackage and Shapefile field names are case-insensitive, so the check is too.

    Examples
    --------
    >>> is_output_column("Name"), is_output_column("pop2018"), is_output_column("pop_15min")
    (True, False, True)
    """
    low = name.lower()
    fixed = {
        ZONE_ID,
        ZONE_NAME,
        POPULATION,
        AREA_KM2,
        STREET_LENGTH_M,
        UNDERSERVED,
        STATUS,
        DATA_SHARE,
    }
    if low in fixed or low.startswith(("share_", "walk_time_", "nearest_")):
        return True
    return low.startswith("pop_") and low.endswith("min")
