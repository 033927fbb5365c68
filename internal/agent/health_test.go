package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/berth-dev/berth/internal/driver/fake"
)

// pingDriver is a fake driver whose Ping is scripted.
type pingDriver struct {
	*fake.Driver
	ping func(ctx context.Context) error
}

func (d *pingDriver) Ping(ctx context.Context) error { return d.ping(ctx) }

// A driver that is slow to answer (busy behind its lock) is not reported
// dead: tasks are accepted. One whose ping fails is, in its own words,
// not Docker's when it is not Docker.
func TestRuntimeHealthBusyIsNotDead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &pingDriver{Driver: fake.New(fake.Options{}), ping: func(ctx context.Context) error {
			<-ctx.Done() // waits for the driver's lock past the timeout
			return ctx.Err()
		}}
		a := New(Config{Driver: busy})
		if err := a.runtimeHealth(t.Context()); err != nil {
			t.Fatalf("a busy driver was reported dead: %v", err)
		}

		dead := &pingDriver{Driver: fake.New(fake.Options{}), ping: func(context.Context) error {
			return errors.New("fake: driver closed")
		}}
		a = New(Config{Driver: dead})
		err := a.runtimeHealth(t.Context())
		if err == nil || err.Error() != "fake: driver closed" {
			t.Fatalf("a dead driver: %v, want its own error", err)
		}
		if strings.Contains(err.Error(), "Docker") {
			t.Fatalf("the reason blames Docker: %v", err)
		}

		// A session ending mid-ping passes no verdict.
		ctx, cancel := context.WithCancel(t.Context())
		cancelled := &pingDriver{Driver: fake.New(fake.Options{}), ping: func(ctx context.Context) error {
			cancel()
			return ctx.Err()
		}}
		a = New(Config{Driver: cancelled})
		if err := a.runtimeHealth(ctx); err == nil {
			t.Fatal("a cancelled ping succeeded")
		}
		if !a.pingAt.IsZero() {
			t.Fatal("a cancelled ping was cached as the driver's health")
		}
	})
}
