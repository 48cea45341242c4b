"""The seed's own way to add a store: a distribution whose store subclasses BaseArtifactStore
and implements the file API over a client of its own (examples/sqlite_store: sqlite3, no
fsspec). Installed for real, found through its entry point, run through the conformance
suite every flavor runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sqlite_store"
NO_FSSPEC = """
import sys
sys.modules["fsspec"] = None  # any import of it now fails
from holdall import Client
client = Client()
client.register_artifact_store("blobs", "sqlite", path=sys.argv[1])
client.register_stack("blobs", "blobs")
client.activate_stack("blobs")
client.save_artifact({"weights": [1, 2, 3]}, "model")
print(client.load_artifact("model"), "fsspec never imported")
"""


@pytest.mark.slow
def test_a_store_without_fsspec_installs_and_passes_the_conformance_suite(tmp_path: Path) -> None:
    site, source = tmp_path / "site", tmp_path / "sqlite_store"
    shutil.copytree(EXAMPLE, source)  # the build writes beside the sources
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run(
        [*install, "--target", str(site), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = subprocess.run(
        [sys.executable, "-m", "holdall", "artifact-store", "flavor", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert re.search(r"sqlite\s+sqlite\s+yes\s+sqlite://", listed.stdout), listed.stdout
    conformance = str(ROOT / "tests" / "conformance")
    suite = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "sqlite",
            conformance,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=900,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
    passed = int(re.search(r"(\d+) passed", suite.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 30 and "failed" not in suite.stdout
    # The example's own tests, run where it lives (outside this tree), through the suite the
    # core ships: one class is all an out-of-tree store needs.
    own = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        env=env,
        cwd=source,
        timeout=900,
    )
    assert own.returncode == 0, own.stdout[-3000:]
    assert re.search(r"^24 passed", own.stdout, re.M), own.stdout[-500:]
    # With fsspec made unimportable, artifacts still save and load through it: the core asks
    # nothing of a store beyond the file API.
    without_fsspec = subprocess.run(
        [sys.executable, "-c", NO_FSSPEC, f"sqlite://{tmp_path}/blobs.db"],
        capture_output=True,
        text=True,
        env={**env, "HOLDALL_CONFIG_DIR": str(tmp_path / "config")},
        timeout=120,
    )
    assert without_fsspec.returncode == 0, without_fsspec.stderr
    assert without_fsspec.stdout.strip() == "{'weights': [1, 2, 3]} fsspec never imported"
