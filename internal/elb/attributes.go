package elb

import (
	"sort"
	"strconv"
)

// Attribute is one key/value attribute of a load balancer or target group.
type Attribute struct {
	Key   string
	Value string
}

// attrSpec is an attribute's default and check.
type attrSpec struct {
	def   string
	check func(string) bool
	want  string // what a valid value is, for the error message
}

func boolAttr(def string) attrSpec {
	return attrSpec{def: def, check: func(v string) bool { return v == "true" || v == "false" }, want: "true or false"}
}

func intAttr(def string, lo, hi int) attrSpec {
	return attrSpec{def: def, want: "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi), check: func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}}
}

func enumAttr(def string, vals ...string) attrSpec {
	want := ""
	for i, v := range vals {
		if i > 0 {
			want += ", "
		}
		want += v
	}
	return attrSpec{def: def, want: "one of " + want, check: func(v string) bool {
		for _, x := range vals {
			if v == x {
				return true
			}
		}
		return false
	}}
}

func anyAttr(def string) attrSpec {
	return attrSpec{def: def, check: func(string) bool { return true }}
}

var commonLBAttrs = map[string]attrSpec{
	"access_logs.s3.enabled":      boolAttr("false"),
	"access_logs.s3.bucket":       anyAttr(""),
	"access_logs.s3.prefix":       anyAttr(""),
	"deletion_protection.enabled": boolAttr("false"),
	"zonal_shift.config.enabled":  boolAttr("false"),
}

var albAttrs = merge(commonLBAttrs, map[string]attrSpec{
	"idle_timeout.timeout_seconds":                             intAttr("60", 1, 4000),
	"client_keep_alive.seconds":                                intAttr("3600", 60, 604800),
	"connection_logs.s3.enabled":                               boolAttr("false"),
	"connection_logs.s3.bucket":                                anyAttr(""),
	"connection_logs.s3.prefix":                                anyAttr(""),
	"routing.http.desync_mitigation_mode":                      enumAttr("defensive", "monitor", "defensive", "strictest"),
	"routing.http.drop_invalid_header_fields.enabled":          boolAttr("false"),
	"routing.http.preserve_host_header.enabled":                boolAttr("false"),
	"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolAttr("false"),
	"routing.http.xff_client_port.enabled":                     boolAttr("false"),
	"routing.http.xff_header_processing.mode":                  enumAttr("append", "append", "preserve", "remove"),
	"routing.http2.enabled":                                    boolAttr("true"),
	"waf.fail_open.enabled":                                    boolAttr("false"),
	"load_balancing.cross_zone.enabled":                        enumAttr("true", "true"),
})

var nlbAttrs = merge(commonLBAttrs, map[string]attrSpec{
	"load_balancing.cross_zone.enabled": boolAttr("false"),
	"dns_record.client_routing_policy":  enumAttr("any_availability_zone", "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
})

var tgHealthAttrs = map[string]attrSpec{
	"deregistration_delay.timeout_seconds":                                           intAttr("300", 0, 3600),
	"load_balancing.cross_zone.enabled":                                              enumAttr("use_load_balancer_configuration", "true", "false", "use_load_balancer_configuration"),
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 anyCountAttr(),
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            percentAttr(),
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      intAttr("1", 1, 1000),
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": percentAttr(),
}

var httpTGAttrs = merge(tgHealthAttrs, map[string]attrSpec{
	"stickiness.enabled":                          boolAttr("false"),
	"stickiness.type":                             enumAttr("lb_cookie", "lb_cookie", "app_cookie"),
	"stickiness.lb_cookie.duration_seconds":       intAttr("86400", 1, 604800),
	"stickiness.app_cookie.cookie_name":           anyAttr(""),
	"stickiness.app_cookie.duration_seconds":      intAttr("86400", 1, 604800),
	"slow_start.duration_seconds":                 slowStartAttr(),
	"load_balancing.algorithm.type":               enumAttr("round_robin", "round_robin", "least_outstanding_requests", "weighted_random"),
	"load_balancing.algorithm.anomaly_mitigation": enumAttr("off", "on", "off"),
})

var tcpTGAttrs = merge(tgHealthAttrs, map[string]attrSpec{
	"stickiness.enabled": boolAttr("false"),
	"stickiness.type":    enumAttr("source_ip", "source_ip"),
	"deregistration_delay.connection_termination.enabled":          boolAttr("false"),
	"preserve_client_ip.enabled":                                   boolAttr("false"),
	"proxy_protocol_v2.enabled":                                    boolAttr("false"),
	"target_health_state.unhealthy.connection_termination.enabled": boolAttr("true"),
	"target_health_state.unhealthy.draining_interval_seconds":      intAttr("0", 0, 360000),
})

func anyCountAttr() attrSpec {
	s := intAttr("1", 1, 1000)
	s.check = func(v string) bool { return v == "off" || intAttr("", 1, 1000).check(v) }
	s.want = "off or an integer from 1 to 1000"
	return s
}

func percentAttr() attrSpec {
	s := intAttr("off", 1, 100)
	s.check = func(v string) bool { return v == "off" || intAttr("", 1, 100).check(v) }
	s.want = "off or an integer from 1 to 100"
	return s
}

func slowStartAttr() attrSpec {
	return attrSpec{def: "0", want: "0 (off) or an integer from 30 to 900", check: func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && (n == 0 || n >= 30 && n <= 900)
	}}
}

func merge(a, b map[string]attrSpec) map[string]attrSpec {
	out := make(map[string]attrSpec, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// LBAttributes returns every attribute of a load balancer of type typ:
// AWS's defaults overlaid with the values set, ordered by key.
func LBAttributes(typ string, set map[string]string) []Attribute {
	return withDefaults(lbSpecs(typ), set)
}

func lbSpecs(typ string) map[string]attrSpec {
	if typ == TypeNetwork {
		return nlbAttrs
	}
	return albAttrs
}

// TGAttributes returns every attribute of a target group of the given
// protocol, defaults overlaid with the values set, ordered by key.
func TGAttributes(tg *TargetGroup) []Attribute {
	return withDefaults(tgSpecs(tg.Protocol), tg.Attributes)
}

func tgSpecs(protocol string) map[string]attrSpec {
	if IsHTTP(protocol) {
		return httpTGAttrs
	}
	return tcpTGAttrs
}

func withDefaults(specs map[string]attrSpec, set map[string]string) []Attribute {
	out := make([]Attribute, 0, len(specs))
	for k, s := range specs {
		v := s.def
		if x, ok := set[k]; ok {
			v = x
		}
		out = append(out, Attribute{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// ApplyLBAttributes validates attrs for a load balancer of type typ and
// sets them in set (which it returns, allocated if nil).
func ApplyLBAttributes(typ string, set map[string]string, attrs []Attribute) (map[string]string, error) {
	return apply(lbSpecs(typ), "Load balancer", set, attrs)
}

// ApplyTGAttributes validates attrs for tg and sets them.
func ApplyTGAttributes(tg *TargetGroup, attrs []Attribute) error {
	set, err := apply(tgSpecs(tg.Protocol), "Target group", tg.Attributes, attrs)
	if err != nil {
		return err
	}
	tg.Attributes = set
	return nil
}

func apply(specs map[string]attrSpec, what string, set map[string]string, attrs []Attribute) (map[string]string, error) {
	if len(attrs) == 0 {
		return nil, Validationf("At least one attribute must be specified")
	}
	next := make(map[string]string, len(set)+len(attrs))
	for k, v := range set {
		next[k] = v
	}
	for _, a := range attrs {
		s, ok := specs[a.Key]
		if !ok {
			return nil, Validationf("%s attribute key '%s' is not recognized", what, a.Key)
		}
		if !s.check(a.Value) {
			return nil, Validationf("%s attribute '%s' value '%s' is not valid; it must be %s", what, a.Key, a.Value, s.want)
		}
		next[a.Key] = a.Value
	}
	return next, nil
}

// Attr returns an attribute's effective value (set, else the default).
func Attr(specs map[string]attrSpec, set map[string]string, key string) string {
	if v, ok := set[key]; ok {
		return v
	}
	return specs[key].def
}

// LBAttr returns the effective value of a load balancer attribute.
func (lb *LoadBalancer) Attr(key string) string { return Attr(lbSpecs(lb.Type), lb.Attributes, key) }

// Attr returns the effective value of a target group attribute.
func (tg *TargetGroup) Attr(key string) string { return Attr(tgSpecs(tg.Protocol), tg.Attributes, key) }
