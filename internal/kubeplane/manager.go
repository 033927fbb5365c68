package kubeplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/ekscp"
	"github.com/berth-dev/berth/internal/etcdserver"
)

// Config configures a Manager.
type Config struct {
	// DataDir is berth's data directory: clusters live under
	// DataDir/eks, their etcd under DataDir/eks/etcd.
	DataDir string
	// Command runs a component: Command + component name + its flags
	// (cmd/berth passes its own executable and the hidden subcommand).
	Command []string
	// WebhookURL is berth's EKS authenticator, as the API servers reach
	// it: http://127.0.0.1:4566/_berth/eks/ (the path ends with /).
	WebhookURL string
	Logger     *slog.Logger
	// ReadyTimeout bounds how long Ensure waits for an API server to
	// become ready (1 minute when 0); the lifecycle controller retries.
	ReadyTimeout time.Duration
}

// Manager runs clusters' control planes; it implements ekscp.ControlPlanes.
type Manager struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	etcd     *etcdserver.Server
	clusters map[string]*cluster // by cluster ID
	closed   bool
}

// cluster is one cluster's running control plane.
type cluster struct {
	id, dir string
	spec    spec
	procs   []*proc
	client  *http.Client // berth's admin client of the API server
	ep      ekscp.Endpoint
	ready   bool
	awsAuth awsAuthCache
}

// New returns a Manager; nothing runs until the first Ensure.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = time.Minute
	}
	return &Manager{cfg: cfg, log: cfg.Logger, clusters: map[string]*cluster{}}
}

var _ ekscp.ControlPlanes = (*Manager)(nil)

func (m *Manager) clusterDir(c *eks.Cluster) string {
	return filepath.Join(m.cfg.DataDir, "eks", "clusters", c.ID)
}

// etcdPrefix is the cluster's key prefix in the shared etcd.
func etcdPrefix(c *eks.Cluster) string { return "/berth-eks/" + c.ID }

// Issuer is a cluster's OIDC issuer URL, as EKS names it.
func Issuer(sc eks.Scope, c *eks.Cluster) string {
	return "https://oidc.eks." + sc.Region + ".amazonaws.com/id/" + c.ID
}

// Ensure starts the cluster's control plane unless it runs and returns
// its endpoint once the API server is ready.
func (m *Manager) Ensure(ctx context.Context, sc eks.Scope, c *eks.Cluster) (ekscp.Endpoint, error) {
	cl, err := m.start(ctx, sc, c)
	if err != nil {
		return ekscp.Endpoint{}, err
	}
	m.mu.Lock()
	ready, ep := cl.ready, cl.ep
	m.mu.Unlock()
	if ready {
		return ep, nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.ReadyTimeout)
	defer cancel()
	ep, err = m.waitReady(ctx, cl)
	if err != nil {
		return ekscp.Endpoint{}, fmt.Errorf("the API server is not ready: %w%s", err, lastLines(cl))
	}
	m.mu.Lock()
	cl.ready, cl.ep = true, ep
	m.mu.Unlock()
	m.log.Info("kubernetes control plane ready", "cluster", c.Name, "endpoint", ep.URL, "version", ep.Version)
	return ep, nil
}

// start prepares the cluster's directory and starts its components
// (once).
func (m *Manager) start(ctx context.Context, sc eks.Scope, c *eks.Cluster) (*cluster, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("kubeplane: closed")
	}
	if cl := m.clusters[c.ID]; cl != nil {
		return cl, nil
	}
	if err := m.startEtcd(ctx); err != nil {
		return nil, err
	}
	dir := m.clusterDir(c)
	s, err := m.prepare(sc, c, dir)
	if err != nil {
		return nil, err
	}
	cl := &cluster{id: c.ID, dir: dir, spec: s}
	if cl.client, err = adminClient(dir); err != nil {
		return nil, err
	}
	for _, comp := range []struct {
		name string
		args []string
	}{
		{"kube-apiserver", s.apiserverArgs()},
		{"kube-controller-manager", s.controllerManagerArgs()},
		{"kube-scheduler", s.schedulerArgs()},
	} {
		p := &proc{
			name: comp.name, command: m.cfg.Command, args: append([]string{comp.name}, comp.args...),
			logFile: filepath.Join(dir, "logs", comp.name+".log"), log: m.log.With("cluster", c.Name),
		}
		p.start()
		cl.procs = append(cl.procs, p)
	}
	m.clusters[c.ID] = cl
	m.log.Info("kubernetes control plane starting", "cluster", c.Name, "dir", dir, "port", s.port)
	return cl, nil
}

