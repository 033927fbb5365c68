package docker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/driver"
)

const mountinfoV1 = `22 1 0:21 / / rw,relatime - overlay overlay rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 22 0:38 /docker/abc /mnt/my\040cgroups rw,relatime - cgroup cgroup rw,pids
`

func TestParseMountinfoAndPlan(t *testing.T) {
	mounts, err := parseMountinfo(strings.NewReader(mountinfoV1))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 7 || mounts[0].point != "/sys/fs/cgroup/cpu,cpuacct" || !slices.Contains(mounts[0].opts, "cpuacct") {
		t.Fatalf("mounts = %+v", mounts)
	}
	if last := mounts[6]; last.point != "/mnt/my cgroups" || last.root != "/docker/abc" || last.fstype != "cgroup" {
		t.Errorf("escaped mount = %+v", last)
	}

	cg, reason := planCgroups(mounts, "1", "berth")
	if reason != "" {
		t.Fatal(reason)
	}
	want := []string{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"}
	if cg.mode != cgroupsV1 || cg.memory != "/sys/fs/cgroup/memory" || cg.cpu != "/sys/fs/cgroup/cpu,cpuacct" || !slices.Equal(cg.all, want) {
		t.Errorf("v1 plan = %+v", cg)
	}
	if p := cg.parent("t1"); p != "/berth/t1" {
		t.Errorf("parent = %q", p)
	}

	// Only a cgroup namespace's sub-tree of memory: not the daemon's view.
	sub := slices.Clone(mounts)
	sub[2].root = "/docker/abc"
	sub[3].root = "/docker/abc"
	if _, reason := planCgroups(sub, "1", "berth"); reason == "" {
		t.Error("v1 without the memory hierarchy's root: no reason")
	}
	if _, reason := planCgroups(mounts[:1], "1", "berth"); reason == "" {
		t.Error("v1 without a memory hierarchy: no reason")
	}

	v2, err := parseMountinfo(strings.NewReader("30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"))
	if err != nil {
		t.Fatal(err)
	}
	cg, reason = planCgroups(v2, "2", "a/b")
	if reason != "" || cg.mode != cgroupsV2 || cg.unified != "/sys/fs/cgroup" || !slices.Equal(cg.all, []string{"/sys/fs/cgroup"}) || cg.parent("x") != "/a/b/x" {
		t.Errorf("v2 plan = %+v, %q", cg, reason)
	}
	if _, reason := planCgroups(mounts[:3], "2", "berth"); reason == "" {
		t.Error("v2 daemon without a cgroup2 mount: no reason")
	}
}

func TestCFSQuota(t *testing.T) {
	for units, want := range map[int64]int64{512: 50000, 1024: 100000, 256: 25000, 4096: 400000, 2: 1000} {
		if got := cfsQuota(units); got != want {
			t.Errorf("cfsQuota(%d) = %d; want %d", units, got, want)
		}
	}
	for _, c := range []struct{ units, ncpu, want int64 }{
		{512, 2, 5e8}, {4096, 2, 2e9}, {1, 0, 1e7}, {1024, 0, 1e9},
	} {
		if got := fallbackNanoCPUs(c.units, int(c.ncpu)); got != c.want {
			t.Errorf("fallbackNanoCPUs(%d, %d) = %d; want %d", c.units, c.ncpu, got, c.want)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A temporary directory stands in for cgroupfs: files written are read
// back, directories with files in them cannot be removed (as cgroups with
// children cannot).
func TestTaskCgroupV1Files(t *testing.T) {
	root := t.TempDir()
	mem, cpu, pids := filepath.Join(root, "memory"), filepath.Join(root, "cpu"), filepath.Join(root, "pids")
	for _, d := range []string{mem, cpu, pids} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cg := &taskCgroups{mode: cgroupsV1, root: "berth", memory: mem, cpu: cpu, all: []string{mem, cpu, pids}}
	// Swap is accounted: memsw follows the limit.
	if err := os.MkdirAll(filepath.Join(mem, "berth", "t1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mem, "berth", "t1", "memory.memsw.limit_in_bytes"), []byte("-1"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The kernel has CPU burst: it is set to the quota.
	if err := os.MkdirAll(filepath.Join(cpu, "berth", "t1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cpu, "berth", "t1", "cpu.cfs_burst_us"), []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := driver.TaskResources{ID: "t1", CPUUnits: 512, MemoryMiB: 64}
	for range 2 { // idempotent
		if err := cg.ensure(r); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		filepath.Join(mem, "berth", "t1", "memory.limit_in_bytes"):       "67108864",
		filepath.Join(mem, "berth", "t1", "memory.memsw.limit_in_bytes"): "67108864",
		filepath.Join(cpu, "berth", "t1", "cpu.cfs_quota_us"):            "50000",
		filepath.Join(cpu, "berth", "t1", "cpu.cfs_period_us"):           "100000",
		filepath.Join(cpu, "berth", "t1", "cpu.cfs_burst_us"):            "50000",
	} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %q; want %q", path, got, want)
		}
	}
	// Memory only: no cpu directory.
	if err := cg.ensure(driver.TaskResources{ID: "t2", MemoryMiB: 32}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cpu, "berth", "t2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cpu cgroup of a memory-only task: %v", err)
	}
	if got := readFile(t, filepath.Join(mem, "berth", "t2", "memory.limit_in_bytes")); got != "33554432" {
		t.Errorf("t2 memory limit = %q", got)
	}

	// runc made the task's directory in another hierarchy; remove takes
	// it from all, and a cgroup still holding something is a conflict.
	if err := os.MkdirAll(filepath.Join(pids, "berth", "t3"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := cg.remove("t3"); err != nil {
		t.Errorf("remove t3: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pids, "berth", "t3")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("t3 left in pids: %v", err)
	}
	if err := cg.remove("t3"); err != nil {
		t.Errorf("remove t3 twice: %v", err)
	}
	if err := cg.remove("t1"); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("remove of a busy cgroup: %v; want ErrConflict", err)
	}
}

func TestTaskCgroupV2Files(t *testing.T) {
	root := t.TempDir()
	task := filepath.Join(root, "berth", "t1")
	if err := os.MkdirAll(task, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, filepath.Join(root, "berth"), task} {
		if err := os.WriteFile(filepath.Join(d, "cgroup.controllers"), []byte("cpuset cpu io memory pids\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(task, "memory.swap.max"), []byte("max"), 0o644); err != nil {
		t.Fatal(err)
	}
	cg := &taskCgroups{mode: cgroupsV2, root: "berth", unified: root, all: []string{root}}
	if err := cg.ensure(driver.TaskResources{ID: "t1", CPUUnits: 256, MemoryMiB: 128}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(task, "memory.max"):      "134217728",
		filepath.Join(task, "memory.swap.max"): "0",
		filepath.Join(task, "cpu.max"):         "25000 100000",
	} {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %q; want %q", path, got, want)
		}
	}
	for _, d := range []string{root, filepath.Join(root, "berth"), task} {
		if _, err := os.Stat(filepath.Join(d, "cgroup.subtree_control")); err != nil {
			t.Errorf("controllers not enabled in %s: %v", d, err)
		}
	}
	// A controller the hierarchy lacks cannot be used.
	if err := os.WriteFile(filepath.Join(task, "cgroup.controllers"), []byte("pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cg.ensure(driver.TaskResources{ID: "t1", MemoryMiB: 128}); err == nil {
		t.Error("ensure without the memory controller: no error")
	}
}

func TestContainerConfigTaskLimits(t *testing.T) {
	d := &Driver{}
	base := driver.ContainerSpec{Name: "x", Image: "i"}
	_, hc, err := d.containerConfig(base, taskLimits{cgroupParent: "/berth/t1"})
	if err != nil {
		t.Fatal(err)
	}
	if hc.CgroupParent != "/berth/t1" || hc.Memory != 0 || hc.NanoCPUs != 0 {
		t.Errorf("task cgroup: parent %q memory %d nanoCPUs %d", hc.CgroupParent, hc.Memory, hc.NanoCPUs)
	}

	fb := taskLimits{fallback: &driver.TaskResources{ID: "t1", CPUUnits: 512, MemoryMiB: 64}, ncpu: 2}
	_, hc, err = d.containerConfig(base, fb)
	if err != nil {
		t.Fatal(err)
	}
	if hc.CgroupParent != "" || hc.Memory != 64<<20 || hc.MemorySwap != 64<<20 || hc.NanoCPUs != 5e8 {
		t.Errorf("fallback: parent %q memory %d swap %d nanoCPUs %d", hc.CgroupParent, hc.Memory, hc.MemorySwap, hc.NanoCPUs)
	}
	own := base
	own.MemoryMiB = 16
	_, hc, err = d.containerConfig(own, fb)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Memory != 16<<20 || hc.NanoCPUs != 5e8 {
		t.Errorf("fallback with the container's own memory: memory %d nanoCPUs %d", hc.Memory, hc.NanoCPUs)
	}
}
