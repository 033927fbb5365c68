package ecs

import (
	"strings"
	"testing"
	"time"
)

func TestNewServiceValidationAndDefaults(t *testing.T) {
	sc := Scope{Account: "123456789012", Region: "eu-west-1"}
	cl := &Cluster{Name: "prod", ARN: sc.ClusterARN("prod")}
	port, bake := 8080, 5
	td := &TaskDefinition{ARN: sc.TaskDefinitionARN("web", 1), Family: "web", Revision: 1, NetworkMode: NetworkAwsvpc, CPU: "256", Memory: "512",
		Compatibilities:      []string{LaunchEC2, LaunchFargate},
		ContainerDefinitions: []ContainerDefinition{{Name: "web", PortMappings: []PortMapping{{ContainerPort: &port}}}}}
	three := 3
	net := &NetworkConfiguration{AwsvpcConfiguration: &AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
	base := func() ServiceSpec {
		return ServiceSpec{Name: "web", TaskDefinition: td, DesiredCount: &three, LaunchType: LaunchFargate, NetworkConfiguration: net}
	}
	s, err := NewService(sc, cl, base(), "ecs-svc/1", time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.ARN != "arn:aws:ecs:eu-west-1:123456789012:service/prod/web" || *s.DeploymentConfiguration.MaximumPercent != 200 ||
		*s.DeploymentConfiguration.MinimumHealthyPercent != 100 || s.SchedulingStrategy != SchedulingReplica ||
		len(s.Deployments) != 1 || s.Deployments[0].RolloutState != RolloutInProgress || s.ServiceDeployments[0].Status != SDInProgress {
		t.Fatalf("%+v", s)
	}
	for _, c := range []struct {
		name string
		edit func(*ServiceSpec)
		want string
	}{
		{"bad name", func(s *ServiceSpec) { s.Name = "bad name" }, "Service name can only contain"},
		{"no desired count", func(s *ServiceSpec) { s.DesiredCount = nil }, "desiredCount is required"},
		{"negative", func(s *ServiceSpec) { n := -1; s.DesiredCount = &n }, "desiredCount can't be less than 0"},
		{"no network", func(s *ServiceSpec) { s.NetworkConfiguration = nil }, "Network Configuration must be provided"},
		{"daemon on fargate", func(s *ServiceSpec) { s.SchedulingStrategy = SchedulingDaemon }, "not supported with the FARGATE launch type"},
		{"code deploy", func(s *ServiceSpec) { s.DeploymentController = &DeploymentController{Type: "CODE_DEPLOY"} }, "berth has no CodeDeploy"},
		{"linear without a load balancer", func(s *ServiceSpec) { s.DeploymentConfiguration = &DeploymentConfiguration{Strategy: "LINEAR"} }, "needs a load balancer with an advancedConfiguration"},
		{"lifecycle hooks", func(s *ServiceSpec) {
			s.DeploymentConfiguration = &DeploymentConfiguration{Strategy: "BLUE_GREEN", LifecycleHooks: []map[string]any{{"targetType": "AWS_LAMBDA"}}}
		}, "berth has no AWS Lambda"},
		{"blue green without bake time", func(s *ServiceSpec) {
			s.DeploymentConfiguration = &DeploymentConfiguration{Strategy: "BLUE_GREEN"}
		}, "bakeTimeInMinutes must be provided"},
		{"blue green without advancedConfiguration", func(s *ServiceSpec) {
			s.DeploymentConfiguration = &DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: &bake}
			s.LoadBalancers = []LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1", ContainerName: "web", ContainerPort: &port}}
		}, "advancedConfiguration is required"},
		{"blue green same groups", func(s *ServiceSpec) {
			tg := "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1"
			s.DeploymentConfiguration = &DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: &bake}
			s.LoadBalancers = []LoadBalancer{{TargetGroupARN: tg, ContainerName: "web", ContainerPort: &port, AdvancedConfiguration: &AdvancedConfiguration{
				AlternateTargetGroupARN: tg, ProductionListenerRule: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/a/1/2/3",
				RoleARN: "arn:aws:iam::123456789012:role/ecs-elb"}}}
		}, "must differ"},
		{"min over 100", func(s *ServiceSpec) {
			n := 150
			s.DeploymentConfiguration = &DeploymentConfiguration{MinimumHealthyPercent: &n}
		}, "between 0 and 100"},
		{"lb container", func(s *ServiceSpec) {
			s.LoadBalancers = []LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1", ContainerName: "nope", ContainerPort: &port}}
		}, "The container nope does not exist"},
		{"lb port", func(s *ServiceSpec) {
			p := 9999
			s.LoadBalancers = []LoadBalancer{{TargetGroupARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1", ContainerName: "web", ContainerPort: &p}}
		}, "did not have a container port 9999"},
		{"lb arn", func(s *ServiceSpec) {
			s.LoadBalancers = []LoadBalancer{{TargetGroupARN: "tg", ContainerName: "web", ContainerPort: &port}}
		}, "Invalid targetGroupArn"},
	} {
		spec := base()
		c.edit(&spec)
		if _, err := NewService(sc, cl, spec, "ecs-svc/1", time.Unix(1, 0)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// DAEMON on EC2: 100/0, the desired count is the scheduler's.
	spec := base()
	spec.SchedulingStrategy, spec.LaunchType = SchedulingDaemon, LaunchEC2
	d, err := NewService(sc, cl, spec, "ecs-svc/1", time.Unix(1, 0))
	if err != nil || *d.DeploymentConfiguration.MaximumPercent != 100 || *d.DeploymentConfiguration.MinimumHealthyPercent != 0 || d.DesiredCount != 0 {
		t.Fatalf("daemon: %v %+v", err, d)
	}
}
