package fake

import (
	"context"
	"maps"
	"sync"

	"github.com/berth-dev/berth/internal/driver"
)

// subscriber is one WaitEvents stream. Events queue without bound, so that
// emitting never blocks the driver, and are delivered in order.
type subscriber struct {
	mu     sync.Mutex
	queue  []driver.ContainerEvent
	wake   chan struct{} // signalled when queue grows or closing
	closed bool
}

func (s *subscriber) push(ev driver.ContainerEvent) {
	s.mu.Lock()
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// pop returns the queued events, and whether the subscriber is closed.
func (s *subscriber) pop() ([]driver.ContainerEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q, s.closed
}

// WaitEvents streams the fake's events until ctx is done or Close.
func (d *Driver) WaitEvents(ctx context.Context) (<-chan driver.ContainerEvent, error) {
	s := &subscriber{wake: make(chan struct{}, 1)}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		out := make(chan driver.ContainerEvent)
		close(out)
		return out, nil
	}
	d.subs[s] = struct{}{}
	d.mu.Unlock()

	out := make(chan driver.ContainerEvent, 64)
	go func() {
		defer close(out)
		defer func() {
			d.mu.Lock()
			delete(d.subs, s)
			d.mu.Unlock()
		}()
		for {
			batch, closed := s.pop()
			for _, ev := range batch {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			if closed {
				return
			}
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// emit sends an event about c to every subscriber; d.mu is held.
func (d *Driver) emit(c *container, typ driver.EventType) {
	if len(d.subs) == 0 {
		return
	}
	ev := driver.ContainerEvent{
		Type:        typ,
		ContainerID: c.id,
		Name:        c.spec.Name,
		Image:       c.spec.Image,
		Labels:      maps.Clone(c.spec.Labels),
		Time:        d.now(),
	}
	switch typ {
	case driver.EventDie:
		ev.ExitCode = c.exitCode
	case driver.EventHealthStatus:
		ev.Health = c.health
	}
	for s := range d.subs {
		s.push(ev)
	}
}

// emitNetwork sends an event about a task network sandbox; d.mu is held.
func (d *Driver) emitNetwork(n *taskNetwork, typ driver.EventType) {
	if len(d.subs) == 0 {
		return
	}
	ev := driver.ContainerEvent{
		Type: typ, ContainerID: n.tn.ID, Name: n.tn.Name, Labels: maps.Clone(n.tn.Labels),
		Time: d.now(), TaskNetwork: true,
	}
	if typ == driver.EventDie {
		ev.ExitCode = 137
	}
	for s := range d.subs {
		s.push(ev)
	}
}
