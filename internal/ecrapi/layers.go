package ecrapi

import (
	"bytes"
	"context"
	"fmt"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

// partSize is the part size InitiateLayerUpload recommends (ECR's 10 MiB;
// a base64 part of that size fits the API's 16 MiB request limit).
const partSize = 10 << 20

type batchCheckLayerAvailabilityIn struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	LayerDigests   []string `json:"layerDigests"`
}

type wireLayer struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
	MediaType         string `json:"mediaType,omitempty"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type batchCheckLayerAvailabilityOut struct {
	Layers   []wireLayer    `json:"layers"`
	Failures []layerFailure `json:"failures"`
}

func (a *API) batchCheckLayerAvailability(ctx context.Context, c *awsproto.Call, in *batchCheckLayerAvailabilityIn) (any, error) {
	if len(in.LayerDigests) == 0 || len(in.LayerDigests) > 100 {
		return nil, errInvalidParam("Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Member must have length between 1 and 100'")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:BatchCheckLayerAvailability")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	out := batchCheckLayerAvailabilityOut{Layers: []wireLayer{}, Failures: []layerFailure{}}
	for _, d := range in.LayerDigests {
		if !validDigest(d) {
			out.Failures = append(out.Failures, layerFailure{d, "InvalidLayerDigest", "Invalid layer digest"})
			continue
		}
		info, err := reg.BlobExists(ctx, rec.Name, d)
		if fault.Is(err, fault.NotFound) {
			out.Failures = append(out.Failures, layerFailure{d, "MissingLayerDigest", "Could not find layer"})
			continue
		}
		if fault.Is(err, fault.InvalidParameter) {
			out.Failures = append(out.Failures, layerFailure{d, "InvalidLayerDigest", "Invalid layer digest"})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Layers = append(out.Layers, wireLayer{LayerDigest: d, LayerAvailability: "AVAILABLE", LayerSize: info.Size})
	}
	return out, nil
}

type repoIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

type initiateLayerUploadOut struct {
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
}

func (a *API) initiateLayerUpload(ctx context.Context, c *awsproto.Call, in *repoIn) (any, error) {
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:InitiateLayerUpload")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	st, err := reg.StartUpload(ctx, rec.Name)
	if err != nil {
		return nil, err
	}
	return initiateLayerUploadOut{UploadID: st.ID, PartSize: partSize}, nil
}

type uploadLayerPartIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	PartFirstByte  *int64 `json:"partFirstByte"`
	PartLastByte   *int64 `json:"partLastByte"`
	LayerPartBlob  []byte `json:"layerPartBlob"`
}

type uploadLayerPartOut struct {
	RegistryID       string `json:"registryId"`
	RepositoryName   string `json:"repositoryName"`
	UploadID         string `json:"uploadId"`
	LastByteReceived int64  `json:"lastByteReceived"`
}

func errLayerPart(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode("InvalidLayerPartException")
}

func (a *API) uploadLayerPart(ctx context.Context, c *awsproto.Call, in *uploadLayerPartIn) (any, error) {
	if in.UploadID == "" || in.PartFirstByte == nil || in.PartLastByte == nil || in.LayerPartBlob == nil {
		return nil, errInvalidParam("uploadId, partFirstByte, partLastByte and layerPartBlob are required")
	}
	first, last := *in.PartFirstByte, *in.PartLastByte
	if first < 0 || last < first {
		return nil, errLayerPart("The part range %d-%d of upload %s is invalid", first, last, in.UploadID)
	}
	if int64(len(in.LayerPartBlob)) != last-first+1 {
		return nil, errLayerPart("The part %d-%d of upload %s declares %d bytes but has %d", first, last, in.UploadID, last-first+1, len(in.LayerPartBlob))
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:UploadLayerPart")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	st, err := reg.AppendUpload(ctx, rec.Name, in.UploadID, first, last-first+1, bytes.NewReader(in.LayerPartBlob))
	if err != nil {
		return nil, err
	}
	return uploadLayerPartOut{sc.Account, rec.Name, in.UploadID, st.Size - 1}, nil
}

type completeLayerUploadIn struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	UploadID       string   `json:"uploadId"`
	LayerDigests   []string `json:"layerDigests"`
}

type completeLayerUploadOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
	LayerDigest    string `json:"layerDigest"`
}

func (a *API) completeLayerUpload(ctx context.Context, c *awsproto.Call, in *completeLayerUploadIn) (any, error) {
	if in.UploadID == "" {
		return nil, errInvalidParam("uploadId is required")
	}
	if len(in.LayerDigests) != 1 {
		return nil, errInvalidParam("Invalid parameter at 'layerDigests' failed to satisfy constraint: 'berth completes an upload as exactly one layer digest (got %d)'", len(in.LayerDigests))
	}
	d := in.LayerDigests[0]
	if !validDigest(d) {
		return nil, fault.New(fault.InvalidParameter, "Invalid layer digest %q", d).WithCode("InvalidLayerException")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:CompleteLayerUpload")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	st, err := reg.GetUploadStatus(ctx, rec.Name, in.UploadID)
	if err != nil {
		return nil, err
	}
	if st.Size == 0 {
		return nil, fault.New(fault.InvalidParameter, "The upload with id '%s' has no layer parts; upload parts with UploadLayerPart first", in.UploadID).
			WithCode("EmptyUploadException")
	}
	info, err := reg.CommitUpload(ctx, rec.Name, in.UploadID, d, -1, -1, nil)
	if err != nil {
		return nil, err
	}
	if info.Existed {
		return nil, (&fault.Error{Kind: fault.AlreadyExists, Resource: "layer",
			Msg: fmt.Sprintf("The layer with digest '%s' already exists in the %s", d, rec.describeRef())}).
			WithCode("LayerAlreadyExistsException")
	}
	return completeLayerUploadOut{sc.Account, rec.Name, in.UploadID, info.Digest}, nil
}

type getDownloadURLForLayerIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	LayerDigest    string `json:"layerDigest"`
}

type getDownloadURLForLayerOut struct {
	DownloadURL string `json:"downloadUrl"`
	LayerDigest string `json:"layerDigest"`
}

func (a *API) getDownloadURLForLayer(ctx context.Context, c *awsproto.Call, in *getDownloadURLForLayerIn) (any, error) {
	if !validDigest(in.LayerDigest) {
		return nil, errInvalidParam("Invalid parameter at 'layerDigest' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:GetDownloadUrlForLayer")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	if _, err := reg.BlobExists(ctx, rec.Name, in.LayerDigest); err != nil {
		if fault.Is(err, fault.NotFound) || fault.Is(err, fault.InvalidParameter) {
			return nil, fault.NotFoundf("layer", "The specified layer %s does not exist in the %s", in.LayerDigest, rec.describeRef()).
				WithCode("LayersNotFoundException")
		}
		return nil, err
	}
	return getDownloadURLForLayerOut{DownloadURL: a.downloadURL(sc, rec.Name, in.LayerDigest), LayerDigest: in.LayerDigest}, nil
}
