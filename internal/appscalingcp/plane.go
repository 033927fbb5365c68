package appscalingcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/appscaling"
	"github.com/berth-dev/berth/internal/appscalingstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Services reads and sets the desired count of ECS services (the ECS
// control plane implements it in the server).
type Services interface {
	// DesiredCount returns a service's desired count; a missing or
	// inactive service is a fault.NotFound.
	DesiredCount(ctx context.Context, sc appscaling.Scope, cluster, service string) (int, error)
	SetDesiredCount(ctx context.Context, sc appscaling.Scope, cluster, service string, n int) error
}

// Alarms creates and deletes the alarms of target tracking policies
// (CloudWatch implements it).
type Alarms interface {
	// PutTrackingAlarms creates or replaces the high and low alarms of a
	// target tracking policy, with alarm actions that call back the
	// policy, and returns their names and ARNs (high first).
	PutTrackingAlarms(ctx context.Context, sc appscaling.Scope, p *appscaling.Policy, high, low string) ([]appscaling.AlarmRef, error)
	// DeleteAlarms deletes alarms by name (a missing one is no error).
	DeleteAlarms(ctx context.Context, sc appscaling.Scope, names []string) error
}

// Config configures the plane.
type Config struct {
	Repo     *appscalingstore.Repo
	Services Services
	Alarms   Alarms // nil: no CloudWatch; target tracking creates no alarms
	Logger   *slog.Logger
	Now      func() time.Time
	// TimeScale multiplies cooldowns (1 or 0: AWS's); a local test sets
	// 0.1 to make a 60 s cooldown 6 s.
	TimeScale float64
}

// Plane is the control plane.
type Plane struct {
	repo      *appscalingstore.Repo
	services  Services
	alarms    Alarms
	log       *slog.Logger
	now       func() time.Time
	timeScale float64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a scheduled action changes
}

// New returns a plane.
func New(cfg Config) *Plane {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Plane{repo: cfg.Repo, services: cfg.Services, alarms: cfg.Alarms, log: cfg.Logger, now: cfg.Now,
		timeScale: cfg.TimeScale, changed: make(chan struct{})}
}

// SetAlarms plugs in the alarm backend (CloudWatch) once it exists.
func (p *Plane) SetAlarms(a Alarms) { p.alarms = a }

// Changed returns a channel closed at the next change of a scheduled action.
func (p *Plane) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *Plane) notify() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newTargetID() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func noTarget(k appscaling.Key) error {
	return appscaling.NotFoundf("No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s",
		k.Namespace, k.ResourceID, k.Dimension)
}

// --- scalable targets

// Register creates or updates a scalable target; the ECS service must exist.
func (p *Plane) Register(ctx context.Context, sc appscaling.Scope, r appscaling.Register) (*appscaling.Target, error) {
	if err := appscaling.ValidateKey(r.Key); err != nil {
		return nil, err
	}
	cluster, service := r.ECSService()
	if _, err := p.services.DesiredCount(ctx, sc, cluster, service); err != nil {
		return nil, serviceErr(err, r.ResourceID)
	}
	var out *appscaling.Target
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		t, err := r.Apply(st.Target(r.Key), newTargetID(), p.now(), sc.Account)
		if err != nil {
			return err
		}
		tx.PutTarget(t)
		out = t
		return nil
	})
	return out, err
}

func serviceErr(err error, resourceID string) error {
	if fault.Is(err, fault.NotFound) {
		return appscaling.Validationf("ECS service doesn't exist: %s", resourceID)
	}
	return err
}

// Deregister deletes a target with its policies (and their alarms) and
// scheduled actions.
func (p *Plane) Deregister(ctx context.Context, sc appscaling.Scope, k appscaling.Key) error {
	if err := appscaling.ValidateKey(k); err != nil {
		return err
	}
	var alarms []string
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		if st.Target(k) == nil {
			return noTarget(k)
		}
		alarms = nil
		for _, pol := range st.Policies[appscalingstore.TargetKey(k)] {
			alarms = append(alarms, ownedAlarms(pol)...)
		}
		tx.DeleteTarget(k)
		return nil
	})
	if err != nil {
		return err
	}
	p.notify()
	return p.deleteAlarms(ctx, sc, alarms)
}

