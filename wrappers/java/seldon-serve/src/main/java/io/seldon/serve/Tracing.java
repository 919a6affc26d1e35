package io.seldon.serve;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * OpenTelemetry tracing, off unless asked for (TRACING=1, or an OTLP endpoint in
 * OTEL_EXPORTER_OTLP_ENDPOINT): the same spans as the python wrapper's. Off, every hook here is
 * one null check. On, a REST request or gRPC call is a server span continuing the caller's trace
 * (W3C traceparent, B3, Jaeger's uber-trace-id: the propagators OTEL_PROPAGATORS names), each
 * call of the model a child span (verb, unit id, error); the SDK is configured from the OTEL_*
 * variables by its autoconfigure module and exports over OTLP on a thread of its own. A batch the
 * collector does not take is dropped and counted (seldon_tracing_spans_dropped_total).
 */
final class Tracing {
  /** Seldon's executor and Istio send B3 or Jaeger headers; W3C's are OpenTelemetry's own. */
  static final String DEFAULT_PROPAGATORS = "tracecontext,baggage,b3multi,jaeger";
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
  /** gRPC codes a server span reports as an error (OpenTelemetry's gRPC conventions). */
  private static final Set<Status.Code> GRPC_SERVER_ERRORS = Set.of(Status.Code.UNKNOWN,
      Status.Code.DEADLINE_EXCEEDED, Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL, Status.Code.UNAVAILABLE,
      Status.Code.DATA_LOSS);

  /** Seldon's Jaeger client settings (the contract's entry), which nothing here reads: spans go over OTLP. */
  private static final List<String> JAEGER_SETTINGS = Contract.entry("JAEGER_AGENT_HOST");
  private static final List<String> ENDPOINTS =
      List.of("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");

  /** The tracing in use, or null: off. */
  private static volatile Tracing active;

  private final OpenTelemetrySdk sdk;
  private final Tracer tracer;
  private final TextMapPropagator propagator;

  private Tracing(OpenTelemetrySdk sdk, String version) {
    this.sdk = sdk;
    this.tracer = sdk.getTracer("io.seldon.serve", version);
    this.propagator = sdk.getPropagators().getTextMapPropagator();
  }

  /** Tracing is on with TRACING=1 or an OTLP endpoint, unless the SDK is disabled. */
  static boolean wanted(Map<String, String> env) {
    if (Settings.truthy(env.getOrDefault("OTEL_SDK_DISABLED", ""))
        || env.getOrDefault("OTEL_TRACES_EXPORTER", "").strip().equals("none")) {
      return false;
    }
    return Settings.truthy(Contract.text(env, "TRACING"))
        || ENDPOINTS.stream().anyMatch(name -> !env.getOrDefault(name, "").isEmpty());
  }

  /**
   * Seldon's Jaeger settings given with no OTLP endpoint, as the start-up warning names them (the
   * spans then go to the SDK's default endpoint, not to the Jaeger they point at); else null.
   */
  static String unreadJaegerSettings(Map<String, String> env) {
    List<String> given = JAEGER_SETTINGS.stream().filter(name -> !env.getOrDefault(name, "").isBlank())
        .map(name -> name + "=" + env.get(name).strip()).toList();
    if (given.isEmpty() || ENDPOINTS.stream().anyMatch(name -> !env.getOrDefault(name, "").isBlank())) {
      return null;
    }
    return String.join(", ", given) + ": Seldon's Jaeger client settings, not read here -- spans go over OTLP to "
        + "OTEL_EXPORTER_OTLP_ENDPOINT (http://localhost:4318 when unset); Jaeger's collector takes OTLP "
        + "on port 4318 (4317 with OTEL_EXPORTER_OTLP_PROTOCOL=grpc)";
  }

  /** Set up the SDK from the environment: `serviceName` unless OTEL_SERVICE_NAME names one. */
  static void start(String serviceName, String version, PrometheusMetrics metrics) {
    Map<String, String> defaults = Map.of(
        "otel.propagators", DEFAULT_PROPAGATORS,
        // The specification's default, and the python wrapper's; the Java SDK's own is grpc.
        "otel.exporter.otlp.protocol", "http/protobuf",
        "otel.metrics.exporter", "none", // traces only: the metrics are Prometheus'
        "otel.logs.exporter", "none");
    var dropped = metrics.spansDropped();
    Resource[] used = new Resource[1]; // the resource the SDK settles on, for the log line
    String[] sentTo = {""};
    AutoConfiguredOpenTelemetrySdk configured = AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .addResourceCustomizer((resource, config) -> used[0] = named(resource, serviceName))
        .addSpanExporterCustomizer((exporter, config) -> {
          sentTo[0] = destination(config);
          return new CountingExporter(exporter, dropped::inc);
        })
        .setResultAsGlobal()
        .build();
    active = new Tracing(configured.getOpenTelemetrySdk(), version);
    Log.info("tracing on: spans of " + used[0].getAttribute(SERVICE_NAME) + " " + sentTo[0] + ", propagators "
        + System.getenv().getOrDefault("OTEL_PROPAGATORS", DEFAULT_PROPAGATORS));
    String unread = unreadJaegerSettings(System.getenv());
    if (unread != null) {
      Log.warning(unread);
    }
  }

  /** Where the spans go, as the SDK reads it: the traces' endpoint before the general one. */
  private static String destination(ConfigProperties config) {
    String protocol = config.getString("otel.exporter.otlp.traces.protocol",
        config.getString("otel.exporter.otlp.protocol", "http/protobuf"));
    String fallback = protocol.equals("grpc") ? "http://localhost:4317" : "http://localhost:4318";
    String endpoint = config.getString("otel.exporter.otlp.traces.endpoint",
        config.getString("otel.exporter.otlp.endpoint", fallback));
    return "over OTLP " + protocol + " to " + endpoint;
  }

  private static Resource named(Resource resource, String serviceName) {
    String name = resource.getAttribute(SERVICE_NAME);
    if (name == null || name.startsWith("unknown_service")) {
      return resource.merge(Resource.create(Attributes.of(SERVICE_NAME, serviceName)));
    }
    return resource;
  }

  /** Send the spans still waiting (the server stopping). */
  static void shutdown() {
    Tracing on = active;
    if (on != null) {
      on.sdk.shutdown().join(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  static boolean on() {
    return active != null;
  }

  /** The task, run in the current span's context wherever it runs (itself when tracing is off). */
  static Runnable carried(Runnable task) {
    return active == null ? task : Context.current().wrap(task);
  }

  // ---- the model's call ------------------------------------------------------------------

  /** A verb of the model's, in a child span of the request's that records its failure. */
  static <T> T model(String verb, String unitId, Supplier<T> call) {
    Tracing on = active;
    if (on == null) {
      return call.get();
    }
    Span span = on.tracer.spanBuilder("model " + verb)
        .setAttribute("seldon.verb", verb)
        .setAttribute("seldon.unit_id", unitId)
        .startSpan();
    try (Scope ignored = span.makeCurrent()) {
      return call.get();
    } catch (SeldonException e) {
      span.recordException(e);
      span.setAttribute("seldon.status_code", e.status());
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, UserCode.describe(e));
      throw e;
    } finally {
      span.end();
    }
  }

  /** How the propagators read a carrier of the trace's headers (REST's headers, gRPC's metadata). */
  private static <C> TextMapGetter<C> getter(Function<C, Iterable<String>> keys, BiFunction<C, String, String> first) {
    return new TextMapGetter<>() {
      @Override
      public Iterable<String> keys(C carrier) {
        return keys.apply(carrier);
      }

      @Override
      public String get(C carrier, String key) {
        return carrier == null ? null : first.apply(carrier, key);
      }
    };
  }

  // ---- REST --------------------------------------------------------------------------------

  private static final TextMapGetter<HttpHeaders> HEADERS = getter(HttpHeaders::names, HttpHeaders::get);

  /** A REST request's server span, current until closed: null when tracing is off. */
  static RestSpan rest(String method, String path, HttpHeaders headers) {
    Tracing on = active;
    if (on == null) {
      return null;
    }
    Context parent = on.propagator.extract(Context.root(), headers, HEADERS);
    Span span = on.tracer.spanBuilder(method + " " + path).setParent(parent).setSpanKind(SpanKind.SERVER)
        .setAttribute("http.request.method", method)
        .setAttribute("url.path", path)
        .startSpan();
    return new RestSpan(span, span.makeCurrent());
  }

  /** A REST request's span: its answer's status is set before it ends. */
  static final class RestSpan implements AutoCloseable {
    private final Span span;
    private final Scope scope;

    private RestSpan(Span span, Scope scope) {
      this.span = span;
      this.scope = scope;
    }

    /** The answer's status; a 5xx marks the span an error, described by the body's first 300 bytes. */
    void answered(int status, byte[] body) {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) {
        span.setStatus(StatusCode.ERROR,
            new String(body, 0, Math.min(300, body.length), java.nio.charset.StandardCharsets.UTF_8));
      }
    }

    @Override
    public void close() {
      scope.close();
      span.end();
    }
  }

  // ---- gRPC --------------------------------------------------------------------------------

  private static final TextMapGetter<Metadata> METADATA = getter(Metadata::keys,
      (metadata, key) -> metadata.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER)));

  /** A server span per gRPC call, current while the call's handler runs. */
  static ServerInterceptor grpc() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Tracing on = active;
        if (on == null) {
          return next.startCall(call, headers);
        }
        String method = call.getMethodDescriptor().getFullMethodName();
        Context parent = on.propagator.extract(Context.root(), headers, METADATA);
        Span span = on.tracer.spanBuilder(method).setParent(parent).setSpanKind(SpanKind.SERVER)
            .setAttribute("rpc.system", "grpc")
            .setAttribute("rpc.service", call.getMethodDescriptor().getServiceName())
            .setAttribute("rpc.method", call.getMethodDescriptor().getBareMethodName())
            .startSpan();
        Context context = parent.with(span);
        ServerCall<Q, R> traced = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            span.setAttribute("rpc.grpc.status", status.getCode().name());
            if (GRPC_SERVER_ERRORS.contains(status.getCode())) {
              span.setStatus(StatusCode.ERROR, String.valueOf(status.getDescription()));
            }
            try {
              super.close(status, trailers);
            } finally {
              span.end();
            }
          }
        };
        ServerCall.Listener<Q> listener;
        try (Scope ignored = context.makeCurrent()) {
          listener = next.startCall(traced, headers);
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
          @Override
          public void onMessage(Q message) {
            try (Scope ignored = context.makeCurrent()) {
              super.onMessage(message);
            }
          }

          @Override
          public void onHalfClose() {
            try (Scope ignored = context.makeCurrent()) {
              super.onHalfClose();
            }
          }

          @Override
          public void onCancel() {
            try (Scope ignored = context.makeCurrent()) {
              super.onCancel();
            } finally {
              span.end();
            }
          }
        };
      }
    };
  }

  // ---- export ------------------------------------------------------------------------------

  /** An exporter's stand-in counting the spans it could not deliver (and saying so in the log). */
  static final class CountingExporter implements SpanExporter {
    private final SpanExporter exporter;
    private final java.util.function.DoubleConsumer dropped;

    CountingExporter(SpanExporter exporter, java.util.function.DoubleConsumer dropped) {
      this.exporter = exporter;
      this.dropped = dropped;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      CompletableResultCode result;
      try {
        result = exporter.export(spans);
      } catch (RuntimeException e) {
        Log.warning("the span exporter failed: " + UserCode.describe(e));
        result = CompletableResultCode.ofFailure();
      }
      CompletableResultCode done = result;
      done.whenComplete(() -> {
        if (!done.isSuccess()) {
          dropped.accept(spans.size());
          Log.warning("dropped " + spans.size() + " spans: the collector did not take them");
        }
      });
      return done;
    }

    @Override
    public CompletableResultCode flush() {
      return exporter.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return exporter.shutdown();
    }
  }
}
