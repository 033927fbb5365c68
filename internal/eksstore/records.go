package eksstore

import (
	"time"

	"github.com/berth-dev/berth/internal/eks"
)

type clusterRec struct {
	Name               string            `json:"name"`
	ARN                string            `json:"arn"`
	ID                 string            `json:"id"`
	CreatedAt          time.Time         `json:"createdAt"`
	Version            string            `json:"version"`
	RoleARN            string            `json:"roleArn"`
	SubnetIDs          []string          `json:"subnetIds,omitempty"`
	SecurityGroupIDs   []string          `json:"securityGroupIds,omitempty"`
	PublicAccess       bool              `json:"publicAccess"`
	PrivateAccess      bool              `json:"privateAccess"`
	PublicCIDRs        []string          `json:"publicCidrs,omitempty"`
	ServiceIPv4CIDR    string            `json:"serviceIpv4Cidr"`
	IPFamily           string            `json:"ipFamily"`
	Logging            []string          `json:"logging,omitempty"`
	Status             string            `json:"status"`
	Health             []issueRec        `json:"health,omitempty"`
	ClientRequestToken string            `json:"clientRequestToken,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	AuthMode           string            `json:"authMode"`
	BootstrapAdmin     bool              `json:"bootstrapAdmin"`
	Creator            string            `json:"creator,omitempty"`
	SupportType        string            `json:"supportType"`
	DeletionProtection bool              `json:"deletionProtection"`
	Endpoint           string            `json:"endpoint,omitempty"`
	CAData             string            `json:"caData,omitempty"`
	OIDCIssuer         string            `json:"oidcIssuer,omitempty"`
	ServedVersion      string            `json:"servedVersion,omitempty"`
	Access             []accessRec       `json:"access,omitempty"`
	Updates            []updateRec       `json:"updates,omitempty"`
}

type issueRec struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type accessRec struct {
	PrincipalARN     string            `json:"principalArn"`
	ARN              string            `json:"arn"`
	KubernetesGroups []string          `json:"kubernetesGroups,omitempty"`
	Username         string            `json:"username"`
	Type             string            `json:"type"`
	CreatedAt        time.Time         `json:"createdAt"`
	ModifiedAt       time.Time         `json:"modifiedAt"`
	Tags             map[string]string `json:"tags,omitempty"`
	Policies         []policyRec       `json:"policies,omitempty"`
}

type policyRec struct {
	PolicyARN    string    `json:"policyArn"`
	ScopeType    string    `json:"scopeType"`
	Namespaces   []string  `json:"namespaces,omitempty"`
	AssociatedAt time.Time `json:"associatedAt"`
	ModifiedAt   time.Time `json:"modifiedAt"`
}

type updateRec struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Status    string     `json:"status"`
	Params    []paramRec `json:"params,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	Errors    []issueRec `json:"errors,omitempty"`
}

