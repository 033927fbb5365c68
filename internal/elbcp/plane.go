package elbcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/fault"
)

// PortChecker says whether a listener can be served at an address: nil if
// berth can bind it (or already serves it), else an error saying why.
type PortChecker interface {
	CheckBind(ctx context.Context, at netip.AddrPort) error
}

// AddressReserver reserves load balancer addresses host-wide, so that two
// berth servers on one host never hand out the same one (hostaddr).
type AddressReserver interface {
	// Reserve reports whether addr may be this server's (and reserves it).
	Reserve(addr netip.Addr) (bool, error)
	// Release gives addr up.
	Release(addr netip.Addr) error
}

// Config configures a Plane.
type Config struct {
	Repo   *elbstore.Repo
	Logger *slog.Logger
	Now    func() time.Time
	// Ports checks listener ports before CreateListener and ModifyListener
	// commit (nil: no check).
	Ports PortChecker
	// AddressBase is the first loopback address given to load balancers
	// (default 127.77.0.1, as elbproxy.NextAddress).
	AddressBase netip.Addr
	// Addresses reserves each new load balancer's address host-wide (nil:
	// addresses are unique in this server's store only).
	Addresses AddressReserver
	// Certificates checks listener certificates (nil: any well-formed
	// ARN is taken).
	Certificates CertificateChecker
}

// Plane is the ELBv2 control plane.
type Plane struct {
	repo  *elbstore.Repo
	log   *slog.Logger
	now   func() time.Time
	ports PortChecker
	base  netip.Addr
	certs CertificateChecker
	hosts AddressReserver
	// creating serializes CreateLoadBalancer's choice of an address with
	// the release of an unused reservation.
	creating sync.Mutex
}

// New returns a Plane.
func New(cfg Config) *Plane {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.AddressBase.IsValid() {
		cfg.AddressBase = netip.AddrFrom4([4]byte{127, 77, 0, 1})
	}
	return &Plane{repo: cfg.Repo, log: cfg.Logger, now: cfg.Now, ports: cfg.Ports, base: cfg.AddressBase, hosts: cfg.Addresses, certs: cfg.Certificates}
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randomDigits(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, _ := rand.Int(rand.Reader, max)
	return fmt.Sprintf("%0*d", n, v)
}

// nextAddress returns the first loopback address from base that no load
// balancer of this store holds and that is reserved host-wide for this
// server (p.hosts; the caller releases it if the load balancer is not
// created).
func (p *Plane) nextAddress(ctx context.Context) (string, error) {
	taken, err := p.repo.Addresses(ctx)
	if err != nil {
		return "", err
	}
	a := p.base
	for range 65000 {
		if !taken[a.String()] && a.As4()[3] != 0 && a.As4()[3] != 255 {
			if p.hosts == nil {
				return a.String(), nil
			}
			ok, err := p.hosts.Reserve(a)
			if err != nil {
				return "", fault.New(fault.Internal, "reserving a load balancer address: %v", err)
			}
			if ok {
				return a.String(), nil
			}
		}
		a = a.Next()
		if !a.IsLoopback() {
			break
		}
	}
	return "", fault.New(fault.LimitExceeded, "no free loopback address is left for a new load balancer").WithCode(elb.CodeTooManyLoadBalancers)
}

// releaseAddress gives up a host-wide reservation that no load balancer
// of this store uses.
func (p *Plane) releaseAddress(ctx context.Context, addr string) {
	a, err := netip.ParseAddr(addr)
	if p.hosts == nil || addr == "" || err != nil {
		return
	}
	if taken, err := p.repo.AddressTaken(ctx, addr); err != nil || taken {
		return
	}
	if err := p.hosts.Release(a); err != nil {
		p.log.Warn("releasing a load balancer address", "addr", addr, "err", err)
	}
}

// lbByARN finds a load balancer by ARN in st.
func lbByARN(st *elbstore.State, arn string) (*elb.LoadBalancer, elb.ARN, error) {
	a, err := elb.ParseARN(arn, elb.KindLoadBalancer)
	if err != nil {
		return nil, a, err
	}
	lb := st.LoadBalancers[a.Name]
	if lb == nil || lb.ARN != arn {
		return nil, a, elb.LoadBalancerNotFound()
	}
	return lb, a, nil
}

func tgByARN(st *elbstore.State, arn string) (*elb.TargetGroup, error) {
	a, err := elb.ParseARN(arn, elb.KindTargetGroup)
	if err != nil {
		return nil, err
	}
	tg := st.TargetGroups[a.Name]
	if tg == nil || tg.ARN != arn {
		return nil, elb.TargetGroupNotFound()
	}
	return tg, nil
}

func listenerByARN(st *elbstore.State, arn string) (*elb.Listener, elb.ARN, error) {
	a, err := elb.ParseARN(arn, elb.KindListener)
	if err != nil {
		return nil, a, err
	}
	l := st.Listeners[arn]
	if l == nil {
		return nil, a, elb.ListenerNotFound()
	}
	return l, a, nil
}

// usedBy returns, per target group ARN, the load balancers whose
// listeners or rules forward to it.
func usedBy(st *elbstore.State) map[string][]string {
	out := map[string][]string{}
	add := func(lbARN string, actions []elb.Action) {
		for _, tg := range elb.TargetGroupARNs(actions) {
			seen := false
			for _, x := range out[tg] {
				seen = seen || x == lbARN
			}
			if !seen {
				out[tg] = append(out[tg], lbARN)
			}
		}
	}
	for _, l := range st.Listeners {
		add(l.LoadBalancerARN, l.DefaultActions)
	}
	for _, r := range st.Rules {
		if l := st.Listeners[r.ListenerARN]; l != nil {
			add(l.LoadBalancerARN, r.Actions)
		}
	}
	return out
}
