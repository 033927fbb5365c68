package docker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// Stats takes one sample of a container's resource usage.
func (d *Driver) Stats(ctx context.Context, id string) (driver.Stats, error) {
	res, err := d.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return driver.Stats{}, wrap("stats "+id, err)
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return driver.Stats{}, fmt.Errorf("docker: stats %s: %w", id, err)
	}
	online := int(s.CPUStats.OnlineCPUs)
	if online == 0 {
		online = len(s.CPUStats.CPUUsage.PercpuUsage)
	}
	return driver.Stats{
		Time:                s.Read,
		CPUUsageNanos:       s.CPUStats.CPUUsage.TotalUsage,
		SystemCPUUsageNanos: s.CPUStats.SystemUsage,
		OnlineCPUs:          online,
		MemoryUsageBytes:    memoryUsage(s.MemoryStats),
		MemoryLimitBytes:    s.MemoryStats.Limit,
	}, nil
}

// memoryUsage subtracts the inactive page cache, as the docker CLI does.
func memoryUsage(m container.MemoryStats) uint64 {
	cache := m.Stats["total_inactive_file"] // cgroup v1
	if v, ok := m.Stats["inactive_file"]; ok && cache == 0 {
		cache = v // cgroup v2
	}
	if cache < m.Usage {
		return m.Usage - cache
	}
	return m.Usage
}

var _ driver.RawStatsReader = (*Driver)(nil)

// RawStats returns one sample of Docker's stats JSON for a container.
func (d *Driver) RawStats(ctx context.Context, id string) ([]byte, error) {
	res, err := d.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return nil, wrap("stats "+id, err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		return nil, fmt.Errorf("docker: stats %s: %w", id, err)
	}
	return raw, nil
}
