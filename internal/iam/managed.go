package iam

import (
	"strings"
	"time"
)

// awsPolicy is an AWS-managed policy: its path, name and default
// document as AWS publishes it (the versions berth ships; AWS revises
// some of them over time).
type awsPolicy struct {
	path, name, description, doc string
}

var awsPolicies = []awsPolicy{
	{"/", "AdministratorAccess", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{"/", "PowerUserAccess", "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}`},
	{"/", "IAMReadOnlyAccess", "Provides read only access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`},
	{"/service-role/", "AmazonECSTaskExecutionRolePolicy", "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`},
	{"/service-role/", "AmazonEC2ContainerServiceforEC2Role", "Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeTags","ecs:CreateCluster","ecs:DeregisterContainerInstance","ecs:DiscoverPollEndpoint","ecs:Poll","ecs:RegisterContainerInstance","ecs:StartTelemetrySession","ecs:UpdateContainerInstancesState","ecs:Submit*","ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"StringEquals":{"ecs:CreateAction":["CreateCluster","RegisterContainerInstance"]}}}]}`},
	{"/service-role/", "AmazonEC2ContainerServiceRole", "Default policy for Amazon ECS service role.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:AuthorizeSecurityGroupIngress","ec2:Describe*","elasticloadbalancing:DeregisterInstancesFromLoadBalancer","elasticloadbalancing:DeregisterTargets","elasticloadbalancing:Describe*","elasticloadbalancing:RegisterInstancesWithLoadBalancer","elasticloadbalancing:RegisterTargets"],"Resource":"*"}]}`},
	{"/", "AmazonEC2ContainerRegistryReadOnly", "Provides read-only access to Amazon EC2 Container Registry repositories.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings"],"Resource":"*"}]}`},
	{"/", "AmazonEC2ContainerRegistryPowerUser", "Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}`},
	{"/", "AmazonEC2ContainerRegistryFullAccess", "Provides administrative access to Amazon ECR resources",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","cloudtrail:LookupEvents"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole"],"Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":["replication.ecr.amazonaws.com"]}}}]}`},
	{"/", "CloudWatchLogsFullAccess", "Provides full access to CloudWatch Logs",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*","cloudwatch:GenerateQuery"],"Resource":"*"}]}`},
	{"/", "CloudWatchLogsReadOnlyAccess", "Provides read only access to CloudWatch Logs",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:Describe*","logs:Get*","logs:List*","logs:StartQuery","logs:StopQuery","logs:TestMetricFilter","logs:FilterLogEvents","logs:StartLiveTail","logs:StopLiveTail","cloudwatch:GenerateQuery"],"Resource":"*"}]}`},
	{"/", "AmazonSSMReadOnlyAccess", "Provides read only access to Amazon SSM.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:Describe*","ssm:Get*","ssm:List*"],"Resource":"*"}]}`},
	{"/", "AmazonECS_FullAccess", "Provides administrative access to Amazon ECS resources (berth ships the ECS, ECR, ELB, Logs and IAM pass-role parts of AWS's document).",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecs:*","elasticloadbalancing:*","logs:CreateLogGroup","logs:DescribeLogGroups","logs:FilterLogEvents","servicediscovery:*","ssm:GetParametersByPath","ssm:GetParameters","ssm:GetParameter"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringLike":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}`},
}

// awsPolicyCreated is the creation date berth gives AWS-managed policies.
var awsPolicyCreated = time.Date(2017, 11, 17, 0, 0, 0, 0, time.UTC)

// AWSManagedPolicy returns the AWS-managed policy of an ARN
// (arn:aws:iam::aws:policy/...), or nil.
func AWSManagedPolicy(arn string) *Policy {
	for _, p := range awsPolicies {
		if AWSPolicyARN(p.path, p.name) == arn {
			return p.policy()
		}
	}
	return nil
}

// AWSManagedPolicies returns every AWS-managed policy berth knows.
func AWSManagedPolicies() []*Policy {
	out := make([]*Policy, 0, len(awsPolicies))
	for _, p := range awsPolicies {
		out = append(out, p.policy())
	}
	return out
}

// IsAWSManagedARN reports whether arn names an AWS-managed policy.
func IsAWSManagedARN(arn string) bool { return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") }

func (p awsPolicy) policy() *Policy {
	return &Policy{
		Name: p.name, Path: p.path, ARN: AWSPolicyARN(p.path, p.name), ID: "ANPA" + strings.ToUpper(stableID(p.name)),
		Description: p.description, Created: awsPolicyCreated, Updated: awsPolicyCreated, DefaultVersion: "v1",
		Versions: []PolicyVersion{{ID: "v1", Document: p.doc, Created: awsPolicyCreated}}, AWSManaged: true,
	}
}

// stableID derives a fixed 17-character ID from a name.
func stableID(name string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	b := make([]byte, 17)
	for i := range b {
		b[i] = idAlphabet[h%uint64(len(idAlphabet))]
		h = h*6364136223846793005 + 1442695040888963407
	}
	return string(b)
}
