package io.seldon.serve;

import com.google.gson.stream.JsonWriter;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.seldon.protos.PredictionProtos.DefaultData;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.Metric;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.Status;
import io.seldon.protos.PredictionProtos.Tensor;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * SeldonMessages as JSON text, written field by field with Gson's JsonWriter: the REST hot path.
 * It matches the python wrapper's answers, which proto3's JSON printer does not: data always
 * carries names, empty meta parts are left out, a 0-d ndarray is a bare value, and numbers are
 * Json's (NaN and infinities null).
 */
final class JsonOut {
  private static final JsonFormat.Printer PROTO_PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

  private JsonOut() {}

  static String message(SeldonMessage message) {
    return Json.write(out -> message(out, message));
  }

  /** Seldon's error body: status 1 is FAILURE, code -1 an error raised by the wrapper. */
  static String error(String info, String reason) {
    return Json.write(out -> out.beginObject().name("status").beginObject()
        .name("status").value(1)
        .name("info").value(info)
        .name("code").value(-1)
        .name("reason").value(reason)
        .endObject().endObject());
  }

  private static void message(JsonWriter out, SeldonMessage message) throws IOException {
    out.beginObject();
    if (message.hasStatus()) {
      status(out.name("status"), message.getStatus());
    }
    if (message.hasMeta()) {
      meta(out.name("meta"), message.getMeta());
    }
    switch (message.getDataOneofCase()) {
      case DATA -> data(out.name("data"), message.getData());
      case JSONDATA -> Json.value(out.name("jsonData"), message.getJsonData());
      case STRDATA -> out.name("strData").value(message.getStrData());
      case BINDATA -> out.name("binData").value(Base64.getEncoder().encodeToString(message.getBinData().toByteArray()));
      case CUSTOMDATA -> out.name("customData").jsonValue(proto(message.getCustomData()));
      default -> {}
    }
    out.endObject();
  }

  private static void status(JsonWriter out, Status status) throws IOException {
    out.beginObject()
        .name("code").value(status.getCode())
        .name("info").value(status.getInfo())
        .name("reason").value(status.getReason())
        .name("status").value(status.getStatus().name())
        .endObject();
  }

  private static void meta(JsonWriter out, Meta meta) throws IOException {
    out.beginObject();
    if (!meta.getPuid().isEmpty()) {
      out.name("puid").value(meta.getPuid());
    }
    if (meta.getTagsCount() > 0) {
      object(out.name("tags"), meta.getTagsMap(), Json::value);
    }
    if (meta.getRoutingCount() > 0) {
      object(out.name("routing"), meta.getRoutingMap(), (o, child) -> o.value((long) child));
    }
    if (meta.getRequestPathCount() > 0) {
      object(out.name("requestPath"), meta.getRequestPathMap(), JsonWriter::value);
    }
    if (meta.getMetricsCount() > 0) {
      array(out.name("metrics"), meta.getMetricsList(), JsonOut::metric);
    }
    out.endObject();
  }

  private static void metric(JsonWriter out, Metric metric) throws IOException {
    out.beginObject()
        .name("key").value(metric.getKey())
        .name("type").value(metric.getType().name());
    // Metric.value is a float: print its shortest form, not the double it widens to.
    Json.number(out.name("value"), Double.parseDouble(Float.toString(metric.getValue())));
    if (metric.getTagsCount() > 0) {
      object(out.name("tags"), metric.getTagsMap(), JsonWriter::value);
    }
    out.endObject();
  }

  private static void data(JsonWriter out, DefaultData data) throws IOException {
    out.beginObject();
    array(out.name("names"), data.getNamesList(), JsonWriter::value);
    switch (data.getDataOneofCase()) {
      case NDARRAY -> {
        if (ScalarNdarray.is(data)) {
          Json.value(out.name("ndarray"), data.getNdarray().getValues(0));
        } else {
          Json.list(out.name("ndarray"), data.getNdarray());
        }
      }
      case TENSOR -> tensor(out.name("tensor"), data.getTensor());
      case TFTENSOR -> out.name("tftensor").jsonValue(proto(data.getTftensor()));
      default -> {}
    }
    out.endObject();
  }

  /** Index loops, not array(): a tensor's values stay unboxed doubles on this hot path. */
  private static void tensor(JsonWriter out, Tensor tensor) throws IOException {
    out.beginObject().name("shape").beginArray();
    for (int i = 0; i < tensor.getShapeCount(); i++) {
      out.value(tensor.getShape(i));
    }
    out.endArray().name("values").beginArray();
    for (int i = 0; i < tensor.getValuesCount(); i++) {
      Json.number(out, tensor.getValues(i));
    }
    out.endArray().endObject();
  }

  /** Writes one value of type V. */
  private interface Writer<V> {
    void write(JsonWriter out, V value) throws IOException;
  }

  /** {"name": value, ...}, each value written by `write`. */
  private static <V> void object(JsonWriter out, Map<String, V> fields, Writer<? super V> write) throws IOException {
    out.beginObject();
    for (Map.Entry<String, V> field : fields.entrySet()) {
      write.write(out.name(field.getKey()), field.getValue());
    }
    out.endObject();
  }

  /** [item, ...], each item written by `write`. */
  private static <T> void array(JsonWriter out, List<T> items, Writer<? super T> write) throws IOException {
    out.beginArray();
    for (T item : items) {
      write.write(out, item);
    }
    out.endArray();
  }

  private static String proto(MessageOrBuilder message) {
    try {
      return PROTO_PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw SeldonException.internal("cannot write the answer as JSON: " + e.getMessage());
    }
  }
}
