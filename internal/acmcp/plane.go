package acmcp

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/acm"
	"github.com/berth-dev/berth/internal/acmstore"
)

// InUseFunc returns the ARNs of the load balancers that use a
// certificate.
type InUseFunc func(ctx context.Context, sc acm.Scope, certARN string) ([]string, error)

// Config configures a Plane.
type Config struct {
	Repo *acmstore.Repo
	Now  func() time.Time
	// InUse, when set, says which load balancers use a certificate.
	InUse InUseFunc
}

// Plane is the ACM control plane.
type Plane struct {
	repo  *acmstore.Repo
	now   func() time.Time
	inUse InUseFunc
}

// New returns a Plane.
func New(cfg Config) *Plane {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Plane{repo: cfg.Repo, now: cfg.Now, inUse: cfg.InUse}
}

// SetInUse sets the in-use lookup (the ELB plane is made after ACM's).
func (p *Plane) SetInUse(f InUseFunc) { p.inUse = f }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Import imports a certificate, or re-imports one over arn (keeping its
// ARN and tags; tags may not be given then, as on ACM).
func (p *Plane) Import(ctx context.Context, sc acm.Scope, arn string, in acm.ImportInput, tags []acm.Tag) (string, error) {
	c, err := acm.ParseImport(in)
	if err != nil {
		return "", err
	}
	if err := acm.CheckTags(tags); err != nil {
		return "", err
	}
	id := ""
	if arn != "" {
		asc, aid, err := acm.ParseARN(arn)
		if err != nil {
			return "", err
		}
		if asc != sc {
			return "", acm.NotFound(arn)
		}
		if len(tags) > 0 {
			return "", acm.InvalidParameter("Tags cannot be specified when re-importing a certificate.")
		}
		id = aid
	}
	now := p.now().UTC()
	err = p.repo.Update(ctx, sc, func(st *acmstore.State, tx *acmstore.Tx) error {
		if id != "" {
			old := st.Certs[id]
			if old == nil {
				return acm.NotFound(arn)
			}
			if old.Type != acm.TypeImported {
				return acm.InvalidParameter("Certificate %s was not imported; only imported certificates can be re-imported.", arn)
			}
			c.ID, c.ARN, c.CreatedAt, c.Tags = id, old.ARN, old.CreatedAt, old.Tags
		} else {
			c.ID = newID()
			c.ARN, c.CreatedAt, c.Tags = sc.ARN(c.ID), now, tags
		}
		c.ImportedAt = now
		tx.PutCert(c)
		return nil
	})
	if err != nil {
		return "", err
	}
	return c.ARN, nil
}

// Request issues a certificate from the scope's berth-local CA (made on
// first use). A repeated IdempotencyToken with the same domain returns
// the certificate it made.
func (p *Plane) Request(ctx context.Context, sc acm.Scope, in acm.RequestInput) (string, error) {
	if err := acm.CheckRequest(in); err != nil {
		return "", err
	}
	now := p.now().UTC()
	var out string
	err := p.repo.Update(ctx, sc, func(st *acmstore.State, tx *acmstore.Tx) error {
		if in.IdempotencyToken != "" {
			for _, c := range st.Certs {
				if c.IdempotencyToken == in.IdempotencyToken && strings.EqualFold(c.DomainName, in.DomainName) && now.Sub(c.CreatedAt) < time.Hour {
					out = c.ARN
					return nil
				}
			}
		}
		ca := st.CA
		if ca == nil {
			var err error
			if ca, err = acm.NewCA(sc, now); err != nil {
				return err
			}
			tx.PutCA(ca)
		}
		c, err := ca.Issue(in, now)
		if err != nil {
			return err
		}
		c.ID = newID()
		c.ARN, c.CreatedAt, c.Tags = sc.ARN(c.ID), now, in.Tags
		tx.PutCert(c)
		out = c.ARN
		return nil
	})
	return out, err
}

// Certificate returns a certificate with its key.
func (p *Plane) Certificate(ctx context.Context, arn string) (*acm.Certificate, error) {
	sc, id, err := acm.ParseARN(arn)
	if err != nil {
		return nil, err
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	c := st.Certs[id]
	if c == nil {
		return nil, acm.NotFound(arn)
	}
	return c, nil
}

func (p *Plane) get(ctx context.Context, sc acm.Scope, arn string) (*acm.Certificate, error) {
	asc, _, err := acm.ParseARN(arn)
	if err != nil {
		return nil, err
	}
	if asc != sc {
		return nil, acm.NotFound(arn)
	}
	return p.Certificate(ctx, arn)
}

// Described is a certificate and the load balancers using it.
type Described struct {
	*acm.Certificate
	InUseBy []string
	Status  string
}

func (p *Plane) describe(ctx context.Context, sc acm.Scope, c *acm.Certificate) (Described, error) {
	d := Described{Certificate: c, Status: c.Status(p.now())}
	if p.inUse != nil {
		by, err := p.inUse(ctx, sc, c.ARN)
		if err != nil {
			return d, err
		}
		d.InUseBy = by
	}
	return d, nil
}

// Describe returns a certificate's details.
func (p *Plane) Describe(ctx context.Context, sc acm.Scope, arn string) (Described, error) {
	c, err := p.get(ctx, sc, arn)
	if err != nil {
		return Described{}, err
	}
	return p.describe(ctx, sc, c)
}

// List returns the scope's certificates with the given statuses (all when
// empty) and key algorithms (RSA_2048, EC_prime256v1 and RSA_1024 by
// default, as ACM), oldest first.
func (p *Plane) List(ctx context.Context, sc acm.Scope, statuses, keyTypes []string) ([]Described, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	if len(keyTypes) == 0 {
		keyTypes = []string{"RSA_1024", "RSA_2048", "EC_prime256v1"}
	}
	var out []Described
	for _, c := range st.Certs {
		d, err := p.describe(ctx, sc, c)
		if err != nil {
			return nil, err
		}
		if len(statuses) > 0 && !slices.Contains(statuses, d.Status) || !slices.Contains(keyTypes, c.KeyAlgorithm) {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Described) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
	return out, nil
}

// Get returns a certificate's PEM and its chain.
func (p *Plane) Get(ctx context.Context, sc acm.Scope, arn string) (cert, chain string, err error) {
	c, err := p.get(ctx, sc, arn)
	if err != nil {
		return "", "", err
	}
	return c.CertificatePEM, c.ChainPEM, nil
}

// Delete deletes a certificate no load balancer uses.
func (p *Plane) Delete(ctx context.Context, sc acm.Scope, arn string) error {
	c, err := p.get(ctx, sc, arn)
	if err != nil {
		return err
	}
	if p.inUse != nil {
		by, err := p.inUse(ctx, sc, arn)
		if err != nil {
			return err
		}
		if len(by) > 0 {
			return acm.InUse(arn, by)
		}
	}
	return p.repo.Update(ctx, sc, func(st *acmstore.State, tx *acmstore.Tx) error {
		if st.Certs[c.ID] == nil {
			return acm.NotFound(arn)
		}
		tx.DeleteCert(c.ID)
		return nil
	})
}

// Tags returns a certificate's tags.
func (p *Plane) Tags(ctx context.Context, sc acm.Scope, arn string) ([]acm.Tag, error) {
	c, err := p.get(ctx, sc, arn)
	if err != nil {
		return nil, err
	}
	return c.Tags, nil
}

// Tag adds tags (add) or removes them (!add).
func (p *Plane) Tag(ctx context.Context, sc acm.Scope, arn string, tags []acm.Tag, add bool) error {
	if _, err := p.get(ctx, sc, arn); err != nil {
		return err
	}
	if len(tags) == 0 {
		return acm.InvalidParameter("At least one tag must be specified.")
	}
	_, id, _ := acm.ParseARN(arn)
	return p.repo.Update(ctx, sc, func(st *acmstore.State, tx *acmstore.Tx) error {
		c := st.Certs[id]
		if c == nil {
			return acm.NotFound(arn)
		}
		if add {
			c.Tags = acm.MergeTags(c.Tags, tags)
			if err := acm.CheckTags(c.Tags); err != nil {
				return err
			}
		} else {
			c.Tags = acm.RemoveTags(c.Tags, tags)
		}
		tx.PutCert(c)
		return nil
	})
}
