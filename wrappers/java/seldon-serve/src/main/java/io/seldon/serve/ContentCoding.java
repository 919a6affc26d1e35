package io.seldon.serve;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Compressed REST bodies (HTTP content codings, RFC 9110 8.4), on every path, Seldon's and /v2:
 * a request's Content-Encoding (gzip or deflate) undone before anything reads the body, its
 * decompressed size held to REST_MAX_BODY_BYTES; an answer compressed when the client's
 * Accept-Encoding asks for it and it is at least REST_COMPRESS_MIN_BYTES.
 */
final class ContentCoding {
  static final String GZIP = "gzip";
  static final String DEFLATE = "deflate";
  /** What an answer may be compressed with, preferred first. */
  private static final List<String> ANSWERED = List.of(GZIP, DEFLATE);
  // Level 1: most of the size saved, for a fraction of the time the default level takes.
  private static final int LEVEL = 1;

  private ContentCoding() {}

  /**
   * A request body as it was before its Content-Encoding (null: none): a 415 for a coding not
   * accepted, a 400 for a body not in its coding, a 413 past maxBytes (decompressed: decoding
   * stops there, so a small bomb allocates no more than the limit).
   */
  static byte[] decodedBody(String contentEncoding, byte[] body, int maxBytes) throws IOException {
    String coding = requestCoding(contentEncoding);
    if (coding == null) { // as it came: no stream to copy it through
      if (body.length > maxBytes) {
        throw tooLarge(maxBytes, false);
      }
      return body;
    }
    return decode(coding, new ByteArrayInputStream(body), maxBytes);
  }

  /** The same, read from a stream. */
  static byte[] decodedBody(String contentEncoding, InputStream body, int maxBytes) throws IOException {
    return decode(requestCoding(contentEncoding), body, maxBytes);
  }

  /** `body` in `coding` (null: none), decoded within maxBytes. */
  private static byte[] decode(String coding, InputStream body, int maxBytes) throws IOException {
    if (coding == null) {
      return limited(body, maxBytes, false);
    }
    try (InputStream decoded = decoding(coding, body)) {
      return limited(decoded, maxBytes, true);
    } catch (IOException e) { // a ZipException or an EOFException: the data is not what the header says
      String why = e.getMessage() != null ? e.getMessage() : "the compressed data ends early";
      throw new SeldonException("the request body is not valid " + coding + ": " + why);
    }
  }

  /** Whether a body in this Content-Encoding is compressed; a 415 for a coding not supported. */
  static boolean compressed(String contentEncoding) {
    return requestCoding(contentEncoding) != null;
  }

  /** "gzip" or "deflate" for a compressed body, null for identity; a 415 for anything else. */
  private static String requestCoding(String contentEncoding) {
    String name = contentEncoding == null ? "" : contentEncoding.strip().toLowerCase(Locale.ROOT);
    return switch (name) {
      case "", "identity" -> null;
      case "gzip", "x-gzip" -> GZIP;
      case "deflate" -> DEFLATE;
      default -> throw new SeldonException("Content-Encoding '" + contentEncoding
          + "' is not supported: send gzip, deflate or identity", 415);
    };
  }

  private static byte[] limited(InputStream body, int maxBytes, boolean decompressed) throws IOException {
    byte[] bytes = body.readNBytes(maxBytes + 1);
    if (bytes.length > maxBytes) {
      throw tooLarge(maxBytes, decompressed);
    }
    return bytes;
  }

  /** The 413 for a body past REST_MAX_BODY_BYTES, as sent or once decompressed. */
  static SeldonException tooLarge(int maxBytes, boolean decompressed) {
    return new SeldonException("request body over " + maxBytes + " bytes"
        + (decompressed ? " once decompressed" : "") + " (REST_MAX_BODY_BYTES)", 413);
  }

  private static InputStream decoding(String coding, InputStream body) throws IOException {
    if (coding.equals(GZIP)) {
      return new GZIPInputStream(body);
    }
    // deflate is the zlib format (RFC 1950); some clients send the bare deflate stream it wraps.
    PushbackInputStream peeked = new PushbackInputStream(body, 2);
    byte[] start = peeked.readNBytes(2);
    peeked.unread(start);
    return inflating(peeked, !hasZlibHeader(start));
  }

  private static boolean hasZlibHeader(byte[] start) {
    return start.length == 2 && (start[0] & 0x0F) == 8 && ((start[0] & 0xFF) << 8 | (start[1] & 0xFF)) % 31 == 0;
  }

  /** An inflating stream that frees its inflater's native memory when closed. */
  private static InputStream inflating(InputStream in, boolean raw) {
    Inflater inflater = new Inflater(raw);
    return new InflaterInputStream(in, inflater) {
      @Override
      public void close() throws IOException {
        try {
          super.close();
        } finally {
          inflater.end();
        }
      }
    };
  }

  /**
   * The coding to answer in for an Accept-Encoding header (null: none): the most wanted of gzip
   * and deflate, gzip on a tie; q=0 refuses one, and * stands for those the header does not name.
   */
  static String accepted(String acceptEncoding) {
    if (acceptEncoding == null) {
      return null;
    }
    Map<String, Double> weights = new HashMap<>();
    for (String item : acceptEncoding.toLowerCase(Locale.ROOT).split(",")) {
      String[] parts = item.split(";");
      weights.put(parts[0].strip(), quality(Arrays.copyOfRange(parts, 1, parts.length)));
    }
    double unnamed = weights.getOrDefault("*", 0.0);
    String best = null;
    double bestWeight = 0;
    for (String coding : ANSWERED) {
      double fallback = coding.equals(GZIP) ? weights.getOrDefault("x-gzip", unnamed) : unnamed;
      double weight = weights.getOrDefault(coding, fallback);
      if (weight > bestWeight) {
        best = coding;
        bestWeight = weight;
      }
    }
    return best;
  }

  /** An item's q value: 1 when it gives none, 0 when it is not a number. */
  private static double quality(String[] parameters) {
    for (String parameter : parameters) {
      String[] pair = parameter.split("=", 2);
      if (pair[0].strip().equals("q")) {
        try {
          return pair.length == 2 ? Double.parseDouble(pair[1].strip()) : 0;
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
  }

  /** The body in `coding` ("gzip" or "deflate", the zlib format). */
  static byte[] compress(byte[] body, String coding) {
    ByteArrayOutputStream compressed = new ByteArrayOutputStream(Math.max(64, body.length / 4));
    try (OutputStream out = coding.equals(GZIP) ? new FastGzip(compressed) : new FastZlib(compressed)) {
      out.write(body);
    } catch (IOException e) { // a ByteArrayOutputStream does not throw
      throw new UncheckedIOException(e);
    }
    return compressed.toByteArray();
  }

  /** GZIPOutputStream at LEVEL (it takes no level, but lets a subclass set its deflater's). */
  private static final class FastGzip extends GZIPOutputStream {
    FastGzip(OutputStream out) throws IOException {
      super(out, 8192);
      def.setLevel(LEVEL);
    }
  }

  /** The zlib format at LEVEL, its deflater's native memory freed when closed. */
  private static final class FastZlib extends DeflaterOutputStream {
    FastZlib(OutputStream out) {
      super(out, new Deflater(LEVEL), 8192);
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        def.end();
      }
    }
  }
}
