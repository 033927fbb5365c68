package ekscp

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/controller"
	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/eksstore"
	"github.com/berth-dev/berth/internal/store"
)

// Endpoint is what a running control plane tells about itself.
type Endpoint struct {
	URL        string // https://127.x.y.z:port
	CAData     string // base64 PEM of the cluster CA
	OIDCIssuer string
	Version    string // the Kubernetes version it serves, e.g. v1.37.2
}

// ControlPlanes runs the Kubernetes control planes of clusters.
type ControlPlanes interface {
	// Ensure starts (or reconfigures) the cluster's control plane as c
	// says and returns once it serves, or with an error.
	Ensure(ctx context.Context, sc eks.Scope, c *eks.Cluster) (Endpoint, error)
	// Remove stops the cluster's control plane and deletes its data.
	Remove(ctx context.Context, sc eks.Scope, c *eks.Cluster) error
}

// NoControlPlane is the health message of a cluster that a berth without
// a Kubernetes control plane cannot serve.
const NoControlPlane = "this berth runs no Kubernetes control plane (it needs the berth-kube binary next to berth, on PATH or at BERTH_KUBE_BINARY: " +
	"go build -o \"$(dirname \"$(command -v berth)\")/berth-kube\" ./cmd/berth-kube), so no API server can serve the cluster; " +
	"the cluster's EKS API objects (access entries, tags) still work"

// LifecycleConfig configures the lifecycle controller.
type LifecycleConfig struct {
	Plane *Plane
	// ControlPlanes runs the clusters' API servers; nil means none (every
	// new cluster goes to FAILED).
	ControlPlanes ControlPlanes
	Logger        *slog.Logger
	// StartTimeout bounds how long a cluster may stay CREATING before it
	// is FAILED (default 5 minutes).
	StartTimeout time.Duration
	// Retry is the pause before another watch after a store error.
	Retry time.Duration
}

// Lifecycle moves clusters through their states (leader-only).
type Lifecycle struct {
	cfg LifecycleConfig
	log *slog.Logger
}

// NewLifecycle returns the lifecycle controller.
func NewLifecycle(cfg LifecycleConfig) *Lifecycle {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 5 * time.Minute
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	return &Lifecycle{cfg: cfg, log: cfg.Logger}
}

// NeedLeaderElection says the controller runs on the leader only.
func (l *Lifecycle) NeedLeaderElection() bool { return true }

// Run reconciles every cluster at start and on every change until ctx ends.
func (l *Lifecycle) Run(ctx context.Context) error {
	q := controller.NewQueue()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.feed(ctx, q)
	}()
	controller.Work(ctx, "eks-lifecycle", q, 2, l.reconcile, l.log)
	cancel()
	<-done
	return nil
}

// feed queues every cluster, then every changed one, until ctx ends.
func (l *Lifecycle) feed(ctx context.Context, q *controller.Queue) {
	repo := l.cfg.Plane.repo
	for ctx.Err() == nil {
		all, rev, err := repo.All(ctx)
		var events <-chan store.Event
		if err == nil {
			events, err = repo.Store().Watch(ctx, eksstore.Prefix, rev)
		}
		if err != nil {
			if ctx.Err() == nil {
				l.log.Warn("eks lifecycle: watching the store", "err", err)
			}
			t := time.NewTimer(l.cfg.Retry)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		for _, s := range all {
			q.Add(s.Scope.Account + "/" + s.Scope.Region + "/" + s.Cluster.Name)
		}
		for ev := range events {
			q.Add(strings.TrimPrefix(ev.KV.Key, eksstore.Prefix))
		}
	}
}

// reconcile moves one cluster ("account/region/name") a step.
func (l *Lifecycle) reconcile(ctx context.Context, key string) (time.Duration, error) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return 0, nil
	}
	sc, name := eks.Scope{Account: parts[0], Region: parts[1]}, parts[2]
	c, err := l.cfg.Plane.repo.Get(ctx, sc, name)
	if isCode(err, eks.CodeNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	switch c.Status {
	case eks.StatusCreating:
		return l.create(ctx, sc, c)
	case eks.StatusActive:
		return l.keep(ctx, sc, c)
	case eks.StatusUpdating:
		return l.update(ctx, sc, c)
	case eks.StatusDeleting:
		return 0, l.remove(ctx, sc, c)
	}
	return 0, nil
}

func (l *Lifecycle) create(ctx context.Context, sc eks.Scope, c *eks.Cluster) (time.Duration, error) {
	if l.cfg.ControlPlanes == nil {
		return 0, l.fail(ctx, sc, c, "InternalFailure", NoControlPlane)
	}
	ep, err := l.cfg.ControlPlanes.Ensure(ctx, sc, c)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if l.cfg.Plane.now().Sub(c.CreatedAt) > l.cfg.StartTimeout {
			return 0, l.fail(ctx, sc, c, "InternalFailure", "the Kubernetes control plane did not start: "+err.Error())
		}
		return 0, err // retried with backoff
	}
	_, err = l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
		if cur.Status != eks.StatusCreating {
			return cur, nil
		}
		setEndpoint(cur, ep)
		cur.Status, cur.Health = eks.StatusActive, nil
		return cur, nil
	})
	if err == nil {
		l.log.Info("eks cluster active", "cluster", c.Name, "endpoint", ep.URL, "kubernetes", ep.Version)
	}
	return 0, err
}

