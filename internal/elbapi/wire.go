package elbapi

import "time"

// Wire shapes of the ELBv2 API (botocore's elbv2 2015-12-01 model). Inputs
// decode from awsQuery parameters, outputs encode as XML members.

type wTag struct {
	Key   string
	Value *string `json:",omitempty"`
}

type wLoadBalancerState struct {
	Code   string
	Reason string `json:",omitempty"`
}

type wAvailabilityZone struct {
	ZoneName              string
	SubnetId              string
	LoadBalancerAddresses []wLoadBalancerAddress `json:",omitempty"`
}

type wLoadBalancerAddress struct {
	IpAddress string `json:",omitempty"`
}

type wLoadBalancer struct {
	LoadBalancerArn       string
	DNSName               string
	CanonicalHostedZoneId string
	CreatedTime           time.Time
	LoadBalancerName      string
	Scheme                string
	VpcId                 string
	State                 wLoadBalancerState
	Type                  string
	AvailabilityZones     []wAvailabilityZone
	SecurityGroups        []string `json:",omitempty"`
	IpAddressType         string
}

type wMatcher struct {
	HttpCode string `json:",omitempty"`
}

type wTargetGroup struct {
	TargetGroupArn             string
	TargetGroupName            string
	Protocol                   string
	Port                       int
	VpcId                      string
	HealthCheckProtocol        string
	HealthCheckPort            string
	HealthCheckEnabled         bool
	HealthCheckIntervalSeconds int
	HealthCheckTimeoutSeconds  int
	HealthyThresholdCount      int
	UnhealthyThresholdCount    int
	HealthCheckPath            string    `json:",omitempty"`
	Matcher                    *wMatcher `json:",omitempty"`
	LoadBalancerArns           []string
	TargetType                 string
	ProtocolVersion            string `json:",omitempty"`
	IpAddressType              string
}

type wAttribute struct {
	Key   string
	Value string
}

type wTargetDescription struct {
	Id               string
	Port             *int   `json:",omitempty"`
	AvailabilityZone string `json:",omitempty"`
}

type wTargetHealth struct {
	State       string
	Reason      string `json:",omitempty"`
	Description string `json:",omitempty"`
}

type wTargetHealthDescription struct {
	Target          wTargetDescription
	HealthCheckPort string
	TargetHealth    wTargetHealth
}

type wTargetGroupTuple struct {
	TargetGroupArn string
	Weight         *int `json:",omitempty"`
}

type wStickiness struct {
	Enabled         *bool `json:",omitempty"`
	DurationSeconds *int  `json:",omitempty"`
}

type wForwardConfig struct {
	TargetGroups                []wTargetGroupTuple `json:",omitempty"`
	TargetGroupStickinessConfig *wStickiness        `json:",omitempty"`
}

type wRedirectConfig struct {
	Protocol   string  `json:",omitempty"`
	Port       string  `json:",omitempty"`
	Host       string  `json:",omitempty"`
	Path       string  `json:",omitempty"`
	Query      *string `json:",omitempty"`
	StatusCode string
}

type wFixedResponseConfig struct {
	MessageBody string `json:",omitempty"`
	StatusCode  string
	ContentType string `json:",omitempty"`
}

type wAction struct {
	Type                string
	TargetGroupArn      string                `json:",omitempty"`
	Order               *int                  `json:",omitempty"`
	RedirectConfig      *wRedirectConfig      `json:",omitempty"`
	FixedResponseConfig *wFixedResponseConfig `json:",omitempty"`
	ForwardConfig       *wForwardConfig       `json:",omitempty"`
}

type wListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	Certificates    []wCertificate `json:",omitempty"`
	SslPolicy       string         `json:",omitempty"`
	DefaultActions  []wAction
}

type wValues struct {
	Values []string
}

type wHTTPHeaderConfig struct {
	HttpHeaderName string
	Values         []string
}

type wQueryPair struct {
	Key   string `json:",omitempty"`
	Value string
}

type wQueryStringConfig struct {
	Values []wQueryPair
}

type wCondition struct {
	Field                   string
	Values                  []string            `json:",omitempty"`
	HostHeaderConfig        *wValues            `json:",omitempty"`
	PathPatternConfig       *wValues            `json:",omitempty"`
	HttpHeaderConfig        *wHTTPHeaderConfig  `json:",omitempty"`
	QueryStringConfig       *wQueryStringConfig `json:",omitempty"`
	HttpRequestMethodConfig *wValues            `json:",omitempty"`
	SourceIpConfig          *wValues            `json:",omitempty"`
}

type wRule struct {
	RuleArn    string
	Priority   string
	Conditions []wCondition
	Actions    []wAction
	IsDefault  bool
}

type wTagDescription struct {
	ResourceArn string
	Tags        []wTag
}
