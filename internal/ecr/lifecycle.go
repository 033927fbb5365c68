package ecr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// Lifecycle policy vocabulary (ECR's lifecycle policy JSON).
const (
	TagStatusTagged   = "tagged"
	TagStatusUntagged = "untagged"
	TagStatusAny      = "any"

	CountTypeImageCountMoreThan = "imageCountMoreThan"
	CountTypeSinceImagePushed   = "sinceImagePushed"
	CountTypeSinceImagePulled   = "sinceImagePulled"

	CountUnitDays = "days"

	ActionExpire = "expire"

	// MaxTagPatternWildcards is ECR's limit of '*' per tagPatternList entry.
	MaxTagPatternWildcards = 4

	// LifecyclePolicyTextMin and LifecyclePolicyTextMax bound the length of
	// a lifecycle policy document (ECR's lifecyclePolicyText constraint).
	LifecyclePolicyTextMin = 100
	LifecyclePolicyTextMax = 30720
)

// LifecyclePolicy is a parsed, validated lifecycle policy. Rules are sorted
// by RulePriority (lowest first: evaluated first).
type LifecyclePolicy struct {
	Rules []LifecycleRule
}

// LifecycleRule is one rule of a lifecycle policy.
type LifecycleRule struct {
	RulePriority int
	Description  string
	Selection    LifecycleSelection
	// Action is always ActionExpire.
	Action string
}

// LifecycleSelection says which images a rule applies to and when.
type LifecycleSelection struct {
	TagStatus      string
	TagPrefixList  []string
	TagPatternList []string
	CountType      string
	// CountUnit is CountUnitDays for the age count types, "" otherwise.
	CountUnit   string
	CountNumber int
}

// LifecycleImage is what the evaluator needs to know about an image.
type LifecycleImage struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
	// LastPulledAt is zero when the image was never pulled.
	LastPulledAt time.Time
}

// Expiration is an image a lifecycle policy expires and the rule that does.
type Expiration struct {
	Image        LifecycleImage
	RulePriority int
}

// lifecycleError is the InvalidParameterException ECR returns for a policy
// document that fails validation.
func lifecycleError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fault.New(fault.InvalidParameter,
		"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", msg).
		WithCode("InvalidParameterException")
}

// wire shapes of the policy document; pointers tell a missing member from
// a zero one.
type lpDoc struct {
	Rules *[]json.RawMessage `json:"rules"`
}

type lpRule struct {
	RulePriority *jsonInt     `json:"rulePriority"`
	Description  *string      `json:"description"`
	Selection    *lpSelection `json:"selection"`
	Action       *lpAction    `json:"action"`
}

type lpSelection struct {
	TagStatus      *string   `json:"tagStatus"`
	TagPrefixList  *[]string `json:"tagPrefixList"`
	TagPatternList *[]string `json:"tagPatternList"`
	StorageClass   *string   `json:"storageClass"`
	CountType      *string   `json:"countType"`
	CountUnit      *string   `json:"countUnit"`
	CountNumber    *jsonInt  `json:"countNumber"`
}

type lpAction struct {
	Type               *string `json:"type"`
	TargetStorageClass *string `json:"targetStorageClass"`
}

// strictDecode decodes b into v, refusing unknown members and trailing data.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

// describeJSONErr turns a decoding error into the validation message.
func describeJSONErr(where string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = where
		} else {
			field = where + "." + field
		}
		return fmt.Sprintf("instance type (%s) of %s does not match any allowed primitive type", te.Value, field)
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("object instance %s has properties which are not allowed by the schema: [%s]", where, s)
	}
	return fmt.Sprintf("%s is not valid JSON: %v", where, err)
}

// jsonInt is a JSON number member (a JSON string is a type error, as in
// ECR's schema validation).
type jsonInt struct{ json.Number }

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return &json.UnmarshalTypeError{Value: jsonKindOf(b), Type: reflect.TypeFor[int]()}
	}
	n.Number = json.Number(b)
	return nil
}

