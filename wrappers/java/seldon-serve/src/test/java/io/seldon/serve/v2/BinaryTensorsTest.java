package io.seldon.serve.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.stub.StreamObserver;
import io.seldon.protos.v2.OpenInferenceProtos.ServerMetadataRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ServerMetadataResponse;
import io.seldon.serve.Json;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import io.seldon.serve.RestProtocol;
import io.seldon.serve.StartupException;
import io.seldon.serve.TestModels;
import io.seldon.serve.TestModels.Echo;
import io.seldon.serve.TypedTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The binary tensor extension of the REST form, as tritonclient and KServe's REST client use it. */
class BinaryTensorsTest {
  private static final String HEADER = "Inference-Header-Content-Length";

  private static OpenInference api(PredictionService model) throws StartupException {
    return new OpenInference(TestModels.served(model), "0.1.0");
  }

  /** A request of the extension: its JSON, then `binary`, the header giving the JSON's length. */
  private static RestProtocol.Request withBinary(String json, byte[] binary) {
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    byte[] body = Arrays.copyOf(head, head.length + binary.length);
    System.arraycopy(binary, 0, body, head.length, binary.length);
    return RestRequests.of(body, Map.of(HEADER, Integer.toString(head.length)));
  }

  /** `size` bytes, little-endian, as `put` writes them. */
  private static byte[] littleEndian(int size, Consumer<ByteBuffer> put) {
    ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    put.accept(buffer);
    return buffer.array();
  }

  private static final byte[] FOUR_FLOATS = littleEndian(16, b -> b.putFloat(1.5f).putFloat(-2f).putFloat(0.25f)
      .putFloat(8f));

  private static String binaryInput(String name, String datatype, String shape, int size) {
    return "{\"name\": \"" + name + "\", \"datatype\": \"" + datatype + "\", \"shape\": " + shape
        + ", \"parameters\": {\"binary_data_size\": " + size + "}}";
  }

  private static RestProtocol.Reply infer(OpenInference api, RestProtocol.Request request) {
    return api.rest().reply("POST", "/v2/models/" + api.name() + "/infer", request);
  }

  /** The tensor the model is given for one binary input. */
  private static TypedTensor seen(String datatype, String shape, byte[] bytes) throws StartupException {
    Echo echo = new Echo();
    String request = "{\"inputs\": [" + binaryInput("x", datatype, shape, bytes.length) + "]}";
    RestProtocol.Reply reply = infer(api(echo), withBinary(request, bytes));
    assertEquals(200, reply.status(), reply.text());
    return echo.seen.tensor();
  }

