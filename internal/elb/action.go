package elb

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Action types.
const (
	ActionForward       = "forward"
	ActionRedirect      = "redirect"
	ActionFixedResponse = "fixed-response"
)

// Action is a listener or rule action.
type Action struct {
	Type          string
	Order         int // 0: not given
	Forward       *Forward
	Redirect      *Redirect
	FixedResponse *FixedResponse
}

// Forward sends requests to one target group or splits them by weight.
type Forward struct {
	TargetGroups []WeightedTargetGroup
	// Single is true when the request named one TargetGroupArn (the
	// response then carries it too, as AWS's does).
	Single     bool
	Stickiness Stickiness
}

// WeightedTargetGroup is a target group of a forward with its weight.
type WeightedTargetGroup struct {
	ARN    string
	Weight int
}

// Stickiness is target group stickiness of a weighted forward.
type Stickiness struct {
	Enabled         bool
	DurationSeconds int
}

// Redirect answers with a redirect; empty fields keep the request's part
// ("#{protocol}" and friends).
type Redirect struct {
	Protocol   string
	Port       string
	Host       string
	Path       string
	Query      string
	StatusCode string // HTTP_301 or HTTP_302
}

// FixedResponse answers with a fixed status and body.
type FixedResponse struct {
	StatusCode  string
	ContentType string
	MessageBody string
}

// ActionInput is an action as a request gives it.
type ActionInput struct {
	Type           string
	Order          int
	TargetGroupARN string
	Forward        *ForwardInput
	Redirect       *Redirect
	FixedResponse  *FixedResponse
}

// ForwardInput is a ForwardConfig as given.
type ForwardInput struct {
	TargetGroups []WeightedTargetGroupInput
	Stickiness   *StickinessInput
}

// WeightedTargetGroupInput is a TargetGroupTuple as given.
type WeightedTargetGroupInput struct {
	ARN    string
	Weight *int
}

// StickinessInput is a TargetGroupStickinessConfig as given.
type StickinessInput struct {
	Enabled         *bool
	DurationSeconds *int
}

var statusCode = regexp.MustCompile(`^[245]\d\d$`)

var contentTypes = map[string]bool{"text/plain": true, "text/css": true, "text/html": true, "application/javascript": true, "application/json": true}

