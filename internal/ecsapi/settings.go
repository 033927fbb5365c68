package ecsapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

type putAccountSettingIn struct {
	Name         string `json:"name"`
	Value        string `json:"value"`
	PrincipalARN string `json:"principalArn"`
}

type settingOut struct {
	Setting ecs.AccountSetting `json:"setting"`
}

// accountDefaults is the principal under which account defaults are kept.
const accountDefaults = "default"

func rootARN(sc ecs.Scope) string { return "arn:aws:iam::" + sc.Account + ":root" }

func (a *API) putAccountSetting(ctx context.Context, c *awsproto.Call, in *putAccountSettingIn) (any, error) {
	sc := a.scope(c)
	if err := ecs.ValidateAccountSetting(in.Name, in.Value); err != nil {
		return nil, err
	}
	principal := in.PrincipalARN
	if principal == "" {
		principal = rootARN(sc)
	}
	if err := a.repo.PutAccountSetting(ctx, sc, principal, in.Name, in.Value); err != nil {
		return nil, err
	}
	return &settingOut{Setting: ecs.AccountSetting{Name: in.Name, Value: in.Value, PrincipalARN: principal, Type: "user"}}, nil
}

func (a *API) putAccountSettingDefault(ctx context.Context, c *awsproto.Call, in *putAccountSettingIn) (any, error) {
	sc := a.scope(c)
	if in.PrincipalARN != "" {
		return nil, fault.New(fault.InvalidParameter, "PutAccountSettingDefault does not take a principalArn.")
	}
	if err := ecs.ValidateAccountSetting(in.Name, in.Value); err != nil {
		return nil, err
	}
	if err := a.repo.PutAccountSetting(ctx, sc, accountDefaults, in.Name, in.Value); err != nil {
		return nil, err
	}
	return &settingOut{Setting: ecs.AccountSetting{Name: in.Name, Value: in.Value, PrincipalARN: rootARN(sc), Type: "user"}}, nil
}

type deleteAccountSettingIn struct {
	Name         string `json:"name"`
	PrincipalARN string `json:"principalArn"`
}

func (a *API) deleteAccountSetting(ctx context.Context, c *awsproto.Call, in *deleteAccountSettingIn) (any, error) {
	sc := a.scope(c)
	if err := ecs.ValidateAccountSetting(in.Name, ecs.DefaultSettingValue(in.Name)); err != nil {
		return nil, err
	}
	principal := in.PrincipalARN
	if principal == "" {
		principal = rootARN(sc)
	}
	if err := a.repo.DeleteAccountSetting(ctx, sc, principal, in.Name); err != nil {
		return nil, err
	}
	eff, err := a.effective(ctx, sc, principal, in.Name)
	if err != nil {
		return nil, err
	}
	return &settingOut{Setting: eff}, nil
}

// effective resolves a setting for a principal: the principal's own value,
// else the account default, else AWS's default.
func (a *API) effective(ctx context.Context, sc ecs.Scope, principal, name string) (ecs.AccountSetting, error) {
	for _, p := range []string{principal, accountDefaults} {
		v, err := a.repo.AccountSetting(ctx, sc, p, name)
		if err != nil {
			return ecs.AccountSetting{}, err
		}
		if v != "" {
			return ecs.AccountSetting{Name: name, Value: v, PrincipalARN: principal, Type: "user"}, nil
		}
	}
	return ecs.AccountSetting{Name: name, Value: ecs.DefaultSettingValue(name), PrincipalARN: principal, Type: "aws_managed"}, nil
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
	sc := a.scope(c)
	principal := in.PrincipalARN
	if principal == "" {
		principal = rootARN(sc)
	}
	names := ecs.AccountSettingNames()
	if in.Name != "" {
		if err := ecs.ValidateAccountSetting(in.Name, ecs.DefaultSettingValue(in.Name)); err != nil {
			return nil, err
		}
		names = []string{in.Name}
	}
	byName := map[string]ecs.AccountSetting{}
	var keys []string
	for _, n := range names {
		var s ecs.AccountSetting
		if in.EffectiveSettings {
			var err error
			if s, err = a.effective(ctx, sc, principal, n); err != nil {
				return nil, err
			}
		} else {
			v, err := a.repo.AccountSetting(ctx, sc, principal, n)
			if err != nil {
				return nil, err
			}
			if v == "" {
				continue
			}
			s = ecs.AccountSetting{Name: n, Value: v, PrincipalARN: principal, Type: "user"}
		}
		if in.Value != "" && s.Value != in.Value {
			continue
		}
		byName[n] = s
		keys = append(keys, n)
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
