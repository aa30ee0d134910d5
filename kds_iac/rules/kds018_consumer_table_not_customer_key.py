"""DynamoDB table written by a consumer of an encrypted stream is not encrypted with a customer managed key.

## What it does
Reports a DynamoDB table of the scan (`aws_dynamodb_table`, `AWS::DynamoDB::Table`) that a
consumer of a KMS-encrypted Kinesis stream writes to, when the table is not encrypted with
a customer managed KMS key. A consumer is a role that surely gets `kinesis:GetRecords` or
`kinesis:SubscribeToShard` on such a stream (a KCL application's role, on any compute), or
the function of a Lambda event source mapping that reads one. It writes to a table when its
role's policies allow `dynamodb:PutItem`, `UpdateItem`, `BatchWriteItem` or `DeleteItem` on
the table (by reference or by an ARN that names the table), or when the function's
environment variables refer to the table. This is where KCL keeps its lease and checkpoint
tables, and often where consumers put what they read.

Tables are always encrypted at rest: by default with an AWS owned key, and with
`server_side_encryption { enabled = true }` / `SSESpecification.SSEEnabled: true` but no
key, with the AWS managed key `alias/aws/dynamodb`. Neither is a key the account controls,
so both are reported; `kms_key_arn` / `KMSMasterKeyId` naming another key passes. The
finding sits on the table, at `server_side_encryption` / `SSESpecification` (or the
block start; on the SAM `AWS::Serverless::SimpleTable` that generated it, if any), and
names the consumers. Grants by wildcard table ARNs, tables outside the
scan and settings from inputs without defaults are not reported.

## Why is this bad?
The stream is encrypted with a key whose policy decides who may read its records. What the
consumer writes to DynamoDB -- shard ids and sequence-number checkpoints, and often the
records' contents -- then sits under a key the account cannot restrict, disable or audit
through its own key policy, so the stream's key no longer guards all of the data path.

## Remediation
Terraform:

```hcl
resource "aws_dynamodb_table" "leases" {
  name         = "orders-consumer"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "leaseKey"
  attribute {
    name = "leaseKey"
    type = "S"
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.streams.arn
  }
}
```

CloudFormation:

```yaml
Leases:
  Type: AWS::DynamoDB::Table
  Properties:
    SSESpecification:
      SSEEnabled: true
      SSEType: KMS
      KMSMasterKeyId: !GetAtt StreamsKey.Arn
```

## Fix
When exactly one customer managed key of the table's Terraform module or CloudFormation
template is fit to use (created with the input defaults, enabled, rotation on, key policy
not open to everyone), a safe fix turns server-side encryption on with it:
`server_side_encryption { enabled = true, kms_key_arn = <key ARN> }` /
`SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: <key ARN>}`. The roles
that write the table (those this rule found) then need `kms:GenerateDataKey` and `kms:Decrypt`
on the key: when one is not granted them (by an IAM statement on the key, `*` or every key ARN
where the key policy lets IAM decide, or by the key policy naming it), the fix is unsafe and
its title names it. No fix
without such a key (a new key is a choice: the table's readers must be granted it), with
several, when an input decides the setting, or for a table SAM generates.

## References
- https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
- https://docs.aws.amazon.com/streams/latest/dev/shared-throughput-kcl-consumers.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/dynamodb_table#server_side_encryption
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-dynamodb-table-ssespecification.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix
from kds_iac.model import Model, Resource
from kds_iac.rules._key_fixes import USE_KEY, keyed_fix, role_users
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views import compute
from kds_iac.views.iam import editable, iam
from kds_iac.views.kinesis import streams
from kds_iac.views.storage import (
    AWS_MANAGED,
    SAM_TABLE_TYPES,
    TABLE_SETTINGS,
    TABLE_TYPES,
    TableEncryption,
    table_encryption,
    tables_in,
    tables_written_by,
)

RULE = Rule(
    id="KDS018",
    checkov_id="CKV_KDS_18",
    severity=Severity.MEDIUM,
    title="DynamoDB table written by a consumer of an encrypted stream is not encrypted with a customer managed key",
    resource_types=TABLE_TYPES + SAM_TABLE_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE, UNSAFE),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"datapath-consumer-tables": {"aws_dynamodb_table.leases": 33, "aws_dynamodb_table.results": 67}},
        good=("roles-readers-granted", "customer-managed-key"),
    ),
    "cloudformation": Examples(
        bad={"datapath-consumer-tables.yaml": {"Leases": 34, "Results": 74}},
        good=("roles-readers-granted.yaml", "sam-consumer.yaml"),
    ),
    "serverless": Examples(
        bad={
            "consumer-tables": {"Projections": 60},
        },
        good=("service-good", "failure-destinations",),
    ),
}

READ_ACTIONS = ("kinesis:GetRecords", "kinesis:SubscribeToShard")


def check(model: Model) -> Iterator[Finding]:
    encrypted = [s for s in streams(model) if s.encrypted]
    if not encrypted:
        return
    writers: dict[int, tuple[Resource, list[str], list[Resource]]] = {}

    def note(table: Resource, who: str, role=None) -> None:
        entry = writers.setdefault(id(table), (table, [], []))
        if who not in entry[1]:
            entry[1].append(who)
        if isinstance(role, Resource) and role not in entry[2]:
            entry[2].append(role)

    position = {id(s.resource): index for index, s in enumerate(encrypted)}
    view = iam(model)
    consumer_roles: dict[int, tuple[Resource, str]] = {}
    for principal in view.principals:
        if principal.kind != "role":
            continue
        for stream in _streams_it_may_read(principal, encrypted, position):
            access = view.kinesis_access(principal, stream)
            if any(a in access.actions for a in READ_ACTIONS):
                consumer_roles[id(principal.resource)] = (principal.resource, f"role {editable(principal.resource).address} (reads {stream.address})")
                break
    encrypted_ids = {id(s.resource) for s in encrypted}
    for mapping in compute.event_source_mappings(model):
        source, function = mapping.source.value, mapping.function.value
        if not isinstance(source, compute.StreamSource) or source.stream is None or id(source.stream) not in encrypted_ids:
            continue
        if not isinstance(function, compute.Function):
            continue
        who = f"Lambda function {editable(function.resource).address} (reads {source.stream.address}; the table is named in its environment)"
        for table in tables_in(function.environment.value, model):
            note(table, who, function.role.value)
        if isinstance(function.role.value, Resource):
            consumer_roles.setdefault(id(function.role.value), (function.role.value, who))
    for role, who in consumer_roles.values():
        principal = view.principal(role)
        if principal is None:
            continue
        for table in tables_written_by(principal, model):
            note(table, who, role)
    for table, whos, roles in writers.values():
        encryption = table_encryption(table)
        if encryption.customer_managed is not False:
            continue
        if encryption.key.value == AWS_MANAGED:
            why = f"{encryption.setting} enables SSE with the AWS managed key alias/aws/dynamodb"
        else:
            why = f"{encryption.setting} does not enable SSE with a KMS key, so an AWS owned key encrypts it"
        provenance = encryption.key.provenance()
        if provenance:
            why += f" with input defaults; decided by {provenance}"
        target = editable(table)
        yield Finding(
            RULE,
            target,
            f"DynamoDB table {table.address} is written by {', '.join(sorted(whos))}, a consumer of a "
            f"KMS-encrypted Kinesis stream, but {why}; encrypt it with a customer managed key",
            line=encryption.line if target is table else None,
            fix=_fix(encryption, model, roles) if target is table else None,
        )


def _fix(encryption: TableEncryption, model: Model, roles: list) -> Optional[Fix]:
    """Server-side encryption with the one fit customer managed key of the table's module or
    template; none when an input decides the setting or there is no such key (a new key for
    a table is a choice: who reads the table must then be granted it). Unsafe when a role
    that writes the table (``roles``) is not granted kms:GenerateDataKey and kms:Decrypt on
    the key."""
    key = encryption.key
    if key.inputs or key.conditions or key.assumed:
        return None
    table, within = encryption.resource, encryption.setting

    def settings(link) -> tuple:
        sse_type = TABLE_SETTINGS.set(table, "type", "KMS", within=within)
        return (
            TABLE_SETTINGS.set(table, "enabled", True, within=within),
            *((sse_type,) if sse_type else ()),
            TABLE_SETTINGS.set(table, "key", link, within=within),
        )

    return keyed_fix(
        model, table, f"Encrypt DynamoDB table {table.address}", settings, users=lambda: role_users(model, roles, USE_KEY)
    )


def _streams_it_may_read(principal, encrypted: list, position: dict) -> Iterator:
    """The streams to ask ``kinesis_access`` about, those the role's policies name first (in
    ``encrypted`` order, as the rest); none when no statement allows a read action (only
    allowing statements give sure actions). Without this, a scan of many stacks asks about
    every role and every stream. A generator: the caller stops at the first stream read, so
    a role that reads a stream it names costs no walk over every stream of the scan."""
    reading = [
        g.statement for g in principal.grants if g.statement.allows and g.statement.kinesis_actions.intersection(READ_ACTIONS)
    ]
    if not reading:
        return
    named = {id(r) for s in reading for v in s.resource_values for r in (*v.refs, v.head) if r is not None}
    first = sorted(position[key] for key in named if key in position)
    for index in first:
        yield encrypted[index]
    if len(first) < len(encrypted):
        taken = set(first)
        yield from (stream for index, stream in enumerate(encrypted) if index not in taken)
