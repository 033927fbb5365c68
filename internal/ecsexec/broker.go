package ecsexec

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/ssmchannel"
)

// DataChannelPath is where clients open a session's data channel (the
// session ID follows), as on ssmmessages.
const DataChannelPath = "/v1/data-channel/"

// Defaults of a Broker.
const (
	DefaultTokenTTL   = 10 * time.Minute // an unused session's token expires
	DefaultAgentWait  = 20 * time.Second // for the agent to connect back
	maxPendingPerHost = 1024
)

var _ ecscp.ExecSessions = (*Broker)(nil)

// Agents finds the live ACS session of an instance (acs.Hub).
type Agents interface {
	Session(instanceARN string) *acs.Session
}

// Broker opens and serves ECS Exec sessions. Set its fields before the
// server serves; the zero durations take the defaults.
type Broker struct {
	Agents Agents
	// Authenticate verifies an agent's signed connection and returns its
	// account.
	Authenticate func(r *http.Request) (string, error)
	TokenTTL     time.Duration
	AgentWait    time.Duration
	Logger       *slog.Logger
	// Now is the clock of token expiry (nil: time.Now).
	Now func() time.Time

	mu       sync.Mutex
	sessions map[string]*session
}

// session is one opened exec session.
type session struct {
	id, token, agentToken string
	target                ecscp.ExecTarget
	expires               time.Time
	used                  bool
	agent                 chan *websocket.Conn // the agent's connection, handed to the data channel
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (b *Broker) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

func (b *Broker) log() *slog.Logger {
	if b.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Logger
}

// OpenExec registers a session and returns its stream URL and token.
func (b *Broker) OpenExec(ctx context.Context, t ecscp.ExecTarget) (ecscp.ExecSession, error) {
	ttl := b.TokenTTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	now := b.now()
	s := &session{
		id:    "ecs-execute-command-" + randomToken(12),
		token: randomToken(32), agentToken: randomToken(32),
		target: t, expires: now.Add(ttl), agent: make(chan *websocket.Conn, 1),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sessions == nil {
		b.sessions = map[string]*session{}
	}
	for id, old := range b.sessions {
		if !old.used && now.After(old.expires) {
			delete(b.sessions, id)
		}
	}
	if len(b.sessions) >= maxPendingPerHost {
		return ecscp.ExecSession{}, fault.New(fault.LimitExceeded, "Too many ECS Exec sessions are open; try again later.")
	}
	b.sessions[s.id] = s
	return ecscp.ExecSession{
		ID: s.id, Token: s.token,
		StreamURL: t.StreamBase + DataChannelPath + s.id + "?role=publish_subscribe",
	}, nil
}

// forget drops a session whose channel ended, with an agent connection
// that came too late.
func (b *Broker) forget(id string) {
	var late *websocket.Conn
	b.mu.Lock()
	if s := b.sessions[id]; s != nil {
		select {
		case late = <-s.agent:
		default:
		}
	}
	delete(b.sessions, id)
	b.mu.Unlock()
	if late != nil {
		_ = late.Close(websocket.StatusGoingAway, "the session has ended")
	}
}

// ServeDataChannel serves GET /v1/data-channel/{id}: the client's side.
func (b *Broker) ServeDataChannel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	ctx := r.Context()
	open, err := ssmchannel.ReadOpen(ctx, conn)
	if err != nil {
		_ = conn.Close(websocket.StatusPolicyViolation, "expected an OpenDataChannel request")
		return
	}
	if !b.claim(s, open.TokenValue) {
		_ = conn.Close(websocket.StatusPolicyViolation, "invalid or used token")
		return
	}
	defer b.forget(id)
	log := b.log().With("session", id, "task", s.target.TaskARN, "container", s.target.ContainerName)
	log.Info("exec session started")
	err = ssmchannel.Serve(ctx, conn, open, ssmchannel.ServeConfig{
		SessionID: id, Logger: log,
		Start: func(ctx context.Context, tty bool, size ssmchannel.Size) (ssmchannel.Process, error) {
			return b.start(ctx, s, tty, size)
		},
	})
	if err != nil {
		log.Info("exec session ended", "error", err)
		return
	}
	log.Info("exec session ended")
	_ = conn.Close(websocket.StatusNormalClosure, "")
}

// claim checks the token in constant time and uses it up.
func (b *Broker) claim(s *session, token string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.used || b.now().After(s.expires) || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
		return false
	}
	s.used = true
	return true
}

