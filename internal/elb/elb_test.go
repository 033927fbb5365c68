package elb

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/fault"
)

var sc = Scope{Account: "123456789012", Region: "eu-west-1"}

func code(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

func TestARNRoundTrip(t *testing.T) {
	for _, a := range []ARN{
		{Scope: sc, Kind: KindLoadBalancer, LBType: "app", Name: "web", LBID: "0123456789abcdef"},
		{Scope: sc, Kind: KindTargetGroup, Name: "tg", ID: "0123456789abcdef"},
		{Scope: sc, Kind: KindListener, LBType: "net", Name: "n", LBID: "0123456789abcdef", ListenerID: "fedcba9876543210"},
		{Scope: sc, Kind: KindRule, LBType: "app", Name: "w", LBID: "0123456789abcdef", ListenerID: "fedcba9876543210", ID: "00000000000000ff"},
	} {
		got, err := ParseARN(a.String(), a.Kind)
		if err != nil || got != a {
			t.Errorf("ParseARN(%s) = %+v, %v", a, got, err)
		}
	}
	for _, bad := range []string{"", "arn:aws:ecs:eu-west-1:1:cluster/x", "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/zz",
		"arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/x/0123456789abcdef/extra"} {
		if _, err := ParseARN(bad, KindLoadBalancer); code(err) != CodeValidation {
			t.Errorf("ParseARN(%q): %v, want ValidationError", bad, err)
		}
	}
}

func TestNewLoadBalancer(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lb, err := NewLoadBalancer(sc, CreateLoadBalancer{Name: "web-alb", Subnets: []string{"subnet-a", "subnet-b"}}, "0123456789abcdef", "1234567890", "127.77.0.1", now)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Type != TypeApplication || lb.Scheme != SchemeInternetFacing || lb.State != StateProvisioning ||
		lb.DNSName != "web-alb-1234567890.eu-west-1.elb.localhost" ||
		lb.ARN != "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web-alb/0123456789abcdef" {
		t.Fatalf("%+v", lb)
	}
	for _, tc := range []struct {
		req  CreateLoadBalancer
		code string
	}{
		{CreateLoadBalancer{Name: "-x", Subnets: []string{"subnet-a", "subnet-b"}}, CodeValidation},
		{CreateLoadBalancer{Name: "internal-x", Subnets: []string{"subnet-a", "subnet-b"}}, CodeValidation},
		{CreateLoadBalancer{Name: strings.Repeat("a", 33), Subnets: []string{"subnet-a", "subnet-b"}}, CodeValidation},
		{CreateLoadBalancer{Name: "x", Subnets: []string{"subnet-a"}}, CodeInvalidConfiguration},
		{CreateLoadBalancer{Name: "x", Subnets: []string{"sn-a", "subnet-b"}}, CodeInvalidSubnet},
		{CreateLoadBalancer{Name: "x", Type: "gateway", Subnets: []string{"subnet-a"}}, CodeOperationNotPermitted},
		{CreateLoadBalancer{Name: "x", Scheme: "public", Subnets: []string{"subnet-a", "subnet-b"}}, CodeValidation},
	} {
		if _, err := NewLoadBalancer(sc, tc.req, "0123456789abcdef", "1", "127.77.0.1", now); code(err) != tc.code {
			t.Errorf("%+v: %v, want %s", tc.req, err, tc.code)
		}
	}
	nlb, err := NewLoadBalancer(sc, CreateLoadBalancer{Name: "n", Type: TypeNetwork, Scheme: SchemeInternal, Subnets: []string{"subnet-a"}}, "0123456789abcdef", "9", "127.77.0.2", now)
	if err != nil || !strings.HasPrefix(nlb.DNSName, "internal-n-9.") || !strings.Contains(nlb.ARN, "/net/") {
		t.Fatalf("%+v %v", nlb, err)
	}
}

func TestHealthCheckDefaultsAndValidation(t *testing.T) {
	port := 8080
	tg, err := NewTargetGroup(sc, CreateTargetGroup{Name: "tg", Protocol: ProtocolHTTP, Port: &port, VpcID: "vpc-1", TargetType: TargetTypeIP}, "0123456789abcdef", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := HealthCheck{Enabled: true, Protocol: "HTTP", Port: TrafficPort, Path: "/", IntervalSeconds: 30, TimeoutSeconds: 5, HealthyThreshold: 5, UnhealthyThreshold: 2, Matcher: "200"}
	if tg.HealthCheck != want || tg.ProtocolVersion != "HTTP1" {
		t.Fatalf("%+v", tg.HealthCheck)
	}
	tcp, _ := NewTargetGroup(sc, CreateTargetGroup{Name: "t", Protocol: ProtocolTCP, Port: &port, VpcID: "vpc-1"}, "0123456789abcdef", time.Now())
	if h := tcp.HealthCheck; h.Protocol != "TCP" || h.TimeoutSeconds != 10 || h.Path != "" || h.Matcher != "" {
		t.Fatalf("%+v", h)
	}
	five := 5
	if err := tg.SetHealthCheck(HealthCheckInput{IntervalSeconds: &five}, false); err != nil || tg.HealthCheck.TimeoutSeconds != 4 {
		t.Fatalf("interval 5 alone: %v %+v", err, tg.HealthCheck)
	}
	twenty := 20
	if err := tg.SetHealthCheck(HealthCheckInput{TimeoutSeconds: &twenty}, false); code(err) != CodeValidation {
		t.Errorf("timeout above interval: %v", err)
	}
	for _, m := range []string{"200", "200,302", "200-299", "200-299,404"} {
		if err := tg.SetHealthCheck(HealthCheckInput{Matcher: &m}, false); err != nil {
			t.Errorf("matcher %q: %v", m, err)
		}
	}
	for _, m := range []string{"abc", "100", "200-", "600"} {
		if err := tg.SetHealthCheck(HealthCheckInput{Matcher: &m}, false); code(err) != CodeValidation {
			t.Errorf("matcher %q: %v", m, err)
		}
	}
	path := "/x"
	if err := tcp.SetHealthCheck(HealthCheckInput{Path: &path}, false); code(err) != CodeValidation {
		t.Errorf("path on TCP check: %v", err)
	}
	if !MatchCode("200-299,404", 404) || MatchCode("200-299", 302) {
		t.Error("MatchCode")
	}
}

func TestAttributes(t *testing.T) {
	set, err := ApplyLBAttributes(TypeApplication, nil, []Attribute{{"idle_timeout.timeout_seconds", "120"}})
	if err != nil || set["idle_timeout.timeout_seconds"] != "120" {
		t.Fatal(set, err)
	}
	all := LBAttributes(TypeApplication, set)
	got := map[string]string{}
	for _, a := range all {
		got[a.Key] = a.Value
	}
	if got["idle_timeout.timeout_seconds"] != "120" || got["deletion_protection.enabled"] != "false" || got["routing.http2.enabled"] != "true" {
		t.Fatal(got)
	}
	for _, a := range []Attribute{{"idle_timeout.timeout_seconds", "0"}, {"deletion_protection.enabled", "yes"}, {"nope", "1"}} {
		if _, err := ApplyLBAttributes(TypeApplication, nil, []Attribute{a}); code(err) != CodeValidation {
			t.Errorf("%v: %v", a, err)
		}
	}
	if _, err := ApplyLBAttributes(TypeNetwork, nil, []Attribute{{"idle_timeout.timeout_seconds", "60"}}); code(err) != CodeValidation {
		t.Errorf("ALB attribute on an NLB: %v", err)
	}
	port := 80
	tg, _ := NewTargetGroup(sc, CreateTargetGroup{Name: "t", Protocol: ProtocolHTTP, Port: &port, VpcID: "v"}, "0123456789abcdef", time.Now())
	if tg.Attr("deregistration_delay.timeout_seconds") != "300" || tg.Attr("stickiness.type") != "lb_cookie" {
		t.Fatal("tg defaults")
	}
	for _, a := range []Attribute{{"slow_start.duration_seconds", "10"}, {"load_balancing.algorithm.type", "random"}, {"deregistration_delay.timeout_seconds", "3601"}} {
		if err := ApplyTGAttributes(tg, []Attribute{a}); code(err) != CodeValidation {
			t.Errorf("%v: %v", a, err)
		}
	}
	if err := ApplyTGAttributes(tg, []Attribute{{"slow_start.duration_seconds", "30"}, {"load_balancing.algorithm.type", "least_outstanding_requests"}}); err != nil {
		t.Fatal(err)
	}
}

func TestBuildActions(t *testing.T) {
	tg := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/0123456789abcdef"
	tg2 := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/b/0123456789abcdef"
	w80, w20 := 80, 20
	acts, err := BuildActions(TypeApplication, []ActionInput{{Type: ActionForward, Forward: &ForwardInput{
		TargetGroups: []WeightedTargetGroupInput{{ARN: tg, Weight: &w80}, {ARN: tg2, Weight: &w20}}}}})
	if err != nil || len(acts[0].Forward.TargetGroups) != 2 || acts[0].Forward.Single {
		t.Fatal(acts, err)
	}
	single, err := BuildActions(TypeApplication, []ActionInput{{Type: ActionForward, TargetGroupARN: tg}})
	if err != nil || !single[0].Forward.Single || single[0].Forward.TargetGroups[0].Weight != 1 {
		t.Fatal(single, err)
	}
	r, err := BuildActions(TypeApplication, []ActionInput{{Type: ActionRedirect, Redirect: &Redirect{Protocol: "HTTPS", StatusCode: "HTTP_301"}}})
	if err != nil || r[0].Redirect.Host != "#{host}" || r[0].Redirect.Path != "/#{path}" {
		t.Fatal(r, err)
	}
	bad := []struct {
		typ  string
		in   []ActionInput
		code string
	}{
		{TypeApplication, nil, CodeValidation},
		{TypeApplication, []ActionInput{{Type: ActionRedirect, Redirect: &Redirect{StatusCode: "HTTP_301"}}}, CodeInvalidAction},
		{TypeApplication, []ActionInput{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "302"}}}, CodeValidation},
		{TypeApplication, []ActionInput{{Type: ActionForward}}, CodeValidation},
		{TypeApplication, []ActionInput{{Type: "authenticate-oidc"}}, CodeInvalidAction},
		{TypeApplication, []ActionInput{{Type: ActionForward, TargetGroupARN: tg, Order: 1}, {Type: ActionFixedResponse, Order: 2, FixedResponse: &FixedResponse{StatusCode: "200"}}}, CodeInvalidAction},
		{TypeNetwork, []ActionInput{{Type: ActionFixedResponse, FixedResponse: &FixedResponse{StatusCode: "200"}}}, CodeInvalidAction},
		{TypeNetwork, []ActionInput{{Type: ActionForward, Forward: &ForwardInput{TargetGroups: []WeightedTargetGroupInput{{ARN: tg}, {ARN: tg2}}}}}, CodeInvalidAction},
	}
	for _, b := range bad {
		if _, err := BuildActions(b.typ, b.in); code(err) != b.code {
			t.Errorf("%s %+v: %v, want %s", b.typ, b.in, err, b.code)
		}
	}
}

