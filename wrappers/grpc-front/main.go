// grpc-front serves the Seldon gRPC contract on behalf of a wrapper process.
//
// A Python (or R) gRPC server spends most of each call in its own machinery; this front
// terminates HTTP/2 in Go and hands every call to the wrapper's workers over a local Unix
// socket (link.go): the method's name, the trace headers and the request message's protobuf
// bytes go as one frame, many calls at once on one connection, and the worker answers with a
// gRPC status code followed by the reply message's bytes, or by a UTF-8 error message when the
// code is not OK. The front never parses the messages, so it cannot disagree with the wrapper
// about them; it only needs the descriptors (asked for on the same socket) to know which
// methods the wrapper serves (the Seldon protocol's, the Open Inference Protocol's, or both)
// and to answer server reflection.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// rawCodec passes message bytes through untouched: the wrapper owns their meaning.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	// Reflection replies are real protobuf messages.
	if m, ok := v.(proto.Message); ok {
		return proto.Marshal(m)
	}
	return nil, fmt.Errorf("rawCodec cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	if m, ok := v.(proto.Message); ok {
		return proto.Unmarshal(data, m)
	}
	return fmt.Errorf("rawCodec cannot unmarshal into %T", v)
}

func (rawCodec) Name() string { return "proto" }

// The flow-control windows, fixed: the size grpc-go's bandwidth estimator grows them to at most
// (its bdpLimit). See grpc.StaticStreamWindowSize below for why they are not left to it.
const flowControlWindow = 16 << 20

type front struct {
	link   *link
	served map[string]bool // "/package.Service/Method" of every method the descriptors declare
	// Metadata passed on to the workers as request headers: the trace context, when tracing is on.
	passHeaders []string
	timeout     time.Duration
}

