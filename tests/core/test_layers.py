"""The core's layers point one way: no two of its packages (or top-level modules) import each
other at module level. Imports inside functions and under TYPE_CHECKING are not counted:
they are how a lower layer names a higher one without loading it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

CORE = REPO / "holdall"


def _unit(module: str) -> str:
    """holdall.artifacts.gc -> artifacts; holdall.client -> client."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _module(path: Path, root: Path) -> str:
    name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    return name.removesuffix(".__init__")


def module_level_imports(root: Path = CORE) -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the imports that make that edge."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue  # Alembic's scripts run alone, and import no layer above them
        module = _module(path, root)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue  # an `if TYPE_CHECKING:` block among them
            for target in targets:
                if not target.startswith("holdall.") or _unit(target) == _unit(module):
                    continue
                edges.setdefault((_unit(module), _unit(target)), []).append(
                    f"{module} imports {target}"
                )
    return edges


def both_ways(edges: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    return [(edges[(a, b)][0], edges[(b, a)][0]) for a, b in edges if a < b and (b, a) in edges]


def test_no_two_core_packages_import_each_other() -> None:
    edges = module_level_imports()
    assert ("artifacts", "metadata") in edges  # the scan reads the tree
    assert both_ways(edges) == []


def test_the_scan_finds_a_cycle_and_passes_over_imports_in_functions(tmp_path: Path) -> None:
    package = tmp_path / "holdall"
    (package / "low").mkdir(parents=True)
    (package / "low" / "__init__.py").write_text("from holdall.high import thing\n")
    (package / "high.py").write_text(
        "from typing import TYPE_CHECKING\nfrom holdall.low import other\n"
        "if TYPE_CHECKING:\n    from holdall.client import Client\n"
    )
    (package / "client.py").write_text("def f():\n    from holdall.high import thing\n")
    edges = module_level_imports(package)
    assert both_ways(edges) == [
        ("holdall.high imports holdall.low", "holdall.low imports holdall.high")
    ]
    assert ("high", "client") not in edges and ("client", "high") not in edges
