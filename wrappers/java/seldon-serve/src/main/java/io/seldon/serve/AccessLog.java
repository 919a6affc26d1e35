package io.seldon.serve;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * ACCESS_LOG: a line per REST request and gRPC call on the seldon_serve.access logger, with the
 * python wrapper's fields (method and path, or grpc_method; status, bytes, latency_ms, puid).
 * Probes are logged at DEBUG only: a kubelet asks every few seconds.
 */
final class AccessLog {
  private static final String LOGGER = "seldon_serve.access";
  private static final Set<String> PROBES = Set.of("/health/ping", "/ping", "/health/status",
      "/api/v1.0/health/status");
  private static final Metadata.Key<String> PUID = Metadata.Key.of("seldon-puid", Metadata.ASCII_STRING_MARSHALLER);

  private AccessLog() {}

  static void rest(String method, String target, int status, long bytes, long startedNanos, String puid) {
    String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
    Log.Level level = PROBES.contains(path) || path.startsWith("/v2/health/") ? Log.Level.DEBUG : Log.Level.INFO;
    if (!Log.enabled(level)) {
      return;
    }
    double millis = (System.nanoTime() - startedNanos) / 1e6;
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("method", method);
    fields.put("path", target);
    fields.put("status", status);
    fields.put("bytes", bytes);
    fields.put("latency_ms", Math.round(millis * 1000) / 1000.0);
    fields.put("puid", puid);
    Log.write(level, LOGGER, String.format("%s %s %d %d %.1fms", method, target, status, bytes, millis), fields);
  }

  /** Logs each gRPC call as it closes: its method, status and time (gRPC health checks at DEBUG). */
  static ServerInterceptor grpc() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        long started = System.nanoTime();
        String puid = headers.get(PUID);
        return next.startCall(new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            log(call.getMethodDescriptor().getFullMethodName(), status, started, puid);
            super.close(status, trailers);
          }
        }, headers);
      }
    };
  }

  private static void log(String method, Status status, long startedNanos, String puid) {
    Log.Level level = method.startsWith("grpc.health.") ? Log.Level.DEBUG : Log.Level.INFO;
    if (!Log.enabled(level)) {
      return;
    }
    double millis = (System.nanoTime() - startedNanos) / 1e6;
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("grpc_method", "/" + method);
    fields.put("status", status.getCode().name());
    fields.put("latency_ms", Math.round(millis * 1000) / 1000.0);
    fields.put("puid", puid);
    Log.write(level, LOGGER, String.format("POST /%s %s %.1fms", method, status.getCode(), millis), fields);
  }
}
