// Package eks is the pure domain of Amazon EKS: clusters with their
// lifecycle (CREATING, ACTIVE, UPDATING, DELETING, FAILED), configuration
// updates, the Kubernetes versions EKS offers, access entries with their
// associated access policies, and EKS's names, defaults, validation and
// error codes. It does no I/O: identifiers and times are inputs.
package eks
