package ecs

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tag limits (ECS's Tag shape).
const (
	// MaxTags is the most tags one resource may carry.
	MaxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagPattern is the character set of tag keys and values as ECS's model
// writes it: letters, numbers and spaces in UTF-8, and _ . : / = + - @.
const tagPattern = `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)`

var tagCharsRE = regexp.MustCompile(`^` + tagPattern + `$`)

// ValidateTags checks tags as ECS does.
func ValidateTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return invalidParam("Too many tags: a resource can have at most %d tags.", MaxTags)
	}
	for i, t := range tags {
		if err := validateTagKey(t.Key, "tags", i); err != nil {
			return err
		}
		if !utf8.ValidString(t.Value) || strings.ContainsRune(t.Value, utf8.RuneError) {
			return invalidParam("Tag value for key %q is not valid UTF-8.", t.Key)
		}
		if utf8.RuneCountInString(t.Value) > maxTagValueLen {
			return invalidParam("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to %d", t.Value, i+1, maxTagValueLen)
		}
		if !tagCharsRE.MatchString(t.Value) {
			return invalidParam("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", t.Value, i+1, tagPattern)
		}
	}
	return nil
}

// ValidateTagKeys checks UntagResource's tagKeys: at least one, each a
// valid tag key.
func ValidateTagKeys(keys []string) error {
	if len(keys) == 0 {
		return invalidParam("tagKeys must contain at least one tag key.")
	}
	for i, k := range keys {
		if err := validateTagKey(k, "tagKeys", i); err != nil {
			return err
		}
	}
	return nil
}

// validateTagKey checks the key at index i of the list member.
func validateTagKey(key, member string, i int) error {
	where := member + "." + strconv.Itoa(i+1) + ".member"
	if member == "tags" {
		where += ".key"
	}
	switch {
	case !utf8.ValidString(key) || strings.ContainsRune(key, utf8.RuneError):
		return invalidParam("Tag key %q is not valid UTF-8.", key)
	case key == "":
		return invalidParam("1 validation error detected: Value '' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", where)
	case utf8.RuneCountInString(key) > maxTagKeyLen:
		return invalidParam("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", key, where, maxTagKeyLen)
	case !tagCharsRE.MatchString(key):
		return invalidParam("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", key, where, tagPattern)
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return invalidParam("Tag keys starting with 'aws:' are reserved for AWS use (key %q).", key)
	}
	return nil
}

// MergeTags applies add on top of existing (same key replaces) and returns
// the result, in first-seen key order.
func MergeTags(existing, add []Tag) []Tag {
	out := append([]Tag(nil), existing...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// RemoveTags drops tags with the given keys.
func RemoveTags(existing []Tag, keys []string) []Tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	out := []Tag{}
	for _, t := range existing {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}
