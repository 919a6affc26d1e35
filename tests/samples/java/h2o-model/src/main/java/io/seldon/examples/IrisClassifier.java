package io.seldon.examples;

import io.seldon.serve.Metric;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import io.seldon.serve.SeldonException;
import io.seldon.serve.h2o.H2oMojo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Iris species from an H2O GBM MOJO (made by train_iris_gbm.py; the build copies
 * ../h2o-mojo/iris_gbm.zip beside this project). Answers one row of class probabilities per
 * request row, named setosa, versicolor, virginica; refuses measurements that are not positive.
 */
public class IrisClassifier implements PredictionService {
  private H2oMojo mojo;
  private volatile int rows;

  @Override
  public void load() throws Exception {
    mojo = H2oMojo.load(Path.of("iris_gbm.zip"));
  }

  @Override
  public Payload predict(Payload input) {
    for (double value : input.values()) {
      if (!(value > 0)) {
        throw new SeldonException("measurements are lengths in cm and must be positive, got " + value, 400);
      }
    }
    rows = input.shape()[0];
    return mojo.predict(input);
  }

  @Override
  public List<Metric> metrics() {
    return List.of(Metric.counter("iris_rows_scored", rows));
  }

  @Override
  public Map<String, ?> initMetadata() {
    return mojo.metadata();
  }
}
