"""Where stream data lands, as rules see it: S3 buckets, SQS queues and SNS topics.

Format knowledge and AWS defaults for encryption at rest live here:

- S3: every bucket has SSE-S3 (``AES256``) by default since January 2023; only ``aws:kms``
  or ``aws:kms:dsse`` count as SSE-KMS. A bucket's default encryption is its Terraform
  ``aws_s3_bucket_server_side_encryption_configuration`` (or the legacy inline
  ``server_side_encryption_configuration`` block) or its CloudFormation ``BucketEncryption``.
- SQS: a queue without ``kms_master_key_id`` / ``KmsMasterKeyId`` is unencrypted or uses
  SSE-SQS (``sqs_managed_sse_enabled`` / ``SqsManagedSseEnabled``, on by default for new
  queues), which is not KMS.
- SNS: a topic is unencrypted unless ``kms_master_key_id`` / ``KmsMasterKeyId`` is set.
- DynamoDB: a table is always encrypted at rest, by default with an AWS owned key;
  ``server_side_encryption { enabled = true }`` / ``SSESpecification.SSEEnabled: true``
  without a key uses the AWS managed key ``alias/aws/dynamodb``; only a key named in
  ``kms_key_arn`` / ``KMSMasterKeyId`` (other than that alias) is a customer managed key.
- Firehose: where a delivery stream writes to S3 (its S3 destination and its S3 backup),
  with the KMS key it encrypts objects with. Firehose's own server-side encryption
  (``server_side_encryption`` / ``DeliveryStreamEncryptionConfigurationInput``) covers only
  Direct PUT sources and is not read here.

A value known only at deployment (an input without default, a bucket, queue or topic that
is not a resource of this scan) is ``Unknown``, never a judgement.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from kds_iac.model import CLOUDFORMATION, TERRAFORM, Model, Ref, Resource, Unknown
from kds_iac.views.facts import (
    ABSENT,
    Fact,
    attribute,
    first_block,
    name_of,
    render_pattern,
    resolve,
    resources_named,
    setting_path,
    template_refs,
)
from kds_iac.views.settings import Settings, naming

BUCKET_TYPES = ("aws_s3_bucket", "AWS::S3::Bucket")
BUCKET_SSE_TYPES = ("aws_s3_bucket_server_side_encryption_configuration",)
QUEUE_TYPES = ("aws_sqs_queue", "AWS::SQS::Queue")
TABLE_TYPES = ("aws_dynamodb_table", "AWS::DynamoDB::Table")
SAM_TABLE_TYPES = ("AWS::Serverless::SimpleTable",)  # findings on the table SAM generated sit on it
TOPIC_TYPES = ("aws_sns_topic", "AWS::SNS::Topic")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")

_BUCKET_ARN = re.compile(r"^arn:[a-z*-]*:s3:::([^/]+)$")
_QUEUE_ARN = re.compile(r"^arn:[a-z*-]*:sqs:[^:]*:[^:]*:([^:/]+)$")
_TABLE_ARN = re.compile(r"^arn:[^:]*:dynamodb:[^:]*:[^:]*:table/([^/]+)(?:/.*)?$")
_AWS_MANAGED_DYNAMODB = re.compile(r"(^|:)alias/aws/dynamodb$")
_TOPIC_ARN = re.compile(r"^arn:[a-z*-]*:sns:[^:]*:[^:]*:([^:/]+)$")


# Where each format writes the settings this view reads: one table per resource family, a
# column per format (None: the format has no such setting).
#
# A bucket's default encryption: CloudFormation inside the bucket; Terraform inside the bucket
# (older providers) or in an aws_s3_bucket_server_side_encryption_configuration, which wins.
BUCKET_ENCRYPTION_SETTINGS = Settings(
    terraform={
        "inline": "server_side_encryption_configuration",
        "rules": "rule",
        "default": "apply_server_side_encryption_by_default",
        "algorithm": "sse_algorithm",
        "separate": "rule",
    },
    cloudformation={
        "inline": "BucketEncryption",
        "rules": "ServerSideEncryptionConfiguration",
        "default": "ServerSideEncryptionByDefault",
        "algorithm": "SSEAlgorithm",
        "separate": None,
    },
)
MESSAGE_STORE_SETTINGS = Settings(
    terraform={"key": "kms_master_key_id", "managed_sse": "sqs_managed_sse_enabled"},
    cloudformation={"key": "KmsMasterKeyId", "managed_sse": "SqsManagedSseEnabled"},
)
TABLE_SETTINGS = Settings(
    # "type": CloudFormation asks for SSEType KMS with a key; Terraform infers it from the key.
    terraform={"encryption": "server_side_encryption", "enabled": "enabled", "key": "kms_key_arn", "type": None},
    cloudformation={"encryption": "SSESpecification", "enabled": "SSEEnabled", "key": "KMSMasterKeyId", "type": "SSEType"},
)
# Inside one S3 configuration of a Firehose delivery stream (dotted: nested further).
S3_DELIVERY_SETTINGS = Settings(
    terraform={
        "gated_backup": "s3_backup_configuration",
        "backup_mode": "s3_backup_mode",
        "bucket": "bucket_arn",
        "key": "kms_key_arn",
        "no_encryption": None,
        "writer": "role_arn",
    },
    cloudformation={
        "gated_backup": "S3BackupConfiguration",
        "backup_mode": "S3BackupMode",
        "bucket": "BucketARN",
        "key": "EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN",
        "no_encryption": "EncryptionConfiguration.NoEncryptionConfig",
        "writer": "RoleARN",
    },
)


def _set(fact: Fact) -> Optional[bool]:
    """Whether a setting is made: ``None`` when known only at deployment."""
    if isinstance(fact.value, Unknown):
        return None
    return fact.value not in (ABSENT, "", None)


# --------------------------------------------------------------------------- S3 buckets


class BucketEncryption:
    """A bucket's default encryption."""

    __slots__ = ("bucket", "algorithm", "written_on", "setting")

    def __init__(self, bucket: Resource, algorithm: Fact, written_on: Resource, setting: str):
        self.bucket = bucket
        self.algorithm = algorithm  # "AES256", "aws:kms", "aws:kms:dsse" or Unknown; AWS default: "AES256"
        self.written_on = written_on  # where the setting is (or would be) written
        self.setting = setting

    @property
    def kms(self) -> Optional[bool]:
        """SSE-KMS by default: True/False, None when known only at deployment."""
        if isinstance(self.algorithm.value, Unknown):
            return None
        return self.algorithm.value in KMS_ALGORITHMS

    @property
    def line(self) -> int:
        return self.written_on.line_of(self.setting.split(".")[0])


