package secretscp

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretstore"
)

// PutParameter is the input of PutParameter.
type PutParameter struct {
	Name, Description, Value, Type, KeyID, AllowedPattern, Tier, DataType string
	Overwrite                                                             bool
	Tags                                                                  []secrets.Tag
	User                                                                  string // the caller's ARN (LastModifiedUser)
}

var paramNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

func validParamName(name string) error {
	switch {
	case name == "":
		return secrets.Validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	case len(name) > 2048:
		return secrets.Validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048")
	case !paramNameRE.MatchString(name):
		return secrets.Validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return secrets.Validation("Parameter name must be a fully qualified name.")
	case strings.Count(name, "/") > 15:
		return secrets.Coded(fault.InvalidParameter, "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels.")
	}
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return secrets.Validation("No access to reserved parameter name: %s.", name)
	}
	return nil
}

// PutParameter creates a parameter or, with Overwrite, adds a version.
func (p *Plane) PutParameter(ctx context.Context, sc secrets.Scope, in PutParameter) (int64, string, error) {
	if err := validParamName(in.Name); err != nil {
		return 0, "", err
	}
	if in.Value == "" {
		return 0, "", secrets.Validation("1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null")
	}
	switch in.Tier {
	case "", "Standard", "Intelligent-Tiering":
		in.Tier = "Standard"
		if len(in.Value) > 4096 {
			return 0, "", secrets.Validation("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
		}
	case "Advanced":
		if len(in.Value) > 8192 {
			return 0, "", secrets.Validation("Advanced tier parameters support a maximum parameter value of 8192 characters.")
		}
	default:
		return 0, "", secrets.Validation("1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", in.Tier)
	}
	if in.DataType == "" {
		in.DataType = "text"
	}
	if in.AllowedPattern != "" {
		re, err := regexp.Compile(in.AllowedPattern)
		if err != nil {
			return 0, "", secrets.Validation("The allowed pattern %s is not a valid regular expression.", in.AllowedPattern)
		}
		if !re.MatchString(in.Value) {
			return 0, "", secrets.Coded(fault.InvalidParameter, secrets.CodeAllowedPattern, "Parameter value, cannot be validated against allowedPattern: %s", in.AllowedPattern)
		}
	}
	var version int64
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		cur := st.Params[in.Name]
		typ := in.Type
		if cur == nil && typ == "" {
			return secrets.Validation("A parameter type is required when you create a parameter.")
		}
		if cur != nil && typ == "" {
			typ = cur.Latest().Type
		}
		switch typ {
		case secrets.TypeString, secrets.TypeStringList, secrets.TypeSecureString:
		default:
			return secrets.Validation("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", typ)
		}
		if typ != secrets.TypeSecureString && in.KeyID != "" {
			return secrets.Validation("KeyId is required for SecureString type parameter only.")
		}
		if cur != nil && !in.Overwrite {
			return secrets.Coded(fault.AlreadyExists, secrets.CodeParameterExists, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		if cur != nil && len(in.Tags) > 0 {
			return secrets.Validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
		}
		keyID := in.KeyID
		if typ == secrets.TypeSecureString && keyID == "" {
			keyID = "alias/aws/ssm"
		}
		if cur == nil {
			cur = &secrets.Parameter{Name: in.Name, Tags: in.Tags}
			version = 1
		} else {
			version = cur.Latest().Version + 1
		}
		desc := in.Description
		if desc == "" && len(cur.Versions) > 0 {
			desc = cur.Latest().Description
		}
		cur.Versions = append(cur.Versions, &secrets.ParamVersion{Version: version, Value: in.Value, Type: typ, Description: desc,
			KeyID: keyID, AllowedPattern: in.AllowedPattern, Modified: p.clock(), ModifiedUser: in.User, Tier: in.Tier, DataType: in.DataType})
		if len(cur.Versions) > secrets.MaxParamVersions {
			if len(cur.Versions[0].Labels) > 0 {
				return secrets.Coded(fault.LimitExceeded, "ParameterMaxVersionLimitExceeded",
					"You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", in.Name, cur.Versions[0].Version)
			}
			cur.Versions = cur.Versions[1:]
		}
		tx.PutParam(cur)
		return nil
	})
	return version, in.Tier, err
}

// Selected is a parameter version chosen by a name with an optional
// selector (name:3 or name:label).
type Selected struct {
	Param    *secrets.Parameter
	Version  *secrets.ParamVersion
	Selector string
}

// findParam resolves "name", "name:version" or "name:label".
func findParam(st *secretstore.State, ref string) (Selected, error) {
	name, sel := ref, ""
	if i := strings.LastIndex(ref, ":"); i > 0 {
		name, sel = ref[:i], ref[i:]
	}
	if strings.HasPrefix(name, "arn:aws:ssm:") {
		if j := strings.Index(name, ":parameter/"); j >= 0 {
			name = name[j+len(":parameter"):]
			if _, ok := st.Params[name]; !ok {
				name = strings.TrimPrefix(name, "/")
			}
		}
	}
	p := st.Params[name]
	if p == nil {
		return Selected{}, secrets.ParameterNotFound(ref)
	}
	if sel == "" {
		return Selected{Param: p, Version: p.Latest()}, nil
	}
	label := sel[1:]
	if n, err := strconv.ParseInt(label, 10, 64); err == nil {
		if v := p.ByVersion(n); v != nil {
			return Selected{Param: p, Version: v, Selector: sel}, nil
		}
		return Selected{}, secrets.Coded(fault.NotFound, secrets.CodeParameterVersion, "Systems Manager could not find version %d of %s. Verify the version and try again.", n, name)
	}
	if v := p.ByLabel(label); v != nil {
		return Selected{Param: p, Version: v, Selector: sel}, nil
	}
	return Selected{}, secrets.Coded(fault.NotFound, secrets.CodeParameterVersion, "Systems Manager could not find label %s of %s. Verify the label and try again.", label, name)
}

// GetParameter returns one parameter (a version or label selector
// allowed).
func (p *Plane) GetParameter(ctx context.Context, sc secrets.Scope, ref string) (Selected, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return Selected{}, err
	}
	return findParam(st, ref)
}

