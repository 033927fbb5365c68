package iam

import (
	"crypto/rand"
	"strings"
)

// RoleARN and its siblings build IAM ARNs (no region).
func RoleARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":role" + path + name
}

func UserARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":user" + path + name
}

func PolicyARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":policy" + path + name
}

func InstanceProfileARN(account, path, name string) string {
	return "arn:aws:iam::" + account + ":instance-profile" + path + name
}

func OIDCProviderARN(account, url string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + url
}

// RootARN is the ARN of an account's root user.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

// AssumedRoleARN is the ARN of an assumed-role session.
func AssumedRoleARN(account, roleName, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/" + session
}

// AWSPolicyARN is the ARN of an AWS-managed policy.
func AWSPolicyARN(path, name string) string { return "arn:aws:iam::aws:policy" + path + name }

// ParseARN splits arn:aws:<service>:<region>:<account>:<resource>.
func ParseARN(arn string) (service, region, account, resource string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", "", false
	}
	return parts[2], parts[3], parts[4], parts[5], true
}

// RoleNameFromARN returns the name of a role ARN (the last path segment).
func RoleNameFromARN(arn string) (account, name string, ok bool) {
	svc, _, acct, res, ok := ParseARN(arn)
	if !ok || svc != "iam" || !strings.HasPrefix(res, "role/") {
		return "", "", false
	}
	return acct, res[strings.LastIndex(res, "/")+1:], true
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewID returns an IAM unique ID: prefix (AROA, AIDA, ANPA, AIPA, AKIA,
// ASIA) and random upper-case characters, 21 characters in all (20 for
// access keys, as AWS).
func NewID(prefix string) string {
	n := 17
	if prefix == "AKIA" || prefix == "ASIA" {
		n = 16
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// NewSecret returns a 40-character secret access key.
func NewSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// NewSessionToken returns an opaque session token.
func NewSessionToken() string {
	return "IQoJb3JpZ2luX2Vj" + rand.Text() + rand.Text() + rand.Text() + rand.Text()
}
