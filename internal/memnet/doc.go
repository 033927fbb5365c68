// Package memnet is an in-memory network for tests: a net.Listener whose
// connections are buffered in memory, so that an HTTP (or websocket)
// server and its clients run entirely inside a testing/synctest bubble,
// in fake time. Connections buffer what is written, as TCP does (a
// net.Pipe does not, and two peers that both write before reading block
// each other on it), and honour read deadlines (net/http interrupts its
// background read with one; http.Server's ReadTimeout is one).
//
//	ln := memnet.Listen()
//	go srv.Serve(ln)
//	client := &http.Client{Transport: &http.Transport{DialContext: ln.DialContext}}
package memnet
