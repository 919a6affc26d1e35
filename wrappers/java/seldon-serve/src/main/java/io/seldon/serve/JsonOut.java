package io.seldon.serve;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.seldon.protos.PredictionProtos.DefaultData;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.Metric;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.Status;
import io.seldon.protos.PredictionProtos.Tensor;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Messages as JSON text, written field by field: the REST hot path. It matches the python
 * wrapper's answers: data always carries names, empty meta parts are left out, numbers that
 * JSON cannot hold (NaN, infinities) are null.
 */
final class JsonOut {
  private static final JsonFormat.Printer PROTO_PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();

  private JsonOut() {}

  static String message(SeldonMessage message) {
    StringBuilder out = new StringBuilder(128);
    out.append('{');
    boolean first = true;
    if (message.hasStatus()) {
      first = field(out, "status", first);
      status(out, message.getStatus());
    }
    if (message.hasMeta()) {
      first = field(out, "meta", first);
      meta(out, message.getMeta());
    }
    switch (message.getDataOneofCase()) {
      case DATA -> {
        field(out, "data", first);
        data(out, message.getData());
      }
      case JSONDATA -> {
        field(out, "jsonData", first);
        value(out, message.getJsonData());
      }
      case STRDATA -> {
        field(out, "strData", first);
        string(out, message.getStrData());
      }
      case BINDATA -> {
        field(out, "binData", first);
        string(out, Base64.getEncoder().encodeToString(message.getBinData().toByteArray()));
      }
      case CUSTOMDATA -> {
        field(out, "customData", first);
        out.append(proto(message.getCustomData()));
      }
      default -> {}
    }
    return out.append('}').toString();
  }

  /** Seldon's error body: status 1 is FAILURE, code -1 an error raised by the wrapper. */
  static String error(String info, String reason) {
    StringBuilder out = new StringBuilder(96 + info.length());
    out.append("{\"status\":{\"status\":1,\"info\":");
    string(out, info);
    out.append(",\"code\":-1,\"reason\":");
    string(out, reason);
    return out.append("}}").toString();
  }

  /** Maps, lists, strings, numbers, booleans and null (metadata, a default health answer). */
  static String plain(Object object) {
    StringBuilder out = new StringBuilder();
    value(out, Values.toValue(object));
    return out.toString();
  }

  private static boolean field(StringBuilder out, String name, boolean first) {
    if (!first) {
      out.append(',');
    }
    string(out, name);
    out.append(':');
    return false;
  }

  private static void status(StringBuilder out, Status status) {
    out.append("{\"code\":").append(status.getCode()).append(",\"info\":");
    string(out, status.getInfo());
    out.append(",\"reason\":");
    string(out, status.getReason());
    out.append(",\"status\":");
    string(out, status.getStatus().name());
    out.append('}');
  }

  private static void meta(StringBuilder out, Meta meta) {
    out.append('{');
    boolean first = true;
    if (!meta.getPuid().isEmpty()) {
      first = field(out, "puid", first);
      string(out, meta.getPuid());
    }
    if (meta.getTagsCount() > 0) {
      first = field(out, "tags", first);
      object(out, meta.getTagsMap(), JsonOut::value);
    }
    if (meta.getRoutingCount() > 0) {
      first = field(out, "routing", first);
      object(out, meta.getRoutingMap(), StringBuilder::append);
    }
    if (meta.getRequestPathCount() > 0) {
      first = field(out, "requestPath", first);
      object(out, meta.getRequestPathMap(), JsonOut::string);
    }
    if (meta.getMetricsCount() > 0) {
      field(out, "metrics", first);
      array(out, meta.getMetricsList(), JsonOut::metric);
    }
    out.append('}');
  }

  private static void metric(StringBuilder out, Metric metric) {
    out.append("{\"key\":");
    string(out, metric.getKey());
    out.append(",\"type\":");
    string(out, metric.getType().name());
    out.append(",\"value\":");
    // Metric.value is a float: print its shortest form, not the double it widens to.
    number(out, Double.parseDouble(Float.toString(metric.getValue())));
    if (metric.getTagsCount() > 0) {
      out.append(",\"tags\":");
      object(out, metric.getTagsMap(), JsonOut::string);
    }
    out.append('}');
  }

  private static void data(StringBuilder out, DefaultData data) {
    out.append("{\"names\":");
    array(out, data.getNamesList(), JsonOut::string);
    switch (data.getDataOneofCase()) {
      case NDARRAY -> {
        out.append(",\"ndarray\":");
        if (ScalarNdarray.is(data)) {
          value(out, data.getNdarray().getValues(0));
        } else {
          array(out, data.getNdarray().getValuesList(), JsonOut::value);
        }
      }
      case TENSOR -> {
        out.append(",\"tensor\":");
        tensor(out, data.getTensor());
      }
      case TFTENSOR -> out.append(",\"tftensor\":").append(proto(data.getTftensor()));
      default -> {}
    }
    out.append('}');
  }

  /** Index loops, not array(): a tensor's values stay unboxed doubles on this hot path. */
  private static void tensor(StringBuilder out, Tensor tensor) {
    out.append("{\"shape\":[");
    for (int i = 0; i < tensor.getShapeCount(); i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(tensor.getShape(i));
    }
    out.append("],\"values\":[");
    for (int i = 0; i < tensor.getValuesCount(); i++) {
      if (i > 0) {
        out.append(',');
      }
      number(out, tensor.getValues(i));
    }
    out.append("]}");
  }

  /** {"name": value, ...}, each value written by `write`. */
  private static <V> void object(StringBuilder out, Map<String, V> fields, BiConsumer<StringBuilder, V> write) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, V> entry : fields.entrySet()) {
      first = field(out, entry.getKey(), first);
      write.accept(out, entry.getValue());
    }
    out.append('}');
  }

  /** [item, ...], each item written by `write`. */
  private static <T> void array(StringBuilder out, List<T> items, BiConsumer<StringBuilder, T> write) {
    out.append('[');
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      write.accept(out, items.get(i));
    }
    out.append(']');
  }

  static void value(StringBuilder out, Value value) {
    switch (value.getKindCase()) {
      case NUMBER_VALUE -> number(out, value.getNumberValue());
      case STRING_VALUE -> string(out, value.getStringValue());
      case BOOL_VALUE -> out.append(value.getBoolValue());
      case STRUCT_VALUE -> object(out, value.getStructValue().getFieldsMap(), JsonOut::value);
      case LIST_VALUE -> array(out, value.getListValue().getValuesList(), JsonOut::value);
      default -> out.append("null");
    }
  }

  private static void number(StringBuilder out, double number) {
    if (Double.isFinite(number)) {
      out.append(number);
    } else {
      out.append("null");
    }
  }

  static void string(StringBuilder out, String text) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  static String proto(MessageOrBuilder message) {
    try {
      return PROTO_PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw SeldonException.internal("cannot write the answer as JSON: " + e.getMessage());
    }
  }
}
