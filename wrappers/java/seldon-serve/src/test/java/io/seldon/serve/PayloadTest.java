package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.tf.TensorProtos.DataType;
import io.seldon.protos.tf.TensorProtos.TensorProto;
import io.seldon.protos.tf.TensorProtos.TensorShapeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PayloadTest {
  private static Payload decode(String json) {
    return Messages.decode(JsonIn.message(Json.parse(json, "test")));
  }

  @Test
  void rectangularNdarrayIsANumericBlock() {
    Payload payload = decode("{\"data\": {\"names\": [\"a\", \"b\"], \"ndarray\": [[1, 2], [3, 4.5]]}}");
    assertArrayEquals(new int[] {2, 2}, payload.shape());
    assertArrayEquals(new double[] {3, 4.5}, payload.rows()[1]);
    assertEquals(List.of("a", "b"), payload.names());
  }

  @Test
  void raggedOrMixedNdarraysAreNotNumbersButStillLists() {
    Payload ragged = decode("{\"data\": {\"ndarray\": [[1, 2], [3]]}}");
    assertFalse(ragged.isNumeric());
    assertEquals(List.of(List.of(1.0, 2.0), List.of(3.0)), ragged.ndarray());
    SeldonException error = assertThrows(SeldonException.class, ragged::values);
    assertEquals(400, error.status());
    assertFalse(decode("{\"data\": {\"ndarray\": [[\"x\", 1]]}}").isNumeric());
  }

  @Test
  void tensorValuesMustFitTheShape() {
    SeldonException error = assertThrows(SeldonException.class,
        () -> decode("{\"data\": {\"tensor\": {\"shape\": [3, 3], \"values\": [1, 2]}}}"));
    assertTrue(error.getMessage().contains("do not fit shape [3, 3]"), error.getMessage());
  }

  @Test
  void resultsTakeTheRequestsKindAndDefaultNames() {
    Payload request = decode("{\"data\": {\"tensor\": {\"shape\": [1, 2], \"values\": [1, 2]}}}");
    SeldonMessage answer = Messages.encode(Payload.of(new double[][] {{5, 6}}), request, null, null);
    assertEquals(List.of(1, 2), answer.getData().getTensor().getShapeList());
    assertEquals(List.of("t:0", "t:1"), answer.getData().getNamesList());
    SeldonMessage vector = Messages.encode(Payload.of(new double[] {1, 2, 3}), null, null, null);
    assertTrue(vector.getData().hasNdarray());
    assertEquals(0, vector.getData().getNamesCount());
  }

  @Test
  void classNamesWinOverTheResultsOwn() {
    Payload result = Payload.of(new double[][] {{1}}).withNames("mine");
    assertEquals(List.of("class"), Messages.encode(result, null, List.of("class"), null).getData().getNamesList());
    assertEquals(List.of("mine"), Messages.encode(result, null, null, null).getData().getNamesList());
  }

  @Test
  void aNonNumericResultAnswersATensorRequestAsAnNdarray() {
    Payload request = decode("{\"data\": {\"tensor\": {\"shape\": [1], \"values\": [1]}}}");
    SeldonMessage answer = Messages.encode(Payload.ndarray(List.of("a")), request, null, null);
    assertEquals("a", answer.getData().getNdarray().getValues(0).getStringValue());
  }

  @Test
  void classNamesNameOnlyDataWithColumns() {
    SeldonMessage vector = Messages.encode(Payload.of(new double[] {1, 2}), null, List.of("class"), null);
    assertEquals(0, vector.getData().getNamesCount()); // Seldon asks class_names() of 2-D answers only
    SeldonMessage rows = Messages.encode(Payload.ndarray(List.of(List.of("x"), List.of())), null, List.of("c"), null);
    assertEquals(List.of("c"), rows.getData().getNamesList());
  }

  @Test
  void aScalarNdarrayIsZeroDimensional() {
    Payload scalar = decode("{\"data\": {\"ndarray\": 2.5}}");
    assertArrayEquals(new int[0], scalar.shape());
    assertArrayEquals(new double[] {2.5}, scalar.values());
    assertEquals(List.of(2.5), scalar.ndarray());
    assertFalse(decode("{\"data\": {\"ndarray\": true}}").isNumeric());
    assertArrayEquals(new int[] {1}, decode("{\"data\": {\"ndarray\": [2.5]}}").shape());
  }

  @Test
  void packedAndBroadcastTfTensorsAreRead() {
    ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f);
    TensorProto packed = tensor(DataType.DT_FLOAT, 2).setTensorContent(ByteString.copyFrom(bytes.array())).build();
    assertArrayEquals(new double[] {1.5, -2}, TfTensors.toNumeric(packed).values());
    TensorProto broadcast = tensor(DataType.DT_INT32, 3).addIntVal(7).build();
    assertArrayEquals(new double[] {7, 7, 7}, TfTensors.toNumeric(broadcast).values());
    TensorProto back = TfTensors.fromNumeric(TfTensors.toNumeric(packed), DataType.DT_FLOAT);
    assertEquals(packed.getTensorContent(), back.getTensorContent());
  }

  private static TensorProto.Builder tensor(DataType dtype, int size) {
    return TensorProto.newBuilder()
        .setDtype(dtype)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(size)));
  }

  @Test
  void aBranchIsOneInteger() {
    assertArrayEquals(new double[] {2}, Payload.branch(2).values());
  }
}
