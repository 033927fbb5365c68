package elbapi

import (
	"context"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/elb"
)

// --- TLS: security policies and listener certificates

type wCertificate struct {
	CertificateArn string
	IsDefault      *bool `json:",omitempty"`
}

type wCertificateIn struct{ CertificateArn string }

func certARNs(in []wCertificateIn) []string {
	var out []string
	for _, c := range in {
		out = append(out, c.CertificateArn)
	}
	return out
}

type wCipher struct {
	Name     string
	Priority int
}

type wSSLPolicy struct {
	Name                       string
	SslProtocols               []string
	Ciphers                    []wCipher
	SupportedLoadBalancerTypes []string
}

type describeSSLPoliciesIn struct {
	Names            []string
	Marker           string
	PageSize         *int
	LoadBalancerType string
}

func (a *API) describeSSLPolicies(_ context.Context, _ *awsproto.Call, in *describeSSLPoliciesIn) (any, error) {
	switch in.LoadBalancerType {
	case "", elb.TypeApplication, elb.TypeNetwork:
	default:
		return nil, elb.Validationf("Load balancer type '%s' is not valid; valid values: application, network, gateway", in.LoadBalancerType)
	}
	ps, err := elb.SSLPolicies(in.Names, in.LoadBalancerType)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := struct {
		SslPolicies []wSSLPolicy
		NextMarker  string `json:",omitempty"`
	}{SslPolicies: []wSSLPolicy{}, NextMarker: next}
	for _, p := range pg {
		w := wSSLPolicy{Name: p.Name, SslProtocols: p.Protocols, SupportedLoadBalancerTypes: p.LBTypes}
		for i, c := range p.Ciphers {
			w.Ciphers = append(w.Ciphers, wCipher{Name: c, Priority: i + 1})
		}
		out.SslPolicies = append(out.SslPolicies, w)
	}
	return &out, nil
}

type listenerCertificatesIn struct {
	ListenerArn  string
	Certificates []wCertificateIn
}

type certificatesOut struct {
	Certificates []wCertificate
	NextMarker   string `json:",omitempty"`
}

func (a *API) addListenerCertificates(ctx context.Context, c *awsproto.Call, in *listenerCertificatesIn) (any, error) {
	if in.ListenerArn == "" {
		return nil, missing("listenerArn")
	}
	cs, err := a.plane.AddListenerCertificates(ctx, a.scope(c), in.ListenerArn, certARNs(in.Certificates))
	if err != nil {
		return nil, err
	}
	out := &certificatesOut{Certificates: []wCertificate{}}
	for _, x := range cs {
		def := x.IsDefault
		out.Certificates = append(out.Certificates, wCertificate{CertificateArn: x.ARN, IsDefault: &def})
	}
	return out, nil
}

func (a *API) removeListenerCertificates(ctx context.Context, c *awsproto.Call, in *listenerCertificatesIn) (any, error) {
	if in.ListenerArn == "" {
		return nil, missing("listenerArn")
	}
	return &empty{}, a.plane.RemoveListenerCertificates(ctx, a.scope(c), in.ListenerArn, certARNs(in.Certificates))
}

type describeListenerCertificatesIn struct {
	ListenerArn string
	Marker      string
	PageSize    *int
}

func (a *API) describeListenerCertificates(ctx context.Context, c *awsproto.Call, in *describeListenerCertificatesIn) (any, error) {
	if in.ListenerArn == "" {
		return nil, missing("listenerArn")
	}
	cs, err := a.plane.ListenerCertificates(ctx, a.scope(c), in.ListenerArn)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(cs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &certificatesOut{Certificates: []wCertificate{}, NextMarker: next}
	for _, x := range pg {
		def := x.IsDefault
		out.Certificates = append(out.Certificates, wCertificate{CertificateArn: x.ARN, IsDefault: &def})
	}
	return out, nil
}
