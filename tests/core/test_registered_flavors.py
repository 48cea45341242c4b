"""A flavor registered from code on the path (`holdall artifact-store flavor register
module.Class`), as README.md's "A store of your own" writes it: run here as written there."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, Result, holdall_process

SAVE_AND_LOAD = """
from holdall import Client, load_artifact, save_artifact
save_artifact({"weights": [1, 2, 3]}, "model")
print(load_artifact("model"))
"""


def _readme_example() -> tuple[str, list[str]]:
    """The section's Python module, and its commands."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## A store of your own", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    module = next(body for kind, body in blocks if kind == "python")
    commands = next(body for kind, body in blocks if kind == "")
    lines = [line.split("  #")[0].strip() for line in commands.splitlines() if line.strip()]
    return module, [part.strip() for line in lines for part in line.split("&&")]


def _run(command: str, env: dict[str, str], cwd: Path) -> Result:
    words = shlex.split(command)
    assert words[0] == "holdall", command
    return holdall_process(*words[1:], env=env, cwd=cwd)


def test_the_readme_example_registers_a_flavor_and_stores_artifacts_through_it(
    tmp_path: Path,
) -> None:
    module, commands = _readme_example()
    code = tmp_path / "code"
    code.mkdir()
    (code / "my_flavors.py").write_text(module)
    elsewhere = tmp_path / "elsewhere"  # not where the module is: PYTHONPATH finds it
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(code)}
    data = tmp_path / "data"
    for command in commands:
        result = _run(command.replace("/data/artifacts", f"{data}/artifacts"), env, elsewhere)
        assert result.code == 0, (command, result.err)
    listed = _run("holdall artifact-store flavor list", env, elsewhere).out
    assert re.search(r"mystore\s+mystore\s+yes\s+mystore://", listed), listed
    as_json = _run("holdall artifact-store flavor list -o json", env, elsewhere).out
    assert {
        "name": "mystore",
        "integration": "mystore",
        "installed": True,
        "schemes": ["mystore://"],
        "registered from": "my_flavors.MyFlavor",
        "error": None,
    } in json.loads(as_json)
    run = subprocess.run(
        [sys.executable, "-c", SAVE_AND_LOAD],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**os.environ, **env},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "{'weights': [1, 2, 3]}"
    # Under the folder custom_param names, in the one the store's path names
    assert list((data / "artifacts" / "team-a").rglob("*.json")), list(data.rglob("*"))


def test_bad_flavor_sources_are_refused_in_one_line(tmp_path: Path) -> None:
    module, _ = _readme_example()
    code = tmp_path / "code"
    code.mkdir()
    (code / "my_flavors.py").write_text(module)
    (code / "half_done.py").write_text(
        module.replace(
            "class MyArtifactStore(FilesystemArtifactStore):",
            "class MyArtifactStore(BaseArtifactStore):",
        )
        .replace("FilesystemArtifactStore,", "FilesystemArtifactStore,\n    BaseArtifactStore,")
        .replace("my_flavors:MyArtifactStore", "half_done:MyArtifactStore")
    )
    env = {"PYTHONPATH": str(code)}

    def refused(source: str) -> str:
        result = holdall_process("artifact-store", "flavor", "register", source, env=env)
        assert result.code == 1 and "Traceback" not in result.err, result
        assert len(result.err.strip().splitlines()) <= 2, result.err
        return result.err

    assert "cannot import no_such_module" in refused("no_such_module.Flavor")
    assert "PYTHONPATH" in refused("no_such_module.Flavor")
    assert "has no attribute" in refused("my_flavors.NoSuchClass") or "cannot import" in refused(
        "my_flavors.NoSuchClass"
    )
    assert "is not a flavor: it is not an ArtifactStoreFlavor subclass" in refused(
        "my_flavors.MyStoreConfig"
    )
    assert "not a class's full name" in refused("MyFlavor")
    assert "does not implement" in refused("half_done.MyFlavor")
    assert "a flavor called 'local' already exists" in refused("holdall.local.flavor.LocalFlavor")
    assert (
        holdall_process("artifact-store", "flavor", "register", "my_flavors.MyFlavor", env=env).code
        == 0
    )
    assert "a flavor called 'mystore' already exists" in refused("my_flavors.MyFlavor")


def test_a_registered_flavor_in_use_stays_and_one_that_no_longer_imports_is_named(
    tmp_path: Path,
) -> None:
    module, _ = _readme_example()
    code = tmp_path / "code"
    code.mkdir()
    (code / "my_flavors.py").write_text(module)
    env = {"PYTHONPATH": str(code)}
    assert (
        holdall_process("artifact-store", "flavor", "register", "my_flavors.MyFlavor", env=env).code
        == 0
    )
    made = holdall_process(
        "artifact-store", "register", "mine", "--flavor=mystore", "--path=mystore://team-a",
        f"--custom_param={tmp_path}", env=env,
    )  # fmt: skip
    assert made.code == 0, made.err
    in_use = holdall_process("artifact-store", "flavor", "delete", "mystore", env=env)
    assert in_use.code == 1 and "used by artifact store(s): mine" in in_use.err
    # Where the module cannot be imported: said, with the fix, and the rest keeps working.
    lost = holdall_process("artifact-store", "describe", "mine", env={"PYTHONPATH": ""})
    listed = holdall_process("artifact-store", "flavor", "list", env={"PYTHONPATH": ""})
    assert listed.code == 0 and "local" in listed.out
    described = holdall_process(
        "artifact-store", "flavor", "describe", "mystore", env={"PYTHONPATH": ""}
    )
    assert described.code == 1 and "cannot import my_flavors" in described.err, described.err
    assert "make my_flavors.MyFlavor importable here" in described.err
    assert "Traceback" not in lost.err + listed.err + described.err
    assert holdall_process("artifact-store", "delete", "mine", env=env).code == 0
    assert holdall_process("artifact-store", "flavor", "delete", "mystore", env=env).code == 0
    gone = holdall_process("artifact-store", "flavor", "list", env=env)
    assert "mystore" not in gone.out
