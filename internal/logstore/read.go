package logstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/internal/logs"
)

var jsonUnmarshal = json.Unmarshal

// Stream is a handle on one stream for appends and reads.
type Stream struct{ st *stream }

// Append stores accepted events with their ingestion time.
func (s *Stream) Append(events []logs.InputEvent, ingest int64) error {
	return s.st.append(events, ingest)
}

// Info describes the stream.
func (s *Stream) Info() StreamInfo { return s.st.info() }

// Name is the stream's name.
func (s *Stream) Name() string { return s.st.meta.Name }

// ID is the stream's number in its group.
func (s *Stream) ID() int64 { return s.st.meta.ID }

// Bounds returns the first stored sequence number and the one after the last.
func (s *Stream) Bounds() (first, next int64) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	if len(s.st.segs) == 0 {
		return s.st.nextSeq, s.st.nextSeq
	}
	return s.st.segs[0].firstSeq, s.st.nextSeq
}

// view is a consistent snapshot of a stream's segments.
type view struct {
	segs []segView
}

type segView struct {
	seg     *segment
	first   int64
	offsets []int64
	ts      []int64
	end     int64 // byte size covered by offsets
	maxTs   int64
}

func (s *Stream) view() view {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	v := view{segs: make([]segView, len(s.st.segs))}
	for i, seg := range s.st.segs {
		v.segs[i] = segView{seg: seg, first: seg.firstSeq, offsets: seg.offsets[:len(seg.offsets):len(seg.offsets)],
			ts: seg.ts[:len(seg.ts):len(seg.ts)], end: seg.size, maxTs: seg.maxTs}
	}
	return v
}

// Cursor reads a stream's events in sequence order.
type Cursor struct {
	v    view
	psi  int // position before the last Next, for Back
	pi   int
	si   int
	i    int
	buf  []byte
	boff int64 // file offset of buf[0]
}

// Cursor returns a cursor positioned at sequence number seq (clamped to
// the stored range).
func (s *Stream) Cursor(seq int64) *Cursor {
	c := &Cursor{v: s.view()}
	c.seek(seq)
	return c
}

func (c *Cursor) seek(seq int64) {
	c.si, c.i, c.buf = 0, 0, nil
	for c.si < len(c.v.segs) {
		sv := c.v.segs[c.si]
		if seq < sv.first+int64(len(sv.offsets)) {
			c.i = int(max(0, seq-sv.first))
			return
		}
		c.si++
	}
}

// Seq is the sequence number of the event Next would return.
func (c *Cursor) Seq() int64 {
	if c.si >= len(c.v.segs) {
		if n := len(c.v.segs); n > 0 {
			last := c.v.segs[n-1]
			return last.first + int64(len(last.offsets))
		}
		return 0
	}
	return c.v.segs[c.si].first + int64(c.i)
}

// PeekTime returns the timestamp of the next event without reading it.
func (c *Cursor) PeekTime() (int64, bool) {
	c.skipEmpty()
	if c.si >= len(c.v.segs) {
		return 0, false
	}
	return c.v.segs[c.si].ts[c.i], true
}

// readChunk is how much a cursor reads from a segment at a time.
const readChunk = 1 << 20

// Next returns the next event; ok is false at the end.
func (c *Cursor) Next() (e logs.Event, seq int64, ok bool, err error) {
	c.skipEmpty()
	if c.si >= len(c.v.segs) {
		return e, 0, false, nil
	}
	sv := c.v.segs[c.si]
	off := sv.offsets[c.i]
	end := sv.end
	if c.i+1 < len(sv.offsets) {
		end = sv.offsets[c.i+1]
	}
	if c.buf == nil || off < c.boff || end > c.boff+int64(len(c.buf)) {
		n := max(end-off, min(readChunk, sv.end-off))
		c.buf = make([]byte, n)
		c.boff = off
		if _, err := sv.seg.f.ReadAt(c.buf, off); err != nil {
			return e, 0, false, fmt.Errorf("logstore: read %s: %w", sv.seg.path, err)
		}
	}
	rec := c.buf[off-c.boff : end-c.boff]
	c.psi, c.pi = c.si, c.i
	e.Timestamp = int64(binary.LittleEndian.Uint64(rec[4:]))
	e.IngestionTime = int64(binary.LittleEndian.Uint64(rec[12:]))
	e.Message = string(rec[headerBytes:])
	seq = sv.first + int64(c.i)
	c.i++
	if c.i >= len(sv.offsets) {
		c.si++
		c.i = 0
		c.buf = nil
	}
	return e, seq, true, nil
}

// Back undoes the last Next.
func (c *Cursor) Back() {
	c.si, c.i, c.buf = c.psi, c.pi, nil
}

// SkipSegmentsBefore moves past whole segments whose newest event is
// older than ts (retention and time-bounded filters read less).
func (c *Cursor) SkipSegmentsBefore(ts int64) {
	c.skipEmpty()
	for c.si < len(c.v.segs) && c.v.segs[c.si].maxTs < ts {
		c.si++
		c.i = 0
		c.buf = nil
		c.skipEmpty()
	}
}

// skipEmpty moves past segments with no events (a segment whose first
// write failed).
func (c *Cursor) skipEmpty() {
	for c.si < len(c.v.segs) && c.i >= len(c.v.segs[c.si].offsets) {
		c.si++
		c.i = 0
		c.buf = nil
	}
}
