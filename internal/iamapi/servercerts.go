package iamapi

import (
	"context"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

type wServerCertificateMetadata struct {
	Path                  string
	ServerCertificateName string
	ServerCertificateId   string
	Arn                   string
	UploadDate            time.Time
	Expiration            time.Time
}

type wServerCertificate struct {
	ServerCertificateMetadata wServerCertificateMetadata
	CertificateBody           string
	CertificateChain          string `json:",omitempty"`
	Tags                      []wTag `json:",omitempty"`
}

func serverCertMeta(c *iam.ServerCertificate) wServerCertificateMetadata {
	return wServerCertificateMetadata{Path: c.Path, ServerCertificateName: c.Name, ServerCertificateId: c.ID, Arn: c.ARN,
		UploadDate: c.Uploaded, Expiration: c.Expiration}
}

type uploadServerCertificateIn struct {
	ServerCertificateName string
	Path                  string
	CertificateBody       string
	PrivateKey            string
	CertificateChain      string
	Tags                  []wTag
}

type uploadServerCertificateOut struct {
	ServerCertificateMetadata wServerCertificateMetadata
	Tags                      []wTag `json:",omitempty"`
}

func (a *API) uploadServerCertificate(ctx context.Context, c *awsproto.Call, in *uploadServerCertificateIn) (any, error) {
	sc, err := a.plane.UploadServerCertificate(ctx, c.Account, iamcp.UploadServerCertificateInput{
		Name: in.ServerCertificateName, Path: in.Path, Body: in.CertificateBody, PrivateKey: in.PrivateKey,
		Chain: in.CertificateChain, Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &uploadServerCertificateOut{ServerCertificateMetadata: serverCertMeta(sc), Tags: tagsOut(sc.Tags)}, nil
}

type serverCertificateNameIn struct{ ServerCertificateName string }

type getServerCertificateOut struct{ ServerCertificate wServerCertificate }

func (a *API) getServerCertificate(ctx context.Context, c *awsproto.Call, in *serverCertificateNameIn) (any, error) {
	sc, err := a.plane.ServerCertificate(ctx, c.Account, in.ServerCertificateName)
	if err != nil {
		return nil, err
	}
	return &getServerCertificateOut{ServerCertificate: wServerCertificate{ServerCertificateMetadata: serverCertMeta(sc),
		CertificateBody: sc.Body, CertificateChain: sc.Chain, Tags: tagsOut(sc.Tags)}}, nil
}

type listServerCertificatesIn struct {
	PathPrefix string
	pageIn
}

type listServerCertificatesOut struct {
	ServerCertificateMetadataList []wServerCertificateMetadata
	IsTruncated                   bool
	Marker                        string `json:",omitempty"`
}

func (a *API) listServerCertificates(ctx context.Context, c *awsproto.Call, in *listServerCertificatesIn) (any, error) {
	all, err := a.plane.ServerCertificates(ctx, c.Account, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listServerCertificatesOut{ServerCertificateMetadataList: []wServerCertificateMetadata{}, IsTruncated: next != "", Marker: next}
	for _, sc := range pg {
		out.ServerCertificateMetadataList = append(out.ServerCertificateMetadataList, serverCertMeta(sc))
	}
	return out, nil
}

type updateServerCertificateIn struct {
	ServerCertificateName    string
	NewPath                  string
	NewServerCertificateName string
}

func (a *API) updateServerCertificate(ctx context.Context, c *awsproto.Call, in *updateServerCertificateIn) (any, error) {
	return &empty{}, a.plane.UpdateServerCertificate(ctx, c.Account, in.ServerCertificateName, in.NewServerCertificateName, in.NewPath)
}

func (a *API) deleteServerCertificate(ctx context.Context, c *awsproto.Call, in *serverCertificateNameIn) (any, error) {
	return &empty{}, a.plane.DeleteServerCertificate(ctx, c.Account, in.ServerCertificateName)
}
