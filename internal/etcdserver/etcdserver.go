package etcdserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config describes one embedded etcd member.
type Config struct {
	// Dir holds the member's data (WAL and database); created if missing.
	// A restart with the same Dir keeps the data.
	Dir string
	// Name is the member name; "berth" when empty.
	Name string
	// ClientPort and PeerPort are the loopback TCP ports; 0 picks a free
	// one (read the result from Endpoints).
	ClientPort, PeerPort int
	// Logger receives etcd's logs (warnings and errors only, unless
	// Verbose); nil discards them.
	Logger  *slog.Logger
	Verbose bool
	// MaxTxnOps and MaxRequestBytes raise etcd's per-request limits;
	// 0 keeps the defaults of this package (DefaultMaxTxnOps,
	// DefaultMaxRequestBytes), which are above etcd's own.
	MaxTxnOps       uint
	MaxRequestBytes uint
	// StartTimeout bounds the wait for the member to become ready;
	// 1 minute when 0.
	StartTimeout time.Duration
	// HistoryRevisions is how many revisions of history the member
	// keeps (etcd's revision-mode auto-compaction); DefaultHistory when
	// 0, negative to keep everything. A watch from an older revision
	// gets a compaction error and re-lists.
	HistoryRevisions int64
	// ClientTLS, when set, serves clients over TLS (https endpoints)
	// with these files.
	ClientTLS *TLSFiles
	// PeerTLS, when set, serves the peer (raft) listener over TLS with
	// these files; plain loopback otherwise.
	PeerTLS *TLSFiles
}

// TLSFiles are the PEM files of a TLS listener.
type TLSFiles struct {
	CertFile, KeyFile string
	// TrustedCAFile, with ClientCertAuth, makes clients present a
	// certificate signed by it.
	TrustedCAFile  string
	ClientCertAuth bool
}

// DefaultHistory matches the bbolt store's default history limit.
const DefaultHistory = 10000

// Limits used when Config leaves them 0. berth's own transactions stay
// far below them; they mirror what berth documents for an external etcd.
const (
	DefaultMaxTxnOps       = 4096
	DefaultMaxRequestBytes = 8 << 20
)

// Server is a running embedded etcd member.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	peers     []string
	ready     chan struct{}
	stopOnce  sync.Once
	stopped   chan struct{}
}

// Start starts a member and returns once it serves clients (or fails).
// ctx bounds the start only; the server runs until Stop.
func Start(ctx context.Context, c Config) (*Server, error) {
	if c.Dir == "" {
		return nil, errors.New("etcdserver: data directory must be set")
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcdserver: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Dir = c.Dir
	cfg.Name = c.Name
	if cfg.Name == "" {
		cfg.Name = "berth"
	}
	cfg.MaxTxnOps = c.MaxTxnOps
	if cfg.MaxTxnOps == 0 {
		cfg.MaxTxnOps = DefaultMaxTxnOps
	}
	cfg.MaxRequestBytes = c.MaxRequestBytes
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	switch h := c.HistoryRevisions; {
	case h == 0:
		cfg.AutoCompactionMode, cfg.AutoCompactionRetention = embed.CompactorModeRevision, strconv.Itoa(DefaultHistory)
	case h > 0:
		cfg.AutoCompactionMode, cfg.AutoCompactionRetention = embed.CompactorModeRevision, strconv.FormatInt(h, 10)
	}
	level := zap.WarnLevel
	if c.Verbose {
		level = zap.InfoLevel
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(newSlogCore(c.Logger, level)))

	// An existing data dir already knows its cluster: start as a restart.
	if _, err := os.Stat(filepath.Join(c.Dir, "member")); err == nil {
		cfg.ClusterState = embed.ClusterStateFlagExisting
	}

	// Ports: etcd cannot take ready listeners, so a port 0 is resolved
	// here by binding and closing a listener; another process may take
	// that port before etcd binds it, so a bind failure on a picked port
	// is retried with fresh ones.
	var e *embed.Etcd
	for attempt := 1; ; attempt++ {
		clientURL, peerURL, err := loopbackURLs(c.ClientPort, c.PeerPort)
		if err != nil {
			return nil, err
		}
		if c.ClientTLS != nil {
			clientURL.Scheme = "https"
			cfg.ClientTLSInfo = transport.TLSInfo{
				CertFile: c.ClientTLS.CertFile, KeyFile: c.ClientTLS.KeyFile,
				TrustedCAFile: c.ClientTLS.TrustedCAFile, ClientCertAuth: c.ClientTLS.ClientCertAuth,
			}
		}
		if c.PeerTLS != nil {
			peerURL.Scheme = "https"
			cfg.PeerTLSInfo = transport.TLSInfo{
				CertFile: c.PeerTLS.CertFile, KeyFile: c.PeerTLS.KeyFile,
				TrustedCAFile: c.PeerTLS.TrustedCAFile, ClientCertAuth: c.PeerTLS.ClientCertAuth,
			}
		}
		cfg.ListenClientUrls = []url.URL{clientURL}
		cfg.AdvertiseClientUrls = []url.URL{clientURL}
		cfg.ListenPeerUrls = []url.URL{peerURL}
		cfg.AdvertisePeerUrls = []url.URL{peerURL}
		cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
		e, err = embed.StartEtcd(cfg)
		if err == nil {
			break
		}
		picked := c.ClientPort == 0 || c.PeerPort == 0
		if !picked || !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			return nil, fmt.Errorf("etcdserver: start: %w", err)
		}
	}
	s := &Server{etcd: e, ready: make(chan struct{}), stopped: make(chan struct{})}
	scheme := "http://"
	if c.ClientTLS != nil {
		scheme = "https://"
	}
	for _, l := range e.Clients {
		s.endpoints = append(s.endpoints, scheme+l.Addr().String())
	}
	for _, p := range e.Peers {
		s.peers = append(s.peers, p.Addr().String())
	}
	timeout := c.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.Server.ReadyNotify():
		close(s.ready)
		return s, nil
	case err := <-e.Err():
		s.Stop()
		return nil, fmt.Errorf("etcdserver: %w", err)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	case <-t.C:
		s.Stop()
		return nil, fmt.Errorf("etcdserver: not ready within %v", timeout)
	}
}

// loopbackURLs returns the client and peer URLs on 127.0.0.1, picking free
// ports for the ones given as 0.
func loopbackURLs(clientPort, peerPort int) (url.URL, url.URL, error) {
	pick := func(port int) (url.URL, error) {
		if port == 0 {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return url.URL{}, fmt.Errorf("etcdserver: pick a port: %w", err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
		return url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, nil
	}
	cu, err := pick(clientPort)
	if err != nil {
		return url.URL{}, url.URL{}, err
	}
	pu, err := pick(peerPort)
	return cu, pu, err
}

// Ready is closed once the member serves clients (Start returns a Server
// only then; the channel is there for owners that hand the Server on).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Endpoints are the client URLs (http://127.0.0.1:port, https with
// ClientTLS) for clientv3.
func (s *Server) Endpoints() []string { return append([]string(nil), s.endpoints...) }

// PeerAddrs are the peer listeners' host:port addresses.
func (s *Server) PeerAddrs() []string { return append([]string(nil), s.peers...) }

// Err delivers a fatal serving error of the running member.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

// Stop stops the member and waits until its listeners, raft loop and
// storage are closed. Safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.etcd.Close()
		<-s.etcd.Server.StopNotify()
		close(s.stopped)
	})
	<-s.stopped
}
