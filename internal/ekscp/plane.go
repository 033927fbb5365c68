package ekscp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/eks"
	"github.com/berth-dev/berth/internal/eksstore"
	"github.com/berth-dev/berth/internal/fault"
)

// Config configures a Plane.
type Config struct {
	Repo   *eksstore.Repo
	Logger *slog.Logger
	Now    func() time.Time
	// NewID returns a fresh random ID (a UUID by default).
	NewID func() string
}

// Plane is the EKS control plane.
type Plane struct {
	repo  *eksstore.Repo
	log   *slog.Logger
	now   func() time.Time
	newID func() string
}

// New returns a Plane.
func New(cfg Config) *Plane {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid
	}
	return &Plane{repo: cfg.Repo, log: cfg.Logger, now: cfg.Now, newID: cfg.NewID}
}

// Repo returns the plane's repository.
func (p *Plane) Repo() *eksstore.Repo { return p.repo }

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// CreateInput is a CreateCluster request.
type CreateInput struct {
	Name, Version, RoleARN string
	VPC                    eks.VPCConfig
	PublicAccess           *bool
	PrivateAccess          *bool
	ServiceIPv4CIDR        string
	IPFamily               string
	Logging                []string
	ClientRequestToken     string
	Tags                   map[string]string
	AuthMode               string
	BootstrapAdmin         *bool
	SupportType            string
	DeletionProtection     bool
	// Creator is the ARN of the caller (the account root for root
	// credentials).
	Creator string
}

// CreateCluster validates and stores a new cluster in CREATING.
func (p *Plane) CreateCluster(ctx context.Context, sc eks.Scope, in CreateInput) (*eks.Cluster, error) {
	c, err := p.newCluster(sc, in)
	if err != nil {
		return nil, err
	}
	if err := p.repo.Create(ctx, sc, c); err != nil {
		if existing, gerr := p.repo.Get(ctx, sc, in.Name); gerr == nil && in.ClientRequestToken != "" &&
			existing.ClientRequestToken == in.ClientRequestToken {
			return existing, nil // an idempotent retry
		}
		return nil, err
	}
	p.log.Info("eks cluster created", "cluster", c.Name, "version", c.Version, "account", sc.Account, "region", sc.Region)
	return c, nil
}

func (p *Plane) newCluster(sc eks.Scope, in CreateInput) (*eks.Cluster, error) {
	if err := eks.ValidateClusterName(in.Name); err != nil {
		return nil, err
	}
	if in.Version == "" {
		in.Version = eks.DefaultVersion
	}
	if _, ok := eks.FindVersion(in.Version); !ok {
		return nil, eks.InvalidParameterf("unsupported Kubernetes version %s; EKS offers %s", in.Version, versionList())
	}
	if err := eks.ValidateRoleARN(in.RoleARN); err != nil {
		return nil, err
	}
	if err := eks.ValidateSubnets(in.VPC.SubnetIDs); err != nil {
		return nil, err
	}
	if err := eks.ValidateCIDRs(in.VPC.PublicCIDRs); err != nil {
		return nil, err
	}
	if err := eks.ValidateLogTypes(in.Logging); err != nil {
		return nil, err
	}
	if err := eks.ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	if in.AuthMode == "" {
		in.AuthMode = eks.AuthConfigMap
	}
	if err := eks.ValidateAuthMode(in.AuthMode); err != nil {
		return nil, err
	}
	if in.ServiceIPv4CIDR == "" {
		in.ServiceIPv4CIDR = "10.100.0.0/16"
	} else if err := eks.ValidateServiceCIDR(in.ServiceIPv4CIDR); err != nil {
		return nil, err
	}
	if in.IPFamily == "" {
		in.IPFamily = "ipv4"
	} else if in.IPFamily != "ipv4" {
		return nil, eks.InvalidParameterf("ipFamily %s is not supported by berth; use ipv4", in.IPFamily)
	}
	switch in.SupportType {
	case "":
		in.SupportType = eks.SupportExtended
	case eks.SupportStandard, eks.SupportExtended:
	default:
		return nil, eks.InvalidParameterf("upgradePolicy.supportType %q is not valid; use STANDARD or EXTENDED", in.SupportType)
	}
	vpc := in.VPC
	vpc.PublicAccess = in.PublicAccess == nil || *in.PublicAccess
	vpc.PrivateAccess = in.PrivateAccess != nil && *in.PrivateAccess
	if !vpc.PublicAccess && !vpc.PrivateAccess {
		return nil, eks.InvalidParameterf("The cluster endpoint needs public access, private access or both.")
	}
	if len(vpc.PublicCIDRs) == 0 {
		vpc.PublicCIDRs = []string{"0.0.0.0/0"}
	}
	now := p.now().UTC()
	c := &eks.Cluster{
		Name: in.Name, ARN: eks.ClusterARN(sc, in.Name), ID: strings.ToUpper(strings.ReplaceAll(p.newID(), "-", "")),
		CreatedAt: now, Version: in.Version, RoleARN: in.RoleARN, VPC: vpc, ServiceIPv4CIDR: in.ServiceIPv4CIDR,
		IPFamily: in.IPFamily, Logging: normalizeLogs(in.Logging), Status: eks.StatusCreating,
		ClientRequestToken: in.ClientRequestToken, Tags: in.Tags, AuthMode: in.AuthMode,
		BootstrapAdmin: in.BootstrapAdmin == nil || *in.BootstrapAdmin, SupportType: in.SupportType,
		DeletionProtection: in.DeletionProtection, Access: map[string]*eks.AccessEntry{},
		Creator: eks.CanonicalPrincipal(in.Creator),
	}
	if c.BootstrapAdmin && c.AuthMode != eks.AuthConfigMap {
		if err := p.bootstrapAdmin(sc, c, in.Creator, now); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// bootstrapAdmin gives the creator an access entry with the cluster admin
// policy (when the creator is an IAM role or user; the account root gets
// cluster-admin through the authenticator instead).
func (p *Plane) bootstrapAdmin(sc eks.Scope, c *eks.Cluster, creator string, now time.Time) error {
	creator = eks.CanonicalPrincipal(creator)
	pr, err := eks.ParsePrincipal(creator)
	if creator == eks.RootARN(sc.Account) {
		pr, err = eks.Principal{Account: sc.Account, Kind: "root", Path: "root"}, nil
	}
	if err != nil {
		return nil // an unsigned caller: no entry to create
	}
	c.Access[creator] = &eks.AccessEntry{
		PrincipalARN: creator, ARN: eks.AccessEntryARN(sc, c.Name, pr, p.newID()), Username: eks.DefaultUsername(pr, creator),
		Type: "STANDARD", CreatedAt: now, ModifiedAt: now,
		Policies: []*eks.AssociatedPolicy{{PolicyARN: eks.ClusterAdminPolicy, ScopeType: eks.ScopeCluster, AssociatedAt: now, ModifiedAt: now}},
	}
	return nil
}

func normalizeLogs(types []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(types)))
}

