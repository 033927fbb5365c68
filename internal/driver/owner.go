package driver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LabelOwner carries the identity of the berth data directory (a server's
// or a `berth agent`'s) whose runner created a container or task network.
// Several berth servers and agents may share one Docker daemon, with the
// same cluster names and even the same instance ARNs: each adopts, prunes
// and removes only what carries its own identity.
const LabelOwner = "berth.owner"

// OwnerFile is the file of a data directory that holds its identity.
const OwnerFile = "berth-id"

// LoadOwner returns the identity of data directory dir, generating and
// storing it on first use: 16 lowercase hex digits, random. It is stable
// for the life of the directory, so that a restarted server or agent
// finds its own containers again.
func LoadOwner(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("owner identity: no data directory")
	}
	p := filepath.Join(dir, OwnerFile)
	if id, err := readOwner(p); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("owner identity: %w", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	// Written aside and linked into place: a crash leaves no half-written
	// identity, and of two processes starting at once the first wins.
	tmp, err := os.CreateTemp(dir, OwnerFile+".tmp*")
	if err != nil {
		return "", fmt.Errorf("owner identity: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("owner identity: %w", err)
	}
	if err := os.Link(tmp.Name(), p); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("owner identity: %w", err)
	}
	return readOwner(p)
}

func readOwner(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if err := ValidateOwner(id); err != nil {
		return "", fmt.Errorf("owner identity in %s: %w", p, err)
	}
	return id, nil
}

// ValidateOwner checks an identity's syntax: 1-64 lowercase letters and
// digits (it names a cgroup directory).
func ValidateOwner(id string) error {
	ok := id != "" && len(id) <= 64
	for _, r := range id {
		ok = ok && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}
	if !ok {
		return fmt.Errorf("invalid owner identity %q: want 1-64 lowercase letters and digits", id)
	}
	return nil
}
