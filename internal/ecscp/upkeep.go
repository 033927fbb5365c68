package ecscp

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/fault"
)

// This file holds what the controllers (internal/controller) write and
// read through the Plane besides the API operations: the upkeep of
// stopped tasks and run tokens, and the agents' sessions.

// ExpireTask deletes a STOPPED task and its tags once its retention has
// passed (the caller decides when). A task that is gone already, or that
// is not STOPPED, is left as it is: the retention controller may act on a
// view a little behind the store.
func (p *Plane) ExpireTask(ctx context.Context, sc ecs.Scope, cluster, id string) error {
	return p.repo.DeleteTask(ctx, sc, cluster, id)
}

// ForgetRunTokens forgets a cluster's RunTask client tokens recorded
// before the cutoff: a RunTask retried with such a token runs new tasks.
func (p *Plane) ForgetRunTokens(ctx context.Context, sc ecs.Scope, cluster string, before time.Time) error {
	return p.repo.DeleteRunTokens(ctx, sc, cluster, before)
}

// ActiveCluster returns a cluster by name if it is ACTIVE, and a NotFound
// fault (ClusterNotFoundException) otherwise.
func (p *Plane) ActiveCluster(ctx context.Context, sc ecs.Scope, name string) (*ecs.Cluster, error) {
	return p.repo.ActiveCluster(ctx, sc, name)
}

// ContainerInstance returns a registered container instance (the managed
// one included), or a NotFound fault when it is deregistered or unknown.
func (p *Plane) ContainerInstance(ctx context.Context, sc ecs.Scope, ref ecs.InstanceRef) (*ecs.ContainerInstance, error) {
	return p.repo.Instance(ctx, sc, ref)
}

// SetHostAddress records the address an instance's agent connects from
// (ContainerInstance.HostAddress), where load balancers reach its bridge
// and host network ports. An unknown or deregistered instance, or an
// empty address, is no error (there is nothing to record).
func (p *Plane) SetHostAddress(ctx context.Context, instanceARN, addr string) error {
	pa, ok := ecs.ParseARN(instanceARN)
	ref, err := ecs.ParseInstanceRef(instanceARN, "")
	if !ok || err != nil || ref.Cluster == "" || addr == "" {
		return nil
	}
	sc := ecs.Scope{Account: pa.Account, Region: pa.Region}
	_, err = p.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
		if ci.HostAddress == addr {
			return ecsstore.ErrNoChange
		}
		ci.HostAddress = addr
		ci.Version++
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}

// SetAgentConnected records whether an instance's agent is connected,
// unless skip (called inside the compare-and-swap, so after any write
// that raced it) says a newer session decided otherwise. A change bumps
// the instance's version; a disconnection records when
// (AgentDisconnectedAt); an unknown or deregistered instance, or an
// ARN that names no container instance, is no error (there is nothing to
// record).
func (p *Plane) SetAgentConnected(ctx context.Context, instanceARN string, connected bool, skip func() bool) error {
	pa, ok := ecs.ParseARN(instanceARN)
	ref, err := ecs.ParseInstanceRef(instanceARN, "")
	if !ok || err != nil || ref.Cluster == "" {
		return nil
	}
	sc := ecs.Scope{Account: pa.Account, Region: pa.Region}
	_, err = p.repo.UpdateInstance(ctx, sc, ref, func(ci *ecs.ContainerInstance) error {
		if ci.AgentConnected == connected || (skip != nil && skip()) {
			return ecsstore.ErrNoChange
		}
		ci.AgentConnected = connected
		ci.AgentDisconnectedAt = time.Time{}
		if !connected {
			ci.AgentDisconnectedAt = p.now().UTC()
		}
		ci.Version++
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}
