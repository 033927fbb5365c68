package ecsstore

import (
	"context"
	"encoding/json"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Kinds of the ECS keys (the segment after /ecs/<account>/<region>/), as
// KeyInfo reports them.
const (
	KindTask            = "tasks"
	KindInstance        = "instances"
	KindInstanceState   = kindState
	KindManagedInstance = "managed-instances"
	KindCluster         = "clusters"
)

// The decoders below read the stored records of the ECS key space, for the
// state cache (internal/ecscache), which decodes each record once per
// change. The values returned are fresh and owned by the caller.

// DecodeTask decodes a tasks/ record.
func DecodeTask(kv store.KV) (*ecs.Task, error) { return decodeTask(kv) }

// DecodeInstance decodes an instances/ or managed-instances/ record.
func DecodeInstance(kv store.KV) (*ecs.ContainerInstance, error) { return decodeInstance(kv) }

// DecodeInstanceState decodes an instance-state/ record.
func DecodeInstanceState(kv store.KV) (*StateRecord, error) { return decodeState(kv) }

// DecodeCluster decodes a clusters/ record.
func DecodeCluster(kv store.KV) (*ecs.Cluster, error) { return decodeCluster(kv) }

// Compose returns the instance an instance record and its state record
// (nil: none) describe: base with the state's remaining resources and
// version. The result shares base's other fields; neither is modified.
func Compose(base *ecs.ContainerInstance, st *StateRecord) *ecs.ContainerInstance {
	return compose(base, st)
}

// The codecs of the kinds stored as JSON records (recordtypes.go): encode
// maps the domain value to its record, decode the record back. A decoded
// value is fresh and owned by the caller.

func encodeInstance(ci *ecs.ContainerInstance) []byte {
	rec := containerInstanceRecordOf(ci)
	return storeutil.MustJSON(&rec)
}

func decodeInstance(kv store.KV) (*ecs.ContainerInstance, error) {
	ci, err := decodeRecord(kv, (*containerInstanceRecord).domain)
	if err != nil {
		return nil, err
	}
	ci.ID = lastSegment(ci.ARN)
	return ci, nil
}

func encodeCluster(c *ecs.Cluster) []byte {
	rec := clusterRecordOf(c)
	return storeutil.MustJSON(&rec)
}

func decodeCluster(kv store.KV) (*ecs.Cluster, error) {
	return decodeRecord(kv, (*clusterRecord).domain)
}

func encodeTaskDefinition(td *ecs.TaskDefinition) []byte {
	rec := taskDefinitionRecordOf(td)
	return storeutil.MustJSON(&rec)
}

func decodeTaskDefinition(kv store.KV) (*ecs.TaskDefinition, error) {
	return decodeRecord(kv, (*taskDefinitionRecord).domain)
}

// encodeTags returns the stored form of a resource's tags: a JSON array of
// tag records.
func encodeTags(tags []ecs.Tag) []byte {
	return storeutil.MustJSON(mapSlice(tags, tagRecordOf))
}

func decodeTags(kv store.KV) (*[]ecs.Tag, error) {
	var recs []tagRecord
	if err := json.Unmarshal(kv.Value, &recs); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	tags := mapSlice(recs, (*tagRecord).domain)
	return &tags, nil
}

// decodeRecord decodes kv's value as a record of type R and returns the
// domain value it stands for.
func decodeRecord[R, D any](kv store.KV, domain func(*R) D) (*D, error) {
	var rec R
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	v := domain(&rec)
	return &v, nil
}

// getDecoded reads key and decodes it with dec; a missing key is
// store.ErrNotFound.
func getDecoded[D any](ctx context.Context, s store.Store, key string, dec func(store.KV) (*D, error)) (*D, int64, error) {
	kv, err := s.Get(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	v, err := dec(kv)
	if err != nil {
		return nil, 0, err
	}
	return v, kv.ModRevision, nil
}
