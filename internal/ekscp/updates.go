package ekscp

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/berth-dev/berth/internal/eks"
)

// Update types and parameter types (EKS's names).
const (
	UpdateVersion            = "VersionUpdate"
	UpdateLogging            = "LoggingUpdate"
	UpdateEndpointAccess     = "EndpointAccessUpdate"
	UpdateAccessConfig       = "AccessConfigUpdate"
	UpdateUpgradePolicy      = "UpgradePolicyUpdate"
	UpdateDeletionProtection = "DeletionProtectionUpdate"

	ParamVersion            = "Version"
	ParamPlatformVersion    = "PlatformVersion"
	ParamClusterLogging     = "ClusterLogging"
	ParamPublicAccess       = "EndpointPublicAccess"
	ParamPrivateAccess      = "EndpointPrivateAccess"
	ParamPublicCIDRs        = "PublicAccessCidrs"
	ParamAuthMode           = "AuthenticationMode"
	ParamUpgradePolicy      = "UpgradePolicy"
	ParamDeletionProtection = "DeletionProtection"
)

// LogSetup is one entry of a logging change: types turned on or off.
type LogSetup struct {
	Types   []string `json:"types"`
	Enabled bool     `json:"enabled"`
}

// ConfigInput is an UpdateClusterConfig request: exactly one of its parts.
type ConfigInput struct {
	Logging            []LogSetup
	PublicAccess       *bool
	PrivateAccess      *bool
	PublicCIDRs        []string
	EndpointGiven      bool
	AuthMode           string
	SupportType        string
	DeletionProtection *bool
}

// UpdateClusterConfig starts a configuration update. Deletion protection
// applies at once (EKS records it as an update too).
func (p *Plane) UpdateClusterConfig(ctx context.Context, sc eks.Scope, name string, in ConfigInput) (*eks.Update, error) {
	u, err := p.configUpdate(in)
	if err != nil {
		return nil, err
	}
	return p.startUpdate(ctx, sc, name, u, func(c *eks.Cluster) error {
		if in.AuthMode != "" {
			return eks.ValidateAuthModeChange(c.AuthMode, in.AuthMode)
		}
		if in.EndpointGiven {
			pub, priv := c.VPC.PublicAccess, c.VPC.PrivateAccess
			if in.PublicAccess != nil {
				pub = *in.PublicAccess
			}
			if in.PrivateAccess != nil {
				priv = *in.PrivateAccess
			}
			if !pub && !priv {
				return eks.InvalidParameterf("The cluster endpoint needs public access, private access or both.")
			}
		}
		return nil
	})
}

func (p *Plane) configUpdate(in ConfigInput) (*eks.Update, error) {
	var parts []*eks.Update
	if in.Logging != nil {
		for _, l := range in.Logging {
			if err := eks.ValidateLogTypes(l.Types); err != nil {
				return nil, err
			}
		}
		b, _ := json.Marshal(in.Logging)
		parts = append(parts, &eks.Update{Type: UpdateLogging, Params: []eks.Param{{Type: ParamClusterLogging, Value: string(b)}}})
	}
	if in.EndpointGiven {
		if err := eks.ValidateCIDRs(in.PublicCIDRs); err != nil {
			return nil, err
		}
		u := &eks.Update{Type: UpdateEndpointAccess}
		if in.PublicAccess != nil {
			u.Params = append(u.Params, eks.Param{Type: ParamPublicAccess, Value: strconv.FormatBool(*in.PublicAccess)})
		}
		if in.PrivateAccess != nil {
			u.Params = append(u.Params, eks.Param{Type: ParamPrivateAccess, Value: strconv.FormatBool(*in.PrivateAccess)})
		}
		if in.PublicCIDRs != nil {
			b, _ := json.Marshal(in.PublicCIDRs)
			u.Params = append(u.Params, eks.Param{Type: ParamPublicCIDRs, Value: string(b)})
		}
		parts = append(parts, u)
	}
	if in.AuthMode != "" {
		parts = append(parts, &eks.Update{Type: UpdateAccessConfig, Params: []eks.Param{{Type: ParamAuthMode, Value: in.AuthMode}}})
	}
	if in.SupportType != "" {
		if in.SupportType != eks.SupportStandard && in.SupportType != eks.SupportExtended {
			return nil, eks.InvalidParameterf("upgradePolicy.supportType %q is not valid; use STANDARD or EXTENDED", in.SupportType)
		}
		parts = append(parts, &eks.Update{Type: UpdateUpgradePolicy, Params: []eks.Param{{Type: ParamUpgradePolicy, Value: in.SupportType}}})
	}
	if in.DeletionProtection != nil {
		parts = append(parts, &eks.Update{Type: UpdateDeletionProtection,
			Params: []eks.Param{{Type: ParamDeletionProtection, Value: strconv.FormatBool(*in.DeletionProtection)}}})
	}
	switch len(parts) {
	case 0:
		return nil, eks.InvalidParameterf("No changes needed for the logging config provided")
	case 1:
		return parts[0], nil
	}
	return nil, eks.InvalidParameterf("Only one type of update can be allowed: change the logging, the endpoint access, the access config, the upgrade policy or deletion protection in separate calls.")
}