func versionList() string {
	vs := make([]string, len(eks.Versions))
	for i, v := range eks.Versions {
		vs[i] = v.Version
	}
	return strings.Join(vs, ", ")
}

// DescribeCluster returns a cluster.
func (p *Plane) DescribeCluster(ctx context.Context, sc eks.Scope, name string) (*eks.Cluster, error) {
	return p.repo.Get(ctx, sc, name)
}

// ListClusters returns the names of the scope's clusters, sorted.
func (p *Plane) ListClusters(ctx context.Context, sc eks.Scope) ([]string, error) {
	cs, err := p.repo.List(ctx, sc)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	slices.Sort(names)
	return names, nil
}

// DeleteCluster moves a cluster to DELETING; the lifecycle controller
// removes its control plane and then its record.
func (p *Plane) DeleteCluster(ctx context.Context, sc eks.Scope, name string) (*eks.Cluster, error) {
	return p.repo.Update(ctx, sc, name, func(c *eks.Cluster) (*eks.Cluster, error) {
		switch {
		case c.DeletionProtection:
			return nil, eks.InvalidRequestf("Cluster %s has deletion protection enabled; turn it off with update-cluster-config --no-deletion-protection first.", name)
		case c.Status == eks.StatusDeleting:
			return c, nil
		case c.Status == eks.StatusUpdating:
			return nil, eks.InUsef("Cluster %s has an update in progress; delete it once the update is done.", name)
		}
		c.Status = eks.StatusDeleting
		return c, nil
	})
}

// TagResource adds tags to a cluster or an access entry.
func (p *Plane) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return eks.BadRequestf("tags must name at least one tag")
	}
	if err := eks.ValidateTags(tags); err != nil {
		return eks.BadRequestf("%s", err.Error())
	}
	return p.withTagged(ctx, arn, true, func(t *map[string]string) error {
		if *t == nil {
			*t = map[string]string{}
		}
		for k, v := range tags {
			(*t)[k] = v
		}
		if len(*t) > 50 {
			return eks.BadRequestf("A resource can have at most 50 tags.")
		}
		return nil
	})
}

// UntagResource removes tags.
func (p *Plane) UntagResource(ctx context.Context, arn string, keys []string) error {
	if len(keys) == 0 {
		return eks.BadRequestf("tagKeys must name at least one key")
	}
	return p.withTagged(ctx, arn, true, func(t *map[string]string) error {
		for _, k := range keys {
			delete(*t, k)
		}
		return nil
	})
}

// ListTags returns a resource's tags.
func (p *Plane) ListTags(ctx context.Context, arn string) (map[string]string, error) {
	var out map[string]string
	err := p.withTagged(ctx, arn, false, func(t *map[string]string) error { out = *t; return nil })
	return out, err
}

// withTagged finds the tags of the resource arn and calls fn on them; with
// write, the change is stored.
func (p *Plane) withTagged(ctx context.Context, arn string, write bool, fn func(*map[string]string) error) error {
	sc, typ, name, ok := eks.ParseARN(arn)
	if !ok || (typ != "cluster" && typ != "access-entry") {
		return eks.BadRequestf("The resource ARN %q is not a valid EKS cluster or access entry ARN.", arn)
	}
	_, err := p.repo.Update(ctx, sc, name, func(c *eks.Cluster) (*eks.Cluster, error) {
		tags := &c.Tags
		if typ == "cluster" {
			if c.ARN != arn {
				return nil, eks.TagTargetNotFound(arn)
			}
		} else {
			entries := slices.Collect(maps.Values(c.Access))
			i := slices.IndexFunc(entries, func(e *eks.AccessEntry) bool { return e.ARN == arn })
			if i < 0 {
				return nil, eks.TagTargetNotFound(arn)
			}
			tags = &entries[i].Tags
		}
		if err := fn(tags); err != nil {
			return nil, err
		}
		if !write {
			return nil, errReadOnly
		}
		return c, nil
	})
	if errors.Is(err, errReadOnly) {
		return nil
	}
	if isCode(err, eks.CodeNotFound) {
		return eks.TagTargetNotFound(arn)
	}
	return err
}

var errReadOnly = errors.New("read only")

func isCode(err error, code string) bool {
	fe, ok := fault.As(err)
	return ok && fe.Code == code
}

// Now returns the plane's clock reading.
func (p *Plane) Now() time.Time { return p.now() }
