package ecs

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

// queryInstance is a t2.micro in us-east-1a, registered 2018-06-18T22:28:28Z,
// agent 1.20.3 connected, running 3 tasks, with a custom "stack" attribute.
func queryInstance() *ContainerInstance {
	return &ContainerInstance{
		EC2InstanceID:     "i-abcd1234",
		Status:            InstanceActive,
		AgentConnected:    true,
		RunningTasksCount: 3,
		RegisteredAt:      time.Date(2018, 6, 18, 22, 28, 28, 0, time.UTC),
		VersionInfo:       VersionInfo{AgentVersion: "1.20.3"},
		Attributes: []Attribute{
			{Name: AttrInstanceType, Value: "t2.micro"},
			{Name: AttrAvailabilityZone, Value: "us-east-1a"},
			{Name: AttrOSType, Value: "linux"},
			{Name: "stack", Value: "prod"},
			{Name: "weight", Value: "10"},
			{Name: "ecs.capability.task-eni"},
		},
	}
}

func TestQueryEval(t *testing.T) {
	ci := queryInstance()
	groups := []string{"service:web", "family:batch"}
	cases := []struct {
		expr string
		want bool
	}{
		// attributes
		{"attribute:ecs.instance-type == t2.micro", true},
		{"attribute:ecs.instance-type equals t2.micro", true},
		{"attribute:ecs.instance-type == t2.small", false},
		{"attribute:ecs.instance-type != t2.small", true},
		{"attribute:ecs.instance-type not_equals t2.micro", false},
		{"attribute:ecs.instance-type =~ t2.*", true},
		{"attribute:ecs.instance-type matches 't2\\..*'", true},
		{"attribute:ecs.instance-type =~ m5.*", false},
		{"attribute:ecs.instance-type !~ m5.*", true},
		{"attribute:ecs.instance-type =~ micro", false}, // the pattern must match the whole value
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true},
		{"attribute:ecs.availability-zone in ['us-east-1c', \"us-east-1d\"]", false},
		{"attribute:ecs.availability-zone !in [us-east-1c, us-east-1d]", true},
		{"attribute:ecs.availability-zone not_in [us-east-1a]", false},
		{"attribute:ecs.availability-zone in us-east-1a", true},
		{"attribute:stack exists", true},
		{"attribute:color exists", false},
		{"attribute:color not_exists", true},
		{"attribute:color !exists", true},
		{"attribute:ecs.capability.task-eni exists", true},
		{"attribute:color == red", false},
		{"attribute:color != red", true}, // negation of ==, even when the attribute is missing
		{"attribute:weight > 9", true},   // numeric, not string, order
		{"attribute:weight >= 10", true},
		{"attribute:weight < 9", false},
		{"attribute:weight <= 10.0", true},
		{"attribute:stack > alpha", true}, // string order
		{"attribute:stack greater_than zulu", false},
		// subjects
		{"ec2InstanceId == i-abcd1234", true},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true},
		{"ec2InstanceId !in ['i-abcd1234']", false},
		{"ec2InstanceId =~ i-ab.*", true},
		{"agentConnected == true", true},
		{"agentConnected == TRUE", true},
		{"agentConnected != true", false},
		{"agentConnected in [false]", false},
		{"agentVersion >= 1.9.0", true}, // 20 > 9 as numbers
		{"agentVersion < 1.20.10", true},
		{"agentVersion == 1.20.3", true},
		{"agentVersion greater_than 2", false},
		{"registeredAt >= 2018-06-18", true},
		{"registeredAt == 2018-06-18", true},
		{"registeredAt > 2018-06-18", false}, // date-only compares days
		{"registeredAt < 2018-06-19", true},
		{"registeredAt == 2018-06-18T22:28:28Z", true},
		{"registeredAt == 2018-06-18T23:28:28+01:00", true},
		{"registeredAt > 2018-06-18T22:28:27", true},
		{"registeredAt <= 2016-01-01T00:00:00Z", false},
		{"runningTasksCount == 3", true},
		{"runningTasksCount > 2", true},
		{"runningTasksCount less_than_equal 2", false},
		{"task:group == service:web", true},
		{"task:group == database", false},
		{"task:group != database", true},
		{"task:group != service:web", false},
		{"task:group in [database, family:batch]", true},
		{"task:group =~ service:.*", true},
		{"task:group !~ family:.*", false},
		// compound
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d", true},
		{"attribute:ecs.instance-type == t2.small or attribute:stack == prod", true},
		{"attribute:ecs.instance-type == t2.small || attribute:stack == dev", false},
		{"attribute:stack == prod && runningTasksCount < 3", false},
		{"not(task:group == database)", true},
		{"not (task:group == service:web)", false},
		{"!(task:group == service:web)", false},
		{"! attribute:stack == prod", false},
		{"not not attribute:stack == prod", true},
		{"attribute:stack == dev or attribute:stack == prod and runningTasksCount == 3", true}, // and binds tighter
		{"(attribute:stack == dev or attribute:stack == prod) and runningTasksCount == 4", false},
		{"NOT attribute:stack == dev AND attribute:stack == prod", true},
		{"attribute:stack==prod&&attribute:weight>=10", true},
		{"((attribute:stack == prod))", true},
	}
	for _, c := range cases {
		q, err := ParseQuery(c.expr)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.expr, err)
			continue
		}
		if got := q.Eval(ci, groups); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
		// The canonical form means the same thing.
		q2, err := ParseQuery(q.String())
		if err != nil {
			t.Errorf("canonical %q of %q does not parse: %v", q.String(), c.expr, err)
			continue
		}
		if q2.Eval(ci, groups) != c.want || q2.String() != q.String() {
			t.Errorf("canonical %q of %q differs", q.String(), c.expr)
		}
		if q.Source() != c.expr {
			t.Errorf("Source = %q", q.Source())
		}
	}
}

