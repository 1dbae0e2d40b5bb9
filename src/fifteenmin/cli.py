"""Command line: ``fifteenmin analyze``, ``suggest``, ``compare``, ``demo`` and ``registry``;
wiring only."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ._glossary import Console, language_from_environment
from .errors import (
    FifteenMinError,
    Terminated,
    check_stopped,
    forget_stop,
    interrupt,
    terminate,
)

logger = logging.getLogger("fifteenmin")

SAMPLE_DATA = "sample_data"
"""Folder of the demo's report that holds the sample city (without ``--data-dir``)."""
_OUT: dict[str, Any] = {"what": "--out folder", "overwrite_hint": "add --overwrite"}
_OVERWRITE_HELP = (
    "replace --out when it holds an earlier fifteenmin output (marked by its .fifteenmin "
    "file); without it, --out must be new or an empty folder"
)


class _Limits(TypedDict, total=False):
    """The keyword arguments of ``_tables.option_number``: the range allowed."""

    low: float
    high: float
    low_open: bool
    integer: bool
    unit: str


def option_number(**limits: Unpack[_Limits]) -> Callable[[str], float]:
    """An argparse type for a finite number in range (see ``_tables.option_number``).

    Imported when the parser is built, inside :func:`main`: the command's start-up imports
    nothing heavy, so Ctrl-C there is caught like anywhere else.
    """
    from ._tables import option_number as number

    return number(**limits)


def terminal_safe(text: object) -> str:
    """``text`` without control characters (see ``_tables.terminal_safe``)."""
    from ._tables import terminal_safe as safe

    return safe(text)


_SPEED: _Limits = {"low": 0, "high": 20, "low_open": True, "unit": "km/h"}


def _walk_options(parser: argparse.ArgumentParser) -> None:
    """The walks and the underserved rule, alike in ``analyze`` and ``compare``."""
    parser.add_argument(
        "--minutes",
        type=option_number(low=0, high=1440, low_open=True, unit="min"),
        nargs="+",
        default=[5, 10, 15],
        metavar="MIN",
        help="walking-time thresholds in minutes (default: 5 10 15)",
    )
    parser.add_argument(
        "--speed-kmh", type=option_number(**_SPEED), default=4.8, help="walking speed (default 4.8)"
    )
    parser.add_argument(
        "--underserved-share",
        type=option_number(low=0, high=1, low_open=True),
        default=0.5,
        help="underserved below this share within 15 min (default 0.5)",
    )


def _analysis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--population-column",
        metavar="COL",
        nargs="+",
        help="numeric column weighting the zones (residents, or e.g. pop2018_65p), in the "
        "zones layer or in --population when given; more columns (e.g. pop2018 "
        "pop2018_65p) are population groups whose figures are also computed (sensitivity)",
    )
    _category_options(parser)
    sens = parser.add_argument_group("sensitivity (see docs/outputs.md)")
    sens.add_argument(
        "--speeds",
        type=option_number(**_SPEED),
        nargs="+",
        metavar="KMH",
        help="also compute the figures at these walking speeds (e.g. 3.6 4.8 5.4): a band "
        "per zone, zones whose underserved status flips flagged as borderline",
    )
    sens.add_argument(
        "--speed-for",
        nargs="+",
        default=[],
        metavar="COL=KMH",
        help="a population group at its own speed, e.g. pop2018_65p=3.6 (older residents)",
    )
    _walk_options(parser)
    parser.add_argument(
        "--buffer-m",
        type=option_number(low=0, high=1000, unit="m"),
        default=50.0,
        help="width counted as covered along a reachable street (default 50 m)",
    )
    cap = parser.add_argument_group("capacity: desks per resident (see docs/outputs.md)")
    cap.add_argument(
        "--seats-per-1000",
        type=option_number(low=0, high=1000, low_open=True),
        metavar="N",
        help="target desks per 1,000 residents (e.g. 20): adds each zone's shortfall of seats "
        "within the walk (needs the spaces' seats)",
    )
    cap.add_argument(
        "--demand-share",
        type=option_number(low=0, high=1, low_open=True),
        default=1.0,
        metavar="S",
        help="share of residents who would use a space, e.g. 0.3 for those working remotely "
        "(default 1: all)",
    )
    cap.add_argument(
        "--decay",
        choices=["gaussian", "linear", "step"],
        default="gaussian",
        help="how a desk's pull falls with the walk for E2SFCA (default gaussian; step: as 2SFCA)",
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="report folder to write (new or empty)"
    )
    parser.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    _report_options(parser)


def _category_options(parser: argparse.ArgumentParser) -> None:
    """Many kinds of service in one run (``analyze``; ``suggest --objective missing``)."""
    cats = parser.add_argument_group("many kinds of service (see docs/outputs.md)")
    cats.add_argument(
        "--categories",
        metavar="TABLE",
        help="also measure every category of daily service of a table: 'default' (the "
        "shipped table: the nine Sony CSL categories and work) or a TOML file; their "
        "places are read from the OSM tags of --network",
    )
    cats.add_argument(
        "--category",
        action="append",
        default=[],
        metavar="NAME=FILE|TAGS",
        help="a category on the command line, e.g. libraries=amenity=library or "
        "markets=mercati.csv (repeatable; replaces the table's category of that name)",
    )
    cats.add_argument(
        "--work-category",
        default="work",
        metavar="NAME",
        help="the category the --spaces are (default work): residents with every other "
        "category within 15 min but not this one are 'the missing piece'",
    )


def _console_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=["en", "it"],
        default=None,
        help="language of the console (default: the locale, Italian where LC_ALL, "
        "LC_MESSAGES or LANG starts with it, else en)",
    )


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=["en", "it"],
        default=None,
        help="language of report.html, map.html, the maps and the console (default: the "
        "locale, Italian where LC_ALL, LC_MESSAGES or LANG starts with it, else en)",
    )
    parser.add_argument(
        "--pdf", action="store_true", help="also write report.pdf (needs fifteenmin[pdf])"
    )


def _basemap_options(parser: argparse.ArgumentParser) -> None:
    """A tile basemap under map.html (``analyze``, ``demo``)."""
    parser.add_argument(
        "--basemap",
        metavar="URL",
        help="draw map.html over the tiles of this XYZ template, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png (the page then loads them from "
        "there; default none: it fetches nothing)",
    )
    parser.add_argument(
        "--basemap-attribution",
        metavar="TEXT",
        help="the tiles' attribution shown on the map (required for tiles other than "
        "OpenStreetMap's, whose default is '© OpenStreetMap contributors')",
    )


