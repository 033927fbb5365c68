// Package elbproxy is the ELBv2 data plane: it turns a Spec (load
// balancers, listeners, rules, target groups, targets) into listening
// sockets on this host that carry traffic — an HTTP reverse proxy for each
// ALB listener, a TCP proxy for each NLB listener — and it runs the target
// health checks, reporting every change of a target's health.
//
// The types here are the data plane's own, not the domain's
// (internal/elb): the control plane converts its stored state to a Spec.
//
// # Use
//
//	p := elbproxy.New(elbproxy.Config{Logger: log, OnHealth: report})
//	go p.Run(ctx)                    // owns every goroutine; returns after ctx ends and all stopped
//	statuses := p.Apply(spec)        // level-based: the whole desired state, any time, any number of times
//	err := elbproxy.CheckBind(addr, port) // before CreateListener: can this port be bound?
//
// Apply is synchronous for the sockets: when it returns, every listener in
// the Spec is listening or its ListenerStatus says why not (a *BindError:
// the port is privileged and berth is not root, or another process holds
// it, with what to do). Listeners no longer in the Spec are closed; a
// listener whose load balancer, protocol and port are unchanged keeps its
// socket and connections, and only its rules and groups are swapped.
// Apply never blocks on targets. Changing a target group or its targets
// never resets the health of targets that stay; a target whose Address
// changed (an instance that moved) is replaced at the new address with
// the health it had.
//
// OnHealth is called (from the proxy's goroutines, one call at a time,
// never under a lock the caller could need) for every change of a
// target's Health, including the first state of a new target; the control
// plane stores it for DescribeTargetHealth. Apply uses a Target's Health
// from the Spec only for a target it does not track yet (after a restart).
//
// # Reachability (issue 9 part 4)
//
// Each load balancer has its own loopback address (LoadBalancer.Address,
// in 127.0.0.0/8; Linux routes all of 127/8 to lo, no setup needed), and
// every listener binds Address:Port. So two load balancers can each have
// a listener on port 80. NextAddress picks a free one (127.77.0.1 upward).
//
// Additionally there is a shared front on 127.0.0.1:Port for every port
// that has listeners (the front binds only if 127.0.0.1:Port is free):
//
//   - If all listeners on that port are ALB (HTTP) listeners, the front
//     routes each request by its Host header (case-insensitive, port
//     ignored) to the load balancer whose DNSName matches; a request whose
//     Host matches none goes to the only ALB on that port if there is just
//     one, else it gets 404 with the DNS names that are served there. So
//     with DNSName "web-alb-123.us-east-1.elb.localhost",
//     `curl http://web-alb-123.us-east-1.elb.localhost/` works (curl and
//     browsers resolve *.localhost to 127.0.0.1).
//   - If the port has exactly one listener and it is an NLB (TCP)
//     listener, the front forwards TCP to it.
//   - If all listeners on that port terminate TLS (HTTPS and TLS), the
//     front reads each connection's ClientHello and hands the connection
//     to the listener whose DNSName is the server name asked for (SNI),
//     or the port's only one; that listener terminates TLS with its own
//     certificates and serves it. A name none has, among several, is
//     closed (sni.go).
//   - Otherwise (NLB sharing a port with others, TLS and plain listeners
//     on one port, or a load balancer whose
//     own Address is the front's) there is no front for that port; each
//     is reached at its own Address:Port.
//
// The front's bind failure is FrontErr in the ListenerStatus, not Err: the
// listener still serves on its own address.
//
// # Draining
//
// A target with Draining set gets no new requests (ALB) or connections
// (NLB); requests and connections in flight go on until DrainDeadline,
// when they are closed. Its health is reported draining
// (Target.DeregistrationInProgress). The control plane removes it from the
// Spec at DrainDeadline.
//
// # Target choice
//
// Traffic goes to healthy targets; when a group has none healthy it goes
// to all its non-draining targets (AWS fails open), and a group with no
// non-draining targets answers 503. Initial targets count as not healthy
// (they get traffic only in fail-open). ALB: round_robin or
// least_outstanding_requests, slow start, lb_cookie stickiness (AWSALB),
// weighted groups with group stickiness (AWSALBTG). NLB: a flow hash of
// the client address and port.
//
// # Health checks
//
// One loop per checked target, every Interval: HTTP or HTTPS GET Path
// (certificate not verified, as AWS) with the status against Matcher, or
// a TCP connect; Timeout bounds each. The thresholds move a target between
// initial, healthy and unhealthy (the streak type has the state machine)
// with AWS's reason codes; a group no listener uses has its targets
// unused (Target.NotInUse) and unchecked; checks disabled make them
// unavailable (Target.HealthCheckDisabled), and they take traffic.
//
// # Forwarding
//
// An ALB listener's connections are served first by the fast path
// (fast.go, fastfwd.go, rawreq.go, rawhead.go; rawfields.go is the field
// scanner both in-place parsers share): a plain HTTP/1.1 request
// without a body or Upgrade whose rule forwards it (most requests) is
// written to a pooled keep-alive connection to its target (hop-by-hop
// fields dropped, X-Forwarded-*, X-Amzn-Trace-Id added) and the answer
// relayed back (its header parsed in place and its fields copied through;
// known length copied, unknown length re-chunked and flushed as it
// arrives), all on the connection's own goroutine: no per-request
// goroutine, context, request clone or header map. The request is read
// with http.ReadRequest when rules need it; a listener with only a
// default forward (no group stickiness) forwards it from its header in
// place. Headers the in-place parsers do not take (folded, larger than
// 4 KiB, unusual framing) go through net/http's parsers. Any other request (a body, Upgrade, Expect, HTTP/1.0, a
// redirect or fixed response, a header net/http would refuse or one
// larger than 4 KiB) hands the connection, with the bytes read so far, to
// the listener's net/http server and httputil.ReverseProxy, which serve it
// from then on (bodies through an http.Transport; body-less requests
// there on the same pooled connections). A connection idle for 100ms
// gives its buffers back and its goroutine up: one epoll goroutine per
// proxy (idlepoll.go) waits for all idle connections and closes them at
// the idle timeout. The fast path does not notice
// a client that goes away while its target is answering (the answer is
// dropped when written); the net/http path cancels the target request.
// Targets of HTTPS and TLS groups are dialed with TLS (dialTarget, their
// certificate not verified, as AWS) on every path.
// Pooled target connections belong to their target and close when it
// ends (removed, or its drain deadline). The response header timeout is
// the load balancer's idle timeout (504). The shared HTTP front reads a
// connection's first request header (without consuming it), and gives the
// connection to the fast path of the load balancer its Host names (the
// port's only one when none matches); that fast path checks each further
// request's Host and gives the connection back to the front for another
// load balancer's. A connection no load balancer takes (an unknown Host
// with several on the port) is served by the front's net/http server. bench/elbproxy measures it against direct, nginx and haproxy.
package elbproxy
