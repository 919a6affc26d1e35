package io.seldon.serve;

import com.google.protobuf.ByteString;
import io.seldon.protos.PredictionProtos.DefaultData;
import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import io.seldon.protos.PredictionProtos.Tensor;
import io.seldon.protos.tf.TensorProtos.DataType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** SeldonMessage to the Payload a model receives, and a model's Payload back to a message. */
final class Messages {
  private Messages() {}

  static Payload decode(SeldonMessage message) {
    io.seldon.serve.Meta meta = io.seldon.serve.Meta.of(message.getMeta());
    return switch (message.getDataOneofCase()) {
      case DATA -> Payload.fromData(message.getData(), meta);
      case JSONDATA -> Payload.fromJson(message.getJsonData(), meta);
      case STRDATA -> Payload.fromString(message.getStrData(), meta);
      case BINDATA -> Payload.fromBytes(message.getBinData().toByteArray(), meta);
      default -> throw SeldonException.badData("a SeldonMessage needs one of data, jsonData, strData or binData");
    };
  }

  /**
   * The answer for `result`, in the data kind {@link #answerKind} picks; names are the class
   * names when the model has them and the data has columns, else the result's, else t:0..t:n-1
   * for 2-D data.
   */
  static SeldonMessage encode(Payload result, Payload request, List<String> classNames, Meta meta) {
    SeldonMessage.Builder out = SeldonMessage.newBuilder();
    if (meta != null) {
      out.setMeta(meta);
    }
    switch (result.kind()) {
      case JSON -> out.setJsonData(Values.toValue(result.rawValue()));
      case STRING -> out.setStrData((String) result.rawValue());
      case BYTES -> out.setBinData(ByteString.copyFrom((byte[]) result.rawValue()));
      default -> out.setData(data(result, request, classNames));
    }
    return out.build();
  }

  /**
   * Seldon's choice (construct_response): numbers answer a data request in the request's own
   * kind and a jsonData, strData or binData request as a tensor; anything but numbers is an
   * ndarray. Without a request (a health answer) the result keeps its own kind.
   */
  private static Payload.Kind answerKind(Payload result, Payload request) {
    if (request == null) {
      return result.kind();
    }
    return switch (request.kind()) {
      case NDARRAY -> Payload.Kind.NDARRAY; // numbers or not: no need to look
      case TENSOR, TFTENSOR -> result.isNumeric() ? request.kind() : Payload.Kind.NDARRAY;
      default -> result.isNumeric() ? Payload.Kind.TENSOR : Payload.Kind.NDARRAY;
    };
  }

  private static DefaultData data(Payload result, Payload request, List<String> classNames) {
    Payload.Kind kind = answerKind(result, request);
    DefaultData.Builder data = DefaultData.newBuilder().addAllNames(names(result, classNames));
    DefaultData source = result.source();
    if (source != null && Payload.Kind.valueOf(source.getDataOneofCase().name()) == kind) {
      return switch (kind) {
        case TENSOR -> data.setTensor(source.getTensor()).build();
        case TFTENSOR -> data.setTftensor(source.getTftensor()).build();
        default -> ndarray(data, result).build();
      };
    }
    if (kind == Payload.Kind.NDARRAY) {
      return ndarray(data, result).build();
    }
    Numeric numbers = result.numeric();
    if (numbers == null) { // a result without a request to follow: its kind may not hold it
      throw SeldonException.internal(
          "the model returned non-numeric values as " + Payload.describe(kind) + ", which carries numbers only");
    }
    if (kind == Payload.Kind.TENSOR) {
      Tensor.Builder tensor = Tensor.newBuilder();
      for (int dim : numbers.shape()) {
        tensor.addShape(dim);
      }
      for (double value : numbers.values()) {
        tensor.addValues(value);
      }
      return data.setTensor(tensor).build();
    }
    DataType dtype = request != null && request.kind() == Payload.Kind.TFTENSOR
        ? request.source().getTftensor().getDtype()
        : DataType.DT_DOUBLE;
    return data.setTftensor(TfTensors.fromNumeric(numbers, dtype)).build();
  }

