package elbsync_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbproxy"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/elbsync"
	"github.com/berth-dev/berth/internal/store/bolt"
)

type hostsOf map[string]string

func (h hostsOf) InstanceAddress(_ elb.Scope, id string) (string, bool) {
	a, ok := h[id]
	return a, ok
}

// TestBuildSpecResolvesInstanceTargets: an instance target is dialled at
// its host's address; one whose instance is unknown is left out and
// returned as unresolved.
func TestBuildSpecResolvesInstanceTargets(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plane := elbcp.New(elbcp.Config{Repo: elbstore.New(st)})
	port := 80
	tg, err := plane.CreateTargetGroup(ctx, sc, elb.CreateTargetGroup{Name: "inst", Protocol: "HTTP", Port: &port, VpcID: "v", TargetType: "instance"})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := plane.CreateLoadBalancer(ctx, sc, elb.CreateLoadBalancer{Name: "inst", Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	lp := 18081
	if _, err := plane.CreateListener(ctx, sc, lb.ARN, elb.ListenerInput{Port: &lp, Protocol: "HTTP", DefaultActions: []elb.ActionInput{{Type: elb.ActionForward,
		Forward: &elb.ForwardInput{TargetGroups: []elb.WeightedTargetGroupInput{{ARN: tg.ARN}}}}}}); err != nil {
		t.Fatal(err)
	}
	known, unknown := "i-0123456789abcdef0", "i-0fedcba9876543210"
	if err := plane.RegisterTargets(ctx, sc, tg.ARN, []elb.TargetRef{{ID: known, Port: 32768}, {ID: unknown, Port: 32769}}); err != nil {
		t.Fatal(err)
	}
	states, _, err := plane.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec, un := elbsync.BuildSpec(states, hostsOf{known: "10.1.2.3"})
	ts := spec.TargetGroups[0].Targets
	if len(ts) != 1 || ts[0].ID != known || ts[0].Address != "10.1.2.3" || ts[0].Port != 32768 {
		t.Fatalf("targets %+v", ts)
	}
	if len(un) != 1 || un[0].Target.ID != unknown || un[0].TGID != tg.ID {
		t.Fatalf("unresolved %+v", un)
	}
	// Stored as unused (Target.InvalidState), DescribeTargetHealth says so.
	if err := plane.ReportHealth(ctx, sc, tg.ID, unknown, 32769, elb.InvalidState); err != nil {
		t.Fatal(err)
	}
	rows, err := plane.TargetHealth(ctx, sc, tg.ARN, []elb.TargetRef{{ID: unknown, Port: 32769}})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%+v %v", rows, err)
	}
	if h := rows[0].Health; h != elb.InvalidState {
		t.Fatalf("health %+v", h)
	}
}

// movingHost resolves every instance to one address that can change.
type movingHost struct{ addr atomic.Value }

func (m *movingHost) InstanceAddress(elb.Scope, string) (string, bool) {
	return m.addr.Load().(string), true
}

// TestControllerFollowsAnInstanceThatMoves: an instance that reconnects
// from another address (no change under /elb/) is dialled at the new one
// after InstanceRecheck, without a restart.
func TestControllerFollowsAnInstanceThatMoves(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plane := elbcp.New(elbcp.Config{Repo: elbstore.New(st)})
	port := 80
	tg, err := plane.CreateTargetGroup(ctx, sc, elb.CreateTargetGroup{Name: "inst", Protocol: "HTTP", Port: &port, VpcID: "v", TargetType: "instance"})
	if err != nil {
		t.Fatal(err)
	}
	if err := plane.RegisterTargets(ctx, sc, tg.ARN, []elb.TargetRef{{ID: "i-0123456789abcdef0", Port: 32768}}); err != nil {
		t.Fatal(err)
	}
	hosts := &movingHost{}
	hosts.addr.Store("10.1.2.3")
	proxy := &fakeProxy{}
	ctrl := elbsync.New(elbsync.Config{Plane: plane, Store: st, Instances: hosts, InstanceRecheck: 20 * time.Millisecond,
		NewProxy: func(func(elbproxy.HealthReport)) elbsync.Proxy { return proxy }})
	runCtx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = ctrl.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	addrOf := func() string {
		s := proxy.last()
		if len(s.TargetGroups) == 0 || len(s.TargetGroups[0].Targets) == 0 {
			return ""
		}
		return s.TargetGroups[0].Targets[0].Address
	}
	eventually(t, "the instance at 10.1.2.3", func() bool { return addrOf() == "10.1.2.3" })
	hosts.addr.Store("10.9.9.9")
	eventually(t, "the instance at its new address", func() bool { return addrOf() == "10.9.9.9" })
}
