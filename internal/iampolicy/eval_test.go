package iampolicy

import "testing"

func mustParse(t *testing.T, doc string, trust bool) *Document {
	t.Helper()
	d, err := Parse(doc, trust)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func TestEvaluate(t *testing.T) {
	allowECS := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"},
		{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:*"}]}`, false)
	denyProd := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:ecs:*:*:cluster/prod*"}}`, false)
	notAction := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}`, false)
	notResource := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}]}`, false)
	region := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","eu-west-2"]}}},
		{"Effect":"Deny","Action":"ssm:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ops-*"}}}]}`, false)
	cases := []struct {
		name string
		req  Request
		docs []*Document
		want Decision
	}{
		{"wildcard action", Request{Action: "ecs:DescribeClusters", Resource: "*"}, []*Document{allowECS}, Allowed},
		{"action case-insensitive", Request{Action: "ECS:describeclusters", Resource: "*"}, []*Document{allowECS}, Allowed},
		{"not listed", Request{Action: "ecs:DeleteCluster", Resource: "*"}, []*Document{allowECS}, NotAllowed},
		{"resource wildcard", Request{Action: "ecs:RunTask", Resource: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"}, []*Document{allowECS}, Allowed},
		{"resource case-sensitive", Request{Action: "ecs:RunTask", Resource: "arn:aws:ecs:us-east-1:123456789012:task-definition/Web:3"}, []*Document{allowECS}, NotAllowed},
		{"explicit deny wins", Request{Action: "ecs:DescribeClusters", Resource: "arn:aws:ecs:us-east-1:1:cluster/prod-a"}, []*Document{allowECS, denyProd}, Denied},
		{"deny elsewhere", Request{Action: "ecs:DescribeClusters", Resource: "arn:aws:ecs:us-east-1:1:cluster/dev"}, []*Document{allowECS, denyProd}, Allowed},
		{"NotAction allows others", Request{Action: "ecs:RunTask", Resource: "*"}, []*Document{notAction}, Allowed},
		{"NotAction excludes", Request{Action: "iam:CreateUser", Resource: "*"}, []*Document{notAction}, NotAllowed},
		{"NotResource", Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:1:secret:dev/x-AbCdEf"}, []*Document{notResource}, Allowed},
		{"NotResource excludes", Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:1:secret:prod/x-AbCdEf"}, []*Document{notResource}, NotAllowed},
		{"condition holds", Request{Action: "ssm:GetParameter", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": {"eu-west-2"}, "aws:PrincipalArn": {"arn:aws:iam::1:role/ops-admin"}}}, []*Document{region}, Allowed},
		{"condition fails", Request{Action: "ssm:GetParameter", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": {"us-east-1"}, "aws:PrincipalArn": {"arn:aws:iam::1:role/ops-admin"}}}, []*Document{region}, NotAllowed},
		{"negated condition denies", Request{Action: "ssm:GetParameter", Resource: "*", Context: map[string][]string{"aws:RequestedRegion": {"eu-west-1"}, "aws:PrincipalArn": {"arn:aws:iam::1:role/dev"}}}, []*Document{region}, Denied},
		{"missing key fails positive", Request{Action: "ssm:GetParameter", Resource: "*"}, []*Document{region}, Denied},
		{"no documents", Request{Action: "ecs:ListClusters", Resource: "*"}, nil, NotAllowed},
	}
	for _, tc := range cases {
		if got := Evaluate(tc.req, tc.docs...); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTrust(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},
		{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/alice","111122223333"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}`, true)
	ok := func(p map[string][]string, ctx map[string][]string) Decision {
		return Evaluate(Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/r", Principal: p, Context: ctx}, d)
	}
	if got := ok(map[string][]string{"Service": {"ecs-tasks.amazonaws.com"}}, nil); got != Allowed {
		t.Errorf("service principal: %v", got)
	}
	if got := ok(map[string][]string{"Service": {"ec2.amazonaws.com"}}, nil); got != NotAllowed {
		t.Errorf("other service: %v", got)
	}
	if got := ok(map[string][]string{"AWS": {"arn:aws:iam::123456789012:user/alice", "123456789012"}}, map[string][]string{"sts:ExternalId": {"xyz"}}); got != Allowed {
		t.Errorf("user with external id: %v", got)
	}
	if got := ok(map[string][]string{"AWS": {"arn:aws:iam::123456789012:user/alice", "123456789012"}}, nil); got != NotAllowed {
		t.Errorf("user without external id: %v", got)
	}
	if got := ok(map[string][]string{"AWS": {"arn:aws:iam::111122223333:user/bob", "111122223333"}}, map[string][]string{"sts:externalid": {"xyz"}}); got != Allowed {
		t.Errorf("account principal: %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	bad := []struct {
		doc   string
		trust bool
	}{
		{`not json`, false},
		{`{"Version":"2012-10-17"}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringSorta":{"a:b":"c"}}}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}]}`, false},
	}
	for _, b := range bad {
		if _, err := Parse(b.doc, b.trust); err == nil {
			t.Errorf("Parse(%s) succeeded", b.doc)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, v string
		want bool
	}{{"*", "", true}, {"a*c", "abbbc", true}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"*:role/*", "arn:aws:iam::1:role/x", true}, {"abc", "abcd", false}} {
		if got := Match(c.p, c.v); got != c.want {
			t.Errorf("Match(%q,%q)=%v", c.p, c.v, got)
		}
	}
}