func jsonKindOf(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// positiveInt parses a JSON number that must be an integer >= 1.
func positiveInt(jn jsonInt, what string) (int, error) {
	n := jn.Number
	v, err := n.Int64()
	if err != nil {
		return 0, lifecycleError("%s %s is not an integer", what, n)
	}
	if v < 1 || v > 1<<31-1 {
		return 0, lifecycleError("%s %s is out of range: it must be between 1 and %d", what, n, 1<<31-1)
	}
	return int(v), nil
}

// ParseLifecyclePolicy parses and validates a lifecycle policy document as
// PutLifecyclePolicy and StartLifecyclePolicyPreview do. Errors are
// fault.InvalidParameter with ECR's InvalidParameterException code.
func ParseLifecyclePolicy(text string) (*LifecyclePolicy, error) {
	if n := len(text); n < LifecyclePolicyTextMin || n > LifecyclePolicyTextMax {
		return nil, fault.New(fault.InvalidParameter,
			"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Member must have length between %d and %d' (got %d)",
			LifecyclePolicyTextMin, LifecyclePolicyTextMax, n).WithCode("InvalidParameterException")
	}
	var doc lpDoc
	if err := strictDecode([]byte(text), &doc); err != nil {
		return nil, lifecycleError("%s", describeJSONErr("(root)", err))
	}
	if doc.Rules == nil {
		return nil, lifecycleError("object has missing required properties ([\"rules\"])")
	}
	if len(*doc.Rules) == 0 {
		return nil, lifecycleError("the policy must contain at least one rule")
	}
	p := &LifecyclePolicy{}
	seen := map[int]bool{}
	for i, raw := range *doc.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		var r lpRule
		if err := strictDecode(raw, &r); err != nil {
			return nil, lifecycleError("%s", describeJSONErr(where, err))
		}
		rule, err := validateRule(where, &r)
		if err != nil {
			return nil, err
		}
		if seen[rule.RulePriority] {
			return nil, lifecycleError("rulePriority %d is used by more than one rule: each rule must have a unique rulePriority", rule.RulePriority)
		}
		seen[rule.RulePriority] = true
		p.Rules = append(p.Rules, rule)
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].RulePriority < p.Rules[j].RulePriority })
	untagged := 0
	for i, r := range p.Rules {
		switch r.Selection.TagStatus {
		case TagStatusAny:
			if i != len(p.Rules)-1 {
				return nil, lifecycleError("the rule with tagStatus 'any' (rulePriority %d) must have the highest rulePriority, and there may only be one such rule", r.RulePriority)
			}
		case TagStatusUntagged:
			untagged++
			if untagged > 1 {
				return nil, lifecycleError("only one rule may select untagged images (rulePriority %d is the second)", r.RulePriority)
			}
		}
	}
	return p, nil
}

