package io.seldon.serve;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A protocol the REST server serves besides Seldon's, under paths of its own: the Open Inference
 * Protocol's /v2 ({@code io.seldon.serve.v2}), handed to the server by Main. The server reads the
 * body (decompressed) and sends the answer (compressed when the client asks); the protocol
 * routes, answers and words its own error body. Public for that package, not for models.
 */
public abstract class RestProtocol {
  public static final String JSON = "application/json";

  /** What a protocol reads of a request. */
  public interface Request {
    /** The body, decompressed; empty when there is none. Read from the connection once: ask once. */
    byte[] body();

    /** A header's first value (its name in any case), or null. */
    String header(String name);
  }

  /** An answer: HTTP status, content type, body, and headers of its own (a 405's Allow, say). */
  public record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
    public Reply {
      headers = Map.copyOf(headers);
    }

    /** A JSON answer. */
    public static Reply json(int status, String json) {
      return new Reply(status, JSON, json.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** The same answer with one more header. */
    public Reply withHeader(String name, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(name, value);
      return new Reply(status, contentType, body, more);
    }

    /** The body as UTF-8 text (a JSON answer's JSON). */
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The Allow header of a 405, else null. */
    public String allow() {
      return headers.get("Allow");
    }
  }

  /** Whether a path (no trailing slash) is one of this protocol's. */
  public abstract boolean serves(String path);

  /**
   * The answer to a request. A SeldonException is answered with its status and {@link #error}.
   */
  protected abstract Reply answer(String method, String path, Request request);

  /** This protocol's error body. */
  protected abstract String error(String message);

  /** The answer, errors included: what the REST server sends. */
  public final Reply reply(String method, String path, Request request) {
    try {
      return answer(method, path, request);
    } catch (SeldonException e) {
      Reply refused = Reply.json(e.status(), error(e.getMessage()));
      return e instanceof SeldonException.MethodNotAllowed notAllowed
          ? refused.withHeader("Allow", notAllowed.allow()) : refused;
    } catch (RuntimeException e) { // a wrapper bug still answers the protocol's error body
      Log.error("unexpected error serving " + path + ": " + Log.stackTrace(e));
      return Reply.json(500, error(UserCode.describe(e)));
    }
  }
}
