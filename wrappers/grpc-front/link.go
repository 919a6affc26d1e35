package main

// The link between the front and the wrapper's workers: long-lived connections to the workers'
// shared Unix socket, each carrying many calls at once as length-prefixed frames. Frames are
// written by one goroutine per connection, which writes whatever calls are waiting in one
// system call, and answers are matched to calls by id, in whatever order they come.
//
//	frame  = length u32 | id u32 | kind u8 | payload   (big-endian; length counts id, kind and payload)
//	'h' hello     worker -> front  pid u32: the first frame on a connection
//	'd' describe  front -> worker  (empty): answered with the descriptors of the served protos
//	'c' call      front -> worker  method_len u8 | method | n u8 | n x (name_len u8 | name | value_len u16 | value) | message
//	'r' answer    worker -> front  code u8 | the reply message, or an error message when code is not OK
//	'g' goodbye   worker -> front  (empty): the worker is stopping; no new call on this connection,
//	                               which the front closes once its calls are answered
//
// A worker answers the calls of one connection in order, one at a time; with several workers,
// each call goes to the worker with the fewest calls in progress. A message over largeMessage
// bytes is sent on a connection of its own, so that its transfer never queues the small calls
// of the others behind it.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	kindHello    = 'h'
	kindDescribe = 'd'
	kindCall     = 'c'
	kindAnswer   = 'r'
	kindGoodbye  = 'g'

	frameHead    = 9 // length, id, kind
	largeMessage = 256 << 10
	// Connections per worker the front opens at most while looking for workers it has no
	// connection to yet (they take connections from the shared socket as they come).
	connectionsPerWorker = 4
	helloTimeout         = 10 * time.Second
	streamWorkers        = 64
)

var errWorkerGone = errors.New("the model worker closed the connection")

type answer struct {
	code    codes.Code
	payload []byte
	err     error
}

type header struct{ name, value string }

// workerConn is one connection to one worker.
type workerConn struct {
	conn     net.Conn
	pid      uint32
	frames   chan []byte
	mu       sync.Mutex
	pending  map[uint32]chan answer
	inflight atomic.Int32
	draining atomic.Bool // the worker said goodbye
	closed   chan struct{}
	once     sync.Once
}

// link hands calls to the workers.
type link struct {
	socket   string
	workers  int
	maxBytes int
	nextID   atomic.Uint32
	mu       sync.Mutex
	conns    []*workerConn
	dialing  bool       // a background dial is under way
	dialMu   sync.Mutex // held by the caller dialing when there is no connection
}

func newLink(socket string, workers, maxBytes int) *link {
	return &link{socket: socket, workers: max(workers, 1), maxBytes: maxBytes}
}

