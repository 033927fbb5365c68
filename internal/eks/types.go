package eks

import (
	"maps"
	"slices"
	"time"
)

// Scope is the account and region that own a cluster.
type Scope struct{ Account, Region string }

// Cluster status values.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
	StatusFailed   = "FAILED"
)

// Authentication modes.
const (
	AuthConfigMap       = "CONFIG_MAP"
	AuthAPIAndConfigMap = "API_AND_CONFIG_MAP"
	AuthAPI             = "API"
)

// Log types.
var LogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// Cluster is one EKS cluster with its access entries and its updates.
type Cluster struct {
	Name               string
	ARN                string
	ID                 string
	CreatedAt          time.Time
	Version            string
	RoleARN            string
	VPC                VPCConfig
	ServiceIPv4CIDR    string
	IPFamily           string
	Logging            []string // enabled log types
	Status             string
	Health             []Issue
	ClientRequestToken string
	Tags               map[string]string
	AuthMode           string
	BootstrapAdmin     bool
	// Creator is the IAM ARN that created the cluster: with
	// BootstrapAdmin and the CONFIG_MAP mode it is a cluster admin that
	// no access entry or aws-auth mapping shows, as on EKS.
	Creator            string
	SupportType        string
	DeletionProtection bool
	// Endpoint, CAData and OIDCIssuer are set by the control plane once it
	// serves the cluster ("" until then).
	Endpoint   string
	CAData     string
	OIDCIssuer string
	// ServedVersion is the version the control plane serves ("" before
	// the first start).
	ServedVersion string
	Access        map[string]*AccessEntry // by principal ARN
	Updates       []*Update               // oldest first
}

// VPCConfig is a cluster's resourcesVpcConfig.
type VPCConfig struct {
	SubnetIDs        []string
	SecurityGroupIDs []string
	PublicAccess     bool
	PrivateAccess    bool
	PublicCIDRs      []string
}

// Issue is one cluster health issue.
type Issue struct {
	Code    string
	Message string
}

// Copy returns a deep copy of c.
func (c *Cluster) Copy() *Cluster {
	n := *c
	n.VPC.SubnetIDs = slices.Clone(c.VPC.SubnetIDs)
	n.VPC.SecurityGroupIDs = slices.Clone(c.VPC.SecurityGroupIDs)
	n.VPC.PublicCIDRs = slices.Clone(c.VPC.PublicCIDRs)
	n.Logging = slices.Clone(c.Logging)
	n.Health = slices.Clone(c.Health)
	n.Tags = maps.Clone(c.Tags)
	n.Access = make(map[string]*AccessEntry, len(c.Access))
	for k, e := range c.Access {
		n.Access[k] = e.Copy()
	}
	n.Updates = make([]*Update, len(c.Updates))
	for i, u := range c.Updates {
		n.Updates[i] = u.Copy()
	}
	return &n
}

// PendingUpdate returns the cluster's update in progress, or nil.
func (c *Cluster) PendingUpdate() *Update {
	for _, u := range c.Updates {
		if u.Status == UpdateInProgress {
			return u
		}
	}
	return nil
}

// Update status values.
const (
	UpdateInProgress = "InProgress"
	UpdateFailed     = "Failed"
	UpdateSuccessful = "Successful"
)

// Update is one cluster update (UpdateClusterConfig, UpdateClusterVersion).
type Update struct {
	ID        string
	Type      string // VersionUpdate, LoggingUpdate, EndpointAccessUpdate, AccessConfigUpdate, ...
	Status    string
	Params    []Param
	CreatedAt time.Time
	Errors    []UpdateError
}

// Param is one update parameter.
type Param struct{ Type, Value string }

// UpdateError is one error of a failed update.
type UpdateError struct{ Code, Message string }

// Copy returns a deep copy of u.
func (u *Update) Copy() *Update {
	n := *u
	n.Params = slices.Clone(u.Params)
	n.Errors = slices.Clone(u.Errors)
	return &n
}

// Param returns the value of the update's parameter of type t.
func (u *Update) Param(t string) (string, bool) {
	for _, p := range u.Params {
		if p.Type == t {
			return p.Value, true
		}
	}
	return "", false
}

// AccessEntry grants an IAM principal access to a cluster.
type AccessEntry struct {
	PrincipalARN     string
	ARN              string
	KubernetesGroups []string
	Username         string
	Type             string
	CreatedAt        time.Time
	ModifiedAt       time.Time
	Tags             map[string]string
	Policies         []*AssociatedPolicy
}

// Copy returns a deep copy of e.
func (e *AccessEntry) Copy() *AccessEntry {
	n := *e
	n.KubernetesGroups = slices.Clone(e.KubernetesGroups)
	n.Tags = maps.Clone(e.Tags)
	n.Policies = make([]*AssociatedPolicy, len(e.Policies))
	for i, p := range e.Policies {
		c := *p
		c.Namespaces = slices.Clone(p.Namespaces)
		n.Policies[i] = &c
	}
	return &n
}

// Policy returns the entry's association of policyARN, or nil.
func (e *AccessEntry) Policy(policyARN string) *AssociatedPolicy {
	for _, p := range e.Policies {
		if p.PolicyARN == policyARN {
			return p
		}
	}
	return nil
}

// Access scope types.
const (
	ScopeCluster   = "cluster"
	ScopeNamespace = "namespace"
)

// AssociatedPolicy is an access policy associated with an access entry.
type AssociatedPolicy struct {
	PolicyARN    string
	ScopeType    string
	Namespaces   []string
	AssociatedAt time.Time
	ModifiedAt   time.Time
}
