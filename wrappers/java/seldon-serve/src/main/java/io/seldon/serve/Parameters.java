package io.seldon.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The unit's parameters from Seldon's PREDICTIVE_UNIT_PARAMETERS, typed: a model whose class
 * has a constructor taking {@code Parameters} gets them there.
 *
 * <pre>{@code
 * public MinMaxScaler(Parameters parameters) {
 *   low = parameters.getDouble("low", 0.0);
 * }
 * }</pre>
 */
public final class Parameters {
  private static final String TYPES = "INT, FLOAT, DOUBLE, STRING, BOOL";

  private final Map<String, Object> values;

  public Parameters(Map<String, Object> values) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** Seldon's JSON list of {name, value, type}; a mistake stops start-up naming the parameter. */
  static Parameters parse(String json) throws StartupException {
    if (json == null || json.isBlank()) {
      return new Parameters(Map.of());
    }
    JsonElement parsed;
    try {
      parsed = JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new StartupException("PREDICTIVE_UNIT_PARAMETERS is not JSON: " + e.getMessage());
    }
    if (!parsed.isJsonArray()) {
      throw new StartupException("PREDICTIVE_UNIT_PARAMETERS must be a JSON list of {name, value, type}");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (JsonElement item : (JsonArray) parsed) {
      if (!item.isJsonObject() || !item.getAsJsonObject().has("name") || !item.getAsJsonObject().has("value")) {
        throw new StartupException("parameter " + item + " needs a name and a value");
      }
      JsonObject object = item.getAsJsonObject();
      String name = text(object.get("name"));
      String type = object.has("type") ? text(object.get("type")).toUpperCase(Locale.ROOT) : "STRING";
      String value = text(object.get("value"));
      values.put(name, convert(name, value, type));
    }
    return new Parameters(values);
  }

  /** A JSON string's text, or any other value as its JSON. */
  private static String text(JsonElement element) {
    return element.isJsonPrimitive() ? element.getAsString() : element.toString();
  }

  private static Object convert(String name, String value, String type) throws StartupException {
    try {
      return switch (type) {
        case "INT" -> Integer.parseInt(value.strip());
        case "FLOAT", "DOUBLE" -> Double.parseDouble(value.strip());
        case "STRING" -> value;
        case "BOOL" -> parseBool(value);
        default -> throw new StartupException(
            "parameter '" + name + "': unknown type '" + type + "' (use " + TYPES + ")");
      };
    } catch (NumberFormatException e) {
      throw new StartupException("parameter '" + name + "': '" + value + "' is not a valid " + type);
    }
  }

  private static boolean parseBool(String value) {
    return switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw new NumberFormatException(value);
    };
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public Map<String, Object> asMap() {
    return values;
  }

  public String getString(String name, String fallback) {
    Object value = values.get(name);
    return value == null ? fallback : value.toString();
  }

  public double getDouble(String name, double fallback) {
    return values.get(name) instanceof Number number ? number.doubleValue() : fallback;
  }

  public int getInt(String name, int fallback) {
    return values.get(name) instanceof Number number ? number.intValue() : fallback;
  }

  public boolean getBoolean(String name, boolean fallback) {
    return values.get(name) instanceof Boolean bool ? bool : fallback;
  }
}
