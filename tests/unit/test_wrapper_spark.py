"""seldon_serve_spark's request handling, which needs no Spark: columns matched by name."""

import numpy as np
import pytest

from seldon_serve.errors import BadRequest
from seldon_serve_spark import SparkPipeline

FEATURES = ["a", "b", "c"]


@pytest.fixture
def pipeline():
    pipeline = SparkPipeline("unused", local_scoring=True)
    pipeline.features = FEATURES  # what load() reads from the pipeline's VectorAssembler
    return pipeline


def test_request_names_may_come_in_any_order(pipeline):
    rows = np.array([[3.0, 1.0, 2.0]])
    assert pipeline._columns(rows, ["c", "a", "b"]) == ["c", "a", "b"]
    assert pipeline._columns(rows, []) == FEATURES  # no names: the pipeline's own order


@pytest.mark.parametrize(
    ("names", "width", "fragment"),
    [
        (["a", "b"], 2, "the request lacks ['c']"),
        (["a", "b", "c", "d"], 3, "4 names for rows of 3 values"),
        ([], 2, "rows of 2 values for the pipeline's 3 columns"),
    ],
)
def test_columns_that_do_not_fit_are_bad_requests(pipeline, names, width, fragment):
    with pytest.raises(BadRequest, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        pipeline._columns(np.zeros((1, width)), names)


def test_rows_that_are_not_numbers_are_bad_requests(pipeline):
    with pytest.raises(BadRequest, match="scores rows of numbers"):
        pipeline.predict([["x", "y", "z"]], FEATURES)


def test_local_scoring_follows_the_environment(monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_SCORING", "off")
    assert SparkPipeline("unused").local_scoring is False
    monkeypatch.setenv("SPARK_LOCAL_SCORING", "on")
    assert SparkPipeline("unused").local_scoring is True
