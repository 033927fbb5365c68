package server

import (
	"fmt"

	"github.com/berth-dev/berth/internal/awsproto"
)

// newAuthenticator builds the SigV4 verifier from the config: the local
// test/test pair, keys from the optional credentials file, strict or not.
func newAuthenticator(cfg Config) (awsproto.Authenticator, error) {
	sc := awsproto.SigV4Config{DefaultAccount: cfg.Account, Strict: cfg.StrictAuth}
	if cfg.CredentialsFile != "" {
		if err := sc.LoadCredentialsFile(cfg.CredentialsFile); err != nil {
			return nil, fmt.Errorf("credentials file: %w", err)
		}
	}
	return awsproto.NewSigV4(sc), nil
}