func TestQueryMissingFields(t *testing.T) {
	bare := &ContainerInstance{}
	for expr, want := range map[string]bool{
		"ec2InstanceId == x":           false,
		"ec2InstanceId != x":           true,
		"agentVersion >= 1.0":          false,
		"registeredAt >= 2000-01-01":   false,
		"agentConnected == false":      true,
		"task:group == x":              false,
		"task:group != x":              true,
		"runningTasksCount == 0":       true,
		"attribute:ecs.os-type exists": false,
	} {
		if got := mustQuery(t, expr).Eval(bare, nil); got != want {
			t.Errorf("%q on a bare instance = %v, want %v", expr, got, want)
		}
	}
}

func mustQuery(t *testing.T, expr string) *Query {
	t.Helper()
	q, err := ParseQuery(expr)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", expr, err)
	}
	return q
}

func TestQueryUsesTaskGroups(t *testing.T) {
	if mustQuery(t, "attribute:a == b or runningTasksCount > 1").UsesTaskGroups() {
		t.Error("no task:group, but UsesTaskGroups")
	}
	if !mustQuery(t, "attribute:a == b or not task:group == x").UsesTaskGroups() {
		t.Error("task:group, but not UsesTaskGroups")
	}
}

func TestQueryErrors(t *testing.T) {
	cases := []struct{ expr, msg string }{
		{"", "empty"},
		{"   ", "empty"},
		{strings.Repeat("a", MaxQueryLength+1), "too long"},
		{"attribute:x ==", "expected a value after =="},
		{"attribute:x", "expected an operator after attribute:x"},
		{"attribute: == y", "attribute subject needs a name"},
		{"color == red", `unknown subject "color"`},
		{"attribute:x = y", `unexpected character '='`},
		{"attribute:x === y", "unexpected character '='"},
		{"attribute:x like y", "expected an operator"},
		{"attribute:x == y z", "unexpected 'z'"},
		{"attribute:x == y and", "expected a subject"},
		{"(attribute:x == y", "expected ')'"},
		{"attribute:x == y)", "unexpected ')'"},
		{"attribute:x in [a, b", "expected ',' or ']'"},
		{"attribute:x in []", "expected a value in the list"},
		{"attribute:x in [a,,b]", "expected a value in the list"},
		{"attribute:x == 'open", "unterminated quoted value"},
		{"attribute:x == [a]", "expected a value after =="},
		{"attribute:x =~ '('", "invalid pattern"},
		{"attribute:x exists y", "unexpected 'y'"},
		{"agentConnected == maybe", "true or false"},
		{"agentConnected > true", "operator > is not valid for agentConnected"},
		{"agentConnected exists", "not valid for agentConnected"},
		{"ec2InstanceId >= i-1", "not valid for ec2InstanceId"},
		{"task:group > a", "not valid for task:group"},
		{"agentVersion in [1.0]", "not valid for agentVersion"},
		{"registeredAt == yesterday", "registeredAt compares with a date"},
		{"registeredAt =~ 2018.*", "not valid for registeredAt"},
		{"runningTasksCount == many", "non-negative integer"},
		{"runningTasksCount == -1", "non-negative integer"},
		{"attribute:x == y & attribute:z == w", "unexpected character '&'"},
		{"attribute:x == y | attribute:z == w", "unexpected character '|'"},
		{"attribute:x ~ y", "unexpected character '~'"},
		{"not", "expected a subject"},
		{strings.Repeat("(", 70) + "attribute:x exists" + strings.Repeat(")", 70), "nested too deeply"},
		{strings.Repeat("not ", 70) + "attribute:x exists", "nested too deeply"},
	}
	for _, c := range cases {
		_, err := ParseQuery(c.expr)
		if err == nil {
			t.Errorf("ParseQuery(%q) succeeded", c.expr)
			continue
		}
		if fault.KindOf(err) != fault.InvalidParameter || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseQuery(%q) = %v, want InvalidParameter containing %q", c.expr, err, c.msg)
		}
	}
	_, err := ParseQuery("attribute:x == y zz")
	if err == nil || !strings.Contains(err.Error(), "(at character 18)") {
		t.Errorf("position: %v", err)
	}
}

