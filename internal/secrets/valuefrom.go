package secrets

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Ref is a parsed `secrets[].valueFrom` of a task definition.
type Ref struct {
	// Kind is "secret" (Secrets Manager), "parameter" (SSM) or "name"
	// (a bare name: a parameter if one exists, else a secret).
	Kind  string
	Scope Scope
	// ID is the secret's ID (its ARN without the ECS suffix, or its
	// name) or the parameter's name.
	ID string
	// JSONKey, VersionStage and VersionID select from a secret
	// (arn:...:secret:name:json-key:version-stage:version-id).
	JSONKey, VersionStage, VersionID string
}

// ParseValueFrom parses a valueFrom in the context of a task's scope. A
// Secrets Manager ARN may carry ECS's suffix
// ":json-key:version-stage:version-id" (each part may be empty); an ARN
// whose region or account is not real (the seed's "arn:aws:secretsmanager:...:secret:db-password")
// is taken in the task's scope.
func ParseValueFrom(task Scope, v string) (Ref, bool) {
	if v == "" {
		return Ref{}, false
	}
	if !strings.HasPrefix(v, "arn:") {
		if strings.HasPrefix(v, "/") {
			return Ref{Kind: "parameter", Scope: task, ID: v}, true
		}
		return Ref{Kind: "name", Scope: task, ID: v}, true
	}
	switch {
	case strings.HasPrefix(v, "arn:aws:secretsmanager:"):
		i := strings.Index(v, ":secret:")
		if i < 0 {
			return Ref{}, false
		}
		sc := scopeOf(task, v[len("arn:aws:secretsmanager:"):i])
		parts := strings.Split(v[i+len(":secret:"):], ":")
		if parts[0] == "" || len(parts) > 4 {
			return Ref{}, false
		}
		r := Ref{Kind: "secret", Scope: sc, ID: "arn:aws:secretsmanager:" + sc.Region + ":" + sc.Account + ":secret:" + parts[0]}
		if len(parts) > 1 {
			r.JSONKey = parts[1]
		}
		if len(parts) > 2 {
			r.VersionStage = parts[2]
		}
		if len(parts) > 3 {
			r.VersionID = parts[3]
		}
		return r, true
	case strings.HasPrefix(v, "arn:aws:ssm:"):
		i := strings.Index(v, ":parameter/")
		if i < 0 {
			return Ref{}, false
		}
		sc := scopeOf(task, v[len("arn:aws:ssm:"):i])
		name := v[i+len(":parameter"):] // keeps the leading "/"
		if name == "/" {
			return Ref{}, false
		}
		// A parameter named without a leading slash has an ARN
		// ".../parameter/name" too: the resolver tries both names.
		return Ref{Kind: "parameter", Scope: sc, ID: name}, true
	}
	return Ref{}, false
}

// scopeOf reads "region:account" from an ARN, falling back to the task's
// scope for parts that are not real.
func scopeOf(task Scope, regionAccount string) Scope {
	region, account, _ := strings.Cut(regionAccount, ":")
	sc := task
	if region != "" && !strings.Contains(region, ".") {
		sc.Region = region
	}
	if len(account) == 12 && strings.Trim(account, "0123456789") == "" {
		sc.Account = account
	}
	return sc
}

// JSONKey returns the member key of a secret's JSON value, as ECS's
// json-key selector reads it (a string member as is, others as JSON).
func JSONKey(secretString, key string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(secretString), &m); err != nil {
		return "", fmt.Errorf("the secret value is not a JSON object, so json key %s cannot be read", key)
	}
	val, ok := m[key]
	if !ok {
		return "", fmt.Errorf("json key %s not found in the secret value", key)
	}
	if s, ok := val.(string); ok {
		return s, nil
	}
	b, _ := json.Marshal(val)
	return string(b), nil
}

// ParameterNames returns the names a parameter reference may mean: a
// parameter ARN's ".../parameter/name" is "/name" or "name".
func ParameterNames(id string) []string {
	if strings.HasPrefix(id, "/") && !strings.Contains(id[1:], "/") {
		return []string{id, id[1:]}
	}
	return []string{id}
}
