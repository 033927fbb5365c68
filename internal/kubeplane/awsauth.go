package kubeplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/eks"
)

// awsAuthTTL is how long a read of a cluster's aws-auth ConfigMap is
// reused: token reviews of a burst of kubectl calls share one read, and
// an edit of the ConfigMap takes effect within it (plus the API server's
// own token cache).
const awsAuthTTL = 2 * time.Second

// awsAuthCache is one cluster's last read of its aws-auth ConfigMap.
type awsAuthCache struct {
	mu   sync.Mutex // held during a read: concurrent reviews share it
	at   time.Time
	data map[string]string
}

// AWSAuth reads the data of the cluster's kube-system/aws-auth ConfigMap
// from its API server as berth's admin (nil when it does not exist); the
// EKS token authenticator maps callers through it (eksauth.ConfigMaps).
func (m *Manager) AWSAuth(ctx context.Context, sc eks.Scope, c *eks.Cluster) (map[string]string, error) {
	m.mu.Lock()
	cl := m.clusters[c.ID]
	m.mu.Unlock()
	if cl == nil {
		return nil, fmt.Errorf("the control plane of cluster %s is not running", c.Name)
	}
	cl.awsAuth.mu.Lock()
	defer cl.awsAuth.mu.Unlock()
	if !cl.awsAuth.at.IsZero() && time.Since(cl.awsAuth.at) < awsAuthTTL {
		return cl.awsAuth.data, nil
	}
	url := "https://127.0.0.1:" + strconv.Itoa(cl.spec.port) + "/api/v1/namespaces/kube-system/configmaps/aws-auth"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var cm struct {
		Data map[string]string `json:"data"`
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 4<<20)).Decode(&cm); err != nil {
			return nil, fmt.Errorf("the aws-auth ConfigMap: %w", err)
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
	case http.StatusNotFound:
	default:
		return nil, fmt.Errorf("reading the aws-auth ConfigMap: %s", resp.Status)
	}
	cl.awsAuth.at, cl.awsAuth.data = time.Now(), cm.Data
	return cm.Data, nil
}
