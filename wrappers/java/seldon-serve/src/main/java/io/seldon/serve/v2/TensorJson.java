package io.seldon.serve.v2;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.seldon.serve.SeldonException;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import io.seldon.serve.v2.OpenInference.Input;
import io.seldon.serve.v2.OpenInference.Output;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Tensors in the REST API's JSON: an input's name, datatype, shape and data (flat or nested,
 * row-major), checked against its datatype, or its elements in the binary part (BinaryTensors);
 * the output with its datatype's numbers (UINT64 unsigned, FP32 in its shortest form), or
 * without them when they travel in binary.
 */
final class TensorJson {
  private static final Gson GSON = new Gson();
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
  private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

  private TensorJson() {}

  /** An input (or a child's output, for aggregate); `binary`: the request's binary part. */
  static Input input(JsonElement element, BinaryTensors.Part binary) {
    if (!(element instanceof JsonObject tensor)) {
      throw new SeldonException("each input must be an object with name, shape, datatype and data");
    }
    if (!(tensor.get("name") instanceof JsonPrimitive nameValue) || !nameValue.isString()
        || nameValue.getAsString().isEmpty()) {
      throw new SeldonException("each input needs a name");
    }
    String inputName = nameValue.getAsString();
    JsonElement datatypeValue = tensor.get("datatype");
    Datatype datatype = OpenInference.datatype(datatypeValue instanceof JsonPrimitive p && p.isString()
        ? p.getAsString() : null, inputName);
    long[] shape = shape(inputName, tensor.get("shape"));
    long binarySize = BinaryTensors.size(inputName, tensor);
    Object data = binarySize >= 0 ? binary.elements(inputName, datatype, shape, binarySize)
        : jsonElements(inputName, datatype, tensor);
    return new Input(inputName, named(inputName, () -> TypedTensor.of(datatype, shape, data)));
  }

  /** An input's elements from its data. */
  private static Object jsonElements(String input, Datatype datatype, JsonObject tensor) {
    if (!tensor.has("data")) {
      throw new SeldonException("input '" + input + "' has no data (nor parameters." + BinaryTensors.SIZE + ")");
    }
    List<JsonElement> flat = new ArrayList<>();
    flatten(input, tensor.get("data"), flat);
    return named(input, () -> elements(datatype, flat));
  }

  /** What `make` makes, or its error said of the input. */
  private static <T> T named(String input, Supplier<T> make) {
    try {
      return make.get();
    } catch (SeldonException e) {
      throw new SeldonException("input '" + input + "': " + e.getMessage());
    }
  }

