package ssmchannel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ClientConfig configures Run, a client of one data channel.
type ClientConfig struct {
	URL, Token string
	// TTY asks for a terminal; without one the command's output is its
	// stdout and stderr as they come.
	TTY bool
	// Stdin is sent to the command (nil: nothing); Stdout receives its
	// output.
	Stdin  io.Reader
	Stdout io.Writer
	// Sizes carries terminal sizes to send (nil: none).
	Sizes <-chan Size
	// Header is added to the websocket upgrade request.
	Header http.Header
}

// ExitError is a session that ended without an exit code.
type ExitError struct{ Output string }

func (e *ExitError) Error() string {
	if e.Output == "" {
		return "the session ended without an exit code"
	}
	return "the session ended: " + e.Output
}

// Run opens the data channel, runs the session to its end and returns the
// command's exit code.
func Run(ctx context.Context, cfg ClientConfig) (int, error) {
	dctx, cancelDial := context.WithTimeout(ctx, 30*time.Second)
	conn, _, err := websocket.Dial(dctx, cfg.URL, &websocket.DialOptions{HTTPHeader: cfg.Header})
	cancelDial()
	if err != nil {
		return -1, fmt.Errorf("open data channel: %w", err)
	}
	conn.SetReadLimit(maxPayload + offPayload)
	defer conn.CloseNow()
	tty := cfg.TTY
	open, _ := json.Marshal(OpenDataChannel{
		MessageSchemaVersion: "1.0", RequestID: NewUUID().String(), TokenValue: cfg.Token,
		ClientID: NewUUID().String(), ClientVersion: "berth", BerthTTY: &tty, BerthExitCode: true,
	})
	if err := conn.Write(ctx, websocket.MessageText, open); err != nil {
		return -1, err
	}
	cl := &client{conn: conn}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	expected := int64(0)
	early := map[int64]Message{}
	code := -1
	gotCode := false
	started := false
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return -1, fmt.Errorf("data channel: %w", err)
		}
		m, err := Unmarshal(b)
		if err != nil {
			return -1, err
		}
		switch m.Type {
		case TypeChannelClosed:
			var cc ChannelClosed
			_ = json.Unmarshal(m.Payload, &cc)
			_ = conn.Close(websocket.StatusNormalClosure, "")
			if !gotCode {
				return -1, &ExitError{Output: cc.Output}
			}
			return code, nil
		case TypeOutput:
		default:
			continue
		}
		if err := cl.ack(ctx, m); err != nil {
			return -1, err
		}
		if m.Sequence < expected {
			continue
		}
		early[m.Sequence] = m
		for {
			next, ok := early[expected]
			if !ok {
				break
			}
			delete(early, expected)
			expected++
			switch next.PayloadType {
			case PayloadHandshakeRequest:
				resp, _ := json.Marshal(HandshakeResponse{ClientVersion: "berth", ProcessedClientActions: []ProcessedClientAction{
					{ActionType: ActionSessionType, ActionStatus: ActionSuccess},
				}, Errors: []string{}})
				if err := cl.send(ctx, PayloadHandshakeResponse, resp); err != nil {
					return -1, err
				}
			case PayloadHandshakeComplete:
				if !started {
					started = true
					// The input pump ends with ctx, except for a Stdin.Read
					// that blocks: the caller owns Stdin and closes it.
					go cl.pumpInput(ctx, cfg)
				}
			case PayloadOutput, PayloadStdErr:
				if cfg.Stdout != nil {
					if _, err := cfg.Stdout.Write(next.Payload); err != nil {
						return -1, err
					}
				}
			case PayloadExitCode:
				n, err := strconv.Atoi(strings.TrimSpace(string(next.Payload)))
				if err == nil {
					code, gotCode = n, true
				}
			}
		}
	}
}

type client struct {
	conn *websocket.Conn
	mu   sync.Mutex
	seq  int64
}

func (c *client) send(ctx context.Context, pt PayloadType, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := Message{Type: TypeInput, Sequence: c.seq, ID: NewUUID(), PayloadType: pt, Payload: payload}
	c.seq++
	return c.conn.Write(ctx, websocket.MessageBinary, m.Marshal())
}

func (c *client) ack(ctx context.Context, m Message) error {
	p, _ := json.Marshal(Acknowledge{MessageType: m.Type, MessageID: m.ID.String(), SequenceNumber: m.Sequence, IsSequentialMessage: true})
	a := Message{Type: TypeAcknowledge, Flags: 3, ID: NewUUID(), Payload: p}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.Write(ctx, websocket.MessageBinary, a.Marshal())
}

// pumpInput sends stdin and terminal sizes until ctx ends. The websocket
// is reliable while it lasts, so input is not resent.
func (c *client) pumpInput(ctx context.Context, cfg ClientConfig) {
	if cfg.Sizes != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case s, ok := <-cfg.Sizes:
					if !ok {
						return
					}
					b, _ := json.Marshal(s)
					if c.send(ctx, PayloadSize, b) != nil {
						return
					}
				}
			}
		}()
	}
	if cfg.Stdin == nil {
		return
	}
	buf := make([]byte, 1024)
	for {
		n, err := cfg.Stdin.Read(buf)
		if n > 0 {
			if c.send(ctx, PayloadOutput, append([]byte(nil), buf[:n]...)) != nil {
				return
			}
		}
		if err != nil || ctx.Err() != nil {
			return
		}
	}
}
