package ecsstore

import (
	"github.com/berth-dev/berth/internal/ecs"
)

// Stored records are types of their own. Every ECS kind the store keeps
// (tasks, container instances, clusters, task definitions, services, tags;
// the instance-state, run-token and family records) is written from a record
// type of this package, never from a domain struct: a task is encoded as
// taskRecordOf(t) and decoded through (*taskRecord).domain, and likewise
// for each nested document. The record's fields and their JSON names are
// the stored format, fixed here; they are ECS's own names (the documents
// of a task definition are ECS's documents, and a person reading the store
// reads the names the API uses) but they no longer follow the domain
// types: a field added to, renamed in or retyped in internal/ecs changes
// nothing stored until it is mapped here. Two tests hold this: the golden
// records in testdata/records must decode to the domain values written
// down in records_golden_test.go (so a change of format fails), and every
// domain field, filled by reflection, must survive the round trip
// domain → record → JSON → record → domain (so a domain field nobody
// mapped fails).
//
// Values the record shares with the domain value (strings, slices of
// strings, maps of plain values, *int and *bool) are not copied: a record
// lives only between a domain value and its encoding.

// mapSlice maps each element of in with f, keeping a nil slice nil and an
// empty one empty (some fields are encoded as [] and null alike by the API,
// but the store keeps what it was given).
func mapSlice[S, D any](in []S, f func(*S) D) []D {
	if in == nil {
		return nil
	}
	out := make([]D, len(in))
	for i := range in {
		out[i] = f(&in[i])
	}
	return out
}

// mapPtr maps *in with f, keeping nil nil.
func mapPtr[S, D any](in *S, f func(*S) D) *D {
	if in == nil {
		return nil
	}
	out := f(in)
	return &out
}

// keyValuePairRecord is the stored form of ecs.KeyValuePair.
type keyValuePairRecord struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

func keyValuePairRecordOf(v *ecs.KeyValuePair) keyValuePairRecord {
	return keyValuePairRecord{
		Name:  v.Name,
		Value: v.Value,
	}
}

func (r *keyValuePairRecord) domain() ecs.KeyValuePair {
	return ecs.KeyValuePair{
		Name:  r.Name,
		Value: r.Value,
	}
}

// environmentFileRecord is the stored form of ecs.EnvironmentFile.
type environmentFileRecord struct {
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

func environmentFileRecordOf(v *ecs.EnvironmentFile) environmentFileRecord {
	return environmentFileRecord{
		Value: v.Value,
		Type:  v.Type,
	}
}

func (r *environmentFileRecord) domain() ecs.EnvironmentFile {
	return ecs.EnvironmentFile{
		Value: r.Value,
		Type:  r.Type,
	}
}

// resourceRequirementRecord is the stored form of ecs.ResourceRequirement.
type resourceRequirementRecord struct {
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

func resourceRequirementRecordOf(v *ecs.ResourceRequirement) resourceRequirementRecord {
	return resourceRequirementRecord{
		Value: v.Value,
		Type:  v.Type,
	}
}

func (r *resourceRequirementRecord) domain() ecs.ResourceRequirement {
	return ecs.ResourceRequirement{
		Value: r.Value,
		Type:  r.Type,
	}
}

// ephemeralStorageRecord is the stored form of ecs.EphemeralStorage.
type ephemeralStorageRecord struct {
	SizeInGiB int `json:"sizeInGiB,omitempty"`
}

func ephemeralStorageRecordOf(v *ecs.EphemeralStorage) ephemeralStorageRecord {
	return ephemeralStorageRecord{
		SizeInGiB: v.SizeInGiB,
	}
}

func (r *ephemeralStorageRecord) domain() ecs.EphemeralStorage {
	return ecs.EphemeralStorage{
		SizeInGiB: r.SizeInGiB,
	}
}

// tagRecord is one tag of a /tags/<resourceArn> record, which is a JSON
// array of them.
type tagRecord struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

func tagRecordOf(v *ecs.Tag) tagRecord {
	return tagRecord{
		Key:   v.Key,
		Value: v.Value,
	}
}

func (r *tagRecord) domain() ecs.Tag {
	return ecs.Tag{
		Key:   r.Key,
		Value: r.Value,
	}
}

// attributeRecord is the stored form of ecs.Attribute.
type attributeRecord struct {
	Name       string `json:"name,omitempty"`
	Value      string `json:"value,omitempty"`
	TargetType string `json:"targetType,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
}

func attributeRecordOf(v *ecs.Attribute) attributeRecord {
	return attributeRecord{
		Name:       v.Name,
		Value:      v.Value,
		TargetType: v.TargetType,
		TargetID:   v.TargetID,
	}
}

func (r *attributeRecord) domain() ecs.Attribute {
	return ecs.Attribute{
		Name:       r.Name,
		Value:      r.Value,
		TargetType: r.TargetType,
		TargetID:   r.TargetID,
	}
}
