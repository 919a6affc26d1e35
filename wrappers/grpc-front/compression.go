package main

// The message compressions the front accepts from clients, and answers in: a client that sends
// gzip or deflate gets its reply in the same one (grpc-go answers in the request's compression
// when it has it registered). Messages reach the wrapper decompressed, so the wrappers never
// see a compressed one; GRPC_MAX_MESSAGE_BYTES bounds the decompressed size.

import (
	"compress/zlib"
	"io"
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers "gzip"
)

// deflate is gRPC's "deflate" message encoding: the zlib format (RFC 1950), as grpc-java and
// gRPC core write it. grpc-go ships gzip only.
type deflate struct {
	writers sync.Pool
}

func (*deflate) Name() string { return "deflate" }

func (d *deflate) Compress(w io.Writer) (io.WriteCloser, error) {
	if z, ok := d.writers.Get().(*zlib.Writer); ok {
		z.Reset(w)
		return &pooledWriter{Writer: z, pool: &d.writers}, nil
	}
	z, err := zlib.NewWriterLevel(w, zlib.BestSpeed)
	if err != nil {
		return nil, err
	}
	return &pooledWriter{Writer: z, pool: &d.writers}, nil
}

func (*deflate) Decompress(r io.Reader) (io.Reader, error) {
	return zlib.NewReader(r)
}

// pooledWriter returns its zlib writer to the pool once the message is written.
type pooledWriter struct {
	*zlib.Writer
	pool *sync.Pool
}

func (p *pooledWriter) Close() error {
	defer p.pool.Put(p.Writer)
	return p.Writer.Close()
}

func init() {
	encoding.RegisterCompressor(&deflate{})
}
