package iam

import (
	"regexp"
	"strings"
)

var (
	nameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathRE = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

// ValidName checks an entity name against IAM's pattern and length.
func ValidName(member, name string, max int) error {
	switch {
	case name == "":
		return Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	case len(name) > max:
		return Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", name, member, max)
	case !nameRE.MatchString(name):
		return Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name, member)
	}
	return nil
}

// NormPath defaults an empty path to "/" and checks it.
func NormPath(path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 || !pathRE.MatchString(path) {
		return "", Validation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

// PathMatches reports whether path is under prefix (ListRoles PathPrefix).
func PathMatches(path, prefix string) bool { return prefix == "" || strings.HasPrefix(path, prefix) }
