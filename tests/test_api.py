"""The Python API as a user meets it: the package namespace, short reprs, one CRS for every
layer of a result, notebooks on public names only, ``--help`` with examples, the README."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import nbformat
import pandas as pd
import pytest

import fifteenmin as fm
from fifteenmin import cli

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the namespace


def test_dir_lists_the_public_api_only():
    names = {n for n in dir(fm) if not (n.startswith("__") and n.endswith("__"))}
    assert names == set(fm.__all__)
    assert "__version__" in dir(fm)
    leaks = {"annotations", "version", "PackageNotFoundError", "importlib", "Any"}
    assert not leaks & set(dir(fm))
    assert not [n for n in dir(fm) if n.startswith("_") and not n.endswith("__")]
    fm.pipeline.zones_table  # noqa: B018 - importing submodules adds no private name
    assert not [n for n in dir(fm) if n.startswith("_") and not n.endswith("__")]
    expected = {"analyze", "Analysis", "read_streets", "walk_times", "suggest_sites", "batch"}
    assert expected <= set(fm.__all__)
    for name in fm.__all__:  # every listed name resolves
        assert getattr(fm, name) is not None


def test_spaces_and_zones_modules_stay_importable():
    """Not listed (``result.spaces`` is a frame), but existing code keeps working."""
    assert "spaces" not in fm.__all__ and "zones" not in fm.__all__
    from fifteenmin import zones

    assert fm.spaces.spaces_from_file is fm.spaces_from_file
    assert zones.zones_from_frame is fm.zones_from_frame
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        fm.nothing  # noqa: B018


def test_import_is_light():
    code = (
        "import sys, fifteenmin\n"
        "heavy = [m for m in ('matplotlib', 'fifteenmin.cli', 'geopandas') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- reprs


@pytest.fixture(scope="module")
def rich(sample_city):
    """The sample city with capacity and sensitivity (the optional parts of a repr)."""
    return fm.analyze(
        sample_city.network,
        sample_city.spaces,
        sample_city.zones,
        population_column="population",
        seats_per_1000=20,
        speeds=[4.0],
        note="SYNTHETIC sample",
    )


def test_analysis_repr_is_short_and_says_the_headline(sample_analysis):
    text = repr(sample_analysis)
    lines = text.splitlines()
    assert len(text) < 1200 and len(lines) <= 12
    counts, within = sample_analysis.summary["counts"], sample_analysis.summary["within"]
    assert lines[0] == (
        f"<fifteenmin.Analysis: {counts['spaces']} spaces, {counts['zones']} zones "
        f"({counts['zones_counted']} counted, {counts['zones'] - counts['zones_counted']} "
        f"left out), {counts['underserved_zones']} underserved>"
    )
    total = sample_analysis.summary["residents_total"]
    for m in ("5", "10", "15"):
        entry = within[m]
        assert f"{entry['residents']:,.0f} of {total:,.0f} ({entry['share']:.1%})" in text
    assert "4.8 km/h" in text and "below 50% of the residents within 15 min" in text
    assert f"CRS {sample_analysis.zones.crs.to_string()}" in text
    assert "optional parts: capacity (2SFCA/E2SFCA)\n" in text  # the sample has seats
    assert '.write("out/folder")' in text
    assert str(sample_analysis) == text  # print(result) too


def test_analysis_repr_names_the_optional_parts(rich):
    text = repr(rich)
    assert "note: SYNTHETIC sample" in text.splitlines()[1]
    assert "capacity (2SFCA/E2SFCA, target 20 desks per 1,000)" in text
    assert "sensitivity (2 cases)" in text and "categories" not in text


def test_analysis_repr_without_residents(sample_city):
    result = fm.analyze(sample_city.network, sample_city.spaces, sample_city.zones)
    text = repr(result)
    assert "area within 15 min: " in text and "residents within" not in text
    assert "below 50% of the area" in text and "optional parts: none" in text


def test_analysis_repr_of_a_bare_analysis(sample_analysis):
    bare = dataclasses.replace(sample_analysis, summary={})
    assert repr(bare) == f"<fifteenmin.Analysis: {len(bare.zones)} zones>"
    assert "<table>" not in bare._repr_html_()


def test_analysis_html_repr_is_a_small_escaped_table(sample_analysis):
    note = dataclasses.replace(sample_analysis, note="<b>Rome & co</b>")
    html = note._repr_html_()
    assert html.count("<table>") == 1 and html.count("<tr>") == len(repr(note).splitlines()) - 1
    assert "&lt;b&gt;Rome &amp; co&lt;/b&gt;" in html and "<b>Rome" not in html
    assert len(html) < 4000


def test_scenario_reprs_are_short(rich):
    figures = rich.scenarios.figures(remove=[str(rich.spaces["space_id"].iloc[0])])
    text = repr(figures)
    assert text.startswith("<fifteenmin.scenarios.Figures: 13 spaces (0 added, 1 removed), 12")
    assert "\n" not in text and len(text) < 300
    comparison = fm.scenarios.compare(rich, figures)
    text = repr(comparison)
    assert text.startswith("<fifteenmin.scenarios.Comparison: 0 spaces added, 1 removed;")
    assert len(text.splitlines()) == 4 and "residents within 15 min: " in text
    text = repr(rich.sensitivity)
    assert text.startswith("<fifteenmin.scenarios.Sensitivity: 2 cases (population at 4 km/h")
    assert len(text) < 300


def test_category_figures_repr_is_short(sample_analysis):
    from fifteenmin.services import category_figures, category_times

    spaces = sample_analysis.walk.spaces
    times = category_times(
        sample_analysis.walk.streets, {"health": spaces.iloc[:3], "work": spaces}
    )
    figures = category_figures(times, sample_analysis.zones, minutes=15)
    text = repr(figures)
    lines = text.splitlines()
    assert lines[0] == (
        "<fifteenmin.services.CategoryFigures: 2 categories within 15 min, 12 zones; "
        "missing piece: work>"
    )
    assert len(lines) == 4 and len(text) < 400  # health, work, all
    assert lines[1].split()[:3] == ["health", "3", "services,"]


# ---------------------------------------------------------------- one CRS


def test_every_layer_in_the_networks_crs(sample_analysis):
    crs = sample_analysis.walk.streets.crs
    assert crs.is_projected
    layers = {
        "zones": sample_analysis.zones,
        "spaces": sample_analysis.spaces,
        "isochrones": sample_analysis.isochrones,
        "coverage": sample_analysis.coverage,
        "fragments": sample_analysis.fragments,
        "walk_times": sample_analysis.walk.node_times(),
    }
    for name, layer in layers.items():
        assert layer.crs == crs, name
    assert sample_analysis.parameters["crs"] == crs.to_string()
    # the same places as given (the spaces as read stay in walk.spaces, WGS84)
    back = sample_analysis.spaces.to_crs(4326).get_coordinates()
    given = sample_analysis.walk.spaces.get_coordinates()
    assert (back - given).abs().max().max() < 1e-9
    assert sample_analysis.walk.spaces.crs.to_epsg() == 4326


def test_written_spaces_keep_crs_and_coordinates(sample_analysis, sample_city, tmp_path):
    out = sample_analysis.write(tmp_path / "report")
    gpkg = gpd.read_file(out / "spaces.gpkg", layer="spaces")
    zones = gpd.read_file(out / "zones.gpkg", layer="zones")
    assert gpkg.crs == zones.crs == sample_analysis.zones.crs
    table = pd.read_csv(out / "spaces.csv")
    given = pd.read_csv(sample_city.spaces)
    # lat/lon as written in the input file, not through the network's CRS and back
    assert table["lat"].tolist() == given["lat"].tolist()
    assert table["lon"].tolist() == given["lon"].tolist()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["crs"] == str(zones.crs.to_string())


# ---------------------------------------------------------------- notebooks


def _code(path: Path) -> str:
    book = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in book.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebooks_use_public_names_only(name):
    code = _code(REPO / "notebooks" / name)
    assert "fifteenmin.cli" not in code and "fifteenmin._" not in code
    for first, second in re.findall(r"\bfm\.(\w+)(?:\.(\w+))?", code):
        assert first in fm.__all__ or first == "__version__", f"{name}: fm.{first}"
        assert not second.startswith("_"), f"{name}: fm.{first}.{second}"


# ---------------------------------------------------------------- --help


COMMANDS = [[], ["analyze"], ["suggest"], ["compare"], ["batch"], ["demo"], ["registry"]]
COMMANDS += [["registry", "validate"], ["registry", "merge"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fifteenmin")
def test_help_ends_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    examples = text[text.index("\nexamples:\n") :]
    assert f"fifteenmin {' '.join(command)}".strip() in examples
    assert "\\\n      --" in examples or len(examples.splitlines()) >= 3  # kept as written


def test_help_examples_parse():
    """Every whole example (no ``...``) is a valid command line."""
    parser = cli.build_parser()
    checked = 0
    for text in cli._EXAMPLES.values():
        for command in re.split(r"\n(?=  fifteenmin )", text.replace("\\\n", " ")):
            line = command.strip().splitlines()[0].split("#")[0]
            if not line.startswith("fifteenmin ") or "..." in line or "--help" in line:
                continue
            parser.parse_args(shlex.split(line)[1:])
            checked += 1
    assert checked >= 12


def test_descriptions_still_wrap(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = capsys.readouterr().out
    assert max(len(line) for line in text.split("examples:")[0].splitlines()) <= 100


# ---------------------------------------------------------------- README


def test_readme_install_works_on_any_supported_python():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first is not None
    commands = first.group(1).splitlines()
    assert commands[0].startswith("python3 -m venv .venv && . .venv/bin/activate && pip install .")
    assert commands[1].startswith("python3 -m venv .venv") and "python -m pytest" in commands[1]
    assert "python3.11 -m venv .venv &&" not in readme  # 3.12 alone is enough
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    requires = pyproject["project"]["requires-python"]
    assert requires == ">=3.11" and "Python ≥ 3.11" in readme
    assert "apt-get install chromium chromium-driver" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "chromium chromium-driver" in ci


def test_readme_has_a_section_for_planners_in_italian():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Per chi pianifica", 1)[1].split("\n## ", 1)[0]
    section = " ".join(section.split())  # words across line breaks
    for words in ("residenti", "zone urbanistiche", "municipi", "percorribile a piedi"):
        assert words in section
    for name in ("report.html", "zones.csv", "status", "underserved", "fifteenmin analyze"):
        assert name in section
