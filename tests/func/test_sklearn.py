"""The scikit-learn helper: a real fitted estimator logged, registered, loaded back and
predicting identically, embedded and over HTTP, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlgrove
from mlgrove.client.base import Client
from mlgrove.client.sklearn import load_model, log_model
from mlgrove.domain.people import LOCAL_ADMIN
from mlgrove.errors import InvalidInput
from mlgrove.services.context import Runtime
from mlgrove.services.embedded import EmbeddedClient
from mlgrove.testing.factories import Factories


@pytest.fixture
def embedded(grove_runtime: Runtime) -> EmbeddedClient:
    return EmbeddedClient(grove_runtime, LOCAL_ADMIN, owns_runtime=False)


@pytest.fixture
def remote(grove_live_server: str, grove_factories: Factories) -> Iterator[Client]:
    token = grove_factories.token(grove_factories.person("ana", role="admin")).secret
    with mlgrove.connect(grove_live_server, token=token) as client:
        yield client


@pytest.fixture(params=["embedded", "remote"])
def grove(request: pytest.FixtureRequest, grove_runtime: Runtime) -> Client:
    client: Client = request.getfixturevalue(request.param)
    return client


def data() -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    return X, y


def test_a_fitted_estimator_is_logged_registered_and_loads_back_predicting_the_same(
    grove: Client,
) -> None:
    X, y = data()
    clf = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=1).fit(X, y)
    with grove.runs.start(capture_environment=False) as run:
        logged = log_model(grove, run, clf, register_as="churn-clf")
    assert logged.version is not None
    assert (logged.version.name, logged.version.artifact) == ("churn-clf/v1", "model.joblib")
    assert logged.version.address == logged.artifact.address

    shown = grove.runs.get(run.id)
    assert shown.params["n_estimators"] == "20"
    assert shown.params["max_depth"] == "4"
    assert shown.params["random_state"] == "1"
    assert shown.params == logged.params
    assert shown.tags["sklearn.class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert [a.path for a in shown.artifacts] == ["model.joblib"]

    again = load_model(grove, "churn-clf/v1")
    assert type(again) is RandomForestClassifier
    assert again is not clf
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    grove.models.set_alias("churn-clf", "production", 1)
    np.testing.assert_array_equal(
        load_model(grove, "churn-clf@production").predict(X), clf.predict(X)
    )


def test_a_pipeline_logs_its_steps_params_by_their_sklearn_names(grove: Client) -> None:
    X, y = data()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500)).fit(X, y)
    with grove.runs.start(capture_environment=False) as run:
        logged = log_model(grove, run, pipe, name="pipe.joblib")
    assert logged.version is None  # not registered without register_as
    assert logged.params["logisticregression__C"] == "0.5"
    assert logged.params["standardscaler__with_mean"] == "True"
    assert "steps" not in logged.params  # objects are not params; their params are
    version = grove.models.register("pipe", run.id, "pipe.joblib")
    assert version.run_id == run.id
    np.testing.assert_array_equal(load_model(grove, "pipe").predict(X), pipe.predict(X))


def test_an_unfitted_or_foreign_model_logs_nothing(grove: Client) -> None:
    with grove.runs.start(capture_environment=False) as run:
        with pytest.raises(InvalidInput, match="this LogisticRegression is not fitted"):
            log_model(grove, run, LogisticRegression(), register_as="never")
        with pytest.raises(InvalidInput, match="dict is not a scikit-learn estimator"):
            log_model(grove, run, {"weights": [1, 2]})
    shown = grove.runs.get(run.id)
    assert (shown.params, shown.artifacts) == ({}, [])
    assert grove.models.list() == []
