package io.seldon.serve;

import java.util.Map;

/** Models for the tests, and the wrapper serving them, for tests outside this package (v2's). */
public final class TestModels {
  private TestModels() {}

  /** Answers its input and keeps what it was given. */
  public static class Echo implements PredictionService {
    public volatile Payload seen;

    @Override
    public Payload predict(Payload input) {
      seen = input;
      return input;
    }
  }

  /** The model as the wrapper serves it (a MODEL), as the Open Inference Protocol calls it. */
  public static ServedModel served(PredictionService model) throws StartupException {
    return served(model, Map.of());
  }

  /** The same, in a container with these variables (as Seldon's operator sets them). */
  public static ServedModel served(PredictionService model, Map<String, String> env) throws StartupException {
    return new Microservice(model, "MODEL", env, null);
  }
}
