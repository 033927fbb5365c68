package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// Assignment is a task as an agent is sent it: the task and the
// definition it runs.
type Assignment struct {
	Task       *ecs.Task
	Definition *ecs.TaskDefinition
}

// Session is an agent's live session with this server (ACS).
type Session interface {
	// Send delivers assignments (an empty send is the greeting that
	// tells the agent it has been sent everything it has).
	Send(ctx context.Context, tasks []Assignment) error
}

// Sessions finds the live session of an instance on this server (nil
// when its agent is connected elsewhere or not at all). Sessions are
// compared with ==: the same live session must be returned as an equal
// value each time.
type Sessions interface {
	Session(instanceARN string) Session
}

// TaskLoader reads a task's full record and its definition.
type TaskLoader interface {
	// LoadTask returns the task (nil if it is gone) and its definition.
	LoadTask(ctx context.Context, t TaskInfo) (*ecs.Task, *ecs.TaskDefinition, error)
}

// PushConfig configures the push reconciler.
type PushConfig struct {
	Source   Source
	Sessions Sessions
	Loader   TaskLoader
	Logger   *slog.Logger
	// Workers is the number of instances pushed to at once (4 if zero).
	Workers int
	// Batch is the most tasks in one message (10 if zero).
	Batch int
	// RetryAfter is the pause after a failed send (1s if zero).
	RetryAfter time.Duration
}

// Push sends each agent connected to this server the tasks assigned to
// its instance that its current session has not been sent in their
// current desired status (key: instance ARN). A new session starts with
// nothing sent, so a reconnecting agent is sent everything again,
// including the tasks the control plane stopped while it was away
// (StopReasonAgentDisconnected): their containers may still run there.
//
// It runs on every server (not leader-only): an agent's websocket lives
// on the server it connected to, and only that server can write to it.
type Push struct {
	cfg  PushConfig
	loop loop

	mu    sync.Mutex
	state map[Session]*sessionState
}

type sessionState struct {
	sent    map[string]string // task key → desired status sent
	greeted bool
}

var _ Runnable = (*Push)(nil)

// NewPush returns the push reconciler and subscribes it to its source.
func NewPush(cfg PushConfig) *Push {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 10
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	p := &Push{cfg: cfg, state: map[Session]*sessionState{}}
	p.loop = loop{name: "push", workers: cfg.Workers, rec: p.Reconcile, log: cfg.Logger}
	cfg.Source.Subscribe(Handlers{Task: p.onTask})
	return p
}

func (p *Push) onTask(old, cur *TaskInfo) {
	if cur == nil {
		if old != nil {
			p.forget(old.Instance, old.Key)
		}
		return
	}
	if cur.Instance == "" {
		return
	}
	if old == nil || old.Desired != cur.Desired || old.Instance != cur.Instance {
		p.loop.add(cur.Instance)
	}
}

// Run reconciles until ctx ends.
func (p *Push) Run(ctx context.Context) error {
	if err := p.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	p.loop.run(ctx, func(add func(string), _ func(string, time.Duration)) {
		for _, inst := range p.cfg.Source.Instances() {
			if p.cfg.Sessions.Session(inst.ARN) != nil {
				add(inst.ARN)
			}
		}
	})
	return nil
}

// SessionStarted records a new session of an instance (nothing sent yet)
// and queues the instance.
func (p *Push) SessionStarted(instanceARN string, s Session) {
	p.mu.Lock()
	p.state[s] = &sessionState{sent: map[string]string{}}
	p.mu.Unlock()
	p.loop.add(instanceARN)
}

// forget drops a deleted task from what the session of its instance was
// sent: a session lives as long as its agent's connection (the managed
// capacity's, as long as the server), and would otherwise remember every
// task it was ever sent.
func (p *Push) forget(instanceARN, key string) {
	if instanceARN == "" {
		return
	}
	s := p.cfg.Sessions.Session(instanceARN)
	if s == nil {
		return
	}
	p.mu.Lock()
	if st := p.state[s]; st != nil {
		delete(st.sent, key)
	}
	p.mu.Unlock()
}

// SessionEnded forgets a session.
func (p *Push) SessionEnded(s Session) {
	p.mu.Lock()
	delete(p.state, s)
	p.mu.Unlock()
}

// wantsPush reports whether a task of the instance is one its agent
// must hear about: a task not yet STOPPED, or one the control plane
// stopped while the agent was away (the agent may still run it).
func wantsPush(t TaskInfo) bool {
	return !t.Stopped() || t.StoppedReason == StopReasonAgentDisconnected
}

// toSend returns the tasks of an instance a session must be sent: those
// it wants pushed whose desired status the session has not been sent.
func toSend(tasks []TaskInfo, sent map[string]string) []TaskInfo {
	var out []TaskInfo
	for _, t := range tasks {
		if wantsPush(t) && sent[t.Key] != t.Desired {
			out = append(out, t)
		}
	}
	return out
}

// Reconcile pushes what an instance's session lacks.
func (p *Push) Reconcile(ctx context.Context, arn string) (time.Duration, error) {
	s := p.cfg.Sessions.Session(arn)
	if s == nil {
		return 0, nil
	}
	tasks := p.cfg.Source.InstanceTasks(arn)
	p.mu.Lock()
	st := p.state[s]
	if st == nil {
		p.mu.Unlock()
		return 0, nil
	}
	pending := toSend(tasks, st.sent)
	greet := !st.greeted
	p.mu.Unlock()
	if len(pending) == 0 && !greet {
		return 0, nil
	}
	batch := make([]Assignment, 0, p.cfg.Batch)
	var keys, desired []string
	flush := func() error {
		if len(batch) == 0 && !greet {
			return nil
		}
		if err := s.Send(ctx, batch); err != nil {
			return err
		}
		greet = false
		p.mu.Lock()
		if st := p.state[s]; st != nil {
			st.greeted = true
			for i, k := range keys {
				st.sent[k] = desired[i]
			}
		}
		p.mu.Unlock()
		batch, keys, desired = batch[:0], keys[:0], desired[:0]
		return nil
	}
	for _, ti := range pending {
		t, td, err := p.cfg.Loader.LoadTask(ctx, ti)
		if err != nil {
			return 0, err
		}
		if t == nil || t.ContainerInstanceARN != arn || !wantsPush(infoOf(ti, t)) {
			continue
		}
		batch = append(batch, Assignment{Task: t, Definition: td})
		keys, desired = append(keys, ti.Key), append(desired, t.DesiredStatus)
		if len(batch) == p.cfg.Batch {
			if err := flush(); err != nil {
				p.cfg.Logger.Debug("push failed; retrying", "instance", arn, "error", err)
				return p.cfg.RetryAfter, nil
			}
		}
	}
	if err := flush(); err != nil {
		p.cfg.Logger.Debug("push failed; retrying", "instance", arn, "error", err)
		return p.cfg.RetryAfter, nil
	}
	return 0, nil
}

// infoOf refreshes a summary from the full record.
func infoOf(ti TaskInfo, t *ecs.Task) TaskInfo {
	ti.Instance, ti.Desired, ti.Last = t.ContainerInstanceARN, t.DesiredStatus, t.LastStatus
	ti.StoppedAt, ti.StoppedReason = t.StoppedAt, t.StoppedReason
	return ti
}
