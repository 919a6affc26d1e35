package io.seldon.serve;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How a unary gRPC call answers, for the Seldon services and the Open Inference Protocol's
 * ({@code io.seldon.serve.v2}, which is why it is public; it is not for models).
 */
public final class GrpcCalls {
  /** The pool a call's answer is computed on, or none: computed where the handler runs. */
  private static final Context.Key<Executor> COMPUTE = Context.key("seldon-compute");

  private GrpcCalls() {}

  /**
   * Puts `pool` in each call's context. The server runs handlers on its transport's event loop
   * (no hand-off to reach them, and gRPC health and reflection answer at once); a handler hands
   * the model's work to the pool and the pool answers, so a slow model holds up no other call.
   */
  static ServerInterceptor computeOn(Executor pool) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        return Contexts.interceptCall(Context.current().withValue(COMPUTE, pool), call, headers, next);
      }
    };
  }

  /**
   * One unary call, computed on the call's pool (with the call's gRPC and tracing contexts):
   * its reply, or the status its exception maps to (a wrapper bug is INTERNAL).
   */
  public static <T> void answer(StreamObserver<T> out, Supplier<T> call, Function<SeldonException, Status.Code> code) {
    Executor pool = COMPUTE.get();
    if (pool == null) {
      reply(out, call, code);
      return;
    }
    try {
      pool.execute(Tracing.carried(Context.current().wrap(() -> reply(out, call, code))));
    } catch (RejectedExecutionException e) { // the pool is shut down: the server is stopping
      out.onError(Status.UNAVAILABLE.withDescription("the server is stopping").asRuntimeException());
    }
  }

  private static <T> void reply(StreamObserver<T> out, Supplier<T> call, Function<SeldonException, Status.Code> code) {
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
