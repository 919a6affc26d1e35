package io.seldon.serve;

/**
 * What a client may ask of the REST port (the contract's HTTP_* settings): an idle connection
 * is closed after keepaliveSeconds (0: never); past maxConnections requests in progress or
 * waiting for a thread, a request is answered 503; a request target over maxUrlBytes 414, header
 * lines over maxHeaderBytes 431.
 */
record HttpLimits(int keepaliveSeconds, int maxConnections, int maxUrlBytes, int maxHeaderBytes) {
  static final HttpLimits UNLIMITED = new HttpLimits(0, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE);

  static HttpLimits from(java.util.Map<String, String> env) throws StartupException {
    return new HttpLimits(
        Contract.whole(env, "HTTP_KEEPALIVE_SECONDS"),
        positive(env, "HTTP_MAX_CONNECTIONS"),
        positive(env, "HTTP_MAX_URL_BYTES"),
        positive(env, "HTTP_MAX_HEADER_BYTES"));
  }

  private static int positive(java.util.Map<String, String> env, String name) throws StartupException {
    int value = Contract.whole(env, name);
    if (value < 1) {
      throw new StartupException(name + "=" + value + " must be at least 1");
    }
    return value;
  }
}
