package io.seldon.serve;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** protobuf's JSON values (Value, Struct, ListValue) to plain Java values and back. */
final class Values {
  private Values() {}

  static Object toJava(Value value) {
    switch (value.getKindCase()) {
      case NUMBER_VALUE:
        return value.getNumberValue();
      case STRING_VALUE:
        return value.getStringValue();
      case BOOL_VALUE:
        return value.getBoolValue();
      case STRUCT_VALUE:
        return toJava(value.getStructValue());
      case LIST_VALUE:
        return toJava(value.getListValue());
      default:
        return null;
    }
  }

  static Map<String, Object> toJava(Struct struct) {
    Map<String, Object> map = new LinkedHashMap<>();
    struct.getFieldsMap().forEach((key, value) -> map.put(key, toJava(value)));
    return map;
  }

  static List<Object> toJava(ListValue list) {
    List<Object> out = new ArrayList<>(list.getValuesCount());
    for (Value value : list.getValuesList()) {
      out.add(toJava(value));
    }
    return out;
  }

  /** Any JSON-like Java value (maps, iterables, arrays, numbers, strings, booleans, null). */
  static Value toValue(Object object) {
    if (object == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    }
    if (object instanceof Value value) {
      return value;
    }
    if (object instanceof Number number) {
      return Value.newBuilder().setNumberValue(number.doubleValue()).build();
    }
    if (object instanceof Boolean bool) {
      return Value.newBuilder().setBoolValue(bool).build();
    }
    if (object instanceof CharSequence || object instanceof Character || object instanceof Enum<?>) {
      return Value.newBuilder().setStringValue(object.toString()).build();
    }
    if (object instanceof Map<?, ?> map) {
      Struct.Builder struct = Struct.newBuilder();
      map.forEach((key, value) -> struct.putFields(String.valueOf(key), toValue(value)));
      return Value.newBuilder().setStructValue(struct).build();
    }
    if (object instanceof Iterable<?> || object.getClass().isArray()) {
      return Value.newBuilder().setListValue(toListValue(object)).build();
    }
    throw SeldonException.internal(
        "cannot answer a " + object.getClass().getName() + " as JSON; use maps, lists, numbers, strings"
            + " and booleans");
  }

  static ListValue toListValue(Object listLike) {
    ListValue.Builder list = ListValue.newBuilder();
    if (listLike instanceof Iterable<?> iterable) {
      for (Object item : iterable) {
        list.addValues(toValue(item));
      }
    } else if (listLike instanceof double[] doubles) {
      for (double item : doubles) {
        list.addValues(Value.newBuilder().setNumberValue(item));
      }
    } else if (listLike instanceof Object[] objects) {
      for (Object item : objects) {
        list.addValues(toValue(item));
      }
    } else {
      int length = java.lang.reflect.Array.getLength(listLike);
      for (int i = 0; i < length; i++) {
        list.addValues(toValue(java.lang.reflect.Array.get(listLike, i)));
      }
    }
    return list.build();
  }
}
