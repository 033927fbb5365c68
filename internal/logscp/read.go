package logscp

import (
	"container/heap"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/logs"
	"github.com/berth-dev/berth/internal/logstore"
)

// AWS's read limits.
const (
	MaxReadEvents = 10000
	MaxReadBytes  = 1048576
)

// GetQuery is a GetLogEvents request.
type GetQuery struct {
	Group, Stream string
	Start, End    *int64 // ms; start inclusive, end exclusive
	Token         string
	Limit         int
	StartFromHead bool
}

// GetResult is one GetLogEvents page.
type GetResult struct {
	Events        []logs.Event
	ForwardToken  string
	BackwardToken string
}

func fwdToken(seq int64) string { return fmt.Sprintf("f/%056d/s", seq) }
func bwdToken(seq int64) string { return fmt.Sprintf("b/%056d/s", seq) }

func parseToken(tok string) (dir byte, seq int64, err error) {
	bad := logs.Invalidf("The specified nextToken is invalid.")
	if len(tok) < 3 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' {
		return 0, 0, bad
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(tok[2:], "/s"), 10, 64)
	if err != nil || n < 0 {
		return 0, 0, bad
	}
	return tok[0], n, nil
}

func inRange(ts int64, start, end *int64, cutoff int64) bool {
	if ts < cutoff {
		return false
	}
	if start != nil && ts < *start {
		return false
	}
	return end == nil || ts < *end
}

func limitOf(n int) (int, error) {
	if n == 0 {
		return MaxReadEvents, nil
	}
	if n < 1 || n > MaxReadEvents {
		return 0, logs.Invalidf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000", n)
	}
	return n, nil
}

// Get reads one page of a stream, forward or backward.
func (p *Plane) Get(sc logs.Scope, q GetQuery) (GetResult, error) {
	limit, err := limitOf(q.Limit)
	if err != nil {
		return GetResult{}, err
	}
	s, days, err := p.st.Stream(sc, q.Group, q.Stream)
	if err != nil {
		return GetResult{}, err
	}
	cutoff := logs.Cutoff(days, p.now())
	first, next := s.Bounds()
	dir, seq := byte('b'), next
	if q.StartFromHead {
		dir, seq = 'f', first
	}
	if q.Token != "" {
		if dir, seq, err = parseToken(q.Token); err != nil {
			return GetResult{}, err
		}
	}
	seq = min(max(seq, first), next)
	if dir == 'f' {
		var res GetResult
		size := 0
		c := s.Cursor(seq)
		last := seq
		for len(res.Events) < limit {
			e, at, ok, err := c.Next()
			if err != nil {
				return GetResult{}, err
			}
			if !ok {
				break
			}
			if size+len(e.Message)+26 > MaxReadBytes {
				break
			}
			last = at + 1
			if inRange(e.Timestamp, q.Start, q.End, cutoff) {
				res.Events = append(res.Events, e)
				size += len(e.Message) + 26
			}
		}
		res.ForwardToken, res.BackwardToken = fwdToken(last), bwdToken(seq)
		return res, nil
	}
	// Backward: scan windows before seq until the page is full.
	type hit struct {
		e   logs.Event
		seq int64
	}
	var got []hit
	hi := seq
	size := 0
	for hi > first && len(got) < limit && size < MaxReadBytes {
		lo := max(first, hi-int64(limit))
		var win []hit
		c := s.Cursor(lo)
		for {
			e, at, ok, err := c.Next()
			if err != nil {
				return GetResult{}, err
			}
			if !ok || at >= hi {
				break
			}
			if inRange(e.Timestamp, q.Start, q.End, cutoff) {
				win = append(win, hit{e, at})
			}
		}
		for i := len(win) - 1; i >= 0 && len(got) < limit; i-- {
			if size+len(win[i].e.Message)+26 > MaxReadBytes {
				size = MaxReadBytes
				break
			}
			size += len(win[i].e.Message) + 26
			got = append(got, win[i])
		}
		hi = lo
	}
	res := GetResult{ForwardToken: fwdToken(seq), BackwardToken: bwdToken(first)}
	if len(got) > 0 {
		res.BackwardToken = bwdToken(got[len(got)-1].seq)
		res.ForwardToken = fwdToken(got[0].seq + 1)
	}
	for i := len(got) - 1; i >= 0; i-- {
		res.Events = append(res.Events, got[i].e)
	}
	return res, nil
}