def _basemap(args: argparse.Namespace) -> dict[str, Any]:
    """``--basemap`` and ``--basemap-attribution``, checked before any work."""
    from .errors import InputError

    if args.basemap is None:
        if args.basemap_attribution is not None:
            raise InputError("--basemap-attribution needs --basemap URL, the tiles it is for")
        return {}
    from .outputs.webmap import basemap_source

    url, attribution = basemap_source(args.basemap, attribution=args.basemap_attribution)
    return {"basemap": url, "basemap_attribution": attribution}


def _label_options(parser: argparse.ArgumentParser) -> None:
    """The texts of the report and the maps (``analyze``, ``demo``, ``batch``)."""
    texts = parser.add_argument_group("texts of the report and the maps")
    texts.add_argument(
        "--title", metavar="TEXT", help="the report's title (also shown above each map's)"
    )
    texts.add_argument(
        "--service-name",
        metavar="TEXT",
        help="what the spaces are, in the report's language, e.g. 'spazi di coworking' "
        "(default: spaces)",
    )
    texts.add_argument(
        "--attribution",
        action="append",
        default=[],
        metavar="TEXT",
        help="where an input comes from, e.g. 'Zone urbanistiche: Roma Capitale' or "
        "'Residenti: ISTAT 2021' (repeatable; shown after the streets' OpenStreetMap "
        "attribution instead of the input files' names)",
    )
    texts.add_argument(
        "--note", metavar="TEXT", help="a note shown under the report's title and on the maps"
    )


def _labels(args: argparse.Namespace, *, note: str = "") -> dict[str, Any]:
    """``--title``, ``--service-name``, ``--attribution`` and ``--note`` for
    :meth:`~fifteenmin.pipeline.Analysis.labelled` (``note`` first: the demo's)."""
    notes = [n for n in (note, args.note) if n]
    return {
        "title": args.title,
        "service_name": args.service_name,
        "attributions": args.attribution,
        "note": " — ".join(notes) if notes else None,
    }


