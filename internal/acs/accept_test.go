package acs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestAcceptAgent: ACS and TCS refuse an unauthenticated upgrade with 403
// and ACS one without its instance with 400, through the one acceptance
// they share; an authenticated, complete one is upgraded.
func TestAcceptAgent(t *testing.T) {
	auth := func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") != "ok" {
			return "", errors.New("unsigned")
		}
		return "123456789012", nil
	}
	acs := httptest.NewServer(&Server{Authenticate: auth})
	defer acs.Close()
	tcs := &TelemetryServer{Authenticate: auth}
	tcsSrv := httptest.NewServer(tcs)
	defer tcsSrv.Close()
	defer tcs.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws := func(base, path string) string { return "ws" + strings.TrimPrefix(base, "http") + path }
	signed := &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"ok"}}}
	for _, c := range []struct {
		name string
		url  string
		opts *websocket.DialOptions
		want int
	}{
		{"acs unsigned", ws(acs.URL, "/ws?clusterArn=c&containerInstanceArn=i"), nil, http.StatusForbidden},
		{"acs no instance", ws(acs.URL, "/ws?clusterArn=c"), signed, http.StatusBadRequest},
		{"tcs unsigned", ws(tcsSrv.URL, "/tcs/ws?containerInstance=i"), nil, http.StatusForbidden},
	} {
		_, resp, err := websocket.Dial(ctx, c.url, c.opts)
		if err == nil || resp == nil || resp.StatusCode != c.want {
			t.Errorf("%s: %v %v, want %d", c.name, resp, err, c.want)
		}
	}
	conn, _, err := websocket.Dial(ctx, ws(acs.URL, "/ws?clusterArn=c&containerInstanceArn=i"), signed)
	if err != nil {
		t.Fatalf("a signed, complete ACS upgrade: %v", err)
	}
	conn.CloseNow()
}
