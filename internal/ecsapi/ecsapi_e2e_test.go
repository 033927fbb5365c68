package ecsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/berthtest"
	"github.com/berth-dev/berth/internal/server"
)

func newClient(t *testing.T) (*ecs.Client, *berthtest.Server) {
	t.Helper()
	srv := berthtest.Start(t)
	return ecs.NewFromConfig(srv.AWSConfig("eu-west-1")), srv
}

func newBenchServer(b *testing.B) *berthtest.Server { return berthtest.Start(b) }

func seedInputB(b *testing.B) *ecs.RegisterTaskDefinitionInput { return seedInput(b) }

// seedInput loads the seed's task definition JSON into the SDK's input type,
// as `aws ecs register-task-definition --cli-input-json` does.
func seedInput(t testing.TB) *ecs.RegisterTaskDefinitionInput {
	t.Helper()
	b, err := os.ReadFile("../../testdata/seed/task-def.json")
	if err != nil {
		t.Fatal(err)
	}
	// The SDK's types use Go field names; decode through a lenient mirror.
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	in := &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("web-app"),
		NetworkMode:             types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu:                     aws.String("512"),
		Memory:                  aws.String("1024"),
		ExecutionRoleArn:        aws.String("arn:aws:iam::123456789012:role/ecs-task-execution-role"),
		TaskRoleArn:             aws.String("arn:aws:iam::123456789012:role/web-app-task-role"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name:         aws.String("web"),
			Image:        aws.String("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app:latest"),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), Protocol: types.TransportProtocolTcp}},
			Environment: []types.KeyValuePair{
				{Name: aws.String("ENV"), Value: aws.String("production")},
				{Name: aws.String("DB_HOST"), Value: aws.String("db.internal")},
			},
			Secrets: []types.Secret{{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String("arn:aws:secretsmanager:...:secret:db-password")}},
			LogConfiguration: &types.LogConfiguration{
				LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{
					"awslogs-group": "/ecs/web-app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web",
				},
			},
			HealthCheck: &types.HealthCheck{
				Command:  []string{"CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"},
				Interval: aws.Int32(30), Timeout: aws.Int32(5), Retries: aws.Int32(3),
			},
		}},
	}
	if raw["family"] != *in.Family {
		t.Fatalf("seed JSON changed: family %v", raw["family"])
	}
	return in
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSeedTaskDefinitionLifecycle(t *testing.T) {
	ctx := t.Context()
	c, _ := newClient(t)

	out, err := c.RegisterTaskDefinition(ctx, seedInput(t))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	td := out.TaskDefinition
	if got := aws.ToString(td.TaskDefinitionArn); got != "arn:aws:ecs:eu-west-1:123456789012:task-definition/web-app:1" {
		t.Errorf("arn = %s", got)
	}
	if td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive || td.RegisteredAt == nil {
		t.Errorf("revision/status/registeredAt = %d %s %v", td.Revision, td.Status, td.RegisteredAt)
	}
	if aws.ToString(td.Cpu) != "512" || aws.ToString(td.Memory) != "1024" || td.NetworkMode != types.NetworkModeAwsvpc {
		t.Errorf("cpu/memory/networkMode = %v %v %v", aws.ToString(td.Cpu), aws.ToString(td.Memory), td.NetworkMode)
	}
	if !slices.Contains(td.Compatibilities, types.CompatibilityFargate) || !slices.Contains(td.Compatibilities, types.CompatibilityEc2) {
		t.Errorf("compatibilities = %v", td.Compatibilities)
	}
	var attrs []string
	for _, a := range td.RequiresAttributes {
		attrs = append(attrs, aws.ToString(a.Name))
	}
	for _, want := range []string{"com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-awslogs", "ecs.capability.secrets.asm.environment-variables", "ecs.capability.task-eni", "ecs.capability.container-health-check", "com.amazonaws.ecs.capability.task-iam-role"} {
		if !slices.Contains(attrs, want) {
			t.Errorf("requiresAttributes lacks %s: %v", want, attrs)
		}
	}
	cd := td.ContainerDefinitions[0]
	if aws.ToBool(cd.Essential) != true || len(cd.Environment) != 2 || aws.ToString(cd.Secrets[0].ValueFrom) != "arn:aws:secretsmanager:...:secret:db-password" {
		t.Errorf("container definition not returned faithfully: %+v", cd)
	}
	if aws.ToInt32(cd.PortMappings[0].HostPort) != 8080 {
		t.Errorf("awsvpc hostPort default = %v, want 8080", cd.PortMappings[0].HostPort)
	}
	if cd.LogConfiguration.Options["awslogs-stream-prefix"] != "web" || cd.HealthCheck.Command[1] != "curl -f http://localhost:8080/health || exit 1" {
		t.Errorf("log/health config: %+v %+v", cd.LogConfiguration, cd.HealthCheck)
	}

	if _, err := c.RegisterTaskDefinition(ctx, seedInput(t)); err != nil {
		t.Fatalf("register 2: %v", err)
	}
	list, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web-app")})
	if err != nil || len(list.TaskDefinitionArns) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	desc, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc})
	if err != nil || !strings.HasSuffix(desc.TaskDefinitionArns[0], "web-app:2") {
		t.Fatalf("list DESC: %v %v", desc, err)
	}
	got, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web-app")})
	if err != nil || got.TaskDefinition.Revision != 2 {
		t.Fatalf("describe latest: %v %v", got, err)
	}
	if _, err := c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web-app:2")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web-app")})
	if err != nil || got.TaskDefinition.Revision != 1 {
		t.Fatalf("describe latest ACTIVE after deregister: %v %v", got, err)
	}
	inactive, _ := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive})
	if len(inactive.TaskDefinitionArns) != 1 {
		t.Errorf("inactive list = %v", inactive.TaskDefinitionArns)
	}
	del, err := c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"web-app:2", "web-app:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || len(del.Failures) != 1 {
		t.Errorf("delete = %+v", del)
	}
	// A deleted revision's number is never reused.
	out, err = c.RegisterTaskDefinition(ctx, seedInput(t))
	if err != nil || out.TaskDefinition.Revision != 3 {
		t.Fatalf("register after delete: %v %v", out, err)
	}
	fams, err := c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{FamilyPrefix: aws.String("web")})
	if err != nil || !slices.Equal(fams.Families, []string{"web-app"}) {
		t.Errorf("families = %v %v", fams, err)
	}
	_, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")})
	if apiCode(err) != "ClientException" {
		t.Errorf("describe missing: %v", err)
	}
}

