package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
)

// Task role credentials, served next to the metadata endpoint: a task
// with a task role gets AWS_CONTAINER_CREDENTIALS_FULL_URI
// (http://169.254.170.2:PORT/v2/credentials/ID, a host the SDKs accept)
// and, when this agent holds 169.254.170.2:80, the
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI the SDKs try first. ID is a
// random 128-bit value per task. A request from an address that is not the
// task's (awsvpc and bridge tasks have their own) is refused, so a leaked
// URI does not serve another task. Credentials come from the server
// (GetTaskRoleCredentials: the role assumed as ecs-tasks.amazonaws.com)
// and are fetched again 15 minutes before they expire.

const (
	agentTargetPrefix = "BerthAgent_20261207"
	credsRefreshAhead = 15 * time.Minute
)

type roleCreds struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyId     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

type credsEntry struct {
	task    string
	creds   *roleCreds
	expires time.Time
}

func taskRole(t *ecs.Task, td *ecs.TaskDefinition) string {
	if t.Overrides.TaskRoleARN != "" {
		return t.Overrides.TaskRoleARN
	}
	return td.TaskRoleARN
}

// credsEnv returns the credentials variables of a task with a role.
func (m *metadataServer) credsEnv(task *ecs.Task) map[string]string {
	m.mu.Lock()
	id, ok := m.credByTask[task.ARN]
	if !ok {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
		m.credByTask[task.ARN] = id
		m.creds[id] = &credsEntry{task: task.ARN}
	}
	m.mu.Unlock()
	if !ok {
		m.save()
	}
	env := map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://" + m.host + "/v2/credentials/" + id}
	if m.port80 {
		delete(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
		env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/" + id
	}
	return env
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// credentials serves GET /v2/credentials/{id}.
func (m *metadataServer) credentials(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	e, ok := m.creds[r.PathValue("id")]
	m.mu.Unlock()
	deny := func(status int, msg string) {
		writeJSONStatus(w, status, map[string]string{"code": "AccessDenied", "message": msg})
	}
	if !ok {
		deny(http.StatusForbidden, "no task has these credentials")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 15*time.Second)
	defer cancel()
	if !m.fromTask(ctx, e.task, r.RemoteAddr) {
		deny(http.StatusForbidden, "these credentials belong to another task")
		return
	}
	m.mu.Lock()
	c := e.creds
	fresh := c != nil && time.Until(e.expires) > credsRefreshAhead
	m.mu.Unlock()
	if !fresh {
		var out roleCreds
		if err := m.a.api.callService(ctx, "berthagent", agentTargetPrefix, "GetTaskRoleCredentials",
			map[string]string{"taskArn": e.task, "containerInstanceArn": m.a.InstanceARN()}, &out); err != nil {
			if c == nil || time.Now().After(e.expires) {
				deny(http.StatusInternalServerError, "unable to get the task role's credentials: "+err.Error())
				return
			}
		} else {
			exp, _ := time.Parse(time.RFC3339, out.Expiration)
			m.mu.Lock()
			e.creds, e.expires, c = &out, exp, &out
			m.mu.Unlock()
		}
	}
	writeJSONStatus(w, http.StatusOK, c)
}

// fromTask reports whether remote is an address of the task: its task
// network's (awsvpc) or its containers' (bridge); host-mode tasks share
// the host's addresses, so any local caller is theirs.
func (m *metadataServer) fromTask(ctx context.Context, taskARN, remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	m.a.mu.Lock()
	td, ok := m.a.defs[taskARN]
	m.a.mu.Unlock()
	ch, known := m.a.knownTask(taskARN)
	if !ok || !known {
		return false
	}
	if td.def.NetworkMode == "host" {
		return true
	}
	var ips []string
	if ch.PrivateIPv4 != "" {
		ips = append(ips, ch.PrivateIPv4)
	}
	for _, c := range ch.Containers {
		if c.RuntimeID == "" {
			continue
		}
		if st, err := m.a.cfg.Driver.InspectContainer(ctx, c.RuntimeID); err == nil && st.IPv4Address != "" {
			ips = append(ips, st.IPv4Address)
		}
	}
	return slices.Contains(ips, host)
}
