package elb

import (
	"strings"
	"unicode/utf8"
)

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// CheckTags validates a tag list as AddTags and the Create actions do.
func CheckTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return Coded(CodeTooManyTags, "A resource can have at most %d tags", MaxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 {
			return Validationf("Tag keys must be 1-128 characters long")
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return Validationf("Tag value of key '%s' is longer than 256 characters", t.Key)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return Validationf("Tag key '%s' is not valid: the prefix 'aws:' is reserved", t.Key)
		}
		if seen[t.Key] {
			return Coded(CodeDuplicateTagKeys, "Tag key '%s' is specified more than once", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// MergeTags returns cur with add applied (a key in add replaces its value).
func MergeTags(cur, add []Tag) ([]Tag, error) {
	if err := CheckTags(add); err != nil {
		return nil, err
	}
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, Coded(CodeTooManyTags, "A resource can have at most %d tags", MaxTags)
	}
	return out, nil
}

// RemoveTags returns cur without the given keys.
func RemoveTags(cur []Tag, keys []string) []Tag {
	drop := map[string]bool{}
	for _, k := range keys {
		drop[k] = true
	}
	out := make([]Tag, 0, len(cur))
	for _, t := range cur {
		if !drop[t.Key] {
			out = append(out, t)
		}
	}
	return out
}
