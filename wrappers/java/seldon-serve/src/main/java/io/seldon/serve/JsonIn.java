package io.seldon.serve;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.seldon.protos.PredictionProtos.DefaultData;
import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.Metric;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import io.seldon.protos.PredictionProtos.Tensor;
import io.seldon.protos.tf.TensorProtos.TensorProto;
import java.util.Base64;
import java.util.Map;

/**
 * SeldonMessage, Feedback and SeldonMessageList from the JSON Seldon's wrapper takes, with its
 * error messages: a request that does not fit is a 400 that says why. Checked and mapped field
 * by field, not by JsonFormat, which reads this JSON otherwise: it takes no 0-d ndarray, refuses
 * values nested 100 deep (Gson's reader allows 255), reads data.tensor's numbers its own way
 * (refuses 1e999 and a shape of 1.5, drops the sign of -0.0), and takes 2-4 times as long.
 * JsonFormat reads the parts sent in proto3's form: meta.metrics items and data.tftensor.
 */
final class JsonIn {
  private static final JsonFormat.Parser PROTO_PARSER = JsonFormat.parser();

  private JsonIn() {}

  static SeldonMessage message(JsonElement element) {
    JsonObject object = Json.object(element, "a SeldonMessage");
    SeldonMessage.Builder message = SeldonMessage.newBuilder();
    JsonElement meta = object.get("meta");
    if (meta != null && !meta.isJsonNull()) {
      message.setMeta(meta(Json.object(meta, "meta")));
    }
    if (object.has("data")) {
      message.setData(data(object.get("data")));
    } else if (object.has("jsonData")) {
      message.setJsonData(value(object.get("jsonData")));
    } else if (object.has("strData")) {
      JsonElement text = object.get("strData");
      if (!isString(text)) {
        throw SeldonException.badData("strData must be a string");
      }
      message.setStrData(text.getAsString());
    } else if (object.has("binData")) {
      message.setBinData(base64(object.get("binData")));
    }
    return message.build();
  }

  static Feedback feedback(JsonElement element) {
    JsonObject object = Json.object(element, "feedback (request, response, reward, truth)");
    Feedback.Builder feedback = Feedback.newBuilder();
    for (String part : new String[] {"request", "response", "truth"}) {
      JsonElement value = object.get(part);
      if (value != null && !value.isJsonNull()) {
        SeldonMessage message = message(value);
        switch (part) {
          case "request" -> feedback.setRequest(message);
          case "response" -> feedback.setResponse(message);
          default -> feedback.setTruth(message);
        }
      }
    }
    JsonElement reward = object.get("reward");
    if (reward != null && !reward.isJsonNull()) {
      if (!reward.isJsonPrimitive() || !reward.getAsJsonPrimitive().isNumber()) {
        throw SeldonException.badData("feedback reward must be a number, not " + reward);
      }
      feedback.setReward(reward.getAsFloat());
    }
    return feedback.build();
  }

  /** {"seldonMessages": [...]} or the bare list Seldon's executor sends. */
  static SeldonMessageList messageList(JsonElement element) {
    JsonElement list = element;
    if (element.isJsonObject() && element.getAsJsonObject().has("seldonMessages")) {
      list = element.getAsJsonObject().get("seldonMessages");
    }
    if (!list.isJsonArray()) {
      throw SeldonException.badData(
          "aggregate needs {\"seldonMessages\": [...]} or a non-empty list of SeldonMessages");
    }
    SeldonMessageList.Builder messages = SeldonMessageList.newBuilder();
    for (JsonElement item : list.getAsJsonArray()) {
      messages.addSeldonMessages(message(item));
    }
    return messages.build();
  }

  private static Meta meta(JsonObject object) {
    Meta.Builder meta = Meta.newBuilder();
    JsonElement puid = object.get("puid");
    if (puid != null && !puid.isJsonNull()) {
      if (!isString(puid)) {
        throw SeldonException.badData("meta.puid must be a string, not " + Json.typeName(puid));
      }
      meta.setPuid(puid.getAsString());
    }
    JsonElement tags = object.get("tags");
    if (tags != null && !tags.isJsonNull()) {
      for (Map.Entry<String, JsonElement> tag : Json.object(tags, "meta.tags").entrySet()) {
        meta.putTags(tag.getKey(), value(tag.getValue()));
      }
    }
    JsonElement routing = object.get("routing");
    if (routing != null && !routing.isJsonNull()) {
      for (Map.Entry<String, JsonElement> route : Json.object(routing, "meta.routing").entrySet()) {
        meta.putRouting(route.getKey(), childIndex(route.getValue()));
      }
    }
    JsonElement paths = object.get("requestPath");
    if (paths != null && !paths.isJsonNull()) {
      for (Map.Entry<String, JsonElement> path : Json.object(paths, "meta.requestPath").entrySet()) {
        if (!path.getValue().isJsonPrimitive()) {
          throw SeldonException.badData(
              "meta.requestPath values are images (strings), not " + Json.typeName(path.getValue()));
        }
        meta.putRequestPath(path.getKey(), path.getValue().getAsString());
      }
    }
    JsonElement metrics = object.get("metrics");
    if (metrics != null && !metrics.isJsonNull()) {
      // Carried into the answer ahead of the model's own, as Seldon's wrapper does.
      if (!metrics.isJsonArray()) {
        throw SeldonException.badData("meta.metrics must be a list of metrics, not " + Json.typeName(metrics));
      }
      for (JsonElement metric : metrics.getAsJsonArray()) {
        meta.addMetrics(metric(metric));
      }
    }
    return meta.build();
  }

