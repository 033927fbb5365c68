package server

import (
	"net"
	"strings"
	"testing"
)

// TestListenErrorInUse checks that a taken API address is refused with
// the way out (--listen), and that other listen errors are left as they are.
func TestListenErrorInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = net.Listen("tcp", ln.Addr().String())
	if err == nil {
		t.Fatal("second listen on the same address succeeded")
	}
	got := listenError(err, ln.Addr().String()).Error()
	if !strings.Contains(got, "address already in use") || !strings.Contains(got, "--listen 127.0.0.1:PORT") {
		t.Errorf("in use: %q", got)
	}
	_, err = net.Listen("tcp", "127.0.0.1:notaport")
	if err == nil {
		t.Fatal("listen on a bad port succeeded")
	}
	if got := listenError(err, "127.0.0.1:notaport").Error(); strings.Contains(got, "--listen") {
		t.Errorf("not in use, yet the hint: %q", got)
	}
}
