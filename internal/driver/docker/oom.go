package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// A container's OOMKilled, as Docker 20.10 reports it, can miss an OOM
// kill: the daemon copies the flag from containerd's exit event, and
// containerd's shim sends the OOM event and the exit event by different
// paths, so the OOM can come second (under load it does, now and then).
// The daemon then logs the "oom" event but never sets the flag (later
// Docker versions set it on the late event). So for an exited container
// with a memory limit that does not say OOMKilled, the driver also asks
// the daemon's event log for an "oom" of the container since it started:
// a late one counts too.

// oomSettle is how long after a container's exit its answer may still
// change (a late "oom" event can still come); later answers are final and
// kept, so a container's later inspects ask the daemon nothing more.
const oomSettle = 5 * time.Second

// oomCacheMax bounds the final answers kept; past it they are dropped
// (and asked again when needed).
const oomCacheMax = 4096

// oomAnswers keeps final late-OOM answers by container ID and the end of
// the run they are about.
type oomAnswers struct {
	mu sync.Mutex
	m  map[string]oomAnswer
}

type oomAnswer struct {
	finished time.Time
	killed   bool
}

func (a *oomAnswers) get(id string, finished time.Time) (killed, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ans, ok := a.m[id]
	if !ok || !ans.finished.Equal(finished) {
		return false, false
	}
	return ans.killed, true
}

func (a *oomAnswers) put(id string, finished time.Time, killed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil || len(a.m) >= oomCacheMax {
		a.m = map[string]oomAnswer{}
	}
	a.m[id] = oomAnswer{finished: finished, killed: killed}
}

func (a *oomAnswers) forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, id)
}

// memoryLimited reports whether the kernel's OOM killer can end c for its
// cgroup's limit: it has a memory limit of its own or sits in a task
// cgroup.
func memoryLimited(c container.InspectResponse) bool {
	h := c.HostConfig
	return h != nil && (h.Memory > 0 || h.CgroupParent != "")
}

// lateOOM reports whether the daemon logged an "oom" event of container id
// between started and now. Errors count as no (the daemon's own flag
// stands); the query is bounded by a short timeout.
func (d *Driver) lateOOM(ctx context.Context, id string, started, finished time.Time) bool {
	if killed, ok := d.ooms.get(id, finished); ok {
		return killed
	}
	now := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res := d.cli.Events(ctx, client.EventsListOptions{
		Since: unixNano(started.Add(-time.Second)), // the daemon's clock is this host's; a second of margin
		Until: unixNano(now),
		Filters: client.Filters{}.
			Add("type", string(events.ContainerEventType)).
			Add("container", id).
			Add("event", "oom"),
	})
	killed := false
wait:
	for {
		select {
		case msg := <-res.Messages:
			if msg.Action == "oom" && msg.Actor.ID == id {
				killed = true
				break wait
			}
		case err := <-res.Err:
			// The stream ends with io.EOF once it passed Until.
			if err != nil && !errors.Is(err, io.EOF) {
				d.log.DebugContext(ctx, "oom event query failed", "id", id, "error", err)
				return false
			}
			break wait
		}
	}
	if killed {
		d.log.InfoContext(ctx, "OOM kill found in the daemon's events after the exit", "id", id)
	}
	if killed || now.Sub(finished) > oomSettle {
		d.ooms.put(id, finished, killed)
	}
	return killed
}

func unixNano(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }
