package ecrapi_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/berth-dev/berth/internal/ecrapi"
	"github.com/berth-dev/berth/internal/server"
)

func TestRepositories(t *testing.T) {
	e := newEnv(t)
	c := e.owner
	out := must[*ecr.CreateRepositoryOutput](t)(c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("team/web-app"),
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms},
		Tags:                       []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}))
	r := out.Repository
	if aws.ToString(r.RepositoryArn) != "arn:aws:ecr:eu-west-1:123456789012:repository/team/web-app" ||
		aws.ToString(r.RegistryId) != ownerAccount ||
		aws.ToString(r.RepositoryUri) != "localhost:"+port(e.srv.URL)+"/team/web-app" ||
		r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush ||
		r.EncryptionConfiguration.EncryptionType != types.EncryptionTypeKms || aws.ToString(r.EncryptionConfiguration.KmsKey) == "" {
		t.Errorf("created %+v", r)
	}
	if r.CreatedAt == nil || time.Since(*r.CreatedAt) > time.Minute {
		t.Errorf("createdAt %v", r.CreatedAt)
	}

	_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/web-app")})
	wantCode(t, err, "RepositoryAlreadyExistsException")
	for _, bad := range []string{"a", "Upper", "web--app", "web/", "/web", "web app", strings.Repeat("a", 257)} {
		_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String(bad)})
		wantCode(t, err, "InvalidParameterException")
	}
	_, err = c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("x1"), ImageTagMutability: "SOMETIMES"})
	wantCode(t, err, "InvalidParameterException")
	_, err = c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("x1"),
		Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("v")}}})
	wantCode(t, err, "InvalidTagParameterException")

	for i := range 5 {
		createRepo(t, c, fmt.Sprintf("repo-%d", i))
	}
	// pagination: 6 repositories, pages of 4
	var names []string
	var token *string
	pages := 0
	for {
		o := must[*ecr.DescribeRepositoriesOutput](t)(c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(4), NextToken: token}))
		pages++
		for _, r := range o.Repositories {
			names = append(names, aws.ToString(r.RepositoryName))
		}
		if token = o.NextToken; token == nil {
			break
		}
	}
	want := []string{"repo-0", "repo-1", "repo-2", "repo-3", "repo-4", "team/web-app"}
	if !slices.Equal(names, want) || pages != 2 {
		t.Errorf("paged %v in %d pages", names, pages)
	}
	o := must[*ecr.DescribeRepositoriesOutput](t)(c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"repo-3", "team/web-app"}}))
	if len(o.Repositories) != 2 || aws.ToString(o.Repositories[1].RepositoryName) != "team/web-app" {
		t.Errorf("by name: %+v", o.Repositories)
	}
	_, err = c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"repo-3", "nope"}})
	wantCode(t, err, "RepositoryNotFoundException")
	_, err = c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1001)})
	wantCode(t, err, "InvalidParameterException")
	// another region is another registry
	eu := ecr.NewFromConfig(e.srv.AWSConfig("us-west-2"))
	if o := must[*ecr.DescribeRepositoriesOutput](t)(eu.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})); len(o.Repositories) != 0 {
		t.Errorf("us-west-2 sees %d repositories", len(o.Repositories))
	}

	// settings
	m := must[*ecr.PutImageTagMutabilityOutput](t)(c.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("repo-0"), ImageTagMutability: types.ImageTagMutabilityImmutable}))
	if m.ImageTagMutability != types.ImageTagMutabilityImmutable {
		t.Errorf("mutability %v", m.ImageTagMutability)
	}
	s := must[*ecr.PutImageScanningConfigurationOutput](t)(c.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{
		RepositoryName: aws.String("repo-0"), ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}))
	if !s.ImageScanningConfiguration.ScanOnPush {
		t.Error("scanOnPush not set")
	}
	o = must[*ecr.DescribeRepositoriesOutput](t)(c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"repo-0"}}))
	if r := o.Repositories[0]; r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("after settings: %+v", r)
	}
	_, err = c.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("repo-0"),
		ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion})
	wantCode(t, err, "InvalidParameterException")

	// delete: not empty without force
	pushImage(t, c, "repo-1", "v1", "a")
	_, err = c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("repo-1")})
	wantCode(t, err, "RepositoryNotEmptyException")
	d := must[*ecr.DeleteRepositoryOutput](t)(c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("repo-1"), Force: true}))
	if aws.ToString(d.Repository.RepositoryName) != "repo-1" {
		t.Errorf("deleted %+v", d.Repository)
	}
	must[*ecr.DeleteRepositoryOutput](t)(c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("repo-2")}))
	_, err = c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("repo-2")})
	wantCode(t, err, "RepositoryNotFoundException")
	// re-created: empty, and without the old tags
	createRepo(t, c, "repo-1")
	if o := must[*ecr.ListImagesOutput](t)(c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String("repo-1")})); len(o.ImageIds) != 0 {
		t.Errorf("re-created repository has images %v", imageIDs(o.ImageIds))
	}
}

