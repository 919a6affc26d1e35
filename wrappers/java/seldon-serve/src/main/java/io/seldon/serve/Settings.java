package io.seldon.serve;

import java.util.HashMap;
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
    String logFormat,
    boolean accessLog,
    String protocol,
    int restMaxBodyBytes,
    int restCompressMinBytes,
    long requestTimeoutMillis,
    long loadTimeoutSeconds,
    HttpLimits httpLimits) {

  boolean servesSeldon() {
    return !protocol.equals("v2");
  }

  boolean servesV2() {
    return !protocol.equals("seldon");
  }

  /** A boolean setting as Seldon reads them: 1, true, t or yes, in any case. */
  static boolean truthy(String value) {
    return java.util.Set.of("1", "true", "t", "yes").contains(value.strip().toLowerCase(java.util.Locale.ROOT));
  }

  static final String USAGE = "usage: java -cp <classpath> io.seldon.serve.Main MODEL_NAME [--service-type MODEL]"
      + "\n  example: java -cp 'app.jar:lib/*' io.seldon.serve.Main com.example.MyModel --service-type MODEL";

  /**
   * The settings from the command line and the environment: the contract's (contract.yaml) with
   * its defaults and types, and Java's own (SERVER_THREADS, MODEL_NAME).
   */
  static Settings from(String[] args, Map<String, String> environment) throws StartupException {
    Map<String, String> env = new HashMap<>(environment);
    String modelName = env.getOrDefault("MODEL_NAME", "");
    for (int i = 0; i < args.length; i++) {
      // --service-type is Seldon's spelling of SERVICE_TYPE: read as the variable, checked as one.
      if (args[i].equals("--service-type") && i + 1 < args.length) {
        env.put("SERVICE_TYPE", args[++i]);
      } else if (args[i].startsWith("--service-type=")) {
        env.put("SERVICE_TYPE", args[i].substring("--service-type=".length()));
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
    int cpus = Runtime.getRuntime().availableProcessors();
    return new Settings(
        modelName.strip(),
        Contract.choice(env, "SERVICE_TYPE"),
        env.get("PREDICTIVE_UNIT_PARAMETERS"),
        "0.0.0.0",
        Contract.whole(env, "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"),
        Contract.whole(env, "PREDICTIVE_UNIT_GRPC_SERVICE_PORT"),
        Contract.whole(env, "PREDICTIVE_UNIT_METRICS_SERVICE_PORT"),
        Contract.text(env, "PREDICTIVE_UNIT_METRICS_ENDPOINT"),
        Contract.whole(env, "SERVER_THREADS", Math.max(4, 2 * cpus)),
        Contract.whole(env, "GRACEFUL_SHUTDOWN_SECONDS") * 1000L,
        Contract.whole(env, "GRPC_MAX_MESSAGE_BYTES"),
        Contract.choice(env, "LOG_LEVEL"),
        Contract.choice(env, "LOG_FORMAT"),
        truthy(Contract.text(env, "ACCESS_LOG")),
        Contract.choice(env, "PROTOCOL"),
        Contract.whole(env, "REST_MAX_BODY_BYTES"),
        Contract.whole(env, "REST_COMPRESS_MIN_BYTES"),
        Contract.whole(env, "REQUEST_TIMEOUT_SECONDS") * 1000L,
        Math.max(0, Contract.whole(env, "MODEL_LOAD_TIMEOUT_SECONDS")),
        HttpLimits.from(env));
  }
}
