// Package ekscp is the EKS control plane: the operations of the EKS API
// over the domain (internal/eks) and the store (internal/eksstore), and the
// lifecycle controller that moves clusters through CREATING, UPDATING and
// DELETING by asking a ControlPlanes implementation to start, reconfigure
// and remove each cluster's Kubernetes control plane. Without one, a
// cluster never claims ACTIVE: it goes to FAILED with a health issue that
// says why.
package ekscp
