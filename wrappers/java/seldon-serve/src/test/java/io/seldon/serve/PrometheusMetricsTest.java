package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PrometheusMetricsTest {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  /** A line of Prometheus's text format (0.0.4): a HELP, a TYPE, or a sample. */
  private static final Pattern LINE = Pattern.compile("# HELP " + NAME + " .*|# TYPE " + NAME
      + " (counter|gauge|histogram)|" + NAME + "(\\{" + LABEL + "(," + LABEL + ")*})? [-+0-9.eE]+");

  /** The scrape, every line of which Prometheus can parse. */
  private static String parsedScrape(PrometheusMetrics metrics) {
    String scrape = metrics.scrape();
    for (String line : scrape.split("\n")) {
      assertTrue(LINE.matcher(line).matches(), "unparseable: " + line + "\nin\n" + scrape);
    }
    return scrape;
  }

  @Test
  void keysAndTagsBecomeNamesPrometheusCanParse() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of("PREDICTIVE_UNIT_ID", "unit"));
    metrics.recordUser(List.of(Metric.counter("my-metric", 1).tag("model-version", "1"),
        Metric.gauge("5xx.rate", 0.5).tag("a b", "x\"y")));
    String scrape = parsedScrape(metrics);
    assertTrue(scrape.contains("# TYPE my_metric_total counter\n"), scrape);
    assertTrue(scrape.contains("my_metric_total{deployment_name=\"\",model_image=\"\",model_name=\"unit\","
        + "model_version=\"1\",predictor_name=\"\"} 1.0\n"), scrape);
    assertTrue(scrape.contains("_5xx_rate{a_b=\"x\\\"y\",deployment_name=\"\",model_image=\"\",model_name=\"unit\","
        + "predictor_name=\"\"} 0.5\n"), scrape);
    assertEquals("_9_lives_", PrometheusMetrics.sanitize("9-lives!"));
  }

  @Test
  void theContractsCountersAndTheModelsKeepTheirNames() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of());
    metrics.recordFeedback(2);
    metrics.recordUser(List.of(Metric.counter("calls", 2), Metric.counter("calls", 1), Metric.gauge("queue", 3),
        Metric.counter("done_total", 1)));
    String scrape = parsedScrape(metrics);
    String identity = "{deployment_name=\"\",model_image=\"\",model_name=\"\",predictor_name=\"\"}";
    for (String line : List.of("# HELP seldon_api_model_feedback_total Feedback requests received",
        "# TYPE seldon_api_model_feedback_total counter", "seldon_api_model_feedback_total" + identity + " 1.0",
        "# TYPE seldon_api_model_feedback_reward_total counter",
        "seldon_api_model_feedback_reward_total" + identity + " 2.0",
        "# HELP calls_total user counter calls", "calls_total" + identity + " 3.0",
        "# TYPE queue gauge", "queue" + identity + " 3.0",
        // client_java strips a counter's _total and adds it back: the key's own one stays, as before.
        "# TYPE done_total_total counter", "done_total_total" + identity + " 1.0")) {
      assertTrue(scrape.contains(line + "\n"), line + " not in\n" + scrape);
    }
  }

  @Test
  void laterTagsFillTheLabelsOfTheFirstUse() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of());
    metrics.recordUser(List.of(Metric.timer("predict-ms", 20).tag("version", "1")));
    metrics.recordUser(List.of(Metric.timer("predict-ms", 2000).tag("other", "x")));
    String scrape = parsedScrape(metrics);
    assertTrue(scrape.contains("predict_ms_count{deployment_name=\"\",model_image=\"\",model_name=\"\","
        + "predictor_name=\"\",version=\"\"} 1\n"), scrape);
    assertTrue(scrape.contains("predict_ms_sum{deployment_name=\"\",model_image=\"\",model_name=\"\","
        + "predictor_name=\"\",version=\"1\"} 0.02\n"), scrape);
  }

  @Test
  void aMetricPrometheusCannotTakeIsTheModelsErrorNotABrokenScrape() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of());
    metrics.recordUser(List.of(Metric.counter("calls", 1)));
    for (Metric bad : List.of(Metric.gauge("calls", 1), Metric.counter("down", -1), Metric.timer("t", 1).tag("le", "1"))) {
      SeldonException error = assertThrows(SeldonException.class, () -> metrics.recordUser(List.of(bad)));
      assertEquals(500, error.status());
      assertTrue(error.getMessage().contains("'" + bad.key() + "', which Prometheus cannot take"), error.getMessage());
    }
    parsedScrape(metrics);
  }
}
