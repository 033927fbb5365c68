package ecrapi

import (
	"context"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// Tag mutability settings beyond ecr.TagMutable / ecr.TagImmutable.
const (
	mutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
	immutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
	maxExclusionFilters    = 5
)

type scanConfig struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type encryptionConfig struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

type wireRepository struct {
	RepositoryArn                      string              `json:"repositoryArn"`
	RegistryID                         string              `json:"registryId"`
	RepositoryName                     string              `json:"repositoryName"`
	RepositoryURI                      string              `json:"repositoryUri"`
	CreatedAt                          *awsproto.EpochTime `json:"createdAt,omitempty"`
	ImageTagMutability                 string              `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter   `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         scanConfig          `json:"imageScanningConfiguration"`
	EncryptionConfiguration            encryptionConfig    `json:"encryptionConfiguration"`
}

// repositoryURI is the URI docker uses: berth's registry host and the name.
func (a *API) repositoryURI(name string) string { return a.cfg.RegistryHost + "/" + name }

func (a *API) wireRepo(r *repoRecord) wireRepository {
	mut := r.ImageTagMutability
	if mut == "" {
		mut = ecr.TagMutable
	}
	enc := r.EncryptionType
	if enc == "" {
		enc = ecr.EncryptionAES256
	}
	return wireRepository{
		RepositoryArn: r.ARN, RegistryID: r.RegistryID, RepositoryName: r.Name,
		RepositoryURI: a.repositoryURI(r.Name), CreatedAt: awsproto.Epoch(r.CreatedAt),
		ImageTagMutability: mut, ImageTagMutabilityExclusionFilters: r.MutabilityExclusions,
		ImageScanningConfiguration: scanConfig{ScanOnPush: r.ScanOnPush},
		EncryptionConfiguration:    encryptionConfig{EncryptionType: enc, KmsKey: r.KMSKey},
	}
}

type wireTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type createRepositoryIn struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	Tags                               []wireTag         `json:"tags"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	ImageScanningConfiguration         *scanConfig       `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryptionConfig `json:"encryptionConfiguration"`
}

type repositoryOut struct {
	Repository wireRepository `json:"repository"`
}

// validateMutability checks a tag mutability setting and its exclusion
// filters; it returns the setting with the default applied.
func validateMutability(mut string, filters []exclusionFilter) (string, error) {
	if mut == "" {
		mut = ecr.TagMutable
	}
	switch mut {
	case ecr.TagMutable, ecr.TagImmutable:
		if len(filters) > 0 {
			return "", errInvalidParam("imageTagMutabilityExclusionFilters can only be specified with the %s or %s tag mutability setting", mutableWithExclusion, immutableWithExclusion)
		}
	case mutableWithExclusion, immutableWithExclusion:
		if len(filters) == 0 {
			return "", errInvalidParam("imageTagMutabilityExclusionFilters is required with the %s tag mutability setting", mut)
		}
		if len(filters) > maxExclusionFilters {
			return "", errInvalidParam("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length less than or equal to %d'", maxExclusionFilters)
		}
		for _, f := range filters {
			if f.FilterType != "WILDCARD" {
				return "", errInvalidParam("Invalid parameter at 'filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'")
			}
			if len(f.Filter) < 1 || len(f.Filter) > 128 || strings.Count(f.Filter, "*") > 2 || !validFilterChars(f.Filter) {
				return "", errInvalidParam("Invalid parameter at 'filter' failed to satisfy constraint: 'a tag filter is 1 to 128 characters of [a-zA-Z0-9._*-] with at most 2 wildcards' (got %q)", f.Filter)
			}
		}
	default:
		return "", errInvalidParam("Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'")
	}
	return mut, nil
}

func validFilterChars(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-*", c)) {
			return false
		}
	}
	return true
}

// tagImmutable reports whether an existing tag may not be moved in a
// repository, taking the exclusion filters into account.
func tagImmutable(r *repoRecord, tag string) bool {
	excluded := func() bool {
		for _, f := range r.MutabilityExclusions {
			if ecr.MatchTagPattern(f.Filter, tag) {
				return true
			}
		}
		return false
	}
	switch r.ImageTagMutability {
	case ecr.TagImmutable:
		return true
	case immutableWithExclusion:
		return !excluded()
	case mutableWithExclusion:
		return excluded()
	}
	return false
}

