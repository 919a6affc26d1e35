package io.seldon.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/**
 * multipart/form-data uploads: a {@code binData} file part, a {@code strData} part, a whole
 * message in {@code json}; any other named part (meta, say) is read as JSON and set on the
 * message.
 */
final class Multipart {
  private Multipart() {}

  static JsonObject message(String contentType, byte[] body) {
    byte[] delimiter = ("--" + boundary(contentType)).getBytes(StandardCharsets.ISO_8859_1);
    JsonObject message = new JsonObject();
    int start = indexOf(body, delimiter, 0);
    if (start < 0) {
      throw SeldonException.badData("multipart body without parts (is the boundary right?)");
    }
    while (true) {
      int partStart = start + delimiter.length;
      if (partStart + 1 < body.length && body[partStart] == '-' && body[partStart + 1] == '-') {
        break; // the closing delimiter
      }
      partStart = skipLineBreak(body, partStart);
      int next = indexOf(body, delimiter, partStart);
      if (next < 0) {
        throw SeldonException.badData("multipart body ends inside a part (no closing boundary)");
      }
      int partEnd = lineBreakBefore(body, next, partStart);
      part(message, Arrays.copyOfRange(body, partStart, partEnd));
      start = next;
    }
    return message;
  }

  private static void part(JsonObject message, byte[] part) {
    // Headers end at a blank line; like Seldon's (werkzeug's) parser, bare line feeds count too.
    int headerEnd = indexOf(part, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    int contentStart = headerEnd + 4;
    int bare = indexOf(part, "\n\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    if (bare >= 0 && (headerEnd < 0 || bare < headerEnd)) {
      headerEnd = bare;
      contentStart = bare + 2;
    }
    if (headerEnd < 0) {
      throw SeldonException.badData("multipart part without headers");
    }
    String headers = new String(part, 0, headerEnd, StandardCharsets.UTF_8);
    byte[] content = Arrays.copyOfRange(part, contentStart, part.length);
    String name = null;
    for (String line : headers.split("\r?\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-disposition:")) {
        name = parameter(line, "name");
      }
    }
    if (name == null) {
      return;
    }
    switch (name) {
      case "binData" -> message.addProperty("binData", Base64.getEncoder().encodeToString(content));
      case "strData" -> message.addProperty("strData", new String(content, StandardCharsets.UTF_8));
      case "json" -> {
        JsonObject whole = Json.object(Json.parse(new String(content, StandardCharsets.UTF_8), "json"), "json");
        for (Map.Entry<String, JsonElement> field : whole.entrySet()) {
          message.add(field.getKey(), field.getValue());
        }
      }
      default -> {
        try {
          message.add(name, Json.parse(new String(content, StandardCharsets.UTF_8), "part"));
        } catch (SeldonException e) {
          throw SeldonException.badData("multipart part " + new JsonPrimitive(name) + " is not JSON");
        }
      }
    }
  }

  static String boundary(String contentType) {
    String boundary = parameter(contentType, "boundary");
    if (boundary == null || boundary.isEmpty()) {
      throw SeldonException.badData("multipart Content-Type without a boundary");
    }
    return boundary;
  }

  /** A header parameter such as name="x" or boundary=y. */
  static String parameter(String header, String wanted) {
    for (String piece : header.split(";")) {
      String[] pair = piece.strip().split("=", 2);
      if (pair.length == 2 && pair[0].strip().equalsIgnoreCase(wanted)) {
        String value = pair[1].strip();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        return value;
      }
    }
    return null;
  }

  private static int skipLineBreak(byte[] body, int at) {
    if (at + 1 < body.length && body[at] == '\r' && body[at + 1] == '\n') {
      return at + 2;
    }
    return at < body.length && body[at] == '\n' ? at + 1 : at;
  }

  /** Where a part that runs up to a delimiter at {@code at} ends: before its CRLF or LF. */
  private static int lineBreakBefore(byte[] body, int at, int from) {
    if (at - 2 >= from && body[at - 2] == '\r' && body[at - 1] == '\n') {
      return at - 2;
    }
    return at - 1 >= from && body[at - 1] == '\n' ? at - 1 : at;
  }

  static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
