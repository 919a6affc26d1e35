package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seldon.protos.PredictionProtos.SeldonMessage;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class JsonTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{not json|not valid JSON",
      "{\"a\": NaN}|not valid JSON",
      "{} {}|not valid JSON",
      "[1, 2]|must be a JSON object, got a list",
      "{\"binData\": \"not base64!\"}|binData is not valid base64",
      "{\"strData\": 3}|strData must be a string",
      "{\"data\": {\"names\": [1]}}|data.names must be a list of strings",
      "{\"data\": {\"tensor\": {\"values\": [\"x\"]}}}|data.tensor values do not fit shape",
      "{\"meta\": {\"puid\": [{}]}}|meta.puid must be a string, not a list",
      "{\"data\": {\"ndarray\": null}}|data.ndarray must be a (nested) list or a scalar",
      "{\"meta\": {\"metrics\": {}}}|meta.metrics must be a list",
      "{\"meta\": {\"metrics\": [{\"type\": \"SUM\"}]}}|a meta.metrics item is not {key, type, value, tags}",
      "{\"meta\": {\"metrics\": [3]}}|a meta.metrics item must be a JSON object",
      "{\"meta\": {\"requestPath\": {\"a\": {}}}}|meta.requestPath values are images (strings)",
      "{\"meta\": {\"routing\": {\"a\": 1.5}}}|meta.routing values are child indexes",
      "{\"meta\": {\"routing\": {\"a\": 1e20}}}|meta.routing values are child indexes",
  })
  void badMessagesAreBadData(String body, String fragment) {
    SeldonException error = assertThrows(SeldonException.class, () -> JsonIn.message(Json.parse(body, "request")));
    assertEquals(400, error.status());
    assertTrue(error.getMessage().contains(fragment), error.getMessage());
  }

  @Test
  void answersAlwaysNameTheirDataAndWriteNonFiniteNumbersAsNull() {
    Payload result = Payload.of(new double[] {Double.NaN, 1});
    String json = JsonOut.message(Messages.encode(result, null, null, null));
    assertEquals("{\"data\":{\"names\":[],\"ndarray\":[null,1.0]}}", json);
  }

  @Test
  void numbersAreWrittenAsJavaPrintsDoublesAndNonFiniteOnesAsNull() {
    SeldonMessage message = JsonIn.message(Json.parse("{\"data\": {\"tensor\": {\"shape\": [8],"
        + " \"values\": [1, 0.1, 1e10, 1e-7, 123456789, -0.0, 1e999, 9007199254740993]}}}", "request"));
    assertEquals("{\"data\":{\"names\":[],\"tensor\":{\"shape\":[8],\"values\":[1.0,0.1,1.0E10,1.0E-7,"
        + "1.23456789E8,-0.0,null,9.007199254740992E15]}}}", JsonOut.message(message));
  }

  @Test
  void valuesNestedPastJsonFormatsLimitAreRead() {
    String nested = "[".repeat(200) + "]".repeat(200);
    String json = JsonOut.message(JsonIn.message(Json.parse("{\"jsonData\": " + nested + "}", "request")));
    assertEquals("{\"jsonData\":" + nested + "}", json);
  }

  @Test
  void aScalarNdarrayRoundTrips() {
    String json = JsonOut.message(JsonIn.message(Json.parse("{\"data\": {\"ndarray\": \"abc\"}}", "request")));
    assertEquals("{\"data\":{\"names\":[],\"ndarray\":\"abc\"}}", json);
    String list = JsonOut.message(JsonIn.message(Json.parse("{\"data\": {\"ndarray\": [\"abc\"]}}", "request")));
    assertEquals("{\"data\":{\"names\":[],\"ndarray\":[\"abc\"]}}", list);
  }

  @Test
  void stringsAreEscaped() {
    SeldonMessage message = SeldonMessage.newBuilder().setStrData("a\"b\\c\n\u0001\u2028<é").build();
    assertEquals("{\"strData\":\"a\\\"b\\\\c\\n\\u0001\\u2028<é\"}", JsonOut.message(message));
  }

  @Test
  void errorBodiesAreSeldons() {
    assertEquals("{\"status\":{\"status\":1,\"info\":\"no\",\"code\":-1,\"reason\":\"MICROSERVICE_BAD_DATA\"}}",
        JsonOut.error("no", SeldonException.BAD_DATA));
  }

  @Test
  void feedbackRewardsMustBeNumbers() {
    SeldonException error = assertThrows(SeldonException.class,
        () -> JsonIn.feedback(Json.parse("{\"reward\": \"lots\"}", "request")));
    assertTrue(error.getMessage().contains("reward must be a number"));
  }

  @Test
  void multipartPartsBecomeTheMessage() {
    String body = "--XyZ\r\nContent-Disposition: form-data; name=\"binData\"; filename=\"a.bin\"\r\n\r\n\u0000\u0001\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{\"puid\": \"p\"}\r\n--XyZ--\r\n";
    var message = Multipart.message("multipart/form-data; boundary=XyZ", body.getBytes(StandardCharsets.ISO_8859_1));
    assertEquals("AAE=", message.get("binData").getAsString());
    assertEquals("p", message.getAsJsonObject("meta").get("puid").getAsString());
  }
}
