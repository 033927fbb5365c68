package iam

import "time"

// Tag is a key/value tag.
type Tag struct{ Key, Value string }

// Role is an IAM role.
type Role struct {
	Name                string
	Path                string
	ID                  string // AROA...
	ARN                 string
	Created             time.Time
	Description         string
	MaxSessionDuration  int // seconds, 3600-43200
	TrustPolicy         string
	PermissionsBoundary string
	Tags                []Tag
	InlinePolicies      map[string]string // name → document
	Attached            []string          // managed policy ARNs
	LastUsed            time.Time
}

// User is an IAM user.
type User struct {
	Name           string
	Path           string
	ID             string // AIDA...
	ARN            string
	Created        time.Time
	Tags           []Tag
	InlinePolicies map[string]string
	Attached       []string
}

// AccessKey is a long-term key of a user.
type AccessKey struct {
	ID      string // AKIA...
	Secret  string
	User    string
	Status  string // Active or Inactive
	Created time.Time
	// UserARN and UserID identify the owner to the SigV4 verifier
	// without a read of the account (a user with keys cannot be deleted).
	UserARN string
	UserID  string
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID       string // v1, v2, ...
	Document string
	Created  time.Time
}

// Policy is a customer-managed policy (or, with AWSManaged, one of AWS's).
type Policy struct {
	Name           string
	Path           string
	ID             string // ANPA...
	ARN            string
	Description    string
	Created        time.Time
	Updated        time.Time
	DefaultVersion string
	Versions       []PolicyVersion // oldest first, at most 5
	Tags           []Tag
	NextVersion    int
	AWSManaged     bool
}

// Document returns the document of the default version.
func (p *Policy) Document() string {
	for _, v := range p.Versions {
		if v.ID == p.DefaultVersion {
			return v.Document
		}
	}
	return ""
}

// InstanceProfile is an EC2 instance profile (a holder of one role).
type InstanceProfile struct {
	Name    string
	Path    string
	ID      string // AIPA...
	ARN     string
	Created time.Time
	Roles   []string // role names (IAM allows one)
	Tags    []Tag
}

// OIDCProvider is an OpenID Connect identity provider.
type OIDCProvider struct {
	ARN         string
	URL         string // without scheme
	ClientIDs   []string
	Thumbprints []string
	Created     time.Time
	Tags        []Tag
}

// Session is a set of temporary credentials issued by STS.
type Session struct {
	AccessKeyID  string // ASIA...
	Secret       string
	Token        string
	Account      string
	Expires      time.Time
	Principal    string // ARN: arn:aws:sts::<acct>:assumed-role/<role>/<session>, or the user/root ARN for GetSessionToken
	PrincipalID  string // AROA...:<session>, or the user's ID
	RoleARN      string // the role assumed ("" for GetSessionToken)
	SessionName  string
	SourcePolicy string // a session policy given to AssumeRole
}
