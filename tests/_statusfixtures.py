"""Analyses whose zones carry data statuses (no street data, sparse streets), made by hand.

The sample city has street data everywhere; these helpers mark some of its zones as the
analysis marks zones outside the street data, so the report and the maps can be checked
against a known set of left-out zones.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely

import fifteenmin as fm
from fifteenmin import _names as N

WARNING = "zones.geojson: 2 feature(s) without polygon area dropped (first: feature 7)"
SKIPPED = {"what": "space", "id": "S99", "reason": "2,400 m from the nearest walkable street"}


def fragments_near(analysis: fm.Analysis, n: int = 3) -> gpd.GeoDataFrame:
    """``n`` short street lines beside the network, as the analysis records fragments."""
    x0, y0, x1, y1 = analysis.walk.streets.bounds()
    lines = [
        shapely.LineString([(x0 + 100 * (i + 1), y0 + 50), (x0 + 100 * (i + 1) + 80, y0 + 120)])
        for i in range(n)
    ]
    return gpd.GeoDataFrame(
        {
            "component": np.arange(1, n + 1),
            "n_nodes": np.full(n, 2),
            "street_length_m": shapely.length(np.array(lines)),
        },
        geometry=lines,
        crs=analysis.walk.streets.crs,
    )


def with_statuses(
    analysis: fm.Analysis,
    *,
    no_data: Iterable[str] = (),
    sparse: Iterable[str] = (),
    fragments: gpd.GeoDataFrame | None = None,
) -> fm.Analysis:
    """A copy of ``analysis`` whose zones ``no_data`` have no street data and ``sparse``
    sparse streets, as the pipeline records them (figures NaN, never underserved).

    The summary's underserved list is left as it was, so a no-data zone that was
    underserved stays in it: the report must leave it out.
    """
    zones = analysis.zones.copy()
    ids = zones[N.ZONE_ID].astype(str)
    status = np.full(len(zones), N.OK, dtype=object)
    status[ids.isin(list(sparse)).to_numpy()] = N.SPARSE_STREETS
    status[ids.isin(list(no_data)).to_numpy()] = N.NO_DATA
    zones[N.STATUS] = status
    blank = status == N.NO_DATA
    figures = [
        c
        for c in zones.columns
        if c != N.DATA_SHARE
        and (c.startswith(("share_", "pop_")) or c in (N.MEDIAN_S, N.P90_S, N.NEAREST_S))
    ]
    zones.loc[blank, figures] = np.nan
    zones.loc[blank, N.NEAREST_SPACE] = None
    counted = np.isin(status, N.COUNTED)
    zones.loc[~counted, N.UNDERSERVED] = False
    summary = copy.deepcopy(analysis.summary)
    dq = summary.setdefault("data_quality", {})
    residents = zones[N.POPULATION].to_numpy(dtype=float)
    dq["zones_by_status"] = {
        s: {"zones": int((status == s).sum()), "residents": float(residents[status == s].sum())}
        for s in N.STATUSES
    }
    dq["left_out"] = {"zones": int((~counted).sum()), "residents": float(residents[~counted].sum())}
    dq["warnings"] = [WARNING]
    dq["skipped"] = [dict(SKIPPED)]
    if fragments is not None:
        dq["fragments"] = {
            "count": len(fragments),
            "nodes": int(fragments["n_nodes"].sum()),
            "street_length_m": float(fragments["street_length_m"].sum()),
            "rule": "pieces with fewer than 10 nodes not joined to the main network",
            "kept": False,
        }
        dq["joins"] = {"count": 2, "max_gap_m": 12.5}
    counts = summary["counts"]
    counts["zones_counted"] = int(counted.sum())
    counts["underserved_zones"] = int(zones[N.UNDERSERVED].astype(bool).sum())
    summary["residents_total"] = float(residents[counted].sum())
    result = dataclasses.replace(analysis, zones=zones, summary=summary)
    if fragments is not None:
        object.__setattr__(result, "fragments", fragments)
    return result