func validateRule(where string, r *lpRule) (LifecycleRule, error) {
	var out LifecycleRule
	var missing []string
	if r.RulePriority == nil {
		missing = append(missing, `"rulePriority"`)
	}
	if r.Selection == nil {
		missing = append(missing, `"selection"`)
	}
	if r.Action == nil {
		missing = append(missing, `"action"`)
	}
	if len(missing) > 0 {
		return out, lifecycleError("object instance %s has missing required properties ([%s])", where, strings.Join(missing, ","))
	}
	prio, err := positiveInt(*r.RulePriority, "rulePriority")
	if err != nil {
		return out, err
	}
	out.RulePriority = prio
	if r.Description != nil {
		out.Description = *r.Description
	}

	// action
	if r.Action.Type == nil {
		return out, lifecycleError("object instance %s.action has missing required properties ([\"type\"])", where)
	}
	switch *r.Action.Type {
	case ActionExpire:
	case "transition":
		return out, lifecycleError("action type 'transition' (archiving) is not supported by berth; use 'expire'")
	default:
		return out, lifecycleError("instance value (%q) of %s.action.type not found in enum (possible values: [\"expire\"])", *r.Action.Type, where)
	}
	if r.Action.TargetStorageClass != nil {
		return out, lifecycleError("targetStorageClass may only be specified with action type 'transition'")
	}
	out.Action = ActionExpire

	// selection
	s := r.Selection
	missing = nil
	if s.TagStatus == nil {
		missing = append(missing, `"tagStatus"`)
	}
	if s.CountType == nil {
		missing = append(missing, `"countType"`)
	}
	if s.CountNumber == nil {
		missing = append(missing, `"countNumber"`)
	}
	if len(missing) > 0 {
		return out, lifecycleError("object instance %s.selection has missing required properties ([%s])", where, strings.Join(missing, ","))
	}
	if s.StorageClass != nil && *s.StorageClass != "standard" {
		return out, lifecycleError("storageClass %q is not supported by berth (only 'standard')", *s.StorageClass)
	}
	sel := &out.Selection
	sel.TagStatus = *s.TagStatus
	switch sel.TagStatus {
	case TagStatusTagged:
		hasPrefix := s.TagPrefixList != nil
		hasPattern := s.TagPatternList != nil
		switch {
		case !hasPrefix && !hasPattern:
			return out, lifecycleError("tagPrefixList or tagPatternList is required when tagStatus is 'tagged' (rulePriority %d)", prio)
		case hasPrefix && hasPattern:
			return out, lifecycleError("tagPrefixList and tagPatternList cannot both be specified (rulePriority %d)", prio)
		case hasPrefix:
			if len(*s.TagPrefixList) == 0 {
				return out, lifecycleError("tagPrefixList must not be empty (rulePriority %d)", prio)
			}
			for _, t := range *s.TagPrefixList {
				if t == "" {
					return out, lifecycleError("tagPrefixList must not contain an empty prefix (rulePriority %d)", prio)
				}
			}
			sel.TagPrefixList = slices.Clone(*s.TagPrefixList)
		default:
			if len(*s.TagPatternList) == 0 {
				return out, lifecycleError("tagPatternList must not be empty (rulePriority %d)", prio)
			}
			for _, t := range *s.TagPatternList {
				if t == "" {
					return out, lifecycleError("tagPatternList must not contain an empty pattern (rulePriority %d)", prio)
				}
				if n := strings.Count(t, "*"); n > MaxTagPatternWildcards {
					return out, lifecycleError("tag pattern %q has %d wildcards; a pattern may contain at most %d", t, n, MaxTagPatternWildcards)
				}
			}
			sel.TagPatternList = slices.Clone(*s.TagPatternList)
		}
	case TagStatusUntagged, TagStatusAny:
		if s.TagPrefixList != nil || s.TagPatternList != nil {
			return out, lifecycleError("tagPrefixList and tagPatternList may only be specified when tagStatus is 'tagged' (rulePriority %d has tagStatus %q)", prio, sel.TagStatus)
		}
	default:
		return out, lifecycleError("instance value (%q) of %s.selection.tagStatus not found in enum (possible values: [\"tagged\",\"untagged\",\"any\"])", sel.TagStatus, where)
	}

	sel.CountType = *s.CountType
	switch sel.CountType {
	case CountTypeImageCountMoreThan:
		if s.CountUnit != nil {
			return out, lifecycleError("countUnit cannot be specified when countType is 'imageCountMoreThan' (rulePriority %d)", prio)
		}
	case CountTypeSinceImagePushed, CountTypeSinceImagePulled:
		if s.CountUnit == nil {
			return out, lifecycleError("countUnit is required when countType is %q (rulePriority %d)", sel.CountType, prio)
		}
		if *s.CountUnit != CountUnitDays {
			return out, lifecycleError("instance value (%q) of %s.selection.countUnit not found in enum (possible values: [\"days\"])", *s.CountUnit, where)
		}
		sel.CountUnit = CountUnitDays
	case "sinceImageTransitioned":
		return out, lifecycleError("countType 'sinceImageTransitioned' (archiving) is not supported by berth")
	default:
		return out, lifecycleError("instance value (%q) of %s.selection.countType not found in enum (possible values: [\"imageCountMoreThan\",\"sinceImagePushed\",\"sinceImagePulled\"])", sel.CountType, where)
	}
	n, err := positiveInt(*s.CountNumber, "countNumber")
	if err != nil {
		return out, err
	}
	sel.CountNumber = n
	return out, nil
}

