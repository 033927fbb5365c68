package ecsstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// An instance-state record is rewritten by every placement and every stop
// on its instance, and a batch of spread placements rewrites dozens of
// them, each on its own page of the store: its size is most of what such
// a commit writes. It is therefore stored in a compact binary form (about
// 60 bytes for an instance with ECS's default resources, instead of some
// 450 as JSON):
//
//	stateFormat (1 byte)
//	uvarint version
//	uvarint len(remainingResources), then per resource:
//	    name    (1 byte: a well-known name's code, or 0 and a string)
//	    type    (1 byte: a well-known type's code, or 0 and a string)
//	    fields  (1 byte: which of the values follow)
//	    varint integerValue | varint longValue | 8 bytes doubleValue (IEEE 754, BE)
//	          | uvarint len(stringSetValue) and the strings
//	uvarint len(groups), then per group (by name): string, uvarint count
//
// where a string is its uvarint length and its bytes.
const stateFormat = 0x01

var (
	resourceNames = []string{"", ecs.ResourceCPU, ecs.ResourceMemory, ecs.ResourcePorts, ecs.ResourcePortsUDP}
	resourceTypes = []string{"", ecs.ResourceTypeInteger, ecs.ResourceTypeStringSet, "LONG", "DOUBLE"}
)

const (
	fieldInteger = 1 << iota
	fieldLong
	fieldDouble
	fieldStringSet
)

// encodeState returns the stored form of a state record.
func encodeState(st *StateRecord) []byte {
	n := 8 + len(st.Groups)*24
	for _, r := range st.Remaining {
		n += 24
		for _, s := range r.StringSetValue {
			n += len(s) + 1
		}
	}
	b := make([]byte, 0, n)
	b = append(b, stateFormat)
	b = binary.AppendUvarint(b, uint64(st.Version))
	b = binary.AppendUvarint(b, uint64(len(st.Remaining)))
	for _, r := range st.Remaining {
		b = appendCoded(b, resourceNames, r.Name)
		b = appendCoded(b, resourceTypes, r.Type)
		var fields byte
		if r.IntegerValue != 0 {
			fields |= fieldInteger
		}
		if r.LongValue != 0 {
			fields |= fieldLong
		}
		if r.DoubleValue != 0 {
			fields |= fieldDouble
		}
		if len(r.StringSetValue) > 0 {
			fields |= fieldStringSet
		}
		b = append(b, fields)
		if fields&fieldInteger != 0 {
			b = binary.AppendVarint(b, int64(r.IntegerValue))
		}
		if fields&fieldLong != 0 {
			b = binary.AppendVarint(b, r.LongValue)
		}
		if fields&fieldDouble != 0 {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(r.DoubleValue))
		}
		if fields&fieldStringSet != 0 {
			b = binary.AppendUvarint(b, uint64(len(r.StringSetValue)))
			for _, s := range r.StringSetValue {
				b = appendString(b, s)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(st.Groups)))
	if len(st.Groups) > 0 {
		names := make([]string, 0, len(st.Groups))
		for g := range st.Groups {
			names = append(names, g)
		}
		slices.Sort(names) // the same record, the same bytes
		for _, g := range names {
			b = appendString(b, g)
			b = binary.AppendUvarint(b, uint64(st.Groups[g]))
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendCoded(b []byte, codes []string, s string) []byte {
	if s != "" {
		if i := slices.Index(codes, s); i > 0 {
			return append(b, byte(i))
		}
	}
	return appendString(append(b, 0), s)
}

var errStateRecord = errors.New("malformed instance-state record")

// stateReader decodes the binary form; the first error sticks.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = errStateRecord
	}
	r.b = nil
}

func (r *stateReader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *stateReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that each element needs at least one byte for.
func (r *stateReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *stateReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *stateReader) coded(codes []string) string {
	c := r.byte()
	switch {
	case c == 0:
		return r.string()
	case int(c) < len(codes):
		return codes[c]
	}
	r.fail()
	return ""
}

func decodeStateBinary(b []byte) (*StateRecord, error) {
	r := &stateReader{b: b}
	if r.byte() != stateFormat {
		return nil, errStateRecord
	}
	st := &StateRecord{Version: int64(r.uvarint())}
	if n := r.count(); n > 0 {
		st.Remaining = make([]ecs.Resource, n)
	}
	for i := range st.Remaining {
		res := &st.Remaining[i]
		res.Name = r.coded(resourceNames)
		res.Type = r.coded(resourceTypes)
		fields := r.byte()
		if fields&fieldInteger != 0 {
			res.IntegerValue = int(r.varint())
		}
		if fields&fieldLong != 0 {
			res.LongValue = r.varint()
		}
		if fields&fieldDouble != 0 {
			if len(r.b) < 8 {
				r.fail()
				break
			}
			res.DoubleValue = math.Float64frombits(binary.BigEndian.Uint64(r.b))
			r.b = r.b[8:]
		}
		if fields&fieldStringSet != 0 {
			if n := r.count(); n > 0 {
				res.StringSetValue = make([]string, n)
				for j := range res.StringSetValue {
					res.StringSetValue[j] = r.string()
				}
			}
		}
	}
	if n := r.count(); n > 0 {
		st.Groups = make(GroupCounts, n)
		for range n {
			g := r.string()
			st.Groups[g] = int(r.uvarint())
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errStateRecord
	}
	return st, nil
}

// decodeState decodes an instance-state record.
func decodeState(kv store.KV) (*StateRecord, error) {
	st, err := decodeStateBinary(kv.Value)
	if err != nil {
		return nil, fault.Wrap(fmt.Errorf("%w (%d bytes)", err, len(kv.Value)), fault.Internal, "corrupt record %s", kv.Key)
	}
	return st, nil
}

// getState reads an instance-state record.
func getState(ctx context.Context, s store.Store, key string) (*StateRecord, int64, error) {
	kv, err := s.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	st, err := decodeState(kv)
	if err != nil {
		return nil, 0, err
	}
	return st, kv.ModRevision, nil
}
