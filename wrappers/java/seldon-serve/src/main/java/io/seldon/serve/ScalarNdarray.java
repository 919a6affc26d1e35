package io.seldon.serve;

import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import io.seldon.protos.PredictionProtos.DefaultData;

/**
 * A 0-d data.ndarray: {@code {"data": {"ndarray": 3}}}. Seldon's REST wrapper takes it (numpy
 * makes it an array of shape []) and answers a 0-d result the same way, but DefaultData.ndarray
 * is a ListValue, which cannot hold a scalar. The value travels as a one-element list, marked by
 * a field of DefaultData that the proto does not declare (protobuf keeps unknown fields), so a
 * message still goes through the same code whether it came over REST or gRPC.
 */
final class ScalarNdarray {
  // The largest field number: no version of prediction.proto will declare it.
  private static final int MARK = 536_870_911;

  private ScalarNdarray() {}

  static DefaultData.Builder set(DefaultData.Builder data, Value value) {
    data.getNdarrayBuilder().clear().addValues(value);
    return mark(data);
  }

  /** Marks the builder's one-element ndarray as the scalar it stands for. */
  static DefaultData.Builder mark(DefaultData.Builder data) {
    UnknownFieldSet mark = UnknownFieldSet.newBuilder()
        .addField(MARK, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
        .build();
    return data.mergeUnknownFields(mark);
  }

  static boolean is(DefaultData data) {
    return data.getDataOneofCase() == DefaultData.DataOneofCase.NDARRAY
        && data.getNdarray().getValuesCount() == 1
        && data.getUnknownFields().hasField(MARK);
  }
}
