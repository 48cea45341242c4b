"""`pip install .` into a fresh virtual environment: a working command, the catalogue inside."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fixtures.venvs import FreshVenv


def tracked_copy(destination: Path) -> Path:
    """The checkout as git has it, so the build sees what a fresh clone holds."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in files:
        source = REPO / name
        if not source.exists() and not source.is_symlink():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    return destination


@pytest.mark.slow
def test_pip_install_from_the_root_gives_a_working_command(tmp_path: Path) -> None:
    source = tracked_copy(tmp_path / "checkout")
    environment = FreshVenv.create(tmp_path)
    environment.pip_install(str(source))
    shutil.rmtree(source)  # from here on, only what was installed can answer

    listed = json.loads(environment.run("holdall", "integration", "list", "-o", "json").stdout)
    assert [i["name"] for i in listed if i["installed"]] == ["local"]

    probe = (
        "import importlib.resources, json, holdall; "
        "f = importlib.resources.files('holdall') / 'flavors.yaml'; "
        "print(json.dumps([holdall.__file__, str(f), f.read_text()]))"
    )
    module, catalogue_path, catalogue = json.loads(environment.run("python", "-c", probe).stdout)
    assert module.startswith(str(environment.root))
    assert not Path(catalogue_path).is_symlink()
    assert catalogue == (REPO / "flavors.yaml").read_text()

    environment.run("holdall", "artifact-store", "register", "s", "--flavor=local")
