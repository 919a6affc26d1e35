package io.seldon.serve;

import com.google.gson.JsonElement;
import java.util.function.Supplier;

/**
 * A protocol the REST server serves besides Seldon's, under paths of its own: the Open Inference
 * Protocol's /v2 ({@code io.seldon.serve.v2}), handed to the server by Main. The server reads the
 * body and sends the answer; the protocol routes, answers and words its own error body. Public
 * for that package, not for models.
 */
public abstract class RestProtocol {
  /** An answer: HTTP status, JSON body, and the Allow header of a 405 (else null). */
  public record Reply(int status, String json, String allow) {
    public Reply(int status, String json) {
      this(status, json, null);
    }
  }

  /** Whether a path (no trailing slash) is one of this protocol's. */
  public abstract boolean serves(String path);

  /**
   * The answer to a request; `body` reads the request's JSON when asked (null for an empty body).
   * A SeldonException is answered with its status and {@link #error}.
   */
  protected abstract Reply answer(String method, String path, Supplier<JsonElement> body);

  /** This protocol's error body. */
  protected abstract String error(String message);

  /** The answer, errors included: what the REST server sends. */
  public final Reply reply(String method, String path, Supplier<JsonElement> body) {
    try {
      return answer(method, path, body);
    } catch (SeldonException e) {
      String allow = e instanceof SeldonException.MethodNotAllowed refused ? refused.allow() : null;
      return new Reply(e.status(), error(e.getMessage()), allow);
    } catch (RuntimeException e) { // a wrapper bug still answers the protocol's error body
      Log.error("unexpected error serving " + path + ": " + Log.stackTrace(e));
      return new Reply(500, error(UserCode.describe(e)));
    }
  }
}
