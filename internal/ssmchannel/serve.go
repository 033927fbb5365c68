package ssmchannel

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// AgentVersion is what the agent's side says of itself in the handshake.
const AgentVersion = "3.3.0.0"

// Process is the command a session runs.
type Process interface {
	// Write sends the client's input to the command.
	io.Writer
	// Read returns the command's output; io.EOF when it has exited.
	io.Reader
	// Resize sets the terminal size (a no-op without a terminal).
	Resize(Size) error
	// Wait returns the command's exit code once its output has ended.
	Wait(ctx context.Context) (int, error)
	// Close ends the command (if still running) and releases it. It may
	// be called more than once, and while Read or Write run.
	Close() error
}

// StartFunc starts the command once the handshake is done.
type StartFunc func(ctx context.Context, tty bool, size Size) (Process, error)

// ServeConfig configures the agent's side of one data channel.
type ServeConfig struct {
	SessionID string
	Start     StartFunc
	// ResendAfter is how long an unacknowledged stream message waits
	// before it is sent again (0: one second); GiveUpAfter ends a session
	// whose client acknowledges nothing for that long (0: one minute).
	ResendAfter time.Duration
	GiveUpAfter time.Duration
	Logger      *slog.Logger
}

// ReadOpen reads the client's first message, which carries the token.
func ReadOpen(ctx context.Context, conn *websocket.Conn) (OpenDataChannel, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	typ, b, err := conn.Read(rctx)
	if err != nil {
		return OpenDataChannel{}, err
	}
	var open OpenDataChannel
	if typ != websocket.MessageText || json.Unmarshal(b, &open) != nil {
		return OpenDataChannel{}, fmt.Errorf("%w: the first message is not an OpenDataChannel request", ErrMalformed)
	}
	return open, nil
}

type pending struct {
	frame   []byte
	sentAt  time.Time
	firstAt time.Time
}

// channel is the state of one served data channel.
type channel struct {
	cfg  ServeConfig
	conn *websocket.Conn
	open OpenDataChannel
	log  *slog.Logger

	wmu     sync.Mutex // serialises writes and sequence numbers
	outSeq  int64
	mu      sync.Mutex
	unacked map[int64]*pending
	acked   chan struct{} // signalled on every acknowledgement

	handshook chan struct{}
	input     chan Message // in-order client stream messages after the handshake
}

// Serve runs the agent's side of a data channel whose OpenDataChannel
// request has been read and accepted: the handshake, then the command,
// relaying input, resizes and output with acknowledgements and resends,
// and at the end the exit code (to clients that ask) and channel_closed.
// It returns when the session is over; the caller closes conn.
func Serve(ctx context.Context, conn *websocket.Conn, open OpenDataChannel, cfg ServeConfig) error {
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = time.Second
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &channel{
		cfg: cfg, conn: conn, open: open, log: cfg.Logger,
		unacked: map[int64]*pending{}, acked: make(chan struct{}, 1),
		handshook: make(chan struct{}), input: make(chan Message, 64),
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(2)
	go func() { defer wg.Done(); cancel(c.readLoop(ctx)) }()
	go func() { defer wg.Done(); c.resendLoop(ctx, cancel) }()

	if err := c.handshake(ctx); err != nil {
		cancel(err)
		return err
	}
	err := c.run(ctx)
	cancel(err)
	return err
}

func (c *channel) handshake(ctx context.Context) error {
	params, _ := json.Marshal(SessionTypeRequest{SessionType: SessionInteractiveCommands, Properties: map[string]any{}})
	req, _ := json.Marshal(HandshakeRequest{AgentVersion: AgentVersion, RequestedClientActions: []RequestedClientAction{
		{ActionType: ActionSessionType, ActionParameters: params},
	}})
	start := time.Now()
	if err := c.sendStream(ctx, PayloadHandshakeRequest, req); err != nil {
		return err
	}
	select {
	case <-c.handshook:
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(30 * time.Second):
		return errors.New("ssmchannel: the client did not answer the handshake")
	}
	done, _ := json.Marshal(HandshakeComplete{HandshakeTimeToComplete: time.Since(start)})
	return c.sendStream(ctx, PayloadHandshakeComplete, done)
}

// run starts the command and relays until it exits or the client leaves.
func (c *channel) run(ctx context.Context) error {
	size := Size{Cols: 80, Rows: 24}
	proc, err := c.cfg.Start(ctx, c.open.TTY(), size)
	if err != nil {
		c.closeChannel(ctx, "Unable to start command: "+err.Error())
		return err
	}
	defer proc.Close()
	// A client that leaves ends the command (a Read blocked on it returns).
	stopWatch := context.AfterFunc(ctx, func() { _ = proc.Close() })
	defer stopWatch()
	var wg sync.WaitGroup
	defer wg.Wait()
	inCtx, stopIn := context.WithCancel(ctx)
	defer stopIn()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-inCtx.Done():
				return
			case m := <-c.input:
				c.apply(inCtx, proc, m)
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, rerr := proc.Read(buf)
		if n > 0 {
			if err := c.waitWindow(ctx); err != nil {
				return err
			}
			if err := c.sendStream(ctx, PayloadOutput, append([]byte(nil), buf[:n]...)); err != nil {
				return err
			}
		}
		if rerr != nil {
			break
		}
	}
	code, err := proc.Wait(ctx)
	if err != nil {
		c.closeChannel(ctx, "Unable to read the command's exit code: "+err.Error())
		return err
	}
	if c.open.BerthExitCode {
		if err := c.sendStream(ctx, PayloadExitCode, []byte(strconv.Itoa(code))); err != nil {
			return err
		}
	}
	// The plugin exits on channel_closed at once: let it take every output
	// message first.
	c.drain(ctx, 10*time.Second)
	c.closeChannel(ctx, "")
	return nil
}

