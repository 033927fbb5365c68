package logscp

import (
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logstore"
)

// Config configures the plane.
type Config struct {
	Store  *logstore.Store
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Plane is the Logs control plane.
type Plane struct {
	st  *logstore.Store
	log *slog.Logger
	now func() time.Time

	tailMu sync.Mutex
	tails  map[string]map[*Tail]bool // tailKey → the Live Tail sessions of a group
}

// New returns a plane over a store.
func New(cfg Config) *Plane {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Plane{st: cfg.Store, log: cfg.Logger, now: cfg.Now}
}

// CreateGroup creates a log group.
func (p *Plane) CreateGroup(sc logs.Scope, name string, tags map[string]string) error {
	if err := logs.ValidateGroupName(name); err != nil {
		return err
	}
	if err := logs.ValidateTags(tags); err != nil {
		return err
	}
	return p.st.CreateGroup(sc, logstore.GroupMeta{Name: name, CreationTime: p.now().UnixMilli(), Tags: tags})
}

// DeleteGroup deletes a log group and its events.
func (p *Plane) DeleteGroup(sc logs.Scope, name string) error {
	if err := logs.ValidateGroupName(name); err != nil {
		return err
	}
	return p.st.DeleteGroup(sc, name)
}

// Groups lists groups by name prefix or case-insensitive pattern.
func (p *Plane) Groups(sc logs.Scope, prefix, pattern string) ([]logstore.GroupInfo, error) {
	if prefix != "" && pattern != "" {
		return nil, logs.Invalidf("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	var out []logstore.GroupInfo
	lp := strings.ToLower(pattern)
	for _, g := range p.st.Groups(sc) {
		if prefix != "" && !strings.HasPrefix(g.Name, prefix) {
			continue
		}
		if pattern != "" && !strings.Contains(strings.ToLower(g.Name), lp) {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// Group describes one group.
func (p *Plane) Group(sc logs.Scope, name string) (logstore.GroupInfo, error) {
	return p.st.Group(sc, name)
}

// SetRetention sets (days > 0) or removes (days == 0) a group's retention.
func (p *Plane) SetRetention(sc logs.Scope, name string, days int) error {
	if days != 0 {
		if err := logs.ValidateRetention(days); err != nil {
			return err
		}
	}
	return p.st.UpdateGroup(sc, name, func(m *logstore.GroupMeta) error {
		m.RetentionDays = days
		return nil
	})
}

// Tag adds or replaces tags of a group.
func (p *Plane) Tag(sc logs.Scope, name string, tags map[string]string) error {
	return p.st.UpdateGroup(sc, name, func(m *logstore.GroupMeta) error {
		if m.Tags == nil {
			m.Tags = map[string]string{}
		}
		for k, v := range tags {
			m.Tags[k] = v
		}
		return logs.ValidateTags(m.Tags)
	})
}

// Untag removes tags of a group.
func (p *Plane) Untag(sc logs.Scope, name string, keys []string) error {
	return p.st.UpdateGroup(sc, name, func(m *logstore.GroupMeta) error {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		return nil
	})
}

// CreateStream creates a log stream.
func (p *Plane) CreateStream(sc logs.Scope, group, name string) error {
	if err := logs.ValidateGroupName(group); err != nil {
		return err
	}
	if err := logs.ValidateStreamName(name); err != nil {
		return err
	}
	return p.st.CreateStream(sc, group, name, p.now().UnixMilli())
}

// DeleteStream deletes a log stream.
func (p *Plane) DeleteStream(sc logs.Scope, group, name string) error {
	if err := logs.ValidateStreamName(name); err != nil {
		return err
	}
	return p.st.DeleteStream(sc, group, name)
}

// StreamOrder orders DescribeLogStreams.
type StreamOrder struct {
	ByLastEventTime bool
	Descending      bool
}

// Streams lists a group's streams by name prefix, in the given order.
func (p *Plane) Streams(sc logs.Scope, group, prefix string, order StreamOrder) ([]logstore.StreamInfo, error) {
	if prefix != "" && order.ByLastEventTime {
		return nil, logs.Invalidf("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	all, err := p.st.Streams(sc, group)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, s := range all {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s)
		}
	}
	if order.ByLastEventTime {
		sort.SliceStable(out, func(i, j int) bool { return out[i].LastEventTime < out[j].LastEventTime })
	}
	if order.Descending {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// Put stores a PutLogEvents batch: the events AWS would accept are
// stored; the rest are reported.
func (p *Plane) Put(sc logs.Scope, group, stream string, events []logs.InputEvent) (logs.Rejected, error) {
	if err := logs.ValidateGroupName(group); err != nil {
		return logs.Rejected{}, err
	}
	if err := logs.ValidateStreamName(stream); err != nil {
		return logs.Rejected{}, err
	}
	s, days, err := p.st.Stream(sc, group, stream)
	if err != nil {
		return logs.Rejected{}, err
	}
	now := p.now()
	acc, rej, err := logs.CheckBatch(events, now, days)
	if err != nil {
		return rej, err
	}
	if len(acc) == 0 {
		return rej, nil
	}
	if err := s.Append(acc, now.UnixMilli()); err != nil {
		return rej, err
	}
	p.publish(sc, group, stream, acc, now.UnixMilli())
	return rej, nil
}
