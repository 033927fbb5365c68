package acs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dockerContainerConfig is the part of Docker's container create body
// that ECS sends in DockerConfig.Config. Every member is omitted when
// empty: the agent merges the document over the config it derives from
// the ACS members, so a present but empty member would erase one.
type dockerContainerConfig struct {
	Hostname        string             `json:",omitempty"`
	User            string             `json:",omitempty"`
	WorkingDir      string             `json:",omitempty"`
	Tty             bool               `json:",omitempty"`
	OpenStdin       bool               `json:",omitempty"`
	NetworkDisabled bool               `json:",omitempty"`
	Labels          map[string]string  `json:",omitempty"`
	Healthcheck     *dockerHealthcheck `json:",omitempty"`
}

// dockerHealthcheck is Docker's HealthConfig; durations are nanoseconds.
type dockerHealthcheck struct {
	Test        []string `json:",omitempty"`
	Interval    int64    `json:",omitempty"`
	Timeout     int64    `json:",omitempty"`
	StartPeriod int64    `json:",omitempty"`
	Retries     int      `json:",omitempty"`
}

// dockerHostConfig is the part of Docker's HostConfig that ECS sends in
// DockerConfig.HostConfig.
type dockerHostConfig struct {
	Privileged        bool              `json:",omitempty"`
	ReadonlyRootfs    bool              `json:",omitempty"`
	MemoryReservation int64             `json:",omitempty"` // bytes: a soft limit
	MemorySwap        int64             `json:",omitempty"` // bytes: memory plus swap
	MemorySwappiness  *int64            `json:",omitempty"`
	Ulimits           []dockerUlimit    `json:",omitempty"`
	LogConfig         *dockerLogConfig  `json:",omitempty"`
	DNS               []string          `json:"Dns,omitempty"`
	DNSSearch         []string          `json:"DnsSearch,omitempty"`
	ExtraHosts        []string          `json:",omitempty"` // host:ip
	SecurityOpt       []string          `json:",omitempty"`
	Sysctls           map[string]string `json:",omitempty"`
	Tmpfs             map[string]string `json:",omitempty"` // path → mount options
}

type dockerUlimit struct {
	Name string
	Soft int64
	Hard int64
}

type dockerLogConfig struct {
	Type   string
	Config map[string]string `json:",omitempty"`
}

const mib = 1 << 20

func secondsToNanos(s int) int64 { return int64(s) * int64(time.Second) }

func nanosToSeconds(ns int64) *int {
	v := int(ns / int64(time.Second))
	return &v
}

// marshalIfAny returns v as a JSON string, "" when it encodes to {}.
func marshalIfAny(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "{}" {
		return "", nil
	}
	return string(b), nil
}

// tmpfsOptions renders a tmpfs mount's options, "size=64m,noexec".
func tmpfsOptions(sizeMiB int, opts []string) string {
	parts := []string{}
	if sizeMiB > 0 {
		parts = append(parts, fmt.Sprintf("size=%dm", sizeMiB))
	}
	return strings.Join(append(parts, opts...), ",")
}

// parseTmpfsOptions reads what tmpfsOptions wrote.
func parseTmpfsOptions(s string) (sizeMiB int, opts []string) {
	for o := range strings.SplitSeq(s, ",") {
		if v, ok := strings.CutPrefix(o, "size="); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(v, "m")); err == nil {
				sizeMiB = n
				continue
			}
		}
		if o != "" {
			opts = append(opts, o)
		}
	}
	return sizeMiB, opts
}
