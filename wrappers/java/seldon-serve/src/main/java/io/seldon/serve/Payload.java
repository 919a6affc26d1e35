package io.seldon.serve;

import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import io.seldon.protos.PredictionProtos.DefaultData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a model receives and returns: the request's data in the form it came (numbers, nested
 * lists, JSON, a string or bytes), its feature names and its meta.
 *
 * <p>A numeric result is answered in the kind the request used, so a {@code tensor} request
 * gets a tensor back and an {@code ndarray} request an ndarray, and a jsonData, strData or
 * binData request a tensor; anything but numbers is answered as an ndarray (Seldon's rules).
 * Returning the input payload itself answers it exactly as it came.
 *
 * <pre>{@code
 * public Payload predict(Payload input) {
 *   double[][] rows = input.rows();
 *   double[][] scores = model.score(rows);
 *   return Payload.of(scores).withNames("no", "yes");
 * }
 * }</pre>
 */
public final class Payload {
  /** The payload kinds of a SeldonMessage. */
  public enum Kind {
    /** data.ndarray: nested JSON lists. */
    NDARRAY,
    /** data.tensor: shape and row-major values. */
    TENSOR,
    /** data.tftensor: TensorFlow's TensorProto. */
    TFTENSOR,
    /** jsonData: any JSON value. */
    JSON,
    /** strData. */
    STRING,
    /** binData. */
    BYTES,
    /** A tensor of the Open Inference Protocol (PROTOCOL=v2): {@link #tensor()}. */
    TYPED_TENSOR;

    boolean isData() {
      return this == NDARRAY || this == TENSOR || this == TFTENSOR || this == TYPED_TENSOR;
    }
  }

  private final Kind kind;
  private final List<String> names;
  private final Meta meta;
  private final DefaultData source; // the request's data as it came, answered as is when returned
  private final ListValue ndarray; // NDARRAY payloads made from lists, and requests' ndarrays
  private final Object other; // JSON value, String, byte[] or TypedTensor
  private Numeric numeric; // computed when first asked, for requests

  private Payload(
      Kind kind, List<String> names, Meta meta, DefaultData source, ListValue ndarray, Numeric numeric, Object other) {
    this.kind = kind;
    this.names = List.copyOf(names);
    this.meta = meta;
    this.source = source;
    this.ndarray = ndarray;
    this.numeric = numeric;
    this.other = other;
  }

  // ---- made by a model ------------------------------------------------------------------

  /** A router's answer: the child (0-based) to send the request to. */
  public static Payload branch(int child) {
    return of(new double[][] {{child}});
  }

  /** A 2-D result: one row per input row. */
  public static Payload of(double[][] rows) {
    int width = rows.length == 0 ? 0 : rows[0].length;
    double[] values = new double[rows.length * width];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != width) {
        throw SeldonException.internal("the model returned ragged rows: row " + i + " has " + rows[i].length
            + " values, row 0 has " + width);
      }
      System.arraycopy(rows[i], 0, values, i * width, width);
    }
    return numbers(Kind.NDARRAY, new int[] {rows.length, width}, values);
  }

  /** An Open Inference Protocol tensor, answered with its own datatype. */
  public static Payload of(TypedTensor tensor) {
    return new Payload(Kind.TYPED_TENSOR, List.of(), Meta.EMPTY, null, null, null, Objects.requireNonNull(tensor));
  }

  /** A 1-D result (it answers with no names). */
  public static Payload of(double[] vector) {
    return numbers(Kind.NDARRAY, new int[] {vector.length}, vector.clone());
  }

  /** Numbers of any shape, row-major (answered as data.tensor unless the request chose a kind). */
  public static Payload tensor(int[] shape, double[] values) {
    return numbers(Kind.TENSOR, shape.clone(), values.clone());
  }

  private static Payload numbers(Kind kind, int[] shape, double[] values) {
    return new Payload(kind, List.of(), Meta.EMPTY, null, null, new Numeric(shape, values), null);
  }

  /** Nested lists of numbers, strings, booleans or nulls (answered as data.ndarray). */
  public static Payload ndarray(List<?> nested) {
    return new Payload(Kind.NDARRAY, List.of(), Meta.EMPTY, null, Values.toListValue(nested), null, null);
  }

  /** Any JSON value (maps, lists, numbers, strings, booleans), answered as jsonData. */
  public static Payload json(Object value) {
    return new Payload(Kind.JSON, List.of(), Meta.EMPTY, null, null, null, value);
  }

  /** A string, answered as strData. */
  public static Payload string(String value) {
    return new Payload(Kind.STRING, List.of(), Meta.EMPTY, null, null, null, Objects.requireNonNull(value));
  }

  /** Bytes, answered as binData. */
  public static Payload bytes(byte[] value) {
    return new Payload(Kind.BYTES, List.of(), Meta.EMPTY, null, null, null, value.clone());
  }

  /** The same payload with these column names (a classifier's class names, say). */
  public Payload withNames(String... columnNames) {
    return withNames(Arrays.asList(columnNames));
  }

  public Payload withNames(List<String> columnNames) {
    return new Payload(kind, columnNames, meta, source, ndarray, numeric, other);
  }

  // ---- received by a model ----------------------------------------------------------------

  static Payload fromData(DefaultData data, Meta meta) {
    switch (data.getDataOneofCase()) {
      case NDARRAY:
        Value scalar = ScalarNdarray.is(data) ? data.getNdarray().getValues(0) : null;
        Numeric zeroD = scalar != null && scalar.hasNumberValue()
            ? new Numeric(new int[0], new double[] {scalar.getNumberValue()})
            : null; // else worked out from the lists when asked
        return new Payload(Kind.NDARRAY, data.getNamesList(), meta, data, data.getNdarray(), zeroD, null);
      case TENSOR:
        int[] shape = data.getTensor().getShapeList().stream().mapToInt(Integer::intValue).toArray();
        double[] values = data.getTensor().getValuesList().stream().mapToDouble(Double::doubleValue).toArray();
        if (shape.length == 0) {
          shape = new int[] {values.length};
        }
        if (Numeric.size(shape) != values.length) {
          throw SeldonException.badData("data.tensor values (" + values.length + ") do not fit shape "
              + Arrays.toString(shape));
        }
        return new Payload(Kind.TENSOR, data.getNamesList(), meta, data, null, new Numeric(shape, values), null);
      case TFTENSOR:
        Numeric numbers = TfTensors.toNumeric(data.getTftensor());
        return new Payload(Kind.TFTENSOR, data.getNamesList(), meta, data, null, numbers, null);
      default:
        throw SeldonException.badData("data must hold one of ndarray, tensor or tftensor");
    }
  }

  static Payload fromJson(Value value, Meta meta) {
    return new Payload(Kind.JSON, List.of(), meta, null, null, null, Values.toJava(value));
  }

  static Payload fromString(String value, Meta meta) {
    return new Payload(Kind.STRING, List.of(), meta, null, null, null, value);
  }

  static Payload fromBytes(byte[] value, Meta meta) {
    return new Payload(Kind.BYTES, List.of(), meta, null, null, null, value);
  }

  public Kind kind() {
    return kind;
  }

  /** Column names: the request's data.names (may be empty), or those a result was given. */
  public List<String> names() {
    return names;
  }

  /** The request's meta (puid, tags, routing); empty for payloads a model made. */
  public Meta meta() {
    return meta;
  }

  /** Whether this payload is a block of numbers (tensor, numeric ndarray or tftensor). */
  public boolean isNumeric() {
    return numeric() != null;
  }

  /** The dimensions; [] for a scalar, as {@code {"data": {"ndarray": 3}}} sends one. */
  public int[] shape() {
    return requireNumeric().shape().clone();
  }

  /** All values, row-major. */
  public double[] values() {
    return requireNumeric().values().clone();
  }

  /** 2-D numbers as rows. */
  public double[][] rows() {
    Numeric numbers = requireNumeric();
    int[] shape = numbers.shape();
    if (shape.length != 2) {
      throw SeldonException.badData("expected 2-D data (rows of features), got shape " + Arrays.toString(shape));
    }
    double[][] rows = new double[shape[0]][];
    for (int i = 0; i < shape[0]; i++) {
      rows[i] = Arrays.copyOfRange(numbers.values(), i * shape[1], (i + 1) * shape[1]);
    }
    return rows;
  }

  /**
   * Data as nested lists (numbers as Double, and strings, booleans or nulls in an ndarray); a
   * scalar ndarray as a list of its one value.
   */
  public List<Object> ndarray() {
    return Values.toJava(listValue());
  }

  /** jsonData as Map, List, String, Double, Boolean or null. */
  public Object json() {
    return as(Kind.JSON);
  }

  public String string() {
    return (String) as(Kind.STRING);
  }

  public byte[] bytes() {
    return ((byte[]) as(Kind.BYTES)).clone();
  }

  /**
   * The data as an Open Inference Protocol tensor: the request's own, datatype and all, for a
   * v2 request; FP64 for numbers that came over the Seldon protocol.
   */
  public TypedTensor tensor() {
    if (kind == Kind.TYPED_TENSOR) {
      return (TypedTensor) other;
    }
    Numeric numbers = requireNumeric();
    return TypedTensor.fp64(Arrays.stream(numbers.shape()).asLongStream().toArray(), numbers.values());
  }

  private Object as(Kind wanted) {
    if (kind != wanted) {
      throw SeldonException.badData("expected " + describe(wanted) + ", the request sent " + describe(kind));
    }
    return other;
  }

  /** Where a message carries a kind ("data.ndarray", "jsonData", ...), as error messages name it. */
  public static String describe(Kind kind) {
    return switch (kind) {
      case NDARRAY -> "data.ndarray";
      case TENSOR -> "data.tensor";
      case TFTENSOR -> "data.tftensor";
      case JSON -> "jsonData";
      case STRING -> "strData";
      case BYTES -> "binData";
      case TYPED_TENSOR -> "an Open Inference Protocol tensor";
    };
  }

  // ---- for the wrapper ----------------------------------------------------------------------

  DefaultData source() {
    return source;
  }

  Object rawValue() {
    return other;
  }

  Numeric numeric() {
    if (numeric == null && ndarray != null) {
      numeric = numbers(ndarray);
    }
    if (numeric == null && kind == Kind.TYPED_TENSOR) {
      numeric = numbers((TypedTensor) other);
    }
    return numeric;
  }

  /** A numeric tensor's elements as doubles, or null for BOOL and BYTES. */
  private static Numeric numbers(TypedTensor tensor) {
    TypedTensor.Datatype.Kind elements = tensor.datatype().kind;
    if (elements == TypedTensor.Datatype.Kind.BOOLEAN || elements == TypedTensor.Datatype.Kind.BYTES) {
      return null;
    }
    int[] shape = Arrays.stream(tensor.shape()).mapToInt(Math::toIntExact).toArray();
    return new Numeric(shape, tensor.doubles());
  }

  private Numeric requireNumeric() {
    Numeric numbers = kind.isData() ? numeric() : null;
    if (numbers == null) {
      String what = kind.isData() ? describe(kind) + " that is not a block of numbers" : describe(kind);
      throw SeldonException.badData("expected numbers, the request sent " + what);
    }
    return numbers;
  }

  /** The data as an ndarray's lists; a 0-d payload ({@link #isScalar()}) as a list of its one value. */
  ListValue listValue() {
    if (ndarray != null) {
      return ndarray;
    }
    Numeric numbers = requireNumeric();
    if (numbers.shape().length == 0) {
      return ListValue.newBuilder().addValues(Value.newBuilder().setNumberValue(numbers.values()[0])).build();
    }
    return nest(numbers.values(), numbers.shape(), 0, 0);
  }

  /** The second dimension's size, or -1 for data of fewer than 2 dimensions. */
  int columns() {
    if (ndarray != null) { // the first row tells, ragged or not, without reading every number
      Value first = ndarray.getValuesCount() > 0 ? ndarray.getValues(0) : null;
      return first != null && first.hasListValue() ? first.getListValue().getValuesCount() : -1;
    }
    Numeric numbers = kind.isData() ? numeric() : null;
    return numbers != null && numbers.shape().length > 1 ? numbers.shape()[1] : -1;
  }

  /** Whether the data is 0-d: a request's scalar data.ndarray, or numbers of shape []. */
  boolean isScalar() {
    if (ndarray != null) { // lists are 0-d only as a request sent them
      return source != null && ScalarNdarray.is(source);
    }
    Numeric numbers = kind.isData() ? numeric() : null;
    return numbers != null && numbers.shape().length == 0;
  }

  private static ListValue nest(double[] values, int[] shape, int axis, int offset) {
    ListValue.Builder list = ListValue.newBuilder();
    int stride = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      stride *= shape[i];
    }
    for (int i = 0; i < shape[axis]; i++) {
      if (axis == shape.length - 1) {
        list.addValues(Value.newBuilder().setNumberValue(values[offset + i]));
      } else {
        list.addValues(Value.newBuilder().setListValue(nest(values, shape, axis + 1, offset + i * stride)));
      }
    }
    return list.build();
  }

  /** Nested lists of numbers with a rectangular shape, or null. */
  static Numeric numbers(ListValue list) {
    List<Integer> shape = new ArrayList<>();
    ListValue level = list;
    while (true) {
      shape.add(level.getValuesCount());
      if (level.getValuesCount() == 0 || !level.getValues(0).hasListValue()) {
        break;
      }
      level = level.getValues(0).getListValue();
    }
    int[] dims = shape.stream().mapToInt(Integer::intValue).toArray();
    double[] values = new double[(int) Numeric.size(dims)];
    return fill(list, dims, 0, values, new int[] {0}) ? new Numeric(dims, values) : null;
  }

  private static boolean fill(ListValue list, int[] dims, int axis, double[] values, int[] next) {
    if (list.getValuesCount() != dims[axis]) {
      return false;
    }
    for (Value value : list.getValuesList()) {
      if (axis == dims.length - 1) {
        if (!value.hasNumberValue()) {
          return false;
        }
        values[next[0]++] = value.getNumberValue();
      } else if (!value.hasListValue() || !fill(value.getListValue(), dims, axis + 1, values, next)) {
        return false;
      }
    }
    return true;
  }
}
