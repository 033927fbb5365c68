package ecs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/fault"
)

// Scope is the account and region a resource lives in.
type Scope struct {
	Account string
	Region  string
}

// ARN returns an ECS ARN for a resource path such as "cluster/prod".
func (s Scope) ARN(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", s.Region, s.Account, resource)
}

// ClusterARN returns the ARN of a cluster.
func (s Scope) ClusterARN(name string) string { return s.ARN("cluster/" + name) }

// TaskDefinitionARN returns the ARN of a task definition revision.
func (s Scope) TaskDefinitionARN(family string, rev int) string {
	return s.ARN("task-definition/" + family + ":" + strconv.Itoa(rev))
}

// ParsedARN is an ARN split into its parts.
type ParsedARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits an ARN. It returns false if s is not an ARN.
func ParseARN(s string) (ParsedARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ParsedARN{}, false
	}
	return ParsedARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, true
}

// ClusterName returns the cluster name a cluster reference (name or ARN)
// names. ECS accepts either form everywhere a cluster is referenced; an empty
// reference means the "default" cluster.
func ClusterName(ref string) (string, error) {
	if ref == "" {
		return "default", nil
	}
	if !strings.HasPrefix(ref, "arn:") {
		return ref, nil
	}
	p, ok := ParseARN(ref)
	if !ok || p.Service != "ecs" || !strings.HasPrefix(p.Resource, "cluster/") {
		return "", invalidParam("Cluster identifier %q is not a valid cluster name or ARN.", ref)
	}
	return strings.TrimPrefix(p.Resource, "cluster/"), nil
}

// TaskDefinitionRef is a parsed task definition reference: "family",
// "family:revision" or a full ARN. Revision 0 means "the latest ACTIVE".
type TaskDefinitionRef struct {
	Family   string
	Revision int
}

// ParseTaskDefinitionRef parses a task definition reference.
func ParseTaskDefinitionRef(ref string) (TaskDefinitionRef, error) {
	s := ref
	if strings.HasPrefix(ref, "arn:") {
		p, ok := ParseARN(ref)
		if !ok || p.Service != "ecs" || !strings.HasPrefix(p.Resource, "task-definition/") {
			return TaskDefinitionRef{}, clientErr("Invalid revision number. Number: %s", ref)
		}
		s = strings.TrimPrefix(p.Resource, "task-definition/")
	}
	fam, revStr, hasRev := strings.Cut(s, ":")
	if fam == "" {
		return TaskDefinitionRef{}, clientErr("Task definition family cannot be empty.")
	}
	if !hasRev {
		return TaskDefinitionRef{Family: fam}, nil
	}
	rev, err := strconv.Atoi(revStr)
	if err != nil || rev < 1 {
		return TaskDefinitionRef{}, clientErr("Invalid revision number. Number: %s", revStr)
	}
	return TaskDefinitionRef{Family: fam, Revision: rev}, nil
}

// InstanceRef is a container instance reference resolved to its cluster and
// ID.
type InstanceRef struct {
	Cluster string
	ID      string
}

// ParseInstanceRef resolves a container instance ARN or ID; a bare ID
// belongs to defaultCluster.
func ParseInstanceRef(ref, defaultCluster string) (InstanceRef, error) {
	if !strings.HasPrefix(ref, "arn:") {
		if ref == "" || strings.Contains(ref, "/") {
			return InstanceRef{}, fault.New(fault.InvalidParameter, "Invalid container instance identifier %q.", ref)
		}
		return InstanceRef{Cluster: defaultCluster, ID: ref}, nil
	}
	p, ok := ParseARN(ref)
	rest, isCI := strings.CutPrefix(p.Resource, "container-instance/")
	if !ok || p.Service != "ecs" || !isCI {
		return InstanceRef{}, fault.New(fault.InvalidParameter, "Invalid container instance ARN %q.", ref)
	}
	cluster, id, hasCluster := strings.Cut(rest, "/")
	if !hasCluster {
		// Short ARN format: container-instance/<id>.
		return InstanceRef{Cluster: defaultCluster, ID: cluster}, nil
	}
	return InstanceRef{Cluster: cluster, ID: id}, nil
}

// SplitTaskARN returns the cluster and ID of a long-format task ARN.
func SplitTaskARN(arn string) (cluster, id string, ok bool) {
	p, isARN := ParseARN(arn)
	if !isARN {
		return "", "", false
	}
	kind, rest, _ := strings.Cut(p.Resource, "/")
	if kind != "task" {
		return "", "", false
	}
	cluster, id, ok = strings.Cut(rest, "/")
	return cluster, id, ok && cluster != "" && id != ""
}
