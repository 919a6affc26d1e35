package io.seldon.serve.v2;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.seldon.serve.Json;
import io.seldon.serve.RestProtocol.Reply;
import io.seldon.serve.SeldonException;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The binary tensor extension of the REST form (Triton's binary_tensor_data, which tritonclient
 * and KServe's REST client use by default): a JSON header, then tensors' bytes.
 *
 * <p>A request with an Inference-Header-Content-Length header holds that many bytes of JSON,
 * then the binary part: each input whose parameters give binary_data_size takes that many of
 * its bytes, in the order of the inputs, in gRPC's raw contents form (RawContents). An answer
 * carries an output so when the request asks (parameters.binary_data_output for all, an
 * output's parameters.binary_data for one), the header giving its JSON's length.
 */
final class BinaryTensors {
  /** Its name in the server metadata's extensions. */
  static final String EXTENSION = "binary_tensor_data";
  static final String HEADER = "Inference-Header-Content-Length";
  /** An input's or output's parameter: its bytes in the binary part. */
  static final String SIZE = "binary_data_size";
  private static final String OCTETS = "application/octet-stream";
  private static final Gson GSON = new Gson();

  private BinaryTensors() {}

  /** An error of the extension: a 400 that says so. */
  static SeldonException error(String message) {
    return new SeldonException("binary tensor extension: " + message);
  }

  /** A request body: its JSON (null for an empty body) and the binary part after it. */
  record Body(JsonElement json, Part binary) {}

  /** A body split at `header`, the Inference-Header-Content-Length (null: the body is all JSON). */
  static Body split(byte[] body, String header) {
    if (header == null) {
      JsonElement json = body.length == 0 ? null : Json.parse(new String(body, StandardCharsets.UTF_8), "request");
      return new Body(json, new Part(null, 0));
    }
    int length = jsonLength(header.strip(), body.length);
    String json = new String(body, 0, length, StandardCharsets.UTF_8);
    return new Body(Json.parse(json, "binary tensor extension: the request's first " + length + " bytes (" + HEADER
        + ")"), new Part(body, length));
  }

  private static int jsonLength(String header, int bodyLength) {
    long length;
    try {
      length = Long.parseLong(header);
    } catch (NumberFormatException e) {
      throw error(HEADER + " '" + header + "' is not a whole number");
    }
    if (length < 0) {
      throw error(HEADER + " " + length + " is negative");
    }
    if (length > bodyLength) {
      throw error(HEADER + " " + length + " is larger than the body (" + bodyLength + " bytes)");
    }
    return (int) length;
  }

  /** An input's binary_data_size, or -1 when it has none (its elements are in its data). */
  static long size(String input, JsonObject tensor) {
    if (!(tensor.get("parameters") instanceof JsonObject parameters) || !parameters.has(SIZE)) {
      return -1;
    }
    JsonElement size = parameters.get(SIZE);
    if (!(size instanceof JsonPrimitive number) || !number.isNumber() || !whole(number.getAsBigDecimal())) {
      throw error("input '" + input + "': " + SIZE + " " + size + " is not a non-negative integer");
    }
    if (tensor.has("data")) {
      throw error("input '" + input + "' has both data and " + SIZE);
    }
    return number.getAsBigDecimal().longValueExact();
  }

  private static boolean whole(BigDecimal value) {
    return value.signum() >= 0 && value.stripTrailingZeros().scale() <= 0
        && value.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0;
  }

  /** The binary part of a request (its body from `start`), taken an input at a time in the order of the inputs. */
  static final class Part {
    private final byte[] body; // null: the request has no Inference-Header-Content-Length
    private int next;

    Part(byte[] body, int start) {
      this.body = body;
      this.next = start;
    }

    /** An input's elements: the next `size` bytes, which must be whole elements filling its shape. */
    Object elements(String input, Datatype datatype, long[] shape, long size) {
      if (body == null) {
        throw error("input '" + input + "' has " + SIZE + ", but the request has no " + HEADER + " header");
      }
      int left = body.length - next;
      if (size > left) {
        throw error("input '" + input + "': " + SIZE + " " + size + " runs past the body (" + left + " bytes left)");
      }
      long elements = TypedTensor.size(shape);
      BigInteger needed = BigInteger.valueOf(elements).multiply(BigInteger.valueOf(datatype.bytes));
      if (datatype != Datatype.BYTES && !needed.equals(BigInteger.valueOf(size))) {
        throw error("input '" + input + "': " + datatype + " " + Arrays.toString(shape) + " is " + needed
            + " bytes, " + SIZE + " says " + size);
      }
      ByteString raw = ByteString.copyFrom(body, next, (int) size);
      next += (int) size;
      try {
        Object data = RawContents.unpack(datatype, raw);
        if (java.lang.reflect.Array.getLength(data) != elements) {
          throw new SeldonException(size + " bytes hold " + java.lang.reflect.Array.getLength(data)
              + " BYTES elements, shape " + Arrays.toString(shape) + " " + elements);
        }
        return data;
      } catch (SeldonException e) {
        throw error("input '" + input + "': " + e.getMessage());
      }
    }

    /** Every byte of the binary part belongs to an input. */
    void checkAllTaken() {
      if (body != null && next < body.length) {
        throw error((body.length - next) + " bytes after the last input's binary data");
      }
    }
  }

  /**
   * Whether the request asks for the output `name` in binary: its entry in outputs says so with
   * parameters.binary_data, else the request's parameters.binary_data_output.
   */
  static boolean wanted(JsonObject request, String name) {
    if (request.get("outputs") instanceof JsonArray outputs) {
      for (JsonElement output : outputs) {
        if (output instanceof JsonObject entry && new JsonPrimitive(name).equals(entry.get("name"))
            && entry.get("parameters") instanceof JsonObject parameters && parameters.has("binary_data")) {
          return isTrue(parameters.get("binary_data"));
        }
      }
    }
    return request.get("parameters") instanceof JsonObject parameters && isTrue(parameters.get("binary_data_output"));
  }

  private static boolean isTrue(JsonElement value) {
    return value instanceof JsonPrimitive flag && flag.isBoolean() && flag.getAsBoolean();
  }

  /** An answer some of whose outputs are binary: its JSON, then their bytes in the order of the outputs. */
  static Reply reply(JsonObject response, List<byte[]> binaries) {
    byte[] json = GSON.toJson(response).getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream(json.length
        + binaries.stream().mapToInt(b -> b.length).sum());
    body.writeBytes(json);
    binaries.forEach(body::writeBytes);
    return new Reply(200, OCTETS, body.toByteArray(), Map.of(HEADER, Integer.toString(json.length)));
  }
}
