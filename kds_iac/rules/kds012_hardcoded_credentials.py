"""AWS access keys are written into the configuration of a producer or consumer.

## What it does
Reports AWS credentials written into a template where they reach compute at run time or
configure a deployment:

- Lambda function environment variables (`environment.variables`, `Environment.Variables`,
  SAM functions included);
- ECS container definitions (`container_definitions`, `ContainerDefinitions`): environment
  variables and every other string (command, entry point, labels);
- EC2 user data of instances, launch templates and launch configurations, plain or base64
  (`base64encode()`, `filebase64()`, `Fn::Base64`, gzip), `templatefile()` output included;
- Terraform `provider "aws"` blocks (`access_key`, `secret_key`, `token`);
- the defaults of variables and CloudFormation parameters that flow into any of these (the
  finding names the input and points at its default).

What counts as a credential: an access key id (`AKIA`/`ASIA` and 16 more characters), a
40-character secret access key under a name that says so (`AWS_SECRET_ACCESS_KEY`,
`secret_key`) or near an access key id, the secret or id of an `aws_iam_access_key` /
`AWS::IAM::AccessKey` put in by reference, and the Kinesis Agent settings `awsAccessKeyId` /
`awsSecretAccessKey` in agent configuration written by user data, **even when their values
are templated**: the agent should use the instance's role. A value that is known only at
deployment (a variable or parameter without default, an SSM or Secrets Manager reference)
is not reported. Messages never show a secret; an access key id shows its first four
characters only.

Provider blocks are not resources to checkov, so a finding on a provider block is reported
by the `kds-iac` command and, through checkov, by a provider check with the same id
(`CKV_KDS_12` on `aws.default` / `aws.<alias>`).

Not read (yet): files written by `AWS::CloudFormation::Init` metadata (`cfn-init`), resources of
other providers (a `docker_container`'s `env`), provider settings in Terraform plan JSON, and
CloudFormation parameter defaults that no resource uses.

## Why is this bad?
A key written into a template is in the repository, in every copy and fork of it, in
Terraform state and plans, in the CloudFormation stack's template and parameters, and in the
function's or task's configuration, visible to anyone who can read them. It is a long-term
credential of an IAM user: it does not expire, it is not rotated with the workload, and
whoever holds it can act as that user from anywhere. A role (a Lambda execution role, an ECS
task role, an EC2 instance profile) gives the same permissions through short-lived
credentials that AWS rotates and that never appear in configuration.

## Remediation
Remove the keys, give the compute a role with the permissions it needs, and deactivate and
delete the IAM user's access key (it must be treated as leaked). Terraform:

```hcl
resource "aws_lambda_function" "producer" {
  function_name = "producer"
  role          = aws_iam_role.producer.arn   # its credentials come from the role
  environment {
    variables = { STREAM_NAME = aws_kinesis_stream.events.name }
  }
  # ...
}

provider "aws" {
  region = "eu-west-1"   # credentials from the environment, a profile or an assumed role
}
```

CloudFormation (user data configuring the Kinesis Agent without keys; the instance profile
gives them):

```yaml
Producer:
  Type: AWS::EC2::Instance
  Properties:
    IamInstanceProfile: !Ref ProducerProfile
    UserData:
      Fn::Base64: !Sub |
        #!/bin/bash
        yum install -y aws-kinesis-agent
        cat > /etc/aws-kinesis/agent.json <<EOF
        {"kinesis.endpoint": "kinesis.${AWS::Region}.amazonaws.com",
         "flows": [{"filePattern": "/var/log/app/*.log", "kinesisStream": "${Events}"}]}
        EOF
        service aws-kinesis-agent start
```

## References
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
- https://docs.aws.amazon.com/streams/latest/dev/writing-with-agents.html
- https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
- https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs#authentication-and-configuration
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.model import Model, Resource, unique
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views import compute
from kds_iac.views.credentials import Credential, in_setting, in_structure, in_text, named_pairs
from kds_iac.views.facts import written_line
from kds_iac.views.iam import editable

RULE = Rule(
    id="KDS012",
    checkov_id="CKV_KDS_12",
    severity=Severity.CRITICAL,
    title="AWS access keys are written into the configuration of a producer or consumer",
    resource_types=(
        compute.FUNCTION_TYPES
        + compute.SAM_FUNCTION_TYPES
        + compute.TASK_TYPES
        + compute.MACHINE_TYPES
        + compute.PROVIDER_TYPES
    ),
    category="SECRETS",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "creds-hardcoded": {
                "provider.aws.producer": 22,
                "aws_lambda_function.with_keys": 47,
                "aws_ecs_task_definition.with_keys": 59,
                "aws_instance.agent_with_keys": 78,
                "aws_launch_template.base64_keys": 100,
            },
        },
        good=("creds-from-roles",),
    ),
    "cloudformation": Examples(
        bad={
            "creds-hardcoded.yaml": {"KeysInEnvironment": 43, "AgentWithKeys": 55, "KeysFromParameter": 7},
            "creds-sam-hardcoded.yaml": {"SamProducer": 12},
        },
        good=("creds-from-roles.yaml",),
    ),
    "serverless": Examples(
        bad={
            "creds-hardcoded": {"functions.producer": 20},
        },
        good=("service-good",),
    ),
}

def check(model: Model) -> Iterator[Finding]:
    for function in compute.functions(model):
        found = [
            c
            for name, value in named_pairs(function.environment)
            for c in in_setting(name, value, f"environment variable {name}")
        ]
        yield from _report(function.resource, "Lambda function", found, function.environment_setting, "its execution role")
    for task in compute.task_definitions(model):
        containers = task.containers.value
        if not isinstance(containers, list):
            continue
        found = []
        for container in containers:
            for name, value in container.environment:
                found += in_setting(name, value, f"container {container.name} environment variable {name}")
            found += list(in_structure(container.besides_environment, f"container {container.name}"))
        yield from _report(task.resource, "ECS task definition", found, task.containers_setting, "a task role (task_role_arn / TaskRoleArn)")
    for machine in compute.machines(model):
        data = machine.user_data
        if data is None or data.text is None:
            continue
        found = in_text(data.text, f"user data ({data.setting})")
        yield from _report(machine.resource, machine.kind, found, data.setting, "an instance profile")
    for provider in compute.providers(model):
        found, first = [], ""
        for argument, value in provider.credential_arguments:
            here = in_setting(argument, value, f"argument {argument}")
            first = first or (argument if here else "")
            found += here
        yield from _report(provider.resource, "Terraform provider", found, first, "")


def _report(resource: Resource, kind: str, found: list[Credential], setting: str, role: str) -> Iterator[Finding]:
    if not found:
        return
    what = "; ".join(unique(c.describe() for c in found))
    if kind == "Terraform provider":
        fix = "take credentials from the environment, a shared profile or an assumed role instead"
    else:
        fix = f"remove them and let {role} provide credentials"
    target = editable(resource)  # a SAM function for what it generated
    message = f"{kind} {target.address} has AWS credentials written into its configuration ({what}); {fix}"
    yield Finding(RULE, target, message, line=_line(target, found, setting))


def _line(resource: Resource, found: list[Credential], setting: str) -> Optional[int]:
    """The default that holds the credential, when it sits in the same file, else the setting."""
    for credential in found:
        for item in credential.inputs:
            if item.has_default and item.location is not None and item.location.file == resource.location.file:
                return item.location.start_line
    return written_line(resource, setting)
