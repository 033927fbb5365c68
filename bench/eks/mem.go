package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memory is the memory of a set of processes, in KiB.
type memory struct {
	rss, pss int64
	procs    int
	names    []string
}

// controlPlaneMemory sums the RSS and PSS of berth's child processes
// (the clusters' kube-apiserver, kube-controller-manager and
// kube-scheduler) and of their children.
func controlPlaneMemory(berth int) memory {
	var m memory
	for _, pid := range descendants(berth) {
		m.rss += field(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmRSS:")
		m.pss += field(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"), "Pss:")
		m.procs++
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline")); err == nil {
			if args := strings.Split(string(b), "\x00"); len(args) > 1 {
				m.names = append(m.names, args[1])
			}
		}
	}
	return m
}

// rssKB is a process's resident set in KiB.
func rssKB(pid int) int64 {
	return field(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmRSS:")
}

// descendants lists the processes below pid (from /proc/*/stat).
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out
}

// field reads a "Name: <n> kB" line of a /proc file (0 when absent).
func field(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			if fs := strings.Fields(rest); len(fs) > 0 {
				n, _ := strconv.ParseInt(fs[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
