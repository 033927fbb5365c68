package awsproto

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeSource is a KeySource over a map.
type fakeSource struct {
	mu   sync.Mutex
	keys map[string]Credential
}

func (f *fakeSource) LookupKey(_ context.Context, id string) (Credential, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.keys[id]
	return c, ok, nil
}

// TestSigV4TemporaryCredentialsExpire checks that a key source's
// temporary credentials are accepted, with their principal, until they
// expire and refused (ExpiredTokenException) from then on, over a clock
// the test moves; that a disabled key is refused; and that a source's key
// never bypasses the signature check.
func TestSigV4TemporaryCredentialsExpire(t *testing.T) {
	var mu sync.Mutex
	now := testNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := &fakeSource{keys: map[string]Credential{
		"ASIASESSION": {SecretKey: "s3", Account: "222233334444", SessionToken: "tok", Expires: testNow.Add(15 * time.Minute),
			Principal: "arn:aws:sts::222233334444:assumed-role/r/s", PrincipalID: "AROAX:s"},
		"AKIAOFF": {SecretKey: "k", Account: "222233334444", Principal: "arn:aws:iam::222233334444:user/u", Disabled: true},
	}}
	s := NewSigV4(SigV4Config{Now: clock, Source: src, Strict: true})
	srv, ch := authServer(t, s)
	at := func(d time.Duration) signOpts {
		mu.Lock()
		now = testNow.Add(d)
		mu.Unlock()
		return signOpts{ak: "ASIASESSION", sk: "s3", token: "tok", at: testNow.Add(d)}
	}
	want := Identity{AccessKey: "ASIASESSION", Account: "222233334444", Region: "eu-west-1", Service: "ecs",
		Principal: "arn:aws:sts::222233334444:assumed-role/r/s", PrincipalID: "AROAX:s"}
	wantOK(t, send(t, srv, ch, "POST", "/", nil, at(0)), want)
	wantOK(t, send(t, srv, ch, "POST", "/", nil, at(15*time.Minute-time.Second)), want)
	wantErr(t, send(t, srv, ch, "POST", "/", nil, at(15*time.Minute)), "ExpiredTokenException", "The security token included in the request is expired")
	wantErr(t, send(t, srv, ch, "POST", "/", nil, at(2*time.Hour)), "ExpiredTokenException", "The security token")
	// A wrong secret is a signature mismatch even for a source's key.
	o := at(0)
	o.sk = "wrong"
	wantErr(t, send(t, srv, ch, "POST", "/", nil, o), "InvalidSignatureException", "")
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "AKIAOFF", sk: "k"}), "UnrecognizedClientException", "The security token included in the request is invalid")
	wantErr(t, send(t, srv, ch, "POST", "/", nil, signOpts{ak: "AKIAUNKNOWN", sk: "k"}), "UnrecognizedClientException", "")
}