def _input_options(parser: argparse.ArgumentParser, *, spaces: bool = True) -> None:
    """Network, study area, spaces and zones: the inputs of ``analyze``, ``suggest`` and
    (without ``--spaces``) ``compare``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--network",
        type=Path,
        help="walking network: .osm, .osm.bz2, .osm.pbf (e.g. a regional extract) or .graphml",
    )
    source.add_argument("--place", help="place name to download with OSMnx (needs internet)")
    parser.add_argument(
        "--boundary",
        type=Path,
        metavar="FILE",
        help="study area polygon layer: zones are clipped to it, network and spaces are read "
        "within it plus --margin-m (downloaded by polygon when --network is not given)",
    )
    parser.add_argument(
        "--bbox",
        type=option_number(low=-180, high=180, unit="degrees"),
        nargs=4,
        metavar=("W", "S", "E", "N"),
        help="study area as west south east north in degrees (downloaded when --network is "
        "not given)",
    )
    parser.add_argument(
        "--margin-m",
        type=option_number(low=0, high=100_000, unit="m"),
        metavar="M",
        help="network and spaces kept around the study area (default: the walk of the "
        "longest threshold, 1200 m for 15 min at 4.8 km/h)",
    )
    if spaces:
        parser.add_argument(
            "--spaces",
            required=True,
            help="spaces file (.csv with lat/lon, .geojson, .gpkg) or 'osm'",
        )
    parser.add_argument("--lat-column", help="latitude column of a spaces CSV")
    parser.add_argument("--lon-column", help="longitude column of a spaces CSV")
    parser.add_argument(
        "--zones",
        required=spaces,
        help="zone polygons (.geojson, .gpkg, .shp), or hex:RES for an H3 hexagon grid over "
        "the study area (hex = hex:9, about 0.1 km² each)",
    )
    parser.add_argument(
        "--population",
        type=Path,
        metavar="FILE",
        help="population polygons whose --population-column is carried onto the zones by "
        "walkable street length (e.g. zone urbanistiche for hex zones)",
    )
    data = parser.add_argument_group("data quality (see docs/outputs.md)")
    data.add_argument(
        "--sparse-share",
        type=option_number(low=0, high=0.99),
        default=0.1,
        metavar="S",
        help="zones with walkable street length per resident (per km² without population) "
        "below S times the study area's "
        "median get the status sparse_streets and are left out of the headline "
        "(default 0.1; 0: off)",
    )
    data.add_argument(
        "--extent-buffer-m",
        type=option_number(low=0, high=100_000, low_open=True, unit="m"),
        default=500.0,
        metavar="M",
        help="the network's data extent: ground within M of a walkable street, cut to the "
        "file's bounds (default 500)",
    )
    data.add_argument(
        "--join-gap-m",
        type=option_number(low=0, high=50, unit="m"),
        default=5.0,
        metavar="M",
        help="join dangling street ends to a street of another part of the network within "
        "M metres (footways stopping short of the road in OSM; default 5; 0: none)",
    )
    data.add_argument(
        "--fragment-max-m",
        type=option_number(low=0, high=1_000_000, unit="m"),
        default=1000.0,
        metavar="M",
        help="parts of the network without a space and with less than M metres of street "
        "are fragments: left out of the figures and of suggest, and listed (default 1000)",
    )
    data.add_argument(
        "--keep-fragments",
        action="store_true",
        help="count street fragments as streets without access (the behaviour before 0.2)",
    )


def _suggest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--population-column",
        metavar="COL",
        help="numeric column of residents, in the zones layer or in --population when given",
    )
    parser.add_argument(
        "--sites",
        type=option_number(low=1, high=1000, integer=True),
        default=5,
        metavar="N",
        help="how many sites to suggest (default 5)",
    )
    parser.add_argument(
        "--minutes",
        type=option_number(low=0, high=1440, low_open=True, unit="min"),
        default=15.0,
        metavar="MIN",
        help="the walk (default 15)",
    )
    parser.add_argument(
        "--speed-kmh", type=option_number(**_SPEED), default=4.8, help="walking speed (default 4.8)"
    )
    parser.add_argument(
        "--min-separation-m",
        type=option_number(low=0, high=100_000, unit="m"),
        default=300.0,
        metavar="M",
        help="no two suggested sites closer than this, straight line (default 300 m)",
    )
    parser.add_argument(
        "--max-candidates",
        type=option_number(low=0, high=10_000_000, integer=True),
        default=5000,
        metavar="N",
        help="street nodes searched in the first round, a spatial subsample (default 5000; 0: all)",
    )
    parser.add_argument(
        "--candidates",
        type=Path,
        metavar="FILE",
        help="where a space could open, e.g. vacant premises: .csv with lat/lon (or "
        "latitudine/longitudine), .geojson or .gpkg points; ids and names are kept "
        "(default: the street nodes near residents without a space)",
    )
    parser.add_argument(
        "--new-seats",
        type=option_number(low=0, high=100_000, integer=True),
        metavar="N",
        help="desks of each new site: the table gives its seats per 1,000 residents within "
        "its walk",
    )
    parser.add_argument(
        "--objective",
        choices=("residents", "shortfall", "missing"),
        default="residents",
        help="what the sites maximise: residents newly within the walk (default); "
        "residents within the walk of a new site weighted by their zone's unmet share of "
        "--seats-per-1000 (shortfall, needs the spaces' seats); or residents with every "
        "other category of --categories within the walk but no space (missing)",
    )
    _category_options(parser)
    parser.add_argument(
        "--seats-per-1000",
        type=option_number(low=0, high=1000, low_open=True),
        metavar="T",
        help="target desks per 1,000 residents of --objective shortfall (e.g. 20)",
    )
    exact = parser.add_argument_group("exact check (pip install fifteenmin[exact])")
    exact.add_argument(
        "--no-exact",
        action="store_true",
        help="skip the comparison with the optimal set of sites (run by default when there "
        "are at most --exact-max candidates)",
    )
    exact.add_argument(
        "--exact-max",
        type=option_number(low=0, high=100_000, integer=True),
        default=300,
        metavar="N",
        help="the most candidate sites the exact check takes on (default 300)",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="folder to write suggested_sites.gpkg, suggested_sites.csv and "
        "suggest_summary.json to (new or empty)",
    )
    parser.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _compare_options(parser: argparse.ArgumentParser) -> None:
    sides = parser.add_argument_group("the two sides")
    sides.add_argument(
        "--before",
        required=True,
        metavar="FILE",
        help="spaces before (.csv with lat/lon, .geojson, .gpkg), or 'osm' for those tagged "
        "in the --network file; or the --out folder of an earlier analyze run (then --after "
        "is another such folder, and nothing else is needed)",
    )
    sides.add_argument(
        "--after",
        type=Path,
        metavar="FILE",
        help="spaces after: a space with the same id and place (within 1 m) is kept, others "
        "are added or removed",
    )
    sides.add_argument(
        "--add", type=Path, metavar="FILE", help="spaces to add to the after side (new ids)"
    )
    sides.add_argument(
        "--remove", nargs="+", metavar="ID", default=[], help="ids of spaces to remove"
    )
    parser.add_argument(
        "--population-column",
        metavar="COL",
        help="numeric column of residents, in the zones layer or in --population when given "
        "(required with spaces files)",
    )
    _walk_options(parser)
    parser.add_argument(
        "--out", required=True, type=Path, help="folder to write the comparison to (new or empty)"
    )
    parser.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument(
        "--lang",
        choices=["en", "it"],
        default=None,
        help="language of report.html, map.html, the maps and the console (default: the "
        "locale, Italian where LC_ALL, LC_MESSAGES or LANG starts with it, else en)",
    )


def _batch_options(parser: argparse.ArgumentParser) -> None:
    """The inputs of ``batch``: the areas, the regional network, the cluster."""
    parser.add_argument(
        "--areas",
        required=True,
        type=Path,
        metavar="FILE",
        help="polygon layer of the areas (municipi, comuni...): one analysis per feature",
    )
    parser.add_argument(
        "--id-column",
        metavar="COL",
        help="the areas' id column: unique, letters/digits/_-. (default: area_id, id, code, "
        "codice, pro_com_t, pro_com, cod_istat or fid)",
    )
    parser.add_argument(
        "--name-column", metavar="COL", help="the areas' name column (default: name, nome...)"
    )
    parser.add_argument(
        "--network",
        required=True,
        type=Path,
        help="the regional OSM extract (.osm.pbf...): read once, cut into one file per area",
    )
    parser.add_argument(
        "--spaces", required=True, help="spaces file (.csv with lat/lon, .geojson, .gpkg)"
    )
    parser.add_argument("--lat-column", help="latitude column of a spaces CSV")
    parser.add_argument("--lon-column", help="longitude column of a spaces CSV")
    parser.add_argument(
        "--zones", required=True, help="zone polygons of the region, or hex:RES (H3 hexagons)"
    )
    parser.add_argument(
        "--population",
        type=Path,
        metavar="FILE",
        help="population polygons whose --population-column is carried onto the zones",
    )
    parser.add_argument(
        "--margin-m",
        type=option_number(low=0, high=100_000, unit="m"),
        metavar="M",
        help="streets and spaces counted around each area (default: the longest walk, "
        "1200 m for 15 min at 4.8 km/h)",
    )
    run = parser.add_argument_group("where it runs (Dask)")
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://HOST:8786 (default: DASK_SCHEDULER_ADDRESS, "
        "else a local cluster of one worker process per core)",
    )
    run.add_argument(
        "--workers",
        type=option_number(low=1, high=4096, integer=True),
        metavar="N",
        help="workers of the local cluster (default: one per core, fewer if memory is short)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the batch folder --out: keep its areas whose inputs did not change, "
        "run the others (failed and not run ones included)",
    )
    run.add_argument(
        "--no-area-reports",
        action="store_true",
        help="no report folder per area (areas/ID/), only the figures: far faster",
    )
    data = parser.add_argument_group("data quality (see docs/outputs.md)")
    data.add_argument(
        "--sparse-share",
        type=option_number(low=0, high=0.99),
        default=0.1,
        metavar="S",
        help="sparse_streets below S times the area's median street length per resident "
        "(default 0.1; 0: off)",
    )
    data.add_argument(
        "--extent-buffer-m",
        type=option_number(low=0, high=100_000, low_open=True, unit="m"),
        default=500.0,
        metavar="M",
        help="the network's data extent: ground within M of a walkable street (default 500)",
    )
    data.add_argument(
        "--join-gap-m",
        type=option_number(low=0, high=50, unit="m"),
        default=5.0,
        metavar="M",
        help="join dangling street ends within M metres (default 5; 0: none)",
    )
    data.add_argument(
        "--fragment-max-m",
        type=option_number(low=0, high=1_000_000, unit="m"),
        default=1000.0,
        metavar="M",
        help="parts of the network without a space and under M metres are fragments",
    )
    data.add_argument(
        "--keep-fragments", action="store_true", help="count street fragments as streets"
    )


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs wrapped paragraph by paragraph, as argparse does, except
    the indented lines (example commands), which are kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out: list[str] = []
        for block in text.strip("\n").split("\n\n"):
            lines = block.splitlines()
            if any(line.startswith(" ") for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                text = " ".join(block.split())
                out.append(
                    textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n\n".join(out)


_EXAMPLES = {
    "": """examples:
  fifteenmin demo --out out/demo           # the synthetic sample city, end to end
  fifteenmin analyze --network streets.osm.pbf --spaces albo.csv \\
      --zones zone_urbanistiche.geojson --population-column pop2018 --out out/rome
  fifteenmin analyze --help                # every option of one command

