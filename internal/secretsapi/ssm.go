package secretsapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretscp"
)

type putParameterIn struct {
	Name           string
	Description    string
	Value          string
	Type           string
	KeyId          string
	Overwrite      bool
	AllowedPattern string
	Tags           []wTag
	Tier           string
	DataType       string
}

type putParameterOut struct {
	Version int64
	Tier    string
}

func (a *API) putParameter(ctx context.Context, c *awsproto.Call, in *putParameterIn) (any, error) {
	user := c.Principal
	if user == "" {
		user = "arn:aws:iam::" + c.Account + ":root"
	}
	v, tier, err := a.plane.PutParameter(ctx, scope(c), secretscp.PutParameter{Name: in.Name, Description: in.Description, Value: in.Value,
		Type: in.Type, KeyID: in.KeyId, AllowedPattern: in.AllowedPattern, Tier: in.Tier, DataType: in.DataType, Overwrite: in.Overwrite,
		Tags: tagsIn(in.Tags), User: user})
	if err != nil {
		return nil, err
	}
	return &putParameterOut{Version: v, Tier: tier}, nil
}

type wParameter struct {
	Name             string
	Type             string
	Value            string
	Version          int64
	Selector         string `json:",omitempty"`
	LastModifiedDate *awsproto.EpochTime
	ARN              string
	DataType         string
}

// shown is a value as the caller may see it: SecureString values only
// with decryption, else an opaque ciphertext as SSM returns.
func shown(v *secrets.ParamVersion, decrypt bool) string {
	if v.Type != secrets.TypeSecureString || decrypt {
		return v.Value
	}
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return "AQICAH" + base64.StdEncoding.EncodeToString(b)
}

func paramOut(sc secrets.Scope, s secretscp.Selected, decrypt bool) wParameter {
	v := s.Version
	return wParameter{Name: s.Param.Name, Type: v.Type, Value: shown(v, decrypt), Version: v.Version, Selector: s.Selector,
		LastModifiedDate: awsproto.Epoch(v.Modified), ARN: secrets.ParameterARN(sc, s.Param.Name), DataType: v.DataType}
}

type getParameterIn struct {
	Name           string
	WithDecryption bool
}

type getParameterOut struct{ Parameter wParameter }

func (a *API) getParameter(ctx context.Context, c *awsproto.Call, in *getParameterIn) (any, error) {
	s, err := a.plane.GetParameter(ctx, scope(c), in.Name)
	if err != nil {
		return nil, err
	}
	return &getParameterOut{Parameter: paramOut(scope(c), s, in.WithDecryption)}, nil
}

type getParametersIn struct {
	Names          []string
	WithDecryption bool
}

type getParametersOut struct {
	Parameters        []wParameter
	InvalidParameters []string
}

func (a *API) getParameters(ctx context.Context, c *awsproto.Call, in *getParametersIn) (any, error) {
	found, invalid, err := a.plane.GetParameters(ctx, scope(c), in.Names)
	if err != nil {
		return nil, err
	}
	out := &getParametersOut{Parameters: []wParameter{}, InvalidParameters: append([]string{}, invalid...)}
	for _, s := range found {
		out.Parameters = append(out.Parameters, paramOut(scope(c), s, in.WithDecryption))
	}
	return out, nil
}

type wParamFilter struct {
	Key    string
	Option string
	Values []string
}

func paramFiltersIn(in []wParamFilter) []secretscp.ParamFilter {
	out := make([]secretscp.ParamFilter, len(in))
	for i, f := range in {
		out[i] = secretscp.ParamFilter{Key: f.Key, Option: f.Option, Values: f.Values}
	}
	return out
}

func ssmInvalidToken() error {
	return secrets.Coded(fault.InvalidParameter, "InvalidNextToken", "The specified token is not valid.")
}

func checkMax(n, max int) error {
	if n < 0 || n > max {
		return secrets.Validation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", n, max)
	}
	return nil
}

type getByPathIn struct {
	Path             string
	Recursive        bool
	ParameterFilters []wParamFilter
	WithDecryption   bool
	MaxResults       int
	NextToken        string
}

type getByPathOut struct {
	Parameters []wParameter
	NextToken  string `json:",omitempty"`
}

