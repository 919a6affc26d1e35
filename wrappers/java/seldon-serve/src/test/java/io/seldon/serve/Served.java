package io.seldon.serve;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.seldon.serve.v2.OpenInference;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

/** A MODEL served on free ports over both protocols, REST and gRPC, with a channel to the latter. */
final class Served implements AutoCloseable {
  static final HttpClient HTTP = HttpClient.newHttpClient();

  /** The size settings the servers get (REST_MAX_BODY_BYTES, REST_COMPRESS_MIN_BYTES, GRPC_MAX_MESSAGE_BYTES). */
  record Sizes(int restMaxBodyBytes, int restCompressMinBytes, int grpcMaxMessageBytes) {
    static final Sizes DEFAULT = new Sizes(1 << 20, 1024, 1 << 20);
  }

  final RestServer rest;
  final GrpcServer grpc;
  final ManagedChannel channel;

  Served(PredictionService model) throws StartupException, IOException {
    this(model, HttpLimits.UNLIMITED, Sizes.DEFAULT);
  }

  Served(PredictionService model, HttpLimits limits) throws StartupException, IOException {
    this(model, limits, Sizes.DEFAULT);
  }

  Served(PredictionService model, Sizes sizes) throws StartupException, IOException {
    this(model, HttpLimits.UNLIMITED, sizes);
  }

  private Served(PredictionService model, HttpLimits limits, Sizes sizes) throws StartupException, IOException {
    Microservice service = new Microservice(model, "MODEL", Map.of(), null);
    OpenInference v2 = new OpenInference(service, "0.1.0");
    rest = new RestServer(service, v2.rest(), "127.0.0.1", 0, 2, sizes.restMaxBodyBytes(),
        sizes.restCompressMinBytes(), limits, false);
    rest.start();
    grpc = new GrpcServer(service, List.of(v2.grpc()), "127.0.0.1", 0, sizes.grpcMaxMessageBytes(), 2, false);
    grpc.start();
    channel = Grpc.newChannelBuilderForAddress("127.0.0.1", grpc.port(), InsecureChannelCredentials.create())
        .compressorRegistry(GrpcCompression.compressors())
        .decompressorRegistry(GrpcCompression.decompressors())
        .build();
  }

  /** A request to a path of the REST port. */
  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rest.port() + path));
  }

  HttpResponse<String> post(String path, String body, String puid) throws IOException, InterruptedException {
    HttpRequest.Builder request = request(path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (puid != null) {
      request.header("Seldon-Puid", puid);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    grpc.shutdownNow();
    rest.shutdown(0);
  }
}
