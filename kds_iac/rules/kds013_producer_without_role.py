"""A producer or consumer of a stream cannot run under a role.

## What it does
Reports compute that talks to Kinesis but has no role to take credentials from:

- an EC2 instance, launch template or launch configuration whose user data configures the
  Kinesis Agent (installs or starts `aws-kinesis-agent`, writes `/etc/aws-kinesis/agent.json`,
  holds agent flow settings) or names a stream (a reference to a stream, a stream ARN,
  `--stream-name`, an agent `kinesisStream`), with no instance profile
  (`iam_instance_profile`, `IamInstanceProfile`, `LaunchTemplateData.IamInstanceProfile`).
  An instance launched from a launch template of the scan that has a profile is not
  reported;
- an ECS task definition whose container definitions name a stream (a reference, an ARN,
  a stream's name, an environment variable named `*KINESIS*`) with no task role
  (`task_role_arn`, `TaskRoleArn`). The execution role does not count: it is what ECS uses
  to pull the image and write logs; the containers never get its credentials.

When the role setting comes from a variable, a parameter or a condition, the finding names
it and its default; a role that is known only at deployment (an input without default) is
not reported. User data and container definitions that cannot be read before deployment
are not judged, nor is an instance whose launch template is not a resource of the scan.
What `cfn-init` writes from `AWS::CloudFormation::Init` metadata is not read (yet); a stream's
name as an ordinary word of a script is not taken as naming it (only the forms above are).

## Why is this bad?
Without a role the compute has no AWS credentials of its own, so the agent or the
application can only reach Kinesis with long-term access keys: an IAM user's keys baked into
the image, copied onto the instance, or passed in the environment. Those keys do not expire,
are rarely rotated, and leak with the image, the instance's disk or its configuration. With
an instance profile or a task role, the SDKs and the Kinesis Agent pick up short-lived
credentials that AWS rotates automatically, scoped to what the role allows.

## Remediation
Terraform:

```hcl
resource "aws_iam_instance_profile" "producer" {
  name = "producer"
  role = aws_iam_role.producer.name
}

resource "aws_instance" "producer" {
  ami                  = var.ami
  instance_type        = "t3.micro"
  iam_instance_profile = aws_iam_instance_profile.producer.name
  user_data            = templatefile("${path.module}/agent.sh.tftpl", { stream = aws_kinesis_stream.events.name })
}

resource "aws_ecs_task_definition" "producer" {
  family                = "producer"
  task_role_arn         = aws_iam_role.producer_task.arn
  execution_role_arn    = aws_iam_role.ecs_execution.arn
  container_definitions = jsonencode([{ name = "producer", image = var.image,
    environment = [{ name = "STREAM_NAME", value = aws_kinesis_stream.events.name }] }])
}
```

CloudFormation:

```yaml
Producer:
  Type: AWS::EC2::Instance
  Properties:
    IamInstanceProfile: !Ref ProducerProfile
    UserData: !Base64 ...
ProducerTask:
  Type: AWS::ECS::TaskDefinition
  Properties:
    TaskRoleArn: !GetAtt ProducerTaskRole.Arn
    ContainerDefinitions: [...]
```

## References
- https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
- https://docs.aws.amazon.com/streams/latest/dev/writing-with-agents.html
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
"""

from __future__ import annotations

import re
from typing import Iterator

from kds_iac.model import Model, Unknown
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views import compute
from kds_iac.views.facts import Fact
from kds_iac.views.iam import editable

RULE = Rule(
    id="KDS013",
    checkov_id="CKV_KDS_13",
    severity=Severity.MEDIUM,
    title="A producer or consumer of a Kinesis stream has no role to take credentials from",
    resource_types=compute.MACHINE_TYPES + compute.TASK_TYPES,
    category="IAM",
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "roles-missing": {
                "aws_instance.agent_without_profile": 39,
                "aws_launch_template.cli_without_profile": 53,
                "aws_launch_configuration.arn_without_profile": 65,
                "aws_ecs_task_definition.no_task_role": 88,
                "aws_ecs_task_definition.optional_task_role": 99,
            },
        },
        good=("roles-present", "creds-from-roles", "creds-hardcoded"),
    ),
    "cloudformation": Examples(
        bad={"roles-missing.yaml": {"AgentWithoutProfile": 38, "OptionalProfile": 71, "NoTaskRole": 94}},
        good=("roles-present.yaml", "creds-from-roles.yaml", "creds-hardcoded.yaml"),
    ),
}

_KINESIS_NAME = re.compile(r"kinesis", re.I)


def check(model: Model) -> Iterator[Finding]:
    names = compute.streams_by_name(model)
    for machine in compute.machines(model):
        data = machine.user_data
        if data is None or data.text is None:
            continue
        mentions = compute.mentions_in_text(data.text, names)
        agent = data.configures_agent
        if not mentions and not agent:
            continue
        if compute.present(machine.profile) is not False:
            continue
        if machine.kind == "EC2 instance" and not machine.launch_template.absent:
            template = compute.launch_template_of(machine, model).value
            if not isinstance(template, compute.Machine) or compute.present(template.profile) is not False:
                continue  # the launch template gives the profile, or may
        what = _what_machine_does(agent, mentions)
        message = (
            f"{machine.kind} {machine.address} {what} but has no instance profile "
            f"({_unset(machine.profile, machine.profile_setting)}), so it can reach Kinesis only with "
            f"long-term access keys; give it an instance profile whose role allows the stream actions it needs"
        )
        yield Finding(RULE, editable(machine.resource), message)
    for task in compute.task_definitions(model):
        if compute.present(task.task_role) is not False:
            continue
        containers = task.containers.value
        if not isinstance(containers, list):
            continue
        mentions: list[compute.StreamMention] = []
        for container in containers:
            mentions += compute.mentions_in_value(container.definition, names)
            for name, value in container.environment:
                if _KINESIS_NAME.search(name) and compute.present(value):
                    mentions.append(compute.StreamMention("environment variable", None, name))
        if not mentions:
            continue
        named = _describe_mentions(mentions)
        execution = " (its execution role is for ECS itself, not for the containers)" if compute.present(task.execution_role) else ""
        message = (
            f"ECS task definition {task.address} names {named} but has no task role "
            f"({_unset(task.task_role, task.task_role_setting)}){execution}, so its containers can reach "
            f"Kinesis only with long-term access keys; set a task role that allows the stream actions they need"
        )
        target = editable(task.resource)
        yield Finding(RULE, target, message, line=target.line_of(task.containers_setting))


def _what_machine_does(agent: bool, mentions: list[compute.StreamMention]) -> str:
    parts = []
    if agent:
        parts.append("configures the Kinesis Agent in its user data")
    if mentions:
        parts.append(f"names {_describe_mentions(mentions)} in its user data")
    return " and ".join(parts)


def _describe_mentions(mentions: list[compute.StreamMention]) -> str:
    described: list[str] = []
    for mention in mentions:
        if mention.how == "environment variable":
            text = f"Kinesis in environment variable {mention.text}"
        else:
            text = mention.describe()
        if text not in described:
            described.append(text)
    return ", ".join(described[:4]) + (", ..." if len(described) > 4 else "")


def _unset(fact: Fact, setting: str) -> str:
    provenance = fact.provenance()
    if isinstance(fact.value, Unknown):  # not reached: unknown roles are not reported
        return f"{setting} is known only at deployment"
    text = f"{setting} is not set"
    if provenance:
        text += f" with input defaults; decided by {provenance}"
    return text
