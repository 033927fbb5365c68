package ecrapi

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

type lifecyclePolicyIn struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
}

type lifecyclePolicyOut struct {
	RegistryID          string              `json:"registryId"`
	RepositoryName      string              `json:"repositoryName"`
	LifecyclePolicyText string              `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *awsproto.EpochTime `json:"lastEvaluatedAt,omitempty"`
}

func errLifecycleNotFound(rec *repoRecord) error {
	return fault.NotFoundf("lifecyclePolicy", "Lifecycle policy does not exist for the %s", rec.describeRef()).
		WithCode("LifecyclePolicyNotFoundException")
}

func (a *API) putLifecyclePolicy(ctx context.Context, c *awsproto.Call, in *lifecyclePolicyIn) (any, error) {
	if _, err := ecr.ParseLifecyclePolicy(in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:PutLifecyclePolicy")
	if err != nil {
		return nil, err
	}
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		r.LifecyclePolicy = in.LifecyclePolicyText
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Trigger()
	return lifecyclePolicyOut{RegistryID: rec.RegistryID, RepositoryName: rec.Name, LifecyclePolicyText: rec.LifecyclePolicy}, nil
}

func (a *API) lastEvaluatedAt(ref repoRef) *awsproto.EpochTime {
	a.lcMu.Lock()
	defer a.lcMu.Unlock()
	return awsproto.Epoch(a.lastEvaluated[ref])
}

func (a *API) getLifecyclePolicy(ctx context.Context, c *awsproto.Call, in *repoIn) (any, error) {
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:GetLifecyclePolicy")
	if err != nil {
		return nil, err
	}
	if rec.LifecyclePolicy == "" {
		return nil, errLifecycleNotFound(rec)
	}
	return lifecyclePolicyOut{rec.RegistryID, rec.Name, rec.LifecyclePolicy, a.lastEvaluatedAt(repoRef{sc, rec.Name})}, nil
}

func (a *API) deleteLifecyclePolicy(ctx context.Context, c *awsproto.Call, in *repoIn) (any, error) {
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:DeleteLifecyclePolicy")
	if err != nil {
		return nil, err
	}
	var old string
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		if r.LifecyclePolicy == "" {
			return errLifecycleNotFound(r)
		}
		old, r.LifecyclePolicy = r.LifecyclePolicy, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lifecyclePolicyOut{rec.RegistryID, rec.Name, old, a.lastEvaluatedAt(repoRef{sc, rec.Name})}, nil
}

// Previews

type previewAction struct {
	Type string `json:"type"`
}

type previewResult struct {
	ImageTags           []string            `json:"imageTags,omitempty"`
	ImageDigest         string              `json:"imageDigest"`
	ImagePushedAt       *awsproto.EpochTime `json:"imagePushedAt,omitempty"`
	Action              previewAction       `json:"action"`
	AppliedRulePriority int                 `json:"appliedRulePriority"`
}

type previewSummary struct {
	ExpiringImageTotalCount int `json:"expiringImageTotalCount"`
}

// preview is the result of the latest StartLifecyclePolicyPreview of a
// repository (kept in memory, like ECR's short-lived previews).
type preview struct {
	text    string
	status  string
	results []previewResult
}

type startPreviewOut struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
	Status              string `json:"status"`
}

func (a *API) startLifecyclePolicyPreview(ctx context.Context, c *awsproto.Call, in *lifecyclePolicyIn) (any, error) {
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:StartLifecyclePolicyPreview")
	if err != nil {
		return nil, err
	}
	text := in.LifecyclePolicyText
	if text == "" {
		if rec.LifecyclePolicy == "" {
			return nil, errLifecycleNotFound(rec)
		}
		text = rec.LifecyclePolicy
	}
	pol, err := ecr.ParseLifecyclePolicy(text)
	if err != nil {
		return nil, err
	}
	imgs, _, err := a.images(ctx, sc, rec.Name)
	if err != nil {
		return nil, err
	}
	pv := &preview{text: text, status: "COMPLETE", results: []previewResult{}}
	for _, e := range pol.Evaluate(lifecycleImages(imgs), a.now()) {
		pv.results = append(pv.results, previewResult{
			ImageTags: e.Image.Tags, ImageDigest: e.Image.Digest, ImagePushedAt: awsproto.Epoch(e.Image.PushedAt),
			Action: previewAction{"EXPIRE"}, AppliedRulePriority: e.RulePriority,
		})
	}
	a.lcMu.Lock()
	a.previews[repoRef{sc, rec.Name}] = pv
	a.lcMu.Unlock()
	return startPreviewOut{sc.Account, rec.Name, text, pv.status}, nil
}

type getPreviewIn struct {
	RegistryID     string     `json:"registryId"`
	RepositoryName string     `json:"repositoryName"`
	ImageIDs       []imageID  `json:"imageIds"`
	NextToken      string     `json:"nextToken"`
	MaxResults     *int       `json:"maxResults"`
	Filter         *tagFilter `json:"filter"`
}

type getPreviewOut struct {
	RegistryID          string          `json:"registryId"`
	RepositoryName      string          `json:"repositoryName"`
	LifecyclePolicyText string          `json:"lifecyclePolicyText"`
	Status              string          `json:"status"`
	NextToken           string          `json:"nextToken,omitempty"`
	PreviewResults      []previewResult `json:"previewResults"`
	Summary             previewSummary  `json:"summary"`
}

func (a *API) getLifecyclePolicyPreview(ctx context.Context, c *awsproto.Call, in *getPreviewIn) (any, error) {
	status, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	n, err := pageSize(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	sc, rec, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:GetLifecyclePolicyPreview")
	if err != nil {
		return nil, err
	}
	a.lcMu.Lock()
	pv := a.previews[repoRef{sc, rec.Name}]
	a.lcMu.Unlock()
	if pv == nil {
		return nil, fault.NotFoundf("lifecyclePolicyPreview", "There is no preview result for the %s; start one with StartLifecyclePolicyPreview", rec.describeRef()).
			WithCode("LifecyclePolicyPreviewNotFoundException")
	}
	want := func(r previewResult) bool {
		switch status {
		case "TAGGED":
			if len(r.ImageTags) == 0 {
				return false
			}
		case "UNTAGGED":
			if len(r.ImageTags) > 0 {
				return false
			}
		}
		if len(in.ImageIDs) == 0 {
			return true
		}
		for _, id := range in.ImageIDs {
			if (id.ImageDigest == "" || id.ImageDigest == r.ImageDigest) && (id.ImageTag == "" || slices.Contains(r.ImageTags, id.ImageTag)) &&
				(id.ImageDigest != "" || id.ImageTag != "") {
				return true
			}
		}
		return false
	}
	byKey := map[string]previewResult{}
	var keys []string
	for i, r := range pv.results {
		if want(r) {
			// page keys keep the evaluator's order (oldest first)
			k := strings.Repeat("0", 10-len(itoa(i))) + itoa(i)
			byKey[k] = r
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pg, next, err := page(keys, in.NextToken, n)
	if err != nil {
		return nil, err
	}
	out := getPreviewOut{
		RegistryID: sc.Account, RepositoryName: rec.Name, LifecyclePolicyText: pv.text, Status: pv.status,
		NextToken: next, PreviewResults: []previewResult{},
		Summary: previewSummary{ExpiringImageTotalCount: len(pv.results)},
	}
	for _, k := range pg {
		out.PreviewResults = append(out.PreviewResults, byKey[k])
	}
	return out, nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func lifecycleImages(imgs []ecr.Image) []ecr.LifecycleImage {
	out := make([]ecr.LifecycleImage, len(imgs))
	for i, img := range imgs {
		out[i] = ecr.LifecycleImage{Digest: img.Digest, Tags: img.Tags, PushedAt: img.PushedAt, LastPulledAt: img.LastPulledAt}
	}
	return out
}

// forgetLifecycle drops the in-memory lifecycle state of a deleted repository.
func (a *API) forgetLifecycle(ref repoRef) {
	a.lcMu.Lock()
	delete(a.previews, ref)
	delete(a.lastEvaluated, ref)
	a.lcMu.Unlock()
}

// The lifecycle runner

// Trigger asks the runner for a lifecycle pass soon (after a push or a
// policy change). It never blocks; triggers coalesce.
func (a *API) Trigger() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// LifecycleStats reports what a lifecycle pass did.
type LifecycleStats struct {
	Repositories  int // repositories with a lifecycle policy evaluated
	ImagesExpired int
	BlobsDeleted  int   // by the garbage collection that followed
	BytesFreed    int64 // idem
}

// Run applies lifecycle policies every LifecycleInterval and when
// triggered, and garbage-collects every registry every GCInterval, until
// ctx ends.
func (a *API) Run(ctx context.Context) {
	var lcTick, gcTick <-chan time.Time
	if a.cfg.LifecycleInterval > 0 {
		t := time.NewTicker(a.cfg.LifecycleInterval)
		defer t.Stop()
		lcTick = t.C
	}
	if a.cfg.GCInterval > 0 {
		t := time.NewTicker(a.cfg.GCInterval)
		defer t.Stop()
		gcTick = t.C
	}
	pass := func() {
		if _, err := a.RunLifecycle(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("ecr: lifecycle pass failed", "err", err)
		}
	}
	pass()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lcTick:
			pass()
		case <-a.trigger:
			pass()
		case <-gcTick:
			if err := a.CollectGarbage(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("ecr: garbage collection failed", "err", err)
			}
		}
	}
}

// scopes lists the accounts and regions that have ECR state, by skipping
// through the /ecr/ tree one account and region at a time, plus those
// whose registries are open.
func (a *API) scopes(ctx context.Context) ([]scope, error) {
	seen := map[scope]bool{}
	var out []scope
	const root = "/ecr/"
	after := ""
	for {
		kvs, _, err := a.st.List(ctx, root, store.ListOptions{StartAfter: after, Limit: 1})
		if err != nil {
			return nil, storeErr(err, "list ECR registries")
		}
		if len(kvs) == 0 {
			break
		}
		parts := strings.SplitN(strings.TrimPrefix(kvs[0].Key, root), "/", 3)
		if len(parts) < 3 {
			after = kvs[0].Key
			continue
		}
		sc := scope{parts[0], parts[1]}
		if validAccount(sc.Account) && validRegion(sc.Region) && !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
		after = root + parts[0] + "/" + parts[1] + "/\xff"
	}
	a.regMu.Lock()
	for sc := range a.regs {
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	a.regMu.Unlock()
	return out, nil
}

// RunLifecycle applies every repository's lifecycle policy once: it
// deletes the images the policy expires and, where it deleted any, runs
// the registry's garbage collection so that their blobs go too (subject to
// the GC grace period).
func (a *API) RunLifecycle(ctx context.Context) (LifecycleStats, error) {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	var stats LifecycleStats
	scopes, err := a.scopes(ctx)
	if err != nil {
		return stats, err
	}
	var errs []error
	for _, sc := range scopes {
		recs, err := a.listRepos(ctx, sc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		expired := 0
		for _, rec := range recs {
			if rec.LifecyclePolicy == "" {
				continue
			}
			n, err := a.applyLifecycle(ctx, sc, rec)
			stats.Repositories++
			expired += n
			if err != nil {
				errs = append(errs, err)
			}
		}
		stats.ImagesExpired += expired
		if expired == 0 {
			continue
		}
		reg, err := a.registry(sc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		gc, err := reg.GarbageCollect(ctx)
		stats.BlobsDeleted += gc.BlobsDeleted
		stats.BytesFreed += gc.BytesFreed
		if err != nil {
			errs = append(errs, err)
		}
	}
	return stats, errors.Join(errs...)
}

func (a *API) applyLifecycle(ctx context.Context, sc scope, rec *repoRecord) (int, error) {
	pol, err := ecr.ParseLifecyclePolicy(rec.LifecyclePolicy)
	if err != nil {
		return 0, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return 0, err
	}
	imgs, err := reg.ListImages(ctx, rec.Name)
	if err != nil {
		return 0, err
	}
	now := a.now()
	n := 0
	for _, e := range pol.Evaluate(lifecycleImages(imgs), now) {
		err := reg.DeleteImage(ctx, rec.Name, e.Image.Digest)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
		a.log.Info("ecr: lifecycle policy expired image", "account", sc.Account, "region", sc.Region, "repository", rec.Name, "digest", e.Image.Digest,
			"tags", e.Image.Tags, "rulePriority", e.RulePriority)
	}
	a.lcMu.Lock()
	a.lastEvaluated[repoRef{sc, rec.Name}] = now
	a.lcMu.Unlock()
	return n, nil
}

// CollectGarbage runs the garbage collection of every registry.
func (a *API) CollectGarbage(ctx context.Context) error {
	scopes, err := a.scopes(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, sc := range scopes {
		reg, err := a.registry(sc)
		if err == nil {
			_, err = reg.GarbageCollect(ctx)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
