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

  /**
   * Tell the JDK's HTTP server, which reads these once, when its first server is made (so before
   * any): its idle timeout is ours, and its own header caps lie above ours, so that a request
   * over ours is read and answered 414 or 431 rather than dropped unanswered by the JDK.
   */
  void applyToJdk() {
    // 0 is "never": the JDK takes no 0, so a year. Its idle sweep runs every clockTick ms.
    long idleSeconds = keepaliveSeconds > 0 ? keepaliveSeconds : 365L * 24 * 3600;
    System.setProperty("sun.net.httpserver.idleInterval", Long.toString(idleSeconds));
    System.setProperty("sun.net.httpserver.clockTick", Long.toString(Math.min(1000, idleSeconds * 250)));
    // The JDK counts 32 bytes a header line beside its name and value; a line is at least 2 of ours.
    long headerLines = Math.max(200, maxHeaderBytes / 2L + 1);
    System.setProperty("sun.net.httpserver.maxReqHeaders", Long.toString(Math.min(Integer.MAX_VALUE, headerLines)));
    long headerBytes = (long) maxHeaderBytes + 32 * headerLines + maxUrlBytes + 1024;
    System.setProperty("sun.net.httpserver.maxReqHeaderSize", Long.toString(Math.min(Integer.MAX_VALUE, headerBytes)));
  }
}
