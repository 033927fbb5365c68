package ecrapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry"
)

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageID) String() string {
	d, t := "null", "null"
	if id.ImageDigest != "" {
		d = "'" + id.ImageDigest + "'"
	}
	if id.ImageTag != "" {
		t = "'" + id.ImageTag + "'"
	}
	return "{imageDigest:" + d + ", imageTag:" + t + "}"
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

type tagFilter struct {
	TagStatus string `json:"tagStatus"`
}

// tagStatus validates a filter's tagStatus ("" means ANY).
func (f *tagFilter) status() (string, error) {
	if f == nil || f.TagStatus == "" {
		return "ANY", nil
	}
	switch f.TagStatus {
	case "TAGGED", "UNTAGGED", "ANY":
		return f.TagStatus, nil
	}
	return "", errInvalidParam("Invalid parameter at 'tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]'")
}

func keepByStatus(status string, img ecr.Image) bool {
	switch status {
	case "TAGGED":
		return len(img.Tags) > 0
	case "UNTAGGED":
		return len(img.Tags) == 0
	}
	return true
}

type listImagesIn struct {
	RegistryID     string     `json:"registryId"`
	RepositoryName string     `json:"repositoryName"`
	NextToken      string     `json:"nextToken"`
	MaxResults     *int       `json:"maxResults"`
	Filter         *tagFilter `json:"filter"`
}

type listImagesOut struct {
	ImageIDs  []imageID `json:"imageIds"`
	NextToken string    `json:"nextToken,omitempty"`
}

// images returns a repository's images from its registry.
func (a *API) images(ctx context.Context, sc scope, repo string) ([]ecr.Image, *registry.Registry, error) {
	reg, err := a.registry(sc)
	if err != nil {
		return nil, nil, err
	}
	imgs, err := reg.ListImages(ctx, repo)
	return imgs, reg, err
}

func (a *API) listImages(ctx context.Context, c *awsproto.Call, in *listImagesIn) (any, error) {
	status, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	n, err := pageSize(in.MaxResults, 100, 1000)
	if err != nil {
		return nil, err
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:ListImages")
	if err != nil {
		return nil, err
	}
	imgs, _, err := a.images(ctx, sc, rec.Name)
	if err != nil {
		return nil, err
	}
	// One entry per tag, and one for each untagged image; the page key
	// orders them by digest, then tag.
	ids := map[string]imageID{}
	var keys []string
	for _, img := range imgs {
		if !keepByStatus(status, img) {
			continue
		}
		if len(img.Tags) == 0 {
			k := img.Digest + "\x00"
			ids[k] = imageID{ImageDigest: img.Digest}
			keys = append(keys, k)
		}
		for _, t := range img.Tags {
			k := img.Digest + "\x00" + t
			ids[k] = imageID{ImageDigest: img.Digest, ImageTag: t}
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pg, next, err := page(keys, in.NextToken, n)
	if err != nil {
		return nil, err
	}
	out := listImagesOut{ImageIDs: []imageID{}, NextToken: next}
	for _, k := range pg {
		out.ImageIDs = append(out.ImageIDs, ids[k])
	}
	return out, nil
}

type imageDetail struct {
	RegistryID             string              `json:"registryId"`
	RepositoryName         string              `json:"repositoryName"`
	ImageDigest            string              `json:"imageDigest"`
	ImageTags              []string            `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64               `json:"imageSizeInBytes"`
	ImagePushedAt          *awsproto.EpochTime `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string              `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string              `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   *awsproto.EpochTime `json:"lastRecordedPullTime,omitempty"`
	ImageStatus            string              `json:"imageStatus,omitempty"`
}

func detailOf(sc scope, img ecr.Image) imageDetail {
	return imageDetail{
		RegistryID: sc.Account, RepositoryName: img.RepositoryName, ImageDigest: img.Digest,
		ImageTags: img.Tags, ImageSizeInBytes: img.Size, ImagePushedAt: awsproto.Epoch(img.PushedAt),
		ImageManifestMediaType: img.MediaType, ArtifactMediaType: img.ArtifactMediaType,
		LastRecordedPullTime: awsproto.Epoch(img.LastPulledAt), ImageStatus: "ACTIVE",
	}
}

type describeImagesIn struct {
	RegistryID     string     `json:"registryId"`
	RepositoryName string     `json:"repositoryName"`
	ImageIDs       []imageID  `json:"imageIds"`
	NextToken      string     `json:"nextToken"`
	MaxResults     *int       `json:"maxResults"`
	Filter         *tagFilter `json:"filter"`
}

type describeImagesOut struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    string        `json:"nextToken,omitempty"`
}

func errImageNotFound(rec *repoRecord, id imageID) error {
	return fault.NotFoundf("image", "The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'",
		id, rec.Name, rec.RegistryID).WithCode("ImageNotFoundException")
}

func (a *API) describeImages(ctx context.Context, c *awsproto.Call, in *describeImagesIn) (any, error) {
	status, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:DescribeImages")
	if err != nil {
		return nil, err
	}
	out := describeImagesOut{ImageDetails: []imageDetail{}}
	if in.ImageIDs != nil {
		if len(in.ImageIDs) == 0 || len(in.ImageIDs) > 100 {
			return nil, errInvalidParam("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'")
		}
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, errInvalidParam("maxResults and nextToken cannot be used when imageIds is specified")
		}
		reg, err := a.registry(sc)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, id := range in.ImageIDs {
			img, err := a.resolveImage(ctx, reg, rec, id)
			if err != nil {
				return nil, err
			}
			if seen[img.Digest] || !keepByStatus(status, img) {
				continue
			}
			seen[img.Digest] = true
			out.ImageDetails = append(out.ImageDetails, detailOf(sc, img))
		}
		return out, nil
	}
	n, err := pageSize(in.MaxResults, 100, 1000)
	if err != nil {
		return nil, err
	}
	imgs, _, err := a.images(ctx, sc, rec.Name)
	if err != nil {
		return nil, err
	}
	byDigest := map[string]ecr.Image{}
	var keys []string
	for _, img := range imgs {
		if keepByStatus(status, img) {
			byDigest[img.Digest] = img
			keys = append(keys, img.Digest)
		}
	}
	sort.Strings(keys)
	pg, next, err := page(keys, in.NextToken, n)
	if err != nil {
		return nil, err
	}
	for _, k := range pg {
		out.ImageDetails = append(out.ImageDetails, detailOf(sc, byDigest[k]))
	}
	out.NextToken = next
	return out, nil
}

// resolveImage finds the image an imageId names; with both a digest and a
// tag, the tag must point at the digest.
func (a *API) resolveImage(ctx context.Context, reg *registry.Registry, rec *repoRecord, id imageID) (ecr.Image, error) {
	if id.ImageDigest == "" && id.ImageTag == "" {
		return ecr.Image{}, errInvalidParam("Invalid parameter at 'imageId' failed to satisfy constraint: 'an image identifier needs an imageDigest or an imageTag'")
	}
	ref := id.ImageDigest
	if ref == "" {
		ref = id.ImageTag
	}
	img, err := reg.DescribeImage(ctx, rec.Name, ref)
	if err != nil {
		if fault.Is(err, fault.NotFound) || fault.Is(err, fault.InvalidParameter) {
			return ecr.Image{}, errImageNotFound(rec, id)
		}
		return ecr.Image{}, err
	}
	if id.ImageDigest != "" && id.ImageTag != "" && !slices.Contains(img.Tags, id.ImageTag) {
		return ecr.Image{}, errImageNotFound(rec, id)
	}
	return img, nil
}

type batchGetImageIn struct {
	RegistryID         string    `json:"registryId"`
	RepositoryName     string    `json:"repositoryName"`
	ImageIDs           []imageID `json:"imageIds"`
	AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
}

type wireImage struct {
	RegistryID             string  `json:"registryId"`
	RepositoryName         string  `json:"repositoryName"`
	ImageID                imageID `json:"imageId"`
	ImageManifest          string  `json:"imageManifest"`
	ImageManifestMediaType string  `json:"imageManifestMediaType,omitempty"`
}

type batchGetImageOut struct {
	Images   []wireImage    `json:"images"`
	Failures []imageFailure `json:"failures"`
}

// checkImageID returns the failure for a malformed image identifier.
func checkImageID(id imageID) *imageFailure {
	switch {
	case id.ImageDigest == "" && id.ImageTag == "":
		return &imageFailure{id, "MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"}
	case id.ImageDigest != "" && !validDigest(id.ImageDigest):
		return &imageFailure{id, "InvalidImageDigest", "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"}
	case id.ImageTag != "" && !registry.ValidTag(id.ImageTag):
		return &imageFailure{id, "InvalidImageTag", "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9-_.]+'"}
	}
	return nil
}

func validDigest(d string) bool {
	alg, hexpart, ok := strings.Cut(d, ":")
	if !ok || alg == "" || hexpart == "" {
		return false
	}
	_, err := hex.DecodeString(hexpart)
	return err == nil
}

func (a *API) batchGetImage(ctx context.Context, c *awsproto.Call, in *batchGetImageIn) (any, error) {
	if len(in.ImageIDs) == 0 || len(in.ImageIDs) > 100 {
		return nil, errInvalidParam("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:BatchGetImage")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	out := batchGetImageOut{Images: []wireImage{}, Failures: []imageFailure{}}
	for _, id := range in.ImageIDs {
		if f := checkImageID(id); f != nil {
			out.Failures = append(out.Failures, *f)
			continue
		}
		ref := id.ImageDigest
		if ref == "" {
			ref = id.ImageTag
		}
		m, err := reg.GetManifest(ctx, rec.Name, ref)
		if fault.Is(err, fault.NotFound) || fault.Is(err, fault.InvalidParameter) {
			out.Failures = append(out.Failures, imageFailure{id, "ImageNotFound", "Requested image not found"})
			continue
		}
		if err != nil {
			return nil, err
		}
		if id.ImageDigest != "" && id.ImageTag != "" && !slices.Contains(m.Tags, id.ImageTag) {
			out.Failures = append(out.Failures, imageFailure{id, "ImageTagDoesNotMatchDigest",
				fmt.Sprintf("Invalid request parameters: the tag '%s' does not point at the image with digest '%s'", id.ImageTag, id.ImageDigest)})
			continue
		}
		if len(in.AcceptedMediaTypes) > 0 && !slices.Contains(in.AcceptedMediaTypes, m.MediaType) {
			out.Failures = append(out.Failures, imageFailure{id, "ImageNotFound",
				fmt.Sprintf("Requested image not found in the accepted media types: its manifest is %s", m.MediaType)})
			continue
		}
		out.Images = append(out.Images, wireImage{
			RegistryID: sc.Account, RepositoryName: rec.Name,
			ImageID:       imageID{ImageDigest: m.Digest, ImageTag: id.ImageTag},
			ImageManifest: string(m.Body), ImageManifestMediaType: m.MediaType,
		})
		reg.RecordPull(ctx, rec.Name, m.Digest)
	}
	return out, nil
}

type batchDeleteImageIn struct {
	RegistryID     string    `json:"registryId"`
	RepositoryName string    `json:"repositoryName"`
	ImageIDs       []imageID `json:"imageIds"`
}

type batchDeleteImageOut struct {
	ImageIDs []imageID      `json:"imageIds"`
	Failures []imageFailure `json:"failures"`
}

func (a *API) batchDeleteImage(ctx context.Context, c *awsproto.Call, in *batchDeleteImageIn) (any, error) {
	if len(in.ImageIDs) == 0 || len(in.ImageIDs) > 100 {
		return nil, errInvalidParam("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:BatchDeleteImage")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	out := batchDeleteImageOut{ImageIDs: []imageID{}, Failures: []imageFailure{}}
	notFound := func(id imageID) {
		out.Failures = append(out.Failures, imageFailure{id, "ImageNotFound", "Requested image not found"})
	}
	for _, id := range in.ImageIDs {
		if f := checkImageID(id); f != nil {
			out.Failures = append(out.Failures, *f)
			continue
		}
		if id.ImageTag == "" {
			// by digest: the image and all its tags go
			img, err := reg.DescribeImage(ctx, rec.Name, id.ImageDigest)
			if fault.Is(err, fault.NotFound) {
				notFound(id)
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := reg.DeleteImage(ctx, rec.Name, id.ImageDigest); fault.Is(err, fault.NotFound) {
				notFound(id)
				continue
			} else if err != nil {
				return nil, err
			}
			if len(img.Tags) == 0 {
				out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: img.Digest})
			}
			for _, t := range img.Tags {
				out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: img.Digest, ImageTag: t})
			}
			continue
		}
		// by tag: the tag goes; the image goes with its last tag
		if id.ImageDigest != "" {
			img, err := reg.DescribeImage(ctx, rec.Name, id.ImageTag)
			if fault.Is(err, fault.NotFound) {
				notFound(id)
				continue
			}
			if err != nil {
				return nil, err
			}
			if img.Digest != id.ImageDigest {
				out.Failures = append(out.Failures, imageFailure{id, "ImageTagDoesNotMatchDigest",
					fmt.Sprintf("Invalid request parameters: the tag '%s' does not point at the image with digest '%s'", id.ImageTag, id.ImageDigest)})
				continue
			}
		}
		dgst, remaining, err := reg.Untag(ctx, rec.Name, id.ImageTag)
		if fault.Is(err, fault.NotFound) {
			notFound(id)
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(remaining) == 0 {
			if err := reg.DeleteImage(ctx, rec.Name, dgst); err != nil && !fault.Is(err, fault.NotFound) {
				return nil, err
			}
		}
		out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: dgst, ImageTag: id.ImageTag})
	}
	return out, nil
}