// UpdateClusterVersion starts an upgrade to the next minor version.
func (p *Plane) UpdateClusterVersion(ctx context.Context, sc eks.Scope, name, version string) (*eks.Update, error) {
	v, ok := eks.FindVersion(version)
	if !ok {
		return nil, eks.InvalidParameterf("unsupported Kubernetes version %s; EKS offers %s", version, versionList())
	}
	u := &eks.Update{Type: UpdateVersion, Params: []eks.Param{{Type: ParamVersion, Value: version}, {Type: ParamPlatformVersion, Value: v.DefaultPlatform}}}
	return p.startUpdate(ctx, sc, name, u, func(c *eks.Cluster) error {
		if c.Version == version {
			return eks.InvalidParameterf("Cluster %s is already at Kubernetes version %s.", name, version)
		}
		if eks.NextVersion(c.Version) != version {
			return eks.InvalidParameterf("Unsupported Kubernetes minor version update from %s to %s: upgrade one minor version at a time (next: %s).", c.Version, version, eks.NextVersion(c.Version))
		}
		return nil
	})
}

// startUpdate records u as the cluster's update in progress and moves the
// cluster to UPDATING; check refuses the update for the cluster's state.
func (p *Plane) startUpdate(ctx context.Context, sc eks.Scope, name string, u *eks.Update, check func(*eks.Cluster) error) (*eks.Update, error) {
	u.ID, u.Status, u.CreatedAt = p.newID(), eks.UpdateInProgress, p.now().UTC()
	_, err := p.repo.Update(ctx, sc, name, func(c *eks.Cluster) (*eks.Cluster, error) {
		switch {
		case c.PendingUpdate() != nil || c.Status == eks.StatusUpdating:
			return nil, eks.InUsef("Cluster %s has an update in progress; wait for it (describe-update) before starting another.", name)
		case c.Status != eks.StatusActive:
			return nil, eks.InvalidRequestf("Cluster %s is in %s state; it can be updated only when ACTIVE.", name, c.Status)
		}
		if err := check(c); err != nil {
			return nil, err
		}
		c.Updates = append(c.Updates, u)
		c.Status = eks.StatusUpdating
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// applyUpdate returns c with u's change applied.
func applyUpdate(c *eks.Cluster, u *eks.Update) *eks.Cluster {
	c = c.Copy()
	for _, prm := range u.Params {
		switch prm.Type {
		case ParamVersion:
			c.Version = prm.Value
		case ParamClusterLogging:
			var setups []LogSetup
			_ = json.Unmarshal([]byte(prm.Value), &setups)
			on := map[string]bool{}
			for _, t := range c.Logging {
				on[t] = true
			}
			for _, s := range setups {
				for _, t := range s.Types {
					on[t] = s.Enabled
				}
			}
			c.Logging = nil
			for _, t := range eks.LogTypes {
				if on[t] {
					c.Logging = append(c.Logging, t)
				}
			}
		case ParamPublicAccess:
			c.VPC.PublicAccess = prm.Value == "true"
		case ParamPrivateAccess:
			c.VPC.PrivateAccess = prm.Value == "true"
		case ParamPublicCIDRs:
			var cidrs []string
			_ = json.Unmarshal([]byte(prm.Value), &cidrs)
			c.VPC.PublicCIDRs = cidrs
		case ParamAuthMode:
			c.AuthMode = prm.Value
		case ParamUpgradePolicy:
			c.SupportType = prm.Value
		case ParamDeletionProtection:
			c.DeletionProtection = prm.Value == "true"
		}
	}
	return c
}

// DescribeUpdate returns one update of a cluster.
func (p *Plane) DescribeUpdate(ctx context.Context, sc eks.Scope, name, id string) (*eks.Update, error) {
	c, err := p.repo.Get(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(c.Updates, func(u *eks.Update) bool { return u.ID == id })
	if i < 0 {
		return nil, eks.NotFoundf("No update found for ID: %s", id)
	}
	return c.Updates[i], nil
}

// ListUpdates returns the IDs of a cluster's updates, oldest first.
func (p *Plane) ListUpdates(ctx context.Context, sc eks.Scope, name string) ([]string, error) {
	c, err := p.repo.Get(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(c.Updates))
	for i, u := range c.Updates {
		ids[i] = u.ID
	}
	return ids, nil
}