func setEndpoint(c *eks.Cluster, ep Endpoint) {
	c.Endpoint, c.CAData, c.OIDCIssuer, c.ServedVersion = ep.URL, ep.CAData, ep.OIDCIssuer, ep.Version
}

// keep makes sure an ACTIVE cluster's control plane runs (after a berth
// restart, or a crash of its process); a failure becomes a health issue.
func (l *Lifecycle) keep(ctx context.Context, sc eks.Scope, c *eks.Cluster) (time.Duration, error) {
	if l.cfg.ControlPlanes == nil {
		return 0, l.setHealth(ctx, sc, c.Name, []eks.Issue{{Code: "ClusterUnreachable", Message: NoControlPlane}})
	}
	ep, err := l.cfg.ControlPlanes.Ensure(ctx, sc, c)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		_ = l.setHealth(ctx, sc, c.Name, []eks.Issue{{Code: "ClusterUnreachable", Message: err.Error()}})
		return 0, err
	}
	if ep.URL != c.Endpoint || ep.CAData != c.CAData || ep.Version != c.ServedVersion || ep.OIDCIssuer != c.OIDCIssuer || len(c.Health) > 0 {
		_, err = l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
			setEndpoint(cur, ep)
			cur.Health = nil
			return cur, nil
		})
	}
	return 0, err
}

func (l *Lifecycle) setHealth(ctx context.Context, sc eks.Scope, name string, issues []eks.Issue) error {
	_, err := l.cfg.Plane.repo.Update(ctx, sc, name, func(cur *eks.Cluster) (*eks.Cluster, error) {
		if slices.Equal(cur.Health, issues) {
			return nil, errReadOnly // unchanged: no write, so no watch event
		}
		cur.Health = issues
		return cur, nil
	})
	if errors.Is(err, errReadOnly) {
		return nil
	}
	return err
}

// update applies the cluster's update in progress.
func (l *Lifecycle) update(ctx context.Context, sc eks.Scope, c *eks.Cluster) (time.Duration, error) {
	u := c.PendingUpdate()
	if u == nil {
		_, err := l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
			if cur.Status == eks.StatusUpdating && cur.PendingUpdate() == nil {
				cur.Status = eks.StatusActive
			}
			return cur, nil
		})
		return 0, err
	}
	want := applyUpdate(c, u)
	var ep Endpoint
	var err error
	if l.cfg.ControlPlanes == nil {
		err = errors.New(NoControlPlane)
	} else {
		ep, err = l.cfg.ControlPlanes.Ensure(ctx, sc, want)
	}
	if err != nil && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if err != nil && l.cfg.Plane.now().Sub(u.CreatedAt) <= l.cfg.StartTimeout && l.cfg.ControlPlanes != nil {
		return 0, err // retried with backoff
	}
	_, werr := l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
		pu := cur.PendingUpdate()
		if pu == nil || pu.ID != u.ID {
			return cur, nil
		}
		if err != nil {
			pu.Status = eks.UpdateFailed
			pu.Errors = []eks.UpdateError{{Code: "ClusterUnreachable", Message: err.Error()}}
			cur.Status = eks.StatusActive
			return cur, nil
		}
		next := applyUpdate(cur, pu)
		setEndpoint(next, ep)
		for _, x := range next.Updates {
			if x.ID == pu.ID {
				x.Status = eks.UpdateSuccessful
			}
		}
		next.Status = eks.StatusActive
		return next, nil
	})
	if werr == nil {
		l.log.Info("eks cluster update done", "cluster", c.Name, "update", u.ID, "type", u.Type, "failed", err != nil)
	}
	return 0, werr
}

func (l *Lifecycle) remove(ctx context.Context, sc eks.Scope, c *eks.Cluster) error {
	if l.cfg.ControlPlanes != nil {
		if err := l.cfg.ControlPlanes.Remove(ctx, sc, c); err != nil {
			return err
		}
	}
	_, err := l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
		if cur.Status != eks.StatusDeleting {
			return cur, nil
		}
		return nil, nil
	})
	if err == nil {
		l.log.Info("eks cluster deleted", "cluster", c.Name)
	}
	return err
}

// fail moves a CREATING cluster to FAILED with a health issue.
func (l *Lifecycle) fail(ctx context.Context, sc eks.Scope, c *eks.Cluster, code, msg string) error {
	_, err := l.cfg.Plane.repo.Update(ctx, sc, c.Name, func(cur *eks.Cluster) (*eks.Cluster, error) {
		if cur.Status != eks.StatusCreating {
			return cur, nil
		}
		cur.Status = eks.StatusFailed
		cur.Health = []eks.Issue{{Code: code, Message: msg}}
		return cur, nil
	})
	if err == nil {
		l.log.Warn("eks cluster failed", "cluster", c.Name, "reason", msg)
	}
	return err
}
