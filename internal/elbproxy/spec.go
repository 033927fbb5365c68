package elbproxy

import (
	"net/netip"
	"time"
)

// Spec is the whole desired data plane. Apply takes a complete Spec each
// time (level-based): what is not in it is closed and forgotten.
type Spec struct {
	LoadBalancers []LoadBalancer
	// TargetGroups are all target groups, used by a listener or not; a
	// group no listener forwards to is not health checked and its targets
	// are reported unused (Target.NotInUse).
	TargetGroups []TargetGroup
}

// LBType is the load balancer type.
type LBType string

const (
	Application LBType = "application" // HTTP reverse proxy (ALB)
	Network     LBType = "network"     // TCP proxy (NLB)
)

// LoadBalancer is one load balancer and its listeners.
type LoadBalancer struct {
	ARN  string
	Name string
	Type LBType
	// DNSName is matched (case-insensitive, port ignored) against the Host
	// header on the shared front (see the package doc). Names ending in
	// ".localhost" resolve to 127.0.0.1 in curl and browsers.
	DNSName string
	// Address is the load balancer's own loopback address (127.0.0.0/8),
	// where every one of its listeners binds. Allocate it once when the load
	// balancer is created and store it (NextAddress helps); it must not
	// change while the load balancer lives.
	Address netip.Addr
	// IdleTimeout is idle_timeout.timeout_seconds (ALB, default 60s): a
	// client connection idle that long is closed, and a target that sends
	// nothing for that long is answered with 504. Zero means 60s. For an
	// NLB it is the TCP idle timeout (zero means 350s, as on AWS).
	IdleTimeout time.Duration
	Listeners   []Listener
}

// Listener protocols the data plane serves.
const (
	ProtoHTTP = "HTTP" // ALB listeners and target groups
	ProtoTCP  = "TCP"  // NLB listeners and target groups
)

// Listener is one listener. An ALB listener serves HTTP or HTTPS, an NLB
// listener TCP, TLS, UDP (a datagram relay per client flow) or TCP_UDP
// (both on one port); other combinations are refused by Apply with an
// error in the listener's ListenerStatus.
type Listener struct {
	ARN      string
	Protocol string
	Port     int
	// Rules in evaluation order (ascending priority). The default rule is
	// not among them: it is DefaultActions.
	Rules          []Rule
	DefaultActions []Action
	// TLS terminates TLS (HTTPS and TLS listeners); nil for HTTP and TCP.
	TLS *TLSSettings
}

// Rule is one listener rule: all its conditions must match (AND); within a
// condition any one value matches (OR).
type Rule struct {
	ARN        string
	Priority   int
	Conditions []Condition
	Actions    []Action
}

// Condition fields.
const (
	FieldPathPattern   = "path-pattern"        // Values: patterns with * and ?, case-sensitive, path only
	FieldHostHeader    = "host-header"         // Values: patterns with * and ?, case-insensitive, port ignored
	FieldHTTPHeader    = "http-header"         // HeaderName + Values: patterns, case-insensitive
	FieldRequestMethod = "http-request-method" // Values: exact, case-sensitive (GET, POST, ...)
	FieldQueryString   = "query-string"        // QueryValues: Key (optional) and Value patterns
	FieldSourceIP      = "source-ip"           // Values: CIDRs (the client's address, not X-Forwarded-For)
)

// Condition is one rule condition.
type Condition struct {
	Field       string
	Values      []string
	HeaderName  string     // http-header
	QueryValues []KeyValue // query-string
}

// KeyValue is one query-string condition value; an empty Key matches any key.
type KeyValue struct {
	Key   string
	Value string
}

// Action types.
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// Action is one rule action; the data plane performs the first terminating
// one (forward, redirect, fixed-response) in Order.
type Action struct {
	Type          string
	Order         int
	Forward       *Forward       // forward
	Redirect      *Redirect      // redirect
	FixedResponse *FixedResponse // fixed-response
}

// Forward sends to one target group, or to several by weight.
type Forward struct {
	TargetGroups []WeightedTargetGroup
	// Stickiness is the group stickiness duration
	// (TargetGroupStickinessConfig); zero means off. When on, the client
	// gets an AWSALBTG cookie naming the group it was sent to.
	Stickiness time.Duration
}

// WeightedTargetGroup is one group of a forward action; Weight 0..999. A
// single group may leave Weight 0 (it gets everything).
type WeightedTargetGroup struct {
	ARN    string
	Weight int
}

// Redirect is a redirect action. Each part may hold the placeholders
// #{protocol}, #{host}, #{port}, #{path} (Path) and #{query} (Query), as
// on AWS; an empty part keeps the request's value.
type Redirect struct {
	Protocol   string // HTTP, HTTPS or #{protocol}
	Host       string
	Port       string
	Path       string // starts with /
	Query      string // without the leading ?
	StatusCode int    // 301 or 302
}

