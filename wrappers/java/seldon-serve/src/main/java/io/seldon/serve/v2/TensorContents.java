package io.seldon.serve.v2;

import com.google.protobuf.ByteString;
import io.seldon.protos.v2.OpenInferenceProtos.InferTensorContents;
import io.seldon.serve.SeldonException;
import io.seldon.serve.TypedTensor;
import io.seldon.serve.TypedTensor.Datatype;
import java.util.Arrays;

/** Tensors in gRPC's typed contents: one repeated field a datatype family (FP16 has none). */
final class TensorContents {
  private TensorContents() {}

  /** A tensor's elements, in the Java array its datatype names. */
  static Object elements(Datatype datatype, InferTensorContents contents) {
    return switch (datatype) {
      case BOOL -> {
        boolean[] values = new boolean[contents.getBoolContentsCount()];
        for (int i = 0; i < values.length; i++) {
          values[i] = contents.getBoolContents(i);
        }
        yield values;
      }
      case INT8, INT16, INT32 -> contents.getIntContentsList().stream().mapToLong(Integer::longValue).toArray();
      case INT64 -> contents.getInt64ContentsList().stream().mapToLong(Long::longValue).toArray();
      case UINT8, UINT16, UINT32 -> contents.getUintContentsList().stream()
          .mapToLong(Integer::toUnsignedLong).toArray();
      case UINT64 -> contents.getUint64ContentsList().stream().mapToLong(Long::longValue).toArray();
      case FP32 -> {
        float[] values = new float[contents.getFp32ContentsCount()];
        for (int i = 0; i < values.length; i++) {
          values[i] = contents.getFp32Contents(i);
        }
        yield values;
      }
      case FP64 -> contents.getFp64ContentsList().stream().mapToDouble(Double::doubleValue).toArray();
      case BYTES -> contents.getBytesContentsList().stream().map(ByteString::toByteArray).toArray(byte[][]::new);
      case FP16 -> throw new SeldonException("FP16 elements travel in raw_input_contents only");
    };
  }

  static InferTensorContents of(TypedTensor tensor) {
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    Object data = tensor.data();
    switch (tensor.datatype()) {
      case BOOL -> {
        for (boolean value : (boolean[]) data) {
          contents.addBoolContents(value);
        }
      }
      case INT8, INT16, INT32 -> Arrays.stream((long[]) data).forEach(v -> contents.addIntContents((int) v));
      case INT64 -> Arrays.stream((long[]) data).forEach(contents::addInt64Contents);
      case UINT8, UINT16, UINT32 -> Arrays.stream((long[]) data).forEach(v -> contents.addUintContents((int) v));
      case UINT64 -> Arrays.stream((long[]) data).forEach(contents::addUint64Contents);
      case FP32 -> {
        for (float value : (float[]) data) {
          contents.addFp32Contents(value);
        }
      }
      case FP64 -> Arrays.stream((double[]) data).forEach(contents::addFp64Contents);
      case BYTES -> Arrays.stream((byte[][]) data).forEach(b -> contents.addBytesContents(ByteString.copyFrom(b)));
      case FP16 -> throw new IllegalStateException("FP16 is answered in raw contents");
    }
    return contents.build();
  }
}