func TestQueryCanonicalQuoting(t *testing.T) {
	q := mustQuery(t, `attribute:x in ['a b', "it's", plain, 'x==y'] and AGENTCONNECTED equals true`)
	want := `attribute:x in ['a b', "it's", plain, 'x==y'] and agentConnected == true`
	if q.String() != want {
		t.Errorf("String = %s, want %s", q.String(), want)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"attribute:ecs.instance-type == t2.micro",
		"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
		"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d",
		"not(task:group == database)",
		"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']",
		"agentConnected == true || runningTasksCount > 2",
		"registeredAt >= 2016-05-25T00:00:00Z",
		"agentVersion < 1.20.0 && !(attribute:x !exists)",
		"attribute:a !in [x] or attribute:b not_matches '(a|b)'",
		"((attribute:x exists))",
		"attribute:x == 'a\"b'",
	} {
		f.Add(s)
	}
	ci := queryInstance()
	f.Fuzz(func(t *testing.T, expr string) {
		q, err := ParseQuery(expr)
		if err != nil {
			if fault.KindOf(err) != fault.InvalidParameter {
				t.Fatalf("ParseQuery(%q) error of kind %v: %v", expr, fault.KindOf(err), err)
			}
			return
		}
		got := q.Eval(ci, []string{"service:web"})
		_ = q.Eval(&ContainerInstance{}, nil)
		canon := q.String()
		if hasUnquotableValue(q.root) {
			return // a value holding both quote characters has no canonical spelling
		}
		q2, err := ParseQuery(canon)
		if err != nil {
			if len(canon) > MaxQueryLength {
				return
			}
			t.Fatalf("canonical %q of %q does not parse: %v", canon, expr, err)
		}
		if q2.String() != canon {
			t.Fatalf("canonical form not stable: %q -> %q", canon, q2.String())
		}
		if q2.Eval(ci, []string{"service:web"}) != got {
			t.Fatalf("canonical %q of %q evaluates differently", canon, expr)
		}
	})
}

func hasUnquotableValue(n qnode) bool {
	switch n := n.(type) {
	case *qAnd:
		return hasUnquotableValue(n.l) || hasUnquotableValue(n.r)
	case *qOr:
		return hasUnquotableValue(n.l) || hasUnquotableValue(n.r)
	case *qNot:
		return hasUnquotableValue(n.x)
	case *qCmp:
		for _, v := range n.vals {
			if strings.Contains(v, "'") && strings.Contains(v, `"`) {
				return true
			}
		}
	}
	return false
}

func TestQueryCanonicalParentheses(t *testing.T) {
	for expr, want := range map[string]string{
		"a:x == 1 or (attribute:b exists or attribute:c exists)":             "",
		"attribute:a exists or attribute:b exists or attribute:c exists":     "attribute:a exists or attribute:b exists or attribute:c exists",
		"attribute:a exists or (attribute:b exists or attribute:c exists)":   "attribute:a exists or (attribute:b exists or attribute:c exists)",
		"(attribute:a exists or attribute:b exists) and attribute:c exists":  "(attribute:a exists or attribute:b exists) and attribute:c exists",
		"attribute:a exists and (attribute:b exists and attribute:c exists)": "attribute:a exists and (attribute:b exists and attribute:c exists)",
		"(attribute:a exists and attribute:b exists) or attribute:c exists":  "attribute:a exists and attribute:b exists or attribute:c exists",
		"not (attribute:a exists and attribute:b exists)":                    "not (attribute:a exists and attribute:b exists)",
		"!!attribute:a exists": "not not attribute:a exists",
		"attribute:a exists or not(attribute:b == x) and attribute:c =~ 'a|b'": "attribute:a exists or not attribute:b == x and attribute:c =~ 'a|b'",
	} {
		q, err := ParseQuery(expr)
		if want == "" {
			if err == nil {
				t.Errorf("%q parsed", expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		if q.String() != want {
			t.Errorf("%q -> %q, want %q", expr, q.String(), want)
		}
	}
	// A long chain stays flat, so its canonical form parses.
	long := strings.Repeat("attribute:a exists and ", 80) + "attribute:b exists"
	if _, err := ParseQuery(mustQuery(t, long).String()); err != nil {
		t.Error(err)
	}
}
