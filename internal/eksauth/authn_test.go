package eksauth

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/internal/eks"
)

func TestMap(t *testing.T) {
	c := &eks.Cluster{Name: "c1", AuthMode: eks.AuthAPI, Access: map[string]*eks.AccessEntry{
		"arn:aws:iam::123456789012:role/team/dev": {PrincipalARN: "arn:aws:iam::123456789012:role/team/dev", Type: "STANDARD",
			Username: "arn:aws:sts::123456789012:assumed-role/dev/{{SessionName}}", KubernetesGroups: []string{"devs"}},
		"arn:aws:iam::123456789012:role/node": {PrincipalARN: "arn:aws:iam::123456789012:role/node", Type: "EC2_LINUX",
			Username: "system:node:{{EC2PrivateDNSName}}"},
	}}
	session := Caller{ARN: "arn:aws:sts::123456789012:assumed-role/dev/alice", Account: "123456789012", PrincipalID: "AROAX:alice"}
	session.Canonical, session.SessionName = eks.CanonicalPrincipal(session.ARN), eks.SessionName(session.ARN)
	u, err := Map(c, session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "arn:aws:sts::123456789012:assumed-role/dev/alice" || !slices.Equal(u.Groups, []string{"devs"}) {
		t.Fatalf("session user %+v", u)
	}
	node := Caller{ARN: "arn:aws:sts::123456789012:assumed-role/node/i-1", Account: "123456789012"}
	node.Canonical = eks.CanonicalPrincipal(node.ARN)
	if u, err := Map(c, node, nil); err != nil || !slices.Contains(u.Groups, "system:nodes") {
		t.Fatalf("node %+v %v", u, err)
	}
	other := Caller{ARN: "arn:aws:iam::123456789012:user/eve", Canonical: "arn:aws:iam::123456789012:user/eve"}
	if _, err := Map(c, other, nil); !IsRefused(err) {
		t.Fatalf("no entry: %v", err)
	}
	c.AuthMode = eks.AuthConfigMap
	if _, err := Map(c, session, nil); !IsRefused(err) {
		t.Fatalf("CONFIG_MAP cluster: %v", err)
	}
	// The creator of a CONFIG_MAP cluster is admin without an entry; it
	// stays admin under API_AND_CONFIG_MAP, not under API, and not
	// without bootstrapClusterCreatorAdminPermissions.
	c.Creator, c.BootstrapAdmin = other.Canonical, true
	for mode, admin := range map[string]bool{eks.AuthConfigMap: true, eks.AuthAPIAndConfigMap: true, eks.AuthAPI: false} {
		c.AuthMode = mode
		u, err := Map(c, other, nil)
		if got := err == nil && slices.Equal(u.Groups, []string{"system:masters"}); got != admin {
			t.Fatalf("creator under %s: %+v %v", mode, u, err)
		}
	}
	c.AuthMode, c.BootstrapAdmin = eks.AuthConfigMap, false
	if _, err := Map(c, other, nil); !IsRefused(err) {
		t.Fatalf("creator without bootstrap admin: %v", err)
	}
}

func TestAWSAuth(t *testing.T) {
	aa, err := ParseAWSAuth(map[string]string{
		"mapRoles": `
- rolearn: arn:aws:iam::123456789012:role/Dev
  username: dev:{{SessionName}}:{{AccountID}}
  groups: [pod-readers]
- rolearn: arn:aws:iam::123456789012:role/nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
`,
		"mapUsers": `
- userarn: arn:aws:iam::123456789012:user/ops/carol
  username: carol
  groups: [system:masters]
`,
		"mapAccounts": `["210987654321"]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	role := Caller{ARN: "arn:aws:sts::123456789012:assumed-role/dev/alice@example.com", Account: "123456789012", PrincipalID: "AROAX:alice"}
	role.Canonical, role.SessionName = eks.CanonicalPrincipal(role.ARN), eks.SessionName(role.ARN)
	carol := Caller{ARN: "arn:aws:iam::123456789012:user/ops/carol", Canonical: "arn:aws:iam::123456789012:user/ops/carol", Account: "123456789012"}
	other := Caller{ARN: "arn:aws:iam::210987654321:user/x", Canonical: "arn:aws:iam::210987654321:user/x", Account: "210987654321"}
	eve := Caller{ARN: "arn:aws:iam::123456789012:user/eve", Canonical: "arn:aws:iam::123456789012:user/eve", Account: "123456789012"}

	c := &eks.Cluster{Name: "c1", AuthMode: eks.AuthConfigMap}
	u, err := Map(c, role, aa)
	if err != nil || u.Username != "dev:alice-example.com:123456789012" || !slices.Equal(u.Groups, []string{"pod-readers"}) {
		t.Fatalf("mapped role (case-insensitive ARN, templates): %+v %v", u, err)
	}
	if u, err := Map(c, carol, aa); err != nil || u.Username != "carol" || !slices.Equal(u.Groups, []string{"system:masters"}) {
		t.Fatalf("mapped user: %+v %v", u, err)
	}
	if u, err := Map(c, other, aa); err != nil || u.Username != other.ARN || len(u.Groups) != 0 {
		t.Fatalf("mapped account: %+v %v", u, err)
	}
	if _, err := Map(c, eve, aa); !IsRefused(err) {
		t.Fatalf("unmapped user: %v", err)
	}
	if _, err := Map(c, role, nil); !IsRefused(err) {
		t.Fatalf("no aws-auth ConfigMap: %v", err)
	}

	// Under API_AND_CONFIG_MAP an access entry wins over aws-auth; under
	// API aws-auth maps nobody.
	c.Access = map[string]*eks.AccessEntry{"arn:aws:iam::123456789012:role/dev": {
		PrincipalARN: "arn:aws:iam::123456789012:role/dev", Type: "STANDARD", Username: "entry", KubernetesGroups: []string{"from-entry"}}}
	c.AuthMode = eks.AuthAPIAndConfigMap
	if u, err := Map(c, role, aa); err != nil || u.Username != "entry" || !slices.Equal(u.Groups, []string{"from-entry"}) {
		t.Fatalf("access entry precedence: %+v %v", u, err)
	}
	if u, err := Map(c, carol, aa); err != nil || u.Username != "carol" {
		t.Fatalf("aws-auth under API_AND_CONFIG_MAP: %+v %v", u, err)
	}
	c.AuthMode = eks.AuthAPI
	if _, err := Map(c, carol, aa); !IsRefused(err) {
		t.Fatalf("aws-auth under API: %v", err)
	}

	// A rolearn with a path matches nothing (EKS requires it without);
	// a malformed document is an error naming its key.
	withPath, err := ParseAWSAuth(map[string]string{"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/team/dev\n  username: x\n"})
	if err != nil {
		t.Fatal(err)
	}
	c.AuthMode = eks.AuthConfigMap
	if _, err := Map(c, role, withPath); !IsRefused(err) {
		t.Fatalf("rolearn with a path: %v", err)
	}
	for _, bad := range []map[string]string{{"mapRoles": "rolearn: x"}, {"mapUsers": "- username: x"}, {"mapRoles": "- rolearn: a\n  bogus: 1"}} {
		if _, err := ParseAWSAuth(bad); err == nil {
			t.Fatalf("ParseAWSAuth(%v) accepted", bad)
		}
	}
}
