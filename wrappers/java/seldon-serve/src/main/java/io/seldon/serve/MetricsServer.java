package io.seldon.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Prometheus scrapes the metrics port; nothing else is served there. */
final class MetricsServer {
  private final HttpServer server;

  MetricsServer(PrometheusMetrics metrics, String host, int port, String path) throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 64);
    server.setExecutor(java.util.concurrent.Executors.newSingleThreadExecutor(Threads.named("metrics")));
    String wanted = path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    server.createContext("/", exchange -> {
      String asked = exchange.getRequestURI().getPath();
      if (asked.length() > 1 && asked.endsWith("/")) {
        asked = asked.substring(0, asked.length() - 1);
      }
      if (asked.equals(wanted)) {
        send(exchange, 200, PrometheusMetrics.CONTENT_TYPE, metrics.scrape());
      } else {
        send(exchange, 404, "text/plain; charset=utf-8", "metrics are at " + path + "\n");
      }
    });
  }

  private static void send(HttpExchange exchange, int status, String contentType, String text) throws IOException {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  void start() {
    server.start();
  }

  void stop() {
    server.stop(0);
  }
}
