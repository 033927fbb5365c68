package iamapi

import (
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/iam"
)

// Wire shapes of IAM and STS (botocore's iam 2010-05-08 and sts
// 2011-06-15 models).

type wTag struct {
	Key   string
	Value string
}

type wBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type wRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               time.Time
	AssumeRolePolicyDocument string     `json:",omitempty"`
	Description              string     `json:",omitempty"`
	MaxSessionDuration       int        `json:",omitempty"`
	PermissionsBoundary      *wBoundary `json:",omitempty"`
	Tags                     []wTag     `json:",omitempty"`
}

type wUser struct {
	Path       string
	UserName   string
	UserId     string
	Arn        string
	CreateDate time.Time
	Tags       []wTag `json:",omitempty"`
}

type wPolicy struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `json:",omitempty"`
	CreateDate                    time.Time
	UpdateDate                    time.Time
	Tags                          []wTag `json:",omitempty"`
}

type wPolicyVersion struct {
	Document         string `json:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       time.Time
}

type wAttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

type wInstanceProfile struct {
	Path                string
	InstanceProfileName string
	InstanceProfileId   string
	Arn                 string
	CreateDate          time.Time
	Roles               []wRole
	Tags                []wTag `json:",omitempty"`
}

type wAccessKey struct {
	UserName        string
	AccessKeyId     string
	Status          string
	SecretAccessKey string
	CreateDate      time.Time
}

type wAccessKeyMetadata struct {
	UserName    string
	AccessKeyId string
	Status      string
	CreateDate  time.Time
}

// encodeDoc URL-encodes a policy document as IAM returns it (RFC 3986:
// spaces as %20).
func encodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func tagsIn(in []wTag) []iam.Tag {
	out := make([]iam.Tag, len(in))
	for i, t := range in {
		out[i] = iam.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func tagsOut(in []iam.Tag) []wTag {
	if len(in) == 0 {
		return nil
	}
	out := make([]wTag, len(in))
	for i, t := range in {
		out[i] = wTag{Key: t.Key, Value: t.Value}
	}
	return out
}

// roleOut renders a role; full includes the trust policy (GetRole,
// CreateRole and ListRoles all include it).
func roleOut(r *iam.Role) wRole {
	w := wRole{Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: r.Created,
		AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration,
		Tags: tagsOut(r.Tags)}
	if r.PermissionsBoundary != "" {
		w.PermissionsBoundary = &wBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.PermissionsBoundary}
	}
	return w
}

func userOut(u *iam.User) wUser {
	return wUser{Path: u.Path, UserName: u.Name, UserId: u.ID, Arn: u.ARN, CreateDate: u.Created, Tags: tagsOut(u.Tags)}
}

func policyOut(p *iam.Policy, attachments int) wPolicy {
	return wPolicy{PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: attachments, IsAttachable: true, Description: p.Description, CreateDate: p.Created, UpdateDate: p.Updated,
		Tags: tagsOut(p.Tags)}
}

func profileOut(ip *iam.InstanceProfile, roles []*iam.Role) wInstanceProfile {
	w := wInstanceProfile{Path: ip.Path, InstanceProfileName: ip.Name, InstanceProfileId: ip.ID, Arn: ip.ARN, CreateDate: ip.Created,
		Roles: []wRole{}, Tags: tagsOut(ip.Tags)}
	for _, r := range roles {
		w.Roles = append(w.Roles, roleOut(r))
	}
	return w
}