func (a *API) getParametersByPath(ctx context.Context, c *awsproto.Call, in *getByPathIn) (any, error) {
	if err := checkMax(in.MaxResults, 10); err != nil {
		return nil, err
	}
	ps, err := a.plane.ParametersByPath(ctx, scope(c), in.Path, in.Recursive, paramFiltersIn(in.ParameterFilters))
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.NextToken, in.MaxResults, 10, ssmInvalidToken)
	if err != nil {
		return nil, err
	}
	out := &getByPathOut{Parameters: []wParameter{}, NextToken: next}
	for _, p := range pg {
		out.Parameters = append(out.Parameters, paramOut(scope(c), secretscp.Selected{Param: p, Version: p.Latest()}, in.WithDecryption))
	}
	return out, nil
}

type historyIn struct {
	Name           string
	WithDecryption bool
	MaxResults     int
	NextToken      string
}

type wHistory struct {
	Name             string
	Type             string
	KeyId            string `json:",omitempty"`
	LastModifiedDate *awsproto.EpochTime
	LastModifiedUser string `json:",omitempty"`
	Description      string `json:",omitempty"`
	Value            string
	AllowedPattern   string `json:",omitempty"`
	Version          int64
	Labels           []string
	Tier             string
	Policies         []struct{}
	DataType         string
}

type historyOut struct {
	Parameters []wHistory
	NextToken  string `json:",omitempty"`
}

func (a *API) getParameterHistory(ctx context.Context, c *awsproto.Call, in *historyIn) (any, error) {
	if err := checkMax(in.MaxResults, 50); err != nil {
		return nil, err
	}
	p, err := a.plane.Parameter(ctx, scope(c), in.Name)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(p.Versions, in.NextToken, in.MaxResults, 50, ssmInvalidToken)
	if err != nil {
		return nil, err
	}
	out := &historyOut{Parameters: []wHistory{}, NextToken: next}
	for _, v := range pg {
		out.Parameters = append(out.Parameters, wHistory{Name: p.Name, Type: v.Type, KeyId: v.KeyID, LastModifiedDate: awsproto.Epoch(v.Modified),
			LastModifiedUser: v.ModifiedUser, Description: v.Description, Value: shown(v, in.WithDecryption), AllowedPattern: v.AllowedPattern,
			Version: v.Version, Labels: append([]string{}, v.Labels...), Tier: v.Tier, Policies: []struct{}{}, DataType: v.DataType})
	}
	return out, nil
}

type describeParamsIn struct {
	Filters          []wParamFilter
	ParameterFilters []wParamFilter
	MaxResults       int
	NextToken        string
}

type wParamMeta struct {
	Name             string
	ARN              string
	Type             string
	KeyId            string `json:",omitempty"`
	LastModifiedDate *awsproto.EpochTime
	LastModifiedUser string `json:",omitempty"`
	Description      string `json:",omitempty"`
	AllowedPattern   string `json:",omitempty"`
	Version          int64
	Tier             string
	Policies         []struct{}
	DataType         string
}

type describeParamsOut struct {
	Parameters []wParamMeta
	NextToken  string `json:",omitempty"`
}

func (a *API) describeParameters(ctx context.Context, c *awsproto.Call, in *describeParamsIn) (any, error) {
	if err := checkMax(in.MaxResults, 50); err != nil {
		return nil, err
	}
	filters := paramFiltersIn(in.ParameterFilters)
	for _, f := range in.Filters { // the older ParametersFilter: Name, Type, KeyId; Equals
		filters = append(filters, secretscp.ParamFilter{Key: f.Key, Option: "Equals", Values: f.Values})
	}
	ps, err := a.plane.DescribeParameters(ctx, scope(c), filters)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(ps, in.NextToken, in.MaxResults, 50, ssmInvalidToken)
	if err != nil {
		return nil, err
	}
	out := &describeParamsOut{Parameters: []wParamMeta{}, NextToken: next}
	for _, p := range pg {
		v := p.Latest()
		out.Parameters = append(out.Parameters, wParamMeta{Name: p.Name, ARN: secrets.ParameterARN(scope(c), p.Name), Type: v.Type, KeyId: v.KeyID,
			LastModifiedDate: awsproto.Epoch(v.Modified), LastModifiedUser: v.ModifiedUser, Description: v.Description,
			AllowedPattern: v.AllowedPattern, Version: v.Version, Tier: v.Tier, Policies: []struct{}{}, DataType: v.DataType})
	}
	return out, nil
}

