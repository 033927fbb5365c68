package server

import (
	"crypto/rand"
	"maps"

	"github.com/berth-dev/berth/internal/awsproto"
)

// serverAuth is the server's one SigV4 verifier (the API and the ACS
// endpoint share it) and the keys its managed agents sign with.
type serverAuth struct {
	verifier awsproto.Authenticator
	// managed maps an account to the access key ID and secret that the
	// in-process managed agents of the account sign with: made at random
	// when the server starts and known to this process only, so that they
	// work in strict mode without the public test/test pair.
	managed map[string][2]string
}

// newServerAuth builds the verifier from the settings: the public
// test/test pair (unless strict), the keys of the credentials file (read
// once, by parseSettings), and one random key per account for the managed
// agents (the default account and every account of the credentials file).
func newServerAuth(s settings, source awsproto.KeySource) *serverAuth {
	sc := awsproto.SigV4Config{DefaultAccount: s.Account, Strict: s.StrictAuth, Keys: maps.Clone(s.keys), Source: source}
	accounts := map[string]bool{s.Account: true}
	for _, c := range sc.Keys {
		if c.Account != "" {
			accounts[c.Account] = true
		}
	}
	if sc.Keys == nil {
		sc.Keys = map[string]awsproto.Credential{}
	}
	managed := make(map[string][2]string, len(accounts))
	for account := range accounts {
		id, secret := "BERTHMANAGED"+rand.Text()[:12], rand.Text()+rand.Text()
		sc.Keys[id] = awsproto.Credential{SecretKey: secret, Account: account}
		managed[account] = [2]string{id, secret}
	}
	return &serverAuth{verifier: awsproto.NewSigV4(sc), managed: managed}
}

// newTokenVerifier returns a strict verifier over the same keys as the
// server's (the public test/test pair too, unless strict): EKS tokens
// signed with an unknown access key are refused, not taken on trust.
func newTokenVerifier(s settings, source awsproto.KeySource) awsproto.Authenticator {
	keys := maps.Clone(s.keys)
	if keys == nil {
		keys = map[string]awsproto.Credential{}
	}
	if !s.StrictAuth {
		keys[awsproto.DefaultAccessKeyID] = awsproto.Credential{SecretKey: awsproto.DefaultSecretKey}
	}
	return awsproto.NewSigV4(awsproto.SigV4Config{DefaultAccount: s.Account, Strict: true, Keys: keys, Source: source})
}
