"""Tiny OSM XML networks laid out in local metres, whose walking times can be checked by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from fifteenmin.network import EARTH_RADIUS_M

DEG_M = EARTH_RADIUS_M * np.pi / 180  # metres per degree of great circle
LON0, LAT0 = 3.0, 0.0  # on the equator: east-west lines are great circles too


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """Local metres east/north of (LON0, LAT0) to lon/lat."""
    return LON0 + x_m / DEG_M, LAT0 + y_m / DEG_M


def write_osm(
    path: Path,
    nodes: Mapping[int, tuple[float, float]],
    ways: Sequence[tuple[int, Sequence[int], Mapping[str, str]]],
    *,
    tagged_nodes: Mapping[int, Mapping[str, str]] | None = None,
    relations: Sequence[tuple[int, Sequence[tuple[int, str]], Mapping[str, str]]] = (),
) -> Path:
    """Write an OSM XML file; ``nodes`` maps id -> local (x, y) metres.

    ``relations``: ``(id, [(way id, role), ...], tags)``, way members only.
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (x, y) in nodes.items():
        lon, lat = lonlat(x, y)
        tags = (tagged_nodes or {}).get(nid)
        attrs = f'id="{nid}" version="1" lat="{lat:.9f}" lon="{lon:.9f}"'
        if tags:
            lines.append(f"  <node {attrs}>")
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append("  </node>")
        else:
            lines.append(f"  <node {attrs}/>")
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    for rid, members, tags in relations:
        lines.append(f'  <relation id="{rid}" version="1">')
        lines += [f'    <member type="way" ref="{m}" role="{role}"/>' for m, role in members]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </relation>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


STREET = {"highway": "residential"}