func TestConditions(t *testing.T) {
	ok := []Condition{{Field: FieldPathPattern, Values: []string{"/api/*"}}, {Field: FieldHTTPHeader, HeaderName: "X-Env", Values: []string{"blue"}},
		{Field: FieldQueryString, Query: []QueryPair{{Value: "x"}}}, {Field: FieldSourceIP, Values: []string{"10.0.0.0/8"}}}
	if err := CheckConditions(ok); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]Condition{
		nil,
		{{Field: FieldPathPattern, Values: []string{"/a", "/b", "/c", "/d", "/e", "/f"}}},
		{{Field: FieldPathPattern, Values: []string{"/a"}}, {Field: FieldPathPattern, Values: []string{"/b"}}},
		{{Field: FieldSourceIP, Values: []string{"10.0.0.1"}}},
		{{Field: FieldHostHeader, Values: []string{"bad host!"}}},
		{{Field: FieldRequestMethod, Values: []string{"get"}}},
		{{Field: "cookie", Values: []string{"x"}}},
	} {
		if err := CheckConditions(bad); code(err) != CodeValidation {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestTargets(t *testing.T) {
	port := 8080
	tg, _ := NewTargetGroup(sc, CreateTargetGroup{Name: "t", Protocol: ProtocolHTTP, Port: &port, VpcID: "v", TargetType: TargetTypeIP}, "0123456789abcdef", time.Now())
	refs, err := ResolveTargets(tg, []TargetRef{{ID: "172.31.0.7"}, {ID: "127.0.0.5", Port: 81}})
	if err != nil || refs[0].Port != 8080 || refs[1].Port != 81 {
		t.Fatal(refs, err)
	}
	for _, id := range []string{"8.8.8.8", "i-0123456789abcdef0", "x"} {
		if _, err := ResolveTargets(tg, []TargetRef{{ID: id}}); code(err) != CodeInvalidTarget {
			t.Errorf("%s: %v", id, err)
		}
	}
	now := time.Now()
	tgt := Target{ID: "10.0.0.1", Port: 80, Health: Health{State: HealthHealthy}}
	if tgt.EffectiveHealth(false) != NotInUse || tgt.EffectiveHealth(true).State != HealthHealthy {
		t.Fatal("effective health")
	}
	tgt.DrainingSince = now
	if tgt.EffectiveHealth(true) != Draining || tgt.DrainDone(time.Second, now) || !tgt.DrainDone(time.Second, now.Add(time.Second)) {
		t.Fatal("draining")
	}
}
