package ecr

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

var lcNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(d float64) time.Time { return lcNow.Add(-time.Duration(d * float64(24*time.Hour))) }

func img(name string, pushed time.Time, tags ...string) LifecycleImage {
	return LifecycleImage{Digest: "sha256:" + name, Tags: tags, PushedAt: pushed}
}

// expired returns "name@priority" for each expiration, in the evaluator's order.
func expired(t *testing.T, policy string, images []LifecycleImage) []string {
	t.Helper()
	p, err := ParseLifecyclePolicy(policy)
	if err != nil {
		t.Fatalf("policy rejected: %v", err)
	}
	var out []string
	for _, e := range p.Evaluate(images, lcNow) {
		out = append(out, strings.TrimPrefix(e.Image.Digest, "sha256:")+"@"+itoa(e.RulePriority))
	}
	return out
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// The cases follow "Examples of lifecycle policies in Amazon ECR" in the
// ECR user guide: the repository contents and the documented outcome.
func TestEvaluateDocumentedExamples(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		images []LifecycleImage
		want   []string
	}{
		{
			name: "filtering on image age: prod* older than 14 days",
			policy: `{"rules": [{"rulePriority": 1, "description": "Expire images older than 14 days",
				"selection": {"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
				"action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("old-prod", daysAgo(20), "prod-1"),
				img("young-prod", daysAgo(3), "prod-2"),
				img("old-dev", daysAgo(30), "dev-1"),
				img("old-untagged", daysAgo(30)),
				img("edge", daysAgo(13.9), "prod"),
			},
			want: []string{"old-prod@1"},
		},
		{
			name: "filtering on image count: keep only one untagged image",
			policy: `{"rules": [{"rulePriority": 1, "description": "Keep only one untagged image, expire all others",
				"selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
				"action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("u1", daysAgo(5)), img("u2", daysAgo(4)), img("u3", daysAgo(3)),
				img("t1", daysAgo(10), "latest"),
			},
			want: []string{"u1@1", "u2@1"},
		},
		{
			name: "multiple rules, example A",
			policy: `{"rules": [
				{"rulePriority": 1, "description": "Rule 1", "selection": {"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
				{"rulePriority": 2, "description": "Rule 2", "selection": {"tagStatus": "tagged", "tagPatternList": ["beta*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(10), "beta-1", "prod-1"),
				img("B", daysAgo(9), "beta-2", "prod-2"),
				img("C", daysAgo(8), "beta-3"),
			},
			// Rule 2 would also pick B, but B matched rule 1 (which kept it).
			want: []string{"A@1"},
		},
		{
			name: "multiple rules, example B",
			policy: `{"rules": [
				{"rulePriority": 1, "description": "Rule 1", "selection": {"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
				{"rulePriority": 2, "description": "Rule 2", "selection": {"tagStatus": "tagged", "tagPatternList": ["beta*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(10), "beta-1", "prod-1"),
				img("B", daysAgo(9), "beta-2", "prod-2"),
				img("C", daysAgo(8), "beta-3", "prod-3"),
			},
			want: []string{"A@1", "B@1"},
		},
		{
			name: "multiple rules with tag prefixes (older user guide form of example A)",
			policy: `{"rules": [
				{"rulePriority": 1, "description": "Rule 1", "selection": {"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
				{"rulePriority": 2, "description": "Rule 2", "selection": {"tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(10), "beta-1", "prod-1"),
				img("B", daysAgo(9), "beta-2", "prod-2"),
				img("C", daysAgo(8), "beta-3"),
			},
			want: []string{"A@1"},
		},
		{
			name: "multiple tags in a single rule, by age: only images with both prefixes",
			policy: `{"rules": [{"rulePriority": 1, "description": "Rule 1",
				"selection": {"tagStatus": "tagged", "tagPatternList": ["alpha*", "beta*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 5},
				"action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(12), "alpha-1"),
				img("B", daysAgo(11), "beta-1"),
				img("C", daysAgo(10), "alpha-2", "beta-2"),
				img("D", daysAgo(4), "alpha-3"),
				img("E", daysAgo(3), "beta-3"),
				img("F", daysAgo(2), "alpha-4", "beta-4"),
			},
			want: []string{"C@1"},
		},
		{
			name: "multiple tags in a single rule, by count",
			policy: `{"rules": [{"rulePriority": 1, "description": "Rule 1",
				"selection": {"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "imageCountMoreThan", "countNumber": 1},
				"action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(10), "alpha-1", "beta-1", "gamma-1"),
				img("B", daysAgo(9), "alpha-2", "beta-2"),
				img("C", daysAgo(8), "alpha-3", "beta-3", "gamma-2"),
				img("D", daysAgo(7), "alpha-4"),
			},
			want: []string{"A@1", "B@1"},
		},
		{
			name: "filtering on all images: tagged rule, then an any rule",
			policy: `{"rules": [
				{"rulePriority": 1, "description": "Rule 1", "selection": {"tagStatus": "tagged", "tagPatternList": ["alpha*"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
				{"rulePriority": 2, "description": "Rule 2", "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("A", daysAgo(4), "alpha-1"),
				img("B", daysAgo(3)),
				img("C", daysAgo(2), "alpha-2"),
				img("D", daysAgo(1), "gamma-1"),
			},
			// Rule 1 keeps C and expires A. Rule 2 ranks D, C, B, A (all
			// count), keeps D and may only expire B: A and C matched rule 1.
			want: []string{"A@1", "B@2"},
		},
		{
			name:   "any rule alone keeps the newest N (the seed's policy)",
			policy: mustRead(t, "../../testdata/seed/policy.json"),
			images: func() []LifecycleImage {
				var out []LifecycleImage
				for i := range 12 {
					out = append(out, img("i"+itoa(i), daysAgo(float64(12-i)), "v"+itoa(i)))
				}
				out = append(out, img("untagged", daysAgo(0.5)))
				return out
			}(),
			want: []string{"i0@1", "i1@1", "i2@1"},
		},
		{
			name: "an image expired by a higher rule is not expired again, and counts for lower rules",
			policy: `{"rules": [
				{"rulePriority": 10, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
				{"rulePriority": 20, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				img("u-old", daysAgo(3)),
				img("t-old", daysAgo(2.5), "a"),
				img("t-mid", daysAgo(2), "b"),
				img("u-new", daysAgo(0.1)),
				img("t-new", daysAgo(0.05), "c"),
			},
			// Rule 20 ranks t-new, u-new (kept), t-mid, t-old, u-old; u-old
			// and u-new matched rule 10, so it expires t-mid and t-old.
			want: []string{"u-old@10", "t-old@20", "t-mid@20"},
		},
		{
			name:   "sinceImagePulled uses the last pull, or the push when never pulled",
			policy: `{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 7}, "action": {"type": "expire"}}]}`,
			images: []LifecycleImage{
				{Digest: "sha256:pulled-recently", PushedAt: daysAgo(30), LastPulledAt: daysAgo(1)},
				{Digest: "sha256:pulled-long-ago", PushedAt: daysAgo(30), LastPulledAt: daysAgo(10)},
				{Digest: "sha256:never-pulled", PushedAt: daysAgo(8)},
				{Digest: "sha256:young", PushedAt: daysAgo(2)},
			},
			want: []string{"pulled-long-ago@1", "never-pulled@1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := expired(t, padPolicy(tc.policy), tc.images)
			if !slices.Equal(got, tc.want) {
				t.Errorf("expired %v, want %v", got, tc.want)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// padPolicy pads short test documents to ECR's minimum length with
// insignificant whitespace.
func padPolicy(s string) string {
	if len(s) < LifecyclePolicyTextMin {
		s += strings.Repeat(" ", LifecyclePolicyTextMin-len(s))
	}
	return s
}

func TestEvaluateOrderAndDeterminism(t *testing.T) {
	p, err := ParseLifecyclePolicy(padPolicy(`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	same := daysAgo(1)
	images := []LifecycleImage{img("b", same), img("a", same), img("c", daysAgo(2)), img("d", daysAgo(0))}
	var got []string
	for _, e := range p.Evaluate(images, lcNow) {
		got = append(got, e.Image.Digest)
	}
	// oldest first; equal push times ordered by digest, newest-first ranking
	// keeps d and expires c, then b (ranked after a), then a.
	want := []string{"sha256:c", "sha256:b", "sha256:a"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if len(p.Evaluate(nil, lcNow)) != 0 {
		t.Error("empty repository expired something")
	}
}

func TestParseLifecyclePolicyAcceptsSeed(t *testing.T) {
	p, err := ParseLifecyclePolicy(mustRead(t, "../../testdata/seed/policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[0]
	if len(p.Rules) != 1 || r.RulePriority != 1 || r.Description != "Keep last 10 images" ||
		r.Selection.TagStatus != "any" || r.Selection.CountType != "imageCountMoreThan" || r.Selection.CountNumber != 10 || r.Action != "expire" {
		t.Errorf("parsed %+v", p)
	}
}

func TestParseLifecyclePolicyRejects(t *testing.T) {
	rule := func(sel string) string {
		return `{"rules":[{"rulePriority":1,"selection":` + sel + `,"action":{"type":"expire"}}]}`
	}
	cases := map[string]struct {
		doc  string
		want string
	}{
		"not json":              {`{"rules": [`, "not valid JSON"},
		"no rules member":       {`{"rulez": []}`, "not allowed"},
		"missing rules":         {`{}`, "missing required properties ([\"rules\"])"},
		"empty rules":           {`{"rules": []}`, "at least one rule"},
		"rules not a list":      {`{"rules": {}}`, "does not match"},
		"missing priority":      {`{"rules":[{"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, `"rulePriority"`},
		"zero priority":         {`{"rules":[{"rulePriority":0,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, "rulePriority 0 is out of range"},
		"fractional priority":   {`{"rules":[{"rulePriority":1.5,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, "not an integer"},
		"string priority":       {`{"rules":[{"rulePriority":"1","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, "does not match"},
		"bad tag status":        {rule(`{"tagStatus":"some","countType":"imageCountMoreThan","countNumber":1}`), "tagStatus not found in enum"},
		"tagged without list":   {rule(`{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1}`), "tagPrefixList or tagPatternList is required"},
		"tagged with both":      {rule(`{"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["a*"],"countType":"imageCountMoreThan","countNumber":1}`), "cannot both"},
		"untagged with prefix":  {rule(`{"tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1}`), "only be specified when tagStatus is 'tagged'"},
		"five wildcards":        {rule(`{"tagStatus":"tagged","tagPatternList":["*a*b*c*d*"],"countType":"imageCountMoreThan","countNumber":1}`), "at most 4"},
		"empty prefix list":     {rule(`{"tagStatus":"tagged","tagPrefixList":[],"countType":"imageCountMoreThan","countNumber":1}`), "must not be empty"},
		"bad count type":        {rule(`{"tagStatus":"any","countType":"imageCountLessThan","countNumber":1}`), "countType not found in enum"},
		"count unit with count": {rule(`{"tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":1}`), "countUnit cannot be specified"},
		"age without unit":      {rule(`{"tagStatus":"any","countType":"sinceImagePushed","countNumber":1}`), "countUnit is required"},
		"age in hours":          {rule(`{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"hours","countNumber":1}`), "countUnit not found in enum"},
		"zero count":            {rule(`{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0}`), "countNumber 0 is out of range"},
		"negative count":        {rule(`{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":-3}`), "out of range"},
		"missing count":         {rule(`{"tagStatus":"any","countType":"imageCountMoreThan"}`), `"countNumber"`},
		"unknown selection key": {rule(`{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1,"foo":1}`), "not allowed"},
		"bad action":            {`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"delete"}}]}`, "action.type not found in enum"},
		"missing action":        {`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}}]}`, `"action"`},
		"duplicate priority": {`{"rules":[
			{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["b"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, "unique rulePriority"},
		"any not last": {`{"rules":[
			{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["b"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`, "must have the highest rulePriority"},
		"two any rules": {`{"rules":[
			{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`, "only be one such rule"},
		"two untagged rules": {`{"rules":[
			{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
			{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":5},"action":{"type":"expire"}}]}`, "only one rule may select untagged"},
		"trailing data": {`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]} {}`, "not valid JSON"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLifecyclePolicy(padPolicy(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.InvalidParameter || fe.Code != "InvalidParameterException" {
				t.Fatalf("error %#v is not an InvalidParameterException", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint:") {
				t.Errorf("error %q is not in ECR's form", err)
			}
		})
	}
	if _, err := ParseLifecyclePolicy(`{"rules":[]}`); err == nil || !strings.Contains(err.Error(), "length") {
		t.Errorf("short document: %v", err)
	}
}

func TestMatchTagPattern(t *testing.T) {
	cases := []struct {
		pattern, tag string
		want         bool
	}{
		{"prod*", "prod", true},
		{"prod*", "prod-1", true},
		{"prod*", "preprod", false},
		{"*prod", "preprod", true},
		{"*test*1*2*3", "my-test-a1b2c3", true},
		{"test*1*2*3*", "test123", true},
		{"test*1*2*3*", "test13", false},
		{"v1.*.*", "v1.2.3", true},
		{"v1.*.*", "v1.2", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"*", "anything", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
	}
	for _, c := range cases {
		if got := MatchTagPattern(c.pattern, c.tag); got != c.want {
			t.Errorf("MatchTagPattern(%q, %q) = %v, want %v", c.pattern, c.tag, got, c.want)
		}
	}
}
