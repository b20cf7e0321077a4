"""scikit-learn helper: log a fitted estimator as a model version in one call.

.. code-block:: python

    from mlgrove.client.sklearn import load_model, log_model

    with grove.runs.start("churn") as run:
        clf = LogisticRegression(C=0.5).fit(X, y)
        logged = log_model(grove, run, clf, register_as="churn-clf")
    clf_again = load_model(grove, "churn-clf/v1")

``log_model`` records the estimator's ``get_params()`` as run params, saves it with
joblib as an artifact (content-addressed: its BLAKE3 hash is its address, so the exact
bytes are known), and, with ``register_as``, registers that artifact as a new model
version. scikit-learn and joblib are imported only when called.

``load_model`` unpickles: load only models from a Grove you trust, as with any pickle.
"""

from __future__ import annotations

import numbers
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgrove.domain.tracking import ModelVersion, RunArtifact
from mlgrove.errors import InvalidInput

if TYPE_CHECKING:
    from mlgrove.client.base import Client
    from mlgrove.client.tracking import ActiveRun

__all__ = ["LoggedModel", "load_model", "log_model"]


@dataclass(frozen=True)
class LoggedModel:
    artifact: RunArtifact
    #: The model version made (None without ``register_as``).
    version: ModelVersion | None
    #: The params logged from ``get_params()``, as text.
    params: dict[str, str]


def estimator_params(estimator: Any) -> dict[str, str]:
    """``get_params(deep=True)`` as text: plain values only. A nested estimator's own
    params appear under ``<name>__<param>`` (as scikit-learn names them); the nested
    object itself is not a param."""
    out = {}
    for key, value in sorted(estimator.get_params(deep=True).items()):
        if value is None or isinstance(value, str | bool | numbers.Number):
            out[key] = str(value)
        elif isinstance(value, list | tuple) and all(
            v is None or isinstance(v, str | bool | numbers.Number) for v in value
        ):
            out[key] = str(list(value))
    return out


def _check_fitted(estimator: Any) -> None:
    try:
        from sklearn.base import BaseEstimator
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted
    except ImportError:
        raise InvalidInput(
            "the scikit-learn helper needs scikit-learn", hint="pip install scikit-learn"
        ) from None
    if not isinstance(estimator, BaseEstimator):
        raise InvalidInput(
            f"{type(estimator).__name__} is not a scikit-learn estimator",
            hint="log other models with run.log_artifact(path)",
        )
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise InvalidInput(
            f"this {type(estimator).__name__} is not fitted", hint="call .fit(X, y) first"
        ) from None


def log_model(
    grove: Client,
    run: ActiveRun,
    estimator: Any,
    *,
    name: str = "model.joblib",
    register_as: str | None = None,
    params: bool = True,
) -> LoggedModel:
    """Log a fitted estimator on ``run``: its params (unless ``params=False``), the
    estimator saved with joblib as artifact ``name``, and with ``register_as`` a new
    version of that model, made from the artifact. Tags ``sklearn.class`` and
    ``sklearn.version`` say what it is. Nothing is logged for an unfitted estimator."""
    _check_fitted(estimator)
    import joblib
    import sklearn

    logged_params = estimator_params(estimator) if params else {}
    with tempfile.TemporaryDirectory(prefix="grove-sklearn-") as tmp:
        path = Path(tmp) / os.path.basename(name)
        joblib.dump(estimator, path)
        if logged_params:
            run.log_params(logged_params)
        run.set_tags(
            {
                "sklearn.class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
                "sklearn.version": sklearn.__version__,
            }
        )
        artifact = run.log_artifact(path, name=name)
    assert isinstance(artifact, RunArtifact)  # a file, not a folder
    version = None
    if register_as is not None:
        version = grove.models.register(register_as, run.id, name, project=run.run.project)
    return LoggedModel(artifact=artifact, version=version, params=logged_params)


def load_model(grove: Client, ref: str, *, project: str | None = None) -> Any:
    """The estimator of model version ``ref`` (``name``, ``name/v3`` or
    ``name@production``), downloaded and unpickled with joblib."""
    import joblib

    version = grove.models.resolve(ref, project=project)
    if version.run_id is None:
        raise InvalidInput(f"{version.name} has no run to download its artifact from")
    with tempfile.TemporaryDirectory(prefix="grove-sklearn-") as tmp:
        (path,) = grove.runs.download_artifacts(version.run_id, tmp, path=version.artifact)
        return joblib.load(path)
