package iamapi

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
)

type createInstanceProfileIn struct {
	InstanceProfileName string
	Path                string
	Tags                []wTag
}

type instanceProfileOutput struct{ InstanceProfile wInstanceProfile }

func (a *API) createInstanceProfile(ctx context.Context, c *awsproto.Call, in *createInstanceProfileIn) (any, error) {
	ip, err := a.plane.CreateInstanceProfile(ctx, c.Account, in.InstanceProfileName, in.Path, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &instanceProfileOutput{InstanceProfile: profileOut(ip, nil)}, nil
}

type profileNameIn struct{ InstanceProfileName string }

func (a *API) getInstanceProfile(ctx context.Context, c *awsproto.Call, in *profileNameIn) (any, error) {
	ip, roles, err := a.plane.InstanceProfile(ctx, c.Account, in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	return &instanceProfileOutput{InstanceProfile: profileOut(ip, roles)}, nil
}

type listInstanceProfilesIn struct {
	PathPrefix string
	RoleName   string
	pageIn
}

type listInstanceProfilesOut struct {
	InstanceProfiles []wInstanceProfile
	IsTruncated      bool
	Marker           string `json:",omitempty"`
}

func (a *API) listInstanceProfiles(ctx context.Context, c *awsproto.Call, in *listInstanceProfilesIn) (any, error) {
	return a.profilesPage(ctx, c, in.PathPrefix, "", in.pageIn)
}

func (a *API) listInstanceProfilesForRole(ctx context.Context, c *awsproto.Call, in *listInstanceProfilesIn) (any, error) {
	if in.RoleName == "" {
		return nil, errMissing("roleName")
	}
	return a.profilesPage(ctx, c, "", in.RoleName, in.pageIn)
}

func (a *API) profilesPage(ctx context.Context, c *awsproto.Call, prefix, role string, in pageIn) (any, error) {
	ps, err := a.plane.InstanceProfiles(ctx, c.Account, prefix, role)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listInstanceProfilesOut{InstanceProfiles: []wInstanceProfile{}, IsTruncated: next != "", Marker: next}
	for _, p := range pg {
		out.InstanceProfiles = append(out.InstanceProfiles, profileOut(p.InstanceProfile, p.RoleObjects))
	}
	return out, nil
}

func (a *API) deleteInstanceProfile(ctx context.Context, c *awsproto.Call, in *profileNameIn) (any, error) {
	return &empty{}, a.plane.DeleteInstanceProfile(ctx, c.Account, in.InstanceProfileName)
}

type profileRoleIn struct {
	InstanceProfileName string
	RoleName            string
}

func (a *API) addRoleToInstanceProfile(ctx context.Context, c *awsproto.Call, in *profileRoleIn) (any, error) {
	return &empty{}, a.plane.AddRoleToInstanceProfile(ctx, c.Account, in.InstanceProfileName, in.RoleName)
}

func (a *API) removeRoleFromInstanceProfile(ctx context.Context, c *awsproto.Call, in *profileRoleIn) (any, error) {
	return &empty{}, a.plane.RemoveRoleFromInstanceProfile(ctx, c.Account, in.InstanceProfileName, in.RoleName)
}

type createOIDCIn struct {
	Url            string
	ClientIDList   []string
	ThumbprintList []string
	Tags           []wTag
}

type createOIDCOut struct {
	OpenIDConnectProviderArn string
	Tags                     []wTag `json:",omitempty"`
}

func (a *API) createOIDCProvider(ctx context.Context, c *awsproto.Call, in *createOIDCIn) (any, error) {
	o, err := a.plane.CreateOIDCProvider(ctx, c.Account, in.Url, in.ClientIDList, in.ThumbprintList, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &createOIDCOut{OpenIDConnectProviderArn: o.ARN, Tags: tagsOut(o.Tags)}, nil
}

type oidcArnIn struct{ OpenIDConnectProviderArn string }

type getOIDCOut struct {
	Url            string
	ClientIDList   []string
	ThumbprintList []string
	CreateDate     time.Time
	Tags           []wTag `json:",omitempty"`
}

func (a *API) getOIDCProvider(ctx context.Context, c *awsproto.Call, in *oidcArnIn) (any, error) {
	o, err := a.plane.OIDCProvider(ctx, c.Account, in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	return &getOIDCOut{Url: o.URL, ClientIDList: append([]string{}, o.ClientIDs...), ThumbprintList: append([]string{}, o.Thumbprints...),
		CreateDate: o.Created, Tags: tagsOut(o.Tags)}, nil
}

type oidcEntry struct{ Arn string }

type listOIDCOut struct{ OpenIDConnectProviderList []oidcEntry }

func (a *API) listOIDCProviders(ctx context.Context, c *awsproto.Call, _ *empty) (any, error) {
	os, err := a.plane.OIDCProviders(ctx, c.Account)
	if err != nil {
		return nil, err
	}
	out := &listOIDCOut{OpenIDConnectProviderList: []oidcEntry{}}
	for _, o := range os {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, oidcEntry{Arn: o.ARN})
	}
	return out, nil
}

func (a *API) deleteOIDCProvider(ctx context.Context, c *awsproto.Call, in *oidcArnIn) (any, error) {
	return &empty{}, a.plane.DeleteOIDCProvider(ctx, c.Account, in.OpenIDConnectProviderArn)
}
