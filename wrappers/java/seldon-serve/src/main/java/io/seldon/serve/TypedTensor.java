package io.seldon.serve;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A tensor of the Open Inference Protocol (PROTOCOL=v2): a datatype, a shape and row-major
 * elements, each held by a Java type that holds every value of its datatype exactly.
 *
 * <table>
 *   <caption>datatype: the array {@link #data()} returns</caption>
 *   <tr><td>BOOL</td><td>{@code boolean[]}</td></tr>
 *   <tr><td>INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32</td><td>{@code long[]}</td></tr>
 *   <tr><td>UINT64</td><td>{@code long[]}, read as unsigned ({@link Long#toUnsignedString(long)})</td></tr>
 *   <tr><td>FP16, FP32</td><td>{@code float[]}</td></tr>
 *   <tr><td>FP64</td><td>{@code double[]}</td></tr>
 *   <tr><td>BYTES</td><td>{@code byte[][]} ({@link #strings()} reads them as UTF-8)</td></tr>
 * </table>
 *
 * <p>A request's tensor reaches a model as {@link Payload#tensor()}; a model answers one with
 * {@link Payload#of(TypedTensor)}, or by returning the request's payload itself.
 */
public final class TypedTensor {
  /** The Open Inference Protocol's datatypes. */
  public enum Datatype {
    BOOL(Kind.BOOLEAN, 1, 0, 1),
    UINT8(Kind.INTEGER, 1, 0, 255),
    UINT16(Kind.INTEGER, 2, 0, 65_535),
    UINT32(Kind.INTEGER, 4, 0, 4_294_967_295L),
    UINT64(Kind.INTEGER, 8, 0, -1), // the whole of long, read as unsigned
    INT8(Kind.INTEGER, 1, Byte.MIN_VALUE, Byte.MAX_VALUE),
    INT16(Kind.INTEGER, 2, Short.MIN_VALUE, Short.MAX_VALUE),
    INT32(Kind.INTEGER, 4, Integer.MIN_VALUE, Integer.MAX_VALUE),
    INT64(Kind.INTEGER, 8, Long.MIN_VALUE, Long.MAX_VALUE),
    FP16(Kind.FLOAT, 2, 0, 0),
    FP32(Kind.FLOAT, 4, 0, 0),
    FP64(Kind.DOUBLE, 8, 0, 0),
    BYTES(Kind.BYTES, 0, 0, 0);

    /** The Java type of the elements: boolean, long, float, double or byte[]. */
    public enum Kind { BOOLEAN, INTEGER, FLOAT, DOUBLE, BYTES }

    public final Kind kind;
    /** An element's size in raw contents (BYTES: length-prefixed, 0). */
    public final int bytes;
    /** An integer datatype's range (UINT64: the whole of long, read as unsigned). */
    public final long min;
    public final long max;

    Datatype(Kind kind, int bytes, long min, long max) {
      this.kind = kind;
      this.bytes = bytes;
      this.min = min;
      this.max = max;
    }

    boolean unsigned() {
      return name().startsWith("UINT");
    }
  }

  private final Datatype datatype;
  private final long[] shape;
  private final Object data;

  private TypedTensor(Datatype datatype, long[] shape, Object data) {
    this.datatype = datatype;
    this.shape = shape;
    this.data = data;
  }

  /** A tensor; data is the array the datatype's row of the table above names. */
  public static TypedTensor of(Datatype datatype, long[] shape, Object data) {
    Class<?> expected = switch (datatype.kind) {
      case BOOLEAN -> boolean[].class;
      case INTEGER -> long[].class;
      case FLOAT -> float[].class;
      case DOUBLE -> double[].class;
      case BYTES -> byte[][].class;
    };
    if (data == null || data.getClass() != expected) {
      throw SeldonException.internal(datatype + " elements are a " + expected.getSimpleName() + ", not "
          + (data == null ? "null" : data.getClass().getSimpleName()));
    }
    long size = size(shape);
    if (size != java.lang.reflect.Array.getLength(data)) {
      throw SeldonException.badData("shape " + Arrays.toString(shape) + " holds " + size + " elements, the data "
          + java.lang.reflect.Array.getLength(data));
    }
    if (datatype.kind == Datatype.Kind.INTEGER && datatype != Datatype.UINT64 && datatype != Datatype.INT64) {
      for (long value : (long[]) data) {
        if (value < datatype.min || value > datatype.max) {
          throw SeldonException.badData("a value (" + value + ") is outside " + datatype + "'s range ["
              + datatype.min + ", " + datatype.max + "]");
        }
      }
    }
    return new TypedTensor(datatype, shape.clone(), data);
  }

  /** FP64 numbers of a shape. */
  public static TypedTensor fp64(long[] shape, double[] values) {
    return of(Datatype.FP64, shape, values.clone());
  }

  /** BYTES elements from strings (UTF-8). */
  public static TypedTensor strings(long[] shape, String... values) {
    byte[][] elements = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      elements[i] = values[i].getBytes(StandardCharsets.UTF_8);
    }
    return of(Datatype.BYTES, shape, elements);
  }

  /** The number of elements a shape holds (a 400 for a negative dimension or too many). */
  public static long size(long[] shape) {
    long size = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw SeldonException.badData("shape " + Arrays.toString(shape) + " has a negative dimension");
      }
      try {
        size = Math.multiplyExact(size, dim);
      } catch (ArithmeticException e) {
        throw SeldonException.badData("shape " + Arrays.toString(shape) + " holds more elements than a tensor can");
      }
    }
    return size;
  }

  public Datatype datatype() {
    return datatype;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** The elements, row-major, in the array type the datatype names (see the class's table). */
  public Object data() {
    return data;
  }

  /** Numeric elements as doubles (UINT64 read as unsigned); a 400 for BOOL and BYTES. */
  public double[] doubles() {
    return switch (datatype.kind) {
      case DOUBLE -> ((double[]) data).clone();
      case FLOAT -> {
        float[] floats = (float[]) data;
        double[] out = new double[floats.length];
        for (int i = 0; i < floats.length; i++) {
          out[i] = floats[i];
        }
        yield out;
      }
      case INTEGER -> {
        long[] longs = (long[]) data;
        double[] out = new double[longs.length];
        for (int i = 0; i < longs.length; i++) {
          out[i] = datatype.unsigned() && longs[i] < 0 ? unsignedToDouble(longs[i]) : longs[i];
        }
        yield out;
      }
      default -> throw SeldonException.badData(datatype + " elements are not numbers");
    };
  }

  /** BYTES elements as UTF-8 strings. */
  public String[] strings() {
    if (datatype != Datatype.BYTES) {
      throw SeldonException.badData(datatype + " elements are not strings");
    }
    byte[][] elements = (byte[][]) data;
    String[] out = new String[elements.length];
    for (int i = 0; i < elements.length; i++) {
      out[i] = new String(elements[i], StandardCharsets.UTF_8);
    }
    return out;
  }

  private static double unsignedToDouble(long value) {
    return (double) (value >>> 1) * 2.0 + (value & 1);
  }

  @Override
  public String toString() {
    return datatype + Arrays.toString(shape);
  }
}