def _algorithm_in_rules(fact: Fact, default_name: str, algorithm_name: str) -> Fact:
    """The SSE algorithm in a list of rules (Terraform blocks or CFN mappings)."""
    rules = fact.value
    if isinstance(rules, Unknown) or fact.absent:
        return fact
    if isinstance(rules, dict):
        rules = [rules]
    if not isinstance(rules, list):
        return fact.with_value(Unknown("encryption rules are not a list"))
    found: Optional[Fact] = None
    for item in rules:
        rule = fact.then(item)
        algorithm = setting_path(rule, default_name, algorithm_name)
        if not algorithm.known:
            return algorithm
        if isinstance(algorithm.value, str):
            if found is None or algorithm.value in KMS_ALGORITHMS:
                found = algorithm
    return found if found is not None else fact.with_value(ABSENT)


def bucket_encryption(bucket: Resource, model: Model) -> BucketEncryption:
    """The default encryption of a bucket of this scan."""
    cache = model.memo("bucket_encryption", dict)
    if id(bucket) not in cache:
        cache[id(bucket)] = _bucket_encryption(bucket, model)
    return cache[id(bucket)]


def _bucket_encryption(bucket: Resource, model: Model) -> BucketEncryption:
    table = BUCKET_ENCRYPTION_SETTINGS
    if table.name(bucket, "separate"):
        found = _separate_encryption(bucket, model)
        if found is not None:
            return found
    inline_name = table.name(bucket, "inline")
    inline = setting_path(attribute(bucket.attributes, inline_name), table.name(bucket, "rules"))
    algorithm = _algorithm_in_rules(inline, table.name(bucket, "default"), table.name(bucket, "algorithm"))
    return BucketEncryption(bucket, _default_algorithm(algorithm), bucket, inline_name)


