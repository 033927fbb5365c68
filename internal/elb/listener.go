package elb

import (
	"net/netip"
	"slices"
)

// Listener is a port a load balancer listens on with its default actions.
// DefaultRuleID names the listener's default rule (its default actions as
// DescribeRules shows them).
type Listener struct {
	ARN             string
	ID              string
	LoadBalancerARN string
	Port            int
	Protocol        string
	DefaultActions  []Action
	DefaultRuleID   string
	Tags            []Tag
	// Certificates is the default certificate (HTTPS and TLS listeners:
	// one ACM or IAM server certificate ARN); ExtraCertificates those
	// AddListenerCertificates added, chosen by SNI. SslPolicy is the
	// security policy's name.
	Certificates      []string
	ExtraCertificates []string
	SslPolicy         string
}

// ListenerInput is a CreateListener or ModifyListener request (nil or
// empty: keep the current value on modify).
type ListenerInput struct {
	Port           *int
	Protocol       string
	DefaultActions []ActionInput
	Certificates   []string // the request's certificate ARNs
	SslPolicy      string
	Tags           []Tag
}

// CheckListener validates a listener's port and protocol for lb; certs is
// how many certificates it would have.
func CheckListener(lb *LoadBalancer, port int, protocol string, certs int) error {
	if port < 1 || port > 65535 {
		return Validationf("Listener port %d is not valid; it must be from 1 to 65535", port)
	}
	switch {
	case protocol == "":
		return Validationf("A protocol must be specified for the listener")
	case lb.Type == TypeApplication && (protocol == ProtocolHTTP || protocol == ProtocolHTTPS):
	case lb.Type == TypeNetwork && (protocol == ProtocolTCP || protocol == ProtocolTLS || protocol == ProtocolUDP || protocol == ProtocolTCPUDP):
	default:
		return Coded(CodeUnsupportedProtocol, "Listener protocol '%s' is not valid for a load balancer of type '%s'", protocol, lb.Type)
	}
	switch {
	case IsTLS(protocol) && certs == 0:
		return Validationf("A certificate must be specified for %s listeners", protocol)
	case !IsTLS(protocol) && certs > 0:
		return Validationf("Certificates can only be specified for HTTPS and TLS listeners")
	case certs > 1:
		return Validationf("Only one default certificate can be specified for a listener; add others with AddListenerCertificates")
	}
	return nil
}

// CheckSSLPolicy validates a listener's security policy (empty: the
// default for TLS listeners) and returns the name to store.
func CheckSSLPolicy(lb *LoadBalancer, protocol, policy string) (string, error) {
	if !IsTLS(protocol) {
		if policy != "" {
			return "", Validationf("An SSL policy can only be specified for HTTPS and TLS listeners")
		}
		return "", nil
	}
	if policy == "" {
		return DefaultSSLPolicy, nil
	}
	p, ok := LookupSSLPolicy(policy)
	if !ok || !slices.Contains(p.LBTypes, lb.Type) {
		return "", sslPolicyNotFound(policy)
	}
	return policy, nil
}

func plainProtocol(typ string) string {
	if typ == TypeNetwork {
		return "TCP"
	}
	return "HTTP"
}

// CheckForwardTarget checks that a target group can take traffic from a
// listener with protocol on load balancer lb: compatible protocols, and a
// group is used by at most one load balancer (usedBy lists the load
// balancers already using it).
func CheckForwardTarget(lb *LoadBalancer, tg *TargetGroup, usedBy []string) error {
	if lb.Type == TypeApplication && !IsHTTP(tg.Protocol) || lb.Type == TypeNetwork && !IsTransport(tg.Protocol) {
		return Coded(CodeIncompatibleProtocols, "Target group '%s' has protocol '%s', which is incompatible with a load balancer of type '%s'", tg.ARN, tg.Protocol, lb.Type)
	}
	for _, u := range usedBy {
		if u != lb.ARN {
			return Coded(CodeTGAssociationLimit, "Target group '%s' is already used by load balancer '%s'; a target group can be used by one load balancer", tg.ARN, u)
		}
	}
	return nil
}

// CheckListenerGroup checks that a network listener's protocol can
// forward to a target group's: a UDP listener to UDP or TCP_UDP groups, a
// TCP_UDP listener to TCP_UDP groups, a TCP or TLS listener to TCP, TLS
// or TCP_UDP groups.
func CheckListenerGroup(protocol string, tg *TargetGroup) error {
	ok := true
	switch protocol {
	case ProtocolUDP:
		ok = tg.Protocol == ProtocolUDP || tg.Protocol == ProtocolTCPUDP
	case ProtocolTCPUDP:
		ok = tg.Protocol == ProtocolTCPUDP
	case ProtocolTCP, ProtocolTLS:
		ok = tg.Protocol == ProtocolTCP || tg.Protocol == ProtocolTLS || tg.Protocol == ProtocolTCPUDP
	}
	if !ok {
		return Coded(CodeIncompatibleProtocols, "Target group '%s' has protocol '%s', which is incompatible with a %s listener", tg.ARN, tg.Protocol, protocol)
	}
	return nil
}

// BindAddress is where a listener is served on this host.
func BindAddress(lb *LoadBalancer, port int) netip.AddrPort {
	a, err := netip.ParseAddr(lb.Address)
	if err != nil {
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(a, uint16(port))
}
