package controller

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/store"
)

// Keys of the session registry, outside /ecs/ (docs/state-store.md):
//
//	/meta/servers/<identity>        a server's heartbeat, rewritten every interval
//	/meta/sessions/<instance ARN>   the identity of the server holding the
//	                                instance's ACS session
const (
	serversPrefix  = "/meta/servers/"
	sessionsPrefix = "/meta/sessions/"
)

// DefaultLivenessInterval is how often servers sharing a store beat and
// the leader looks for the stale sessions of dead servers.
const DefaultLivenessInterval = 10 * time.Second

// SessionRegistry records in the shared store which server holds which
// agent's ACS session, and each server's heartbeat, so that the leader can
// tell a stale agentConnected left by a dead server from a session another
// server holds. Only servers that share a store need it.
type SessionRegistry struct {
	Store    store.Store
	Identity string
}

func (r *SessionRegistry) serverKey() string { return serversPrefix + url.PathEscape(r.Identity) }

func sessionKey(arn string) string { return sessionsPrefix + url.PathEscape(arn) }

// Beat rewrites this server's heartbeat.
func (r *SessionRegistry) Beat(ctx context.Context) error {
	_, err := r.Store.Txn(ctx, nil, []store.Op{{Key: r.serverKey(), Value: []byte(r.Identity)}})
	return err
}

// Leave deletes this server's heartbeat (a clean shutdown).
func (r *SessionRegistry) Leave(ctx context.Context) error {
	_, err := r.Store.Txn(ctx, nil, []store.Op{{Key: r.serverKey(), Delete: true}})
	return err
}

// Claim records that this server holds the instance's session.
func (r *SessionRegistry) Claim(ctx context.Context, arn string) error {
	_, err := r.Store.Txn(ctx, nil, []store.Op{{Key: sessionKey(arn), Value: []byte(r.Identity)}})
	return err
}

// Release deletes the instance's session record if this server holds it.
func (r *SessionRegistry) Release(ctx context.Context, arn string) error {
	kv, err := r.Store.Get(ctx, sessionKey(arn))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || string(kv.Value) != r.Identity {
		return err
	}
	return r.Drop(ctx, arn, kv.ModRevision)
}

// Drop deletes an instance's session record if it is still at rev.
func (r *SessionRegistry) Drop(ctx context.Context, arn string, rev int64) error {
	_, err := r.Store.Txn(ctx, []store.Compare{{Key: sessionKey(arn), ModRevision: rev}}, []store.Op{{Key: sessionKey(arn), Delete: true}})
	if errors.Is(err, store.ErrConflict) {
		return nil // claimed again meanwhile
	}
	return err
}

// Holder is the server a session record names, at its revision.
type Holder struct {
	Server string
	Rev    int64
}

// Read returns every server's heartbeat revision and every session's
// holder.
func (r *SessionRegistry) Read(ctx context.Context) (servers map[string]int64, holders map[string]Holder, err error) {
	kvs, _, err := r.Store.List(ctx, serversPrefix, store.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	servers = make(map[string]int64, len(kvs))
	for _, kv := range kvs {
		servers[string(kv.Value)] = kv.ModRevision
	}
	if kvs, _, err = r.Store.List(ctx, sessionsPrefix, store.ListOptions{}); err != nil {
		return nil, nil, err
	}
	holders = make(map[string]Holder, len(kvs))
	for _, kv := range kvs {
		arn, err := url.PathUnescape(strings.TrimPrefix(kv.Key, sessionsPrefix))
		if err != nil {
			continue
		}
		holders[arn] = Holder{Server: string(kv.Value), Rev: kv.ModRevision}
	}
	return servers, holders, nil
}

// StaleSessionsConfig configures the stale session sweep.
type StaleSessionsConfig struct {
	Source    Source
	Registry  *SessionRegistry
	Instances InstanceStore
	// Interval between sweeps (DefaultLivenessInterval if zero); a
	// server whose heartbeat has not moved for three intervals is dead.
	Interval time.Duration
	Logger   *slog.Logger
}

// StaleSessions marks disconnected the instances that the store says are
// connected but whose session no live server holds (its server died, or
// none claimed it), once that has lasted three intervals; the disconnect
// timeout then runs as for any agent that left. It is leader-only and
// runs only where servers share a store.
type StaleSessions struct {
	cfg StaleSessionsConfig

	// Leader-only state, reset each term (the sweep runs on one
	// goroutine).
	lastRev     map[string]int64     // server → heartbeat revision last seen
	lastMove    map[string]time.Time // server → when its heartbeat last moved
	orphanSince map[string]time.Time // instance ARN → when first seen without a live holder
}

var (
	_ Runnable               = (*StaleSessions)(nil)
	_ LeaderElectionRunnable = (*StaleSessions)(nil)
)

// NewStaleSessions returns the sweep.
func NewStaleSessions(cfg StaleSessionsConfig) *StaleSessions {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultLivenessInterval
	}
	return &StaleSessions{cfg: cfg}
}

