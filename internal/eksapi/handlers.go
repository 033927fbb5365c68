package eksapi

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/ekscp"
)

type vpcConfigRequest struct {
	SubnetIds             []string `json:"subnetIds"`
	SecurityGroupIds      []string `json:"securityGroupIds"`
	EndpointPublicAccess  *bool    `json:"endpointPublicAccess"`
	EndpointPrivateAccess *bool    `json:"endpointPrivateAccess"`
	PublicAccessCidrs     []string `json:"publicAccessCidrs"`
}

type createClusterInput struct {
	Name                    string            `json:"name"`
	Version                 string            `json:"version"`
	RoleArn                 string            `json:"roleArn"`
	ResourcesVpcConfig      *vpcConfigRequest `json:"resourcesVpcConfig"`
	KubernetesNetworkConfig *struct {
		ServiceIpv4Cidr string `json:"serviceIpv4Cidr"`
		IpFamily        string `json:"ipFamily"`
	} `json:"kubernetesNetworkConfig"`
	Logging            *wireLogging      `json:"logging"`
	ClientRequestToken string            `json:"clientRequestToken"`
	Tags               map[string]string `json:"tags"`
	AccessConfig       *struct {
		BootstrapClusterCreatorAdminPermissions *bool  `json:"bootstrapClusterCreatorAdminPermissions"`
		AuthenticationMode                      string `json:"authenticationMode"`
	} `json:"accessConfig"`
	UpgradePolicy *struct {
		SupportType string `json:"supportType"`
	} `json:"upgradePolicy"`
	DeletionProtection *bool `json:"deletionProtection"`
}

func enabledLogs(l *wireLogging) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, s := range l.ClusterLogging {
		if s.Enabled != nil && *s.Enabled {
			out = append(out, s.Types...)
		}
	}
	return out
}

func (a *API) createCluster(ctx context.Context, c *awsproto.Call, in *createClusterInput) (any, error) {
	if in.Name == "" || in.RoleArn == "" || in.ResourcesVpcConfig == nil {
		return nil, eks.InvalidParameterf("name, roleArn and resourcesVpcConfig are required")
	}
	if err := eks.ValidateLogTypes(allLogTypes(in.Logging)); err != nil {
		return nil, err
	}
	sc := a.scope(c)
	creator := c.Principal
	if creator == "" {
		creator = "arn:aws:iam::" + sc.Account + ":root"
	}
	ci := ekscp.CreateInput{
		Name: in.Name, Version: in.Version, RoleARN: in.RoleArn,
		VPC:          eks.VPCConfig{SubnetIDs: in.ResourcesVpcConfig.SubnetIds, SecurityGroupIDs: in.ResourcesVpcConfig.SecurityGroupIds, PublicCIDRs: in.ResourcesVpcConfig.PublicAccessCidrs},
		PublicAccess: in.ResourcesVpcConfig.EndpointPublicAccess, PrivateAccess: in.ResourcesVpcConfig.EndpointPrivateAccess,
		Logging: enabledLogs(in.Logging), ClientRequestToken: in.ClientRequestToken, Tags: in.Tags, Creator: creator,
		DeletionProtection: in.DeletionProtection != nil && *in.DeletionProtection,
	}
	if n := in.KubernetesNetworkConfig; n != nil {
		ci.ServiceIPv4CIDR, ci.IPFamily = n.ServiceIpv4Cidr, n.IpFamily
	}
	if ac := in.AccessConfig; ac != nil {
		ci.AuthMode, ci.BootstrapAdmin = ac.AuthenticationMode, ac.BootstrapClusterCreatorAdminPermissions
	}
	if in.UpgradePolicy != nil {
		ci.SupportType = in.UpgradePolicy.SupportType
	}
	cl, err := a.plane.CreateCluster(ctx, sc, ci)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cluster": toWireCluster(cl)}, nil
}

func allLogTypes(l *wireLogging) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, s := range l.ClusterLogging {
		out = append(out, s.Types...)
	}
	return out
}

type nameInput struct {
	Name string `json:"-" location:"uri" locationName:"name"`
}

