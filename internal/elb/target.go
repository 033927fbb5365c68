package elb

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"time"
)

// Target health states.
const (
	HealthInitial     = "initial"
	HealthHealthy     = "healthy"
	HealthUnhealthy   = "unhealthy"
	HealthUnused      = "unused"
	HealthDraining    = "draining"
	HealthUnavailable = "unavailable"
)

// Target health reason codes.
const (
	ReasonRegistrationInProgress   = "Elb.RegistrationInProgress"
	ReasonInitialHealthChecking    = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch     = "Target.ResponseCodeMismatch"
	ReasonTimeout                  = "Target.Timeout"
	ReasonFailedHealthChecks       = "Target.FailedHealthChecks"
	ReasonNotRegistered            = "Target.NotRegistered"
	ReasonNotInUse                 = "Target.NotInUse"
	ReasonDeregistrationInProgress = "Target.DeregistrationInProgress"
	ReasonHealthCheckDisabled      = "Target.HealthCheckDisabled"
	ReasonInternalError            = "Elb.InternalError"
	ReasonInvalidState             = "Target.InvalidState"
)

// Health is a target's health as DescribeTargetHealth reports it.
type Health struct {
	State       string
	Reason      string
	Description string
}

// Registered is the health of a target just registered in a group that a
// load balancer uses.
var Registered = Health{HealthInitial, ReasonRegistrationInProgress, "Target registration is in progress"}

// NotInUse is the health of a target whose group no load balancer uses.
var NotInUse = Health{HealthUnused, ReasonNotInUse, "Target group is not configured to receive traffic from the load balancer"}

// Draining is the health of a target being deregistered.
var Draining = Health{HealthDraining, ReasonDeregistrationInProgress, "Target deregistration is in progress"}

// NotRegistered is the health of a target DescribeTargetHealth was asked
// about that is not in the group.
var NotRegistered = Health{HealthUnavailable, ReasonNotRegistered, "Target is not registered to the target group"}

// InvalidState is the health of an instance target whose instance cannot
// take traffic: on berth, no registered container instance has its ID
// (or its agent never connected, so its address is unknown).
var InvalidState = Health{HealthUnused, ReasonInvalidState, "Target is in the stopped state"}

// Target is a registered target: an IP address or instance and a port.
// Health is the last state the data plane reported (initial until then);
// DrainingSince is set while it is being deregistered.
type Target struct {
	ID               string
	Port             int
	AvailabilityZone string
	Health           Health
	RegisteredAt     time.Time
	DrainingSince    time.Time
}

// Key identifies a target in its group ("id:port").
func (t Target) Key() string { return t.ID + ":" + strconv.Itoa(t.Port) }

// Draining reports whether the target is being deregistered.
func (t Target) Draining() bool { return !t.DrainingSince.IsZero() }

// DrainDone reports whether a draining target's deregistration delay has
// passed at now.
func (t Target) DrainDone(delay time.Duration, now time.Time) bool {
	return t.Draining() && !now.Before(t.DrainingSince.Add(delay))
}

// EffectiveHealth is the health DescribeTargetHealth reports: draining
// while deregistering, unused while no load balancer uses the group,
// else what the data plane reported.
func (t Target) EffectiveHealth(inUse bool) Health {
	switch {
	case t.Draining():
		return Draining
	case !inUse:
		return NotInUse
	case t.Health == InvalidState:
		return InvalidState
	case t.Health.State == "" || t.Health.State == HealthUnused:
		return Registered
	}
	return t.Health
}

// TargetRef is a target named in a request (Port 0: the group's port).
type TargetRef struct {
	ID               string
	Port             int
	AvailabilityZone string
}

var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ResolveTargets validates refs for tg and fills in default ports.
func ResolveTargets(tg *TargetGroup, refs []TargetRef) ([]TargetRef, error) {
	if len(refs) == 0 {
		return nil, Validationf("At least one target must be specified")
	}
	out := make([]TargetRef, 0, len(refs))
	for _, r := range refs {
		if r.Port == 0 {
			r.Port = tg.Port
		}
		if r.Port < 1 || r.Port > 65535 {
			return nil, Validationf("Target port %d is not valid; it must be from 1 to 65535", r.Port)
		}
		if err := checkTargetID(tg, r.ID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func checkTargetID(tg *TargetGroup, id string) error {
	if tg.TargetType == TargetTypeInstance {
		if !instanceID.MatchString(id) {
			return Coded(CodeInvalidTarget, "The target '%s' is not a valid instance ID (i- and 8 or 17 hex digits); this target group has target type 'instance'", id)
		}
		return nil
	}
	a, err := netip.ParseAddr(id)
	if err != nil || !a.Is4() && tg.IPAddressType == "ipv4" {
		return Coded(CodeInvalidTarget, "The target '%s' is not a valid IPv4 address; this target group has target type 'ip'", id)
	}
	if !a.IsPrivate() && !a.IsLoopback() && !cgnat.Contains(a) {
		return Coded(CodeInvalidTarget, "The IP address '%s' is not a valid target: IP targets must be in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10) or, on berth, loopback (127.0.0.0/8)", id)
	}
	return nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// ReasonDescription is the description AWS gives a failing health check.
func FailedCheck(reason string, code int) Health {
	switch reason {
	case ReasonResponseCodeMismatch:
		return Health{HealthUnhealthy, reason, fmt.Sprintf("Health checks failed with these codes: [%d]", code)}
	case ReasonTimeout:
		return Health{HealthUnhealthy, reason, "Request timed out"}
	}
	return Health{HealthUnhealthy, ReasonFailedHealthChecks, "Health checks failed"}
}
