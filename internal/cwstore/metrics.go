package cwstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/cw"
)

// File format of one metric: a 4-byte little-endian header length, the
// JSON header (the metric's identity), then records of recordSize bytes:
// time (unix milliseconds, int64), count, sum, min, max (float64), all
// little-endian. A datum put as Values and Counts is one record per
// distinct value (min == max), so that percentiles can be computed. Records are appended in arrival order; a query merges
// the records of a period. A record per datum keeps writes O(1); reads
// scan back from the end and stop once past the range plus the largest
// out-of-order lag seen for the metric.

const recordSize = 40

type header struct {
	Account    string         `json:"account"`
	Region     string         `json:"region"`
	Namespace  string         `json:"namespace"`
	Name       string         `json:"name"`
	Dimensions []cw.Dimension `json:"dimensions,omitempty"`
	Unit       string         `json:"unit,omitempty"`
}

// series is one metric's file and what is known about it.
type series struct {
	mu     sync.Mutex
	metric cw.Metric
	path   string
	f      *os.File
	dataAt int64 // offset of the first record
	size   int64
	maxTS  int64  // newest record time (ms)
	maxLag int64  // largest maxTS - ts seen at append (ms)
	oldest int64  // oldest record time (ms)
	unit   string // the unit of the latest datapoints
}

// Metrics is the metric store of one server.
type Metrics struct {
	dir       string
	retention time.Duration
	mu        sync.RWMutex
	bySc      map[cw.Scope]map[string]*series
}

// DefaultRetention is how long datapoints are kept (CloudWatch keeps
// one-minute data for 15 days).
const DefaultRetention = 15 * 24 * time.Hour

// OpenMetrics opens (creating) the store in dir, loading the index of
// every metric file.
func OpenMetrics(dir string, retention time.Duration) (*Metrics, error) {
	if retention <= 0 {
		retention = DefaultRetention
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	m := &Metrics{dir: dir, retention: retention, bySc: map[cw.Scope]map[string]*series{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".metric") {
			continue
		}
		if err := m.load(filepath.Join(dir, e.Name())); err != nil {
			return nil, fmt.Errorf("metric file %s: %w", e.Name(), err)
		}
	}
	return m, nil
}

func (m *Metrics) load(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	h, dataAt, err := readHeader(f)
	if err != nil {
		f.Close()
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	size := dataAt + (st.Size()-dataAt)/recordSize*recordSize // drop a torn last record
	s := &series{metric: cw.Metric{Namespace: h.Namespace, Name: h.Name, Dimensions: h.Dimensions}.Normalize(),
		path: path, f: f, dataAt: dataAt, size: size, oldest: math.MaxInt64, unit: h.Unit}
	buf := make([]byte, size-dataAt)
	if _, err := f.ReadAt(buf, dataAt); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return err
	}
	for off := 0; off+recordSize <= len(buf); off += recordSize {
		s.noteAppend(int64(binary.LittleEndian.Uint64(buf[off:])))
	}
	sc := cw.Scope{Account: h.Account, Region: h.Region}
	if m.bySc[sc] == nil {
		m.bySc[sc] = map[string]*series{}
	}
	m.bySc[sc][s.metric.Key()] = s
	return nil
}

func readHeader(f *os.File) (header, int64, error) {
	var n [4]byte
	if _, err := f.ReadAt(n[:], 0); err != nil {
		return header{}, 0, err
	}
	l := binary.LittleEndian.Uint32(n[:])
	if l > 1<<20 {
		return header{}, 0, fmt.Errorf("header length %d", l)
	}
	b := make([]byte, l)
	if _, err := f.ReadAt(b, 4); err != nil {
		return header{}, 0, err
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return header{}, 0, err
	}
	return h, int64(4 + l), nil
}

func (s *series) noteAppend(ts int64) {
	if ts > s.maxTS {
		s.maxTS = ts
	} else if lag := s.maxTS - ts; lag > s.maxLag {
		s.maxLag = lag
	}
	if ts < s.oldest {
		s.oldest = ts
	}
}

// Close closes every file.
func (m *Metrics) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first error
	for _, byKey := range m.bySc {
		for _, s := range byKey {
			s.mu.Lock()
			if s.f != nil {
				if err := s.f.Close(); err != nil && first == nil {
					first = err
				}
				s.f = nil
			}
			s.mu.Unlock()
		}
	}
	return first
}

