package io.seldon.serve.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.seldon.protos.v2.OpenInferenceProtos.InferTensorContents;
import io.seldon.protos.v2.OpenInferenceProtos.ModelInferRequest;
import io.seldon.protos.v2.OpenInferenceProtos.ModelInferResponse;
import io.seldon.serve.Payload;
import io.seldon.serve.PredictionService;
import io.seldon.serve.RestProtocol;
import io.seldon.serve.SeldonException;
import io.seldon.serve.StartupException;
import io.seldon.serve.TestModels;
import io.seldon.serve.TestModels.Echo;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class OpenInferenceTest {
  private static OpenInference api(PredictionService model) throws StartupException {
    return new OpenInference(TestModels.served(model), "0.1.0");
  }

  /** The REST answer, as the REST server sends it. */
  private static RestProtocol.Reply rest(OpenInference api, String method, String path) {
    return api.rest().reply(method, path, RestRequests.EMPTY);
  }

  private static JsonObject infer(OpenInference api, String body) {
    RestProtocol.Reply answer = api.rest().reply("POST", "/v2/models/Echo/infer", RestRequests.json(body));
    JsonObject json = JsonParser.parseString(answer.text()).getAsJsonObject();
    json.addProperty("status", answer.status());
    return json;
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "BOOL   | [true, false, true, true]        | [Z",
      "UINT8  | [0, 255, 7, 1]                   | [J",
      "UINT16 | [0, 65535, 7, 1]                 | [J",
      "UINT32 | [0, 4294967295, 7, 1]            | [J",
      "UINT64 | [0, 18446744073709551615, 7, 1] | [J",
      "INT8   | [-128, 127, 0, 1]                | [J",
      "INT16  | [-32768, 32767, 0, 1]            | [J",
      "INT32  | [-2147483648, 2147483647, 0, 1]  | [J",
      "INT64  | [-9223372036854775808, 9223372036854775807, 0, 1] | [J",
      "FP16   | [0.5, -2.0, 65504.0, 1.0]        | [F",
      "FP32   | [0.25, -1.5, 3.0, 0.125]         | [F",
      "FP64   | [0.1, -1.0E300, 3.0, 2.5]        | [D",
      "BYTES  | [\"a\", \"héllo\", \"\", \"x\"]  | [[B",
  })
  void everyDatatypeReachesTheModelInItsJavaTypeAndAnswersAsItself(String datatype, String data, String javaType)
      throws StartupException {
    Echo echo = new Echo();
    JsonObject answer = infer(api(echo), "{\"id\": \"r1\", \"inputs\": [{\"name\": \"x\", \"shape\": [2, 2],"
        + " \"datatype\": \"" + datatype + "\", \"data\": " + data + "}]}");
    assertEquals(200, answer.get("status").getAsInt(), answer.toString());
    TypedTensor seen = echo.seen.tensor();
    assertEquals(Datatype.valueOf(datatype), seen.datatype());
    assertEquals(javaType, seen.data().getClass().getName());
    assertArrayEquals(new long[] {2, 2}, seen.shape());
    JsonObject output = answer.getAsJsonArray("outputs").get(0).getAsJsonObject();
    assertEquals("r1", answer.get("id").getAsString());
    assertEquals("output-0", output.get("name").getAsString());
    assertEquals(datatype, output.get("datatype").getAsString());
    assertEquals(JsonParser.parseString(data), output.get("data"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP99\", \"data\": [1, 2]} | datatype 'FP99' is not one of",
      "{\"name\": \"x\", \"shape\": [3], \"datatype\": \"FP32\", \"data\": [1, 2]} | holds 3 elements, the data 2",
      "{\"name\": \"x\", \"shape\": [3], \"datatype\": \"FP32\", \"data\": [[1, 2], [3]]} | not a regular array",
      "{\"name\": \"x\", \"shape\": [2], \"datatype\": \"INT32\", \"data\": [1.5, 2]} | INT32 data must be integers",
      "{\"name\": \"x\", \"shape\": [1], \"datatype\": \"UINT8\", \"data\": [256]} | outside UINT8's range",
      "{\"name\": \"x\", \"shape\": [1], \"datatype\": \"BOOL\", \"data\": [1]} | BOOL data must be true/false",
      "{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [\"1\"]} | FP32 data must be numbers",
      "{\"name\": \"x\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [1]} | BYTES data must be strings",
      "{\"name\": \"x\", \"shape\": [-1], \"datatype\": \"FP32\", \"data\": [1]} | shape must be a list of non-negative",
      "{\"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]} | each input needs a name",
      "{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\"} | has no data",
      "{\"name\": \"x\", \"shape\": [772, 144115188075855872], \"datatype\": \"FP16\", \"data\": []}"
          + " | holds more elements than a tensor can",
      "{\"name\": \"x\", \"shape\": [66745485086212038656], \"datatype\": \"FP32\", \"data\": []}"
          + " | shape must be a list of non-negative",
  })
  void aBadTensorIsA400NamingTheFault(String tensor, String message) throws StartupException {
    JsonObject answer = infer(api(new Echo()), "{\"inputs\": [" + tensor + "]}");
    assertEquals(400, answer.get("status").getAsInt());
    assertTrue(answer.get("error").getAsString().contains(message), answer.toString());
  }

  /** Routes to child 1 when the values sum above 0. */
  static class Sign implements PredictionService {
    @Override
    public Payload route(Payload input) {
      return Payload.branch(java.util.Arrays.stream(input.values()).sum() > 0 ? 1 : 0);
    }
  }

  /** The mean of its children's answers. */
  static class Averager implements PredictionService {
    @Override
    public Payload aggregate(List<Payload> inputs) {
      double[] mean = new double[inputs.get(0).values().length];
      for (Payload input : inputs) {
        for (int i = 0; i < mean.length; i++) {
          mean[i] += input.values()[i] / inputs.size();
        }
      }
      return Payload.of(new double[][] {mean});
    }
  }

  private static String fp64(String name, String values) {
    return "{\"name\": \"" + name + "\", \"datatype\": \"FP64\", \"shape\": [1, 2], \"data\": " + values + "}";
  }

  /** The paths Seldon's executor calls on a router and a combiner in a v2 graph. */
  @Test
  void aRouterAndACombinerAnswerTheExecutorsV2RouteAndAggregateCalls() throws StartupException {
    OpenInference router = api(new Sign());
    RestProtocol.Reply routed = router.rest().reply("POST", "/v2/models/Sign/route",
        RestRequests.json("{\"inputs\": [" + fp64("x", "[1, 2]") + "]}"));
    assertEquals(200, routed.status());
    assertEquals(JsonParser.parseString("{\"data\": {\"names\": [], \"ndarray\": [[1]]}}"),
        JsonParser.parseString(routed.text()));
    OpenInference combiner = api(new Averager());
    String children = "[{\"model_name\": \"a\", \"outputs\": [" + fp64("output-0", "[1, 3]") + "]},"
        + " {\"model_name\": \"b\", \"outputs\": [" + fp64("output-0", "[3, 5]") + "]}]";
    RestProtocol.Reply combined = combiner.rest().reply("POST", "/v2/models/Averager/aggregate",
        RestRequests.json(children));
    assertEquals(200, combined.status(), combined.text());
    JsonObject output = JsonParser.parseString(combined.text()).getAsJsonObject().getAsJsonArray("outputs")
        .get(0).getAsJsonObject();
    assertEquals(JsonParser.parseString("[2.0, 4.0]"), output.get("data"));
    assertEquals(400, combiner.rest().reply("POST", "/v2/models/Averager/aggregate",
        RestRequests.json("{}")).status());
  }

  /** Named as Seldon's operator names a v2 unit, unless its metadata names it. */
  @Test
  void theV2NameIsTheMetadatasElseTheGraphNodesElseTheClass() throws StartupException {
    assertEquals("Echo", new OpenInference(TestModels.served(new Echo()), "0.1.0").name());
    Map<String, String> unit = Map.of("PREDICTIVE_UNIT_ID", "classifier");
    assertEquals("classifier", new OpenInference(TestModels.served(new Echo(), unit), "0.1.0").name());
    Map<String, String> both = Map.of("PREDICTIVE_UNIT_ID", "classifier", "MLSERVER_MODEL_NAME", "iris");
    OpenInference iris = new OpenInference(TestModels.served(new Echo(), both), "0.1.0");
    assertEquals("iris", iris.name());
    assertEquals(200, iris.rest().reply("GET", "/v2/models/iris/ready", RestRequests.EMPTY).status());
    PredictionService named = new Echo() {
      @Override
      public Map<String, ?> initMetadata() {
        return Map.of("name", "from-init-metadata");
      }
    };
    assertEquals("from-init-metadata", new OpenInference(TestModels.served(named, both), "0.1.0").name());
  }

  @Test
  void severalOneColumnInputsAreTheColumnsNamedByTheInputs() throws StartupException {
    Echo echo = new Echo();
    infer(api(echo), "{\"inputs\": [{\"name\": \"age\", \"shape\": [3], \"datatype\": \"INT64\", \"data\": [20, 30, 40]},"
        + " {\"name\": \"height\", \"shape\": [3, 1], \"datatype\": \"FP64\", \"data\": [[1.5], [1.6], [1.7]]}]}");
    assertEquals(List.of("age", "height"), echo.seen.names());
    assertEquals(Datatype.FP64, echo.seen.tensor().datatype());
    assertArrayEquals(new double[] {20, 1.5, 30, 1.6, 40, 1.7}, echo.seen.values());
  }

  @Test
  void unknownModelsPathsAndMethodsAnswerTheProtocolsErrors() throws StartupException {
    OpenInference api = api(new Echo());
    assertEquals(404, rest(api, "GET", "/v2/models/Other").status());
    assertEquals(404, rest(api, "GET", "/v2/models/Echo/versions/3").status());
    assertEquals(404, rest(api, "GET", "/v2/models/Echo/explain").status());
    RestProtocol.Reply refused = rest(api, "GET", "/v2/models/Echo/infer");
    assertEquals(405, refused.status());
    assertEquals("{\"error\":\"this endpoint takes POST, not GET\"}", refused.text());
    assertEquals("POST", refused.allow());
    assertEquals("GET, HEAD", rest(api, "PUT", "/v2/health/live").allow());
    assertEquals("{\"live\":true}", rest(api, "GET", "/v2/health/live").text());
    assertEquals("{\"name\":\"seldon-serve\",\"version\":\"0.1.0\",\"extensions\":[\"binary_tensor_data\"]}",
        rest(api, "GET", "/v2").text());
    RestProtocol.Reply empty = rest(api, "POST", "/v2/models/Echo/infer");
    assertEquals(400, empty.status());
    assertEquals("{\"error\":\"empty request: send an inference request as the JSON body\"}", empty.text());
  }

  @Test
  void grpcContentsAndRawContentsCarryTheirDatatypes() throws StartupException {
    Echo echo = new Echo();
    V2Grpc api = new V2Grpc(api(echo));
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("Echo").setId("g1");
    request.addInputsBuilder().setName("x").setDatatype("UINT32").addShape(2).getContentsBuilder()
        .addUintContents(-1).addUintContents(7);
    ModelInferResponse reply = api.infer(request.build());
    assertArrayEquals(new long[] {4_294_967_295L, 7}, (long[]) echo.seen.tensor().data());
    assertEquals(List.of(-1, 7), reply.getOutputs(0).getContents().getUintContentsList());
    assertEquals("g1", reply.getId());

    ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    half.putShort((short) 0x3800).putShort((short) 0xc000); // 0.5, -2.0
    ModelInferRequest.Builder fp16 = ModelInferRequest.newBuilder().setModelName("Echo");
    fp16.addInputsBuilder().setName("h").setDatatype("FP16").addShape(2);
    fp16.addRawInputContents(ByteString.copyFrom(half.array()));
    reply = api.infer(fp16.build());
    assertArrayEquals(new float[] {0.5f, -2.0f}, (float[]) echo.seen.tensor().data());
    assertEquals(ByteString.copyFrom(half.array()), reply.getRawOutputContents(0));

    ModelInferRequest.Builder noContents = ModelInferRequest.newBuilder().setModelName("Echo");
    noContents.addInputsBuilder().setName("h").setDatatype("FP16").addShape(1);
    SeldonException error = assertThrows(SeldonException.class, () -> api.infer(noContents.build()));
    assertTrue(error.getMessage().contains("raw_input_contents only"), error.getMessage());
  }

  @Test
  void halfPrecisionRoundTripsEveryHalfAndRoundsToNearestEven() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short half = (short) bits;
      float value = Half.toFloat(half);
      if (!Float.isNaN(value)) {
        assertEquals(half, Half.fromFloat(value), "half 0x" + Integer.toHexString(bits));
      }
    }
    assertEquals((short) 0x3c00, Half.fromFloat(1.0f + 0x1p-11f)); // a tie: to even (1.0)
    assertEquals((short) 0x7c00, Half.fromFloat(70000f)); // past 65504: infinity
  }

  @Test
  void aModelAnsweringItsInputAnswersTheVeryTensor() throws StartupException {
    Payload input = Payload.of(TypedTensor.strings(new long[] {1}, "x"));
    assertSame(input.tensor(), OpenInference.output("y", input).tensor());
    assertEquals(Datatype.FP64, OpenInference.output("y", Payload.of(new double[] {1, 2})).tensor().datatype());
    assertEquals("application/json",
        OpenInference.output("y", Payload.json(java.util.Map.of("a", 1))).parameters().get("content_type"));
  }

  /** The metadata's output names the answer's tensor, over both transports; a request picks it by that name. */
  @Test
  void aDeclaredOutputNamesTheAnswerAndARequestPicksItByThatName() throws StartupException {
    PredictionService scorer = new Echo() {
      @Override
      public Map<String, ?> initMetadata() {
        return Map.of("name", "Echo",
            "outputs", List.of(Map.of("name", "score", "datatype", "FP64", "shape", List.of(-1))));
      }
    };
    OpenInference api = api(scorer);
    String tensor = "{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 2]}";
    JsonObject answer = infer(api, "{\"inputs\": [" + tensor + "], \"outputs\": [{\"name\": \"score\"}]}");
    assertTrue(answer.has("outputs"), answer.toString());
    assertEquals("score", answer.getAsJsonArray("outputs").get(0).getAsJsonObject().get("name").getAsString());
    JsonObject refused = infer(api, "{\"inputs\": [" + tensor + "], \"outputs\": [{\"name\": \"output-0\"}]}");
    assertEquals("no output 'output-0': this model answers 'score'", refused.get("error").getAsString());
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("Echo");
    request.addInputsBuilder().setName("x").setDatatype("FP64").addShape(2)
        .setContents(InferTensorContents.newBuilder().addFp64Contents(1).addFp64Contents(2));
    assertEquals("score", new V2Grpc(api).infer(request.build()).getOutputs(0).getName());
  }
}
