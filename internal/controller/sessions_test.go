package controller

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// fakeInstances is a hand-written InstanceStore.
type fakeInstances struct {
	activeErr, registeredErr error
	connected                map[string]bool
}

func (f *fakeInstances) ActiveCluster(context.Context, ecs.Scope, string) error { return f.activeErr }
func (f *fakeInstances) InstanceRegistered(context.Context, ecs.Scope, ecsstore.InstanceRef) error {
	return f.registeredErr
}
func (f *fakeInstances) SetAgentConnected(_ context.Context, arn string, connected bool, skip func() bool) error {
	if skip != nil && skip() {
		return nil
	}
	f.connected[arn] = connected
	return nil
}

func TestSessionHooksConnect(t *testing.T) {
	const clusterARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/c1"
	for _, tc := range []struct {
		name     string
		s        *acs.Session
		store    fakeInstances
		wantType string // "" accepted
	}{
		{"accepted", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN, Account: "123456789012"}, fakeInstances{}, ""},
		{"cluster by name", &acs.Session{InstanceARN: instARN, ClusterARN: "c1"}, fakeInstances{}, ""},
		{"bad ARN", &acs.Session{InstanceARN: "i-123", ClusterARN: clusterARN}, fakeInstances{}, acs.TypeInvalidInstance},
		{"other account", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN, Account: "210987654321"}, fakeInstances{}, acs.TypeAccessDenied},
		{"other cluster", &acs.Session{InstanceARN: instARN, ClusterARN: "c2"}, fakeInstances{}, acs.TypeInvalidCluster},
		{"cluster inactive", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN}, fakeInstances{activeErr: fault.New(fault.NotFound, "no")}, acs.TypeInvalidCluster},
		{"deregistered", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN}, fakeInstances{registeredErr: fault.New(fault.NotFound, "no")}, acs.TypeInactiveInstance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store
			st.connected = map[string]bool{}
			h := NewSessionHooks(SessionsConfig{Hub: &acs.Hub{}, Source: newFakeSource(), Instances: &st,
				Push: NewPush(PushConfig{Source: newFakeSource(), Sessions: &fakeSessions{}})})
			err := h.Connect(t.Context(), tc.s)
			var re *acs.RefusedError
			switch {
			case tc.wantType == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantType == "" && !st.connected[instARN]:
				t.Fatal("accepted but not marked connected")
			case tc.wantType != "" && (!errors.As(err, &re) || re.Type != tc.wantType):
				t.Fatalf("Connect = %v; want a %s refusal", err, tc.wantType)
			case tc.wantType != "" && len(st.connected) != 0:
				t.Fatal("a refused session marked the instance")
			}
		})
	}
}

func TestSessionHooksDisconnectMarksAway(t *testing.T) {
	st := &fakeInstances{connected: map[string]bool{instARN: true}}
	h := NewSessionHooks(SessionsConfig{Hub: &acs.Hub{}, Source: newFakeSource(), Instances: st,
		Push: NewPush(PushConfig{Source: newFakeSource(), Sessions: &fakeSessions{}})})
	h.Disconnect(&acs.Session{InstanceARN: instARN})
	if st.connected[instARN] {
		t.Fatal("an ended session left its instance connected")
	}
}

// TestSessionHooksMarkStaleOnStart: a sole server's restart marks the
// instances the store says are connected as disconnected; with several
// servers it leaves them.
func TestSessionHooksMarkStaleOnStart(t *testing.T) {
	for _, sole := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			src := newFakeSource()
			src.putInstance(InstanceInfo{ARN: instARN, Connected: true})
			st := &fakeInstances{connected: map[string]bool{instARN: true}}
			h := NewSessionHooks(SessionsConfig{Hub: &acs.Hub{}, Source: src, Instances: st, SoleServer: sole,
				Push: NewPush(PushConfig{Source: src, Sessions: &fakeSessions{}})})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); _ = h.Run(ctx) }()
			synctest.Wait()
			if got := st.connected[instARN]; got == sole {
				t.Errorf("sole=%v: connected=%v after start", sole, got)
			}
			cancel()
			<-done
		})
	}
}
