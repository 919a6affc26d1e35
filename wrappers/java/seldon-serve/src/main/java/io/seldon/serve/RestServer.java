package io.seldon.serve;

import com.google.gson.JsonElement;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The REST side, on the JDK's own HTTP server (no framework: it starts in milliseconds and
 * adds nothing to the image). Every verb takes its SeldonMessage as a JSON body, a json= form
 * field, ?json= on a GET, or a multipart upload. On every path a body may come compressed, and
 * an answer goes compressed when the client asks (ContentCoding).
 */
final class RestServer {
  private static final String JSON = RestProtocol.JSON;

  private final Microservice service; // null when the Seldon protocol is not served
  private final RestProtocol other; // the Open Inference Protocol's /v2, or null when it is not served
  private final HttpServer server;
  private final ExecutorService executor;
  private final ExecutorService refusals; // answers 503 to requests past HttpLimits.maxConnections
  private final Map<String, Route> routes = new HashMap<>();
  private final int maxBodyBytes; // a larger body is answered 413 (REST_MAX_BODY_BYTES)
  private final int compressMinBytes; // a smaller answer is not compressed (REST_COMPRESS_MIN_BYTES; 0: none is)
  private final HttpLimits limits;
  private final boolean accessLog; // ACCESS_LOG: a line per request
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger admitted = new AtomicInteger(); // waiting for a thread, or in progress until answered
  private volatile boolean closing;

  /** Set on a refusal thread while it runs an exchange: that request is answered 503. */
  private static final ThreadLocal<Boolean> REFUSING = ThreadLocal.withInitial(() -> false);

  /** Set on a serving thread while its exchange still holds a place under HttpLimits.maxConnections. */
  private static final ThreadLocal<Boolean> HOLDS_PLACE = ThreadLocal.withInitial(() -> false);

  private record Route(Kind kind, Function<Incoming, Reply> handler) {}

  /** What a route reads: the request's message (parsed when asked) and its Seldon-Puid header, or null. */
  private record Incoming(Supplier<JsonElement> body, String puid) {}

  /** What a route answers: the HTTP status and the body (JSON, but for a ping). */
  private record Reply(int status, String body) {
    static Reply ok(String body) {
      return new Reply(200, body);
    }
  }

  private enum Kind {
    BODY, // a verb: the request carries a message, by POST or as ?json= on a GET
    GET, // health status and metadata
    PING,
    DOCUMENT // the OpenAPI document (/seldon.json)
  }

  RestServer(Microservice service, RestProtocol other, String host, int port, int threads, int maxBodyBytes,
      int compressMinBytes, HttpLimits limits, boolean accessLog) throws IOException {
    this.service = service;
    this.other = other;
    this.maxBodyBytes = maxBodyBytes;
    this.compressMinBytes = compressMinBytes;
    this.limits = limits;
    this.accessLog = accessLog;
    if (service != null) {
      seldonRoutes(service);
    }
    // Built on first use: a model that is never asked for its contract never parses it.
    Supplier<String> contract = memoized(() -> OpenApi.document(service != null, other != null));
    add(Kind.DOCUMENT, in -> Reply.ok(contract.get()), OpenApi.PATH);
    server = HttpServer.create(new InetSocketAddress(host, port), 2048);
    executor = Executors.newFixedThreadPool(threads, Threads.named("rest"));
    refusals = Executors.newFixedThreadPool(2, Threads.named("rest-refusal"));
    server.setExecutor(this::admit);
    server.createContext("/", this::handle);
  }

  /**
   * The JDK hands each request (as a task that reads and answers it) here: up to
   * maxConnections wait for a thread, the rest are answered 503 by the refusal threads at once
   * rather than queued without bound.
   */
  private void admit(Runnable exchange) {
    // In flight from here, not from handle(): shutdown must not stop the server between the two,
    // while a thread is about to answer (its answer would be cut after the headers).
    inFlight.incrementAndGet();
    if (admitted.incrementAndGet() > limits.maxConnections()) {
      admitted.decrementAndGet();
      refusals.execute(() -> {
        REFUSING.set(true);
        try {
          exchange.run();
        } finally {
          REFUSING.remove();
          inFlight.decrementAndGet();
        }
      });
      return;
    }
    executor.execute(() -> {
      HOLDS_PLACE.set(true);
      try {
        exchange.run();
      } finally {
        freePlace();
        inFlight.decrementAndGet();
      }
    });
  }

