package ecs

import (
	"slices"
	"testing"
)

func TestCompleteRegistration(t *testing.T) {
	external := []Attribute{{Name: "ecs.capability.container-health-check"}, {Name: AttrExternal}}
	cases := []struct {
		name            string
		reg             InstanceRegistration
		wantID, wantAZ  string
		wantType        string
		wantExternalReg bool
	}{
		{"ec2 with identity document", InstanceRegistration{EC2InstanceID: "i-0123456789abcdef0", AvailabilityZone: "us-east-1c", InstanceType: "m5.large"}, "i-0123456789abcdef0", "us-east-1c", "m5.large", false},
		{"ec2 without identity document", InstanceRegistration{}, "i-abcdefabcdefabcde", "us-east-1a", "", false},
		{"external", InstanceRegistration{Attributes: external}, "mi-abcdefabcdefabcde", "", "", true},
		{"external ignores an EC2 identity", InstanceRegistration{Attributes: external, EC2InstanceID: "i-1", AvailabilityZone: "us-east-1b", InstanceType: "t3.micro"}, "mi-abcdefabcdefabcde", "", "", true},
		{"external keeps its managed instance ID", InstanceRegistration{Attributes: external, EC2InstanceID: "mi-0123456789abcdef0"}, "mi-0123456789abcdef0", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := CompleteRegistration(c.reg, "us-east-1", "abcdefabcdefabcde")
			if got.EC2InstanceID != c.wantID || got.AvailabilityZone != c.wantAZ || got.InstanceType != c.wantType || got.External() != c.wantExternalReg {
				t.Fatalf("got id %q az %q type %q external %v", got.EC2InstanceID, got.AvailabilityZone, got.InstanceType, got.External())
			}
		})
	}
}

func TestRegisteredAttributesAreAdvertisedOnly(t *testing.T) {
	advertised := []Attribute{{Name: AttrExternal}, {Name: "com.amazonaws.ecs.capability.docker-remote-api.1.41"}}
	reg := CompleteRegistration(InstanceRegistration{CPU: 1024, Memory: 1024, Attributes: advertised}, "us-east-1", "abcdefabcdefabcde")
	ci := newInstance(t, reg)
	var names []string
	for _, a := range ci.Attributes {
		names = append(names, a.Name)
	}
	want := []string{"com.amazonaws.ecs.capability.docker-remote-api.1.41", AttrExternal, AttrCPUArchitecture, AttrOSFamily, AttrOSType}
	if !slices.Equal(names, want) {
		t.Fatalf("attributes %v, want %v", names, want)
	}
	if !ci.IsExternal() || ci.EC2InstanceID != "mi-abcdefabcdefabcde" {
		t.Fatalf("external instance: %+v", ci)
	}
}

func TestLaunchTypeFits(t *testing.T) {
	ec2 := newInstance(t, InstanceRegistration{})
	ext := newInstance(t, InstanceRegistration{Attributes: []Attribute{{Name: AttrExternal}}})
	cases := []struct {
		launchType string
		ci         *ContainerInstance
		want       bool
	}{
		{LaunchEC2, ec2, true},
		{LaunchEC2, ext, false},
		{"", ec2, true},
		{LaunchExternal, ext, true},
		{LaunchExternal, ec2, false},
		{LaunchFargate, ec2, true},
		{LaunchFargate, ext, false},
	}
	for _, c := range cases {
		if got := LaunchTypeFits(c.launchType, c.ci); got != c.want {
			t.Errorf("LaunchTypeFits(%q, external=%v) = %v, want %v", c.launchType, c.ci.IsExternal(), got, c.want)
		}
	}
}

func TestSetVersionInfo(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{VersionInfo: VersionInfo{AgentVersion: "1.0.0"}})
	v := ci.Version
	if !ci.SetVersionInfo(VersionInfo{AgentVersion: "1.105.1", AgentHash: "abc", DockerVersion: "DockerVersion: 25.0.3"}) || ci.Version != v+1 {
		t.Fatalf("not changed: %+v", ci.VersionInfo)
	}
	if ci.VersionInfo != (VersionInfo{AgentVersion: "1.105.1", AgentHash: "abc", DockerVersion: "DockerVersion: 25.0.3"}) {
		t.Fatalf("version info %+v", ci.VersionInfo)
	}
	if ci.SetVersionInfo(VersionInfo{AgentVersion: "1.105.1"}) || ci.SetVersionInfo(VersionInfo{}) || ci.Version != v+1 {
		t.Fatal("an unchanged version info counted as a change")
	}
}

func TestBerthAgentCapabilities(t *testing.T) {
	has := func(attrs []Attribute, name string) bool {
		return slices.ContainsFunc(attrs, func(a Attribute) bool { return a.Name == name })
	}
	caps := BerthAgentCapabilities("1.41", false)
	if !has(caps, "com.amazonaws.ecs.capability.docker-remote-api.1.41") || has(caps, "com.amazonaws.ecs.capability.docker-remote-api.1.42") {
		t.Error("remote API versions not capped at the daemon's")
	}
	if has(caps, "com.amazonaws.ecs.capability.privileged-container") {
		t.Error("privileged-container advertised without privileged support")
	}
	if !has(BerthAgentCapabilities("", true), "com.amazonaws.ecs.capability.privileged-container") {
		t.Error("privileged-container not advertised")
	}
	if has(caps, AttrExternal) {
		t.Error("berth's agent claims to be external")
	}
}

func TestReregisterReplacesCapabilities(t *testing.T) {
	ci := newInstance(t, InstanceRegistration{Attributes: []Attribute{
		{Name: "com.amazonaws.ecs.capability.privileged-container"}, {Name: "ecs.capability.container-health-check"},
	}})
	if err := ci.PutAttributes([]Attribute{{Name: "team", Value: "blue"}}); err != nil {
		t.Fatal(err)
	}
	if err := ci.Reregister([]Attribute{{Name: "ecs.capability.container-health-check"}, {Name: AttrOSType, Value: "linux"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ci.Attribute("com.amazonaws.ecs.capability.privileged-container"); ok {
		t.Error("a capability the agent no longer advertises is kept")
	}
	for _, name := range []string{"ecs.capability.container-health-check", "team", AttrCPUArchitecture} {
		if _, ok := ci.Attribute(name); !ok {
			t.Errorf("%s lost on re-registration", name)
		}
	}
	if err := ci.Reregister([]Attribute{{Name: ""}}); err == nil {
		t.Error("an invalid attribute accepted")
	}
}
