package io.seldon.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentCodingTest {
  private static final byte[] TEXT =
      "{\"data\": {\"ndarray\": [[1, 2, 3]]}}".repeat(10).getBytes(StandardCharsets.UTF_8);

  static byte[] gzip(byte[] body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(body);
    }
    return out.toByteArray();
  }

  /** zlib's format (raw: the bare deflate stream, without its header and checksum). */
  static byte[] deflate(byte[] body, boolean raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, raw);
    try (OutputStream deflate = new DeflaterOutputStream(out, deflater)) {
      deflate.write(body);
    } finally {
      deflater.end();
    }
    return out.toByteArray();
  }

  private static byte[] decoded(String coding, byte[] body, int maxBytes) throws IOException {
    return ContentCoding.decodedBody(coding, new ByteArrayInputStream(body), maxBytes);
  }

  @Test
  void gzipDeflateAndIdentityBodiesAreDecoded() throws IOException {
    assertArrayEquals(TEXT, decoded("gzip", gzip(TEXT), 1000));
    assertArrayEquals(TEXT, decoded("X-GZIP", gzip(TEXT), 1000));
    assertArrayEquals(TEXT, decoded(" Deflate ", deflate(TEXT, false), 1000));
    assertArrayEquals(TEXT, decoded("deflate", deflate(TEXT, true), 1000));
    assertArrayEquals(TEXT, decoded("identity", TEXT, 1000));
    assertArrayEquals(TEXT, decoded(null, TEXT, 1000));
    ByteArrayOutputStream twoMembers = new ByteArrayOutputStream();
    twoMembers.writeBytes(gzip("{\"a\": ".getBytes(StandardCharsets.UTF_8)));
    twoMembers.writeBytes(gzip("1}".getBytes(StandardCharsets.UTF_8)));
    assertEquals("{\"a\": 1}", new String(decoded("gzip", twoMembers.toByteArray(), 1000), StandardCharsets.UTF_8));
  }

  /** Counts the bytes read from it. */
  private static final class Counted extends FilterInputStream {
    long read;

    Counted(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      read += b < 0 ? 0 : 1;
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      read += Math.max(0, n);
      return n;
    }
  }

  @Test
  void aBodySentAsItIsIsTakenAsItIs() throws IOException {
    assertSame(TEXT, ContentCoding.decodedBody(null, TEXT, TEXT.length));
    assertSame(TEXT, ContentCoding.decodedBody("identity", TEXT, TEXT.length));
    assertEquals("request body over 10 bytes (REST_MAX_BODY_BYTES)",
        assertThrows(SeldonException.class, () -> ContentCoding.decodedBody(null, TEXT, 10)).getMessage());
    assertArrayEquals(TEXT, ContentCoding.decodedBody("gzip", gzip(TEXT), TEXT.length));
  }

  @Test
  void aBombStopsDecompressingAtTheLimit() throws IOException {
    byte[] bomb = gzip(new byte[64 << 20]); // 64 MiB of zeros in some 64 KB
    Counted body = new Counted(new ByteArrayInputStream(bomb));
    SeldonException error = assertThrows(SeldonException.class, () -> ContentCoding.decodedBody("gzip", body, 1000));
    assertEquals(413, error.status());
    assertEquals("request body over 1000 bytes once decompressed (REST_MAX_BODY_BYTES)", error.getMessage());
    assertTrue(body.read < 4096, body.read + " of " + bomb.length + " compressed bytes read");
    assertEquals("request body over 10 bytes (REST_MAX_BODY_BYTES)",
        assertThrows(SeldonException.class, () -> decoded(null, TEXT, 10)).getMessage());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "gzip    | not gzip at all | the request body is not valid gzip: Not in GZIP format",
      "deflate | not zlib at all | the request body is not valid deflate: ",
      "gzip    |                 | the request body is not valid gzip: the compressed data ends early",
  })
  void aBodyNotInItsCodingIsA400NamingIt(String coding, String body, String message) {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    SeldonException error = assertThrows(SeldonException.class, () -> decoded(coding, bytes, 1000));
    assertEquals(400, error.status());
    assertTrue(error.getMessage().startsWith(message), error.getMessage());
  }

  @Test
  void aTruncatedBodyIsA400() throws IOException {
    byte[] whole = gzip(TEXT);
    byte[] half = java.util.Arrays.copyOf(whole, whole.length / 2);
    assertEquals(400, assertThrows(SeldonException.class, () -> decoded("gzip", half, 1000)).status());
  }

  @ParameterizedTest
  @CsvSource({"br", "'gzip, gzip'", "compress", "zstd"})
  void anyOtherCodingIsA415NamingThoseAccepted(String coding) {
    SeldonException error = assertThrows(SeldonException.class, () -> decoded(coding, TEXT, 1000));
    assertEquals(415, error.status());
    assertEquals("Content-Encoding '" + coding + "' is not supported: send gzip, deflate or identity",
        error.getMessage());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', nullValues = "none", value = {
      "gzip                        | gzip",
      "deflate                     | deflate",
      "'deflate, gzip'             | gzip",
      "'gzip;q=0.5, deflate'       | deflate",
      "'gzip; q=0, deflate'        | deflate",
      "'gzip;q=0, deflate;q=0'     | none",
      "*                           | gzip",
      "'*, gzip;q=0'               | deflate",
      "*;q=0                       | none",
      "'br, identity'              | none",
      "x-gzip                      | gzip",
      "'GZIP;Q=1'                  | gzip",
      "'gzip;q=zero'               | none",
      "''                          | none",
  })
  void acceptEncodingChoosesTheMostWantedGzipOnATie(String acceptEncoding, String chosen) {
    assertEquals(chosen, ContentCoding.accepted(acceptEncoding));
  }

  @Test
  void noAcceptEncodingIsNoCompression() {
    assertNull(ContentCoding.accepted(null));
  }

  @Test
  void answersAreCompressedInTheirCoding() throws IOException {
    assertArrayEquals(TEXT, new GZIPInputStream(new ByteArrayInputStream(ContentCoding.compress(TEXT, "gzip")))
        .readAllBytes());
    assertArrayEquals(TEXT, new InflaterInputStream(new ByteArrayInputStream(ContentCoding.compress(TEXT,
        "deflate"))).readAllBytes());
  }
}
