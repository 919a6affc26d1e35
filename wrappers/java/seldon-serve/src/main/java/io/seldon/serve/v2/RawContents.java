package io.seldon.serve.v2;

import com.google.protobuf.ByteString;
import io.seldon.serve.SeldonException;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Tensors in gRPC's raw contents (raw_input_contents, raw_output_contents): elements
 * little-endian, FP16 as IEEE half precision; BYTES elements each after a 4-byte length.
 */
final class RawContents {
  private RawContents() {}

  /** A tensor's elements, in the Java array its datatype names. */
  static Object unpack(Datatype datatype, ByteString raw) {
    ByteBuffer buffer = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (datatype == Datatype.BYTES) {
      return lengthPrefixed(buffer);
    }
    if (raw.size() % datatype.bytes != 0) {
      throw new SeldonException("raw contents of " + raw.size() + " bytes are not whole " + datatype
          + " elements");
    }
    return fixedSize(datatype, buffer, raw.size() / datatype.bytes);
  }

  private static byte[][] lengthPrefixed(ByteBuffer buffer) {
    List<byte[]> elements = new ArrayList<>();
    while (buffer.hasRemaining()) {
      if (buffer.remaining() < 4) {
        throw new SeldonException("raw BYTES contents end inside a length prefix");
      }
      int length = buffer.getInt();
      if (length < 0 || length > buffer.remaining()) {
        throw new SeldonException("a raw BYTES element runs past the end of the contents");
      }
      byte[] element = new byte[length];
      buffer.get(element);
      elements.add(element);
    }
    return elements.toArray(byte[][]::new);
  }

  private static Object fixedSize(Datatype datatype, ByteBuffer buffer, int n) {
    return switch (datatype.kind) {
      case BOOLEAN -> {
        boolean[] values = new boolean[n];
        for (int i = 0; i < n; i++) {
          values[i] = buffer.get() != 0;
        }
        yield values;
      }
      case INTEGER -> {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
          values[i] = integer(datatype, buffer);
        }
        yield values;
      }
      case FLOAT -> {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
          values[i] = datatype == Datatype.FP16 ? Half.toFloat(buffer.getShort()) : buffer.getFloat();
        }
        yield values;
      }
      default -> {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
          values[i] = buffer.getDouble();
        }
        yield values;
      }
    };
  }

  private static long integer(Datatype datatype, ByteBuffer buffer) {
    return switch (datatype) {
      case INT8 -> buffer.get();
      case UINT8 -> Byte.toUnsignedLong(buffer.get());
      case INT16 -> buffer.getShort();
      case UINT16 -> Short.toUnsignedLong(buffer.getShort());
      case INT32 -> buffer.getInt();
      case UINT32 -> Integer.toUnsignedLong(buffer.getInt());
      default -> buffer.getLong();
    };
  }

  /** A tensor's elements as raw contents. */
  static ByteString pack(TypedTensor tensor) {
    Datatype datatype = tensor.datatype();
    Object data = tensor.data();
    if (datatype == Datatype.BYTES) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (byte[] element : (byte[][]) data) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(element.length).array());
        out.writeBytes(element);
      }
      return ByteString.copyFrom(out.toByteArray());
    }
    int n = java.lang.reflect.Array.getLength(data);
    ByteBuffer buffer = ByteBuffer.allocate(n * datatype.bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (datatype) {
        case BOOL -> buffer.put((byte) (((boolean[]) data)[i] ? 1 : 0));
        case INT8, UINT8 -> buffer.put((byte) ((long[]) data)[i]);
        case INT16, UINT16 -> buffer.putShort((short) ((long[]) data)[i]);
        case INT32, UINT32 -> buffer.putInt((int) ((long[]) data)[i]);
        case INT64, UINT64 -> buffer.putLong(((long[]) data)[i]);
        case FP16 -> buffer.putShort(Half.fromFloat(((float[]) data)[i]));
        case FP32 -> buffer.putFloat(((float[]) data)[i]);
        default -> buffer.putDouble(((double[]) data)[i]);
      }
    }
    return ByteString.copyFrom(buffer.array());
  }
}
