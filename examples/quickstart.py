"""What `make demo` runs: a three-step pipeline on the active stack (`default` on a new machine).

It loads a small data set, fits a line to it, evaluates the fit, then shows where each
artifact landed and the lineage of the model. Run it again: every run adds new versions.
"""

from __future__ import annotations

from typing import Annotated

from holdall import Client, pipeline, step
from holdall.artifacts.lineage import lineage, render_tree


@step
def load_data() -> Annotated[dict[str, list[float]], "dataset"]:
    xs = [float(x) for x in range(20)]
    return {"x": xs, "y": [2.0 * x + 1.0 + (0.5 if x % 2 else -0.5) for x in xs]}


@step
def train(dataset: dict[str, list[float]]) -> Annotated[dict[str, float], "model"]:
    xs, ys = dataset["x"], dataset["y"]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return {"slope": slope, "intercept": mean_y - slope * mean_x}


@step
def evaluate(
    dataset: dict[str, list[float]], model: dict[str, float]
) -> Annotated[dict[str, float], "metrics"]:
    errors = [
        (model["slope"] * x + model["intercept"] - y) ** 2
        for x, y in zip(dataset["x"], dataset["y"], strict=True)
    ]
    return {"mse": sum(errors) / len(errors)}


@pipeline
def training_pipeline() -> None:
    dataset = load_data()
    model = train(dataset)
    evaluate(dataset, model)


def main() -> None:
    run = training_pipeline()
    client = Client()
    print(f"run {run.name} on stack '{client.active_stack_model.name}': {run.status}")
    for name, step_run in run.steps.items():
        for output, artifact in step_run.outputs.items():
            print(f"  {name:10} -> {output} v{artifact.version} at {artifact.uri}")
    model = client.get_artifact_version("model")
    metrics = client.get_artifact_version("metrics").load()
    print(f"model v{model.version}: {model.load()}  (mse {metrics['mse']:.3f})")
    print("lineage of the model:")
    print(render_tree(lineage(model)))


if __name__ == "__main__":
    main()
