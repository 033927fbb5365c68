package server

import (
	"github.com/berth-dev/berth/internal/awsproto"
)

// newAuthenticator builds the SigV4 verifier from the settings: the local
// test/test pair, the credentials file's keys, strict or not.
func newAuthenticator(s settings) awsproto.Authenticator {
	return awsproto.NewSigV4(awsproto.SigV4Config{DefaultAccount: s.Account, Strict: s.StrictAuth, Keys: s.keys})
}