// GetParameters returns the parameters found and the names not found.
func (p *Plane) GetParameters(ctx context.Context, sc secrets.Scope, refs []string) ([]Selected, []string, error) {
	if len(refs) == 0 || len(refs) > 10 {
		return nil, nil, secrets.Validation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, and greater than or equal to 1")
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, nil, err
	}
	var found []Selected
	var invalid []string
	for _, r := range refs {
		s, err := findParam(st, r)
		if err != nil {
			if fault.Is(err, fault.NotFound) {
				invalid = append(invalid, r)
				continue
			}
			return nil, nil, err
		}
		found = append(found, s)
	}
	return found, invalid, nil
}

// ParamFilter is a ParameterStringFilter.
type ParamFilter struct {
	Key, Option string
	Values      []string
}

// ParametersByPath returns the parameters under a path (its direct
// children, or every descendant when recursive), by name.
func (p *Plane) ParametersByPath(ctx context.Context, sc secrets.Scope, path string, recursive bool, filters []ParamFilter) ([]*secrets.Parameter, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, secrets.Validation("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	var out []*secrets.Parameter
	for _, name := range sortedParamNames(st) {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		if !recursive && strings.Contains(name[len(prefix):], "/") {
			continue
		}
		if prm := st.Params[name]; matchParam(prm, filters) {
			out = append(out, prm)
		}
	}
	return out, nil
}

func sortedParamNames(st *secretstore.State) []string {
	names := make([]string, 0, len(st.Params))
	for n := range st.Params {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DescribeParameters lists parameters' metadata matching the filters.
func (p *Plane) DescribeParameters(ctx context.Context, sc secrets.Scope, filters []ParamFilter) ([]*secrets.Parameter, error) {
	for _, f := range filters {
		k := f.Key
		if !strings.HasPrefix(k, "tag:") && !slices.Contains([]string{"Name", "Type", "KeyId", "Path", "Label", "Tier", "DataType"}, k) {
			return nil, secrets.Coded(fault.InvalidParameter, secrets.CodeInvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: [Path, Name, Type, KeyId, Tier, Label, DataType, tag:<key>].", k)
		}
	}
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	var out []*secrets.Parameter
	for _, name := range sortedParamNames(st) {
		if prm := st.Params[name]; matchParam(prm, filters) {
			out = append(out, prm)
		}
	}
	return out, nil
}

// matchParam applies ParameterStringFilters (Equals and BeginsWith; Path
// with Recursive or OneLevel).
func matchParam(prm *secrets.Parameter, filters []ParamFilter) bool {
	v := prm.Latest()
	for _, f := range filters {
		var fields []string
		switch {
		case f.Key == "Name":
			fields = []string{prm.Name, strings.TrimPrefix(prm.Name, "/")}
		case f.Key == "Type":
			fields = []string{v.Type}
		case f.Key == "KeyId":
			fields = []string{v.KeyID}
		case f.Key == "Tier":
			fields = []string{v.Tier}
		case f.Key == "DataType":
			fields = []string{v.DataType}
		case f.Key == "Label":
			for _, x := range prm.Versions {
				fields = append(fields, x.Labels...)
			}
		case f.Key == "Path":
			ok := false
			for _, path := range f.Values {
				prefix := strings.TrimSuffix(path, "/") + "/"
				if strings.HasPrefix(prm.Name, prefix) && (f.Option == "Recursive" || !strings.Contains(prm.Name[len(prefix):], "/")) {
					ok = true
				}
			}
			if !ok {
				return false
			}
			continue
		case strings.HasPrefix(f.Key, "tag:"):
			for _, t := range prm.Tags {
				if t.Key == f.Key[4:] {
					fields = append(fields, t.Value)
				}
			}
			if len(f.Values) == 0 && len(fields) > 0 {
				continue
			}
		}
		ok := false
		for _, want := range f.Values {
			for _, have := range fields {
				if (f.Option == "BeginsWith" && strings.HasPrefix(have, want)) || (f.Option != "BeginsWith" && have == want) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// DeleteParameter deletes a parameter and its history.
func (p *Plane) DeleteParameter(ctx context.Context, sc secrets.Scope, name string) error {
	return p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		if st.Params[name] == nil {
			return secrets.ParameterNotFound(name)
		}
		tx.DeleteParam(name)
		return nil
	})
}

// DeleteParameters deletes up to ten parameters; it returns those
// deleted and the names not found.
func (p *Plane) DeleteParameters(ctx context.Context, sc secrets.Scope, names []string) ([]string, []string, error) {
	if len(names) == 0 || len(names) > 10 {
		return nil, nil, secrets.Validation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, and greater than or equal to 1")
	}
	var deleted, invalid []string
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		deleted, invalid = nil, nil
		for _, n := range names {
			if st.Params[n] == nil {
				invalid = append(invalid, n)
				continue
			}
			tx.DeleteParam(n)
			deleted = append(deleted, n)
		}
		return nil
	})
	return deleted, invalid, err
}

// Parameter returns a parameter with its whole history.
func (p *Plane) Parameter(ctx context.Context, sc secrets.Scope, name string) (*secrets.Parameter, error) {
	st, err := p.repo.Read(ctx, sc)
	if err != nil {
		return nil, err
	}
	prm := st.Params[name]
	if prm == nil {
		return nil, secrets.ParameterNotFound(name)
	}
	return prm, nil
}

var labelRE = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,100}$`)

func validLabel(l string) bool {
	low := strings.ToLower(l)
	return labelRE.MatchString(l) && !strings.HasPrefix(low, "aws") && !strings.HasPrefix(low, "ssm") && (l[0] < '0' || l[0] > '9')
}

// LabelParameterVersion attaches labels to a version (the latest when
// version is 0), moving them from other versions; invalid labels are
// returned, not applied.
func (p *Plane) LabelParameterVersion(ctx context.Context, sc secrets.Scope, name string, version int64, labels []string) (int64, []string, error) {
	var invalid []string
	var applied int64
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		invalid = nil
		prm := st.Params[name]
		if prm == nil {
			return secrets.ParameterNotFound(name)
		}
		v := prm.Latest()
		if version != 0 {
			if v = prm.ByVersion(version); v == nil {
				return secrets.Coded(fault.NotFound, secrets.CodeParameterVersion, "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
			}
		}
		for _, l := range labels {
			if !validLabel(l) {
				invalid = append(invalid, l)
				continue
			}
			for _, o := range prm.Versions {
				o.Labels = slices.DeleteFunc(o.Labels, func(x string) bool { return x == l })
			}
			v.Labels = append(v.Labels, l)
		}
		if len(v.Labels) > 10 {
			return secrets.Coded(fault.LimitExceeded, secrets.CodeParamLimit, "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.")
		}
		applied = v.Version
		tx.PutParam(prm)
		return nil
	})
	return applied, invalid, err
}

// UnlabelParameterVersion removes labels from a version; it returns the
// labels removed and those the version did not have.
func (p *Plane) UnlabelParameterVersion(ctx context.Context, sc secrets.Scope, name string, version int64, labels []string) ([]string, []string, error) {
	var removed, invalid []string
	err := p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		removed, invalid = nil, nil
		prm := st.Params[name]
		if prm == nil {
			return secrets.ParameterNotFound(name)
		}
		v := prm.ByVersion(version)
		if v == nil {
			return secrets.Coded(fault.NotFound, secrets.CodeParameterVersion, "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
		}
		for _, l := range labels {
			if slices.Contains(v.Labels, l) {
				v.Labels = slices.DeleteFunc(v.Labels, func(x string) bool { return x == l })
				removed = append(removed, l)
			} else {
				invalid = append(invalid, l)
			}
		}
		tx.PutParam(prm)
		return nil
	})
	return removed, invalid, err
}

// TagParameter and UntagParameter change a parameter's tags.
func (p *Plane) TagParameter(ctx context.Context, sc secrets.Scope, name string, tags []secrets.Tag, remove []string) error {
	return p.repo.Update(ctx, sc, func(st *secretstore.State, tx *secretstore.Tx) error {
		prm := st.Params[name]
		if prm == nil {
			return secrets.Coded(fault.NotFound, secrets.CodeInvalidResourceID, "The resource ID \"%s\" is not valid. Verify the ID and try again.", name)
		}
		prm.Tags = removeTags(mergeTags(prm.Tags, tags), remove)
		if len(prm.Tags) > 50 {
			return secrets.Coded(fault.LimitExceeded, "TooManyTagsError", "You can add up to 50 tags to a parameter.")
		}
		tx.PutParam(prm)
		return nil
	})
}
