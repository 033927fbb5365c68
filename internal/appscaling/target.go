package appscaling

import (
	"fmt"
	"strings"
	"time"
)

// Scope is the account and region a resource lives in.
type Scope struct {
	Account string
	Region  string
}

// The one namespace and dimension berth scales.
const (
	NamespaceECS       = "ecs"
	DimensionECSDesire = "ecs:service:DesiredCount"
)

// MaxCapacityLimit is the largest desired count a target may set.
const MaxCapacityLimit = 5000

// Key names one scalable target.
type Key struct {
	Namespace  string
	ResourceID string
	Dimension  string
}

// ECSService returns the cluster and service of an ecs resource ID
// ("service/<cluster>/<service>").
func (k Key) ECSService() (cluster, service string) {
	parts := strings.Split(k.ResourceID, "/")
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}

// ValidateKey checks a target's namespace, resource ID and dimension.
func ValidateKey(k Key) error {
	if k.Namespace == "" {
		return Validationf("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if k.Namespace != NamespaceECS {
		return Validationf("Unsupported service namespace %s; berth scales only the ecs namespace", k.Namespace)
	}
	if k.ResourceID == "" {
		return Validationf("1 validation error detected: Value null at 'resourceId' failed to satisfy constraint: Member must not be null")
	}
	if k.Dimension == "" {
		return Validationf("1 validation error detected: Value null at 'scalableDimension' failed to satisfy constraint: Member must not be null")
	}
	if k.Dimension != DimensionECSDesire {
		return Validationf("Unsupported scalable dimension %s for service namespace ecs; the only one is %s", k.Dimension, DimensionECSDesire)
	}
	parts := strings.Split(k.ResourceID, "/")
	if len(parts) != 3 || parts[0] != "service" || parts[1] == "" || parts[2] == "" {
		return Validationf("Unsupported resource ID %s for service namespace ecs; it must be service/<cluster-name>/<service-name>", k.ResourceID)
	}
	return nil
}

// SuspendedState says which scaling a target has suspended.
type SuspendedState struct {
	DynamicScalingInSuspended  bool
	DynamicScalingOutSuspended bool
	ScheduledScalingSuspended  bool
}

// Target is a registered scalable target.
type Target struct {
	Key
	ID           string // the ID in its ARN
	MinCapacity  int
	MaxCapacity  int
	RoleARN      string
	Created      time.Time
	Suspended    SuspendedState
	Tags         map[string]string
	LastScaleOut time.Time // the last dynamic scale-out and the policy that made it
	LastScaleIn  time.Time
	LastOutTo    int // the capacity the last scale-out set
	LastPolicy   string
}

// Clamp bounds n by the target's minimum and maximum.
func (t *Target) Clamp(n int) int { return min(max(n, t.MinCapacity), t.MaxCapacity) }

// ARN is the target's ARN.
func (t *Target) ARN(sc Scope) string {
	return fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%s", sc.Region, sc.Account, t.ID)
}

// ServiceLinkedRole is the role AWS sets when RegisterScalableTarget has no RoleARN.
func ServiceLinkedRole(account string) string {
	return "arn:aws:iam::" + account + ":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
}

// Register is a RegisterScalableTarget request.
type Register struct {
	Key
	MinCapacity *int
	MaxCapacity *int
	RoleARN     string
	Suspended   *SuspendedState
	Tags        map[string]string
}

// Apply validates r against the existing target (nil for a new one) and
// returns the target to store. A new target needs both capacities.
func (r Register) Apply(cur *Target, id string, now time.Time, account string) (*Target, error) {
	if err := ValidateKey(r.Key); err != nil {
		return nil, err
	}
	var t Target
	if cur == nil {
		if r.MinCapacity == nil || r.MaxCapacity == nil {
			return nil, Validationf("MinCapacity and MaxCapacity are required for registering a new scalable target")
		}
		t = Target{Key: r.Key, ID: id, Created: now, RoleARN: ServiceLinkedRole(account), Tags: map[string]string{}}
	} else {
		t = *cur
		t.Tags = copyTags(cur.Tags)
	}
	if r.MinCapacity != nil {
		t.MinCapacity = *r.MinCapacity
	}
	if r.MaxCapacity != nil {
		t.MaxCapacity = *r.MaxCapacity
	}
	if t.MinCapacity < 0 || t.MaxCapacity < 0 {
		return nil, Validationf("Minimum and maximum capacity must be non-negative")
	}
	if t.MaxCapacity > MaxCapacityLimit {
		return nil, Validationf("Maximum capacity cannot be greater than %d", MaxCapacityLimit)
	}
	if t.MinCapacity > t.MaxCapacity {
		return nil, Validationf("Minimum capacity cannot be greater than maximum capacity")
	}
	if r.RoleARN != "" {
		if !strings.HasPrefix(r.RoleARN, "arn:") {
			return nil, Validationf("Invalid RoleARN %s; it must be an IAM role ARN", r.RoleARN)
		}
		t.RoleARN = r.RoleARN
	}
	if r.Suspended != nil {
		t.Suspended = *r.Suspended
	}
	if cur == nil || len(r.Tags) > 0 {
		if err := ValidateTags(r.Tags); err != nil {
			return nil, err
		}
		for k, v := range r.Tags {
			t.Tags[k] = v
		}
	}
	return &t, nil
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ValidateTags checks tag keys and values as AWS does.
func ValidateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return Validationf("Too many tags; a resource may have at most 50")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 {
			return Validationf("Tag key must be 1 to 128 characters long")
		}
		if strings.HasPrefix(k, "aws:") {
			return Validationf("Tag keys may not start with the reserved prefix aws:")
		}
		if len(v) > 256 {
			return Validationf("Tag value must be at most 256 characters long")
		}
	}
	return nil
}