// NeedLeaderElection is true.
func (s *StaleSessions) NeedLeaderElection() bool { return true }

// Run sweeps every interval until ctx ends.
func (s *StaleSessions) Run(ctx context.Context) error {
	s.lastRev, s.lastMove, s.orphanSince = map[string]int64{}, map[string]time.Time{}, map[string]time.Time{}
	if err := s.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("cannot check agent sessions; retrying", "error", err, "in", s.cfg.Interval)
		}
	}
}

// Sweep checks every connected instance once.
func (s *StaleSessions) Sweep(ctx context.Context) error {
	servers, holders, err := s.cfg.Registry.Read(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	grace := 3 * s.cfg.Interval
	alive := map[string]bool{}
	for id, rev := range servers {
		if last, seen := s.lastRev[id]; !seen || last != rev {
			s.lastRev[id], s.lastMove[id] = rev, now
		}
		alive[id] = now.Sub(s.lastMove[id]) < grace // present: false means dead
	}
	for id := range s.lastRev {
		if _, ok := servers[id]; !ok {
			delete(s.lastRev, id)
			delete(s.lastMove, id)
		}
	}
	for _, arn := range staleDecision(s.cfg.Source.Instances(), holders, alive, s.orphanSince, now, grace) {
		if err := s.cfg.Instances.SetAgentConnected(ctx, arn, false, nil); err != nil {
			return err
		}
		if h, ok := holders[arn]; ok {
			if err := s.cfg.Registry.Drop(ctx, arn, h.Rev); err != nil {
				return err
			}
		}
		delete(s.orphanSince, arn)
		s.cfg.Logger.Warn("agent session lost with its server: instance marked disconnected", "instance", arn, "server", holders[arn].Server)
	}
	return nil
}

// staleDecision returns the connected instances whose session is held by
// a server known dead (alive false: its heartbeat stopped for grace), and
// those no known server has held for grace (unclaimed, or a server whose
// heartbeat is gone); orphanSince remembers when each of the latter was
// first seen so (and forgets those held again).
func staleDecision(instances []InstanceInfo, holders map[string]Holder, alive map[string]bool, orphanSince map[string]time.Time, now time.Time, grace time.Duration) []string {
	var stale []string
	seen := map[string]bool{}
	for _, in := range instances {
		if !in.Connected {
			continue
		}
		h, held := holders[in.ARN]
		live, known := alive[h.Server]
		switch {
		case held && known && live:
			continue
		case held && known && !live:
			stale = append(stale, in.ARN)
			continue
		}
		seen[in.ARN] = true
		since, ok := orphanSince[in.ARN]
		if !ok {
			orphanSince[in.ARN] = now
			continue
		}
		if now.Sub(since) >= grace {
			stale = append(stale, in.ARN)
		}
	}
	for arn := range orphanSince {
		if !seen[arn] {
			delete(orphanSince, arn)
		}
	}
	return stale
}

// heartbeat beats every interval and keeps this server's sessions claimed
// and their instances connected (a sweep that raced a reconnect is
// undone), until ctx ends; then it leaves.
func (h *SessionHooks) heartbeat(ctx context.Context) {
	r := h.cfg.Registry
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = r.Leave(lctx)
	}()
	t := time.NewTicker(h.cfg.LivenessInterval)
	defer t.Stop()
	for {
		if err := r.Beat(ctx); err != nil && ctx.Err() == nil {
			h.cfg.Logger.Warn("cannot record this server's heartbeat", "error", err)
		}
		if _, holders, err := r.Read(ctx); err == nil {
			for _, arn := range h.localSessions() {
				if holders[arn].Server != r.Identity {
					_ = r.Claim(ctx, arn)
				}
				if in, ok := h.cfg.Source.Instance(arn); ok && !in.Connected {
					h.setConnected(ctx, arn, true)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// localSessions returns the instances whose sessions this server holds.
func (h *SessionHooks) localSessions() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.local))
	for arn := range h.local {
		out = append(out, arn)
	}
	return out
}
