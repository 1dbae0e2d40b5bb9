"""The presentation half of fifteenmin: everything that draws or writes the report folder.

The package has two halves. The computation (:mod:`fifteenmin.pipeline`,
:mod:`~fifteenmin.scenarios`, :mod:`~fifteenmin.batching`, :mod:`~fifteenmin.planning`...)
gives an :class:`~fifteenmin.pipeline.Analysis` and never imports this package at module
level; this package depends on the analysis result, never the reverse. So the
computation is imported and tested without matplotlib, Leaflet or QGIS styling.

Modules:

- :mod:`.maps`: the static maps (matplotlib): :func:`coverage_map`, :func:`walk_time_map`,
  :func:`isochrone_map`, :func:`change_map`, :func:`categories_map`,
  :func:`missing_piece_map`, :func:`save_figure`.
- :mod:`.report`: ``report.html`` (and its PDF), the comparison's report.
- :mod:`.webmap`: ``map.html``, one offline page with the vendored Leaflet
  (``static/leaflet``); :mod:`._places`: the place names it shows.
- :mod:`._qgis`: the QGIS styles stored in the GeoPackages.
- :mod:`._i18n`: the texts in English and Italian, and number formats.
- :mod:`._batch_report`: the batch's comparison page.
- :mod:`.folder`: the report folders (:func:`write_analysis`, :func:`write_comparison`).

The delegates on the computation's side, which import this package on call:
:meth:`Analysis.write <fifteenmin.pipeline.Analysis.write>`, :meth:`Comparison.write
<fifteenmin.scenarios.Comparison.write>` and the batch's report
(``fifteenmin.batching._Run.finish``). Importing this package without matplotlib raises
:class:`~fifteenmin.errors.FifteenMinError` naming it.
"""

from __future__ import annotations

from ..errors import FifteenMinError

try:
    import matplotlib  # noqa: F401
    import matplotlib_scalebar  # noqa: F401
except ImportError as exc:  # before anything is drawn or written
    raise FifteenMinError(
        f"writing maps and reports (fifteenmin.outputs) needs matplotlib and "
        f"matplotlib-scalebar, which are not installed ({exc}); install them with pip install "
        "matplotlib matplotlib-scalebar. The analysis itself does not need them: its "
        "figures are in result.summary and result.zones"
    ) from None

from . import maps as maps
from . import report as report
from . import webmap as webmap
from ._batch_report import write_batch_report as write_batch_report
from .folder import write_analysis as write_analysis
from .folder import write_analysis_into as write_analysis_into
from .folder import write_comparison as write_comparison
from .maps import categories_map as categories_map
from .maps import change_map as change_map
from .maps import coverage_map as coverage_map
from .maps import isochrone_map as isochrone_map
from .maps import missing_piece_map as missing_piece_map
from .maps import save_figure as save_figure
from .maps import walk_time_map as walk_time_map
from .report import write_report as write_report
from .webmap import write_map as write_map

__all__ = [
    "categories_map",
    "change_map",
    "coverage_map",
    "isochrone_map",
    "maps",
    "missing_piece_map",
    "report",
    "save_figure",
    "walk_time_map",
    "webmap",
    "write_analysis",
    "write_analysis_into",
    "write_batch_report",
    "write_comparison",
    "write_map",
    "write_report",
]
