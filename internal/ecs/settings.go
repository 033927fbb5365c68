package ecs

import "slices"

// AccountSetting is an ECS account setting for a principal (or the account
// default when PrincipalARN is the account root).
type AccountSetting struct {
	Name         string `json:"name"`
	Value        string `json:"value"`
	PrincipalARN string `json:"principalArn"`
	Type         string `json:"type,omitempty"` // "user" or "aws_managed"
}

// settingValues lists each account setting, its valid values and default.
var settingValues = map[string]struct {
	valid []string
	def   string
}{
	"serviceLongArnFormat":            {[]string{"enabled", "disabled"}, "enabled"},
	"taskLongArnFormat":               {[]string{"enabled", "disabled"}, "enabled"},
	"containerInstanceLongArnFormat":  {[]string{"enabled", "disabled"}, "enabled"},
	"awsvpcTrunking":                  {[]string{"enabled", "disabled"}, "disabled"},
	"containerInsights":               {[]string{"enabled", "disabled", "enhanced"}, "disabled"},
	"fargateFIPSMode":                 {[]string{"enabled", "disabled"}, "disabled"},
	"tagResourceAuthorization":        {[]string{"on", "off"}, "on"},
	"fargateTaskRetirementWaitPeriod": {[]string{"0", "7", "14"}, "7"},
	"guardDutyActivate":               {[]string{"on", "off"}, "off"},
	"defaultLogDriverMode":            {[]string{"blocking", "non-blocking"}, "blocking"},
}

// AccountSettingNames returns every setting name, sorted.
func AccountSettingNames() []string {
	out := make([]string, 0, len(settingValues))
	for n := range settingValues {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// DefaultSettingValue returns the AWS default of a setting.
func DefaultSettingValue(name string) string { return settingValues[name].def }

// ValidateAccountSetting checks a setting name and value.
func ValidateAccountSetting(name, value string) error {
	s, ok := settingValues[name]
	if !ok {
		return invalidParam("Invalid account setting name %q. Valid names: %v.", name, AccountSettingNames())
	}
	if !slices.Contains(s.valid, value) {
		return invalidParam("Invalid value %q for account setting %s. Valid values: %v.", value, name, s.valid)
	}
	return nil
}