func port(u string) string { return u[strings.LastIndexByte(u, ':')+1:] }

func TestTags(t *testing.T) {
	e := newEnv(t)
	c := e.owner
	arn := aws.ToString(createRepo(t, c, "tagged").RepositoryArn)
	must[*ecr.TagResourceOutput](t)(c.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}))
	must[*ecr.TagResourceOutput](t)(c.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("3")}}}))
	must[*ecr.UntagResourceOutput](t)(c.UntagResource(ctx(t), &ecr.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b"}}))
	o := must[*ecr.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))
	if len(o.Tags) != 1 || aws.ToString(o.Tags[0].Key) != "a" || aws.ToString(o.Tags[0].Value) != "3" {
		t.Errorf("tags %+v", o.Tags)
	}
	_, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn + "-nope")})
	wantCode(t, err, "RepositoryNotFoundException")
	_, err = c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:eu-west-1:123456789012:cluster/x")})
	wantCode(t, err, "InvalidParameterException")
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
	}
	_, err = c.TagResource(ctx(t), &ecr.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	wantCode(t, err, "TooManyTagsException")
}

func TestImagesThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	c := e.owner
	createRepo(t, c, "app")
	img1 := pushImage(t, c, "app", "v1", "one")
	img2 := pushImage(t, c, "app", "", "two")
	// a second tag on img1
	must[*ecr.PutImageOutput](t)(c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("app"),
		ImageManifest: aws.String(img1.Manifest), ImageTag: aws.String("latest")}))
	// the same tag and digest again
	_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(img1.Manifest), ImageTag: aws.String("latest")})
	wantCode(t, err, "ImageAlreadyExistsException")
	// a manifest whose layer was never uploaded
	bad := strings.Replace(img1.Manifest, img1.Layer, sha([]byte("missing")), 1)
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(bad), ImageTag: aws.String("bad")})
	wantCode(t, err, "LayersNotFoundException")
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("nope"), ImageManifest: aws.String(img1.Manifest)})
	wantCode(t, err, "RepositoryNotFoundException")

	// layers
	lo := must[*ecr.BatchCheckLayerAvailabilityOutput](t)(c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("app"), LayerDigests: []string{img1.Layer, sha([]byte("nope")), "garbage"}}))
	if len(lo.Layers) != 1 || lo.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable || aws.ToInt64(lo.Layers[0].LayerSize) <= 0 ||
		len(lo.Failures) != 2 || lo.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest || lo.Failures[1].FailureCode != types.LayerFailureCodeInvalidLayerDigest {
		t.Errorf("layer availability %+v %+v", lo.Layers, lo.Failures)
	}
	// a completed layer that exists already
	_, err = func() (any, error) {
		up := must[*ecr.InitiateLayerUploadOutput](t)(c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("app")}))
		_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("app"), UploadId: up.UploadId, LayerDigests: []string{img1.Layer}})
		return nil, err
	}()
	wantCode(t, err, "EmptyUploadException")
	up := must[*ecr.InitiateLayerUploadOutput](t)(c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("app")}))
	_, err = c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(5), PartLastByte: aws.Int64(7), LayerPartBlob: []byte("abc")})
	wantCode(t, err, "InvalidLayerPartException")
	_, err = c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: aws.String("not-an-upload"),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(2), LayerPartBlob: []byte("abc")})
	wantCode(t, err, "UploadNotFoundException")
	must[*ecr.UploadLayerPartOutput](t)(c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(2), LayerPartBlob: []byte("abc")}))
	_, err = c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("app"), UploadId: up.UploadId, LayerDigests: []string{sha([]byte("abd"))}})
	wantCode(t, err, "InvalidLayerException")

	// download URL serves the blob, without other credentials
	dl := must[*ecr.GetDownloadUrlForLayerOutput](t)(c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("app"), LayerDigest: aws.String(img1.Layer)}))
	u := aws.ToString(dl.DownloadUrl)
	resp, err := http.Get(strings.Replace(u, "localhost:", "127.0.0.1:", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || sha(body) != img1.Layer {
		t.Errorf("download URL %s: %d, %d bytes", u, resp.StatusCode, len(body))
	}
	// ... and nothing else
	resp, err = http.Get(strings.Replace(strings.Replace(u, img1.Layer, img1.Config, 1), "localhost:", "127.0.0.1:", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("download URL used for another blob: %d", resp.StatusCode)
	}
	_, err = c.GetDownloadUrlForLayer(ctx(t), &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("app"), LayerDigest: aws.String(sha([]byte("x")))})
	wantCode(t, err, "LayersNotFoundException")

	// listing
	list := func(status types.TagStatus) []string {
		var all []string
		var tok *string
		for {
			o := must[*ecr.ListImagesOutput](t)(c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String("app"),
				Filter: &types.ListImagesFilter{TagStatus: status}, MaxResults: aws.Int32(1), NextToken: tok}))
			all = append(all, imageIDs(o.ImageIds)...)
			if tok = o.NextToken; tok == nil {
				return all
			}
		}
	}
	p1, p2 := img1.Digest[:15], img2.Digest[:15]
	if got := list(types.TagStatusTagged); !sameSet(got, []string{p1 + ":v1", p1 + ":latest"}) {
		t.Errorf("tagged %v", got)
	}
	if got := list(types.TagStatusUntagged); !slices.Equal(got, []string{p2}) {
		t.Errorf("untagged %v", got)
	}
	if got := list(""); len(got) != 3 {
		t.Errorf("any %v", got)
	}

	// describe
	do := must[*ecr.DescribeImagesOutput](t)(c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}, {ImageDigest: aws.String(img1.Digest)}}}))
	if len(do.ImageDetails) != 1 {
		t.Fatalf("describe by id: %+v", do.ImageDetails)
	}
	d := do.ImageDetails[0]
	if aws.ToString(d.ImageDigest) != img1.Digest || !sameSet(d.ImageTags, []string{"v1", "latest"}) || aws.ToInt64(d.ImageSizeInBytes) != img1.Size ||
		aws.ToString(d.ImageManifestMediaType) != mtManifest || aws.ToString(d.ArtifactMediaType) != "application/vnd.docker.container.image.v1+json" ||
		aws.ToString(d.RegistryId) != ownerAccount || aws.ToString(d.RepositoryName) != "app" || d.ImagePushedAt == nil || time.Since(*d.ImagePushedAt) > time.Minute {
		t.Errorf("detail %+v", d)
	}
	_, err = c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("nope")}}})
	wantCode(t, err, "ImageNotFoundException")
	do = must[*ecr.DescribeImagesOutput](t)(c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), Filter: &types.DescribeImagesFilter{TagStatus: types.TagStatusUntagged}}))
	if len(do.ImageDetails) != 1 || aws.ToString(do.ImageDetails[0].ImageDigest) != img2.Digest {
		t.Errorf("untagged details %+v", do.ImageDetails)
	}

	// batch get
	g := must[*ecr.BatchGetImageOutput](t)(c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("latest")},
		{ImageDigest: aws.String(img2.Digest)},
		{ImageTag: aws.String("missing")},
		{ImageDigest: aws.String(img2.Digest), ImageTag: aws.String("v1")},
		{},
	}}))
	if len(g.Images) != 2 || aws.ToString(g.Images[0].ImageManifest) != img1.Manifest || aws.ToString(g.Images[0].ImageId.ImageDigest) != img1.Digest ||
		aws.ToString(g.Images[0].ImageManifestMediaType) != mtManifest || aws.ToString(g.Images[1].ImageManifest) != img2.Manifest {
		t.Errorf("images %+v", g.Images)
	}
	codes := []types.ImageFailureCode{}
	for _, f := range g.Failures {
		codes = append(codes, f.FailureCode)
	}
	if !slices.Equal(codes, []types.ImageFailureCode{types.ImageFailureCodeImageNotFound, types.ImageFailureCodeImageTagDoesNotMatchDigest, types.ImageFailureCodeMissingDigestAndTag}) {
		t.Errorf("failures %+v", g.Failures)
	}
	g = must[*ecr.BatchGetImageOutput](t)(c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}, AcceptedMediaTypes: []string{"application/vnd.oci.image.manifest.v1+json"}}))
	if len(g.Images) != 0 || len(g.Failures) != 1 {
		t.Errorf("accepted media types not applied: %+v %+v", g.Images, g.Failures)
	}

	// delete by tag: the image stays while it has another tag
	bd := must[*ecr.BatchDeleteImageOutput](t)(c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}, {ImageTag: aws.String("nope")}, {ImageDigest: aws.String(img2.Digest), ImageTag: aws.String("v1")}}}))
	if !slices.Equal(imageIDs(bd.ImageIds), []string{p1 + ":latest"}) || len(bd.Failures) != 2 ||
		bd.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound || bd.Failures[1].FailureCode != types.ImageFailureCodeImageTagDoesNotMatchDigest {
		t.Errorf("delete by tag: %v %+v", imageIDs(bd.ImageIds), bd.Failures)
	}
	if got := list(""); !sameSet(got, []string{p1 + ":v1", p2}) {
		t.Errorf("after untag: %v", got)
	}
	// the last tag takes the image with it
	must[*ecr.BatchDeleteImageOutput](t)(c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	// by digest
	bd = must[*ecr.BatchDeleteImageOutput](t)(c.BatchDeleteImage(ctx(t), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(img2.Digest)}}}))
	if !slices.Equal(imageIDs(bd.ImageIds), []string{p2}) {
		t.Errorf("delete by digest: %v", imageIDs(bd.ImageIds))
	}
	if got := list(""); len(got) != 0 {
		t.Errorf("after deletes: %v", got)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestImmutableTags(t *testing.T) {
	e := newEnv(t)
	c := e.owner
	createRepo(t, c, "frozen", types.ImageTagMutabilityImmutable)
	pushImage(t, c, "frozen", "v1", "a")
	img := pushImage(t, c, "frozen", "", "b")
	_, err := c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("frozen"), ImageManifest: aws.String(img.Manifest), ImageTag: aws.String("v1")})
	wantCode(t, err, "ImageTagAlreadyExistsException")
	// new tags are fine
	must[*ecr.PutImageOutput](t)(c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("frozen"), ImageManifest: aws.String(img.Manifest), ImageTag: aws.String("v2")}))

	// exclusions: latest stays mutable in an immutable repository
	must[*ecr.CreateRepositoryOutput](t)(c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{
		RepositoryName: aws.String("mostly-frozen"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest*")}},
	}))
	a := pushImage(t, c, "mostly-frozen", "v1", "a")
	pushImage(t, c, "mostly-frozen", "latest", "b")
	b := pushImage(t, c, "mostly-frozen", "", "c")
	must[*ecr.PutImageOutput](t)(c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("mostly-frozen"), ImageManifest: aws.String(b.Manifest), ImageTag: aws.String("latest")}))
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("mostly-frozen"), ImageManifest: aws.String(b.Manifest), ImageTag: aws.String("v1")})
	wantCode(t, err, "ImageTagAlreadyExistsException")
	_ = a
	o := must[*ecr.DescribeRepositoriesOutput](t)(c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"mostly-frozen"}}))
	if f := o.Repositories[0].ImageTagMutabilityExclusionFilters; len(f) != 1 || aws.ToString(f[0].Filter) != "latest*" {
		t.Errorf("exclusion filters %+v", f)
	}
}

