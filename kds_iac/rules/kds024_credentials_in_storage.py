"""Long-term AWS credentials are written by the template into S3 or a plain parameter.

## What it does
Reports AWS credentials that the template itself stores for an application to fetch later:

- **S3 objects** (Terraform `aws_s3_object` and the older `aws_s3_bucket_object`) whose
  `content`, `content_base64` (decoded) or `source` file (read only inside the scanned tree)
  holds keys: a Kinesis Agent configuration (`awsAccessKeyId` / `awsSecretAccessKey`), an SDK
  shared credentials file (`aws_access_key_id` / `aws_secret_access_key`) or any text with an
  access key id and its secret, whether the values are written out, rendered by
  `templatefile()` or taken from an `aws_iam_access_key`'s `id` / `secret`. A key setting
  whose value is known only at deployment is reported too: the file is made to carry keys.
  CloudFormation has no S3 object resource;
- **plain SSM parameters**: Terraform `aws_ssm_parameter` with `type = "String"` or
  `"StringList"`, and every CloudFormation `AWS::SSM::Parameter` (CloudFormation cannot
  create a `SecureString`), whose value holds a secret access key: the secret of an IAM
  access key by reference (`aws_iam_access_key.x.secret`, `!GetAtt Key.SecretAccessKey`) or
  a literal 40-character secret (under a name that says so, or next to its key id);
- **CDK bucket deployments** (`Custom::CDKBucketDeployment`, synthesized from
  `BucketDeployment` with `Source.data()` / `Source.jsonData()`) whose inline sources are
  filled with an access key's id or secret, or a literal key, at deployment
  (`SourceMarkers`). The rest of an inline source is a zip asset beside the template and is
  not read.

The finding names the object or parameter and the credential, masked as KDS012 masks it
(the first four characters of a key id, nothing of a secret). When the key is an
`aws_iam_access_key` / `AWS::IAM::AccessKey` of an IAM user of the scan, it names that user
and the Kinesis permissions the user holds (see KDS010 and KDS011).

Not findings: a `SecureString` parameter and a Secrets Manager secret
(`aws_secretsmanager_secret_version`, `AWS::SecretsManager::Secret`) are encrypted with KMS
and every read of them is logged; storing a key there is the remedy when a key cannot be
avoided. Keys in the configuration of compute (Lambda, ECS, user data) are KDS012's.

## Why is this bad?
AWS's guidance for Kinesis producers and consumers is not to store AWS credentials in a
client application or in an Amazon S3 bucket. A key stored this way is a long-term
credential of an IAM user: it does not expire, and whoever reads the object or parameter
(anyone allowed `s3:GetObject` or `ssm:GetParameter` on it, a public or cross-account
bucket policy, a replica, a backup, an old object version) can put records into or read
the stream from anywhere, as that user, until the key is deleted. A `String` parameter is
not encrypted with a key of yours and shows its value in the console and in
`GetParameter` responses without any decryption permission. The key is also in the
template, the Terraform state or the CloudFormation stack. Severity is **critical**: the
credential is exposed by design, not by a later misconfiguration.

## Remediation
Give the application a role (an EC2 instance profile, a Lambda execution role, an ECS task
role, IAM Roles Anywhere outside AWS) and store configuration without keys; delete the
stored keys and the IAM user's access key (treat it as leaked). Terraform:

```hcl
resource "aws_s3_object" "agent_config" {
  bucket = aws_s3_bucket.config.id
  key    = "agent/agent.json"
  # no awsAccessKeyId / awsSecretAccessKey: the agent uses the instance profile's role
  content = jsonencode({
    flows = [{ filePattern = "/var/log/app/*.log", kinesisStream = aws_kinesis_stream.events.name }]
  })
}

# a key that must exist (a workload outside AWS): a SecureString, or Secrets Manager
resource "aws_ssm_parameter" "partner_secret" {
  name   = "/partner/secret"
  type   = "SecureString"
  key_id = aws_kms_key.parameters.arn
  value  = var.partner_secret
}
```

CloudFormation (a Secrets Manager secret instead of an `AWS::SSM::Parameter`):

```yaml
PartnerSecret:
  Type: AWS::SecretsManager::Secret
  Properties:
    KmsKeyId: !Ref ParametersKey
    SecretString: !GetAtt PartnerKey.SecretAccessKey
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles
- https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-securestring.html
- https://docs.aws.amazon.com/secretsmanager/latest/userguide/intro.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_object
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ssm_parameter
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html
- https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_s3_deployment-readme.html
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional

from kds_iac.model import Model, Resource, unique
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.credentials import Credential, in_setting, in_text, text_of, text_of_structure
from kds_iac.views.facts import listed, written_line
from kds_iac.views.iam import USER, IamView, iam, kinesis_holdings
from kds_iac.views.stored import BUCKET_DEPLOYMENT_TYPES, PARAMETER_TYPES, S3_OBJECT_TYPES
from kds_iac.views.stored import Parameter, bucket_deployments, parameters, s3_objects

RULE = Rule(
    id="KDS024",
    checkov_id="CKV_KDS_24",
    severity=Severity.CRITICAL,
    title="Long-term AWS credentials are written by the template into S3 or a plain parameter",
    resource_types=S3_OBJECT_TYPES + PARAMETER_TYPES + BUCKET_DEPLOYMENT_TYPES,
    category="SECRETS",
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "creds-in-storage": {
                "aws_s3_object.agent_config": 35,
                "aws_s3_object.sdk_credentials": 46,
                "aws_s3_bucket_object.legacy_settings": 53,
                "aws_ssm_parameter.uploader_secret": 65,
                "aws_ssm_parameter.pasted_keys": 71,
            },
        },
        good=("creds-in-storage-good",),
    ),
    "cloudformation": Examples(
        bad={
            "creds-in-storage.yaml": {
                "UploaderSecretParameter": 37,
                "PastedKeysParameter": 44,
                "NamedSecretParameter": 51,
                "ConfigDeployment": 67,
            },
        },
        good=("creds-in-storage-good.yaml",),
    ),
}

# What says more than a key setting: the key itself, or the IAM access key it comes from.
_CONCRETE = ("access key id", "secret access key", "IAM access key")


def check(model: Model) -> Iterator[Finding]:
    view: Optional[IamView] = None

    def users() -> IamView:
        nonlocal view
        view = view or iam(model)
        return view

    for stored in s3_objects(model):
        if stored.text is None:
            continue
        found = in_text(stored.text, stored.where, sdk_config=True)
        key = f" (key {stored.key})" if stored.key else ""
        yield from _report(stored.resource, f"S3 object {stored.resource.address}{key}", found, stored.setting, users)
    for parameter in parameters(model):
        if parameter.plain is not True:
            continue  # a SecureString, or a type known only at deployment
        name = parameter.name or parameter.setting
        found = in_setting(name, parameter.fact, parameter.setting)
        text = text_of_structure(parameter.fact) or text_of(parameter.fact)
        if text is not None:
            found += [c for c in in_text(text, parameter.setting, sdk_config=True) if c not in found]
        if not any(c.secret for c in found):
            continue  # a key id alone is not a secret
        kind = "StringList" if _type(parameter) == "StringList" else "String"
        shown = f" ({parameter.name})" if parameter.name else ""
        what = f"plain {kind} SSM parameter {parameter.resource.address}{shown}"
        if parameter.type_fact.inputs:
            what += f" (type from {parameter.type_fact.provenance()})"
        yield from _report(parameter.resource, what, found, parameter.setting, users)
    for deployment in bucket_deployments(model):
        text = text_of_structure(deployment.markers)  # one text: a secret next to its key id
        found = in_text(text, deployment.setting, sdk_config=True) if text is not None else []
        what = f"CDK bucket deployment {deployment.resource.address}"
        yield from _report(deployment.resource, what, found, deployment.setting, users, "fills", "into the objects it deploys")


def _type(parameter: Parameter) -> Optional[str]:
    value = parameter.type_fact.value
    return value if isinstance(value, str) else None


def _report(
    resource: Resource, what: str, found: list[Credential], setting: str, users: Callable[[], IamView],
    verb: str = "stores", into: str = "",
) -> Iterator[Finding]:
    if not found:
        return
    if any(c.kind in _CONCRETE for c in found):
        found = [c for c in found if c.kind in _CONCRETE]  # the setting names add nothing then
    by_place: dict[str, list[str]] = {}
    for credential in found:
        shown = credential.describe().removeprefix(f"{credential.where}: ")
        if shown not in by_place.setdefault(credential.where, []):
            by_place[credential.where].append(shown)
    held = "; ".join(f"{where}: {', '.join(shown)}" for where, shown in by_place.items())
    message = f"{what} {verb} long-term AWS credentials{' ' + into if into else ''} ({held})"
    owners = unique(_owner(users(), c.key) for c in found if c.key is not None)
    if owners:
        message += "; " + "; ".join(owners)
    message += "; whoever can read it can act with these keys: give the application a role and delete the stored keys"
    yield Finding(RULE, resource, message, line=written_line(resource, setting))


def _owner(view: IamView, key: Resource) -> str:
    """Whose key it is, and what that user may do with Kinesis."""
    access_key = next((k for k in view.access_keys if k.resource is key), None)
    if access_key is None or access_key.user is None or access_key.user.kind != USER:
        text = access_key.user_text if access_key is not None else ""
        return f"{key.address} is a key of IAM user {text}" if isinstance(text, str) and text else f"{key.address} is an IAM user's key"
    user = access_key.user
    holdings = kinesis_holdings(view, user)
    if not holdings:
        return f"{key.address} is a key of IAM user {user.address}"
    actions = frozenset().union(*(a for _, a in holdings))
    return f"{key.address} is a key of IAM user {user.address}, which holds Kinesis permissions ({listed(actions, limit=4)})"
