package io.seldon.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * Feedback and the model's own metrics in Prometheus's text format, named as the python
 * wrapper names them. Every series carries the unit's place in the Seldon deployment as labels.
 * A small registry of our own: the wrapper needs counters, gauges and one histogram kind, and
 * no dependency is lighter than that.
 */
final class PrometheusMetrics {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  private static final double[] BUCKETS = {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};
  /** Label and the variable Seldon Core sets it from, in the order the labels are written. */
  private static final String[][] IDENTITY = {
      {"deployment_name", "SELDON_DEPLOYMENT_ID"},
      {"predictor_name", "PREDICTOR_ID"},
      {"model_name", "PREDICTIVE_UNIT_ID"},
      {"model_image", "PREDICTIVE_UNIT_IMAGE"}};

  private final Map<String, String> identity = new LinkedHashMap<>();
  private final Map<String, Family> families = new ConcurrentHashMap<>();
  private final Series feedback;
  private final Series reward;

  PrometheusMetrics(Map<String, String> environment) {
    for (String[] label : IDENTITY) {
      identity.put(label[0], environment.getOrDefault(label[1], ""));
    }
    // Made now, so a scrape shows 0 before the first feedback rather than nothing.
    feedback = family("seldon_api_model_feedback", Metric.Type.COUNTER, "Feedback requests received", Map.of())
        .series(identity);
    reward = family("seldon_api_model_feedback_reward", Metric.Type.COUNTER, "Sum of feedback rewards", Map.of())
        .series(identity);
  }

  void recordFeedback(double value) {
    feedback.add(1);
    reward.add(value);
  }

  void recordUser(List<Metric> metrics) {
    for (Metric metric : metrics) {
      Family family = family(sanitize(metric.key()), metric.type(), "user " + metric.type().name().toLowerCase()
          + " " + metric.key(), metric.tags());
      Map<String, String> labels = new LinkedHashMap<>(identity);
      labels.putAll(metric.tags());
      Series series = family.series(labels);
      switch (metric.type()) {
        case COUNTER -> series.add(metric.value());
        case GAUGE -> series.set(metric.value());
        case TIMER -> series.observe(metric.value() / 1000); // TIMER values are milliseconds
      }
    }
  }

  /** A metric's label names are fixed by its first use; later tags fill those names. */
  private Family family(String name, Metric.Type type, String help, Map<String, String> tags) {
    return families.computeIfAbsent(name + "/" + type, key -> {
      List<String> labels = new ArrayList<>(identity.keySet());
      TreeSet<String> extra = new TreeSet<>(tags.keySet());
      extra.removeAll(identity.keySet());
      labels.addAll(extra);
      return new Family(name, type, help, labels);
    });
  }

  private static String sanitize(String key) {
    return key.replaceAll("[^a-zA-Z0-9_:]", "_");
  }

  String scrape() {
    StringBuilder out = new StringBuilder();
    for (Family family : families.values()) {
      family.write(out);
    }
    return out.toString();
  }

  private static final class Family {
    final String name;
    final Metric.Type type;
    final String help;
    final List<String> labels;
    final Map<List<String>, Series> series = new ConcurrentHashMap<>();

    Family(String name, Metric.Type type, String help, List<String> labels) {
      this.name = name;
      this.type = type;
      this.help = help;
      this.labels = labels;
    }

    Series series(Map<String, String> values) {
      List<String> key = labels.stream().map(label -> values.getOrDefault(label, "")).toList();
      return series.computeIfAbsent(key, k -> new Series(type == Metric.Type.TIMER));
    }

    void write(StringBuilder out) {
      String exposed = type == Metric.Type.COUNTER ? name + "_total" : name;
      String kind = switch (type) {
        case COUNTER -> "counter";
        case GAUGE -> "gauge";
        case TIMER -> "histogram";
      };
      out.append("# HELP ").append(exposed).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(exposed).append(' ').append(kind).append('\n');
      series.forEach((values, one) -> {
        String labelText = labelText(values);
        if (type != Metric.Type.TIMER) {
          sample(out, exposed, labelText, one.value());
          return;
        }
        long[] counts = one.bucketCounts();
        long cumulative = 0;
        for (int i = 0; i < BUCKETS.length; i++) {
          cumulative += counts[i];
          sample(out, name + "_bucket", labelText + ",le=\"" + BUCKETS[i] + "\"", cumulative);
        }
        cumulative += counts[BUCKETS.length];
        sample(out, name + "_bucket", labelText + ",le=\"+Inf\"", cumulative);
        sample(out, name + "_count", labelText, cumulative);
        sample(out, name + "_sum", labelText, one.value());
      });
    }

    private String labelText(List<String> values) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < labels.size(); i++) {
        if (i > 0) {
          text.append(',');
        }
        String value = values.get(i).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        text.append(labels.get(i)).append("=\"").append(value).append('"');
      }
      return text.toString();
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
      out.append(name).append('{').append(labels).append("} ").append(value).append('\n');
    }
  }

  /** One labelled series: a counter's or histogram's sum, or a gauge's value. */
  private static final class Series {
    private final DoubleAdder sum = new DoubleAdder();
    private volatile double gauge;
    private volatile boolean isGauge;
    private final long[] buckets;

    Series(boolean histogram) {
      buckets = histogram ? new long[BUCKETS.length + 1] : null;
    }

    void add(double amount) {
      sum.add(amount);
    }

    void set(double value) {
      isGauge = true;
      gauge = value;
    }

    synchronized void observe(double value) {
      sum.add(value);
      int bucket = 0;
      while (bucket < BUCKETS.length && value > BUCKETS[bucket]) {
        bucket++;
      }
      buckets[bucket]++;
    }

    double value() {
      return isGauge ? gauge : sum.sum();
    }

    synchronized long[] bucketCounts() {
      return buckets.clone();
    }
  }
}
