package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/berth-dev/berth/internal/acs"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// fakeInstances is a hand-written InstanceStore.
type fakeInstances struct {
	activeErr, registeredErr error

	mu        sync.Mutex // guards connected: reconcilers write it from their own goroutines
	connected map[string]bool
}

// isConnected reads what the reconcilers last set for arn.
func (f *fakeInstances) isConnected(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected[arn]
}

func (f *fakeInstances) ActiveCluster(context.Context, ecs.Scope, string) (*ecs.Cluster, error) {
	return &ecs.Cluster{}, f.activeErr
}
func (f *fakeInstances) ContainerInstance(context.Context, ecs.Scope, ecs.InstanceRef) (*ecs.ContainerInstance, error) {
	return &ecs.ContainerInstance{}, f.registeredErr
}
func (f *fakeInstances) SetAgentConnected(_ context.Context, arn string, connected bool, skip func() bool) error {
	if skip != nil && skip() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected[arn] = connected
	return nil
}

func TestSessionHooksConnect(t *testing.T) {
	const clusterARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/c1"
	for _, tc := range []struct {
		name                     string
		s                        *acs.Session
		activeErr, registeredErr error
		wantType                 string // "" accepted
	}{
		{"accepted", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN, Account: "123456789012"}, nil, nil, ""},
		{"cluster by name", &acs.Session{InstanceARN: instARN, ClusterARN: "c1"}, nil, nil, ""},
		{"bad ARN", &acs.Session{InstanceARN: "i-123", ClusterARN: clusterARN}, nil, nil, acs.TypeInvalidInstance},
		{"other account", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN, Account: "210987654321"}, nil, nil, acs.TypeAccessDenied},
		{"other cluster", &acs.Session{InstanceARN: instARN, ClusterARN: "c2"}, nil, nil, acs.TypeInvalidCluster},
		{"cluster inactive", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN}, fault.New(fault.NotFound, "no"), nil, acs.TypeInvalidCluster},
		{"deregistered", &acs.Session{InstanceARN: instARN, ClusterARN: clusterARN}, nil, fault.New(fault.NotFound, "no"), acs.TypeInactiveInstance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeInstances{activeErr: tc.activeErr, registeredErr: tc.registeredErr, connected: map[string]bool{}}
			h := NewSessionHooks(SessionsConfig{Hub: &acs.Hub{}, Source: newFakeSource(), Instances: st,
				Push: NewPush(PushConfig{Source: newFakeSource(), Sessions: &fakeSessions{}})})
			err := h.Connect(t.Context(), tc.s)
			var re *acs.RefusedError
			switch {
			case tc.wantType == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantType == "" && !st.isConnected(instARN):
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
	if st.isConnected(instARN) {
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
			if got := st.isConnected(instARN); got == sole {
				t.Errorf("sole=%v: connected=%v after start", sole, got)
			}
			cancel()
			<-done
		})
	}
}
