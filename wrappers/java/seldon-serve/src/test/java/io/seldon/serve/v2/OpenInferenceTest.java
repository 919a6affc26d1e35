package io.seldon.serve.v2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class OpenInferenceTest {
  private static OpenInference api(PredictionService model) throws StartupException {
    return new OpenInference(TestModels.served(model), "0.1.0");
  }

  /** The REST answer, as the REST server sends it. */
  private static RestProtocol.Reply rest(OpenInference api, String method, String path) {
    return api.rest().reply(method, path, () -> null);
  }

  private static JsonObject infer(OpenInference api, String body) {
    RestProtocol.Reply answer = api.rest().reply("POST", "/v2/models/Echo/infer", () -> JsonParser.parseString(body));
    JsonObject json = JsonParser.parseString(answer.json()).getAsJsonObject();
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
    assertEquals("{\"error\":\"this endpoint takes POST, not GET\"}", refused.json());
    assertEquals("POST", refused.allow());
    assertEquals("GET, HEAD", rest(api, "PUT", "/v2/health/live").allow());
    assertEquals("{\"live\":true}", rest(api, "GET", "/v2/health/live").json());
    assertEquals("{\"name\":\"seldon-serve\",\"version\":\"0.1.0\",\"extensions\":[]}", rest(api, "GET", "/v2").json());
    RestProtocol.Reply empty = rest(api, "POST", "/v2/models/Echo/infer");
    assertEquals(400, empty.status());
    assertEquals("{\"error\":\"empty request: send an inference request as the JSON body\"}", empty.json());
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
    assertSame(input.tensor(), OpenInference.output(input).tensor());
    assertEquals(Datatype.FP64, OpenInference.output(Payload.of(new double[] {1, 2})).tensor().datatype());
    assertEquals("application/json",
        OpenInference.output(Payload.json(java.util.Map.of("a", 1))).parameters().get("content_type"));
  }
}
