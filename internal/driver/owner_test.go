package driver

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOwnerIsStableAndPerDirectory(t *testing.T) {
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "nested")
	ida, err := LoadOwner(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateOwner(ida); err != nil || len(ida) != 16 {
		t.Fatalf("identity %q: %v", ida, err)
	}
	again, err := LoadOwner(a)
	if err != nil || again != ida {
		t.Fatalf("second load: %q %v, want %q", again, err, ida)
	}
	idb, err := LoadOwner(b)
	if err != nil || idb == ida {
		t.Fatalf("another directory: %q %v (first %q)", idb, err, ida)
	}
	if err := os.WriteFile(filepath.Join(a, OwnerFile), []byte("../etc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if id, err := LoadOwner(a); err == nil {
		t.Fatalf("a corrupt identity was accepted: %q", id)
	}
	if _, err := LoadOwner(""); err == nil {
		t.Fatal("no directory accepted")
	}
}
