package io.seldon.serve;

import com.google.gson.JsonElement;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The REST side, on Netty's HTTP/1.1 codec: one event loop reads and writes every connection
 * (RestConnection), and a pool of SERVER_THREADS threads computes the answers, so a slow model
 * never holds up another connection's reading or a liveness probe. Every verb takes its
 * SeldonMessage as a JSON body, a json= form field, ?json= on a GET, or a multipart upload. On
 * every path a body may come compressed, and an answer goes compressed when the client asks
 * (ContentCoding).
 */
final class RestServer implements RestConnection.Server {
  private static final String JSON = RestProtocol.JSON;

  private final Microservice service; // null when the Seldon protocol is not served
  private final RestProtocol other; // the Open Inference Protocol's /v2, or null when it is not served
  private final EventLoopGroup loop; // reads and writes every connection
  private final Channel listening;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final ExecutorService executor; // computes the answers
  private final Map<String, Route> routes = new HashMap<>();
  private final int maxBodyBytes; // a larger body is answered 413 (REST_MAX_BODY_BYTES)
  private final int compressMinBytes; // a smaller answer is not compressed (REST_COMPRESS_MIN_BYTES; 0: none is)
  private final HttpLimits limits;
  private final boolean accessLog; // ACCESS_LOG: a line per request
  private final AtomicInteger inFlight = new AtomicInteger(); // read whole, until its answer is written
  private final AtomicInteger admitted = new AtomicInteger(); // waiting for a thread, or in progress until answered
  private volatile boolean closing;

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
    executor = Executors.newFixedThreadPool(threads, Threads.named("rest"));
    loop = new MultiThreadIoEventLoopGroup(1, Threads.named("rest-io"), NioIoHandler.newFactory());
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(loop)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 2048)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel channel) {
            connections.add(channel);
            ChannelPipeline pipeline = channel.pipeline();
            if (limits.keepaliveSeconds() > 0) {
              pipeline.addLast(new IdleStateHandler(0, 0, limits.keepaliveSeconds()));
            }
            pipeline.addLast(new HttpServerCodec(decoderLimits(limits)));
            pipeline.addLast(new HttpServerExpectContinueHandler()); // curl waits for it on larger bodies
            pipeline.addLast(new RestConnection(RestServer.this, maxBodyBytes));
          }
        });
    ChannelFuture bound = bootstrap.bind(new InetSocketAddress(host, port)).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      executor.shutdown();
      loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw new IOException("REST port " + port + ": " + bound.cause().getMessage(), bound.cause());
    }
    listening = bound.channel();
  }

  /**
   * The decoder's own caps lie above ours (HttpLimits), so that a request over ours is read and
   * answered 414 or 431 in the path's protocol, rather than cut short by the decoder. A header
   * line is its name and value (what ours counts) and at most four bytes more (": ", CRLF).
   */
  private static HttpDecoderConfig decoderLimits(HttpLimits limits) {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength((int) Math.min(Integer.MAX_VALUE, limits.maxUrlBytes() + 4096L))
        .setMaxHeaderSize((int) Math.min(Integer.MAX_VALUE, 5L * limits.maxHeaderBytes() + 4096L));
  }

  /**
   * A request read whole, on the event loop: refused at once when over a limit (HttpLimits), or
   * past maxConnections requests waiting for a thread or in progress; otherwise answered by a
   * pool thread.
   */
  @Override
  public void serve(RestRequest request, RestConnection connection) {
    long started = System.nanoTime();
    inFlight.incrementAndGet();
    Answer refusal = refusal(request);
    if (refusal == null && admitted.incrementAndGet() > limits.maxConnections()) {
      admitted.decrementAndGet();
      // Worded as the python family's: each request in progress or waiting holds a connection.
      refusal = refused(request.rawPath(), 503,
          "over " + limits.maxConnections() + " connections at once (HTTP_MAX_CONNECTIONS): try again");
    }
    if (refusal != null) {
      send(request, connection, refusal, true, started);
      return;
    }
    try {
      executor.execute(() -> {
        Answer answer;
        try {
          answer = Tracing.on() ? tracedAnswer(request) : answer(request);
        } finally {
          // Given up as the answer goes out: a client that has read it (and opens its next
          // connection) must find the place free.
          admitted.decrementAndGet();
        }
        send(request, connection, encoded(request, answer), closing || !request.keepAlive(), started);
      });
    } catch (RejectedExecutionException e) { // shut down between the read and now
      admitted.decrementAndGet();
      send(request, connection, refused(request.rawPath(), 503, "the server is stopping"), true, started);
    }
  }

  private void send(RestRequest request, RestConnection connection, Answer answer, boolean close, long started) {
    connection.answer(request, answer, close, inFlight::decrementAndGet);
    if (accessLog) {
      boolean head = request.method().equals("HEAD");
      AccessLog.rest(request.method(), request.target(), answer.status, head ? 0 : answer.body.length, started,
          request.header("Seldon-Puid"));
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
    // Bound (and so listening) since construction: a port already taken fails Main's start-up.
  }

  /** The port it listens on (the one it was given, or the one picked for port 0). */
  int port() {
    return ((InetSocketAddress) listening.localAddress()).getPort();
  }

  /** Stop taking connections once the requests in progress are answered (or `grace` is over). */
  void shutdown(long graceMillis) throws InterruptedException {
    closing = true; // answers from now on say Connection: close
    long deadline = System.currentTimeMillis() + graceMillis;
    while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    listening.close().awaitUninterruptibly();
    connections.close().awaitUninterruptibly();
    loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    executor.shutdown();
    executor.awaitTermination(1, TimeUnit.SECONDS);
  }

  /** The answer to a request this server will not serve (HttpLimits, or one it cannot read), or null to serve it. */
  private Answer refusal(RestRequest request) {
    if (request.malformed() != null) {
      return malformed(request);
    }
    String path = request.rawPath();
    if (request.target().length() > limits.maxUrlBytes()) {
      return refused(path, 414, "request target over " + limits.maxUrlBytes() + " bytes (HTTP_MAX_URL_BYTES)");
    }
    long headerBytes = 0;
    for (Map.Entry<String, String> header : request.headers()) {
      headerBytes += header.getKey().length() + header.getValue().length();
    }
    if (headerBytes > limits.maxHeaderBytes()) {
      return refused(path, 431,
          "request header lines over " + limits.maxHeaderBytes() + " bytes (HTTP_MAX_HEADER_BYTES)");
    }
    return null;
  }

  /** The decoder's own caps (far above ours) or a request that is not HTTP. */
  private Answer malformed(RestRequest request) {
    Throwable cause = request.malformed();
    if (cause instanceof TooLongHttpLineException) {
      return refused("/", 414, "request target over " + limits.maxUrlBytes() + " bytes (HTTP_MAX_URL_BYTES)");
    }
    if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
      return refused("/", 431,
          "request header lines over " + limits.maxHeaderBytes() + " bytes (HTTP_MAX_HEADER_BYTES)");
    }
    return refused(request.rawPath(), 400, "malformed HTTP request: " + cause.getMessage());
  }

  /** A refusal worded as the path's protocol words errors. */
  private Answer refused(String path, int status, String message) {
    Log.warning("refused a request (" + status + "): " + message);
    boolean v2 = other != null && other.serves(path.length() > 1 && path.endsWith("/")
        ? path.substring(0, path.length() - 1) : path);
    return new Answer(status, JSON, v2 ? other.error(message) : JsonOut.error(message, SeldonException.BAD_DATA));
  }

  /** What the server sends: status, content type, body, and headers of the answer's own (a 405's Allow). */
  record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
    Answer(int status, String contentType, String body) {
      this(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    static Answer of(RestProtocol.Reply reply) {
      return new Answer(reply.status(), reply.contentType(), reply.body(), reply.headers());
    }
  }

  /**
   * The answer compressed when the client's Accept-Encoding asks and it is at least
   * compressMinBytes (HEAD gets the headers GET would).
   */
  private Answer encoded(RestRequest request, Answer answer) {
    String coding = compressMinBytes > 0 && answer.body.length >= compressMinBytes
        ? ContentCoding.accepted(request.header("Accept-Encoding")) : null;
    if (coding == null) {
      return answer;
    }
    Map<String, String> headers = new HashMap<>(answer.headers);
    headers.put("Content-Encoding", coding);
    headers.put("Vary", "Accept-Encoding");
    return new Answer(answer.status, answer.contentType, ContentCoding.compress(answer.body, coding), headers);
  }

  /** The answer, in a server span continuing the caller's trace. */
  private Answer tracedAnswer(RestRequest request) {
    try (Tracing.RestSpan span = Tracing.rest(request.method(), request.rawPath(), request.headers())) {
      Answer answer = answer(request);
      span.answered(answer.status, answer.body);
      return answer;
    }
  }

  private Answer answer(RestRequest request) {
    String path = request.rawPath();
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (other != null && other.serves(path)) {
      return Answer.of(other.reply(request.method(), path, protocolRequest(request)));
    }
    Route route = routes.get(path);
    try {
      if (route == null) {
        throw SeldonException.badData("no endpoint " + path).withStatus(404);
      }
      checkMethod(request.method(), route.kind);
      Reply reply = route.handler.apply(new Incoming(() -> body(request), request.header("Seldon-Puid")));
      String contentType = route.kind == Kind.PING ? "text/plain; charset=utf-8" : JSON;
      return new Answer(reply.status(), contentType, reply.body());
    } catch (SeldonException.MethodNotAllowed e) {
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
  private static void checkMethod(String asked, Kind kind) {
    String method = asked.equals("HEAD") ? "GET" : asked;
    if (kind == Kind.BODY && !method.equals("POST") && !method.equals("GET")) {
      throw SeldonException.methodNotAllowed(method, "GET", "POST");
    }
    if (kind != Kind.BODY && !method.equals("GET")) {
      throw SeldonException.methodNotAllowed(method, "GET");
    }
  }

  /** The request as another protocol reads it. */
  private RestProtocol.Request protocolRequest(RestRequest request) {
    return new RestProtocol.Request() {
      @Override
      public byte[] body() {
        return read(request);
      }

      @Override
      public String header(String name) {
        return request.header(name);
      }
    };
  }

  /** The message of a request, from whichever of Seldon's encodings it used. */
  private JsonElement body(RestRequest request) {
    byte[] body = read(request);
    String contentType = request.header("Content-Type");
    contentType = contentType == null ? "" : contentType.strip();
    String text;
    if (body.length > 0 && contentType.startsWith("multipart/form-data")) {
      return Multipart.message(contentType, body);
    } else if (body.length > 0 && contentType.startsWith("application/x-www-form-urlencoded")) {
      text = formField(new String(body, StandardCharsets.UTF_8), "json");
    } else if (body.length > 0) {
      text = new String(body, StandardCharsets.UTF_8);
    } else if (request.rawQuery() != null) {
      text = formField(request.rawQuery(), "json");
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

  /** The request's body, decompressed (a 413 past maxBodyBytes, as sent or decompressed). */
  private byte[] read(RestRequest request) {
    String coding = request.header("Content-Encoding");
    boolean compressed = ContentCoding.compressed(coding); // a 415 for a coding it does not know
    if (request.overflow()) {
      throw ContentCoding.tooLarge(maxBodyBytes, compressed);
    }
    try {
      return ContentCoding.decodedBody(coding, request.body(), maxBodyBytes);
    } catch (IOException e) {
      throw SeldonException.badData("could not read the request body: " + e.getMessage());
    }
  }
}
