package elb

import (
	"net/netip"
	"regexp"
	"sort"
	"strconv"
)

// Condition fields.
const (
	FieldPathPattern   = "path-pattern"
	FieldHostHeader    = "host-header"
	FieldHTTPHeader    = "http-header"
	FieldRequestMethod = "http-request-method"
	FieldQueryString   = "query-string"
	FieldSourceIP      = "source-ip"
)

// Condition is one condition of a rule. Values holds the patterns (hosts,
// paths, header values, methods, CIDRs); Query the key/value pairs of a
// query-string condition.
type Condition struct {
	Field      string
	HeaderName string
	Values     []string
	Query      []QueryPair
}

// QueryPair is one query-string pattern (an empty key matches any key).
type QueryPair struct {
	Key   string
	Value string
}

// Rule is a listener rule. The default rule (IsDefault) has no priority
// and no conditions; its actions are the listener's default actions.
type Rule struct {
	ARN         string
	ID          string
	ListenerARN string
	Priority    int
	IsDefault   bool
	Conditions  []Condition
	Actions     []Action
	Tags        []Tag
}

// PriorityText is the priority as the API spells it ("default" for the
// default rule).
func (r *Rule) PriorityText() string {
	if r.IsDefault {
		return "default"
	}
	return strconv.Itoa(r.Priority)
}

var (
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9.*?-]{1,128}$`)
	methodPattern = regexp.MustCompile(`^[A-Z_-]{1,40}$`)
	headerName    = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]{1,40}$`)
)

// CheckConditions validates a rule's conditions.
func CheckConditions(conds []Condition) error {
	if len(conds) == 0 {
		return Validationf("A rule must have at least one condition")
	}
	once := map[string]bool{}
	total := 0
	for _, c := range conds {
		n := len(c.Values)
		if c.Field == FieldQueryString {
			n = len(c.Query)
		}
		if n == 0 {
			return Validationf("Condition '%s' must have at least one value", c.Field)
		}
		total += n
		switch c.Field {
		case FieldHostHeader, FieldPathPattern, FieldRequestMethod, FieldSourceIP:
			if once[c.Field] {
				return Validationf("A rule can have only one '%s' condition", c.Field)
			}
			once[c.Field] = true
		}
		if err := checkCondition(c); err != nil {
			return err
		}
	}
	if total > MaxConditionValues {
		return Validationf("A rule can have at most %d condition values in all; this one has %d", MaxConditionValues, total)
	}
	return nil
}

func checkCondition(c Condition) error {
	switch c.Field {
	case FieldHostHeader:
		for _, v := range c.Values {
			if !hostPattern.MatchString(v) {
				return Validationf("Host header pattern '%s' is not valid; it may have up to 128 characters A-Z, a-z, 0-9, '-', '.', '*' and '?'", v)
			}
		}
	case FieldPathPattern:
		for _, v := range c.Values {
			if v == "" || len(v) > 128 {
				return Validationf("Path pattern '%s' is not valid; it must have 1-128 characters", v)
			}
		}
	case FieldHTTPHeader:
		if !headerName.MatchString(c.HeaderName) {
			return Validationf("HTTP header name '%s' is not valid", c.HeaderName)
		}
		for _, v := range c.Values {
			if v == "" || len(v) > 128 {
				return Validationf("HTTP header pattern '%s' is not valid; it must have 1-128 characters", v)
			}
		}
	case FieldRequestMethod:
		for _, v := range c.Values {
			if !methodPattern.MatchString(v) {
				return Validationf("HTTP request method '%s' is not valid; methods are upper case letters, '_' and '-'", v)
			}
		}
	case FieldQueryString:
		for _, q := range c.Query {
			if q.Value == "" || len(q.Key) > 128 || len(q.Value) > 128 {
				return Validationf("Query string condition values need a value of 1-128 characters (the key is optional)")
			}
		}
	case FieldSourceIP:
		for _, v := range c.Values {
			if _, err := netip.ParsePrefix(v); err != nil {
				return Validationf("Source IP '%s' is not valid; it must be a CIDR block like 10.0.0.0/16", v)
			}
		}
	case "":
		return Validationf("A condition field must be specified")
	default:
		return Validationf("Condition field '%s' is not valid; valid values: path-pattern, host-header, http-header, http-request-method, query-string, source-ip", c.Field)
	}
	return nil
}

// CheckPriority validates a rule priority.
func CheckPriority(p int) error {
	if p < 1 || p > 50000 {
		return Validationf("Rule priority %d is not valid; it must be from 1 to 50000", p)
	}
	return nil
}

// SortRules orders rules by priority, the default rule last.
func SortRules(rules []*Rule) {
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if a.IsDefault != b.IsDefault {
			return b.IsDefault
		}
		return a.Priority < b.Priority
	})
}
