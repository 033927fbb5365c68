package berthtest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/berth-dev/berth/internal/sdkhttp"
	"github.com/berth-dev/berth/internal/server"
)

// Server is a berth server running inside the test process.
type Server struct {
	URL     string
	DataDir string
	Config  server.Config
}

// Start runs a server until the test ends. mutate may adjust the config.
func Start(t testing.TB, mutate ...func(*server.Config)) *Server {
	t.Helper()
	cfg := server.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	// BERTH_TEST_STORE runs the suites on another state store (scripts/
	// test.sh sets embedded-etcd); mutate may still choose its own.
	cfg.Store = os.Getenv("BERTH_TEST_STORE")
	for _, m := range mutate {
		m(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("BERTH_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("start berth: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("berth server: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("berth server did not stop within 15s")
		}
	})
	return &Server{URL: "http://" + srv.Addr(), DataDir: cfg.DataDir, Config: cfg}
}

// AWSConfig returns an SDK config for the server with the local test/test
// key pair and the given region (us-east-1 if empty).
func (s *Server) AWSConfig(region string) aws.Config {
	if region == "" {
		region = "us-east-1"
	}
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(s.URL),
		HTTPClient:       sdkhttp.Client(30 * time.Second),
		RetryMaxAttempts: 1,
	}
}
