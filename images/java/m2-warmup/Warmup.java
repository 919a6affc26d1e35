import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;

/** Compiled with model-pom.xml while the image builds, as a model with no pom.xml is. */
public class Warmup implements PredictionService {
  @Override
  public Payload predict(Payload input) {
    return input;
  }
}