// dial opens a connection and reads the worker's hello.
func (l *link) dial(ctx context.Context) (*workerConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", l.socket)
	if err != nil {
		return nil, err
	}
	reader := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	kind, _, payload, err := readFrame(reader, l.maxBytes)
	if err == nil && (kind != kindHello || len(payload) != 4) {
		err = fmt.Errorf("expected a hello frame, got %q", kind)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("the model worker did not greet: %w", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	w := &workerConn{
		conn: conn, pid: binary.BigEndian.Uint32(payload), frames: make(chan []byte, 1024),
		pending: map[uint32]chan answer{}, closed: make(chan struct{}),
	}
	go w.write()
	go w.read(reader, l.maxBytes, func() { l.forget(w) })
	return w, nil
}

// write sends the frames waiting on the connection, all that are waiting at once.
func (w *workerConn) write() {
	out := bufio.NewWriterSize(w.conn, 64<<10)
	for {
		select {
		case frame := <-w.frames:
			// Let the calls that arrived with this one queue theirs first: they then go in one
			// write, and the worker, woken once, answers them together.
			runtime.Gosched()
			_, err := out.Write(frame)
			for more := len(w.frames); more > 0 && err == nil; more-- {
				_, err = out.Write(<-w.frames)
			}
			if err == nil {
				err = out.Flush()
			}
			if err != nil {
				w.close(err)
				return
			}
		case <-w.closed:
			return
		}
	}
}

// read hands each answer to its call, until the connection ends.
func (w *workerConn) read(reader *bufio.Reader, maxBytes int, gone func()) {
	defer gone()
	for {
		kind, id, payload, err := readFrame(reader, maxBytes)
		if err != nil {
			w.close(err)
			return
		}
		switch kind {
		case kindAnswer:
			if len(payload) == 0 {
				w.close(errors.New("an empty answer"))
				return
			}
			w.mu.Lock()
			waiting := w.pending[id]
			delete(w.pending, id)
			w.mu.Unlock()
			if waiting != nil {
				waiting <- answer{code: codes.Code(payload[0]), payload: payload[1:]}
			}
			if w.inflight.Add(-1) == 0 && w.draining.Load() {
				w.close(errWorkerGone)
				return
			}
		case kindGoodbye:
			w.draining.Store(true)
			gone() // no new calls here
			if w.inflight.Load() == 0 {
				w.close(errWorkerGone)
				return
			}
		default:
			w.close(fmt.Errorf("unexpected frame %q", kind))
			return
		}
	}
}

// close ends the connection; calls still waiting on it fail.
func (w *workerConn) close(cause error) {
	w.once.Do(func() {
		close(w.closed)
		w.conn.Close()
		w.mu.Lock()
		defer w.mu.Unlock()
		for id, waiting := range w.pending {
			waiting <- answer{err: cause}
			delete(w.pending, id)
		}
	})
}

func (w *workerConn) isClosed() bool {
	select {
	case <-w.closed:
		return true
	default:
		return false
	}
}

// send queues one frame and returns the channel its answer comes on.
func (w *workerConn) send(id uint32, frame []byte) (chan answer, error) {
	waiting := make(chan answer, 1)
	w.mu.Lock()
	select {
	case <-w.closed:
		w.mu.Unlock()
		return nil, errWorkerGone
	default:
	}
	w.pending[id] = waiting
	w.inflight.Add(1)
	w.mu.Unlock()
	select {
	case w.frames <- frame:
		return waiting, nil
	case <-w.closed:
		return waiting, nil // close answered it
	}
}

func (l *link) forget(gone *workerConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.conns {
		if w == gone {
			l.conns = append(l.conns[:i], l.conns[i+1:]...)
			return
		}
	}
}

// pick chooses the connection of the least busy worker, opening one when there is none (one
// caller dials, the others wait for it), and another in the background while all are busy and
// some worker may have no connection yet.
func (l *link) pick(ctx context.Context) (*workerConn, error) {
	if w := l.pickOpen(); w != nil {
		return w, nil
	}
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	if w := l.pickOpen(); w != nil {
		return w, nil
	}
	w, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	l.add(w)
	return w, nil
}

func (l *link) pickOpen() *workerConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	best, load := l.leastBusy()
	if best != nil && load > 0 && l.mayLookForWorkers() {
		l.dialing = true
		go func() {
			w, err := l.dial(context.Background())
			if err == nil {
				l.add(w)
			}
			l.mu.Lock()
			l.dialing = false
			l.mu.Unlock()
		}()
	}
	return best
}

func (l *link) add(w *workerConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns = append(l.conns, w)
}

// leastBusy is the connection whose worker has the fewest calls in progress (ties: the
// connection's own), with that number. Called with l.mu held.
func (l *link) leastBusy() (*workerConn, int32) {
	open := l.conns[:0] // a connection that ended between its dial and add() is dropped here
	for _, w := range l.conns {
		if !w.isClosed() {
			open = append(open, w)
		}
	}
	l.conns = open
	perWorker := make(map[uint32]int32, len(l.conns))
	for _, w := range l.conns {
		perWorker[w.pid] += w.inflight.Load()
	}
	var best *workerConn
	var bestLoad, bestOwn int32
	for _, w := range l.conns {
		if w.draining.Load() {
			continue
		}
		load, own := perWorker[w.pid], w.inflight.Load()
		if best == nil || load < bestLoad || (load == bestLoad && own < bestOwn) {
			best, bestLoad, bestOwn = w, load, own
		}
	}
	return best, bestLoad
}

// mayLookForWorkers: fewer workers reached than there are, and room for another connection.
// Called with l.mu held.
func (l *link) mayLookForWorkers() bool {
	if l.dialing || len(l.conns) >= l.workers*connectionsPerWorker {
		return false
	}
	reached := map[uint32]bool{}
	for _, w := range l.conns {
		reached[w.pid] = true
	}
	return len(reached) < l.workers
}

// call relays one call and returns the worker's reply message.
func (l *link) call(ctx context.Context, method string, headers []header, message []byte) ([]byte, error) {
	frame, err := callFrame(method, headers, message)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	var w *workerConn
	if len(message) > largeMessage {
		w, err = l.dial(ctx) // its own connection, closed after the answer
		if w != nil {
			defer w.close(errWorkerGone)
		}
	} else {
		w, err = l.pick(ctx)
	}
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	id := l.nextID.Add(1)
	binary.BigEndian.PutUint32(frame[4:8], id)
	waiting, err := w.send(id, frame)
	if err != nil {
		return nil, unavailable(ctx, err)
	}
	select {
	case got := <-waiting:
		if got.err != nil {
			return nil, unavailable(ctx, got.err)
		}
		if got.code != codes.OK {
			return nil, status.Error(got.code, string(got.payload))
		}
		return got.payload, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// describe asks a worker for the descriptors of the protos it serves, retrying until one
// answers or wait has passed.
func (l *link) describe(wait time.Duration) ([]byte, error) {
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		descriptors, err := l.describeOnce(ctx)
		cancel()
		if err == nil {
			return descriptors, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the wrapper did not answer on its socket: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *link) describeOnce(ctx context.Context) ([]byte, error) {
	w, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer w.close(errWorkerGone)
	frame := make([]byte, frameHead)
	binary.BigEndian.PutUint32(frame, frameHead-4)
	frame[8] = kindDescribe
	waiting, err := w.send(0, frame)
	if err != nil {
		return nil, err
	}
	select {
	case got := <-waiting:
		if got.err != nil {
			return nil, got.err
		}
		if got.code != codes.OK {
			return nil, fmt.Errorf("descriptors: %s: %s", got.code, got.payload)
		}
		return got.payload, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callFrame lays out a call frame, its id left to fill in.
func callFrame(method string, headers []header, message []byte) ([]byte, error) {
	if len(method) > 255 || len(headers) > 255 {
		return nil, errors.New("method name or metadata too long for the worker link")
	}
	size := frameHead + 1 + len(method) + 1 + len(message)
	for _, h := range headers {
		if len(h.name) > 255 || len(h.value) > 65535 {
			return nil, fmt.Errorf("metadata %s too long for the worker link", h.name)
		}
		size += 1 + len(h.name) + 2 + len(h.value)
	}
	frame := make([]byte, frameHead, size)
	binary.BigEndian.PutUint32(frame, uint32(size-4))
	frame[8] = kindCall
	frame = append(frame, byte(len(method)))
	frame = append(frame, method...)
	frame = append(frame, byte(len(headers)))
	for _, h := range headers {
		frame = append(frame, byte(len(h.name)))
		frame = append(frame, h.name...)
		frame = binary.BigEndian.AppendUint16(frame, uint16(len(h.value)))
		frame = append(frame, h.value...)
	}
	return append(frame, message...), nil
}

// readFrame reads one frame: its kind, id and payload.
func readFrame(reader *bufio.Reader, maxBytes int) (byte, uint32, []byte, error) {
	var head [frameHead]byte
	if _, err := io.ReadFull(reader, head[:]); err != nil {
		return 0, 0, nil, err
	}
	length := int(binary.BigEndian.Uint32(head[:4]))
	// An answer carries at most a message of maxBytes, or an error message, after its code.
	if length < frameHead-4 || length > maxBytes+64<<10 {
		return 0, 0, nil, fmt.Errorf("a frame of %d bytes", length)
	}
	payload := make([]byte, length-(frameHead-4))
	if _, err := io.ReadFull(reader, payload); err != nil {
		return 0, 0, nil, err
	}
	return head[8], binary.BigEndian.Uint32(head[4:8]), payload, nil
}

func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Errorf(codes.Unavailable, "the model worker is not answering: %v", err)
}
