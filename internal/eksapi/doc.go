// Package eksapi serves the Amazon EKS API (restJson1, signing name "eks"):
// wire shapes to and from the EKS control plane (internal/ekscp), one
// handler per operation, EKS's exceptions and their HTTP statuses.
package eksapi
