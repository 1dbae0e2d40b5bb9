"""fifteenmin: which neighbourhoods lack a service within a 15-minute walk, and for whom."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from . import errors as errors
from .errors import DownloadError as DownloadError
from .errors import FifteenMinError as FifteenMinError
from .errors import InputError as InputError

# The public API, imported on first use (PEP 562): ``import fifteenmin`` stays light, so
# the command starts at once and Ctrl-C during its start-up is caught like anywhere else.
_MODULES = (
    "batching",
    "capacity",
    "categories",
    "hexagons",
    "isochrones",
    "network",
    "pipeline",
    "planning",
    "plot",
    "registry",
    "sample",
    "spaces",
    "study_area",
    "travel",
    "zones",
)
_NAMES = {
    "batch": "batching",
    "hex_zones": "hexagons",
    "interpolate_population": "hexagons",
    "coverage": "isochrones",
    "graph_from_place": "network",
    "network_from_file": "network",
    "read_streets": "network",
    "to_graph": "network",
    "Analysis": "pipeline",
    "analyze": "pipeline",
    "suggest_sites": "planning",
    "spaces_from_file": "spaces",
    "spaces_from_osm": "spaces",
    "StudyArea": "study_area",
    "walk_times": "travel",
    "zone_coverage": "zones",
    "zones_from_file": "zones",
}
__all__ = [
    "DownloadError",
    "FifteenMinError",
    "InputError",
    "errors",
    *_MODULES,
    *_NAMES,
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fifteenmin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and editors see
    from . import batching as batching
    from . import capacity as capacity
    from . import categories as categories
    from . import hexagons as hexagons
    from . import isochrones as isochrones
    from . import network as network
    from . import pipeline as pipeline
    from . import planning as planning
    from . import plot as plot
    from . import registry as registry
    from . import sample as sample
    from . import spaces as spaces
    from . import study_area as study_area
    from . import travel as travel
    from . import zones as zones
    from .batching import batch as batch
    from .hexagons import hex_zones as hex_zones
    from .hexagons import interpolate_population as interpolate_population
    from .isochrones import coverage as coverage
    from .network import graph_from_place as graph_from_place
    from .network import network_from_file as network_from_file
    from .network import read_streets as read_streets
    from .network import to_graph as to_graph
    from .pipeline import Analysis as Analysis
    from .pipeline import analyze as analyze
    from .planning import suggest_sites as suggest_sites
    from .spaces import spaces_from_file as spaces_from_file
    from .spaces import spaces_from_osm as spaces_from_osm
    from .study_area import StudyArea as StudyArea
    from .travel import walk_times as walk_times
    from .zones import zone_coverage as zone_coverage
    from .zones import zones_from_file as zones_from_file

try:
    __version__ = version("fifteenmin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
