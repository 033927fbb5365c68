package secrets

import (
	"crypto/rand"
	"slices"
	"time"
)

// Scope is an account and a region.
type Scope struct{ Account, Region string }

// Tag is a key/value tag.
type Tag struct{ Key, Value string }

// Staging labels Secrets Manager manages.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Version is one version of a secret's value.
type Version struct {
	ID           string
	Stages       []string
	String       *string
	Binary       []byte
	Created      time.Time
	LastAccessed time.Time
}

// Secret is a Secrets Manager secret.
type Secret struct {
	Name           string
	ARN            string
	Description    string
	KmsKeyID       string
	Tags           []Tag
	Versions       []*Version // oldest first
	Created        time.Time
	LastChanged    time.Time
	LastAccessed   time.Time
	DeletionDate   time.Time // zero unless scheduled for deletion
	ResourcePolicy string
}

// Scheduled reports whether the secret is scheduled for deletion.
func (s *Secret) Scheduled() bool { return !s.DeletionDate.IsZero() }

// VersionByID returns a version, or nil.
func (s *Secret) VersionByID(id string) *Version {
	for _, v := range s.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// VersionByStage returns the version carrying a staging label, or nil.
func (s *Secret) VersionByStage(stage string) *Version {
	for _, v := range s.Versions {
		if slices.Contains(v.Stages, stage) {
			return v
		}
	}
	return nil
}

// MaxVersions is how many versions a secret keeps: the oldest versions
// without a staging label go first (AWS keeps about 100).
const MaxVersions = 100

// AddVersion adds v with its stages. A stage moves to v from the version
// that had it; moving AWSCURRENT turns the previous current version into
// AWSPREVIOUS (which then leaves the version that had it before).
func (s *Secret) AddVersion(v *Version) {
	stages := v.Stages
	v.Stages = nil
	if s.VersionByID(v.ID) == nil {
		s.Versions = append(s.Versions, v)
	}
	for _, stage := range stages {
		s.MoveStage(stage, v)
	}
	for len(s.Versions) > MaxVersions {
		i := slices.IndexFunc(s.Versions, func(x *Version) bool { return len(x.Stages) == 0 })
		if i < 0 {
			break
		}
		s.Versions = slices.Delete(s.Versions, i, i+1)
	}
}

// removeStage removes a stage from every version but keep.
func (s *Secret) removeStage(stage string, keep *Version) {
	for _, o := range s.Versions {
		if o != keep {
			o.Stages = slices.DeleteFunc(o.Stages, func(x string) bool { return x == stage })
		}
	}
}

// MoveStage moves a staging label to a version (UpdateSecretVersionStage).
func (s *Secret) MoveStage(stage string, to *Version) {
	if stage == StageCurrent {
		if old := s.VersionByStage(StageCurrent); old != nil && old != to {
			s.removeStage(StagePrevious, nil)
			old.Stages = append(old.Stages, StagePrevious)
		}
	}
	s.removeStage(stage, to)
	if !slices.Contains(to.Stages, stage) {
		to.Stages = append(to.Stages, stage)
	}
}

// SecretARN returns a secret's ARN: its name and a random six-character
// suffix, as Secrets Manager makes them.
func SecretARN(sc Scope, name string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "arn:aws:secretsmanager:" + sc.Region + ":" + sc.Account + ":secret:" + name + "-" + string(b)
}

// Parameter types.
const (
	TypeString       = "String"
	TypeStringList   = "StringList"
	TypeSecureString = "SecureString"
)

// ParamVersion is one version of a parameter.
type ParamVersion struct {
	Version        int64
	Value          string
	Type           string
	Description    string
	KeyID          string
	AllowedPattern string
	Labels         []string
	Modified       time.Time
	ModifiedUser   string
	Tier           string
	DataType       string
}

// Parameter is an SSM parameter: its versions, newest last.
type Parameter struct {
	Name     string
	Tags     []Tag
	Versions []*ParamVersion
}

// Latest returns the newest version.
func (p *Parameter) Latest() *ParamVersion { return p.Versions[len(p.Versions)-1] }

// ByVersion returns a version, or nil.
func (p *Parameter) ByVersion(n int64) *ParamVersion {
	for _, v := range p.Versions {
		if v.Version == n {
			return v
		}
	}
	return nil
}

// ByLabel returns the version with a label, or nil.
func (p *Parameter) ByLabel(label string) *ParamVersion {
	for _, v := range p.Versions {
		if slices.Contains(v.Labels, label) {
			return v
		}
	}
	return nil
}

// MaxParamVersions is how many versions a parameter keeps (AWS: 100).
const MaxParamVersions = 100

// ParameterARN returns a parameter's ARN.
func ParameterARN(sc Scope, name string) string {
	if name != "" && name[0] == '/' {
		name = name[1:]
	}
	return "arn:aws:ssm:" + sc.Region + ":" + sc.Account + ":parameter/" + name
}
