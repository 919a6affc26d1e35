package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the REST port does on a raw connection: order, bodies past the limit, requests that are not HTTP. */
class RestConnectionTest {
  private static final String PREDICT = "{\"data\": {\"ndarray\": [[%d]]}}";

  /** One answer read off the connection: status line, headers (names lower-cased) and body. */
  private record Answer(int status, String headers, String body) {}

  private static String post(String path, String body) {
    return "POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  private static Answer read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int next = in.read();
      if (next < 0) {
        throw new IOException("closed before an answer: " + head);
      }
      head.write(next);
    }
    String headers = head.toString(StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
    int length = 0;
    for (String line : headers.split("\r\n")) {
      if (line.startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).strip());
      }
    }
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    return new Answer(Integer.parseInt(headers.split(" ")[1]), headers, body);
  }

  @Test
  void pipelinedRequestsAreAnsweredInTheOrderAsked() throws Exception {
    try (Served served = new Served(new ServersTest.Slow()); Socket socket = new Socket("127.0.0.1", served.rest.port())) {
      // The first sleeps 300 ms on a pool thread; the two behind it wait their turn rather than overtake.
      String requests = post("/predict", PREDICT.formatted(300)) + post("/predict", PREDICT.formatted(0))
          + "GET /health/ping HTTP/1.1\r\nHost: t\r\n\r\n";
      socket.getOutputStream().write(requests.getBytes(StandardCharsets.UTF_8));
      List<Answer> answers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        answers.add(read(socket.getInputStream()));
      }
      assertTrue(answers.get(0).body().contains("[[300.0]]"), answers.get(0).body());
      assertTrue(answers.get(1).body().contains("[[0.0]]"), answers.get(1).body());
      assertEquals("pong", answers.get(2).body());
    }
  }

  @Test
  void aBodyPastTheLimitIsReadWholeAnswered413AndTheConnectionGoesOn() throws Exception {
    try (Served served = new Served(new ServersTest.Slow(), new Served.Sizes(1000, 1024, 1 << 20));
        Socket socket = new Socket("127.0.0.1", served.rest.port())) {
      String big = "{\"data\": {\"ndarray\": [[0]]}, \"meta\": {\"tags\": {\"pad\": \"" + "x".repeat(100_000) + "\"}}}";
      socket.getOutputStream().write((post("/predict", big) + post("/predict", PREDICT.formatted(0)))
          .getBytes(StandardCharsets.UTF_8));
      Answer refused = read(socket.getInputStream());
      assertEquals(413, refused.status());
      assertEquals("request body over 1000 bytes (REST_MAX_BODY_BYTES)", Json.parse(refused.body(), "answer")
          .getAsJsonObject().getAsJsonObject("status").get("info").getAsString());
      assertEquals(200, read(socket.getInputStream()).status());
    }
  }

  @Test
  void aRequestThatIsNotHttpIsAnswered400WithSeldonsBodyAndTheConnectionClosed() throws Exception {
    try (Served served = new Served(new ServersTest.Slow()); Socket socket = new Socket("127.0.0.1", served.rest.port())) {
      socket.getOutputStream().write("POST /predict HTTP/1.1\r\nContent-Length: nine\r\n\r\n"
          .getBytes(StandardCharsets.UTF_8));
      Answer refused = read(socket.getInputStream());
      assertEquals(400, refused.status());
      assertTrue(refused.headers().contains("connection: close"), refused.headers());
      var status = Json.parse(refused.body(), "answer").getAsJsonObject().getAsJsonObject("status");
      assertEquals("MICROSERVICE_BAD_DATA", status.get("reason").getAsString(), refused.body());
      assertTrue(status.get("info").getAsString().startsWith("malformed HTTP request: "), refused.body());
      assertEquals(-1, socket.getInputStream().read());
    }
  }

  @Test
  void anHttp10RequestIsAnsweredAndItsConnectionClosedUnlessItAsksToKeepIt() throws Exception {
    try (Served served = new Served(new ServersTest.Slow()); Socket socket = new Socket("127.0.0.1", served.rest.port())) {
      socket.getOutputStream().write("GET /health/ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
          .getBytes(StandardCharsets.UTF_8));
      Answer kept = read(socket.getInputStream());
      assertTrue(kept.headers().contains("connection: keep-alive"), kept.headers());
      socket.getOutputStream().write("GET /health/ping HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      assertEquals("pong", read(socket.getInputStream()).body());
      assertEquals(-1, socket.getInputStream().read());
    }
  }
}
