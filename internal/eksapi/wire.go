package eksapi

import (
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
)

type wireCluster struct {
	Name                    string              `json:"name"`
	Arn                     string              `json:"arn"`
	CreatedAt               *awsproto.EpochTime `json:"createdAt,omitempty"`
	Version                 string              `json:"version"`
	Endpoint                string              `json:"endpoint,omitempty"`
	RoleArn                 string              `json:"roleArn"`
	ResourcesVpcConfig      wireVPC             `json:"resourcesVpcConfig"`
	KubernetesNetworkConfig wireNetwork         `json:"kubernetesNetworkConfig"`
	Logging                 wireLogging         `json:"logging"`
	Identity                *wireIdentity       `json:"identity,omitempty"`
	Status                  string              `json:"status"`
	CertificateAuthority    *wireCertificate    `json:"certificateAuthority,omitempty"`
	ClientRequestToken      string              `json:"clientRequestToken,omitempty"`
	PlatformVersion         string              `json:"platformVersion,omitempty"`
	Tags                    map[string]string   `json:"tags"`
	ID                      string              `json:"id"`
	Health                  wireHealth          `json:"health"`
	AccessConfig            wireAccessConfig    `json:"accessConfig"`
	UpgradePolicy           wireUpgradePolicy   `json:"upgradePolicy"`
	DeletionProtection      bool                `json:"deletionProtection"`
}

type wireVPC struct {
	SubnetIds             []string `json:"subnetIds"`
	SecurityGroupIds      []string `json:"securityGroupIds"`
	EndpointPublicAccess  bool     `json:"endpointPublicAccess"`
	EndpointPrivateAccess bool     `json:"endpointPrivateAccess"`
	PublicAccessCidrs     []string `json:"publicAccessCidrs"`
}

type wireNetwork struct {
	ServiceIpv4Cidr string `json:"serviceIpv4Cidr"`
	IpFamily        string `json:"ipFamily"`
}

type wireLogging struct {
	ClusterLogging []wireLogSetup `json:"clusterLogging"`
}

type wireLogSetup struct {
	Types   []string `json:"types"`
	Enabled *bool    `json:"enabled"`
}

type wireIdentity struct {
	OIDC wireOIDC `json:"oidc"`
}

type wireOIDC struct {
	Issuer string `json:"issuer"`
}

type wireCertificate struct {
	Data string `json:"data"`
}

type wireHealth struct {
	Issues []wireIssue `json:"issues"`
}

type wireIssue struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	ResourceIds []string `json:"resourceIds,omitempty"`
}

type wireAccessConfig struct {
	BootstrapClusterCreatorAdminPermissions bool   `json:"bootstrapClusterCreatorAdminPermissions"`
	AuthenticationMode                      string `json:"authenticationMode"`
}

type wireUpgradePolicy struct {
	SupportType string `json:"supportType"`
}

func toWireCluster(c *eks.Cluster) wireCluster {
	w := wireCluster{
		Name: c.Name, Arn: c.ARN, CreatedAt: awsproto.Epoch(c.CreatedAt), Version: c.Version, Endpoint: c.Endpoint,
		RoleArn: c.RoleARN, Status: c.Status, ClientRequestToken: c.ClientRequestToken, Tags: c.Tags, ID: c.ID,
		ResourcesVpcConfig: wireVPC{SubnetIds: nonNil(c.VPC.SubnetIDs), SecurityGroupIds: nonNil(c.VPC.SecurityGroupIDs),
			EndpointPublicAccess: c.VPC.PublicAccess, EndpointPrivateAccess: c.VPC.PrivateAccess, PublicAccessCidrs: nonNil(c.VPC.PublicCIDRs)},
		KubernetesNetworkConfig: wireNetwork{ServiceIpv4Cidr: c.ServiceIPv4CIDR, IpFamily: c.IPFamily},
		AccessConfig:            wireAccessConfig{BootstrapClusterCreatorAdminPermissions: c.BootstrapAdmin, AuthenticationMode: c.AuthMode},
		UpgradePolicy:           wireUpgradePolicy{SupportType: c.SupportType},
		DeletionProtection:      c.DeletionProtection,
		Health:                  wireHealth{Issues: []wireIssue{}},
	}
	if w.Tags == nil {
		w.Tags = map[string]string{}
	}
	w.Logging = toWireLogging(c.Logging)
	if c.OIDCIssuer != "" {
		w.Identity = &wireIdentity{OIDC: wireOIDC{Issuer: c.OIDCIssuer}}
	}
	if c.CAData != "" {
		w.CertificateAuthority = &wireCertificate{Data: c.CAData}
	}
	if v, ok := eks.FindVersion(c.Version); ok && c.Endpoint != "" {
		w.PlatformVersion = v.DefaultPlatform
	}
	for _, i := range c.Health {
		w.Health.Issues = append(w.Health.Issues, wireIssue{Code: i.Code, Message: i.Message})
	}
	return w
}

