package elbproxy

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
)

func TestNextAddress(t *testing.T) {
	a := netip.MustParseAddr
	got, ok := NextAddress(nil)
	if !ok || got != a("127.77.0.1") {
		t.Fatalf("NextAddress(nil) = %v %v", got, ok)
	}
	got, _ = NextAddress([]netip.Addr{a("127.77.0.1"), a("127.77.0.2")})
	if got != a("127.77.0.3") {
		t.Fatalf("got %v, want 127.77.0.3", got)
	}
	var used []netip.Addr
	for x := a("127.77.0.1"); x != a("127.77.0.255"); x = x.Next() {
		used = append(used, x)
	}
	if got, _ = NextAddress(used); got != a("127.77.1.1") {
		t.Fatalf("got %v, want 127.77.1.1 (skipping .255 and .0)", got)
	}
}

func TestCheckBindInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.77.9.9:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = CheckBind(netip.MustParseAddr("127.77.9.9"), port)
	var be *BindError
	if !errors.As(err, &be) || be.Reason != BindInUse {
		t.Fatalf("CheckBind on a held port = %v, want a BindError in-use", err)
	}
	if be.Addr != "127.77.9.9:"+strconv.Itoa(port) || be.Hint == "" {
		t.Fatalf("BindError = %+v", be)
	}
	ln.Close()
	if err := CheckBind(netip.MustParseAddr("127.77.9.9"), port); err != nil {
		t.Fatalf("CheckBind on a free port = %v", err)
	}
	if err := CheckBind(netip.MustParseAddr("127.77.9.9"), 70000); err == nil {
		t.Fatal("CheckBind port 70000 = nil")
	}
}