// start asks the task's agent to run the command and waits for it to
// connect back.
func (b *Broker) start(ctx context.Context, s *session, tty bool, size ssmchannel.Size) (ssmchannel.Process, error) {
	if b.Agents == nil {
		return nil, errors.New("no agent sessions on this server")
	}
	as := b.Agents.Session(s.target.InstanceARN)
	if as == nil {
		return nil, fmt.Errorf("the agent of container instance %s is not connected to this server", s.target.InstanceARN)
	}
	req := acs.ExecRequest{
		SessionID: s.id, AgentToken: s.agentToken, TaskARN: s.target.TaskARN, ContainerName: s.target.ContainerName,
		Command: s.target.Command, TTY: tty, Cols: uint(size.Cols), Rows: uint(size.Rows),
	}
	if err := as.SendExec(ctx, req); err != nil {
		return nil, fmt.Errorf("asking the agent to run the command: %w", err)
	}
	wait := b.AgentWait
	if wait <= 0 {
		wait = DefaultAgentWait
	}
	select {
	case conn := <-s.agent:
		return newLinkProcess(conn), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
		return nil, fmt.Errorf("the agent did not start the command within %s (is it berth's agent?)", wait)
	}
}

// ServeAgent serves GET /_berth/exec/agent/{id}: the agent's side.
func (b *Broker) ServeAgent(w http.ResponseWriter, r *http.Request) {
	if b.Authenticate == nil {
		http.Error(w, "not served", http.StatusNotFound)
		return
	}
	if _, err := b.Authenticate(r); err != nil {
		http.Error(w, "signature not valid", http.StatusForbidden)
		return
	}
	id := r.PathValue("id")
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s == nil || subtle.ConstantTimeCompare([]byte(r.Header.Get(acs.ExecTokenHeader)), []byte(s.agentToken)) != 1 {
		http.Error(w, "no such exec", http.StatusNotFound)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	b.mu.Lock()
	handed := false
	if b.sessions[id] == s {
		select {
		case s.agent <- conn:
			handed = true // the data channel owns the connection now
		default:
		}
	}
	b.mu.Unlock()
	if !handed {
		_ = conn.Close(websocket.StatusGoingAway, "the session has ended or has an agent already")
	}
}

// linkProcess is the command as the agent relays it.
type linkProcess struct {
	conn    *websocket.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	pending []byte
	code    int
	err     error
	done    bool
}

func newLinkProcess(conn *websocket.Conn) *linkProcess {
	ctx, cancel := context.WithCancel(context.Background())
	return &linkProcess{conn: conn, ctx: ctx, cancel: cancel, code: -1}
}

// Read returns output until the agent's exit (or error) frame.
func (p *linkProcess) Read(buf []byte) (int, error) {
	for len(p.pending) == 0 {
		if p.done {
			return 0, io.EOF
		}
		_, b, err := p.conn.Read(p.ctx)
		if err != nil {
			p.done, p.err = true, fmt.Errorf("the agent's connection ended: %w", err)
			return 0, io.EOF
		}
		kind, payload, err := acs.ParseLinkFrame(b)
		if err != nil {
			continue
		}
		switch kind {
		case acs.LinkOutput:
			p.pending = payload
		case acs.LinkExit:
			p.done = true
			p.code, p.err = strconv.Atoi(string(payload))
		case acs.LinkError:
			p.done, p.err = true, errors.New(string(payload))
		}
	}
	n := copy(buf, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *linkProcess) Write(b []byte) (int, error) {
	if err := p.conn.Write(p.ctx, websocket.MessageBinary, acs.LinkFrame(acs.LinkInput, b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *linkProcess) Resize(s ssmchannel.Size) error {
	return p.conn.Write(p.ctx, websocket.MessageBinary, acs.ResizeFrame(uint(s.Cols), uint(s.Rows)))
}

func (p *linkProcess) Wait(ctx context.Context) (int, error) { return p.code, p.err }

func (p *linkProcess) Close() error {
	p.cancel()
	return p.conn.Close(websocket.StatusNormalClosure, "")
}