  private static long[] shape(String input, JsonElement value) {
    if (value instanceof JsonArray dims) {
      long[] shape = new long[dims.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(dims.get(i) instanceof JsonPrimitive dim) || !dim.isNumber() || !integral(dim.getAsBigDecimal())
            || dim.getAsBigDecimal().signum() < 0 || dim.getAsBigDecimal().compareTo(LONG_MAX) > 0) {
          shape = null;
          break;
        }
        shape[i] = dim.getAsBigDecimal().longValueExact();
      }
      if (shape != null) {
        return shape;
      }
    }
    throw new SeldonException("input '" + input + "': shape must be a list of non-negative integers, got " + value);
  }

  /** Nested arrays must be regular (every sibling the same length); elements land row-major. */
  private static void flatten(String input, JsonElement data, List<JsonElement> out) {
    if (!(data instanceof JsonArray array)) {
      out.add(data);
      return;
    }
    int width = -1;
    for (JsonElement item : array) {
      int length = item instanceof JsonArray inner ? inner.size() : -1;
      if (width != -1 && length != width) {
        throw new SeldonException("input '" + input + "': data is not a regular array");
      }
      width = length;
      flatten(input, item, out);
    }
  }

  private static Object elements(Datatype datatype, List<JsonElement> flat) {
    int n = flat.size();
    switch (datatype.kind) {
      case BOOLEAN -> {
        boolean[] values = new boolean[n];
        for (int i = 0; i < n; i++) {
          if (!(flat.get(i) instanceof JsonPrimitive p) || !p.isBoolean()) {
            throw new SeldonException("BOOL data must be true/false");
          }
          values[i] = p.getAsBoolean();
        }
        return values;
      }
      case BYTES -> {
        byte[][] values = new byte[n][];
        for (int i = 0; i < n; i++) {
          if (!(flat.get(i) instanceof JsonPrimitive p) || !p.isString()) {
            throw new SeldonException("BYTES data must be strings");
          }
          values[i] = p.getAsString().getBytes(StandardCharsets.UTF_8);
        }
        return values;
      }
      case INTEGER -> {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
          values[i] = integer(datatype, flat.get(i));
        }
        return values;
      }
      case FLOAT -> {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
          values[i] = number(flat.get(i), datatype, "numbers").getAsFloat(); // the JSON text to the nearest float
        }
        return values;
      }
      default -> {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
          values[i] = number(flat.get(i), datatype, "numbers").getAsDouble();
        }
        return values;
      }
    }
  }

  private static JsonPrimitive number(JsonElement element, Datatype datatype, String what) {
    if (!(element instanceof JsonPrimitive p) || !p.isNumber()) {
      throw new SeldonException(datatype + " data must be " + what);
    }
    return p;
  }

  /**
   * A JSON integer in the datatype's range, as the long that holds it (UINT64: its bits). A
   * plain integer is read as one; 3.0, 1e3 or one past a long's range through BigDecimal.
   */
  private static long integer(Datatype datatype, JsonElement element) {
    JsonPrimitive p = number(element, datatype, "integers");
    if (datatype != Datatype.UINT64) {
      try {
        long value = Long.parseLong(p.getAsString());
        if (value >= datatype.min && value <= datatype.max) {
          return value;
        }
      } catch (NumberFormatException e) {
        // not written as a plain long: the exact path below says what it is
      }
    }
    BigDecimal value = p.getAsBigDecimal();
    if (!integral(value)) {
      throw new SeldonException(datatype + " data must be integers");
    }
    return integer(datatype, value);
  }

  private static boolean integral(BigDecimal value) {
    return value.signum() == 0 || value.scale() <= 0 || value.stripTrailingZeros().scale() <= 0;
  }

  /** A JSON integer in the datatype's range, as the long that holds it (UINT64: its bits). */
  private static long integer(Datatype datatype, BigDecimal value) {
    BigInteger whole = value.toBigIntegerExact();
    BigInteger min = datatype == Datatype.UINT64 ? BigInteger.ZERO : BigInteger.valueOf(datatype.min);
    BigInteger max = datatype == Datatype.UINT64 ? UINT64_MAX : BigInteger.valueOf(datatype.max);
    if (whole.compareTo(min) < 0 || whole.compareTo(max) > 0) {
      throw new SeldonException("a value (" + whole + ") is outside " + datatype + "'s range [" + min + ", " + max
          + "]");
    }
    return whole.longValue();
  }

  /** The output with its elements in data. */
  static JsonObject output(Output output) {
    return output(output, data(output.tensor()), Map.of());
  }

  /** The output without data: its elements follow the JSON, `binarySize` bytes (BinaryTensors). */
  static JsonObject binaryOutput(Output output, int binarySize) {
    return output(output, null, Map.of(BinaryTensors.SIZE, binarySize));
  }

  private static JsonObject output(Output output, JsonArray data, Map<String, Object> moreParameters) {
    TypedTensor tensor = output.tensor();
    JsonObject json = new JsonObject();
    json.addProperty("name", output.name());
    json.addProperty("datatype", tensor.datatype().name());
    json.add("shape", GSON.toJsonTree(tensor.shape()));
    if (data != null) {
      json.add("data", data);
    }
    Map<String, Object> parameters = new LinkedHashMap<>(output.parameters());
    parameters.putAll(moreParameters);
    if (!parameters.isEmpty()) {
      json.add("parameters", GSON.toJsonTree(parameters));
    }
    return json;
  }

  private static JsonArray data(TypedTensor tensor) {
    JsonArray data = new JsonArray();
    Object values = tensor.data();
    switch (tensor.datatype().kind) {
      case BOOLEAN -> {
        for (boolean value : (boolean[]) values) {
          data.add(value);
        }
      }
      case INTEGER -> {
        for (long value : (long[]) values) {
          data.add(tensor.datatype() == Datatype.UINT64 ? new BigInteger(Long.toUnsignedString(value)) : value);
        }
      }
      case FLOAT -> {
        for (float value : (float[]) values) {
          data.add(value); // written as Float.toString writes it: the shortest text that reads back as the float
        }
      }
      case DOUBLE -> {
        for (double value : (double[]) values) {
          data.add(value);
        }
      }
      case BYTES -> {
        for (String value : tensor.strings()) {
          data.add(value);
        }
      }
    }
    return data;
  }
}
