package docker

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// WaitEvents streams container events from Docker's /events endpoint.
func (d *Driver) WaitEvents(ctx context.Context) (<-chan driver.ContainerEvent, error) {
	if err := d.Ping(ctx); err != nil {
		return nil, err
	}
	// Ask for events since now so that none is lost between the request
	// and the daemon's subscription.
	since := time.Now().UTC().Format(time.RFC3339Nano)
	ctx, cancel := context.WithCancel(ctx)
	filters := client.Filters{}.
		Add("type", string(events.ContainerEventType)).
		Add("event", "start", "die", "oom", "health_status", "destroy")
	res := d.cli.Events(ctx, client.EventsListOptions{Since: since, Filters: filters})

	out := make(chan driver.ContainerEvent, 64)
	go func() {
		defer cancel()
		defer close(out)
		for {
			select {
			case msg := <-res.Messages:
				ev, ok := toEvent(msg)
				if !ok {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				if ctx.Err() == nil && err != nil {
					d.log.WarnContext(ctx, "docker event stream ended", "error", err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Event attributes that are not container labels.
var nonLabelAttributes = map[string]bool{"name": true, "image": true, "exitCode": true, "signal": true, "execDuration": true}

func toEvent(msg events.Message) (driver.ContainerEvent, bool) {
	if msg.Type != events.ContainerEventType {
		return driver.ContainerEvent{}, false
	}
	attrs := msg.Actor.Attributes
	sandbox := attrs[labelRole] == roleSandbox
	if sandbox && msg.Action != "die" && msg.Action != "destroy" {
		return driver.ContainerEvent{}, false // only its end matters
	}
	ev := driver.ContainerEvent{
		TaskNetwork: sandbox,
		ContainerID: msg.Actor.ID,
		Name:        attrs["name"],
		Image:       attrs["image"],
		Labels:      map[string]string{},
		Time:        time.Unix(0, msg.TimeNano),
	}
	if msg.TimeNano == 0 {
		ev.Time = time.Unix(msg.Time, 0)
	}
	for k, v := range attrs {
		if !nonLabelAttributes[k] && !strings.HasPrefix(k, driver.LabelDriverPrefix) {
			ev.Labels[k] = v
		}
	}
	action := string(msg.Action)
	switch {
	case action == "start":
		ev.Type = driver.EventStart
	case action == "die":
		ev.Type = driver.EventDie
		ev.ExitCode, _ = strconv.Atoi(attrs["exitCode"])
	case action == "oom":
		ev.Type = driver.EventOOM
	case action == "destroy":
		ev.Type = driver.EventDestroy
	case strings.HasPrefix(action, "health_status"):
		ev.Type = driver.EventHealthStatus
		_, status, _ := strings.Cut(action, ":")
		ev.Health = driver.HealthStatus(strings.TrimSpace(status))
	default:
		return driver.ContainerEvent{}, false
	}
	return ev, true
}
