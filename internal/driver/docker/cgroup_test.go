package docker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-dev/berth/internal/driver"
	"github.com/berth-dev/berth/internal/driver/docker"
	"github.com/berth-dev/berth/internal/driver/docker/dockertest"
)

// hostCgroupDirs returns the directories of cgroup path p in the host's
// hierarchies: v1 by controller, or v2 under "".
func hostCgroupDirs(t *testing.T, p string) map[string]string {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return map[string]string{"": filepath.Join("/sys/fs/cgroup", p)}
	}
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		for _, ctrl := range strings.Split(e.Name(), ",") {
			out[ctrl] = filepath.Join("/sys/fs/cgroup", e.Name(), p)
		}
	}
	return out
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// runTaskContainer creates and starts a container with task resources r,
// removed when the test ends.
func runTaskContainer(t *testing.T, d *docker.Driver, name, cmd string, r *driver.TaskResources, mods ...func(*driver.ContainerSpec)) string {
	t.Helper()
	ctx := context.Background()
	spec := driver.ContainerSpec{
		Name: name, Image: dockertest.Busybox(t, d), Command: []string{"sh", "-c", cmd},
		Labels:        map[string]string{driver.LabelTaskARN: "arn:aws:ecs:us-east-1:000000000000:task/test/" + r.ID},
		TaskResources: r,
	}
	for _, m := range mods {
		m(&spec)
	}
	id, err := d.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	t.Cleanup(func() { _ = d.RemoveContainer(context.Background(), id) })
	if err := d.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return id
}

