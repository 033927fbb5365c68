package ecrapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store/bolt"
)

const (
	tAccount = "123456789012"
	tRegion  = "us-east-1"
)

// clock is a test clock: real time plus an offset the test moves.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testAPI struct {
	*API
	clk  *clock
	root string
	call *awsproto.Call
}

func newTestAPI(t testing.TB, mut func(*Config)) *testAPI {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	cfg := Config{
		Store: st, BlobRoot: filepath.Join(dir, "registry"), RegistryHost: "localhost:4566",
		TokenKey: bytes.Repeat([]byte{7}, 32), DefaultAccount: tAccount, DefaultRegion: tRegion,
		LifecycleInterval: -1, GCInterval: -1, GCGracePeriod: time.Nanosecond, Now: clk.now,
	}
	if mut != nil {
		mut(&cfg)
	}
	a, _, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		st.Close()
	})
	return &testAPI{API: a, clk: clk, root: cfg.BlobRoot, call: &awsproto.Call{Account: tAccount, Region: tRegion, AccessKey: "test"}}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type pushedImage struct {
	digest string
	blobs  []string
}

// push uploads a config and a layer through the registry and puts a
// manifest through the ECR API. It may fail with LayersNotFoundException
// when a concurrent garbage collection took a blob between the two steps.
func (ta *testAPI) push(ctx context.Context, repo, tag, seed string) (pushedImage, error) {
	reg, err := ta.Registry(tAccount, tRegion)
	if err != nil {
		return pushedImage{}, err
	}
	cfg := []byte(`{"architecture":"amd64","os":"linux","seed":"` + seed + `"}`)
	layer := []byte(strings.Repeat("layer-"+seed+"-", 50))
	for _, b := range [][]byte{cfg, layer} {
		if _, err := reg.PutBlob(ctx, repo, digestOf(b), bytes.NewReader(b)); err != nil {
			return pushedImage{}, err
		}
	}
	man := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		digestOf(cfg), len(cfg), digestOf(layer), len(layer))
	_, err = ta.putImage(ctx, ta.call, &putImageIn{RepositoryName: repo, ImageManifest: man, ImageTag: tag})
	if err != nil {
		return pushedImage{}, err
	}
	return pushedImage{digest: digestOf([]byte(man)), blobs: []string{digestOf(cfg), digestOf(layer)}}, nil
}

func (ta *testAPI) blobOnDisk(d string) bool {
	hexpart := strings.TrimPrefix(d, "sha256:")
	_, err := os.Stat(filepath.Join(ta.root, tAccount, tRegion, "blobs", "sha256", hexpart[:2], hexpart))
	return err == nil
}

