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
POPULATION = "population"
AREA_KM2 = "area_km2"
STREET_LENGTH_M = "street_length_m"
MEDIAN_S = "walk_time_median_s"
P90_S = "walk_time_p90_s"
NEAREST_SPACE = "nearest_space_id"
NEAREST_S = "nearest_walk_time_s"
UNDERSERVED = "underserved"
