package io.seldon.serve;

import io.seldon.protos.PredictionProtos;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a request's {@code meta} carries, as plain Java values. It keeps the request's own
 * protobuf, which the answer's meta is built from; tags become Java values only when asked.
 */
public final class Meta {
  static final Meta EMPTY = new Meta(PredictionProtos.Meta.getDefaultInstance());

  private final PredictionProtos.Meta proto;
  private Map<String, Object> tags;

  private Meta(PredictionProtos.Meta proto) {
    this.proto = proto;
  }

  static Meta of(PredictionProtos.Meta proto) {
    return new Meta(proto);
  }

  PredictionProtos.Meta proto() {
    return proto;
  }

  /** The prediction's unique id (made up by the wrapper when the request has none). */
  public String puid() {
    return proto.getPuid();
  }

  /** The request's tags: JSON values as Map, List, String, Double, Boolean or null. */
  public Map<String, Object> tags() {
    if (tags == null) {
      Map<String, Object> converted = new LinkedHashMap<>();
      proto.getTagsMap().forEach((key, value) -> converted.put(key, Values.toJava(value)));
      tags = Collections.unmodifiableMap(converted);
    }
    return tags;
  }

  /** The child each router of the graph chose: unit name to branch index. */
  public Map<String, Integer> routing() {
    return proto.getRoutingMap();
  }
}
