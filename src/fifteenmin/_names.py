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
NEWLY_SERVED = "newly_served"  # compare: underserved before, not after
NEWLY_UNDERSERVED = "newly_underserved"  # compare: underserved after, not before
BORDERLINE = "borderline"  # sensitivity: underserved at some speeds and not at others

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


# capacity (fifteenmin.capacity): seats within reach per zone, by 2SFCA and E2SFCA
METHODS = ("2sfca", "e2sfca")
DEMAND = "demand"  # residents (counted part) times the demand share
TARGET_SEATS = "target_seats"
SHORTFALL = "shortfall_seats"  # against the target, 2SFCA
SHORTFALL_E2SFCA = "shortfall_seats_e2sfca"


def seats_per_1000(method: str) -> str:
    """Column of the seats within reach per 1,000 of demand by ``method`` (2sfca, e2sfca)."""
    return f"seats_per_1000_{method}"


def seats_reached(method: str) -> str:
    """Column of the seats reached by a zone's demand by ``method`` (2sfca, e2sfca)."""
    return f"seats_{method}"


CAPACITY_COLUMNS = (
    DEMAND,
    *(seats_per_1000(m) for m in METHODS),
    *(seats_reached(m) for m in METHODS),
    TARGET_SEATS,
    SHORTFALL,
    SHORTFALL_E2SFCA,
)
"""The zone columns of :func:`~fifteenmin.capacity.capacity`, in their order."""


def residents_2plus(minutes: float) -> str:
    """Column of the residents within ``minutes`` of two spaces or more.

    Examples
    --------
    >>> residents_2plus(15), share("pop_2plus", 15)
    ('pop_2plus_15min', 'share_pop_2plus_15min')
    """
    return f"pop_2plus_{minutes_label(minutes)}"


# what each space is worth (one row per space)
SPACE_ID = "space_id"
SPACE_NAME = "name"
SEATS = "seats"


def space_residents(minutes: float) -> str:
    """Column of the residents within ``minutes`` of a space (others may reach them too)."""
    return f"residents_{minutes_label(minutes)}"


def sole_residents(minutes: float) -> str:
    """Column of the residents for whom a space is the only one within ``minutes``."""
    return f"sole_residents_{minutes_label(minutes)}"


def space_seats_per_1000(minutes: float) -> str:
    """Column of a space's seats per 1,000 residents within ``minutes`` of it."""
    return f"seats_per_1000_residents_{minutes_label(minutes)}"


# suggested sites (fifteenmin.planning, one row per site); all residents within a site's walk
# are ``space_residents(m)``, its seats per 1,000 of them ``space_seats_per_1000(m)``
def new_residents(minutes: float) -> str:
    """Column of the residents a site adds within ``minutes`` (``new_residents_15min``)."""
    return f"new_residents_{minutes_label(minutes)}"


def cumulative_share(minutes: float) -> str:
    """Column of the city-wide share within ``minutes`` after sites 1..k."""
    return f"cumulative_share_{minutes_label(minutes)}"


def completed_residents(minutes: float) -> str:
    """Column of the residents a site completes (``missing`` objective): every other
    category within ``minutes`` already, this one only now."""
    return f"completed_residents_{minutes_label(minutes)}"


def shortfall_residents(minutes: float) -> str:
    """Column of what a site adds to the ``shortfall`` objective (weighted residents)."""
    return f"shortfall_residents_{minutes_label(minutes)}"


def is_worth_column(name: str) -> bool:
    """Whether an input column of the spaces named ``name`` would clash with a worth column.

    Examples
    --------
    >>> is_worth_column("Residents_15min"), is_worth_column("residents")
    (True, False)
    """
    low = name.lower()
    return low.endswith("min") and low.startswith(
        ("residents_", "sole_residents_", "seats_per_1000_residents_")
    )


def is_output_column(name: str) -> bool:
    """Whether an input column named ``name`` would clash with an output column.

    GeoPackage and Shapefile field names are case-insensitive, so the check is too.

    Examples
    --------
    >>> is_output_column("Name"), is_output_column("pop2018"), is_output_column("pop_15min")
    (True, False, True)
    >>> is_output_column("Demand"), is_output_column("seats_2SFCA"), is_output_column("seats")
    (True, True, False)
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
        *CAPACITY_COLUMNS,
    }
    if low in fixed or low.startswith(("share_", "walk_time_", "nearest_")):
        return True
    return low.startswith("pop_") and low.endswith("min")