func TestRepositoryPolicy(t *testing.T) {
	e := newEnv(t)
	c := e.owner
	createRepo(t, c, "shared")
	img := pushImage(t, c, "shared", "v1", "a")
	_, err := c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	wantCode(t, err, "RepositoryPolicyNotFoundException")
	for _, bad := range []string{
		`not json`,
		`{"Version":"2012-10-17"}`,
		`{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"ecr:*"}]}`,
	} {
		_, err := c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(bad)})
		wantCode(t, err, "InvalidParameterException")
	}

	// the other account sees nothing before a policy allows it
	_, err = e.other.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RegistryId: aws.String(ownerAccount), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	wantCode(t, err, "AccessDeniedException")

	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow",
		"Principal":{"AWS":["arn:aws:iam::` + otherAccount + `:root"]},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:DescribeImages"]}]}`
	sp := must[*ecr.SetRepositoryPolicyOutput](t)(c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(policy)}))
	if aws.ToString(sp.PolicyText) != policy || aws.ToString(sp.RegistryId) != ownerAccount {
		t.Errorf("set policy: %+v", sp)
	}
	gp := must[*ecr.GetRepositoryPolicyOutput](t)(c.GetRepositoryPolicy(ctx(t), &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")}))
	if aws.ToString(gp.PolicyText) != policy {
		t.Errorf("get policy %q", aws.ToString(gp.PolicyText))
	}
	g := must[*ecr.BatchGetImageOutput](t)(e.other.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RegistryId: aws.String(ownerAccount), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if len(g.Images) != 1 || aws.ToString(g.Images[0].ImageManifest) != img.Manifest {
		t.Errorf("cross-account pull: %+v", g)
	}
	// pull is not push
	_, err = e.other.PutImage(ctx(t), &ecr.PutImageInput{RegistryId: aws.String(ownerAccount), RepositoryName: aws.String("shared"),
		ImageManifest: aws.String(img.Manifest), ImageTag: aws.String("theirs")})
	wantCode(t, err, "AccessDeniedException")
	// and its own registry is its own
	_, err = e.other.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"shared"}})
	wantCode(t, err, "RepositoryNotFoundException")

	// the registry enforces the same policy for the other account's token
	otherTok := must[*ecr.GetAuthorizationTokenOutput](t)(e.other.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{}))
	pass := decodeToken(t, otherTok)
	ownerHost := ownerAccount + ".dkr.ecr." + testRegion + ".localhost"
	if code := registryGet(t, e.srv.URL, ownerHost, "/v2/shared/manifests/v1", "AWS", pass); code != 200 {
		t.Errorf("cross-account registry pull with policy: %d", code)
	}
	if code := registryGet(t, e.srv.URL, ownerHost, "/v2/shared/blobs/"+img.Layer, "AWS", pass); code != 200 {
		t.Errorf("cross-account blob pull with policy: %d", code)
	}
	if code := registryDo(t, "POST", e.srv.URL, ownerHost, "/v2/shared/blobs/uploads/", "AWS", pass); code != http.StatusForbidden {
		t.Errorf("cross-account push without policy: %d", code)
	}
	// without the host name, the other account's token addresses its own registry
	if code := registryGet(t, e.srv.URL, "", "/v2/shared/manifests/v1", "AWS", pass); code != http.StatusNotFound {
		t.Errorf("own registry of the other account: %d", code)
	}

	// an explicit deny wins
	deny := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"` + otherAccount + `"},"Action":"ecr:BatchGetImage"}]}`
	must[*ecr.SetRepositoryPolicyOutput](t)(c.SetRepositoryPolicy(ctx(t), &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(deny)}))
	if code := registryGet(t, e.srv.URL, ownerHost, "/v2/shared/manifests/v1", "AWS", pass); code != http.StatusForbidden {
		t.Errorf("explicitly denied pull: %d", code)
	}
	// the owner is never locked out
	must[*ecr.BatchGetImageOutput](t)(c.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("shared"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))

	dp := must[*ecr.DeleteRepositoryPolicyOutput](t)(c.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared")}))
	if aws.ToString(dp.PolicyText) != deny {
		t.Errorf("deleted policy %q", aws.ToString(dp.PolicyText))
	}
	_, err = c.DeleteRepositoryPolicy(ctx(t), &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	wantCode(t, err, "RepositoryPolicyNotFoundException")
	if code := registryGet(t, e.srv.URL, ownerHost, "/v2/shared/manifests/v1", "AWS", pass); code != http.StatusForbidden {
		t.Errorf("pull after the policy is gone: %d", code)
	}
}

func decodeToken(t *testing.T, o *ecr.GetAuthorizationTokenOutput) string {
	t.Helper()
	if len(o.AuthorizationData) != 1 {
		t.Fatalf("authorizationData %+v", o.AuthorizationData)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(o.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" {
		t.Fatalf("token %q is not AWS:<password>", raw)
	}
	return pass
}

func registryGet(t *testing.T, base, hostHeader, path, user, pass string) int {
	return registryDo(t, http.MethodGet, base, hostHeader, path, user, pass)
}

func registryDo(t *testing.T, method, base, hostHeader, path, user, pass string) int {
	t.Helper()
	code, _, _ := registryReq(t, method, base, hostHeader, path, user, pass)
	return code
}

func registryReq(t *testing.T, method, base, hostHeader, path, user, pass string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hostHeader != "" {
		req.Host = hostHeader
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestAuthorizationToken(t *testing.T) {
	e := newEnv(t)
	o := must[*ecr.GetAuthorizationTokenOutput](t)(e.owner.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{}))
	ad := o.AuthorizationData[0]
	if exp := time.Until(aws.ToTime(ad.ExpiresAt)); exp < 11*time.Hour || exp > 12*time.Hour+time.Minute {
		t.Errorf("expiresAt in %v", exp)
	}
	if aws.ToString(ad.ProxyEndpoint) != "http://localhost:"+port(e.srv.URL) {
		t.Errorf("proxyEndpoint %q", aws.ToString(ad.ProxyEndpoint))
	}
	pass := decodeToken(t, o)
	if code := registryGet(t, e.srv.URL, "", "/v2/", "AWS", pass); code != 200 {
		t.Errorf("ping with token: %d", code)
	}
	code, h, _ := registryReq(t, "GET", e.srv.URL, "", "/v2/", "", "")
	if code != 401 || h.Get("WWW-Authenticate") != `Basic realm="https://`+host(e.srv.URL)+`/",service="ecr.amazonaws.com"` {
		t.Errorf("ping without credentials: %d %q", code, h.Get("WWW-Authenticate"))
	}
	if code := registryGet(t, e.srv.URL, "", "/v2/", "bob", pass); code != 401 {
		t.Errorf("wrong user: %d", code)
	}
	// forged: a token of the right shape signed with another key
	forged := ecrapi.NewAuthorizationToken([]byte(strings.Repeat("k", 32)), ownerAccount, testRegion, "test", time.Now().Add(time.Hour))
	code, h, body := registryReq(t, "GET", e.srv.URL, "", "/v2/", "AWS", forged)
	if code != 401 || h.Get("WWW-Authenticate") == "" || !strings.Contains(body, "invalid") {
		t.Errorf("forged token: %d %s", code, body)
	}
	// expired: signed with the server's own key
	key, err := os.ReadFile(filepath.Join(e.srv.DataDir, "ecr-token.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(e.srv.DataDir, "ecr-token.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token key file mode: %v %v", fi.Mode(), err)
	}
	expired := ecrapi.NewAuthorizationToken(key, ownerAccount, testRegion, "test", time.Now().Add(-time.Minute))
	code, h, body = registryReq(t, "GET", e.srv.URL, "", "/v2/", "AWS", expired)
	if code != 401 || h.Get("WWW-Authenticate") == "" || !strings.Contains(body, "expired") {
		t.Errorf("expired token: %d %s", code, body)
	}
	valid := ecrapi.NewAuthorizationToken(key, ownerAccount, testRegion, "test", time.Now().Add(time.Minute))
	if code := registryGet(t, e.srv.URL, "", "/v2/", "AWS", valid); code != 200 {
		t.Errorf("minted token: %d", code)
	}
}

func TestTokensSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var pass string
	{
		e := newEnv(t, func(c *server.Config) { c.DataDir = dir })
		pass = decodeToken(t, must[*ecr.GetAuthorizationTokenOutput](t)(e.owner.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})))
		// this server stops at the end of the test; start a second one
		// on another directory copy to check the key is reused
	}
	key1, err := os.ReadFile(filepath.Join(dir, "ecr-token.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "ecr-token.key"), key1, 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, func(c *server.Config) { c.DataDir = dir2 })
	if code := registryGet(t, e2.srv.URL, "", "/v2/", "AWS", pass); code != 200 {
		t.Errorf("token of the first server rejected by the second with the same key: %d", code)
	}
}
