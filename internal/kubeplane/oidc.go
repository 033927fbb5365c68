package kubeplane

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
)

// OIDCPrefix is where berth serves the clusters' OIDC issuers:
// GET {OIDCPrefix}<region>/id/<cluster ID>/.well-known/openid-configuration
// and .../keys (the JWKS). The issuer URL the tokens and describe-cluster
// name is EKS's, https://oidc.eks.<region>.amazonaws.com/id/<cluster ID>,
// which does not resolve to berth: a client fetches the documents from
// berth's path instead.
const OIDCPrefix = "/_berth/eks-oidc/"

var clusterIDRE = regexp.MustCompile(`^[0-9A-F]{8,64}$`)

// OIDCHandler serves the discovery document and JWKS of every cluster's
// service-account signing key (the issuer IRSA trusts).
func (m *Manager) OIDCHandler() http.Handler {
	mux := http.NewServeMux()
	serve := func(w http.ResponseWriter, r *http.Request, region, id string, keys bool) {
		if !clusterIDRE.MatchString(id) {
			http.NotFound(w, r)
			return
		}
		jwk, err := m.jwk(id)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		issuer := "https://oidc.eks." + region + ".amazonaws.com/id/" + id
		var doc any = map[string]any{"keys": []any{jwk}}
		if !keys {
			doc = map[string]any{
				"issuer": issuer, "jwks_uri": issuer + "/keys",
				"authorization_endpoint":                "urn:kubernetes:programmatic_authorization",
				"response_types_supported":              []string{"id_token"},
				"subject_types_supported":               []string{"public"},
				"claims_supported":                      []string{"sub", "iss"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}
	mux.HandleFunc("GET "+OIDCPrefix+"{region}/id/{id}/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, r.PathValue("region"), r.PathValue("id"), false)
	})
	mux.HandleFunc("GET "+OIDCPrefix+"{region}/id/{id}/keys", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, r.PathValue("region"), r.PathValue("id"), true)
	})
	return mux
}

// jwk is the JWK of a cluster's service-account public key, with the key
// ID kube-apiserver puts in the tokens it signs (base64url of the SHA-256
// of the key's PKIX DER).
func (m *Manager) jwk(id string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(m.cfg.DataDir, "eks", "clusters", id, saPub))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("kubeplane: service-account key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("kubeplane: service-account key is not RSA")
	}
	sum := sha256.Sum256(blk.Bytes)
	return map[string]string{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": base64.RawURLEncoding.EncodeToString(sum[:]),
		"n": base64.RawURLEncoding.EncodeToString(rk.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(rk.E)).Bytes()),
	}, nil
}
