"""Steps and pipelines: outputs become versioned artifacts, inputs come back from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest

from holdall import Client, pipeline, step
from holdall.pipelines.graph import PipelineDefinitionError
from holdall.pipelines.runner import StepFailedError


@step
def load_data() -> dict:
    return {"x": [1, 2, 3], "y": [2, 4, 6]}


@step
def training_step(data: dict) -> Annotated[dict, "my_model"]:
    return {"slope": data["y"][0] / data["x"][0]}


@pipeline
def my_pipeline():
    training_step(load_data())


def test_the_example_from_the_readme(config_dir: Path) -> None:
    run = my_pipeline()
    client = Client()
    artifact = client.get_artifact_version("my_model", version="1")
    assert artifact.load() == {"slope": 2.0}
    assert artifact.version == 1
    assert artifact.producer_step is not None and artifact.producer_step.name == "training_step"
    assert artifact.run is not None and artifact.run.name == run.name
    assert artifact.producer_step.run.name == run.name
    found = client.get_pipeline_run("my_pipeline", run.name)
    assert found.status == "completed" and found.end is not None
    # ZenML's one argument: the run's name, or its id.
    assert client.get_pipeline_run(run.name).id == found.id
    assert client.get_pipeline_run(found.id).name == run.name
    step_run = found.steps["training_step"]
    assert step_run.outputs["my_model"].id == artifact.id
    assert step_run.inputs["data"].name == "output"
    assert step_run.inputs["data"].load() == {"x": [1, 2, 3], "y": [2, 4, 6]}
    store = client.active_stack.artifact_store
    assert artifact.uri == f"{store.path}/my_pipeline/training_step/my_model/1"
    assert store.exists(f"{artifact.uri}/value.json")


def test_versions_count_up_per_artifact_name() -> None:
    my_pipeline()
    my_pipeline()
    client = Client()
    assert [v.version for v in client.list_artifact_versions("my_model")] == [1, 2]
    assert client.get_artifact_version("my_model").version == 2
    assert client.get_artifact_version("my_model", version=1).version == 1


@step
def split() -> tuple[Annotated[list, "train_set"], Annotated[list, "test_set"]]:
    return [1, 2, 3], [4]


@step
def pair() -> tuple[int, str]:
    return 7, "seven"


@step
def receive(train_set: list, test_set: list, number: int, word: str, scale: float = 1.0) -> None:
    assert isinstance(train_set, list) and test_set == [4]
    assert (number, word, scale) == (7, "seven", 0.5)


@pipeline
def several_outputs():
    train_set, test_set = split()
    number, word = pair()
    receive(train_set, test_set, number, word=word, scale=0.5)


def test_tuple_annotations_give_several_outputs() -> None:
    run = several_outputs()
    steps = run.steps
    assert set(steps["split"].outputs) == {"train_set", "test_set"}
    assert set(steps["pair"].outputs) == {"output_0", "output_1"}
    assert steps["receive"].outputs == {}
    assert set(steps["receive"].inputs) == {"train_set", "test_set", "number", "word"}
    assert steps["receive"].parameters == {"scale": 0.5}
    assert Client().load_artifact("test_set") == [4]


MADE: dict[str, dict[str, int]] = {}


@step
def make_tuple() -> Annotated[tuple, "shape"]:
    return (3, (4, 5))


@step
def make_tagged() -> Annotated[dict, "tagged"]:
    MADE["tagged"] = {"a": 1}
    return MADE["tagged"]


@step
def inspect_inputs(shape: tuple, tagged: dict) -> Annotated[list, "seen"]:
    fresh = tagged is not MADE["tagged"] and tagged == MADE["tagged"]
    return [type(shape).__name__, type(shape[1]).__name__, type(tagged).__name__, fresh]


@pipeline
def round_trip():
    inspect_inputs(make_tuple(), make_tagged())


def test_inputs_are_what_was_stored_not_the_object_in_memory() -> None:
    round_trip()
    # Downstream gets the value loaded back from the store, not the object in memory.
    assert Client().load_artifact("seen") == ["tuple", "tuple", "dict", True]


@step
def increment(value: int) -> Annotated[int, "counter"]:
    return value + 1


@pipeline
def chain():
    increment(increment(increment(0)))


def test_the_same_step_twice_gets_distinct_names() -> None:
    run = chain()
    assert list(run.steps) == ["increment", "increment_2", "increment_3"]
    versions = Client().list_artifact_versions("counter")
    assert [v.load() for v in versions] == [1, 2, 3]
    assert versions[2].uri.endswith("/chain/increment_3/counter/3")


@step
def explode(data: dict) -> dict:
    raise ValueError("the data is bad")


@pipeline
def failing():
    explode(load_data())


def test_a_failing_step_fails_the_run_and_keeps_what_came_before() -> None:
    with pytest.raises(StepFailedError) as caught:
        failing()
    error = caught.value
    assert "step 'explode'" in error.message and "ValueError: the data is bad" in error.message
    assert error.run.status == "failed"
    steps = error.run.steps
    assert steps["load_data"].status == "completed"
    assert steps["load_data"].outputs["output"].load() == {"x": [1, 2, 3], "y": [2, 4, 6]}
    assert steps["explode"].status == "failed"
    assert "ValueError: the data is bad" in (steps["explode"].error or "")
    assert isinstance(error.__cause__, ValueError)


class Opaque:
    pass


@step
def opaque() -> Opaque:
    return Opaque()


@pipeline
def unsupported():
    opaque()


def test_a_type_no_materializer_takes() -> None:
    with pytest.raises(StepFailedError) as caught:
        unsupported()
    message = caught.value.message
    assert "no materializer takes a value of type tests.core.test_pipelines.Opaque" in message
    assert caught.value.run.status == "failed"
    with pytest.raises(Exception, match="no artifact called 'output'"):
        Client().get_artifact_version("output")


@step
def two_outputs() -> tuple[int, int]:
    return 1  # type: ignore[return-value]


@pipeline
def wrong_count():
    two_outputs()


def test_a_step_returning_the_wrong_number_of_outputs() -> None:
    with pytest.raises(StepFailedError, match=r"declares 2 outputs \(output_0, output_1\)"):
        wrong_count()


@pipeline
def wrong_arguments():
    training_step(load_data(), extra=1)


@pipeline
def missing_argument():
    training_step()


def test_calling_a_step_with_wrong_arguments_runs_nothing() -> None:
    with pytest.raises(PipelineDefinitionError, match="unexpected keyword argument 'extra'"):
        wrong_arguments()
    with pytest.raises(PipelineDefinitionError, match="missing a required argument: 'data'"):
        missing_argument()
    assert Client().list_pipeline_runs() == []


def test_a_step_outside_a_pipeline_is_a_plain_call() -> None:
    assert training_step({"x": [2], "y": [6]}) == {"slope": 3.0}
    assert Client().list_pipeline_runs() == []


def test_bad_step_names_are_refused() -> None:
    with pytest.raises(Exception, match="invalid step name"):
        step(name="a/b")(lambda: 1)
    with pytest.raises(Exception, match="invalid output name"):

        @step
        def bad() -> Annotated[int, "../escape"]:
            return 1
