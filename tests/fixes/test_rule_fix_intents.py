"""The fixes the rules attach to their findings, as intents (no writer involved): for every
bad example of the rules that fix, exactly which findings get which fix, and which get none
and why; then cases made for the choices the examples do not show (which key, no key, a
gate, a defect a fix must not touch)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from kds_iac.config import resolve_config
from kds_iac.engine import scan
from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource, SetSetting
from kds_iac.rules import all_rules
from tests.conftest import EXAMPLES, declare_organization_trail

# The rules whose fixes this file checks (KDS004 and KDS005 narrow IAM statements: their
# own tests, tests/fixes/test_narrowing_fixes.py).
RULES = ("KDS001", "KDS002", "KDS003", "KDS016", "KDS017", "KDS018", "KDS021")


def described(fix: Fix) -> tuple[str, list[str]]:
    """A fix as its safety and one line per intent, in order."""
    return fix.safety, [_intent(i) for i in fix.intents]


def _intent(intent) -> str:
    if isinstance(intent, NewResource):
        return f"new {intent.kind} {intent.name} near {intent.near.address}: {intent.description}"
    assert isinstance(intent, SetSetting), intent
    value = intent.value
    if isinstance(value, Link):
        target = value.target.name if isinstance(value.target, NewResource) else value.target.address
        value = f"Link({target}, {value.attribute!r})"
    else:
        value = repr(value)
    return f"set {intent.resource.address} {intent.path} = {value}"


def fixes_of(rule_id: str, path: str) -> dict[str, object]:
    """Address -> described fix (None: no fix) of the rule's findings in a scan of ``path``,
    with the settings ``kds-iac scan PATH`` finds."""
    result = scan([path], config=resolve_config(None, [path]))
    found = {}
    for finding in result.findings:
        if finding.rule.id == rule_id:
            found[finding.address] = None if finding.fix is None else described(finding.fix)
    return found


# (rule, format, bad example) -> address -> (safety, intents), or None with why.
EXPECTED = {
    ('KDS001', 'terraform', 'gated-module'): {
        'aws_kinesis_stream.this': None,  # created only under for_each = var.streams (default {}): a new key would exist without it
        'module.streams.aws_kinesis_stream.this["clicks"]': None,  # one instance of a for_each: a key beside the block would be created once for all, or with none
        'module.archive.aws_kinesis_stream.archive': None,  # the module call's count is 0 with defaults: no new key beside a stream that is not created
        'module.legacy_archive.aws_kinesis_stream.archive': None,  # count = 0: not created
    },
    ('KDS001', 'terraform', 'unencrypted-streams'): {
        'aws_kinesis_stream.plain': (UNSAFE, [
            'new kms_key plain_key near aws_kinesis_stream.plain: Encrypts Kinesis stream aws_kinesis_stream.plain',
            "set aws_kinesis_stream.plain encryption_type = 'KMS'",
            "set aws_kinesis_stream.plain kms_key_id = Link(plain_key, 'arn')",
        ]),
        'aws_kinesis_stream.explicitly_none': (UNSAFE, [
            'new kms_key explicitly_none_key near aws_kinesis_stream.explicitly_none: Encrypts Kinesis stream aws_kinesis_stream.explicitly_none',
            "set aws_kinesis_stream.explicitly_none encryption_type = 'KMS'",
            "set aws_kinesis_stream.explicitly_none kms_key_id = Link(explicitly_none_key, 'arn')",
        ]),
        'aws_kinesis_stream.from_variable': None,  # var.encryption_type decides: a fix would override the input
        'aws_kinesis_stream.optional_key': None,  # var.kms_key_id decides both settings
    },
    ('KDS001', 'terraform', 'module-defaults'): {
        'module.clickstream.aws_kinesis_stream.this': None,  # the module's input decides the setting
    },
    ('KDS001', 'terraform', 'kms-without-key'): {
        'aws_kinesis_stream.no_key_id': (SAFE, [
            "set aws_kinesis_stream.no_key_id kms_key_id = Link(aws_kms_key.streams, 'arn')",
        ]),
        'aws_kinesis_stream.orders': None,  # the key comes from var.orders_key_arn
    },
    ('KDS001', 'cloudformation', 'unencrypted-streams.yaml'): {
        'Plain': (UNSAFE, [
            'new kms_key PlainKey near Plain: Encrypts Kinesis stream Plain',
            "set Plain StreamEncryption.EncryptionType = 'KMS'",
            "set Plain StreamEncryption.KeyId = Link(PlainKey, 'arn')",
        ]),
        'OptionalKey': None,  # Fn::If on a parameter decides StreamEncryption
        'SwitchedOff': None,  # Fn::If on a parameter decides StreamEncryption
    },
    ('KDS001', 'cloudformation', 'sam-consumer.yaml'): {
        'ClickStream': (UNSAFE, [
            'new kms_key ClickStreamKey near ClickStream: Encrypts Kinesis stream ClickStream',
            "set ClickStream StreamEncryption.EncryptionType = 'KMS'",
            "set ClickStream StreamEncryption.KeyId = Link(ClickStreamKey, 'arn')",
        ]),
    },
    ('KDS001', 'cloudformation', 'kms-without-key.yaml'): {
        'NoKeyId': (SAFE, [
            "set NoKeyId StreamEncryption.KeyId = Link(StreamsKey, 'arn')",
        ]),
        'Orders': None,  # the key comes from a parameter
    },
    ('KDS001', 'cloudformation', 'branch-by-branch.yaml'): {
        'ByParameter': None,  # judged branch by branch: a condition decides
        'IrelandOnly': None,  # judged branch by branch: a region condition decides
    },
    ('KDS001', 'cloudformation', 'nested-stacks'): {
        'Archive': None,  # the key comes from the nested stack's parameter
        'DeadLetters': (UNSAFE, [
            'new kms_key DeadLettersKey near DeadLetters: Encrypts Kinesis stream DeadLetters',
            "set DeadLetters StreamEncryption.EncryptionType = 'KMS'",
            "set DeadLetters StreamEncryption.KeyId = Link(DeadLettersKey, 'arn')",
        ]),
    },
    ('KDS001', 'cloudformation', 'foreach-streams.yaml'): {
        'StreamClicks': None,  # Fn::FindInMap on a parameter decides the encryption type
        'Tenant${Name}': (SAFE, [
            "set Tenant${Name} StreamEncryption.EncryptionType = 'KMS'",
            "set Tenant${Name} StreamEncryption.KeyId = Link(StreamKey, 'arn')",
        ]),
    },
    ('KDS001', 'serverless', 'service-bad'): {
        'OrdersStream': (UNSAFE, [
            'new kms_key OrdersStreamKey near OrdersStream: Encrypts Kinesis stream OrdersStream',
            "set OrdersStream StreamEncryption.EncryptionType = 'KMS'",
            "set OrdersStream StreamEncryption.KeyId = Link(OrdersStreamKey, 'arn')",
        ]),
        'AuditStream': None,  # a Serverless variable (${opt:encryption, 'NONE'}) decides
    },
    ('KDS002', 'terraform', 'aws-managed-key'): {
        'aws_kinesis_stream.alias_name': (UNSAFE, [
            'new kms_key alias_name_key near aws_kinesis_stream.alias_name: Encrypts Kinesis stream aws_kinesis_stream.alias_name',
            "set aws_kinesis_stream.alias_name kms_key_id = Link(alias_name_key, 'arn')",
        ]),
        'aws_kinesis_stream.alias_arn': (UNSAFE, [
            'new kms_key alias_arn_key near aws_kinesis_stream.alias_arn: Encrypts Kinesis stream aws_kinesis_stream.alias_arn',
            "set aws_kinesis_stream.alias_arn kms_key_id = Link(alias_arn_key, 'arn')",
        ]),
        'aws_kinesis_stream.data_lookup': (UNSAFE, [
            'new kms_key data_lookup_key near aws_kinesis_stream.data_lookup: Encrypts Kinesis stream aws_kinesis_stream.data_lookup',
            "set aws_kinesis_stream.data_lookup kms_key_id = Link(data_lookup_key, 'arn')",
        ]),
        'aws_kinesis_stream.variable_default': None,  # the key is var.kms_key_id's default
    },
    ('KDS002', 'cloudformation', 'aws-managed-key.json'): {
        'AliasName': (UNSAFE, [
            'new kms_key AliasNameKey near AliasName: Encrypts Kinesis stream AliasName',
            "set AliasName StreamEncryption.KeyId = Link(AliasNameKey, 'arn')",
        ]),
        'AliasArnSub': (UNSAFE, [
            'new kms_key AliasArnSubKey near AliasArnSub: Encrypts Kinesis stream AliasArnSub',
            "set AliasArnSub StreamEncryption.KeyId = Link(AliasArnSubKey, 'arn')",
        ]),
    },
    ('KDS002', 'cloudformation', 'cdk-synth.template.json'): {
        'teststreamKinesisStreamF1C9A3D2': None,  # synthesized by the AWS CDK: an edit is lost on the next synth
    },
    ('KDS002', 'cloudformation', 'cdk-region-condition.template.json'): {
        'EventsStreamB5E7A8F1': None,  # synthesized by the AWS CDK, and a region condition decides
    },
    ('KDS002', 'cloudformation', 'branch-by-branch.yaml'): {
        'ManagedKeyOutsideProduction': None,  # a condition decides the key
    },
    ('KDS002', 'serverless', 'stream-keys'): {
        'ManagedKeyStream': None,  # a Serverless variable (${self:custom.streamKey}) decides the key
    },
    ('KDS003', 'terraform', 'weak-customer-key'): {
        'aws_kms_key.no_rotation': (SAFE, [
            'set aws_kms_key.no_rotation enable_key_rotation = True',
        ]),
        'aws_kms_key.public_policy': None,  # a public key policy: who should decrypt is a person's choice
    },
    ('KDS003', 'cloudformation', 'weak-customer-key.yaml'): {
        'NoRotationKey': (SAFE, [
            'set NoRotationKey EnableKeyRotation = True',
        ]),
        'PublicPolicyKey': None,  # a public key policy: who should decrypt is a person's choice
    },
    ('KDS003', 'cloudformation', 'nested-stacks'): {
        'StreamKey': (SAFE, [
            'set StreamKey EnableKeyRotation = True',
        ]),
    },
    ('KDS003', 'serverless', 'stream-keys'): {
        'RotationOffKey': (SAFE, [
            'set RotationOffKey EnableKeyRotation = True',
        ]),
    },
    ('KDS016', 'terraform', 'datapath-firehose-s3'): {
        'aws_kinesis_firehose_delivery_stream.sse_s3_bucket': (SAFE, [
            "set aws_kinesis_firehose_delivery_stream.sse_s3_bucket extended_s3_configuration.kms_key_arn = Link(aws_kms_key.data, 'arn')",
        ]),
        'aws_kinesis_firehose_delivery_stream.backup_unencrypted': (SAFE, [
            "set aws_kinesis_firehose_delivery_stream.backup_unencrypted extended_s3_configuration.s3_backup_configuration.kms_key_arn = Link(aws_kms_key.data, 'arn')",
        ]),
        'aws_kinesis_firehose_delivery_stream.inline_aes256': (SAFE, [
            "set aws_kinesis_firehose_delivery_stream.inline_aes256 extended_s3_configuration.kms_key_arn = Link(aws_kms_key.data, 'arn')",
        ]),
    },
    ('KDS016', 'cloudformation', 'datapath-firehose-s3.yaml'): {
        'SseS3Bucket': (SAFE, [
            "set SseS3Bucket ExtendedS3DestinationConfiguration.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN = Link(DataKey, 'arn')",
        ]),
        'NoEncryptionDelivery': None,  # NoEncryptionConfig is written: a key would contradict it
    },
    ('KDS016', 'serverless', 'shared-streams'): {
        'ClicksArchive': (SAFE, [
            "set ClicksArchive ExtendedS3DestinationConfiguration.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN = Link(StreamKey, 'arn')",
        ]),
    },
    ('KDS017', 'terraform', 'datapath-failure-destinations'): {
        'aws_sqs_queue.sqs_managed': None,  # sqs_managed_sse_enabled is written, and AWS refuses a key beside it
        'aws_sns_topic.plain': None,  # var.topic_key_id decides the key
    },
    ('KDS017', 'cloudformation', 'datapath-failure-destinations.yaml'): {
        'SqsManagedQueue': (SAFE, [
            "set SqsManagedQueue KmsMasterKeyId = Link(StreamsKey, 'arn')",
        ]),
        'PlainTopic': (SAFE, [
            "set PlainTopic KmsMasterKeyId = Link(StreamsKey, 'arn')",
        ]),
    },
    ('KDS017', 'serverless', 'failure-destinations'): {
        'PlainFailures': (UNSAFE, [
            "set PlainFailures KmsMasterKeyId = Link(PaymentsKey, 'arn')",
        ]),
    },
    ('KDS018', 'terraform', 'datapath-consumer-tables'): {
        'aws_dynamodb_table.leases': (UNSAFE, [
            'set aws_dynamodb_table.leases server_side_encryption.enabled = True',
            "set aws_dynamodb_table.leases server_side_encryption.kms_key_arn = Link(aws_kms_key.streams, 'arn')",
        ]),
        'aws_dynamodb_table.results': (SAFE, [
            'set aws_dynamodb_table.results server_side_encryption.enabled = True',
            "set aws_dynamodb_table.results server_side_encryption.kms_key_arn = Link(aws_kms_key.streams, 'arn')",
        ]),
    },
    ('KDS018', 'cloudformation', 'datapath-consumer-tables.yaml'): {
        'Leases': (UNSAFE, [
            'set Leases SSESpecification.SSEEnabled = True',
            "set Leases SSESpecification.SSEType = 'KMS'",
            "set Leases SSESpecification.KMSMasterKeyId = Link(StreamsKey, 'arn')",
        ]),
        'Results': (SAFE, [
            'set Results SSESpecification.SSEEnabled = True',
            "set Results SSESpecification.SSEType = 'KMS'",
            "set Results SSESpecification.KMSMasterKeyId = Link(StreamsKey, 'arn')",
        ]),
    },
    ('KDS018', 'serverless', 'consumer-tables'): {
        'Projections': (UNSAFE, [
            'set Projections SSESpecification.SSEEnabled = True',
            "set Projections SSESpecification.SSEType = 'KMS'",
            "set Projections SSESpecification.KMSMasterKeyId = Link(OrdersKey, 'arn')",
        ]),
    },
    ('KDS021', 'terraform', 'cloudtrail-defects'): {
        'aws_cloudtrail.logging_off': (SAFE, [
            'set aws_cloudtrail.logging_off enable_logging = True',
        ]),
        'aws_cloudtrail.single_region': (SAFE, [
            'set aws_cloudtrail.single_region is_multi_region_trail = True',
        ]),
        'aws_cloudtrail.no_validation': (SAFE, [
            'set aws_cloudtrail.no_validation enable_log_file_validation = True',
        ]),
        'aws_cloudtrail.no_kms': None,  # the log key's policy must let CloudTrail use it: not certain
        'aws_cloudtrail.management_excluded': (SAFE, [
            'set aws_cloudtrail.management_excluded event_selector[0].include_management_events = True',
        ]),
        'aws_cloudtrail.read_only': (SAFE, [
            "set aws_cloudtrail.read_only event_selector[0].read_write_type = 'All'",
        ]),
        'aws_cloudtrail.data_only': None,  # advanced event selectors: which one to widen is a choice
    },
    ('KDS021', 'terraform', 'cloudtrail-log-bucket'): {
        'aws_cloudtrail.plain_bucket': None,  # the defect is the missing log key: not certain
    },
    ('KDS021', 'cloudformation', 'cloudtrail-defects'): {
        'LoggingOff': (SAFE, [
            'set LoggingOff IsLogging = True',
        ]),
        'LoggingLeftOut': (SAFE, [
            'set LoggingLeftOut IsLogging = True',
        ]),
        'SingleRegion': (SAFE, [
            'set SingleRegion IsMultiRegionTrail = True',
        ]),
        'NoValidation': (SAFE, [
            'set NoValidation EnableLogFileValidation = True',
        ]),
        'NoKms': None,  # the log key's policy must let CloudTrail use it: not certain
        'ManagementExcluded': (SAFE, [
            'set ManagementExcluded EventSelectors[0].IncludeManagementEvents = True',
        ]),
        'ReadOnly': (SAFE, [
            "set ReadOnly EventSelectors[0].ReadWriteType = 'All'",
        ]),
        'DataOnly': None,  # advanced event selectors: which one to widen is a choice
    },
    ('KDS021', 'cloudformation', 'cloudtrail-log-bucket'): {
        'PlainBucketTrail': None,  # the defect is the missing log key: not certain
    },
}

CASES = [pytest.param(rule, fmt, example, id=f"{rule}-{fmt}-{example}") for rule, fmt, example in EXPECTED]

# The titles of the key fixes of the bad examples: who would lose access is named (a role
# whose permissions are an input, a parameter or outside the scan is not a principal of the
# scan: nothing can be said about it).
TITLES = {
    ('KDS001', 'terraform', 'unencrypted-streams'): {
        'aws_kinesis_stream.plain': 'Encrypt aws_kinesis_stream.plain with a new KMS key',
        'aws_kinesis_stream.explicitly_none': 'Encrypt aws_kinesis_stream.explicitly_none with a new KMS key',
    },
    ('KDS001', 'terraform', 'kms-without-key'): {
        'aws_kinesis_stream.no_key_id': 'Encrypt aws_kinesis_stream.no_key_id with KMS key aws_kms_key.streams',
    },
    ('KDS001', 'cloudformation', 'unencrypted-streams.yaml'): {'Plain': 'Encrypt Plain with a new KMS key'},
    ('KDS001', 'cloudformation', 'sam-consumer.yaml'): {
        # the SAM function's role reads the stream (its Kinesis event) and holds no KMS grant
        'ClickStream': 'Encrypt ClickStream with a new KMS key; role ClickConsumer is not granted kms:Decrypt on the key',
    },
    ('KDS001', 'cloudformation', 'kms-without-key.yaml'): {'NoKeyId': 'Encrypt NoKeyId with KMS key StreamsKey'},
    ('KDS001', 'cloudformation', 'nested-stacks'): {'DeadLetters': 'Encrypt DeadLetters with a new KMS key'},
    ('KDS001', 'cloudformation', 'foreach-streams.yaml'): {
        'Tenant${Name}': 'Encrypt Tenant${Name} with KMS key StreamKey',
    },
    ('KDS001', 'serverless', 'service-bad'): {
        # the role the framework generates writes and reads the stream, with no KMS statement
        'OrdersStream': 'Encrypt OrdersStream with a new KMS key; role provider.iamRoleStatements is not granted '
        'kms:GenerateDataKey and kms:Decrypt on the key',
    },
    ('KDS002', 'terraform', 'aws-managed-key'): {
        'aws_kinesis_stream.alias_name': 'Encrypt aws_kinesis_stream.alias_name with a new KMS key',
        'aws_kinesis_stream.alias_arn': 'Encrypt aws_kinesis_stream.alias_arn with a new KMS key',
        'aws_kinesis_stream.data_lookup': 'Encrypt aws_kinesis_stream.data_lookup with a new KMS key',
    },
    ('KDS002', 'cloudformation', 'aws-managed-key.json'): {
        'AliasName': 'Encrypt AliasName with a new KMS key',
        'AliasArnSub': 'Encrypt AliasArnSub with a new KMS key',
    },
    ('KDS016', 'terraform', 'datapath-firehose-s3'): {  # the role is var.firehose_role_arn
        'aws_kinesis_firehose_delivery_stream.sse_s3_bucket':
            'Encrypt the objects of aws_kinesis_firehose_delivery_stream.sse_s3_bucket with KMS key aws_kms_key.data',
        'aws_kinesis_firehose_delivery_stream.backup_unencrypted':
            'Encrypt the objects of aws_kinesis_firehose_delivery_stream.backup_unencrypted with KMS key aws_kms_key.data',
        'aws_kinesis_firehose_delivery_stream.inline_aes256':
            'Encrypt the objects of aws_kinesis_firehose_delivery_stream.inline_aes256 with KMS key aws_kms_key.data',
    },
    ('KDS016', 'cloudformation', 'datapath-firehose-s3.yaml'): {
        'SseS3Bucket': 'Encrypt the objects of SseS3Bucket with KMS key DataKey',
    },
    ('KDS016', 'serverless', 'shared-streams'): {
        'ClicksArchive': 'Encrypt the objects of ClicksArchive with KMS key StreamKey',
    },
    ('KDS017', 'cloudformation', 'datapath-failure-destinations.yaml'): {  # the function's role is a parameter
        'SqsManagedQueue': 'Encrypt SQS queue SqsManagedQueue with KMS key StreamsKey',
        'PlainTopic': 'Encrypt SNS topic PlainTopic with KMS key StreamsKey',
    },
    ('KDS017', 'serverless', 'failure-destinations'): {
        'PlainFailures': 'Encrypt SQS queue PlainFailures with KMS key PaymentsKey; role provider.iam.role is not '
        'granted kms:GenerateDataKey and kms:Decrypt on the key',
    },
    ('KDS018', 'terraform', 'datapath-consumer-tables'): {
        # the KCL application may decrypt with the key but not encrypt what it writes
        'aws_dynamodb_table.leases': 'Encrypt DynamoDB table aws_dynamodb_table.leases with KMS key aws_kms_key.streams; '
        'role aws_iam_role.kcl_app is not granted kms:GenerateDataKey on the key',
        'aws_dynamodb_table.results': 'Encrypt DynamoDB table aws_dynamodb_table.results with KMS key aws_kms_key.streams',
    },
    ('KDS018', 'cloudformation', 'datapath-consumer-tables.yaml'): {
        'Leases': 'Encrypt DynamoDB table Leases with KMS key StreamsKey; role KclAppRole is not granted '
        'kms:GenerateDataKey on the key',
        'Results': 'Encrypt DynamoDB table Results with KMS key StreamsKey',
    },
    ('KDS018', 'serverless', 'consumer-tables'): {
        'Projections': 'Encrypt DynamoDB table Projections with KMS key OrdersKey; role provider.iam.role is not '
        'granted kms:GenerateDataKey on the key',
    },
}


def titles_of(rule_id: str, path: str) -> dict[str, str]:
    result = scan([path], config=resolve_config(None, [path]))
    return {f.address: f.fix.title for f in result.findings if f.rule.id == rule_id and f.fix is not None}


def test_the_titles_of_key_fixes_name_who_would_lose_access(monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    found = {case: titles_of(case[0], os.path.join("examples", case[1], case[2])) for case in TITLES}
    assert found == TITLES
    # every key fix of the examples is listed
    keyed = {case for case, entries in EXPECTED.items() if case[0] in ("KDS001", "KDS002", "KDS016", "KDS017", "KDS018")
             and any(entries.values())}
    assert set(TITLES) == keyed


@pytest.mark.parametrize("rule_id,fmt,example", CASES)
def test_each_finding_of_a_bad_example_gets_exactly_its_fix(rule_id, fmt, example, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)  # addresses as the rules' EXAMPLES declare them
    assert fixes_of(rule_id, os.path.join("examples", fmt, example)) == EXPECTED[(rule_id, fmt, example)]


def test_every_bad_example_of_a_fixing_rule_is_covered():
    declared = {
        (m.rule.id, fmt, example)
        for m in all_rules()
        if m.rule.id in RULES
        for fmt, examples in m.examples.items()
        for example in examples.bad
    }
    assert set(EXPECTED) == declared
    assert {m.rule.id for m in all_rules() if m.rule.fixes} >= set(RULES)
    # the kinds of fix the examples show are those the rule declares (KDS002's safe fix: below)
    shown = {rule_id: set() for rule_id in RULES}
    for (rule_id, _, _), entries in EXPECTED.items():
        shown[rule_id].update(fix[0] for fix in entries.values() if fix)
    shown["KDS002"].add(SAFE)
    shown["KDS016"].add(UNSAFE)  # a writer role not granted the key: test_a_firehose_role_not_granted_the_key_makes_the_fix_unsafe
    assert shown == {m.rule.id: set(m.rule.fixes) for m in all_rules() if m.rule.id in RULES}


# --------------------------------------------------------------------------- made for the choice


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


GOOD_KEY = """
resource "aws_kms_key" "{name}" {{
  enable_key_rotation = true
}}
"""

PLAIN_STREAM = """
resource "aws_kinesis_stream" "plain" {
  name        = "plain"
  shard_count = 1
}
"""


def test_one_fit_key_among_unfit_ones_is_chosen(tmp_path):
    declare_organization_trail(tmp_path)
    write(
        tmp_path,
        "main.tf",
        PLAIN_STREAM
        + GOOD_KEY.format(name="fit")
        + """
        resource "aws_kms_key" "no_rotation" {}

        resource "aws_kms_key" "disabled" {
          enable_key_rotation = true
          is_enabled          = false
        }

        resource "aws_kms_key" "public" {
          enable_key_rotation = true
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Principal = "*", Action = "kms:Decrypt", Resource = "*" }]
          })
        }

        variable "create" {
          type    = bool
          default = false
        }

        resource "aws_kms_key" "gated" {
          count               = var.create ? 1 : 0
          enable_key_rotation = true
        }
        """,
    )
    assert fixes_of("KDS001", str(tmp_path)) == {
        "aws_kinesis_stream.plain": (SAFE, [
            "set aws_kinesis_stream.plain encryption_type = 'KMS'",
            "set aws_kinesis_stream.plain kms_key_id = Link(aws_kms_key.fit, 'arn')",
        ]),
    }


def test_the_aws_managed_key_is_replaced_by_the_one_fit_key(tmp_path):
    declare_organization_trail(tmp_path)
    write(
        tmp_path,
        "main.tf",
        GOOD_KEY.format(name="fit")
        + """
        resource "aws_kinesis_stream" "managed" {
          name            = "managed"
          shard_count     = 1
          encryption_type = "KMS"
          kms_key_id      = "alias/aws/kinesis"
        }
        """,
    )
    assert fixes_of("KDS002", str(tmp_path)) == {
        "aws_kinesis_stream.managed": (SAFE, ["set aws_kinesis_stream.managed kms_key_id = Link(aws_kms_key.fit, 'arn')"]),
    }


def test_two_fit_keys_are_a_choice_a_stream_fix_leaves_to_a_new_key(tmp_path):
    declare_organization_trail(tmp_path)
    write(tmp_path, "main.tf", PLAIN_STREAM + GOOD_KEY.format(name="one") + GOOD_KEY.format(name="two"))
    assert fixes_of("KDS001", str(tmp_path)) == {
        "aws_kinesis_stream.plain": (UNSAFE, [
            "new kms_key plain_key near aws_kinesis_stream.plain: Encrypts Kinesis stream aws_kinesis_stream.plain",
            "set aws_kinesis_stream.plain encryption_type = 'KMS'",
            "set aws_kinesis_stream.plain kms_key_id = Link(plain_key, 'arn')",
        ]),
    }


def test_a_key_of_another_module_is_not_chosen(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "keys").mkdir()
    write(tmp_path / "keys", "main.tf", GOOD_KEY.format(name="elsewhere"))
    write(tmp_path, "main.tf", PLAIN_STREAM + 'module "keys" {\n  source = "./keys"\n}\n')
    assert fixes_of("KDS001", str(tmp_path))["aws_kinesis_stream.plain"][0] == UNSAFE


def test_a_gated_stream_gets_the_fit_key_but_never_a_new_key(tmp_path):
    declare_organization_trail(tmp_path)
    gated = """
    variable "create" {
      type    = bool
      default = false
    }

    resource "aws_kinesis_stream" "gated" {
      count       = var.create ? 1 : 0
      name        = "gated"
      shard_count = 1
    }
    """
    write(tmp_path, "main.tf", gated)
    # a key written beside it would be created even when the stream is not
    assert fixes_of("KDS001", str(tmp_path)) == {"aws_kinesis_stream.gated": None}
    write(tmp_path, "main.tf", textwrap.dedent(gated) + GOOD_KEY.format(name="fit"))
    assert fixes_of("KDS001", str(tmp_path)) == {
        "aws_kinesis_stream.gated": (SAFE, [
            "set aws_kinesis_stream.gated encryption_type = 'KMS'",
            "set aws_kinesis_stream.gated kms_key_id = Link(aws_kms_key.fit, 'arn')",
        ]),
    }


def test_rotation_is_not_fixed_when_the_key_policy_is_public_too(tmp_path):
    declare_organization_trail(tmp_path)
    write(
        tmp_path,
        "main.tf",
        """
        resource "aws_kms_key" "weak" {
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{ Effect = "Allow", Principal = "*", Action = "kms:*", Resource = "*" }]
          })
        }

        resource "aws_kinesis_stream" "s" {
          name            = "s"
          shard_count     = 1
          encryption_type = "KMS"
          kms_key_id      = aws_kms_key.weak.arn
        }
        """,
    )
    # turning rotation on would leave the finding (the policy): a fix that does not fix it is not offered
    assert fixes_of("KDS003", str(tmp_path)) == {"aws_kms_key.weak": None}


def test_a_failure_destination_without_a_fit_key_gets_the_services_aws_managed_key(tmp_path):
    declare_organization_trail(tmp_path)
    text = (EXAMPLES / "cloudformation" / "datapath-failure-destinations.yaml").read_text()
    assert text.count("EnableKeyRotation: true") == 1
    path = tmp_path / "destinations.yaml"
    path.write_text(text.replace("EnableKeyRotation: true", "EnableKeyRotation: false"))
    assert fixes_of("KDS017", str(path)) == {
        "SqsManagedQueue": (SAFE, ["set SqsManagedQueue KmsMasterKeyId = 'alias/aws/sqs'"]),
        "PlainTopic": (SAFE, ["set PlainTopic KmsMasterKeyId = 'alias/aws/sns'"]),
    }


def test_destinations_and_tables_get_no_fix_when_two_keys_fit(tmp_path):
    declare_organization_trail(tmp_path)
    for example in ("datapath-failure-destinations.yaml", "datapath-consumer-tables.yaml"):
        text = (EXAMPLES / "cloudformation" / example).read_text()
        second = "\n  SecondKey:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n"
        (tmp_path / example).write_text(text.replace("\nResources:\n", "\nResources:" + second + "\n", 1))
    # which of two keys should protect the data is a person's choice (the AWS managed key
    # is the fallback only when the template has no fit key at all)
    assert fixes_of("KDS017", str(tmp_path / "datapath-failure-destinations.yaml")) == {
        "SqsManagedQueue": None,
        "PlainTopic": None,
    }
    assert fixes_of("KDS018", str(tmp_path / "datapath-consumer-tables.yaml")) == {"Leases": None, "Results": None}


# --------------------------------------------------------------------------- who would lose access

KEYED_STREAM = """
data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  enable_key_rotation = true
  %(policy)s
}

