package elb

import "github.com/berth-dev/berth/internal/fault"

// ELBv2's exception codes (the awsQuery <Code> of each error).
const (
	CodeValidation            = "ValidationError"
	CodeInvalidConfiguration  = "InvalidConfigurationRequest"
	CodeLoadBalancerNotFound  = "LoadBalancerNotFound"
	CodeDuplicateLBName       = "DuplicateLoadBalancerName"
	CodeTargetGroupNotFound   = "TargetGroupNotFound"
	CodeDuplicateTGName       = "DuplicateTargetGroupName"
	CodeListenerNotFound      = "ListenerNotFound"
	CodeDuplicateListener     = "DuplicateListener"
	CodeRuleNotFound          = "RuleNotFound"
	CodePriorityInUse         = "PriorityInUse"
	CodeInvalidTarget         = "InvalidTarget"
	CodeResourceInUse         = "ResourceInUse"
	CodeOperationNotPermitted = "OperationNotPermitted"
	CodeTooManyTargets        = "TooManyTargets"
	CodeTooManyLoadBalancers  = "TooManyLoadBalancers"
	CodeTooManyTargetGroups   = "TooManyTargetGroups"
	CodeTooManyListeners      = "TooManyListeners"
	CodeTooManyRules          = "TooManyRules"
	CodeTooManyActions        = "TooManyActions"
	CodeTooManyTags           = "TooManyTags"
	CodeDuplicateTagKeys      = "DuplicateTagKeys"
	CodeIncompatibleProtocols = "IncompatibleProtocols"
	CodeUnsupportedProtocol   = "UnsupportedProtocol"
	CodeInvalidSubnet         = "InvalidSubnet"
	CodeInvalidScheme         = "InvalidScheme"
	CodeInvalidAction         = "InvalidLoadBalancerAction"
	CodeTGAssociationLimit    = "TargetGroupAssociationLimit"
	CodeResourceNotFound      = "ResourceNotFound"
)

// Validationf is a ValidationError: the request is malformed.
func Validationf(format string, args ...any) error {
	return fault.New(fault.InvalidParameter, format, args...).WithCode(CodeValidation)
}

// Configf is an InvalidConfigurationRequest: well formed but not allowed.
func Configf(format string, args ...any) error {
	return fault.New(fault.Invalid, format, args...).WithCode(CodeInvalidConfiguration)
}

// Coded returns a client error (400) with an ELBv2 code.
func Coded(code, format string, args ...any) error {
	return fault.New(fault.Invalid, format, args...).WithCode(code)
}

// LoadBalancerNotFound and its siblings are the not-found errors.
func LoadBalancerNotFound() error {
	return fault.NotFoundf("loadbalancer", "One or more load balancers not found").WithCode(CodeLoadBalancerNotFound)
}

func TargetGroupNotFound() error {
	return fault.NotFoundf("targetgroup", "One or more target groups not found").WithCode(CodeTargetGroupNotFound)
}

func ListenerNotFound() error {
	return fault.NotFoundf("listener", "One or more listeners not found").WithCode(CodeListenerNotFound)
}

func RuleNotFound() error {
	return fault.NotFoundf("rule", "One or more rules not found").WithCode(CodeRuleNotFound)
}
