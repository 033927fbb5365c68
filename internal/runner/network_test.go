package runner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// noNetEvents is a fake driver whose event stream loses task network events.
type noNetEvents struct{ *recDriver }

func (d *noNetEvents) WaitEvents(ctx context.Context) (<-chan driver.ContainerEvent, error) {
	in, err := d.recDriver.WaitEvents(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan driver.ContainerEvent)
	go func() {
		defer close(out)
		for ev := range in {
			if !ev.TaskNetwork {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// An awsvpc task whose network sandbox dies behind the runner's back stops,
// with a reason, as ECS stops a task whose ENI is gone; the event is
// enough, and so is the resync that a lost event falls back on.
func TestTaskNetworkLost(t *testing.T) {
	for _, viaResync := range []bool{false, true} {
		name := "event"
		if viaResync {
			name = "resync"
		}
		t.Run(name, func(t *testing.T) {
			d := newFake()
			var drv driver.Driver = d
			if viaResync {
				drv = &noNetEvents{d}
			}
			h := runHarness(t, drv, func(c *Config) { c.ResyncInterval = 50 * time.Millisecond })
			task := newTask()
			h.r.Apply(TaskSpec{Task: task, Definition: taskDef("awsvpc", cdef("web"))})
			h.waitStatus(task.ARN, ecs.TaskRunning)
			h.r.mu.Lock()
			netID := h.r.tasks[task.ARN].net.ID
			h.r.mu.Unlock()
			if err := d.KillTaskNetwork(netID); err != nil {
				t.Fatal(err)
			}
			st := h.waitStatus(task.ARN, ecs.TaskStopped)
			if st.StopCode != ecs.StopEssentialContainerExited || !strings.HasPrefix(st.Reason, ReasonNetworkLost) {
				t.Fatalf("stopped with %q %q", st.StopCode, st.Reason)
			}
			if n := containerCount(t, d, task.ARN); n != 0 {
				t.Fatalf("%d containers left", n)
			}
		})
	}
}