type paramRec struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func toRec(c *eks.Cluster) *clusterRec {
	r := &clusterRec{
		Name: c.Name, ARN: c.ARN, ID: c.ID, CreatedAt: c.CreatedAt, Version: c.Version, RoleARN: c.RoleARN,
		SubnetIDs: c.VPC.SubnetIDs, SecurityGroupIDs: c.VPC.SecurityGroupIDs, PublicAccess: c.VPC.PublicAccess,
		PrivateAccess: c.VPC.PrivateAccess, PublicCIDRs: c.VPC.PublicCIDRs, ServiceIPv4CIDR: c.ServiceIPv4CIDR,
		IPFamily: c.IPFamily, Logging: c.Logging, Status: c.Status, ClientRequestToken: c.ClientRequestToken,
		Tags: c.Tags, AuthMode: c.AuthMode, BootstrapAdmin: c.BootstrapAdmin, Creator: c.Creator, SupportType: c.SupportType,
		DeletionProtection: c.DeletionProtection, Endpoint: c.Endpoint, CAData: c.CAData, OIDCIssuer: c.OIDCIssuer,
		ServedVersion: c.ServedVersion,
	}
	for _, i := range c.Health {
		r.Health = append(r.Health, issueRec{i.Code, i.Message})
	}
	for _, e := range c.Access {
		a := accessRec{PrincipalARN: e.PrincipalARN, ARN: e.ARN, KubernetesGroups: e.KubernetesGroups, Username: e.Username,
			Type: e.Type, CreatedAt: e.CreatedAt, ModifiedAt: e.ModifiedAt, Tags: e.Tags}
		for _, p := range e.Policies {
			a.Policies = append(a.Policies, policyRec{p.PolicyARN, p.ScopeType, p.Namespaces, p.AssociatedAt, p.ModifiedAt})
		}
		r.Access = append(r.Access, a)
	}
	for _, u := range c.Updates {
		ur := updateRec{ID: u.ID, Type: u.Type, Status: u.Status, CreatedAt: u.CreatedAt}
		for _, p := range u.Params {
			ur.Params = append(ur.Params, paramRec{p.Type, p.Value})
		}
		for _, e := range u.Errors {
			ur.Errors = append(ur.Errors, issueRec{e.Code, e.Message})
		}
		r.Updates = append(r.Updates, ur)
	}
	return r
}

func (r *clusterRec) dom() *eks.Cluster {
	c := &eks.Cluster{
		Name: r.Name, ARN: r.ARN, ID: r.ID, CreatedAt: r.CreatedAt, Version: r.Version, RoleARN: r.RoleARN,
		VPC: eks.VPCConfig{SubnetIDs: r.SubnetIDs, SecurityGroupIDs: r.SecurityGroupIDs, PublicAccess: r.PublicAccess,
			PrivateAccess: r.PrivateAccess, PublicCIDRs: r.PublicCIDRs},
		ServiceIPv4CIDR: r.ServiceIPv4CIDR, IPFamily: r.IPFamily, Logging: r.Logging, Status: r.Status,
		ClientRequestToken: r.ClientRequestToken, Tags: r.Tags, AuthMode: r.AuthMode, BootstrapAdmin: r.BootstrapAdmin, Creator: r.Creator,
		SupportType: r.SupportType, DeletionProtection: r.DeletionProtection, Endpoint: r.Endpoint, CAData: r.CAData,
		OIDCIssuer: r.OIDCIssuer, ServedVersion: r.ServedVersion, Access: map[string]*eks.AccessEntry{},
	}
	for _, i := range r.Health {
		c.Health = append(c.Health, eks.Issue{Code: i.Code, Message: i.Message})
	}
	for _, a := range r.Access {
		e := &eks.AccessEntry{PrincipalARN: a.PrincipalARN, ARN: a.ARN, KubernetesGroups: a.KubernetesGroups, Username: a.Username,
			Type: a.Type, CreatedAt: a.CreatedAt, ModifiedAt: a.ModifiedAt, Tags: a.Tags}
		for _, p := range a.Policies {
			e.Policies = append(e.Policies, &eks.AssociatedPolicy{PolicyARN: p.PolicyARN, ScopeType: p.ScopeType,
				Namespaces: p.Namespaces, AssociatedAt: p.AssociatedAt, ModifiedAt: p.ModifiedAt})
		}
		c.Access[e.PrincipalARN] = e
	}
	for _, ur := range r.Updates {
		u := &eks.Update{ID: ur.ID, Type: ur.Type, Status: ur.Status, CreatedAt: ur.CreatedAt}
		for _, p := range ur.Params {
			u.Params = append(u.Params, eks.Param{Type: p.Type, Value: p.Value})
		}
		for _, e := range ur.Errors {
			u.Errors = append(u.Errors, eks.UpdateError{Code: e.Code, Message: e.Message})
		}
		c.Updates = append(c.Updates, u)
	}
	return c
}