// TestTaskCgroup checks the task cgroup on the host: the containers'
// parent, its limits (task cpu 512 → 50ms per 100ms), and its removal.
func TestTaskCgroup(t *testing.T) {
	d := dockertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	taskID := fmt.Sprintf("berth-test-%d", time.Now().UnixNano())
	parent, err := d.TaskCgroupParent(ctx, taskID)
	if err != nil {
		t.Fatal(err)
	}
	if parent == "" {
		info, err := d.Client().Info(ctx, client.InfoOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.Info.CgroupDriver == "cgroupfs" && os.Geteuid() == 0 && strings.HasPrefix(d.Client().DaemonHost(), "unix://") {
			t.Fatalf("no task cgroup although the daemon is local, uses cgroupfs and we are root")
		}
		t.Skipf("SKIPPING: no task cgroups on this host (cgroup driver %q); TestTaskLimitsFallback covers it", info.Info.CgroupDriver)
	}
	if parent != "/berth/"+taskID {
		t.Fatalf("TaskCgroupParent = %q; want /berth/%s", parent, taskID)
	}
	r := &driver.TaskResources{ID: taskID, CPUUnits: 512, MemoryMiB: 64}
	cid := runTaskContainer(t, d, taskID+"-app", "trap 'exit 0' TERM; while :; do sleep 1; done", r)

	ins, err := d.Client().ContainerInspect(ctx, cid, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := ins.Container.HostConfig
	if hc.CgroupParent != parent || hc.Memory != 0 || hc.NanoCPUs != 0 {
		t.Errorf("HostConfig: CgroupParent %q, Memory %d, NanoCPUs %d; want %q, 0, 0", hc.CgroupParent, hc.Memory, hc.NanoCPUs, parent)
	}
	procCgroups := readTrim(t, fmt.Sprintf("/proc/%d/cgroup", ins.Container.State.Pid))
	if !strings.Contains(procCgroups, ":"+parent+"/") {
		t.Errorf("container process cgroups:\n%s\nwant paths under %s", procCgroups, parent)
	}

	dirs := hostCgroupDirs(t, parent)
	if v2, ok := dirs[""]; ok {
		if got := readTrim(t, filepath.Join(v2, "memory.max")); got != "67108864" {
			t.Errorf("memory.max = %s; want 67108864", got)
		}
		if got := readTrim(t, filepath.Join(v2, "cpu.max")); got != "50000 100000" {
			t.Errorf("cpu.max = %s; want 50000 100000", got)
		}
	} else {
		if got := readTrim(t, filepath.Join(dirs["memory"], "memory.limit_in_bytes")); got != "67108864" {
			t.Errorf("memory.limit_in_bytes = %s; want 67108864 (64 MiB)", got)
		}
		quota := readTrim(t, filepath.Join(dirs["cpu"], "cpu.cfs_quota_us"))
		period := readTrim(t, filepath.Join(dirs["cpu"], "cpu.cfs_period_us"))
		if quota != "50000" || period != "100000" {
			t.Errorf("cpu.cfs_quota_us/cfs_period_us = %s/%s; want 50000/100000 (512 units = 0.5 CPU)", quota, period)
		}
	}

	// In use: it cannot go.
	if err := d.RemoveTaskResources(ctx, taskID); !errors.Is(err, driver.ErrConflict) {
		t.Errorf("RemoveTaskResources with a running container: %v; want ErrConflict", err)
	}
	if err := d.RemoveContainer(ctx, cid); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveTaskResources(ctx, taskID); err != nil {
		t.Fatalf("RemoveTaskResources: %v", err)
	}
	left, _ := filepath.Glob("/sys/fs/cgroup/*/berth/" + taskID)
	if v2, _ := filepath.Glob("/sys/fs/cgroup/berth/" + taskID); len(v2) > 0 {
		left = append(left, v2...)
	}
	if len(left) > 0 {
		t.Errorf("task cgroup left after RemoveTaskResources: %v", left)
	}
}

// TestTaskLimitsFallback: without task cgroups, each container of the task
// gets the task's limits where it has none of its own, and they hold.
func TestTaskLimitsFallback(t *testing.T) {
	d := dockertest.New(t, func(o *docker.Options) { o.NoTaskCgroups = true })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	taskID := fmt.Sprintf("berth-test-%d", time.Now().UnixNano())
	if parent, err := d.TaskCgroupParent(ctx, taskID); err != nil || parent != "" {
		t.Fatalf("TaskCgroupParent with NoTaskCgroups = %q, %v; want \"\"", parent, err)
	}
	r := &driver.TaskResources{ID: taskID, CPUUnits: 512, MemoryMiB: 32}
	plain := runTaskContainer(t, d, taskID+"-plain", "while :; do sleep 1; done", r)
	own := runTaskContainer(t, d, taskID+"-own", "while :; do sleep 1; done", r,
		func(s *driver.ContainerSpec) { s.MemoryMiB = 16 })
	hog := runTaskContainer(t, d, taskID+"-hog", "exec tail /dev/zero", r)

	info, err := d.Client().Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantNano := min(int64(5e8), int64(info.Info.NCPU)*1e9)
	for id, wantMem := range map[string]int64{plain: 32 << 20, own: 16 << 20} {
		ins, err := d.Client().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hc := ins.Container.HostConfig
		if hc.CgroupParent != "" || hc.Memory != wantMem || hc.NanoCPUs != wantNano {
			t.Errorf("%s: CgroupParent %q, Memory %d, NanoCPUs %d; want \"\", %d, %d", ins.Container.Name, hc.CgroupParent, hc.Memory, hc.NanoCPUs, wantMem, wantNano)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := d.InspectContainer(ctx, hog)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == driver.StatusExited {
			if !st.OOMKilled || st.ExitCode != 137 {
				t.Errorf("hog: OOMKilled %v, exit %d; want true, 137", st.OOMKilled, st.ExitCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("hog was not OOM-killed at the task's 32 MiB")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range []string{plain, own, hog} {
		if err := d.RemoveContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.RemoveTaskResources(ctx, taskID); err != nil {
		t.Errorf("RemoveTaskResources in fallback mode: %v; want nil", err)
	}
	if slices.ContainsFunc([]string{"/sys/fs/cgroup/memory/berth/" + taskID, "/sys/fs/cgroup/berth/" + taskID}, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	}) {
		t.Error("a task cgroup was created in fallback mode")
	}
}

// TestPruneTaskResources: task cgroups whose containers were removed
// without RemoveTaskResources go, once old enough; those in use or just set
// up stay.
func TestPruneTaskResources(t *testing.T) {
	d := dockertest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := fmt.Sprintf("berth-test-%d", time.Now().UnixNano())
	if parent, err := d.TaskCgroupParent(ctx, base); err != nil || parent == "" {
		t.Skipf("SKIPPING: no task cgroups on this host (%v); TestTaskCgroup says whether that is right", err)
	}
	leak := func(id string) {
		r := &driver.TaskResources{ID: id, MemoryMiB: 64}
		cid := runTaskContainer(t, d, id+"-app", "exit 0", r)
		t.Cleanup(func() { _ = d.RemoveTaskResources(context.Background(), id) })
		if _, err := d.Client().ContainerRemove(ctx, cid, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	used, old, young := base+"-used", base+"-old", base+"-young"
	t.Cleanup(func() { _ = d.RemoveTaskResources(context.Background(), used) }) // after the container's removal
	runTaskContainer(t, d, used+"-app", "while :; do sleep 1; done", &driver.TaskResources{ID: used, CPUUnits: 256})
	leak(old)
	leak(young)
	// old was set up an hour ago: its directories' modification times
	// (what the age is read from) say so.
	past := time.Now().Add(-time.Hour)
	for _, dir := range hostCgroupDirs(t, "/berth/"+old) {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := os.Chtimes(dir, past, past); err != nil {
			t.Fatal(err)
		}
	}

	removed, err := d.PruneTaskResources(ctx, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, old) || slices.Contains(removed, used) || slices.Contains(removed, young) {
		t.Errorf("pruned %v; want %s, not %s nor %s", removed, old, used, young)
	}
	for id, want := range map[string]bool{old: false, used: true, young: true} {
		dirs := hostCgroupDirs(t, "/berth/"+id)
		_, err := os.Stat(dirs["memory"] + dirs[""])
		if id == used {
			_, err = os.Stat(dirs["cpu"] + dirs[""])
		}
		if exists := err == nil; exists != want {
			t.Errorf("task cgroup %s exists: %v; want %v", id, exists, want)
		}
	}
}

// TestPruneTaskResourcesOfOwner: two drivers of different owners (berth
// data directories) on one host keep their task cgroups apart, under
// /berth/<owner>; one prunes only its own leftovers, never the other's.
func TestPruneTaskResourcesOfOwner(t *testing.T) {
	ownerA := fmt.Sprintf("a%015x", time.Now().UnixNano()&0xffffffffffffff)
	ownerB := fmt.Sprintf("b%015x", time.Now().UnixNano()&0xffffffffffffff)
	a := dockertest.New(t, func(o *docker.Options) { o.Owner = ownerA })
	b := dockertest.New(t, func(o *docker.Options) { o.Owner = ownerB })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := fmt.Sprintf("berth-test-%d", time.Now().UnixNano())
	parent, err := a.TaskCgroupParent(ctx, id)
	if err != nil || parent == "" {
		t.Skipf("SKIPPING: no task cgroups on this host (%v); TestTaskCgroup says whether that is right", err)
	}
	if parent != "/berth/"+ownerA+"/"+id {
		t.Fatalf("task cgroup parent %q, want /berth/%s/%s", parent, ownerA, id)
	}
	// a's task leaves its cgroup behind (its container removed behind its back).
	r := &driver.TaskResources{ID: id, MemoryMiB: 64}
	cid := runTaskContainer(t, a, id+"-app", "exit 0", r)
	t.Cleanup(func() { _ = a.RemoveTaskResources(context.Background(), id) })
	if _, err := a.Client().ContainerRemove(ctx, cid, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	dirs := hostCgroupDirs(t, parent)
	dir := dirs["memory"] + dirs[""]
	if removed, err := b.PruneTaskResources(ctx, 0); err != nil || slices.Contains(removed, id) {
		t.Fatalf("b pruned %v (%v)", removed, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("a's task cgroup after b's prune: %v", err)
	}
	if removed, err := a.PruneTaskResources(ctx, 0); err != nil || !slices.Contains(removed, id) {
		t.Fatalf("a pruned %v (%v), want its own %s", removed, err, id)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("a's task cgroup is still there after a's prune")
	}
	for _, o := range []string{ownerA, ownerB} {
		d := hostCgroupDirs(t, "/berth/"+o)
		for _, p := range d {
			_ = os.Remove(p) // the owners' (now empty) parents
		}
	}
}
