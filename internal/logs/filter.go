package logs

import (
	"regexp"
	"strings"
)

// Pattern is a parsed CloudWatch Logs filter pattern.
type Pattern interface {
	// Match reports whether a log event's message matches.
	Match(message string) bool
}

// ParsePattern parses a filter pattern: "" matches everything; "{ ... }"
// is a JSON selector expression; "[ ... ]" names space-delimited fields;
// anything else is a list of terms ("quoted phrases", ?alternatives,
// -exclusions, %regular expressions%).
func ParsePattern(src string) (Pattern, error) {
	s := strings.TrimSpace(src)
	switch {
	case s == "":
		return matchAll{}, nil
	case strings.HasPrefix(s, "{"):
		p, err := parseJSONPattern(s)
		if err != nil {
			return nil, Invalidf("Invalid filter pattern '%s': %v", src, err)
		}
		return p, nil
	case strings.HasPrefix(s, "["):
		p, err := parseFieldsPattern(s)
		if err != nil {
			return nil, Invalidf("Invalid filter pattern '%s': %v", src, err)
		}
		return p, nil
	}
	p, err := parseTerms(s)
	if err != nil {
		return nil, Invalidf("Invalid filter pattern '%s': %v", src, err)
	}
	return p, nil
}

type matchAll struct{}

func (matchAll) Match(string) bool { return true }

// term is one word, phrase or regular expression of a term pattern.
type term struct {
	text string
	re   *regexp.Regexp
}

func (t term) in(msg string) bool {
	if t.re != nil {
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.text)
}

// termPattern matches when every required term is present, no excluded
// term is, and (if there are any) at least one ?alternative is.
type termPattern struct {
	required, excluded, any []term
}

func (p *termPattern) Match(msg string) bool {
	for _, t := range p.required {
		if !t.in(msg) {
			return false
		}
	}
	for _, t := range p.excluded {
		if t.in(msg) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if t.in(msg) {
			return true
		}
	}
	return false
}

func parseTerms(s string) (*termPattern, error) {
	p := &termPattern{}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		mod := byte(0)
		if s[i] == '?' || s[i] == '-' {
			mod = s[i]
			i++
			if i == len(s) {
				return nil, errf("a term is missing after '%c'", mod)
			}
		}
		var t term
		switch s[i] {
		case '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, errf("unterminated quoted phrase")
			}
			t.text = s[i+1 : i+1+end]
			i += end + 2
		case '%':
			end := strings.IndexByte(s[i+1:], '%')
			if end < 0 {
				return nil, errf("unterminated regular expression")
			}
			re, err := regexp.Compile(s[i+1 : i+1+end])
			if err != nil {
				return nil, errf("regular expression: %v", err)
			}
			t.re = re
			i += end + 2
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			t.text = s[i:j]
			i = j
		}
		switch mod {
		case '?':
			p.any = append(p.any, t)
		case '-':
			p.excluded = append(p.excluded, t)
		default:
			p.required = append(p.required, t)
		}
	}
	return p, nil
}

type patternError string

func (e patternError) Error() string { return string(e) }

func errf(format string, args ...any) error {
	return patternError(sprintf(format, args...))
}
