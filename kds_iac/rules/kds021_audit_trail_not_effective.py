"""CloudTrail trail that should audit the scope's Kinesis streams is not effective.

## What it does
Reports each defect of a CloudTrail trail of a scope that holds Kinesis data streams, one
finding per defect, on the trail at the setting to change, naming the streams it fails:

- logging off: Terraform `enable_logging = false`; CloudFormation `IsLogging: false` (or
  left out: the property is required);
- single-region (`is_multi_region_trail` / `IsMultiRegionTrail` false, the default) while
  some streams are in another region or one not known to be the trail's. A Terraform
  resource's region is its own `region` or its provider configuration's; two resources of
  one provider configuration, or of one CloudFormation template, share a region;
- log file validation off (`enable_log_file_validation` / `EnableLogFileValidation`, off by
  default);
- log files not encrypted with a KMS key (`kms_key_id` / `KMSKeyId` not set: SSE-S3 only);
- management events excluded: basic event selectors that all set
  `include_management_events = false` or `read_write_type = "ReadOnly"`, or advanced event
  selectors none of which records write management events of `kinesis.amazonaws.com`
  (no `eventCategory` `Management`, `readOnly` `true`, or `eventSource` leaving Kinesis out).

Defects other than the region are reported only when the trail records some stream of the
scope (it is multi-region, or in a region that may be the stream's). A setting that comes
from an input is judged with the input's default and the message names it. Trails that a
condition leaves out are KDS020's; event data stores are judged by KDS022 only.

## Why is this bad?
A trail that exists but does not log, misses the region a stream lives in, drops write
management events, or keeps logs that can be altered or read without a key you control
gives a false sense of audit: `StopStreamEncryption`, `PutResourcePolicy` or `DeleteStream`
on the stream leaves no trustworthy record. Log file validation proves logs were not
changed after delivery; a KMS key limits who can read them and logs each read.

## Remediation
```hcl
resource "aws_cloudtrail" "audit" {
  name                       = "audit"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  enable_logging             = true
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
  # no event_selector: every management event, reads and writes
}
```

```yaml
AuditTrail:
  Type: AWS::CloudTrail::Trail
  Properties:
    IsLogging: true
    IsMultiRegionTrail: true
    EnableLogFileValidation: true
    KMSKeyId: !Ref AuditKey
    S3BucketName: !Ref AuditLogBucket
```

## Fix
A safe fix per finding, changing the one setting of the defect: `enable_logging = true` /
`IsLogging: true`, `enable_log_file_validation = true` / `EnableLogFileValidation: true`,
`is_multi_region_trail = true` / `IsMultiRegionTrail: true`; for excluded management events,
when the trail has one basic event selector, `include_management_events = true` /
`IncludeManagementEvents: true` and `read_write_type = "All"` / `ReadWriteType: All` on it.
Not fixed: a setting an input or a condition decides, log files without a KMS key (the key's
policy must let CloudTrail use it, which no template setting of the trail can make certain),
and advanced event selectors or several basic ones (which selector should record management
events is a choice).

## References
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html
- https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, Fix
from kds_iac.model import Model
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.cloudtrail import SELECTOR_SETTINGS, TRAIL_SETTINGS, TRAIL_TYPES, Trail, audit
from kds_iac.views.facts import Fact, listed
from kds_iac.views.settings import fixable

RULE = Rule(
    id="KDS021",
    checkov_id="CKV_KDS_21",
    severity=Severity.MEDIUM,
    title="CloudTrail trail that should audit the scope's Kinesis streams is not effective",
    resource_types=TRAIL_TYPES,
    category="LOGGING",
    scope_wide=True,
    fixes=(SAFE,),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "cloudtrail-defects": {
                "aws_cloudtrail.logging_off": 16,
                "aws_cloudtrail.single_region": 22,
                "aws_cloudtrail.no_validation": 29,
                "aws_cloudtrail.no_kms": 36,
                "aws_cloudtrail.management_excluded": 49,
                "aws_cloudtrail.read_only": 64,
                "aws_cloudtrail.data_only": 75,
            },
            "cloudtrail-log-bucket": {"aws_cloudtrail.plain_bucket": 53},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-module", "cloudtrail-data-events", "cloudtrail-missing"),
    ),
    "cloudformation": Examples(
        bad={
            "cloudtrail-defects": {
                "LoggingOff": 10,
                "LoggingLeftOut": 14,
                "SingleRegion": 22,
                "NoValidation": 30,
                "NoKms": 38,
                "ManagementExcluded": 55,
                "ReadOnly": 69,
                "DataOnly": 80,
            },
            "cloudtrail-log-bucket": {"PlainBucketTrail": 45},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-template", "cloudtrail-data-events", "cloudtrail-missing"),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    scope = audit(model)
    if not scope.streams:
        return
    for trail in scope.trails:
        if trail.is_store:
            continue
        outside = scope.outside_region_of(trail)
        if trail.multi_region.value is False and outside:
            yield _finding(
                trail,
                "multi_region",
                f"it records one region ({trail.region.describe()}) and streams {_names(outside)} are in another"
                " region or one not known to be the trail's",
                trail.multi_region,
            )
        covered = scope.covered_by(trail)
        if not covered:
            continue
        named = _names(covered)
        if trail.logging.value is False:
            text = "logging is off" if trail.logging_written else "IsLogging is not set (it is required, so the trail is not created)"
            yield _finding(trail, "logging", f"{text}: API calls on {named} are not recorded", trail.logging)
        if trail.validation.value is False:
            yield _finding(
                trail,
                "validation",
                f"log file validation is off: changes to the logs of {named} after delivery cannot be detected",
                trail.validation,
            )
        if trail.kms_key.absent:
            yield _finding(
                trail,
                "kms_key",
                f"log files recording {named} are not encrypted with a KMS key (SSE-S3 only): "
                "anyone who may read the bucket reads them, without a key policy or a logged decrypt",
                trail.kms_key,
            )
        records, why = trail.records_management_writes()
        if records is False:
            yield _finding(
                trail,
                "selectors",
                f"management events are excluded ({why}): StopStreamEncryption, PutResourcePolicy or DeleteStream"
                f" on {named} are not recorded",
                Fact(None),
            )


def _finding(trail: Trail, what: str, text: str, fact: Fact) -> Finding:
    provenance = fact.provenance()
    decided = f" (with input defaults; decided by {provenance})" if provenance else ""
    line = trail.selectors_line if what == "selectors" else trail.line_of(what)
    return Finding(
        RULE,
        trail.resource,
        f"CloudTrail trail {trail.address} is not effective: {text}{decided}",
        line=line,
        fix=_fix(trail, what, fact),
    )


# The defects a fix turns into one setting: the fix's title, and the value the setting takes.
_SWITCHES = {
    "logging": ("Turn on logging of {}", True),
    "validation": ("Turn on log file validation of {}", True),
    "multi_region": ("Make {} multi-region", True),
}


def _fix(trail: Trail, what: str, fact: Fact) -> Optional[Fix]:
    """The defect's own setting, when no input decides it. A missing KMS key is not fixed
    (the key's policy must let CloudTrail use it), and excluded management events only when
    the one basic event selector can include them by its own settings."""
    if not fixable(trail.resource):
        return None
    if what == "selectors":
        intents = _selector_intents(trail)
        title = f"Record management events in {trail.address}"
    elif what in _SWITCHES and not (fact.inputs or fact.conditions or fact.assumed):
        title, value = _SWITCHES[what]
        intents = (TRAIL_SETTINGS.set(trail.resource, what, value),)
        title = title.format(trail.address)
    else:
        return None
    if not intents or None in intents:
        return None
    return Fix(title, SAFE, intents)


def _selector_intents(trail: Trail) -> tuple:
    """``include_management_events`` on and ``read_write_type`` All on the trail's only basic
    event selector; nothing for advanced selectors (which selector to widen is a choice)."""
    if trail.advanced or len(trail.basic) != 1:
        return ()
    selector = trail.basic[0]
    facts = (selector.management, selector.read_write)
    if any(f.inputs or f.conditions or f.assumed or not f.known for f in facts):
        return ()
    within = TRAIL_SETTINGS.name(trail.resource, "basic_selectors") + "[0]"
    intents = []
    if selector.management.value is False:
        intents.append(SELECTOR_SETTINGS.set(trail.resource, "management", True, within=within))
    if str(selector.read_write.value).lower() == "readonly":
        intents.append(SELECTOR_SETTINGS.set(trail.resource, "read_write", "All", within=within))
    return tuple(intents)


def _names(streams: list) -> str:
    return listed((s.address for s in streams), limit=5)