  private static DefaultData.Builder ndarray(DefaultData.Builder data, Payload result) {
    data.setNdarray(result.listValue());
    return result.isScalar() ? ScalarNdarray.mark(data) : data;
  }

  private static List<String> names(Payload result, List<String> classNames) {
    int columns = result.columns();
    if (classNames != null && columns >= 0) { // Seldon asks class_names() of 2-D (or more) answers only
      return classNames;
    }
    if (!result.names().isEmpty()) {
      return result.names();
    }
    List<String> names = new ArrayList<>(Math.max(columns, 0));
    for (int i = 0; i < columns; i++) {
      names.add("t:" + i);
    }
    return names;
  }

  /**
   * The answer's meta, as Seldon's construct_response builds it: the puid of `carried` (or a
   * new one); requestPath = this unit's entry (`unitPath`) updated by carried's; tags = carried's
   * updated by the model's; metrics = carried's followed by the model's. `carried` is the
   * request's meta for most verbs, its puid alone where Seldon passes no meta (route, feedback)
   * and the merge of all messages for aggregate.
   */
  static Meta responseMeta(Meta carried, Map<String, String> unitPath, Map<String, ?> tags, List<Metric> metrics) {
    Meta.Builder meta = Meta.newBuilder();
    meta.setPuid(carried.getPuid().isEmpty() ? newPuid() : carried.getPuid());
    meta.putAllRequestPath(unitPath);
    meta.putAllRequestPath(carried.getRequestPathMap());
    meta.putAllTags(carried.getTagsMap());
    if (tags != null) {
      tags.forEach((key, value) -> meta.putTags(key, Values.toValue(value)));
    }
    meta.addAllMetrics(carried.getMetricsList());
    if (metrics != null) {
      for (Metric metric : metrics) {
        meta.addMetrics(io.seldon.protos.PredictionProtos.Metric.newBuilder()
            .setKey(metric.key())
            .setType(io.seldon.protos.PredictionProtos.Metric.MetricType.valueOf(metric.type().name()))
            .setValue((float) metric.value())
            .putAllTags(metric.tags()));
      }
    }
    return meta.build();
  }

  // ---- the puid of a transport's header (REST Seldon-Puid, gRPC seldon-puid) --------------

  /** The message with `puid` when it has none of its own (a null or empty puid changes nothing). */
  static SeldonMessage withPuid(SeldonMessage message, String puid) {
    if (puid == null || puid.isEmpty() || !message.getMeta().getPuid().isEmpty()) {
      return message;
    }
    SeldonMessage.Builder builder = message.toBuilder();
    builder.getMetaBuilder().setPuid(puid);
    return builder.build();
  }

  /** Each message of the list without a puid gets `puid` (aggregate answers the first one's). */
  static SeldonMessageList withPuid(SeldonMessageList messages, String puid) {
    if (puid == null || puid.isEmpty()) {
      return messages;
    }
    SeldonMessageList.Builder builder = SeldonMessageList.newBuilder();
    messages.getSeldonMessagesList().forEach(message -> builder.addSeldonMessages(withPuid(message, puid)));
    return builder.build();
  }

  /** Feedback's request gets `puid` when it has none: the answer carries the request's puid. */
  static Feedback withPuid(Feedback feedback, String puid) {
    SeldonMessage request = withPuid(feedback.getRequest(), puid);
    return request == feedback.getRequest() ? feedback : feedback.toBuilder().setRequest(request).build();
  }

  /** A random (version 4) UUID's 32 hex digits, as Seldon's uuid.uuid4().hex. */
  static String newPuid() {
    return hexOf(UUID.randomUUID());
  }

  /** A UUID's 32 hex digits, lower case, without dashes. */
  static String hexOf(UUID uuid) {
    byte[] digits = new byte[32];
    hex(uuid.getMostSignificantBits(), digits, 0);
    hex(uuid.getLeastSignificantBits(), digits, 16);
    return new String(digits, StandardCharsets.ISO_8859_1); // one copy, where toString and replace made three
  }

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

  private static void hex(long bits, byte[] out, int at) {
    for (int i = 15; i >= 0; i--, bits >>>= 4) {
      out[at + i] = HEX[(int) (bits & 0xF)];
    }
  }
}
