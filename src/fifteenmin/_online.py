"""Download walking networks from OpenStreetMap through OSMnx: on-disk cache, one clear error."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import networkx as nx

from .errors import DownloadError

logger = logging.getLogger(__name__)

DEFAULT_CACHE_FOLDER = "data/raw/cache"
"""Where OSMnx keeps the answers of Nominatim and Overpass (``settings.cache_folder``)."""
DEFAULT_TIMEOUT_S = 180.0
"""Seconds to wait for each answer of the servers (OSMnx's ``settings.requests_timeout``)."""
OFFLINE_HINT = "or work offline with --network FILE.osm.pbf (e.g. a Geofabrik extract)"


@contextlib.contextmanager
def osmnx_settings(cache_folder: str | Path, timeout_s: float) -> Iterator[ModuleType]:
    """Set OSMnx's cache and timeout for the block, then restore the previous settings."""
    import osmnx as ox

    names = ("use_cache", "cache_folder", "requests_timeout")
    saved = {name: getattr(ox.settings, name) for name in names}
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_folder)
    ox.settings.requests_timeout = float(timeout_s)
    try:
        yield ox
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)


def download_graph(
    what: str,
    fetch: Callable[[ModuleType], nx.MultiDiGraph],
    *,
    cache_folder: str | Path = DEFAULT_CACHE_FOLDER,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> nx.MultiDiGraph:
    """Run ``fetch(osmnx)`` with the cache on, turning every failure into a DownloadError.

    ``what`` names the request in messages (e.g. ``"place 'Roma'"``).
    """
    if not timeout_s > 0:
        raise DownloadError(f"{what}: timeout {timeout_s} s must be positive")
    with osmnx_settings(cache_folder, timeout_s) as ox:
        logger.info("downloading the walking network of %s (cache: %s)", what, cache_folder)
        try:
            return fetch(ox)
        except Exception as exc:  # noqa: BLE001 - every failure gets one clear message
            raise DownloadError(_message(what, exc, timeout_s)) from exc


def _message(what: str, exc: Exception, timeout_s: float) -> str:
    """What went wrong with a download, and what to do, in one line."""
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return (
            f"{what}: the OpenStreetMap server did not answer within {timeout_s:g} s; "
            f"try again later or with a smaller area, {OFFLINE_HINT}"
        )
    if isinstance(exc, requests.ConnectionError):
        return (
            f"{what}: cannot reach the OpenStreetMap servers (no internet connection?); "
            f"connect and run again, {OFFLINE_HINT}"
        )
    if isinstance(exc, InsufficientResponseError) and "Nominatim" in text:
        return (
            f"{what}: no such place found by the Nominatim geocoder; check the spelling "
            f"(e.g. 'Roma, Lazio, Italia'), use --boundary FILE or --bbox W S E N, {OFFLINE_HINT}"
        )
    if isinstance(exc, TypeError) and "Nominatim" in text:
        return (
            f"{what}: the geocoder found a point or line, not an area; give the name of an "
            f"area, or --boundary FILE / --bbox W S E N, {OFFLINE_HINT}"
        )
    if isinstance(exc, InsufficientResponseError) or "no graph nodes" in text:
        return (
            f"{what}: OpenStreetMap returned no walkable street for this area (empty result); "
            f"check the area (bbox order is west south east north), {OFFLINE_HINT}"
        )
    if isinstance(exc, ResponseStatusCodeError | requests.RequestException):
        return f"{what}: the OpenStreetMap server answered with an error ({text}); {_later()}"
    return f"{what}: could not download the walking network ({type(exc).__name__}: {text}); " + (
        _later()
    )


def _later() -> str:
    return f"try again later, {OFFLINE_HINT}"


def graph_kwargs() -> dict[str, Any]:
    """Arguments of every OSMnx download: the walk network, all components, simplified."""
    return {"network_type": "walk", "retain_all": True, "simplify": True}