The report folder holds report.html (open it in a browser), map.html, the maps, zones.csv
and summary.json; docs/outputs.md describes every column.""",
    "analyze": """examples:
  fifteenmin analyze --network streets.osm.pbf --spaces albo.csv \\
      --zones zone_urbanistiche.geojson --population-column pop2018 --out out/rome
  fifteenmin analyze --network streets.osm.pbf --spaces osm --zones hex:9 \\
      --boundary comune.geojson --out out/hex --lang it
  fifteenmin analyze ... --categories default --speeds 3.6 4.8 --seats-per-1000 20 \\
      --out out/rome-all""",
    "suggest": """examples:
  fifteenmin suggest --network streets.osm.pbf --spaces albo.csv \\
      --zones zone_urbanistiche.geojson --population-column pop2018 \\
      --sites 5 --out out/sites
  fifteenmin suggest ... --candidates locali_sfitti.csv --new-seats 40 \\
      --objective shortfall --seats-per-1000 20 --out out/sites""",
    "compare": """examples:
  fifteenmin compare --network streets.osm.pbf --zones zone_urbanistiche.geojson \\
      --population-column pop2018 --before albo_2025.csv --after albo_2026.csv \\
      --out out/2025-26
  fifteenmin compare --before out/rome2025 --after out/rome2026 \\
      --out out/2025-26                    # two analyze report folders
  fifteenmin compare ... --before albo.csv --remove S01 S07 --out out/what-if""",
    "batch": """examples:
  fifteenmin batch --areas municipi.geojson --id-column MUNICIPIO \\
      --network lazio.osm.pbf --spaces albo.csv --zones zone_urbanistiche.geojson \\
      --population-column pop2018 --out out/municipi
  fifteenmin batch ... --scheduler tcp://scheduler.example.org:8786 --out out/lazio
  fifteenmin batch ... --resume --out out/lazio   # continue: unchanged areas are kept""",
    "demo": """examples:
  fifteenmin demo --out out/demo
  fifteenmin demo --out out/demo --lang it --overwrite""",
    "registry": """examples:
  fifteenmin registry validate albo.csv
  fifteenmin registry merge albo.csv --osm lazio.osm.pbf --out spaces.gpkg""",
    "validate": """examples:
  fifteenmin registry validate albo.csv
  fifteenmin registry validate albo.csv --study-area comune.geojson""",
    "merge": """examples:
  fifteenmin registry merge albo.csv --osm lazio.osm.pbf --out spaces.gpkg
  fifteenmin registry merge albo.csv --osm lazio.osm.pbf --study-area comune.geojson \\
      --out spaces.gpkg""",
}
"""The usage examples at the end of each command's ``--help`` (key: the subcommand)."""