// apply hands one client stream message to the command.
func (c *channel) apply(ctx context.Context, proc Process, m Message) {
	switch m.PayloadType {
	case PayloadOutput:
		if _, err := proc.Write(m.Payload); err != nil {
			c.log.Debug("ssmchannel: input not written", "error", err)
		}
	case PayloadSize:
		var s Size
		if json.Unmarshal(m.Payload, &s) == nil && s.Cols > 0 && s.Rows > 0 {
			if err := proc.Resize(s); err != nil {
				c.log.Debug("ssmchannel: resize failed", "error", err)
			}
		}
	case PayloadFlag:
		if len(m.Payload) >= 4 && binary.BigEndian.Uint32(m.Payload) == FlagTerminateSession {
			_ = proc.Close()
		}
	}
}

// waitWindow holds output back while too much of it is unacknowledged.
func (c *channel) waitWindow(ctx context.Context) error {
	for {
		c.mu.Lock()
		n := len(c.unacked)
		c.mu.Unlock()
		if n < 512 {
			return nil
		}
		select {
		case <-c.acked:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *channel) drain(ctx context.Context, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		n := len(c.unacked)
		c.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-c.acked:
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		}
	}
}

func (c *channel) write(ctx context.Context, frame []byte) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.conn.Write(wctx, websocket.MessageBinary, frame)
}

// sendStream sends an output_stream_data message under the next sequence
// number and keeps it until the client acknowledges it.
func (c *channel) sendStream(ctx context.Context, pt PayloadType, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	m := Message{Type: TypeOutput, Sequence: c.outSeq, ID: NewUUID(), PayloadType: pt, Payload: payload}
	frame := m.Marshal()
	now := time.Now()
	c.mu.Lock()
	c.unacked[m.Sequence] = &pending{frame: frame, sentAt: now, firstAt: now}
	c.mu.Unlock()
	c.outSeq++
	return c.write(ctx, frame)
}

func (c *channel) sendAck(ctx context.Context, m Message) error {
	p, _ := json.Marshal(Acknowledge{MessageType: m.Type, MessageID: m.ID.String(), SequenceNumber: m.Sequence, IsSequentialMessage: true})
	ack := Message{Type: TypeAcknowledge, Flags: 3, ID: NewUUID(), Payload: p}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(ctx, ack.Marshal())
}

func (c *channel) closeChannel(ctx context.Context, output string) {
	id := NewUUID()
	p, _ := json.Marshal(ChannelClosed{
		MessageID: id.String(), CreatedDate: time.Now().UTC().Format(time.RFC3339), SessionID: c.cfg.SessionID,
		MessageType: TypeChannelClosed, SchemaVersion: 1, Output: output,
	})
	m := Message{Type: TypeChannelClosed, ID: id, Payload: p}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.write(ctx, m.Marshal())
}

// readLoop reads the client's messages: acknowledgements release output,
// stream messages are acknowledged and handed on in sequence order.
func (c *channel) readLoop(ctx context.Context) error {
	expected := int64(0)
	early := map[int64]Message{}
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("ssmchannel: client gone: %w", err)
		}
		m, err := Unmarshal(b)
		if err != nil {
			c.log.Debug("ssmchannel: bad frame from client", "error", err)
			continue
		}
		switch m.Type {
		case TypeAcknowledge:
			var a Acknowledge
			if json.Unmarshal(m.Payload, &a) == nil {
				c.mu.Lock()
				delete(c.unacked, a.SequenceNumber)
				c.mu.Unlock()
				select {
				case c.acked <- struct{}{}:
				default:
				}
			}
		case TypeInput:
			if err := c.sendAck(ctx, m); err != nil {
				return err
			}
			if m.Sequence < expected {
				continue // a resend of what we have
			}
			if len(early) < 10000 {
				early[m.Sequence] = m
			}
			for {
				next, ok := early[expected]
				if !ok {
					break
				}
				delete(early, expected)
				expected++
				if err := c.deliver(ctx, next); err != nil {
					return err
				}
			}
		}
	}
}

func (c *channel) deliver(ctx context.Context, m Message) error {
	if m.PayloadType == PayloadHandshakeResponse {
		var r HandshakeResponse
		if json.Unmarshal(m.Payload, &r) == nil && len(r.Errors) > 0 {
			return fmt.Errorf("ssmchannel: the client refused the handshake: %v", r.Errors)
		}
		select {
		case <-c.handshook:
		default:
			close(c.handshook)
		}
		return nil
	}
	select {
	case c.input <- m:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// resendLoop sends again every stream message the client has not
// acknowledged in time, as the plugin expects of the agent's side.
func (c *channel) resendLoop(ctx context.Context, cancel context.CancelCauseFunc) {
	t := time.NewTicker(c.cfg.ResendAfter / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var due [][]byte
		c.mu.Lock()
		seqs := slices.Sorted(maps.Keys(c.unacked))
		for _, seq := range seqs {
			p := c.unacked[seq]
			if now.Sub(p.firstAt) > c.cfg.GiveUpAfter {
				c.mu.Unlock()
				cancel(errors.New("ssmchannel: the client acknowledges nothing"))
				return
			}
			if now.Sub(p.sentAt) >= c.cfg.ResendAfter {
				p.sentAt = now
				due = append(due, p.frame)
			}
		}
		c.mu.Unlock()
		for _, f := range due {
			c.wmu.Lock()
			err := c.write(ctx, f)
			c.wmu.Unlock()
			if err != nil {
				return
			}
		}
	}
}