type putImageIn struct {
	RegistryID             string `json:"registryId"`
	RepositoryName         string `json:"repositoryName"`
	ImageManifest          string `json:"imageManifest"`
	ImageManifestMediaType string `json:"imageManifestMediaType"`
	ImageTag               string `json:"imageTag"`
	ImageDigest            string `json:"imageDigest"`
}

type putImageOut struct {
	Image wireImage `json:"image"`
}

func (a *API) putImage(ctx context.Context, c *awsproto.Call, in *putImageIn) (any, error) {
	if len(in.ImageManifest) == 0 {
		return nil, errInvalidParam("Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length greater than or equal to 1'")
	}
	if in.ImageTag != "" && !registry.ValidTag(in.ImageTag) {
		return nil, errInvalidParam("Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}''")
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:PutImage")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	body := []byte(in.ImageManifest)
	var tags []string
	if in.ImageTag != "" {
		tags = []string{in.ImageTag}
		// exclusion-filtered immutability is decided here (the registry
		// knows plain IMMUTABLE only)
		if tagImmutable(rec, in.ImageTag) && !rec.Immutable() {
			if cur, err := reg.DescribeImage(ctx, rec.Name, in.ImageTag); err == nil && cur.Digest != manifestDigest(in.ImageDigest, body) {
				return nil, errTagImmutable(in.ImageTag, rec.Name)
			}
		}
	}
	res, err := reg.PutImage(ctx, rec.Name, in.ImageManifestMediaType, body, in.ImageDigest, tags...)
	if err != nil {
		return nil, err
	}
	if !res.Created && len(res.TagsMoved) == 0 {
		msg := fmt.Sprintf("Image with digest '%s' ", res.Digest)
		if in.ImageTag != "" {
			msg += fmt.Sprintf("and tag '%s' ", in.ImageTag)
		}
		msg += fmt.Sprintf("already exists in the repository with name '%s' in registry with id '%s'", rec.Name, sc.Account)
		return nil, (&fault.Error{Kind: fault.AlreadyExists, Resource: "image", Msg: msg}).WithCode("ImageAlreadyExistsException")
	}
	// The answer comes from the put itself: a lifecycle pass may expire
	// the image as soon as it is stored.
	return putImageOut{wireImage{
		RegistryID: sc.Account, RepositoryName: rec.Name,
		ImageID:       imageID{ImageDigest: res.Digest, ImageTag: in.ImageTag},
		ImageManifest: in.ImageManifest, ImageManifestMediaType: res.MediaType,
	}}, nil
}

// manifestDigest is the digest a put of body gets (the requested one, or
// the body's sha256).
func manifestDigest(want string, body []byte) string {
	if want != "" {
		return want
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func errTagImmutable(tag, repo string) error {
	return (&fault.Error{Kind: fault.AlreadyExists, Resource: "image",
		Msg: fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo)}).
		WithCode("ImageTagAlreadyExistsException")
}

// ImageDigest returns the digest of an image of an account's registry,
// named by tag or digest; found is false when there is no such repository
// or image. ECS resolves a service revision's images through it.
func (a *API) ImageDigest(ctx context.Context, account, region, repo, ref string) (string, bool, error) {
	reg, err := a.registry(scope{Account: account, Region: region})
	if err != nil {
		return "", false, err
	}
	img, err := reg.DescribeImage(ctx, repo, ref)
	if fault.Is(err, fault.NotFound) || fault.Is(err, fault.InvalidParameter) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return img.Digest, true, nil
}
