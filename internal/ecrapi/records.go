package ecrapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/ecr"
	"github.com/berth-dev/berth/internal/fault"
	"github.com/berth-dev/berth/internal/store"
)

// repoRecord is the stored repository record: the shared ecr.Repository
// (which the registry decodes, ignoring the members it does not know) plus
// what only the control plane reads.
type repoRecord struct {
	ecr.Repository
	// MutabilityExclusions are the imageTagMutabilityExclusionFilters of
	// the *_WITH_EXCLUSION mutability settings.
	MutabilityExclusions []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	// Policy is the repository policy text ("" when none).
	Policy string `json:"repositoryPolicy,omitempty"`
	// LifecyclePolicy is the lifecycle policy text ("" when none).
	LifecyclePolicy string `json:"lifecyclePolicy,omitempty"`
}

type exclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

func decodeRepo(b []byte) (*repoRecord, error) {
	var r repoRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "decode repository record")
	}
	return &r, nil
}

func encodeRepo(r *repoRecord) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // plain struct
	}
	return b
}

// storedTag is the value format of /tags/<arn>, shared with the ECS tags.
type storedTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func tagKey(arn string) string { return "/tags/" + arn }

// ECR's repository name grammar.
const repoNamePattern = `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`

var repoNameRE = regexp.MustCompile(`^` + repoNamePattern + `$`)

func validateRepoName(name string) error {
	if len(name) < 2 || len(name) > 256 {
		return errInvalidParam("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must have length between 2 and 256' (got %d)", len(name))
	}
	if !repoNameRE.MatchString(name) {
		return errInvalidParam("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '%s''", repoNamePattern)
	}
	return nil
}

func validateRegistryID(id string) error {
	if id != "" && !validAccount(id) {
		return errInvalidParam("Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''")
	}
	return nil
}

const maxTxnRetries = 20

func storeErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	if errors.Is(err, store.ErrClosed) {
		return fault.Wrap(err, fault.Unavailable, "%s", what)
	}
	return fault.Wrap(err, fault.Internal, "%s", what)
}

// getRepo reads a repository record and its revision.
func (a *API) getRepo(ctx context.Context, sc scope, name string) (*repoRecord, int64, error) {
	kv, err := a.st.Get(ctx, sc.keys().Repo(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, errRepoNotFound(sc, name)
	}
	if err != nil {
		return nil, 0, storeErr(err, "read repository")
	}
	rec, err := decodeRepo(kv.Value)
	if err != nil {
		return nil, 0, err
	}
	return rec, kv.ModRevision, nil
}

// updateRepo changes a repository record with fn under compare-and-swap.
func (a *API) updateRepo(ctx context.Context, sc scope, name string, fn func(*repoRecord) error) (*repoRecord, error) {
	for range maxTxnRetries {
		rec, rev, err := a.getRepo(ctx, sc, name)
		if err != nil {
			return nil, err
		}
		if err := fn(rec); err != nil {
			return nil, err
		}
		key := sc.keys().Repo(name)
		_, err = a.st.Txn(ctx, []store.Compare{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: encodeRepo(rec)}})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeErr(err, "update repository")
		}
		return rec, nil
	}
	return nil, fault.New(fault.Unavailable, "too much contention on repository %s, retry", name)
}

// listRepos returns every repository record of a scope, by name.
func (a *API) listRepos(ctx context.Context, sc scope) ([]*repoRecord, error) {
	var out []*repoRecord
	prefix := sc.keys().ReposPrefix()
	after := ""
	for {
		kvs, _, err := a.st.List(ctx, prefix, store.ListOptions{StartAfter: after, Limit: 500})
		if err != nil {
			return nil, storeErr(err, "list repositories")
		}
		for _, kv := range kvs {
			rec, err := decodeRepo(kv.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
		if len(kvs) < 500 {
			return out, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// target resolves the registry a call acts on: the caller's own, or that of
// registryID in the caller's region (another account's registry, reached
// only through repository policies).
func (a *API) target(c *awsproto.Call, registryID string) (sc scope, cross bool, err error) {
	if err := validateRegistryID(registryID); err != nil {
		return scope{}, false, err
	}
	own := a.callScope(c)
	if registryID == "" || registryID == own.Account {
		return own, false, nil
	}
	return scope{registryID, own.Region}, true, nil
}

// repoFor loads a repository a call acts on and checks that the caller may
// perform action ("ecr:PutImage") on it: always in its own account,
// otherwise only when the repository policy allows it.
func (a *API) repoFor(ctx context.Context, c *awsproto.Call, registryID, name, action string) (scope, *repoRecord, error) {
	sc, cross, err := a.target(c, registryID)
	if err != nil {
		return scope{}, nil, err
	}
	if err := validateRepoName(name); err != nil {
		return scope{}, nil, err
	}
	rec, _, err := a.getRepo(ctx, sc, name)
	if err != nil {
		return scope{}, nil, err
	}
	if cross {
		caller := a.callScope(c).Account
		if !policyAllows(rec.Policy, caller, action) {
			return scope{}, nil, errAccessDenied(caller, action, rec.ARN)
		}
	}
	return sc, rec, nil
}

func errAccessDenied(account, action, arn string) error {
	return fault.New(fault.AccessDenied,
		"User: arn:aws:iam::%s:root is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
		account, action, arn, action).WithCode("AccessDeniedException")
}

func (r *repoRecord) describeRef() string {
	return fmt.Sprintf("repository with name '%s' in registry with id '%s'", r.Name, r.RegistryID)
}
