package main

// The calling side: gRPC's wire format written and read with golang.org/x/net/http2's framer,
// one goroutine a connection keeping its calls in flight. grpc-go's client spent about 26 us of
// CPU a call, which capped the load near 37k calls/s on one core: a server faster than that
// measured as the load generator's speed.
// Here a call costs a header block written once per connection, two frames out, and the
// answer's frames read where they arrive.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
)

// receiveWindow is what this client lets the server send ahead on the connection and on each
// stream; the connection's is topped up as answers are read.
const receiveWindow = 1 << 30

// tally is what one connection's calls came to.
type tally struct {
	latencies []time.Duration // successful calls only
	codes     map[string]int
	firstErr  error
}

func (t *tally) fail(err error) {
	t.codes["connection error"]++
	if t.firstErr == nil {
		t.firstErr = err
	}
}

// call is one stream in flight.
type call struct {
	started time.Time
	status  string // the answer's :status
	code    string // grpc-status as a code name, set by the trailers
	message string // grpc-message
}

type connection struct {
	conn     net.Conn
	out      *bufio.Writer
	framer   *http2.Framer
	headers  []byte // the request's header block: literal fields only, so it can be sent again
	message  []byte // the request message with gRPC's 5-byte prefix
	maxFrame int
	sendRoom int64 // the server's connection-level flow-control window for our DATA
	nextID   uint32
	calls    map[uint32]*call
	unread   int // DATA bytes read since the last WINDOW_UPDATE we sent
	waiting  int // calls not started for want of sendRoom
}

func dial(target, method string, message []byte) (*connection, error) {
	conn, err := net.Dial("tcp", target)
	if err != nil {
		return nil, err
	}
	c := &connection{conn: conn, out: bufio.NewWriterSize(conn, 64<<10), maxFrame: 16384, sendRoom: 65535,
		nextID: 1, calls: map[uint32]*call{}}
	c.framer = http2.NewFramer(c.out, bufio.NewReaderSize(conn, 64<<10))
	c.framer.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.framer.MaxHeaderListSize = 1 << 20
	c.headers = headerBlock(target, method)
	c.message = make([]byte, 5+len(message))
	binary.BigEndian.PutUint32(c.message[1:5], uint32(len(message)))
	copy(c.message[5:], message)
	if _, err := c.out.WriteString(http2.ClientPreface); err != nil {
		return nil, err
	}
	settings := []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: receiveWindow}, {ID: http2.SettingEnablePush, Val: 0}}
	if err := c.framer.WriteSettings(settings...); err != nil {
		return nil, err
	}
	if err := c.framer.WriteWindowUpdate(0, receiveWindow-65535); err != nil {
		return nil, err
	}
	return c, c.out.Flush()
}

// headerBlock encodes the request's headers as never-indexed literals: the block leaves HPACK's
// dynamic table as it was, so every call sends the same bytes.
func headerBlock(target, method string) []byte {
	var block bytes.Buffer
	encoder := hpack.NewEncoder(&block)
	for _, field := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", method}, {":authority", target},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		_ = encoder.WriteField(hpack.HeaderField{Name: field[0], Value: field[1], Sensitive: true})
	}
	return block.Bytes()
}

// start begins one call, or counts it as waiting until the server's window has room for it.
func (c *connection) start() error {
	if int64(len(c.message)) > c.sendRoom {
		c.waiting++
		return nil
	}
	id := c.nextID
	c.nextID += 2
	c.calls[id] = &call{started: time.Now()}
	if err := c.framer.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.headers, EndHeaders: true}); err != nil {
		return err
	}
	c.sendRoom -= int64(len(c.message))
	for rest := c.message; ; {
		n := min(len(rest), c.maxFrame)
		if err := c.framer.WriteData(id, n == len(rest), rest[:n]); err != nil {
			return err
		}
		if rest = rest[n:]; len(rest) == 0 {
			return nil
		}
	}
}

