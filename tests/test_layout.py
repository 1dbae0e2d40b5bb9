"""The package's two halves: the computation, and ``fifteenmin.outputs`` (what draws or
writes the report folder), which depends on the computation, never the reverse."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import fifteenmin as fm

SRC = Path(fm.__file__).parent
OUTPUTS = SRC / "outputs"

COMPUTE = sorted(
    p.stem for p in SRC.glob("*.py") if p.stem not in ("__init__", "cli")
)  # every module outside outputs/ but the command line
"""The computation's modules (``cli.py`` wires both halves, so it is left out)."""

DELEGATES = {
    ("pipeline.py", "Analysis.write"),
    ("scenarios.py", "Comparison.write"),
    ("batching.py", "_Run.finish"),  # the batch's comparison page
}
"""The only places outside outputs/ (and cli.py) that import ``fifteenmin.outputs``: the
documented convenience delegates, each inside its body. A new one fails the static check."""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )


def test_compute_modules_are_listed():
    assert {"pipeline", "scenarios", "batching", "planning", "capacity", "services"} <= set(COMPUTE)
    assert not {"plot", "report", "webmap", "_qgis", "_i18n", "_places"} & set(COMPUTE)
    assert (OUTPUTS / "static" / "leaflet" / "leaflet.js").is_file()


def test_computation_imports_neither_matplotlib_nor_outputs():
    code = f"""
    import importlib, sys
    import fifteenmin
    assert "matplotlib" not in sys.modules, "import fifteenmin"
    for name in {COMPUTE!r}:
        importlib.import_module("fifteenmin." + name)
    heavy = sorted(
        m for m in sys.modules
        if m.split(".")[0] in ("matplotlib", "matplotlib_scalebar", "weasyprint")
        or m.startswith("fifteenmin.outputs")
    )
    print(heavy)
    """
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_analysis_runs_without_matplotlib_and_write_says_so(tmp_path):
    code = f"""
    import sys
    sys.modules["matplotlib"] = None  # as if it were not installed
    sys.modules["matplotlib_scalebar"] = None
    import fifteenmin as fm
    from fifteenmin.errors import FifteenMinError

    city = fm.sample.write_sample_city({str(tmp_path / "city")!r})
    result = fm.analyze(city.network, city.spaces, city.zones, population_column="population")
    print("share", result.summary["within"]["15"]["share"])
    print("zones", len(result.zones), int(result.zones["underserved"].sum()))
    try:
        result.write({str(tmp_path / "out")!r})
    except FifteenMinError as exc:
        print("error", exc)
    else:
        print("written")
    """
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    share = float(lines[0].split()[1])
    assert 0 < share <= 1
    assert lines[1].startswith("zones ") and int(lines[1].split()[1]) > 0
    assert lines[2].startswith("error ") and "matplotlib" in lines[2]
    assert len(lines) == 3
    assert not (tmp_path / "out").exists()  # nothing half written
    assert not [p for p in tmp_path.iterdir() if p.name != "city"]  # no temporary folder


def _type_checking(node: ast.AST) -> bool:
    """An ``if TYPE_CHECKING:`` block: read by type checkers, never run."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(test, ast.Name) and "TYPE_CHECKING" in test.id


def _imports_of_outputs(tree: ast.AST) -> list[tuple[ast.AST, list[str]]]:
    """The import statements naming ``fifteenmin.outputs`` (absolute or relative), with
    the chain of enclosing classes and functions of each (``if TYPE_CHECKING:`` left out)."""
    found: list[tuple[ast.AST, list[str]]] = []

    def visit(node: ast.AST, chain: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking(child):
                continue
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, [*chain, child.name])
                continue
            if isinstance(child, ast.Import):
                if any(a.name.split(".")[:2] == ["fifteenmin", "outputs"] for a in child.names):
                    found.append((child, chain))
            elif isinstance(child, ast.ImportFrom):
                module = child.module or ""
                absolute = child.level == 0 and module.split(".")[:2] == ["fifteenmin", "outputs"]
                relative = child.level == 1 and (
                    module.split(".")[0] == "outputs"
                    or (not module and any(a.name == "outputs" for a in child.names))
                )
                if absolute or relative:
                    found.append((child, chain))
            visit(child, chain)

    visit(tree, [])
    return found


def test_only_the_documented_delegates_import_outputs():
    seen = set()
    for path in sorted(SRC.glob("*.py")):
        if path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, chain in _imports_of_outputs(tree):
            where = (path.name, ".".join(chain))
            assert chain, f"{path.name}:{node.lineno} imports fifteenmin.outputs at module level"
            assert where in DELEGATES, (
                f"{path.name}:{node.lineno}: {'.'.join(chain)} imports fifteenmin.outputs; "
                "only the documented delegates may (DELEGATES in tests/test_layout.py)"
            )
            seen.add(where)
    assert seen == DELEGATES  # each delegate is still there


def test_outputs_modules_are_imported_by_no_compute_module_at_top_level():
    names = {p.stem for p in OUTPUTS.glob("*.py")} | {"outputs", "static"}
    for path in sorted(SRC.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:  # module level (``if TYPE_CHECKING:`` never runs)
            if _type_checking(node):
                continue
            stmts = [node, *ast.walk(node)] if isinstance(node, ast.If | ast.Try) else [node]
            for stmt in stmts:
                if isinstance(stmt, ast.ImportFrom) and stmt.level == 1:
                    module = (stmt.module or "").split(".")[0]
                    imported = [module] if module else [a.name for a in stmt.names]
                    assert not set(imported) & names, f"{path.name}:{stmt.lineno}"
                elif isinstance(stmt, ast.ImportFrom | ast.Import):
                    module = getattr(stmt, "module", None) or ""
                    full = [module] if module else [a.name for a in stmt.names]
                    assert not any(m.startswith("fifteenmin.outputs") for m in full), (
                        f"{path.name}:{stmt.lineno}"
                    )


def test_outputs_is_public_and_draws():
    assert "outputs" in fm.__all__
    assert fm.outputs.coverage_map is fm.outputs.maps.coverage_map
    assert "plot" not in fm.__all__
    assert not (SRC / "plot.py").exists() and not (SRC / "static").exists()
