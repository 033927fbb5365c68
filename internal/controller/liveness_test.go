package controller

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/store/bolt"
)

func TestStaleDecision(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	grace := 30 * time.Second
	instances := []InstanceInfo{
		{ARN: "held-live", Connected: true},
		{ARN: "held-dead", Connected: true},
		{ARN: "unclaimed", Connected: true},
		{ARN: "new-orphan", Connected: true},
		{ARN: "away", Connected: false},
	}
	holders := map[string]Holder{"held-live": {Server: "a"}, "held-dead": {Server: "b"}, "away": {Server: "b"}}
	alive := map[string]bool{"a": true, "b": false}
	orphanSince := map[string]time.Time{
		"unclaimed": now.Add(-time.Hour), "held-live": now.Add(-time.Hour), "gone": now.Add(-time.Hour),
	}
	instances = append(instances, InstanceInfo{ARN: "held-by-unknown", Connected: true})
	holders["held-by-unknown"] = Holder{Server: "left"}
	got := staleDecision(instances, holders, alive, orphanSince, now, grace)
	slices.Sort(got)
	// held-dead: at once (its server is known dead); unclaimed: its grace
	// has passed; held-by-unknown and new-orphan: their grace starts.
	if want := []string{"held-dead", "unclaimed"}; !slices.Equal(got, want) {
		t.Fatalf("stale %v; want %v", got, want)
	}
	for _, arn := range []string{"new-orphan", "held-by-unknown"} {
		if _, ok := orphanSince[arn]; !ok {
			t.Errorf("%s: its orphan clock did not start", arn)
		}
	}
	for _, arn := range []string{"held-live", "gone", "away"} {
		if _, ok := orphanSince[arn]; ok {
			t.Errorf("%s kept an orphan clock", arn)
		}
	}
}

// TestStaleSessionsMarksTheDeadServersInstances runs two servers'
// registries on one store: A keeps beating, B stops (killed); after three
// intervals the leader marks B's instance disconnected and leaves A's.
func TestStaleSessionsMarksTheDeadServersInstances(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		ctx := context.Background()
		a := &SessionRegistry{Store: st, Identity: "host/1/a"}
		b := &SessionRegistry{Store: st, Identity: "host/2/b"}
		const onA, onB = "arn:aws:ecs:eu-west-1:123456789012:container-instance/c1/a", "arn:aws:ecs:eu-west-1:123456789012:container-instance/c1/b"
		for _, step := range []error{a.Beat(ctx), b.Beat(ctx), a.Claim(ctx, onA), b.Claim(ctx, onB)} {
			if step != nil {
				t.Fatal(step)
			}
		}
		src := newFakeSource()
		src.putInstance(InstanceInfo{ARN: onA, Connected: true})
		src.putInstance(InstanceInfo{ARN: onB, Connected: true})
		inst := &fakeInstances{connected: map[string]bool{onA: true, onB: true}}
		s := NewStaleSessions(StaleSessionsConfig{Source: src, Registry: a, Instances: inst, Interval: 10 * time.Second})
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(rctx) }()
		// A beats every interval; B has died.
		for i := range 6 {
			time.Sleep(10 * time.Second)
			if err := a.Beat(ctx); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if i < 3 && !inst.isConnected(onB) {
				t.Fatalf("B's instance marked after %d intervals; want the grace of three", i+1)
			}
		}
		cancel()
		<-done
		if inst.isConnected(onB) || !inst.isConnected(onA) {
			t.Fatalf("connected %v; want only A's instance", inst.connected)
		}
		if _, holders, err := a.Read(ctx); err != nil || holders[onB].Server != "" || holders[onA].Server != a.Identity {
			t.Fatalf("holders %v, %v; want B's record dropped, A's kept", holders, err)
		}
	})
}

func TestSessionRegistryReleaseOnlyOwnRecord(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	a := &SessionRegistry{Store: st, Identity: "a"}
	b := &SessionRegistry{Store: st, Identity: "b"}
	if err := a.Claim(ctx, instARN); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim(ctx, instARN); err != nil { // the agent moved to b
		t.Fatal(err)
	}
	if err := a.Release(ctx, instARN); err != nil {
		t.Fatal(err)
	}
	if _, holders, _ := a.Read(ctx); holders[instARN].Server != "b" {
		t.Fatalf("a released b's record: %v", holders)
	}
	if err := b.Release(ctx, instARN); err != nil {
		t.Fatal(err)
	}
	if _, holders, _ := a.Read(ctx); len(holders) != 0 {
		t.Fatalf("b's release left %v", holders)
	}
}
