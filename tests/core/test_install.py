"""`pip install .` into a fresh virtual environment: a working command, the catalogue inside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fixtures.venvs import FreshVenv, tracked_copy


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

    # The dashboard's pages ship in the wheel; its libraries come only with its extra.
    shipped = (
        "import importlib.resources as r; d = r.files('holdall.dashboard'); "
        "print((d / 'templates' / 'version.html').is_file(), (d / 'static' / 'holdall.css')"
        ".is_file())"
    )
    assert environment.run("python", "-c", shipped).stdout.split() == ["True", "True"]
    without = environment.run("holdall", "dashboard", check=False)
    assert without.returncode == 1
    assert "fix: pip install 'holdall[dashboard]'" in without.stderr
