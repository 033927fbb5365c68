package iamstore

import (
	"encoding/base64"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// serverCertRec is a server certificate at rest: its private key sealed
// (AES-256-GCM, bound to the record's key) as ACM's are.
type serverCertRec struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ID         string    `json:"id"`
	ARN        string    `json:"arn"`
	Uploaded   time.Time `json:"uploaded"`
	Expiration time.Time `json:"expiration"`
	Body       string    `json:"body"`
	Chain      string    `json:"chain,omitempty"`
	SealedKey  string    `json:"sealedKey"`
	Tags       []iam.Tag `json:"tags,omitempty"`
}

func (r *Repo) addServerCert(st *State, kv store.KV) error {
	v, err := storeutil.Decode[serverCertRec](kv)
	if err != nil {
		return err
	}
	if r.sealer == nil {
		return fault.New(fault.Internal, "server certificate %s: this server has no key to decrypt it", v.Name)
	}
	sealed, err := base64.StdEncoding.DecodeString(v.SealedKey)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "server certificate %s's key is damaged", v.Name)
	}
	key, err := r.sealer.Open(sealed, kv.Key)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "server certificate %s's key cannot be decrypted with this server's key", v.Name)
	}
	st.ServerCerts[v.Name] = &iam.ServerCertificate{Name: v.Name, Path: v.Path, ID: v.ID, ARN: v.ARN,
		Uploaded: v.Uploaded, Expiration: v.Expiration, Body: v.Body, Chain: v.Chain, PrivateKey: string(key), Tags: v.Tags}
	return nil
}

// PutServerCertificate writes a server certificate, its key sealed.
func (tx *Tx) PutServerCertificate(c *iam.ServerCertificate) error {
	if tx.sealer == nil {
		return fault.New(fault.Internal, "this server has no key to seal server certificates with")
	}
	key := accountPrefix(tx.st.Account) + "servercerts/" + c.Name
	sealed := base64.StdEncoding.EncodeToString(tx.sealer.Seal([]byte(c.PrivateKey), key))
	tx.put("servercerts", c.Name, serverCertRec{Name: c.Name, Path: c.Path, ID: c.ID, ARN: c.ARN, Uploaded: c.Uploaded,
		Expiration: c.Expiration, Body: c.Body, Chain: c.Chain, SealedKey: sealed, Tags: c.Tags})
	return nil
}

// DeleteServerCertificate deletes a server certificate.
func (tx *Tx) DeleteServerCertificate(name string) { tx.del("servercerts", name) }
