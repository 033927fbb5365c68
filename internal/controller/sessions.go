package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// HostAddressRecorder is an InstanceStore that also records the address
// an instance's agent connects from (ecscp.Plane is one): load balancers
// reach the instance's targets there.
type HostAddressRecorder interface {
	SetHostAddress(ctx context.Context, arn, addr string) error
}

// InstanceStore is what the session hooks read and write of clusters and
// instances (ecscp.Plane implements it).
type InstanceStore interface {
	// ActiveCluster returns an ACTIVE cluster, or a NotFound fault.
	ActiveCluster(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, error)
	// ContainerInstance returns a registered instance, or a NotFound
	// fault.
	ContainerInstance(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef) (*ecs.ContainerInstance, error)
	// SetAgentConnected records agentConnected unless skip (called inside
	// the compare-and-swap) says a newer session decided otherwise.
	SetAgentConnected(ctx context.Context, arn string, connected bool, skip func() bool) error
}

// HubSessions adapts the ACS hub to Sessions.
type HubSessions struct{ Hub *acs.Hub }

var _ Sessions = HubSessions{}

// Session implements Sessions.
func (h HubSessions) Session(arn string) Session {
	if s := h.Hub.Session(arn); s != nil {
		return acsSession{s}
	}
	return nil
}

// acsSession is comparable: equal for the same *acs.Session.
type acsSession struct{ s *acs.Session }

func (a acsSession) Send(ctx context.Context, tasks []Assignment) error {
	msg := make([]acs.Task, len(tasks))
	for i, t := range tasks {
		msg[i] = acs.NewTask(t.Task, t.Definition)
	}
	_, err := a.s.SendPayload(ctx, msg)
	return err
}

// SessionsConfig configures the session hooks.
type SessionsConfig struct {
	Hub       *acs.Hub
	Source    Source
	Instances InstanceStore
	Push      *Push
	// SoleServer says this server is the only one on its store: at start,
	// an instance the store says is connected has no session anywhere
	// (the server restarted), so it is marked disconnected and its
	// timeout starts. With several servers nobody can tell, and it is
	// left as it is.
	SoleServer bool
	// Registry, for servers sharing a store, records which server holds
	// which session and beats every LivenessInterval
	// (DefaultLivenessInterval if zero), for StaleSessions.
	Registry         *SessionRegistry
	LivenessInterval time.Duration
	Logger           *slog.Logger
}

// SessionHooks are the ACS server's session hooks (Connect, Ready,
// Disconnect): they validate a new session, record the instance's
// agentConnected and hand the session to Push. Run closes the local
// session of an instance that was deregistered (key: instance ARN). It
// runs on every server: sessions are per server.
type SessionHooks struct {
	cfg  SessionsConfig
	loop loop

	mu    sync.Mutex
	local map[string]int // instance ARN → live sessions of it on this server
}

var _ Runnable = (*SessionHooks)(nil)

// NewSessionHooks returns the hooks; wire Connect, Ready and Disconnect
// into the acs.Server and run it.
func NewSessionHooks(cfg SessionsConfig) *SessionHooks {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LivenessInterval <= 0 {
		cfg.LivenessInterval = DefaultLivenessInterval
	}
	h := &SessionHooks{cfg: cfg, local: map[string]int{}}
	h.loop = loop{name: "sessions", workers: 1, rec: h.reconcile, log: cfg.Logger}
	cfg.Source.Subscribe(Handlers{Instance: func(old, cur *InstanceInfo) {
		if cur == nil {
			h.loop.add(old.ARN)
		}
	}})
	return h
}

// Run marks stale connections (SoleServer) and closes the sessions of
// deregistered instances until ctx ends.
func (h *SessionHooks) Run(ctx context.Context) error {
	if err := h.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	if h.cfg.SoleServer {
		for _, inst := range h.cfg.Source.Instances() {
			if inst.Connected && h.cfg.Hub.Session(inst.ARN) == nil {
				h.setConnected(ctx, inst.ARN, false)
			}
		}
	}
	var wg sync.WaitGroup
	if h.cfg.Registry != nil {
		wg.Go(func() { h.heartbeat(ctx) })
	}
	h.loop.run(ctx, nil)
	wg.Wait()
	return nil
}

