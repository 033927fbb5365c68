package secretscp

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/iampolicy"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretstore"
)

// Value is a secret value: a string or binary (at most one set).
type Value struct {
	String *string
	Binary []byte
}

func (v Value) set() bool { return v.String != nil || v.Binary != nil }

func checkValue(v Value) error {
	if v.String != nil && v.Binary != nil {
		return secrets.InvalidParam("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if (v.String != nil && len(*v.String) > 65536) || len(v.Binary) > 65536 {
		return secrets.InvalidParam("The secret value exceeds the 65,536 bytes quota.")
	}
	return nil
}

func sameValue(ver *secrets.Version, v Value) bool {
	if v.String != nil {
		return ver.String != nil && *ver.String == *v.String
	}
	return ver.String == nil && bytes.Equal(ver.Binary, v.Binary)
}

// CreateSecret is the input of CreateSecret.
type CreateSecret struct {
	Name, Description, KmsKeyID, ClientRequestToken string
	Value                                           Value
	Tags                                            []secrets.Tag
}

// CreateSecret creates a secret, with a first version (AWSCURRENT) when a
// value is given.
func (p *Plane) CreateSecret(ctx context.Context, sc secrets.Scope, in CreateSecret) (*secrets.Secret, *secrets.Version, error) {
	if err := validSecretName(in.Name); err != nil {
		return nil, nil, err
	}
	if err := checkValue(in.Value); err != nil {
		return nil, nil, err
	}
	var out *secrets.Secret
	var ver *secrets.Version
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		if old := st.Secrets[in.Name]; old != nil && !p.purged(old) {
			if old.Scheduled() {
				return secrets.Coded(fault.Invalid, secrets.CodeInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
			}
			// A retry with the same token and value is the same request.
			if in.ClientRequestToken != "" {
				if v := old.VersionByID(in.ClientRequestToken); v != nil && sameValue(v, in.Value) {
					out, ver = old, v
					return nil
				}
			}
			return secrets.Coded(fault.AlreadyExists, secrets.CodeResourceExists, "The operation failed because the secret %s already exists.", in.Name)
		}
		now := p.clock()
		s := &secrets.Secret{Name: in.Name, ARN: secrets.SecretARN(sc, in.Name), Description: in.Description, KmsKeyID: in.KmsKeyID,
			Tags: in.Tags, Created: now, LastChanged: now}
		if in.Value.set() {
			id := in.ClientRequestToken
			if id == "" {
				id = newUUID()
			}
			ver = &secrets.Version{ID: id, Stages: []string{secrets.StageCurrent}, String: in.Value.String, Binary: in.Value.Binary, Created: now}
			s.AddVersion(ver)
		}
		tx.PutSecret(s)
		out = s
		return nil
	})
	return out, ver, err
}

// updateSecret applies fn to a live (not scheduled) secret.
func (p *Plane) updateSecret(ctx context.Context, sc secrets.Scope, id string, allowDeleted bool, fn func(s *secrets.Secret) error) (*secrets.Secret, error) {
	var out *secrets.Secret
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		s, err := p.findSecret(st, id)
		if err != nil {
			return err
		}
		if !allowDeleted {
			if err := notDeleted(s); err != nil {
				return err
			}
		}
		if err := fn(s); err != nil {
			return err
		}
		tx.PutSecret(s)
		out = s
		return nil
	})
	return out, err
}

