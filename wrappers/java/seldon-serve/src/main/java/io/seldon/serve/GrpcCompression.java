package io.seldon.serve;

import io.grpc.Codec;
import io.grpc.CompressorRegistry;
import io.grpc.DecompressorRegistry;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * Compressed gRPC messages: gzip and deflate (grpc-java has only gzip), each read and answered.
 * grpc-java answers uncompressed unless a call says otherwise; a client that compressed its
 * request is answered in the same coding, as grpc-go and grpc-python's servers answer.
 * GRPC_MAX_MESSAGE_BYTES holds for the decompressed size (grpc-java counts it as it inflates).
 */
final class GrpcCompression {
  private static final Metadata.Key<String> MESSAGE_ENCODING =
      Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

  /** gRPC's "deflate": the zlib format (RFC 1950), as grpc-core and grpc-python send it. */
  static final Codec DEFLATE = new Codec() {
    @Override
    public String getMessageEncoding() {
      return "deflate";
    }

    @Override
    public OutputStream compress(OutputStream os) {
      return new DeflaterOutputStream(os);
    }

    @Override
    public InputStream decompress(InputStream is) {
      return new InflaterInputStream(is);
    }
  };

  /** The codings messages may be sent in (not grpc-java's shared default, which stays as it is). */
  private static final CompressorRegistry COMPRESSORS = compressorsOf(new Codec.Gzip(), Codec.Identity.NONE, DEFLATE);

  private GrpcCompression() {}

  private static CompressorRegistry compressorsOf(Codec... codecs) {
    CompressorRegistry registry = CompressorRegistry.newEmptyInstance();
    for (Codec codec : codecs) {
      registry.register(codec);
    }
    return registry;
  }

  static CompressorRegistry compressors() {
    return COMPRESSORS;
  }

  /** The codings messages are read in, advertised to clients in grpc-accept-encoding. */
  static DecompressorRegistry decompressors() {
    return DecompressorRegistry.getDefaultInstance().with(DEFLATE, true);
  }

  /**
   * Answers a call in the coding its request came in (when the client accepts that coding,
   * which grpc-java checks against its grpc-accept-encoding).
   */
  static ServerInterceptor answerInTheRequestsCoding() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String coding = headers.get(MESSAGE_ENCODING);
        if (coding != null && COMPRESSORS.lookupCompressor(coding) != null) {
          call.setCompression(coding);
        }
        return next.startCall(call, headers);
      }
    };
  }
}
