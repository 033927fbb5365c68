package awslogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/logs"
)

// fakeLogs serves fixed output with timestamps, honouring Since (inclusive, as Docker).
type fakeLogs struct {
	lines []string // "RFC3339Nano message"
}

func (f *fakeLogs) Logs(_ context.Context, id string, o driver.LogOptions) (io.ReadCloser, error) {
	if id == "gone" {
		return nil, fmt.Errorf("container %s: %w", id, driver.ErrNotFound)
	}
	var b strings.Builder
	for _, l := range f.lines {
		ts, _ := time.Parse(time.RFC3339Nano, l[:strings.IndexByte(l, ' ')])
		if !o.Since.IsZero() && ts.Before(o.Since) {
			continue
		}
		b.WriteString(l + "\n")
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

type fakeSink struct {
	mu      sync.Mutex
	groups  map[string]bool
	streams map[string]bool
	events  []string
	puts    int
	putErr  error // every Put's answer, when set
	// deleteGroup deletes the group and its streams at the next Put, as
	// `aws logs delete-log-group` while the container runs.
	deleteGroup bool
}

func (s *fakeSink) CreateGroup(_ context.Context, t Target) error {
	g := t.Group
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[g] {
		return ErrExists
	}
	s.groups[g] = true
	return nil
}

func (s *fakeSink) CreateStream(_ context.Context, t Target) error {
	g, st := t.Group, t.Stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.groups[g] {
		return ErrNotFound
	}
	if s.streams[g+"|"+st] {
		return ErrExists
	}
	s.streams[g+"|"+st] = true
	return nil
}

func (s *fakeSink) Put(_ context.Context, t Target, evs []logs.InputEvent) error {
	st := t.Stream
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.putErr != nil {
		return s.putErr
	}
	if s.deleteGroup {
		s.deleteGroup = false
		delete(s.groups, t.Group)
		for k := range s.streams {
			if strings.HasPrefix(k, t.Group+"|") {
				delete(s.streams, k)
			}
		}
	}
	if !s.streams[t.Group+"|"+st] {
		return ErrNotFound
	}
	for _, e := range evs {
		s.events = append(s.events, st+" "+e.Message)
	}
	return nil
}

func (s *fakeSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var task = &ecs.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123abcd"}

func TestPrepareCreatesOrFails(t *testing.T) {
	sink := &fakeSink{groups: map[string]bool{}, streams: map[string]bool{}}
	s := New(Config{Driver: &fakeLogs{}, Sink: sink})
	lc := &ecs.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "web"}}
	if err := s.Prepare(t.Context(), task, "app", lc); err == nil {
		t.Fatal("a missing group without awslogs-create-group was accepted")
	}
	lc.Options["awslogs-create-group"] = "true"
	if err := s.Prepare(t.Context(), task, "app", lc); err != nil {
		t.Fatal(err)
	}
	if !sink.streams["/ecs/web|web/app/0123abcd"] {
		t.Fatalf("streams %v", sink.streams)
	}
	if err := s.Prepare(t.Context(), task, "app", &ecs.LogConfiguration{LogDriver: "json-file"}); err != nil {
		t.Fatal(err)
	}
}

func TestFollowResumesWithoutLossOrDuplicates(t *testing.T) {
	base := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 50 {
		// Pairs of lines share a timestamp: resuming must count them.
		ts := base.Add(time.Duration(i/2) * time.Millisecond)
		lines = append(lines, ts.Format(time.RFC3339Nano)+" line "+fmt.Sprint(i))
	}
	src := &fakeLogs{lines: lines[:25]} // the container has written 25 lines so far
	sink := &fakeSink{groups: map[string]bool{"/g": true}, streams: map[string]bool{}}
	dir := t.TempDir()
	lc := &ecs.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/g", "awslogs-stream-prefix": "p"}}

	ctx, cancel := context.WithCancel(t.Context())
	s := New(Config{Driver: src, Sink: sink, StateDir: dir, FlushInterval: time.Millisecond})
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ctx != nil })
	s.Follow(task, "app", "c1", lc)
	waitFor(t, func() bool { return sink.count() == 25 })
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.active) == 0 })
	cancel()
	<-done

	// An "agent restart": the container wrote 25 more lines; a new
	// shipper resumes from the saved position by itself.
	src.lines = lines
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	s = New(Config{Driver: src, Sink: sink, StateDir: dir, FlushInterval: time.Millisecond})
	done = make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, func() bool { return sink.count() >= 50 })
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.active) == 0 })
	if sink.count() != 50 {
		t.Fatalf("%d events shipped, want 50", sink.count())
	}
	for i, e := range sink.events {
		if want := fmt.Sprintf("p/app/0123abcd line %d", i); e != want {
			t.Fatalf("event %d = %q, want %q", i, e, want)
		}
	}
	cancel()
	<-done
}