// PutSecretValue adds a version (AWSCURRENT unless stages are given).
func (p *Plane) PutSecretValue(ctx context.Context, sc secrets.Scope, id, token string, v Value, stages []string) (*secrets.Secret, *secrets.Version, error) {
	if err := checkValue(v); err != nil {
		return nil, nil, err
	}
	if !v.set() {
		return nil, nil, secrets.InvalidParam("You must provide either SecretString or SecretBinary.")
	}
	if len(stages) == 0 {
		stages = []string{secrets.StageCurrent}
	}
	var ver *secrets.Version
	s, err := p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		if token != "" {
			if old := s.VersionByID(token); old != nil {
				if !sameValue(old, v) {
					return secrets.Coded(fault.AlreadyExists, secrets.CodeResourceExists, "You can't modify an existing version, you can only create a new version.")
				}
				ver = old
				return nil
			}
		} else {
			token = newUUID()
		}
		ver = &secrets.Version{ID: token, Stages: slices.Clone(stages), String: v.String, Binary: v.Binary, Created: p.clock()}
		s.AddVersion(ver)
		s.LastChanged = p.clock()
		return nil
	})
	return s, ver, err
}

// UpdateSecret changes a secret's description or KMS key and, with a
// value, adds a version as PutSecretValue does.
func (p *Plane) UpdateSecret(ctx context.Context, sc secrets.Scope, id, token string, description, kmsKeyID *string, v Value) (*secrets.Secret, *secrets.Version, error) {
	if err := checkValue(v); err != nil {
		return nil, nil, err
	}
	var ver *secrets.Version
	s, err := p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		if description != nil {
			s.Description = *description
		}
		if kmsKeyID != nil {
			s.KmsKeyID = *kmsKeyID
		}
		if v.set() {
			if token == "" {
				token = newUUID()
			}
			if s.VersionByID(token) != nil {
				return secrets.Coded(fault.AlreadyExists, secrets.CodeResourceExists, "You can't modify an existing version, you can only create a new version.")
			}
			ver = &secrets.Version{ID: token, Stages: []string{secrets.StageCurrent}, String: v.String, Binary: v.Binary, Created: p.clock()}
			s.AddVersion(ver)
		}
		s.LastChanged = p.clock()
		return nil
	})
	return s, ver, err
}

