package acmapi

import (
	"context"
	"log/slog"

	"github.com/berth-dev/berth/internal/acm"
	"github.com/berth-dev/berth/internal/acmcp"
	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/fault"
)

var faults = awsproto.FaultTable{
	Client: acm.CodeValidation,
	Server: "InternalFailure",
	Codes: map[fault.Kind]string{
		fault.NotFound:         acm.CodeResourceNotFound,
		fault.InvalidParameter: acm.CodeInvalidParameter,
		fault.Invalid:          acm.CodeValidation,
		fault.InUse:            acm.CodeResourceInUse,
		fault.LimitExceeded:    acm.CodeLimitExceeded,
		fault.AccessDenied:     "AccessDeniedException",
	},
}

// API holds the handlers.
type API struct {
	plane *acmcp.Plane
	log   *slog.Logger
}

// New returns the ACM service (signing name "acm").
func New(plane *acmcp.Plane, log *slog.Logger) *awsproto.Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &API{plane: plane, log: log}
	return &awsproto.Service{SigningName: "acm", Protocol: awsproto.JSON11, TargetPrefix: "CertificateManager", MapError: faults.Map,
		ErrorMessageKey: func(string) string { return "message" },
		Ops: map[string]awsproto.Op{
			"ImportCertificate":         awsproto.Handle(a.importCertificate),
			"RequestCertificate":        awsproto.Handle(a.requestCertificate),
			"DescribeCertificate":       awsproto.Handle(a.describeCertificate),
			"ListCertificates":          awsproto.Handle(a.listCertificates),
			"GetCertificate":            awsproto.Handle(a.getCertificate),
			"DeleteCertificate":         awsproto.Handle(a.deleteCertificate),
			"AddTagsToCertificate":      awsproto.Handle(a.addTags),
			"RemoveTagsFromCertificate": awsproto.Handle(a.removeTags),
			"ListTagsForCertificate":    awsproto.Handle(a.listTags),
		}}
}

func scope(c *awsproto.Call) acm.Scope { return acm.Scope{Account: c.Account, Region: c.Region} }

type wTag struct {
	Key   string
	Value *string `json:",omitempty"`
}

