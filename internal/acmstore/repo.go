package acmstore

import (
	"context"
	"encoding/base64"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acm"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secretstore"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/storeutil"
)

// Prefix is the key prefix of every scope's records.
const Prefix = "/acm/"

// Repo reads and writes certificates.
type Repo struct {
	s      store.Store
	sealer *secretstore.Sealer
}

// New returns a Repo over s sealing private keys with sealer.
func New(s store.Store, sealer *secretstore.Sealer) *Repo { return &Repo{s: s, sealer: sealer} }

func scopePrefix(sc acm.Scope) string { return Prefix + sc.Account + "/" + sc.Region + "/" }

// State is a scope's certificates (by ID) and its CA (nil: none yet).
type State struct {
	Scope acm.Scope
	Certs map[string]*acm.Certificate
	CA    *acm.CA
	gen   int64
}

type tagRec struct {
	Key   string  `json:"k"`
	Value *string `json:"v,omitempty"`
}

type certRec struct {
	ARN                string    `json:"arn"`
	ID                 string    `json:"id"`
	Type               string    `json:"type"`
	DomainName         string    `json:"domain"`
	SANs               []string  `json:"sans,omitempty"`
	Serial             string    `json:"serial"`
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	NotBefore          time.Time `json:"notBefore"`
	NotAfter           time.Time `json:"notAfter"`
	KeyAlgorithm       string    `json:"keyAlgo"`
	SignatureAlgorithm string    `json:"sigAlgo"`
	KeyUsages          []string  `json:"ku,omitempty"`
	ExtendedKeyUsages  []string  `json:"eku,omitempty"`
	CertificatePEM     string    `json:"cert"`
	ChainPEM           string    `json:"chain,omitempty"`
	SealedKey          string    `json:"sealedKey"`
	CreatedAt          time.Time `json:"created"`
	ImportedAt         time.Time `json:"imported,omitzero"`
	IssuedAt           time.Time `json:"issued,omitzero"`
	ValidationMethod   string    `json:"validation,omitempty"`
	IdempotencyToken   string    `json:"token,omitempty"`
	Tags               []tagRec  `json:"tags,omitempty"`
}

type caRec struct {
	CertificatePEM string `json:"cert"`
	SealedKey      string `json:"sealedKey"`
}

func (r *Repo) seal(key, plain string) string {
	return base64.StdEncoding.EncodeToString(r.sealer.Seal([]byte(plain), key))
}

func (r *Repo) open(key, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", err
	}
	p, err := r.sealer.Open(b, key)
	return string(p), err
}

// Read returns the state of a scope.
func (r *Repo) Read(ctx context.Context, sc acm.Scope) (*State, error) {
	kvs, _, err := r.s.List(ctx, scopePrefix(sc), store.ListOptions{})
	if err != nil {
		return nil, storeutil.Err(err)
	}
	st := &State{Scope: sc, Certs: map[string]*acm.Certificate{}}
	for _, kv := range kvs {
		kind, _, _ := strings.Cut(strings.TrimPrefix(kv.Key, scopePrefix(sc)), "/")
		switch kind {
		case "gen":
			st.gen = kv.ModRevision
		case "ca":
			rec, err := storeutil.Decode[caRec](kv)
			if err != nil {
				return nil, err
			}
			key, err := r.open(kv.Key, rec.SealedKey)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "the ACM CA key cannot be decrypted with this server's key")
			}
			st.CA = &acm.CA{CertificatePEM: rec.CertificatePEM, PrivateKeyPEM: key}
		case "cert":
			rec, err := storeutil.Decode[certRec](kv)
			if err != nil {
				return nil, err
			}
			key, err := r.open(kv.Key, rec.SealedKey)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "certificate %s's key cannot be decrypted with this server's key", rec.ARN)
			}
			st.Certs[rec.ID] = rec.dom(key)
		}
	}
	return st, nil
}

