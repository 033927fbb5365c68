package ecsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/berthtest"
)

// TestInputAWSRefuses sends, over the wire, input ECS refuses and checks
// that berth answers with ECS's exception and stores nothing.
func TestInputAWSRefuses(t *testing.T) {
	srv := berthtest.Start(t)
	post := func(op, body string) (string, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		typ, _ := m["__type"].(string)
		msg, _ := m["message"].(string)
		if typ != "" && resp.StatusCode != 400 {
			t.Errorf("%s: status %d for %s", op, resp.StatusCode, typ)
		}
		return typ, msg
	}
	if typ, msg := post("CreateCluster", `{"clusterName":"tagged"}`); typ != "" {
		t.Fatalf("CreateCluster: %s %s", typ, msg)
	}
	arn := "arn:aws:ecs:us-east-1:123456789012:cluster/tagged"
	if typ, msg := post("TagResource", fmt.Sprintf(`{"resourceArn":%q,"tags":[{"key":"team","value":"web"}]}`, arn)); typ != "" {
		t.Fatalf("TagResource: %s %s", typ, msg)
	}
	env := make([]string, 0, 800)
	for i := range cap(env) {
		env = append(env, fmt.Sprintf(`{"name":"V%d","value":"%s"}`, i, strings.Repeat("x", 80)))
	}
	fargateTD := func(extra string) string {
		return `{"family":"limits","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",` +
			`"containerDefinitions":[{"name":"a","image":"busybox"}]` + extra + `}`
	}
	cases := []struct {
		name, op, body, typ, msg string
	}{
		{"null body", "CreateCluster", `null`, "SerializationException", "must be a JSON object"},
		{"empty clusterName", "CreateCluster", `{"clusterName":""}`, "InvalidParameterException", `Cluster name "" is invalid`},
		{"ephemeral storage 20", "RegisterTaskDefinition", fargateTD(`,"ephemeralStorage":{"sizeInGiB":20}`), "ClientException", "The minimum supported value is 21 GiB and the maximum supported value is 200 GiB."},
		{"ephemeral storage 201", "RegisterTaskDefinition", fargateTD(`,"ephemeralStorage":{"sizeInGiB":201}`), "ClientException", "'ephemeralStorage.sizeInGiB'"},
		{"over 64 KiB", "RegisterTaskDefinition", `{"family":"limits","containerDefinitions":[{"name":"a","image":"busybox","memory":64,"environment":[` + strings.Join(env, ",") + `]}]}`,
			"ClientException", "Max allowed length is '65536' bytes."},
		{"container memory beyond Integer", "RegisterTaskDefinition", `{"family":"limits","containerDefinitions":[{"name":"a","image":"busybox","memory":1099511627776}]}`,
			"ClientException", "Invalid 'memory' setting for container 'a'."},
		{"untag without tagKeys", "UntagResource", fmt.Sprintf(`{"resourceArn":%q}`, arn), "InvalidParameterException", "tagKeys must contain at least one tag key."},
		{"tag key outside the character set", "TagResource", fmt.Sprintf(`{"resourceArn":%q,"tags":[{"key":"a<b>","value":"v"}]}`, arn), "InvalidParameterException", "regular expression pattern"},
		{"tag value outside the character set", "TagResource", fmt.Sprintf(`{"resourceArn":%q,"tags":[{"key":"k","value":"a;b"}]}`, arn), "InvalidParameterException", "regular expression pattern"},
		{"tag value not UTF-8", "TagResource", fmt.Sprintf(`{"resourceArn":%q,"tags":[{"key":"k","value":"a`+"\xff"+`"}]}`, arn), "InvalidParameterException", "not valid UTF-8"},
		{"tags at creation", "CreateCluster", `{"clusterName":"other","tags":[{"key":"k!","value":"v"}]}`, "InvalidParameterException", "regular expression pattern"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, msg := post(c.op, c.body)
			if typ != c.typ || !strings.Contains(msg, c.msg) {
				t.Errorf("%s: got %s %q, want %s saying %q", c.op, typ, msg, c.typ, c.msg)
			}
		})
	}
	// Nothing of it was stored.
	if _, msg := post("ListClusters", `{}`); msg != "" {
		t.Fatal(msg)
	}
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var lc struct{ ClusterArns []string }
	_ = json.NewDecoder(resp.Body).Decode(&lc)
	resp.Body.Close()
	if len(lc.ClusterArns) != 1 || !strings.HasSuffix(lc.ClusterArns[0], "/tagged") {
		t.Errorf("clusters after refused input: %v, want only tagged", lc.ClusterArns)
	}
	if typ, _ := post("DescribeTaskDefinition", `{"taskDefinition":"limits"}`); typ != "ClientException" {
		t.Errorf("a refused task definition was registered (DescribeTaskDefinition: %q)", typ)
	}
	req, _ = http.NewRequest("POST", srv.URL, strings.NewReader(fmt.Sprintf(`{"resourceArn":%q}`, arn)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListTagsForResource")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	var lt struct{ Tags []struct{ Key, Value string } }
	_ = json.NewDecoder(resp.Body).Decode(&lt)
	resp.Body.Close()
	if len(lt.Tags) != 1 || lt.Tags[0].Key != "team" {
		t.Errorf("tags after refused input: %+v, want only team", lt.Tags)
	}
}
