"""The demo's training pipeline: scikit-learn's digits, featurised, fitted and evaluated.

Three cached steps (features -> fit -> evaluate). The training rows come from the latest
version of ``digits`` (split ``train``), so corrections committed by reviewers make the
retrain rule fire; the test set is pinned to ``v1`` so every model version is scored on
the *same* rows and the promotion policy can compare them.

Workers import this module by name (``mlgrove.services.demo_pipeline:digits``), which is
why the steps live in the package rather than in the demo's code.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mlgrove.pipelines import ModelOutput, Pipeline, Promotion, dataset, on_dataset, step

__all__ = ["MODEL", "PIXELS", "Features", "digits", "pixel_matrix", "predict_proba"]

MODEL = "digits-classifier"
PIXELS = [f"px{i:02d}" for i in range(64)]
TEST_SET = dataset("digits", split="test", version="v1")


@dataclass(frozen=True)
class Features:
    """Pixels scaled to [0, 1] and the labels, ready for a classifier."""

    x: np.ndarray
    y: np.ndarray


def pixel_matrix(rows: pa.Table) -> np.ndarray:
    """The 64 pixel columns as a float matrix scaled to [0, 1] (digits' pixels are 0-16)."""
    return np.column_stack([rows.column(c).to_numpy() for c in PIXELS]).astype(float) / 16.0


def predict_proba(model_bytes: bytes, rows: pa.Table) -> np.ndarray:
    """Class probabilities of a pickled demo model for ``rows`` (columns in label order)."""
    model = pickle.loads(model_bytes)  # bytes the demo itself made (trusted)
    proba: np.ndarray = model.predict_proba(pixel_matrix(rows))
    return proba


@step(datasets={"rows": dataset("digits", split="train")}, env=("scikit-learn", "numpy"))
def features(rows: pa.Table) -> Features:
    labels = np.array([int(v) for v in rows.column("label").to_pylist()])
    return Features(x=pixel_matrix(rows), y=labels)


@step(env=("scikit-learn", "numpy"))
def fit(features: Features, c: float = 2.0) -> bytes:
    from sklearn.linear_model import LogisticRegression

    # A linear model fits the 8x8 digits well in a second; the regularisation strength is
    # a param, so changing it makes only this step (and evaluate) stale.
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(features.x, features.y)
    return pickle.dumps(model)


@step(datasets={"test": TEST_SET}, env=("scikit-learn", "numpy"))
def evaluate(fit: bytes, test: pa.Table) -> ModelOutput:
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.array([int(v) for v in test.column("label").to_pylist()])
    model = pickle.loads(fit)  # bytes the fit step made (trusted)
    y_pred = model.predict(pixel_matrix(test))
    return ModelOutput(
        name=MODEL,
        data=fit,
        metrics={
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
        },
        test_set=TEST_SET,
        filename="model.pkl",
    )


digits = Pipeline(
    "digits",
    [features, fit, evaluate],
    retrain=[on_dataset("digits", min_changed_pct=0.25)],  # about 5 of 1,797 rows
    promotion=Promotion("accuracy", margin=0.0),
    description="Train a digit classifier on the reviewed digits and score it on the frozen v1 test split.",
)