  /**
   * Gives up this thread's place under the cap, once. Called as the answer is about to be sent:
   * a client that has read its answer (and, say, opens its next connection) must find the place
   * free, and the JDK closes the exchange only a moment after the last byte went out.
   */
  private void freePlace() {
    if (HOLDS_PLACE.get()) {
      HOLDS_PLACE.set(false);
      admitted.decrementAndGet();
    }
  }

  private void seldonRoutes(Microservice service) {
    // Seldon's wrapper lets a raw predict answer choose its HTTP status (its status.code); only predict.
    addMessage(service::predict, true, "/predict", "/api/v1.0/predictions", "/api/v0.1/predictions");
    addMessage(service::transformInput, false, "/transform-input", "/api/v1.0/transform-input");
    addMessage(service::transformOutput, false, "/transform-output", "/api/v1.0/transform-output");
    addMessage(service::route, false, "/route", "/api/v1.0/route");
    add(Kind.BODY, in -> Reply.ok(JsonOut.message(
        service.aggregate(Messages.withPuid(JsonIn.messageList(in.body().get()), in.puid())))),
        "/aggregate", "/api/v1.0/aggregate");
    add(Kind.BODY, in -> Reply.ok(JsonOut.message(
        service.sendFeedback(Messages.withPuid(JsonIn.feedback(in.body().get()), in.puid())))),
        "/send-feedback", "/api/v1.0/feedback", "/api/v0.1/feedback");
    add(Kind.GET, in -> Reply.ok(healthStatus(service)), "/health/status", "/api/v1.0/health/status");
    String metadata = Json.plain(service.metadata());
    add(Kind.GET, in -> Reply.ok(metadata), "/metadata", "/api/v1.0/metadata");
    add(Kind.PING, in -> Reply.ok("pong"), "/health/ping", "/ping");
  }

  /** A verb on one message; `statusFromAnswer`: the answer's status.code, when it has one, is the HTTP status. */
  private void addMessage(Function<SeldonMessage, SeldonMessage> verb, boolean statusFromAnswer, String... paths) {
    add(Kind.BODY, in -> {
      SeldonMessage answer = verb.apply(Messages.withPuid(JsonIn.message(in.body().get()), in.puid()));
      return new Reply(statusFromAnswer ? httpStatus(answer) : 200, JsonOut.message(answer));
    }, paths);
  }

  /**
   * The status a raw answer asks for with status.code (Seldon's Predict() answers with it), or
   * 200 when it asks for none (0, proto's unset) or for one that cannot come with a body.
   */
  static int httpStatus(SeldonMessage answer) {
    int code = answer.getStatus().getCode();
    return code >= 200 && code <= 599 && code != 204 && code != 304 ? code : 200;
  }

  private void add(Kind kind, Function<Incoming, Reply> handler, String... paths) {
    for (String path : paths) {
      routes.put(path, new Route(kind, handler));
    }
  }

  private static Supplier<String> memoized(Supplier<String> make) {
    return new Supplier<>() {
      private volatile String value;

      @Override
      public String get() {
        if (value == null) {
          value = make.get();
        }
        return value;
      }
    };
  }

  private static String healthStatus(Microservice service) {
    SeldonMessage status = service.healthStatus();
    if (status == null) {
      return "{\"status\":{\"status\":\"SUCCESS\",\"code\":200,\"info\":\"healthy\"}}";
    }
    return JsonOut.message(status);
  }

  void start() {
    server.start();
  }

  /** The port it listens on (the one it was given, or the one picked for port 0). */
  int port() {
    return server.getAddress().getPort();
  }

  /** Stop taking connections once the requests in progress are answered (or `grace` is over). */
  void shutdown(long graceMillis) throws InterruptedException {
    closing = true;
    long deadline = System.currentTimeMillis() + graceMillis;
    while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    // stop(0): on JDK 17 and 21, stop(n) waits all n seconds even when nothing is in progress.
    server.stop(0);
    executor.shutdown();
    refusals.shutdown();
    executor.awaitTermination(1, TimeUnit.SECONDS);
  }

