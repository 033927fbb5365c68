package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/berth-dev/berth/internal/acmapi"
	"github.com/berth-dev/berth/internal/acmcp"
	"github.com/berth-dev/berth/internal/acmstore"
	"github.com/berth-dev/berth/internal/elbproxy"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/ecsapi"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecscp"
	"github.com/berth-dev/berth/internal/ecsexec"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/eksapi"
	"github.com/berth-dev/berth/internal/eksauth"
	"github.com/berth-dev/berth/internal/ekscp"
	"github.com/berth-dev/berth/internal/eksstore"
	"github.com/berth-dev/berth/internal/elbapi"
	"github.com/berth-dev/berth/internal/elbcp"
	"github.com/berth-dev/berth/internal/elbstore"
	"github.com/berth-dev/berth/internal/hostaddr"
	"github.com/berth-dev/berth/internal/iamapi"
	"github.com/berth-dev/berth/internal/iamcp"
	"github.com/berth-dev/berth/internal/iamstore"
	"github.com/berth-dev/berth/internal/kubeplane"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/registry/peer"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/secretsapi"
	"github.com/berth-dev/berth/internal/secretscp"
	"github.com/berth-dev/berth/internal/secretstore"
)

// Server is a berth server: the composition of its subsystems. New builds
// it (and starts nothing); Run starts the background work and serves.
type Server struct {
	cfg settings
	log *slog.Logger
	// store is the state store (store.go: bolt or etcd, per cfg.Store)
	// with its leader.Elector, which decides whether this server runs
	// the leader-only controllers.
	store   *openedStore
	http    *http.Server
	ln      net.Listener
	ecr     *ecrSubsystem
	runtime *taskRuntime
	placer  *placement.Placer
	logs    *logsSubsystem
	cw      *cloudWatchSubsystem
	// kube runs the EKS clusters' Kubernetes control planes (nil without
	// cfg.KubeCommand).
	kube *kubeplane.Manager
}

