package kubeplane

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
)

// Files of a cluster's configuration, relative to its directory.
const (
	cmKubeconfig    = "controller-manager.kubeconfig"
	schedKubeconfig = "scheduler.kubeconfig"
	adminKubeconfig = "berth-admin.kubeconfig"
	authnWebhook    = "authn-webhook.kubeconfig"
	authzWebhook    = "authz-webhook.kubeconfig"
	stateFile       = "state.json"
)

// state is what a cluster's directory remembers across berth restarts.
type state struct {
	// Port is the API server's loopback port: kept, so that kubeconfig
	// files stay valid after a restart (another one is taken when it is
	// in use by then).
	Port int `json:"port"`
}

// kubeconfig is the subset of a kubeconfig file berth writes (JSON is
// valid YAML, which Kubernetes reads).
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Users          []namedUser    `json:"users"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		Server               string `json:"server"`
		CertificateAuthority string `json:"certificate-authority,omitempty"`
	} `json:"cluster"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		ClientCertificate string `json:"client-certificate,omitempty"`
		ClientKey         string `json:"client-key,omitempty"`
	} `json:"user"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster string `json:"cluster"`
		User    string `json:"user"`
	} `json:"context"`
}

// writeKubeconfig writes a kubeconfig for server; certFile and keyFile
// (relative to dir) authenticate the client when set, caFile verifies
// the server when set.
func writeKubeconfig(dir, name, server, caFile, certFile, keyFile string) error {
	kc := kubeconfig{APIVersion: "v1", Kind: "Config", CurrentContext: "default"}
	var c namedCluster
	c.Name, c.Cluster.Server = "default", server
	if caFile != "" {
		c.Cluster.CertificateAuthority = filepath.Join(dir, caFile)
	}
	var u namedUser
	u.Name = "default"
	if certFile != "" {
		u.User.ClientCertificate, u.User.ClientKey = filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	}
	var x namedContext
	x.Name, x.Context.Cluster, x.Context.User = "default", "default", "default"
	kc.Clusters, kc.Users, kc.Contexts = []namedCluster{c}, []namedUser{u}, []namedContext{x}
	b, err := json.MarshalIndent(kc, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, name), b)
}

// serviceIP is the first address of the service CIDR: the kubernetes
// service's cluster IP, which the serving certificate names.
func serviceIP(cidr string) (net.IP, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("kubeplane: service CIDR %q: %w", cidr, err)
	}
	return net.IP(p.Masked().Addr().Next().AsSlice()), nil
}

// spec is what one start of a cluster's components needs.
type spec struct {
	dir         string
	port        int
	etcd        string // etcd client URL(s), comma-separated
	etcdPrefix  string
	etcdTLS     etcdTLS // the client certificate and CA of the etcd
	serviceCIDR string
	issuer      string
	clusterName string
}

func (s spec) path(f string) string { return filepath.Join(s.dir, f) }

// apiserverArgs are kube-apiserver's flags.
func (s spec) apiserverArgs() []string {
	return []string{
		"--etcd-servers=" + s.etcd,
		"--etcd-prefix=" + s.etcdPrefix,
		"--etcd-cafile=" + s.etcdTLS.path(etcdCACert),
		"--etcd-certfile=" + s.etcdTLS.path(etcdClientCert),
		"--etcd-keyfile=" + s.etcdTLS.path(etcdClientKey),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(s.port),
		// A loopback API server cannot publish itself as the kubernetes
		// service's endpoint.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + s.path(servingCert),
		"--tls-private-key-file=" + s.path(servingKey),
		"--client-ca-file=" + s.path(caCert),
		"--service-account-key-file=" + s.path(saPub),
		"--service-account-signing-key-file=" + s.path(saKey),
		"--service-account-issuer=" + s.issuer,
		"--service-cluster-ip-range=" + s.serviceCIDR,
		"--authorization-mode=Node,RBAC,Webhook",
		"--authorization-webhook-config-file=" + s.path(authzWebhook),
		"--authorization-webhook-version=v1",
		"--authorization-webhook-cache-authorized-ttl=5s",
		"--authorization-webhook-cache-unauthorized-ttl=1s",
		"--authentication-token-webhook-config-file=" + s.path(authnWebhook),
		"--authentication-token-webhook-version=v1",
		"--authentication-token-webhook-cache-ttl=5s",
		"--profiling=false",
		"--v=1",
	}
}

// controllerManagerArgs are kube-controller-manager's flags.
func (s spec) controllerManagerArgs() []string {
	return []string{
		"--kubeconfig=" + s.path(cmKubeconfig),
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + s.path(saKey),
		"--root-ca-file=" + s.path(caCert),
		"--cluster-signing-cert-file=" + s.path(caCert),
		"--cluster-signing-key-file=" + s.path(caKey),
		"--service-cluster-ip-range=" + s.serviceCIDR,
		"--cluster-name=" + s.clusterName,
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--profiling=false",
		"--v=1",
	}
}

// schedulerArgs are kube-scheduler's flags.
func (s spec) schedulerArgs() []string {
	return []string{
		"--kubeconfig=" + s.path(schedKubeconfig),
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	}
}
