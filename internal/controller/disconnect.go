package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of the reconcilers' settings.
const (
	DefaultDisconnectTimeout = 3 * time.Minute
	DefaultTaskRetention     = time.Hour
)

// StopReasonAgentDisconnected is the stoppedReason of the tasks of an
// instance whose agent stayed disconnected past the timeout.
const StopReasonAgentDisconnected = "Task stopped because the container instance's agent disconnected"

// TaskStopper stops tasks on the control plane's behalf.
type TaskStopper interface {
	// StopAway records a task of an instance whose agent is away as
	// STOPPED with the reason (releasing what it reserved), unless it is
	// STOPPED already or no longer on that instance; it reports whether
	// it stopped it.
	StopAway(ctx context.Context, t TaskInfo, reason string, now time.Time) (bool, error)
}

// DisconnectConfig configures the disconnect reconciler.
type DisconnectConfig struct {
	Source  Source
	Stopper TaskStopper
	// Timeout is how long an agent may stay away before its instance's
	// tasks are stopped (DefaultDisconnectTimeout if zero).
	Timeout time.Duration
	// Recorded: a new leadership term counts each away agent's timeout
	// from the disconnection the store recorded (InstanceInfo.
	// DisconnectedAt), not from the start of the term. Set it where
	// servers share a store: another server may have led, and served the
	// agents, while this one did not. A server alone on its store leaves
	// it unset: the agents were away because it was down, so each gets
	// the full timeout from its start.
	Recorded bool
	Logger   *slog.Logger
}

// Disconnect stops the tasks of an instance whose agent stayed away
// longer than the timeout (key: instance ARN). With DisconnectConfig.
// Recorded (several servers) an instance is away from the disconnection
// the store recorded, so a failover does not restart the count;
// otherwise from when this server saw it disconnected, or, for one
// already away, from the start of this server's term. It is
// leader-only: the decision is cluster-wide and must be taken once.
type Disconnect struct {
	cfg  DisconnectConfig
	loop loop

	mu        sync.Mutex
	awaySince map[string]time.Time // instance ARN → when it was seen away
}

var (
	_ Runnable               = (*Disconnect)(nil)
	_ LeaderElectionRunnable = (*Disconnect)(nil)
)

// NewDisconnect returns the disconnect reconciler and subscribes it to its
// source.
func NewDisconnect(cfg DisconnectConfig) *Disconnect {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultDisconnectTimeout
	}
	d := &Disconnect{cfg: cfg, awaySince: map[string]time.Time{}}
	d.loop = loop{name: "disconnect", workers: 2, rec: d.Reconcile, log: cfg.Logger}
	cfg.Source.Subscribe(Handlers{Instance: d.onInstance, Task: d.onTask})
	return d
}

// NeedLeaderElection is true: one server decides.
func (d *Disconnect) NeedLeaderElection() bool { return true }

func (d *Disconnect) onInstance(old, cur *InstanceInfo) {
	switch {
	case cur == nil:
		d.mu.Lock()
		delete(d.awaySince, old.ARN)
		d.mu.Unlock()
	case cur.Connected:
		d.mu.Lock()
		delete(d.awaySince, cur.ARN)
		d.mu.Unlock()
	case old == nil || old.Connected:
		now := time.Now()
		since := now
		if d.cfg.Recorded {
			since = awayFrom(cur.DisconnectedAt, now)
		}
		d.mu.Lock()
		d.awaySince[cur.ARN] = since
		d.mu.Unlock()
		d.loop.addAfter(cur.ARN, max(0, since.Add(d.cfg.Timeout).Sub(now)))
	}
}

// onTask queues the instance of a task placed while its agent is away.
func (d *Disconnect) onTask(old, cur *TaskInfo) {
	if cur != nil && cur.Instance != "" && !cur.Stopped() && (old == nil || old.Instance != cur.Instance) {
		d.loop.add(cur.Instance)
	}
}

// Run reconciles until ctx ends (the end of the leadership term).
func (d *Disconnect) Run(ctx context.Context) error {
	if err := d.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	d.loop.run(ctx, func(add func(string), _ func(string, time.Duration)) {
		now := time.Now()
		for _, inst := range d.cfg.Source.Instances() {
			if inst.Connected {
				continue
			}
			// Several servers: the count goes on from the recorded
			// disconnection. One server: it was down, so every away
			// agent gets the full timeout.
			since := now
			if d.cfg.Recorded {
				since = awayFrom(inst.DisconnectedAt, now)
			}
			d.mu.Lock()
			d.awaySince[inst.ARN] = since
			d.mu.Unlock()
			add(inst.ARN)
		}
	})
	return nil
}

// awayFrom is when an agent disconnected: the recorded time, unless it is
// unrecorded or later than now (another server's clock ahead of ours).
func awayFrom(recorded, now time.Time) time.Time {
	if recorded.IsZero() || recorded.After(now) {
		return now
	}
	return recorded
}

// disconnectDecision decides for one instance: how long to wait before
// looking again (0: not until it changes), or which tasks to stop now.
func disconnectDecision(inst InstanceInfo, found bool, tasks []TaskInfo, since time.Time, away bool, now time.Time, timeout time.Duration) (wait time.Duration, stop []TaskInfo) {
	if !found || inst.Connected || !away {
		return 0, nil
	}
	for _, t := range tasks {
		if !t.Stopped() && t.Instance == inst.ARN {
			stop = append(stop, t)
		}
	}
	if len(stop) == 0 {
		return 0, nil
	}
	if w := since.Add(timeout).Sub(now); w > 0 {
		return w, nil
	}
	return 0, stop
}

// Reconcile stops an away instance's tasks once its timeout has passed.
func (d *Disconnect) Reconcile(ctx context.Context, arn string) (time.Duration, error) {
	inst, found := d.cfg.Source.Instance(arn)
	d.mu.Lock()
	since, away := d.awaySince[arn]
	d.mu.Unlock()
	now := time.Now()
	wait, stop := disconnectDecision(inst, found, d.cfg.Source.InstanceTasks(arn), since, away, now, d.cfg.Timeout)
	if wait > 0 || len(stop) == 0 {
		return wait, nil
	}
	// The cache may lag behind the stops of a reconcile just done (the
	// instance queued again meanwhile): only the tasks this one stopped
	// are reported.
	stopped := 0
	defer func() {
		if stopped > 0 {
			d.cfg.Logger.Warn("agent disconnected too long: its tasks were stopped", "instance", arn, "tasks", stopped, "timeout", d.cfg.Timeout)
		}
	}()
	for _, t := range stop {
		// The agent may have come back meanwhile.
		if cur, ok := d.cfg.Source.Instance(arn); !ok || cur.Connected {
			return 0, nil
		}
		done, err := d.cfg.Stopper.StopAway(ctx, t, StopReasonAgentDisconnected, now)
		if err != nil {
			return 0, err
		}
		if done {
			stopped++
		}
	}
	return 0, nil
}
