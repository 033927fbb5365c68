package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
)

// DefaultCgroupRoot is the cgroup under which task cgroups are created:
// /berth/<task id>.
const DefaultCgroupRoot = "berth"

// CFS bandwidth of task cgroups, as the ECS agent sets it: the quota is
// the task's share of a 100ms period (cpu units/1024 CPUs), at least 1ms.
const (
	cfsPeriodMicros   = 100000
	minCFSQuotaMicros = 1000
)

// cgroupMode is how the driver enforces task-level limits.
type cgroupMode int

const (
	cgroupsOff cgroupMode = iota // per-container fallback
	cgroupsV1                    // a task cgroup in each v1 hierarchy
	cgroupsV2                    // a task cgroup in the unified hierarchy
)

// cgroupMount is a mounted cgroup hierarchy, from /proc/self/mountinfo.
type cgroupMount struct {
	point  string   // mount point, e.g. /sys/fs/cgroup/memory
	root   string   // the hierarchy's directory mounted there, "/" normally
	fstype string   // "cgroup" (v1) or "cgroup2"
	opts   []string // super options: the v1 controllers, e.g. ["rw", "memory"]
}

// taskCgroups is what the driver knows of the host's cgroups.
type taskCgroups struct {
	mode   cgroupMode
	reason string // why mode is cgroupsOff
	root   string // cgroup path of task cgroups' parent, e.g. "berth"
	ncpu   int    // the daemon's CPUs, to clamp fallback CPU limits

	memory, cpu string   // v1: mount points of the memory and cpu hierarchies
	unified     string   // v2: mount point of the unified hierarchy
	all         []string // every hierarchy's mount point (runc creates the task's directory in each)
}