func (ta *testAPI) createRepo(t testing.TB, name string) {
	t.Helper()
	if _, err := ta.createRepository(context.Background(), ta.call, &createRepositoryIn{RepositoryName: name}); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyEvaluation(t *testing.T) {
	const other = "210987654321"
	cases := []struct {
		name, policy, action string
		want                 bool
	}{
		{"no policy", "", "ecr:BatchGetImage", false},
		{"root ARN", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"ecr:BatchGetImage"}]}`, "ecr:BatchGetImage", true},
		{"account ID", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":["ecr:*"]}}`, "ecr:PutImage", true},
		{"star principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:Batch*"}]}`, "ecr:BatchGetImage", true},
		{"AWS star", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*"}]}`, "ecr:PutImage", true},
		{"other action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`, "ecr:PutImage", false},
		{"case-insensitive action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ECR:batchgetimage"}]}`, "ecr:BatchGetImage", true},
		{"another account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"ecr:*"}]}`, "ecr:BatchGetImage", false},
		{"a user of the account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:user/ci"},"Action":"ecr:*"}]}`, "ecr:BatchGetImage", false},
		{"deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"210987654321"},"Action":"ecr:PutImage"}]}`, "ecr:PutImage", false},
		{"deny elsewhere", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":{"AWS":"210987654321"},"Action":"ecr:PutImage"}]}`, "ecr:BatchGetImage", true},
		{"not action", `{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"ecr:Delete*"}]}`, "ecr:DeleteRepository", false},
		{"not action allows others", `{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"ecr:Delete*"}]}`, "ecr:BatchGetImage", true},
		{"not principal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"ecr:*"}]}`, "ecr:BatchGetImage", true},
		{"conditional allow grants nothing", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, "ecr:BatchGetImage", false},
		{"conditional deny applies", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, "ecr:BatchGetImage", false},
		{"service principal", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"ecr:*"}]}`, "ecr:BatchGetImage", false},
	}
	for _, c := range cases {
		if c.policy != "" {
			if _, err := parsePolicy(c.policy); err != nil {
				t.Errorf("%s: policy rejected: %v", c.name, err)
				continue
			}
		}
		if got := policyAllows(c.policy, other, c.action); got != c.want {
			t.Errorf("%s: allows = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"ecr:*", "ecr:PutImage", true}, {"*", "ecr:x", true}, {"ecr:Put?mage", "ecr:PutImage", true},
		{"ecr:*Image", "ecr:BatchGetImage", true}, {"ecr:*Image", "ecr:ImageX", false}, {"ecr:Get", "ecr:GetX", false},
		{"ecr:*Layer*", "ecr:GetDownloadUrlForLayer", true}, {"", "", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
	} {
		if got := wildcardMatch(c.p, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestTokens(t *testing.T) {
	s := &tokenSigner{key: bytes.Repeat([]byte{1}, 32)}
	now := time.Unix(1_800_000_000, 0)
	tok := s.sign(labelAuth, claims{Account: tAccount, Region: tRegion, AccessKey: "AKIA", Expires: now.Add(time.Hour).Unix()})
	c, err := s.verify(labelAuth, tok, now)
	if err != nil || c.Account != tAccount || c.Region != tRegion || c.AccessKey != "AKIA" {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if _, err := s.verify(labelAuth, tok, now.Add(time.Hour)); !errors.Is(err, errTokenExpired) {
		t.Errorf("expired token: %v", err)
	}
	if _, err := s.verify(labelDownload, tok, now); !errors.Is(err, errTokenInvalid) {
		t.Errorf("auth token accepted as a download token: %v", err)
	}
	other := &tokenSigner{key: bytes.Repeat([]byte{2}, 32)}
	if _, err := other.verify(labelAuth, tok, now); !errors.Is(err, errTokenInvalid) {
		t.Errorf("token verified with another key: %v", err)
	}
	parts := strings.Split(tok, ".")
	// change the account in the payload, keep the signature
	forged := parts[0] + "." + strings.Replace(parts[1], parts[1][:4], "eyJh", 1) + "x." + parts[2]
	for _, bad := range []string{"", "b1", "b1.x.y", "b2." + parts[1] + "." + parts[2], forged, tok + "x"} {
		if _, err := s.verify(labelAuth, bad, now); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestLifecycleExpiresAndCollects pushes twelve images, applies the seed's
// policy (keep the last ten) and checks that the two oldest images and
// their blobs are gone, and every blob of the remaining ten is on disk.
func TestLifecycleExpiresAndCollects(t *testing.T) {
	var logBuf syncBuffer
	ta := newTestAPI(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logBuf, nil)) })
	ctx := context.Background()
	ta.createRepo(t, "web")
	var imgs []pushedImage
	for i := range 12 {
		img, err := ta.push(ctx, "web", fmt.Sprint("v", i), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
		ta.clk.advance(time.Second)
	}
	policy, err := os.ReadFile("../../testdata/seed/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.putLifecyclePolicy(ctx, ta.call, &lifecyclePolicyIn{RepositoryName: "web", LifecyclePolicyText: string(policy)}); err != nil {
		t.Fatal(err)
	}
	// the preview says what the pass will do, without doing it
	if _, err := ta.startLifecyclePolicyPreview(ctx, ta.call, &lifecyclePolicyIn{RepositoryName: "web"}); err != nil {
		t.Fatal(err)
	}
	out, err := ta.getLifecyclePolicyPreview(ctx, ta.call, &getPreviewIn{RepositoryName: "web"})
	if err != nil {
		t.Fatal(err)
	}
	pv := out.(getPreviewOut)
	if pv.Status != "COMPLETE" || pv.Summary.ExpiringImageTotalCount != 2 || len(pv.PreviewResults) != 2 ||
		pv.PreviewResults[0].ImageDigest != imgs[0].digest || pv.PreviewResults[1].ImageDigest != imgs[1].digest ||
		pv.PreviewResults[0].Action.Type != "EXPIRE" || pv.PreviewResults[0].AppliedRulePriority != 1 {
		t.Fatalf("preview %+v", pv)
	}
	// the GC grace period is 1ns: age the blobs past it on the test clock
	ta.clk.advance(time.Second)
	stats, err := ta.RunLifecycle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.ImagesExpired != 2 || stats.BlobsDeleted != 4 || stats.Repositories != 1 {
		t.Errorf("stats %+v", stats)
	}
	// each expiry is logged at info with the repository and its tags
	for i := range 2 {
		want := fmt.Sprintf(`level=INFO msg="ecr: lifecycle policy expired image" account=%s region=%s repository=web digest=%s tags=[v%d] rulePriority=1`, tAccount, tRegion, imgs[i].digest, i)
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logBuf.String())
		}
	}
	reg, _ := ta.Registry(tAccount, tRegion)
	left, err := reg.ListImages(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 10 {
		t.Fatalf("%d images left, want 10", len(left))
	}
	for i, img := range imgs {
		_, err := reg.DescribeImage(ctx, "web", img.digest)
		kept := err == nil
		if kept != (i >= 2) {
			t.Errorf("image %d kept = %v", i, kept)
		}
		for _, b := range img.blobs {
			if ta.blobOnDisk(b) != kept {
				t.Errorf("image %d (kept %v): blob %s on disk = %v", i, kept, b, !kept)
			}
		}
	}
	got, err := ta.getLifecyclePolicy(ctx, ta.call, &repoIn{RepositoryName: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if lp := got.(lifecyclePolicyOut); lp.LastEvaluatedAt == nil || lp.LifecyclePolicyText != string(policy) {
		t.Errorf("get lifecycle policy %+v", lp)
	}
	// a second pass has nothing to do
	if stats, err := ta.RunLifecycle(ctx); err != nil || stats.ImagesExpired != 0 {
		t.Errorf("second pass: %+v %v", stats, err)
	}
	if _, err := ta.deleteLifecyclePolicy(ctx, ta.call, &repoIn{RepositoryName: "web"}); err != nil {
		t.Fatal(err)
	}
	_, err = ta.getLifecyclePolicy(ctx, ta.call, &repoIn{RepositoryName: "web"})
	if fe, ok := fault.As(err); !ok || fe.Code != "LifecyclePolicyNotFoundException" {
		t.Errorf("after delete: %v", err)
	}
}

// TestLifecycleTriggeredRun checks that Run applies a policy right after
// it is put, without waiting for the interval.
func TestLifecycleTriggeredRun(t *testing.T) {
	ta := newTestAPI(t, func(c *Config) { c.LifecycleInterval = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); ta.Run(ctx) }()
	ta.createRepo(t, "rr")
	for i := range 3 {
		if _, err := ta.push(ctx, "rr", fmt.Sprint("t", i), fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		ta.clk.advance(time.Second)
	}
	pol := `{"rules":[{"rulePriority":1,"description":"keep one","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	if _, err := ta.putLifecyclePolicy(ctx, ta.call, &lifecyclePolicyIn{RepositoryName: "rr", LifecyclePolicyText: pol}); err != nil {
		t.Fatal(err)
	}
	reg, _ := ta.Registry(tAccount, tRegion)
	deadline := time.Now().Add(10 * time.Second)
	for {
		imgs, err := reg.ListImages(ctx, "rr")
		if err != nil {
			t.Fatal(err)
		}
		if len(imgs) == 1 && imgs[0].Tags[0] == "t2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy not applied: %d images", len(imgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// TestLifecycleAndGCUnderConcurrentPushes is a property test: while
// writers push images (sharing a base layer) and lifecycle passes expire
// images and collect garbage with no grace period, no manifest that is
// still stored ever references a blob missing from disk. Pushes may need
// a retry when the collector took a blob between upload and manifest put
// (what the grace period prevents in production).
func TestLifecycleAndGCUnderConcurrentPushes(t *testing.T) {
	ta := newTestAPI(t, nil)
	ctx := context.Background()
	ta.createRepo(t, "busy")
	pol := `{"rules":[{"rulePriority":1,"description":"keep three","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}`
	if _, err := ta.putLifecyclePolicy(ctx, ta.call, &lifecyclePolicyIn{RepositoryName: "busy", LifecyclePolicyText: pol}); err != nil {
		t.Fatal(err)
	}
	reg, _ := ta.Registry(tAccount, tRegion)
	check := func() {
		imgs, err := reg.ListImages(ctx, "busy")
		if err != nil {
			t.Error(err)
			return
		}
		for _, img := range imgs {
			m, err := reg.GetManifest(ctx, "busy", img.Digest)
			if fault.Is(err, fault.NotFound) {
				continue // expired meanwhile
			}
			if err != nil {
				t.Error(err)
				return
			}
			for _, d := range referencedBlobs(m.Body) {
				if !ta.blobOnDisk(d) {
					// the image may have been expired since the list
					if _, err := reg.DescribeImage(ctx, "busy", img.Digest); err == nil {
						t.Errorf("stored manifest %s references %s, which is not on disk", img.Digest, d)
					}
				}
			}
		}
	}
	var stop atomic.Bool
	var passes, retries atomic.Int64
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		for !stop.Load() {
			if _, err := ta.RunLifecycle(ctx); err != nil {
				t.Error(err)
				return
			}
			passes.Add(1)
			check()
		}
	}()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				for attempt := 0; ; attempt++ {
					_, err := ta.push(ctx, "busy", fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("%d-%d", w, i%3))
					if fe, ok := fault.As(err); ok && fe.Code == "LayersNotFoundException" && attempt < 50 {
						retries.Add(1)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	bg.Wait()
	ta.clk.advance(time.Second) // every blob past the 1ns grace period
	if _, err := ta.RunLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.GarbageCollect(ctx); err != nil {
		t.Fatal(err)
	}
	check()
	imgs, _ := reg.ListImages(ctx, "busy")
	if len(imgs) != 3 {
		t.Errorf("%d images left, want 3", len(imgs))
	}
	t.Logf("%d lifecycle passes, %d re-pushes", passes.Load(), retries.Load())
}

// referencedBlobs returns the config and layer digests of a manifest.
func referencedBlobs(body []byte) []string {
	var out []string
	s := string(body)
	for {
		i := strings.Index(s, `"digest":"`)
		if i < 0 {
			return out
		}
		s = s[i+len(`"digest":"`):]
		j := strings.IndexByte(s, '"')
		out = append(out, s[:j])
		s = s[j:]
	}
}
