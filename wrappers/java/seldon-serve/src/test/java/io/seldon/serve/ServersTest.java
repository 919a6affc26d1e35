package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.seldon.protos.CombinerGrpc;
import io.seldon.protos.GenericGrpc;
import io.seldon.protos.ModelGrpc;
import io.seldon.protos.OutputTransformerGrpc;
import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import io.seldon.protos.RouterGrpc;
import io.seldon.protos.SeldonGrpc;
import io.seldon.protos.TransformerGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The REST and gRPC servers: what the transports add to Microservice. */
class ServersTest {
  static class Identity implements PredictionService {
    @Override
    public Payload predict(Payload input) {
      return input;
    }
  }

  /** Routes to child 0 and aggregates to the first message, to answer every verb. */
  static class Everything extends Identity {
    @Override
    public Payload route(Payload input) {
      return Payload.branch(0);
    }

    @Override
    public Payload aggregate(List<Payload> inputs) {
      return inputs.get(0);
    }
  }

  static class RawStatus implements PredictionService {
    @Override
    public SeldonMessage predictRaw(SeldonMessage request) {
      return SeldonMessage.newBuilder()
          .setStatus(io.seldon.protos.PredictionProtos.Status.newBuilder().setCode(201).setInfo("made"))
          .setStrData("made")
          .build();
    }
  }

  private static final HttpClient HTTP = Served.HTTP;
  private static final String ROW = "{\"data\": {\"ndarray\": [[1]]}}";

  private static String puidOf(HttpResponse<String> response) {
    assertEquals(200, response.statusCode(), response.body());
    JsonObject answer = Json.parse(response.body(), "answer").getAsJsonObject();
    return answer.getAsJsonObject("meta").get("puid").getAsString();
  }

  private static SeldonMessage row() {
    return JsonIn.message(Json.parse(ROW, "test"));
  }

  /** Takes as many milliseconds as the request's first value says; `started` counts the calls begun. */
  static class Slow implements PredictionService {
    final java.util.concurrent.Semaphore started = new java.util.concurrent.Semaphore(0);

    @Override
    public Payload predict(Payload input) {
      started.release();
      try {
        Thread.sleep((long) input.values()[0]);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return input;
    }
  }

  @Test
  void requestsPastTheHttpLimitsAreAnsweredWithTheirStatusAndSeldonsBody() throws Exception {
    Slow model = new Slow();
    try (Served served = new Served(model, new HttpLimits(0, 1, 100, 400))) {
      String base = "http://127.0.0.1:" + served.rest.port();
      HttpResponse<String> longTarget = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/ping?" + "x".repeat(100)))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(414, longTarget.statusCode());
      assertEquals("request target over 100 bytes (HTTP_MAX_URL_BYTES)", Json.parse(longTarget.body(), "answer")
          .getAsJsonObject().getAsJsonObject("status").get("info").getAsString());
      HttpResponse<String> bigHeaders = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/ping"))
          .header("X-Big", "v".repeat(400)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(431, bigHeaders.statusCode());
      var slow = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(base + "/predict"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"data\": {\"ndarray\": [[1500]]}}")).build(),
          HttpResponse.BodyHandlers.ofString());
      // The slow one holds the one place (waited for: a loaded machine may take a while to send it).
      assertTrue(model.started.tryAcquire(10, java.util.concurrent.TimeUnit.SECONDS));
      HttpResponse<String> refused = served.post("/predict", "{\"data\": {\"ndarray\": [[0]]}}", null);
      assertEquals(503, refused.statusCode());
      assertEquals(200, slow.get().statusCode());
      assertEquals(200, served.post("/predict", "{\"data\": {\"ndarray\": [[0]]}}", null).statusCode());
    }
  }

  @Test
  void theSeldonPuidHeaderIsThePuidOfARequestWithoutOne() throws Exception {
    try (Served served = new Served(new Everything())) {
      for (String path : List.of("/api/v1.0/predictions", "/transform-input", "/transform-output", "/route")) {
        assertEquals("from-header", puidOf(served.post(path, ROW, "from-header")), path);
      }
      assertEquals("from-header", puidOf(served.post("/aggregate", "[" + ROW + "]", "from-header")));
      assertEquals("from-header", puidOf(served.post("/send-feedback", "{\"reward\": 1}", "from-header")));
      String own = "{\"meta\": {\"puid\": \"in-body\"}, \"data\": {\"ndarray\": [[1]]}}";
      assertEquals("in-body", puidOf(served.post("/predict", own, "from-header")));
      assertEquals(32, puidOf(served.post("/predict", ROW, null)).length());
    }
  }

