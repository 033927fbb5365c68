package elbproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// description is a reason code's description, AWS's wording.
func description(reason string) string {
	switch reason {
	case ReasonRegistrationInProgress:
		return "Target registration is in progress"
	case ReasonInitialHealthChecking:
		return "Initial health checks in progress"
	case ReasonTimeout:
		return "Request timed out"
	case ReasonFailedHealthChecks:
		return "Health checks failed"
	case ReasonDeregistrationInProgress:
		return "Target deregistration is in progress"
	case ReasonNotInUse:
		return "Target group is not configured to receive traffic from the load balancer"
	case ReasonNotRegistered:
		return "Target is not registered to the target group"
	case ReasonHealthCheckDisabled:
		return "Health checks are disabled"
	}
	return ""
}

func healthOf(state State, reason string) Health {
	return Health{State: state, Reason: reason, Description: description(reason)}
}

// checkResult is one health check's outcome: ok, or the reason it failed.
type checkResult struct {
	ok          bool
	reason      string
	description string
}

// streak counts consecutive check outcomes and decides a target's health
// from them; it is the state machine of one checked target:
//
//	initial --HealthyThreshold successes--> healthy
//	initial --UnhealthyThreshold failures--> unhealthy
//	healthy --UnhealthyThreshold failures--> unhealthy
//	unhealthy --HealthyThreshold successes--> healthy
//
// While initial, the reason moves from Elb.RegistrationInProgress to
// Elb.InitialHealthChecking at the first result. An unhealthy target takes
// the reason of its latest failure.
type streak struct {
	successes, failures int
}

// observe folds one result into cur and returns the new health.
func (s *streak) observe(cur Health, r checkResult, hc HealthCheck) Health {
	if r.ok {
		s.successes++
		s.failures = 0
	} else {
		s.failures++
		s.successes = 0
	}
	healthyN, unhealthyN := max(hc.HealthyThreshold, 1), max(hc.UnhealthyThreshold, 1)
	switch {
	case r.ok && s.successes >= healthyN:
		return Health{State: StateHealthy}
	case !r.ok && s.failures >= unhealthyN:
		return Health{State: StateUnhealthy, Reason: r.reason, Description: r.description}
	case !r.ok && cur.State == StateUnhealthy:
		return Health{State: StateUnhealthy, Reason: r.reason, Description: r.description}
	case cur.State == StateInitial:
		return healthOf(StateInitial, ReasonInitialHealthChecking)
	}
	return cur
}

// matcher is a parsed HTTP code matcher: "200", "200,302", "200-299".
type matcher [][2]int

func parseMatcher(s string) (matcher, error) {
	if strings.TrimSpace(s) == "" {
		s = "200"
	}
	var m matcher
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %q is not an HTTP code", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("matcher %q: %q is not an HTTP code", s, hi)
			}
		}
		if a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("matcher %q: %q is out of 100-599", s, part)
		}
		m = append(m, [2]int{a, b})
	}
	return m, nil
}

func (m matcher) match(code int) bool {
	for _, r := range m {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// checker runs one kind of health check against addresses.
type checker struct {
	hc     HealthCheck
	match  matcher
	client *http.Client
}

func newChecker(hc HealthCheck) *checker {
	m, err := parseMatcher(hc.Matcher)
	if err != nil {
		m = matcher{{200, 200}}
	}
	// AWS does not verify a target's certificate in HTTPS health checks.
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	return &checker{hc: hc, match: m, client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *checker) timeout() time.Duration {
	if c.hc.Timeout > 0 {
		return c.hc.Timeout
	}
	return 5 * time.Second
}

// check runs one check against addr (host:port).
func (c *checker) check(ctx context.Context, addr string) checkResult {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	scheme := strings.ToLower(c.hc.Protocol)
	if scheme != "http" && scheme != "https" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return failure(ctx, err)
		}
		conn.Close()
		return checkResult{ok: true}
	}
	path := c.hc.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return checkResult{reason: ReasonFailedHealthChecks, description: description(ReasonFailedHealthChecks)}
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := c.client.Do(req)
	if err != nil {
		return failure(ctx, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if !c.match.match(resp.StatusCode) {
		return checkResult{reason: ReasonResponseCodeMismatch,
			description: fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)}
	}
	return checkResult{ok: true}
}

func (c *checker) close() {
	c.client.CloseIdleConnections()
}

func failure(ctx context.Context, err error) checkResult {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return checkResult{reason: ReasonTimeout, description: description(ReasonTimeout)}
	}
	return checkResult{reason: ReasonFailedHealthChecks, description: description(ReasonFailedHealthChecks)}
}
