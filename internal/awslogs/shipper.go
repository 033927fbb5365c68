package awslogs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/logs"
)

// Sink is CloudWatch Logs as the shipper uses it; the target names the
// region, group, stream and the task whose execution role writes.
type Sink interface {
	CreateGroup(ctx context.Context, t Target) error
	CreateStream(ctx context.Context, t Target) error
	Put(ctx context.Context, t Target, events []logs.InputEvent) error
}

// Errors a Sink returns for CloudWatch's exceptions.
var (
	ErrExists   = errors.New("already exists")
	ErrNotFound = errors.New("not found")
	// ErrRefused: CloudWatch Logs refused the events for good
	// (AccessDeniedException, InvalidParameterException, ...): sending
	// them again cannot help.
	ErrRefused = errors.New("refused")
)

// Config configures a Shipper.
type Config struct {
	Driver   driver.LogReader
	Sink     Sink
	StateDir string // positions; "" keeps none (no resume across restarts)
	Region   string // default awslogs-region
	Logger   *slog.Logger
	// FlushInterval is how long lines wait to be batched (default 1s).
	FlushInterval time.Duration
	// OnDropped, if set, is told of every batch dropped because
	// CloudWatch Logs refused it (after the shipper logged it).
	OnDropped func(ctx context.Context, t Target, events int, err error)
}

// Shipper ships containers' output.
type Shipper struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	ctx    context.Context     // Run's; nil before Run
	active map[string]bool     // runtime IDs followed now
	pos    map[string]position // the latest saved position per runtime ID
	wg     sync.WaitGroup

	dropped atomic.Int64 // events dropped because they were refused
}

// Dropped returns how many events were dropped because CloudWatch Logs
// refused them.
func (s *Shipper) Dropped() int64 { return s.dropped.Load() }

// New returns a Shipper; Run starts it.
func New(cfg Config) *Shipper {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	return &Shipper{cfg: cfg, log: cfg.Logger, active: map[string]bool{}, pos: map[string]position{}}
}

// Run resumes the followers of saved positions and lets followers start,
// until ctx ends; then it waits for them.
func (s *Shipper) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.Resume()
	<-ctx.Done()
	s.wg.Wait()
	return nil
}

// Prepare makes sure the container's group and stream exist before it is
// created: the runner's LogSetup hook.
func (s *Shipper) Prepare(ctx context.Context, task *ecs.Task, container string, lc *ecs.LogConfiguration) error {
	t, ok, err := TargetOf(lc, task.ARN, container, "", s.cfg.Region)
	if err != nil || !ok {
		return err
	}
	if t.Stream == "" {
		return nil // named after the runtime ID: created when followed
	}
	return s.ensure(ctx, t)
}

func (s *Shipper) ensure(ctx context.Context, t Target) error {
	if t.CreateGroup {
		if err := s.cfg.Sink.CreateGroup(ctx, t); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	err := s.cfg.Sink.CreateStream(ctx, t)
	if errors.Is(err, ErrExists) {
		return nil
	}
	return err
}

// Follow ships a container's output unless it is followed already. It is
// level-triggered: the agent calls it on every report of a running (or
// just stopped) container; a follower ends when the output ends.
func (s *Shipper) Follow(task *ecs.Task, container, runtimeID string, lc *ecs.LogConfiguration) {
	t, ok, err := TargetOf(lc, task.ARN, container, runtimeID, s.cfg.Region)
	if err != nil || !ok || runtimeID == "" {
		return
	}
	s.start(t, runtimeID)
}

// Resume follows again every container with a saved position: after an
// agent restart, the output written meanwhile is shipped, the rest not
// again. A container that no longer exists loses its position.
func (s *Shipper) Resume() {
	if s.cfg.StateDir == "" {
		return
	}
	names, _ := filepath.Glob(filepath.Join(s.cfg.StateDir, "*.json"))
	for _, n := range names {
		id := strings.TrimSuffix(filepath.Base(n), ".json")
		if p := s.loadPos(id); p.Target.Group != "" {
			s.start(p.Target, id)
		}
	}
}

func (s *Shipper) start(t Target, runtimeID string) {
	container := runtimeID
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil || s.active[runtimeID] {
		return
	}
	s.active[runtimeID] = true
	ctx := s.ctx
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.active, runtimeID)
			s.mu.Unlock()
		}()
		err := s.follow(ctx, t, runtimeID)
		if errors.Is(err, driver.ErrNotFound) {
			s.Forget(runtimeID)
			return
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("awslogs: shipping a container's output failed", "container", container, "runtime_id", runtimeID, "err", err)
		}
	})
}

// Forget removes a container's saved position (its task is gone).
func (s *Shipper) Forget(runtimeID string) {
	s.mu.Lock()
	delete(s.pos, runtimeID)
	s.mu.Unlock()
	if s.cfg.StateDir != "" {
		_ = os.Remove(s.posPath(runtimeID))
	}
}

// position is what a follower persists.
type position struct {
	Target Target    `json:"target"`
	TS     time.Time `json:"ts"` // Docker timestamp of the last shipped line
	N      int       `json:"n"`  // lines shipped with exactly that timestamp
}

func (s *Shipper) posPath(id string) string {
	return filepath.Join(s.cfg.StateDir, id+".json")
}

func (s *Shipper) loadPos(id string) position {
	s.mu.Lock()
	p, ok := s.pos[id]
	s.mu.Unlock()
	if ok || s.cfg.StateDir == "" {
		return p
	}
	if b, err := os.ReadFile(s.posPath(id)); err == nil {
		_ = json.Unmarshal(b, &p)
	}
	return p
}

