"""Train the sample's model: logistic regression on scikit-learn's bundled iris data.

    pip install -r requirements.txt && python train.py

writes iris.joblib beside this file (committed, a few KB). Retrain whenever requirements.txt
changes scikit-learn's version: a pickled model is only promised to load in the version that
wrote it.
"""

from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

if __name__ == "__main__":
    iris = load_iris()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(iris.data, iris.target)
    print(f"training accuracy {model.score(iris.data, iris.target):.3f}")
    joblib.dump(model, Path(__file__).with_name("iris.joblib"))
