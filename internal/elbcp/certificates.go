package elbcp

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
)

// CertificateChecker says whether a certificate ARN (ACM or IAM server
// certificate) names a certificate of the caller's (scope sc) that berth
// holds; if not, an error (elb.CertificateNotFound).
type CertificateChecker interface {
	CheckCertificate(ctx context.Context, sc elb.Scope, arn string) error
}

// SetCertificates sets the certificate checker (ACM is made after ELB).
func (p *Plane) SetCertificates(c CertificateChecker) { p.certs = c }

func (p *Plane) checkCertificates(ctx context.Context, sc elb.Scope, arns []string) error {
	for _, arn := range arns {
		if !elb.IsCertificateARN(arn) {
			return elb.CertificateNotFound(arn)
		}
		if p.certs != nil {
			if err := p.certs.CheckCertificate(ctx, sc, arn); err != nil {
				return err
			}
		}
	}
	return nil
}

// MaxListenerCertificates is the most certificates a listener may have
// besides its default one (AWS's quota is 25).
const MaxListenerCertificates = 25

// ListenerCertificate is one certificate of a listener.
type ListenerCertificate struct {
	ARN       string
	IsDefault bool
}

// ListenerCertificates returns a listener's default certificate and the
// others, as DescribeListenerCertificates lists them.
func (p *Plane) ListenerCertificates(ctx context.Context, sc elb.Scope, arn string) ([]ListenerCertificate, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	l, _, err := listenerByARN(st, arn)
	if err != nil {
		return nil, err
	}
	var out []ListenerCertificate
	for _, c := range l.Certificates {
		out = append(out, ListenerCertificate{ARN: c, IsDefault: true})
	}
	for _, c := range l.ExtraCertificates {
		out = append(out, ListenerCertificate{ARN: c})
	}
	return out, nil
}

// AddListenerCertificates adds certificates a TLS listener offers by SNI.
func (p *Plane) AddListenerCertificates(ctx context.Context, sc elb.Scope, arn string, certs []string) ([]ListenerCertificate, error) {
	if len(certs) == 0 {
		return nil, elb.Validationf("At least one certificate must be specified")
	}
	if err := p.checkCertificates(ctx, sc, certs); err != nil {
		return nil, err
	}
	var out []ListenerCertificate
	err := p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		l, a, err := listenerByARN(st, arn)
		if err != nil {
			return err
		}
		if !elb.IsTLS(l.Protocol) {
			return elb.Validationf("Certificates can only be added to HTTPS and TLS listeners")
		}
		out = nil
		for _, c := range certs {
			if !slices.Contains(l.ExtraCertificates, c) {
				l.ExtraCertificates = append(l.ExtraCertificates, c)
			}
			out = append(out, ListenerCertificate{ARN: c})
		}
		if len(l.ExtraCertificates) > MaxListenerCertificates {
			return elb.Coded(elb.CodeTooManyCertificates, "A listener can have at most %d certificates besides its default one", MaxListenerCertificates)
		}
		tx.PutListener(a.LBID, l)
		return nil
	})
	return out, err
}

// RemoveListenerCertificates removes certificates added with
// AddListenerCertificates; the default one cannot be removed.
func (p *Plane) RemoveListenerCertificates(ctx context.Context, sc elb.Scope, arn string, certs []string) error {
	if len(certs) == 0 {
		return elb.Validationf("At least one certificate must be specified")
	}
	return p.repo.Update(ctx, sc, func(st *elbstore.State, tx *elbstore.Tx) error {
		l, a, err := listenerByARN(st, arn)
		if err != nil {
			return err
		}
		for _, c := range certs {
			if slices.Contains(l.Certificates, c) {
				return elb.Coded(elb.CodeOperationNotPermitted, "The default certificate '%s' cannot be removed from the listener; change it with ModifyListener", c)
			}
			l.ExtraCertificates = slices.DeleteFunc(l.ExtraCertificates, func(x string) bool { return x == c })
		}
		tx.PutListener(a.LBID, l)
		return nil
	})
}

// CertificateUsers returns the ARNs of the scope's load balancers whose
// listeners use a certificate (ACM's InUseBy).
func (p *Plane) CertificateUsers(ctx context.Context, sc elb.Scope, certARN string) ([]string, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range st.Listeners {
		if (slices.Contains(l.Certificates, certARN) || slices.Contains(l.ExtraCertificates, certARN)) && !slices.Contains(out, l.LoadBalancerARN) {
			out = append(out, l.LoadBalancerARN)
		}
	}
	slices.Sort(out)
	return out, nil
}

// AccountCertificateUsers returns the ARNs of the load balancers of an
// account, in any region, whose listeners use a certificate (IAM server
// certificates are global).
func (p *Plane) AccountCertificateUsers(ctx context.Context, account, certARN string) ([]string, error) {
	states, _, err := p.repo.ReadAll(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range states {
		if st.Scope.Account != account {
			continue
		}
		for _, l := range st.Listeners {
			if (slices.Contains(l.Certificates, certARN) || slices.Contains(l.ExtraCertificates, certARN)) && !slices.Contains(out, l.LoadBalancerARN) {
				out = append(out, l.LoadBalancerARN)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
