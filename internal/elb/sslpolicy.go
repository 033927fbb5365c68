package elb

import (
	"slices"
	"strings"
)

// SSLPolicy is a predefined ELB security policy: the TLS protocol
// versions and ciphers (OpenSSL names, by priority) a TLS listener offers.
type SSLPolicy struct {
	Name      string
	Protocols []string // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
	Ciphers   []string // in priority order (1 first)
	// LBTypes are the load balancer types that may use it.
	LBTypes []string
}

// DefaultSSLPolicy is the policy of an HTTPS or TLS listener created
// without one (the API's default, as on AWS).
const DefaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// CodeSSLPolicyNotFound and CodeCertificateNotFound are ELBv2's codes.
const (
	CodeSSLPolicyNotFound   = "SSLPolicyNotFound"
	CodeCertificateNotFound = "CertificateNotFound"
	CodeTooManyCertificates = "TooManyCertificates"
)

var (
	tls13Ciphers = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	fs12GCM      = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
	tls12Full    = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
		"AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256"}
	legacy2016 = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA",
		"AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA", "AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA"}
	bothTypes = []string{TypeApplication, TypeNetwork}
)

func concat(parts ...[]string) []string { return slices.Concat(parts...) }

// SSLPolicies are the predefined policies berth serves, as AWS names and
// defines them.
var sslPolicies = []SSLPolicy{
	{Name: "ELBSecurityPolicy-2016-08", Protocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2"}, Ciphers: legacy2016, LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-0-2021-06", Protocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, legacy2016), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-1-2021-06", Protocols: []string{"TLSv1.1", "TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, legacy2016), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-2-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, tls12Full), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, fs12GCM), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, tls12Full), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: concat(tls13Ciphers, legacy2016), LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS13-1-3-2021-06", Protocols: []string{"TLSv1.3"}, Ciphers: tls13Ciphers, LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS-1-2-2017-01", Protocols: []string{"TLSv1.2"}, Ciphers: tls12Full, LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-TLS-1-2-Ext-2018-06", Protocols: []string{"TLSv1.2"}, Ciphers: legacy2016, LBTypes: bothTypes},
	{Name: "ELBSecurityPolicy-FS-1-2-Res-2020-10", Protocols: []string{"TLSv1.2"}, Ciphers: fs12GCM, LBTypes: bothTypes},
}

// SSLPolicies returns the predefined policies, or those named (an unknown
// name is SSLPolicyNotFound), for lbType when not empty.
func SSLPolicies(names []string, lbType string) ([]SSLPolicy, error) {
	var out []SSLPolicy
	if len(names) == 0 {
		out = slices.Clone(sslPolicies)
	}
	for _, n := range names {
		p, ok := LookupSSLPolicy(n)
		if !ok {
			return nil, sslPolicyNotFound(n)
		}
		out = append(out, p)
	}
	if lbType != "" {
		out = slices.DeleteFunc(out, func(p SSLPolicy) bool { return !slices.Contains(p.LBTypes, lbType) })
	}
	return out, nil
}

// LookupSSLPolicy returns a predefined policy by name.
func LookupSSLPolicy(name string) (SSLPolicy, bool) {
	for _, p := range sslPolicies {
		if p.Name == name {
			return p, true
		}
	}
	return SSLPolicy{}, false
}

func sslPolicyNotFound(name string) error {
	return Coded(CodeSSLPolicyNotFound, "SSL policy '%s' not found", name)
}

// CertificateNotFound is the error for a listener certificate that does
// not exist.
func CertificateNotFound(arn string) error {
	return Coded(CodeCertificateNotFound, "Certificate '%s' not found", arn)
}

// IsCertificateARN reports whether arn names an ACM certificate or an IAM
// server certificate.
func IsCertificateARN(arn string) bool {
	return strings.Contains(arn, ":acm:") && strings.Contains(arn, ":certificate/") ||
		strings.Contains(arn, ":iam::") && strings.Contains(arn, ":server-certificate/")
}

// IsTLS reports whether a listener protocol terminates TLS.
func IsTLS(p string) bool { return p == ProtocolHTTPS || p == ProtocolTLS }
