package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** multipart/form-data uploads as Seldon's wrapper reads them (its microservice's multipart form). */
class MultipartTest {
  private static final String TYPE = "multipart/form-data; boundary=XyZ";

  /** A body of parts, each {name, content} given as raw bytes, with the given line break. */
  private static byte[] body(String lineBreak, Object... namesAndContents) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < namesAndContents.length; i += 2) {
      String name = (String) namesAndContents[i];
      Object content = namesAndContents[i + 1];
      out.writeBytes(("--XyZ" + lineBreak).getBytes(StandardCharsets.ISO_8859_1));
      String disposition = "Content-Disposition: form-data; name=\"" + name + "\"";
      if (content instanceof byte[]) {
        disposition += "; filename=\"upload.bin\"" + lineBreak + "Content-Type: application/octet-stream";
      }
      out.writeBytes((disposition + lineBreak + lineBreak).getBytes(StandardCharsets.UTF_8));
      out.writeBytes(content instanceof byte[] bytes ? bytes : ((String) content).getBytes(StandardCharsets.UTF_8));
      out.writeBytes(lineBreak.getBytes(StandardCharsets.ISO_8859_1));
    }
    out.writeBytes(("--XyZ--" + lineBreak).getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }

  private static String message(String contentType, byte[] body) {
    return Multipart.message(contentType, body).toString();
  }

  @Test
  void aFilePartIsBinDataAsBase64ByteForByte() {
    byte[] bytes = {0, (byte) 0xff, '\r', '\n', '-', '-', 'X', 'y', 0x7f};
    JsonObject message = Multipart.message(TYPE, body("\r\n", "binData", bytes));
    assertEquals(Base64.getEncoder().encodeToString(bytes), message.get("binData").getAsString());
  }

  @Test
  void strDataIsTextAndOtherPartsAreJson() {
    String answer = message(TYPE, body("\r\n",
        "strData", "héllo\nworld",
        "meta", "{\"tags\": {\"a\": 1}}",
        "data", "{\"ndarray\": [[1, 2]]}"));
    assertEquals("{\"strData\":\"héllo\\nworld\",\"meta\":{\"tags\":{\"a\":1}},"
        + "\"data\":{\"ndarray\":[[1,2]]}}", answer);
  }

  @Test
  void aJsonPartIsTheWholeMessage() {
    String answer = message(TYPE, body("\r\n", "json", "{\"data\": {\"ndarray\": [1]}, \"meta\": {\"puid\": \"p\"}}"));
    assertEquals("{\"data\":{\"ndarray\":[1]},\"meta\":{\"puid\":\"p\"}}", answer);
  }

  @Test
  void bareLineFeedsAndAQuotedBoundaryAreRead() {
    String answer = message("multipart/form-data; charset=utf-8; boundary=\"XyZ\"", body("\n", "strData", "x"));
    assertEquals("{\"strData\":\"x\"}", answer);
  }

  @Test
  void aPartWithoutANameIsSkipped() {
    byte[] body = "--XyZ\r\nContent-Type: text/plain\r\n\r\nignored\r\n--XyZ--\r\n".getBytes(StandardCharsets.UTF_8);
    assertEquals("{}", message(TYPE, body));
  }

  @Test
  void theBoundaryParameterIsFoundWhereverItIs() {
    assertEquals("a b", Multipart.boundary("multipart/form-data; BOUNDARY=\"a b\""));
    assertEquals("x", Multipart.parameter("form-data; name=x; filename=\"y\"", "name"));
    assertNull(Multipart.parameter("form-data; filename=\"y\"", "name"));
  }

  private static String refusal(String contentType, String body) {
    SeldonException error = assertThrows(SeldonException.class,
        () -> Multipart.message(contentType, body.getBytes(StandardCharsets.UTF_8)));
    assertEquals(400, error.status());
    assertEquals(SeldonException.BAD_DATA, error.reason());
    return error.getMessage();
  }

  @Test
  void aMalformedUploadIsABadDataAnswerThatSaysWhatIsWrong() {
    assertEquals("multipart Content-Type without a boundary", refusal("multipart/form-data", "--XyZ--"));
    assertEquals("multipart body without parts (is the boundary right?)", refusal(TYPE, "--other\r\n"));
    assertEquals("multipart body ends inside a part (no closing boundary)",
        refusal(TYPE, "--XyZ\r\nContent-Disposition: form-data; name=\"strData\"\r\n\r\nx"));
    assertEquals("multipart part without headers", refusal(TYPE, "--XyZ\r\nno headers\r\n--XyZ--"));
    assertEquals("multipart part \"meta\" is not JSON",
        refusal(TYPE, "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{nope\r\n--XyZ--"));
  }
}