func (m *Metrics) series(sc cw.Scope, metric cw.Metric, create bool, unit string) (*series, error) {
	return m.seriesByKey(sc, metric.Key(), metric, create, unit)
}

func (m *Metrics) seriesByKey(sc cw.Scope, key string, metric cw.Metric, create bool, unit string) (*series, error) {
	m.mu.RLock()
	s := m.bySc[sc][key]
	m.mu.RUnlock()
	if s != nil || !create {
		return s, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.bySc[sc][key]; s != nil {
		return s, nil
	}
	sum := sha256.Sum256([]byte(sc.Account + "\x00" + sc.Region + "\x00" + key))
	path := filepath.Join(m.dir, hex.EncodeToString(sum[:16])+".metric")
	f, dataAt, err := createFile(path, header{Account: sc.Account, Region: sc.Region, Namespace: metric.Namespace,
		Name: metric.Name, Dimensions: metric.Dimensions, Unit: unit})
	if err != nil {
		return nil, err
	}
	s = &series{metric: metric, path: path, f: f, dataAt: dataAt, size: dataAt, oldest: math.MaxInt64, unit: unit}
	if m.bySc[sc] == nil {
		m.bySc[sc] = map[string]*series{}
	}
	m.bySc[sc][key] = s
	return s, nil
}

func createFile(path string, h header) (*os.File, int64, error) {
	hb, _ := json.Marshal(h)
	b := make([]byte, 4, 4+len(hb))
	binary.LittleEndian.PutUint32(b, uint32(len(hb)))
	b = append(b, hb...)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	return f, int64(len(b)), err
}

func encodeRecord(b []byte, ts int64, a cw.Agg) {
	binary.LittleEndian.PutUint64(b[0:], uint64(ts))
	binary.LittleEndian.PutUint64(b[8:], math.Float64bits(a.Count))
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(a.Sum))
	binary.LittleEndian.PutUint64(b[24:], math.Float64bits(a.Min))
	binary.LittleEndian.PutUint64(b[32:], math.Float64bits(a.Max))
}

func decodeRecord(b []byte) cw.Sample {
	return cw.Sample{
		Time: time.UnixMilli(int64(binary.LittleEndian.Uint64(b[0:]))).UTC(),
		Agg: cw.Agg{
			Count: math.Float64frombits(binary.LittleEndian.Uint64(b[8:])),
			Sum:   math.Float64frombits(binary.LittleEndian.Uint64(b[16:])),
			Min:   math.Float64frombits(binary.LittleEndian.Uint64(b[24:])),
			Max:   math.Float64frombits(binary.LittleEndian.Uint64(b[32:])),
		},
	}
}

// Put appends datapoints of one scope. Datapoints of one metric are
// written with one write call.
func (m *Metrics) Put(sc cw.Scope, data []cw.Datum) error {
	byMetric := map[string][]cw.Datum{}
	var order []string
	for _, d := range data {
		k := d.Metric.Key()
		if _, ok := byMetric[k]; !ok {
			order = append(order, k)
		}
		byMetric[k] = append(byMetric[k], d)
	}
	for _, k := range order {
		ds := byMetric[k]
		s, err := m.seriesByKey(sc, k, ds[0].Metric, true, ds[0].Unit)
		if err != nil {
			return err
		}
		if err := s.append(ds); err != nil {
			return err
		}
	}
	return nil
}

