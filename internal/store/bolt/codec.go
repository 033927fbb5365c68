package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/internal/store"
)

// Bucket and meta key names. See doc.go for the layout.
var (
	bucketMeta = []byte("meta")
	bucketKV   = []byte("kv")
	bucketLog  = []byte("log")

	metaVersion = []byte("version")
	metaRev     = []byte("rev")
	metaCompact = []byte("compact")
)

// formatVersion is the on-disk format this package reads and writes.
const formatVersion = 1

// kvHeaderLen is the createRev|modRev prefix of a kv bucket value.
const kvHeaderLen = 16

// errCorrupt marks on-disk data this package cannot decode.
var errCorrupt = errors.New("bolt store: corrupt data")

func u64(v int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v))
}

func fromU64(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: integer of %d bytes", errCorrupt, len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// encodeKV builds a kv bucket value.
func encodeKV(createRev, modRev int64, value []byte) []byte {
	b := make([]byte, kvHeaderLen, kvHeaderLen+len(value))
	binary.BigEndian.PutUint64(b[0:8], uint64(createRev))
	binary.BigEndian.PutUint64(b[8:16], uint64(modRev))
	return append(b, value...)
}

// kvCreateRev returns the createRev of a kv bucket value.
func kvCreateRev(v []byte) (int64, error) {
	if len(v) < kvHeaderLen {
		return 0, fmt.Errorf("%w: kv value of %d bytes", errCorrupt, len(v))
	}
	return int64(binary.BigEndian.Uint64(v[0:8])), nil
}

// decodeKV turns a kv bucket value into a KV whose Value is a fresh copy
// (bbolt memory is only valid inside its transaction).
func decodeKV(key string, v []byte) (store.KV, error) {
	if len(v) < kvHeaderLen {
		return store.KV{}, fmt.Errorf("%w: kv value of %d bytes for %q", errCorrupt, len(v), key)
	}
	val := make([]byte, len(v)-kvHeaderLen)
	copy(val, v[kvHeaderLen:])
	return store.KV{
		Key:            key,
		Value:          val,
		CreateRevision: int64(binary.BigEndian.Uint64(v[0:8])),
		ModRevision:    int64(binary.BigEndian.Uint64(v[8:16])),
	}, nil
}

// A log entry is the concatenation of its events, each encoded as
//
//	type (1 byte) | uvarint len(key) | key | uvarint createRev | uvarint len(value) | value
//
// A delete has createRev 0 and an empty value. The entry's bbolt key is the
// revision, which is every event's ModRevision.

func appendEvent(b []byte, typ store.EventType, key string, createRev int64, value []byte) []byte {
	b = append(b, byte(typ))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(createRev))
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// decodeEvents appends to dst the events of the log entry b at revision rev
// whose key has the prefix. Values are fresh copies.
func decodeEvents(dst []store.Event, rev int64, b []byte, prefix string) ([]store.Event, error) {
	first := len(dst)
	for len(b) > 0 {
		typ := store.EventType(b[0])
		b = b[1:]
		klen, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < klen {
			return dst, fmt.Errorf("%w: log entry %d: bad key length", errCorrupt, rev)
		}
		b = b[n:]
		kb := b[:klen]
		b = b[klen:]
		createRev, n := binary.Uvarint(b)
		if n <= 0 {
			return dst, fmt.Errorf("%w: log entry %d: bad create revision", errCorrupt, rev)
		}
		b = b[n:]
		vlen, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < vlen {
			return dst, fmt.Errorf("%w: log entry %d: bad value length", errCorrupt, rev)
		}
		b = b[n:]
		vb := b[:vlen]
		b = b[vlen:]

		if len(kb) < len(prefix) || string(kb[:len(prefix)]) != prefix {
			continue
		}
		ev := store.Event{Type: typ, KV: store.KV{Key: string(kb), ModRevision: rev}}
		switch typ {
		case store.EventPut:
			ev.KV.CreateRevision = int64(createRev)
			ev.KV.Value = make([]byte, len(vb))
			copy(ev.KV.Value, vb)
		case store.EventDelete:
		default:
			return dst, fmt.Errorf("%w: log entry %d: event type %d", errCorrupt, rev, typ)
		}
		dst = append(dst, ev)
	}
	if len(dst) > first {
		dst[len(dst)-1].Last = true // the revision's last event (see store.Event)
	}
	return dst, nil
}
