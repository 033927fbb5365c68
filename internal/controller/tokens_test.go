package controller

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

func TestTokenSweepForgetsOldTokensOfActiveClusters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		src.putCluster(ClusterInfo{Scope: scope, Name: "live", Active: true})
		src.putCluster(ClusterInfo{Scope: scope, Name: "gone"})
		type call struct {
			cluster string
			cutoff  time.Time
		}
		var mu sync.Mutex
		var calls []call
		s := NewTokenSweep(TokenSweepConfig{View: src, Interval: 10 * time.Minute, Tokens: tokensFunc(func(_ context.Context, _ ecs.Scope, cluster string, cutoff time.Time) error {
			mu.Lock()
			calls = append(calls, call{cluster, cutoff})
			mu.Unlock()
			return nil
		})})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		t0 := time.Now()
		time.Sleep(10*time.Minute - time.Nanosecond)
		synctest.Wait()
		mu.Lock()
		if len(calls) != 0 {
			t.Fatalf("swept before the interval: %v", calls)
		}
		mu.Unlock()
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		cancel()
		<-done
		want := t0.Add(10*time.Minute - RunTokenTTL)
		if len(calls) != 1 || calls[0].cluster != "live" || !calls[0].cutoff.Equal(want) {
			t.Fatalf("calls %v; want one for live with cutoff %v", calls, want)
		}
	})
}
