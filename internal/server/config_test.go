package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestConfigPrecedence(t *testing.T) {
	cfg := Defaults()
	if cfg.Listen != "127.0.0.1:4566" || cfg.Account != "123456789012" {
		t.Fatalf("defaults = %+v", cfg)
	}
	file := filepath.Join(t.TempDir(), "berth.json")
	if err := os.WriteFile(file, []byte(`{"listen":"127.0.0.1:5000","region":"eu-west-1","account":"111111111111"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cfg.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BERTH_REGION": "ap-south-1", "BERTH_STRICT_AUTH": "true"}
	if err := cfg.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:5000" || cfg.Region != "ap-south-1" || cfg.Account != "111111111111" || !cfg.StrictAuth {
		t.Fatalf("file then env = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"listn":"x"}`), 0o644)
	if err := cfg.LoadFile(bad); err == nil {
		t.Error("a misspelled key in the config file was accepted")
	}
	cfg.Account = "12345"
	if err := cfg.Validate(); err == nil {
		t.Error("a 5-digit account was accepted")
	}
	if err := cfg.LoadEnv(func(k string) string { return map[string]string{"BERTH_STRICT_AUTH": "maybe"}[k] }); err == nil {
		t.Error("BERTH_STRICT_AUTH=maybe was accepted")
	}
}
