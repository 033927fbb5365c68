package server

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/acm"
	"github.com/berth-dev/berth/internal/acmcp"
	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbsync"
	"github.com/berth-dev/berth/internal/fault"
)

// listenerCertificates joins ELBv2 to the certificates: it checks a
// listener's certificate ARNs (ACM certificates of the caller's account
// and region) and gives the data plane their PEM and keys.
type listenerCertificates struct {
	acm *acmcp.Plane
}

var (
	_ elbcp.CertificateChecker = listenerCertificates{}
	_ elbsync.Certificates     = listenerCertificates{}
)

func (c listenerCertificates) CheckCertificate(ctx context.Context, sc elb.Scope, arn string) error {
	if !acm.IsARN(arn) {
		return elb.CertificateNotFound(arn)
	}
	asc, _, _ := acm.ParseARN(arn)
	if asc.Account != sc.Account || asc.Region != sc.Region {
		return elb.CertificateNotFound(arn)
	}
	if _, err := c.acm.Certificate(ctx, arn); err != nil {
		if fault.Is(err, fault.NotFound) {
			return elb.CertificateNotFound(arn)
		}
		return err
	}
	return nil
}

func (c listenerCertificates) CertificatePEM(ctx context.Context, arn string) (string, string, error) {
	cert, err := c.acm.Certificate(ctx, arn)
	if err != nil {
		return "", "", err
	}
	pem := cert.CertificatePEM
	if cert.ChainPEM != "" {
		pem = strings.TrimRight(pem, "\n") + "\n" + cert.ChainPEM
	}
	return pem, cert.PrivateKeyPEM, nil
}

// certificateUsers is ACM's InUseBy over the ELBv2 plane.
func certificateUsers(p *elbcp.Plane) acmcp.InUseFunc {
	return func(ctx context.Context, sc acm.Scope, arn string) ([]string, error) {
		return p.CertificateUsers(ctx, elb.Scope{Account: sc.Account, Region: sc.Region}, arn)
	}
}
