package hostaddr

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Config configures a Reserver.
type Config struct {
	// Dir is the host-wide reservation directory (default
	// os.TempDir()/berth-lb-addresses).
	Dir string
	// Owner identifies the reserving server's state (its data directory's
	// identity); servers with the same Owner share their reservations.
	Owner string
	// DataDir is the owner's data directory: a reservation whose data
	// directory no longer exists is void.
	DataDir string
	// Listening reports whether some process listens on addr (default:
	// /proc/net/tcp shows a listening socket bound to it).
	Listening func(addr netip.Addr) bool
}

// Reserver reserves addresses for one owner.
type Reserver struct {
	cfg Config
}

// New returns a Reserver.
func New(cfg Config) *Reserver {
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(os.TempDir(), "berth-lb-addresses")
	}
	if cfg.DataDir != "" {
		if abs, err := filepath.Abs(cfg.DataDir); err == nil {
			cfg.DataDir = abs
		}
	}
	if cfg.Listening == nil {
		cfg.Listening = listeningTCP
	}
	return &Reserver{cfg: cfg}
}

// Reserve reserves addr for the owner: true if it is the owner's now
// (newly, or it was already), false if another owner holds it or a
// process listens on it.
func (r *Reserver) Reserve(addr netip.Addr) (bool, error) {
	unlock, err := r.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	owner, dataDir, err := r.read(addr)
	switch {
	case err != nil:
		return false, err
	case owner == r.cfg.Owner:
		return true, nil
	case owner != "" && dataDir != "" && exists(dataDir):
		return false, nil
	}
	if r.cfg.Listening(addr) {
		return false, nil
	}
	tmp := r.path(addr) + ".tmp"
	if err := os.WriteFile(tmp, []byte(r.cfg.Owner+"\n"+r.cfg.DataDir+"\n"), 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, r.path(addr))
}

// Release gives addr up if the owner holds it.
func (r *Reserver) Release(addr netip.Addr) error {
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	owner, _, err := r.read(addr)
	if err != nil || owner != r.cfg.Owner {
		return err
	}
	if err := os.Remove(r.path(addr)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (r *Reserver) path(addr netip.Addr) string { return filepath.Join(r.cfg.Dir, addr.String()) }

// read returns the owner and data directory of addr's reservation ("" if none).
func (r *Reserver) read(addr netip.Addr) (owner, dataDir string, err error) {
	b, err := os.ReadFile(r.path(addr))
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	lines := strings.SplitN(string(b), "\n", 3)
	owner = lines[0]
	if len(lines) > 1 {
		dataDir = lines[1]
	}
	return owner, dataDir, nil
}

// lock takes the host-wide lock; the returned func releases it.
func (r *Reserver) lock() (func(), error) {
	if err := os.MkdirAll(r.cfg.Dir, 0o1777); err != nil {
		return nil, fmt.Errorf("hostaddr: reservation directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(r.cfg.Dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("hostaddr: lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("hostaddr: lock: %w", err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// listeningTCP reports whether /proc/net/tcp lists a socket in LISTEN
// state bound to addr.
func listeningTCP(addr netip.Addr) bool {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false
	}
	defer f.Close()
	want := procHex(addr)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st ...; local_address is ADDR:PORT in hex.
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		if ip, _, ok := strings.Cut(fields[1], ":"); ok && strings.EqualFold(ip, want) {
			return true
		}
	}
	return false
}

// procHex is addr as /proc/net/tcp writes it: the 4 bytes in host (little
// endian) order, in hex.
func procHex(addr netip.Addr) string {
	b := addr.As4()
	return strings.ToUpper(hex.EncodeToString([]byte{b[3], b[2], b[1], b[0]}))
}
