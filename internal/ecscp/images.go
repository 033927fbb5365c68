package ecscp

import (
	"context"

	"github.com/berth-dev/berth/internal/ecs"
)

// ImageResolver resolves a container image reference to its digest, as
// ECS does when a deployment starts (the server implements it over
// berth's ECR): found is false for an image it does not know.
type ImageResolver interface {
	ImageDigest(ctx context.Context, sc ecs.Scope, image string) (digest string, found bool, err error)
}

// resolveImages returns a task definition's container images with the
// digests the resolver knows (nil resolver: none).
func (p *Plane) resolveImages(ctx context.Context, sc ecs.Scope, td *ecs.TaskDefinition) ([]ecs.ContainerImage, error) {
	out := make([]ecs.ContainerImage, 0, len(td.ContainerDefinitions))
	for _, cd := range td.ContainerDefinitions {
		ci := ecs.ContainerImage{ContainerName: cd.Name, Image: cd.Image}
		if p.images != nil {
			d, found, err := p.images.ImageDigest(ctx, sc, cd.Image)
			if err != nil {
				return nil, err
			}
			if found {
				ci.ImageDigest = d
			}
		}
		out = append(out, ci)
	}
	return out, nil
}

// pinImages records the images a new deployment resolved in its service
// deployment's revision.
func pinImages(s *ecs.Service, depID string, images []ecs.ContainerImage) {
	if h := s.History(depID); h != nil && h.Revision != nil {
		h.Revision.ContainerImages = images
	}
}
