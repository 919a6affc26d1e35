package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MicroserviceTest {
  static class Identity implements PredictionService {
    @Override
    public Payload predict(Payload input) {
      return input;
    }
  }

  static class StringRouter implements PredictionService {
    @Override
    public Payload route(Payload input) {
      return Payload.string("the left one");
    }
  }

  private static SeldonMessage message(String json) {
    return JsonIn.message(JsonIn.parse(json, "test"));
  }

  @Test
  void aVerbTheServiceTypeDoesNotServeIsRefused() throws StartupException {
    Microservice model = new Microservice(new Identity(), "MODEL", "", null);
    SeldonException error = assertThrows(SeldonException.class,
        () -> model.route(message("{\"data\": {\"ndarray\": [1]}}")));
    assertEquals(404, error.status());
    assertTrue(error.getMessage().contains("route is not served by a MODEL"), error.getMessage());
  }

  @Test
  void feedbackWithoutAHandlerIsCountedNotRefused() throws StartupException {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of("PREDICTIVE_UNIT_ID", "unit"));
    Microservice model = new Microservice(new Identity(), "MODEL", "unit", metrics);
    model.sendFeedback(Feedback.newBuilder().setReward(2.5f).build());
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("# TYPE seldon_api_model_feedback_total counter"), scrape);
    assertTrue(scrape.contains("seldon_api_model_feedback_reward_total{deployment_name=\"\",predictor_name=\"\","
        + "model_name=\"unit\",model_image=\"\"} 2.5"), scrape);
  }

  @Test
  void aRouterMustAnswerABranch() throws StartupException {
    Microservice router = new Microservice(new StringRouter(), "ROUTER", "", null);
    SeldonException error = assertThrows(SeldonException.class,
        () -> router.route(message("{\"data\": {\"ndarray\": [1]}}")));
    assertEquals(500, error.status());
    assertTrue(error.getMessage().contains("route() must return an int") && error.getMessage().contains("'the left one'"));
  }

  @Test
  void userTimersBecomeHistogramsInSeconds() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of());
    metrics.recordUser(List.of(Metric.timer("predict_ms", 20)));
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("predict_ms_bucket{deployment_name=\"\",predictor_name=\"\",model_name=\"\","
        + "model_image=\"\",le=\"0.025\"} 1"), scrape);
    assertTrue(scrape.contains("predict_ms_count"), scrape);
  }
}