// toWireLogging lists the enabled types, then the disabled ones, as EKS does.
func toWireLogging(enabled []string) wireLogging {
	on, off := []string{}, []string{}
	set := map[string]bool{}
	for _, t := range enabled {
		set[t] = true
	}
	for _, t := range eks.LogTypes {
		if set[t] {
			on = append(on, t)
		} else {
			off = append(off, t)
		}
	}
	var out []wireLogSetup
	if len(on) > 0 {
		out = append(out, wireLogSetup{Types: on, Enabled: ptr(true)})
	}
	if len(off) > 0 {
		out = append(out, wireLogSetup{Types: off, Enabled: ptr(false)})
	}
	return wireLogging{ClusterLogging: out}
}

func ptr[T any](v T) *T { return &v }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type wireUpdate struct {
	ID        string              `json:"id"`
	Status    string              `json:"status"`
	Type      string              `json:"type"`
	Params    []wireParam         `json:"params"`
	CreatedAt *awsproto.EpochTime `json:"createdAt,omitempty"`
	Errors    []wireErrorDetail   `json:"errors"`
}

type wireParam struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type wireErrorDetail struct {
	ErrorCode    string   `json:"errorCode"`
	ErrorMessage string   `json:"errorMessage"`
	ResourceIds  []string `json:"resourceIds,omitempty"`
}

func toWireUpdate(u *eks.Update) wireUpdate {
	w := wireUpdate{ID: u.ID, Status: u.Status, Type: u.Type, CreatedAt: awsproto.Epoch(u.CreatedAt), Params: []wireParam{}, Errors: []wireErrorDetail{}}
	for _, p := range u.Params {
		w.Params = append(w.Params, wireParam{p.Type, p.Value})
	}
	for _, e := range u.Errors {
		w.Errors = append(w.Errors, wireErrorDetail{ErrorCode: e.Code, ErrorMessage: e.Message})
	}
	return w
}

type wireAccessEntry struct {
	ClusterName      string              `json:"clusterName"`
	PrincipalArn     string              `json:"principalArn"`
	KubernetesGroups []string            `json:"kubernetesGroups"`
	AccessEntryArn   string              `json:"accessEntryArn"`
	CreatedAt        *awsproto.EpochTime `json:"createdAt,omitempty"`
	ModifiedAt       *awsproto.EpochTime `json:"modifiedAt,omitempty"`
	Tags             map[string]string   `json:"tags"`
	Username         string              `json:"username"`
	Type             string              `json:"type"`
}

func toWireEntry(cluster string, e *eks.AccessEntry) wireAccessEntry {
	w := wireAccessEntry{ClusterName: cluster, PrincipalArn: e.PrincipalARN, KubernetesGroups: nonNil(e.KubernetesGroups),
		AccessEntryArn: e.ARN, CreatedAt: awsproto.Epoch(e.CreatedAt), ModifiedAt: awsproto.Epoch(e.ModifiedAt),
		Tags: e.Tags, Username: e.Username, Type: e.Type}
	if w.Tags == nil {
		w.Tags = map[string]string{}
	}
	return w
}

type wireAccessScope struct {
	Type       string   `json:"type"`
	Namespaces []string `json:"namespaces"`
}

type wireAssociatedPolicy struct {
	PolicyArn    string              `json:"policyArn"`
	AccessScope  wireAccessScope     `json:"accessScope"`
	AssociatedAt *awsproto.EpochTime `json:"associatedAt,omitempty"`
	ModifiedAt   *awsproto.EpochTime `json:"modifiedAt,omitempty"`
}

func toWirePolicy(p *eks.AssociatedPolicy) wireAssociatedPolicy {
	return wireAssociatedPolicy{PolicyArn: p.PolicyARN, AccessScope: wireAccessScope{Type: p.ScopeType, Namespaces: nonNil(p.Namespaces)},
		AssociatedAt: awsproto.Epoch(p.AssociatedAt), ModifiedAt: awsproto.Epoch(p.ModifiedAt)}
}
