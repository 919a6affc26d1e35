package io.seldon.serve;

import com.google.protobuf.ByteString;
import io.seldon.protos.PredictionProtos.DefaultData;
import io.seldon.protos.PredictionProtos.Meta;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.Tensor;
import io.seldon.protos.tf.TensorProtos.DataType;
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
   * The answer for `result`. Numbers take the request's kind (a tensor request gets a tensor);
   * names are the class names when the model has them, else the result's, else t:0..t:n-1 for
   * 2-D data.
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

  private static DefaultData data(Payload result, Payload request, List<String> classNames) {
    Payload.Kind kind = request != null && request.kind().isData() ? request.kind() : result.kind();
    DefaultData.Builder data = DefaultData.newBuilder().addAllNames(names(result, classNames));
    DefaultData source = result.source();
    if (source != null && Payload.Kind.valueOf(source.getDataOneofCase().name()) == kind) {
      return switch (kind) {
        case TENSOR -> data.setTensor(source.getTensor()).build();
        case TFTENSOR -> data.setTftensor(source.getTftensor()).build();
        default -> data.setNdarray(source.getNdarray()).build();
      };
    }
    if (kind == Payload.Kind.NDARRAY) {
      return data.setNdarray(result.listValue()).build();
    }
    Numeric numbers = result.numeric();
    if (numbers == null) {
      throw SeldonException.internal(
          "the model returned non-numeric values for a " + Payload.describe(kind) + " request; tensors carry"
              + " numbers only");
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

  private static List<String> names(Payload result, List<String> classNames) {
    if (classNames != null) {
      return classNames;
    }
    if (!result.names().isEmpty()) {
      return result.names();
    }
    int columns = columns(result);
    List<String> names = new ArrayList<>(Math.max(columns, 0));
    for (int i = 0; i < columns; i++) {
      names.add("t:" + i);
    }
    return names;
  }

  /** The second dimension's size, or 0 for 1-D data. */
  private static int columns(Payload result) {
    Numeric numbers = result.numeric();
    if (numbers != null) {
      return numbers.shape().length > 1 ? numbers.shape()[1] : 0;
    }
    var list = result.listValue();
    if (list.getValuesCount() > 0 && list.getValues(0).hasListValue()) {
      return list.getValues(0).getListValue().getValuesCount();
    }
    return 0;
  }

  /** puid round-trips (or is made up); the model's tags update the request's; its metrics join. */
  static Meta responseMeta(Meta request, Map<String, ?> tags, List<Metric> metrics) {
    Meta.Builder meta = Meta.newBuilder();
    meta.setPuid(request.getPuid().isEmpty() ? newPuid() : request.getPuid());
    meta.putAllTags(request.getTagsMap());
    if (tags != null) {
      tags.forEach((key, value) -> meta.putTags(key, Values.toValue(value)));
    }
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

  static String newPuid() {
    return UUID.randomUUID().toString().replace("-", "");
  }
}
