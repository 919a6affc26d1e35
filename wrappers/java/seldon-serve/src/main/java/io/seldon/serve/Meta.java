package io.seldon.serve;

import io.seldon.protos.PredictionProtos;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a request's {@code meta} carries, as plain Java values. */
public final class Meta {
  static final Meta EMPTY = new Meta("", Map.of(), Map.of());

  private final String puid;
  private final Map<String, Object> tags;
  private final Map<String, Integer> routing;

  Meta(String puid, Map<String, Object> tags, Map<String, Integer> routing) {
    this.puid = puid;
    this.tags = Collections.unmodifiableMap(tags);
    this.routing = Collections.unmodifiableMap(routing);
  }

  static Meta of(PredictionProtos.Meta proto) {
    Map<String, Object> tags = new LinkedHashMap<>();
    proto.getTagsMap().forEach((key, value) -> tags.put(key, Values.toJava(value)));
    return new Meta(proto.getPuid(), tags, new LinkedHashMap<>(proto.getRoutingMap()));
  }

  /** The prediction's unique id (made up by the wrapper when the request has none). */
  public String puid() {
    return puid;
  }

  /** The request's tags: JSON values as Map, List, String, Double, Boolean or null. */
  public Map<String, Object> tags() {
    return tags;
  }

  /** The child each router of the graph chose: unit name to branch index. */
  public Map<String, Integer> routing() {
    return routing;
  }
}
