package ecsstore

import (
	"encoding/json"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
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
func DecodeInstance(kv store.KV) (*ecs.ContainerInstance, error) {
	ci := new(ecs.ContainerInstance)
	if err := json.Unmarshal(kv.Value, (*plainInstance)(ci)); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "corrupt record %s", kv.Key)
	}
	ci.ID = ci.ARN[strings.LastIndexByte(ci.ARN, '/')+1:] // as ecs.ContainerInstance.UnmarshalJSON
	return ci, nil
}

// DecodeInstanceState decodes an instance-state/ record.
func DecodeInstanceState(kv store.KV) (*StateRecord, error) { return decodeState(kv) }

// DecodeCluster decodes a clusters/ record.
func DecodeCluster(kv store.KV) (*ecs.Cluster, error) { return decode[ecs.Cluster](kv) }

// Compose returns the instance an instance record and its state record
// (nil: none) describe: base with the state's remaining resources and
// version. The result shares base's other fields; neither is modified.
func Compose(base *ecs.ContainerInstance, st *StateRecord) *ecs.ContainerInstance {
	return compose(base, st)
}
