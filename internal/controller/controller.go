package controller

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// Defaults of Config.
const (
	DefaultDisconnectTimeout = 3 * time.Minute
	DefaultTaskRetention     = time.Hour
)

// StopReasonAgentDisconnected is the stoppedReason of the tasks of an
// instance whose agent stayed disconnected past the timeout.
const StopReasonAgentDisconnected = "Task stopped because the container instance's agent disconnected"

// Config configures the controllers.
type Config struct {
	Repo *ecsstore.Repo
	// Hub finds the live ACS session of an instance.
	Hub *acs.Hub
	// Resources returns what a task reserved on its instance (released
	// when a controller stops it).
	Resources func(context.Context, *ecs.Task) (ecs.TaskResources, error)
	// DisconnectTimeout is how long an instance's agent may stay away
	// before its tasks are stopped.
	DisconnectTimeout time.Duration
	// TaskRetention is how long STOPPED tasks stay visible.
	TaskRetention time.Duration
	// Managed is told which clusters need a managed agent (the cluster
	// is ACTIVE and has a managed instance) and which no longer do.
	Managed func(m ManagedInstance, run bool)
	Logger  *slog.Logger
	Now     func() time.Time
}

// ManagedInstance is a cluster's managed capacity instance.
type ManagedInstance struct {
	Scope       ecs.Scope
	Cluster     string
	InstanceARN string
}

// taskEntry is what the controllers remember of a task.
type taskEntry struct {
	sc         ecs.Scope
	cluster    string
	id         string
	instance   string
	desired    string
	last       string
	stoppedAt  time.Time
	definition string
}

type instanceEntry struct {
	sc        ecs.Scope
	cluster   string
	id        string
	connected bool
	managed   bool
}

// Controller runs berth's level-based reconcilers over an in-memory view
// of the store that a watch keeps current:
//
//   - push (key: instance ARN) sends the instance's live ACS session every
//     task assigned to it whose desired status the session has not been
//     sent yet; a new session starts empty, so a reconnecting agent is
//     sent everything (no missed message is ever lost);
//   - disconnect (key: instance ARN) stops the tasks of an instance whose
//     agent stayed away longer than the timeout;
//   - retention (key: task key) deletes STOPPED tasks after the retention;
//   - managed (key: scope and cluster) keeps a managed agent running for
//     each ACTIVE cluster that has managed capacity.
type Controller struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	tasks     map[string]*taskEntry          // by task key
	byInst    map[string]map[string]struct{} // instance ARN → task keys
	instances map[string]*instanceEntry      // by instance ARN
	clusters  map[string]bool                // scope|cluster → ACTIVE
	managed   map[string]ManagedInstance     // scope|cluster → managed instance
	sent      map[*acs.Session]map[string]string
	greeted   map[*acs.Session]bool
	awaySince map[string]time.Time // instance ARN → when its agent went away
	defs      map[string]*ecs.TaskDefinition

	push, disconnect, retention, fleet *Queue
	synced                             chan struct{}
	listRev                            int64
}

// New returns a controller; call Start.
func New(cfg Config) *Controller {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DisconnectTimeout <= 0 {
		cfg.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if cfg.TaskRetention <= 0 {
		cfg.TaskRetention = DefaultTaskRetention
	}
	return &Controller{
		cfg: cfg, log: cfg.Logger,
		tasks: map[string]*taskEntry{}, byInst: map[string]map[string]struct{}{},
		instances: map[string]*instanceEntry{}, clusters: map[string]bool{}, managed: map[string]ManagedInstance{},
		sent: map[*acs.Session]map[string]string{}, greeted: map[*acs.Session]bool{},
		awaySince: map[string]time.Time{}, defs: map[string]*ecs.TaskDefinition{},
		push: NewQueue(), disconnect: NewQueue(), retention: NewQueue(), fleet: NewQueue(),
		synced: make(chan struct{}),
	}
}

// Load reads the store once (call it before agents can connect): every
// instance the store says is connected has, after a restart, no session,
// so it is marked disconnected and its timeout starts now.
func (c *Controller) Load(ctx context.Context) error {
	kvs, rev, err := c.cfg.Repo.Store().List(ctx, "/ecs/", store.ListOptions{})
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		c.apply(store.Event{Type: store.EventPut, KV: kv})
	}
	c.listRev = rev
	c.mu.Lock()
	var stale []string
	now := c.cfg.Now()
	for arn, ie := range c.instances {
		c.awaySince[arn] = now
		if ie.connected {
			stale = append(stale, arn)
		}
	}
	c.mu.Unlock()
	for _, arn := range stale {
		c.setConnected(ctx, arn, false)
	}
	c.mu.Lock()
	for arn := range c.instances {
		c.disconnect.AddAfter(arn, c.cfg.DisconnectTimeout)
	}
	c.mu.Unlock()
	return nil
}

