"""Task sets (EXTERNAL deployment controller) and ListServicesByNamespace
for wireshape.py: the calls and their error paths, every answer checked
against botocore's ECS model by the Session's checker."""


def run_task_sets(s, seed):
    ecs = s.ecs
    c = s.call
    c(ecs, "create_cluster", clusterName="wire-ts", serviceConnectDefaults={"namespace": "wire-ns"})
    # berth has no Cloud Map: a cluster's default namespace exists (ECS
    # creates it) and has no services; any other namespace is unknown.
    c(ecs, "list_services_by_namespace", namespace="wire-ns")
    c(ecs, "list_services_by_namespace",
      namespace="arn:aws:servicediscovery:eu-west-1:123456789012:namespace/wire-ns", maxResults=5)
    c(ecs, "list_services_by_namespace", namespace="nope", expect="NamespaceNotFoundException")
    seed = dict(seed, family="wire-ts")
    seed["containerDefinitions"] = [{k: v for k, v in cd.items() if k != "secrets"} for cd in seed["containerDefinitions"]]
    if not c(ecs, "register_task_definition", **seed) or not c(ecs, "register_task_definition", **seed):
        return
    net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/0123456789abcdef"
    ext = {"type": "EXTERNAL"}
    c(ecs, "create_service", cluster="wire-ts", serviceName="ext", desiredCount=2, deploymentController=ext,
      tags=[{"key": "team", "value": "web"}])
    c(ecs, "create_service", cluster="wire-ts", serviceName="bad", taskDefinition="wire-ts:1", desiredCount=1,
      deploymentController=ext, expect="InvalidParameterException")
    c(ecs, "create_service", cluster="wire-ts", serviceName="ecs", taskDefinition="wire-ts:1", desiredCount=0,
      launchType="FARGATE", networkConfiguration=net)
    blue = c(ecs, "create_task_set", cluster="wire-ts", service="ext", taskDefinition="wire-ts:1",
             launchType="FARGATE", networkConfiguration=net, externalId="blue",
             loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
             scale={"value": 100.0, "unit": "PERCENT"}, clientToken="wire-ts-1", tags=[{"key": "color", "value": "blue"}])
    c(ecs, "create_task_set", cluster="wire-ts", service="ext", taskDefinition="wire-ts:1",
      launchType="FARGATE", networkConfiguration=net, clientToken="wire-ts-1")
    green = c(ecs, "create_task_set", cluster="wire-ts", service="ext", taskDefinition="wire-ts:2",
              launchType="FARGATE", networkConfiguration=net, scale={"value": 50.0, "unit": "PERCENT"})
    c(ecs, "create_task_set", cluster="wire-ts", service="ext", taskDefinition="wire-ts:2",
      launchType="FARGATE", networkConfiguration=net, scale={"value": 150.0, "unit": "PERCENT"},
      expect="InvalidParameterException")
    c(ecs, "create_task_set", cluster="wire-ts", service="ecs", taskDefinition="wire-ts:2",
      launchType="FARGATE", networkConfiguration=net, expect="InvalidParameterException")
    c(ecs, "create_task_set", cluster="wire-ts", service="missing", taskDefinition="wire-ts:2",
      launchType="FARGATE", networkConfiguration=net, expect="ServiceNotFoundException")
    if not blue or not green:
        return
    b, g = blue["taskSet"], green["taskSet"]
    c(ecs, "describe_task_sets", cluster="wire-ts", service="ext")
    c(ecs, "describe_task_sets", cluster="wire-ts", service="ext", taskSets=[b["taskSetArn"], "ecs-svc/1234567890123456789"],
      include=["TAGS"])
    c(ecs, "describe_task_sets", cluster="wire-ts", service="ext", taskSets=["not-a-task-set"],
      expect="InvalidParameterException")
    c(ecs, "describe_task_sets", cluster="wire-ts", service="ecs", expect="InvalidParameterException")
    c(ecs, "tag_resource", resourceArn=g["taskSetArn"], tags=[{"key": "color", "value": "green"}])
    c(ecs, "list_tags_for_resource", resourceArn=g["taskSetArn"])
    c(ecs, "untag_resource", resourceArn=g["taskSetArn"], tagKeys=["color"])
    c(ecs, "list_tags_for_resource", resourceArn=g["taskSetArn"].rsplit("/", 1)[0] + "/1234567890123456789",
      expect="InvalidParameterException")
    c(ecs, "update_service_primary_task_set", cluster="wire-ts", service="ext", primaryTaskSet=g["id"])
    c(ecs, "update_service_primary_task_set", cluster="wire-ts", service="ext", primaryTaskSet="ecs-svc/1234567890123456789",
      expect="TaskSetNotFoundException")
    c(ecs, "update_task_set", cluster="wire-ts", service="ext", taskSet=b["id"], scale={"value": 0.0, "unit": "PERCENT"})
    c(ecs, "update_service", cluster="wire-ts", service="ext", desiredCount=4)
    c(ecs, "update_service", cluster="wire-ts", service="ext", taskDefinition="wire-ts:2", expect="InvalidParameterException")
    steady = s.poll(lambda: c(ecs, "describe_task_sets", cluster="wire-ts", service="ext", taskSets=[g["id"]]),
                    lambda o: o["taskSets"] and o["taskSets"][0]["runningCount"] == 2
                    and o["taskSets"][0]["stabilityStatus"] == "STEADY_STATE")
    if not steady or steady["taskSets"][0]["stabilityStatus"] != "STEADY_STATE":
        s.ck.bad("ecs", "DescribeTaskSets", "$.taskSets[0]", f"the 50% task set of desired 4 never ran 2 tasks steadily: {steady}")
    c(ecs, "describe_services", cluster="wire-ts", services=["ext"], include=["TAGS"])
    c(ecs, "delete_task_set", cluster="wire-ts", service="ext", taskSet=g["taskSetArn"], expect="InvalidParameterException")
    c(ecs, "delete_task_set", cluster="wire-ts", service="ext", taskSet=b["taskSetArn"])
    c(ecs, "delete_task_set", cluster="wire-ts", service="ext", taskSet="ecs-svc/1234567890123456789",
      expect="TaskSetNotFoundException")
    c(ecs, "delete_task_set", cluster="wire-ts", service="ext", taskSet=g["id"], force=True)
    c(ecs, "update_service", cluster="wire-ts", service="ext", desiredCount=1)
    c(ecs, "create_task_set", cluster="wire-ts", service="ext", taskDefinition="wire-ts:2",
      launchType="FARGATE", networkConfiguration=net)
    # Deleting the service drains the task set it still has.
    c(ecs, "delete_service", cluster="wire-ts", service="ext", force=True)
    c(ecs, "delete_service", cluster="wire-ts", service="ecs")
    gone = s.poll(lambda: c(ecs, "describe_services", cluster="wire-ts", services=["ext", "ecs"]),
                  lambda o: all(x["status"] == "INACTIVE" for x in o["services"]))
    if not gone or any(x["status"] != "INACTIVE" or x.get("taskSets") for x in gone["services"]):
        s.ck.bad("ecs", "DescribeServices", "$.services", f"the deleted EXTERNAL service did not drain its task set: {gone}")
    c(ecs, "delete_cluster", cluster="wire-ts")