// FilterQuery is a FilterLogEvents request.
type FilterQuery struct {
	Group        string
	StreamNames  []string
	StreamPrefix string
	Start, End   *int64
	Pattern      string
	Token        string
	Limit        int
}

// FilteredEvent is one FilterLogEvents match.
type FilteredEvent struct {
	logs.Event
	Stream  string
	EventID string
}

// FilterResult is one FilterLogEvents page.
type FilterResult struct {
	Events    []FilteredEvent
	Searched  []string
	NextToken string
}

// filterToken is FilterLogEvents' position: the next sequence number per
// stream ID.
type filterToken map[string]int64

type cur struct {
	s  *logstore.Stream
	c  *logstore.Cursor
	ts int64
}

type curHeap []*cur

func (h curHeap) Len() int { return len(h) }
func (h curHeap) Less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	return h[i].s.ID() < h[j].s.ID()
}
func (h curHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *curHeap) Push(x any)   { *h = append(*h, x.(*cur)) }
func (h *curHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Filter returns the events of a group's streams that match a pattern,
// interleaved by timestamp.
func (p *Plane) Filter(sc logs.Scope, q FilterQuery) (FilterResult, error) {
	limit, err := limitOf(q.Limit)
	if err != nil {
		return FilterResult{}, err
	}
	if len(q.StreamNames) > 0 && q.StreamPrefix != "" {
		return FilterResult{}, logs.Invalidf("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if len(q.StreamNames) > 100 {
		return FilterResult{}, logs.Invalidf("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	pat, err := logs.ParsePattern(q.Pattern)
	if err != nil {
		return FilterResult{}, err
	}
	tok := filterToken{}
	if q.Token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Token)
		if err != nil || json.Unmarshal(raw, &tok) != nil {
			return FilterResult{}, logs.Invalidf("The specified nextToken is invalid.")
		}
	}
	infos, err := p.st.Streams(sc, q.Group)
	if err != nil {
		return FilterResult{}, err
	}
	g, err := p.st.Group(sc, q.Group)
	if err != nil {
		return FilterResult{}, err
	}
	cutoff := logs.Cutoff(g.RetentionDays, p.now())
	want := map[string]bool{}
	for _, n := range q.StreamNames {
		want[n] = true
	}
	var h curHeap
	var all []*cur
	var res FilterResult
	for _, in := range infos {
		if len(want) > 0 && !want[in.Name] || !strings.HasPrefix(in.Name, q.StreamPrefix) {
			continue
		}
		s, _, err := p.st.Stream(sc, q.Group, in.Name)
		if err != nil {
			continue // deleted meanwhile
		}
		res.Searched = append(res.Searched, in.Name)
		from := int64(0)
		if seq, ok := tok[strconv.FormatInt(s.ID(), 10)]; ok {
			from = seq
		}
		c := s.Cursor(from)
		if q.Start != nil {
			c.SkipSegmentsBefore(*q.Start)
		}
		cu := &cur{s: s, c: c}
		all = append(all, cu)
		if ts, ok := c.PeekTime(); ok {
			cu.ts = ts
			h = append(h, cu)
		}
	}
	heap.Init(&h)
	size := 0
	for h.Len() > 0 && len(res.Events) < limit {
		top := h[0]
		e, seq, ok, err := top.c.Next()
		if err != nil {
			return FilterResult{}, err
		}
		if ok && inRange(e.Timestamp, q.Start, q.End, cutoff) && pat.Match(e.Message) {
			if size+len(e.Message)+26 > MaxReadBytes {
				top.c.Back()
				break
			}
			size += len(e.Message) + 26
			res.Events = append(res.Events, FilteredEvent{Event: e, Stream: top.s.Name(), EventID: fmt.Sprintf("%d%020d", top.s.ID(), seq)})
		}
		if ts, ok := top.c.PeekTime(); ok {
			top.ts = ts
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if h.Len() > 0 {
		next := filterToken{}
		for k, v := range tok {
			next[k] = v
		}
		// Every searched stream keeps its position, exhausted ones too.
		for _, c := range all {
			next[strconv.FormatInt(c.s.ID(), 10)] = c.c.Seq()
		}
		raw, _ := json.Marshal(next)
		res.NextToken = base64.RawURLEncoding.EncodeToString(raw)
	}
	return res, nil
}