// Run watches the store and runs the reconcilers until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range []struct {
		name string
		q    *Queue
		n    int
		rec  Reconciler
	}{
		{"push", c.push, 4, c.reconcilePush},
		{"disconnect", c.disconnect, 2, c.reconcileDisconnect},
		{"retention", c.retention, 1, c.reconcileRetention},
		{"managed", c.fleet, 1, c.reconcileManaged},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); Work(ctx, w.name, w.q, w.n, w.rec, c.log) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); c.sweepTokens(ctx) }()
	c.watch(ctx)
	wg.Wait()
}

// RunTokenTTL is how long a RunTask clientToken is remembered.
const RunTokenTTL = time.Hour

// sweepTokens forgets RunTask client tokens older than RunTokenTTL.
func (c *Controller) sweepTokens(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		var clusters []string
		for ck, active := range c.clusters {
			if active {
				clusters = append(clusters, ck)
			}
		}
		c.mu.Unlock()
		cutoff := c.cfg.Now().Add(-RunTokenTTL)
		for _, ck := range clusters {
			parts := strings.SplitN(ck, "|", 3)
			if len(parts) != 3 {
				continue
			}
			sc := ecs.Scope{Account: parts[0], Region: parts[1]}
			if err := c.cfg.Repo.DeleteRunTokens(ctx, sc, parts[2], cutoff); err != nil && ctx.Err() == nil {
				c.log.Warn("controller: cannot forget old run tokens", "cluster", parts[2], "error", err)
			}
		}
	}
}

// watch follows the store from the loaded revision, re-listing when the
// watch cannot continue.
func (c *Controller) watch(ctx context.Context) {
	rev := c.listRev
	for ctx.Err() == nil {
		ch, err := c.cfg.Repo.Store().Watch(ctx, "/ecs/", rev)
		if errors.Is(err, store.ErrCompacted) {
			rev = c.relist(ctx)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("controller: watch failed; retrying", "error", err)
			time.Sleep(time.Second)
			continue
		}
		for ev := range ch {
			c.apply(ev)
			rev = ev.KV.ModRevision
		}
		if ctx.Err() == nil {
			rev = c.relist(ctx)
		}
	}
}

