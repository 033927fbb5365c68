package server

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/awsproto"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamcp"
)

// iamAuthorizer is the Router's Authorizer under --enforce-iam: it names
// the IAM action of each call (<service prefix>:<operation>) and, where
// cheap, its resource ARN, and asks the IAM plane whether the caller's
// identity policies allow it.
type iamAuthorizer struct {
	plane *iamcp.Plane
	// resolvers give a service's resource ARN from the call's input; a
	// service without one is authorized on "*".
	resolvers map[string]func(c *awsproto.Call, p awsproto.Params) string
	// secret finds the secret a Secrets Manager call names (by name in
	// the caller's account and region, or by ARN in the ARN's): its ARN,
	// owner and resource policy. nil without Secrets Manager.
	secret func(ctx context.Context, account, region, id string) (secretInfo, bool)
}

// secretInfo is what authorization needs of a secret.
type secretInfo struct{ ARN, Account, Policy string }

func newIAMAuthorizer(plane *iamcp.Plane, secret func(ctx context.Context, account, region, id string) (secretInfo, bool)) *iamAuthorizer {
	return &iamAuthorizer{plane: plane, secret: secret, resolvers: map[string]func(*awsproto.Call, awsproto.Params) string{
		"ecs":                  ecsResource,
		"ecr":                  ecrResource,
		"logs":                 logsResource,
		"ssm":                  ssmResource,
		"secretsmanager":       secretResource,
		"sts":                  stsResource,
		"iam":                  iamResource,
		"elasticloadbalancing": elbResource,
		// Application Auto Scaling authorizes scalable targets by ARN on
		// the tag operations; the others are on "*", as on AWS.
		"application-autoscaling": func(_ *awsproto.Call, p awsproto.Params) string { return p.Get("ResourceARN") },
	}}
}

// unconditional operations are allowed to every authenticated caller, as
// on AWS.
var unconditional = map[string]bool{"sts:GetCallerIdentity": true}

// Authorize implements awsproto.Authorizer. A call on a secret is
// decided with its resource policy too (AuthorizeResource), for every
// caller, the account's root included: a resource policy's explicit Deny
// binds it, and a caller of another account needs the policy's Allow.
func (a *iamAuthorizer) Authorize(ctx context.Context, c *awsproto.Call, p awsproto.Params) error {
	if c.Service == "secretsmanager" && a.secret != nil && p.Get("SecretId") != "" {
		account, region := c.Account, c.Region
		id := p.Get("SecretId")
		if parts := strings.SplitN(id, ":", 7); len(parts) == 7 && parts[0] == "arn" && parts[2] == "secretsmanager" {
			region, account = parts[3], parts[4]
		}
		if sec, ok := a.secret(ctx, account, region, id); ok {
			caller := iamcp.Caller{Account: c.Account, Principal: c.Principal, PrincipalID: c.PrincipalID, AccessKey: c.AccessKey}
			// A secret's ARN has a random suffix that policies match
			// ("secret:prod/db-??????"): it is named exactly.
			return a.plane.AuthorizeResource(ctx, caller, c.Service+":"+c.Operation, sec.ARN, sec.Account, sec.Policy,
				map[string][]string{"aws:RequestedRegion": {c.Region}})
		}
	}
	if c.Principal == "" {
		return nil
	}
	action := c.Service + ":" + c.Operation
	if unconditional[action] {
		return nil
	}
	resource := "*"
	if r := a.resolvers[c.Service]; r != nil {
		if res := r(c, p); res != "" {
			resource = res
		}
	}
	caller := iamcp.Caller{Account: c.Account, Principal: c.Principal, PrincipalID: c.PrincipalID, AccessKey: c.AccessKey}
	return a.plane.Authorize(ctx, caller, action, resource, map[string][]string{"aws:RequestedRegion": {c.Region}})
}

func regional(c *awsproto.Call, service, resource string) string {
	return "arn:aws:" + service + ":" + c.Region + ":" + c.Account + ":" + resource
}