func (s *Shipper) savePos(id string, p position) error {
	s.mu.Lock()
	s.pos[id] = p
	s.mu.Unlock()
	if s.cfg.StateDir == "" {
		return nil
	}
	if err := os.MkdirAll(s.cfg.StateDir, 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	tmp := s.posPath(id) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.posPath(id))
}

// line is one line of output with its Docker timestamp.
type line struct {
	ts  time.Time
	msg string
	err error // the read error that ended the output (io.EOF at the end)
}

// follow ships one container's output until it ends.
func (s *Shipper) follow(ctx context.Context, t Target, id string) error {
	pos := s.loadPos(id)
	pos.Target = t
	if err := s.ensure(ctx, t); err != nil {
		return err
	}
	if err := s.savePos(id, pos); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := s.cfg.Driver.Logs(rctx, id, driver.LogOptions{Follow: true, Timestamps: true, Since: pos.TS})
	if err != nil {
		return err
	}
	defer rc.Close()
	lines := make(chan line, 1024)
	var rwg sync.WaitGroup
	rwg.Go(func() { readLines(rctx, rc, lines) })
	defer func() { cancel(); rc.Close(); rwg.Wait() }()

	skip := pos.N // lines at pos.TS already shipped
	var batch []line
	size := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.put(ctx, t, batch); err != nil {
			return err
		}
		for _, l := range batch {
			if l.ts.Equal(pos.TS) {
				pos.N++
			} else if l.ts.After(pos.TS) {
				pos.TS, pos.N = l.ts, 1
			}
		}
		batch, size = batch[:0], 0
		return s.savePos(id, pos)
	}
	for {
		select {
		case l := <-lines:
			if l.err != nil {
				err := flush()
				if errors.Is(l.err, io.EOF) {
					return err
				}
				return errors.Join(err, l.err)
			}
			if !pos.TS.IsZero() && !l.ts.IsZero() && !l.ts.After(pos.TS) {
				if l.ts.Before(pos.TS) || skip > 0 {
					if l.ts.Equal(pos.TS) {
						skip--
					}
					continue
				}
			}
			if len(batch) == 0 {
				timer.Reset(s.cfg.FlushInterval)
			}
			batch = append(batch, l)
			size += len(l.msg) + logs.EventOverhead
			if len(batch) >= logs.MaxBatchEvents || size >= logs.MaxBatchBytes-logs.MaxEventBytes/4 {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// put sends a batch, retrying transient failures until ctx ends. A batch
// CloudWatch Logs refuses for good (ErrRefused, or a deleted stream that
// cannot be created again: its group is gone and awslogs-create-group is
// not "true") is dropped, as Docker's awslogs driver drops it: logged at
// error level, counted, and the follower goes on with the next lines. The
// container never waits on it (the shipper reads Docker's log, whatever
// the driver's mode).
func (s *Shipper) put(ctx context.Context, t Target, batch []line) error {
	evs := make([]logs.InputEvent, 0, len(batch))
	for _, l := range batch {
		ts := l.ts
		if ts.IsZero() {
			ts = time.Now()
		}
		evs = append(evs, logs.InputEvent{Timestamp: ts.UnixMilli(), Message: l.msg})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp < evs[j].Timestamp })
	backoff := 200 * time.Millisecond
	for {
		err := s.cfg.Sink.Put(ctx, t, evs)
		if err == nil {
			return nil
		}
		switch {
		case errors.Is(err, ErrNotFound):
			// The stream (or group) was deleted: recreate what may be.
			if e := s.ensure(ctx, t); e != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.drop(ctx, t, len(evs), fmt.Errorf("%w; recreating it: %w", err, e))
				return nil
			}
		case errors.Is(err, ErrRefused):
			s.drop(ctx, t, len(evs), err)
			return nil
		default:
			s.log.Warn("awslogs: PutLogEvents failed; retrying", "group", t.Group, "stream", t.Stream, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// drop records a refused batch.
func (s *Shipper) drop(ctx context.Context, t Target, events int, err error) {
	s.dropped.Add(int64(events))
	s.log.Error("awslogs: CloudWatch Logs refused a batch; its events are dropped", "group", t.Group, "stream", t.Stream,
		"task", t.Task, "events", events, "err", err)
	if s.cfg.OnDropped != nil {
		s.cfg.OnDropped(ctx, t, events, err)
	}
}

// readLines splits the output into lines (a line longer than an event may
// be is cut into several) and parses Docker's timestamp prefix.
func readLines(ctx context.Context, r io.Reader, out chan<- line) {
	br := bufio.NewReaderSize(r, 64<<10)
	send := func(l line) bool {
		select {
		case out <- l:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		raw, err := br.ReadString('\n')
		if len(raw) > 0 {
			l := parseLine(raw)
			for len(l.msg) > logs.MaxEventBytes {
				if !send(line{ts: l.ts, msg: l.msg[:logs.MaxEventBytes]}) {
					return
				}
				l.msg = l.msg[logs.MaxEventBytes:]
			}
			if l.msg != "" && !send(l) {
				return
			}
		}
		if err != nil {
			send(line{err: err})
			return
		}
	}
}

func parseLine(raw string) line {
	raw = trimEOL(raw)
	if i := indexByte(raw, ' '); i > 0 {
		if ts, err := time.Parse(time.RFC3339Nano, raw[:i]); err == nil {
			return line{ts: ts, msg: raw[i+1:]}
		}
	}
	return line{msg: raw}
}

func trimEOL(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