func (a *API) describeCluster(ctx context.Context, c *awsproto.Call, in *nameInput) (any, error) {
	cl, err := a.plane.DescribeCluster(ctx, a.scope(c), in.Name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cluster": toWireCluster(cl)}, nil
}

func (a *API) deleteCluster(ctx context.Context, c *awsproto.Call, in *nameInput) (any, error) {
	cl, err := a.plane.DeleteCluster(ctx, a.scope(c), in.Name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"cluster": toWireCluster(cl)}, nil
}

type listInput struct {
	MaxResults *int   `json:"-" location:"querystring" locationName:"maxResults"`
	NextToken  string `json:"-" location:"querystring" locationName:"nextToken"`
}

type listClustersInput struct {
	listInput
	Include []string `json:"-" location:"querystring" locationName:"include"`
}

func (a *API) listClusters(ctx context.Context, c *awsproto.Call, in *listClustersInput) (any, error) {
	names, err := a.plane.ListClusters(ctx, a.scope(c))
	if err != nil {
		return nil, err
	}
	items, next, err := page(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		Clusters  []string `json:"clusters"`
		NextToken *string  `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

type updateConfigInput struct {
	Name               string            `json:"-" location:"uri" locationName:"name"`
	ResourcesVpcConfig *vpcConfigRequest `json:"resourcesVpcConfig"`
	Logging            *wireLogging      `json:"logging"`
	ClientRequestToken string            `json:"clientRequestToken"`
	AccessConfig       *struct {
		AuthenticationMode string `json:"authenticationMode"`
	} `json:"accessConfig"`
	UpgradePolicy *struct {
		SupportType string `json:"supportType"`
	} `json:"upgradePolicy"`
	DeletionProtection *bool `json:"deletionProtection"`
}

func (a *API) updateClusterConfig(ctx context.Context, c *awsproto.Call, in *updateConfigInput) (any, error) {
	var ci ekscp.ConfigInput
	if in.Logging != nil {
		ci.Logging = []ekscp.LogSetup{}
		for _, s := range in.Logging.ClusterLogging {
			ci.Logging = append(ci.Logging, ekscp.LogSetup{Types: s.Types, Enabled: s.Enabled != nil && *s.Enabled})
		}
	}
	if v := in.ResourcesVpcConfig; v != nil {
		if len(v.SubnetIds) > 0 || len(v.SecurityGroupIds) > 0 {
			return nil, eks.InvalidParameterf("berth does not change a cluster's subnets or security groups; update the endpoint access only")
		}
		ci.EndpointGiven = true
		ci.PublicAccess, ci.PrivateAccess, ci.PublicCIDRs = v.EndpointPublicAccess, v.EndpointPrivateAccess, v.PublicAccessCidrs
	}
	if in.AccessConfig != nil {
		ci.AuthMode = in.AccessConfig.AuthenticationMode
		if ci.AuthMode == "" {
			return nil, eks.InvalidParameterf("accessConfig.authenticationMode is required")
		}
	}
	if in.UpgradePolicy != nil {
		ci.SupportType = in.UpgradePolicy.SupportType
	}
	ci.DeletionProtection = in.DeletionProtection
	u, err := a.plane.UpdateClusterConfig(ctx, a.scope(c), in.Name, ci)
	if err != nil {
		return nil, err
	}
	return map[string]any{"update": toWireUpdate(u)}, nil
}

type updateVersionInput struct {
	Name               string `json:"-" location:"uri" locationName:"name"`
	Version            string `json:"version"`
	ClientRequestToken string `json:"clientRequestToken"`
	Force              bool   `json:"force"`
}

func (a *API) updateClusterVersion(ctx context.Context, c *awsproto.Call, in *updateVersionInput) (any, error) {
	if in.Version == "" {
		return nil, eks.InvalidParameterf("version is required")
	}
	u, err := a.plane.UpdateClusterVersion(ctx, a.scope(c), in.Name, in.Version)
	if err != nil {
		return nil, err
	}
	return map[string]any{"update": toWireUpdate(u)}, nil
}

type describeUpdateInput struct {
	Name          string `json:"-" location:"uri" locationName:"name"`
	UpdateID      string `json:"-" location:"uri" locationName:"updateId"`
	NodegroupName string `json:"-" location:"querystring" locationName:"nodegroupName"`
	AddonName     string `json:"-" location:"querystring" locationName:"addonName"`
}

func (a *API) describeUpdate(ctx context.Context, c *awsproto.Call, in *describeUpdateInput) (any, error) {
	if in.NodegroupName != "" || in.AddonName != "" {
		return nil, eks.NotFoundf("No update found for ID: %s (berth has no node groups or add-ons yet)", in.UpdateID)
	}
	u, err := a.plane.DescribeUpdate(ctx, a.scope(c), in.Name, in.UpdateID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"update": toWireUpdate(u)}, nil
}

type listUpdatesInput struct {
	Name string `json:"-" location:"uri" locationName:"name"`
	listInput
	NodegroupName string `json:"-" location:"querystring" locationName:"nodegroupName"`
	AddonName     string `json:"-" location:"querystring" locationName:"addonName"`
}

func (a *API) listUpdates(ctx context.Context, c *awsproto.Call, in *listUpdatesInput) (any, error) {
	ids, err := a.plane.ListUpdates(ctx, a.scope(c), in.Name)
	if err != nil {
		return nil, err
	}
	if in.NodegroupName != "" || in.AddonName != "" {
		return nil, eks.NotFoundf("berth has no node groups or add-ons yet")
	}
	items, next, err := page(ids, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		UpdateIds []string `json:"updateIds"`
		NextToken *string  `json:"nextToken,omitempty"`
	}{nonNil(items), next}, nil
}

type describeVersionsInput struct {
	listInput
	ClusterType     string   `json:"-" location:"querystring" locationName:"clusterType"`
	DefaultOnly     *bool    `json:"-" location:"querystring" locationName:"defaultOnly"`
	IncludeAll      *bool    `json:"-" location:"querystring" locationName:"includeAll"`
	ClusterVersions []string `json:"-" location:"querystring" locationName:"clusterVersions"`
	Status          string   `json:"-" location:"querystring" locationName:"status"`
	VersionStatus   string   `json:"-" location:"querystring" locationName:"versionStatus"`
}

type wireVersion struct {
	ClusterVersion           string              `json:"clusterVersion"`
	ClusterType              string              `json:"clusterType"`
	DefaultPlatformVersion   string              `json:"defaultPlatformVersion"`
	DefaultVersion           bool                `json:"defaultVersion"`
	ReleaseDate              *awsproto.EpochTime `json:"releaseDate"`
	EndOfStandardSupportDate *awsproto.EpochTime `json:"endOfStandardSupportDate"`
	EndOfExtendedSupportDate *awsproto.EpochTime `json:"endOfExtendedSupportDate"`
	Status                   string              `json:"status"`
	VersionStatus            string              `json:"versionStatus"`
}

var legacyStatus = map[string]string{"STANDARD_SUPPORT": "standard-support", "EXTENDED_SUPPORT": "extended-support", "UNSUPPORTED": "unsupported"}

func (a *API) describeClusterVersions(ctx context.Context, c *awsproto.Call, in *describeVersionsInput) (any, error) {
	if in.ClusterType != "" && in.ClusterType != "eks" {
		return nil, eks.InvalidParameterf("clusterType %q is not valid; use eks", in.ClusterType)
	}
	now := a.plane.Now()
	var out []wireVersion
	for i := len(eks.Versions) - 1; i >= 0; i-- {
		v := eks.Versions[i]
		vs := eks.VersionStatus(v, now)
		w := wireVersion{ClusterVersion: v.Version, ClusterType: "eks", DefaultPlatformVersion: v.DefaultPlatform,
			DefaultVersion: v.Version == eks.DefaultVersion, ReleaseDate: awsproto.Epoch(v.ReleaseDate),
			EndOfStandardSupportDate: awsproto.Epoch(v.EndOfStandard), EndOfExtendedSupportDate: awsproto.Epoch(v.EndOfExtended),
			Status: legacyStatus[vs], VersionStatus: vs}
		switch {
		case in.DefaultOnly != nil && *in.DefaultOnly && !w.DefaultVersion,
			len(in.ClusterVersions) > 0 && !slices.Contains(in.ClusterVersions, v.Version),
			in.VersionStatus != "" && in.VersionStatus != vs,
			in.Status != "" && in.Status != w.Status,
			vs == "UNSUPPORTED" && (in.IncludeAll == nil || !*in.IncludeAll) && len(in.ClusterVersions) == 0:
			continue
		}
		out = append(out, w)
	}
	items, next, err := page(out, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []wireVersion{}
	}
	return struct {
		NextToken       *string       `json:"nextToken,omitempty"`
		ClusterVersions []wireVersion `json:"clusterVersions"`
	}{next, items}, nil
}

type tagInput struct {
	ResourceArn string            `json:"-" location:"uri" locationName:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (a *API) tagResource(ctx context.Context, c *awsproto.Call, in *tagInput) (any, error) {
	if err := a.plane.TagResource(ctx, in.ResourceArn, in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type untagInput struct {
	ResourceArn string   `json:"-" location:"uri" locationName:"resourceArn"`
	TagKeys     []string `json:"-" location:"querystring" locationName:"tagKeys"`
}

func (a *API) untagResource(ctx context.Context, c *awsproto.Call, in *untagInput) (any, error) {
	if err := a.plane.UntagResource(ctx, in.ResourceArn, in.TagKeys); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type arnInput struct {
	ResourceArn string `json:"-" location:"uri" locationName:"resourceArn"`
}

func (a *API) listTags(ctx context.Context, c *awsproto.Call, in *arnInput) (any, error) {
	tags, err := a.plane.ListTags(ctx, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return map[string]any{"tags": tags}, nil
}
