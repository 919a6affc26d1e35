package io.seldon.serve;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A custom metric a model reports from {@link PredictionService#metrics()}: sent back in the
 * response's meta.metrics and exposed to Prometheus (COUNTER as {@code <key>_total}, GAUGE as
 * is, TIMER, in milliseconds, as a histogram in seconds). Prometheus names take letters, digits
 * and _ only: any other character of a key or tag becomes _ ({@code model-version} is the label
 * {@code model_version}), and a leading digit gets a _ before it.
 */
public final class Metric {
  /** Seldon's metric types. */
  public enum Type {
    COUNTER,
    GAUGE,
    TIMER
  }

  private final String key;
  private final Type type;
  private final double value;
  private final Map<String, String> tags;

  private Metric(String key, Type type, double value, Map<String, String> tags) {
    this.key = key;
    this.type = type;
    this.value = value;
    this.tags = tags;
  }

  public static Metric counter(String key, double increment) {
    return new Metric(key, Type.COUNTER, increment, Map.of());
  }

  public static Metric gauge(String key, double value) {
    return new Metric(key, Type.GAUGE, value, Map.of());
  }

  public static Metric timer(String key, double milliseconds) {
    return new Metric(key, Type.TIMER, milliseconds, Map.of());
  }

  /** The same metric with one more tag (a Prometheus label). */
  public Metric tag(String name, String tagValue) {
    Map<String, String> more = new LinkedHashMap<>(tags);
    more.put(name, tagValue);
    return new Metric(key, type, value, Map.copyOf(more));
  }

  public String key() {
    return key;
  }

  public Type type() {
    return type;
  }

  public double value() {
    return value;
  }

  public Map<String, String> tags() {
    return tags;
  }
}
