package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store"
)

// secretsKeyKey is where servers sharing an etcd store keep the key that
// seals secret values (a server alone keeps it in its data directory).
const secretsKeyKey = "/secrets-key"

// loadSecretsSealer returns the sealer of secret values: its key is
// <data-dir>/secrets.key for a server alone on its store, or a key in the
// shared store that the first server makes, so that every server reads
// what another sealed.
func loadSecretsSealer(ctx context.Context, st store.Store, sole bool, dataDir string) (*secretstore.Sealer, error) {
	var key []byte
	var err error
	if sole {
		key, err = secretstore.LoadKeyFile(filepath.Join(dataDir, "secrets.key"))
	} else {
		key, err = sharedSecretsKey(ctx, st)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return secretstore.NewSealer(key)
}

func sharedSecretsKey(ctx context.Context, st store.Store) ([]byte, error) {
	for range 3 {
		kv, err := st.Get(ctx, secretsKeyKey)
		if err == nil {
			if len(kv.Value) != 32 {
				return nil, fmt.Errorf("%s holds %d bytes, want 32", secretsKeyKey, len(kv.Value))
			}
			return kv.Value, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		_, err = st.Txn(ctx, []store.Compare{{Key: secretsKeyKey}}, []store.Op{{Key: secretsKeyKey, Value: key}})
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("could not create or read the shared secrets key")
}
