package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ParametersTest {
  @Test
  void parametersArriveTyped() throws StartupException {
    Parameters parameters = Parameters.parse("[{\"name\": \"n\", \"value\": \"3\", \"type\": \"INT\"},"
        + " {\"name\": \"x\", \"value\": \"0.5\", \"type\": \"FLOAT\"}, {\"name\": \"on\", \"value\": \"true\", \"type\": \"BOOL\"},"
        + " {\"name\": \"s\", \"value\": \"text\"}]");
    assertEquals(3, parameters.getInt("n", 0));
    assertEquals(0.5, parameters.getDouble("x", 0));
    assertEquals(true, parameters.getBoolean("on", false));
    assertEquals("text", parameters.getString("s", null));
    assertEquals(7, parameters.getInt("missing", 7));
  }

  @Test
  void aBadValueNamesTheParameter() {
    StartupException error = assertThrows(StartupException.class,
        () -> Parameters.parse("[{\"name\": \"high\", \"value\": \"lots\", \"type\": \"FLOAT\"}]"));
    assertEquals("parameter 'high': 'lots' is not a valid FLOAT", error.getMessage());
    assertThrows(StartupException.class, () -> Parameters.parse("[{\"name\": \"a\", \"value\": \"1\", \"type\": \"X\"}]"));
    assertThrows(StartupException.class, () -> Parameters.parse("{}"));
  }
}
