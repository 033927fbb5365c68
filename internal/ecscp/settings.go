package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// accountDefaults is the principal under which account defaults are kept.
const accountDefaults = "default"

func rootARN(sc ecs.Scope) string { return "arn:aws:iam::" + sc.Account + ":root" }

func principalOr(sc ecs.Scope, principal string) string {
	if principal == "" {
		return rootARN(sc)
	}
	return principal
}

// PutAccountSetting sets an account setting for principal (the account's
// root when empty).
func (p *Plane) PutAccountSetting(ctx context.Context, sc ecs.Scope, principal, name, value string) (ecs.AccountSetting, error) {
	if err := ecs.ValidateAccountSetting(name, value); err != nil {
		return ecs.AccountSetting{}, err
	}
	principal = principalOr(sc, principal)
	if err := p.repo.PutAccountSetting(ctx, sc, principal, name, value); err != nil {
		return ecs.AccountSetting{}, err
	}
	return ecs.AccountSetting{Name: name, Value: value, PrincipalARN: principal, Type: "user"}, nil
}

// PutAccountSettingDefault sets an account setting's default for every
// principal of the account; principal must be empty.
func (p *Plane) PutAccountSettingDefault(ctx context.Context, sc ecs.Scope, principal, name, value string) (ecs.AccountSetting, error) {
	if principal != "" {
		return ecs.AccountSetting{}, fault.New(fault.InvalidParameter, "PutAccountSettingDefault does not take a principalArn.")
	}
	if err := ecs.ValidateAccountSetting(name, value); err != nil {
		return ecs.AccountSetting{}, err
	}
	if err := p.repo.PutAccountSetting(ctx, sc, accountDefaults, name, value); err != nil {
		return ecs.AccountSetting{}, err
	}
	return ecs.AccountSetting{Name: name, Value: value, PrincipalARN: rootARN(sc), Type: "user"}, nil
}

// DeleteAccountSetting removes principal's own value of a setting (the
// account's root when empty) and returns the setting now in effect.
func (p *Plane) DeleteAccountSetting(ctx context.Context, sc ecs.Scope, principal, name string) (ecs.AccountSetting, error) {
	if err := ecs.ValidateAccountSetting(name, ecs.DefaultSettingValue(name)); err != nil {
		return ecs.AccountSetting{}, err
	}
	principal = principalOr(sc, principal)
	if err := p.repo.DeleteAccountSetting(ctx, sc, principal, name); err != nil {
		return ecs.AccountSetting{}, err
	}
	return p.effectiveSetting(ctx, sc, principal, name)
}

// effectiveSetting resolves a setting for a principal: the principal's
// own value, else the account default, else AWS's default.
func (p *Plane) effectiveSetting(ctx context.Context, sc ecs.Scope, principal, name string) (ecs.AccountSetting, error) {
	for _, pr := range []string{principal, accountDefaults} {
		v, err := p.repo.AccountSetting(ctx, sc, pr, name)
		if err != nil {
			return ecs.AccountSetting{}, err
		}
		if v != "" {
			return ecs.AccountSetting{Name: name, Value: v, PrincipalARN: principal, Type: "user"}, nil
		}
	}
	return ecs.AccountSetting{Name: name, Value: ecs.DefaultSettingValue(name), PrincipalARN: principal, Type: "aws_managed"}, nil
}

// SettingFilter selects the account settings ListAccountSettings returns.
type SettingFilter struct {
	Name      string // one setting, else all
	Value     string // only settings of this value, if set
	Principal string // the account's root when empty
	Effective bool   // resolve defaults, else only the principal's own values
}

// ListAccountSettings returns the settings f selects, in the order of
// ecs.AccountSettingNames.
func (p *Plane) ListAccountSettings(ctx context.Context, sc ecs.Scope, f SettingFilter) ([]ecs.AccountSetting, error) {
	principal := principalOr(sc, f.Principal)
	names := ecs.AccountSettingNames()
	if f.Name != "" {
		if err := ecs.ValidateAccountSetting(f.Name, ecs.DefaultSettingValue(f.Name)); err != nil {
			return nil, err
		}
		names = []string{f.Name}
	}
	var out []ecs.AccountSetting
	for _, n := range names {
		var s ecs.AccountSetting
		if f.Effective {
			var err error
			if s, err = p.effectiveSetting(ctx, sc, principal, n); err != nil {
				return nil, err
			}
		} else {
			v, err := p.repo.AccountSetting(ctx, sc, principal, n)
			if err != nil {
				return nil, err
			}
			if v == "" {
				continue
			}
			s = ecs.AccountSetting{Name: n, Value: v, PrincipalARN: principal, Type: "user"}
		}
		if f.Value != "" && s.Value != f.Value {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}
