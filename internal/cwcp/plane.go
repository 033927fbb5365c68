package cwcp

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwstore"
)

// ActionEvent is one invocation of an alarm action.
type ActionEvent struct {
	Action   string // the action ARN
	Scope    cw.Scope
	Alarm    cw.Alarm // the alarm after the change
	OldState string
	NewState string
	Reason   string
	Time     time.Time
	// Repeat is set when the alarm stayed in ALARM and the action is
	// invoked again (Auto Scaling policies are, each evaluation).
	Repeat bool
}

// ActionHandler performs an alarm action. Its error is recorded in the
// alarm's history.
type ActionHandler func(ctx context.Context, ev ActionEvent) error

// Config configures a Plane.
type Config struct {
	Metrics *cwstore.Metrics
	Repo    *cwstore.Repo
	Logger  *slog.Logger
	// Scale shortens periods and evaluation intervals (1 = AWS's time).
	Scale cw.TimeScale
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Plane is the CloudWatch control plane.
type Plane struct {
	metrics *cwstore.Metrics
	repo    *cwstore.Repo
	log     *slog.Logger
	scale   cw.TimeScale
	now     func() time.Time

	mu       sync.RWMutex
	handlers map[string]ActionHandler // by ARN prefix
	kick     chan struct{}
	// kickComposites asks for a pass over the composite alarms only
	// (after SetAlarmState, which a metric alarm keeps until its next
	// regular evaluation).
	kickComposites chan struct{}
}

// New returns a Plane.
func New(cfg Config) *Plane {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Scale < 1 {
		cfg.Scale = 1
	}
	return &Plane{metrics: cfg.Metrics, repo: cfg.Repo, log: cfg.Logger, scale: cfg.Scale, now: cfg.Now,
		handlers: map[string]ActionHandler{}, kick: make(chan struct{}, 1), kickComposites: make(chan struct{}, 1)}
}

// Scale returns the plane's time scale.
func (p *Plane) Scale() cw.TimeScale { return p.scale }

// RegisterActionHandler routes alarm actions whose ARN starts with prefix
// to h (the longest matching prefix wins).
func (p *Plane) RegisterActionHandler(prefix string, h ActionHandler) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[prefix] = h
}

func (p *Plane) handler(arn string) ActionHandler {
	p.mu.RLock()
	defer p.mu.RUnlock()
	prefixes := make([]string, 0, len(p.handlers))
	for k := range p.handlers {
		prefixes = append(prefixes, k)
	}
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	for _, k := range prefixes {
		if strings.HasPrefix(arn, k) {
			return p.handlers[k]
		}
	}
	return nil
}

// wake asks the evaluator for an early pass (after an alarm changed).
func (p *Plane) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// wakeComposites asks the evaluator for an early pass over the composite
// alarms (after an alarm's state was set by hand).
func (p *Plane) wakeComposites() {
	select {
	case p.kickComposites <- struct{}{}:
	default:
	}
}

// AlarmARN is the ARN of an alarm.
func AlarmARN(sc cw.Scope, name string) string {
	return "arn:aws:cloudwatch:" + sc.Region + ":" + sc.Account + ":alarm:" + name
}

var _ = context.Background