func TestRegisterTaskDefinitionValidation(t *testing.T) {
	ctx := t.Context()
	c, _ := newClient(t)
	cases := []struct {
		name   string
		mutate func(in *ecs.RegisterTaskDefinitionInput)
		code   string
		msg    string
	}{
		{"fargate needs awsvpc", func(in *ecs.RegisterTaskDefinitionInput) { in.NetworkMode = types.NetworkModeBridge }, "ClientException", "awsvpc"},
		{"bad fargate size", func(in *ecs.RegisterTaskDefinitionInput) { in.Memory = aws.String("256") }, "ClientException", "No Fargate configuration exists for given values: 512 CPU, 256 memory"},
		{"awslogs needs execution role", func(in *ecs.RegisterTaskDefinitionInput) { in.ExecutionRoleArn = nil }, "ClientException", "execution role"},
		{"duplicate container names", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions = append(in.ContainerDefinitions, in.ContainerDefinitions[0])
		}, "ClientException", "unique"},
		{"awsvpc host port must match", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].PortMappings[0].HostPort = aws.Int32(80)
		}, "ClientException", "must match"},
		{"bad protocol", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].PortMappings[0].Protocol = "sctp"
		}, "ClientException", "protocol"},
		{"ec2 container without memory", func(in *ecs.RegisterTaskDefinitionInput) {
			in.RequiresCompatibilities, in.Cpu, in.Memory, in.NetworkMode = nil, nil, nil, types.NetworkModeBridge
		}, "ClientException", "At least one of 'memory' or 'memoryReservation'"},
		{"family chars", func(in *ecs.RegisterTaskDefinitionInput) { in.Family = aws.String("web app") }, "ClientException", "Family"},
		{"unknown dependsOn", func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].DependsOn = []types.ContainerDependency{{ContainerName: aws.String("db"), Condition: types.ContainerConditionStart}}
		}, "ClientException", "dependsOn"},
		{"reserved tag", func(in *ecs.RegisterTaskDefinitionInput) {
			in.Tags = []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}
		}, "InvalidParameterException", "reserved"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := seedInput(t)
			tc.mutate(in)
			_, err := c.RegisterTaskDefinition(ctx, in)
			if apiCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
	// Nothing was half-written by the refused registrations.
	list, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: ""})
	if err != nil || len(list.TaskDefinitionArns) != 0 {
		t.Fatalf("refused registrations left %v (%v)", list.TaskDefinitionArns, err)
	}
	// EC2 with bridge and container memory is fine, and gets EXTERNAL/EC2.
	in := seedInput(t)
	in.RequiresCompatibilities, in.Cpu, in.Memory, in.NetworkMode = nil, nil, nil, types.NetworkModeBridge
	in.ContainerDefinitions[0].Memory = aws.Int32(256)
	out, err := c.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(out.TaskDefinition.Compatibilities, types.CompatibilityFargate) || aws.ToInt32(out.TaskDefinition.ContainerDefinitions[0].PortMappings[0].HostPort) != 0 {
		t.Errorf("bridge definition: compat %v hostPort %v", out.TaskDefinition.Compatibilities, out.TaskDefinition.ContainerDefinitions[0].PortMappings[0].HostPort)
	}
}