// forward relays one unary call to the workers.
func (f *front) forward(_ any, stream grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(stream)
	if !ok || !f.served[method] {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	var request []byte
	if err := stream.RecvMsg(&request); err != nil {
		return err
	}
	ctx := stream.Context()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	var headers []header
	for _, name := range f.passHeaders {
		if values := metadata.ValueFromIncomingContext(ctx, name); len(values) > 0 {
			headers = append(headers, header{name, values[0]})
		}
	}
	reply, err := f.link.call(ctx, method, headers, request)
	if err != nil {
		return err
	}
	return stream.SendMsg(&reply)
}

// services lists the Seldon services for reflection from the wrapper's descriptors.
type services struct{ files *protoregistry.Files }

func (s services) GetServiceInfo() map[string]grpc.ServiceInfo {
	info := map[string]grpc.ServiceInfo{}
	s.files.RangeFiles(func(file protoreflect.FileDescriptor) bool {
		for i := 0; i < file.Services().Len(); i++ {
			service := file.Services().Get(i)
			var methods []grpc.MethodInfo
			for j := 0; j < service.Methods().Len(); j++ {
				methods = append(methods, grpc.MethodInfo{Name: string(service.Methods().Get(j).Name())})
			}
			info[string(service.FullName())] = grpc.ServiceInfo{Methods: methods, Metadata: file.Path()}
		}
		return true
	})
	return info
}

// methods lists the full names of the methods of every service the descriptors declare.
func methods(files *protoregistry.Files) map[string]bool {
	served := map[string]bool{}
	for name, info := range (services{files}).GetServiceInfo() {
		for _, method := range info.Methods {
			served["/"+name+"/"+method.Name] = true
		}
	}
	return served
}

func (f *front) descriptors(wait time.Duration) (*protoregistry.Files, error) {
	body, err := f.link.describe(wait)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	return protodesc.NewFiles(&set)
}

func main() {
	listen := flag.String("listen", "", "address to serve gRPC on, e.g. :5000 (the wrapper passes its gRPC port)")
	socket := flag.String("backend", "", "the wrapper's Unix socket")
	maxBytes := flag.Int("max-message-bytes", 100*1024*1024, "largest message received or sent")
	grace := flag.Duration("grace", 20*time.Second, "how long calls in progress may finish after SIGTERM")
	timeout := flag.Duration("timeout", 0, "per-call limit towards the wrapper (0: the client's deadline only)")
	passHeaders := flag.String("pass-headers", "", "comma-separated metadata keys passed on to the wrapper as headers (the trace context)")
	workers := flag.Int("workers", 1, "how many worker processes share the socket (each call goes to the least busy)")
	flag.Parse()
	if *listen == "" || *socket == "" {
		fatalf("-listen <address> and -backend <unix socket> are required")
	}
	encoding.RegisterCodec(rawCodec{})
	f := &front{link: newLink(*socket, *workers, *maxBytes), timeout: *timeout}
	if *passHeaders != "" {
		f.passHeaders = strings.Split(*passHeaders, ",")
	}

	// Listen before the workers are ready: early clients wait in the backlog instead of being
	// refused, and are served as soon as the descriptors (so the workers) are there.
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fatalf("cannot listen on %s: %v", *listen, err)
	}
	files, err := f.descriptors(120 * time.Second)
	if err != nil {
		fatalf("cannot load the service descriptors: %v", err)
	}
	f.served = methods(files)
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(f.forward),
		grpc.MaxRecvMsgSize(*maxBytes),
		grpc.MaxSendMsgSize(*maxBytes),
		// Calls run on goroutines kept from call to call: a fresh one per call grows its stack anew.
		grpc.NumStreamWorkers(streamWorkers),
		// Flow-control windows fixed at the size grpc-go's bandwidth estimator grows them to at
		// most. The estimator pings the client on every request that arrives while no ping is
		// out, with a window update before it; a call that waits on the worker is then written
		// to twice and read from twice (the ping's ack) where a quick one is written to once.
		grpc.StaticStreamWindowSize(flowControlWindow),
		grpc.StaticConnWindowSize(flowControlWindow),
	)
	options := reflection.ServerOptions{Services: services{files}, DescriptorResolver: files, ExtensionResolver: protoregistry.GlobalTypes}
	reflectionv1.RegisterServerReflectionServer(server, reflection.NewServerV1(options))
	// grpc.health.v1, for a Kubernetes gRPC probe: SERVING from here on (the workers answered with
	// their descriptors, so the model is loaded), NOT_SERVING once stopping. Answered by the front
	// itself, it is not held up by a worker busy in a long call.
	healthServer := health.NewServer()
	healthpb.RegisterHealthServer(server, healthServer)
	reflectionv1alpha.RegisterServerReflectionServer(server, reflection.NewServer(options))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		healthServer.Shutdown()
		timer := time.AfterFunc(*grace, server.Stop)
		server.GracefulStop()
		timer.Stop()
	}()
	logLine("INFO", fmt.Sprintf("serving gRPC on %s for %s", *listen, *socket))
	if err := server.Serve(listener); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		fatalf("%v", err)
	}
}

// logLine writes one line of the log as the python wrapper's workers write theirs: plain text, or
// under LOG_FORMAT=json one JSON object with the same fields (time, level, logger, pid, message).
func logLine(level, message string) {
	if !strings.EqualFold(os.Getenv("LOG_FORMAT"), "json") {
		fmt.Fprintf(os.Stderr, "grpc-front: %s\n", message)
		return
	}
	line, _ := json.Marshal(struct {
		Time    string `json:"time"`
		Level   string `json:"level"`
		Logger  string `json:"logger"`
		Pid     int    `json:"pid"`
		Message string `json:"message"`
	}{time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), level, "grpc-front", os.Getpid(), message})
	os.Stderr.Write(append(line, '\n'))
}

func fatalf(format string, args ...any) {
	logLine("ERROR", fmt.Sprintf(format, args...))
	os.Exit(1)
}
