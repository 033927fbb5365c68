package iamapi

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

func errMissing(member string) error {
	return iam.Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

type callerIdentityOut struct {
	UserId  string
	Account string
	Arn     string
}

func (a *API) getCallerIdentity(_ context.Context, c *awsproto.Call, _ *empty) (any, error) {
	id := a.plane.CallerIdentity(caller(c))
	return &callerIdentityOut{UserId: id.UserID, Account: id.Account, Arn: id.ARN}, nil
}

type wCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

type wAssumedRoleUser struct {
	AssumedRoleId string
	Arn           string
}

type assumeRoleIn struct {
	RoleArn         string
	RoleSessionName string
	Policy          string
	DurationSeconds int
	ExternalId      string
}

type assumeRoleOut struct {
	Credentials      wCredentials
	AssumedRoleUser  wAssumedRoleUser
	PackedPolicySize *int `json:",omitempty"`
}

func credsOut(s *iam.Session) wCredentials {
	return wCredentials{AccessKeyId: s.AccessKeyID, SecretAccessKey: s.Secret, SessionToken: s.Token, Expiration: s.Expires}
}

func (a *API) assumeRole(ctx context.Context, c *awsproto.Call, in *assumeRoleIn) (any, error) {
	if in.RoleArn == "" {
		return nil, errMissing("roleArn")
	}
	if in.RoleSessionName == "" {
		return nil, errMissing("roleSessionName")
	}
	s, _, err := a.plane.AssumeRole(ctx, caller(c), iamcp.AssumeRole{RoleARN: in.RoleArn, SessionName: in.RoleSessionName,
		ExternalID: in.ExternalId, Policy: in.Policy, DurationSeconds: in.DurationSeconds})
	if err != nil {
		return nil, err
	}
	out := &assumeRoleOut{Credentials: credsOut(s), AssumedRoleUser: wAssumedRoleUser{AssumedRoleId: s.PrincipalID, Arn: s.Principal}}
	if in.Policy != "" {
		n := min(100, len(in.Policy)*100/2048) // share of the packed-policy quota, as a percentage
		out.PackedPolicySize = &n
	}
	return out, nil
}

type getSessionTokenIn struct {
	DurationSeconds int
	SerialNumber    string
	TokenCode       string
}

type getSessionTokenOut struct{ Credentials wCredentials }

func (a *API) getSessionToken(ctx context.Context, c *awsproto.Call, in *getSessionTokenIn) (any, error) {
	s, err := a.plane.GetSessionToken(ctx, caller(c), in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	return &getSessionTokenOut{Credentials: credsOut(s)}, nil
}
