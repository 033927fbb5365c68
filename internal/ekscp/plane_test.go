package ekscp

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/eksstore"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store/bolt"
)

var sc = eks.Scope{Account: "123456789012", Region: "eu-west-1"}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// fakeCPs is a ControlPlanes that records its calls (a unit-test fake:
// the real one runs kube-apiserver processes).
type fakeCPs struct {
	mu      sync.Mutex
	err     error
	ensured []*eks.Cluster
	removed []string
}

func (f *fakeCPs) Ensure(_ context.Context, _ eks.Scope, c *eks.Cluster) (Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Endpoint{}, f.err
	}
	f.ensured = append(f.ensured, c.Copy())
	return Endpoint{URL: "https://127.0.0.1:6443", CAData: "Q0E=", OIDCIssuer: "http://127.0.0.1:4566/eks-oidc/" + c.ID, Version: "v" + c.Version + ".0"}, nil
}

func (f *fakeCPs) Remove(_ context.Context, _ eks.Scope, c *eks.Cluster) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, c.Name)
	return nil
}

func newPlane(t *testing.T) (*Plane, *clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return New(Config{Repo: eksstore.New(st), Now: clk.Now}), clk
}

func code(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

func input(name string) CreateInput {
	return CreateInput{Name: name, Version: "1.29", RoleARN: "arn:aws:iam::123456789012:role/eks",
		VPC: eks.VPCConfig{SubnetIDs: []string{"subnet-a", "subnet-b"}}, Creator: "arn:aws:iam::123456789012:user/alice"}
}

func TestCreateClusterValidation(t *testing.T) {
	p, _ := newPlane(t)
	ctx := context.Background()
	for name, mod := range map[string]func(*CreateInput){
		"bad name":     func(in *CreateInput) { in.Name = "-x" },
		"bad version":  func(in *CreateInput) { in.Version = "1.12" },
		"bad role":     func(in *CreateInput) { in.RoleARN = "arn:aws:iam::123456789012:user/u" },
		"one subnet":   func(in *CreateInput) { in.VPC.SubnetIDs = []string{"subnet-a", "subnet-a"} },
		"bad log type": func(in *CreateInput) { in.Logging = []string{"kubelet"} },
		"bad auth":     func(in *CreateInput) { in.AuthMode = "TOKEN" },
		"bad cidr":     func(in *CreateInput) { in.ServiceIPv4CIDR = "8.8.0.0/16" },
	} {
		in := input("c1")
		mod(&in)
		if _, err := p.CreateCluster(ctx, sc, in); code(err) != eks.CodeInvalidParameter {
			t.Errorf("%s: err %v, want InvalidParameterException", name, err)
		}
	}
	c, err := p.CreateCluster(ctx, sc, input("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != eks.StatusCreating || c.AuthMode != eks.AuthConfigMap || !c.BootstrapAdmin || len(c.Access) != 0 {
		t.Fatalf("new cluster %+v", c)
	}
	if _, err := p.CreateCluster(ctx, sc, input("c1")); code(err) != eks.CodeResourceInUse {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := p.DescribeCluster(ctx, sc, "nope"); code(err) != eks.CodeNotFound {
		t.Fatalf("describe missing: %v", err)
	}
}

func TestBootstrapAdminAndAccessEntries(t *testing.T) {
	p, _ := newPlane(t)
	ctx := context.Background()
	in := input("c1")
	in.AuthMode = eks.AuthAPI
	c, err := p.CreateCluster(ctx, sc, in)
	if err != nil {
		t.Fatal(err)
	}
	admin := c.Access[in.Creator]
	if admin == nil || admin.Policy(eks.ClusterAdminPolicy) == nil || admin.Username != in.Creator {
		t.Fatalf("creator entry %+v", admin)
	}
	role := "arn:aws:iam::123456789012:role/dev/viewer"
	e, err := p.CreateAccessEntry(ctx, sc, "c1", AccessEntryInput{PrincipalARN: role, Groups: []string{"b", "a", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Username != "arn:aws:sts::123456789012:assumed-role/viewer/{{SessionName}}" || len(e.KubernetesGroups) != 2 {
		t.Fatalf("entry %+v", e)
	}
	if _, err := p.CreateAccessEntry(ctx, sc, "c1", AccessEntryInput{PrincipalARN: role}); code(err) != eks.CodeResourceInUse {
		t.Fatalf("duplicate entry: %v", err)
	}
	if _, err := p.CreateAccessEntry(ctx, sc, "c1", AccessEntryInput{PrincipalARN: role + "2", Groups: []string{"system:masters"}}); code(err) != eks.CodeInvalidParameter {
		t.Fatalf("system: group: %v", err)
	}
	view := eks.AccessPolicyARNPrefix + "AmazonEKSViewPolicy"
	if _, err := p.AssociateAccessPolicy(ctx, sc, "c1", role, view, eks.ScopeNamespace, nil); code(err) != eks.CodeInvalidParameter {
		t.Fatalf("namespace scope without namespaces: %v", err)
	}
	if _, err := p.AssociateAccessPolicy(ctx, sc, "c1", role, eks.AccessPolicyARNPrefix+"Nope", eks.ScopeCluster, nil); code(err) != eks.CodeInvalidParameter {
		t.Fatalf("unknown policy: %v", err)
	}
	if _, err := p.AssociateAccessPolicy(ctx, sc, "c1", role, view, eks.ScopeNamespace, []string{"web"}); err != nil {
		t.Fatal(err)
	}
	got, err := p.ListAccessEntries(ctx, sc, "c1", view)
	if err != nil || len(got) != 1 || got[0] != role {
		t.Fatalf("entries with the view policy: %v %v", got, err)
	}
	if err := p.DisassociateAccessPolicy(ctx, sc, "c1", role, view); err != nil {
		t.Fatal(err)
	}
	if err := p.DisassociateAccessPolicy(ctx, sc, "c1", role, view); code(err) != eks.CodeNotFound {
		t.Fatalf("second disassociate: %v", err)
	}
	if err := p.DeleteAccessEntry(ctx, sc, "c1", role); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DescribeAccessEntry(ctx, sc, "c1", role); code(err) != eks.CodeNotFound {
		t.Fatalf("deleted entry: %v", err)
	}

	if _, err := p.CreateCluster(ctx, sc, input("cm")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateAccessEntry(ctx, sc, "cm", AccessEntryInput{PrincipalARN: role}); code(err) != eks.CodeInvalidRequest {
		t.Fatalf("entry on a CONFIG_MAP cluster: %v", err)
	}
}

func reconcile(t *testing.T, l *Lifecycle, name string) {
	t.Helper()
	if _, err := l.reconcile(context.Background(), sc.Account+"/"+sc.Region+"/"+name); err != nil {
		t.Fatalf("reconcile %s: %v", name, err)
	}
}

func status(t *testing.T, p *Plane, name string) *eks.Cluster {
	t.Helper()
	c, err := p.DescribeCluster(context.Background(), sc, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLifecycleWithoutControlPlaneFails(t *testing.T) {
	p, _ := newPlane(t)
	l := NewLifecycle(LifecycleConfig{Plane: p})
	if _, err := p.CreateCluster(context.Background(), sc, input("c1")); err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	c := status(t, p, "c1")
	if c.Status != eks.StatusFailed || len(c.Health) != 1 || c.Endpoint != "" {
		t.Fatalf("cluster without a control plane: %+v", c)
	}
	if _, err := p.UpdateClusterVersion(context.Background(), sc, "c1", "1.30"); code(err) != eks.CodeInvalidRequest {
		t.Fatalf("update of a FAILED cluster: %v", err)
	}
	if _, err := p.DeleteCluster(context.Background(), sc, "c1"); err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	if _, err := p.DescribeCluster(context.Background(), sc, "c1"); code(err) != eks.CodeNotFound {
		t.Fatalf("deleted cluster: %v", err)
	}
}

func TestLifecycleCreateUpdateDelete(t *testing.T) {
	p, _ := newPlane(t)
	cps := &fakeCPs{}
	l := NewLifecycle(LifecycleConfig{Plane: p, ControlPlanes: cps})
	ctx := context.Background()
	if _, err := p.CreateCluster(ctx, sc, input("c1")); err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	c := status(t, p, "c1")
	if c.Status != eks.StatusActive || c.Endpoint == "" || c.CAData == "" || c.ServedVersion != "v1.29.0" {
		t.Fatalf("active cluster: %+v", c)
	}

	u, err := p.UpdateClusterConfig(ctx, sc, "c1", ConfigInput{Logging: []LogSetup{{Types: []string{"api", "audit"}, Enabled: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpdateClusterVersion(ctx, sc, "c1", "1.30"); code(err) != eks.CodeResourceInUse {
		t.Fatalf("second update while one runs: %v", err)
	}
	if status(t, p, "c1").Status != eks.StatusUpdating {
		t.Fatal("not UPDATING")
	}
	reconcile(t, l, "c1")
	c = status(t, p, "c1")
	if got, _ := p.DescribeUpdate(ctx, sc, "c1", u.ID); got.Status != eks.UpdateSuccessful || c.Status != eks.StatusActive ||
		len(c.Logging) != 2 {
		t.Fatalf("after the logging update: %+v %+v", got, c)
	}

	if _, err := p.UpdateClusterVersion(ctx, sc, "c1", "1.31"); code(err) != eks.CodeInvalidParameter {
		t.Fatalf("skipping a minor version: %v", err)
	}
	u, err = p.UpdateClusterVersion(ctx, sc, "c1", "1.30")
	if err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	c = status(t, p, "c1")
	if c.Version != "1.30" || c.ServedVersion != "v1.30.0" || c.Status != eks.StatusActive {
		t.Fatalf("after the version update: %+v", c)
	}
	if last := cps.ensured[len(cps.ensured)-1]; last.Version != "1.30" {
		t.Fatalf("control plane asked for %s", last.Version)
	}
	if _, err := p.UpdateClusterConfig(ctx, sc, "c1", ConfigInput{AuthMode: eks.AuthAPI}); err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	if _, err := p.UpdateClusterConfig(ctx, sc, "c1", ConfigInput{AuthMode: eks.AuthConfigMap}); code(err) != eks.CodeInvalidParameter {
		t.Fatalf("auth mode back to CONFIG_MAP: %v", err)
	}
	ids, _ := p.ListUpdates(ctx, sc, "c1")
	if len(ids) != 3 {
		t.Fatalf("updates %v", ids)
	}

	if _, err := p.DeleteCluster(ctx, sc, "c1"); err != nil {
		t.Fatal(err)
	}
	reconcile(t, l, "c1")
	if len(cps.removed) != 1 {
		t.Fatalf("control plane not removed: %v", cps.removed)
	}
	if _, err := p.DescribeCluster(ctx, sc, "c1"); code(err) != eks.CodeNotFound {
		t.Fatalf("deleted cluster: %v", err)
	}
}

func TestLifecycleStartTimeout(t *testing.T) {
	p, clk := newPlane(t)
	cps := &fakeCPs{err: errors.New("apiserver exited: port in use")}
	l := NewLifecycle(LifecycleConfig{Plane: p, ControlPlanes: cps, StartTimeout: time.Minute})
	if _, err := p.CreateCluster(context.Background(), sc, input("c1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.reconcile(context.Background(), sc.Account+"/"+sc.Region+"/c1"); err == nil {
		t.Fatal("a failing start reconciles without error")
	}
	if status(t, p, "c1").Status != eks.StatusCreating {
		t.Fatal("failed before the timeout")
	}
	clk.Add(2 * time.Minute)
	reconcile(t, l, "c1")
	if c := status(t, p, "c1"); c.Status != eks.StatusFailed || len(c.Health) != 1 {
		t.Fatalf("after the timeout: %+v", c)
	}
}

// TestLifecycleRun drives the controller through the store watch.
func TestLifecycleRun(t *testing.T) {
	p, _ := newPlane(t)
	l := NewLifecycle(LifecycleConfig{Plane: p, ControlPlanes: &fakeCPs{}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if _, err := p.CreateCluster(ctx, sc, input("c1")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for status(t, p, "c1").Status != eks.StatusActive {
		if time.Now().After(deadline) {
			t.Fatalf("not ACTIVE: %+v", status(t, p, "c1"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
