package io.seldon.serve;

import java.util.Arrays;

/** A row-major block of numbers and its shape: what numeric payloads hold. */
record Numeric(int[] shape, double[] values) {
  Numeric {
    long size = size(shape);
    if (size != values.length) {
      throw SeldonException.badData(
          values.length + " values do not fit shape " + Arrays.toString(shape) + " (" + size + " needed)");
    }
  }

  static long size(int[] shape) {
    long size = 1;
    for (int dim : shape) {
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
}
