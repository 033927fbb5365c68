package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSample is CPU time (user + system) by process name.
type cpuSample map[string]time.Duration

func (a cpuSample) sub(b cpuSample) cpuSample {
	out := cpuSample{}
	for k, v := range a {
		out[k] = v - b[k]
	}
	return out
}

// cpuNow reads the CPU time of berth's processes, the Docker daemons, this
// process and its waited-for children (the docker CLI).
func (b *bench) cpuNow() cpuSample {
	out := cpuSample{}
	for name, pid := range b.procs {
		if f := procStat(strconv.Itoa(pid)); f != nil {
			out[name] = ticks(f[13]) + ticks(f[14])
		}
	}
	if f := procStat("self"); f != nil {
		out["bench client"] = ticks(f[13]) + ticks(f[14])
		out["docker CLI"] = ticks(f[15]) + ticks(f[16])
	}
	return out
}

// procStat returns the fields of /proc/<pid>/stat (fields[0] is the pid).
func procStat(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	// The command name is in parentheses and may contain spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	f := append([]string{s[:strings.IndexByte(s, ' ')], s[:i+1]}, strings.Fields(s[i+1:])...)
	if len(f) < 17 {
		return nil
	}
	return f
}

// ticks converts clock ticks (USER_HZ, 100 on Linux) to a duration.
func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * 10 * time.Millisecond
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
