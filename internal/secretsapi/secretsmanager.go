package secretsapi

import (
	"context"
	"sort"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretscp"
)

func value(s *string, b []byte) secretscp.Value { return secretscp.Value{String: s, Binary: b} }

type createSecretIn struct {
	Name               string
	ClientRequestToken string
	Description        string
	KmsKeyId           string
	SecretBinary       []byte
	SecretString       *string
	Tags               []wTag
}

type arnNameVersion struct {
	ARN       string
	Name      string
	VersionId string `json:",omitempty"`
}

func (a *API) createSecret(ctx context.Context, c *awsproto.Call, in *createSecretIn) (any, error) {
	s, v, err := a.plane.CreateSecret(ctx, scope(c), secretscp.CreateSecret{Name: in.Name, Description: in.Description, KmsKeyID: in.KmsKeyId,
		ClientRequestToken: in.ClientRequestToken, Value: value(in.SecretString, in.SecretBinary), Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	out := &arnNameVersion{ARN: s.ARN, Name: s.Name}
	if v != nil {
		out.VersionId = v.ID
	}
	return out, nil
}

type getSecretValueIn struct {
	SecretId     string
	VersionId    string
	VersionStage string
}

type secretValueOut struct {
	ARN           string
	Name          string
	VersionId     string
	SecretBinary  []byte  `json:",omitempty"`
	SecretString  *string `json:",omitempty"`
	VersionStages []string
	CreatedDate   *awsproto.EpochTime `json:",omitempty"`
}

func secretValue(s *secrets.Secret, v *secrets.Version) secretValueOut {
	return secretValueOut{ARN: s.ARN, Name: s.Name, VersionId: v.ID, SecretBinary: v.Binary, SecretString: v.String,
		VersionStages: append([]string{}, v.Stages...), CreatedDate: awsproto.Epoch(v.Created)}
}

func (a *API) getSecretValue(ctx context.Context, c *awsproto.Call, in *getSecretValueIn) (any, error) {
	s, v, err := a.plane.GetSecretValue(ctx, secretScope(c, in.SecretId), in.SecretId, in.VersionId, in.VersionStage)
	if err != nil {
		return nil, err
	}
	out := secretValue(s, v)
	return &out, nil
}

type batchGetIn struct {
	SecretIdList []string
	Filters      []wFilter
	MaxResults   int
	NextToken    string
}

type apiError struct {
	SecretId  string
	ErrorCode string
	Message   string
}

type batchGetOut struct {
	SecretValues []secretValueOut
	NextToken    string     `json:",omitempty"`
	Errors       []apiError `json:",omitempty"`
}

func (a *API) batchGetSecretValue(ctx context.Context, c *awsproto.Call, in *batchGetIn) (any, error) {
	if (len(in.SecretIdList) == 0) == (len(in.Filters) == 0) {
		return nil, secrets.InvalidParam("Either SecretIdList or Filters must be provided, but not both.")
	}
	ids := in.SecretIdList
	if len(in.Filters) > 0 {
		list, err := a.plane.ListSecrets(ctx, scope(c), filtersIn(in.Filters), false, "")
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			ids = append(ids, s.ARN)
		}
	}
	pg, next, err := page(ids, in.NextToken, in.MaxResults, 20, invalidToken)
	if err != nil {
		return nil, err
	}
	out := &batchGetOut{SecretValues: []secretValueOut{}, NextToken: next}
	for _, id := range pg {
		s, v, err := a.plane.GetSecretValue(ctx, secretScope(c, id), id, "", "")
		if err != nil {
			e := smFaults.Map(err)
			out.Errors = append(out.Errors, apiError{SecretId: id, ErrorCode: e.Code, Message: e.Message})
			continue
		}
		out.SecretValues = append(out.SecretValues, secretValue(s, v))
	}
	return out, nil
}

func invalidToken() error {
	return secrets.Coded(fault.InvalidParameter, secrets.CodeInvalidNextToken, "The NextToken value is not valid: pass the NextToken of the previous page.")
}

type putSecretValueIn struct {
	SecretId           string
	ClientRequestToken string
	SecretBinary       []byte
	SecretString       *string
	VersionStages      []string
}

type putSecretValueOut struct {
	ARN           string
	Name          string
	VersionId     string
	VersionStages []string
}

func (a *API) putSecretValue(ctx context.Context, c *awsproto.Call, in *putSecretValueIn) (any, error) {
	s, v, err := a.plane.PutSecretValue(ctx, secretScope(c, in.SecretId), in.SecretId, in.ClientRequestToken, value(in.SecretString, in.SecretBinary), in.VersionStages)
	if err != nil {
		return nil, err
	}
	return &putSecretValueOut{ARN: s.ARN, Name: s.Name, VersionId: v.ID, VersionStages: append([]string{}, v.Stages...)}, nil
}

type updateSecretIn struct {
	SecretId           string
	ClientRequestToken string
	Description        *string
	KmsKeyId           *string
	SecretBinary       []byte
	SecretString       *string
}

func (a *API) updateSecret(ctx context.Context, c *awsproto.Call, in *updateSecretIn) (any, error) {
	s, v, err := a.plane.UpdateSecret(ctx, secretScope(c, in.SecretId), in.SecretId, in.ClientRequestToken, in.Description, in.KmsKeyId, value(in.SecretString, in.SecretBinary))
	if err != nil {
		return nil, err
	}
	out := &arnNameVersion{ARN: s.ARN, Name: s.Name}
	if v != nil {
		out.VersionId = v.ID
	}
	return out, nil
}

type secretIDIn struct{ SecretId string }

type describeSecretOut struct {
	ARN                string
	Name               string
	Description        string              `json:",omitempty"`
	KmsKeyId           string              `json:",omitempty"`
	RotationEnabled    bool                `json:",omitempty"`
	LastChangedDate    *awsproto.EpochTime `json:",omitempty"`
	LastAccessedDate   *awsproto.EpochTime `json:",omitempty"`
	DeletedDate        *awsproto.EpochTime `json:",omitempty"`
	Tags               []wTag              `json:",omitempty"`
	VersionIdsToStages map[string][]string `json:",omitempty"`
	CreatedDate        *awsproto.EpochTime `json:",omitempty"`
	PrimaryRegion      string              `json:",omitempty"`
}

func versionsToStages(s *secrets.Secret) map[string][]string {
	m := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = append([]string{}, v.Stages...)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func (a *API) describeSecret(ctx context.Context, c *awsproto.Call, in *secretIDIn) (any, error) {
	s, err := a.plane.DescribeSecret(ctx, secretScope(c, in.SecretId), in.SecretId)
	if err != nil {
		return nil, err
	}
	return &describeSecretOut{ARN: s.ARN, Name: s.Name, Description: s.Description, KmsKeyId: s.KmsKeyID,
		LastChangedDate: awsproto.Epoch(s.LastChanged), LastAccessedDate: awsproto.Epoch(s.LastAccessed), DeletedDate: awsproto.Epoch(s.DeletionDate),
		Tags: tagsOut(s.Tags), VersionIdsToStages: versionsToStages(s), CreatedDate: awsproto.Epoch(s.Created), PrimaryRegion: c.Region}, nil
}

type wFilter struct {
	Key    string
	Values []string
}

func filtersIn(in []wFilter) []secretscp.Filter {
	out := make([]secretscp.Filter, len(in))
	for i, f := range in {
		out[i] = secretscp.Filter{Key: f.Key, Values: f.Values}
	}
	return out
}

type listSecretsIn struct {
	IncludePlannedDeletion bool
	MaxResults             int
	NextToken              string
	Filters                []wFilter
	SortOrder              string
}

type secretListEntry struct {
	ARN                    string
	Name                   string
	Description            string              `json:",omitempty"`
	KmsKeyId               string              `json:",omitempty"`
	LastChangedDate        *awsproto.EpochTime `json:",omitempty"`
	LastAccessedDate       *awsproto.EpochTime `json:",omitempty"`
	DeletedDate            *awsproto.EpochTime `json:",omitempty"`
	Tags                   []wTag              `json:",omitempty"`
	SecretVersionsToStages map[string][]string `json:",omitempty"`
	CreatedDate            *awsproto.EpochTime `json:",omitempty"`
	PrimaryRegion          string              `json:",omitempty"`
}

type listSecretsOut struct {
	SecretList []secretListEntry
	NextToken  string `json:",omitempty"`
}

func (a *API) listSecrets(ctx context.Context, c *awsproto.Call, in *listSecretsIn) (any, error) {
	if in.SortOrder != "" && in.SortOrder != "asc" && in.SortOrder != "desc" {
		return nil, secrets.InvalidParam("1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]", in.SortOrder)
	}
	list, err := a.plane.ListSecrets(ctx, scope(c), filtersIn(in.Filters), in.IncludePlannedDeletion, in.SortOrder)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 100, invalidToken)
	if err != nil {
		return nil, err
	}
	out := &listSecretsOut{SecretList: []secretListEntry{}, NextToken: next}
	for _, s := range pg {
		out.SecretList = append(out.SecretList, secretListEntry{ARN: s.ARN, Name: s.Name, Description: s.Description, KmsKeyId: s.KmsKeyID,
			LastChangedDate: awsproto.Epoch(s.LastChanged), LastAccessedDate: awsproto.Epoch(s.LastAccessed), DeletedDate: awsproto.Epoch(s.DeletionDate),
			Tags: tagsOut(s.Tags), SecretVersionsToStages: versionsToStages(s), CreatedDate: awsproto.Epoch(s.Created), PrimaryRegion: c.Region})
	}
	return out, nil
}

type listVersionsIn struct {
	SecretId          string
	MaxResults        int
	NextToken         string
	IncludeDeprecated bool
}

type versionEntry struct {
	VersionId        string
	VersionStages    []string            `json:",omitempty"`
	LastAccessedDate *awsproto.EpochTime `json:",omitempty"`
	CreatedDate      *awsproto.EpochTime `json:",omitempty"`
}

type listVersionsOut struct {
	Versions  []versionEntry
	NextToken string `json:",omitempty"`
	ARN       string
	Name      string
}

func (a *API) listSecretVersionIds(ctx context.Context, c *awsproto.Call, in *listVersionsIn) (any, error) {
	s, err := a.plane.DescribeSecret(ctx, secretScope(c, in.SecretId), in.SecretId)
	if err != nil {
		return nil, err
	}
	var all []versionEntry
	for _, v := range s.Versions {
		if len(v.Stages) == 0 && !in.IncludeDeprecated {
			continue
		}
		all = append(all, versionEntry{VersionId: v.ID, VersionStages: append([]string{}, v.Stages...), LastAccessedDate: awsproto.Epoch(v.LastAccessed), CreatedDate: awsproto.Epoch(v.Created)})
	}
	sort.SliceStable(all, func(i, j int) bool {
		return all[i].CreatedDate != nil && all[j].CreatedDate != nil && all[i].CreatedDate.After(all[j].CreatedDate.Time)
	})
	pg, next, err := page(all, in.NextToken, in.MaxResults, 100, invalidToken)
	if err != nil {
		return nil, err
	}
	return &listVersionsOut{Versions: append([]versionEntry{}, pg...), NextToken: next, ARN: s.ARN, Name: s.Name}, nil
}

type deleteSecretIn struct {
	SecretId                   string
	RecoveryWindowInDays       *int
	ForceDeleteWithoutRecovery bool
}

type deleteSecretOut struct {
	ARN          string
	Name         string
	DeletionDate *awsproto.EpochTime `json:",omitempty"`
}

func (a *API) deleteSecret(ctx context.Context, c *awsproto.Call, in *deleteSecretIn) (any, error) {
	s, when, err := a.plane.DeleteSecret(ctx, secretScope(c, in.SecretId), in.SecretId, in.RecoveryWindowInDays, in.ForceDeleteWithoutRecovery)
	if err != nil {
		return nil, err
	}
	return &deleteSecretOut{ARN: s.ARN, Name: s.Name, DeletionDate: awsproto.Epoch(when)}, nil
}

type arnName struct {
	ARN  string
	Name string
}

func (a *API) restoreSecret(ctx context.Context, c *awsproto.Call, in *secretIDIn) (any, error) {
	s, err := a.plane.RestoreSecret(ctx, secretScope(c, in.SecretId), in.SecretId)
	if err != nil {
		return nil, err
	}
	return &arnName{ARN: s.ARN, Name: s.Name}, nil
}

type tagSecretIn struct {
	SecretId string
	Tags     []wTag
	TagKeys  []string
}

type emptyOut struct{}

func (a *API) tagSecret(ctx context.Context, c *awsproto.Call, in *tagSecretIn) (any, error) {
	return &emptyOut{}, a.plane.TagSecret(ctx, secretScope(c, in.SecretId), in.SecretId, tagsIn(in.Tags))
}

func (a *API) untagSecret(ctx context.Context, c *awsproto.Call, in *tagSecretIn) (any, error) {
	return &emptyOut{}, a.plane.UntagSecret(ctx, secretScope(c, in.SecretId), in.SecretId, in.TagKeys)
}

type putPolicyIn struct {
	SecretId          string
	ResourcePolicy    string
	BlockPublicPolicy bool
}

func (a *API) putResourcePolicy(ctx context.Context, c *awsproto.Call, in *putPolicyIn) (any, error) {
	s, err := a.plane.PutResourcePolicy(ctx, secretScope(c, in.SecretId), in.SecretId, in.ResourcePolicy, in.BlockPublicPolicy)
	if err != nil {
		return nil, err
	}
	return &arnName{ARN: s.ARN, Name: s.Name}, nil
}

type getPolicyOut struct {
	ARN            string
	Name           string
	ResourcePolicy string `json:",omitempty"`
}

func (a *API) getResourcePolicy(ctx context.Context, c *awsproto.Call, in *secretIDIn) (any, error) {
	s, err := a.plane.DescribeSecret(ctx, secretScope(c, in.SecretId), in.SecretId)
	if err != nil {
		return nil, err
	}
	return &getPolicyOut{ARN: s.ARN, Name: s.Name, ResourcePolicy: s.ResourcePolicy}, nil
}

func (a *API) deleteResourcePolicy(ctx context.Context, c *awsproto.Call, in *secretIDIn) (any, error) {
	s, err := a.plane.DeleteResourcePolicy(ctx, secretScope(c, in.SecretId), in.SecretId)
	if err != nil {
		return nil, err
	}
	return &arnName{ARN: s.ARN, Name: s.Name}, nil
}

type validatePolicyIn struct {
	SecretId       string
	ResourcePolicy string
}

type wValidationError struct {
	CheckName    string
	ErrorMessage string
}

type validatePolicyOut struct {
	PolicyValidationPassed bool
	ValidationErrors       []wValidationError
}

func (a *API) validateResourcePolicy(ctx context.Context, c *awsproto.Call, in *validatePolicyIn) (any, error) {
	errs, err := a.plane.ValidateResourcePolicy(ctx, secretScope(c, in.SecretId), in.SecretId, in.ResourcePolicy)
	if err != nil {
		return nil, err
	}
	out := &validatePolicyOut{PolicyValidationPassed: len(errs) == 0, ValidationErrors: []wValidationError{}}
	for _, e := range errs {
		out.ValidationErrors = append(out.ValidationErrors, wValidationError{CheckName: e.Check, ErrorMessage: e.Message})
	}
	return out, nil
}

type versionStageIn struct {
	SecretId            string
	VersionStage        string
	RemoveFromVersionId string
	MoveToVersionId     string
}

func (a *API) updateSecretVersionStage(ctx context.Context, c *awsproto.Call, in *versionStageIn) (any, error) {
	s, err := a.plane.UpdateSecretVersionStage(ctx, secretScope(c, in.SecretId), in.SecretId, in.VersionStage, in.RemoveFromVersionId, in.MoveToVersionId)
	if err != nil {
		return nil, err
	}
	return &arnName{ARN: s.ARN, Name: s.Name}, nil
}
