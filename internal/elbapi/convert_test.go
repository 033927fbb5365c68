package elbapi

import (
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/elb"
	"github.com/berth-dev/berth/internal/fault"
)

func TestConditionsRoundTrip(t *testing.T) {
	in := []wConditionIn{
		{Field: "path-pattern", Values: []string{"/a/*"}},
		{Field: "host-header", HostHeaderConfig: &wValues{Values: []string{"*.example.com"}}},
		{Field: "http-header", HttpHeaderConfig: &wHTTPHeaderConfig{HttpHeaderName: "X-Env", Values: []string{"blue"}}},
		{Field: "query-string", QueryStringConfig: &wQueryStringConfig{Values: []wQueryPair{{Key: "v", Value: "2"}}}},
		{Field: "http-request-method", HttpRequestMethodConfig: &wValues{Values: []string{"GET"}}},
		{Field: "source-ip", SourceIpConfig: &wValues{Values: []string{"10.0.0.0/8"}}},
	}
	conds, err := conditionsIn(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []elb.Condition{
		{Field: "path-pattern", Values: []string{"/a/*"}},
		{Field: "host-header", Values: []string{"*.example.com"}},
		{Field: "http-header", HeaderName: "X-Env", Values: []string{"blue"}},
		{Field: "query-string", Query: []elb.QueryPair{{Key: "v", Value: "2"}}},
		{Field: "http-request-method", Values: []string{"GET"}},
		{Field: "source-ip", Values: []string{"10.0.0.0/8"}},
	}
	if !reflect.DeepEqual(conds, want) {
		t.Fatalf("got %+v", conds)
	}
	out := conditionsOut(conds)
	if out[0].PathPatternConfig == nil || !reflect.DeepEqual(out[0].Values, []string{"/a/*"}) ||
		out[2].HttpHeaderConfig.HttpHeaderName != "X-Env" || out[4].Values != nil || out[4].HttpRequestMethodConfig == nil {
		t.Fatalf("out %+v", out)
	}
	for _, bad := range [][]wConditionIn{
		{{Field: "http-header"}},
		{{Field: "query-string"}},
		{{Field: "path-pattern", Values: []string{"/a"}, PathPatternConfig: &wValues{Values: []string{"/b"}}}},
		{{Field: "source-ip", Values: []string{"10.0.0.0/8"}}},
	} {
		if _, err := conditionsIn(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPage(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	two := 2
	var got []int
	marker := ""
	for i := 0; ; i++ {
		pg, next, err := page(items, marker, &two)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pg...)
		if next == "" {
			break
		}
		if i > 5 {
			t.Fatal("no end")
		}
		marker = next
	}
	if !reflect.DeepEqual(got, items) {
		t.Fatalf("pages %v", got)
	}
	zero, big := 0, 401
	for _, ps := range []*int{&zero, &big} {
		if _, _, err := page(items, "", ps); !fault.Is(err, fault.InvalidParameter) {
			t.Errorf("page size %d: %v", *ps, err)
		}
	}
	if _, _, err := page(items, "garbage!", nil); !fault.Is(err, fault.InvalidParameter) {
		t.Errorf("bad marker: %v", err)
	}
}
