package ecsexec

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ssmchannel"
)

type noAgents struct{}

func (noAgents) Session(string) *acs.Session { return nil }

// TestTokenIsSingleUse: a wrong token is refused; the right one opens the
// session once (here the agent is not connected, which the client is
// told); a second use is refused; tokens are distinct per session.
func TestTokenIsSingleUse(t *testing.T) {
	b := &Broker{Agents: noAgents{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DataChannelPath+"{id}", b.ServeDataChannel)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := "ws" + strings.TrimPrefix(srv.URL, "http")
	s, err := b.OpenExec(t.Context(), ecscp.ExecTarget{TaskARN: "t", InstanceARN: "i", ContainerName: "c", StreamBase: base})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := b.OpenExec(t.Context(), ecscp.ExecTarget{StreamBase: base})
	if s.Token == other.Token || s.ID == other.ID || len(s.Token) < 40 {
		t.Fatalf("tokens %q and %q", s.Token, other.Token)
	}
	run := func(token string) error {
		_, err := ssmchannel.Run(t.Context(), ssmchannel.ClientConfig{URL: s.StreamURL, Token: token})
		return err
	}
	if err := run(other.Token); err == nil || errors.As(err, new(*ssmchannel.ExitError)) {
		t.Fatalf("another session's token: %v", err)
	}
	var ee *ssmchannel.ExitError
	if err := run(s.Token); !errors.As(err, &ee) || !strings.Contains(ee.Output, "not connected") {
		t.Fatalf("first use: %v", err)
	}
	if err := run(s.Token); err == nil || errors.As(err, new(*ssmchannel.ExitError)) {
		t.Fatalf("second use: %v", err)
	}
}

// TestUnusedTokensExpire: a token not used within TokenTTL is refused.
func TestUnusedTokensExpire(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &Broker{Agents: noAgents{}, TokenTTL: time.Minute, Now: func() time.Time { return now }}
	s, err := b.OpenExec(t.Context(), ecscp.ExecTarget{})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute + time.Second)
	b.mu.Lock()
	sess := b.sessions[s.ID]
	b.mu.Unlock()
	if b.claim(sess, s.Token) {
		t.Fatal("an expired token was accepted")
	}
}
