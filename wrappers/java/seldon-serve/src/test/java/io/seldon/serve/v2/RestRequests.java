package io.seldon.serve.v2;

import io.seldon.serve.RestProtocol;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** Requests as the REST server hands them to the protocol. */
final class RestRequests {
  static final RestProtocol.Request EMPTY = of(new byte[0], Map.of());

  private RestRequests() {}

  /** A JSON body, no headers. */
  static RestProtocol.Request json(String body) {
    return of(body.getBytes(StandardCharsets.UTF_8), Map.of());
  }

  /** This body with these headers (their names in any case, as HTTP's). */
  static RestProtocol.Request of(byte[] body, Map<String, String> headers) {
    Map<String, String> named = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    named.putAll(headers);
    return new RestProtocol.Request() {
      @Override
      public byte[] body() {
        return body;
      }

      @Override
      public String header(String name) {
        return named.get(name);
      }
    };
  }
}