func (a *API) createRepository(ctx context.Context, c *awsproto.Call, in *createRepositoryIn) (any, error) {
	sc, cross, err := a.target(c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	if cross {
		return nil, errAccessDenied(a.callScope(c).Account, "ecr:CreateRepository", ecr.RepositoryARN(sc.Account, sc.Region, in.RepositoryName))
	}
	if err := validateRepoName(in.RepositoryName); err != nil {
		return nil, err
	}
	mut, err := validateMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	tags, err := validateTags(in.Tags)
	if err != nil {
		return nil, err
	}
	rec := &repoRecord{Repository: *ecr.NewRepository(sc.Account, sc.Region, in.RepositoryName, a.now())}
	rec.ImageTagMutability = mut
	rec.MutabilityExclusions = in.ImageTagMutabilityExclusionFilters
	if in.ImageScanningConfiguration != nil {
		rec.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if e := in.EncryptionConfiguration; e != nil {
		switch e.EncryptionType {
		case ecr.EncryptionAES256:
			if e.KmsKey != "" {
				return nil, errInvalidParam("kmsKey can only be specified when encryptionType is KMS or KMS_DSSE")
			}
		case ecr.EncryptionKMS, "KMS_DSSE":
			rec.KMSKey = e.KmsKey
			if rec.KMSKey == "" {
				rec.KMSKey = "arn:aws:kms:" + sc.Region + ":" + sc.Account + ":alias/aws/ecr"
			}
		default:
			return nil, errInvalidParam("Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'")
		}
		rec.EncryptionType = e.EncryptionType
	}
	key := sc.keys().Repo(rec.Name)
	ops := []store.Op{{Key: key, Value: encodeRepo(rec)}}
	if len(tags) > 0 {
		ops = append(ops, store.Op{Key: tagKey(rec.ARN), Value: encodeTags(tags)})
	} else {
		ops = append(ops, store.Op{Key: tagKey(rec.ARN), Delete: true})
	}
	_, err = a.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: 0}}, ops)
	if errors.Is(err, store.ErrConflict) {
		return nil, (&fault.Error{Kind: fault.AlreadyExists, Resource: "repository",
			Msg: "The repository with name '" + rec.Name + "' already exists in the registry with id '" + sc.Account + "'"}).
			WithCode("RepositoryAlreadyExistsException")
	}
	if err != nil {
		return nil, storeErr(err, "create repository")
	}
	a.log.Info("ecr: repository created", "repository", rec.Name, "account", sc.Account, "region", sc.Region)
	return repositoryOut{a.wireRepo(rec)}, nil
}

type describeRepositoriesIn struct {
	RegistryID      string   `json:"registryId"`
	RepositoryNames []string `json:"repositoryNames"`
	NextToken       string   `json:"nextToken"`
	MaxResults      *int     `json:"maxResults"`
}

type describeRepositoriesOut struct {
	Repositories []wireRepository `json:"repositories"`
	NextToken    string           `json:"nextToken,omitempty"`
}

func (a *API) describeRepositories(ctx context.Context, c *awsproto.Call, in *describeRepositoriesIn) (any, error) {
	sc, cross, err := a.target(c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	out := describeRepositoriesOut{Repositories: []wireRepository{}}
	if in.RepositoryNames != nil {
		if len(in.RepositoryNames) == 0 || len(in.RepositoryNames) > 100 {
			return nil, errInvalidParam("Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length between 1 and 100'")
		}
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, errInvalidParam("maxResults and nextToken cannot be used when repositoryNames is specified")
		}
		seen := map[string]bool{}
		for _, name := range in.RepositoryNames {
			if seen[name] {
				continue
			}
			seen[name] = true
			_, rec, err := a.repoFor(ctx, c, in.RegistryID, name, "ecr:DescribeRepositories")
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, a.wireRepo(rec))
		}
		return out, nil
	}
	n, err := pageSize(in.MaxResults, 100, 1000)
	if err != nil {
		return nil, err
	}
	recs, err := a.listRepos(ctx, sc)
	if err != nil {
		return nil, err
	}
	byName := map[string]*repoRecord{}
	var names []string
	caller := a.callScope(c).Account
	for _, r := range recs {
		if cross && !policyAllows(r.Policy, caller, "ecr:DescribeRepositories") {
			continue
		}
		byName[r.Name] = r
		names = append(names, r.Name)
	}
	pg, next, err := page(names, in.NextToken, n)
	if err != nil {
		return nil, err
	}
	for _, name := range pg {
		out.Repositories = append(out.Repositories, a.wireRepo(byName[name]))
	}
	out.NextToken = next
	return out, nil
}

