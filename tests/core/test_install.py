"""`pip install .` into a fresh virtual environment: a working command, the catalogue inside."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO


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
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(source)], check=True, timeout=600
    )
    shutil.rmtree(source)  # from here on, only what was installed can answer

    env = {"HOLDALL_CONFIG_DIR": str(tmp_path / "config"), "PATH": f"{environment}/bin"}
    listed = subprocess.run(
        [environment / "bin" / "holdall", "integration", "list", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert [i["name"] for i in json.loads(listed.stdout) if i["installed"]] == ["local"]

    probe = (
        "import importlib.resources, json, holdall; "
        "f = importlib.resources.files('holdall') / 'flavors.yaml'; "
        "print(json.dumps([holdall.__file__, str(f), f.read_text()]))"
    )
    read = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    module, catalogue_path, catalogue = json.loads(read.stdout)
    assert module.startswith(str(environment))
    assert not Path(catalogue_path).is_symlink()
    assert catalogue == (REPO / "flavors.yaml").read_text()

    registered = subprocess.run(
        [environment / "bin" / "holdall", "artifact-store", "register", "s", "--flavor=local"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert registered.returncode == 0, registered.stderr