// orARN returns v when it is already an ARN, else the ARN mk builds.
func orARN(v string, mk func(string) string) string {
	if v == "" {
		return ""
	}
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	return mk(v)
}

func ecsResource(c *awsproto.Call, p awsproto.Params) string {
	switch c.Operation {
	case "RunTask", "StartTask":
		return orARN(p.Get("taskDefinition"), func(v string) string { return regional(c, "ecs", "task-definition/"+v) })
	case "CreateCluster":
		return orARN(p.Get("clusterName"), func(v string) string { return regional(c, "ecs", "cluster/"+v) })
	case "DeleteCluster", "UpdateCluster", "PutClusterCapacityProviders", "UpdateClusterSettings":
		return orARN(p.Get("cluster"), func(v string) string { return regional(c, "ecs", "cluster/"+v) })
	case "DescribeTaskDefinition", "DeregisterTaskDefinition":
		return orARN(p.Get("taskDefinition"), func(v string) string { return regional(c, "ecs", "task-definition/"+v) })
	case "StopTask", "DescribeTaskProtection", "UpdateTaskProtection":
		return orARN(p.Get("task"), func(v string) string { return regional(c, "ecs", "task/"+clusterName(p)+"/"+v) })
	case "CreateService":
		return regional(c, "ecs", "service/"+clusterName(p)+"/"+p.Get("serviceName"))
	case "UpdateService", "DeleteService":
		return orARN(p.Get("service"), func(v string) string { return regional(c, "ecs", "service/"+clusterName(p)+"/"+v) })
	case "ExecuteCommand":
		return orARN(p.Get("task"), func(v string) string { return regional(c, "ecs", "task/"+clusterName(p)+"/"+v) })
	}
	return ""
}

// clusterName is the name of a call's cluster ("default" when absent).
func clusterName(p awsproto.Params) string {
	c := p.Get("cluster")
	if c == "" {
		return "default"
	}
	if i := strings.LastIndex(c, "/"); strings.HasPrefix(c, "arn:") && i >= 0 {
		return c[i+1:]
	}
	return c
}

func ecrResource(c *awsproto.Call, p awsproto.Params) string {
	if name := p.Get("repositoryName"); name != "" {
		return regional(c, "ecr", "repository/"+name)
	}
	return ""
}

func logsResource(c *awsproto.Call, p awsproto.Params) string {
	g := p.Get("logGroupName")
	if g == "" {
		return ""
	}
	if s := p.Get("logStreamName"); s != "" && (c.Operation == "PutLogEvents" || c.Operation == "GetLogEvents" || c.Operation == "CreateLogStream") {
		return regional(c, "logs", "log-group:"+g+":log-stream:"+s)
	}
	return regional(c, "logs", "log-group:"+g)
}

func ssmResource(c *awsproto.Call, p awsproto.Params) string {
	return orARN(p.Get("Name"), func(v string) string { return regional(c, "ssm", "parameter/"+strings.TrimPrefix(v, "/")) })
}

func secretResource(c *awsproto.Call, p awsproto.Params) string {
	id := p.Get("SecretId")
	if id == "" {
		id = p.Get("Name")
	}
	return orARN(id, func(v string) string { return regional(c, "secretsmanager", "secret:"+v) })
}

func stsResource(_ *awsproto.Call, p awsproto.Params) string { return p.Get("RoleArn") }

func iamResource(c *awsproto.Call, p awsproto.Params) string {
	switch {
	case p.Get("RoleName") != "":
		return iam.RoleARN(c.Account, "/", p.Get("RoleName"))
	case p.Get("UserName") != "":
		return iam.UserARN(c.Account, "/", p.Get("UserName"))
	case p.Get("PolicyArn") != "":
		return p.Get("PolicyArn")
	}
	return ""
}

func elbResource(_ *awsproto.Call, p awsproto.Params) string {
	for _, m := range []string{"LoadBalancerArn", "TargetGroupArn", "ListenerArn", "RuleArn"} {
		if v := p.Get(m); v != "" {
			return v
		}
	}
	return ""
}

var _ awsproto.Authorizer = (*iamAuthorizer)(nil)
