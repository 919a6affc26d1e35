package io.seldon.serve;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * grpc-java answers a request whose bytes do not parse as its message with UNKNOWN
 * ("Application error processing RPC"): the parse fails before any handler of ours runs. This
 * wraps a service so such a request is refused with INVALID_ARGUMENT and the parser's reason,
 * as the other families' wrappers answer it (but for a message too large once decompressed).
 * The service keeps its descriptors (reflection).
 */
final class UnparsableRequests {
  // Set by the request marshaller and read by the listener it feeds, on the same thread.
  private static final ThreadLocal<Status> FAILURE = new ThreadLocal<>();

  private UnparsableRequests() {}

  static ServerServiceDefinition refused(ServerServiceDefinition service) {
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<?, ?> guarded = guarded(method);
      descriptor.addMethod(guarded.getMethodDescriptor());
      methods.add(guarded);
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> guarded(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    Marshaller<Q> strict = descriptor.getRequestMarshaller();
    Marshaller<Q> lenient = new Marshaller<>() {
      @Override
      public InputStream stream(Q value) {
        return strict.stream(value);
      }

      @Override
      public Q parse(InputStream stream) {
        try {
          return strict.parse(stream);
        } catch (StatusRuntimeException e) {
          FAILURE.set(refusal(e));
          return null; // the listener below refuses the call
        }
      }
    };
    ServerCallHandler<Q, R> handler = method.getServerCallHandler();
    ServerCallHandler<Q, R> refusing = (call, headers) -> new SimpleForwardingServerCallListener<>(
        handler.startCall(call, headers)) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (message == null) {
          refused = true;
          Status refusal = FAILURE.get();
          FAILURE.remove();
          call.close(refusal, new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) { // the call is closed already: the handler must not answer it
          super.onHalfClose();
        }
      }
    };
    return ServerMethodDefinition.create(descriptor.toBuilder(lenient, descriptor.getResponseMarshaller()).build(),
        refusing);
  }

  /**
   * What a request that failed to parse is answered: a message over GRPC_MAX_MESSAGE_BYTES once
   * decompressed (grpc-java finds it while the parser reads) keeps its RESOURCE_EXHAUSTED, as one
   * over it on the wire gets; any other failure is the client's bytes.
   */
  private static Status refusal(StatusRuntimeException failure) {
    if (failure.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
      return failure.getStatus();
    }
    String why = failure.getStatus().getDescription()
        + (failure.getCause() == null ? "" : ": " + failure.getCause().getMessage());
    return Status.INVALID_ARGUMENT.withDescription("cannot decode the request: " + why);
  }
}
