package ecsstore

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

func TestStateCodec(t *testing.T) {
	defaults := []ecs.Resource{
		{Name: ecs.ResourceCPU, Type: ecs.ResourceTypeInteger, IntegerValue: 4032},
		{Name: ecs.ResourceMemory, Type: ecs.ResourceTypeInteger, IntegerValue: 16256},
		{Name: ecs.ResourcePorts, Type: ecs.ResourceTypeStringSet, StringSetValue: []string{"22", "2375", "2376", "51678", "51679"}},
		{Name: ecs.ResourcePortsUDP, Type: ecs.ResourceTypeStringSet},
	}
	for _, st := range []*StateRecord{
		{},
		{Remaining: defaults, Version: 2, Groups: GroupCounts{"family:bench": 1}},
		{Remaining: defaults, Version: 1 << 40, Groups: GroupCounts{"family:web": 3, "service:api": 1, "": 2}},
		{Remaining: []ecs.Resource{
			{Name: "GPU", Type: "STRINGSET", StringSetValue: []string{"gpu-0", ""}},
			{Name: "", Type: "", IntegerValue: -5, LongValue: math.MinInt64, DoubleValue: 0.25},
			{Name: ecs.ResourceCPU, Type: "DOUBLE", DoubleValue: -1.5e300, LongValue: 7},
		}, Version: 0},
	} {
		kv := store.KV{Key: "k", Value: encodeState(st)}
		got, err := decodeState(kv)
		if err != nil {
			t.Fatalf("decode %+v: %v", st, err)
		}
		// The binary form reads back as the JSON form does.
		want, err := storeutil.Decode[StateRecord](store.KV{Key: "k", Value: storeutil.MustJSON(st)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got  %+v\n want %+v", got, want)
		}
		if string(encodeState(got)) != string(kv.Value) {
			t.Errorf("re-encoding %+v changed the bytes", got)
		}
		// Any truncation or trailing byte is an error, never a panic.
		for i := range kv.Value {
			if _, err := decodeState(store.KV{Key: "k", Value: kv.Value[:i]}); err == nil {
				t.Errorf("truncated to %d bytes: decoded", i)
			}
		}
		if _, err := decodeState(store.KV{Key: "k", Value: append(encodeState(st), 0)}); err == nil {
			t.Error("trailing byte: decoded")
		}
	}
	st := &StateRecord{Remaining: defaults, Version: 2, Groups: GroupCounts{"family:bench": 1}}
	if n, j := len(encodeState(st)), len(storeutil.MustJSON(st)); n > j/5 {
		t.Errorf("binary form %d bytes, JSON %d", n, j)
	}
}

func FuzzStateCodec(f *testing.F) {
	f.Add(encodeState(&StateRecord{Remaining: []ecs.Resource{{Name: "CPU", Type: "INTEGER", IntegerValue: 3}}, Version: 9, Groups: GroupCounts{"g": 1}}))
	f.Add([]byte{stateFormat, 0, 1, 0, 3, 'G', 'P', 'U', 0, 0, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeStateBinary(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a record that reads back the same
		// (bytes compared: a NaN is not equal to itself).
		enc := encodeState(st)
		again, err := decodeStateBinary(enc)
		if err != nil || string(encodeState(again)) != string(enc) {
			t.Fatalf("%x decodes to %+v, which round-trips to %+v %v", b, st, again, err)
		}
	})
}

func TestKeyInfo(t *testing.T) {
	for _, key := range []string{
		"/ecs/1/r/tasks/c/id", "/ecs/1/r/tasks/c/a/b", "/ecs/1/r/managed-instances/c", "/ecs/1/r/clusters/c/",
		"/ecs/1/r/tasks", "/ecs/1/r/tasks/", "/ecs/1/r", "/ecs/", "/ecr/1/r/tasks/c/id", "/ecs//r//c/x", "",
	} {
		sc, kind, cluster, id, ok := KeyInfo(key)
		// What strings.SplitN gives.
		var want [5]string
		wantOK := false
		if rest, found := strings.CutPrefix(key, "/ecs/"); found {
			parts := strings.SplitN(rest, "/", 5)
			if wantOK = len(parts) >= 4; wantOK {
				copy(want[:], parts)
			}
		}
		if ok != wantOK || [5]string{sc.Account, sc.Region, kind, cluster, id} != want {
			t.Errorf("KeyInfo(%q) = %v %q %q %q %v, want %q %v", key, sc, kind, cluster, id, ok, want, wantOK)
		}
	}
}
