package runner

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Ledger records, per task, the containers a runner created and started,
// as the ECS agent's state file does: after a restart, a container that
// the ledger knows but the driver does not was removed while no runner
// watched, and is reported so (its task stops if it was essential)
// instead of being created again. It is one runner's (owner, cluster,
// instance): see Config.Ledger.
type Ledger interface {
	// Created records that container name of task arn was created as id.
	Created(arn, name, id string, essential bool) error
	// Started records that the container was started.
	Started(arn, name, id string) error
	// Forget removes task arn's record (the task is finished).
	Forget(arn string) error
	// Load returns what the ledger knows, by task ARN.
	Load() (map[string][]LedgerRecord, error)
}

// LedgerRecord is what a Ledger knows of one container.
type LedgerRecord struct {
	Name, ID  string
	Essential bool
	Started   bool
}

// LedgerScope names a runner's ledger: Load returns what a runner of the
// same owner, cluster and instance recorded.
func LedgerScope(owner, cluster, instanceARN string) string {
	sum := sha256.Sum256([]byte(owner + "\n" + cluster + "\n" + instanceARN))
	return hex.EncodeToString(sum[:8])
}

func newLedger(cfg Config) Ledger {
	switch {
	case cfg.Ledger != nil:
		return cfg.Ledger(LedgerScope(cfg.Owner, cfg.Cluster, cfg.InstanceARN))
	case cfg.StateDir != "":
		return &fileLedger{dir: filepath.Join(cfg.StateDir, LedgerScope(cfg.Owner, cfg.Cluster, cfg.InstanceARN))}
	}
	return nopLedger{}
}

// nopLedger records nothing (no Config.StateDir or Config.Ledger).
type nopLedger struct{}

func (nopLedger) Created(string, string, string, bool) error { return nil }
func (nopLedger) Started(string, string, string) error       { return nil }
func (nopLedger) Forget(string) error                        { return nil }
func (nopLedger) Load() (map[string][]LedgerRecord, error)   { return nil, nil }

// fileLedger is the Ledger in files under Config.StateDir: one file per
// task, appended to (one short line per event, written with O_APPEND) and
// removed when the task is finished; the files of one runner share a
// directory.
type fileLedger struct {
	dir string
}

func (l *fileLedger) path(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:16]))
}

func (l *fileLedger) append(arn, line string) error {
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("runner ledger: %w", err)
	}
	f, err := os.OpenFile(l.path(arn), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("runner ledger: %w", err)
	}
	_, err = f.WriteString("task " + arn + "\n" + line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("runner ledger: %w", err)
	}
	return nil
}

// Created records that container name of task arn was created as id.
func (l *fileLedger) Created(arn, name, id string, essential bool) error {
	e := "n"
	if essential {
		e = "e"
	}
	return l.append(arn, "created "+name+" "+id+" "+e)
}

// Started records that the container was started.
func (l *fileLedger) Started(arn, name, id string) error {
	return l.append(arn, "started "+name+" "+id)
}

// Forget removes task arn's record.
func (l *fileLedger) Forget(arn string) error {
	if err := os.Remove(l.path(arn)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("runner ledger: %w", err)
	}
	return nil
}

// Load returns what the ledger knows, by task ARN.
func (l *fileLedger) Load() (map[string][]LedgerRecord, error) {
	entries, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runner ledger: %w", err)
	}
	out := map[string][]LedgerRecord{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		arn, recs, err := readLedgerFile(filepath.Join(l.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if arn != "" && len(recs) > 0 {
			out[arn] = recs
		}
	}
	return out, nil
}

func readLedgerFile(p string) (string, []LedgerRecord, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", nil, fmt.Errorf("runner ledger: %w", err)
	}
	defer f.Close()
	arn := ""
	var recs []LedgerRecord
	find := func(name, id string) *LedgerRecord {
		for i := range recs {
			if recs[i].Name == name && recs[i].ID == id {
				return &recs[i]
			}
		}
		return nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// A torn last line (a crash mid-write) has too few fields: skipped.
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "task":
			arn = f[1]
		case len(f) == 4 && f[0] == "created":
			if find(f[1], f[2]) == nil {
				recs = append(recs, LedgerRecord{Name: f[1], ID: f[2], Essential: f[3] == "e"})
			}
		case len(f) == 3 && f[0] == "started":
			if r := find(f[1], f[2]); r != nil {
				r.Started = true
			}
		}
	}
	return arn, recs, sc.Err()
}
