package logscp

import (
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/logs"
)

// Live Tail limits, as CloudWatch Logs documents them.
const (
	// MaxTailGroups is how many log groups one session may tail.
	MaxTailGroups = 10
	// MaxTailUpdateEvents is how many events one update carries; more
	// are sampled down to it.
	MaxTailUpdateEvents = 500
	// MaxTailBuffered is how many events a session buffers for a slow
	// reader before it drops the oldest.
	MaxTailBuffered = 5000
)

// TailQuery is a StartLiveTail request: log group names (in the caller's
// account and region), at most one of stream names and prefixes (only
// with one group), and a filter pattern.
type TailQuery struct {
	Groups   []string
	Streams  []string
	Prefixes []string
	Pattern  string
}

// TailEvent is one event of a Live Tail session.
type TailEvent struct {
	Group, Stream string
	logs.Event
}

// Tail is one Live Tail session: the events ingested since it started
// that match its query, buffered until Next takes them.
type Tail struct {
	plane   *Plane
	keys    []string // tailKey of each group
	streams map[string]bool
	prefix  []string
	pattern logs.Pattern

	mu      sync.Mutex
	buf     []TailEvent
	dropped bool
}

func tailKey(sc logs.Scope, group string) string {
	return sc.Account + "\x00" + sc.Region + "\x00" + group
}

// StartTail starts a Live Tail session; Close ends it.
func (p *Plane) StartTail(sc logs.Scope, q TailQuery) (*Tail, error) {
	switch {
	case len(q.Groups) == 0 || len(q.Groups) > MaxTailGroups:
		return nil, logs.Invalidf("1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", MaxTailGroups)
	case len(q.Streams) > 0 && len(q.Prefixes) > 0:
		return nil, logs.Invalidf("logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.")
	case (len(q.Streams) > 0 || len(q.Prefixes) > 0) && len(q.Groups) > 1:
		return nil, logs.Invalidf("logStreamNames and logStreamNamePrefixes can only be used with a single log group.")
	}
	pat, err := logs.ParsePattern(q.Pattern)
	if err != nil {
		return nil, err
	}
	t := &Tail{plane: p, pattern: pat, prefix: q.Prefixes}
	if len(q.Streams) > 0 {
		t.streams = map[string]bool{}
		for _, s := range q.Streams {
			t.streams[s] = true
		}
	}
	for _, g := range q.Groups {
		if _, err := p.st.Group(sc, g); err != nil {
			return nil, err
		}
		t.keys = append(t.keys, tailKey(sc, g))
	}
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	if p.tails == nil {
		p.tails = map[string]map[*Tail]bool{}
	}
	for _, k := range t.keys {
		if p.tails[k] == nil {
			p.tails[k] = map[*Tail]bool{}
		}
		p.tails[k][t] = true
	}
	return t, nil
}

// Close ends the session.
func (t *Tail) Close() {
	p := t.plane
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	for _, k := range t.keys {
		delete(p.tails[k], t)
		if len(p.tails[k]) == 0 {
			delete(p.tails, k)
		}
	}
}

// Next takes the buffered events: at most MaxTailUpdateEvents, evenly
// sampled from them when there are more (sampled is then true, as it is
// when the buffer dropped events for a slow reader).
func (t *Tail) Next() (events []TailEvent, sampled bool) {
	t.mu.Lock()
	buf, dropped := t.buf, t.dropped
	t.buf, t.dropped = nil, false
	t.mu.Unlock()
	if len(buf) <= MaxTailUpdateEvents {
		return buf, dropped
	}
	out := make([]TailEvent, 0, MaxTailUpdateEvents)
	for i := range MaxTailUpdateEvents {
		out = append(out, buf[i*len(buf)/MaxTailUpdateEvents])
	}
	return out, true
}

func (t *Tail) wants(stream, msg string) bool {
	if t.streams != nil && !t.streams[stream] {
		return false
	}
	if len(t.prefix) > 0 {
		ok := false
		for _, p := range t.prefix {
			ok = ok || strings.HasPrefix(stream, p)
		}
		if !ok {
			return false
		}
	}
	return t.pattern.Match(msg)
}

func (t *Tail) add(evs []TailEvent) {
	t.mu.Lock()
	t.buf = append(t.buf, evs...)
	if n := len(t.buf) - MaxTailBuffered; n > 0 {
		t.buf = append(t.buf[:0:0], t.buf[n:]...)
		t.dropped = true
	}
	t.mu.Unlock()
}

// publish hands events a PutLogEvents stored to the sessions tailing
// their group.
func (p *Plane) publish(sc logs.Scope, group, stream string, events []logs.InputEvent, ingested int64) {
	p.tailMu.Lock()
	subs := p.tails[tailKey(sc, group)]
	tails := make([]*Tail, 0, len(subs))
	for t := range subs {
		tails = append(tails, t)
	}
	p.tailMu.Unlock()
	for _, t := range tails {
		var out []TailEvent
		for _, e := range events {
			if t.wants(stream, e.Message) {
				out = append(out, TailEvent{Group: group, Stream: stream,
					Event: logs.Event{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: ingested}})
			}
		}
		if len(out) > 0 {
			t.add(out)
		}
	}
}