// Targets returns the targets of a namespace, optionally only those of
// the given resource IDs and dimension, in creation order.
func (p *Plane) Targets(ctx context.Context, sc appscaling.Scope, namespace string, resourceIDs []string, dim string) ([]*appscaling.Target, error) {
	if err := checkNamespace(namespace); err != nil {
		return nil, err
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*appscaling.Target
	for _, t := range st.Targets {
		if t.Namespace == namespace && (len(resourceIDs) == 0 || slices.Contains(resourceIDs, t.ResourceID)) && (dim == "" || t.Dimension == dim) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *appscaling.Target) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func checkNamespace(ns string) error {
	if ns == "" {
		return appscaling.Validationf("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if ns != appscaling.NamespaceECS {
		return appscaling.Validationf("Unsupported service namespace %s; berth scales only the ecs namespace", ns)
	}
	return nil
}

// --- tags (of scalable targets, by ARN)

func (p *Plane) targetByARN(st *appscalingstore.State, arn string) (*appscaling.Target, error) {
	pre := fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/", st.Scope.Region, st.Scope.Account)
	if !strings.HasPrefix(arn, "arn:aws:application-autoscaling:") || !strings.Contains(arn, ":scalable-target/") {
		return nil, appscaling.Validationf("Invalid ResourceARN %s; only scalable targets can be tagged", arn)
	}
	id := strings.TrimPrefix(arn, pre)
	for _, t := range st.Targets {
		if t.ID == id && strings.HasPrefix(arn, pre) {
			return t, nil
		}
	}
	return nil, fault.New(fault.NotFound, "Scalable target with ARN %s not found", arn).WithCode(appscaling.CodeResourceNotFound)
}

// Tags returns a target's tags.
func (p *Plane) Tags(ctx context.Context, sc appscaling.Scope, arn string) (map[string]string, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	t, err := p.targetByARN(st, arn)
	if err != nil {
		return nil, err
	}
	return t.Tags, nil
}

// Tag adds or replaces tags of a target.
func (p *Plane) Tag(ctx context.Context, sc appscaling.Scope, arn string, tags map[string]string) error {
	if err := appscaling.ValidateTags(tags); err != nil {
		return err
	}
	return p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		t, err := p.targetByARN(st, arn)
		if err != nil {
			return err
		}
		for k, v := range tags {
			t.Tags[k] = v
		}
		if len(t.Tags) > 50 {
			return fault.New(fault.LimitExceeded, "A scalable target may have at most 50 tags").WithCode(appscaling.CodeTooManyTags)
		}
		tx.PutTarget(t)
		return nil
	})
}

// Untag removes tags of a target.
func (p *Plane) Untag(ctx context.Context, sc appscaling.Scope, arn string, keys []string) error {
	return p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		t, err := p.targetByARN(st, arn)
		if err != nil {
			return err
		}
		for _, k := range keys {
			delete(t.Tags, k)
		}
		tx.PutTarget(t)
		return nil
	})
}

// --- scheduled actions

// PutScheduled creates or updates a scheduled action.
func (p *Plane) PutScheduled(ctx context.Context, sc appscaling.Scope, in appscaling.ScheduledAction) error {
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		if err := appscaling.ValidateKey(in.Key); err != nil {
			return err
		}
		if st.Target(in.Key) == nil {
			return noTarget(in.Key)
		}
		a := in
		if cur := st.Scheduled[appscalingstore.TargetKey(in.Key)][in.Name]; cur != nil {
			a.ID, a.Created = cur.ID, cur.Created
			if a.Schedule == "" {
				a.Schedule, a.Timezone = cur.Schedule, cur.Timezone
			}
			if a.MinCapacity == nil && a.MaxCapacity == nil {
				a.MinCapacity, a.MaxCapacity = cur.MinCapacity, cur.MaxCapacity
			}
		} else {
			a.ID, a.Created = newUUID(), p.now()
		}
		if _, err := a.Parse(); err != nil {
			return err
		}
		tx.PutScheduled(&a)
		return nil
	})
	if err == nil {
		p.notify()
	}
	return err
}

// DeleteScheduled deletes a scheduled action.
func (p *Plane) DeleteScheduled(ctx context.Context, sc appscaling.Scope, k appscaling.Key, name string) error {
	err := p.repo.Update(ctx, sc, func(st *appscalingstore.State, tx *appscalingstore.Tx) error {
		if err := appscaling.ValidateKey(k); err != nil {
			return err
		}
		a := st.Scheduled[appscalingstore.TargetKey(k)][name]
		if a == nil {
			return appscaling.NotFoundf("No scheduled action found for service namespace: %s, resource ID: %s, scalable dimension: %s, scheduled action name: %s",
				k.Namespace, k.ResourceID, k.Dimension, name)
		}
		tx.DeleteScheduled(a)
		return nil
	})
	if err == nil {
		p.notify()
	}
	return err
}

// ScheduledFilter selects scheduled actions.
type ScheduledFilter struct {
	Namespace  string
	Names      []string
	ResourceID string
	Dimension  string
}

// Scheduled returns the scheduled actions the filter selects.
func (p *Plane) Scheduled(ctx context.Context, sc appscaling.Scope, f ScheduledFilter) ([]*appscaling.ScheduledAction, error) {
	if err := checkNamespace(f.Namespace); err != nil {
		return nil, err
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*appscaling.ScheduledAction
	for _, m := range st.Scheduled {
		for _, a := range m {
			if (f.ResourceID == "" || a.ResourceID == f.ResourceID) && (f.Dimension == "" || a.Dimension == f.Dimension) &&
				(len(f.Names) == 0 || slices.Contains(f.Names, a.Name)) {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, func(a, b *appscaling.ScheduledAction) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// --- activities

// Activities returns a target's (or every target's) activities, newest first.
func (p *Plane) Activities(ctx context.Context, sc appscaling.Scope, namespace, resourceID, dim string) ([]*appscaling.Activity, error) {
	if err := checkNamespace(namespace); err != nil {
		return nil, err
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*appscaling.Activity
	for _, tk := range slices.Sorted(maps.Keys(st.Activities)) {
		acts := st.Activities[tk]
		for _, a := range acts {
			if (resourceID == "" || a.ResourceID == resourceID) && (dim == "" || a.Dimension == dim) {
				out = append(out, a)
			}
		}
	}
	slices.Reverse(out) // newest first
	slices.SortStableFunc(out, func(a, b *appscaling.Activity) int { return b.Start.Compare(a.Start) })
	return out, nil
}
