package logstore

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/berth-dev/berth/internal/logs"
)

// SegmentBytes is the size at which a stream starts a new segment.
const SegmentBytes = 8 << 20

// Store is the on-disk log store.
type Store struct {
	dir string

	mu     sync.RWMutex
	groups map[groupKey]*group
}

type groupKey struct{ account, region, name string }

// GroupMeta is what group.json holds.
type GroupMeta struct {
	Name          string            `json:"name"`
	CreationTime  int64             `json:"creationTime"`
	RetentionDays int               `json:"retentionDays,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	NextStreamID  int64             `json:"nextStreamId"`
}

type group struct {
	dir string

	mu      sync.RWMutex
	meta    GroupMeta
	streams map[string]*stream
	deleted bool
}

// GroupInfo describes a log group.
type GroupInfo struct {
	GroupMeta
	StoredBytes int64
}

// Open loads (or creates) the store under dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("logstore: %w", err)
	}
	s := &Store{dir: dir, groups: map[groupKey]*group{}}
	metas, err := filepath.Glob(filepath.Join(dir, "*", "*", "*", "group.json"))
	if err != nil {
		return nil, err
	}
	for _, m := range metas {
		gdir := filepath.Dir(m)
		g, err := loadGroup(gdir)
		if err != nil {
			return nil, fmt.Errorf("logstore: load %s: %w", gdir, err)
		}
		region := filepath.Base(filepath.Dir(gdir))
		account := filepath.Base(filepath.Dir(filepath.Dir(gdir)))
		s.groups[groupKey{account, region, g.meta.Name}] = g
	}
	return s, nil
}

// Close closes every open segment.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		g.close()
	}
	return nil
}

func hashName(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:16])
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func loadGroup(dir string) (*group, error) {
	b, err := os.ReadFile(filepath.Join(dir, "group.json"))
	if err != nil {
		return nil, err
	}
	g := &group{dir: dir, streams: map[string]*stream{}}
	if err := json.Unmarshal(b, &g.meta); err != nil {
		return nil, err
	}
	metas, _ := filepath.Glob(filepath.Join(dir, "*", "stream.json"))
	for _, m := range metas {
		st, err := loadStream(filepath.Dir(m))
		if err != nil {
			return nil, err
		}
		g.streams[st.meta.Name] = st
	}
	return g, nil
}

func (g *group) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.streams {
		st.close()
	}
}

// CreateGroup creates a log group.
func (s *Store) CreateGroup(sc logs.Scope, meta GroupMeta) error {
	k := groupKey{sc.Account, sc.Region, meta.Name}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[k]; ok {
		return logs.ErrGroupExists()
	}
	dir := filepath.Join(s.dir, sc.Account, sc.Region, hashName(meta.Name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "group.json"), meta); err != nil {
		os.RemoveAll(dir)
		return err
	}
	s.groups[k] = &group{dir: dir, meta: meta, streams: map[string]*stream{}}
	return nil
}

func (s *Store) group(sc logs.Scope, name string) (*group, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.groups[groupKey{sc.Account, sc.Region, name}]
	if !ok {
		return nil, logs.ErrGroupNotFound()
	}
	return g, nil
}

// DeleteGroup deletes a log group and its data.
func (s *Store) DeleteGroup(sc logs.Scope, name string) error {
	k := groupKey{sc.Account, sc.Region, name}
	s.mu.Lock()
	g, ok := s.groups[k]
	delete(s.groups, k)
	s.mu.Unlock()
	if !ok {
		return logs.ErrGroupNotFound()
	}
	g.close()
	g.mu.Lock()
	g.deleted = true
	g.mu.Unlock()
	return os.RemoveAll(g.dir)
}

// Groups lists the groups of a scope, by name.
func (s *Store) Groups(sc logs.Scope) []GroupInfo {
	s.mu.RLock()
	var gs []*group
	for k, g := range s.groups {
		if k.account == sc.Account && k.region == sc.Region {
			gs = append(gs, g)
		}
	}
	s.mu.RUnlock()
	out := make([]GroupInfo, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.info())
	}
	slices.SortFunc(out, func(a, b GroupInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Group describes one group.
func (s *Store) Group(sc logs.Scope, name string) (GroupInfo, error) {
	g, err := s.group(sc, name)
	if err != nil {
		return GroupInfo{}, err
	}
	return g.info(), nil
}

func (g *group) info() GroupInfo {
	g.mu.RLock()
	defer g.mu.RUnlock()
	gi := GroupInfo{GroupMeta: g.meta}
	gi.Tags = maps(g.meta.Tags)
	for _, st := range g.streams {
		gi.StoredBytes += st.info().StoredBytes
	}
	return gi
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// UpdateGroup applies fn to a group's meta and persists it.
func (s *Store) UpdateGroup(sc logs.Scope, name string, fn func(*GroupMeta) error) error {
	g, err := s.group(sc, name)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return logs.ErrGroupNotFound()
	}
	m := g.meta
	m.Tags = maps(g.meta.Tags)
	if err := fn(&m); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(g.dir, "group.json"), m); err != nil {
		return err
	}
	g.meta = m
	return nil
}

// CreateStream creates a stream in a group.
func (s *Store) CreateStream(sc logs.Scope, groupName, name string, now int64) error {
	g, err := s.group(sc, groupName)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return logs.ErrGroupNotFound()
	}
	if _, ok := g.streams[name]; ok {
		return logs.ErrStreamExists()
	}
	m := g.meta
	m.NextStreamID++
	if err := writeJSON(filepath.Join(g.dir, "group.json"), m); err != nil {
		return err
	}
	g.meta = m
	st, err := newStream(filepath.Join(g.dir, hashName(name)), StreamMeta{Name: name, CreationTime: now, ID: m.NextStreamID})
	if err != nil {
		return err
	}
	g.streams[name] = st
	return nil
}

// DeleteStream deletes a stream and its data.
func (s *Store) DeleteStream(sc logs.Scope, groupName, name string) error {
	g, err := s.group(sc, groupName)
	if err != nil {
		return err
	}
	g.mu.Lock()
	st, ok := g.streams[name]
	delete(g.streams, name)
	g.mu.Unlock()
	if !ok {
		return logs.ErrStreamNotFound()
	}
	st.close()
	return os.RemoveAll(st.dir)
}

// Streams describes the streams of a group, by name.
func (s *Store) Streams(sc logs.Scope, groupName string) ([]StreamInfo, error) {
	g, err := s.group(sc, groupName)
	if err != nil {
		return nil, err
	}
	g.mu.RLock()
	sts := make([]*stream, 0, len(g.streams))
	for _, st := range g.streams {
		sts = append(sts, st)
	}
	g.mu.RUnlock()
	out := make([]StreamInfo, 0, len(sts))
	for _, st := range sts {
		out = append(out, st.info())
	}
	slices.SortFunc(out, func(a, b StreamInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Stream returns a handle on one stream (and the group's retention).
func (s *Store) Stream(sc logs.Scope, groupName, name string) (*Stream, int, error) {
	g, err := s.group(sc, groupName)
	if err != nil {
		return nil, 0, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	st, ok := g.streams[name]
	if !ok {
		return nil, 0, logs.ErrStreamNotFound()
	}
	return &Stream{st}, g.meta.RetentionDays, nil
}

// Expire drops, in every group with a retention, the segments whose
// newest event is older than the cutoff at nowMS. It returns how many
// segments it removed.
func (s *Store) Expire(cutoff func(retentionDays int) int64) (int, error) {
	s.mu.RLock()
	gs := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		gs = append(gs, g)
	}
	s.mu.RUnlock()
	n := 0
	var errs []error
	for _, g := range gs {
		g.mu.RLock()
		days := g.meta.RetentionDays
		sts := make([]*stream, 0, len(g.streams))
		for _, st := range g.streams {
			sts = append(sts, st)
		}
		g.mu.RUnlock()
		if days == 0 {
			continue
		}
		c := cutoff(days)
		for _, st := range sts {
			k, err := st.expire(c)
			n += k
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return n, errors.Join(errs...)
}
