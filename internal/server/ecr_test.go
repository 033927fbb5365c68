package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRegistryHost(t *testing.T) {
	cases := []struct {
		configured, listen, want string
	}{
		{"", "127.0.0.1:4566", "localhost:4566"},
		{"", "0.0.0.0:4566", "localhost:4566"},
		{"", "[::]:4566", "localhost:4566"},
		{"", "[::1]:4566", "localhost:4566"},
		{"", ":4566", "localhost:4566"},
		{"", "192.168.1.20:4566", "192.168.1.20:4566"},
		{"registry.local:5000", "127.0.0.1:4566", "registry.local:5000"},
	}
	for _, c := range cases {
		if got := registryHost(Config{RegistryHost: c.configured}, c.listen); got != c.want {
			t.Errorf("registryHost(%q, %q) = %q, want %q", c.configured, c.listen, got, c.want)
		}
	}
}

func TestTokenKeyPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), tokenKeyFile)
	k1, err := loadTokenKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || len(k1) != 32 {
		t.Fatalf("key file: %v %v, %d bytes", fi.Mode(), err, len(k1))
	}
	k2, err := loadTokenKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v, same key %v", err, bytes.Equal(k1, k2))
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadTokenKey(path); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := optDuration("x", "soon"); err == nil {
		t.Error("a bad duration was accepted")
	}
	if d, err := optDuration("x", "1m30s"); err != nil || d.Seconds() != 90 {
		t.Errorf("optDuration: %v %v", d, err)
	}
}
