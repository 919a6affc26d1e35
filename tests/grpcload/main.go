// grpcload calls one unary gRPC method as fast as a fixed number of callers can, and reports
// calls per second, latency percentiles, status codes and its own CPU time, as one JSON object.
//
//	grpcload -target 127.0.0.1:9001 -method /seldon.protos.Model/Predict -message request.bin
//
// With -echo it is instead a bare grpc-go server answering every unary call with its request's
// bytes: the limit a gRPC server in Go reaches on the same CPU, for the benchmark's table.
//
//	grpcload -echo 127.0.0.1:9001
//
// The benchmark needs a load generator lighter than the servers it measures: ghz parses and
// prints every message through protobuf reflection and spends 120-170 us of CPU a call, so it
// caps near 10k calls/s on one core. This one sends the request's bytes as they are (it never
// parses a message) and keeps one latency sample a call.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// rawCodec sends and receives message bytes untouched.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	return fmt.Errorf("rawCodec cannot unmarshal into %T", v)
}

func (rawCodec) Name() string { return "proto" }

type report struct {
	Calls      int            `json:"calls"`
	Seconds    float64        `json:"seconds"`
	RPS        float64        `json:"rps"` // successful calls per second
	P50Ms      float64        `json:"p50_ms"`
	P99Ms      float64        `json:"p99_ms"`
	Codes      map[string]int `json:"codes"`
	FirstError string         `json:"first_error,omitempty"`
	CPUSeconds float64        `json:"cpu_seconds"` // this process's user+system time while measuring
}

type caller struct {
	latencies []time.Duration // successful calls only
	codes     map[string]int
	firstErr  error
}

func (c *caller) run(ctx context.Context, conn *grpc.ClientConn, method string, message []byte, record bool) {
	var reply []byte
	for ctx.Err() == nil {
		started := time.Now()
		err := conn.Invoke(context.Background(), method, &message, &reply)
		if !record {
			continue
		}
		code := status.Code(err).String()
		c.codes[code]++
		if err == nil {
			c.latencies = append(c.latencies, time.Since(started))
		} else if c.firstErr == nil {
			c.firstErr = err
		}
	}
}

// load runs `callers` loops over `connections` connections for `duration`; record keeps their results.
func load(conns []*grpc.ClientConn, callers int, method string, message []byte, duration time.Duration, record bool) []*caller {
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	results := make([]*caller, callers)
	var wg sync.WaitGroup
	for i := range callers {
		results[i] = &caller{codes: map[string]int{}, latencies: make([]time.Duration, 0, 1<<16)}
		wg.Add(1)
		go func(c *caller, conn *grpc.ClientConn) {
			defer wg.Done()
			c.run(ctx, conn, method, message, record)
		}(results[i], conns[i%len(conns)])
	}
	wg.Wait()
	return results
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func summarise(results []*caller, elapsed time.Duration, cpu float64) report {
	r := report{Codes: map[string]int{}, Seconds: elapsed.Seconds(), CPUSeconds: cpu}
	var all []time.Duration
	for _, c := range results {
		all = append(all, c.latencies...)
		for code, n := range c.codes {
			r.Codes[code] += n
			r.Calls += n
		}
		if c.firstErr != nil && r.FirstError == "" {
			r.FirstError = c.firstErr.Error()
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	r.RPS = float64(len(all)) / elapsed.Seconds()
	if len(all) > 0 {
		r.P50Ms = percentile(all, 0.50)
		r.P99Ms = percentile(all, 0.99)
	}
	return r
}

func percentile(sorted []time.Duration, p float64) float64 {
	return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
}

// echo serves every method by answering the request's bytes, until killed.
func echo(address string) {
	listener, err := net.Listen("tcp", address)
	if err != nil {
		fail(err)
	}
	server := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			var message []byte
			if err := stream.RecvMsg(&message); err != nil {
				return err
			}
			return stream.SendMsg(&message)
		}))
	fail(server.Serve(listener))
}

func main() {
	echoOn := flag.String("echo", "", "serve a gRPC echo on this address instead of calling one")
	target := flag.String("target", "", "host:port of the gRPC server")
	method := flag.String("method", "", "full method name, e.g. /seldon.protos.Model/Predict")
	messageFile := flag.String("message", "", "file holding the request message's protobuf bytes")
	connections := flag.Int("connections", 8, "HTTP/2 connections")
	callers := flag.Int("callers", 8, "calls in flight at once, spread over the connections")
	duration := flag.Duration("duration", 10*time.Second, "measured time")
	warmUp := flag.Duration("warm-up", 5*time.Second, "load before measuring (JIT compilers, caches, connections)")
	flag.Parse()
	if *echoOn != "" {
		echo(*echoOn)
	}
	if *target == "" || *method == "" || *messageFile == "" {
		fail(errors.New("-target, -method and -message are required"))
	}
	message, err := os.ReadFile(*messageFile)
	if err != nil {
		fail(err)
	}
	conns := make([]*grpc.ClientConn, *connections)
	for i := range conns {
		// Each its own connection: grpc-go would otherwise share one per target.
		conns[i], err = grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})), grpc.WithSharedWriteBuffer(true))
		if err != nil {
			fail(err)
		}
		defer conns[i].Close()
	}
	if *warmUp > 0 {
		load(conns, *callers, *method, message, *warmUp, false)
	}
	cpuBefore, started := cpuSeconds(), time.Now()
	results := load(conns, *callers, *method, message, *duration, true)
	elapsed := time.Since(started)
	out, _ := json.Marshal(summarise(results, elapsed, cpuSeconds()-cpuBefore))
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "grpcload: %v\n", err)
	os.Exit(2)
}
