package ecs

import (
	"encoding/json"
	"math"
)

// Task definition limits ECS enforces at registration.
const (
	// MaxTaskDefinitionBytes is the largest task definition ECS registers:
	// 64 KiB of JSON.
	MaxTaskDefinitionBytes = 65536
	// MinEphemeralStorageGiB and MaxEphemeralStorageGiB bound
	// ephemeralStorage.sizeInGiB (the Fargate default, 20 GiB, is what a
	// task gets without the parameter).
	MinEphemeralStorageGiB = 21
	MaxEphemeralStorageGiB = 200
	// maxInteger is the largest value of ECS's Integer members (a 32-bit
	// signed integer on the wire): container cpu, memory and
	// memoryReservation.
	maxInteger = math.MaxInt32
)

// checkTaskDefinitionSize refuses a task definition whose JSON document is
// larger than ECS registers. It measures the document as the caller sent
// it (before defaults are added).
func checkTaskDefinitionSize(td *TaskDefinition) error {
	b, err := json.Marshal(td)
	if err != nil {
		return clientErr("The task definition cannot be encoded: %v", err)
	}
	if len(b) > MaxTaskDefinitionBytes {
		return clientErr("Actual length: '%d'. Max allowed length is '%d' bytes.", len(b), MaxTaskDefinitionBytes)
	}
	return nil
}

// checkEphemeralStorage checks ephemeralStorage.sizeInGiB.
func checkEphemeralStorage(td *TaskDefinition) error {
	if es := td.EphemeralStorage; es != nil && (es.SizeInGiB < MinEphemeralStorageGiB || es.SizeInGiB > MaxEphemeralStorageGiB) {
		return clientErr("Invalid 'ephemeralStorage.sizeInGiB' setting for task: %d. The minimum supported value is %d GiB and the maximum supported value is %d GiB.",
			es.SizeInGiB, MinEphemeralStorageGiB, MaxEphemeralStorageGiB)
	}
	return nil
}

// checkContainerIntegers refuses container cpu, memory and
// memoryReservation values beyond ECS's Integer range.
func checkContainerIntegers(c *ContainerDefinition) error {
	if c.CPU > maxInteger {
		return clientErr("Invalid 'cpu' setting for container '%s'. The value must be at most %d.", c.Name, maxInteger)
	}
	if c.Memory != nil && *c.Memory > maxInteger {
		return clientErr("Invalid 'memory' setting for container '%s'. The value must be at most %d MiB.", c.Name, maxInteger)
	}
	if c.MemoryReservation != nil && *c.MemoryReservation > maxInteger {
		return clientErr("Invalid 'memoryReservation' setting for container '%s'. The value must be at most %d MiB.", c.Name, maxInteger)
	}
	return nil
}
