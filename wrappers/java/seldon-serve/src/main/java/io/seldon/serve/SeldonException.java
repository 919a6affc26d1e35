package io.seldon.serve;

/**
 * An error with a chosen HTTP status and Seldon reason. Throw it from a model to answer, say,
 * {@code 422} instead of the {@code 500} any other exception gets:
 *
 * <pre>{@code throw new SeldonException("no such customer", 404);}</pre>
 *
 * <p>Over gRPC the status becomes the matching status code (400 INVALID_ARGUMENT, 404
 * UNIMPLEMENTED, 5xx INTERNAL, ...).
 */
public class SeldonException extends RuntimeException {
  // Seldon's reasons, as the contract (contract.yaml) spells them.
  public static final String BAD_DATA = Contract.reason("BAD_DATA");
  public static final String INTERNAL_ERROR = Contract.reason("INTERNAL_ERROR");
  public static final String BAD_PARAMETER = Contract.reason("BAD_PARAMETER");
  public static final String NOT_IMPLEMENTED = Contract.reason("NOT_IMPLEMENTED");

  private final int status;
  private final String reason;

  public SeldonException(String message, int status, String reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }

  public SeldonException(String message, int status) {
    this(message, status, status >= 500 ? INTERNAL_ERROR : BAD_DATA);
  }

  public SeldonException(String message) {
    this(message, 400, BAD_DATA);
  }

  /** The request could not be decoded or does not fit the verb. */
  static SeldonException badData(String message) {
    return new SeldonException(message, 400, BAD_DATA);
  }

  /** The wrapper or the model produced something that is not a valid answer. */
  static SeldonException internal(String message) {
    return new SeldonException(message, 500, INTERNAL_ERROR);
  }

  /** This unit cannot answer the request at all (a COMBINER asked for one Open Inference message). */
  static SeldonException notServed(String message, int status) {
    return new SeldonException(message, status, NOT_IMPLEMENTED);
  }

  /** The path exists but does not take this HTTP method: 405, with the methods it takes (its Allow header). */
  public static SeldonException methodNotAllowed(String method, String... allowed) {
    return new MethodNotAllowed(method, String.join(", ", allowed));
  }

  /** A 405; {@link #allow()} is its Allow header. */
  static final class MethodNotAllowed extends SeldonException {
    private final String allow;

    private MethodNotAllowed(String method, String allow) {
      super("this endpoint takes " + allow.replace(", ", " or ") + ", not " + method, 405, BAD_DATA);
      this.allow = allow;
    }

    String allow() {
      return allow;
    }
  }

  /** The same error answered with another status. */
  SeldonException withStatus(int newStatus) {
    return new SeldonException(getMessage(), newStatus, reason);
  }

  public int status() {
    return status;
  }

  public String reason() {
    return reason;
  }
}
