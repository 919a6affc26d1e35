import io.seldon.serve.Parameters;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;

/**
 * Input transformer: scales features from [low, high] to [0, 1] before the model sees them. low
 * and high come from PREDICTIVE_UNIT_PARAMETERS (type FLOAT).
 */
public class MinMaxScaler implements PredictionService {
  private final double low;
  private final double high;

  public MinMaxScaler(Parameters parameters) {
    low = parameters.getDouble("low", 0.0);
    high = parameters.getDouble("high", 10.0);
    if (high <= low) {
      throw new IllegalArgumentException("high (" + high + ") must be above low (" + low + ")");
    }
  }

  @Override
  public Payload transformInput(Payload input) {
    double[] values = input.values();
    for (int i = 0; i < values.length; i++) {
      values[i] = (values[i] - low) / (high - low);
    }
    return Payload.tensor(input.shape(), values);
  }
}
