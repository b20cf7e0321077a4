"""Pipelines as typed Python steps: the DAG, content-addressed step caching and executors.

```python
from mlgrove.pipelines import Pipeline, dataset, step

@step(datasets={"rows": dataset("reviews", split="train")})
def features(rows: pa.Table) -> pa.Table: ...

@step
def train(features: pa.Table, epochs: int = 3) -> ModelOutput: ...

pipeline = Pipeline("sentiment", [features, train])
```
"""

from __future__ import annotations

from mlgrove.pipelines.graph import (
    Pipeline,
    Promotion,
    RetrainRule,
    load,
    on_dataset,
    on_schedule,
)
from mlgrove.pipelines.outputs import DatasetOutput, Metrics, ModelOutput
from mlgrove.pipelines.step import DatasetInput, Step, dataset, step

__all__ = [
    "DatasetInput",
    "DatasetOutput",
    "Metrics",
    "ModelOutput",
    "Pipeline",
    "Promotion",
    "RetrainRule",
    "Step",
    "dataset",
    "load",
    "on_dataset",
    "on_schedule",
    "step",
]
