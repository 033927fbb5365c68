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

// ledger records, per task, the containers the runner created and started,
// in files under Config.StateDir, as the ECS agent's state file does: after
// a restart, a container that the ledger knows but the driver does not was
// removed while no runner watched, and is reported so (its task stops if it
// was essential) instead of being created again. A nil ledger records
// nothing.
//
// One file per task, appended to (one short line per event, written with
// O_APPEND) and removed when the task is finished; the files of one
// runner (owner, cluster, instance) share a directory.
type ledger struct {
	dir string
}

// ledgerRecord is what the ledger knows of one container.
type ledgerRecord struct {
	name, id  string
	essential bool
	started   bool
}

func newLedger(cfg Config) *ledger {
	if cfg.StateDir == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(cfg.Owner + "\n" + cfg.Cluster + "\n" + cfg.InstanceARN))
	return &ledger{dir: filepath.Join(cfg.StateDir, hex.EncodeToString(sum[:8]))}
}

func (l *ledger) path(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:16]))
}

func (l *ledger) append(arn, line string) error {
	if l == nil {
		return nil
	}
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

// created records that container name of task arn was created as id.
func (l *ledger) created(arn, name, id string, essential bool) error {
	e := "n"
	if essential {
		e = "e"
	}
	return l.append(arn, "created "+name+" "+id+" "+e)
}

// started records that the container was started.
func (l *ledger) started(arn, name, id string) error {
	return l.append(arn, "started "+name+" "+id)
}

// forget removes task arn's record.
func (l *ledger) forget(arn string) error {
	if l == nil {
		return nil
	}
	if err := os.Remove(l.path(arn)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("runner ledger: %w", err)
	}
	return nil
}

// load returns what the ledger knows, by task ARN.
func (l *ledger) load() (map[string][]ledgerRecord, error) {
	if l == nil {
		return nil, nil
	}
	entries, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runner ledger: %w", err)
	}
	out := map[string][]ledgerRecord{}
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

func readLedgerFile(p string) (string, []ledgerRecord, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", nil, fmt.Errorf("runner ledger: %w", err)
	}
	defer f.Close()
	arn := ""
	var recs []ledgerRecord
	find := func(name, id string) *ledgerRecord {
		for i := range recs {
			if recs[i].name == name && recs[i].id == id {
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
				recs = append(recs, ledgerRecord{name: f[1], id: f[2], essential: f[3] == "e"})
			}
		case len(f) == 3 && f[0] == "started":
			if r := find(f[1], f[2]); r != nil {
				r.started = true
			}
		}
	}
	return arn, recs, sc.Err()
}
