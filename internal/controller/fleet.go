package controller

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// ManagedInstance is a cluster's managed capacity instance.
type ManagedInstance struct {
	Scope       ecs.Scope
	Cluster     string
	InstanceARN string
}

// Fleet runs the in-process managed agents (Fargate capacity).
type Fleet interface {
	// Set makes the agent of a cluster (key: ClusterKey) run as m when
	// run is true, and stops it otherwise. ctx bounds the life of an
	// agent it starts.
	Set(ctx context.Context, clusterKey string, m ManagedInstance, run bool)
	// StopAll stops every agent and waits for them.
	StopAll()
}

// ManagedFleetConfig configures the managed fleet reconciler.
type ManagedFleetConfig struct {
	Source Source
	Fleet  Fleet
	Logger *slog.Logger
}

// ManagedFleet keeps a managed agent running for each ACTIVE cluster that
// has managed capacity, and none for any other (key: ClusterKey). It is
// leader-only: the managed agents run in the leader's process, and when
// leadership ends they stop with it (the next leader starts them, and
// they adopt their containers).
type ManagedFleet struct {
	cfg  ManagedFleetConfig
	loop loop
}

var (
	_ Runnable               = (*ManagedFleet)(nil)
	_ LeaderElectionRunnable = (*ManagedFleet)(nil)
)

// NewManagedFleet returns the managed fleet reconciler and subscribes it
// to its source.
func NewManagedFleet(cfg ManagedFleetConfig) *ManagedFleet {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &ManagedFleet{cfg: cfg}
	f.loop = loop{name: "managed", workers: 1, rec: f.Reconcile, log: cfg.Logger}
	cfg.Source.Subscribe(Handlers{
		Cluster: func(old, cur *ClusterInfo) {
			if cur != nil && (old == nil || old.Active != cur.Active) {
				f.loop.add(cur.Key())
			} else if cur == nil && old != nil {
				f.loop.add(old.Key())
			}
		},
		Instance: func(old, cur *InstanceInfo) {
			if i := either(old, cur); i != nil && i.Managed && (old == nil || cur == nil || old.ARN != cur.ARN) {
				f.loop.add(ClusterKey(i.Scope, i.Cluster))
			}
		},
	})
	return f
}

func either[T any](old, cur *T) *T {
	if cur != nil {
		return cur
	}
	return old
}

// NeedLeaderElection is true.
func (f *ManagedFleet) NeedLeaderElection() bool { return true }

// Run reconciles until ctx ends, then stops every managed agent.
func (f *ManagedFleet) Run(ctx context.Context) error {
	defer f.cfg.Fleet.StopAll()
	if err := f.cfg.Source.WaitSynced(ctx); err != nil {
		return nil
	}
	f.loop.run(ctx, func(add func(string), _ func(string, time.Duration)) {
		for _, c := range f.cfg.Source.Clusters() {
			add(c.Key())
		}
	})
	return nil
}

// fleetDecision says whether a cluster's managed agent should run.
func fleetDecision(c ClusterInfo, clusterFound bool, inst InstanceInfo, instFound bool) (ManagedInstance, bool) {
	if !instFound {
		return ManagedInstance{}, false
	}
	m := ManagedInstance{Scope: inst.Scope, Cluster: inst.Cluster, InstanceARN: inst.ARN}
	return m, clusterFound && c.Active
}

// Reconcile starts or stops a cluster's managed agent.
func (f *ManagedFleet) Reconcile(ctx context.Context, key string) (time.Duration, error) {
	c, cok := f.cfg.Source.Cluster(key)
	inst, iok := f.cfg.Source.ManagedInstance(key)
	m, run := fleetDecision(c, cok, inst, iok)
	f.cfg.Fleet.Set(ctx, key, m, run)
	return 0, nil
}