def _with_examples(parsers: dict[str, argparse.ArgumentParser]) -> None:
    """Put each parser's examples (:data:`_EXAMPLES`) at the end of its ``--help``."""
    for name, parser in parsers.items():
        parser.epilog = _EXAMPLES[name]
        parser.formatter_class = _HelpFormatter


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fifteenmin`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="fifteenmin",
        description="Which neighbourhoods lack a service within a 15-minute walk, "
        "for how many residents.",
    )
    parser.add_argument("--version", action="version", version=f"fifteenmin {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    analyze = sub.add_parser("analyze", help="run the analysis and write a report folder")
    _input_options(analyze)
    _analysis_options(analyze)
    _label_options(analyze)
    _basemap_options(analyze)

    suggest = sub.add_parser(
        "suggest", help="suggest where new spaces would bring the most residents within a walk"
    )
    _input_options(suggest)
    _suggest_options(suggest)
    _console_options(suggest)

    compare = sub.add_parser(
        "compare",
        help="compare two versions of the spaces (e.g. the albo of two years) zone by zone",
        description="Residents within each walk before and after, zone by zone: the spaces "
        "of --before against those of --after, and/or --add and --remove applied to them. "
        "Both sides use one network, one zone layer and one walking speed.",
    )
    _input_options(compare, spaces=False)
    _compare_options(compare)

    batch = sub.add_parser(
        "batch",
        help="run the analysis for every area of a layer (on Dask) into one folder",
        description="Each area is analysed as analyze --boundary AREA would (streets and "
        "spaces within the walking margin count), on a local Dask cluster or on --scheduler; "
        "the regional network is read once. See docs/outputs.md.",
    )
    _batch_options(batch)
    _analysis_options(batch)
    _label_options(batch)

    demo = sub.add_parser("demo", help="run the analysis on the bundled synthetic sample city")
    demo.add_argument(
        "--data-dir",
        type=Path,
        help=f"folder for the sample city's files: new, empty, or one the demo wrote before "
        f"(reused as it is); default: {SAMPLE_DATA}/ inside --out",
    )
    demo.add_argument(
        "--out", required=True, type=Path, help="report folder to write (new or empty)"
    )
    demo.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    demo.add_argument("--quiet", action="store_true", help="no progress output")
    _report_options(demo)
    _label_options(demo)
    _basemap_options(demo)

    registry = sub.add_parser("registry", help="check or merge the registry (albo) of spaces")
    reg_sub = registry.add_subparsers(dest="registry_command", required=True)
    validate = reg_sub.add_parser("validate", help="report every problem of a registry, by row")
    validate.add_argument("file", type=Path, help="registry (.csv, .geojson, .gpkg)")
    validate.add_argument("--study-area", type=Path, help="polygon layer: report spaces outside it")
    merge = reg_sub.add_parser("merge", help="merge the registry with OSM-tagged spaces")
    merge.add_argument("file", type=Path, help="registry (.csv, .geojson, .gpkg)")
    merge.add_argument(
        "--osm",
        required=True,
        type=Path,
        help="OSM file (.osm, .osm.bz2, .osm.pbf) with tagged spaces and addresses",
    )
    merge.add_argument(
        "--out", required=True, type=Path, help="GeoPackage (.gpkg) to write: a new file"
    )
    merge.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists (never an input)"
    )
    merge.add_argument(
        "--study-area",
        type=Path,
        help="polygon layer (e.g. the city boundary): read OSM spaces and addresses inside it",
    )
    merge.add_argument(
        "--max-distance-m",
        type=option_number(low=0, high=100_000, low_open=True, unit="m"),
        default=100.0,
        help="match records within this distance (default 100 m)",
    )
    for p in (validate, merge):
        p.add_argument("--quiet", action="store_true", help="no progress output")
        _console_options(p)
    _with_examples(
        {"": parser, "analyze": analyze, "suggest": suggest, "compare": compare}
        | {"batch": batch, "demo": demo, "registry": registry}
        | {"validate": validate, "merge": merge}
    )
    return parser


def _run_registry(args: argparse.Namespace) -> int:
    from . import registry
    from .errors import InputError
    from .spaces import SPACE_COLUMNS, spaces_from_osm

    if args.registry_command == "validate":
        area = None
        if args.study_area is not None:
            from ._io import read_vector

            area = read_vector(args.study_area).to_crs(4326).union_all()
        problems = registry.validate_registry(args.file, study_area=area)
        if problems:
            lines = registry.format_problems(problems).splitlines()
            print("\n".join(_console.translate(line) for line in lines))
        errors = sum(p.severity == "error" for p in problems)
        _say(
            "{file}: {errors} {errors|error|errors}, {warnings} {warnings|warning|warnings}",
            file=args.file,
            errors=errors,
            warnings=len(problems) - errors,
            stream=sys.stderr,
        )
        return 2 if errors else 0
    from ._io import check_output_file

    check_output_file(
        args.out,
        inputs=[args.file, args.osm, args.study_area],
        overwrite=args.overwrite,
        what="--out file",
        overwrite_hint="add --overwrite",
    )
    polygon = None
    if args.study_area is not None:
        from .study_area import StudyArea

        polygon = StudyArea.from_file(args.study_area).polygon
    try:
        osm_spaces = spaces_from_osm(args.osm, polygon=polygon)
    except InputError:
        import geopandas as gpd

        logger.info("%s: no OSM-tagged spaces; merging the registry alone", args.osm)
        osm_spaces = gpd.GeoDataFrame(columns=list(SPACE_COLUMNS), geometry="geometry", crs=4326)
    result = registry.merge_registry(
        args.file,
        osm_spaces,
        osm_addresses=registry.osm_addresses_from_file(args.osm, polygon=polygon),
        max_distance_m=args.max_distance_m,
    )
    result.write(args.out, overwrite=args.overwrite)
    if not args.quiet:
        _say(
            "{n} {n|space|spaces} written to {out}: {conflicts} {conflicts|conflict|conflicts}, "
            "{reg} registry and {osm} OSM {osm|record|records} unmatched, {geo} "
            "{geo|address|addresses} not geocoded",
            n=len(result.merged),
            out=args.out,
            conflicts=len(result.conflicts),
            reg=len(result.unmatched_registry),
            osm=len(result.unmatched_osm),
            geo=len(result.not_geocoded),
        )
    return 0


def _network(args: argparse.Namespace, minutes: Sequence[float]) -> Any:
    """The network argument of ``analyze``: a file, or downloaded by place or study area."""
    from .errors import InputError
    from .network import streets_from_place
    from .study_area import streets_from_study_area, study_area_from, walk_margin_m

    if args.spaces == "osm" and args.network is None:
        raise InputError("--spaces osm needs --network FILE (the OSM file holding the tags)")
    if args.network is not None:
        network = args.network
    elif args.place is not None:
        network = streets_from_place(args.place)
    elif args.boundary is not None or args.bbox is not None:
        area = study_area_from(args.boundary, args.bbox)
        assert area is not None  # a boundary or a bbox was given
        margin = args.margin_m
        if margin is None:
            margin = walk_margin_m(minutes, args.speed_kmh)
        shape = "polygon" if args.boundary is not None else "bbox"
        network = streets_from_study_area(area, margin_m=margin, shape=shape)
    else:
        raise InputError(
            "no walking network: give --network FILE.osm.pbf (offline), or --place NAME, "
            "--boundary FILE or --bbox W S E N to download it from OpenStreetMap"
        )
    return network


def _speed_pairs(values: Sequence[str]) -> dict[str, float]:
    """``--speed-for COL=KMH ...`` as ``{COL: KMH}``; one line for a malformed pair."""
    from ._tables import option_number as number
    from .errors import InputError

    speed = number(**_SPEED)
    pairs = {}
    for item in values:
        col, eq, kmh = str(item).partition("=")
        if not eq or not col.strip():
            raise InputError(
                f"--speed-for {item!r}: write a population column and its walking speed as "
                "COL=KMH, e.g. pop2018_65p=3.6"
            )
        try:
            pairs[col.strip()] = speed(kmh.strip())
        except argparse.ArgumentTypeError as exc:
            raise InputError(f"--speed-for {item!r}: {exc}") from None
    return pairs


def _analyze(args: argparse.Namespace, minutes: list[float], **options: Any) -> Any:
    """Run ``analyze`` on the inputs given by :func:`_input_options`."""
    from .pipeline import analyze

    columns = args.population_column
    if isinstance(columns, list):  # analyze: the first column, then population groups
        options.update(population_columns=columns[1:] or None)
        columns = columns[0]
    return analyze(
        _network(args, minutes),
        args.spaces,
        args.zones,
        population_column=columns,
        population=args.population,
        boundary=args.boundary,
        bbox=tuple(args.bbox) if args.bbox is not None else None,
        margin_m=args.margin_m,
        minutes=minutes,
        speed_kmh=args.speed_kmh,
        lat_column=args.lat_column,
        lon_column=args.lon_column,
        sparse_share=args.sparse_share,
        extent_buffer_m=args.extent_buffer_m,
        join_gap_m=args.join_gap_m,
        fragment_max_m=args.fragment_max_m,
        keep_fragments=args.keep_fragments,
        progress=not args.quiet,
        **options,
    )


def _input_paths(args: argparse.Namespace) -> list[Path]:
    """The input files of ``analyze`` and ``suggest`` (which --out must not be or hold)."""
    from .hexagons import parse_hex_spec

    paths = [args.network, args.population, args.boundary]
    if args.spaces != "osm":
        paths.append(args.spaces)
    if parse_hex_spec(args.zones) is None:
        paths.append(args.zones)
    return [Path(p) for p in paths if p is not None]


def _check_out(args: argparse.Namespace, inputs: Sequence[Path]) -> None:
    """Refuse an --out that writing would harm, before any work (see check_output_folder)."""
    from ._io import check_output_folder

    check_output_folder(args.out, inputs=inputs, overwrite=args.overwrite, **_OUT)


def _categories(args: argparse.Namespace) -> Any:
    """The categories of ``--categories`` and ``--category`` (None: neither given)."""
    if args.categories is None and not args.category:
        return None
    from .categories import load_categories, merge_categories, parse_category_option

    table = []
    if args.categories is not None:
        table = load_categories(None if args.categories == "default" else args.categories)
    return merge_categories(table, [parse_category_option(c) for c in args.category])


def _run_analyze(args: argparse.Namespace) -> int:
    _check_out(args, _input_paths(args))
    basemap = _basemap(args)
    result = _analyze(
        args,
        args.minutes,
        buffer_m=args.buffer_m,
        underserved_share=args.underserved_share,
        speeds=args.speeds,
        speed_pairs=_speed_pairs(args.speed_for) or None,
        categories=_categories(args),
        work_category=args.work_category,
        seats_per_1000=args.seats_per_1000,
        demand_share=args.demand_share,
        decay=args.decay,
    )
    result = result.labelled(**_labels(args))
    result.write(args.out, overwrite=args.overwrite, lang=args.lang, pdf=args.pdf, **basemap)
    _print_headline(result.summary, args.out, args.quiet)
    return 0


def _run_suggest(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .planning import candidates_from_file, suggest_sites, write_sites

    if args.objective == "shortfall" and args.seats_per_1000 is None:
        raise InputError(
            "--objective shortfall needs --seats-per-1000 T, the target desks per 1,000 "
            "residents (e.g. 20)"
        )
    if args.objective != "shortfall" and args.seats_per_1000 is not None:
        raise InputError("--seats-per-1000 only counts with --objective shortfall; add it")
    inputs = _input_paths(args) + ([args.candidates] if args.candidates is not None else [])
    _check_out(args, inputs)
    candidates = candidates_from_file(args.candidates) if args.candidates is not None else None
    categories = _categories(args)
    if args.objective == "missing" and categories is None:
        raise InputError(
            "--objective missing needs the other kinds of service: add --categories default "
            "(or a table) and/or --category NAME=..."
        )
    result = _analyze(
        args,
        [args.minutes],
        underserved_minutes=args.minutes,
        categories=categories,
        work_category=args.work_category,
    )
    sites = suggest_sites(
        result,
        n_sites=args.sites,
        minutes=args.minutes,
        candidates=candidates,
        min_separation_m=args.min_separation_m,
        max_candidates=args.max_candidates or None,
        seats=args.new_seats,
        objective=args.objective,
        seats_per_1000=args.seats_per_1000,
        exact=not args.no_exact,
        exact_max_candidates=args.exact_max,
        progress=not args.quiet,
    )
    write_sites(sites, args.out, overwrite=args.overwrite)
    if not args.quiet:
        _print_sites(sites, args)
    return 0


def _print_sites(sites: Any, args: argparse.Namespace) -> None:
    """The ranked sites and the exact check, a line each."""
    from . import _names as N

    new, share = N.new_residents(args.minutes), N.cumulative_share(args.minutes)
    _tprint(
        f"residents within {args.minutes:g} min of a space now: {sites.attrs['baseline_share']:.1%}"
    )
    for row in sites.to_dict("records"):
        where = (
            terminal_safe(f"{row['zone_name']} ({row['zone_id']})")
            if row["zone_id"] is not None
            else "-"
        )
        label = f" {terminal_safe(row['candidate_id'])}" if row["candidate_id"] else ""
        extra = ""
        if args.objective == "shortfall":
            extra += f", {row[N.shortfall_residents(args.minutes)]:,.0f} weighted by unmet seats"
        if args.new_seats is not None:
            ratio = row[N.space_seats_per_1000(args.minutes)]
            extra += f", {args.new_seats} seats = {ratio:.1f} per 1,000 within reach"
        _tprint(
            f"{row['rank']}.{label} {row['lat']:.6f}, {row['lon']:.6f}  {where}: "
            f"+{row[new]:,.0f} residents -> {row[share]:.1%}{extra}"
        )
    if len(sites) < args.sites:
        _say("only {n} {n|site reaches|sites reach} anybody new", n=len(sites))
    exact = sites.attrs.get("exact")
    if exact and exact["run"] and exact["status"] == "not_solved":
        _tprint(
            f"exact check: no solution within the time limit ({exact['solver_status']}, "
            f"{exact['seconds_solve']:.0f} s); give fewer candidates"
        )
    elif exact and exact["run"]:
        what = "residents within the walk" if args.objective == "residents" else "weighted"
        proven = "" if exact["status"] == "optimal" else " (time limit: best found, not proven)"
        _tprint(
            f"exact check{proven}: greedy {exact['greedy']:,.0f}, optimum "
            f"{exact['optimum']:,.0f} {what}; gap {exact['gap']:,.0f} "
            f"({exact['gap_pct']:.2f} %), solved in {exact['seconds_solve']:.1f} s"
        )
    elif exact:
        _say("exact check not run: {msg}", msg=_console.translate(str(exact["reason"])))
    _say("suggested sites written to {out}", out=args.out)


def _run_compare(args: argparse.Namespace) -> int:
    """``compare``: the analysis of --before, and its figures with the spaces of --after,
    --add and --remove (one network, one search per side)."""
    from .errors import InputError

    if args.after is None and args.add is None and not args.remove:
        raise InputError(
            "compare: nothing to compare; give --after FILE (the other version of the "
            "spaces), --add FILE and/or --remove ID ..."
        )
    if Path(args.before).is_dir():
        return _compare_reports(args)
    for flag, value in (("--zones", args.zones), ("--population-column", args.population_column)):
        if value is None:
            raise InputError(f"compare: give {flag} (the zones and their residents column)")
    args.spaces = args.before
    inputs = _input_paths(args) + [p for p in (args.after, args.add) if p is not None]
    _check_out(args, inputs)
    from .pipeline import _file_info
    from .scenarios import compare, scenario_from_files
    from .spaces import spaces_from_file

    # the spaces files first: a wrong file or id fails before the network is read
    read = {"lat_column": args.lat_column, "lon_column": args.lon_column}
    after = spaces_from_file(args.after, **read) if args.after is not None else None
    add = spaces_from_file(args.add, **read) if args.add is not None else None
    if args.remove and args.before != "osm":
        known = set(spaces_from_file(args.before, **read)["space_id"].astype(str))
        unknown = [i for i in args.remove if i not in known]
        if unknown:
            raise InputError(
                f"--remove: {len(unknown)} id(s) match no space of --before "
                f"({', '.join(repr(i) for i in unknown[:5])}); check the ids in {args.before}"
            )
    result = _analyze(args, args.minutes, underserved_share=args.underserved_share)
    figures = scenario_from_files(result, after, add=add, remove=args.remove)
    lineage_after = dict(result.inputs)
    if args.after is not None:
        lineage_after["spaces"] = _file_info(args.after)
    if args.add is not None:
        lineage_after["add"] = _file_info(args.add)
    if args.remove:
        lineage_after["remove"] = {"from": "--remove " + " ".join(args.remove)}
    comparison = compare(
        result, figures, lineage={"before": dict(result.inputs), "after": lineage_after}
    )
    comparison.write(args.out, overwrite=args.overwrite, lang=args.lang)
    _print_comparison(comparison, args)
    return 0


def _compare_reports(args: argparse.Namespace) -> int:
    """``compare --before DIR --after DIR``: two analyze report folders, nothing computed."""
    from .errors import InputError
    from .scenarios import compare, figures_from_report

    if args.after is None or not args.after.is_dir() or args.add or args.remove:
        raise InputError(
            "compare: --before is a report folder, so --after must be another analyze report "
            "folder (and --add/--remove do not apply); or give spaces files to both"
        )
    _check_out(args, [Path(args.before), args.after])
    comparison = compare(figures_from_report(args.before), figures_from_report(args.after))
    comparison.write(args.out, overwrite=args.overwrite, lang=args.lang)
    _print_comparison(comparison, args)
    return 0


def _print_comparison(comparison: Any, args: argparse.Namespace) -> None:
    if args.quiet:
        return
    for key, w in comparison.within.items():
        _tprint(
            f"residents within {key} min: {w['residents_before']:,.0f} "
            f"({w['share_before']:.1%}) -> {w['residents_after']:,.0f} "
            f"({w['share_after']:.1%}), {w['change']:+,.0f}"
        )
    served, worse = comparison.newly_served, comparison.newly_underserved
    _tprint(
        f"zones newly served: {len(served)}"
        + (f" ({terminal_safe(', '.join(served[:10]))})" if served else "")
        + f"; newly underserved: {len(worse)}"
        + (f" ({terminal_safe(', '.join(worse[:10]))})" if worse else "")
    )
    _say("comparison written to {out}", out=args.out)


def _run_batch(args: argparse.Namespace) -> int:
    from .batching import batch

    columns = args.population_column or [None]
    result = batch(
        args.areas,
        args.network,
        args.spaces,
        args.zones,
        args.out,
        id_column=args.id_column,
        name_column=args.name_column,
        population_column=columns[0],
        population=args.population,
        minutes=args.minutes,
        speed_kmh=args.speed_kmh,
        margin_m=args.margin_m,
        lat_column=args.lat_column,
        lon_column=args.lon_column,
        scheduler=args.scheduler,
        workers=None if args.workers is None else int(args.workers),
        resume=args.resume,
        overwrite=args.overwrite,
        area_reports=not args.no_area_reports,
        lang=args.lang,
        pdf=args.pdf,
        progress=not args.quiet,
        buffer_m=args.buffer_m,
        underserved_share=args.underserved_share,
        sparse_share=args.sparse_share,
        extent_buffer_m=args.extent_buffer_m,
        join_gap_m=args.join_gap_m,
        fragment_max_m=args.fragment_max_m,
        keep_fragments=args.keep_fragments,
        speeds=args.speeds,
        population_columns=columns[1:] or None,
        speed_pairs=_speed_pairs(args.speed_for) or None,
        seats_per_1000=args.seats_per_1000,
        demand_share=args.demand_share,
        decay=args.decay,
        **_labels(args),
    )
    if not args.quiet:
        run = result.manifest["run"]
        counts = ", ".join(f"{_console.integer(n)} {s}" for s, n in run["by_status"].items() if n)
        _say(
            "{n} {n|area|areas}: {counts}; {kept} kept from before",
            n=run["areas"],
            counts=counts,
            kept=run["reused"],
        )
        for row in result.failed.itertuples(index=False):
            _say(
                "  failed: {area}: {msg}",
                area=terminal_safe(row.area_id),
                msg=_console.translate(terminal_safe(row.error)),
            )
        _say("batch written to {out}", out=args.out)
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    """The sample city and its report, written inside --out (or the city in --data-dir)."""
    from ._io import output_folder
    from .outputs import write_analysis_into
    from .pipeline import analyze
    from .sample import SYNTHETIC_NOTE, check_sample_folder, write_sample_city

    inputs = [args.data_dir] if args.data_dir is not None else []
    _check_out(args, inputs)
    basemap = _basemap(args)
    if args.data_dir is not None:
        check_sample_folder(args.data_dir, what="--data-dir folder")
    opts = {"overwrite": args.overwrite, "inputs": inputs, "command": "demo", **_OUT}
    with output_folder(args.out, **opts) as report:
        if args.data_dir is not None:
            city = write_sample_city(args.data_dir)
            files = [city.network, city.spaces, city.zones]
            logger.info("sample city (synthetic) in %s", args.data_dir)
            run_in: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        else:  # read from the report folder as sample_data/...: named as in the report
            city = write_sample_city(report / SAMPLE_DATA)
            files = [p.relative_to(report) for p in (city.network, city.spaces, city.zones)]
            logger.info("sample city (synthetic) in %s", args.out / SAMPLE_DATA)
            run_in = contextlib.chdir(report)
        with run_in:  # written from there too: map.html reads place names from the network
            result = analyze(
                *files,
                population_column="population",
                note=SYNTHETIC_NOTE,
                progress=not args.quiet,
            )
            result = result.labelled(**_labels(args, note=SYNTHETIC_NOTE))
            logger.info("writing the report to %s", args.out)
            write_analysis_into(result, report, lang=args.lang, pdf=args.pdf, **basemap)
    _print_headline(result.summary, args.out, args.quiet)
    return 0


def _print_headline(summary: dict, out: Path, quiet: bool) -> None:
    if quiet:
        return
    c = _console
    within = summary["within"]
    parts = ", ".join(f"{m} min: {c.pct(v['share'])}" for m, v in within.items())
    what = "residents" if summary.get("residents_total") else "area"
    _say(f"{what} within a walk of a space: {{parts}}", parts=parts)
    counts = summary["counts"]
    _say(
        "underserved zones: {n} of {total} with street data",
        n=counts["underserved_zones"],
        total=counts.get("zones_counted", counts["zones"]),
    )
    left = summary.get("data_quality", {}).get("left_out") or {}
    if left.get("zones"):
        by = summary["data_quality"]["zones_by_status"]
        why = ", ".join(
            c.say(label, n=by[k]["zones"])
            for k, label in (
                ("no_data", "{n} without street data"),
                ("sparse_streets", "{n} with sparse streets"),
            )
            if by.get(k, {}).get("zones")
        )
        residents = (
            c.say(" ({n} {n|resident|residents})", n=round(left["residents"]))
            if left.get("residents")
            else ""
        )
        _say(
            "left out of the figures: {n} {n|zone|zones}{residents}: {why}",
            n=left["zones"],
            residents=residents,
            why=why,
        )
    cats = summary.get("categories")
    if cats:
        m = c.minutes(cats["minutes"])
        label = {
            r["category"]: r.get(f"label_{c.lang}") or r["category"] for r in cats["categories"]
        }
        shares = ", ".join(
            f"{label[r['category']]} {c.pct(r['share'])}"
            for r in cats["categories"]
            if r["services"]
        )
        _say("residents within {m} min, by category: {shares}", m=m, shares=terminal_safe(shares))
        every = cats["all"]
        share = c.pct(every["share"]) if every.get("share") is not None else c.say("not assessed")
        if every.get("not_assessed"):  # the categories by their names in this language
            absent = ", ".join(label.get(n, n) for n in cats.get("not_reachable") or [])
            share += f" ({c.say('no service in the study area for: {names}', names=absent)})"
        _say("within {m} min of every category: {share}", m=m, share=share)
        if cats.get("not_reachable"):
            _say(
                "categories with no place in the area: {names}",
                names=", ".join(label.get(n, n) for n in cats["not_reachable"]),
            )
        piece = cats.get("missing_piece") or {}
        work = cats["missing_category"]
        if piece.get("not_assessed"):
            absent = ", ".join(
                label.get(n, n) for n in cats.get("not_reachable") or [] if n != work
            )
            _say(
                "residents with everything but {what}: not assessed ({why})",
                what=label.get(work, work),
                why=c.say("no service in the study area for: {names}", names=absent),
            )
        elif piece.get("residents") is not None:
            _say(
                "residents with everything but {what}: {n}",
                what=label.get(work, work),
                n=round(piece["residents"]),
            )
    sens = summary.get("sensitivity")
    if sens:
        m = f"{sens['underserved_minutes']:g}"
        rows = [r for r in sens["citywide"] if f"{r['minutes']:g}" == m]
        at = " a " if c.lang == "it" else " at "
        cases = ", ".join(
            f"{r['population_column']}{at}{c.minutes(r['speed_kmh'])} km/h {c.pct(r['share'])}"
            for r in rows
        )
        m = c.minutes(sens["underserved_minutes"])
        _say("within {m} min by walking speed and group: {cases}", m=m, cases=terminal_safe(cases))
        _say(
            "borderline zones (underserved at some speeds only): {n}",
            n=len(sens["borderline"]),
        )
    cap = summary.get("capacity")
    if cap and cap.get("seats_per_1000_2sfca") is not None:
        target = (
            c.say(
                "; target {target}: {short} {short|desk|desks} short in {n} {n|zone|zones}",
                target=c.minutes(cap["seats_per_1000"]),
                short=round(cap["shortfall_seats"]),
                n=cap["zones_short"],
            )
            if cap.get("seats_per_1000") is not None
            else ""
        )
        values = {
            "m": c.minutes(cap["minutes"]),
            "a": c.decimal(cap["seats_per_1000_2sfca"]),
            "b": c.decimal(cap["seats_per_1000_e2sfca"]),
            "target": target,
        }
        if cap["demand_share"] == 1:
            _say(
                "desks within {m} min per 1,000 residents: {a} (2SFCA), {b} (E2SFCA){target}",
                **values,
            )
        else:
            _say(
                "desks within {m} min per 1,000 users ({share} of residents): {a} (2SFCA), "
                "{b} (E2SFCA){target}",
                share=c.pct(cap["demand_share"]),
                **values,
            )
    if summary.get("note"):
        print(c.note(summary["note"]))
    _say("report written to {out}", out=out)


_console = Console("en")
"""The language of the console's lines: set by :func:`main` (``--lang``, or the locale)."""


def _say(template: str, *, stream: Any = None, **values: Any) -> None:
    """Print the CLI's own line ``template`` (a ``[[message]]`` of ``glossary.toml``) in
    the console's language."""
    print(_console.say(template, **values), file=stream)


def _tprint(text: str) -> None:
    """Print an English line in the console's language (``[[message]]`` patterns)."""
    print(_console.translate(text))


class _ConsoleFormatter(logging.Formatter):
    """Log records in the console's language: by their %-template (``[log]``), else the
    line as a whole (``[[message]]``); English where neither has it."""

    def format(self, record: logging.LogRecord) -> str:
        if _console.lang == "en":
            return super().format(record)
        return _console.log(str(record.msg), record.args)


def _stop_handlers() -> Callable[[], object]:
    """SIGTERM raises :class:`~fifteenmin.errors.Terminated` (exit 143), so that cleanup
    runs as for Ctrl-C; both are remembered (:func:`~fifteenmin.errors.check_stopped`) in
    case a finalizer drops their exception. Ctrl-C keeps Python's meaning (and stays
    ignored where the shell ignores it). Returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    forget_stop()
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, terminate)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    return restore


def _interrupted(before: int | None) -> str:
    """What an interruption left: nothing, or outputs that were already complete."""
    io = sys.modules.get("fifteenmin._io")
    done = [] if io is None or before is None else io.written()[before:]
    done = [p for p in done if p.exists()]  # not those inside a temporary folder since removed
    if not done:
        return "interrupted; nothing was written"
    names = ", ".join(str(p) for p in done)
    return f"interrupted; {names} had been written in full before that, nothing else was written"


def _show_warning(
    message: Warning | str, category: type[Warning], *_: object, **__: object
) -> None:
    """A warning as one log line (no source line): ``fifteenmin: warning: ...``, to the
    command's log (stderr), so that a log file gets it in its place among the others."""
    logger.warning("fifteenmin: warning: %s", terminal_safe(message))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fifteenmin`` command; returns the exit code.

    Exit codes: 0 done, 2 an error (one line, no traceback), 130 Ctrl-C (SIGINT), 143
    SIGTERM; an interruption removes the temporary output and says what was written.
    """
    restore = _stop_handlers()
    args: argparse.Namespace | None = None
    before: int | None = None
    global _console
    _console = Console("en")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ConsoleFormatter("%(message)s"))
    try:
        from . import _io  # the start-up imports: interrupted here, nothing to say but that

        before = len(_io.written())
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "lang", None) is None and "lang" in vars(args):
            args.lang = language_from_environment()  # the report follows the console
        _console = Console(getattr(args, "lang", None) or language_from_environment())
        quiet = getattr(args, "quiet", False)
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING if quiet else logging.INFO)
        handlers = {
            "analyze": _run_analyze,
            "suggest": _run_suggest,
            "compare": _run_compare,
            "demo": _run_demo,
            "registry": _run_registry,
            "batch": _run_batch,
        }
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            warnings.showwarning = _show_warning
            code = handlers[args.command](args)
        check_stopped()  # a stop whose exception a finalizer dropped
        return code
    except (FifteenMinError, OSError) as exc:  # OSError: e.g. an input that cannot be read
        if getattr(args, "debug", False):
            raise
        message = _console.translate(terminal_safe(exc))
        _say("fifteenmin: error: {msg}", msg=message, stream=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        print(f"fifteenmin: {_console.translate(_interrupted(before))}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        logger.removeHandler(handler)  # a second call (tests, notebooks) logs each line once
        restore()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
