package hostaddr

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestReserve(t *testing.T) {
	dir := t.TempDir()
	dataA, dataB := t.TempDir(), filepath.Join(t.TempDir(), "b")
	if err := os.Mkdir(dataB, 0o755); err != nil {
		t.Fatal(err)
	}
	never := func(netip.Addr) bool { return false }
	a := New(Config{Dir: dir, Owner: "owner-a", DataDir: dataA, Listening: never})
	b := New(Config{Dir: dir, Owner: "owner-b", DataDir: dataB, Listening: never})
	x := netip.MustParseAddr("127.77.0.1")
	must := func(ok bool, err error) bool {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !must(a.Reserve(x)) {
		t.Fatal("a could not reserve a free address")
	}
	if !must(a.Reserve(x)) {
		t.Fatal("a could not reserve its own address again")
	}
	if must(b.Reserve(x)) {
		t.Fatal("b reserved a's address")
	}
	// Another server with a's identity (a shared store) shares it.
	if !must(New(Config{Dir: dir, Owner: "owner-a", DataDir: t.TempDir(), Listening: never}).Reserve(x)) {
		t.Fatal("the same owner was refused")
	}
	// b cannot release what a holds; a can.
	if err := b.Release(x); err != nil {
		t.Fatal(err)
	}
	if must(b.Reserve(x)) {
		t.Fatal("b's release freed a's address")
	}
	if err := a.Release(x); err != nil {
		t.Fatal(err)
	}
	if !must(b.Reserve(x)) {
		t.Fatal("b could not reserve a released address")
	}
	// b's data directory removed: its reservation is void.
	if err := os.RemoveAll(dataB); err != nil {
		t.Fatal(err)
	}
	if !must(a.Reserve(x)) {
		t.Fatal("a could not take the address of a removed data directory")
	}
}

// TestReserveSkipsListening: an address on which some process listens
// (here this test) is never reserved, with the real /proc/net/tcp probe.
func TestReserveSkipsListening(t *testing.T) {
	x := netip.MustParseAddr("127.77.251.9")
	r := New(Config{Dir: t.TempDir(), Owner: "o", DataDir: t.TempDir()})
	ln, err := net.Listen("tcp", netip.AddrPortFrom(x, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Reserve(x); err != nil || ok {
		t.Fatalf("Reserve of a listened-on address = %v %v, want false", ok, err)
	}
	ln.Close()
	if ok, err := r.Reserve(x); err != nil || !ok {
		t.Fatalf("Reserve after the listener closed = %v %v, want true", ok, err)
	}
}
