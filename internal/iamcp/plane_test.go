package iamcp_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iamcp"
	"github.com/berth-dev/berth/internal/iamstore"
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

func newPlane(t *testing.T) (*iamcp.Plane, *clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return iamcp.New(iamcp.Config{Repo: iamstore.New(st, nil), Now: clk.Now}), clk
}

const acct = "123456789012"

const ecsTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func TestAssumeRoleTrustAndExpiry(t *testing.T) {
	ctx := context.Background()
	p, clk := newPlane(t)
	if _, err := p.CreateRole(ctx, acct, iamcp.CreateRole{Name: "task", TrustPolicy: ecsTrust}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::" + acct + ":role/task"
	// The account's root is not trusted; ECS tasks are.
	_, _, err := p.AssumeRole(ctx, iamcp.Caller{Account: acct}, iamcp.AssumeRole{RoleARN: arn, SessionName: "s1"})
	if !fault.Is(err, fault.AccessDenied) || !strings.Contains(err.Error(), "sts:AssumeRole on resource: "+arn) {
		t.Fatalf("root assuming an ECS-only role: %v", err)
	}
	s, _, err := p.AssumeRoleForService(ctx, "ecs-tasks.amazonaws.com", arn, "task-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.AssumeRoleForService(ctx, "ec2.amazonaws.com", arn, "x1", time.Hour); !fault.Is(err, fault.AccessDenied) {
		t.Fatalf("ec2 assuming an ECS-only role: %v", err)
	}
	cred, ok, err := p.LookupKey(ctx, s.AccessKeyID)
	if err != nil || !ok || cred.SessionToken != s.Token || cred.Principal != "arn:aws:sts::"+acct+":assumed-role/task/task-1" {
		t.Fatalf("lookup: %+v %v %v", cred, ok, err)
	}
	if !cred.Expires.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("expires %v, want an hour after %v", cred.Expires, clk.Now())
	}
	// Durations outside 900 s..MaxSessionDuration are refused.
	if _, _, err := p.AssumeRoleForService(ctx, "ecs-tasks.amazonaws.com", arn, "x2", 2*time.Hour); err == nil {
		t.Fatal("a two-hour session of a one-hour role was issued")
	}
}

func TestRoleDeleteConflictsAndAuthorize(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	if _, err := p.CreateRole(ctx, acct, iamcp.CreateRole{Name: "app", TrustPolicy: ecsTrust}); err != nil {
		t.Fatal(err)
	}
	if err := p.PutRolePolicy(ctx, acct, "app", "read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:List*","Resource":"*"},{"Effect":"Deny","Action":"ecs:ListTasks","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if err := p.AttachRolePolicy(ctx, acct, "app", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRole(ctx, acct, "app"); !fault.Is(err, fault.InUse) {
		t.Fatalf("deleting a role with policies: %v", err)
	}
	c := iamcp.Caller{Account: acct, Principal: "arn:aws:sts::" + acct + ":assumed-role/app/s"}
	for _, tc := range []struct {
		action string
		want   string // "" allowed, else part of the message
	}{
		{"ecs:ListClusters", ""},
		{"ecr:BatchGetImage", ""},
		{"ecs:ListTasks", "with an explicit deny in an identity-based policy"},
		{"ecs:RunTask", "because no identity-based policy allows the ecs:RunTask action"},
	} {
		err := p.Authorize(ctx, c, tc.action, "*", nil)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v", tc.action, err)
		}
	}
	if err := p.Authorize(ctx, iamcp.Caller{Account: acct}, "iam:DeleteRole", "*", nil); err != nil {
		t.Errorf("root denied: %v", err)
	}
	_ = p.DetachRolePolicy(ctx, acct, "app", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	_ = p.DeleteRolePolicy(ctx, acct, "app", "read")
	if err := p.DeleteRole(ctx, acct, "app"); err != nil {
		t.Fatal(err)
	}
}

func TestAccessKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	if _, err := p.CreateUser(ctx, acct, "bob", "", nil); err != nil {
		t.Fatal(err)
	}
	k, err := p.CreateAccessKey(ctx, acct, "bob")
	if err != nil {
		t.Fatal(err)
	}
	cred, ok, _ := p.LookupKey(ctx, k.ID)
	if !ok || cred.Disabled || cred.SecretKey != k.Secret || cred.Principal != "arn:aws:iam::"+acct+":user/bob" {
		t.Fatalf("active key: %+v", cred)
	}
	_ = p.UpdateAccessKey(ctx, acct, "bob", k.ID, "Inactive")
	if cred, _, _ := p.LookupKey(ctx, k.ID); !cred.Disabled {
		t.Fatal("inactive key not disabled")
	}
	if err := p.DeleteAccessKey(ctx, acct, "bob", k.ID); err != nil {
		t.Fatal(err)
	}
	if cred, ok, _ := p.LookupKey(ctx, k.ID); !ok || !cred.Disabled {
		t.Fatalf("deleted key: found=%v %+v, want a refused key", ok, cred)
	}
}

// TestAuthorizeResource: a resource policy's explicit Deny binds every
// caller, the root included; within the owner's account either policy
// allows; another account needs both.
func TestAuthorizeResource(t *testing.T) {
	ctx := context.Background()
	p, _ := newPlane(t)
	if _, err := p.CreateUser(ctx, acct, "bob", "", nil); err != nil {
		t.Fatal(err)
	}
	bob := iamcp.Caller{Account: acct, Principal: "arn:aws:iam::" + acct + ":user/bob"}
	root := iamcp.Caller{Account: acct}
	other := iamcp.Caller{Account: "222222222222"}
	const res = "arn:aws:secretsmanager:eu-west-1:" + acct + ":secret:x-AbCdEf"
	allowBob := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	allowOther := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"secretsmanager:*","Resource":"*"}]}`
	denyRoot := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	for _, tc := range []struct {
		name   string
		caller iamcp.Caller
		policy string
		want   string // "" allowed, else part of the denial
	}{
		{"root, no policy", root, "", ""},
		{"user, no policies", bob, "", "because no identity-based policy allows"},
		{"user named by the resource policy", bob, allowBob, ""},
		{"another account, no policy", other, "", "because no resource-based policy allows"},
		{"another account, named", other, allowOther, ""},
		{"root, denied by the resource policy", root, denyRoot, "with an explicit deny in a resource-based policy"},
		{"a user of the account is denied too", bob, denyRoot, "with an explicit deny in a resource-based policy"},
	} {
		err := p.AuthorizeResource(ctx, tc.caller, "secretsmanager:GetSecretValue", res, acct, tc.policy, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!fault.Is(err, fault.AccessDenied) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want a denial %q", tc.name, err, tc.want)
		}
	}
}
