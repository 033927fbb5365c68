package controller

import (
	"context"
	"testing"
	"testing/synctest"
)

func TestFleetDecision(t *testing.T) {
	inst := InstanceInfo{ARN: "m1", Scope: scope, Cluster: "c1", Managed: true}
	active := ClusterInfo{Scope: scope, Name: "c1", Active: true}
	inactive := ClusterInfo{Scope: scope, Name: "c1"}
	for _, tc := range []struct {
		name           string
		c              ClusterInfo
		cok, iok, want bool
	}{
		{"active with capacity", active, true, true, true},
		{"inactive", inactive, true, true, false},
		{"cluster gone", active, false, true, false},
		{"no managed capacity", active, true, false, false},
	} {
		if _, run := fleetDecision(tc.c, tc.cok, inst, tc.iok); run != tc.want {
			t.Errorf("%s: run = %v; want %v", tc.name, run, tc.want)
		}
	}
}

func TestManagedFleetFollowsClustersAndStopsWithLeadership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newFakeSource()
		fleet := &fakeFleet{running: map[string]ManagedInstance{}}
		f := NewManagedFleet(ManagedFleetConfig{Source: src, Fleet: fleet})
		src.putCluster(ClusterInfo{Scope: scope, Name: "c1", Active: true})
		src.putInstance(InstanceInfo{ARN: "m1", Scope: scope, Cluster: "c1", Managed: true})
		src.putCluster(ClusterInfo{Scope: scope, Name: "plain", Active: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = f.Run(ctx) }()
		synctest.Wait()
		key := ClusterKey(scope, "c1")
		if running, _ := fleet.snapshot(); len(running) != 1 || running[key].InstanceARN != "m1" {
			t.Fatalf("running %v; want c1's agent as m1", running)
		}
		src.putCluster(ClusterInfo{Scope: scope, Name: "c1", Active: false})
		synctest.Wait()
		if running, _ := fleet.snapshot(); len(running) != 0 {
			t.Fatalf("running %v after the cluster went INACTIVE", running)
		}
		src.putCluster(ClusterInfo{Scope: scope, Name: "c1", Active: true})
		synctest.Wait()
		src.deleteInstance("m1")
		synctest.Wait()
		if running, _ := fleet.snapshot(); len(running) != 0 {
			t.Fatalf("running %v after the managed instance went away", running)
		}
		src.putInstance(InstanceInfo{ARN: "m2", Scope: scope, Cluster: "c1", Managed: true})
		synctest.Wait()
		cancel()
		<-done
		if running, stops := fleet.snapshot(); len(running) != 0 || stops != 1 {
			t.Fatalf("after leadership ended: running %v, StopAll %d times; want none running, one StopAll", running, stops)
		}
	})
}
