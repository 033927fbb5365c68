package fake

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

// A busy driver is not a dead one: Ping answers while the driver's lock is
// held (as by a long operation), and fails only once the driver is closed.
func TestPingDoesNotWaitForTheLock(t *testing.T) {
	d := New(Options{})
	d.mu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := d.Ping(ctx)
	cancel()
	d.mu.Unlock()
	if err != nil {
		t.Fatalf("Ping of a busy driver: %v", err)
	}
	_ = d.Close()
	if err := d.Ping(context.Background()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

// Under a burst of 16 clients creating, starting, stopping and removing
// containers, every Ping succeeds within a short timeout.
func TestPingUnderLoad(t *testing.T) {
	d := New(Options{Images: []string{"img:latest"}})
	const clients, perClient = 16, 300
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient && ctx.Err() == nil; i++ {
				id, err := d.CreateContainer(ctx, driver.ContainerSpec{Name: fmt.Sprintf("c%d-%d", c, i), Image: "img:latest",
					Labels: map[string]string{driver.LabelTaskARN: fmt.Sprintf("t%d-%d", c, i)}})
				if err != nil {
					t.Error(err)
					return
				}
				_ = d.StartContainer(ctx, id)
				_, _ = d.ListContainers(ctx, nil)
				_ = d.StopContainer(ctx, id, 0)
				_ = d.RemoveContainer(ctx, id)
			}
		}()
	}
	stop := make(chan struct{})
	pings, failures := 0, 0
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pctx, pcancel := context.WithTimeout(ctx, 50*time.Millisecond)
			if err := d.Ping(pctx); err != nil {
				failures++
			}
			pcancel()
			pings++
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	pwg.Wait()
	if failures > 0 {
		t.Fatalf("%d of %d pings failed while the driver was busy", failures, pings)
	}
	if ctx.Err() != nil {
		t.Fatal("the load did not finish in time")
	}
}