// parseMountinfo returns the cgroup mounts listed in a mountinfo file.
func parseMountinfo(r io.Reader) ([]cgroupMount, error) {
	var out []cgroupMount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// 34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:1 - cgroup cgroup rw,memory
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		out = append(out, cgroupMount{
			point:  unescapeMount(f[4]),
			root:   unescapeMount(f[3]),
			fstype: g[0],
			opts:   strings.Split(g[2], ","),
		})
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// planCgroups decides from the mounted hierarchies and the daemon's cgroup
// version where task cgroups go. A non-empty reason means they cannot.
func planCgroups(mounts []cgroupMount, version, root string) (*taskCgroups, string) {
	cg := &taskCgroups{root: root}
	for _, m := range mounts {
		if m.root != "/" || slices.Contains(cg.all, m.point) {
			continue // a sub-tree (e.g. a cgroup namespace) is not the daemon's view
		}
		cg.all = append(cg.all, m.point)
		switch m.fstype {
		case "cgroup2":
			if cg.unified == "" {
				cg.unified = m.point
			}
		case "cgroup":
			if slices.Contains(m.opts, "memory") && cg.memory == "" {
				cg.memory = m.point
			}
			if slices.Contains(m.opts, "cpu") && cg.cpu == "" {
				cg.cpu = m.point
			}
		}
	}
	switch version {
	case "2":
		if cg.unified == "" {
			return nil, "the cgroup v2 hierarchy is not mounted at its root here"
		}
		cg.mode = cgroupsV2
		cg.memory, cg.cpu = "", ""
		cg.all = []string{cg.unified}
	default: // "1", or a daemon too old to say
		if cg.memory == "" || cg.cpu == "" {
			return nil, "the memory and cpu cgroup v1 hierarchies are not mounted at their roots here"
		}
		cg.mode = cgroupsV1
	}
	return cg, ""
}

// parent is the cgroup parent of task id's containers, as Docker takes it.
func (cg *taskCgroups) parent(id string) string { return "/" + path.Join(cg.root, id) }

// prepareRoot creates the parent of task cgroups (also a writability probe).
func (cg *taskCgroups) prepareRoot() error {
	switch cg.mode {
	case cgroupsV1:
		for _, mp := range []string{cg.memory, cg.cpu} {
			if err := mkdirCgroup(filepath.Join(mp, cg.root)); err != nil {
				return err
			}
		}
		// Limits must apply to sub-groups (always so since Linux 5.16).
		_ = writeCgroupFile(filepath.Join(cg.memory, cg.root), "memory.use_hierarchy", "1")
	case cgroupsV2:
		base := cg.unified
		if err := enableControllers(base, []string{"memory", "cpu"}, true); err != nil {
			return err
		}
		for _, el := range strings.Split(cg.root, "/") {
			base = filepath.Join(base, el)
			if err := mkdirCgroup(base); err != nil {
				return err
			}
			if err := enableControllers(base, []string{"memory", "cpu"}, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensure creates task r.ID's cgroup and writes its limits. It is
// idempotent: a retried create, or one after a reboot, writes them again.
func (cg *taskCgroups) ensure(r driver.TaskResources) error {
	if err := cg.prepareRoot(); err != nil {
		return err
	}
	switch cg.mode {
	case cgroupsV1:
		if r.MemoryMiB > 0 {
			dir := filepath.Join(cg.memory, cg.root, r.ID)
			if err := mkdirCgroup(dir); err != nil {
				return err
			}
			_ = writeCgroupFile(dir, "memory.use_hierarchy", "1")
			if err := setMemoryV1(dir, r.MemoryMiB<<20); err != nil {
				return err
			}
		}
		if r.CPUUnits > 0 {
			dir := filepath.Join(cg.cpu, cg.root, r.ID)
			if err := mkdirCgroup(dir); err != nil {
				return err
			}
			if err := writeCgroupFile(dir, "cpu.cfs_period_us", strconv.Itoa(cfsPeriodMicros)); err != nil {
				return err
			}
			if err := writeCgroupFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(cfsQuota(r.CPUUnits), 10)); err != nil {
				return err
			}
			setBurst(dir, "cpu.cfs_burst_us", cfsQuota(r.CPUUnits))
		}
	case cgroupsV2:
		dir := filepath.Join(cg.unified, cg.root, r.ID)
		if err := mkdirCgroup(dir); err != nil {
			return err
		}
		var need []string
		if r.MemoryMiB > 0 {
			need = append(need, "memory")
		}
		if r.CPUUnits > 0 {
			need = append(need, "cpu")
		}
		// The containers' own cgroups (created by runc) sit below.
		if err := enableControllers(dir, need, false); err != nil {
			return err
		}
		if r.MemoryMiB > 0 {
			if err := writeCgroupFile(dir, "memory.max", strconv.FormatInt(r.MemoryMiB<<20, 10)); err != nil {
				return err
			}
			// No swap beyond the task's memory, as with Docker's --memory.
			if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
				if err := writeCgroupFile(dir, "memory.swap.max", "0"); err != nil {
					return err
				}
			}
		}
		if r.CPUUnits > 0 {
			v := fmt.Sprintf("%d %d", cfsQuota(r.CPUUnits), cfsPeriodMicros)
			if err := writeCgroupFile(dir, "cpu.max", v); err != nil {
				return err
			}
			setBurst(dir, "cpu.max.burst", cfsQuota(r.CPUUnits))
		}
	}
	return nil
}

// remove deletes task id's cgroup from every hierarchy. Its containers'
// cgroups must be gone (runc removes them when a container stops); a task
// cgroup still in use is a conflict.
func (cg *taskCgroups) remove(id string) error {
	var errs []error
	for _, mp := range cg.all {
		dir := filepath.Join(mp, cg.root, id)
		err := os.Remove(dir)
		switch {
		case err == nil, errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, syscall.EBUSY), errors.Is(err, syscall.ENOTEMPTY):
			errs = append(errs, fmt.Errorf("%w: task cgroup %s is still in use: %v", driver.ErrConflict, dir, err))
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// setBurst lets a task cgroup carry over up to one period's quota of
// unused CPU time (Linux 5.14+; best effort, where the file exists): the
// long-run limit is the same, but the task's start is not throttled from
// runc's first instruction (docker --cpus sets its limit only once runc's
// bootstrap is done). Without it a 256-unit task spends 100-200 ms of its
// start throttled (bench/startlatency).
func setBurst(dir, name string, quota int64) {
	if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
		_ = writeCgroupFile(dir, name, strconv.FormatInt(quota, 10))
	}
}

// cfsQuota is the CFS quota (µs per period) of cpu units.
func cfsQuota(units int64) int64 {
	return max(units*cfsPeriodMicros/1024, minCFSQuotaMicros)
}

// setMemoryV1 sets a v1 memory cgroup's hard limit and, where swap is
// accounted, its memory+swap limit to the same value: no swap beyond the
// task's memory. memsw may never be below the limit, so the order of the
// writes depends on whether the limit goes up or down.
func setMemoryV1(dir string, bytes int64) error {
	v := strconv.FormatInt(bytes, 10)
	if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err != nil {
		return writeCgroupFile(dir, "memory.limit_in_bytes", v)
	}
	if err := writeCgroupFile(dir, "memory.limit_in_bytes", v); err != nil {
		// Raising the limit: memsw first.
		if err := writeCgroupFile(dir, "memory.memsw.limit_in_bytes", v); err != nil {
			return err
		}
		return writeCgroupFile(dir, "memory.limit_in_bytes", v)
	}
	return writeCgroupFile(dir, "memory.memsw.limit_in_bytes", v)
}

// enableControllers enables the controllers available in dir for its
// children. Failing to enable one of need is an error; with onlyNeed, the
// others are left alone (the host's root cgroup).
func enableControllers(dir string, need []string, onlyNeed bool) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return err
	}
	avail := strings.Fields(string(b))
	for _, c := range need {
		if !slices.Contains(avail, c) {
			return fmt.Errorf("cgroup controller %s is not available in %s", c, dir)
		}
	}
	var enabled []string
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control")); err == nil {
		enabled = strings.Fields(string(b))
	}
	for _, c := range avail {
		needed := slices.Contains(need, c)
		if (onlyNeed && !needed) || slices.Contains(enabled, c) {
			continue
		}
		// One at a time: a controller that cannot be enabled (e.g. a
		// real-time process blocks cpu) must not block the others.
		if err := writeCgroupFile(dir, "cgroup.subtree_control", "+"+c); err != nil && needed {
			return err
		}
	}
	return nil
}

// mkdirCgroup creates a cgroup directory, or marks an existing one as
// just set up (its modification time: PruneTaskResources spares it).
func mkdirCgroup(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	now := time.Now()
	_ = os.Chtimes(dir, now, now)
	return nil
}

func writeCgroupFile(dir, name, value string) error {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o644); err != nil {
		return fmt.Errorf("write cgroup file: %w", err)
	}
	return nil
}

