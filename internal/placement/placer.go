package placement

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/scheduler"
	"github.com/berth-dev/berth/internal/store"
)

// Input is the view of a cluster a placement decision sees. It is valid
// only during the decision: do not keep or modify any of it.
type Input struct {
	Cluster *ecs.Cluster
	// Instances are the candidate instances: the cluster's registered
	// instances (in ID order), or only its managed instance.
	Instances []*ecs.ContainerInstance
	// States are the registered instances as the scheduler sees them,
	// aligned with Instances (the groups of their tasks that are not
	// stopped as GroupCounts, attributes indexed); nil for the managed
	// instance.
	States []scheduler.InstanceState
}

// Placed is one task a decision placed: the task, already assigned to its
// instance (or unassigned), what it reserves there and its tags.
type Placed struct {
	Task      *ecs.Task
	Resources ecs.TaskResources
	Tags      []ecs.Tag
}

// Options tune Place.
type Options struct {
	// Managed places on the cluster's managed instance; NewManaged builds
	// it when the cluster has none yet.
	Managed    bool
	NewManaged func(cl *ecs.Cluster) (*ecs.ContainerInstance, error)
	// ClientToken makes the call idempotent: a later call with the same
	// token returns the tasks of the first one.
	ClientToken string
	Now         time.Time
}

// Placer places tasks: one queue per cluster over the placement view. The
// composition root builds it with New (which subscribes its view to the
// cache, so before the cache runs) and runs Run; Place works while Run
// runs.
type Placer struct {
	repo  *ecsstore.Repo
	st    store.Store
	cache *ecscache.Cache
	log   *slog.Logger
	view  *view

	arrays sync.Pool // *planArrays, recycled by later plans

	started chan struct{} // closed when Run starts

	mu     sync.Mutex
	ctx    context.Context                         // Run's; nil when not running
	wg     sync.WaitGroup                          // every goroutine the placer started
	queues map[ecscache.ClusterKey]*placementQueue // one per cluster placed on, kept while idle
}

// New returns a placer over the repo's store, fed by cache. Call it before
// cache.Run.
func New(repo *ecsstore.Repo, cache *ecscache.Cache, log *slog.Logger) *Placer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Placer{repo: repo, st: repo.Store(), cache: cache, log: log, view: newView(), started: make(chan struct{}), queues: map[ecscache.ClusterKey]*placementQueue{}}
	cache.Subscribe(p.view.handlers())
	return p
}

// errNotRunning: Place after Run.
var errNotRunning = fault.New(fault.Unavailable, "The server is not placing tasks now (starting or shutting down); retry the request.")

// Run lets Place work until ctx ends, then waits for the placer's
// goroutines (the calls already taken are answered; those still queued
// fail). Call it once. Place calls made before it wait for it.
func (p *Placer) Run(ctx context.Context) error {
	p.mu.Lock()
	p.ctx = ctx
	p.mu.Unlock()
	close(p.started)
	<-ctx.Done()
	p.mu.Lock()
	p.ctx = nil
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// spawn runs fn on a goroutine the placer owns, with Run's context; false
// if Run is not running.
func (p *Placer) spawn(fn func(context.Context)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil || p.ctx.Err() != nil {
		return false
	}
	ctx := p.ctx
	p.wg.Go(func() { fn(ctx) })
	return true
}

func (p *Placer) queueFor(sc ecs.Scope, cluster string) *placementQueue {
	k := ecscache.ClusterKey{Scope: sc, Cluster: cluster}
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queues[k]
	if q == nil {
		q = &placementQueue{pl: p, sc: sc, cluster: cluster, key: k, wake: make(chan struct{}, 1)}
		p.queues[k] = q
	}
	return q
}

// Place reads a consistent view of the cluster (everything the store
// acknowledged before the call), lets decide place tasks on it, and
// commits them in one transaction together with the reservations on their
// instances. The transaction compares the revisions of the cluster and of
// every instance it charges, so a concurrent placement by another process,
// a deregistration, an agent's update or a DeleteCluster makes it retry
// with a fresh view (decide then runs again). With a client token that was
// used before, it returns the earlier call's tasks and replayed.
//
// Concurrent calls for the same cluster are placed by the cluster's
// placement queue (see placementQueue): they are decided one after another
// against one view and committed together, as if they had run alone in
// that order.
func (p *Placer) Place(ctx context.Context, sc ecs.Scope, cluster string, opts Options, decide func(*Input) ([]Placed, error)) (tasks []*ecs.Task, replayed bool, err error) {
	select {
	case <-p.started:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	call := &createCall{opts: opts, decide: decide, done: make(chan struct{})}
	if err := p.queueFor(sc, cluster).submit(ctx, call); err != nil {
		return nil, false, err
	}
	if call.err != nil {
		if _, ok := fault.As(call.err); !ok && !errors.Is(call.err, context.Canceled) {
			return nil, false, fault.Wrap(call.err, fault.Internal, "placement")
		}
		return nil, false, call.err
	}
	return call.tasks, call.replayed, nil
}

// reservable returns a copy of ci whose remaining resources, all that
// ContainerInstance.Reserve and Release change besides the version, are
// its own; the rest (attributes and all) is shared with ci.
func reservable(ci *ecs.ContainerInstance) *ecs.ContainerInstance {
	c := *ci
	c.RemainingResources = slices.Clone(ci.RemainingResources)
	for i := range c.RemainingResources {
		c.RemainingResources[i].StringSetValue = slices.Clone(ci.RemainingResources[i].StringSetValue)
	}
	return &c
}
