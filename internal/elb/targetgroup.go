package elb

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Protocols, target types and health check port.
const (
	ProtocolHTTP   = "HTTP"
	ProtocolHTTPS  = "HTTPS"
	ProtocolTCP    = "TCP"
	ProtocolTLS    = "TLS"
	ProtocolUDP    = "UDP"
	ProtocolTCPUDP = "TCP_UDP"

	TargetTypeInstance = "instance"
	TargetTypeIP       = "ip"

	TrafficPort = "traffic-port"
)

// IsHTTP reports whether a protocol is an application (layer 7) one.
func IsHTTP(p string) bool { return p == ProtocolHTTP || p == ProtocolHTTPS }

// IsTransport reports whether a protocol is a network (layer 4) one.
func IsTransport(p string) bool {
	return p == ProtocolTCP || p == ProtocolTLS || p == ProtocolUDP || p == ProtocolTCPUDP
}

// HealthCheck is a target group's health check.
type HealthCheck struct {
	Enabled            bool
	Protocol           string
	Port               string // "traffic-port" or a port number
	Path               string // HTTP(S) only
	IntervalSeconds    int
	TimeoutSeconds     int
	HealthyThreshold   int
	UnhealthyThreshold int
	Matcher            string // HTTP codes: "200", "200,302", "200-299"; HTTP(S) only
}

// TargetGroup is a target group. The load balancers using it are derived
// from the listeners and rules that forward to it.
type TargetGroup struct {
	ARN             string
	Name            string
	ID              string
	Protocol        string
	ProtocolVersion string
	Port            int
	VpcID           string
	TargetType      string
	IPAddressType   string
	HealthCheck     HealthCheck
	CreatedTime     time.Time
	Attributes      map[string]string
	Tags            []Tag
}

// HealthCheckInput is the optional health check settings of a create or
// modify request; nil fields keep the default (or current) value.
type HealthCheckInput struct {
	Enabled            *bool
	Protocol           *string
	Port               *string
	Path               *string
	IntervalSeconds    *int
	TimeoutSeconds     *int
	HealthyThreshold   *int
	UnhealthyThreshold *int
	Matcher            *string
}

// CreateTargetGroup is a request to create a target group.
type CreateTargetGroup struct {
	Name            string
	Protocol        string
	ProtocolVersion string
	Port            *int
	VpcID           string
	TargetType      string
	IPAddressType   string
	HealthCheck     HealthCheckInput
	Tags            []Tag
}

var tgName = lbName

// NewTargetGroup validates req and returns the target group it creates.
func NewTargetGroup(sc Scope, req CreateTargetGroup, id string, now time.Time) (*TargetGroup, error) {
	if !tgName.MatchString(req.Name) {
		return nil, Validationf("The target group name '%s' is not valid: it must have 1-32 alphanumeric characters or hyphens and must not begin or end with a hyphen", req.Name)
	}
	if req.TargetType == "" {
		req.TargetType = TargetTypeInstance
	}
	switch req.TargetType {
	case TargetTypeInstance, TargetTypeIP:
	case "lambda", "alb":
		return nil, Coded(CodeOperationNotPermitted, "Target type '%s' is not supported by berth; use 'ip' or 'instance'", req.TargetType)
	default:
		return nil, Validationf("Target type '%s' is not valid; valid values: instance, ip, lambda, alb", req.TargetType)
	}
	switch {
	case req.Protocol == "":
		return nil, Validationf("A protocol must be specified for target groups of target type '%s'", req.TargetType)
	case IsHTTP(req.Protocol), IsTransport(req.Protocol):
	case req.Protocol == "GENEVE":
		return nil, Coded(CodeUnsupportedProtocol, "Protocol 'GENEVE' (gateway load balancers) is not supported by berth")
	default:
		return nil, Validationf("Protocol '%s' is not valid; valid values: HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP", req.Protocol)
	}
	if req.Port == nil {
		return nil, Validationf("A port must be specified for target groups of target type '%s'", req.TargetType)
	}
	if *req.Port < 1 || *req.Port > 65535 {
		return nil, Validationf("Port %d is not valid; it must be from 1 to 65535", *req.Port)
	}
	if req.VpcID == "" {
		return nil, Validationf("A VPC ID must be specified for target groups of target type '%s'", req.TargetType)
	}
	if req.ProtocolVersion == "" && IsHTTP(req.Protocol) {
		req.ProtocolVersion = "HTTP1"
	}
	if req.ProtocolVersion != "" {
		if !IsHTTP(req.Protocol) {
			return nil, Validationf("A protocol version can only be specified for HTTP and HTTPS target groups")
		}
		if req.ProtocolVersion != "HTTP1" && req.ProtocolVersion != "HTTP2" && req.ProtocolVersion != "GRPC" {
			return nil, Validationf("Protocol version '%s' is not valid; valid values: HTTP1, HTTP2, GRPC", req.ProtocolVersion)
		}
	}
	if req.IPAddressType == "" {
		req.IPAddressType = "ipv4"
	}
	if req.IPAddressType != "ipv4" && req.IPAddressType != "ipv6" {
		return nil, Validationf("IP address type '%s' is not valid; valid values: ipv4, ipv6", req.IPAddressType)
	}
	if err := CheckTags(req.Tags); err != nil {
		return nil, err
	}
	tg := &TargetGroup{
		Name: req.Name, ID: id, Protocol: req.Protocol, ProtocolVersion: req.ProtocolVersion, Port: *req.Port,
		VpcID: req.VpcID, TargetType: req.TargetType, IPAddressType: req.IPAddressType,
		HealthCheck: DefaultHealthCheck(req.Protocol), CreatedTime: now.UTC(),
		Attributes: map[string]string{}, Tags: append([]Tag(nil), req.Tags...),
	}
	tg.ARN = ARN{Scope: sc, Kind: KindTargetGroup, Name: req.Name, ID: id}.String()
	if err := tg.SetHealthCheck(req.HealthCheck, true); err != nil {
		return nil, err
	}
	return tg, nil
}