// taskLimits is how a container's task-level limits are applied.
type taskLimits struct {
	cgroupParent string                // the task cgroup (shared limits)
	fallback     *driver.TaskResources // or the task's limits, per container
	ncpu         int
}

// cgroups returns what the driver knows of the host's cgroups, detecting
// it on first use. A daemon that cannot be asked is an error (and detection
// is tried again next time); anything else that rules out task cgroups
// selects the per-container fallback, with one warning.
func (d *Driver) cgroups(ctx context.Context) (*taskCgroups, error) {
	d.cgMu.Lock()
	defer d.cgMu.Unlock()
	if d.cg != nil {
		return d.cg, nil
	}
	cg, err := d.detectCgroups(ctx)
	if err != nil {
		return nil, err
	}
	d.cg = cg
	if cg.mode == cgroupsOff {
		d.log.WarnContext(ctx, "task-level cpu and memory limits are not shared by a task's containers: each container without limits of its own gets the task's (no task cgroup)",
			"reason", cg.reason)
	} else {
		d.log.InfoContext(ctx, "task-level cpu and memory limits are enforced with task cgroups", "parent", "/"+cg.root, "cgroupVersion", int(cg.mode))
	}
	return cg, nil
}

func (d *Driver) detectCgroups(ctx context.Context) (*taskCgroups, error) {
	info, err := d.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, wrap("info", err)
	}
	in := info.Info
	off := func(format string, args ...any) (*taskCgroups, error) {
		return &taskCgroups{mode: cgroupsOff, reason: fmt.Sprintf(format, args...), ncpu: in.NCPU}, nil
	}
	switch {
	case d.opts.NoTaskCgroups:
		return off("disabled by configuration")
	case !strings.HasPrefix(d.cli.DaemonHost(), "unix://"):
		return off("the Docker daemon is not local (%s)", d.cli.DaemonHost())
	case in.OSType != "" && in.OSType != "linux":
		return off("the Docker daemon runs %s containers", in.OSType)
	case in.CgroupDriver != "cgroupfs":
		return off("the Docker daemon uses the %q cgroup driver, not cgroupfs", in.CgroupDriver)
	case slices.ContainsFunc(in.SecurityOptions, func(s string) bool { return strings.Contains(s, "name=rootless") }):
		return off("the Docker daemon is rootless")
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return off("cannot read the mounted cgroup hierarchies: %v", err)
	}
	mounts, err := parseMountinfo(f)
	f.Close()
	if err != nil {
		return off("cannot read the mounted cgroup hierarchies: %v", err)
	}
	cg, reason := planCgroups(mounts, in.CgroupVersion, d.opts.CgroupRoot)
	if reason != "" {
		return off("%s", reason)
	}
	cg.ncpu = in.NCPU
	if err := cg.prepareRoot(); err != nil {
		return off("the cgroup filesystem is not writable: %v", err)
	}
	return cg, nil
}

