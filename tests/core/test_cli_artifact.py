"""`holdall artifact ...` and `holdall pipeline ...` after a real pipeline run."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.core.test_cli_artifact_store import error_of
from tests.core.test_pipelines import my_pipeline

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def run_name() -> str:
    my_pipeline()
    return my_pipeline().name


def test_artifact_list_and_versions(cli, run_name: str) -> None:
    listed = json.loads(cli("artifact", "list", "-o", "json").out)
    assert listed == [
        {"name": "my_model", "latest_version": 2, "versions": 2},
        {"name": "output", "latest_version": 2, "versions": 2},
    ]
    versions = json.loads(cli("artifact", "versions", "my_model", "-o", "json").out)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["uri"].endswith("/my_pipeline/training_step/my_model/2")
    table = cli("artifact", "versions", "my_model").out
    assert table.splitlines()[0].split()[:3] == ["VERSION", "CREATED", "SIZE"]


def test_artifact_describe(cli, run_name: str) -> None:
    latest = json.loads(cli("artifact", "describe", "my_model", "-o", "json").out)
    assert latest["version"] == 2 and latest["pipeline_run"] == run_name
    assert latest["producer_step"] == "training_step"
    import blake3  # each file's checksum: what b3sum prints for the stored file

    for path, recorded in latest["files"].items():
        data = (Path(latest["uri"]) / path).read_bytes()
        assert recorded == {
            "size": len(data),
            "checksum": f"blake3:{blake3.blake3(data).hexdigest()}",
        }
    assert latest["files"] and latest["checksum"].startswith("blake3:")
    first = json.loads(cli("artifact", "describe", "my_model:1", "-o", "json").out)
    assert first["version"] == 1


def test_artifact_lineage_as_tree_mermaid_and_dot(cli, run_name: str) -> None:
    tree = cli("artifact", "lineage", "my_model").out.splitlines()
    assert tree == [
        f"my_model:2  <- training_step (run {run_name})",
        f"└── data: output:2  <- load_data (run {run_name})",
    ]
    mermaid = cli("artifact", "lineage", "my_model:2", "--format", "mermaid").out
    assert mermaid.startswith("graph LR")
    assert '["my_model:2"]' in mermaid and '(["training_step"])' in mermaid
    assert "-- data -->" in mermaid
    dot = cli("artifact", "lineage", "my_model", "--format", "dot").out
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert 'label="output:2", shape=box' in dot and '[label="data"]' in dot


def test_artifact_lineage_as_a_picture_both_ways(cli, run_name: str) -> None:
    # output:2 was made by load_data, and training_step made my_model:2 from it.
    drawn = cli("artifact", "lineage", "output:2", "--format", "svg").out
    svg = ElementTree.fromstring(drawn)  # well-formed
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"output:2", "load_data", "training_step", "my_model:2", "data"} <= set(texts)
    assert "output:1" not in texts and "my_model:1" not in texts  # run 1's, not linked
    assert not list(svg.iter(f"{SVG}a"))  # the file stands alone: no links to follow
    bold = [r for r in svg.iter(f"{SVG}rect") if r.get("stroke-width") == "2.5"]
    assert len(bold) == 1  # the version asked about


def test_pipeline_runs_and_describe(cli, run_name: str) -> None:
    runs = json.loads(cli("pipeline", "runs", "-o", "json").out)
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert runs[1]["name"] == run_name
    assert json.loads(cli("pipeline", "runs", "other", "-o", "json").out) == []
    described = json.loads(cli("pipeline", "run", "describe", run_name, "-o", "json").out)
    assert described["steps"]["training_step"] == {
        "status": "completed",
        "inputs": {"data": "output:2"},
        "outputs": {"my_model": "my_model:2"},
    }
    text = cli("pipeline", "run", "describe", run_name).out
    assert "in  data = output:2" in text and "out my_model = my_model:2" in text
    assert "no run called 'ghost'" in error_of(cli("pipeline", "run", "describe", "ghost"))
