package cw

import (
	"reflect"
	"testing"
)

func TestParseRuleEvaluates(t *testing.T) {
	states := map[string]string{"cpu": StateAlarm, "disk": StateOK, "deploy": StateInsufficient,
		"arn:aws:cloudwatch:us-east-1:123456789012:alarm:net": StateAlarm, "with space": StateOK}
	get := func(r string) string { return states[r] }
	cases := []struct {
		rule string
		want bool
		refs []string
	}{
		{"ALARM(cpu)", true, []string{"cpu"}},
		{`ALARM("cpu") AND ALARM(disk)`, false, []string{"cpu", "disk"}},
		{"ALARM(cpu) AND NOT ALARM(disk)", true, []string{"cpu", "disk"}},
		{"ALARM(disk) OR ALARM(cpu) AND OK(disk)", true, []string{"disk", "cpu"}}, // AND binds tighter
		{"(ALARM(disk) OR ALARM(cpu)) AND INSUFFICIENT_DATA(deploy)", true, []string{"disk", "cpu", "deploy"}},
		{"NOT (ALARM(cpu) OR OK(disk))", false, []string{"cpu", "disk"}},
		{`ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:net")`, true, []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:net"}},
		{`OK("with space") AND TRUE`, true, []string{"with space"}},
		{"FALSE OR ALARM(missing)", false, []string{"missing"}},
		{"TRUE", true, nil},
		{"ALARM(cpu) OR ALARM(cpu)", true, []string{"cpu"}},
	}
	for _, c := range cases {
		r, err := ParseRule(c.rule)
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		if got := r.Eval(get); got != c.want {
			t.Errorf("%s = %v, want %v", c.rule, got, c.want)
		}
		if !reflect.DeepEqual(r.Refs(), c.refs) {
			t.Errorf("%s refs %q, want %q", c.rule, r.Refs(), c.refs)
		}
	}
}

// The errors AWS gives (ValidationError "Error in AlarmRule [Unsupported
// token ')' at char 1]" for "()"; "..., must be: ')'" where a closing
// parenthesis is due).
func TestParseRuleErrors(t *testing.T) {
	cases := map[string]string{
		"()":                        "Error in AlarmRule [Unsupported token ')' at char 1]",
		"ALARM(SampleQueue Oldest)": "Error in AlarmRule [Unsupported token 'Oldest' at char 18, must be: ')']",
		"ALARM(a) AND":              "Error in AlarmRule [Unsupported token '' at char 12]",
		"ALARM(a) XOR ALARM(b)":     "Error in AlarmRule [Unsupported token 'XOR' at char 9]",
		"alarm(a)":                  "Error in AlarmRule [Unsupported token 'alarm' at char 0]",
		"ALARM a":                   "Error in AlarmRule [Unsupported token 'a' at char 6, must be: '(']",
		"(ALARM(a)":                 "Error in AlarmRule [Unsupported token '' at char 9, must be: ')']",
		`ALARM("a)`:                 `Error in AlarmRule [Unsupported token '"a)' at char 6]`,
		"ALARM()":                   "Error in AlarmRule [Unsupported token ')' at char 6]",
		"ALARM(a) ALARM(b)":         "Error in AlarmRule [Unsupported token 'ALARM' at char 9]",
	}
	for rule, want := range cases {
		_, err := ParseRule(rule)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %s", rule, err, want)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	r, err := ParseRule("ALARM(a) OR ALARM(b) OR NOT OK(c)")
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]string{"a": StateAlarm, "b": StateOK, "c": StateOK}
	get := func(x string) string { return st[x] }
	if got := r.Matching(get, true); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("true functions %q", got)
	}
	if got := r.Matching(get, false); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("false functions %q", got)
	}
}
