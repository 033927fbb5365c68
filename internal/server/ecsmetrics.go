package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/cw"
	"github.com/berth-dev/berth/internal/cwcp"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
)

// ecsMetrics publishes the AWS/ECS CPUUtilization and MemoryUtilization
// metrics from the task metrics agents publish on their telemetry
// sessions: each task's utilization is the CPU units (1024 a vCPU) and MiB
// its containers used, as a percent of the task's reserved cpu and memory
// (the task size, else the sum of its containers'), as ECS defines it.
// Every report adds one datapoint per task to its cluster's metric
// (ClusterName) and, for a service's task, to the service's
// (ClusterName, ServiceName), so that a period's Average, Minimum,
// Maximum and SampleCount are over the tasks' samples.
type ecsMetrics struct {
	cache *ecscache.Cache
	cw    *cwcp.Plane
	now   func() time.Time
}

func (e *ecsMetrics) onMetrics(ctx context.Context, account, instance string, m *acs.PublishMetricsRequest) error {
	byScope := map[cw.Scope][]cw.Datum{}
	now := e.now()
	for _, tm := range m.TaskMetrics {
		sc, cluster, id, ok := parseTaskARN(tm.TaskARN)
		if !ok || sc.Account != account {
			continue
		}
		t, ok := e.cache.Task(sc, cluster, id)
		if !ok {
			continue
		}
		cpuRes, memRes := reservations(t)
		var cpuUnits, memMiB float64
		cpuOK := cpuRes > 0
		for _, c := range tm.ContainerMetrics {
			if c.CPUStatsSet == nil || c.CPUStatsSet.SampleCount <= 0 {
				cpuOK = false
			} else {
				cpuUnits += c.CPUStatsSet.Sum / c.CPUStatsSet.SampleCount / 100 * 1024
			}
			if c.MemoryStatsSet != nil && c.MemoryStatsSet.SampleCount > 0 {
				memMiB += c.MemoryStatsSet.Sum / c.MemoryStatsSet.SampleCount
			}
		}
		dims := [][]cw.Dimension{{{Name: "ClusterName", Value: cluster}}}
		if svc, ok := strings.CutPrefix(t.Group, "service:"); ok {
			dims = append(dims, []cw.Dimension{{Name: "ClusterName", Value: cluster}, {Name: "ServiceName", Value: svc}})
		}
		cwsc := cw.Scope{Account: sc.Account, Region: sc.Region}
		for _, d := range dims {
			if cpuOK {
				v := cpuUnits * 100 / cpuRes
				byScope[cwsc] = append(byScope[cwsc], cw.Datum{Metric: cw.Metric{Name: "CPUUtilization", Dimensions: d},
					Time: now, Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}, Unit: "Percent"})
			}
			if memRes > 0 {
				v := memMiB * 100 / memRes
				byScope[cwsc] = append(byScope[cwsc], cw.Datum{Metric: cw.Metric{Name: "MemoryUtilization", Dimensions: d},
					Time: now, Agg: cw.Agg{Count: 1, Sum: v, Min: v, Max: v}, Unit: "Percent"})
			}
		}
	}
	for sc, data := range byScope {
		if err := e.cw.PublishServiceMetrics(sc, "AWS/ECS", data); err != nil {
			return err
		}
	}
	return nil
}

// reservations returns a task's reserved CPU units and memory MiB.
func reservations(t *ecs.Task) (cpu, mem float64) {
	cpu, _ = strconv.ParseFloat(t.CPU, 64)
	mem, _ = strconv.ParseFloat(t.Memory, 64)
	if cpu <= 0 {
		cpu = 0
		for _, c := range t.Containers {
			v, _ := strconv.ParseFloat(c.CPU, 64)
			cpu += v
		}
	}
	if mem <= 0 {
		mem = 0
		for _, c := range t.Containers {
			v, _ := strconv.ParseFloat(c.Memory, 64)
			if v <= 0 {
				v, _ = strconv.ParseFloat(c.MemoryReservation, 64)
			}
			mem += v
		}
	}
	return cpu, mem
}

// parseTaskARN splits arn:aws:ecs:<region>:<account>:task/<cluster>/<id>.
func parseTaskARN(arn string) (ecs.Scope, string, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" {
		return ecs.Scope{}, "", "", false
	}
	rest, ok := strings.CutPrefix(parts[5], "task/")
	if !ok {
		return ecs.Scope{}, "", "", false
	}
	cluster, id, ok := strings.Cut(rest, "/")
	if !ok {
		return ecs.Scope{}, "", "", false
	}
	return ecs.Scope{Account: parts[4], Region: parts[3]}, cluster, id, true
}
