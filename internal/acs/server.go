package acs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Path is where the ACS websocket is served, relative to the endpoint that
// DiscoverPollEndpoint returns (agents append "ws").
const Path = "/ws"

// MaxMessageBytes bounds one websocket message either way.
const MaxMessageBytes = 16 << 20

// DefaultHeartbeat is how often each side says it is alive; a session
// that hears nothing for three heartbeats is closed.
const DefaultHeartbeat = 10 * time.Second

// RefusedError refuses a session with an ACS exception (for example
// InactiveInstanceException); the agent reads the type and message.
type RefusedError struct {
	Type    string
	Message string
}

func (e *RefusedError) Error() string { return e.Type + ": " + e.Message }

// Server accepts ACS sessions. Its hooks decide who may connect and what a
// connection means; the Hub finds the live session of an instance.
type Server struct {
	// Authenticate verifies the upgrade request's signature and returns
	// the caller's account.
	Authenticate func(r *http.Request) (account string, err error)
	// Connect is called for a new session before it is served; an error
	// (a *RefusedError for a precise exception) refuses it.
	Connect func(ctx context.Context, s *Session) error
	// Ready is called once an accepted session is the instance's live
	// session (optional).
	Ready func(s *Session)
	// Disconnect is called once a served session has ended.
	Disconnect func(s *Session)
	// OnAck is called for every acknowledged payload (optional).
	OnAck func(s *Session, messageID string)
	// Heartbeat is the heartbeat interval; 0 means DefaultHeartbeat.
	Heartbeat time.Duration
	Logger    *slog.Logger

	Hub Hub
}

// Session is one agent's live connection.
type Session struct {
	ClusterARN   string
	InstanceARN  string
	AgentVersion string
	AgentHash    string
	// DockerVersion is what the agent says of its runtime, as ECS agents
	// send it ("DockerVersion: 25.0.3").
	DockerVersion string
	Account       string
	ConnectedAt   time.Time
	// RemoteIP is the address the agent connected from (no port): berth's
	// idea of the instance's host address, where its bridge and host
	// network ports are reached (load balancer instance targets).
	RemoteIP string

	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	seq    atomic.Int64
	log    *slog.Logger
}

// Context is done when the session ends.
func (s *Session) Context() context.Context { return s.ctx }

// Close ends the session.
func (s *Session) Close(reason string) {
	s.cancel()
	_ = s.conn.Close(websocket.StatusNormalClosure, reason)
}

func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SendPayload sends tasks to the agent and returns the message ID the agent
// will acknowledge.
func (s *Session) SendPayload(ctx context.Context, tasks []Task) (string, error) {
	msg := PayloadMessage{
		MessageID: newMessageID(), ClusterARN: s.ClusterARN, ContainerInstanceARN: s.InstanceARN,
		Tasks: tasks, GeneratedAt: time.Now().UnixMilli(), SeqNum: int(s.seq.Add(1)),
	}
	return msg.MessageID, s.send(ctx, TypePayload, msg)
}

func (s *Session) send(ctx context.Context, typ string, msg any) error {
	b, err := Encode(typ, msg)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.conn.Write(wctx, websocket.MessageText, b)
}

// Hub indexes the live sessions by container instance ARN.
type Hub struct {
	mu       sync.Mutex
	sessions map[string]*Session
}

// Session returns the live session of an instance.
func (h *Hub) Session(instanceARN string) *Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[instanceARN]
}

// Len returns the number of live sessions.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// put makes s the instance's session and returns the one it replaces.
func (h *Hub) put(s *Session) *Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions == nil {
		h.sessions = map[string]*Session{}
	}
	old := h.sessions[s.InstanceARN]
	h.sessions[s.InstanceARN] = s
	return old
}

// remove drops s if it is still the instance's session.
func (h *Hub) remove(s *Session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.InstanceARN] != s {
		return false
	}
	delete(h.sessions, s.InstanceARN)
	return true
}

// Current reports whether s is its instance's live session.
func (h *Hub) Current(s *Session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[s.InstanceARN] == s
}

// CloseAll ends every session (server shutdown).
func (h *Hub) CloseAll() {
	h.mu.Lock()
	ss := make([]*Session, 0, len(h.sessions))
	for _, s := range h.sessions {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.Close("server shutting down")
	}
}

