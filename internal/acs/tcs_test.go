package acs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestTelemetrySession(t *testing.T) {
	health := make(chan *PublishHealthRequest, 1)
	srv := &TelemetryServer{
		Heartbeat: 50 * time.Millisecond,
		Authenticate: func(r *http.Request) (string, error) {
			if r.Header.Get("Authorization") != "ok" {
				return "", errors.New("unsigned")
			}
			return "123456789012", nil
		},
		OnHealth: func(ctx context.Context, account, instance string, h *PublishHealthRequest) error {
			if account != "123456789012" || instance != "arn:ci" {
				t.Errorf("health from %s %s", account, instance)
			}
			health <- h
			return nil
		},
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/tcs/ws?cluster=c&containerInstance=arn:ci"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned session: %v %v", resp, err)
	}
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"ok"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	// As the ECS agent frames it: the signing headers, a blank line, the
	// message.
	msg := `{"type":"PublishHealthRequest","message":{"metadata":{"cluster":"c","containerInstance":"arn:ci","messageId":"m1"},` +
		`"tasks":[{"taskArn":"arn:task","containers":[{"containerName":"db","healthStatus":"HEALTHY","statusSince":"2026-01-01T00:00:00Z"}]}],"timestamp":"2026-01-01T00:00:00Z"}}`
	if err := conn.Write(ctx, websocket.MessageText, []byte("Authorization: AWS4-HMAC-SHA256 ...\r\nX-Amz-Date: 20260101T000000Z\r\n\r\n"+msg)); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-health:
		if len(h.Tasks) != 1 || h.Tasks[0].TaskARN != "arn:task" || h.Tasks[0].Containers[0].HealthStatus != "HEALTHY" {
			t.Fatalf("health: %+v", h)
		}
	case <-ctx.Done():
		t.Fatal("health not delivered")
	}
	seen := map[string]bool{}
	for !seen[TypeAckPublishHealth] || !seen[TypeHeartbeat] {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (seen %v)", err, seen)
		}
		env, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if env.Type == TypeHeartbeat {
			var hb telemetryHeartbeat
			if json.Unmarshal(env.Message, &hb) != nil || !hb.Healthy {
				t.Fatalf("heartbeat: %s", env.Message)
			}
		}
		seen[env.Type] = true
	}
	// Metrics are acknowledged too.
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"PublishMetricsRequest","message":{"metadata":{"idle":true}}}`)); err != nil {
		t.Fatal(err)
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if env, _ := Decode(b); env.Type == TypeAckPublishMetric {
			break
		}
	}
	// Close ends the session and waits for it.
	srv.Close()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
	}
	if n := len(srv.conns); n != 0 {
		t.Fatalf("%d sessions left after Close", n)
	}
}