// GetSecretValue returns a version by ID or stage (AWSCURRENT by default).
func (p *Plane) GetSecretValue(ctx context.Context, sc secrets.Scope, id, versionID, stage string) (*secrets.Secret, *secrets.Version, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	s, err := p.findSecret(st, id)
	if err != nil {
		return nil, nil, err
	}
	if err := notDeleted(s); err != nil {
		return nil, nil, err
	}
	var v *secrets.Version
	switch {
	case versionID != "":
		v = s.VersionByID(versionID)
		if v != nil && stage != "" && !slices.Contains(v.Stages, stage) {
			return nil, nil, secrets.InvalidParam("You provided a VersionStage that is not associated to the provided VersionId.")
		}
	default:
		if stage == "" {
			stage = secrets.StageCurrent
		}
		v = s.VersionByStage(stage)
	}
	if v == nil {
		if versionID != "" {
			return nil, nil, secrets.Coded(fault.NotFound, secrets.CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
		}
		return nil, nil, secrets.Coded(fault.NotFound, secrets.CodeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return s, v, nil
}

// DescribeSecret returns a secret (scheduled ones included).
func (p *Plane) DescribeSecret(ctx context.Context, sc secrets.Scope, id string) (*secrets.Secret, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	return p.findSecret(st, id)
}

// Filter is a ListSecrets filter.
type Filter struct {
	Key    string
	Values []string
}

var filterKeys = []string{"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

// ListSecrets returns the secrets matching every filter, by name (or
// creation date, as AWS sorts: SortOrder asc|desc by creation).
func (p *Plane) ListSecrets(ctx context.Context, sc secrets.Scope, filters []Filter, includeDeleted bool, sortOrder string) ([]*secrets.Secret, error) {
	for _, f := range filters {
		if !slices.Contains(filterKeys, f.Key) {
			return nil, secrets.InvalidParam("1 validation error detected: Value '%s' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [%s]", f.Key, strings.Join(filterKeys, ", "))
		}
		if len(f.Values) == 0 {
			return nil, secrets.InvalidParam("The filter %s must have at least one value.", f.Key)
		}
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*secrets.Secret
	for _, s := range st.Secrets {
		if p.purged(s) || (s.Scheduled() && !includeDeleted) {
			continue
		}
		if matchesAll(s, sc, filters) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Created.Equal(out[j].Created) {
			return out[i].Name < out[j].Name
		}
		if sortOrder == "desc" {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].Created.Before(out[j].Created)
	})
	return out, nil
}

// matchesAll applies the filters: every filter must hold; within one, any
// value; values are case-insensitive prefixes, and a value starting with
// "!" negates.
func matchesAll(s *secrets.Secret, sc secrets.Scope, filters []Filter) bool {
	for _, f := range filters {
		var fields []string
		switch f.Key {
		case "name":
			fields = []string{s.Name}
		case "description":
			fields = []string{s.Description}
		case "tag-key":
			for _, t := range s.Tags {
				fields = append(fields, t.Key)
			}
		case "tag-value":
			for _, t := range s.Tags {
				fields = append(fields, t.Value)
			}
		case "primary-region":
			fields = []string{sc.Region}
		case "owning-service":
			fields = nil
		case "all":
			fields = []string{s.Name, s.Description}
			for _, t := range s.Tags {
				fields = append(fields, t.Key, t.Value)
			}
		}
		ok := false
		for _, v := range f.Values {
			neg := strings.HasPrefix(v, "!")
			v = strings.ToLower(strings.TrimPrefix(v, "!"))
			hit := slices.ContainsFunc(fields, func(x string) bool { return strings.HasPrefix(strings.ToLower(x), v) })
			if hit != neg {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// DeleteSecret schedules a deletion after a recovery window (7-30 days,
// default 30) or, with force, deletes at once.
func (p *Plane) DeleteSecret(ctx context.Context, sc secrets.Scope, id string, window *int, force bool) (*secrets.Secret, time.Time, error) {
	if force && window != nil {
		return nil, time.Time{}, secrets.InvalidParam("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := 30
	if window != nil {
		if *window < 7 || *window > 30 {
			return nil, time.Time{}, secrets.InvalidParam("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
		days = *window
	}
	var out *secrets.Secret
	var when time.Time
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		s, err := p.findSecret(st, id)
		if err != nil {
			return err
		}
		out = s
		if force {
			when = p.clock()
			tx.DeleteSecret(s.Name)
			return nil
		}
		if s.Scheduled() {
			return secrets.MarkedForDeletion()
		}
		when = p.clock().Add(time.Duration(days) * 24 * time.Hour)
		s.DeletionDate = when
		tx.PutSecret(s)
		return nil
	})
	return out, when, err
}

// RestoreSecret cancels a scheduled deletion.
func (p *Plane) RestoreSecret(ctx context.Context, sc secrets.Scope, id string) (*secrets.Secret, error) {
	return p.updateSecret(ctx, sc, id, true, func(s *secrets.Secret) error {
		s.DeletionDate = time.Time{}
		return nil
	})
}

// TagSecret and UntagSecret change a secret's tags.
func (p *Plane) TagSecret(ctx context.Context, sc secrets.Scope, id string, tags []secrets.Tag) error {
	_, err := p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		s.Tags = mergeTags(s.Tags, tags)
		if len(s.Tags) > 50 {
			return limit("You have exceeded the maximum number of tags (50) on this secret.")
		}
		return nil
	})
	return err
}

func (p *Plane) UntagSecret(ctx context.Context, sc secrets.Scope, id string, keys []string) error {
	_, err := p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		s.Tags = removeTags(s.Tags, keys)
		return nil
	})
	return err
}

// PutResourcePolicy attaches a resource policy (which must name
// principals); with blockPublic, one that grants broad access is refused
// as AWS refuses it.
func (p *Plane) PutResourcePolicy(ctx context.Context, sc secrets.Scope, id, policy string, blockPublic bool) (*secrets.Secret, error) {
	doc, err := parseResourcePolicy(policy)
	if err != nil {
		return nil, err
	}
	if blockPublic && publicPolicy(doc) {
		return nil, secrets.Coded(fault.InvalidParameter, secrets.CodePublicPolicy, "BlockPublicPolicy is set, and the resource policy doesn't prevent broad access to the secret.")
	}
	return p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		s.ResourcePolicy = policy
		return nil
	})
}

// ValidationError is one finding of ValidateResourcePolicy.
type ValidationError struct{ Check, Message string }

// ValidateResourcePolicy checks a resource policy as PutResourcePolicy
// would (a malformed one is MalformedPolicyDocumentException) and reports
// a policy that grants broad access (what BlockPublicPolicy refuses). A
// named secret must exist.
func (p *Plane) ValidateResourcePolicy(ctx context.Context, sc secrets.Scope, id, policy string) ([]ValidationError, error) {
	if policy == "" {
		return nil, secrets.InvalidParam("1 validation error detected: Value null at 'resourcePolicy' failed to satisfy constraint: Member must not be null")
	}
	if id != "" {
		if _, err := p.DescribeSecret(ctx, sc, id); err != nil {
			return nil, err
		}
	}
	doc, err := parseResourcePolicy(policy)
	if err != nil {
		return nil, err
	}
	if publicPolicy(doc) {
		return []ValidationError{{Check: "BLOCK_PUBLIC_POLICY", Message: "The resource policy grants broad access to the secret: an Allow statement's principal is \"*\" without a condition."}}, nil
	}
	return nil, nil
}

// parseResourcePolicy parses a secret's resource policy (a trust-style
// document: it names principals).
func parseResourcePolicy(policy string) (*iampolicy.Document, error) {
	doc, err := iampolicy.Parse(policy, true)
	if err != nil {
		return nil, secrets.Coded(fault.InvalidParameter, secrets.CodeMalformedPolicy, "%s", err.Error())
	}
	return doc, nil
}

// publicPolicy reports whether a policy allows anyone: an Allow statement
// whose principal is "*" (or {"AWS": "*"}) with no condition.
func publicPolicy(doc *iampolicy.Document) bool {
	for _, st := range doc.Statements {
		if st.Effect != "Allow" || len(st.Conditions) > 0 {
			continue
		}
		if _, ok := st.Principals["*"]; ok || slices.Contains(st.Principals["AWS"], "*") {
			return true
		}
	}
	return false
}

// DeleteResourcePolicy removes it.
func (p *Plane) DeleteResourcePolicy(ctx context.Context, sc secrets.Scope, id string) (*secrets.Secret, error) {
	return p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		s.ResourcePolicy = ""
		return nil
	})
}

// UpdateSecretVersionStage moves a staging label.
func (p *Plane) UpdateSecretVersionStage(ctx context.Context, sc secrets.Scope, id, stage, removeFrom, moveTo string) (*secrets.Secret, error) {
	if stage == "" {
		return nil, secrets.InvalidParam("1 validation error detected: Value null at 'versionStage' failed to satisfy constraint: Member must not be null")
	}
	return p.updateSecret(ctx, sc, id, false, func(s *secrets.Secret) error {
		holder := s.VersionByStage(stage)
		if holder != nil && moveTo != "" && holder.ID != removeFrom && holder.ID != moveTo {
			return secrets.InvalidParam("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder.ID)
		}
		if moveTo != "" {
			to := s.VersionByID(moveTo)
			if to == nil {
				return secrets.Coded(fault.NotFound, secrets.CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", moveTo)
			}
			s.MoveStage(stage, to)
		} else if removeFrom != "" {
			from := s.VersionByID(removeFrom)
			if from == nil || !slices.Contains(from.Stages, stage) {
				return secrets.InvalidParam("The staging label %s is not attached to version %s.", stage, removeFrom)
			}
			if stage == secrets.StageCurrent {
				return secrets.InvalidParam("You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
			}
			from.Stages = slices.DeleteFunc(from.Stages, func(x string) bool { return x == stage })
		}
		s.LastChanged = p.clock()
		return nil
	})
}
