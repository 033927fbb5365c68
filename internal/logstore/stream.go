package logstore

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/internal/logs"
)

const headerBytes = 4 + 8 + 8

// StreamMeta is what stream.json holds.
type StreamMeta struct {
	Name         string `json:"name"`
	CreationTime int64  `json:"creationTime"`
	ID           int64  `json:"id"` // unique in its group; part of event IDs
}

// StreamInfo describes a stream.
type StreamInfo struct {
	StreamMeta
	FirstEventTime    int64
	LastEventTime     int64
	LastIngestionTime int64
	StoredBytes       int64
	Events            int64 // the sequence number after the last event
}

type segment struct {
	path     string
	f        *os.File
	firstSeq int64
	offsets  []int64 // record start offsets
	ts       []int64 // event timestamps
	size     int64
	minTs    int64
	maxTs    int64
}

type stream struct {
	dir string

	mu         sync.RWMutex
	meta       StreamMeta
	segs       []*segment
	nextSeq    int64
	lastIngest int64
	closed     bool
}

func newStream(dir string, meta StreamMeta) (*stream, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, "stream.json"), meta); err != nil {
		return nil, err
	}
	return &stream{dir: dir, meta: meta}, nil
}

func loadStream(dir string) (*stream, error) {
	st := &stream{dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, "stream.json"))
	if err != nil {
		return nil, err
	}
	if err := jsonUnmarshal(b, &st.meta); err != nil {
		return nil, err
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	sort.Strings(names)
	for _, name := range names {
		first, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(name), ".seg"), 10, 64)
		if err != nil {
			continue
		}
		seg, last, err := scanSegment(name, first)
		if err != nil {
			return nil, err
		}
		st.segs = append(st.segs, seg)
		st.nextSeq = seg.firstSeq + int64(len(seg.offsets))
		st.lastIngest = max(st.lastIngest, last)
	}
	return st, nil
}

// scanSegment rebuilds a segment's index, cutting a torn last record.
func scanSegment(path string, first int64) (*segment, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if err != nil {
		return nil, 0, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	seg := &segment{path: path, f: f, firstSeq: first}
	var off, lastIngest int64
	for off+headerBytes <= int64(len(data)) {
		n := int64(binary.LittleEndian.Uint32(data[off:]))
		if n < 16 || off+4+n > int64(len(data)) {
			break
		}
		ts := int64(binary.LittleEndian.Uint64(data[off+4:]))
		lastIngest = int64(binary.LittleEndian.Uint64(data[off+12:]))
		seg.add(off, ts)
		off += 4 + n
	}
	if off != int64(len(data)) {
		if err := f.Truncate(off); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	seg.size = off
	return seg, lastIngest, nil
}

func (seg *segment) add(off, ts int64) {
	if len(seg.offsets) == 0 || ts < seg.minTs {
		seg.minTs = ts
	}
	if len(seg.offsets) == 0 || ts > seg.maxTs {
		seg.maxTs = ts
	}
	seg.offsets = append(seg.offsets, off)
	seg.ts = append(seg.ts, ts)
}

func (st *stream) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	for _, seg := range st.segs {
		seg.f.Close()
	}
}

func (st *stream) info() StreamInfo {
	st.mu.RLock()
	defer st.mu.RUnlock()
	si := StreamInfo{StreamMeta: st.meta, LastIngestionTime: st.lastIngest, Events: st.nextSeq}
	seen := false
	for _, seg := range st.segs {
		if len(seg.offsets) == 0 {
			continue
		}
		if !seen || seg.minTs < si.FirstEventTime {
			seen = true
			si.FirstEventTime = seg.minTs
		}
		si.LastEventTime = max(si.LastEventTime, seg.maxTs)
		si.StoredBytes += seg.size
	}
	return si
}

// append writes events (already checked) with one write call.
func (st *stream) append(events []logs.InputEvent, ingest int64) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return logs.ErrStreamNotFound()
	}
	for len(events) > 0 {
		seg := st.active()
		if seg == nil || seg.size >= SegmentBytes {
			var err error
			if seg, err = st.roll(); err != nil {
				return err
			}
		}
		// Fill the segment up to SegmentBytes (at least one event).
		n, size := 0, int64(0)
		for n < len(events) && (n == 0 || seg.size+size+headerBytes+int64(len(events[n].Message)) <= SegmentBytes) {
			size += headerBytes + int64(len(events[n].Message))
			n++
		}
		buf := make([]byte, 0, size)
		for _, e := range events[:n] {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(16+len(e.Message)))
			buf = binary.LittleEndian.AppendUint64(buf, uint64(e.Timestamp))
			buf = binary.LittleEndian.AppendUint64(buf, uint64(ingest))
			buf = append(buf, e.Message...)
		}
		if _, err := seg.f.WriteAt(buf, seg.size); err != nil {
			return fmt.Errorf("logstore: write %s: %w", seg.path, err)
		}
		off := seg.size
		for _, e := range events[:n] {
			seg.add(off, e.Timestamp)
			off += headerBytes + int64(len(e.Message))
		}
		seg.size = off
		st.nextSeq += int64(n)
		events = events[n:]
	}
	st.lastIngest = ingest
	return nil
}

func (st *stream) active() *segment {
	if len(st.segs) == 0 {
		return nil
	}
	return st.segs[len(st.segs)-1]
}

func (st *stream) roll() (*segment, error) {
	path := filepath.Join(st.dir, fmt.Sprintf("%020d.seg", st.nextSeq))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	seg := &segment{path: path, f: f, firstSeq: st.nextSeq}
	st.segs = append(st.segs, seg)
	return seg, nil
}

// expire removes the segments whose newest event is older than cutoff
// (never the active one while it is being written to, unless it too has
// expired entirely).
func (st *stream) expire(cutoff int64) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for len(st.segs) > 0 && len(st.segs[0].offsets) > 0 && st.segs[0].maxTs < cutoff {
		seg := st.segs[0]
		seg.f.Close()
		if err := os.Remove(seg.path); err != nil && !os.IsNotExist(err) {
			return n, err
		}
		st.segs = st.segs[1:]
		n++
	}
	return n, nil
}
