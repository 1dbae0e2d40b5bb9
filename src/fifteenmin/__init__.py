"""fifteenmin: which neighbourhoods lack a service within a 15-minute walk, and for whom.

The public API is :data:`__all__`: :func:`analyze` (the whole analysis, returning an
:class:`Analysis`), the readers (:func:`read_streets`, :func:`network_from_file`,
:func:`spaces_from_file`, :func:`zones_from_file`...), the stages (:func:`walk_times`,
:func:`suggest_sites`, :func:`batch`...), the errors, and the submodules meant to be used
directly (``fm.outputs``, ``fm.scenarios``, ``fm.sample``...). ``dir(fifteenmin)`` lists those,
``__version__`` and a module's other dunders only; ``import fifteenmin`` imports neither
matplotlib nor the command line (each module loads on first use).

The package has two halves: the computation (every other module) and
:mod:`fifteenmin.outputs`, everything that draws or writes the report folder (the static
maps, ``fm.outputs.coverage_map``..., the report, ``map.html``, the QGIS styles, the texts).
The computation never imports ``outputs`` at module level; :meth:`Analysis.write` and
:meth:`Comparison.write <fifteenmin.scenarios.Comparison.write>` import it on call.

Names: ``fm.spaces`` and ``fm.zones`` are the modules that read spaces and zones, while
``result.spaces`` and ``result.zones`` are the GeoDataFrames of an analysis. To keep the
two apart, the readers are used at the top level (``fm.spaces_from_file``,
``fm.spaces_from_frame``, ``fm.spaces_from_osm``, ``fm.zones_from_file``,
``fm.zones_from_frame``), and the two modules are left out of ``__all__`` and ``dir()``;
``fm.spaces.spaces_from_file`` and ``from fifteenmin import zones`` still work, for
existing code.

Every layer of an :class:`Analysis` is in one projected CRS, the network's (the UTM zone
of the data, EPSG:32633 for Rome): zones, spaces, isochrones, coverage, walking times.
``result.zones.to_crs(4326)`` is the user's choice.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

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
    "outputs",
    "pipeline",
    "planning",
    "registry",
    "sample",
    "scenarios",
    "services",
    "study_area",
    "travel",
)
_COMPATIBLE = ("spaces", "zones")
"""Modules still reachable as ``fm.spaces``/``fm.zones``, not listed (see above)."""
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
    "spaces_from_frame": "spaces",
    "spaces_from_osm": "spaces",
    "StudyArea": "study_area",
    "walk_times": "travel",
    "zone_coverage": "zones",
    "zones_from_file": "zones",
    "zones_from_frame": "zones",
}
__all__ = [
    "DownloadError",
    "FifteenMinError",
    "InputError",
    "errors",
    *_MODULES,
    *_NAMES,
]


def __getattr__(name: str) -> _Any:
    if name == "__version__":  # on first use: reading the installed metadata takes a while
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("fifteenmin")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            value = "0+unknown"
        globals()[name] = value
        return value
    if name in _MODULES or name in _COMPATIBLE:
        return _importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        value = getattr(_importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fifteenmin' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the public API and a module's own dunders (``__version__``, ``__file__``...):
    # no helpers, and no private submodule imported along the way
    dunders = {k for k in globals() if k.startswith("__") and k.endswith("__")}
    return sorted({*__all__, "__version__", *dunders})


if _TYPE_CHECKING:  # what type checkers and editors see
    from . import batching as batching
    from . import capacity as capacity
    from . import categories as categories
    from . import hexagons as hexagons
    from . import isochrones as isochrones
    from . import network as network
    from . import outputs as outputs
    from . import pipeline as pipeline
    from . import planning as planning
    from . import registry as registry
    from . import sample as sample
    from . import scenarios as scenarios
    from . import services as services
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
    from .spaces import spaces_from_frame as spaces_from_frame
    from .spaces import spaces_from_osm as spaces_from_osm
    from .study_area import StudyArea as StudyArea
    from .travel import walk_times as walk_times
    from .zones import zone_coverage as zone_coverage
    from .zones import zones_from_file as zones_from_file
    from .zones import zones_from_frame as zones_from_frame

del annotations  # the __future__ import's binding: not API