  private void handle(HttpExchange exchange) throws IOException {
    long started = System.nanoTime();
    try {
      Answer refusal = refusal(exchange);
      if (refusal != null) {
        drain(exchange); // a body left unread would reset the connection, and the answer with it
      }
      Answer answer = refusal != null ? refusal : Tracing.on() ? tracedAnswer(exchange) : answer(exchange);
      if (closing || refusal != null) {
        exchange.getResponseHeaders().set("Connection", "close");
      }
      freePlace();
      int sent = send(exchange, answer);
      if (accessLog) {
        AccessLog.rest(exchange.getRequestMethod(), exchange.getRequestURI().toString(), answer.status, sent,
            started, exchange.getRequestHeaders().getFirst("Seldon-Puid"));
      }
    } finally {
      exchange.close();
    }
  }

  /**
   * Sends the answer, compressed when the client's Accept-Encoding asks and it is at least
   * compressMinBytes; HEAD gets the headers GET would. Answers the body's bytes sent.
   */
  private int send(HttpExchange exchange, Answer answer) throws IOException {
    byte[] body = answer.body;
    Headers headers = exchange.getResponseHeaders();
    String coding = compressMinBytes > 0 && body.length >= compressMinBytes
        ? ContentCoding.accepted(exchange.getRequestHeaders().getFirst("Accept-Encoding")) : null;
    if (coding != null) {
      body = ContentCoding.compress(body, coding);
      headers.set("Content-Encoding", coding);
      headers.set("Vary", "Accept-Encoding");
    }
    headers.set("Content-Type", answer.contentType);
    answer.headers.forEach(headers::set);
    if (exchange.getRequestMethod().equals("HEAD")) {
      // The JDK sends no Content-Length for a HEAD answer (and warns when given one): set by hand.
      headers.set("Content-Length", Integer.toString(body.length));
      exchange.sendResponseHeaders(answer.status, -1);
      return 0;
    }
    exchange.sendResponseHeaders(answer.status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
    return body.length;
  }

  /** The answer to a request this server will not serve (HttpLimits), or null to serve it. */
  private Answer refusal(HttpExchange exchange) {
    String path = exchange.getRequestURI().getRawPath();
    if (REFUSING.get()) {
      // Worded as the python family's: each request in progress or waiting holds a connection.
      return refused(path, 503,
          "over " + limits.maxConnections() + " connections at once (HTTP_MAX_CONNECTIONS): try again");
    }
    if (exchange.getRequestURI().toString().length() > limits.maxUrlBytes()) {
      return refused(path, 414, "request target over " + limits.maxUrlBytes() + " bytes (HTTP_MAX_URL_BYTES)");
    }
    long headerBytes = 0;
    for (Map.Entry<String, java.util.List<String>> header : exchange.getRequestHeaders().entrySet()) {
      for (String value : header.getValue()) {
        headerBytes += header.getKey().length() + value.length();
      }
    }
    if (headerBytes > limits.maxHeaderBytes()) {
      return refused(path, 431,
          "request header lines over " + limits.maxHeaderBytes() + " bytes (HTTP_MAX_HEADER_BYTES)");
    }
    return null;
  }

  /** A refusal worded as the path's protocol words errors. */
  private Answer refused(String path, int status, String message) {
    Log.warning("refused a request (" + status + "): " + message);
    boolean v2 = other != null && other.serves(path.length() > 1 && path.endsWith("/")
        ? path.substring(0, path.length() - 1) : path);
    return new Answer(status, JSON, v2 ? other.error(message) : JsonOut.error(message, SeldonException.BAD_DATA));
  }

  /** What the server sends: status, content type, body, and headers of the answer's own (a 405's Allow). */
  private record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
    Answer(int status, String contentType, String body) {
      this(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    static Answer of(RestProtocol.Reply reply) {
      return new Answer(reply.status(), reply.contentType(), reply.body(), reply.headers());
    }
  }

  /** The answer, in a server span continuing the caller's trace. */
  private Answer tracedAnswer(HttpExchange exchange) {
    try (Tracing.RestSpan span = Tracing.rest(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
        exchange.getRequestHeaders())) {
      Answer answer = answer(exchange);
      span.answered(answer.status, answer.body);
      return answer;
    }
  }

  private Answer answer(HttpExchange exchange) {
    String path = exchange.getRequestURI().getRawPath();
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (other != null && other.serves(path)) {
      RestProtocol.Reply reply = other.reply(exchange.getRequestMethod(), path, request(exchange));
      drain(exchange);
      return Answer.of(reply);
    }
    Route route = routes.get(path);
    try {
      if (route == null) {
        drain(exchange);
        throw SeldonException.badData("no endpoint " + path).withStatus(404);
      }
      checkMethod(exchange, route.kind);
      if (route.kind != Kind.BODY) {
        drain(exchange);
      }
      Reply reply = route.handler.apply(new Incoming(() -> body(exchange),
          exchange.getRequestHeaders().getFirst("Seldon-Puid")));
      String contentType = route.kind == Kind.PING ? "text/plain; charset=utf-8" : JSON;
      return new Answer(reply.status(), contentType, reply.body());
    } catch (SeldonException.MethodNotAllowed e) {
      drain(exchange);
      byte[] body = JsonOut.error(e.getMessage(), e.reason()).getBytes(StandardCharsets.UTF_8);
      return new Answer(e.status(), JSON, body, Map.of("Allow", e.allow()));
    } catch (SeldonException e) {
      return new Answer(e.status(), JSON, JsonOut.error(e.getMessage(), e.reason()));
    } catch (RuntimeException e) { // a wrapper bug must still answer with Seldon's body
      Log.error("unexpected error serving " + path + ": " + Log.stackTrace(e));
      return new Answer(500, JSON, JsonOut.error(UserCode.describe(e), SeldonException.INTERNAL_ERROR));
    }
  }

  /**
   * The methods the OpenAPI document declares: a verb by POST or GET ?json=, the rest by GET; HEAD
   * wherever GET is (answered without the body), as Flask answers it for Seldon.
   */
  private static void checkMethod(HttpExchange exchange, Kind kind) {
    String method = exchange.getRequestMethod().equals("HEAD") ? "GET" : exchange.getRequestMethod();
    if (kind == Kind.BODY && !method.equals("POST") && !method.equals("GET")) {
      throw SeldonException.methodNotAllowed(method, "GET", "POST");
    }
    if (kind != Kind.BODY && !method.equals("GET")) {
      throw SeldonException.methodNotAllowed(method, "GET");
    }
  }

  /** The request as another protocol reads it. */
  private RestProtocol.Request request(HttpExchange exchange) {
    return new RestProtocol.Request() {
      @Override
      public byte[] body() {
        return read(exchange);
      }

      @Override
      public String header(String name) {
        return exchange.getRequestHeaders().getFirst(name);
      }
    };
  }

  /** The message of a request, from whichever of Seldon's encodings it used. */
  private JsonElement body(HttpExchange exchange) {
    byte[] body = read(exchange);
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    contentType = contentType == null ? "" : contentType.strip();
    String text;
    if (body.length > 0 && contentType.startsWith("multipart/form-data")) {
      return Multipart.message(contentType, body);
    } else if (body.length > 0 && contentType.startsWith("application/x-www-form-urlencoded")) {
      text = formField(new String(body, StandardCharsets.UTF_8), "json");
    } else if (body.length > 0) {
      text = new String(body, StandardCharsets.UTF_8);
    } else if (exchange.getRequestURI().getRawQuery() != null) {
      text = formField(exchange.getRequestURI().getRawQuery(), "json");
    } else {
      throw SeldonException.badData(
          "empty request: send a SeldonMessage as the JSON body, a json= form field or ?json=");
    }
    return Json.parse(text, "request");
  }

  private static String formField(String encoded, String name) {
    for (String pair : encoded.split("&")) {
      int equals = pair.indexOf('=');
      String key = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return URLDecoder.decode(equals < 0 ? "" : pair.substring(equals + 1), StandardCharsets.UTF_8);
      }
    }
    throw SeldonException.badData("no " + name + "= field in the form or query");
  }

  /** The request's body, decompressed (a 413 past maxBodyBytes, decompressed). */
  private byte[] read(HttpExchange exchange) {
    try (InputStream in = exchange.getRequestBody()) {
      return ContentCoding.decodedBody(exchange.getRequestHeaders().getFirst("Content-Encoding"), in, maxBodyBytes);
    } catch (IOException e) {
      throw SeldonException.badData("could not read the request body: " + e.getMessage());
    }
  }

  private static void drain(HttpExchange exchange) {
    try (InputStream in = exchange.getRequestBody()) {
      in.transferTo(OutputStream.nullOutputStream());
    } catch (IOException e) {
      // the answer does not depend on a body nobody reads
    }
  }
}
