package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/runner"
)

// MetadataAddress is the link-local address of ECS's task metadata and
// credentials endpoints.
const MetadataAddress = "169.254.170.2"

// metadataServer serves the task metadata endpoint v4 at
// http://169.254.170.2:PORT/v4/TOKEN: the agent puts 169.254.170.2/32 on
// the host's loopback interface, which every network mode reaches (host
// mode directly; bridge and awsvpc containers through their default
// route to the host, which delivers to a local address on any interface).
// Each agent listens on its own port (several agents and servers can share
// a host); each container gets an unguessable token naming it. Port and
// tokens are saved so that a restarted agent answers the URIs containers
// already hold.
type metadataServer struct {
	a    *Agent
	path string // saved state; "" keeps none
	host string // "169.254.170.2:PORT" (or 127.0.0.1 without the address)

	ln80   net.Listener
	port80 bool // also listening on 169.254.170.2:80 (credentials' relative URI)

	mu         sync.Mutex
	tokens     map[string]ctrRef // token → container
	byCtr      map[ctrRef]string
	creds      map[string]*credsEntry // credentials ID → task
	credByTask map[string]string
}

type ctrRef struct {
	Task      string `json:"task"`
	Container string `json:"container"`
}

type metadataState struct {
	Port   int               `json:"port"`
	Tokens map[string]ctrRef `json:"tokens"`
	Creds  map[string]string `json:"creds"` // credentials ID → task ARN
}

// ensureLinkLocal puts 169.254.170.2/32 on lo (needs CAP_NET_ADMIN).
func ensureLinkLocal() error {
	if out, err := exec.Command("ip", "-4", "addr", "show", "dev", "lo").Output(); err == nil && strings.Contains(string(out), " "+MetadataAddress+"/") {
		return nil
	}
	out, err := exec.Command("ip", "addr", "add", MetadataAddress+"/32", "dev", "lo").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "File exists") && !strings.Contains(string(out), "already assigned") {
		return fmt.Errorf("ip addr add %s/32 dev lo: %v: %s", MetadataAddress, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startMetadata binds the endpoint; Serve runs it.
func (a *Agent) startMetadata(path string) (*metadataServer, net.Listener, error) {
	m := &metadataServer{a: a, path: path, tokens: map[string]ctrRef{}, byCtr: map[ctrRef]string{},
		creds: map[string]*credsEntry{}, credByTask: map[string]string{}}
	var st metadataState
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			_ = json.Unmarshal(b, &st)
		}
	}
	for t, r := range st.Tokens {
		m.tokens[t], m.byCtr[r] = r, t
	}
	for id, task := range st.Creds {
		m.creds[id], m.credByTask[task] = &credsEntry{task: task}, id
	}
	ip := MetadataAddress
	if err := ensureLinkLocal(); err != nil {
		a.log.Warn("task metadata endpoint only on 127.0.0.1 (host network mode): cannot add the link-local address", "err", err)
		ip = "127.0.0.1"
	}
	var ln net.Listener
	var err error
	if st.Port != 0 {
		ln, err = net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(st.Port)))
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort(ip, "0")); err != nil {
			return nil, nil, err
		}
	}
	m.host = ln.Addr().String()
	if ip == MetadataAddress {
		// The credentials' relative URI needs port 80; the first agent
		// on the host gets it, the others hand out the full URI.
		if l80, err := net.Listen("tcp", net.JoinHostPort(ip, "80")); err == nil {
			m.ln80, m.port80 = l80, true
		}
	}
	m.save()
	return m, ln, nil
}

func (m *metadataServer) save() {
	if m.path == "" {
		return
	}
	_, port, _ := net.SplitHostPort(m.host)
	p, _ := strconv.Atoi(port)
	m.mu.Lock()
	creds := map[string]string{}
	for id, e := range m.creds {
		creds[id] = e.task
	}
	b, _ := json.Marshal(metadataState{Port: p, Tokens: m.tokens, Creds: creds})
	m.mu.Unlock()
	tmp := m.path + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, m.path)
	}
}

// env returns the container's metadata variables (the runner's ExtraEnv),
// and its task role's credentials variables.
func (m *metadataServer) env(task *ecs.Task, container string) map[string]string {
	env := m.metadataEnv(task, container)
	m.a.mu.Lock()
	td, ok := m.a.defs[task.ARN]
	m.a.mu.Unlock()
	if ok && taskRole(task, td.def) != "" {
		for k, v := range m.credsEnv(task) {
			env[k] = v
		}
	}
	return env
}

func (m *metadataServer) metadataEnv(task *ecs.Task, container string) map[string]string {
	ref := ctrRef{task.ARN, container}
	m.mu.Lock()
	tok, ok := m.byCtr[ref]
	if !ok {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		tok = hex.EncodeToString(b)
		m.tokens[tok], m.byCtr[ref] = ref, tok
	}
	m.mu.Unlock()
	if !ok {
		m.save()
	}
	return map[string]string{"ECS_CONTAINER_METADATA_URI_V4": "http://" + m.host + "/v4/" + tok,
		"ECS_CONTAINER_METADATA_URI": "http://" + m.host + "/v3/" + tok}
}

// forget drops the tokens of a stopped task.
func (m *metadataServer) forget(taskARN string) {
	m.mu.Lock()
	if id, ok := m.credByTask[taskARN]; ok {
		delete(m.creds, id)
		delete(m.credByTask, taskARN)
	}
	changed := false
	for t, r := range m.tokens {
		if r.Task == taskARN {
			delete(m.tokens, t)
			delete(m.byCtr, r)
			changed = true
		}
	}
	m.mu.Unlock()
	if changed {
		m.save()
	}
}

// serve answers until ctx ends.
func (m *metadataServer) serve(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/credentials/{id}", m.credentials)
	for _, v := range []string{"v4", "v3"} {
		mux.HandleFunc("GET /"+v+"/{token}", m.handle(m.container))
		mux.HandleFunc("GET /"+v+"/{token}/task", m.handle(m.task))
		mux.HandleFunc("GET /"+v+"/{token}/stats", m.handle(m.stats))
		mux.HandleFunc("GET /"+v+"/{token}/task/stats", m.handle(m.taskStats))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	defer wg.Wait()
	if m.ln80 != nil {
		wg.Go(func() { _ = srv.Serve(m.ln80) })
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		m.a.log.Warn("task metadata endpoint stopped", "err", err)
	}
	<-done
}

// view is what one request sees of its task.
type view struct {
	ref ctrRef
	td  taskDef
	ch  runner.TaskChange
}

func (m *metadataServer) handle(fn func(ctx context.Context, v view) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		ref, ok := m.tokens[r.PathValue("token")]
		m.mu.Unlock()
		var v view
		if ok {
			v.ref = ref
			m.a.mu.Lock()
			v.td, ok = m.a.defs[ref.Task]
			m.a.mu.Unlock()
		}
		if ok {
			v.ch, ok = m.a.knownTask(ref.Task)
		}
		if !ok {
			http.Error(w, `{"error":"unable to find the task or container of this token"}`, http.StatusNotFound)
			return
		}
		// Clients that half-close after the request (nc, some SDKs)
		// cancel the request's context: the answer must not depend on it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		out, err := fn(ctx, v)
		if err != nil {
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(b)
			return
		}
		b, _ := json.Marshal(out)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}
