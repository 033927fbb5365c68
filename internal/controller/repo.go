package controller

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// RepoBackend implements the controllers' write interfaces TaskDeleter,
// TokenStore and InstanceStore over an ecsstore.Repo, and reads
// task definitions for CacheSource's loader.
type RepoBackend struct {
	Repo *ecsstore.Repo

	mu   sync.Mutex
	defs map[string]*ecs.TaskDefinition // by ARN: a revision never changes
}

var (
	_ TaskDeleter   = (*RepoBackend)(nil)
	_ TokenStore    = (*RepoBackend)(nil)
	_ InstanceStore = (*RepoBackend)(nil)
)

// Definition returns a task definition by ARN (cached: a revision never
// changes what it runs).
func (b *RepoBackend) Definition(ctx context.Context, sc ecs.Scope, arn string) (*ecs.TaskDefinition, error) {
	b.mu.Lock()
	td := b.defs[arn]
	b.mu.Unlock()
	if td != nil {
		return td, nil
	}
	ref, err := ecs.ParseTaskDefinitionRef(arn)
	if err != nil {
		return nil, err
	}
	if td, err = b.Repo.TaskDefinition(ctx, sc, ref); err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.defs == nil || len(b.defs) > 10_000 {
		b.defs = map[string]*ecs.TaskDefinition{}
	}
	b.defs[arn] = td
	b.mu.Unlock()
	return td, nil
}

// DeleteTask implements TaskDeleter.
func (b *RepoBackend) DeleteTask(ctx context.Context, t TaskInfo) error {
	return b.Repo.DeleteTask(ctx, t.Scope, t.Cluster, t.ID)
}

// DeleteRunTokens implements TokenStore.
func (b *RepoBackend) DeleteRunTokens(ctx context.Context, sc ecs.Scope, cluster string, cutoff time.Time) error {
	return b.Repo.DeleteRunTokens(ctx, sc, cluster, cutoff)
}

// ActiveCluster implements InstanceStore.
func (b *RepoBackend) ActiveCluster(ctx context.Context, sc ecs.Scope, name string) error {
	_, err := b.Repo.ActiveCluster(ctx, sc, name)
	return err
}

// InstanceRegistered implements InstanceStore.
func (b *RepoBackend) InstanceRegistered(ctx context.Context, sc ecs.Scope, ref ecsstore.InstanceRef) error {
	_, err := b.Repo.Instance(ctx, sc, ref)
	return err
}

// SetAgentConnected implements InstanceStore.
func (b *RepoBackend) SetAgentConnected(ctx context.Context, arn string, connected bool, skip func() bool) error {
	p, _ := ecs.ParseARN(arn)
	ref, err := ecsstore.ParseInstanceRef(arn, "")
	if err != nil {
		return nil
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	_, err = b.Repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
		if ci.AgentConnected == connected || (skip != nil && skip()) {
			return ecsstore.ErrNoChange
		}
		ci.AgentConnected = connected
		ci.Version++
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}
