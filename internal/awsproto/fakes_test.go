package awsproto

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Fake services shared by the router, golden and fuzz tests.

type fakeItem struct {
	Name   string            `json:"name"`
	Size   int64             `json:"size,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Parts  []fakeItem        `json:"parts,omitempty"`
}

type echoInput struct {
	Name    string     `json:"name"`
	Count   *int       `json:"count,omitempty"`
	Enabled bool       `json:"enabled,omitempty"`
	Ratio   float64    `json:"ratio,omitempty"`
	Tags    []string   `json:"tags,omitempty"`
	Items   []fakeItem `json:"items,omitempty"`
	Item    *fakeItem  `json:"item,omitempty"`
	At      *EpochTime `json:"at,omitempty"`
}

type echoOutput struct {
	Input     echoInput `json:"input"`
	Region    string    `json:"region"`
	Account   string    `json:"account"`
	Operation string    `json:"operation"`
}

var errFakeNotFound = errors.New("thing not found")

func echo(ctx context.Context, c *Call, in *echoInput) (any, error) {
	return &echoOutput{Input: *in, Region: c.Region, Account: c.Account, Operation: c.Operation}, nil
}

func fakeOps() map[string]Op {
	return map[string]Op{
		"Echo": Handle(echo),
		"Fail": Handle(func(ctx context.Context, c *Call, in *echoInput) (any, error) {
			return nil, Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The thing %q does not exist.", in.Name)
		}),
		"Mapped": Handle(func(ctx context.Context, c *Call, in *struct{}) (any, error) {
			return nil, errFakeNotFound
		}),
		"Internal": Handle(func(ctx context.Context, c *Call, in *struct{}) (any, error) {
			return nil, errors.New("disk on fire")
		}),
		"Boom": Handle(func(ctx context.Context, c *Call, in *struct{}) (any, error) {
			panic("kaboom")
		}),
	}
}

func mapFake(err error) *Error {
	if errors.Is(err, errFakeNotFound) {
		return Errorf(http.StatusBadRequest, "ThingNotFoundException", "%v", err)
	}
	return nil
}

type describeThingsInput struct {
	Names      []string          `json:"names"`
	MaxRecords *int              `json:"maxRecords"`
	Filters    map[string]string `json:"filters"`
}

type describeThingsOutput struct {
	Things    []fakeItem `json:"things"`
	NextToken *string    `json:"nextToken,omitempty"`
	Created   time.Time  `json:"created"`
}

func fakeServices() []*Service {
	jsonSvc := &Service{SigningName: "fake", Protocol: JSON11, TargetPrefix: "FakeService_20240101", Ops: fakeOps(), MapError: mapFake}
	json10 := &Service{SigningName: "fake10", Protocol: JSON10, TargetPrefix: "Fake10_20240101", Ops: fakeOps(), MapError: mapFake}
	query := &Service{SigningName: "fakeq", Protocol: Query, XMLNamespace: "https://fakeq.example.com/doc/2024-01-01/",
		Ops: map[string]Op{
			"DescribeThings": Handle(func(ctx context.Context, c *Call, in *describeThingsInput) (any, error) {
				out := &describeThingsOutput{Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
				for _, n := range in.Names {
					out.Things = append(out.Things, fakeItem{Name: n, Labels: in.Filters})
				}
				if in.MaxRecords != nil && *in.MaxRecords < len(out.Things) {
					next := out.Things[*in.MaxRecords].Name
					out.Things, out.NextToken = out.Things[:*in.MaxRecords], &next
				}
				return out, nil
			}),
			"Fail":     fakeOps()["Fail"],
			"Internal": fakeOps()["Internal"],
			"Boom":     fakeOps()["Boom"],
		}}
	rest := &Service{SigningName: "fakerest", Protocol: RestJSON,
		Routes: []Route{
			{Method: "GET", Path: "/things/{name}", Operation: "GetThing"},
			{Method: "POST", Path: "/things", Operation: "CreateThing", Status: http.StatusCreated},
		},
		Ops: map[string]Op{
			"GetThing": Handle(func(ctx context.Context, c *Call, in *struct {
				Name  string `json:"-" location:"uri" locationName:"name"`
				Depth int    `json:"-" location:"querystring" locationName:"depth"`
			}) (any, error) {
				if in.Name == "missing" {
					return nil, Errorf(http.StatusNotFound, "ResourceNotFoundException", "No thing named %s.", in.Name)
				}
				return map[string]any{"thing": fakeItem{Name: in.Name, Size: int64(in.Depth)}}, nil
			}),
			"CreateThing": Handle(func(ctx context.Context, c *Call, in *fakeItem) (any, error) {
				return map[string]any{"thing": in}, nil
			}),
		}}
	return []*Service{jsonSvc, json10, query, rest}
}

func fakeRouter(maxBody int64) *Router {
	auth := NewSigV4(SigV4Config{Now: fixedNow})
	return NewRouter(RouterConfig{Auth: auth, MaxBodyBytes: maxBody, DefaultRegion: "us-west-2"}, fakeServices()...)
}