// BuildActions validates the actions of a listener or rule of a load
// balancer of type lbType and returns them ordered. Target groups are only
// checked for shape here; the control plane checks that they exist.
func BuildActions(lbType string, in []ActionInput) ([]Action, error) {
	if len(in) == 0 {
		return nil, Validationf("At least one action must be specified")
	}
	if len(in) > 5 {
		return nil, Coded(CodeTooManyActions, "A rule can have at most 5 actions")
	}
	out := make([]Action, 0, len(in))
	orders := map[int]bool{}
	for _, a := range in {
		act, err := buildAction(lbType, a)
		if err != nil {
			return nil, err
		}
		if a.Order != 0 {
			if a.Order < 1 || a.Order > 50000 {
				return nil, Validationf("Action order %d is not valid; it must be from 1 to 50000", a.Order)
			}
			if orders[a.Order] {
				return nil, Validationf("Action order %d is used by more than one action", a.Order)
			}
			orders[a.Order] = true
		}
		out = append(out, act)
	}
	if len(out) > 1 {
		for _, a := range in {
			if a.Order == 0 {
				return nil, Validationf("An order must be specified for each action when there are several")
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	}
	for i, a := range out {
		if terminal := a.Type == ActionForward || a.Type == ActionRedirect || a.Type == ActionFixedResponse; terminal != (i == len(out)-1) {
			return nil, Coded(CodeInvalidAction, "Exactly one of forward, redirect and fixed-response must be specified, as the last action")
		}
	}
	return out, nil
}

func buildAction(lbType string, a ActionInput) (Action, error) {
	act := Action{Type: a.Type, Order: a.Order}
	if lbType == TypeNetwork && a.Type != ActionForward {
		return act, Coded(CodeInvalidAction, "Network load balancer listeners support only 'forward' actions, not '%s'", a.Type)
	}
	switch a.Type {
	case ActionForward:
		f, err := buildForward(lbType, a)
		act.Forward = f
		return act, err
	case ActionRedirect:
		if a.Redirect == nil {
			return act, Validationf("A redirect action needs a RedirectConfig")
		}
		r := *a.Redirect
		if err := checkRedirect(&r); err != nil {
			return act, err
		}
		act.Redirect = &r
	case ActionFixedResponse:
		if a.FixedResponse == nil {
			return act, Validationf("A fixed-response action needs a FixedResponseConfig")
		}
		f := *a.FixedResponse
		if !statusCode.MatchString(f.StatusCode) {
			return act, Validationf("Fixed response status code '%s' is not valid; it must be 2XX, 4XX or 5XX", f.StatusCode)
		}
		if f.ContentType != "" && !contentTypes[f.ContentType] {
			return act, Validationf("Fixed response content type '%s' is not valid; valid values: text/plain, text/css, text/html, application/javascript, application/json", f.ContentType)
		}
		if len(f.MessageBody) > 1024 {
			return act, Validationf("Fixed response message body must have at most 1024 characters")
		}
		act.FixedResponse = &f
	case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
		return act, Coded(CodeInvalidAction, "Action type '%s' is not supported by berth; use forward, redirect or fixed-response", a.Type)
	case "":
		return act, Validationf("An action type must be specified")
	default:
		return act, Validationf("Action type '%s' is not valid; valid values: forward, redirect, fixed-response", a.Type)
	}
	return act, nil
}

func buildForward(lbType string, a ActionInput) (*Forward, error) {
	f := &Forward{}
	if a.Forward != nil {
		for _, t := range a.Forward.TargetGroups {
			w := 1
			if t.Weight != nil {
				w = *t.Weight
			}
			if w < 0 || w > 999 {
				return nil, Validationf("Target group weight %d is not valid; it must be from 0 to 999", w)
			}
			if _, err := ParseARN(t.ARN, KindTargetGroup); err != nil {
				return nil, err
			}
			for _, x := range f.TargetGroups {
				if x.ARN == t.ARN {
					return nil, Validationf("Target group '%s' is listed twice in the forward action", t.ARN)
				}
			}
			f.TargetGroups = append(f.TargetGroups, WeightedTargetGroup{ARN: t.ARN, Weight: w})
		}
		if s := a.Forward.Stickiness; s != nil {
			if s.Enabled != nil {
				f.Stickiness.Enabled = *s.Enabled
			}
			if s.DurationSeconds != nil {
				if *s.DurationSeconds < 1 || *s.DurationSeconds > 604800 {
					return nil, Validationf("Target group stickiness duration %d is not valid; it must be from 1 to 604800 seconds", *s.DurationSeconds)
				}
				f.Stickiness.DurationSeconds = *s.DurationSeconds
			}
			if f.Stickiness.Enabled && f.Stickiness.DurationSeconds == 0 {
				return nil, Validationf("A duration must be specified when target group stickiness is enabled")
			}
		}
	}
	switch {
	case a.TargetGroupARN != "" && len(f.TargetGroups) == 0:
		if _, err := ParseARN(a.TargetGroupARN, KindTargetGroup); err != nil {
			return nil, err
		}
		f.TargetGroups = []WeightedTargetGroup{{ARN: a.TargetGroupARN, Weight: 1}}
		f.Single = true
	case a.TargetGroupARN != "":
		if len(f.TargetGroups) != 1 || f.TargetGroups[0].ARN != a.TargetGroupARN {
			return nil, Validationf("TargetGroupArn and ForwardConfig both given must name the same, single target group")
		}
		f.Single = true
	case len(f.TargetGroups) == 0:
		return nil, Validationf("A forward action needs a TargetGroupArn or a ForwardConfig with target groups")
	}
	if len(f.TargetGroups) > MaxTargetGroupsPerForward {
		return nil, Validationf("A forward action can have at most %d target groups", MaxTargetGroupsPerForward)
	}
	if lbType == TypeNetwork && len(f.TargetGroups) > 1 {
		return nil, Coded(CodeInvalidAction, "Network load balancer listeners can forward to only one target group")
	}
	return f, nil
}

func checkRedirect(r *Redirect) error {
	if r.StatusCode != "HTTP_301" && r.StatusCode != "HTTP_302" {
		return Validationf("Redirect status code '%s' is not valid; valid values: HTTP_301, HTTP_302", r.StatusCode)
	}
	if r.Protocol == "" {
		r.Protocol = "#{protocol}"
	}
	if r.Port == "" {
		r.Port = "#{port}"
	}
	if r.Host == "" {
		r.Host = "#{host}"
	}
	if r.Path == "" {
		r.Path = "/#{path}"
	}
	if r.Query == "" {
		r.Query = "#{query}"
	}
	switch strings.ToUpper(r.Protocol) {
	case "HTTP", "HTTPS", "#{PROTOCOL}":
	default:
		return Validationf("Redirect protocol '%s' is not valid; valid values: HTTP, HTTPS, #{protocol}", r.Protocol)
	}
	if r.Port != "#{port}" {
		if n, err := strconv.Atoi(r.Port); err != nil || n < 1 || n > 65535 {
			return Validationf("Redirect port '%s' is not valid; it must be from 1 to 65535 or #{port}", r.Port)
		}
	}
	if !strings.HasPrefix(r.Path, "/") {
		return Validationf("Redirect path '%s' is not valid; it must begin with '/'", r.Path)
	}
	if r.Protocol == "#{protocol}" && r.Port == "#{port}" && r.Host == "#{host}" && r.Path == "/#{path}" && r.Query == "#{query}" {
		return Coded(CodeInvalidAction, "The redirect must change at least one of protocol, port, host, path or query, or it would loop")
	}
	return nil
}

// TargetGroupARNs returns the target groups the actions forward to.
func TargetGroupARNs(actions []Action) []string {
	var out []string
	for _, a := range actions {
		if a.Forward != nil {
			for _, t := range a.Forward.TargetGroups {
				out = append(out, t.ARN)
			}
		}
	}
	return out
}
