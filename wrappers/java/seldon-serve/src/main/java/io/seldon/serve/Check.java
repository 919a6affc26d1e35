package io.seldon.serve;

import java.util.List;
import java.util.Map;

/**
 * {@code java io.seldon.serve.Check MODEL_NAME --service-type MODEL}: can this class be served?
 * The s2i assemble script runs it, so a typo in MODEL_NAME or a class that does not implement
 * what its service type needs fails the build with a message, not the container at start-up.
 */
public final class Check {
  /** A service type needs one of these methods; transformers default to the identity. */
  private static final Map<String, List<String>> REQUIRED = Map.of(
      "MODEL", List.of("predict", "predictRaw"),
      "ROUTER", List.of("route", "routeRaw"),
      "COMBINER", List.of("aggregate", "aggregateRaw"));

  private Check() {}

  public static void main(String[] args) {
    try {
      Settings settings = Settings.from(args, System.getenv());
      Class<? extends PredictionService> cls = ModelLoader.find(settings.modelName());
      if (cls.getConstructors().length == 0) {
        throw new StartupException(cls.getSimpleName() + " has no public constructor");
      }
      List<String> oneOf = REQUIRED.getOrDefault(settings.serviceType(), List.of());
      if (!oneOf.isEmpty() && !overridesAny(cls, oneOf)) {
        throw new StartupException("a " + settings.serviceType() + " must override " + String.join(" or ", oneOf)
            + "; " + cls.getSimpleName() + " overrides neither");
      }
      System.out.println(settings.modelName() + ": class " + cls.getName() + " can serve as " + settings.serviceType());
    } catch (StartupException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static boolean overridesAny(Class<?> cls, List<String> names) {
    for (java.lang.reflect.Method method : cls.getMethods()) {
      if (method.getDeclaringClass() != PredictionService.class && names.contains(method.getName())) {
        return true;
      }
    }
    return false;
  }
}