  private static Metric metric(JsonElement element) {
    Metric.Builder metric = Metric.newBuilder();
    try {
      PROTO_PARSER.merge(Json.object(element, "a meta.metrics item").toString(), metric);
    } catch (InvalidProtocolBufferException e) {
      throw SeldonException.badData("a meta.metrics item is not {key, type, value, tags}: " + e.getMessage());
    }
    return metric.build();
  }

  private static DefaultData data(JsonElement element) {
    JsonObject object = Json.object(element, "data");
    DefaultData.Builder data = DefaultData.newBuilder();
    JsonElement names = object.get("names");
    if (names != null && !names.isJsonNull()) {
      if (!names.isJsonArray()) {
        throw SeldonException.badData("data.names must be a list of strings");
      }
      for (JsonElement name : names.getAsJsonArray()) {
        if (!isString(name)) {
          throw SeldonException.badData("data.names must be a list of strings");
        }
        data.addNames(name.getAsString());
      }
    }
    if (object.has("ndarray")) {
      JsonElement ndarray = object.get("ndarray");
      if (ndarray.isJsonArray()) {
        data.setNdarray(list(ndarray.getAsJsonArray()));
      } else if (!ndarray.isJsonNull()) {
        ScalarNdarray.set(data, value(ndarray)); // a 0-d array, as numpy reads it in Seldon's wrapper
      } else {
        throw SeldonException.badData("data.ndarray must be a (nested) list or a scalar, not null");
      }
    } else if (object.has("tensor")) {
      data.setTensor(tensor(object.get("tensor")));
    } else if (object.has("tftensor")) {
      data.setTftensor(tftensor(object.get("tftensor")));
    }
    return data.build();
  }

  private static Tensor tensor(JsonElement element) {
    if (!element.isJsonObject() || !element.getAsJsonObject().has("values")) {
      throw SeldonException.badData("data.tensor needs shape and values");
    }
    JsonObject object = element.getAsJsonObject();
    Tensor.Builder tensor = Tensor.newBuilder();
    JsonElement shape = object.get("shape");
    try {
      if (shape != null && !shape.isJsonNull()) {
        for (JsonElement dim : shape.getAsJsonArray()) {
          tensor.addShape(dim.getAsJsonPrimitive().getAsInt());
        }
      }
      for (JsonElement value : object.get("values").getAsJsonArray()) {
        JsonPrimitive number = value.getAsJsonPrimitive();
        if (!number.isNumber()) {
          throw new IllegalStateException(number + " is not a number");
        }
        tensor.addValues(number.getAsDouble());
      }
    } catch (IllegalStateException | ClassCastException | NumberFormatException e) {
      throw SeldonException.badData(
          "data.tensor values do not fit shape " + shape + ": shape is a list of ints and values a flat list of"
              + " numbers (" + e.getMessage() + ")");
    }
    return tensor.build();
  }

  private static TensorProto tftensor(JsonElement element) {
    TensorProto.Builder tensor = TensorProto.newBuilder();
    try {
      PROTO_PARSER.merge(element.toString(), tensor);
    } catch (InvalidProtocolBufferException e) {
      throw SeldonException.badData("data.tftensor is not a TensorProto: " + e.getMessage());
    }
    return tensor.build();
  }

  private static ByteString base64(JsonElement element) {
    if (!isString(element)) {
      throw SeldonException.badData("binData must be a base64 string");
    }
    try {
      return ByteString.copyFrom(Base64.getDecoder().decode(element.getAsString()));
    } catch (IllegalArgumentException e) {
      throw SeldonException.badData("binData is not valid base64: " + e.getMessage());
    }
  }

  static Value value(JsonElement element) {
    if (element == null || element.isJsonNull()) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    if (element.isJsonArray()) {
      return Value.newBuilder().setListValue(list(element.getAsJsonArray())).build();
    }
    if (element.isJsonObject()) {
      Struct.Builder struct = Struct.newBuilder();
      for (Map.Entry<String, JsonElement> field : element.getAsJsonObject().entrySet()) {
        struct.putFields(field.getKey(), value(field.getValue()));
      }
      return Value.newBuilder().setStructValue(struct).build();
    }
    JsonPrimitive primitive = element.getAsJsonPrimitive();
    if (primitive.isBoolean()) {
      return Value.newBuilder().setBoolValue(primitive.getAsBoolean()).build();
    }
    if (primitive.isNumber()) {
      return Value.newBuilder().setNumberValue(primitive.getAsDouble()).build();
    }
    return Value.newBuilder().setStringValue(primitive.getAsString()).build();
  }

  private static ListValue list(JsonArray array) {
    ListValue.Builder list = ListValue.newBuilder();
    for (JsonElement item : array) {
      list.addValues(value(item));
    }
    return list.build();
  }

  /** A routing value: a whole number that fits an int (getAsInt would truncate 1.5, fail on 1e20). */
  private static int childIndex(JsonElement value) {
    if (value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber()) {
      try {
        return value.getAsBigDecimal().intValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        // not whole, or too large: refused below
      }
    }
    throw SeldonException.badData("meta.routing values are child indexes (ints), not " + value);
  }

  private static boolean isString(JsonElement element) {
    return element.isJsonPrimitive() && element.getAsJsonPrimitive().isString();
  }
}
