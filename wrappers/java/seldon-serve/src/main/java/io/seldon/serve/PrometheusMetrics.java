package io.seldon.serve;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.MetricWithFixedMetadata;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Feedback and the model's own metrics in Prometheus's text format (client_java's registry and
 * writer), named as the python wrapper names them. Every series carries the unit's place in the
 * Seldon deployment as labels.
 */
final class PrometheusMetrics {
  static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
  /** The python wrapper's (prometheus_client's) default buckets, in seconds; client_java's own differ. */
  private static final double[] BUCKETS = {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};
  /** Label and the variable Seldon Core sets it from. */
  private static final String[][] IDENTITY = {
      {"deployment_name", "SELDON_DEPLOYMENT_ID"},
      {"predictor_name", "PREDICTOR_ID"},
      {"model_name", "PREDICTIVE_UNIT_ID"},
      {"model_image", "PREDICTIVE_UNIT_IMAGE"}};
  private static final Pattern NOT_IN_A_NAME = Pattern.compile("[^a-zA-Z0-9_]");
  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Map<String, String> identity = new LinkedHashMap<>();
  private final Map<String, UserFamily> families = new ConcurrentHashMap<>();
  private final CounterDataPoint feedback;
  private final CounterDataPoint reward;

  /** A model's metric as registered: its label names (fixed by its first use) and how a value is recorded. */
  private record UserFamily(List<String> labels, BiConsumer<String[], Double> record) {}

  PrometheusMetrics(Map<String, String> environment) {
    for (String[] label : IDENTITY) {
      identity.put(label[0], environment.getOrDefault(label[1], ""));
    }
    // Made now, so a scrape shows 0 before the first feedback rather than nothing.
    feedback = contractCounter("feedback");
    reward = contractCounter("reward");
  }

  private CounterDataPoint contractCounter(String which) {
    Contract.MetricFamily spec = Contract.metric(which);
    List<String> labels = List.copyOf(identity.keySet());
    return counter(spec.name(), spec.help(), labels).labelValues(identity.values().toArray(String[]::new));
  }

  /** Spans the tracing exporter could not deliver (Tracing), made while tracing is on only. */
  CounterDataPoint spansDropped() {
    return contractCounter("spans_dropped");
  }

  void recordFeedback(double value) {
    feedback.inc();
    reward.inc(value);
  }

  /**
   * The model's metrics() into the registry. One Prometheus cannot take (a name used before for
   * another type, a counter going down, a tag `le` on a timer) is the model's error, a 500 naming
   * it, rather than a scrape no Prometheus can read.
   */
  void recordUser(List<Metric> metrics) {
    for (Metric metric : metrics) {
      try {
        record(metric);
      } catch (IllegalArgumentException e) {
        throw SeldonException.internal("metrics() returned the " + metric.type() + " '" + metric.key()
            + "', which Prometheus cannot take: " + e.getMessage());
      }
    }
  }

  private void record(Metric metric) {
    String name = sanitize(metric.key());
    UserFamily family = families.computeIfAbsent(name + "/" + metric.type(), key -> register(metric, name));
    Map<String, String> values = new HashMap<>(identity);
    metric.tags().forEach((tag, value) -> values.put(sanitize(tag), value));
    family.record().accept(family.labels().stream().map(label -> values.getOrDefault(label, ""))
        .toArray(String[]::new), metric.value());
  }

  /** A metric's label names: the identity's, then its first use's tags, sorted. */
  private UserFamily register(Metric metric, String name) {
    List<String> labels = new ArrayList<>(identity.keySet());
    TreeSet<String> tags = new TreeSet<>();
    metric.tags().keySet().forEach(tag -> tags.add(sanitize(tag)));
    tags.removeAll(identity.keySet());
    labels.addAll(tags);
    String help = "user " + metric.type().name().toLowerCase(Locale.ROOT) + " " + metric.key();
    return new UserFamily(List.copyOf(labels), switch (metric.type()) {
      case COUNTER -> {
        Counter counter = counter(name, help, labels);
        yield (labelValues, value) -> counter.labelValues(labelValues).inc(value);
      }
      case GAUGE -> {
        Gauge gauge = register(Gauge.builder().withoutExemplars(), name, help, labels);
        yield (labelValues, value) -> gauge.labelValues(labelValues).set(value);
      }
      case TIMER -> {
        Histogram histogram = register(Histogram.builder().withoutExemplars().classicOnly()
            .classicUpperBounds(BUCKETS), name, help, labels);
        // TIMER values are milliseconds; Prometheus's unit is the second.
        yield (labelValues, millis) -> histogram.labelValues(labelValues).observe(millis / 1000);
      }
    });
  }

  /**
   * A counter exported as name_total. client_java drops one _total from the name it is given and
   * writes one back: given name_total, a key's own _total stays (calls_total is calls_total_total,
   * as the wrapper has always exported it).
   */
  private Counter counter(String name, String help, List<String> labels) {
    return register(Counter.builder().withoutExemplars(), name + "_total", help, labels);
  }

  private <B extends MetricWithFixedMetadata.Builder<B, M>, M extends MetricWithFixedMetadata> M register(
      B builder, String name, String help, List<String> labels) {
    return builder.name(name).help(help).labelNames(labels.toArray(String[]::new)).register(registry);
  }

  /**
   * A model's metric key or tag as a name Prometheus can parse (`model-version` is
   * `model_version`, `5xx` is `_5xx`): one such name must not make the whole scrape unreadable.
   * The python wrapper's rule, for metric and label names alike.
   */
  static String sanitize(String key) {
    String name = NOT_IN_A_NAME.matcher(key).replaceAll("_");
    return !name.isEmpty() && Character.isDigit(name.charAt(0)) ? "_" + name : name;
  }

  /** The registry in Prometheus's text format (version 0.0.4, CONTENT_TYPE). */
  String scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      // Names are sanitized above; the escaping scheme is that format's (legacy names) all the same.
      TEXT.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
