package iamcp

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iampolicy"
)

// Caller is who signed a request.
type Caller struct {
	Account string
	// Principal is the ARN of an IAM user or an assumed-role session; ""
	// is the account's root (and berth's default credentials).
	Principal   string
	PrincipalID string
	AccessKey   string
}

// Identity is GetCallerIdentity's answer.
type Identity struct{ Account, ARN, UserID string }

// CallerIdentity returns the caller's identity.
func (p *Plane) CallerIdentity(c Caller) Identity {
	if c.Principal == "" {
		return Identity{Account: c.Account, ARN: iam.RootARN(c.Account), UserID: c.Account}
	}
	return Identity{Account: c.Account, ARN: c.Principal, UserID: c.PrincipalID}
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// AssumeRole is the input of AssumeRole.
type AssumeRole struct {
	RoleARN, SessionName, ExternalID, Policy string
	DurationSeconds                          int
}

// AssumeRole checks the role's trust policy against the caller and issues
// temporary credentials for the role.
func (p *Plane) AssumeRole(ctx context.Context, c Caller, in AssumeRole) (*iam.Session, *iam.Role, error) {
	if !sessionNameRE.MatchString(in.SessionName) {
		return nil, nil, iam.Validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*", in.SessionName)
	}
	if in.Policy != "" {
		if _, err := parseDoc(in.Policy, false, 2048); err != nil {
			return nil, nil, err
		}
	}
	caller := p.CallerIdentity(c)
	principal := map[string][]string{"AWS": {caller.ARN, c.Account, iam.RootARN(c.Account)}}
	maxChained := 0
	if strings.Contains(c.Principal, ":assumed-role/") {
		// A session's role ARN names it in trust policies too; role
		// chaining caps the session at one hour.
		parts := strings.Split(c.Principal, "/")
		principal["AWS"] = append(principal["AWS"], iam.RoleARN(c.Account, "/", parts[1]))
		maxChained = 3600
	}
	ctxKeys := map[string][]string{"aws:PrincipalArn": {caller.ARN}, "aws:PrincipalAccount": {c.Account}}
	if in.ExternalID != "" {
		ctxKeys["sts:ExternalId"] = []string{in.ExternalID}
	}
	return p.assume(ctx, caller.ARN, in, principal, ctxKeys, maxChained)
}

// AssumeRoleForService issues credentials for a role as an AWS service
// (e.g. "ecs-tasks.amazonaws.com" for a task's role), if the role's trust
// policy lets that service assume it. The ECS agent calls it for task and
// execution roles.
func (p *Plane) AssumeRoleForService(ctx context.Context, service, roleARN, sessionName string, duration time.Duration) (*iam.Session, *iam.Role, error) {
	return p.assume(ctx, service, AssumeRole{RoleARN: roleARN, SessionName: sessionName, DurationSeconds: int(duration / time.Second)},
		map[string][]string{"Service": {service}}, map[string][]string{"aws:PrincipalServiceName": {service}}, 0)
}

func (p *Plane) assume(ctx context.Context, callerARN string, in AssumeRole, principal, ctxKeys map[string][]string, maxChained int) (*iam.Session, *iam.Role, error) {
	denied := func() error {
		return iam.Denied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerARN, in.RoleARN)
	}
	roleAccount, roleName, ok := iam.RoleNameFromARN(in.RoleARN)
	if !ok {
		return nil, nil, iam.Validation("%s is invalid", in.RoleARN)
	}
	st, err := p.repo.Read(ctx, roleAccount)
	if err != nil {
		return nil, nil, err
	}
	role := st.Roles[roleName]
	if role == nil || role.ARN != in.RoleARN {
		return nil, nil, denied()
	}
	trust, err := iampolicy.Parse(role.TrustPolicy, true)
	if err != nil {
		return nil, nil, denied()
	}
	req := iampolicy.Request{Action: "sts:AssumeRole", Resource: role.ARN, Principal: principal, Context: ctxKeys}
	if iampolicy.Evaluate(req, trust) != iampolicy.Allowed {
		return nil, nil, denied()
	}
	maxDur := role.MaxSessionDuration
	if maxChained > 0 {
		maxDur = min(maxDur, maxChained)
	}
	dur := in.DurationSeconds
	if dur == 0 {
		dur = min(3600, maxDur)
	}
	if dur < 900 || dur > maxDur {
		return nil, nil, iam.Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	s := &iam.Session{
		AccessKeyID: iam.NewID("ASIA"), Secret: iam.NewSecret(), Token: iam.NewSessionToken(), Account: roleAccount,
		Expires: p.clock().Add(time.Duration(dur) * time.Second), Principal: iam.AssumedRoleARN(roleAccount, role.Name, in.SessionName),
		PrincipalID: role.ID + ":" + in.SessionName, RoleARN: role.ARN, SessionName: in.SessionName, SourcePolicy: in.Policy,
	}
	if err := p.repo.PutSession(ctx, s); err != nil {
		return nil, nil, err
	}
	return s, role, nil
}

// GetSessionToken issues temporary credentials for a user or the root.
func (p *Plane) GetSessionToken(ctx context.Context, c Caller, durationSeconds int) (*iam.Session, error) {
	if strings.Contains(c.Principal, ":assumed-role/") {
		return nil, iam.Denied("Cannot call GetSessionToken with session credentials")
	}
	maxDur := 129600
	if c.Principal == "" {
		maxDur = 3600
	}
	if durationSeconds == 0 {
		durationSeconds = min(43200, maxDur)
	}
	if durationSeconds < 900 || durationSeconds > maxDur {
		return nil, iam.Validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and %d", durationSeconds, maxDur)
	}
	id := p.CallerIdentity(c)
	s := &iam.Session{AccessKeyID: iam.NewID("ASIA"), Secret: iam.NewSecret(), Token: iam.NewSessionToken(), Account: c.Account,
		Expires: p.clock().Add(time.Duration(durationSeconds) * time.Second), Principal: c.Principal, PrincipalID: c.PrincipalID}
	if c.Principal == "" {
		s.PrincipalID = id.UserID
	}
	if err := p.repo.PutSession(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// LookupKey implements awsproto.KeySource: IAM users' access keys and
// STS sessions.
func (p *Plane) LookupKey(ctx context.Context, id string) (awsproto.Credential, bool, error) {
	switch {
	case strings.HasPrefix(id, "ASIA"):
		s, ok, err := p.repo.Session(ctx, id)
		if err != nil || !ok {
			return awsproto.Credential{}, false, err
		}
		return awsproto.Credential{SecretKey: s.Secret, Account: s.Account, SessionToken: s.Token, Expires: s.Expires,
			Principal: s.Principal, PrincipalID: s.PrincipalID}, true, nil
	case strings.HasPrefix(id, "AKIA"):
		account, k, ok, err := p.repo.KeyOwner(ctx, id)
		if err != nil || !ok {
			return awsproto.Credential{}, false, err
		}
		if k == nil { // deleted: refused, not unknown
			return awsproto.Credential{Account: account, Disabled: true}, true, nil
		}
		if k.UserARN != "" {
			return awsproto.Credential{SecretKey: k.Secret, Account: account, Principal: k.UserARN, PrincipalID: k.UserID, Disabled: k.Status != "Active"}, true, nil
		}
		st, err := p.repo.Read(ctx, account)
		if err != nil {
			return awsproto.Credential{}, false, err
		}
		u := st.Users[k.User]
		if u == nil {
			return awsproto.Credential{Account: account, Disabled: true}, true, nil
		}
		return awsproto.Credential{SecretKey: k.Secret, Account: account, Principal: u.ARN, PrincipalID: u.ID, Disabled: k.Status != "Active"}, true, nil
	}
	return awsproto.Credential{}, false, nil
}

var _ awsproto.KeySource = (*Plane)(nil)
