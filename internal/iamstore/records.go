package iamstore

import (
	"time"

	"github.com/berth-dev/berth/internal/iam"
)

// The stored shapes. Each has the fields of its domain type (so that a
// conversion between them is checked by the compiler) and its own JSON
// names: renaming a domain field breaks the build here rather than the
// data on disk.

type roleRec struct {
	Name                string            `json:"name"`
	Path                string            `json:"path"`
	ID                  string            `json:"id"`
	ARN                 string            `json:"arn"`
	Created             time.Time         `json:"created"`
	Description         string            `json:"description,omitempty"`
	MaxSessionDuration  int               `json:"maxSession"`
	TrustPolicy         string            `json:"trust"`
	PermissionsBoundary string            `json:"boundary,omitempty"`
	Tags                []iam.Tag         `json:"tags,omitempty"`
	InlinePolicies      map[string]string `json:"inline,omitempty"`
	Attached            []string          `json:"attached,omitempty"`
	LastUsed            time.Time         `json:"lastUsed,omitzero"`
}

type userRec struct {
	Name           string            `json:"name"`
	Path           string            `json:"path"`
	ID             string            `json:"id"`
	ARN            string            `json:"arn"`
	Created        time.Time         `json:"created"`
	Tags           []iam.Tag         `json:"tags,omitempty"`
	InlinePolicies map[string]string `json:"inline,omitempty"`
	Attached       []string          `json:"attached,omitempty"`
}

type keyRec struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	User    string    `json:"user"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	UserARN string    `json:"userArn,omitempty"`
	UserID  string    `json:"userId,omitempty"`
}

type policyRec struct {
	Name           string              `json:"name"`
	Path           string              `json:"path"`
	ID             string              `json:"id"`
	ARN            string              `json:"arn"`
	Description    string              `json:"description,omitempty"`
	Created        time.Time           `json:"created"`
	Updated        time.Time           `json:"updated"`
	DefaultVersion string              `json:"defaultVersion"`
	Versions       []iam.PolicyVersion `json:"versions"`
	Tags           []iam.Tag           `json:"tags,omitempty"`
	NextVersion    int                 `json:"nextVersion"`
	AWSManaged     bool                `json:"awsManaged,omitempty"`
}

type profileRec struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	ID      string    `json:"id"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Roles   []string  `json:"roles,omitempty"`
	Tags    []iam.Tag `json:"tags,omitempty"`
}

type oidcRec struct {
	ARN         string    `json:"arn"`
	URL         string    `json:"url"`
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	Created     time.Time `json:"created"`
	Tags        []iam.Tag `json:"tags,omitempty"`
}

type sessionRec struct {
	AccessKeyID  string    `json:"id"`
	Secret       string    `json:"secret"`
	Token        string    `json:"token"`
	Account      string    `json:"account"`
	Expires      time.Time `json:"expires"`
	Principal    string    `json:"principal"`
	PrincipalID  string    `json:"principalId"`
	RoleARN      string    `json:"role,omitempty"`
	SessionName  string    `json:"session,omitempty"`
	SourcePolicy string    `json:"policy,omitempty"`
}
