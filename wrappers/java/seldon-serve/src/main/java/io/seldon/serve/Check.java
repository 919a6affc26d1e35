package io.seldon.serve;

/**
 * {@code java io.seldon.serve.Check MODEL_NAME --service-type MODEL}: can this class be served?
 * The s2i assemble script runs it, so a typo in MODEL_NAME or a class that does not implement
 * what its service type needs fails the build with a message, not the container at start-up.
 */
public final class Check {
  private Check() {}

  public static void main(String[] args) {
    try {
      Settings settings = Settings.from(args, System.getenv());
      Class<? extends PredictionService> cls = ModelLoader.find(settings.modelName());
      if (cls.getConstructors().length == 0) {
        throw new StartupException(cls.getSimpleName() + " has no public constructor");
      }
      String missing = new Microservice.Overrides(cls).missing(settings.serviceType());
      if (missing != null) {
        throw new StartupException("a " + settings.serviceType() + " must override " + missing + "; "
            + cls.getSimpleName() + " overrides neither");
      }
      System.out.println(settings.modelName() + ": class " + cls.getName() + " can serve as " + settings.serviceType());
    } catch (StartupException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }
}
