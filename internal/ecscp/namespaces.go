package ecscp

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/ecs"
	"github.com/berth-dev/berth/internal/fault"
)

// namespaceNotFound is ECS's answer for a namespace Cloud Map does not
// have.
func namespaceNotFound() error {
	return fault.NotFoundf("namespace", "Namespace not found.").WithCode("NamespaceNotFoundException")
}

// namespaceKey is how a namespace reference is compared: the last path
// element of an ARN (arn:...:namespace/ns-x), else the name itself.
func namespaceKey(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref[strings.LastIndexByte(ref, '/')+1:]
	}
	return ref
}

// ListServicesByNamespace returns the services of a Service Connect
// namespace. berth has no Cloud Map: the namespaces it knows are the ones
// clusters name as their serviceConnectDefaults (ECS creates such a
// namespace in Cloud Map when it does not exist), and no service can be
// in one, because berth refuses serviceConnectConfiguration. So a
// namespace a cluster of the account and region names has no services
// (an empty list, as ECS answers for a namespace without services), and
// any other namespace is NamespaceNotFoundException.
func (p *Plane) ListServicesByNamespace(ctx context.Context, sc ecs.Scope, namespace string) ([]string, error) {
	if namespace == "" {
		return nil, fault.New(fault.InvalidParameter, "namespace is required.")
	}
	clusters, err := p.repo.Clusters(ctx, sc)
	if err != nil {
		return nil, err
	}
	want := namespaceKey(namespace)
	for _, cl := range clusters {
		if d := cl.ServiceConnectDefaults; d != nil && d.Namespace != "" && namespaceKey(d.Namespace) == want {
			return []string{}, nil
		}
	}
	return nil, namespaceNotFound()
}
