package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/ecscp"
)

type putAccountSettingIn struct {
	Name         string `json:"name"`
	Value        string `json:"value"`
	PrincipalARN string `json:"principalArn"`
}

type settingOut struct {
	Setting ecs.AccountSetting `json:"setting"`
}

func (a *API) putAccountSetting(ctx context.Context, c *awsproto.Call, in *putAccountSettingIn) (any, error) {
	set, err := a.plane.PutAccountSetting(ctx, a.scope(c), in.PrincipalARN, in.Name, in.Value)
	if err != nil {
		return nil, err
	}
	return &settingOut{Setting: set}, nil
}

func (a *API) putAccountSettingDefault(ctx context.Context, c *awsproto.Call, in *putAccountSettingIn) (any, error) {
	set, err := a.plane.PutAccountSettingDefault(ctx, a.scope(c), in.PrincipalARN, in.Name, in.Value)
	if err != nil {
		return nil, err
	}
	return &settingOut{Setting: set}, nil
}

type deleteAccountSettingIn struct {
	Name         string `json:"name"`
	PrincipalARN string `json:"principalArn"`
}

func (a *API) deleteAccountSetting(ctx context.Context, c *awsproto.Call, in *deleteAccountSettingIn) (any, error) {
	eff, err := a.plane.DeleteAccountSetting(ctx, a.scope(c), in.PrincipalARN, in.Name)
	if err != nil {
		return nil, err
	}
	return &settingOut{Setting: eff}, nil
}

type listAccountSettingsIn struct {
	Name              string `json:"name"`
	Value             string `json:"value"`
	PrincipalARN      string `json:"principalArn"`
	EffectiveSettings bool   `json:"effectiveSettings"`
	NextToken         string `json:"nextToken"`
	MaxResults        *int   `json:"maxResults"`
}

type listAccountSettingsOut struct {
	Settings  []ecs.AccountSetting `json:"settings"`
	NextToken string               `json:"nextToken,omitempty"`
}

func (a *API) listAccountSettings(ctx context.Context, c *awsproto.Call, in *listAccountSettingsIn) (any, error) {
	all, err := a.plane.ListAccountSettings(ctx, a.scope(c), ecscp.SettingFilter{
		Name: in.Name, Value: in.Value, Principal: in.PrincipalARN, Effective: in.EffectiveSettings,
	})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]ecs.AccountSetting, len(all))
	keys := make([]string, len(all))
	for i, s := range all {
		byName[s.Name] = s
		keys[i] = s.Name
	}
	page, next, err := paginate(keys, in.NextToken, in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	out := &listAccountSettingsOut{Settings: []ecs.AccountSetting{}, NextToken: next}
	for _, k := range page {
		out.Settings = append(out.Settings, byName[k])
	}
	return out, nil
}