// taskLimitsFor prepares the task-level limits of a container: it creates
// (or refreshes) the task's cgroup, or selects the fallback.
func (d *Driver) taskLimitsFor(ctx context.Context, r *driver.TaskResources) (taskLimits, error) {
	if r == nil {
		return taskLimits{}, nil
	}
	if err := r.Validate(); err != nil {
		return taskLimits{}, err
	}
	if r.IsZero() {
		return taskLimits{}, nil
	}
	cg, err := d.cgroups(ctx)
	if err != nil {
		return taskLimits{}, err
	}
	if cg.mode == cgroupsOff {
		return taskLimits{fallback: r, ncpu: cg.ncpu}, nil
	}
	if err := cg.ensure(*r); err != nil {
		return taskLimits{}, fmt.Errorf("task cgroup %s: %w", cg.parent(r.ID), err)
	}
	return taskLimits{cgroupParent: cg.parent(r.ID)}, nil
}

// RemoveTaskResources removes task id's cgroup, if the driver made one.
func (d *Driver) RemoveTaskResources(ctx context.Context, id string) error {
	if err := driver.ValidateTaskResourcesID(id); err != nil {
		return fmt.Errorf("docker: remove task resources: %w", err)
	}
	cg, err := d.cgroups(ctx)
	if err != nil {
		return fmt.Errorf("docker: remove task resources %s: %w", id, err)
	}
	if cg.mode == cgroupsOff {
		return nil
	}
	if err := cg.remove(id); err != nil {
		return fmt.Errorf("docker: remove task resources %s: %w", id, err)
	}
	d.log.DebugContext(ctx, "task cgroup removed", "cgroup", cg.parent(id))
	return nil
}

// PruneTaskResources removes task cgroups older than minAge that no
// container refers to (by the driver's task-resources label) and that hold
// no process.
func (d *Driver) PruneTaskResources(ctx context.Context, minAge time.Duration) ([]string, error) {
	cg, err := d.cgroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker: prune task resources: %w", err)
	}
	if cg.mode == cgroupsOff {
		return nil, nil
	}
	candidates := cg.list(minAge)
	if len(candidates) == 0 {
		return nil, nil
	}
	f := client.Filters{}
	f.Add("label", labelTaskResources)
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, wrap("prune task resources: list containers", err)
	}
	used := map[string]bool{}
	for _, c := range res.Items {
		used[c.Labels[labelTaskResources]] = true
	}
	var removed []string
	var errs []error
	for _, id := range candidates {
		if used[id] {
			continue
		}
		switch err := cg.remove(id); {
		case err == nil:
			removed = append(removed, id)
		case errors.Is(err, driver.ErrConflict):
			// Processes in it: not ours to judge (e.g. a container of
			// an older berth, without the label).
		default:
			errs = append(errs, err)
		}
	}
	if len(removed) > 0 {
		d.log.InfoContext(ctx, "removed task cgroups no container uses", "count", len(removed), "parent", "/"+cg.root)
	}
	return removed, errors.Join(errs...)
}

// list returns the IDs of the task cgroups set up more than minAge ago.
func (cg *taskCgroups) list(minAge time.Duration) []string {
	seen := map[string]bool{}
	var out []string
	for _, mp := range cg.all {
		entries, err := os.ReadDir(filepath.Join(mp, cg.root))
		if err != nil {
			continue
		}
		for _, e := range entries {
			id := e.Name()
			if !e.IsDir() || seen[id] || driver.ValidateTaskResourcesID(id) != nil {
				continue
			}
			seen[id] = true
			if cg.age(id) >= minAge {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

// age returns how long ago task id's cgroup was last set up (ensure
// touches it), by its youngest directory.
func (cg *taskCgroups) age(id string) time.Duration {
	var newest time.Time
	for _, mp := range cg.all {
		if fi, err := os.Stat(filepath.Join(mp, cg.root, id)); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return time.Since(newest)
}

// TaskCgroupParent returns the cgroup parent of task id's containers, or
// "" if task-level limits are applied per container (the fallback).
func (d *Driver) TaskCgroupParent(ctx context.Context, id string) (string, error) {
	cg, err := d.cgroups(ctx)
	if err != nil {
		return "", err
	}
	if cg.mode == cgroupsOff {
		return "", nil
	}
	return cg.parent(id), nil
}
