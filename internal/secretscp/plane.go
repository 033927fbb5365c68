package secretscp

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretstore"
)

// Config configures a Plane.
type Config struct {
	Repo   *secretstore.Repo
	Logger *slog.Logger
	Now    func() time.Time
}

// Plane is the Secrets Manager and Parameter Store control plane.
type Plane struct {
	repo *secretstore.Repo
	log  *slog.Logger
	now  func() time.Time
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

func (p *Plane) clock() time.Time { return p.now().UTC().Truncate(time.Millisecond) }

// newUUID returns a random UUID v4 (a version ID).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func mergeTags(have, add []secrets.Tag) []secrets.Tag {
	out := slices.Clone(have)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o secrets.Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(have []secrets.Tag, keys []string) []secrets.Tag {
	return slices.DeleteFunc(slices.Clone(have), func(t secrets.Tag) bool { return slices.Contains(keys, t.Key) })
}

var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func validSecretName(name string) error {
	if !secretNameRE.MatchString(name) {
		return secrets.InvalidParam("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// findSecret resolves a SecretId: a full ARN, an ARN without its random
// suffix, or a name. Secrets past their deletion date are gone.
func (p *Plane) findSecret(st *secretstore.State, id string) (*secrets.Secret, error) {
	if id == "" {
		return nil, secrets.InvalidParam("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
	}
	var found *secrets.Secret
	if strings.HasPrefix(id, "arn:") {
		for _, s := range st.Secrets {
			if s.ARN == id || strings.HasPrefix(s.ARN, id+"-") && len(s.ARN) == len(id)+7 {
				found = s
				break
			}
		}
	} else {
		found = st.Secrets[id]
	}
	if found == nil || p.purged(found) {
		return nil, secrets.SecretNotFound()
	}
	return found, nil
}

// purged reports whether a scheduled deletion has come.
func (p *Plane) purged(s *secrets.Secret) bool {
	return s.Scheduled() && !p.now().Before(s.DeletionDate)
}

func notDeleted(s *secrets.Secret) error {
	if s.Scheduled() {
		return secrets.MarkedForDeletion()
	}
	return nil
}

func limit(format string, args ...any) error {
	return secrets.Coded(fault.LimitExceeded, secrets.CodeLimitExceeded, format, args...)
}