def _separate_encryption(bucket: Resource, model: Model) -> Optional[BucketEncryption]:
    """Terraform's aws_s3_bucket_server_side_encryption_configuration for ``bucket``, if any."""
    table = BUCKET_ENCRYPTION_SETTINGS
    name = name_of(bucket)
    for sse in model.of_type(*BUCKET_SSE_TYPES):
        if sse.is_data_source:
            continue
        target = resolve(sse.get("bucket"))
        value = target.value
        refs = template_refs(value)
        if isinstance(value, Ref) or refs:
            matches = (value if isinstance(value, Ref) else refs[0]).target is bucket
        elif isinstance(value, str):
            matches = name is not None and value == name
        else:
            if sse.unit == bucket.unit:  # a configuration whose bucket is not known: may be this one
                unknown = target.with_value(Unknown(f"bucket of {sse.address} is not known"))
                return BucketEncryption(bucket, unknown, sse, table.name(sse, "separate"))
            continue
        if matches:
            rules = attribute(sse.attributes, table.name(sse, "separate"))
            algorithm = _algorithm_in_rules(rules, table.name(sse, "default"), table.name(sse, "algorithm"))
            return BucketEncryption(bucket, _default_algorithm(algorithm), sse, table.name(sse, "separate"))
    return None


def _default_algorithm(fact: Fact) -> Fact:
    if fact.absent:
        return fact.with_value("AES256")  # SSE-S3: the default of every bucket since 2023
    return fact


def bucket_of(fact: Fact, model: Model) -> Fact:
    """A bucket setting (ARN or name) as a bucket ``Resource`` of this scan, or Unknown."""
    return _resource_of(fact, model, "bucket", ((_BUCKET_ARN, BUCKET_TYPES),), names_alone=True)


def _resource_of(fact: Fact, model: Model, what: str, kinds: tuple, names_alone: bool) -> Fact:
    """The one resource of this scan of ``kinds`` ((ARN pattern, types), ...) that a setting
    references or names; Unknown when that cannot be told. Buckets and message stores are found
    alike; ``names_alone``: a text no pattern matches is a name of the first kind (a bucket), and
    a reference to another type is Unknown, not ABSENT (a destination that is no queue or topic)."""
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    types = tuple(t for _, kind_types in kinds for t in kind_types)
    refs = template_refs(value)
    if refs:
        target = refs[0].target
        if target.type in types and not target.is_data_source:
            return fact.with_value(target)
        if target.type in types or names_alone:
            return fact.with_value(Unknown(f"{what} comes from {target.address}"))
        return fact.with_value(ABSENT)
    text = render_pattern(value)
    if text is None:
        return fact.with_value(Unknown(f"{what} is not an ARN or name" if names_alone else f"{what} is not an ARN"))
    for pattern, kind_types in kinds:
        match = pattern.match(text)
        if match or names_alone:
            name = match.group(1) if match else text
            candidates = resources_named(model, kind_types, name)
            if len(candidates) == 1 and "*" not in name:
                return fact.with_value(candidates[0])
            return fact.with_value(Unknown(f"{what} {text} is not defined in this scan"))
    return fact.with_value(ABSENT)


# --------------------------------------------------------------------------- queues and topics


class MessageStore:
    """An SQS queue or SNS topic of this scan and how it is encrypted at rest."""

    __slots__ = ("resource", "kind", "kms_key", "kms_setting", "sqs_managed_sse", "sqs_managed_sse_setting")

    def __init__(
        self,
        resource: Resource,
        kind: str,
        kms_key: Fact,
        kms_setting: str,
        sqs_managed_sse: Fact,
        sqs_managed_sse_setting: str = "",
    ):
        self.resource = resource
        self.kind = kind  # "SQS queue" or "SNS topic"
        self.kms_key = kms_key  # the KMS key setting: set, ABSENT or Unknown
        self.kms_setting = kms_setting
        self.sqs_managed_sse = sqs_managed_sse  # SQS only: bool (AWS default for new queues: True); ABSENT for topics
        self.sqs_managed_sse_setting = sqs_managed_sse_setting

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def kms(self) -> Optional[bool]:
        """Encrypted with a KMS key: True/False, None when known only at deployment."""
        return _set(self.kms_key)

    @property
    def aws_managed_key(self) -> str:
        """The AWS managed key of the service, which encrypts with KMS without a key of the account."""
        return _AWS_MANAGED_STORE_KEY[self.kind]

    @property
    def managed_sse_written(self) -> bool:
        """The template writes the SQS managed encryption switch: a KMS key may not be set beside it."""
        return bool(self.sqs_managed_sse_setting) and self.sqs_managed_sse_setting in self.resource.attributes

    @property
    def line(self) -> int:
        if self.kms_setting in self.resource.attribute_lines:
            return self.resource.line_of(self.kms_setting)
        if self.sqs_managed_sse_setting:
            return self.resource.line_of(self.sqs_managed_sse_setting)
        return self.resource.location.start_line