func (s *series) append(ds []cw.Datum) error {
	n := 0
	for _, d := range ds {
		n += max(1, len(d.Values))
	}
	buf := make([]byte, 0, recordSize*n)
	for _, d := range ds {
		if len(d.Values) == 0 {
			buf = buf[:len(buf)+recordSize]
			encodeRecord(buf[len(buf)-recordSize:], d.Time.UnixMilli(), d.Agg)
		}
		for _, v := range d.Values {
			buf = buf[:len(buf)+recordSize]
			encodeRecord(buf[len(buf)-recordSize:], d.Time.UnixMilli(), v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("cwstore: metric store closed")
	}
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		return err
	}
	s.size += int64(len(buf))
	for _, d := range ds {
		s.noteAppend(d.Time.UnixMilli())
		if d.Unit != "" {
			s.unit = d.Unit
		}
	}
	return nil
}

// Samples returns the records of a metric with start <= time < end.
func (m *Metrics) Samples(sc cw.Scope, metric cw.Metric, start, end time.Time) ([]cw.Sample, error) {
	s, _ := m.series(sc, metric.Normalize(), false, "")
	if s == nil {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil, errors.New("cwstore: metric store closed")
	}
	lo, hi := start.UnixMilli(), end.UnixMilli()
	stop := lo - s.maxLag
	const chunk = 4096 * recordSize
	// Records in order are one a datapoint: size the result for the
	// range's share of the file when the file spans more than the range.
	records := (s.size - s.dataAt) / recordSize
	if span := s.maxTS - s.oldest; span > 0 && records > 0 {
		records = min(records, records*max(0, min(hi, s.maxTS+1)-max(lo, s.oldest))/span+16)
	}
	out := make([]cw.Sample, 0, max(records, 0))
	buf := make([]byte, min(chunk, max(s.size-s.dataAt, recordSize)))
	for pos := s.size; pos > s.dataAt; {
		from := max(s.dataAt, pos-chunk)
		b := buf[:pos-from]
		if _, err := s.f.ReadAt(b, from); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		done := false
		for off := len(b) - recordSize; off >= 0; off -= recordSize {
			ts := int64(binary.LittleEndian.Uint64(b[off:]))
			if ts < stop {
				done = true
				break
			}
			if ts >= lo && ts < hi {
				out = append(out, decodeRecord(b[off:]))
			}
		}
		if done {
			break
		}
		pos = from
	}
	return out, nil
}

// List returns the metrics of a scope that have data newer than since,
// sorted by namespace, name and dimensions.
func (m *Metrics) List(sc cw.Scope, since time.Time) []cw.Metric {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []cw.Metric
	cut := since.UnixMilli()
	for _, s := range m.bySc[sc] {
		s.mu.Lock()
		recent := s.maxTS >= cut && s.size > s.dataAt
		s.mu.Unlock()
		if recent {
			out = append(out, s.metric)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Expire drops records older than the retention: a file whose oldest
// record is past it is rewritten without them (or removed when nothing
// is left). It returns the number of files rewritten or removed.
func (m *Metrics) Expire(now time.Time) (int, error) {
	cut := now.Add(-m.retention).UnixMilli()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for sc, byKey := range m.bySc {
		for key, s := range byKey {
			s.mu.Lock()
			if s.oldest >= cut || s.f == nil {
				s.mu.Unlock()
				continue
			}
			removed, err := s.rewrite(sc, cut)
			s.mu.Unlock()
			if err != nil {
				return n, err
			}
			if removed {
				delete(byKey, key)
			}
			n++
		}
	}
	return n, nil
}

// rewrite keeps the records at or after cut; removed reports that none
// were left and the file is gone.
func (s *series) rewrite(sc cw.Scope, cut int64) (removed bool, err error) {
	buf := make([]byte, s.size-s.dataAt)
	if _, err := s.f.ReadAt(buf, s.dataAt); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	kept := buf[:0]
	s.maxTS, s.maxLag, s.oldest = 0, 0, math.MaxInt64
	for off := 0; off+recordSize <= len(buf); off += recordSize {
		ts := int64(binary.LittleEndian.Uint64(buf[off:]))
		if ts >= cut {
			kept = append(kept, buf[off:off+recordSize]...)
			s.noteAppend(ts)
		}
	}
	s.f.Close()
	s.f = nil
	if len(kept) == 0 {
		return true, os.Remove(s.path)
	}
	f, dataAt, err := createFile(s.path+".new", header{Account: sc.Account, Region: sc.Region, Namespace: s.metric.Namespace,
		Name: s.metric.Name, Dimensions: s.metric.Dimensions, Unit: s.unit})
	if err != nil {
		return false, err
	}
	if _, err := f.WriteAt(kept, dataAt); err != nil {
		f.Close()
		return false, err
	}
	if err := os.Rename(s.path+".new", s.path); err != nil {
		f.Close()
		return false, err
	}
	s.f, s.dataAt, s.size = f, dataAt, dataAt+int64(len(kept))
	return false, nil
}

// Unit returns the unit of a metric's latest datapoints ("None" when it
// has none).
func (m *Metrics) Unit(sc cw.Scope, metric cw.Metric) string {
	s, _ := m.series(sc, metric.Normalize(), false, "")
	if s == nil {
		return "None"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unit == "" {
		return "None"
	}
	return s.unit
}
