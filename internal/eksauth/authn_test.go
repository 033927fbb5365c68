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
	u, err := Map(c, session)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "arn:aws:sts::123456789012:assumed-role/dev/alice" || !slices.Equal(u.Groups, []string{"devs"}) {
		t.Fatalf("session user %+v", u)
	}
	node := Caller{ARN: "arn:aws:sts::123456789012:assumed-role/node/i-1", Account: "123456789012"}
	node.Canonical = eks.CanonicalPrincipal(node.ARN)
	if u, err := Map(c, node); err != nil || !slices.Contains(u.Groups, "system:nodes") {
		t.Fatalf("node %+v %v", u, err)
	}
	other := Caller{ARN: "arn:aws:iam::123456789012:user/eve", Canonical: "arn:aws:iam::123456789012:user/eve"}
	if _, err := Map(c, other); !IsRefused(err) {
		t.Fatalf("no entry: %v", err)
	}
	c.AuthMode = eks.AuthConfigMap
	if _, err := Map(c, session); !IsRefused(err) {
		t.Fatalf("CONFIG_MAP cluster: %v", err)
	}
	// The creator of a CONFIG_MAP cluster is admin without an entry; it
	// stays admin under API_AND_CONFIG_MAP, not under API, and not
	// without bootstrapClusterCreatorAdminPermissions.
	c.Creator, c.BootstrapAdmin = other.Canonical, true
	for mode, admin := range map[string]bool{eks.AuthConfigMap: true, eks.AuthAPIAndConfigMap: true, eks.AuthAPI: false} {
		c.AuthMode = mode
		u, err := Map(c, other)
		if got := err == nil && slices.Equal(u.Groups, []string{"system:masters"}); got != admin {
			t.Fatalf("creator under %s: %+v %v", mode, u, err)
		}
	}
	c.AuthMode, c.BootstrapAdmin = eks.AuthConfigMap, false
	if _, err := Map(c, other); !IsRefused(err) {
		t.Fatalf("creator without bootstrap admin: %v", err)
	}
}