_AWS_MANAGED_STORE_KEY = {"SQS queue": "alias/aws/sqs", "SNS topic": "alias/aws/sns"}


def message_store(resource: Resource) -> MessageStore:
    kms_setting = MESSAGE_STORE_SETTINGS.name(resource, "key")
    key = attribute(resource.attributes, kms_setting)
    if resource.type in QUEUE_TYPES:
        sse_setting = MESSAGE_STORE_SETTINGS.name(resource, "managed_sse")
        sse = attribute(resource.attributes, sse_setting)
        if sse.absent:
            sse = sse.with_value(True)
        return MessageStore(resource, "SQS queue", key, kms_setting, sse, sse_setting)
    return MessageStore(resource, "SNS topic", key, kms_setting, Fact(ABSENT))


def message_store_of(fact: Fact, model: Model) -> Fact:
    """A destination ARN as a ``MessageStore`` of this scan; ABSENT when it is neither an
    SQS queue nor an SNS topic (an S3 bucket, a function); Unknown when it cannot be told."""
    found = _resource_of(fact, model, "destination", ((_QUEUE_ARN, QUEUE_TYPES), (_TOPIC_ARN, TOPIC_TYPES)), names_alone=False)
    return found.with_value(message_store(found.value)) if isinstance(found.value, Resource) else found


# --------------------------------------------------------------------------- DynamoDB tables

AWS_OWNED = "AWS owned key"
AWS_MANAGED = "AWS managed key"
CUSTOMER_MANAGED = "customer managed key"


class TableEncryption:
    """How a DynamoDB table of this scan is encrypted at rest."""

    __slots__ = ("resource", "key", "setting")

    def __init__(self, resource: Resource, key: Fact, setting: str):
        self.resource = resource
        self.key = key  # AWS_OWNED, AWS_MANAGED, CUSTOMER_MANAGED or Unknown
        self.setting = setting  # server_side_encryption / SSESpecification

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def customer_managed(self) -> Optional[bool]:
        if isinstance(self.key.value, Unknown):
            return None
        return self.key.value == CUSTOMER_MANAGED

    @property
    def line(self) -> int:
        return self.resource.line_of(self.setting)


def table_encryption(table: Resource) -> TableEncryption:
    setting = TABLE_SETTINGS.name(table, "encryption")
    block = first_block(attribute(table.attributes, setting))
    if not block.known:
        return TableEncryption(table, block, setting)
    enabled = setting_path(block, TABLE_SETTINGS.name(table, "enabled"))
    if isinstance(enabled.value, str) and enabled.value.lower() in ("true", "false"):
        enabled = enabled.with_value(enabled.value.lower() == "true")
    if not enabled.known:
        return TableEncryption(table, enabled, setting)
    if enabled.value is not True:
        return TableEncryption(table, enabled.with_value(AWS_OWNED), setting)
    key = setting_path(block, TABLE_SETTINGS.name(table, "key"))
    if not key.known:
        return TableEncryption(table, key, setting)
    if key.value in (ABSENT, "", None):
        return TableEncryption(table, key.with_value(AWS_MANAGED), setting)
    text = render_pattern(key.value)
    if text is not None and _AWS_MANAGED_DYNAMODB.search(text):
        return TableEncryption(table, key.with_value(AWS_MANAGED), setting)
    return TableEncryption(table, key.with_value(CUSTOMER_MANAGED), setting)


