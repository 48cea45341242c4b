"""Steps and pipelines: functions whose inputs and outputs become versioned artifacts."""

from holdall.pipelines.pipelines import pipeline
from holdall.pipelines.steps import step

__all__ = ["pipeline", "step"]
