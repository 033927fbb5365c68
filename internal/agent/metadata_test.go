package agent

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/ecs"
)

// TestMetadataTokensSurviveRestart checks the per-container tokens and
// per-task credentials IDs: unique, stable for a container, kept across
// an agent restart (the saved state), and dropped with their task; an
// unknown token or ID is refused.
func TestMetadataTokensSurviveRestart(t *testing.T) {
	a := New(Config{})
	path := filepath.Join(t.TempDir(), "metadata.state")
	m, ln, err := a.startMetadata(path)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if m.ln80 != nil {
		m.ln80.Close()
	}
	task := &ecs.Task{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/c/1"}
	a.defs[task.ARN] = taskDef{task: task, def: &ecs.TaskDefinition{TaskRoleARN: "arn:aws:iam::123456789012:role/r"}}
	e1, e2 := m.env(task, "a"), m.env(task, "b")
	if e1["ECS_CONTAINER_METADATA_URI_V4"] == e2["ECS_CONTAINER_METADATA_URI_V4"] || m.env(task, "a")["ECS_CONTAINER_METADATA_URI_V4"] != e1["ECS_CONTAINER_METADATA_URI_V4"] {
		t.Fatalf("tokens: %v %v", e1, e2)
	}
	creds := e1["AWS_CONTAINER_CREDENTIALS_FULL_URI"] + e1["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
	if !strings.Contains(creds, "/v2/credentials/") || creds != e2["AWS_CONTAINER_CREDENTIALS_FULL_URI"]+e2["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
		t.Fatalf("credentials URI %q (one per task)", creds)
	}
	// A restarted agent knows the same tokens and IDs.
	a2 := New(Config{})
	m2, ln2, err := a2.startMetadata(path)
	if err != nil {
		t.Fatal(err)
	}
	ln2.Close()
	if m2.ln80 != nil {
		m2.ln80.Close()
	}
	a2.defs[task.ARN] = a.defs[task.ARN]
	if got := m2.env(task, "a"); got["ECS_CONTAINER_METADATA_URI_V4"][strings.Index(got["ECS_CONTAINER_METADATA_URI_V4"], "/v4/"):] !=
		e1["ECS_CONTAINER_METADATA_URI_V4"][strings.Index(e1["ECS_CONTAINER_METADATA_URI_V4"], "/v4/"):] {
		t.Fatalf("after restart %v, before %v", got, e1)
	}
	id := creds[strings.LastIndexByte(creds, '/')+1:]
	if m2.creds[id] == nil || m2.creds[id].task != task.ARN {
		t.Fatalf("credentials ID %s lost across the restart", id)
	}
	// Unknown tokens and IDs are refused.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v4/{token}", m2.handle(m2.container))
	mux.HandleFunc("GET /v2/credentials/{id}", m2.credentials)
	for _, p := range []string{"/v4/0123", "/v2/credentials/0123"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusNotFound && rec.Code != http.StatusForbidden {
			t.Errorf("GET %s = %d %s", p, rec.Code, rec.Body)
		}
	}
	// A stopped task's tokens and ID go.
	m2.forget(task.ARN)
	if len(m2.tokens) != 0 || len(m2.creds) != 0 {
		t.Fatalf("after forget: %d tokens, %d credentials", len(m2.tokens), len(m2.creds))
	}
}
