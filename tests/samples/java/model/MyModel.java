import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;

/**
 * The seed's identity model: answers every prediction with its input. A folder holding only
 * this file (and .s2i/environment) builds: the image compiles it against the wrapper.
 */
public class MyModel implements PredictionService {
  public MyModel() {
    System.out.println("Initializing");
  }

  @Override
  public Payload predict(Payload input) {
    return input;
  }
}