// DefaultHealthCheck is AWS's health check for a target group protocol:
// HTTP(S) groups check GET / every 30 s (5 s timeout, 5 healthy, 2
// unhealthy, 200); TCP-family groups connect every 30 s (10 s timeout).
func DefaultHealthCheck(protocol string) HealthCheck {
	if IsHTTP(protocol) {
		return HealthCheck{Enabled: true, Protocol: protocol, Port: TrafficPort, Path: "/", IntervalSeconds: 30,
			TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200"}
	}
	return HealthCheck{Enabled: true, Protocol: ProtocolTCP, Port: TrafficPort, IntervalSeconds: 30,
		TimeoutSeconds: 10, HealthyThreshold: 5, UnhealthyThreshold: 2}
}

var matcher = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)

// SetHealthCheck applies in to the group's health check and validates the
// result; creating is true on CreateTargetGroup (where changing the
// protocol re-derives the protocol's defaults).
func (tg *TargetGroup) SetHealthCheck(in HealthCheckInput, creating bool) error {
	hc := tg.HealthCheck
	if in.Protocol != nil && *in.Protocol != hc.Protocol {
		switch p := *in.Protocol; {
		case IsHTTP(tg.Protocol) && p == ProtocolTCP:
			return Validationf("Health check protocol 'TCP' is not supported for target groups with the '%s' protocol", tg.Protocol)
		case p == ProtocolHTTP || p == ProtocolHTTPS || p == ProtocolTCP:
		default:
			return Validationf("Health check protocol '%s' is not valid; valid values: HTTP, HTTPS, TCP", p)
		}
		wasHTTP := IsHTTP(hc.Protocol)
		hc.Protocol = *in.Protocol
		if IsHTTP(hc.Protocol) && !wasHTTP {
			hc.Path, hc.Matcher = "/", "200-399"
			if creating {
				hc.TimeoutSeconds = 6
			}
		} else if !IsHTTP(hc.Protocol) {
			hc.Path, hc.Matcher = "", ""
		}
	}
	if in.Enabled != nil {
		if !*in.Enabled {
			return Validationf("Health checks cannot be disabled for target groups with target type '%s'", tg.TargetType)
		}
		hc.Enabled = true
	}
	if in.Port != nil {
		if *in.Port != TrafficPort {
			n, err := strconv.Atoi(*in.Port)
			if err != nil || n < 1 || n > 65535 {
				return Validationf("Health check port '%s' is not valid; it must be 'traffic-port' or from 1 to 65535", *in.Port)
			}
		}
		hc.Port = *in.Port
	}
	if in.Path != nil {
		if !IsHTTP(hc.Protocol) {
			return Validationf("A health check path can only be specified for HTTP and HTTPS health checks")
		}
		if p := *in.Path; p == "" || p[0] != '/' || len(p) > 1024 {
			return Validationf("Health check path '%s' is not valid; it must begin with '/' and have at most 1024 characters", p)
		}
		hc.Path = *in.Path
	}
	if err := setRange(&hc.IntervalSeconds, in.IntervalSeconds, "Health check interval", 5, 300); err != nil {
		return err
	}
	if err := setRange(&hc.TimeoutSeconds, in.TimeoutSeconds, "Health check timeout", 2, 120); err != nil {
		return err
	}
	if err := setRange(&hc.HealthyThreshold, in.HealthyThreshold, "Healthy threshold count", 2, 10); err != nil {
		return err
	}
	if err := setRange(&hc.UnhealthyThreshold, in.UnhealthyThreshold, "Unhealthy threshold count", 2, 10); err != nil {
		return err
	}
	if in.Matcher != nil {
		if !IsHTTP(hc.Protocol) {
			return Validationf("A matcher can only be specified for HTTP and HTTPS health checks")
		}
		m := strings.ReplaceAll(*in.Matcher, " ", "")
		if !matcher.MatchString(m) || !codesInRange(m) {
			return Validationf("Health check matcher HTTP code '%s' is not valid; use codes from 200 to 499 like '200', '200,302' or '200-299'", *in.Matcher)
		}
		hc.Matcher = m
	}
	if in.TimeoutSeconds == nil && in.IntervalSeconds != nil && hc.TimeoutSeconds >= hc.IntervalSeconds {
		// A short interval given alone brings the default timeout below it
		// (so --health-check-interval-seconds 5 works on its own).
		hc.TimeoutSeconds = hc.IntervalSeconds - 1
	}
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		return Validationf("Health check timeout (%d) must be smaller than the interval (%d)", hc.TimeoutSeconds, hc.IntervalSeconds)
	}
	tg.HealthCheck = hc
	return nil
}

func setRange(dst *int, v *int, what string, lo, hi int) error {
	if v == nil {
		return nil
	}
	if *v < lo || *v > hi {
		return Validationf("%s %d is not valid; it must be from %d to %d", what, *v, lo, hi)
	}
	*dst = *v
	return nil
}

func codesInRange(m string) bool {
	for _, part := range strings.Split(m, ",") {
		for _, c := range strings.Split(part, "-") {
			n, _ := strconv.Atoi(c)
			if n < 200 || n > 499 {
				return false
			}
		}
	}
	return true
}

// MatchCode reports whether an HTTP status matches a matcher.
func MatchCode(m string, code int) bool {
	for _, part := range strings.Split(m, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if code >= a && code <= b {
			return true
		}
	}
	return false
}
