package agent

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/driver"
)

type fakeStats struct{ samples map[string][]driver.Stats }

func (f *fakeStats) Stats(_ context.Context, id string) (driver.Stats, error) {
	s := f.samples[id]
	if len(s) == 0 {
		return driver.Stats{}, driver.ErrNotFound
	}
	f.samples[id] = s[1:]
	return s[0], nil
}

// TestSampler: CPU is the CPU time used between two samples as a percent
// of one vCPU; memory is in MiB from the first sample on; a container that
// is gone is forgotten.
func TestSampler(t *testing.T) {
	t0 := time.Unix(1000, 0)
	f := &fakeStats{samples: map[string][]driver.Stats{
		"c1": {{Time: t0, CPUUsageNanos: 0, MemoryUsageBytes: 64 << 20}, {Time: t0.Add(10 * time.Second), CPUUsageNanos: 5e9, MemoryUsageBytes: 128 << 20}},
	}}
	s := newSampler(f)
	tasks := []taskSample{{arn: "arn:t", containers: []containerSample{{id: "c1", name: "app"}}}}
	m := s.collect(context.Background(), tasks)
	if len(m.TaskMetrics) != 1 || m.TaskMetrics[0].ContainerMetrics[0].CPUStatsSet != nil || m.TaskMetrics[0].ContainerMetrics[0].MemoryStatsSet.Sum != 64 {
		t.Fatalf("first sample %+v", m.TaskMetrics)
	}
	m = s.collect(context.Background(), tasks)
	cm := m.TaskMetrics[0].ContainerMetrics[0]
	if cm.CPUStatsSet == nil || cm.CPUStatsSet.Sum != 50 || cm.CPUStatsSet.SampleCount != 1 || cm.MemoryStatsSet.Max != 128 {
		t.Fatalf("second sample %+v %+v", cm.CPUStatsSet, cm.MemoryStatsSet)
	}
	if m := s.collect(context.Background(), nil); len(m.TaskMetrics) != 0 || len(s.prev) != 0 {
		t.Fatalf("after the task ended: %+v %v", m.TaskMetrics, s.prev)
	}
}
