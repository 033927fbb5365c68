package iamcp

import (
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iampolicy"
	"github.com/berth-dev/berth/internal/iamstore"
)

// Config configures a Plane.
type Config struct {
	Repo   *iamstore.Repo
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Plane is the IAM and STS control plane.
type Plane struct {
	repo      *iamstore.Repo
	log       *slog.Logger
	now       func() time.Time
	certUsers CertificateUsersFunc // set once at start (SetCertificateUsers)
}

// New returns a Plane.
func New(cfg Config) *Plane {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Plane{repo: cfg.Repo, log: cfg.Logger, now: cfg.Now}
}

func (p *Plane) clock() time.Time { return p.now().UTC().Truncate(time.Second) }

// parseDoc parses a policy document, turning syntax errors into
// MalformedPolicyDocument.
func parseDoc(doc string, trust bool, max int) (*iampolicy.Document, error) {
	if doc == "" {
		return nil, iam.Validation("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	if len(doc) > max {
		return nil, iam.Limit("Cannot exceed quota for PolicySize: %d", max)
	}
	d, err := iampolicy.Parse(doc, trust)
	if err != nil {
		return nil, iam.Malformed("%s", err.Error())
	}
	return d, nil
}

// checkTags validates tags (at most 50, keys 1-128, values up to 256).
func checkTags(tags []iam.Tag) error {
	if len(tags) > 50 {
		return iam.Limit("The number of tags has reached the maximum limit of 50.")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return iam.Validation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", t.Key)
		}
		if seen[strings.ToLower(t.Key)] {
			return iam.Invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(t.Key)] = true
	}
	return nil
}

// mergeTags adds or replaces tags by key.
func mergeTags(have, add []iam.Tag) []iam.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(o iam.Tag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(have []iam.Tag, keys []string) []iam.Tag {
	return slices.DeleteFunc(slices.Clone(have), func(t iam.Tag) bool { return slices.Contains(keys, t.Key) })
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
