package registry

import (
	"bytes"
	"context"
	"testing"

	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/registry/digest"
)

func faultCode(err error) string {
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return ""
}

// TestECRLayerUpload walks the calls ECR's InitiateLayerUpload,
// UploadLayerPart and CompleteLayerUpload make.
func TestECRLayerUpload(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	createRepo(t, e.st, "ecr/app", false)
	if _, err := e.reg.StartUpload(ctx, "missing"); faultCode(err) != "RepositoryNotFoundException" || !fault.Is(err, fault.NotFound) {
		t.Fatalf("start in a missing repository: %v", err)
	}
	b, d := randBlob(t, 10000)
	st, err := e.reg.StartUpload(ctx, "ecr/app")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 0 || st.ID == "" {
		t.Fatalf("status %+v", st)
	}
	st, err = e.reg.AppendUpload(ctx, "ecr/app", st.ID, 0, 4000, bytes.NewReader(b[:4000]))
	if err != nil || st.Size != 4000 {
		t.Fatalf("part 1: %+v %v", st, err)
	}
	// a part that does not start where the upload ends
	if _, err := e.reg.AppendUpload(ctx, "ecr/app", st.ID, 5000, 1000, bytes.NewReader(b[5000:6000])); faultCode(err) != "InvalidLayerPartException" {
		t.Fatalf("gap part: %v", err)
	}
	st, err = e.reg.AppendUpload(ctx, "ecr/app", st.ID, 4000, 6000, bytes.NewReader(b[4000:]))
	if err != nil || st.Size != 10000 {
		t.Fatalf("part 2: %+v %v", st, err)
	}
	if _, err := e.reg.AppendUpload(ctx, "ecr/app", "00000000-0000-4000-8000-000000000000", 0, 1, bytes.NewReader([]byte("x"))); faultCode(err) != "UploadNotFoundException" {
		t.Fatalf("unknown upload: %v", err)
	}
	info, err := e.reg.CommitUpload(ctx, "ecr/app", st.ID, d, -1, -1, nil)
	if err != nil || info.Digest != d || info.Size != 10000 || info.Existed {
		t.Fatalf("complete: %+v %v", info, err)
	}
	if got, err := e.reg.BlobExists(ctx, "ecr/app", d); err != nil || got.Size != 10000 {
		t.Fatalf("BlobExists %+v %v", got, err)
	}
	// the same layer again: Existed (LayerAlreadyExistsException in ECR)
	st2, _ := e.reg.StartUpload(ctx, "ecr/app")
	e.reg.AppendUpload(ctx, "ecr/app", st2.ID, 0, -1, bytes.NewReader(b))
	if info, err := e.reg.CommitUpload(ctx, "ecr/app", st2.ID, d, -1, -1, nil); err != nil || !info.Existed {
		t.Fatalf("second complete: %+v %v", info, err)
	}
	// wrong digest: InvalidLayerException, upload gone
	st3, _ := e.reg.StartUpload(ctx, "ecr/app")
	e.reg.AppendUpload(ctx, "ecr/app", st3.ID, 0, -1, bytes.NewReader(b[:10]))
	if _, err := e.reg.CommitUpload(ctx, "ecr/app", st3.ID, d, -1, -1, nil); faultCode(err) != "InvalidLayerException" {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := e.reg.GetUploadStatus(ctx, "ecr/app", st3.ID); faultCode(err) != "UploadNotFoundException" {
		t.Fatalf("upload survived a mismatch: %v", err)
	}
	_, missing := randBlob(t, 3)
	if _, err := e.reg.BlobExists(ctx, "ecr/app", missing); !fault.Is(err, fault.NotFound) {
		t.Fatalf("missing blob: %v", err)
	}
}

// TestECRImageAPI covers PutImage/GetManifest/Untag/DeleteImage and the
// purge the control plane uses.
func TestECRImageAPI(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	createRepo(t, e.st, "app", false)
	im := makeImage(t, MediaTypeOCIManifest, "ecr")
	e.pushBlob(t, "app", im.config)
	e.pushBlob(t, "app", im.layer)

	res, err := e.reg.PutImage(ctx, "app", "", im.manifest, im.digest, "v1", "latest")
	if err != nil || !res.Created || len(res.TagsMoved) != 2 || res.Digest != im.digest {
		t.Fatalf("PutImage %+v %v", res, err)
	}
	// identical put: nothing changes (ImageAlreadyExistsException)
	res, err = e.reg.PutImage(ctx, "app", "", im.manifest, "", "v1")
	if err != nil || res.Created || len(res.TagsMoved) != 0 {
		t.Fatalf("repeat PutImage %+v %v", res, err)
	}
	_, err = e.reg.PutImage(ctx, "app", "", im.manifest, string(digest.FromBytes(digest.SHA256, []byte("x"))))
	if faultCode(err) != "ImageDigestDoesNotMatchException" {
		t.Fatalf("digest mismatch: %v", err)
	}
	m, err := e.reg.GetManifest(ctx, "app", "latest")
	if err != nil || m.Digest != im.digest || !bytes.Equal(m.Body, im.manifest) || len(m.Tags) != 2 || m.PushedAt.IsZero() {
		t.Fatalf("GetManifest %+v %v", m, err)
	}
	if _, err := e.reg.GetManifest(ctx, "app", "nope"); faultCode(err) != "ImageNotFoundException" {
		t.Fatalf("missing image: %v", err)
	}
	// a second image takes over "latest"
	im2 := makeImage(t, MediaTypeOCIManifest, "ecr2")
	e.pushBlob(t, "app", im2.config)
	e.pushBlob(t, "app", im2.layer)
	if _, err := e.reg.PutManifest(ctx, "app", "latest", MediaTypeOCIManifest, im2.manifest); err != nil {
		t.Fatal(err)
	}
	imgs, _ := e.reg.ListImages(ctx, "app")
	tags := map[string]string{}
	for _, img := range imgs {
		for _, tg := range img.Tags {
			tags[tg] = img.Digest
		}
	}
	if len(imgs) != 2 || tags["latest"] != im2.digest || tags["v1"] != im.digest {
		t.Fatalf("images after tag move: %+v", imgs)
	}
	d, remaining, err := e.reg.Untag(ctx, "app", "v1")
	if err != nil || d != im.digest || len(remaining) != 0 {
		t.Fatalf("Untag %s %v %v", d, remaining, err)
	}
	if err := e.reg.DeleteImage(ctx, "app", im.digest); err != nil {
		t.Fatal(err)
	}
	if has, _ := e.reg.HasImages(ctx, "app"); !has {
		t.Fatal("HasImages false with an image left")
	}
	e.reg.RecordPull(ctx, "app", im2.digest)
	if img, _ := e.reg.DescribeImage(ctx, "app", "latest"); img.LastPulledAt.IsZero() {
		t.Fatal("RecordPull did not set LastPulledAt")
	}
	if err := e.reg.PurgeRepository(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if has, _ := e.reg.HasImages(ctx, "app"); has {
		t.Fatal("images left after purge")
	}
	if _, err := e.reg.BlobExists(ctx, "app", im2.layerDig); !fault.Is(err, fault.NotFound) {
		t.Fatalf("blob link left after purge: %v", err)
	}
	kvs, _, _ := e.st.List(ctx, "/ecr/"+testAccount+"/"+testRegion+"/tags/", storeListAll)
	if len(kvs) != 0 {
		t.Fatalf("tags left after purge: %d", len(kvs))
	}
}