  @Test
  void theSeldonPuidMetadataIsThePuidOfARequestWithoutOne() throws Exception {
    try (Served served = new Served(new Everything())) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("seldon-puid", Metadata.ASCII_STRING_MARSHALLER), "from-metadata");
      var attach = MetadataUtils.newAttachHeadersInterceptor(headers);
      var model = ModelGrpc.newBlockingStub(served.channel).withInterceptors(attach);
      assertEquals("from-metadata", model.predict(row()).getMeta().getPuid());
      assertEquals("from-metadata", model.sendFeedback(Feedback.getDefaultInstance()).getMeta().getPuid());
      var combiner = CombinerGrpc.newBlockingStub(served.channel).withInterceptors(attach);
      SeldonMessageList rows = SeldonMessageList.newBuilder().addSeldonMessages(row()).build();
      assertEquals("from-metadata", combiner.aggregate(rows).getMeta().getPuid());
      SeldonMessage own = row().toBuilder().setMeta(row().getMeta().toBuilder().setPuid("own")).build();
      assertEquals("own", model.predict(own).getMeta().getPuid());
      assertEquals(32, ModelGrpc.newBlockingStub(served.channel).predict(row()).getMeta().getPuid().length());
    }
  }

  @Test
  void everyVerbIsServedOverRestWhateverTheServiceType() throws Exception {
    try (Served served = new Served(new Identity())) {
      HttpResponse<String> route = served.post("/route", ROW, null);
      assertEquals(400, route.statusCode());
      assertEquals(JsonOut.error("Route not defined: Identity overrides neither route nor routeRaw",
          SeldonException.BAD_DATA), route.body());
      assertEquals(400, served.post("/aggregate", "[" + ROW + "]", null).statusCode());
      assertEquals(200, served.post("/transform-input", ROW, null).statusCode());
      assertEquals(200, served.post("/transform-output", ROW, null).statusCode());
      assertEquals(200, served.post("/send-feedback", "{\"reward\": 1}", null).statusCode());
    }
  }

  @Test
  void everyGrpcServiceServesItsVerbsWhateverTheServiceType() throws Exception {
    try (Served served = new Served(new Identity())) {
      ManagedChannel channel = served.channel;
      SeldonMessageList rows = SeldonMessageList.newBuilder().addSeldonMessages(row()).build();
      List<SeldonMessage> answers = List.of(
          ModelGrpc.newBlockingStub(channel).predict(row()),
          SeldonGrpc.newBlockingStub(channel).predict(row()),
          TransformerGrpc.newBlockingStub(channel).transformInput(row()),
          OutputTransformerGrpc.newBlockingStub(channel).transformOutput(row()),
          GenericGrpc.newBlockingStub(channel).transformInput(row()),
          GenericGrpc.newBlockingStub(channel).transformOutput(row()),
          RouterGrpc.newBlockingStub(channel).sendFeedback(Feedback.getDefaultInstance()),
          GenericGrpc.newBlockingStub(channel).sendFeedback(Feedback.getDefaultInstance()));
      answers.forEach(answer -> assertEquals(32, answer.getMeta().getPuid().length(), answer::toString));
      for (Runnable call : List.<Runnable>of(
          () -> RouterGrpc.newBlockingStub(channel).route(row()),
          () -> GenericGrpc.newBlockingStub(channel).route(row()),
          () -> CombinerGrpc.newBlockingStub(channel).aggregate(rows),
          () -> GenericGrpc.newBlockingStub(channel).aggregate(rows))) {
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error::toString);
      }
    }
  }

  @Test
  void aMessageComesAsJsonAFormFieldAQueryOrAnUpload() throws Exception {
    try (Served served = new Served(new Identity())) {
      String base = "http://127.0.0.1:" + served.rest.port();
      String json = "{\"strData\":\"x y\"}";
      HttpRequest form = HttpRequest.newBuilder(URI.create(base + "/predict"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("json=" + java.net.URLEncoder.encode(json, "UTF-8")))
          .build();
      HttpRequest query = HttpRequest.newBuilder(
          URI.create(base + "/predict?json=" + java.net.URLEncoder.encode(json, "UTF-8"))).GET().build();
      HttpRequest upload = HttpRequest.newBuilder(URI.create(base + "/predict"))
          .header("Content-Type", "multipart/form-data; boundary=b0")
          .POST(HttpRequest.BodyPublishers.ofString("--b0\r\nContent-Disposition: form-data; name=\"strData\""
              + "\r\n\r\nx y\r\n--b0--\r\n"))
          .build();
      for (HttpRequest request : List.of(form, query, upload)) {
        HttpResponse<String> answer = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("x y", Json.parse(answer.body(), "answer").getAsJsonObject().get("strData").getAsString());
      }
      HttpRequest broken = HttpRequest.newBuilder(URI.create(base + "/predict"))
          .header("Content-Type", "multipart/form-data")
          .POST(HttpRequest.BodyPublishers.ofString("--b0--"))
          .build();
      HttpResponse<String> refused = HTTP.send(broken, HttpResponse.BodyHandlers.ofString());
      assertEquals(400, refused.statusCode());
      assertEquals(JsonOut.error("multipart Content-Type without a boundary", SeldonException.BAD_DATA),
          refused.body());
    }
  }

  @Test
  void aRawPredictAnswerChoosesTheHttpStatusWithItsStatusCode() throws Exception {
    try (Served served = new Served(new RawStatus())) {
      HttpResponse<String> made = served.post("/predict", ROW, null);
      assertEquals(201, made.statusCode());
      assertEquals("{\"status\":{\"code\":201,\"info\":\"made\",\"reason\":\"\",\"status\":\"SUCCESS\"},"
          + "\"strData\":\"made\"}", made.body());
    }
  }

  @Test
  void aStatusCodeThatCannotBeAnHttpStatusIsIgnored() {
    for (int code : new int[] {0, -1, 42, 204, 304, 600}) {
      SeldonMessage answer = SeldonMessage.newBuilder()
          .setStatus(io.seldon.protos.PredictionProtos.Status.newBuilder().setCode(code))
          .build();
      assertEquals(200, RestServer.httpStatus(answer), "code " + code);
    }
  }
}
