package io.seldon.serve;

import com.google.protobuf.ByteString;
import io.seldon.protos.tf.TensorProtos.DataType;
import io.seldon.protos.tf.TensorProtos.TensorProto;
import io.seldon.protos.tf.TensorProtos.TensorShapeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * TensorFlow's TensorProto to numbers and back, without TensorFlow. Values arrive packed in
 * tensor_content (little-endian, row-major) or in the typed *_val field; one value with a larger
 * shape is TensorFlow's broadcast shorthand.
 */
final class TfTensors {
  private TfTensors() {}

  static int[] shape(TensorProto tensor) {
    int[] shape = new int[tensor.getTensorShape().getDimCount()];
    for (int i = 0; i < shape.length; i++) {
      long size = tensor.getTensorShape().getDim(i).getSize();
      if (size < 0 || size > Integer.MAX_VALUE) {
        throw SeldonException.badData("tftensor dimension " + i + " has size " + size);
      }
      shape[i] = (int) size;
    }
    return shape;
  }

  /** The tensor's numbers, or null when its dtype carries something else (strings). */
  static Numeric toNumeric(TensorProto tensor) {
    int[] shape = shape(tensor);
    double[] values = tensor.getTensorContent().isEmpty() ? typedValues(tensor) : packedValues(tensor);
    if (values == null) {
      return null;
    }
    long size = Numeric.size(shape);
    if (values.length == 1 && size > 1) {
      double[] filled = new double[(int) size];
      Arrays.fill(filled, values[0]);
      values = filled;
    }
    if (values.length != size) {
      throw SeldonException.badData(
          "tftensor holds " + values.length + " values but its shape " + Arrays.toString(shape) + " needs " + size);
    }
    return new Numeric(shape, values);
  }

  private static double[] typedValues(TensorProto tensor) {
    switch (tensor.getDtype()) {
      case DT_FLOAT:
        double[] floats = new double[tensor.getFloatValCount()];
        for (int i = 0; i < floats.length; i++) {
          floats[i] = tensor.getFloatVal(i);
        }
        return floats;
      case DT_DOUBLE:
        return tensor.getDoubleValList().stream().mapToDouble(Double::doubleValue).toArray();
      case DT_INT32:
      case DT_INT16:
      case DT_INT8:
      case DT_UINT8:
      case DT_UINT16:
        return tensor.getIntValList().stream().mapToDouble(Integer::doubleValue).toArray();
      case DT_INT64:
        return tensor.getInt64ValList().stream().mapToDouble(Long::doubleValue).toArray();
      case DT_UINT32:
        return tensor.getUint32ValList().stream().mapToDouble(v -> Integer.toUnsignedLong(v)).toArray();
      case DT_UINT64:
        return tensor.getUint64ValList().stream().mapToDouble(v -> unsigned(v)).toArray();
      case DT_BOOL:
        return tensor.getBoolValList().stream().mapToDouble(v -> v ? 1 : 0).toArray();
      case DT_STRING:
        return null;
      default:
        throw SeldonException.badData("tftensor dtype " + tensor.getDtype() + " is not supported");
    }
  }

  private static double[] packedValues(TensorProto tensor) {
    ByteBuffer bytes = tensor.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int width = width(tensor.getDtype());
    if (bytes.remaining() % width != 0) {
      throw SeldonException.badData(
          "tftensor tensor_content has " + bytes.remaining() + " bytes, not a whole number of " + tensor.getDtype());
    }
    double[] values = new double[bytes.remaining() / width];
    for (int i = 0; i < values.length; i++) {
      values[i] = switch (tensor.getDtype()) {
        case DT_FLOAT -> bytes.getFloat();
        case DT_DOUBLE -> bytes.getDouble();
        case DT_INT32 -> bytes.getInt();
        case DT_INT64 -> bytes.getLong();
        case DT_INT16 -> bytes.getShort();
        case DT_UINT16 -> Short.toUnsignedInt(bytes.getShort());
        case DT_INT8 -> bytes.get();
        case DT_UINT8 -> Byte.toUnsignedInt(bytes.get());
        case DT_UINT32 -> Integer.toUnsignedLong(bytes.getInt());
        case DT_UINT64 -> unsigned(bytes.getLong());
        case DT_BOOL -> bytes.get() != 0 ? 1 : 0;
        default -> throw new IllegalStateException("width() admits only these");
      };
    }
    return values;
  }

  private static int width(DataType dtype) {
    return switch (dtype) {
      case DT_DOUBLE, DT_INT64, DT_UINT64 -> 8;
      case DT_FLOAT, DT_INT32, DT_UINT32 -> 4;
      case DT_INT16, DT_UINT16 -> 2;
      case DT_INT8, DT_UINT8, DT_BOOL -> 1;
      default -> throw SeldonException.badData("tftensor dtype " + dtype + " is not supported in tensor_content");
    };
  }

  private static double unsigned(long value) {
    double high = (double) (value >>> 1) * 2.0;
    return high + (value & 1);
  }

  /** Numbers as a packed tensor of `dtype` (DT_FLOAT or DT_DOUBLE). */
  static TensorProto fromNumeric(Numeric numeric, DataType dtype) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (int dim : numeric.shape()) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(dim));
    }
    boolean single = dtype == DataType.DT_FLOAT;
    double[] values = numeric.values();
    ByteBuffer bytes = ByteBuffer.allocate(values.length * (single ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
    for (double value : values) {
      if (single) {
        bytes.putFloat((float) value);
      } else {
        bytes.putDouble(value);
      }
    }
    bytes.flip();
    return TensorProto.newBuilder()
        .setDtype(single ? DataType.DT_FLOAT : DataType.DT_DOUBLE)
        .setTensorShape(shape)
        .setTensorContent(ByteString.copyFrom(bytes))
        .build();
  }
}