type nameIn struct{ Name string }

func (a *API) deleteParameter(ctx context.Context, c *awsproto.Call, in *nameIn) (any, error) {
	return &emptyOut{}, a.plane.DeleteParameter(ctx, scope(c), in.Name)
}

type namesIn struct{ Names []string }

type deleteParamsOut struct {
	DeletedParameters []string
	InvalidParameters []string
}

func (a *API) deleteParameters(ctx context.Context, c *awsproto.Call, in *namesIn) (any, error) {
	del, invalid, err := a.plane.DeleteParameters(ctx, scope(c), in.Names)
	if err != nil {
		return nil, err
	}
	return &deleteParamsOut{DeletedParameters: append([]string{}, del...), InvalidParameters: append([]string{}, invalid...)}, nil
}

type labelIn struct {
	Name             string
	ParameterVersion int64
	Labels           []string
}

type labelOut struct {
	InvalidLabels    []string
	ParameterVersion int64
}

func (a *API) labelParameterVersion(ctx context.Context, c *awsproto.Call, in *labelIn) (any, error) {
	v, invalid, err := a.plane.LabelParameterVersion(ctx, scope(c), in.Name, in.ParameterVersion, in.Labels)
	if err != nil {
		return nil, err
	}
	return &labelOut{InvalidLabels: append([]string{}, invalid...), ParameterVersion: v}, nil
}

type unlabelOut struct {
	RemovedLabels []string
	InvalidLabels []string
}

func (a *API) unlabelParameterVersion(ctx context.Context, c *awsproto.Call, in *labelIn) (any, error) {
	removed, invalid, err := a.plane.UnlabelParameterVersion(ctx, scope(c), in.Name, in.ParameterVersion, in.Labels)
	if err != nil {
		return nil, err
	}
	return &unlabelOut{RemovedLabels: append([]string{}, removed...), InvalidLabels: append([]string{}, invalid...)}, nil
}

type tagsResIn struct {
	ResourceType string
	ResourceId   string
	Tags         []wTag
	TagKeys      []string
}

func checkResourceType(t string) error {
	if t != "Parameter" {
		return secrets.Coded(fault.InvalidParameter, secrets.CodeInvalidResourceTyp, "The resource type %q is not valid: berth's SSM tags parameters only (ResourceType Parameter).", t)
	}
	return nil
}

// paramID turns a ResourceId (a name, or a parameter ARN) into the name.
func paramID(id string) string {
	if i := strings.Index(id, ":parameter/"); i >= 0 && strings.HasPrefix(id, "arn:") {
		return id[i+len(":parameter"):]
	}
	return id
}

func (a *API) addTagsToResource(ctx context.Context, c *awsproto.Call, in *tagsResIn) (any, error) {
	if err := checkResourceType(in.ResourceType); err != nil {
		return nil, err
	}
	return &emptyOut{}, a.plane.TagParameter(ctx, scope(c), paramID(in.ResourceId), tagsIn(in.Tags), nil)
}

func (a *API) removeTagsFromResource(ctx context.Context, c *awsproto.Call, in *tagsResIn) (any, error) {
	if err := checkResourceType(in.ResourceType); err != nil {
		return nil, err
	}
	return &emptyOut{}, a.plane.TagParameter(ctx, scope(c), paramID(in.ResourceId), nil, in.TagKeys)
}

type listTagsOut struct{ TagList []wTag }

func (a *API) listTagsForResource(ctx context.Context, c *awsproto.Call, in *tagsResIn) (any, error) {
	if err := checkResourceType(in.ResourceType); err != nil {
		return nil, err
	}
	p, err := a.plane.Parameter(ctx, scope(c), paramID(in.ResourceId))
	if err != nil {
		return nil, secrets.Coded(fault.NotFound, secrets.CodeInvalidResourceID, "The resource ID \"%s\" is not valid. Verify the ID and try again.", in.ResourceId)
	}
	out := &listTagsOut{TagList: tagsOut(p.Tags)}
	if out.TagList == nil {
		out.TagList = []wTag{}
	}
	return out, nil
}