// prepare writes the cluster's PKI, kubeconfigs and webhook
// configurations and picks its port.
func (m *Manager) prepare(sc eks.Scope, c *eks.Cluster, dir string) (spec, error) {
	ip, err := serviceIP(c.ServiceIPv4CIDR)
	if err != nil {
		return spec{}, err
	}
	if err := ensurePKI(dir, ip); err != nil {
		return spec{}, fmt.Errorf("kubeplane: cluster PKI: %w", err)
	}
	var st state
	if b, err := os.ReadFile(filepath.Join(dir, stateFile)); err == nil {
		_ = json.Unmarshal(b, &st)
	}
	if st.Port == 0 || !portFree(st.Port) {
		if st.Port, err = freePort(); err != nil {
			return spec{}, err
		}
		b, _ := json.Marshal(st)
		if err := writeFile(filepath.Join(dir, stateFile), b); err != nil {
			return spec{}, err
		}
	}
	server := "https://127.0.0.1:" + strconv.Itoa(st.Port)
	hook := m.cfg.WebhookURL + sc.Account + "/" + sc.Region + "/" + c.Name
	for _, k := range []struct{ name, server, ca, cert, key string }{
		{cmKubeconfig, server, caCert, cmCert, cmKey},
		{schedKubeconfig, server, caCert, schedCert, schedKey},
		{adminKubeconfig, server, caCert, adminCert, adminKey},
		{authnWebhook, hook + "/authenticate", "", "", ""},
		{authzWebhook, hook + "/authorize", "", "", ""},
	} {
		if err := writeKubeconfig(dir, k.name, k.server, k.ca, k.cert, k.key); err != nil {
			return spec{}, err
		}
	}
	return spec{
		dir: dir, port: st.Port, etcd: strings.Join(m.etcd.Endpoints(), ","), etcdPrefix: etcdPrefix(c),
		etcdTLS:     etcdTLS{filepath.Join(m.cfg.DataDir, "eks", etcdPKIDir)},
		serviceCIDR: c.ServiceIPv4CIDR, issuer: Issuer(sc, c), clusterName: c.Name,
	}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// adminClient is berth's client of the cluster's API server
// (system:masters, over the cluster's CA).
func adminClient(dir string) (*http.Client, error) {
	ca, err := loadCA(dir)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, adminCert), filepath.Join(dir, adminKey))
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		},
	}, nil
}

// waitReady polls /readyz until it answers ok, then reads /version.
func (m *Manager) waitReady(ctx context.Context, cl *cluster) (ekscp.Endpoint, error) {
	base := "https://127.0.0.1:" + strconv.Itoa(cl.spec.port)
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := cl.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		last = err
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ekscp.Endpoint{}, errors.Join(ctx.Err(), last)
		case <-t.C:
		}
	}
	var v struct {
		GitVersion   string `json:"gitVersion"`
		Major, Minor string
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/version", nil)
	resp, err := cl.client.Do(req)
	if err != nil {
		return ekscp.Endpoint{}, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return ekscp.Endpoint{}, fmt.Errorf("/version: %w", err)
	}
	if strings.HasPrefix(v.GitVersion, "v0.0.0-") && v.Major != "" {
		// A build without Kubernetes' version ldflags: the major and
		// minor version still tell.
		v.GitVersion = "v" + v.Major + "." + v.Minor
	}
	ca, err := loadCA(cl.dir)
	if err != nil {
		return ekscp.Endpoint{}, err
	}
	return ekscp.Endpoint{
		URL: base, CAData: base64.StdEncoding.EncodeToString(ca), OIDCIssuer: cl.spec.issuer, Version: v.GitVersion,
	}, nil
}

// lastLines is the end of the API server's log, for an error message.
func lastLines(cl *cluster) string {
	t := strings.TrimSpace(tail(filepath.Join(cl.dir, "logs", "kube-apiserver.log"), 600))
	if t == "" {
		return ""
	}
	if i := strings.IndexByte(t, '\n'); i >= 0 && len(t) >= 600 {
		t = t[i+1:]
	}
	return "; the API server's log ends: " + t
}

// Remove stops the cluster's control plane and deletes its objects and
// files.
func (m *Manager) Remove(ctx context.Context, sc eks.Scope, c *eks.Cluster) error {
	m.mu.Lock()
	cl := m.clusters[c.ID]
	delete(m.clusters, c.ID)
	m.mu.Unlock()
	if cl != nil {
		stopAll(cl.procs)
	}
	if err := m.deletePrefix(ctx, c); err != nil {
		return err
	}
	if err := os.RemoveAll(m.clusterDir(c)); err != nil {
		return fmt.Errorf("kubeplane: removing the cluster's files: %w", err)
	}
	m.log.Info("kubernetes control plane removed", "cluster", c.Name)
	return nil
}

// deletePrefix deletes the cluster's keys from etcd (starting etcd when
// needed: a cluster deleted right after a restart still has its data).
func (m *Manager) deletePrefix(ctx context.Context, c *eks.Cluster) error {
	m.mu.Lock()
	e := m.etcd
	m.mu.Unlock()
	if e == nil {
		if _, err := os.Stat(filepath.Join(m.cfg.DataDir, "eks", "etcd")); err != nil {
			return nil // no cluster ever stored anything
		}
		m.mu.Lock()
		if err := m.startEtcd(ctx); err != nil {
			m.mu.Unlock()
			return err
		}
		e = m.etcd
		m.mu.Unlock()
	}
	tlsCfg, err := m.etcdClientTLS()
	if err != nil {
		return fmt.Errorf("kubeplane: the clusters' etcd client: %w", err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop(), TLS: tlsCfg})
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Delete(ctx, etcdPrefix(c)+"/", clientv3.WithPrefix()); err != nil {
		return fmt.Errorf("kubeplane: deleting the cluster's objects: %w", err)
	}
	return nil
}

func stopAll(ps []*proc) {
	var wg sync.WaitGroup
	// The scheduler and controller manager first, then the API server.
	for i := len(ps) - 1; i >= 1; i-- {
		wg.Go(ps[i].stop)
	}
	wg.Wait()
	if len(ps) > 0 {
		ps[0].stop()
	}
}

// Close stops every control plane and etcd (the clusters' data stays).
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	cls := m.clusters
	m.clusters = map[string]*cluster{}
	e := m.etcd
	m.etcd = nil
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, cl := range cls {
		wg.Go(func() { stopAll(cl.procs) })
	}
	wg.Wait()
	if e != nil {
		e.Stop()
	}
	return nil
}
