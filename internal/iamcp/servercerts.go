package iamcp

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamstore"
)

// CertificateUsersFunc returns the ARNs of the load balancers (in any
// region of account) whose listeners use a certificate ARN.
type CertificateUsersFunc func(ctx context.Context, account, certARN string) ([]string, error)

// SetCertificateUsers sets who answers whether a server certificate is
// in use (the ELBv2 plane, made after IAM). Without it none is.
func (p *Plane) SetCertificateUsers(f CertificateUsersFunc) { p.certUsers = f }

// UploadServerCertificateInput is UploadServerCertificate's input.
type UploadServerCertificateInput struct {
	Name, Path              string
	Body, PrivateKey, Chain string
	Tags                    []iam.Tag
}

// UploadServerCertificate checks and stores a server certificate.
func (p *Plane) UploadServerCertificate(ctx context.Context, account string, in UploadServerCertificateInput) (*iam.ServerCertificate, error) {
	if err := iam.ValidName("serverCertificateName", in.Name, 128); err != nil {
		return nil, err
	}
	path, err := iam.NormPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	c, err := iam.CheckServerCertificate(in.Body, in.PrivateKey, in.Chain)
	if err != nil {
		return nil, err
	}
	c.Name, c.Path, c.ID, c.ARN = in.Name, path, iam.NewID("ASCA"), iam.ServerCertificateARN(account, path, in.Name)
	c.Uploaded, c.Tags = p.clock(), in.Tags
	err = p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if st.ServerCerts[in.Name] != nil {
			return iam.AlreadyExists("The Server Certificate with name %s already exists.", in.Name)
		}
		if len(st.ServerCerts) >= MaxServerCertificates {
			return iam.Limit("Cannot exceed quota for ServerCertificatesPerAccount: %d", MaxServerCertificates)
		}
		return tx.PutServerCertificate(&c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// MaxServerCertificates is IAM's quota of server certificates per account.
const MaxServerCertificates = 20

func serverCertOf(st *iamstore.State, name string) (*iam.ServerCertificate, error) {
	if name == "" {
		return nil, iam.Validation("1 validation error detected: Value null at 'serverCertificateName' failed to satisfy constraint: Member must not be null")
	}
	c := st.ServerCerts[name]
	if c == nil {
		return nil, iam.NoSuchEntity("The Server Certificate with name %s cannot be found.", name)
	}
	return c, nil
}

// ServerCertificate returns a server certificate by name, with its key.
func (p *Plane) ServerCertificate(ctx context.Context, account, name string) (*iam.ServerCertificate, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	return serverCertOf(st, name)
}

// ServerCertificateByARN returns the server certificate an ARN names, with
// its key (for the load balancers' listeners).
func (p *Plane) ServerCertificateByARN(ctx context.Context, arn string) (*iam.ServerCertificate, error) {
	account, name, ok := iam.ParseServerCertificateARN(arn)
	if !ok {
		return nil, iam.NoSuchEntity("The Server Certificate with ARN %s cannot be found.", arn)
	}
	c, err := p.ServerCertificate(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if c.ARN != arn { // same name, other path
		return nil, iam.NoSuchEntity("The Server Certificate with ARN %s cannot be found.", arn)
	}
	return c, nil
}

// ServerCertificates lists the server certificates under pathPrefix, by
// name.
func (p *Plane) ServerCertificates(ctx context.Context, account, pathPrefix string) ([]*iam.ServerCertificate, error) {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []*iam.ServerCertificate
	for _, name := range sortedKeys(st.ServerCerts) {
		if c := st.ServerCerts[name]; iam.PathMatches(c.Path, pathPrefix) {
			out = append(out, c)
		}
	}
	return out, nil
}

// UpdateServerCertificate renames a server certificate or moves it to
// another path. Its ARN changes with them, so a certificate a load
// balancer uses is refused (DeleteConflict): the listener names it by ARN.
func (p *Plane) UpdateServerCertificate(ctx context.Context, account, name, newName, newPath string) error {
	if newName != "" {
		if err := iam.ValidName("newServerCertificateName", newName, 128); err != nil {
			return err
		}
	}
	if newPath != "" {
		if _, err := iam.NormPath(newPath); err != nil {
			return err
		}
	}
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return err
	}
	c, err := serverCertOf(st, name)
	if err != nil {
		return err
	}
	if err := p.refuseInUse(ctx, account, c, "updated"); err != nil {
		return err
	}
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		c, err := serverCertOf(st, name)
		if err != nil {
			return err
		}
		n := *c
		if newName != "" {
			n.Name = newName
		}
		if newPath != "" {
			n.Path = newPath
		}
		if n.Name != name {
			if st.ServerCerts[n.Name] != nil {
				return iam.AlreadyExists("The Server Certificate with name %s already exists.", n.Name)
			}
			tx.DeleteServerCertificate(name)
		}
		n.ARN = iam.ServerCertificateARN(account, n.Path, n.Name)
		return tx.PutServerCertificate(&n)
	})
}

// DeleteServerCertificate deletes a server certificate no load balancer
// uses.
func (p *Plane) DeleteServerCertificate(ctx context.Context, account, name string) error {
	st, err := p.repo.Read(ctx, account)
	if err != nil {
		return err
	}
	c, err := serverCertOf(st, name)
	if err != nil {
		return err
	}
	if err := p.refuseInUse(ctx, account, c, "deleted"); err != nil {
		return err
	}
	return p.repo.Update(ctx, account, func(st *iamstore.State, tx *iamstore.Tx) error {
		if _, err := serverCertOf(st, name); err != nil {
			return err
		}
		tx.DeleteServerCertificate(name)
		return nil
	})
}

func (p *Plane) refuseInUse(ctx context.Context, account string, c *iam.ServerCertificate, what string) error {
	if p.certUsers == nil {
		return nil
	}
	users, err := p.certUsers(ctx, account, c.ARN)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return iam.DeleteConflict("Certificate: %s is currently in use by %s. Please remove it from the load balancer before it can be %s.",
			c.ID, strings.Join(users, ", "), what)
	}
	return nil
}
