package ecsapi

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store"
)

// core is what the composition root builds over a store for the ECS API.
type core struct {
	cache  *ecscache.Cache
	repo   *ecsstore.Repo
	placer *placement.Placer
	plane  *ecscp.Plane
}

// startCore builds the ECS core over st (repository, state cache, placer,
// control plane), runs it until the test ends, and waits for it then.
func startCore(tb testing.TB, st store.Store, capacity ecscp.ManagedCapacity) core {
	tb.Helper()
	repo := ecsstore.New(st)
	cache := ecscache.New(st, nil)
	placer := placement.New(repo, cache, nil)
	plane := ecscp.New(ecscp.Config{Repo: repo, Cache: cache, Placer: placer, Capacity: capacity})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = cache.Run(ctx); done <- struct{}{} }()
	go func() { _ = placer.Run(ctx); done <- struct{}{} }()
	tb.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	return core{cache: cache, repo: repo, placer: placer, plane: plane}
}

// newAPI returns an API over a started core.
func newAPI(c core) *API {
	a, _ := New(Config{Plane: c.plane, DefaultAccount: "123456789012"})
	return a
}
