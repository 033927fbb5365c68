package elb

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Load balancer types, schemes and states.
const (
	TypeApplication = "application"
	TypeNetwork     = "network"

	SchemeInternetFacing = "internet-facing"
	SchemeInternal       = "internal"

	StateProvisioning = "provisioning"
	StateActive       = "active"
	StateFailed       = "failed"
)

// AWS's quotas that berth enforces (per account and region unless said).
const (
	MaxLoadBalancers          = 50
	MaxTargetGroups           = 3000
	MaxListenersPerLB         = 50
	MaxRulesPerALB            = 100 // not counting default rules
	MaxTargetsPerTG           = 1000
	MaxTargetGroupsPerForward = 5
	MaxConditionValues        = 5
	MaxTags                   = 50
	MaxTargetGroupsPerLB      = 100
)

// LoadBalancer is an application or network load balancer. Address is the
// loopback address berth serves its listeners on (a host resource,
// allocated once and kept for its life); DNSName resolves to loopback in
// clients that treat *.localhost as such.
type LoadBalancer struct {
	ARN            string
	Name           string
	ID             string
	Type           string
	Scheme         string
	IPAddressType  string
	VpcID          string
	Subnets        []string
	SecurityGroups []string
	DNSName        string
	Address        string
	State          string
	CreatedTime    time.Time
	Attributes     map[string]string
	Tags           []Tag
}

// Zone is one availability zone of a load balancer (derived from its
// subnets: berth has no EC2, so the Nth subnet is in zone <region><a+N>).
type Zone struct {
	ZoneName string
	SubnetID string
}

// Zones returns the load balancer's availability zones.
func (lb *LoadBalancer) Zones(region string) []Zone {
	out := make([]Zone, 0, len(lb.Subnets))
	for i, s := range lb.Subnets {
		out = append(out, Zone{ZoneName: region + string(rune('a'+i%26)), SubnetID: s})
	}
	return out
}

// ARNType is the ARN segment of a load balancer type ("app" or "net").
func ARNType(typ string) string {
	if typ == TypeNetwork {
		return "net"
	}
	return "app"
}

// CanonicalHostedZoneID is the Route 53 zone AWS names for the type's
// load balancers in us-east-1 (berth reports the same everywhere).
func CanonicalHostedZoneID(typ string) string {
	if typ == TypeNetwork {
		return "Z26RNL4JYFTOTI"
	}
	return "Z35SXDOTRQ7X7K"
}

var lbName = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// CreateLoadBalancer is a request to create a load balancer.
type CreateLoadBalancer struct {
	Name           string
	Type           string
	Scheme         string
	IPAddressType  string
	Subnets        []string
	SecurityGroups []string
	Tags           []Tag
}

// NewLoadBalancer validates req and returns the load balancer it creates,
// with id (16 hex digits) as its ID, dnsID in its DNS name and addr as its
// loopback address; it starts provisioning.
func NewLoadBalancer(sc Scope, req CreateLoadBalancer, id, dnsID, addr string, now time.Time) (*LoadBalancer, error) {
	if !lbName.MatchString(req.Name) {
		return nil, Validationf("The load balancer name '%s' is not valid: it must have 1-32 alphanumeric characters or hyphens and must not begin or end with a hyphen", req.Name)
	}
	if strings.HasPrefix(strings.ToLower(req.Name), "internal-") {
		return nil, Validationf("The load balancer name '%s' is not valid: it must not begin with 'internal-'", req.Name)
	}
	if req.Type == "" {
		req.Type = TypeApplication
	}
	switch req.Type {
	case TypeApplication, TypeNetwork:
	case "gateway":
		return nil, Coded(CodeOperationNotPermitted, "Gateway load balancers are not supported by berth; use 'application' or 'network'")
	default:
		return nil, Validationf("Load balancer type '%s' is not valid; valid values: application, network", req.Type)
	}
	if req.Scheme == "" {
		req.Scheme = SchemeInternetFacing
	}
	if req.Scheme != SchemeInternetFacing && req.Scheme != SchemeInternal {
		return nil, Validationf("Scheme '%s' is not valid; valid values: internet-facing, internal", req.Scheme)
	}
	if req.IPAddressType == "" {
		req.IPAddressType = "ipv4"
	}
	if req.IPAddressType != "ipv4" && req.IPAddressType != "dualstack" {
		return nil, Validationf("IP address type '%s' is not valid; valid values: ipv4, dualstack", req.IPAddressType)
	}
	if err := checkSubnets(req.Type, req.Subnets); err != nil {
		return nil, err
	}
	if req.Type == TypeApplication && len(req.SecurityGroups) == 0 {
		req.SecurityGroups = []string{"sg-" + id[:8] + "default"}
	}
	for _, sg := range req.SecurityGroups {
		if !strings.HasPrefix(sg, "sg-") {
			return nil, Coded("InvalidSecurityGroup", "Security group '%s' is not valid: security group IDs begin with 'sg-'", sg)
		}
	}
	if err := CheckTags(req.Tags); err != nil {
		return nil, err
	}
	lb := &LoadBalancer{
		Name: req.Name, ID: id, Type: req.Type, Scheme: req.Scheme, IPAddressType: req.IPAddressType,
		VpcID: DefaultVpcID(sc), Subnets: append([]string(nil), req.Subnets...),
		SecurityGroups: append([]string(nil), req.SecurityGroups...),
		Address:        addr, State: StateProvisioning, CreatedTime: now.UTC(),
		Attributes: map[string]string{}, Tags: append([]Tag(nil), req.Tags...),
	}
	lb.ARN = ARN{Scope: sc, Kind: KindLoadBalancer, LBType: ARNType(req.Type), Name: req.Name, LBID: id}.String()
	lb.DNSName = DNSName(sc.Region, req.Scheme, req.Name, dnsID)
	return lb, nil
}

// DNSName is a load balancer's DNS name: AWS's shape
// (<name>-<id>.<region>.elb.amazonaws.com) under .localhost instead, which
// curl and browsers resolve to loopback without any setup.
func DNSName(region, scheme, name, dnsID string) string {
	prefix := ""
	if scheme == SchemeInternal {
		prefix = "internal-"
	}
	return strings.ToLower(fmt.Sprintf("%s%s-%s.%s.elb.localhost", prefix, name, dnsID, region))
}

// DefaultVpcID is the VPC berth reports for load balancers (berth has one
// flat network per account and region).
func DefaultVpcID(sc Scope) string {
	h := uint32(2166136261)
	for _, c := range sc.Account + "/" + sc.Region {
		h = (h ^ uint32(c)) * 16777619
	}
	return fmt.Sprintf("vpc-%08x", h)
}

func checkSubnets(typ string, subnets []string) error {
	seen := map[string]bool{}
	for _, s := range subnets {
		if !strings.HasPrefix(s, "subnet-") {
			return Coded(CodeInvalidSubnet, "Subnet '%s' is not valid: subnet IDs begin with 'subnet-'", s)
		}
		if seen[s] {
			return Validationf("Subnet '%s' is listed twice", s)
		}
		seen[s] = true
	}
	switch {
	case len(subnets) == 0:
		return Validationf("At least one subnet must be specified (--subnets)")
	case typ == TypeApplication && len(subnets) < 2:
		return Configf("At least two subnets in two different Availability Zones must be specified")
	}
	return nil
}
