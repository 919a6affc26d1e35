import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import java.util.List;

/** Output transformer: turns a model's probabilities into percentages with one decimal. */
public class Percentages implements PredictionService {
  @Override
  public Payload transformOutput(Payload input) {
    double[] values = input.values();
    for (int i = 0; i < values.length; i++) {
      values[i] = Math.round(values[i] * 1000) / 10.0;
    }
    return Payload.tensor(input.shape(), values);
  }

  @Override
  public List<String> classNames() {
    return List.of("percent");
  }
}