resource "aws_kinesis_stream" "plain" {
  name        = "plain"
  shard_count = 1
}

resource "aws_iam_role" "producer" {
  name               = "producer"
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "producer" {
  role = aws_iam_role.producer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["kinesis:PutRecord", "kinesis:PutRecords"], Resource = aws_kinesis_stream.plain.arn },
      %(grant)s
    ]
  })
}
"""

ENCRYPT_PLAIN = [
    "set aws_kinesis_stream.plain encryption_type = 'KMS'",
    "set aws_kinesis_stream.plain kms_key_id = Link(aws_kms_key.streams, 'arn')",
]


def stream_fix(tmp_path: Path, policy: str = "", grant: str = "") -> tuple:
    declare_organization_trail(tmp_path)
    write(tmp_path, "main.tf", KEYED_STREAM % {"policy": policy, "grant": grant})
    result = scan([str(tmp_path)], config=resolve_config(None, [str(tmp_path)]))
    (fix,) = [f.fix for f in result.findings if f.rule.id == "KDS001"]
    return fix.safety, fix.title, [_intent(i) for i in fix.intents]


def test_a_producer_granted_the_key_keeps_the_fix_safe(tmp_path):
    grant = '{ Effect = "Allow", Action = "kms:GenerateDataKey", Resource = aws_kms_key.streams.arn },'
    assert stream_fix(tmp_path, grant=grant) == (
        SAFE, "Encrypt aws_kinesis_stream.plain with KMS key aws_kms_key.streams", ENCRYPT_PLAIN
    )


def test_a_producer_granted_every_key_keeps_the_fix_safe(tmp_path):
    grant = '{ Effect = "Allow", Action = "kms:GenerateDataKey*", Resource = "arn:aws:kms:*:*:key/*" },'
    assert stream_fix(tmp_path, grant=grant)[0] == SAFE


def test_a_producer_not_granted_the_key_makes_the_fix_unsafe_and_is_named(tmp_path):
    # kms:Decrypt is not what a producer needs; a grant on another resource does not count
    grant = (
        '{ Effect = "Allow", Action = "kms:Decrypt", Resource = aws_kms_key.streams.arn },\n'
        '      { Effect = "Allow", Action = "kms:GenerateDataKey", Resource = "arn:aws:kms:*:*:alias/streams" },'
    )
    assert stream_fix(tmp_path, grant=grant) == (
        UNSAFE,
        "Encrypt aws_kinesis_stream.plain with KMS key aws_kms_key.streams; "
        "role aws_iam_role.producer is not granted kms:GenerateDataKey on the key",
        ENCRYPT_PLAIN,
    )


def test_a_deny_takes_the_grant_away(tmp_path):
    grant = (
        '{ Effect = "Allow", Action = "kms:*", Resource = "*" },\n'
        '      { Effect = "Deny", Action = "kms:GenerateDataKey", Resource = aws_kms_key.streams.arn },'
    )
    assert stream_fix(tmp_path, grant=grant)[0] == UNSAFE


def key_policy(*statements: str) -> str:
    return "policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [" + ", ".join(statements) + "]\n  })"


ROOT = (
    '{ Effect = "Allow", Action = "kms:*", Resource = "*", '
    'Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" } }'
)
NAMES_PRODUCER = (
    '{ Effect = "Allow", Action = ["kms:GenerateDataKey", "kms:Decrypt"], Resource = "*", '
    'Principal = { AWS = aws_iam_role.producer.arn } }'
)
NAMES_PRODUCER_BY_ARN = (
    '{ Effect = "Allow", Action = "kms:GenerateDataKey*", Resource = "*", '
    'Principal = { AWS = "arn:aws:iam::111122223333:role/producer" } }'
)


def test_a_key_policy_naming_the_producer_keeps_the_fix_safe(tmp_path):
    assert stream_fix(tmp_path, policy=key_policy(ROOT, NAMES_PRODUCER))[0] == SAFE
    assert stream_fix(tmp_path, policy=key_policy(NAMES_PRODUCER_BY_ARN))[0] == SAFE


def test_an_iam_grant_counts_only_where_the_key_policy_lets_iam_decide(tmp_path):
    grant = '{ Effect = "Allow", Action = "kms:GenerateDataKey", Resource = aws_kms_key.streams.arn },'
    # the account's root may use the key: IAM policies decide, and the role's grants it
    assert stream_fix(tmp_path, policy=key_policy(ROOT), grant=grant)[0] == SAFE
    # a key policy that names someone else only: the role's IAM grant is of no use
    other = (
        '{ Effect = "Allow", Action = "kms:*", Resource = "*", '
        'Principal = { AWS = "arn:aws:iam::111122223333:role/admin" } }'
    )
    assert stream_fix(tmp_path, policy=key_policy(other), grant=grant)[:2] == (
        UNSAFE,
        "Encrypt aws_kinesis_stream.plain with KMS key aws_kms_key.streams; "
        "role aws_iam_role.producer is not granted kms:GenerateDataKey on the key",
    )


def test_the_new_key_fix_names_the_users_of_the_stream(tmp_path):
    declare_organization_trail(tmp_path)
    text = (KEYED_STREAM % {"policy": "", "grant": ""}).replace("enable_key_rotation = true", "")  # no fit key
    text += """
    resource "aws_iam_role" "reader" {
      name               = "reader"
      assume_role_policy = "{}"
    }

    resource "aws_iam_role_policy" "reader" {
      role = aws_iam_role.reader.id
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [
          { Effect = "Allow", Action = ["kinesis:GetRecords", "kinesis:GetShardIterator"], Resource = "*" },
          { Effect = "Allow", Action = "kms:Decrypt", Resource = "*" },
        ]
      })
    }
    """
    write(tmp_path, "main.tf", text)
    result = scan([str(tmp_path)], config=resolve_config(None, [str(tmp_path)]))
    # the reader's grant on every key covers the new key too; the producer has none
    assert {(f.fix.safety, f.fix.title) for f in result.findings if f.rule.id == "KDS001"} == {
        (UNSAFE, "Encrypt aws_kinesis_stream.plain with a new KMS key; "
                 "role aws_iam_role.producer is not granted kms:GenerateDataKey on the key"),
    }


def test_a_firehose_role_not_granted_the_key_makes_the_fix_unsafe(tmp_path):
    declare_organization_trail(tmp_path)
    text = """
    resource "aws_kms_key" "data" {
      enable_key_rotation = true
    }

    resource "aws_kinesis_stream" "source" {
      name            = "source"
      shard_count     = 1
      encryption_type = "KMS"
      kms_key_id      = aws_kms_key.data.arn
    }

    resource "aws_s3_bucket" "archive" {
      bucket = "archive"
    }

    resource "aws_iam_role" "firehose" {
      name               = "firehose"
      assume_role_policy = "{}"
    }

    resource "aws_iam_role_policy" "firehose" {
      role = aws_iam_role.firehose.id
      policy = jsonencode({
        Version   = "2012-10-17"
        Statement = [%s]
      })
    }

    resource "aws_kinesis_firehose_delivery_stream" "archive" {
      name        = "archive"
      destination = "extended_s3"
      kinesis_source_configuration {
        kinesis_stream_arn = aws_kinesis_stream.source.arn
        role_arn           = aws_iam_role.firehose.arn
      }
      extended_s3_configuration {
        role_arn   = aws_iam_role.firehose.arn
        bucket_arn = aws_s3_bucket.archive.arn
      }
    }
    """
    write(tmp_path, "main.tf", text % '{ Effect = "Allow", Action = "s3:PutObject", Resource = "*" }')
    fixes = {a: (f[0], f[1]) for a, f in titles_and_safety("KDS016", str(tmp_path)).items()}
    assert fixes == {
        "aws_kinesis_firehose_delivery_stream.archive": (
            UNSAFE,
            "Encrypt the objects of aws_kinesis_firehose_delivery_stream.archive with KMS key aws_kms_key.data; "
            "role aws_iam_role.firehose is not granted kms:GenerateDataKey on the key",
        ),
    }
    write(tmp_path, "main.tf", text % '{ Effect = "Allow", Action = ["s3:PutObject", "kms:GenerateDataKey"], Resource = "*" }')
    assert titles_and_safety("KDS016", str(tmp_path)) == {
        "aws_kinesis_firehose_delivery_stream.archive": (
            SAFE, "Encrypt the objects of aws_kinesis_firehose_delivery_stream.archive with KMS key aws_kms_key.data"
        ),
    }


def titles_and_safety(rule_id: str, path: str) -> dict[str, tuple[str, str]]:
    result = scan([path], config=resolve_config(None, [path]))
    return {f.address: (f.fix.safety, f.fix.title) for f in result.findings if f.rule.id == rule_id and f.fix is not None}


def test_users_granted_every_stream_and_users_of_this_stream_are_named_together(tmp_path):
    extra = """
    resource "aws_iam_role" "admin" {
      name               = "admin"
      assume_role_policy = "{}"
    }

    resource "aws_iam_role_policy" "admin" {
      role   = aws_iam_role.admin.id
      policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "kinesis:*", Resource = "*" }] })
    }

    resource "aws_iam_role" "writer" {
      name               = "writer"
      assume_role_policy = "{}"
    }

    resource "aws_iam_role_policy" "writer" {
      role   = aws_iam_role.writer.id
      policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "kinesis:PutRecord", Resource = "*" }] })
    }
    """
    declare_organization_trail(tmp_path)
    write(tmp_path, "main.tf", KEYED_STREAM % {"policy": "", "grant": ""} + textwrap.dedent(extra))
    assert titles_and_safety("KDS001", str(tmp_path)) == {
        "aws_kinesis_stream.plain": (
            UNSAFE,
            "Encrypt aws_kinesis_stream.plain with KMS key aws_kms_key.streams; "
            "roles aws_iam_role.producer, aws_iam_role.writer are not granted kms:GenerateDataKey on the key; "
            "role aws_iam_role.admin is not granted kms:GenerateDataKey and kms:Decrypt on the key",
        ),
    }


CFN_KEY_POLICY_NAMES_ROLE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  StreamsKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: %s}
            Action: kms:GenerateDataKey
            Resource: "*"
  Plain:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
  ProducerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
      Policies:
        - PolicyName: put
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: kinesis:PutRecord, Resource: !GetAtt Plain.Arn}
"""


def test_a_cloudformation_key_policy_naming_the_role_keeps_the_fix_safe(tmp_path):
    declare_organization_trail(tmp_path)
    path = write(tmp_path, "t.yaml", CFN_KEY_POLICY_NAMES_ROLE % "!GetAtt ProducerRole.Arn")
    assert titles_and_safety("KDS001", path) == {"Plain": (SAFE, "Encrypt Plain with KMS key StreamsKey")}
    # a role name known only at deployment is not known to be the producer's
    path = write(tmp_path, "t.yaml", CFN_KEY_POLICY_NAMES_ROLE % "!Sub 'arn:aws:iam::${AWS::AccountId}:role/${ProducerRole}'")
    assert titles_and_safety("KDS001", path) == {
        "Plain": (UNSAFE, "Encrypt Plain with KMS key StreamsKey; role ProducerRole is not granted kms:GenerateDataKey on the key"),
    }
