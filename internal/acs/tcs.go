package acs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The telemetry session (TCS): an ECS agent opens a SigV4-signed websocket
// to <telemetryEndpoint>ws?cluster=...&containerInstance=... and publishes
// metrics, container health and instance status on it, each message
// acknowledged by the server. The agent drops and reopens a session that
// hears nothing (no heartbeat, no acknowledgement) for a minute or so, so
// the server sends HeartbeatMessage regularly. ECS agents report container
// health only here (for containers whose healthCheckType is docker).
//
// Messages use the ACS envelope; each message the agent sends is preceded
// by the HTTP headers that sign it and a blank line.

// TCS message types.
const (
	TypePublishMetrics          = "PublishMetricsRequest"
	TypePublishHealth           = "PublishHealthRequest"
	TypePublishInstanceStatus   = "PublishInstanceStatusRequest"
	TypeStartTelemetrySession   = "StartTelemetrySessionRequest"
	TypeAckPublishMetric        = "AckPublishMetric"
	TypeAckPublishHealth        = "AckPublishHealth"
	TypeAckPublishInstanceState = "AckPublishInstanceStatus"
)

// TelemetryHeartbeat is how often the telemetry server says it is alive:
// well within the agent's one-minute heartbeat timeout.
const TelemetryHeartbeat = 20 * time.Second

// PublishHealthRequest is the container health an agent publishes.
type PublishHealthRequest struct {
	Metadata *HealthMetadata `json:"metadata"`
	Tasks    []TaskHealth    `json:"tasks"`
}

// HealthMetadata names the publishing instance.
type HealthMetadata struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	MessageID         string `json:"messageId,omitempty"`
	Fin               bool   `json:"fin,omitempty"`
}

// TaskHealth is the health of a task's containers.
type TaskHealth struct {
	TaskARN               string            `json:"taskArn"`
	ClusterARN            string            `json:"clusterArn,omitempty"`
	TaskDefinitionFamily  string            `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionVersion string            `json:"taskDefinitionVersion,omitempty"`
	Containers            []ContainerHealth `json:"containers"`
}

// ContainerHealth is one container's health: HEALTHY, UNHEALTHY or UNKNOWN.
type ContainerHealth struct {
	ContainerName string `json:"containerName"`
	HealthStatus  string `json:"healthStatus"`
	StatusMessage string `json:"statusMessage,omitempty"`
}

// telemetryHeartbeat is TCS's HeartbeatMessage.
type telemetryHeartbeat struct {
	Healthy bool `json:"healthy"`
}

// telemetryAck acknowledges a publish request.
type telemetryAck struct {
	Message string `json:"message"`
}

// TelemetryServer serves the telemetry (and, with no OnHealth, the
// Service Connect) websocket: it authenticates the upgrade, heartbeats,
// acknowledges what the agent publishes and hands container health to
// OnHealth. Close ends every session and waits for them.
type TelemetryServer struct {
	// Authenticate verifies the upgrade request's signature and returns
	// the caller's account.
	Authenticate func(r *http.Request) (account string, err error)
	// OnHealth records published container health (optional). instance
	// is the publishing container instance, as the session's query names
	// it.
	OnHealth func(ctx context.Context, account, instance string, h *PublishHealthRequest) error
	// OnMetrics records published task metrics (optional).
	OnMetrics func(ctx context.Context, account, instance string, m *PublishMetricsRequest) error
	// Heartbeat is the heartbeat interval; 0 means TelemetryHeartbeat.
	Heartbeat time.Duration
	Logger    *slog.Logger

	mu     sync.Mutex
	closed bool
	conns  map[*websocket.Conn]context.CancelFunc
	wg     sync.WaitGroup
}

// ServeHTTP upgrades an agent's GET .../ws request and serves it.
func (srv *TelemetryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := srv.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, account, ok := acceptAgent(w, r, srv.Authenticate, log.With("service", "tcs"))
	if !ok {
		return
	}
	q := r.URL.Query()
	instance := q.Get("containerInstance")
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		cancel()
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	if srv.conns == nil {
		srv.conns = map[*websocket.Conn]context.CancelFunc{}
	}
	srv.conns[conn] = cancel
	srv.wg.Add(1)
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.conns, conn)
		srv.mu.Unlock()
		cancel()
		_ = conn.Close(websocket.StatusNormalClosure, "")
		srv.wg.Done()
	}()
	log = log.With("instance", instance, "path", r.URL.Path)
	log.Debug("tcs: agent connected", "agentVersion", q.Get("agentVersion"))
	srv.serve(ctx, conn, account, instance, log)
}

// Close ends every session and waits for them to finish.
func (srv *TelemetryServer) Close() {
	srv.mu.Lock()
	srv.closed = true
	for _, cancel := range srv.conns {
		cancel()
	}
	srv.mu.Unlock()
	srv.wg.Wait()
}

func (srv *TelemetryServer) serve(ctx context.Context, conn *websocket.Conn, account, instance string, log *slog.Logger) {
	var wmu sync.Mutex
	send := func(typ string, msg any) error {
		b, err := Encode(typ, msg)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		wmu.Lock()
		defer wmu.Unlock()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	hb := srv.Heartbeat
	if hb <= 0 {
		hb = TelemetryHeartbeat
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(hb)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := send(TypeHeartbeat, telemetryHeartbeat{Healthy: true}); err != nil {
				cancel()
				return
			}
		}
	}()
	defer func() { <-done }()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		env, err := Decode(telemetryBody(b))
		if err != nil {
			log.Warn("tcs: bad message from agent", "error", err)
			continue
		}
		var ack string
		switch env.Type {
		case TypePublishMetrics:
			ack = TypeAckPublishMetric
			if srv.OnMetrics != nil {
				m, err := decodeMetrics(env.Message)
				if err != nil {
					log.Warn("tcs: undecodable metrics", "error", err)
					continue
				}
				if err := srv.OnMetrics(ctx, account, instance, m); err != nil {
					log.Warn("tcs: metrics not recorded", "error", err)
				}
			}
		case TypePublishInstanceStatus:
			ack = TypeAckPublishInstanceState
		case TypePublishHealth:
			ack = TypeAckPublishHealth
			var h PublishHealthRequest
			if err := json.Unmarshal(env.Message, &h); err != nil {
				log.Warn("tcs: undecodable health report", "error", err)
				continue
			}
			if srv.OnHealth != nil {
				if err := srv.OnHealth(ctx, account, instance, &h); err != nil {
					// Not acknowledged: the agent publishes health again.
					log.Warn("tcs: container health not recorded", "error", err)
					continue
				}
			}
		default:
			log.Debug("tcs: ignoring agent message", "type", env.Type)
			continue
		}
		if err := send(ack, telemetryAck{}); err != nil {
			return
		}
	}
}

// telemetryBody strips the signing headers that precede a message.
func telemetryBody(b []byte) []byte {
	if len(b) > 0 && b[0] == '{' {
		return b
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return b[i+4:]
	}
	return b
}
