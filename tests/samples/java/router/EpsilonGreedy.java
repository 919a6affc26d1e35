import io.seldon.serve.Parameters;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import java.util.Random;

/**
 * A multi-armed bandit: route to the child with the best mean reward so far, except for a share
 * `epsilon` of requests that explore a random child. Feedback rewards teach it.
 *
 * <p>A request whose names include "misbehave" gets a string back instead of a child index, so
 * the wrapper's handling of a broken router can be tested.
 */
public class EpsilonGreedy implements PredictionService {
  private final int branches;
  private final double epsilon;
  private final Random random;
  private final double[] rewards;
  private final int[] counts;

  public EpsilonGreedy(Parameters parameters) {
    branches = parameters.getInt("n_branches", 2);
    epsilon = parameters.getDouble("epsilon", 0.1);
    random = new Random(parameters.getInt("seed", 0));
    rewards = new double[branches];
    counts = new int[branches];
  }

  @Override
  public synchronized Payload route(Payload input) {
    if (input.names().contains("misbehave")) {
      return Payload.string("the left one");
    }
    if (random.nextDouble() < epsilon) {
      return Payload.branch(random.nextInt(branches));
    }
    int best = 0;
    for (int i = 1; i < branches; i++) {
      if (mean(i) > mean(best)) {
        best = i;
      }
    }
    return Payload.branch(best);
  }

  private double mean(int branch) {
    return counts[branch] == 0 ? 0.0 : rewards[branch] / counts[branch];
  }

  @Override
  public synchronized Payload sendFeedback(Payload request, double reward, Payload truth, Integer routing) {
    if (routing != null && routing >= 0 && routing < branches) {
      counts[routing]++;
      rewards[routing] += reward;
    }
    return null;
  }
}
