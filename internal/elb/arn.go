package elb

import (
	"regexp"
	"strings"
)

// Scope is the account and region a resource lives in.
type Scope struct {
	Account string
	Region  string
}

// Resource kinds, as they appear in ARNs.
const (
	KindLoadBalancer = "loadbalancer"
	KindTargetGroup  = "targetgroup"
	KindListener     = "listener"
	KindRule         = "listener-rule"
)

// ARN is a parsed ELBv2 ARN:
//
//	arn:aws:elasticloadbalancing:R:A:loadbalancer/app/NAME/LBID
//	arn:aws:elasticloadbalancing:R:A:targetgroup/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:listener/app/LBNAME/LBID/LID
//	arn:aws:elasticloadbalancing:R:A:listener-rule/app/LBNAME/LBID/LID/RID
//
// ("net" instead of "app" for network load balancers).
type ARN struct {
	Scope
	Kind       string
	LBType     string // "app" or "net" (not for target groups)
	Name       string // load balancer or target group name
	LBID       string
	ListenerID string
	ID         string // the target group's or rule's own ID
}

var hexID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// String renders the ARN.
func (a ARN) String() string {
	p := "arn:aws:elasticloadbalancing:" + a.Region + ":" + a.Account + ":"
	switch a.Kind {
	case KindLoadBalancer:
		return p + "loadbalancer/" + a.LBType + "/" + a.Name + "/" + a.LBID
	case KindTargetGroup:
		return p + "targetgroup/" + a.Name + "/" + a.ID
	case KindListener:
		return p + "listener/" + a.LBType + "/" + a.Name + "/" + a.LBID + "/" + a.ListenerID
	case KindRule:
		return p + "listener-rule/" + a.LBType + "/" + a.Name + "/" + a.LBID + "/" + a.ListenerID + "/" + a.ID
	}
	return ""
}

// ParseARN parses an ELBv2 ARN of the given kind; a malformed one is a
// ValidationError naming it.
func ParseARN(s, kind string) (ARN, error) {
	bad := Validationf("'%s' is not a valid %s ARN", s, kindWord(kind))
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" || parts[3] == "" || parts[4] == "" {
		return ARN{}, bad
	}
	a := ARN{Scope: Scope{Region: parts[3], Account: parts[4]}}
	seg := strings.Split(parts[5], "/")
	if len(seg) == 0 || seg[0] != kind {
		return ARN{}, bad
	}
	a.Kind = kind
	want := map[string]int{KindLoadBalancer: 4, KindTargetGroup: 3, KindListener: 5, KindRule: 6}[kind]
	if len(seg) != want {
		return ARN{}, bad
	}
	if kind == KindTargetGroup {
		a.Name, a.ID = seg[1], seg[2]
		if !hexID.MatchString(a.ID) || a.Name == "" {
			return ARN{}, bad
		}
		return a, nil
	}
	a.LBType, a.Name, a.LBID = seg[1], seg[2], seg[3]
	if (a.LBType != "app" && a.LBType != "net") || a.Name == "" || !hexID.MatchString(a.LBID) {
		return ARN{}, bad
	}
	if kind == KindListener || kind == KindRule {
		a.ListenerID = seg[4]
		if !hexID.MatchString(a.ListenerID) {
			return ARN{}, bad
		}
	}
	if kind == KindRule {
		a.ID = seg[5]
		if !hexID.MatchString(a.ID) {
			return ARN{}, bad
		}
	}
	return a, nil
}

// ResourceKind returns the kind of any ELBv2 ARN, or "" if it is none.
func ResourceKind(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	k, _, _ := strings.Cut(parts[5], "/")
	switch k {
	case KindLoadBalancer, KindTargetGroup, KindListener, KindRule:
		return k
	}
	return ""
}

func kindWord(kind string) string {
	switch kind {
	case KindLoadBalancer:
		return "load balancer"
	case KindTargetGroup:
		return "target group"
	case KindRule:
		return "rule"
	}
	return kind
}

// ListenerARN returns the ARN of a listener of lb with the given ID.
func ListenerARN(lb ARN, id string) ARN {
	lb.Kind, lb.ListenerID = KindListener, id
	return lb
}

// RuleARN returns the ARN of a rule of listener l with the given ID.
func RuleARN(l ARN, id string) ARN {
	l.Kind, l.ID = KindRule, id
	return l
}
