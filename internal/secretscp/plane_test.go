package secretscp_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretscp"
	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store/bolt"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var sc = secrets.Scope{Account: "123456789012", Region: "eu-west-1"}

func newPlane(t *testing.T) (*secretscp.Plane, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := secretstore.LoadKeyFile(filepath.Join(dir, "secrets.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := secretstore.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return secretscp.New(secretscp.Config{Repo: secretstore.New(st, sealer), Now: clk.Now}), clk, dir
}

func str(s string) *string { return &s }

// TestScheduledDeletionEnds checks that a secret scheduled for deletion is
// refused until its recovery window ends and gone after, over a fake
// clock; its name is then free again.
func TestScheduledDeletionEnds(t *testing.T) {
	ctx := context.Background()
	p, clk, _ := newPlane(t)
	if _, _, err := p.CreateSecret(ctx, sc, secretscp.CreateSecret{Name: "db", Value: secretscp.Value{String: str("v")}}); err != nil {
		t.Fatal(err)
	}
	seven := 7
	if _, _, err := p.DeleteSecret(ctx, sc, "db", &seven, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.GetSecretValue(ctx, sc, "db", "", ""); !fault.Is(err, fault.Invalid) {
		t.Fatalf("scheduled secret read: %v", err)
	}
	clk.Add(7*24*time.Hour - time.Second)
	if _, err := p.DescribeSecret(ctx, sc, "db"); err != nil {
		t.Fatalf("before the window ends: %v", err)
	}
	clk.Add(time.Second)
	if _, err := p.DescribeSecret(ctx, sc, "db"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("after the window: %v", err)
	}
	if _, _, err := p.CreateSecret(ctx, sc, secretscp.CreateSecret{Name: "db", Value: secretscp.Value{String: str("again")}}); err != nil {
		t.Fatalf("name not free after the window: %v", err)
	}
}

// TestResolve checks the valueFrom forms the ECS agent accepts.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	p, _, _ := newPlane(t)
	s, _, err := p.CreateSecret(ctx, sc, secretscp.CreateSecret{Name: "prod/db", Value: secretscp.Value{String: str(`{"user":"u1","port":5432}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.PutSecretValue(ctx, sc, "prod/db", "", secretscp.Value{String: str(`{"user":"u2"}`)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/app/key", "flat"} {
		if _, _, err := p.PutParameter(ctx, sc, secretscp.PutParameter{Name: name, Type: secrets.TypeSecureString, Value: "val-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]string{
		s.ARN:                        `{"user":"u2"}`,
		"prod/db":                    `{"user":"u2"}`,
		s.ARN + ":user::":            "u2",
		s.ARN + ":user:AWSPREVIOUS:": "u1",
		s.ARN + ":port:AWSPREVIOUS:": "5432",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/app/key": "val-/app/key",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/flat":    "val-flat",
		"/app/key": "val-/app/key",
		"flat":     "val-flat",
	}
	for ref, want := range cases {
		got, err := p.Resolve(ctx, sc, ref)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	for _, ref := range []string{"missing", s.ARN + ":nokey::", "arn:aws:ssm:eu-west-1:123456789012:parameter/none", "arn:aws:s3:::b"} {
		if got, err := p.Resolve(ctx, sc, ref); err == nil {
			t.Errorf("Resolve(%q) = %q, want an error", ref, got)
		}
	}
}

// TestValuesSealed checks that a store opened with another key cannot
// read the values (they are sealed, not merely encoded).
func TestValuesSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	s1, _ := secretstore.NewSealer(k1)
	s2, _ := secretstore.NewSealer(k2)
	p1 := secretscp.New(secretscp.Config{Repo: secretstore.New(st, s1)})
	if _, _, err := p1.PutParameter(ctx, sc, secretscp.PutParameter{Name: "/x", Type: secrets.TypeString, Value: "plain"}); err != nil {
		t.Fatal(err)
	}
	p2 := secretscp.New(secretscp.Config{Repo: secretstore.New(st, s2)})
	if _, err := p2.GetParameter(ctx, sc, "/x"); err == nil || !strings.Contains(err.Error(), "cannot be decrypted") {
		t.Fatalf("read with another key: %v", err)
	}
}
