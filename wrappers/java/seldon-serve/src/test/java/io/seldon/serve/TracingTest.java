package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingTest {
  @Test
  void seldonsJaegerSettingsWithNoOtlpEndpointAreNamed() {
    String unread = Tracing.unreadJaegerSettings(
        Map.of("JAEGER_AGENT_HOST", "jaeger-agent", "JAEGER_AGENT_PORT", " 6831 ", "TRACING", "1"));
    assertTrue(unread.startsWith("JAEGER_AGENT_HOST=jaeger-agent, JAEGER_AGENT_PORT=6831: Seldon's Jaeger"), unread);
    assertTrue(unread.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), unread);
  }

  @Test
  void anOtlpEndpointOrNoJaegerSettingSaysNothing() {
    assertNull(Tracing.unreadJaegerSettings(Map.of("TRACING", "1")));
    assertNull(Tracing.unreadJaegerSettings(Map.of("JAEGER_AGENT_HOST", " ")));
    assertNull(Tracing.unreadJaegerSettings(
        Map.of("JAEGER_AGENT_HOST", "jaeger-agent", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://jaeger:4318")));
  }
}