  @Test
  void aBinaryInputIsItsElementsLittleEndianAsGrpcsRawContents() throws StartupException {
    assertArrayEquals(new float[] {1.5f, -2f, 0.25f, 8f}, (float[]) seen("FP32", "[1, 4]", FOUR_FLOATS).data());
    byte[] accented = "hé".getBytes(StandardCharsets.UTF_8);
    byte[] strings = littleEndian(4 + accented.length + 4, b -> b.putInt(accented.length).put(accented).putInt(0));
    assertArrayEquals(new String[] {"hé", ""}, seen("BYTES", "[2]", strings).strings());
    assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) seen("BOOL", "[3]", new byte[] {1, 0, 1}).data());
    byte[] halves = littleEndian(4, b -> b.putShort((short) 0x3800).putShort((short) 0xc000)); // 0.5, -2
    assertArrayEquals(new float[] {0.5f, -2f}, (float[]) seen("FP16", "[2]", halves).data());
  }

  @Test
  void binaryAndJsonInputsMixAndTakeTheBinaryPartInTheOrderOfTheInputs() throws StartupException {
    Echo echo = new Echo();
    String request = "{\"inputs\": [" + binaryInput("a", "FP32", "[2]", 8) + ","
        + " {\"name\": \"b\", \"datatype\": \"INT64\", \"shape\": [2], \"data\": [3, 4]},"
        + binaryInput("c", "INT32", "[2]", 8) + "]}";
    byte[] binary = littleEndian(16, b -> b.putFloat(1.5f).putFloat(2.5f).putInt(7).putInt(8));
    RestProtocol.Reply reply = infer(api(echo), withBinary(request, binary));
    assertEquals(200, reply.status(), reply.text());
    assertEquals(List.of("a", "b", "c"), echo.seen.names());
    assertArrayEquals(new double[] {1.5, 3, 7, 2.5, 4, 8}, echo.seen.values());
    // /route takes the same request
    RestProtocol.Reply routed = api(new OpenInferenceTest.Sign()).rest().reply("POST", "/v2/models/Sign/route",
        withBinary(request, binary));
    assertEquals(JsonParser.parseString("{\"data\": {\"names\": [], \"ndarray\": [[1]]}}"),
        JsonParser.parseString(routed.text()));
  }

  /** An answer of the extension: its JSON part, checked against the header, and the bytes after it. */
  private record Split(JsonObject json, byte[] binary) {
    static Split of(RestProtocol.Reply reply) {
      assertEquals(200, reply.status(), reply.text());
      assertEquals("application/octet-stream", reply.contentType());
      int length = Integer.parseInt(reply.headers().get(HEADER));
      byte[] body = reply.body();
      String json = new String(body, 0, length, StandardCharsets.UTF_8);
      return new Split(JsonParser.parseString(json).getAsJsonObject(), Arrays.copyOfRange(body, length, body.length));
    }

    JsonObject output() {
      return json.getAsJsonArray("outputs").get(0).getAsJsonObject();
    }
  }

  private static final String FP32_INPUT =
      "{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1.5, -2, 0.25, 8]}";

  @Test
  void binaryDataOutputAnswersEveryOutputInBinaryAfterTheJson() throws StartupException {
    String request = "{\"id\": \"r1\", \"inputs\": [" + FP32_INPUT + "],"
        + " \"parameters\": {\"binary_data_output\": true}}";
    Split answer = Split.of(infer(api(new Echo()), RestRequests.json(request)));
    assertEquals("r1", answer.json().get("id").getAsString());
    assertFalse(answer.output().has("data"));
    assertEquals(16, answer.output().getAsJsonObject("parameters").get("binary_data_size").getAsInt());
    assertEquals("FP32", answer.output().get("datatype").getAsString());
    assertArrayEquals(FOUR_FLOATS, answer.binary());
  }

  @Test
  void anOutputsOwnBinaryDataChoosesForItOverBinaryDataOutput() throws StartupException {
    OpenInference api = api(new Echo());
    String asked = "{\"inputs\": [" + FP32_INPUT + "], \"outputs\": [{\"name\": \"output-0\", \"parameters\":"
        + " {\"binary_data\": true}}]}";
    assertArrayEquals(FOUR_FLOATS, Split.of(infer(api, RestRequests.json(asked))).binary());
    String refused = "{\"inputs\": [" + FP32_INPUT + "], \"parameters\": {\"binary_data_output\": true},"
        + " \"outputs\": [{\"name\": \"output-0\", \"parameters\": {\"binary_data\": false}}]}";
    RestProtocol.Reply json = infer(api, RestRequests.json(refused));
    assertEquals("application/json", json.contentType());
    assertNull(json.headers().get(HEADER));
    JsonObject output = JsonParser.parseString(json.text()).getAsJsonObject().getAsJsonArray("outputs").get(0)
        .getAsJsonObject();
    assertEquals(JsonParser.parseString("[1.5, -2.0, 0.25, 8.0]"), output.get("data"));
  }

  /** Answers a JSON document: a BYTES output with parameters.content_type. */
  static class Document implements PredictionService {
    @Override
    public Payload predict(Payload input) {
      return Payload.json(Map.of("a", 1));
    }
  }

  @Test
  void aBinaryOutputKeepsItsOtherParameters() throws StartupException {
    String request = "{\"inputs\": [" + FP32_INPUT + "], \"parameters\": {\"binary_data_output\": true}}";
    Split answer = Split.of(infer(api(new Document()), RestRequests.json(request)));
    JsonObject parameters = answer.output().getAsJsonObject("parameters");
    assertEquals("application/json", parameters.get("content_type").getAsString());
    byte[] document = Json.plain(Map.of("a", 1)).getBytes(StandardCharsets.UTF_8);
    assertEquals(4 + document.length, parameters.get("binary_data_size").getAsInt());
    assertArrayEquals(littleEndian(4 + document.length, b -> b.putInt(document.length).put(document)),
        answer.binary());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      // header (JSON: the JSON's length; NONE: none) | JSON | zero bytes after it | what the error says
      "ten    | {} | 0 | Inference-Header-Content-Length 'ten' is not a whole number",
      "-3     | {} | 0 | Inference-Header-Content-Length -3 is negative",
      "100000 | {} | 0 | Inference-Header-Content-Length 100000 is larger than the body (2 bytes)",
      "JSON   | {nope | 0 | the request's first 5 bytes (Inference-Header-Content-Length) is not valid JSON",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": [1],"
          + " \"parameters\": {\"binary_data_size\": 4}}]} | 4 | input 'x' has both data and binary_data_size",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
          + " \"parameters\": {\"binary_data_size\": -4}}]} | 4 | binary_data_size -4 is not a non-negative integer",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
          + " \"parameters\": {\"binary_data_size\": \"4\"}}]} | 4 | binary_data_size \"4\" is not a non-negative",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1],"
          + " \"parameters\": {\"binary_data_size\": 1.5}}]} | 4 | binary_data_size 1.5 is not a non-negative",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
          + " \"parameters\": {\"binary_data_size\": 16}}]} | 8 | binary_data_size 16 runs past the body"
          + " (8 bytes left)",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
          + " \"parameters\": {\"binary_data_size\": 12}}]} | 12 | FP32 [1, 4] is 16 bytes, binary_data_size says 12",
      "NONE   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
          + " \"parameters\": {\"binary_data_size\": 16}}]} | 0 | input 'x' has binary_data_size, but the request"
          + " has no Inference-Header-Content-Length header",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
          + " \"parameters\": {\"binary_data_size\": 16}}]} | 20 | 4 bytes after the last input's binary data",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"shape\": [2],"
          + " \"parameters\": {\"binary_data_size\": 4}}]} | 4 | 4 bytes hold 1 BYTES elements, shape [2] 2",
      "JSON   | {\"inputs\": [{\"name\": \"x\", \"datatype\": \"BYTES\", \"shape\": [1],"
          + " \"parameters\": {\"binary_data_size\": 2}}]} | 2 | raw BYTES contents end inside a length prefix",
  })
  void aMalformedBinaryRequestIsA400OfTheExtension(String header, String json, int binaryBytes, String message)
      throws StartupException {
    byte[] head = json.getBytes(StandardCharsets.UTF_8);
    byte[] body = Arrays.copyOf(head, head.length + binaryBytes);
    Map<String, String> headers = switch (header) {
      case "NONE" -> Map.of();
      case "JSON" -> Map.of(HEADER, Integer.toString(head.length));
      default -> Map.of(HEADER, header);
    };
    RestProtocol.Reply reply = infer(api(new Echo()), RestRequests.of(body, headers));
    assertEquals(400, reply.status(), reply.text());
    String error = JsonParser.parseString(reply.text()).getAsJsonObject().get("error").getAsString();
    assertTrue(error.startsWith("binary tensor extension: "), error);
    assertTrue(error.contains(message), error);
  }

  @Test
  void bothTransportsServerMetadataListTheExtension() throws StartupException {
    OpenInference api = api(new Echo());
    JsonObject rest = JsonParser.parseString(api.rest().reply("GET", "/v2", RestRequests.EMPTY).text())
        .getAsJsonObject();
    assertEquals(JsonParser.parseString("[\"binary_tensor_data\"]"), rest.get("extensions"));
    AtomicReference<ServerMetadataResponse> grpc = new AtomicReference<>();
    new V2Grpc(api).serverMetadata(ServerMetadataRequest.getDefaultInstance(), new StreamObserver<>() {
      @Override
      public void onNext(ServerMetadataResponse value) {
        grpc.set(value);
      }

      @Override
      public void onError(Throwable t) {
        throw new AssertionError(t);
      }

      @Override
      public void onCompleted() {}
    });
    assertEquals(List.of("binary_tensor_data"), grpc.get().getExtensionsList());
  }
}
