package iampolicy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Document is a parsed policy document.
type Document struct {
	Version    string
	Statements []Statement
}

// Statement is one statement of a document.
type Statement struct {
	Sid         string
	Effect      string // "Allow" or "Deny"
	Actions     []string
	NotActions  []string
	Resources   []string
	NotResource []string
	// Principals maps a principal type ("AWS", "Service", "Federated",
	// "*") to its values; NotPrincipals likewise.
	Principals    map[string][]string
	NotPrincipals map[string][]string
	// Conditions maps an operator ("StringEquals", "ForAnyValue:StringLike",
	// "ArnLikeIfExists", ...) to keys and their values.
	Conditions map[string]map[string][]string
}

// MaxDocumentSize is the size limit of a managed policy document (IAM's
// 6,144 characters; inline role policies allow 10,240).
const MaxDocumentSize = 6144

// ParseError is a malformed document; its message is what IAM's
// MalformedPolicyDocument says.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func malformed(format string, args ...any) error {
	return &ParseError{Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a JSON policy document. trust says whether it is a trust
// (resource) policy: trust policies need a Principal and may omit
// Resource; identity policies must have a Resource and no Principal.
func Parse(doc string, trust bool) (*Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if raw.Version != "" && raw.Version != "2012-10-17" && raw.Version != "2008-10-17" {
		return nil, malformed("The policy must contain a valid version string")
	}
	if len(raw.Statement) == 0 {
		return nil, malformed("Policy document must contain a Statement.")
	}
	var rawStmts []map[string]json.RawMessage
	if raw.Statement[0] == '[' {
		if err := json.Unmarshal(raw.Statement, &rawStmts); err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, malformed("Syntax errors in policy.")
		}
		rawStmts = []map[string]json.RawMessage{one}
	}
	d := &Document{Version: raw.Version}
	for _, rs := range rawStmts {
		s, err := parseStatement(rs, trust)
		if err != nil {
			return nil, err
		}
		d.Statements = append(d.Statements, s)
	}
	return d, nil
}

func parseStatement(rs map[string]json.RawMessage, trust bool) (Statement, error) {
	var s Statement
	for k := range rs {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
		default:
			return s, malformed("Statement contains an unknown element %q.", k)
		}
	}
	if v, ok := rs["Sid"]; ok {
		if json.Unmarshal(v, &s.Sid) != nil {
			return s, malformed("Syntax errors in policy.")
		}
	}
	if json.Unmarshal(rs["Effect"], &s.Effect) != nil || (s.Effect != "Allow" && s.Effect != "Deny") {
		return s, malformed("Invalid effect: the Effect of every statement must be Allow or Deny.")
	}
	var err error
	if s.Actions, err = stringOrList(rs["Action"]); err != nil {
		return s, err
	}
	if s.NotActions, err = stringOrList(rs["NotAction"]); err != nil {
		return s, err
	}
	if (s.Actions == nil) == (s.NotActions == nil) {
		return s, malformed("Policy statement must contain actions.")
	}
	for _, a := range append(append([]string{}, s.Actions...), s.NotActions...) {
		if a != "*" && !strings.Contains(a, ":") {
			return s, malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
	}
	if s.Resources, err = stringOrList(rs["Resource"]); err != nil {
		return s, err
	}
	if s.NotResource, err = stringOrList(rs["NotResource"]); err != nil {
		return s, err
	}
	if s.Principals, err = principals(rs["Principal"]); err != nil {
		return s, err
	}
	if s.NotPrincipals, err = principals(rs["NotPrincipal"]); err != nil {
		return s, err
	}
	hasPrincipal := s.Principals != nil || s.NotPrincipals != nil
	if trust && !hasPrincipal {
		return s, malformed("Missing required field Principal")
	}
	if !trust {
		if hasPrincipal {
			return s, malformed("Policy document should not specify a principal.")
		}
		if s.Resources == nil && s.NotResource == nil {
			return s, malformed("Policy statement must contain resources.")
		}
	}
	if v, ok := rs["Condition"]; ok {
		var ops map[string]map[string]json.RawMessage
		if json.Unmarshal(v, &ops) != nil {
			return s, malformed("Syntax errors in policy.")
		}
		s.Conditions = map[string]map[string][]string{}
		for op, keys := range ops {
			if !knownOperator(op) {
				return s, malformed("Invalid Condition type : %s.", op)
			}
			s.Conditions[op] = map[string][]string{}
			for k, raw := range keys {
				vals, err := scalarOrList(raw)
				if err != nil {
					return s, err
				}
				s.Conditions[op][k] = vals
			}
		}
	}
	return s, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	if many == nil {
		many = []string{}
	}
	return many, nil
}

// scalarOrList reads condition values, which may be strings, numbers or
// booleans, alone or in a list.
func scalarOrList(raw json.RawMessage) ([]string, error) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case float64, bool:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, malformed("Syntax errors in policy.")
		}
	}
	return out, nil
}

func principals(raw json.RawMessage) (map[string][]string, error) {
	if raw == nil {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, malformed("Invalid principal in policy: %q", star)
		}
		return map[string][]string{"*": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, malformed("Syntax errors in policy.")
	}
	out := map[string][]string{}
	for typ, v := range m {
		switch typ {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, malformed("Invalid principal in policy: unknown principal type %q", typ)
		}
		vals, err := stringOrList(v)
		if err != nil {
			return nil, err
		}
		out[typ] = vals
	}
	return out, nil
}
