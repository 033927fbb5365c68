package ecs

import (
	"strings"
	"unicode/utf8"
)

// MaxTags is the most tags one resource may carry.
const MaxTags = 50

// ValidateTags checks tags as ECS does.
func ValidateTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return invalidParam("Too many tags: a resource can have at most %d tags.", MaxTags)
	}
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 {
			return invalidParam("Tag key %q is invalid: it must be 1 to 128 characters.", t.Key)
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return invalidParam("Tag value for key %q is too long: at most 256 characters.", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidParam("Tag keys starting with 'aws:' are reserved for AWS use (key %q).", t.Key)
		}
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
