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
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

// listenerCertificates joins ELBv2 to the certificates: it checks a
// listener's certificate ARNs (ACM certificates of the caller's account
// and region, IAM server certificates of the caller's account) and gives
// the data plane their PEM and keys.
type listenerCertificates struct {
	acm *acmcp.Plane
	iam *iamcp.Plane
}

var (
	_ elbcp.CertificateChecker = listenerCertificates{}
	_ elbsync.Certificates     = listenerCertificates{}
)

func (c listenerCertificates) CheckCertificate(ctx context.Context, sc elb.Scope, arn string) error {
	if account, _, ok := iam.ParseServerCertificateARN(arn); ok {
		if account != sc.Account {
			return elb.CertificateNotFound(arn)
		}
		if _, err := c.iam.ServerCertificateByARN(ctx, arn); err != nil {
			if fault.Is(err, fault.NotFound) {
				return elb.CertificateNotFound(arn)
			}
			return err
		}
		return nil
	}
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
	if _, _, ok := iam.ParseServerCertificateARN(arn); ok {
		sc, err := c.iam.ServerCertificateByARN(ctx, arn)
		if err != nil {
			return "", "", err
		}
		return sc.Body + sc.Chain, sc.PrivateKey, nil
	}
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