// acceptAgent is the websocket upgrade of every agent-facing endpoint
// (ACS, TCS, Service Connect): it authenticates the request (SigV4,
// through authenticate when set; 403 otherwise), checks that the query
// has the required parameters (400), and upgrades the connection with
// the package's read limit. ok is false when it refused or the upgrade
// failed (it answered or logged it).
func acceptAgent(w http.ResponseWriter, r *http.Request, authenticate func(*http.Request) (string, error), log *slog.Logger, required ...string) (conn *websocket.Conn, account string, ok bool) {
	if authenticate != nil {
		var err error
		if account, err = authenticate(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return nil, "", false
		}
	}
	q := r.URL.Query()
	for _, p := range required {
		if q.Get(p) == "" {
			http.Error(w, strings.Join(required, " and ")+" are required", http.StatusBadRequest)
			return nil, "", false
		}
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
	if err != nil {
		log.Warn("agent websocket upgrade failed", "error", err)
		return nil, "", false
	}
	conn.SetReadLimit(MaxMessageBytes)
	return conn, account, true
}

// ServeHTTP upgrades an agent's GET /ws request and serves its session.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := srv.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, account, ok := acceptAgent(w, r, srv.Authenticate, log.With("service", "acs"), "clusterArn", "containerInstanceArn")
	if !ok {
		return
	}
	q := r.URL.Query()
	cluster, instance := q.Get("clusterArn"), q.Get("containerInstanceArn")
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	s := &Session{
		ClusterARN: cluster, InstanceARN: instance, Account: account,
		AgentVersion: q.Get("agentVersion"), AgentHash: q.Get("agentHash"), DockerVersion: q.Get("dockerVersion"), ConnectedAt: time.Now(),
		RemoteIP: remoteIP(r.RemoteAddr),
		conn:     conn, ctx: ctx, cancel: cancel, log: log.With("instance", instance),
	}
	if seq, err := strconv.Atoi(q.Get("seqNum")); err == nil {
		s.seq.Store(int64(seq))
	}
	if srv.Connect != nil {
		if err := srv.Connect(ctx, s); err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				re = &RefusedError{Type: TypeBadRequest, Message: err.Error()}
			}
			s.log.Info("acs: session refused", "reason", re.Error())
			_ = s.send(ctx, re.Type, ErrorMessage{Message: re.Message})
			cancel()
			_ = conn.Close(websocket.StatusPolicyViolation, truncate(re.Type, 120))
			return
		}
	}
	if old := srv.Hub.put(s); old != nil {
		old.Close("replaced by a newer session")
	}
	s.log.Info("acs: agent connected", "agentVersion", s.AgentVersion)
	if srv.Ready != nil {
		srv.Ready(s)
	}
	srv.serve(s)
	srv.Hub.remove(s)
	cancel()
	_ = conn.Close(websocket.StatusNormalClosure, "")
	s.log.Info("acs: agent disconnected")
	if srv.Disconnect != nil {
		srv.Disconnect(s)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// serve reads the agent's messages and sends heartbeats until the
// connection ends or falls silent.
func (srv *Server) serve(s *Session) {
	hb := srv.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	var lastHeard atomic.Int64
	lastHeard.Store(time.Now().UnixNano())
	go func() {
		t := time.NewTicker(hb)
		defer t.Stop()
		for {
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			if time.Since(time.Unix(0, lastHeard.Load())) > 3*hb {
				s.log.Warn("acs: agent silent; closing its session", "after", 3*hb)
				s.Close("heartbeat timeout")
				return
			}
			if err := s.send(s.ctx, TypeHeartbeat, HeartbeatMessage{Healthy: true, MessageID: newMessageID()}); err != nil {
				s.Close("write failed")
				return
			}
		}
	}()
	for {
		_, b, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		lastHeard.Store(time.Now().UnixNano())
		env, err := Decode(b)
		if err != nil {
			s.log.Warn("acs: bad message from agent", "error", err)
			continue
		}
		switch env.Type {
		case TypeAck:
			var a AckRequest
			if json.Unmarshal(env.Message, &a) == nil && srv.OnAck != nil {
				srv.OnAck(s, a.MessageID)
			}
		case TypeHeartbeat:
			var h HeartbeatMessage
			_ = json.Unmarshal(env.Message, &h)
			if err := s.send(s.ctx, TypeHeartbeatAck, HeartbeatAckRequest{MessageID: h.MessageID}); err != nil {
				return
			}
		case TypeHeartbeatAck:
		default:
			s.log.Debug("acs: ignoring agent message", "type", env.Type)
		}
	}
}

// remoteIP is the host part of a request's RemoteAddr ("" when it has
// none, as on an in-memory connection).
func remoteIP(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return ""
	}
	return ap.Addr().Unmap().String()
}
