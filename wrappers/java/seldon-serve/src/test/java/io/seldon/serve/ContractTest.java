package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.seldon.protos.PredictionProtos.SeldonMessageList;
import io.seldon.serve.MicroserviceTest.Bare;
import io.seldon.serve.MicroserviceTest.Identity;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContractTest {
  @Test
  void anUnsetOrBlankSettingIsItsDefault() throws StartupException {
    assertEquals(9000, Contract.whole(Map.of(), "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"));
    assertEquals(9000, Contract.whole(Map.of("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", " "),
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"));
    assertEquals("/metrics", Contract.text(Map.of("PREDICTIVE_UNIT_METRICS_ENDPOINT", ""),
        "PREDICTIVE_UNIT_METRICS_ENDPOINT"));
    assertEquals("seldon", Contract.choice(Map.of(), "PROTOCOL"));
    assertEquals(8080, Contract.whole(Map.of("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", " 8080 "),
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT"));
    // One entry naming several settings gives each the entry's type and default.
    assertEquals("", Contract.text(Map.of(), "PERSISTENCE"));
  }

  @Test
  void aBadWholeNumberNamesTheSetting() {
    StartupException error = assertThrows(StartupException.class,
        () -> Contract.whole(Map.of("REQUEST_TIMEOUT_SECONDS", "soon"), "REQUEST_TIMEOUT_SECONDS"));
    assertEquals("REQUEST_TIMEOUT_SECONDS='soon' is not a whole number", error.getMessage());
    error = assertThrows(StartupException.class,
        () -> Contract.whole(Map.of("REST_MAX_BODY_BYTES", "4294967296"), "REST_MAX_BODY_BYTES"));
    assertEquals("REST_MAX_BODY_BYTES='4294967296' is not a whole number from -2147483648 to 2147483647",
        error.getMessage());
  }

  @Test
  void aChoiceIsMatchedInAnyCaseAndAnsweredAsTheContractSpellsIt() throws StartupException {
    assertEquals("OUTPUT_TRANSFORMER", Contract.choice(Map.of("SERVICE_TYPE", "output_transformer"), "SERVICE_TYPE"));
    assertEquals("v2", Contract.choice(Map.of("PROTOCOL", "V2"), "PROTOCOL"));
    StartupException error = assertThrows(StartupException.class,
        () -> Contract.choice(Map.of("PROTOCOL", "grpc"), "PROTOCOL"));
    assertEquals("PROTOCOL='grpc' is not one of seldon, v2, both", error.getMessage());
  }

  @Test
  void readingASettingAsAnotherTypeIsAProgrammingError() {
    assertThrows(IllegalArgumentException.class, () -> Contract.whole(Map.of(), "PROTOCOL"));
    assertThrows(IllegalArgumentException.class, () -> Contract.text(Map.of(), "NO_SUCH_SETTING"));
  }

  @ParameterizedTest
  @CsvSource({"400, INVALID_ARGUMENT", "404, UNIMPLEMENTED", "504, DEADLINE_EXCEEDED",
      "418, INVALID_ARGUMENT", "500, INTERNAL", "599, INTERNAL"})
  void grpcCodesFollowTheHttpStatusAndFallBackByClass(int httpStatus, Status.Code code) {
    assertEquals(code, Contract.grpcCode(httpStatus));
  }

  @Test
  void serviceTypesNameTheirVerbsInJavasSpelling() {
    assertEquals("transformInput", Contract.inferVerb("OUTLIER_DETECTOR"));
    assertNull(Contract.inferVerb("COMBINER"));
    assertEquals("aggregate", Contract.requiredVerb("COMBINER"));
    assertNull(Contract.requiredVerb("TRANSFORMER"));
    assertEquals("aggregate or aggregateRaw", new Microservice.Overrides(Bare.class).missing("COMBINER"));
    assertNull(new Microservice.Overrides(Bare.class).missing("TRANSFORMER"));
    assertNull(new Microservice.Overrides(Identity.class).missing("MODEL"));
    assertNull(new Microservice.Overrides(AggregatesRaw.class).missing("COMBINER"));
  }

  static class AggregatesRaw implements PredictionService {
    @Override
    public io.seldon.protos.PredictionProtos.SeldonMessage aggregateRaw(SeldonMessageList requests) {
      return requests.getSeldonMessages(0);
    }
  }

  @Test
  void reasonsAndMetricNamesAreTheContracts() {
    assertEquals("MICROSERVICE_BAD_DATA", SeldonException.BAD_DATA);
    assertEquals("seldon_api_model_feedback", Contract.metric("feedback").name());
  }

  @Test
  void theCommandLinesServiceTypeIsCheckedAsTheVariable() throws StartupException {
    Map<String, String> env = Map.of("MODEL_NAME", "M", "SERVICE_TYPE", "MODEL");
    assertEquals("ROUTER", Settings.from(new String[] {"--service-type", "router"}, env).serviceType());
    StartupException error = assertThrows(StartupException.class,
        () -> Settings.from(new String[] {"--service-type=MODLE"}, env));
    assertEquals("SERVICE_TYPE='MODLE' is not one of " + String.join(", ", Contract.SERVICE_TYPES),
        error.getMessage());
  }
}