type deleteRepositoryIn struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	Force          bool   `json:"force"`
}

func (a *API) deleteRepository(ctx context.Context, c *awsproto.Call, in *deleteRepositoryIn) (any, error) {
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:DeleteRepository")
	if err != nil {
		return nil, err
	}
	reg, err := a.registry(sc)
	if err != nil {
		return nil, err
	}
	for range maxTxnRetries {
		rec, rev, err := a.getRepo(ctx, sc, in.RepositoryName)
		if err != nil {
			return nil, err
		}
		if !in.Force {
			has, err := reg.HasImages(ctx, rec.Name)
			if err != nil {
				return nil, err
			}
			if has {
				return nil, (&fault.Error{Kind: fault.InUse, Resource: "repository",
					Msg: "The repository with name '" + rec.Name + "' in registry with id '" + sc.Account + "' cannot be deleted because it still contains images"}).
					WithCode("RepositoryNotEmptyException")
			}
		}
		key := sc.keys().Repo(rec.Name)
		_, err = a.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}},
			[]store.Op{{Key: key, Delete: true}, {Key: tagKey(rec.ARN), Delete: true}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeErr(err, "delete repository")
		}
		// The record is gone, so no push can start; drop what the registry
		// keeps below the repository (blob bytes go with the next GC).
		if err := reg.PurgeRepository(ctx, rec.Name); err != nil {
			a.log.Warn("ecr: purge of deleted repository failed", "repository", rec.Name, "err", err)
		}
		a.forgetLifecycle(repoRef{sc, rec.Name})
		a.log.Info("ecr: repository deleted", "repository", rec.Name, "force", in.Force)
		return repositoryOut{a.wireRepo(rec)}, nil
	}
	return nil, fault.New(fault.Unavailable, "too much contention on repository %s, retry", in.RepositoryName)
}

type putImageTagMutabilityIn struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
}

type putImageTagMutabilityOut struct {
	RegistryID                         string            `json:"registryId"`
	RepositoryName                     string            `json:"repositoryName"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
}

func (a *API) putImageTagMutability(ctx context.Context, c *awsproto.Call, in *putImageTagMutabilityIn) (any, error) {
	if in.ImageTagMutability == "" {
		return nil, errInvalidParam("imageTagMutability is required")
	}
	mut, err := validateMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:PutImageTagMutability")
	if err != nil {
		return nil, err
	}
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		r.ImageTagMutability = mut
		r.MutabilityExclusions = in.ImageTagMutabilityExclusionFilters
		return nil
	})
	if err != nil {
		return nil, err
	}
	return putImageTagMutabilityOut{rec.RegistryID, rec.Name, rec.ImageTagMutability, rec.MutabilityExclusions}, nil
}

type putImageScanningConfigurationIn struct {
	RegistryID                 string      `json:"registryId"`
	RepositoryName             string      `json:"repositoryName"`
	ImageScanningConfiguration *scanConfig `json:"imageScanningConfiguration"`
}

type putImageScanningConfigurationOut struct {
	RegistryID                 string     `json:"registryId"`
	RepositoryName             string     `json:"repositoryName"`
	ImageScanningConfiguration scanConfig `json:"imageScanningConfiguration"`
}

func (a *API) putImageScanningConfiguration(ctx context.Context, c *awsproto.Call, in *putImageScanningConfigurationIn) (any, error) {
	if in.ImageScanningConfiguration == nil {
		return nil, errInvalidParam("imageScanningConfiguration is required")
	}
	sc, _, err := a.repoFor(ctx, c, in.RegistryID, in.RepositoryName, "ecr:PutImageScanningConfiguration")
	if err != nil {
		return nil, err
	}
	rec, err := a.updateRepo(ctx, sc, in.RepositoryName, func(r *repoRecord) error {
		r.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
		return nil
	})
	if err != nil {
		return nil, err
	}
	return putImageScanningConfigurationOut{rec.RegistryID, rec.Name, scanConfig{rec.ScanOnPush}}, nil
}
