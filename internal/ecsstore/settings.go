package ecsstore

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

func settingKey(sc ecs.Scope, principal, name string) string {
	return prefix(sc, "settings") + principal + "/" + name
}

// AccountSetting returns the value of a setting for a principal, or "" if
// it was never set.
func (r *Repo) AccountSetting(ctx context.Context, sc ecs.Scope, principal, name string) (string, error) {
	kv, err := r.s.Get(ctx, settingKey(sc, principal, name))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", storeutil.Err(err)
	}
	return string(kv.Value), nil
}

// PutAccountSetting sets a setting for a principal.
func (r *Repo) PutAccountSetting(ctx context.Context, sc ecs.Scope, principal, name, value string) error {
	_, err := r.s.Txn(ctx, nil, []store.Op{{Key: settingKey(sc, principal, name), Value: []byte(value)}})
	return storeutil.Err(err)
}

// DeleteAccountSetting removes a principal's setting.
func (r *Repo) DeleteAccountSetting(ctx context.Context, sc ecs.Scope, principal, name string) error {
	_, err := r.s.Txn(ctx, nil, []store.Op{{Key: settingKey(sc, principal, name), Delete: true}})
	return storeutil.Err(err)
}
