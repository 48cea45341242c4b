"""flavors.yaml: written from the integrations themselves, never stale, and refused when
broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml
from packaging.version import Version

from holdall import __version__
from holdall.catalogue import parse_catalogue, parse_yaml
from holdall.errors import CatalogueError
from tests.conftest import REPO

DOCUMENT = yaml.safe_load((REPO / "flavors.yaml").read_text())
GENERATOR = REPO / "tools" / "catalogue.py"


def _generator(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_the_committed_catalogue_is_what_the_integrations_say() -> None:
    checked = _generator("--check")
    assert checked.returncode == 0, checked.stderr


def test_a_stale_catalogue_is_caught(tmp_path: Path) -> None:
    """The check compares with what the classes and project files say now: a catalogue that
    lost an auth method (as a hand edit would) fails it."""
    tree = tmp_path / "tree"
    for relative in ("tools/catalogue.py", "flavors.yaml", "setup.cfg", "pyproject.toml"):
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        (tree / relative).write_text((REPO / relative).read_text())
    for project in REPO.glob("integrations/*/pyproject.toml"):
        target = tree / project.relative_to(REPO)
        target.parent.mkdir(parents=True)
        target.write_text(project.read_text())
    stale = (tree / "flavors.yaml").read_text().replace("sts-token, ", "")
    assert stale != (tree / "flavors.yaml").read_text()
    (tree / "flavors.yaml").write_text(stale)
    checked = subprocess.run(
        [sys.executable, str(tree / "tools" / "catalogue.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 1
    assert "flavors.yaml is stale: run `make catalogue`" in checked.stderr


def test_the_package_copy_is_the_root_file() -> None:
    assert (REPO / "holdall" / "flavors.yaml").resolve() == (REPO / "flavors.yaml").resolve()


def test_each_integration_works_with_the_core_of_its_own_release_series() -> None:
    """The catalogue's range for each integration, and each integration's own requirement on
    the core, are one rule (same minor series while 0.x): a release moves them together."""
    core = Version(__version__)
    assert core.major == 0, "from 1.0 on, a series is a major version"
    series = f">=0.{core.minor},<0.{core.minor + 1}"
    for name, entry in DOCUMENT["integrations"].items():
        if entry["distribution"] == "holdall":
            continue
        assert entry["versions"] == series, name
        project = tomllib.loads((REPO / entry["source"] / "pyproject.toml").read_text())
        assert f"holdall{series}" in project["project"]["dependencies"], name


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("integrations"), "has no 'integrations'"),
        (lambda d: d.update(schema_version=1), "schema_version must be 2"),
        (lambda d: d["integrations"]["local"].pop("distribution"), "has no 'distribution'"),
        (lambda d: d["integrations"]["local"].update(flavors="local"), "flavors must be a list"),
        (lambda d: d["integrations"]["s3"].update(versions=[">=0.2"]), "versions must be a str"),
        (
            lambda d: d["integrations"]["local"]["flavors"][0].update(type="orchestrator"),
            "type must be one of",
        ),
        (
            lambda d: d["integrations"]["local"]["flavors"][0].update(schemes=[1]),
            "must be a list of strings",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_by_the_loader(mutate: Any, message: str) -> None:
    document = yaml.safe_load(yaml.safe_dump(DOCUMENT))
    mutate(document)
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(document)


def test_a_key_given_twice_is_refused() -> None:
    text = (REPO / "flavors.yaml").read_text()
    doubled = text.replace("integrations:\n", "integrations:\n  s3:\n    distribution: x\n", 1)
    assert yaml.safe_load(doubled)["integrations"]["s3"]["distribution"] == "holdall-s3"
    with pytest.raises(CatalogueError, match=r"'s3' is given twice in one mapping \(line \d+\)"):
        parse_yaml(doubled)
    assert parse_catalogue(parse_yaml(text)).entries["s3"].distribution == "holdall-s3"


def test_every_integration_in_the_tree_is_catalogued() -> None:
    in_tree = {p.parent.name for p in Path(REPO / "integrations").glob("*/pyproject.toml")}
    assert in_tree == {e for e in DOCUMENT["integrations"] if e != "local"}
