package docker

import (
	"context"
	"maps"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// CreateVolume creates a named local volume; an existing one is kept.
func (d *Driver) CreateVolume(ctx context.Context, name string, labels map[string]string) error {
	l := maps.Clone(labels)
	if l == nil {
		l = map[string]string{}
	}
	l[labelManaged] = "true"
	if _, err := d.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Driver: "local", Labels: l}); err != nil {
		return wrap("create volume "+name, err)
	}
	return nil
}

// RemoveVolume removes a named volume.
func (d *Driver) RemoveVolume(ctx context.Context, name string) error {
	_, err := d.cli.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return wrap("remove volume "+name, err)
	}
	return nil
}
