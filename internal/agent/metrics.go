package agent

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecs"
)

// DefaultMetricsInterval is how often the agent samples its containers'
// CPU and memory and publishes them on the telemetry session (the ECS
// agent publishes every 20 seconds).
const DefaultMetricsInterval = 20 * time.Second

// sampler turns driver stats samples into per-container CPU (percent of
// one vCPU over the interval) and memory (MiB) values. It is used by the
// telemetry loop's goroutine only.
type sampler struct {
	drv  driver.StatsReader
	prev map[string]driver.Stats // by container runtime ID
}

func newSampler(drv driver.StatsReader) *sampler {
	return &sampler{drv: drv, prev: map[string]driver.Stats{}}
}

// collect samples every running container of the running tasks and
// returns their metrics; a container's first sample gives memory only
// (CPU needs two samples).
func (s *sampler) collect(ctx context.Context, tasks []taskSample) *acs.PublishMetricsRequest {
	now := time.Now()
	out := &acs.PublishMetricsRequest{Timestamp: &now, TaskMetrics: []acs.TaskMetric{}}
	seen := map[string]bool{}
	stats := s.read(ctx, tasks)
	for _, t := range tasks {
		tm := acs.TaskMetric{TaskARN: t.arn}
		for _, c := range t.containers {
			seen[c.id] = true
			r := stats[c.id]
			if r.err != nil {
				continue
			}
			st := r.st
			cm := acs.ContainerMetric{ContainerName: c.name, MemoryStatsSet: &acs.CWStatsSet{}}
			cm.MemoryStatsSet.Add(float64(st.MemoryUsageBytes) / (1 << 20))
			if p, ok := s.prev[c.id]; ok && st.Time.After(p.Time) && st.CPUUsageNanos >= p.CPUUsageNanos {
				cm.CPUStatsSet = &acs.CWStatsSet{}
				cm.CPUStatsSet.Add(float64(st.CPUUsageNanos-p.CPUUsageNanos) * 100 / float64(st.Time.Sub(p.Time).Nanoseconds()))
			}
			s.prev[c.id] = st
			tm.ContainerMetrics = append(tm.ContainerMetrics, cm)
		}
		if len(tm.ContainerMetrics) > 0 {
			out.TaskMetrics = append(out.TaskMetrics, tm)
		}
	}
	for id := range s.prev {
		if !seen[id] {
			delete(s.prev, id)
		}
	}
	return out
}

// statsReadsAtOnce bounds the stats reads under way at once: Docker
// answers each in about a second on a busy host, so reading the
// containers one after another would stretch a round past the interval.
const statsReadsAtOnce = 8

type statsResult struct {
	st  driver.Stats
	err error
}

// read reads every container's stats, up to statsReadsAtOnce at once; it
// returns when all reads are done.
func (s *sampler) read(ctx context.Context, tasks []taskSample) map[string]statsResult {
	var ids []string
	for _, t := range tasks {
		for _, c := range t.containers {
			ids = append(ids, c.id)
		}
	}
	res := make([]statsResult, len(ids))
	sem := make(chan struct{}, statsReadsAtOnce)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			res[i].st, res[i].err = s.drv.Stats(sctx, id)
		})
	}
	wg.Wait()
	out := make(map[string]statsResult, len(ids))
	for i, id := range ids {
		out[id] = res[i]
	}
	return out
}

type taskSample struct {
	arn        string
	containers []containerSample
}

type containerSample struct{ id, name string }

// runningContainers lists the running containers of the runner's running
// tasks.
func (a *Agent) runningContainers() []taskSample {
	if a.runner == nil {
		return nil
	}
	var out []taskSample
	for _, t := range a.runner.Tasks() {
		if t.LastStatus != ecs.TaskRunning {
			continue
		}
		ts := taskSample{arn: t.TaskARN}
		for _, c := range t.Containers {
			if c.LastStatus == ecs.TaskRunning && c.RuntimeID != "" {
				ts.containers = append(ts.containers, containerSample{id: c.RuntimeID, name: c.Name})
			}
		}
		if len(ts.containers) > 0 {
			out = append(out, ts)
		}
	}
	return out
}

// telemetryLoop keeps a telemetry session open and publishes the
// containers' metrics every MetricsInterval, reconnecting with backoff.
func (a *Agent) telemetryLoop(ctx context.Context) {
	iv := a.cfg.MetricsInterval
	if iv == 0 {
		iv = DefaultMetricsInterval
	}
	s := newSampler(a.cfg.Driver)
	backoff := time.Second
	for ctx.Err() == nil {
		arn := a.InstanceARN()
		var out acs.DiscoverPollEndpointOutput
		err := a.api.call(ctx, "DiscoverPollEndpoint", acs.DiscoverPollEndpointInput{Cluster: a.cfg.Cluster, ContainerInstance: arn}, &out)
		if err == nil && out.TelemetryEndpoint != "" {
			c := &acs.TelemetryClient{Endpoint: out.TelemetryEndpoint, ClusterARN: clusterARNOf(arn, a.cfg.Cluster), InstanceARN: arn,
				Sign: a.api.sign, Interval: iv, Logger: a.log,
				Collect: func() *acs.PublishMetricsRequest { return s.collect(ctx, a.runningContainers()) }}
			start := time.Now()
			err = c.Run(ctx)
			if time.Since(start) > time.Minute {
				backoff = time.Second
			}
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Debug("telemetry session ended; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(jitter(backoff)):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