// MatchTagPattern reports whether tag matches pattern, in which '*' matches
// any run of characters (including none) and everything else matches itself.
func MatchTagPattern(pattern, tag string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == tag
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(tag, first) {
		return false
	}
	rest := tag[len(first):]
	if len(rest) < len(last) || !strings.HasSuffix(rest, last) {
		return false
	}
	rest = rest[:len(rest)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return true
}

// Matches reports whether the rule's selection (its tag filter, not its
// count) selects an image with these tags. For a tagged rule every prefix
// (or pattern) of the list must match at least one of the image's tags.
func (s LifecycleSelection) Matches(tags []string) bool {
	switch s.TagStatus {
	case TagStatusAny:
		return true
	case TagStatusUntagged:
		return len(tags) == 0
	case TagStatusTagged:
		if len(tags) == 0 {
			return false
		}
		for _, p := range s.TagPrefixList {
			if !slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, p) }) {
				return false
			}
		}
		for _, p := range s.TagPatternList {
			if !slices.ContainsFunc(tags, func(t string) bool { return MatchTagPattern(p, t) }) {
				return false
			}
		}
		return true
	}
	return false
}

// newerFirst orders images by push time, newest first (ties by digest, so
// that evaluation is deterministic).
func newerFirst(a, b LifecycleImage) int {
	if c := b.PushedAt.Compare(a.PushedAt); c != 0 {
		return c
	}
	return strings.Compare(a.Digest, b.Digest)
}

// Evaluate applies the policy to a repository's images at time now and
// returns the images it expires, oldest first, each with the rule that
// expires it. It follows ECR's evaluation rules:
//
//   - rules are evaluated by ascending rulePriority;
//   - an image is expired by at most one rule;
//   - an image that matches the tag selection of a higher-priority rule
//     cannot be expired by a lower-priority rule, whether the higher rule
//     expired it or kept it;
//   - but every rule still counts, in its imageCountMoreThan ranking, all
//     images its selection matches, including those seen or expired by
//     higher-priority rules;
//   - imageCountMoreThan keeps the countNumber most recently pushed matching
//     images and selects the older ones; sinceImagePushed selects matching
//     images pushed more than countNumber days before now
//     (sinceImagePulled: last pulled, or pushed when never pulled).
func (p *LifecyclePolicy) Evaluate(images []LifecycleImage, now time.Time) []Expiration {
	sorted := slices.Clone(images)
	slices.SortFunc(sorted, newerFirst)
	expiredBy := map[string]int{} // digest -> rule priority
	seen := map[string]bool{}     // matched by an earlier (higher-priority) rule
	for _, r := range p.Rules {
		var matched []LifecycleImage
		for _, img := range sorted {
			if r.Selection.Matches(img.Tags) {
				matched = append(matched, img)
			}
		}
		var candidates []LifecycleImage
		switch r.Selection.CountType {
		case CountTypeImageCountMoreThan:
			if len(matched) > r.Selection.CountNumber {
				candidates = matched[r.Selection.CountNumber:]
			}
		case CountTypeSinceImagePushed, CountTypeSinceImagePulled:
			cutoff := now.Add(-time.Duration(r.Selection.CountNumber) * 24 * time.Hour)
			for _, img := range matched {
				t := img.PushedAt
				if r.Selection.CountType == CountTypeSinceImagePulled && img.LastPulledAt.After(t) {
					t = img.LastPulledAt
				}
				if t.Before(cutoff) {
					candidates = append(candidates, img)
				}
			}
		}
		for _, img := range candidates {
			if _, done := expiredBy[img.Digest]; done || seen[img.Digest] {
				continue
			}
			expiredBy[img.Digest] = r.RulePriority
		}
		for _, img := range matched {
			seen[img.Digest] = true
		}
	}
	var out []Expiration
	for i := len(sorted) - 1; i >= 0; i-- {
		if prio, ok := expiredBy[sorted[i].Digest]; ok {
			out = append(out, Expiration{Image: sorted[i], RulePriority: prio})
		}
	}
	return out
}