func (h *SessionHooks) reconcile(_ context.Context, arn string) (time.Duration, error) {
	s := h.cfg.Hub.Session(arn)
	if s == nil {
		return 0, nil
	}
	if _, ok := h.cfg.Source.Instance(arn); !ok {
		s.Close("container instance deregistered")
	}
	return 0, nil
}

// Connect validates a new session and marks its instance connected.
func (h *SessionHooks) Connect(ctx context.Context, s *acs.Session) error {
	ref, err := ecs.ParseInstanceRef(s.InstanceARN, "")
	p, ok := ecs.ParseARN(s.InstanceARN)
	if err != nil || !ok || ref.Cluster == "" {
		return &acs.RefusedError{Type: acs.TypeInvalidInstance, Message: "Invalid container instance ARN " + s.InstanceARN}
	}
	if s.Account != "" && s.Account != p.Account {
		return &acs.RefusedError{Type: acs.TypeAccessDenied, Message: "The container instance belongs to another account."}
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	if s.ClusterARN != sc.ClusterARN(ref.Cluster) && s.ClusterARN != ref.Cluster {
		return &acs.RefusedError{Type: acs.TypeInvalidCluster, Message: "The container instance is not in cluster " + s.ClusterARN}
	}
	if _, err := h.cfg.Instances.ActiveCluster(ctx, sc, ref.Cluster); err != nil {
		return &acs.RefusedError{Type: acs.TypeInvalidCluster, Message: "Cluster " + ref.Cluster + " is not ACTIVE."}
	}
	if _, err := h.cfg.Instances.ContainerInstance(ctx, sc, ref); err != nil {
		if fault.Is(err, fault.NotFound) {
			return &acs.RefusedError{Type: acs.TypeInactiveInstance, Message: "The container instance " + s.InstanceARN + " is not registered (deregistered or unknown); register again."}
		}
		return err
	}
	h.setConnected(ctx, s.InstanceARN, true)
	if rec, ok := h.cfg.Instances.(HostAddressRecorder); ok && s.RemoteIP != "" {
		if err := rec.SetHostAddress(ctx, s.InstanceARN, s.RemoteIP); err != nil && ctx.Err() == nil {
			h.cfg.Logger.Warn("cannot record the instance's host address", "instance", s.InstanceARN, "address", s.RemoteIP, "error", err)
		}
	}
	if h.cfg.Registry != nil {
		if err := h.cfg.Registry.Claim(ctx, s.InstanceARN); err != nil {
			h.cfg.Logger.Warn("cannot record which server holds the agent's session", "instance", s.InstanceARN, "error", err)
		}
	}
	return nil
}

// Ready is called once a session is the instance's live one: Push starts
// sending it its tasks.
func (h *SessionHooks) Ready(s *acs.Session) {
	h.mu.Lock()
	h.local[s.InstanceARN]++
	h.mu.Unlock()
	h.cfg.Push.SessionStarted(s.InstanceARN, acsSession{s})
}

// Disconnect forgets an ended session and marks its instance disconnected
// (unless a newer session replaced it).
func (h *SessionHooks) Disconnect(s *acs.Session) {
	h.cfg.Push.SessionEnded(acsSession{s})
	h.mu.Lock()
	if h.local[s.InstanceARN]--; h.local[s.InstanceARN] <= 0 {
		delete(h.local, s.InstanceARN)
	}
	h.mu.Unlock()
	if h.cfg.Hub.Session(s.InstanceARN) != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h.setConnected(ctx, s.InstanceARN, false)
	if h.cfg.Registry != nil {
		if err := h.cfg.Registry.Release(ctx, s.InstanceARN); err != nil {
			h.cfg.Logger.Warn("cannot release the agent's session record", "instance", s.InstanceARN, "error", err)
		}
	}
}

func (h *SessionHooks) setConnected(ctx context.Context, arn string, connected bool) {
	var skip func() bool
	if !connected {
		skip = func() bool { return h.cfg.Hub.Session(arn) != nil }
	}
	if err := h.cfg.Instances.SetAgentConnected(ctx, arn, connected, skip); err != nil && ctx.Err() == nil {
		h.cfg.Logger.Warn("cannot record agent connection", "instance", arn, "connected", connected, "error", err)
	}
}