// run keeps `inFlight` calls going until `until`, recording into t (when not nil) those that end
// before it; it returns once the calls in flight then have ended, leaving the connection to the next run.
func (c *connection) run(inFlight int, until time.Time, t *tally) {
	recording := t != nil
	if !recording {
		t = &tally{codes: map[string]int{}}
	}
	for range inFlight {
		if err := c.start(); err != nil {
			t.fail(err)
			return
		}
	}
	_ = c.conn.SetReadDeadline(until.Add(5 * time.Second)) // a server that stops answering ends the run
	for len(c.calls) > 0 || c.waiting > 0 {
		if err := c.out.Flush(); err != nil {
			t.fail(err)
			return
		}
		frame, err := c.framer.ReadFrame()
		if err != nil {
			t.fail(err)
			return
		}
		ended, err := c.handle(frame)
		if err != nil {
			t.fail(err)
			return
		}
		if ended == nil {
			continue
		}
		now := time.Now()
		if now.After(until) {
			c.waiting = 0 // no new calls: the run is over once those in flight end
			continue
		}
		if recording {
			t.codes[ended.code]++
			if ended.code == codes.OK.String() {
				t.latencies = append(t.latencies, now.Sub(ended.started))
			} else if t.firstErr == nil {
				t.firstErr = fmt.Errorf("%s: %s", ended.code, ended.message)
			}
		}
		if err := c.start(); err != nil {
			t.fail(err)
			return
		}
	}
}

// handle takes one frame from the server: the call it ended, if any.
func (c *connection) handle(frame http2.Frame) (*call, error) {
	switch f := frame.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil, nil
		}
		if size, ok := f.Value(http2.SettingMaxFrameSize); ok {
			c.maxFrame = int(size)
		}
		return nil, c.framer.WriteSettingsAck()
	case *http2.PingFrame:
		if f.IsAck() {
			return nil, nil
		}
		return nil, c.framer.WritePing(true, f.Data)
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendRoom += int64(f.Increment)
			for ; c.waiting > 0 && int64(len(c.message)) <= c.sendRoom; c.waiting-- {
				if err := c.start(); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	case *http2.GoAwayFrame:
		return nil, fmt.Errorf("the server sent GOAWAY (%v): %s", f.ErrCode, f.DebugData())
	case *http2.DataFrame:
		if c.unread += int(f.Length); c.unread > receiveWindow/2 {
			if err := c.framer.WriteWindowUpdate(0, uint32(c.unread)); err != nil {
				return nil, err
			}
			c.unread = 0
		}
		return c.ended(f.StreamID, f.StreamEnded(), "")
	case *http2.MetaHeadersFrame:
		current := c.calls[f.StreamID]
		if current == nil {
			return nil, nil
		}
		if status := f.PseudoValue("status"); status != "" {
			current.status = status
		}
		for _, field := range f.RegularFields() {
			switch field.Name {
			case "grpc-status":
				current.code = codeName(field.Value)
			case "grpc-message":
				current.message = field.Value
			}
		}
		return c.ended(f.StreamID, f.StreamEnded(), "")
	case *http2.RSTStreamFrame:
		return c.ended(f.StreamID, true, "RST_STREAM "+f.ErrCode.String())
	}
	return nil, nil
}

// ended takes a stream's call out of flight when the server has finished it.
func (c *connection) ended(id uint32, finished bool, reset string) (*call, error) {
	done := c.calls[id]
	if !finished || done == nil {
		return nil, nil
	}
	delete(c.calls, id)
	switch {
	case reset != "":
		done.code = reset
	case done.status != "200":
		done.code = "HTTP " + done.status
	case done.code == "":
		done.code = "no grpc-status"
	}
	return done, nil
}

func codeName(grpcStatus string) string {
	n, err := strconv.ParseUint(grpcStatus, 10, 32)
	if err != nil {
		return "grpc-status " + grpcStatus
	}
	return codes.Code(n).String()
}
