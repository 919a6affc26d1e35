import io.seldon.serve.Metric;
import io.seldon.serve.Parameters;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import io.seldon.serve.SeldonException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An identity model using every optional hook: tags, metrics, metadata, class names, health,
 * and errors. jsonData {"fail": "refuse"} answers 422 through SeldonException; {"fail": "crash"}
 * throws a plain exception (500); {"sleep": s} takes s seconds. Faults
 * (tests/contract/test_faults.py): {"fail": "exit"} ends the process at once, as a crash in
 * native code would; {"leak": n} keeps n more MiB for good. The parameter load_seconds makes
 * load() take that long (tests/contract/test_startup_failures.py).
 */
public class ExtrasModel implements PredictionService {
  /** Named like Python's, so every family's sample fails with the same error name. */
  static class ValueError extends RuntimeException {
    ValueError(String message) {
      super(message);
    }
  }

  private final AtomicInteger calls = new AtomicInteger();
  private volatile double lastMillis;
  private final List<byte[]> hoard = new CopyOnWriteArrayList<>();
  private final double loadSeconds;

  public ExtrasModel(Parameters parameters) {
    loadSeconds = parameters.getDouble("load_seconds", 0);
  }

  @Override
  public void load() throws InterruptedException {
    Thread.sleep((long) (loadSeconds * 1000));
  }

  @Override
  public Payload predict(Payload input) throws InterruptedException {
    long started = System.nanoTime();
    calls.incrementAndGet();
    if (input.kind() == Payload.Kind.JSON && input.json() instanceof Map<?, ?> request) {
      if ("refuse".equals(request.get("fail"))) {
        throw new SeldonException("refusing this input", 422);
      }
      if ("crash".equals(request.get("fail"))) {
        throw new ValueError("the model crashed");
      }
      if ("exit".equals(request.get("fail"))) {
        Runtime.getRuntime().halt(3);
      }
      if (request.get("leak") instanceof Number mebibytes) {
        hoard.add(new byte[mebibytes.intValue() << 20]);
      }
      if (request.get("sleep") instanceof Number seconds) {
        Thread.sleep((long) (seconds.doubleValue() * 1000));
      }
    }
    lastMillis = (System.nanoTime() - started) / 1e6;
    return input;
  }

  @Override
  public List<String> classNames() {
    return List.of("first", "second");
  }

  @Override
  public Map<String, ?> tags() {
    return Map.of("model", "extras", "calls", calls.get());
  }

  @Override
  public List<Metric> metrics() {
    return List.of(
        Metric.counter("extras_calls", 1),
        Metric.gauge("extras_last_calls", calls.get()).tag("kind", "gauge"),
        Metric.timer("extras_predict_ms", lastMillis));
  }

  @Override
  public Map<String, ?> initMetadata() {
    return Map.of(
        "name", "extras-model",
        "versions", List.of("extras/v1"),
        "inputs", List.of(Map.of("messagetype", "ndarray", "schema", Map.of("names", List.of("a", "b"), "shape", List.of(2)))),
        "outputs", List.of(Map.of("messagetype", "ndarray", "schema", Map.of("names", List.of("first", "second"), "shape", List.of(2)))),
        "custom", Map.of("author", "tests"));
  }

  @Override
  public Payload healthStatus() {
    return Payload.of(new double[][] {{calls.get()}});
  }
}