// New builds a server from cfg: it parses the whole configuration, opens
// the state store and binds the listener, so that errors surface before
// Run. No goroutine is started until Run.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	drivers := Drivers()
	s, err := parseSettings(cfg, drivers)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// The data directory's identity labels what its agents create, so that
	// servers sharing a Docker daemon never adopt each other's containers.
	owner, err := driver.LoadOwner(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	spec, err := ParseStore(cfg.Store)
	if err != nil {
		return nil, err
	}
	st, err := openStore(context.Background(), cfg, s.etcdTLS, log)
	if err != nil {
		return nil, err
	}
	if spec.Kind == StoreEtcd {
		// Servers on one etcd share one managed capacity and so the
		// owner identity of its containers (sharedOwner).
		if owner, err = sharedOwner(context.Background(), st); err != nil {
			st.Close()
			return nil, err
		}
	}
	// A server alone on its store (bolt, embedded etcd) shares nothing
	// with another server.
	sole := spec.Kind != StoreEtcd
	// Secrets Manager and SSM Parameter Store: values sealed with a key
	// of the data directory (or of the shared store); ACM's and IAM's
	// private keys too.
	sealer, err := loadSecretsSealer(context.Background(), st, sole, cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	// IAM and STS: the plane issues the access keys and temporary
	// credentials the SigV4 verifier then accepts (its KeySource).
	iamPlane := iamcp.New(iamcp.Config{Repo: iamstore.New(st, sealer), Logger: log.With("subsystem", "iam")})
	_, iamSvc, stsSvc := iamapi.New(iamapi.Config{Plane: iamPlane, Logger: log.With("subsystem", "iam")})
	auth := newServerAuth(s, iamPlane)
	repo := ecsstore.New(st)
	// The ECS core, one of each: the repository, the state cache (the
	// controllers, placement and the plane's reads use it; the runtime's
	// manager runs it), the placer (subscribed to the cache here, before
	// it runs; Run runs it) and the control plane, which the one API and
	// the runtime call.
	cache := ecscache.New(st, log.With("subsystem", "state-cache"))
	placer := placement.New(repo, cache, log.With("subsystem", "placement"))
	// ECS Exec's broker: the plane opens sessions on it; the runtime gives
	// it the agents' sessions and mounts its endpoints.
	execBroker := &ecsexec.Broker{Logger: log.With("subsystem", "exec")}
	// ELBv2: the control plane over its own records; the API maps the
	// wire to it.
	// Load balancer addresses are reserved host-wide: another berth on
	// this host (its own data directory) never gets the same one.
	elbPlane := elbcp.New(elbcp.Config{Repo: elbstore.New(st), Logger: log.With("subsystem", "elb"), Ports: bindProbe{},
		Addresses: hostaddr.New(hostaddr.Config{Owner: owner, DataDir: cfg.DataDir})})
	// The ECS plane checks blue/green services' target groups and listener
	// rules against it.
	// New deployments resolve their images against berth's ECR (set
	// below, once it is built).
	images := &ecrImages{}
	plane := ecscp.New(ecscp.Config{Repo: repo, Cache: cache, Placer: placer, Exec: execBroker, Logger: log.With("subsystem", "ecs"),
		LoadBalancers: elbLookup{elbPlane}, Images: images})
	_, ecsSvc := ecsapi.New(ecsapi.Config{
		Plane: plane, Logger: log.With("subsystem", "ecs"), DefaultAccount: cfg.Account,
	})
	_, elbSvc := elbapi.New(elbapi.Config{Plane: elbPlane, Logger: log.With("subsystem", "elb"), DefaultAccount: cfg.Account})
	// EKS: the control plane over its own records; the lifecycle
	// controller (below) moves clusters through their states.
	eksPlane := ekscp.New(ekscp.Config{Repo: eksstore.New(st), Logger: log.With("subsystem", "eks")})
	_, eksSvc := eksapi.New(eksapi.Config{Plane: eksPlane, Logger: log.With("subsystem", "eks"), DefaultAccount: cfg.Account})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, listenError(err, cfg.Listen)
	}
	ecrSub, err := newECR(s, st, !sole, st.Elector.Identity(), ln.Addr().String(), iamPlane, log.With("subsystem", "ecr"))
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	images.api, images.host = ecrSub.API, registryHost(s.Config, ln.Addr().String())
	logsSub, err := newLogs(cfg.DataDir, cfg.Account, log.With("subsystem", "logs"))
	if err != nil {
		ln.Close()
		st.Close()
		return nil, fmt.Errorf("logs: %w", err)
	}
	secretsPlane := secretscp.New(secretscp.Config{Repo: secretstore.New(st, sealer), Logger: log.With("subsystem", "secrets")})
	_, smSvc, ssmSvc := secretsapi.New(secretsapi.Config{Plane: secretsPlane, Logger: log.With("subsystem", "secrets")})
	// ACM: certificates for HTTPS and TLS listeners, keys sealed as
	// secret values are.
	acmPlane := acmcp.New(acmcp.Config{Repo: acmstore.New(st, sealer), InUse: certificateUsers(elbPlane)})
	acmSvc := acmapi.New(acmPlane, log.With("subsystem", "acm"))
	elbPlane.SetCertificates(listenerCertificates{acmPlane, iamPlane})
	iamPlane.SetCertificateUsers(elbPlane.AccountCertificateUsers)
	cwSub, err := newCloudWatch(cfg.DataDir, cfg.Account, s.metricScale, st, log.With("subsystem", "cloudwatch"))
	if err != nil {
		logsSub.store.Close()
		ln.Close()
		st.Close()
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	// Application Auto Scaling: scales ECS services' desired counts
	// through the ECS control plane.
	// Its cooldowns shrink with the metric time scale; target tracking
	// keeps its alarms in CloudWatch, whose alarm actions run the policies.
	scaling := newAppScaling(st, plane, cfg.Account, 1/s.metricScale, log.With("subsystem", "appscaling"))
	scaling.plane.SetAlarms(cwAlarms{cwSub.plane})
	cwSub.plane.RegisterActionHandler("arn:aws:autoscaling:", scalingAction(cwSub.plane, scaling.plane, log.With("subsystem", "appscaling")))
	rc := awsproto.RouterConfig{Auth: auth.verifier, Logger: log.With("subsystem", "awsproto"), DefaultRegion: cfg.Region}
	if cfg.EnforceIAM {
		rc.Authz = newIAMAuthorizer(iamPlane, func(ctx context.Context, account, region, id string) (secretInfo, bool) {
			sec, err := secretsPlane.DescribeSecret(ctx, secrets.Scope{Account: account, Region: region}, id)
			if err != nil {
				return secretInfo{}, false
			}
			return secretInfo{ARN: sec.ARN, Account: account, Policy: sec.ResourcePolicy}, true
		})
	}
	router := awsproto.NewRouter(rc, ecsSvc, ecrSub.Service, elbSvc, eksSvc, iamSvc, stsSvc, logsSub.service, smSvc, ssmSvc, scaling.service, cwSub.service, acmSvc,
		newTaskCredsService(plane, iamPlane))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_berth/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("/v2/", ecrSub.Registry)
	mux.Handle("/v2", ecrSub.Registry)
	if ecrSub.Peer != nil {
		mux.Handle(peer.PathPrefix, ecrSub.Peer)
	}
	// The EKS clusters' webhook token authenticator (TokenReview), for
	// their API servers.
	eksAuthn := &eksauth.Authenticator{Verifier: newTokenVerifier(s, iamPlane), Clusters: eksPlane, Logger: log.With("subsystem", "eks-auth"),
		BerthHosts: berthHosts(ln.Addr().String(), cfg.AdvertiseAddr)}
	mux.Handle("POST "+EKSAuthPrefix, eksAuthn.Handler(EKSAuthPrefix))
	mux.Handle("/", router)
	// A server alone on its store knows that no other server holds an
	// agent's session.
	rt := newRuntime(s, cache, plane, st, auth, st.Elector, sole, owner, drivers, mux, ln.Addr().String(), log)
	// AWS/ECS metrics from the task metrics agents publish on telemetry.
	rt.tcs.OnMetrics = (&ecsMetrics{cache: cache, cw: cwSub.plane, now: time.Now}).onMetrics
	rt.serveExec(execBroker, mux)
	// The ELBv2 data plane: a leader-only controller of the runtime's
	// manager serves the load balancers' listeners.
	// It publishes the AWS/ApplicationELB metrics once a (scaled) minute.
	albm := newALBMetrics(cwSub.plane, log.With("subsystem", "elb-metrics"))
	nlbm := newNLBMetrics(cwSub.plane, log.With("subsystem", "elb-metrics"))
	elbMetrics := func(m elbproxy.Metrics) { albm.onMetrics(m); nlbm.onMetrics(m) }
	metricPeriod := max(10*time.Millisecond, time.Duration(float64(time.Minute)/s.metricScale))
	dataPlane := newELBDataPlane(elbPlane, st, instanceAddresses{cache}, listenerCertificates{acmPlane, iamPlane}, elbMetrics, metricPeriod, log.With("subsystem", "elb-dataplane"))
	// The ECS service scheduler (leader-only), registering tasks with the
	// ELBv2 target groups; blue/green shifts wait for the data plane to
	// serve their new weights.
	rt.manager.Add("services", newServiceScheduler(cache, plane, elbPlane, cwAlarmStates{cwSub.plane}, time.Duration(float64(time.Minute)/s.deployScale), dataPlane.Applied, log.With("subsystem", "controller")))
	rt.manager.Add("elb-dataplane", dataPlane)
	// The EKS cluster lifecycle (leader-only): each cluster's Kubernetes
	// control plane runs as child processes of berth (KubeCommand); a
	// berth without one sends new clusters to FAILED, saying so.
	var kube *kubeplane.Manager
	lc := ekscp.LifecycleConfig{Plane: eksPlane, Logger: log.With("subsystem", "eks-lifecycle")}
	if len(cfg.KubeCommand) > 0 && cfg.EKSControlPlane != "none" {
		kube = kubeplane.New(kubeplane.Config{
			DataDir: cfg.DataDir, Command: cfg.KubeCommand, Logger: log.With("subsystem", "eks-kube"),
			WebhookURL: "http://" + loopbackHostPort(ln.Addr().String()) + EKSAuthPrefix,
		})
		lc.ControlPlanes = kube
		eksAuthn.ConfigMaps = kube
		// The clusters' OIDC issuers (discovery and JWKS).
		mux.Handle("GET "+kubeplane.OIDCPrefix, kube.OIDCHandler())
	}
	rt.manager.Add("eks-lifecycle", ekscp.NewLifecycle(lc))
	// CloudWatch Logs retention: every server expires its own log data.
	rt.manager.Add("logs-retention", logsSub.retention)
	// CloudWatch: alarms are evaluated by the leader; every server
	// expires its own metric data.
	rt.manager.Add("alarm-evaluator", cwSub.evaluator)
	rt.manager.Add("metric-retention", cwSub.retention)
	// Scheduled scaling actions (leader-only).
	rt.manager.Add("appscaling-scheduler", scaling.scheduler)

	return &Server{
		cfg: s, log: log, store: st, ln: ln, ecr: ecrSub, runtime: rt, placer: placer, logs: logsSub, cw: cwSub,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}, kube: kube,
	}, nil
}

