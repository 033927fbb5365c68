package ecsapi

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store"
)

// startCore builds what the composition root builds over st for the ECS
// API (repository, state cache, placer), runs it until the test ends, and
// waits for it then.
func startCore(tb testing.TB, st store.Store) (*ecsstore.Repo, *placement.Placer) {
	tb.Helper()
	repo := ecsstore.New(st)
	cache := ecscache.New(st, nil)
	placer := placement.New(repo, cache, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = cache.Run(ctx); done <- struct{}{} }()
	go func() { _ = placer.Run(ctx); done <- struct{}{} }()
	tb.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return repo, placer
}
