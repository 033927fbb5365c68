package ecs

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
)

func TestValidateTags(t *testing.T) {
	cases := map[string]struct {
		tags []Tag
		msg  string // "" means valid
	}{
		"ordinary":               {[]Tag{{Key: "team", Value: "web"}}, ""},
		"all allowed characters": {[]Tag{{Key: "a b_c.d:e/f=g+h-i@j", Value: "Zürich 東京 ٣"}}, ""},
		"empty value":            {[]Tag{{Key: "k", Value: ""}}, ""},
		"128-character key":      {[]Tag{{Key: strings.Repeat("é", 128)}}, ""},
		"256-character value":    {[]Tag{{Key: "k", Value: strings.Repeat("v", 256)}}, ""},
		"empty key":              {[]Tag{{Key: "", Value: "v"}}, "Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"129-character key":      {[]Tag{{Key: strings.Repeat("k", 129)}}, "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		"257-character value":    {[]Tag{{Key: "k", Value: strings.Repeat("v", 257)}}, "Member must have length less than or equal to 256"},
		"key with a comma":       {[]Tag{{Key: "a,b"}}, `1 validation error detected: Value 'a,b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ([\p{L}\p{Z}\p{N}_.:/=+\-@]*)`},
		"value with a quote":     {[]Tag{{Key: "ok", Value: "ok"}, {Key: "k", Value: `a"b`}}, `at 'tags.2.member.value' failed to satisfy constraint`},
		"key with a newline":     {[]Tag{{Key: "a\nb"}}, "regular expression pattern"},
		"value with an emoji":    {[]Tag{{Key: "k", Value: "🚢"}}, "regular expression pattern"},
		"key not UTF-8":          {[]Tag{{Key: "a\xffb"}}, "is not valid UTF-8"},
		"value not UTF-8":        {[]Tag{{Key: "k", Value: "\xc3"}}, "is not valid UTF-8"},
		"replacement character":  {[]Tag{{Key: "k", Value: "\uFFFD"}}, "is not valid UTF-8"},
		"aws: prefix":            {[]Tag{{Key: "AWS:x"}}, "reserved for AWS use"},
		"51 tags":                {make([]Tag, 51), "at most 50 tags"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateTags(c.tags)
			switch {
			case c.msg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.msg != "" && (!fault.Is(err, fault.InvalidParameter) || !strings.Contains(err.Error(), c.msg)):
				t.Fatalf("got %v, want an InvalidParameterException saying %q", err, c.msg)
			}
		})
	}
}

func TestValidateTagKeys(t *testing.T) {
	cases := map[string]struct {
		keys []string
		msg  string
	}{
		"one key":     {[]string{"team"}, ""},
		"missing":     {nil, "tagKeys must contain at least one tag key."},
		"empty list":  {[]string{}, "tagKeys must contain at least one tag key."},
		"empty key":   {[]string{"team", ""}, "at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"bad key":     {[]string{"a|b"}, "regular expression pattern"},
		"aws: prefix": {[]string{"aws:cloudformation:stack-name"}, "reserved for AWS use"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateTagKeys(c.keys)
			switch {
			case c.msg == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.msg != "" && (!fault.Is(err, fault.InvalidParameter) || !strings.Contains(err.Error(), c.msg)):
				t.Fatalf("got %v, want an InvalidParameterException saying %q", err, c.msg)
			}
		})
	}
}