def tables_named(pattern: str, model: Model) -> list[Resource]:
    """The tables of this scan a DynamoDB ARN names (an exact table name only)."""
    match = _TABLE_ARN.match(pattern)
    if not match or any(c in match.group(1) for c in "*?\x00"):
        return []
    name = match.group(1)
    return resources_named(model, TABLE_TYPES, name)


TABLE_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem")


def tables_of(value, model: Model) -> list[Resource]:
    """Tables a policy statement's resource value names: by reference, else by table ARN."""
    found = [r for r in value.refs if r.type in TABLE_TYPES]
    if value.head is not None and value.head.type in TABLE_TYPES and value.head not in found:
        found.append(value.head)
    if found:
        return found
    return tables_named(value.pattern, model)


def tables_in(value, model: Model, depth: int = 0) -> list[Resource]:
    """Tables an environment names: by reference, by their exact name or by table ARN."""
    if depth > 8:
        return []
    if isinstance(value, Ref):
        return [value.target] if value.target.type in TABLE_TYPES else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in tables_in(v, model, depth + 1)]
    if isinstance(value, list):
        return [t for v in value for t in tables_in(v, model, depth + 1)]
    if isinstance(value, str):
        return tables_named(value, model) or tables_named(f"arn:aws:dynamodb:::table/{value}", model)
    inner = resolve(value).value
    if inner is not value:
        return tables_in(inner, model, depth + 1)
    return [r.target for r in template_refs(value) if r.target.type in TABLE_TYPES]


def tables_written_by(principal, model: Model) -> list[Resource]:
    """Tables an IAM principal's allowing statements may write, in statement order (repeats
    kept): KDS018 and the access map's consumer tables read the same grants."""
    out = []
    for grant in principal.grants:
        statement = grant.statement
        if not statement.allows or statement.not_resources or not any(statement.grants_action(a) for a in TABLE_WRITE_ACTIONS):
            continue
        for value in statement.resource_values:
            out.extend(tables_of(value, model))
    return out


# --------------------------------------------------------------------------- Firehose to S3


class S3Delivery:
    """One place a Firehose delivery stream writes objects to S3."""

    __slots__ = ("role", "setting", "bucket", "kms_key", "encryption_disabled", "backup_mode", "writer")

    def __init__(
        self,
        role: str,
        setting: str,
        bucket: Fact,
        kms_key: Fact,
        encryption_disabled: bool,
        backup_mode: Fact = Fact(ABSENT),
        writer: Fact = Fact(ABSENT),
    ):
        self.role = role  # "S3 destination", "S3 backup", "S3 staging bucket", "S3 configuration"
        self.setting = setting  # the block a person edits, e.g. extended_s3_configuration
        self.bucket = bucket  # bucket Resource of this scan, or Unknown
        self.kms_key = kms_key  # the KMS key Firehose encrypts objects with: set, ABSENT, Unknown
        self.encryption_disabled = encryption_disabled  # CFN NoEncryptionConfig: NoEncryption written
        self.backup_mode = backup_mode  # for a backup: its mode, when one decides whether it is used
        # the IAM role Firehose writes this configuration's objects as, as written (compute.role_of
        # resolves it): a key fix must know who would need kms:GenerateDataKey
        self.writer = writer


