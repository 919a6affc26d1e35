package io.seldon.serve.h2o;

import hex.ModelCategory;
import hex.genmodel.MojoModel;
import hex.genmodel.easy.EasyPredictModelWrapper;
import hex.genmodel.easy.RowData;
import hex.genmodel.easy.exception.PredictException;
import hex.genmodel.easy.prediction.AbstractPrediction;
import hex.genmodel.easy.prediction.BinomialModelPrediction;
import hex.genmodel.easy.prediction.ClusteringModelPrediction;
import hex.genmodel.easy.prediction.MultinomialModelPrediction;
import hex.genmodel.easy.prediction.RegressionModelPrediction;
import io.seldon.serve.Payload;
import io.seldon.serve.SeldonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An H2O MOJO, scored on Payloads: request rows become H2O {@link RowData} (columns named by the
 * request's names, or in the model's own column order when it has none) and predictions come
 * back as rows -- class probabilities named by class for classifiers, the value for regression.
 *
 * <pre>{@code
 * H2oMojo mojo = H2oMojo.load(Path.of("model.zip"));
 * Payload probabilities = mojo.predict(input);
 * }</pre>
 */
public final class H2oMojo {
  private final MojoModel model;
  private final EasyPredictModelWrapper wrapper;
  private final Path path;

  private H2oMojo(Path path, MojoModel model) {
    this.path = path;
    this.model = model;
    this.wrapper = new EasyPredictModelWrapper(new EasyPredictModelWrapper.Config()
        .setModel(model)
        .setConvertUnknownCategoricalLevelsToNa(true)
        .setConvertInvalidNumbersToNa(true));
  }

  public static H2oMojo load(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("no H2O MOJO at " + path.toAbsolutePath());
    }
    return new H2oMojo(path, MojoModel.load(path.toString()));
  }

  /** The feature columns, in the model's order (the response column is not one of them). */
  public List<String> features() {
    List<String> names = new ArrayList<>(Arrays.asList(model.getNames()));
    names.remove(model.getResponseName());
    return names.subList(0, Math.min(names.size(), model.getNumCols()));
  }

  /** Class names for classifiers, or the response column's name. */
  public List<String> outputs() {
    return switch (model.getModelCategory()) {
      case Binomial, Multinomial, Ordinal -> List.of(wrapper.getResponseDomainValues());
      case Clustering -> List.of("cluster");
      default -> List.of(model.getResponseName());
    };
  }

  public ModelCategory category() {
    return model.getModelCategory();
  }

  public Path path() {
    return path;
  }

  /** H2O rows from a payload's rows. */
  public List<RowData> rows(Payload input) {
    List<String> columns = input.names().isEmpty() ? features() : input.names();
    List<RowData> rows = new ArrayList<>();
    for (Object row : input.ndarray()) {
      List<?> cells = row instanceof List<?> list ? list : List.of(row);
      if (cells.size() != columns.size()) {
        throw new SeldonException("a row has " + cells.size() + " values for " + columns.size() + " columns "
            + columns, 400);
      }
      RowData data = new RowData();
      for (int i = 0; i < cells.size(); i++) {
        if (cells.get(i) != null) {
          data.put(columns.get(i), cells.get(i));
        }
      }
      rows.add(data);
    }
    return rows;
  }

  /** Scores every row: one output row each, named by {@link #outputs()}. */
  public Payload predict(Payload input) {
    List<RowData> rows = rows(input);
    double[][] out = new double[rows.size()][];
    for (int i = 0; i < rows.size(); i++) {
      out[i] = scores(predict(rows.get(i)));
    }
    return Payload.of(out).withNames(outputs());
  }

  /** One row's prediction, H2O's own object. */
  public AbstractPrediction predict(RowData row) {
    try {
      return wrapper.predict(row);
    } catch (PredictException e) {
      throw new SeldonException("H2O cannot score this row: " + e.getMessage(), 400);
    }
  }

  static double[] scores(AbstractPrediction prediction) {
    if (prediction instanceof MultinomialModelPrediction multinomial) {
      return multinomial.classProbabilities;
    }
    if (prediction instanceof BinomialModelPrediction binomial) {
      return binomial.classProbabilities;
    }
    if (prediction instanceof RegressionModelPrediction regression) {
      return new double[] {regression.value};
    }
    if (prediction instanceof ClusteringModelPrediction clustering) {
      return new double[] {clustering.cluster};
    }
    throw new SeldonException("H2O " + prediction.getClass().getSimpleName() + " results are not supported", 500);
  }

  /** Metadata describing the MOJO: its features in, its outputs out. */
  public Map<String, Object> metadata() {
    Map<String, Object> metadata = new LinkedHashMap<>();
    String file = path.getFileName().toString();
    metadata.put("name", file.endsWith(".zip") ? file.substring(0, file.length() - 4) : file);
    metadata.put("platform", "h2o");
    metadata.put("versions", List.of(model.getUUID() == null ? "" : model.getUUID()));
    metadata.put("inputs", List.of(Map.of("messagetype", "ndarray", "schema", Map.of("names", features()))));
    metadata.put("outputs", List.of(Map.of("messagetype", "ndarray", "schema", Map.of("names", outputs()))));
    metadata.put("custom", Map.of("category", category().name(), "h2o_version", String.valueOf(model._h2oVersion),
        "algorithm", String.valueOf(model._algoName)));
    return metadata;
  }
}
