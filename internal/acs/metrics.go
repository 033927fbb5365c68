package acs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// PublishMetricsRequest is the task metrics an agent publishes on its
// telemetry session, in the ECS agent's shape: per task and container a
// statistic set of CPU (percent of one vCPU) and memory (MiB) since the
// last publish.
type PublishMetricsRequest struct {
	Metadata    *MetricsMetadata `json:"metadata"`
	TaskMetrics []TaskMetric     `json:"taskMetrics"`
	Timestamp   *time.Time       `json:"timestamp,omitempty"`
}

// MetricsMetadata names the publishing instance.
type MetricsMetadata struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	Idle              bool   `json:"idle,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	Fin               bool   `json:"fin,omitempty"`
}

// TaskMetric is one task's container metrics.
type TaskMetric struct {
	TaskARN               string            `json:"taskArn"`
	TaskDefinitionFamily  string            `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionVersion string            `json:"taskDefinitionVersion,omitempty"`
	ContainerMetrics      []ContainerMetric `json:"containerMetrics"`
}

// ContainerMetric is one container's CPU and memory statistic sets.
type ContainerMetric struct {
	ContainerName  string      `json:"containerName,omitempty"`
	CPUStatsSet    *CWStatsSet `json:"cpuStatsSet,omitempty"`
	MemoryStatsSet *CWStatsSet `json:"memoryStatsSet,omitempty"`
}

// CWStatsSet is a statistic set.
type CWStatsSet struct {
	Max         float64 `json:"max"`
	Min         float64 `json:"min"`
	SampleCount float64 `json:"sampleCount"`
	Sum         float64 `json:"sum"`
}

// Add adds one sample.
func (s *CWStatsSet) Add(v float64) {
	if s.SampleCount == 0 || v < s.Min {
		s.Min = v
	}
	if s.SampleCount == 0 || v > s.Max {
		s.Max = v
	}
	s.SampleCount++
	s.Sum += v
}

// TelemetryClient is the agent's side of a telemetry session: it
// publishes what Collect returns every Interval and answers heartbeats.
type TelemetryClient struct {
	// Endpoint is DiscoverPollEndpoint's telemetryEndpoint.
	Endpoint    string
	ClusterARN  string
	InstanceARN string
	Sign        func(r *http.Request) error
	// Collect returns the metrics to publish (nil: nothing this time).
	Collect  func() *PublishMetricsRequest
	Interval time.Duration
	Logger   *slog.Logger
}

// Run opens a session and publishes until ctx ends (nil) or the session
// fails (the error says why).
func (c *TelemetryClient) Run(ctx context.Context) error {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := url.Values{}
	q.Set("cluster", c.ClusterARN)
	q.Set("containerInstance", c.InstanceARN)
	u := strings.TrimSuffix(c.Endpoint, "/") + "/ws?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if c.Sign != nil {
		if err := c.Sign(req); err != nil {
			return fmt.Errorf("tcs: sign: %w", err)
		}
	}
	dctx, cancelDial := context.WithTimeout(ctx, 30*time.Second)
	conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: req.Header})
	cancelDial()
	if err != nil {
		return fmt.Errorf("tcs: connect: %w", err)
	}
	conn.SetReadLimit(MaxMessageBytes)
	defer conn.Close(websocket.StatusNormalClosure, "")
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		for {
			// Heartbeats and acknowledgements need no answer.
			if _, _, err := conn.Read(sctx); err != nil {
				readErr <- err
				cancel()
				return
			}
		}
	}()
	iv := c.Interval
	if iv <= 0 {
		iv = 20 * time.Second
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-sctx.Done():
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tcs: session ended: %w", <-readErr)
		case <-t.C:
		}
		m := c.Collect()
		if m == nil {
			continue
		}
		m.Metadata = &MetricsMetadata{Cluster: c.ClusterARN, ContainerInstance: c.InstanceARN, MessageID: newMessageID(), Fin: true,
			Idle: len(m.TaskMetrics) == 0}
		b, err := Encode(TypePublishMetrics, m)
		if err != nil {
			return err
		}
		wctx, wc := context.WithTimeout(sctx, 30*time.Second)
		err = conn.Write(wctx, websocket.MessageText, b)
		wc()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tcs: publish: %w", err)
		}
		log.Debug("tcs: metrics published", "tasks", len(m.TaskMetrics))
	}
}

func decodeMetrics(raw json.RawMessage) (*PublishMetricsRequest, error) {
	var m PublishMetricsRequest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
