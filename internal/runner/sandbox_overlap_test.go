package runner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// gatedNet holds CreateTaskNetwork until release is closed (then fails it
// with fail, if set), and records container creates and early starts.
type gatedNet struct {
	*recDriver
	release chan struct{}
	fail    error
	created chan string // names of created containers

	mu           sync.Mutex
	netUp        bool
	startedEarly []string
}

func (d *gatedNet) CreateTaskNetwork(ctx context.Context, spec driver.TaskNetworkSpec) (driver.TaskNetwork, error) {
	select {
	case <-d.release:
	case <-ctx.Done():
		return driver.TaskNetwork{}, ctx.Err()
	}
	if d.fail != nil {
		return driver.TaskNetwork{}, d.fail
	}
	tn, err := d.recDriver.CreateTaskNetwork(ctx, spec)
	d.mu.Lock()
	d.netUp = err == nil
	d.mu.Unlock()
	return tn, err
}

func (d *gatedNet) CreateContainer(ctx context.Context, spec driver.ContainerSpec) (string, error) {
	id, err := d.recDriver.CreateContainer(ctx, spec)
	if err == nil {
		d.created <- spec.Labels[driver.LabelContainerName]
	}
	return id, err
}

func (d *gatedNet) StartContainer(ctx context.Context, id string) error {
	d.mu.Lock()
	if !d.netUp {
		d.startedEarly = append(d.startedEarly, id)
	}
	d.mu.Unlock()
	return d.recDriver.StartContainer(ctx, id)
}

// waitCreated waits for n container creates.
func (d *gatedNet) waitCreated(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-d.created:
		case <-timeout:
			t.Fatalf("containers not created while the task network is being created")
		}
	}
}

func TestAWSVPCContainersCreatedWhileSandboxStarts(t *testing.T) {
	d := &gatedNet{recDriver: newFake(), release: make(chan struct{}), created: make(chan string, 4)}
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("awsvpc", cdef("web"), cdef("sidecar", nonEssential))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	d.waitCreated(t, 2)
	close(d.release)
	run := h.waitStatus(task.ARN, ecs.TaskRunning)
	nets, err := d.ListTaskNetworks(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN})
	if err != nil || len(nets) != 1 {
		t.Fatalf("task networks = %+v, %v; want one", nets, err)
	}
	if run.PrivateIPv4 == "" || run.PrivateIPv4 != nets[0].IPv4Address {
		t.Errorf("task's private IP = %q; want its sandbox's %q", run.PrivateIPv4, nets[0].IPv4Address)
	}
	for _, name := range []string{"web", "sidecar"} {
		ids, _ := d.ListContainers(context.Background(), map[string]string{driver.LabelTaskARN: task.ARN, driver.LabelContainerName: name})
		if len(ids) != 1 || ids[0].TaskNetworkID != nets[0].ID || ids[0].IPv4Address != nets[0].IPv4Address {
			t.Errorf("container %s = %+v; want it in task network %s", name, ids, nets[0].ID)
		}
	}
	d.mu.Lock()
	early := d.startedEarly
	d.mu.Unlock()
	if len(early) != 0 {
		t.Errorf("containers %v started before the task network was up", early)
	}
}

func TestAWSVPCSandboxFailureRemovesEarlyContainers(t *testing.T) {
	d := &gatedNet{recDriver: newFake(), release: make(chan struct{}), created: make(chan string, 4),
		fail: errors.New("no addresses left")}
	h := runHarness(t, d)
	task := newTask()
	td := taskDef("awsvpc", cdef("web"))
	h.r.Apply(TaskSpec{Task: task, Definition: td})
	d.waitCreated(t, 1)
	close(d.release)
	st := h.waitStatus(task.ARN, ecs.TaskStopped)
	if st.StopCode != ecs.StopTaskFailedToStart || !strings.Contains(st.Reason, "no addresses left") {
		t.Errorf("stopped with %q / %q; want TaskFailedToStart and the network's error", st.StopCode, st.Reason)
	}
	h.waitGone(task.ARN)
	if n := containerCount(t, d, task.ARN); n != 0 {
		t.Errorf("%d containers left after the task network failed; want 0", n)
	}
	d.mu.Lock()
	early := d.startedEarly
	d.mu.Unlock()
	if len(early) != 0 {
		t.Errorf("containers %v started though the task network failed", early)
	}
}