// relist rebuilds the view from a fresh list (keys gone since are
// forgotten) and returns the list's revision.
func (c *Controller) relist(ctx context.Context) int64 {
	for ctx.Err() == nil {
		kvs, rev, err := c.cfg.Repo.Store().List(ctx, "/ecs/", store.ListOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		seen := map[string]bool{}
		for _, kv := range kvs {
			seen[kv.Key] = true
			c.apply(store.Event{Type: store.EventPut, KV: kv})
		}
		c.mu.Lock()
		var gone []string
		for k := range c.tasks {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		c.mu.Unlock()
		for _, k := range gone {
			c.apply(store.Event{Type: store.EventDelete, KV: store.KV{Key: k}})
		}
		return rev
	}
	return 0
}

func clusterKey(sc ecs.Scope, cluster string) string {
	return sc.Account + "|" + sc.Region + "|" + cluster
}

// apply updates the view with one store change and queues the keys it
// affects.
func (c *Controller) apply(ev store.Event) {
	sc, kind, cluster, id, ok := ecsstore.KeyInfo(ev.KV.Key)
	if !ok {
		return
	}
	switch kind {
	case ecsstore.KindTask:
		c.applyTask(ev, sc, cluster, id)
	case ecsstore.KindInstance, ecsstore.KindManagedInstance:
		c.applyInstance(ev, sc, cluster, id, kind == ecsstore.KindManagedInstance)
	case ecsstore.KindCluster:
		c.applyCluster(ev, sc, cluster)
	}
}

func (c *Controller) applyTask(ev store.Event, sc ecs.Scope, cluster, id string) {
	key := ev.KV.Key
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.tasks[key]
	if ev.Type == store.EventDelete {
		if old != nil {
			delete(c.tasks, key)
			if set := c.byInst[old.instance]; set != nil {
				delete(set, key)
				if len(set) == 0 {
					delete(c.byInst, old.instance)
				}
			}
		}
		return
	}
	var t struct {
		Instance   string    `json:"containerInstanceArn"`
		Desired    string    `json:"desiredStatus"`
		Last       string    `json:"lastStatus"`
		StoppedAt  time.Time `json:"stoppedAt"`
		Definition string    `json:"taskDefinitionArn"`
	}
	if err := json.Unmarshal(ev.KV.Value, &t); err != nil {
		c.log.Warn("controller: undecodable task", "key", key, "error", err)
		return
	}
	e := &taskEntry{sc: sc, cluster: cluster, id: id, instance: t.Instance, desired: t.Desired, last: t.Last, stoppedAt: t.StoppedAt, definition: t.Definition}
	c.tasks[key] = e
	if old != nil && old.instance != e.instance {
		delete(c.byInst[old.instance], key)
	}
	if e.instance != "" {
		set := c.byInst[e.instance]
		if set == nil {
			set = map[string]struct{}{}
			c.byInst[e.instance] = set
		}
		set[key] = struct{}{}
		if old == nil || old.desired != e.desired || old.instance != e.instance {
			c.push.Add(e.instance)
		}
	}
	if e.last == ecs.TaskStopped && (old == nil || old.last != ecs.TaskStopped) {
		c.retention.AddAfter(key, time.Until(e.stoppedAt.Add(c.cfg.TaskRetention)))
	}
}

func (c *Controller) applyInstance(ev store.Event, sc ecs.Scope, cluster, id string, managed bool) {
	if ev.Type == store.EventDelete {
		c.mu.Lock()
		defer c.mu.Unlock()
		for arn, ie := range c.instances {
			if ie.sc == sc && ie.cluster == cluster && ie.managed == managed && (managed || ie.id == id) {
				delete(c.instances, arn)
				if s := c.cfg.Hub.Session(arn); s != nil {
					go s.Close("container instance deregistered")
				}
			}
		}
		if managed {
			delete(c.managed, clusterKey(sc, cluster))
			c.fleet.Add(clusterKey(sc, cluster))
		}
		return
	}
	var ci ecs.ContainerInstance
	if err := json.Unmarshal(ev.KV.Value, &ci); err != nil {
		c.log.Warn("controller: undecodable instance", "key", ev.KV.Key, "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instances[ci.ARN] = &instanceEntry{sc: sc, cluster: cluster, id: ci.ID, connected: ci.AgentConnected, managed: managed}
	if managed {
		ck := clusterKey(sc, cluster)
		if _, ok := c.managed[ck]; !ok {
			c.managed[ck] = ManagedInstance{Scope: sc, Cluster: cluster, InstanceARN: ci.ARN}
			c.fleet.Add(ck)
		}
	}
}

func (c *Controller) applyCluster(ev store.Event, sc ecs.Scope, cluster string) {
	active := false
	if ev.Type == store.EventPut {
		var cl struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(ev.KV.Value, &cl)
		active = cl.Status == ecs.ClusterActive
	}
	ck := clusterKey(sc, cluster)
	c.mu.Lock()
	changed := c.clusters[ck] != active
	c.clusters[ck] = active
	c.mu.Unlock()
	if changed {
		c.fleet.Add(ck)
	}
}

// ---- ACS session hooks ----

// Connect validates a new ACS session and marks its instance connected.
func (c *Controller) Connect(ctx context.Context, s *acs.Session) error {
	ref, err := ecsstore.ParseInstanceRef(s.InstanceARN, "")
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
	if _, err := c.cfg.Repo.ActiveCluster(ctx, sc, ref.Cluster); err != nil {
		return &acs.RefusedError{Type: acs.TypeInvalidCluster, Message: "Cluster " + ref.Cluster + " is not ACTIVE."}
	}
	if _, err := c.cfg.Repo.Instance(ctx, sc, ref); err != nil {
		if fault.Is(err, fault.NotFound) {
			return &acs.RefusedError{Type: acs.TypeInactiveInstance, Message: "The container instance " + s.InstanceARN + " is not registered (deregistered or unknown); register again."}
		}
		return err
	}
	c.mu.Lock()
	delete(c.awaySince, s.InstanceARN)
	c.sent[s] = map[string]string{}
	c.mu.Unlock()
	c.setConnected(ctx, s.InstanceARN, true)
	go func() {
		<-s.Context().Done()
		c.mu.Lock()
		delete(c.sent, s)
		delete(c.greeted, s)
		c.mu.Unlock()
	}()
	return nil
}

// Ready is called once a session is live: it is sent its tasks.
func (c *Controller) Ready(s *acs.Session) { c.push.Add(s.InstanceARN) }

// Disconnect marks an instance whose session ended disconnected and starts
// its timeout (unless a newer session already replaced this one).
func (c *Controller) Disconnect(s *acs.Session) {
	if c.cfg.Hub.Session(s.InstanceARN) != nil {
		return
	}
	c.mu.Lock()
	c.awaySince[s.InstanceARN] = c.cfg.Now()
	c.mu.Unlock()
	c.setConnected(context.Background(), s.InstanceARN, false)
	c.disconnect.AddAfter(s.InstanceARN, c.cfg.DisconnectTimeout)
}

func (c *Controller) setConnected(ctx context.Context, arn string, connected bool) {
	p, _ := ecs.ParseARN(arn)
	ref, err := ecsstore.ParseInstanceRef(arn, "")
	if err != nil {
		return
	}
	sc := ecs.Scope{Account: p.Account, Region: p.Region}
	_, err = c.cfg.Repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
		if ci.AgentConnected == connected {
			return ecsstore.ErrNoChange
		}
		// A newer session may have connected since.
		if !connected && c.cfg.Hub.Session(arn) != nil {
			return ecsstore.ErrNoChange
		}
		ci.AgentConnected = connected
		ci.Version++
		return nil
	})
	if err != nil && !fault.Is(err, fault.NotFound) {
		c.log.Warn("controller: cannot record agent connection", "instance", arn, "connected", connected, "error", err)
	}
}

// ---- reconcilers ----

// reconcilePush sends an instance's session the tasks it has not seen in
// their current desired status.
func (c *Controller) reconcilePush(ctx context.Context, arn string) (time.Duration, error) {
	s := c.cfg.Hub.Session(arn)
	if s == nil {
		return 0, nil
	}
	c.mu.Lock()
	sent, live := c.sent[s]
	if !live {
		c.mu.Unlock()
		return 0, nil
	}
	greet := !c.greeted[s]
	var keys []string
	want := map[string]string{}
	for key := range c.byInst[arn] {
		e := c.tasks[key]
		if e == nil || e.last == ecs.TaskStopped {
			continue
		}
		if sent[key] != e.desired {
			keys = append(keys, key)
			want[key] = e.desired
		}
	}
	c.mu.Unlock()
	if len(keys) == 0 && !greet {
		return 0, nil
	}
	var batch []acs.Task
	var batchKeys []string
	flush := func() error {
		if len(batch) == 0 && !greet {
			return nil
		}
		if _, err := s.SendPayload(ctx, batch); err != nil {
			return err
		}
		greet = false
		c.mu.Lock()
		c.greeted[s] = true
		if m := c.sent[s]; m != nil {
			for _, k := range batchKeys {
				m[k] = want[k]
			}
		}
		c.mu.Unlock()
		batch, batchKeys = batch[:0], batchKeys[:0]
		return nil
	}
	for _, key := range keys {
		t, td, err := c.load(ctx, key)
		if err != nil {
			return 0, err
		}
		if t == nil || t.LastStatus == ecs.TaskStopped || t.ContainerInstanceARN != arn {
			continue
		}
		want[key] = t.DesiredStatus
		batch = append(batch, acs.NewTask(t, td))
		batchKeys = append(batchKeys, key)
		if len(batch) == 10 {
			if err := flush(); err != nil {
				return time.Second, nil
			}
		}
	}
	if err := flush(); err != nil {
		return time.Second, nil
	}
	return 0, nil
}

// load reads a task and its definition (definitions are cached: a
// revision never changes what it runs).
func (c *Controller) load(ctx context.Context, key string) (*ecs.Task, *ecs.TaskDefinition, error) {
	c.mu.Lock()
	e := c.tasks[key]
	c.mu.Unlock()
	if e == nil {
		return nil, nil, nil
	}
	t, err := c.cfg.Repo.Task(ctx, e.sc, e.cluster, e.id)
	if fault.Is(err, fault.NotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	td := c.defs[t.TaskDefinitionARN]
	c.mu.Unlock()
	if td == nil {
		ref, err := ecs.ParseTaskDefinitionRef(t.TaskDefinitionARN)
		if err != nil {
			return nil, nil, err
		}
		td, err = c.cfg.Repo.TaskDefinition(ctx, e.sc, ref)
		if err != nil {
			return nil, nil, err
		}
		c.mu.Lock()
		if len(c.defs) > 10_000 {
			clear(c.defs)
		}
		c.defs[t.TaskDefinitionARN] = td
		c.mu.Unlock()
	}
	return t, td, nil
}

// reconcileDisconnect stops the tasks of an instance whose agent has been
// away for longer than the timeout.
func (c *Controller) reconcileDisconnect(ctx context.Context, arn string) (time.Duration, error) {
	if c.cfg.Hub.Session(arn) != nil {
		return 0, nil
	}
	c.mu.Lock()
	since, away := c.awaySince[arn]
	var keys []string
	for key := range c.byInst[arn] {
		if e := c.tasks[key]; e != nil && e.last != ecs.TaskStopped {
			keys = append(keys, key)
		}
	}
	c.mu.Unlock()
	if !away || len(keys) == 0 {
		return 0, nil
	}
	if wait := since.Add(c.cfg.DisconnectTimeout).Sub(c.cfg.Now()); wait > 0 {
		return wait, nil
	}
	now := c.cfg.Now()
	for _, key := range keys {
		c.mu.Lock()
		e := c.tasks[key]
		c.mu.Unlock()
		if e == nil {
			continue
		}
		_, err := c.cfg.Repo.UpdateTask(ctx, e.sc, e.cluster, e.id, func(t *ecs.Task) error {
			if t.LastStatus == ecs.TaskStopped || t.ContainerInstanceARN != arn || c.cfg.Hub.Session(arn) != nil {
				return ecsstore.ErrNoChange
			}
			t.RequestStop("", StopReasonAgentDisconnected, now)
			return t.Advance(ecs.TaskStopped, now)
		}, c.cfg.Resources)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return 0, err
		}
	}
	c.log.Warn("agent disconnected too long: its tasks were stopped", "instance", arn, "tasks", len(keys), "timeout", c.cfg.DisconnectTimeout)
	return 0, nil
}

// reconcileRetention deletes a STOPPED task once it is older than the
// retention.
func (c *Controller) reconcileRetention(ctx context.Context, key string) (time.Duration, error) {
	c.mu.Lock()
	e := c.tasks[key]
	c.mu.Unlock()
	if e == nil || e.last != ecs.TaskStopped {
		return 0, nil
	}
	if wait := e.stoppedAt.Add(c.cfg.TaskRetention).Sub(c.cfg.Now()); wait > 0 {
		return wait, nil
	}
	return 0, c.cfg.Repo.DeleteTask(ctx, e.sc, e.cluster, e.id)
}

// reconcileManaged keeps a cluster's managed agent running while the
// cluster is ACTIVE and has managed capacity.
func (c *Controller) reconcileManaged(ctx context.Context, ck string) (time.Duration, error) {
	c.mu.Lock()
	m, hasManaged := c.managed[ck]
	active := c.clusters[ck]
	c.mu.Unlock()
	if c.cfg.Managed != nil && hasManaged {
		c.cfg.Managed(m, active)
	}
	return 0, nil
}

// Stats reports the size of the controller's view (for tests and
// benchmarks).
func (c *Controller) Stats() (tasks, instances int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tasks), len(c.instances)
}
