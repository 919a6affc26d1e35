package io.seldon.serve;

import static io.seldon.serve.ContentCodingTest.deflate;
import static io.seldon.serve.ContentCodingTest.gzip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.seldon.protos.ModelGrpc;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.v2.GRPCInferenceServiceGrpc;
import io.seldon.protos.v2.OpenInferenceProtos.ServerMetadataRequest;
import io.seldon.serve.TestModels.Echo;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.Test;

/** Compressed bodies over the wire: REST's content codings on every path, gRPC's message codings. */
class CompressionTest {
  private static final String ROW = "{\"data\": {\"ndarray\": [[1]]}}";
  private static final String V2_INPUT =
      "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}";

  private static HttpResponse<byte[]> send(HttpRequest.Builder request) throws IOException, InterruptedException {
    return Served.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static HttpResponse<byte[]> post(Served served, String path, String coding, byte[] body)
      throws IOException, InterruptedException {
    return send(served.request(path).header("Content-Encoding", coding)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  private static String text(HttpResponse<byte[]> response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  /** The message of an error answer: Seldon's status.info, or the protocol's error under /v2. */
  private static String error(HttpResponse<byte[]> response) {
    JsonObject body = Json.parse(text(response), "answer").getAsJsonObject();
    return body.has("error") ? body.get("error").getAsString() : body.getAsJsonObject("status").get("info")
        .getAsString();
  }

  @Test
  void compressedRequestsAreDecompressedOnSeldonsPathsAndV2s() throws Exception {
    try (Served served = new Served(new Echo())) {
      byte[] row = ROW.getBytes(StandardCharsets.UTF_8);
      byte[] v2 = V2_INPUT.getBytes(StandardCharsets.UTF_8);
      HttpResponse<byte[]> predicted = post(served, "/predict", "gzip", gzip(row));
      assertEquals(200, predicted.statusCode(), text(predicted));
      assertTrue(text(predicted).contains("\"ndarray\":[[1.0]]"), text(predicted));
      for (byte[] body : List.of(deflate(v2, false), deflate(v2, true))) {
        HttpResponse<byte[]> inferred = post(served, "/v2/models/Echo/infer", "deflate", body);
        assertEquals(200, inferred.statusCode(), text(inferred));
      }
      assertEquals(200, post(served, "/v2/models/Echo/infer", "x-gzip", gzip(v2)).statusCode());
    }
  }

  @Test
  void aBodyPastTheLimitOnceDecompressedIsA413InEachProtocolsWords() throws Exception {
    try (Served served = new Served(new Echo(), new Served.Sizes(1000, 1024, 1 << 20))) {
      byte[] bomb = gzip(new byte[1 << 20]);
      for (String path : List.of("/predict", "/v2/models/Echo/infer")) {
        HttpResponse<byte[]> refused = post(served, path, "gzip", bomb);
        assertEquals(413, refused.statusCode(), path);
        assertEquals("request body over 1000 bytes once decompressed (REST_MAX_BODY_BYTES)", error(refused), path);
      }
    }
  }

  @Test
  void aCorruptBodyIsA400AndAnotherCodingA415() throws Exception {
    try (Served served = new Served(new Echo())) {
      byte[] row = ROW.getBytes(StandardCharsets.UTF_8);
      for (String path : List.of("/predict", "/v2/models/Echo/infer")) {
        HttpResponse<byte[]> corrupt = post(served, path, "gzip", row);
        assertEquals(400, corrupt.statusCode(), path);
        assertTrue(error(corrupt).startsWith("the request body is not valid gzip"), error(corrupt));
        HttpResponse<byte[]> brotli = post(served, path, "br", row);
        assertEquals(415, brotli.statusCode(), path);
        assertEquals("Content-Encoding 'br' is not supported: send gzip, deflate or identity", error(brotli));
      }
    }
  }

  private static byte[] gunzip(byte[] body) throws IOException {
    return new GZIPInputStream(new ByteArrayInputStream(body)).readAllBytes();
  }

  @Test
  void anAnswerOverTheThresholdGoesCompressedAsTheClientAsks() throws Exception {
    try (Served served = new Served(new Echo(), new Served.Sizes(1 << 20, 200, 1 << 20))) {
      byte[] plain = send(served.request("/seldon.json")).body(); // the OpenAPI document, some KB
      assertTrue(plain.length > 200);
      HttpResponse<byte[]> gzipped = send(served.request("/seldon.json").header("Accept-Encoding", "deflate, gzip"));
      assertEquals("gzip", gzipped.headers().firstValue("Content-Encoding").orElse(""));
      assertEquals("Accept-Encoding", gzipped.headers().firstValue("Vary").orElse(""));
      assertEquals(gzipped.body().length, gzipped.headers().firstValueAsLong("Content-Length").orElse(-1));
      assertTrue(gzipped.body().length < plain.length);
      assertArrayEquals(plain, gunzip(gzipped.body()));
      HttpResponse<byte[]> deflated = send(served.request("/seldon.json").header("Accept-Encoding",
          "gzip;q=0, deflate"));
      assertEquals("deflate", deflated.headers().firstValue("Content-Encoding").orElse(""));
      assertArrayEquals(plain, new InflaterInputStream(new ByteArrayInputStream(deflated.body())).readAllBytes());
      HttpResponse<byte[]> refused = send(served.request("/seldon.json").header("Accept-Encoding", "*;q=0"));
      assertFalse(refused.headers().firstValue("Content-Encoding").isPresent());
      assertArrayEquals(plain, refused.body());
      HttpResponse<byte[]> small = send(served.request("/v2/health/live").header("Accept-Encoding", "gzip"));
      assertFalse(small.headers().firstValue("Content-Encoding").isPresent());
      assertFalse(small.headers().firstValue("Vary").isPresent());
      assertEquals("{\"live\":true}", text(small));
      HttpResponse<byte[]> head = send(served.request("/seldon.json").header("Accept-Encoding", "gzip")
          .method("HEAD", HttpRequest.BodyPublishers.noBody()));
      assertEquals(0, head.body().length);
      assertEquals("gzip", head.headers().firstValue("Content-Encoding").orElse(""));
      assertEquals("Accept-Encoding", head.headers().firstValue("Vary").orElse(""));
      assertEquals(gzipped.body().length, head.headers().firstValueAsLong("Content-Length").orElse(-1));
    }
  }

  @Test
  void aThresholdOfZeroNeverCompresses() throws Exception {
    try (Served served = new Served(new Echo(), new Served.Sizes(1 << 20, 0, 1 << 20))) {
      HttpResponse<byte[]> answer = send(served.request("/seldon.json").header("Accept-Encoding", "gzip"));
      assertFalse(answer.headers().firstValue("Content-Encoding").isPresent());
    }
  }

  /** tritonclient's way: a binary request, gzipped; a binary answer, gzipped, split once decompressed. */
  @Test
  void aBinaryTensorAnswerIsCompressedWholeItsHeaderCountingTheJsonUncompressed() throws Exception {
    try (Served served = new Served(new Echo(), new Served.Sizes(1 << 20, 1, 1 << 20))) {
      byte[] json = ("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
          + " \"parameters\": {\"binary_data_size\": 16}}], \"parameters\": {\"binary_data_output\": true}}")
          .getBytes(StandardCharsets.UTF_8);
      byte[] floats = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3)
          .putFloat(4).array();
      byte[] body = Arrays.copyOf(json, json.length + 16);
      System.arraycopy(floats, 0, body, json.length, 16);
      HttpResponse<byte[]> answer = send(served.request("/v2/models/Echo/infer")
          .header("Content-Encoding", "gzip").header("Accept-Encoding", "gzip")
          .header("Inference-Header-Content-Length", Integer.toString(json.length))
          .POST(HttpRequest.BodyPublishers.ofByteArray(gzip(body))));
      assertEquals(200, answer.statusCode(), text(answer));
      assertEquals("gzip", answer.headers().firstValue("Content-Encoding").orElse(""));
      assertEquals("application/octet-stream", answer.headers().firstValue("Content-Type").orElse(""));
      byte[] whole = gunzip(answer.body());
      int jsonLength = (int) answer.headers().firstValueAsLong("Inference-Header-Content-Length").orElse(-1);
      JsonObject head = Json.parse(new String(whole, 0, jsonLength, StandardCharsets.UTF_8), "answer")
          .getAsJsonObject();
      assertEquals(16, head.getAsJsonArray("outputs").get(0).getAsJsonObject().getAsJsonObject("parameters")
          .get("binary_data_size").getAsInt());
      assertArrayEquals(floats, Arrays.copyOfRange(whole, jsonLength, whole.length));
    }
  }

  // ---- gRPC ----------------------------------------------------------------------------------

  private static final Metadata.Key<String> GRPC_ENCODING =
      Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

  /** Keeps the grpc-encoding of the last answer's headers. */
  private static final class AnswerCoding implements ClientInterceptor {
    volatile String coding;

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata answered) {
              coding = answered.get(GRPC_ENCODING);
              super.onHeaders(answered);
            }
          }, headers);
        }
      };
    }
  }

  private static SeldonMessage binData(int bytes) {
    return SeldonMessage.newBuilder().setBinData(ByteString.copyFrom(new byte[bytes])).build();
  }

  @Test
  void aCompressedGrpcCallIsAnsweredInItsCoding() throws Exception {
    try (Served served = new Served(new Echo())) {
      AnswerCoding answered = new AnswerCoding();
      var model = ModelGrpc.newBlockingStub(served.channel).withInterceptors(answered);
      var v2 = GRPCInferenceServiceGrpc.newBlockingStub(served.channel).withInterceptors(answered);
      for (String coding : List.of("gzip", "deflate")) {
        assertEquals(binData(5000).getBinData(), model.withCompression(coding).predict(binData(5000)).getBinData());
        assertEquals(coding, answered.coding);
        assertEquals(List.of("binary_tensor_data"), v2.withCompression(coding)
            .serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList());
        assertEquals(coding, answered.coding);
      }
      model.predict(binData(10));
      assertTrue(answered.coding == null || answered.coding.equals("identity"), answered.coding);
    }
  }

  @Test
  void grpcMaxMessageBytesHoldsForTheDecompressedSize() throws Exception {
    try (Served served = new Served(new Echo(), new Served.Sizes(1 << 20, 1024, 1000))) {
      SeldonMessage big = binData(100_000);
      assertTrue(gzip(big.toByteArray()).length < 1000); // what travels is under the limit
      for (String coding : List.of("gzip", "deflate")) {
        var model = ModelGrpc.newBlockingStub(served.channel).withCompression(coding);
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> model.predict(big));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode(), refused::toString);
        assertEquals(binData(500).getBinData(), model.predict(binData(500)).getBinData());
      }
    }
  }
}
