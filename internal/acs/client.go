package acs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Client is the agent's side of an ACS session.
type Client struct {
	// Endpoint is what DiscoverPollEndpoint returned (e.g.
	// "http://127.0.0.1:4566/").
	Endpoint     string
	ClusterARN   string
	InstanceARN  string
	AgentVersion string
	AgentHash    string
	// DockerVersion describes the container runtime ("DockerVersion:
	// 25.0.3"), as ECS agents send it.
	DockerVersion string
	// Sign signs the upgrade request (SigV4, as ECS agents do).
	Sign func(r *http.Request) error
	// OnPayload handles a PayloadMessage; the message is acknowledged
	// when it returns nil.
	OnPayload func(ctx context.Context, m *PayloadMessage) error
	// OnExec handles berth's exec requests (TypeExec); it must not block
	// (it starts the exec's work and returns). Nil ignores them.
	OnExec func(ctx context.Context, m *ExecRequest)
	// Heartbeat is the interval of the agent's heartbeats; 0 means
	// DefaultHeartbeat. A session that hears nothing from the server for
	// three heartbeats is closed.
	Heartbeat  time.Duration
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// SessionURL returns the websocket URL of the session.
func (c *Client) SessionURL() string {
	u := strings.TrimSuffix(c.Endpoint, "/") + Path
	q := url.Values{}
	q.Set("clusterArn", c.ClusterARN)
	q.Set("containerInstanceArn", c.InstanceARN)
	q.Set("agentHash", c.AgentHash)
	q.Set("agentVersion", c.AgentVersion)
	if c.DockerVersion != "" {
		q.Set("dockerVersion", c.DockerVersion)
	}
	q.Set("seqNum", "1")
	q.Set("protocolVersion", "2")
	q.Set("sendCredentials", "false")
	return u + "?" + q.Encode()
}

// Run opens a session and serves it until it ends (the returned error says
// why) or ctx is done (nil). onConnected, if set, is called once the
// session is up.
func (c *Client) Run(ctx context.Context, onConnected func()) error {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := c.SessionURL()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if c.Sign != nil {
		if err := c.Sign(req); err != nil {
			return fmt.Errorf("acs: sign: %w", err)
		}
	}
	dctx, cancelDial := context.WithTimeout(ctx, 30*time.Second)
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: req.Header, HTTPClient: c.HTTPClient})
	cancelDial()
	if err != nil {
		if resp != nil {
			return fmt.Errorf("acs: connect: %s: %w", resp.Status, err)
		}
		return fmt.Errorf("acs: connect: %w", err)
	}
	conn.SetReadLimit(MaxMessageBytes)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer conn.Close(websocket.StatusNormalClosure, "")

	send := func(typ string, msg any) error {
		b, err := Encode(typ, msg)
		if err != nil {
			return err
		}
		wctx, c := context.WithTimeout(sctx, 30*time.Second)
		defer c()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	hb := c.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	var lastHeard atomic.Int64
	lastHeard.Store(time.Now().UnixNano())
	var silent atomic.Bool
	go func() {
		t := time.NewTicker(hb)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			if time.Since(time.Unix(0, lastHeard.Load())) > 3*hb {
				silent.Store(true)
				cancel()
				return
			}
			if err := send(TypeHeartbeat, HeartbeatMessage{Healthy: true, MessageID: newMessageID()}); err != nil {
				cancel()
				return
			}
		}
	}()
	connected := false
	for {
		_, b, err := conn.Read(sctx)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case silent.Load():
				return errors.New("acs: server silent for three heartbeats")
			}
			return fmt.Errorf("acs: session ended: %w", err)
		}
		lastHeard.Store(time.Now().UnixNano())
		env, err := Decode(b)
		if err != nil {
			log.Warn("acs: bad message from server", "error", err)
			continue
		}
		if !connected && onConnected != nil && env.Type != TypeInactiveInstance && env.Type != TypeInvalidInstance &&
			env.Type != TypeInvalidCluster && env.Type != TypeAccessDenied && env.Type != TypeBadRequest {
			connected = true
			onConnected()
		}
		switch env.Type {
		case TypePayload:
			var m PayloadMessage
			if err := json.Unmarshal(env.Message, &m); err != nil {
				log.Warn("acs: undecodable payload", "error", err)
				continue
			}
			if c.OnPayload != nil {
				if err := c.OnPayload(sctx, &m); err != nil {
					log.Warn("acs: payload not handled; not acknowledging it", "messageId", m.MessageID, "error", err)
					continue
				}
			}
			if err := send(TypeAck, AckRequest{Cluster: c.ClusterARN, ContainerInstance: c.InstanceARN, MessageID: m.MessageID}); err != nil {
				return fmt.Errorf("acs: ack: %w", err)
			}
		case TypeHeartbeat:
			var h HeartbeatMessage
			_ = json.Unmarshal(env.Message, &h)
			if err := send(TypeHeartbeatAck, HeartbeatAckRequest{MessageID: h.MessageID}); err != nil {
				return fmt.Errorf("acs: heartbeat ack: %w", err)
			}
		case TypeHeartbeatAck:
		case TypeExec:
			var m ExecRequest
			if err := json.Unmarshal(env.Message, &m); err != nil {
				log.Warn("acs: undecodable exec request", "error", err)
				continue
			}
			if c.OnExec != nil {
				c.OnExec(sctx, &m)
			}
		case TypeInactiveInstance, TypeInvalidInstance, TypeInvalidCluster, TypeAccessDenied, TypeBadRequest:
			var e ErrorMessage
			_ = json.Unmarshal(env.Message, &e)
			return &RefusedError{Type: env.Type, Message: e.Message}
		default:
			log.Debug("acs: ignoring server message", "type", env.Type)
		}
	}
}