// EKSAuthPrefix is the path prefix of the EKS token authenticator:
// POST /_berth/eks/<account>/<region>/<cluster>/authenticate.
const EKSAuthPrefix = "/_berth/eks/"

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run starts the background work (controllers, ECR lifecycle and GC) and
// serves until ctx ends or the controllers fail; then it stops the
// background work (cancel, then wait), shuts the listener down gracefully
// and closes the store.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("berth server listening", "addr", s.Addr(), "data_dir", s.cfg.DataDir, "account", s.cfg.Account,
		"unsigned_request_region", s.cfg.Region)
	bgCtx, stopBg := context.WithCancel(ctx)
	var bg sync.WaitGroup
	rtErr := make(chan error, 1)
	bg.Go(func() { s.ecr.Run(bgCtx) })
	bg.Go(func() { _ = s.placer.Run(bgCtx) })
	bg.Go(func() { rtErr <- s.runtime.Run(bgCtx) })
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()

	var err error
	served := false
	select {
	case err = <-errc:
		served = true
	case err = <-rtErr:
		rtErr <- err
	case <-ctx.Done():
	}
	// Background work first: the managed agents and the agents' sessions
	// end before the listener closes.
	stopBg()
	bg.Wait()
	// The clusters' control planes stop after the lifecycle controller
	// (which runs in the runtime), before the listener that serves their
	// webhooks.
	if s.kube != nil {
		_ = s.kube.Close()
	}
	if rerr := <-rtErr; rerr != nil && err == nil {
		err = rerr
	}
	if !served {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if serr := s.http.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
		cancel()
		<-errc
	}
	s.logs.store.Close()
	s.cw.metrics.Close()
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Info("berth server stopped")
	return err
}

// loopbackHostPort is addr with an unspecified host (0.0.0.0, ::)
// replaced by 127.0.0.1: where processes on this machine reach berth.
func loopbackHostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// berthHosts lists the host:port names clients reach this server by (its
// listen address, localhost for a loopback one, the advertised address).
func berthHosts(listen, advertise string) []string {
	hosts := []string{listen}
	if host, port, err := net.SplitHostPort(listen); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			hosts = append(hosts, net.JoinHostPort("localhost", port))
		}
	}
	if advertise != "" {
		hosts = append(hosts, advertise)
	}
	return hosts
}

// listenError says what to do when the API address is taken: another
// berth (or anything else) has the port, and --listen picks another one.
func listenError(err error, addr string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen: %w (something else, perhaps another berth server, has %s: stop it, "+
			"or start berth with --listen 127.0.0.1:PORT and point AWS_ENDPOINT_URL and docker at that port)", err, addr)
	}
	return fmt.Errorf("listen: %w", err)
}
