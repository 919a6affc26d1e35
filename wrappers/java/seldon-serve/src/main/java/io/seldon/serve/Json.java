package io.seldon.serve;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Map;

/**
 * JSON as the wrapper reads and writes it, for both protocols: Gson's strict reader into trees,
 * and Gson's writer for protobuf's JSON values (Value, Struct, ListValue) with the numbers
 * Seldon's wrapper answers: every number a double in Java's form (1.0, 1.0E10), and null for
 * those JSON cannot hold (NaN, infinities). What the Open Inference Protocol's package uses is
 * public; it is not for models.
 */
public final class Json {
  private static final TypeAdapter<JsonElement> ELEMENTS = new Gson().getAdapter(JsonElement.class);

  private Json() {}

  /** Strict JSON (no NaN, no single quotes, nothing after the value; Gson's nesting limit, 255). */
  public static JsonElement parse(String text, String what) {
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      JsonElement element = ELEMENTS.read(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("more data after the JSON value");
      }
      return element;
    } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
      throw SeldonException.badData(what + " is not valid JSON: " + e.getMessage());
    }
  }

  /** The element as an object, or a 400: "`what` must be a JSON object, got ...". */
  public static JsonObject object(JsonElement element, String what) {
    if (!element.isJsonObject()) {
      throw SeldonException.badData(what + " must be a JSON object, got " + typeName(element));
    }
    return element.getAsJsonObject();
  }

  /** What an element is, for an error message: "a list", "null", "a string", or "a " and the value. */
  static String typeName(JsonElement element) {
    if (element.isJsonArray()) {
      return "a list";
    }
    if (element.isJsonNull()) {
      return "null";
    }
    return element.isJsonPrimitive() && element.getAsJsonPrimitive().isString() ? "a string" : "a " + element;
  }

  /** Maps, lists, strings, numbers, booleans and null (metadata, a default health answer). */
  public static String plain(Object object) {
    Value value = Values.toValue(object);
    return write(out -> value(out, value));
  }

  /** Writes one JSON value. */
  interface Writing {
    void to(JsonWriter out) throws IOException;
  }

  /** What `writing` writes, as text. */
  static String write(Writing writing) {
    Text text = new Text();
    try {
      writing.to(new JsonWriter(text));
    } catch (IOException e) { // Text does not fail
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  /** A Writer into a StringBuilder: StringWriter's StringBuffer takes a lock for every token written. */
  private static final class Text extends Writer {
    private final StringBuilder text = new StringBuilder(128);

    @Override
    public void write(int c) {
      text.append((char) c);
    }

    @Override
    public void write(char[] chars, int offset, int length) {
      text.append(chars, offset, length);
    }

    @Override
    public void write(String string) {
      text.append(string);
    }

    @Override
    public void write(String string, int offset, int length) {
      text.append(string, offset, offset + length);
    }

    @Override
    public Writer append(CharSequence chars) {
      text.append(chars);
      return this;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    @Override
    public String toString() {
      return text.toString();
    }
  }

  static void value(JsonWriter out, Value value) throws IOException {
    switch (value.getKindCase()) {
      case NUMBER_VALUE -> number(out, value.getNumberValue());
      case STRING_VALUE -> out.value(value.getStringValue());
      case BOOL_VALUE -> out.value(value.getBoolValue());
      case STRUCT_VALUE -> {
        out.beginObject();
        for (Map.Entry<String, Value> field : value.getStructValue().getFieldsMap().entrySet()) {
          value(out.name(field.getKey()), field.getValue());
        }
        out.endObject();
      }
      case LIST_VALUE -> list(out, value.getListValue());
      default -> out.nullValue();
    }
  }

  static void list(JsonWriter out, ListValue list) throws IOException {
    out.beginArray();
    for (int i = 0; i < list.getValuesCount(); i++) {
      value(out, list.getValues(i));
    }
    out.endArray();
  }

  /** Gson writes a double as Java prints it, Seldon's form; NaN and infinities, which it refuses, are null. */
  static void number(JsonWriter out, double number) throws IOException {
    if (Double.isFinite(number)) {
      out.value(number);
    } else {
      out.nullValue();
    }
  }
}