// FixedResponse answers without a target.
type FixedResponse struct {
	StatusCode  int
	ContentType string // text/plain if empty
	Body        string
}

// Load balancing algorithms (load_balancing.algorithm.type).
const (
	RoundRobin               = "round_robin"
	LeastOutstandingRequests = "least_outstanding_requests"
)

// TargetGroup is one target group with its settings and targets.
type TargetGroup struct {
	ARN      string
	Name     string
	Protocol string // HTTP (ALB) or TCP (NLB)
	Port     int    // the traffic port, used by targets registered without one
	// HealthCheck drives the health states; see HealthCheck.
	HealthCheck HealthCheck
	// DeregistrationDelay is deregistration_delay.timeout_seconds (default
	// 300s on AWS; the control plane passes the stored value).
	DeregistrationDelay time.Duration
	// SlowStart is slow_start.duration_seconds; zero means off. A target that
	// turns healthy gets a share of new requests that rises linearly over it.
	SlowStart time.Duration
	// Algorithm is RoundRobin (the default when empty) or
	// LeastOutstandingRequests.
	Algorithm string
	// Stickiness is stickiness.* (ALB: lb_cookie).
	Stickiness Stickiness
	Targets    []Target
}

// Stickiness is target stickiness. Only lb_cookie is served: the client
// gets an AWSALB cookie naming its target for Duration.
type Stickiness struct {
	Enabled  bool
	Type     string // "lb_cookie"
	Duration time.Duration
}

// HealthCheck is a target group's health check. Protocol HTTP (or HTTPS,
// without verifying the certificate, as AWS) sends GET Path and compares
// the status with Matcher; TCP only connects. Empty means the group's
// protocol.
type HealthCheck struct {
	Enabled  bool
	Protocol string // HTTP, HTTPS or TCP
	// Port is the port checked; 0 means "traffic-port" (the target's port).
	Port               int
	Path               string // HTTP; "/" if empty
	Interval           time.Duration
	Timeout            time.Duration
	HealthyThreshold   int
	UnhealthyThreshold int
	// Matcher is the HTTP codes counted healthy: "200", "200,302",
	// "200-299" (combinations allowed). Empty means "200".
	Matcher string
}

// Target is one registered target.
type Target struct {
	// ID is the registered id: an IP address (target type ip) or an
	// instance id. Reports name targets by ID and Port.
	ID string
	// Address is the host to dial; empty means ID (right for ip targets).
	Address string
	// Port is the target's port; 0 means the group's Port.
	Port int
	// Draining is true once the target is deregistered: it gets no new
	// requests or connections; those in flight go on until DrainDeadline
	// (deregistration time + DeregistrationDelay), when its connections are
	// closed. The control plane removes the target from the Spec (and its
	// store) at DrainDeadline; the data plane does not report a removal.
	Draining      bool
	DrainDeadline time.Time
	// Health is the last known health (from the store). Apply uses it only
	// for a target it does not already track, so that after a restart
	// healthy targets take traffic at once instead of starting at initial.
	Health Health
}

// TargetKey names a target within its group.
type TargetKey struct {
	ID   string
	Port int
}

// State is a target health state (TargetHealth.State).
type State string

const (
	StateInitial     State = "initial"
	StateHealthy     State = "healthy"
	StateUnhealthy   State = "unhealthy"
	StateUnused      State = "unused"
	StateDraining    State = "draining"
	StateUnavailable State = "unavailable"
)

// Reason codes (TargetHealth.Reason), AWS's own.
const (
	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonNotInUse                 = "Target.NotInUse"
	ReasonNotRegistered            = "Target.NotRegistered"
	ReasonHealthCheckDisabled      = "Target.HealthCheckDisabled"
	ReasonInternalError            = "Elb.InternalError"
)

// Health is a target's health as DescribeTargetHealth shows it. Reason and
// Description are empty when healthy.
type Health struct {
	State       State
	Reason      string
	Description string
}

// HealthReport is one change of a target's health, sent to Config.OnHealth.
type HealthReport struct {
	TargetGroupARN string
	Target         TargetKey
	Health         Health
	At             time.Time
}

// ListenerStatus is Apply's answer for one listener.
type ListenerStatus struct {
	ListenerARN string
	// Addr is the listener's own address (LoadBalancer.Address:Port).
	Addr string
	// Err is why the listener is not serving on Addr (nil when it is): a
	// *BindError for a port it cannot bind, or an unsupported protocol.
	Err error
	// Front is the shared front address (127.0.0.1:Port) when this
	// listener is reachable there, FrontErr why not when it should be.
	Front    string
	FrontErr error
}
