import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import java.util.List;

/** A model ensemble's combiner: the element-wise mean of its children's predictions. */
public class Average implements PredictionService {
  @Override
  public Payload aggregate(List<Payload> inputs) {
    double[] sum = new double[inputs.get(0).values().length];
    for (Payload input : inputs) {
      double[] values = input.values();
      for (int i = 0; i < sum.length; i++) {
        sum[i] += values[i];
      }
    }
    for (int i = 0; i < sum.length; i++) {
      sum[i] /= inputs.size();
    }
    return Payload.tensor(inputs.get(0).shape(), sum);
  }
}
