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
// prints every message through protobuf reflection and spends 120-170 us of CPU a call (it caps
// near 10k calls/s on one core), and grpc-go's own client 26 us (near 37k). This one sends the
// request's bytes as they are over HTTP/2 frames of its own (client.go: about 14 us a call, most
// of it the kernel's loopback) and keeps one latency sample a call.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
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

// load runs `callers` calls at once, spread over the connections, for `duration`; record keeps
// their results.
func load(conns []*connection, callers int, duration time.Duration, record bool) []*tally {
	until := time.Now().Add(duration)
	results := make([]*tally, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		inFlight := callers / len(conns)
		if i < callers%len(conns) {
			inFlight++
		}
		var t *tally
		if record {
			results[i] = &tally{codes: map[string]int{}, latencies: make([]time.Duration, 0, 1<<16)}
			t = results[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.run(inFlight, until, t)
		}()
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

func summarise(results []*tally, elapsed time.Duration, cpu float64) report {
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
	cpuProfile := flag.String("cpuprofile", "", "write this process's CPU profile of the measured run to this file (go tool pprof)")
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
	conns := make([]*connection, *connections)
	for i := range conns {
		if conns[i], err = dial(*target, *method, message); err != nil {
			fail(err)
		}
		defer conns[i].conn.Close()
	}
	if *warmUp > 0 {
		load(conns, *callers, *warmUp, false)
	}
	if *cpuProfile != "" {
		profile, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(profile); err != nil {
			fail(err)
		}
	}
	cpuBefore := cpuSeconds()
	results := load(conns, *callers, *duration, true) // calls that ended within the duration
	pprof.StopCPUProfile()
	out, _ := json.Marshal(summarise(results, *duration, cpuSeconds()-cpuBefore))
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "grpcload: %v\n", err)
	os.Exit(2)
}
