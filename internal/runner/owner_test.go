package runner

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// Two berth data directories (owners) share one daemon with the same
// cluster and instance ARN: each runner adopts, watches and removes only
// its own containers and task networks.
func TestOwnersShareADaemon(t *testing.T) {
	d := newFake()
	owner := func(id string) func(*Config) {
		return func(c *Config) { c.Owner, c.OrphanGrace = id, 100*time.Millisecond }
	}
	a := runHarness(t, d, owner("aaaa"))
	b := runHarness(t, d, owner("bbbb"))
	ta, tb := newTask(), newTask()
	td := taskDef("awsvpc", cdef("web"))
	a.r.Apply(TaskSpec{Task: ta, Definition: td})
	b.r.Apply(TaskSpec{Task: tb, Definition: td})
	runA := a.waitStatus(ta.ARN, ecs.TaskRunning)
	b.waitStatus(tb.ARN, ecs.TaskRunning)
	st, err := d.InspectContainer(context.Background(), container(runA, "web").RuntimeID)
	if err != nil || st.Labels[driver.LabelOwner] != "aaaa" {
		t.Fatalf("a's container is labelled %v (%v)", st.Labels, err)
	}
	nets, err := d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: ta.ARN})
	if err != nil || len(nets) != 1 || nets[0].Labels[driver.LabelOwner] != "aaaa" {
		t.Fatalf("a's task network: %+v %v", nets, err)
	}

	// b restarts: it adopts its own task only, and a's outlives b's
	// orphan grace.
	b.stop()
	r2, h2 := newRunner(t, d, owner("bbbb"))
	adopted, err := r2.Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(adopted) != 1 || adopted[0].TaskARN != tb.ARN {
		t.Fatalf("b adopted %+v, want only %s", adopted, tb.ARN)
	}
	h2.start()
	h2.waitGone(tb.ARN) // b's own orphan is stopped and removed
	// A runner without an owner (an older berth) takes neither.
	r3, _ := newRunner(t, d)
	if got, err := r3.Adopt(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("an owner-less runner adopted %+v (%v)", got, err)
	}
	if c, _ := a.r.Task(ta.ARN); c.LastStatus != ecs.TaskRunning {
		t.Fatalf("a's task is %s after b's restart", c.LastStatus)
	}
	if n := containerCount(t, d, ta.ARN); n != 1 {
		t.Fatalf("a's task has %d containers after b's restart", n)
	}
}
