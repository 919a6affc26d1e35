package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seldon.protos.PredictionProtos.Feedback;
import io.seldon.protos.PredictionProtos.SeldonMessage;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MicroserviceTest {
  static class Identity implements PredictionService {
    @Override
    public Payload predict(Payload input) {
      return input;
    }
  }

  /** Overrides nothing: every verb answers Seldon's default. */
  static class Bare implements PredictionService {}

  static class StringRouter implements PredictionService {
    @Override
    public Payload route(Payload input) {
      return Payload.string("the left one");
    }
  }

  /** Answers what `answer` makes of the input; tags {mine: 1}, a counter c. */
  static class Tagged implements PredictionService {
    private final Function<Payload, Payload> answer;

    Tagged(Function<Payload, Payload> answer) {
      this.answer = answer;
    }

    @Override
    public Payload predict(Payload input) {
      return answer.apply(input);
    }

    @Override
    public Payload route(Payload input) {
      return Payload.branch(0);
    }

    @Override
    public Payload aggregate(List<Payload> inputs) {
      return inputs.get(0);
    }

    @Override
    public Map<String, ?> tags() {
      return Map.of("mine", 1);
    }

    @Override
    public List<Metric> metrics() {
      return List.of(Metric.counter("c", 1));
    }
  }

  private static SeldonMessage message(String json) {
    return JsonIn.message(Json.parse(json, "test"));
  }

  private static SeldonMessageList messages(String json) {
    return JsonIn.messageList(Json.parse(json, "test"));
  }

  private static Microservice serve(PredictionService model, String serviceType) throws StartupException {
    return new Microservice(model, serviceType, Map.of(), null);
  }

  private static Microservice unit(PredictionService model, Map<String, String> env) throws StartupException {
    return new Microservice(model, "MODEL", env, null);
  }

  /** The answer's data as JSON. */
  private static String dataOf(SeldonMessage answer) {
    String json = JsonOut.message(SeldonMessage.newBuilder().setData(answer.getData()).build());
    return json.substring("{\"data\":".length(), json.length() - 1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"MODEL", "ROUTER", "TRANSFORMER", "OUTPUT_TRANSFORMER", "COMBINER", "OUTLIER_DETECTOR"})
  void everyVerbIsServedWhateverTheServiceType(String serviceType) throws StartupException {
    Microservice unit = serve(new Identity(), serviceType);
    SeldonMessage request = message("{\"data\": {\"ndarray\": [[1, 2]]}}");
    String same = "{\"names\":[\"t:0\",\"t:1\"],\"ndarray\":[[1.0,2.0]]}";
    assertEquals(same, dataOf(unit.predict(request)));
    assertEquals(same, dataOf(unit.transformInput(request)));
    assertEquals(same, dataOf(unit.transformOutput(request)));
    assertEquals(400, assertThrows(SeldonException.class, () -> unit.route(request)).status());
    assertEquals(400, assertThrows(SeldonException.class,
        () -> unit.aggregate(SeldonMessageList.newBuilder().addSeldonMessages(request).build())).status());
    assertEquals("{\"names\":[],\"ndarray\":[]}", dataOf(unit.sendFeedback(Feedback.getDefaultInstance())));
  }

  private static final String EMPTY_TENSOR = "{\"names\":[],\"tensor\":{\"shape\":[0],\"values\":[]}}";

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"data\": {\"ndarray\": [[1, 2]]}}                           | {\"names\":[],\"ndarray\":[]}",
      "{\"data\": {\"tensor\": {\"shape\": [1, 2], \"values\": [1, 2]}}} | " + EMPTY_TENSOR,
      "{\"jsonData\": {\"a\": 1}}                                    | " + EMPTY_TENSOR,
      "{\"strData\": \"x\"}                                          | " + EMPTY_TENSOR,
      "{\"binData\": \"AAE=\"}                                       | " + EMPTY_TENSOR,
  })
  void predictWithoutAPredictMethodAnswersAnEmptyResult(String request, String data) throws StartupException {
    assertEquals(data, dataOf(serve(new Bare(), "ROUTER").predict(message(request))));
  }

  @Test
  void routeAndAggregateWithoutTheirMethodsAreBadData() throws StartupException {
    Microservice bare = serve(new Bare(), "MODEL");
    SeldonException route = assertThrows(SeldonException.class,
        () -> bare.route(message("{\"data\": {\"ndarray\": [1]}}")));
    assertEquals(400, route.status());
    assertEquals(SeldonException.BAD_DATA, route.reason());
    assertEquals("Route not defined: Bare overrides neither route nor routeRaw", route.getMessage());
    SeldonException aggregate = assertThrows(SeldonException.class,
        () -> bare.aggregate(messages("[{\"data\": {\"ndarray\": [1]}}]")));
    assertEquals(400, aggregate.status());
    assertEquals(SeldonException.BAD_DATA, aggregate.reason());
    assertTrue(aggregate.getMessage().startsWith("Aggregate not defined: "), aggregate.getMessage());
    assertEquals(GrpcCalls.code(route.status()), io.grpc.Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void transformsWithoutTheirMethodsAreTheIdentity() throws StartupException {
    Microservice bare = serve(new Bare(), "MODEL");
    SeldonMessage request = message("{\"meta\": {\"puid\": \"p\"}, \"jsonData\": {\"a\": [1, \"b\"]}}");
    assertEquals("{\"meta\":{\"puid\":\"p\"},\"jsonData\":{\"a\":[1.0,\"b\"]}}",
        JsonOut.message(bare.transformInput(request)));
    assertEquals(JsonOut.message(bare.transformInput(request)), JsonOut.message(bare.transformOutput(request)));
  }

  @Test
  void feedbackWithoutAHandlerIsCountedNotRefused() throws StartupException {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of("PREDICTIVE_UNIT_ID", "unit"));
    Microservice model = new Microservice(new Identity(), "MODEL", Map.of("PREDICTIVE_UNIT_ID", "unit"), metrics);
    Feedback feedback = Feedback.newBuilder().setReward(2.5f)
        .setRequest(message("{\"meta\": {\"puid\": \"p\", \"tags\": {\"a\": 1}}, \"data\": {\"tensor\":"
            + " {\"shape\": [1], \"values\": [1]}}}"))
        .build();
    // As Seldon: an empty result in the request's kind, and of the request's meta only the puid.
    assertEquals("{\"meta\":{\"puid\":\"p\",\"requestPath\":{\"unit\":\"NOT_IMPLEMENTED:NOT_IMPLEMENTED\"}},"
        + "\"data\":{\"names\":[],\"tensor\":{\"shape\":[0],\"values\":[]}}}",
        JsonOut.message(model.sendFeedback(feedback)));
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("# TYPE seldon_api_model_feedback_total counter"), scrape);
    assertTrue(scrape.contains("seldon_api_model_feedback_reward_total{deployment_name=\"\",model_image=\"\","
        + "model_name=\"unit\",predictor_name=\"\"} 2.5"), scrape);
  }

  @Test
  void aRouterMustAnswerABranch() throws StartupException {
    Microservice router = serve(new StringRouter(), "ROUTER");
    SeldonException error = assertThrows(SeldonException.class,
        () -> router.route(message("{\"data\": {\"ndarray\": [1]}}")));
    assertEquals(500, error.status());
    assertTrue(error.getMessage().contains("route() must return an int")
        && error.getMessage().contains("'the left one'"));
  }

  // ---- payload kinds: Seldon's construct_response ------------------------------------------

  private static final String STRINGS = "{\"names\":[\"t:0\",\"t:1\"],\"ndarray\":[[\"a\",\"b\"]]}";

  @ParameterizedTest
  @ValueSource(strings = {"{\"jsonData\": {\"a\": 1}}", "{\"strData\": \"x\"}", "{\"binData\": \"AAE=\"}"})
  void numbersAnswerARequestThatIsNotDataAsATensorAndOtherListsAsAnNdarray(String request)
      throws StartupException {
    Microservice numbers = serve(new Tagged(input -> Payload.of(new double[][] {{1, 2}})), "MODEL");
    assertEquals("{\"names\":[\"t:0\",\"t:1\"],\"tensor\":{\"shape\":[1,2],\"values\":[1.0,2.0]}}",
        dataOf(numbers.predict(message(request))));
    Microservice strings = serve(new Tagged(input -> Payload.ndarray(List.of(List.of("a", "b")))), "MODEL");
    assertEquals(STRINGS, dataOf(strings.predict(message(request))));
  }

  @Test
  void aTensorRequestGetsAnNdarrayWhenTheResultIsNotNumbers() throws StartupException {
    Microservice strings = serve(new Tagged(input -> Payload.ndarray(List.of(List.of("a", "b")))), "MODEL");
    SeldonMessage request = message("{\"data\": {\"tensor\": {\"shape\": [1, 2], \"values\": [1, 2]}}}");
    assertEquals(STRINGS, dataOf(strings.predict(request)));
  }

  @Test
  void aScalarNdarrayIsZeroDimensionalAndAnsweredAsAScalar() throws StartupException {
    TestModels.Echo echo = new TestModels.Echo();
    SeldonMessage answer = serve(echo, "MODEL").predict(message("{\"data\": {\"ndarray\": 3}}"));
    assertEquals(0, echo.seen.shape().length);
    assertEquals(3.0, echo.seen.values()[0]);
    assertEquals("{\"names\":[],\"ndarray\":3.0}", dataOf(answer));
    // Numbers of shape [] answer an ndarray request as a scalar too, and a tensor request as shape [].
    Microservice numbers = serve(new Tagged(input -> Payload.tensor(new int[0], new double[] {4})), "MODEL");
    assertEquals("{\"names\":[],\"ndarray\":4.0}", dataOf(numbers.predict(message("{\"data\": {\"ndarray\": [1]}}"))));
    assertEquals("{\"names\":[],\"tensor\":{\"shape\":[],\"values\":[4.0]}}",
        dataOf(numbers.predict(message("{\"data\": {\"tensor\": {\"shape\": [1], \"values\": [1]}}}"))));
    SeldonMessage text = serve(new Identity(), "MODEL").predict(message("{\"data\": {\"ndarray\": \"abc\"}}"));
    assertEquals("{\"names\":[],\"ndarray\":\"abc\"}", dataOf(text));
  }

  // ---- meta: Seldon's construct_response_json ------------------------------------------------

  private static final String REQUEST_META = "\"meta\": {\"puid\": \"p\", \"tags\": {\"a\": 1, \"mine\": 0},"
      + " \"requestPath\": {\"up\": \"img:1\", \"unit\": \"theirs\"}, \"routing\": {\"r\": 1},"
      + " \"metrics\": [{\"key\": \"k\", \"type\": \"GAUGE\", \"value\": 2}]}";

  @Test
  void theAnswerCarriesTheRequestsMetaUpdatedByTheModelsAndTheUnitsRequestPath() throws StartupException {
    Microservice unit = unit(new Tagged(input -> input), Map.of("PREDICTIVE_UNIT_ID", "unit"));
    SeldonMessage answer = unit.predict(message("{" + REQUEST_META + ", \"data\": {\"ndarray\": [1]}}"));
    assertEquals("{\"puid\":\"p\",\"tags\":{\"a\":1.0,\"mine\":1.0},"
        + "\"requestPath\":{\"unit\":\"theirs\",\"up\":\"img:1\"},"
        + "\"metrics\":[{\"key\":\"k\",\"type\":\"GAUGE\",\"value\":2.0},"
        + "{\"key\":\"c\",\"type\":\"COUNTER\",\"value\":1.0}]}",
        metaOf(answer));
  }

  @Test
  void theUnitsRequestPathNamesItsImageOnlyWhenItHasAnId() throws StartupException {
    SeldonMessage request = message("{\"data\": {\"ndarray\": [1]}}");
    Map<String, String> named = Map.of("PREDICTIVE_UNIT_ID", "unit", "PREDICTIVE_UNIT_IMAGE", "repo/model:1.0");
    assertEquals(Map.of("unit", "repo/model:1.0"), unit(new Identity(), named).predict(request).getMeta()
        .getRequestPathMap());
    assertEquals(Map.of("unit", "NOT_IMPLEMENTED:NOT_IMPLEMENTED"),
        unit(new Identity(), Map.of("PREDICTIVE_UNIT_ID", "unit")).predict(request).getMeta().getRequestPathMap());
    assertEquals(Map.of(), unit(new Identity(), Map.of("PREDICTIVE_UNIT_IMAGE", "repo/model:1.0")).predict(request)
        .getMeta().getRequestPathMap());
  }

  @Test
  void aRouteCarriesNothingOfTheRequestsMetaButItsPuid() throws StartupException {
    Microservice unit = unit(new Tagged(input -> input), Map.of("PREDICTIVE_UNIT_ID", "unit"));
    SeldonMessage answer = unit.route(message("{" + REQUEST_META + ", \"data\": {\"ndarray\": [1]}}"));
    assertEquals("{\"puid\":\"p\",\"tags\":{\"mine\":1.0},"
        + "\"requestPath\":{\"unit\":\"NOT_IMPLEMENTED:NOT_IMPLEMENTED\"},"
        + "\"metrics\":[{\"key\":\"c\",\"type\":\"COUNTER\",\"value\":1.0}]}", metaOf(answer));
    assertEquals("{\"names\":[\"t:0\"],\"ndarray\":[[0.0]]}", dataOf(answer));
  }

  @Test
  void anAggregateMergesTheMetaOfAllItsMessages() throws StartupException {
    Microservice unit = unit(new Tagged(input -> input), Map.of("PREDICTIVE_UNIT_ID", "unit"));
    SeldonMessage answer = unit.aggregate(messages("[{" + REQUEST_META + ", \"data\": {\"ndarray\": [1]}},"
        + " {\"meta\": {\"puid\": \"q\", \"tags\": {\"b\": 2, \"a\": 3}, \"requestPath\": {\"z\": \"w\"},"
        + " \"metrics\": [{\"key\": \"k2\", \"type\": \"COUNTER\", \"value\": 1}]}, \"data\": {\"ndarray\": [2]}}]"));
    assertEquals("{\"puid\":\"p\",\"tags\":{\"a\":3.0,\"b\":2.0,\"mine\":1.0},"
        + "\"requestPath\":{\"unit\":\"theirs\",\"up\":\"img:1\",\"z\":\"w\"},"
        + "\"metrics\":[{\"key\":\"k\",\"type\":\"GAUGE\",\"value\":2.0},{\"key\":\"k2\",\"type\":\"COUNTER\","
        + "\"value\":1.0},{\"key\":\"c\",\"type\":\"COUNTER\",\"value\":1.0}]}", metaOf(answer));
  }

  /** The answer's meta as JSON, its maps sorted so the comparison does not depend on map order. */
  private static String metaOf(SeldonMessage answer) {
    var meta = answer.getMeta().toBuilder();
    var tags = new java.util.TreeMap<>(meta.getTagsMap());
    var paths = new java.util.TreeMap<>(meta.getRequestPathMap());
    meta.clearTags().putAllTags(tags).clearRequestPath().putAllRequestPath(paths);
    String json = JsonOut.message(SeldonMessage.newBuilder().setMeta(meta).build());
    return json.substring("{\"meta\":".length(), json.length() - 1);
  }

  @Test
  void aRequestWithoutAPuidGetsAFreshOneOnEveryVerb() throws StartupException {
    Microservice unit = serve(new Tagged(input -> input), "MODEL");
    SeldonMessage request = message("{\"data\": {\"ndarray\": [1]}}");
    List<SeldonMessage> answers = List.of(unit.predict(request), unit.predict(request), unit.route(request),
        unit.aggregate(SeldonMessageList.newBuilder().addSeldonMessages(request).build()),
        unit.sendFeedback(Feedback.getDefaultInstance()));
    assertEquals(answers.size(), answers.stream().map(a -> a.getMeta().getPuid()).filter(p -> p.length() == 32)
        .distinct().count());
  }

  @Test
  void userTimersBecomeHistogramsInSeconds() {
    PrometheusMetrics metrics = new PrometheusMetrics(Map.of());
    metrics.recordUser(List.of(Metric.timer("predict_ms", 20)));
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("predict_ms_bucket{deployment_name=\"\",model_image=\"\",model_name=\"\","
        + "predictor_name=\"\",le=\"0.025\"} 1"), scrape);
    assertTrue(scrape.contains("predict_ms_count"), scrape);
  }
}