# Terraform: destination blocks and the S3 configuration each holds (None: the block itself)
_TF_S3 = (
    ("extended_s3_configuration", None, "S3 destination"),
    ("extended_s3_configuration", "s3_backup_configuration", "S3 backup"),
    ("s3_configuration", None, "S3 configuration"),  # provider v4: top level
    ("redshift_configuration", "s3_configuration", "S3 staging bucket"),
    ("redshift_configuration", "s3_backup_configuration", "S3 backup"),
    ("elasticsearch_configuration", "s3_configuration", "S3 backup"),
    ("opensearch_configuration", "s3_configuration", "S3 backup"),
    ("opensearchserverless_configuration", "s3_configuration", "S3 backup"),
    ("splunk_configuration", "s3_configuration", "S3 backup"),
    ("http_endpoint_configuration", "s3_configuration", "S3 backup"),
    ("snowflake_configuration", "s3_configuration", "S3 backup"),
    ("iceberg_configuration", "s3_configuration", "S3 backup"),
)
_CFN_S3 = (
    ("ExtendedS3DestinationConfiguration", None, "S3 destination"),
    ("ExtendedS3DestinationConfiguration", "S3BackupConfiguration", "S3 backup"),
    ("S3DestinationConfiguration", None, "S3 destination"),
    ("RedshiftDestinationConfiguration", "S3Configuration", "S3 staging bucket"),
    ("RedshiftDestinationConfiguration", "S3BackupConfiguration", "S3 backup"),
    ("ElasticsearchDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("AmazonopensearchserviceDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("AmazonOpenSearchServerlessDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("SplunkDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("HttpEndpointDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("SnowflakeDestinationConfiguration", "S3Configuration", "S3 backup"),
    ("IcebergDestinationConfiguration", "S3DestinationConfiguration", "S3 backup"),
)
_S3_DESTINATIONS = {TERRAFORM: _TF_S3, CLOUDFORMATION: _CFN_S3}


def s3_deliveries(resource: Resource, model: Model) -> list[S3Delivery]:
    """The S3 destination, staging bucket and S3 backups of a Firehose delivery stream.

    An extended S3 or Redshift destination's ``s3_backup_configuration`` /
    ``S3BackupConfiguration`` counts only when its backup mode is ``Enabled``
    (``s3_backup_mode`` / ``S3BackupMode``; AWS default ``Disabled``).
    """
    out: list[S3Delivery] = []
    inside = S3_DELIVERY_SETTINGS
    # backups written only when the destination's backup mode is "Enabled" (AWS default
    # "Disabled"); the other destinations' S3 configuration is always used (at least for failures)
    gated = inside.name(resource, "gated_backup")
    for outer, inner, role in _S3_DESTINATIONS[naming(resource)]:
        block = first_block(attribute(resource.attributes, outer))
        if block.absent or not block.known:
            continue
        if inner:
            if inner == gated:
                mode = setting_path(block, inside.name(resource, "backup_mode"))
                if not mode.known:
                    continue
                if not (isinstance(mode.value, str) and mode.value.lower() == "enabled"):
                    continue
            block = setting_path(block, inner)
            if block.absent or not block.known:
                continue
        setting = outer if not inner else f"{outer}.{inner}"
        bucket = setting_path(block, *inside.name(resource, "bucket").split("."))
        key = setting_path(block, *inside.name(resource, "key").split("."))
        no_encryption_name = inside.name(resource, "no_encryption")
        no_encryption = setting_path(block, *no_encryption_name.split(".")).value if no_encryption_name else None
        disabled = isinstance(no_encryption, str) and no_encryption == "NoEncryption"
        writer = setting_path(block, inside.name(resource, "writer"))
        out.append(S3Delivery(role, setting, bucket_of(bucket, model), key, disabled, writer=writer))
    return out


def delivery_kms(delivery: S3Delivery, model: Model) -> tuple[Optional[bool], Fact, Any]:
    """Whether objects get SSE-KMS: (True/False/None, the deciding fact, where it is decided).

    The delivery stream's own KMS key wins; without it the bucket's default encryption
    decides. The third item is the ``BucketEncryption`` when the bucket decided, else None.
    """
    key_set = _set(delivery.kms_key)
    if key_set and not delivery.encryption_disabled:
        return True, delivery.kms_key, None
    if key_set is None:
        return None, delivery.kms_key, None
    bucket = delivery.bucket.value
    if not isinstance(bucket, Resource):
        return None, delivery.bucket, None
    encryption = bucket_encryption(bucket, model)
    return encryption.kms, encryption.algorithm, encryption


__all__ = [
    "AWS_MANAGED",
    "AWS_OWNED",
    "CUSTOMER_MANAGED",
    "TABLE_TYPES",
    "TableEncryption",
    "table_encryption",
    "tables_named",
    "BUCKET_SSE_TYPES",
    "BUCKET_TYPES",
    "BucketEncryption",
    "KMS_ALGORITHMS",
    "MessageStore",
    "QUEUE_TYPES",
    "S3Delivery",
    "TOPIC_TYPES",
    "bucket_encryption",
    "bucket_of",
    "delivery_kms",
    "message_store",
    "message_store_of",
    "s3_deliveries",
]
