package io.seldon.serve;

import java.util.Locale;
import java.util.Map;

/** The environment and command line, as Seldon's `seldon-core-microservice` reads them. */
record Settings(
    String modelName,
    String serviceType,
    String parameters,
    String host,
    int httpPort,
    int grpcPort,
    int metricsPort,
    String metricsPath,
    int threads,
    long graceMillis,
    int maxMessageBytes,
    String logLevel,
    String protocol,
    int restMaxBodyBytes,
    long requestTimeoutMillis) {

  /** The protocols PROTOCOL names: Seldon's, the Open Inference Protocol's, or both on the same ports. */
  static final java.util.List<String> PROTOCOLS = java.util.List.of("seldon", "v2", "both");

  boolean servesSeldon() {
    return !protocol.equals("v2");
  }

  boolean servesV2() {
    return !protocol.equals("seldon");
  }

  static final String USAGE = "usage: java -cp <classpath> io.seldon.serve.Main MODEL_NAME [--service-type MODEL]"
      + "\n  example: java -cp 'app.jar:lib/*' io.seldon.serve.Main com.example.MyModel --service-type MODEL";

  static Settings from(String[] args, Map<String, String> env) throws StartupException {
    String modelName = env.getOrDefault("MODEL_NAME", "");
    String serviceType = env.getOrDefault("SERVICE_TYPE", "MODEL");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--service-type") && i + 1 < args.length) {
        serviceType = args[++i];
      } else if (args[i].startsWith("--service-type=")) {
        serviceType = args[i].substring("--service-type=".length());
      } else if (!args[i].startsWith("-") && i == 0) {
        modelName = args[i];
      } else if (!args[i].startsWith("-")) {
        continue; // Seldon's old positional API type (REST|GRPC): both are always served
      } else {
        throw new StartupException("unknown option " + args[i] + "\n" + USAGE);
      }
    }
    if (modelName.isBlank()) {
      throw new StartupException("MODEL_NAME is not set: name the class to serve\n" + USAGE);
    }
    serviceType = serviceType.strip().toUpperCase(Locale.ROOT);
    if (!Microservice.SERVICE_TYPES.contains(serviceType)) {
      throw new StartupException("SERVICE_TYPE=" + serviceType + " is not one of "
          + String.join(", ", Microservice.SERVICE_TYPES));
    }
    String protocol = env.getOrDefault("PROTOCOL", "").strip().toLowerCase(Locale.ROOT);
    protocol = protocol.isEmpty() ? "seldon" : protocol;
    if (!PROTOCOLS.contains(protocol)) {
      throw new StartupException("PROTOCOL=" + protocol + " is not one of " + String.join(", ", PROTOCOLS));
    }
    int cpus = Runtime.getRuntime().availableProcessors();
    return new Settings(
        modelName.strip(),
        serviceType,
        env.get("PREDICTIVE_UNIT_PARAMETERS"),
        "0.0.0.0",
        integer(env, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT", 9000),
        integer(env, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT", 5000),
        integer(env, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT", 6000),
        env.getOrDefault("PREDICTIVE_UNIT_METRICS_ENDPOINT", "/metrics"),
        integer(env, "SERVER_THREADS", Math.max(4, 2 * cpus)),
        integer(env, "GRACEFUL_SHUTDOWN_SECONDS", 20) * 1000L,
        integer(env, "GRPC_MAX_MESSAGE_BYTES", 100 * 1024 * 1024),
        env.getOrDefault("LOG_LEVEL", "INFO"),
        protocol,
        integer(env, "REST_MAX_BODY_BYTES", 256 * 1024 * 1024),
        integer(env, "REQUEST_TIMEOUT_SECONDS", 60) * 1000L);
  }

  private static int integer(Map<String, String> env, String name, int fallback) throws StartupException {
    String value = env.getOrDefault(name, "").strip();
    if (value.isEmpty()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new StartupException(name + "=" + value + " is not a whole number");
    }
  }
}
