package io.seldon.serve;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How a unary gRPC call answers, for the Seldon services and the Open Inference Protocol's
 * ({@code io.seldon.serve.v2}, which is why it is public; it is not for models).
 */
public final class GrpcCalls {
  private GrpcCalls() {}

  /** One unary call: its reply, or the status its exception maps to (a wrapper bug is INTERNAL). */
  public static <T> void answer(StreamObserver<T> out, Supplier<T> call, Function<SeldonException, Status.Code> code) {
    T reply;
    try {
      reply = call.get();
    } catch (SeldonException e) {
      out.onError(Status.fromCode(code.apply(e)).withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (RuntimeException e) {
      Log.error("unexpected error serving gRPC: " + Log.stackTrace(e));
      out.onError(Status.INTERNAL.withDescription(UserCode.describe(e)).asRuntimeException());
      return;
    }
    out.onNext(reply);
    out.onCompleted();
  }

  /**
   * Seldon's wrapper lets every exception become UNKNOWN; a client deserves the real category:
   * the contract's status for the HTTP status REST answers the same error with.
   */
  public static Status.Code code(int httpStatus) {
    return Contract.grpcCode(httpStatus);
  }
}
