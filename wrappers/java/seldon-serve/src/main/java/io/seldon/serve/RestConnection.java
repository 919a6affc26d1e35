package io.seldon.serve;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;

/**
 * One client connection to the REST port, on its Netty event loop: each request is read whole
 * (its body kept up to one byte past REST_MAX_BODY_BYTES, or for a compressed body twice that
 * and a KiB, the rest read and dropped: {@link #keptBytes}), handed to
 * the server, and answered; requests pipelined behind it wait their turn, so answers go out in
 * the order asked. Past HTTP_KEEPALIVE_SECONDS idle with nothing in progress, the connection is
 * closed. Every field is touched on the event loop only.
 */
final class RestConnection extends ChannelInboundHandlerAdapter {
  private static final byte[] NO_BODY = new byte[0];

  /** What serves a connection's requests. */
  interface Server {
    /** Serves a request; the answer comes back through {@link #answer}, from any thread. */
    void serve(RestRequest request, RestConnection connection);
  }

  private final Server server;
  private final int maxBodyBytes; // REST_MAX_BODY_BYTES
  private final ArrayDeque<RestRequest> waiting = new ArrayDeque<>();
  private ChannelHandlerContext context;
  private HttpRequest reading; // the head of the request being read, or null
  private byte[] body = NO_BODY;
  private int bodyLength;
  private int keptBodyBytes; // of the request being read
  private boolean overflow;
  private boolean serving; // one of this connection's requests is with the server
  private boolean closing; // an answer said Connection: close; anything read after it is dropped

  RestConnection(Server server, int maxBodyBytes) {
    this.server = server;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    context = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    try {
      if (message instanceof HttpObject object && object.decoderResult().isFailure()) {
        malformed(object.decoderResult());
        return;
      }
      if (message instanceof HttpRequest head) {
        reading = head;
        body = NO_BODY;
        bodyLength = 0;
        keptBodyBytes = keptBytes(head, maxBodyBytes);
        overflow = false;
      }
      if (message instanceof HttpContent content && reading != null) {
        keep(content.content());
      }
      if (message instanceof LastHttpContent && reading != null) {
        byte[] whole = bodyLength == body.length ? body : Arrays.copyOf(body, bodyLength);
        queue(new RestRequest(reading, whole, overflow, null));
        reading = null;
        body = NO_BODY;
      }
    } finally {
      ReferenceCountUtil.release(message);
    }
  }

  /**
   * How much of a request's body to keep: one byte past the limit tells a body is over it. A
   * compressed body is limited once decompressed (ContentCoding), and deflate can only grow what
   * it cannot compress by a few bytes a block: one over twice the limit and a KiB is over it.
   */
  static int keptBytes(HttpRequest head, int maxBodyBytes) {
    boolean compressed;
    try {
      compressed = ContentCoding.compressed(head.headers().get(HttpHeaderNames.CONTENT_ENCODING));
    } catch (SeldonException e) { // a coding it does not know: answered 415 once read
      compressed = false;
    }
    long kept = compressed ? 2L * maxBodyBytes + 1024 : maxBodyBytes + 1L;
    return (int) Math.min(Integer.MAX_VALUE - 8, kept);
  }

  /** Keeps the body's bytes up to keptBodyBytes; past that, notes that there were more. */
  private void keep(ByteBuf content) {
    int room = keptBodyBytes - bodyLength;
    int length = Math.min(content.readableBytes(), room);
    if (length < content.readableBytes()) {
      overflow = true;
    }
    if (length <= 0) {
      return;
    }
    if (bodyLength + length > body.length) {
      int grown = (int) Math.min(keptBodyBytes, Math.max(bodyLength + (long) length, 2L * body.length));
      body = Arrays.copyOf(body, grown);
    }
    content.readBytes(body, bodyLength, length);
    bodyLength += length;
  }

  /** A request the decoder gave up on: answered in its turn, then the connection closes. */
  private void malformed(DecoderResult result) {
    HttpRequest head = reading != null ? reading : new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
    reading = null;
    body = NO_BODY;
    queue(new RestRequest(head, NO_BODY, false, result.cause()));
  }

  private void queue(RestRequest request) {
    if (closing) {
      return;
    }
    waiting.add(request);
    serveNext();
  }

  private void serveNext() {
    if (!serving && !waiting.isEmpty() && context.channel().isActive()) {
      serving = true;
      server.serve(waiting.poll(), this);
    }
  }

  /**
   * Sends a request's answer (from any thread) and serves the next one waiting, or closes the
   * connection when `close`; `sent` runs once the answer is written (or could not be).
   */
  void answer(RestRequest request, RestServer.Answer answer, boolean close, Runnable sent) {
    FullHttpResponse response = response(request, answer, close);
    context.executor().execute(() -> {
      serving = false;
      closing |= close;
      context.writeAndFlush(response).addListener(written -> {
        sent.run();
        if (close || !written.isSuccess()) {
          context.close();
        }
      });
      if (!close) {
        serveNext();
      }
    });
  }

  private static FullHttpResponse response(RestRequest request, RestServer.Answer answer, boolean close) {
    boolean head = request.head().method().equals(HttpMethod.HEAD);
    ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body());
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(answer.status()), content, false);
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.DATE, Dates.now());
    headers.set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
    // HEAD: the length GET's answer would have, with no body.
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
    for (Map.Entry<String, String> header : answer.headers().entrySet()) {
      headers.set(header.getKey(), header.getValue());
    }
    if (close) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (request.head().protocolVersion().equals(HttpVersion.HTTP_1_0)) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return response;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    // HTTP_KEEPALIVE_SECONDS without a byte either way: closed, unless a request is in progress.
    if (event instanceof IdleStateEvent && !serving && waiting.isEmpty() && reading == null) {
      ctx.close();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a connection reset, say: nothing is left to answer on it
  }

  /** The Date header's value, made once a second rather than once a request. */
  private static final class Dates {
    private record Stamp(long second, String text) {}

    private static volatile Stamp last = new Stamp(-1, "");

    static String now() {
      long second = System.currentTimeMillis() / 1000;
      Stamp stamp = last;
      if (stamp.second != second) {
        stamp = new Stamp(second, DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)));
        last = stamp;
      }
      return stamp.text;
    }
  }
}