// TestRefusedBatchesAreDropped: PutLogEvents refused for good after the
// container started (AccessDeniedException; the group deleted without
// awslogs-create-group) drops the batch, as Docker's awslogs driver does:
// counted, reported, the follower goes on to the end of the output and a
// restarted shipper does not send the dropped lines again. A group that
// may be created again is, and the lines are shipped.
func TestRefusedBatchesAreDropped(t *testing.T) {
	base := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	var lines []string
	for i := range 10 {
		lines = append(lines, base.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano)+" line "+fmt.Sprint(i))
	}
	run := func(sink *fakeSink, dir string, lc *ecs.LogConfiguration) (dropped int64, reported int, lastErr error) {
		t.Helper()
		var mu sync.Mutex
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := New(Config{Driver: &fakeLogs{lines: lines}, Sink: sink, StateDir: dir, FlushInterval: time.Millisecond,
			OnDropped: func(_ context.Context, _ Target, n int, err error) {
				mu.Lock()
				reported += n
				lastErr = err
				mu.Unlock()
			}})
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.ctx != nil })
		s.Follow(task, "app", "c1", lc)
		// The follower ends with the output: nothing waits on a refusal.
		waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.active) == 0 && len(s.pos) > 0 })
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return s.Dropped(), reported, lastErr
	}
	lc := &ecs.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/g", "awslogs-stream-prefix": "p"}}

	// Denied: every line dropped and reported; not sent again later.
	dir := t.TempDir()
	sink := &fakeSink{groups: map[string]bool{"/g": true}, streams: map[string]bool{},
		putErr: fmt.Errorf("%w: AccessDeniedException: not authorized to perform logs:PutLogEvents", ErrRefused)}
	dropped, reported, err := run(sink, dir, lc)
	if dropped != 10 || reported != 10 || !strings.Contains(fmt.Sprint(err), "AccessDeniedException") || sink.count() != 0 {
		t.Fatalf("denied: dropped %d, reported %d (%v), shipped %d", dropped, reported, err, sink.count())
	}
	sink.putErr = nil
	if dropped, _, _ = run(sink, dir, lc); dropped != 0 || sink.count() != 0 {
		t.Fatalf("after a restart: dropped %d, shipped %d; the dropped lines must not be sent again", dropped, sink.count())
	}

	// The group deleted while the container runs: without
	// awslogs-create-group the lines are dropped ...
	sink = &fakeSink{groups: map[string]bool{"/g": true}, streams: map[string]bool{}, deleteGroup: true}
	dropped, reported, err = run(sink, t.TempDir(), lc)
	if dropped != 10 || reported != 10 || !errors.Is(err, ErrNotFound) || sink.count() != 0 {
		t.Fatalf("group deleted: dropped %d, reported %d (%v), shipped %d", dropped, reported, err, sink.count())
	}
	// ... with it, the group comes back and they are shipped.
	lc.Options["awslogs-create-group"] = "true"
	sink = &fakeSink{groups: map[string]bool{"/g": true}, streams: map[string]bool{}, deleteGroup: true}
	if dropped, _, _ = run(sink, t.TempDir(), lc); dropped != 0 || sink.count() != 10 {
		t.Fatalf("group deleted, awslogs-create-group: dropped %d, shipped %d", dropped, sink.count())
	}
}
