package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecsapi"
	"github.com/berth-dev/berth/internal/ecscache"
	"github.com/berth-dev/berth/internal/ecsstore"
	"github.com/berth-dev/berth/internal/placement"
	"github.com/berth-dev/berth/internal/store"
	"github.com/berth-dev/berth/internal/store/bolt"
)

// Server is a running berth server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store store.Store
	http  *http.Server
	ln    net.Listener
	ecr   *ecrSubsystem
	// stopRuntime ends the task runtime (see runtime.go).
	stopRuntime func()
	cache       *ecscache.Cache
	placer      *placement.Placer
}

// New builds a server from cfg: it opens the state store and binds the
// listener, so that errors surface before Run.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := bolt.Open(filepath.Join(cfg.DataDir, "state.db"), bolt.Options{})
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	auth, err := newServerAuth(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	// The ECS core: one repository, one state cache (fed by one watch),
	// and the placer that reads it; Run runs the cache and the placer.
	repo := ecsstore.New(st)
	cache := ecscache.New(st, log.With("subsystem", "ecscache"))
	placer := placement.New(repo, cache, log.With("subsystem", "placement"))
	_, ecsSvc := ecsapi.New(ecsapi.Config{
		Repo: repo, Placer: placer, Logger: log.With("subsystem", "ecs"), DefaultAccount: cfg.Account,
	})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	ecrSub, err := newECR(cfg, st, ln.Addr().String(), log.With("subsystem", "ecr"))
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	router := awsproto.NewRouter(awsproto.RouterConfig{
		Auth: auth.verifier, Logger: log.With("subsystem", "awsproto"), DefaultRegion: cfg.Region,
	}, ecsSvc, ecrSub.Service)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_berth/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("/v2/", ecrSub.Registry)
	mux.Handle("/v2", ecrSub.Registry)
	mux.Handle("/", router)
	stopRuntime, err := startRuntime(context.Background(), cfg, auth, st, repo, mux, ln.Addr().String(), log.With("subsystem", "runtime"))
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}

	return &Server{
		cfg: cfg, log: log, store: st, ln: ln, ecr: ecrSub, stopRuntime: stopRuntime, cache: cache, placer: placer,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second},
	}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("berth server listening", "addr", s.Addr(), "data_dir", s.cfg.DataDir, "account", s.cfg.Account, "region", s.cfg.Region)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	bgCtx, stopBg := context.WithCancel(ctx)
	bgDone := make(chan struct{})
	go func() { defer close(bgDone); s.ecr.Run(bgCtx) }()
	// The ECS core outlives the HTTP server's shutdown (requests in
	// flight still place and read), and stops before the store closes.
	coreCtx, stopCore := context.WithCancel(context.WithoutCancel(ctx))
	var core sync.WaitGroup
	core.Go(func() {
		if err := s.cache.Run(coreCtx); err != nil {
			s.log.Error("state cache stopped", "error", err)
		}
	})
	core.Go(func() { _ = s.placer.Run(coreCtx) })
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.stopRuntime()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.http.Shutdown(sctx)
		cancel()
	}
	stopBg()
	<-bgDone
	s.stopRuntime()
	stopCore()
	core.Wait()
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Info("berth server stopped")
	return err
}
