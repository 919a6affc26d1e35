package io.seldon.serve;

import io.grpc.BindableService;
import io.seldon.serve.v2.OpenInference;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Serve a PredictionService over the Seldon microservice API and the Open Inference Protocol
 * (PROTOCOL=seldon|v2|both): REST, gRPC and Prometheus metrics, with a graceful stop on SIGTERM
 * (requests in progress finish, then exit 0).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // The metrics port's JDK HTTP server writes headers and body apart: with Nagle's algorithm
    // on, each keep-alive answer then waits for the client's delayed ACK (40 ms).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // Before the settings are read, so that one that stops start-up is reported in the log's format.
    Log.setFormat(System.getenv().getOrDefault("LOG_FORMAT", "").strip().equalsIgnoreCase("json") ? "json" : "text");
    try {
      serve(Settings.from(args, System.getenv()));
    } catch (StartupException | IOException e) { // IOException: a port already taken, say
      Log.error("cannot start: " + e.getMessage());
      System.exit(2);
    }
  }

  private static void serve(Settings settings) throws StartupException, IOException {
    Log.setLevel(settings.logLevel());
    Log.setFormat(settings.logFormat());
    long started = System.nanoTime();
    Class<? extends PredictionService> cls = ModelLoader.find(settings.modelName());
    PredictionService model = loaded(cls, settings);
    Deadlines.start(settings.requestTimeoutMillis()); // after load(), which may rightly take long
    Map<String, String> env = System.getenv();
    PrometheusMetrics metrics = new PrometheusMetrics(env);
    Microservice service = new Microservice(model, settings.serviceType(), env, metrics);
    String version = Main.class.getPackage().getImplementationVersion();
    if (Tracing.wanted(env)) { // the service's name: the unit's id in its graph, else the model's class
      Tracing.start(env.getOrDefault("PREDICTIVE_UNIT_ID", "").isEmpty() ? cls.getSimpleName()
          : env.get("PREDICTIVE_UNIT_ID"), version == null ? "unknown" : version, metrics);
    }
    // The Open Inference Protocol over the same model: its gRPC service and its /v2 paths.
    OpenInference v2 = settings.servesV2() ? new OpenInference(service, version == null ? "unknown" : version) : null;
    List<BindableService> v2Grpc = v2 == null ? List.of() : List.of(v2.grpc());
    RestProtocol v2Rest = v2 == null ? null : v2.rest();
    Microservice seldon = settings.servesSeldon() ? service : null;
    GrpcServer grpc;
    try {
      grpc = new GrpcServer(seldon, v2Grpc, settings.host(), settings.grpcPort(), settings.maxMessageBytes(),
          settings.threads(), settings.accessLog());
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage());
    }
    MetricsServer metricsServer = new MetricsServer(metrics, settings.host(), settings.metricsPort(),
        settings.metricsPath());
    RestServer rest = new RestServer(seldon, v2Rest, settings.host(), settings.httpPort(), settings.threads(),
        settings.restMaxBodyBytes(), settings.restCompressMinBytes(), settings.httpLimits(), settings.accessLog());
    grpc.start();
    metricsServer.start();
    rest.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(rest, grpc, metricsServer, settings), "shutdown"));
    Log.info(String.format("serving %s as %s (protocol %s): REST :%d, gRPC :%d, metrics :%d%s (ready in %.2f s)",
        cls.getName(), settings.serviceType(), settings.protocol(), settings.httpPort(), settings.grpcPort(),
        settings.metricsPort(),
        settings.metricsPath(), (System.nanoTime() - started) / 1e9));
  }

  /** The model constructed and loaded, within MODEL_LOAD_TIMEOUT_SECONDS. */
  private static PredictionService loaded(Class<? extends PredictionService> cls, Settings settings)
      throws StartupException {
    String what = "loading " + cls.getSimpleName() + " (its constructor and load())";
    try (ModelLoader.LoadDeadline deadline = new ModelLoader.LoadDeadline(settings.loadTimeoutSeconds(), what)) {
      PredictionService model = ModelLoader.construct(cls, Parameters.parse(settings.parameters()));
      ModelLoader.load(model);
      return model;
    }
  }

  /** SIGTERM: refuse new gRPC calls, answer what is in progress on both, then exit 0. */
  private static void stop(RestServer rest, GrpcServer grpc, MetricsServer metricsServer, Settings settings) {
    Log.info("stopping: requests in progress have " + settings.graceMillis() / 1000 + " s to finish");
    long deadline = System.currentTimeMillis() + settings.graceMillis();
    try {
      grpc.beginShutdown();
      rest.shutdown(settings.graceMillis());
      grpc.awaitTermination(Math.max(0, deadline - System.currentTimeMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    grpc.shutdownNow();
    metricsServer.stop();
    Tracing.shutdown(); // the spans of the last requests
    Log.info("stopped");
    // A stop asked for is a clean exit: without halt the JVM reports 143 for SIGTERM.
    Runtime.getRuntime().halt(0);
  }
}
