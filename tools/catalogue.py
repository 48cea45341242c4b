"""Write flavors.yaml, the catalogue, from the integrations themselves (`make catalogue`).

Each fact the catalogue holds has one home, and this reads it there: a distribution's name,
summary and requirements from its project file; its version from its package; flavor names,
schemes, auth methods and resource types from its classes (which import no SDK, so this runs
without any cloud's). `--check` exits 1 when the committed catalogue is stale, and the test
suite runs it.

Run from the repository root, in the environment `make test` builds (every integration
installed editable): `python tools/catalogue.py [--check]`.
"""

from __future__ import annotations

import argparse
import configparser
import sys
from pathlib import Path
from typing import Any

import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from holdall.integration import Integration, import_object

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "flavors.yaml"
HEADER = """\
# The catalogue of every integration holdall knows, installed or not: what the core must know
# before an integration is installed. Written by `make catalogue` (tools/catalogue.py) from the
# integrations' own project files and classes; a test fails when it is stale. Do not edit.
"""
# The local integration ships inside the core, whose project describes the whole of holdall.
LOCAL_SUMMARY = "Local filesystem folders (ships with the core)"


def release_series(version: str) -> str:
    """The versions that work together with `version`: its minor series while the major is 0
    (0.2.x with 0.2.y), its major series from 1.0 on."""
    release = Version(version).release
    major, minor = release[0], release[1] if len(release) > 1 else 0
    if major == 0:
        return f">=0.{minor},<0.{minor + 1}"
    return f">={major}.0,<{major + 1}"


def _project(folder: Path) -> dict[str, Any]:
    """name, description, dependencies and the holdall.integrations entry points."""
    pyproject = folder / "pyproject.toml"
    if (folder / "setup.cfg").is_file() and "[project]" not in pyproject.read_text():
        parser = configparser.ConfigParser()
        parser.read(folder / "setup.cfg")
        lines = _lines(parser["options.entry_points"]["holdall.integrations"])
        return {
            "name": parser["metadata"]["name"],
            "dependencies": _lines(parser["options"].get("install_requires", "")),
            "entry-points": dict(_pair(line) for line in lines),
        }
    project = tomllib.loads(pyproject.read_text())["project"]
    return {
        "name": project["name"],
        "description": project["description"],
        "dependencies": list(project.get("dependencies", [])),
        "entry-points": dict(project.get("entry-points", {}).get("holdall.integrations", {})),
    }


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def _pair(line: str) -> tuple[str, str]:
    name, _, target = line.partition("=")
    return name.strip(), target.strip()


def _flavors(declaration: Integration) -> list[dict[str, Any]]:
    flavors = []
    for name, dotted in declaration.artifact_stores.items():
        flavor = import_object(dotted)
        schemes = sorted(flavor.schemes())
        flavors.append({"type": flavor.type, "name": name, "schemes": schemes})
    return flavors


def _connectors(declaration: Integration) -> list[dict[str, Any]]:
    connectors = []
    for name, dotted in declaration.service_connectors.items():
        connector = import_object(dotted)
        connectors.append(
            {
                "type": name,
                "auth_methods": list(connector.auth_methods),
                "resource_types": list(connector.resource_types),
            }
        )
    return connectors


def entry(folder: Path) -> tuple[str, dict[str, Any]]:
    project = _project(folder)
    (name, target), *others = project["entry-points"].items()
    if others:
        raise SystemExit(f"{folder}: one holdall.integrations entry point per distribution")
    declaration = import_object(target)
    package = sys.modules[target.split(":")[0].split(".")[0]]
    in_core = project["name"] == "holdall"
    requirements = [
        r for r in project["dependencies"] if Requirement(r).name != "holdall" and not in_core
    ]
    record: dict[str, Any] = {
        "distribution": project["name"],
        **({} if in_core else {"versions": release_series(package.__version__)}),
        "source": folder.relative_to(ROOT).as_posix() or ".",
        "summary": LOCAL_SUMMARY if in_core else project["description"],
        "requirements": requirements,
        "flavors": _flavors(declaration),
    }
    connectors = _connectors(declaration)
    if connectors:
        record["connectors"] = connectors
    return name, record


def catalogue_text() -> str:
    folders = [ROOT, *sorted(p.parent for p in (ROOT / "integrations").glob("*/pyproject.toml"))]
    entries = dict(entry(folder) for folder in folders)
    document = {"schema_version": 2, "integrations": entries}
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=100)
    return HEADER + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if flavors.yaml is stale")
    text = catalogue_text()
    if not parser.parse_args().check:
        CATALOGUE.write_text(text, encoding="utf-8")
        return
    if CATALOGUE.read_text(encoding="utf-8") != text:
        print("flavors.yaml is stale: run `make catalogue` and commit it", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