func TestClusters(t *testing.T) {
	ctx := t.Context()
	c, _ := newClient(t)
	cr, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cr.Cluster.ClusterArn) != "arn:aws:ecs:eu-west-1:123456789012:cluster/prod-cluster" || aws.ToString(cr.Cluster.Status) != "ACTIVE" {
		t.Errorf("create = %+v", cr.Cluster)
	}
	again, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod-cluster")})
	if err != nil || aws.ToString(again.Cluster.ClusterArn) != aws.ToString(cr.Cluster.ClusterArn) {
		t.Fatalf("create is idempotent: %v %v", again, err)
	}
	for i := range 4 {
		if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("c%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, page.ClusterArns...)
	}
	if len(all) != 5 || pages != 3 {
		t.Errorf("paginated %d clusters in %d pages", len(all), pages)
	}
	d, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod-cluster", "missing"}, Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 1 || len(d.Clusters[0].Tags) != 1 || len(d.Clusters[0].Settings) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe = %+v", d)
	}
	_, err = c.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("prod-cluster"), Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("prod-cluster"), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1, Base: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("prod-cluster"), CapacityProviders: []string{"MY_ASG"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{}})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("unknown capacity provider: %v", err)
	}
	del, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("arn:aws:ecs:eu-west-1:123456789012:cluster/prod-cluster")})
	if err != nil || aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Fatalf("delete: %v %v", del, err)
	}
	_, err = c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("prod-cluster")})
	var cnf *types.ClusterNotFoundException
	if !errors.As(err, &cnf) {
		t.Errorf("delete twice: %v", err)
	}
	d, _ = c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"prod-cluster"}})
	if len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].Status) != "INACTIVE" {
		t.Errorf("describe deleted: %+v", d)
	}
	l, _ := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if len(l.ClusterArns) != 4 {
		t.Errorf("list after delete = %v", l.ClusterArns)
	}
	_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bad name!")})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("bad name: %v", err)
	}
}

func TestTagsAndAccountSettings(t *testing.T) {
	ctx := t.Context()
	c, _ := newClient(t)
	cr, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	arn := cr.Cluster.ClusterArn
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "b" {
		t.Errorf("tags = %+v %v", lt, err)
	}
	_, err = c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:eu-west-1:123456789012:cluster/nope"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("tag missing: %v", err)
	}
	// ListTagsForResource's model does not declare ResourceNotFoundException.
	_, err = c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:eu-west-1:123456789012:cluster/nope")})
	if apiCode(err) != "ClusterNotFoundException" {
		t.Errorf("list tags of a missing cluster: %v", err)
	}
	_, err = c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:eu-west-1:123456789012:task-definition/nope:1")})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("list tags of a missing task definition: %v", err)
	}

	if _, err := c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enabled")}); err != nil {
		t.Fatal(err)
	}
	ls, err := c.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{})
	if err != nil || len(ls.Settings) != 1 || aws.ToString(ls.Settings[0].Value) != "enabled" {
		t.Errorf("settings = %+v %v", ls, err)
	}
	eff, err := c.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameTaskLongArnFormat})
	if err != nil || len(eff.Settings) != 1 || aws.ToString(eff.Settings[0].Value) != "enabled" {
		t.Errorf("effective = %+v %v", eff, err)
	}
	_, err = c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: "bogus", Value: aws.String("x")})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("bogus setting: %v", err)
	}
}

func TestWireErrors(t *testing.T) {
	_, srv := newClient(t)
	post := func(target, body string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m, resp.Header
	}
	st, m, h := post("AmazonEC2ContainerServiceV20141113.NoSuchThing", "{}")
	if st != 400 || m["__type"] != "UnknownOperationException" || h.Get("x-amzn-RequestId") == "" {
		t.Errorf("unknown op: %d %v", st, m)
	}
	st, m, _ = post("AmazonEC2ContainerServiceV20141113.CreateCluster", "{not json")
	if st != 400 || m["__type"] != "SerializationException" {
		t.Errorf("bad json: %d %v", st, m)
	}
	st, m, _ = post("AmazonEC2ContainerServiceV20141113.CreateCluster", `{"clusterName": 5}`)
	if st != 400 || m["__type"] != "SerializationException" {
		t.Errorf("wrong type: %d %v", st, m)
	}
}

func TestSignatureVerifiedForKnownKey(t *testing.T) {
	srv := berthtest.Start(t)
	cfg := srv.AWSConfig("eu-west-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("test", "not-the-secret", "")
	_, err := ecs.NewFromConfig(cfg).ListClusters(t.Context(), &ecs.ListClustersInput{})
	if apiCode(err) != "InvalidSignatureException" {
		t.Fatalf("wrong secret for the known key: got %v", err)
	}
	// An unknown key is accepted in the default (non-strict) mode...
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "whatever", "")
	if _, err := ecs.NewFromConfig(cfg).ListClusters(t.Context(), &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("unknown key in local mode: %v", err)
	}
	// ...and refused in strict mode.
	strict := berthtest.Start(t, func(c *server.Config) { c.StrictAuth = true })
	cfg = strict.AWSConfig("eu-west-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "whatever", "")
	_, err = ecs.NewFromConfig(cfg).ListClusters(t.Context(), &ecs.ListClustersInput{})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key in strict mode: got %v", err)
	}
}