func (rec *certRec) dom(key string) *acm.Certificate {
	c := &acm.Certificate{ARN: rec.ARN, ID: rec.ID, Type: rec.Type, DomainName: rec.DomainName, SANs: rec.SANs, Serial: rec.Serial,
		Subject: rec.Subject, Issuer: rec.Issuer, NotBefore: rec.NotBefore, NotAfter: rec.NotAfter, KeyAlgorithm: rec.KeyAlgorithm,
		SignatureAlgorithm: rec.SignatureAlgorithm, KeyUsages: rec.KeyUsages, ExtendedKeyUsages: rec.ExtendedKeyUsages,
		CertificatePEM: rec.CertificatePEM, ChainPEM: rec.ChainPEM, PrivateKeyPEM: key, CreatedAt: rec.CreatedAt,
		ImportedAt: rec.ImportedAt, IssuedAt: rec.IssuedAt, ValidationMethod: rec.ValidationMethod, IdempotencyToken: rec.IdempotencyToken}
	for _, t := range rec.Tags {
		c.Tags = append(c.Tags, acm.Tag{Key: t.Key, Value: t.Value})
	}
	return c
}

// Tx collects the writes of one Update.
type Tx struct {
	r   *Repo
	st  *State
	ops map[string]store.Op
}

func (tx *Tx) key(kind, name string) string { return scopePrefix(tx.st.Scope) + kind + "/" + name }

// PutCert writes a certificate, its key sealed.
func (tx *Tx) PutCert(c *acm.Certificate) {
	k := tx.key("cert", c.ID)
	rec := certRec{ARN: c.ARN, ID: c.ID, Type: c.Type, DomainName: c.DomainName, SANs: c.SANs, Serial: c.Serial, Subject: c.Subject,
		Issuer: c.Issuer, NotBefore: c.NotBefore, NotAfter: c.NotAfter, KeyAlgorithm: c.KeyAlgorithm, SignatureAlgorithm: c.SignatureAlgorithm,
		KeyUsages: c.KeyUsages, ExtendedKeyUsages: c.ExtendedKeyUsages, CertificatePEM: c.CertificatePEM, ChainPEM: c.ChainPEM,
		SealedKey: tx.r.seal(k, c.PrivateKeyPEM), CreatedAt: c.CreatedAt, ImportedAt: c.ImportedAt, IssuedAt: c.IssuedAt,
		ValidationMethod: c.ValidationMethod, IdempotencyToken: c.IdempotencyToken}
	for _, t := range c.Tags {
		rec.Tags = append(rec.Tags, tagRec{Key: t.Key, Value: t.Value})
	}
	tx.ops[k] = store.Op{Key: k, Value: storeutil.MustJSON(rec)}
}

// DeleteCert deletes a certificate.
func (tx *Tx) DeleteCert(id string) {
	k := tx.key("cert", id)
	tx.ops[k] = store.Op{Key: k, Delete: true}
}

// PutCA writes the scope's CA, its key sealed.
func (tx *Tx) PutCA(ca *acm.CA) {
	k := scopePrefix(tx.st.Scope) + "ca"
	tx.ops[k] = store.Op{Key: k, Value: storeutil.MustJSON(caRec{CertificatePEM: ca.CertificatePEM, SealedKey: tx.r.seal(k, ca.PrivateKeyPEM)})}
}

// Update reads the scope, runs fn and commits its writes in one
// transaction guarded by the scope's generation; it retries on conflict.
func (r *Repo) Update(ctx context.Context, sc acm.Scope, fn func(st *State, tx *Tx) error) error {
	return storeutil.Retry(ctx, func() error {
		st, err := r.Read(ctx, sc)
		if err != nil {
			return err
		}
		tx := &Tx{r: r, st: st, ops: map[string]store.Op{}}
		if err := fn(st, tx); err != nil {
			return err
		}
		if len(tx.ops) == 0 {
			return nil
		}
		ops := slices.Collect(maps.Values(tx.ops))
		return storeutil.CommitGen(ctx, r.s, scopePrefix(sc)+"gen", st.gen, nil, ops)
	})
}
