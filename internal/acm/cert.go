package acm

import (
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// ACM's exception codes.
const (
	CodeResourceNotFound = "ResourceNotFoundException"
	CodeInvalidArn       = "InvalidArnException"
	CodeInvalidParameter = "InvalidParameterException"
	CodeValidation       = "ValidationException"
	CodeResourceInUse    = "ResourceInUseException"
	CodeInvalidTag       = "InvalidTagException"
	CodeTooManyTags      = "TooManyTagsException"
	CodeInvalidDomain    = "InvalidDomainValidationOptionsException"
	CodeLimitExceeded    = "LimitExceededException"
)

// Certificate types and statuses.
const (
	TypeImported      = "IMPORTED"
	TypeAmazonIssued  = "AMAZON_ISSUED"
	StatusIssued      = "ISSUED"
	StatusExpired     = "EXPIRED"
	MaxTags           = 50
	MaxSANs           = 100
	ValidationDNS     = "DNS"
	ValidationEmail   = "EMAIL"
	DefaultKeyAlgo    = "RSA_2048"
	KeyAlgoEC256      = "EC_prime256v1"
	RenewalIneligible = "INELIGIBLE"
	RenewalEligible   = "ELIGIBLE"
)

// Scope is an account and region.
type Scope struct{ Account, Region string }

// Tag is a certificate tag.
type Tag struct {
	Key   string
	Value *string
}

// Certificate is one ACM certificate. PrivateKeyPEM is the plain key: the
// store seals it, nothing outside the data plane and ExportCertificate
// (not served) ever sees it.
type Certificate struct {
	ARN                string
	ID                 string
	Type               string
	DomainName         string
	SANs               []string
	Serial             string
	Subject            string
	Issuer             string
	NotBefore          time.Time
	NotAfter           time.Time
	KeyAlgorithm       string
	SignatureAlgorithm string
	KeyUsages          []string
	ExtendedKeyUsages  []string
	CertificatePEM     string
	ChainPEM           string
	PrivateKeyPEM      string
	CreatedAt          time.Time
	ImportedAt         time.Time
	IssuedAt           time.Time
	ValidationMethod   string
	IdempotencyToken   string
	Tags               []Tag
}

// Status is ISSUED, or EXPIRED once NotAfter has passed at now.
func (c *Certificate) Status(now time.Time) string {
	if now.After(c.NotAfter) {
		return StatusExpired
	}
	return StatusIssued
}

// ARN returns a certificate's ARN.
func (sc Scope) ARN(id string) string {
	return "arn:aws:acm:" + sc.Region + ":" + sc.Account + ":certificate/" + id
}

var arnRE = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate/([0-9a-f-]{36})$`)

// ParseARN returns the scope and ID of a certificate ARN, or an
// InvalidArnException.
func ParseARN(arn string) (Scope, string, error) {
	m := arnRE.FindStringSubmatch(arn)
	if m == nil {
		return Scope{}, "", fault.New(fault.InvalidParameter, "The certificate ARN %s is not valid.", arn).WithCode(CodeInvalidArn)
	}
	return Scope{Account: m[2], Region: m[1]}, m[3], nil
}

// IsARN reports whether s has the shape of an ACM certificate ARN.
func IsARN(s string) bool { return arnRE.MatchString(s) }

// NotFound is the error for a certificate that does not exist.
func NotFound(arn string) error {
	return fault.NotFoundf("certificate", "Could not find certificate %s.", arn).WithCode(CodeResourceNotFound)
}

// InUse is DeleteCertificate's error for a certificate a load balancer uses.
func InUse(arn string, by []string) error {
	return fault.New(fault.InUse, "Certificate %s in use by %s", arn, strings.Join(by, ", ")).WithCode(CodeResourceInUse)
}

// InvalidParameter is an InvalidParameterException.
func InvalidParameter(format string, args ...any) error { return invalidParam(format, args...) }

func invalidParam(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeInvalidParameter)
}

func validation(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeValidation)
}

// CheckTags validates tags as ACM does.
func CheckTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return fault.New(fault.LimitExceeded, "the certificate would have more than %d tags", MaxTags).WithCode(CodeTooManyTags)
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return fault.New(fault.InvalidParameter, "The tag key '%s' is not valid: 1-128 characters, not starting with aws:", t.Key).WithCode(CodeInvalidTag)
		}
		if t.Value != nil && len(*t.Value) > 256 {
			return fault.New(fault.InvalidParameter, "The value of tag '%s' is longer than 256 characters", t.Key).WithCode(CodeInvalidTag)
		}
	}
	return nil
}

// MergeTags adds or replaces tags by key.
func MergeTags(cur, add []Tag) []Tag {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i], replaced = t, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// RemoveTags removes tags by key (and value, when given).
func RemoveTags(cur, rm []Tag) []Tag {
	var out []Tag
	for _, t := range cur {
		drop := false
		for _, r := range rm {
			if r.Key == t.Key && (r.Value == nil || t.Value != nil && *r.Value == *t.Value) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}
