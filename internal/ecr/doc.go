// Package ecr holds the domain types of berth's Elastic Container Registry
// emulation that more than one package needs: the repository and image
// records, their constants, ARN/URI helpers, and the state-store key layout
// of the ECR tree.
//
// Two packages write this tree. The ECR control plane (internal/ecrapi) owns
// the repository records (repos/<name>); the OCI distribution registry
// (internal/registry) owns everything below a repository: manifests
// (images/), tags (tags/), per-repository blob links (layers/), the referrers
// index (referrers/) and the registry-wide blob records (blobs/). Neither
// package writes the other's keys; the registry only reads repository
// records, and the control plane reads images through the registry's Go API.
//
// Repository names may contain '/', which the store reserves as its own
// separator, so every name segment is escaped with url.PathEscape (only '/'
// changes, to %2F: the other characters ECR allows are path-safe).
package ecr
