package io.seldon.serve;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * A request to the REST port, read whole: its head, and its body as it came (compressed or
 * not), kept up to one byte past REST_MAX_BODY_BYTES; `overflow` says more came. `malformed` is
 * why the HTTP decoder could not read it, or null.
 */
record RestRequest(HttpRequest head, byte[] body, boolean overflow, Throwable malformed) {
  String method() {
    return head.method().name();
  }

  /** The request target as sent: what HTTP_MAX_URL_BYTES limits and the access log shows. */
  String target() {
    return head.uri();
  }

  /** The target's path, still percent-encoded (an absolute-form target's scheme and host dropped). */
  String rawPath() {
    String target = withoutAuthority();
    int query = target.indexOf('?');
    return query < 0 ? target : target.substring(0, query);
  }

  /** The target's query, still percent-encoded, or null when it has none. */
  String rawQuery() {
    String target = withoutAuthority();
    int query = target.indexOf('?');
    return query < 0 ? null : target.substring(query + 1);
  }

  private String withoutAuthority() {
    String target = head.uri();
    int fragment = target.indexOf('#');
    if (fragment >= 0) {
      target = target.substring(0, fragment);
    }
    int scheme = target.indexOf("://");
    if (scheme > 0 && target.charAt(0) != '/') { // absolute-form, as a client sends to a proxy
      int path = target.indexOf('/', scheme + 3);
      return path < 0 ? "/" : target.substring(path);
    }
    return target;
  }

  HttpHeaders headers() {
    return head.headers();
  }

  /** A header's first value (its name in any case), or null. */
  String header(String name) {
    return head.headers().get(name);
  }

  /** Whether the client keeps the connection open after the answer (HTTP/1.1's default). */
  boolean keepAlive() {
    return HttpUtil.isKeepAlive(head);
  }
}
