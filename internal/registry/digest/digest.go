// Package digest parses and computes OCI content digests
// ("<algorithm>:<encoded>") for the two algorithms the OCI image spec
// registers: sha256 and sha512.
package digest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// Canonical is the algorithm used when a client does not choose one.
const Canonical = SHA256

// ErrInvalid is returned (wrapped) for a malformed digest.
var ErrInvalid = errors.New("invalid digest")

// ErrUnsupported is returned (wrapped) for a well-formed digest of an
// algorithm the registry does not implement.
var ErrUnsupported = errors.New("unsupported digest algorithm")

// Digest is a validated digest string.
type Digest string

// Parse validates s as a digest of a supported algorithm with a
// lowercase-hex encoded part of the algorithm's length.
func Parse(s string) (Digest, error) {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok || alg == "" || enc == "" {
		return "", fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	n := HexLen(alg)
	if n == 0 {
		if !validAlgorithmGrammar(alg) {
			return "", fmt.Errorf("%w: %q", ErrInvalid, s)
		}
		return "", fmt.Errorf("%w: %q", ErrUnsupported, alg)
	}
	if len(enc) != n {
		return "", fmt.Errorf("%w: %q: encoded part must be %d hex characters", ErrInvalid, s, n)
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%w: %q: encoded part must be lowercase hex", ErrInvalid, s)
		}
	}
	return Digest(s), nil
}

// validAlgorithmGrammar checks the OCI algorithm grammar
// [a-z0-9]+([+._-][a-z0-9]+)*.
func validAlgorithmGrammar(alg string) bool {
	prevSep := true
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSep = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

// HexLen is the length of the hex-encoded part for a supported algorithm,
// or 0 for an unsupported one.
func HexLen(alg string) int {
	switch alg {
	case SHA256:
		return 64
	case SHA512:
		return 128
	}
	return 0
}

// Supported reports whether the algorithm can be computed.
func Supported(alg string) bool { return HexLen(alg) != 0 }

// NewHash returns a fresh hash for a supported algorithm, or nil.
func NewHash(alg string) hash.Hash {
	switch alg {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	return nil
}

// Algorithm is the part before the colon.
func (d Digest) Algorithm() string { a, _, _ := strings.Cut(string(d), ":"); return a }

// Encoded is the hex part after the colon.
func (d Digest) Encoded() string { _, e, _ := strings.Cut(string(d), ":"); return e }

func (d Digest) String() string { return string(d) }

// FromBytes computes the digest of b with a supported algorithm.
func FromBytes(alg string, b []byte) Digest {
	h := NewHash(alg)
	if h == nil {
		panic("digest: unsupported algorithm " + alg)
	}
	h.Write(b)
	return FromHash(alg, h)
}

// FromHash formats the current sum of h as a digest of algorithm alg.
func FromHash(alg string, h hash.Hash) Digest {
	return Digest(alg + ":" + hex.EncodeToString(h.Sum(nil)))
}

// Verify reports whether b has digest d.
func (d Digest) Verify(b []byte) bool {
	if !Supported(d.Algorithm()) {
		return false
	}
	return FromBytes(d.Algorithm(), b) == d
}
