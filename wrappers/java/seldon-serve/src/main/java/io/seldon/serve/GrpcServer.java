package io.seldon.serve;

import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import io.seldon.protos.CombinerGrpc;
import io.seldon.protos.GenericGrpc;
import io.seldon.protos.ModelGrpc;
import io.seldon.protos.OutputTransformerGrpc;
import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.SeldonGraphMetadata;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import io.seldon.protos.PredictionProtos.SeldonModelMetadata;
import io.seldon.protos.PredictionProtos.SeldonModelMetadataRequest;
import io.seldon.protos.RouterGrpc;
import io.seldon.protos.SeldonGrpc;
import io.seldon.protos.TransformerGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The gRPC side: every service of wrappers/proto/prediction.proto (stubs generated at build
 * time) over the same Microservice as REST, the services of other protocols Main hands it
 * (open_inference.proto's), plus server reflection and gRPC health; messages compressed with gzip
 * or deflate (GrpcCompression).
 */
final class GrpcServer {
  /** The puid Seldon's executor sends as metadata (as the Seldon-Puid header over REST). */
  private static final Metadata.Key<String> PUID_HEADER =
      Metadata.Key.of("seldon-puid", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> PUID = Context.key("seldon-puid");

  private final Server server;
  private final ExecutorService executor;

  /**
   * The Seldon services when `seldon` is given, and `others` (the Open Inference Protocol's,
   * from Main). Handlers run on grpc-java's event loops and hand the model's work to a fixed
   * pool of `threads` (GrpcCalls): one hand-off each way, as REST's, where grpc-java's own
   * executor made several a call (its rate was 0.6x REST's; a pool that grows per call costs a
   * quarter more).
   */
  GrpcServer(Microservice seldon, List<BindableService> others, String host, int port, int maxMessageBytes,
      int threads, boolean accessLog) {
    executor = Executors.newFixedThreadPool(threads, Threads.named("grpc"));
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .maxInboundMessageSize(maxMessageBytes) // decompressed size (grpc-java counts as it inflates)
        .compressorRegistry(GrpcCompression.compressors())
        .decompressorRegistry(GrpcCompression.decompressors())
        .intercept(GrpcCompression.answerInTheRequestsCoding())
        .intercept(GrpcCalls.computeOn(executor))
        .directExecutor();
    if (Tracing.on()) {
      builder.intercept(Tracing.grpc());
    }
    if (accessLog) {
      builder.intercept(AccessLog.grpc());
    }
    if (seldon != null) {
      Services services = new Services(seldon);
      for (ServerServiceDefinition service : List.of(ModelGrpc.bindService(services),
          RouterGrpc.bindService(services), TransformerGrpc.bindService(services),
          OutputTransformerGrpc.bindService(services), CombinerGrpc.bindService(services),
          GenericGrpc.bindService(services), SeldonGrpc.bindService(services))) {
        builder.addService(ServerInterceptors.intercept(UnparsableRequests.refused(service), GrpcServer::withPuid));
      }
    }
    for (BindableService service : others) {
      builder.addService(UnparsableRequests.refused(service.bindService()));
    }
    server = builder
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(ProtoReflectionService.newInstance())
        .addService(new HealthStatusManager().getHealthService())
        .build();
  }

  void start() throws IOException {
    server.start();
  }

  /** The port it listens on (the one it was given, or the one picked for port 0). */
  int port() {
    return server.getPort();
  }

  /** Runs the call with its seldon-puid metadata, if any, where the Services read it. */
  private static <Q, R> ServerCall.Listener<Q> withPuid(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String puid = headers.get(PUID_HEADER);
    if (puid == null) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(PUID, puid), call, headers, next);
  }

  /** Refuse new calls at once; let those in progress finish. */
  void beginShutdown() {
    server.shutdown();
  }

  boolean awaitTermination(long millis) throws InterruptedException {
    return server.awaitTermination(millis, TimeUnit.MILLISECONDS);
  }

  void shutdownNow() {
    server.shutdownNow();
    executor.shutdownNow();
  }

  /** One implementation behind all seven services: a method answers the same in each. */
  private static final class Services implements ModelGrpc.AsyncService, RouterGrpc.AsyncService,
      TransformerGrpc.AsyncService, OutputTransformerGrpc.AsyncService, CombinerGrpc.AsyncService,
      GenericGrpc.AsyncService, SeldonGrpc.AsyncService {
    private final Microservice service;
    private final SeldonModelMetadata metadata;

    Services(Microservice service) {
      this.service = service;
      this.metadata = GrpcServer.toProto(service.metadata());
    }

    @Override
    public void predict(SeldonMessage request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.predict(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void transformInput(SeldonMessage request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.transformInput(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void transformOutput(SeldonMessage request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.transformOutput(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void route(SeldonMessage request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.route(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void aggregate(SeldonMessageList request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.aggregate(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void sendFeedback(Feedback request, StreamObserver<SeldonMessage> out) {
      answer(out, () -> service.sendFeedback(Messages.withPuid(request, PUID.get())));
    }

    @Override
    public void metadata(Empty request, StreamObserver<SeldonModelMetadata> out) {
      answer(out, () -> metadata);
    }

    @Override
    public void modelMetadata(SeldonModelMetadataRequest request, StreamObserver<SeldonModelMetadata> out) {
      answer(out, () -> metadata);
    }

    @Override
    public void graphMetadata(Empty request, StreamObserver<SeldonGraphMetadata> out) {
      answer(out, () -> SeldonGraphMetadata.newBuilder()
          .setName(metadata.getName())
          .addAllInputs(metadata.getInputsList())
          .addAllOutputs(metadata.getOutputsList())
          .putModels(service.unitId().isEmpty() ? metadata.getName() : service.unitId(), metadata)
          .build());
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
      GrpcCalls.answer(out, call, e -> GrpcCalls.code(e.status()));
    }
  }

  static SeldonModelMetadata toProto(Map<String, Object> metadata) {
    SeldonModelMetadata.Builder builder = SeldonModelMetadata.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(Json.plain(metadata), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("model metadata does not fit SeldonModelMetadata: " + e.getMessage(), e);
    }
    return builder.build();
  }
}
