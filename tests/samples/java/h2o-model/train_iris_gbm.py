"""Train a small H2O GBM on the iris data and export it as a MOJO.

The MOJO is written to ``../h2o-mojo/iris_gbm.zip`` (relative to this script)
and is the model served by the Java H2O sample. Its input columns are
``sepal_length, sepal_width, petal_length, petal_width``; the response
``species`` is an enum with the classes setosa, versicolor and virginica.

Run it inside a virtualenv with ``h2o==3.46.0.11`` and ``scikit-learn``
installed (H2O starts a local JVM, so a Java runtime must be on the PATH)::

    python train_iris_gbm.py

The data comes from ``sklearn.datasets.load_iris``; nothing is downloaded.
Use 3.46.0.11, not 3.46.0.12: the 3.46.0.12 Python client refuses MOJO export
("requires H2O-3 Secure"). The MOJO loads with the h2o-genmodel wrappers/java/pom.xml pins.
"""

from pathlib import Path

import h2o
from h2o.estimators import H2OGradientBoostingEstimator
from sklearn.datasets import load_iris

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
RESPONSE = "species"
MOJO_PATH = Path(__file__).resolve().parent.parent / "h2o-mojo" / "iris_gbm.zip"


def iris_frame() -> h2o.H2OFrame:
    """Return the iris data as an H2OFrame with an enum ``species`` column."""
    iris = load_iris()
    names = [str(name) for name in iris.target_names]
    rows = [
        [float(v) for v in features] + [names[target]] for features, target in zip(iris.data, iris.target, strict=True)
    ]
    return h2o.H2OFrame(
        rows,
        column_names=[*FEATURES, RESPONSE],
        column_types=["real"] * len(FEATURES) + ["enum"],
    )


def main() -> None:
    """Train the GBM, write the MOJO zip, and shut the H2O cluster down."""
    h2o.init(nthreads=1, max_mem_size="1G", verbose=False)
    h2o.no_progress()
    try:
        model = H2OGradientBoostingEstimator(model_id="iris_gbm", ntrees=10, max_depth=3, seed=1)
        model.train(x=FEATURES, y=RESPONSE, training_frame=iris_frame())
        MOJO_PATH.parent.mkdir(parents=True, exist_ok=True)
        Path(model.download_mojo(path=str(MOJO_PATH.parent))).replace(MOJO_PATH)
        print(f"wrote {MOJO_PATH} ({MOJO_PATH.stat().st_size} bytes)")
    finally:
        h2o.cluster().shutdown()


if __name__ == "__main__":
    main()