func tagsIn(in []wTag) []acm.Tag {
	out := make([]acm.Tag, len(in))
	for i, t := range in {
		out[i] = acm.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

type arnOut struct{ CertificateArn string }

type importIn struct {
	CertificateArn   string
	Certificate      []byte
	PrivateKey       []byte
	CertificateChain []byte
	Tags             []wTag
}

func (a *API) importCertificate(ctx context.Context, c *awsproto.Call, in *importIn) (any, error) {
	arn, err := a.plane.Import(ctx, scope(c), in.CertificateArn, acm.ImportInput{Certificate: in.Certificate, PrivateKey: in.PrivateKey, Chain: in.CertificateChain}, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	return &arnOut{arn}, nil
}

type requestIn struct {
	DomainName              string
	ValidationMethod        string
	SubjectAlternativeNames []string
	IdempotencyToken        string
	KeyAlgorithm            string
	CertificateAuthorityArn string
	Tags                    []wTag
}

func (a *API) requestCertificate(ctx context.Context, c *awsproto.Call, in *requestIn) (any, error) {
	if in.CertificateAuthorityArn != "" {
		return nil, fault.New(fault.Unsupported, "Private certificate authorities (ACM PCA) are not served by berth; omit CertificateAuthorityArn to have berth's local CA issue the certificate.").WithCode(acm.CodeInvalidParameter)
	}
	arn, err := a.plane.Request(ctx, scope(c), acm.RequestInput{DomainName: in.DomainName, SANs: in.SubjectAlternativeNames,
		ValidationMethod: in.ValidationMethod, KeyAlgorithm: in.KeyAlgorithm, IdempotencyToken: in.IdempotencyToken, Tags: tagsIn(in.Tags)})
	if err != nil {
		return nil, err
	}
	return &arnOut{arn}, nil
}

type arnIn struct{ CertificateArn string }

func needARN(arn string) error {
	if arn == "" {
		return fault.New(fault.InvalidParameter, "1 validation error detected: Value null at 'certificateArn' failed to satisfy constraint: Member must not be null").WithCode(acm.CodeValidation)
	}
	return nil
}

type wEKU struct{ Name, OID string }
type wKU struct{ Name string }
type wDVO struct {
	DomainName       string
	ValidationDomain string
	ValidationStatus string
	ValidationMethod string
}
type wOptions struct{ CertificateTransparencyLoggingPreference string }

type wDetail struct {
	CertificateArn          string
	DomainName              string
	SubjectAlternativeNames []string
	DomainValidationOptions []wDVO `json:",omitempty"`
	Serial                  string
	Subject                 string
	Issuer                  string
	CreatedAt               *awsproto.EpochTime `json:",omitempty"`
	IssuedAt                *awsproto.EpochTime `json:",omitempty"`
	ImportedAt              *awsproto.EpochTime `json:",omitempty"`
	Status                  string
	NotBefore               *awsproto.EpochTime
	NotAfter                *awsproto.EpochTime
	KeyAlgorithm            string
	SignatureAlgorithm      string
	InUseBy                 []string
	Type                    string
	KeyUsages               []wKU
	ExtendedKeyUsages       []wEKU
	RenewalEligibility      string
	Options                 wOptions
}

func detailOut(d acmcp.Described) wDetail {
	w := wDetail{CertificateArn: d.ARN, DomainName: d.DomainName, SubjectAlternativeNames: d.SANs, Serial: d.Serial,
		Subject: d.Subject, Issuer: d.Issuer, CreatedAt: awsproto.Epoch(d.CreatedAt), Status: d.Status,
		NotBefore: awsproto.Epoch(d.NotBefore), NotAfter: awsproto.Epoch(d.NotAfter), KeyAlgorithm: d.KeyAlgorithm,
		SignatureAlgorithm: d.SignatureAlgorithm, InUseBy: append([]string{}, d.InUseBy...), Type: d.Type,
		KeyUsages: []wKU{}, ExtendedKeyUsages: []wEKU{}, RenewalEligibility: acm.RenewalIneligible,
		Options: wOptions{CertificateTransparencyLoggingPreference: "ENABLED"}}
	if d.Type == acm.TypeImported {
		w.ImportedAt = awsproto.Epoch(d.ImportedAt)
	} else {
		w.IssuedAt = awsproto.Epoch(d.IssuedAt)
		if len(d.InUseBy) > 0 {
			w.RenewalEligibility = acm.RenewalEligible
		}
		for _, n := range d.SANs {
			w.DomainValidationOptions = append(w.DomainValidationOptions, wDVO{DomainName: n, ValidationDomain: n, ValidationStatus: "SUCCESS", ValidationMethod: d.ValidationMethod})
		}
	}
	for _, k := range d.KeyUsages {
		w.KeyUsages = append(w.KeyUsages, wKU{k})
	}
	for _, k := range d.ExtendedKeyUsages {
		w.ExtendedKeyUsages = append(w.ExtendedKeyUsages, wEKU{Name: k, OID: acm.ExtendedKeyUsageOID(k)})
	}
	return w
}

func (a *API) describeCertificate(ctx context.Context, c *awsproto.Call, in *arnIn) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	d, err := a.plane.Describe(ctx, scope(c), in.CertificateArn)
	if err != nil {
		return nil, err
	}
	return &struct{ Certificate wDetail }{detailOut(d)}, nil
}

type listIn struct {
	CertificateStatuses []string
	Includes            *struct {
		KeyTypes []string `json:"keyTypes"`
	}
	NextToken string
	MaxItems  int
}

type wSummary struct {
	CertificateArn                       string
	DomainName                           string
	SubjectAlternativeNameSummaries      []string
	HasAdditionalSubjectAlternativeNames bool
	Status                               string
	Type                                 string
	KeyAlgorithm                         string
	KeyUsages                            []string
	ExtendedKeyUsages                    []string
	InUse                                bool
	RenewalEligibility                   string
	NotBefore                            *awsproto.EpochTime
	NotAfter                             *awsproto.EpochTime
	CreatedAt                            *awsproto.EpochTime
	IssuedAt                             *awsproto.EpochTime `json:",omitempty"`
	ImportedAt                           *awsproto.EpochTime `json:",omitempty"`
}

func (a *API) listCertificates(ctx context.Context, c *awsproto.Call, in *listIn) (any, error) {
	if in.MaxItems < 0 || in.MaxItems > 1000 {
		return nil, fault.New(fault.InvalidParameter, "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", in.MaxItems).WithCode(acm.CodeValidation)
	}
	var keyTypes []string
	if in.Includes != nil {
		keyTypes = in.Includes.KeyTypes
	}
	ds, err := a.plane.List(ctx, scope(c), in.CertificateStatuses, keyTypes)
	if err != nil {
		return nil, err
	}
	n := in.MaxItems
	if n == 0 {
		n = 1000
	}
	page, next, ok := awsproto.Page(ds, in.NextToken, n)
	if !ok {
		return nil, fault.New(fault.InvalidParameter, "The nextToken is not valid.").WithCode("InvalidArgsException")
	}
	out := struct {
		CertificateSummaryList []wSummary
		NextToken              string `json:",omitempty"`
	}{CertificateSummaryList: []wSummary{}, NextToken: next}
	for _, d := range page {
		s := wSummary{CertificateArn: d.ARN, DomainName: d.DomainName, SubjectAlternativeNameSummaries: d.SANs, Status: d.Status,
			Type: d.Type, KeyAlgorithm: d.KeyAlgorithm, KeyUsages: append([]string{}, d.KeyUsages...),
			ExtendedKeyUsages: append([]string{}, d.ExtendedKeyUsages...), InUse: len(d.InUseBy) > 0, RenewalEligibility: acm.RenewalIneligible,
			NotBefore: awsproto.Epoch(d.NotBefore), NotAfter: awsproto.Epoch(d.NotAfter), CreatedAt: awsproto.Epoch(d.CreatedAt)}
		if d.Type == acm.TypeImported {
			s.ImportedAt = awsproto.Epoch(d.ImportedAt)
		} else {
			s.IssuedAt = awsproto.Epoch(d.IssuedAt)
		}
		out.CertificateSummaryList = append(out.CertificateSummaryList, s)
	}
	return &out, nil
}

func (a *API) getCertificate(ctx context.Context, c *awsproto.Call, in *arnIn) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	cert, chain, err := a.plane.Get(ctx, scope(c), in.CertificateArn)
	if err != nil {
		return nil, err
	}
	return &struct {
		Certificate      string
		CertificateChain string `json:",omitempty"`
	}{cert, chain}, nil
}

type empty struct{}

func (a *API) deleteCertificate(ctx context.Context, c *awsproto.Call, in *arnIn) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	return &empty{}, a.plane.Delete(ctx, scope(c), in.CertificateArn)
}

type tagsIO struct {
	CertificateArn string
	Tags           []wTag
}

func (a *API) addTags(ctx context.Context, c *awsproto.Call, in *tagsIO) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	return &empty{}, a.plane.Tag(ctx, scope(c), in.CertificateArn, tagsIn(in.Tags), true)
}

func (a *API) removeTags(ctx context.Context, c *awsproto.Call, in *tagsIO) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	return &empty{}, a.plane.Tag(ctx, scope(c), in.CertificateArn, tagsIn(in.Tags), false)
}

func (a *API) listTags(ctx context.Context, c *awsproto.Call, in *arnIn) (any, error) {
	if err := needARN(in.CertificateArn); err != nil {
		return nil, err
	}
	tags, err := a.plane.Tags(ctx, scope(c), in.CertificateArn)
	if err != nil {
		return nil, err
	}
	out := struct{ Tags []wTag }{Tags: []wTag{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, wTag{Key: t.Key, Value: t.Value})
	}
	return &out, nil
}
