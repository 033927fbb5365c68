package server

import (
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbsync"
)

// instanceAddresses resolves ELBv2 instance targets over the state cache:
// an EC2 instance ID names a registered container instance of the same
// account and region, reached at the address its agent connects from
// (ContainerInstance.HostAddress). The load balancers run on this host,
// so that address is where the instance's published host ports are.
type instanceAddresses struct{ cache *ecscache.Cache }

var _ elbsync.InstanceAddresses = instanceAddresses{}

func (r instanceAddresses) InstanceAddress(sc elb.Scope, id string) (string, bool) {
	esc := ecs.Scope{Account: sc.Account, Region: sc.Region}
	for _, ck := range r.cache.InstanceClusters() {
		if ck.Scope != esc {
			continue
		}
		for _, in := range r.cache.Instances(esc, ck.Cluster) {
			ci := in.Record
			if ci == nil || ci.EC2InstanceID != id {
				continue
			}
			if ci.HostAddress == "" || ci.Status == ecs.InstanceInactive {
				return "", false
			}
			return ci.HostAddress, true
		}
	}
	return "", false
}
