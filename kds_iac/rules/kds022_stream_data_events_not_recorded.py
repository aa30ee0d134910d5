"""Kinesis stream's data events are not recorded by CloudTrail.

## What it does
Reports a Kinesis data stream when no trail or event data store of the scope records its
data events (`PutRecord`, `PutRecords`, `GetRecords`, `SubscribeToShard`, ...): none has an
advanced event selector with `eventCategory` `Data` and `resources.type`
`AWS::Kinesis::Stream` whose `resources.ARN` conditions (`equals`, `starts_with`,
`ends_with` and their negations; none means every stream) take in the stream's ARN. A
reference to the stream (`aws_kinesis_stream.orders.arn`, `!GetAtt Orders.Arn`) matches it;
a written ARN matches on its name, and on its region when both are known. Trails that do not
log are not counted. Basic event selectors cannot select Kinesis data events.

An organization trail declared in settings (`organization-trail`) counts when the settings
also say `organization-trail-data-events = true`. Data events are billed per event: when a
team decides not to record them, `kinesis-data-events = false` turns this rule off. A
selector part that is not known before deployment is not reported.

## Why is this bad?
Management events show who changed a stream; only data events show who wrote to it or
read from it. Without them a leaked producer credential that injects records, or a
consumer that reads a stream it should not, leaves no trace.

## Remediation
Add an advanced event selector for Kinesis streams (all of them, or some by ARN):

```hcl
resource "aws_cloudtrail" "audit" {
  # ...
  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }
  advanced_event_selector {
    name = "Kinesis stream data events"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::Kinesis::Stream"]
    }
  }
}
```

```yaml
AdvancedEventSelectors:
  - Name: Management events
    FieldSelectors:
      - { Field: eventCategory, Equals: [Management] }
  - Name: Kinesis stream data events
    FieldSelectors:
      - { Field: eventCategory, Equals: [Data] }
      - { Field: resources.type, Equals: ["AWS::Kinesis::Stream"] }
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/logging-using-cloudtrail.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
- https://docs.aws.amazon.com/awscloudtrail/APIReference/API_AdvancedFieldSelector.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules.base import AroundAddress, Examples, Finding, Rule, Severity
from kds_iac.views.cloudtrail import Audit, Trail, audit, scope_name
from kds_iac.views.facts import listed
from kds_iac.views.kinesis import STREAM_TYPES

RULE = Rule(
    id="KDS022",
    checkov_id="CKV_KDS_22",
    severity=Severity.LOW,
    title="Kinesis stream's data events are not recorded by CloudTrail",
    resource_types=STREAM_TYPES,
    category="LOGGING",
    scope_wide=True,
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "cloudtrail-missing": {"aws_kinesis_stream.orders": 9, "aws_kinesis_stream.payments": 16},
            "cloudtrail-conditional": {"aws_kinesis_stream.orders": 24},
            "cloudtrail-organization": {"aws_kinesis_stream.orders": 10},
            "cloudtrail-data-events": {"aws_kinesis_stream.unselected": 101, "aws_kinesis_stream.excluded": 94},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-module", "cloudtrail-log-bucket"),
    ),
    "cloudformation": Examples(
        bad={
            "cloudtrail-missing": {"Orders": 11, "Payments": 19},
            "cloudtrail-conditional": {"Orders": 27},
            "cloudtrail-organization": {"Orders": 11},
            "cloudtrail-data-events": {"Unselected": 65, "Excluded": 57},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-template", "cloudtrail-log-bucket"),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    scope = audit(model)
    if not scope.require_data_events or (scope.organization_trail and scope.organization_trail_data_events):
        return
    recorders = [t for t in scope.trails if t.logging.value is not False]
    message = None  # the same for every stream: made when the first one is reported
    for stream in scope.streams:
        if recorders:
            verdicts = [t.records_data_events_of(stream, model) for t in recorders]
            if True in verdicts or None in verdicts:
                continue
        if message is None:
            message = _message(scope, recorders, model)
        yield Finding(RULE, stream.resource, message)


def _message(scope: Audit, recorders: list[Trail], model: Model) -> AroundAddress:
    if recorders:
        why = "no advanced event selector of " + listed((t.address for t in recorders), limit=5) + " takes in its ARN"
    else:
        why = f"no logging trail or event data store in scope {scope_name(model)}"
    if scope.organization_trail:
        why += f"; the organization trail declared in {scope.settings_source} is not declared to record them (organization-trail-data-events)"
    return AroundAddress(
        "CloudTrail does not record data events (PutRecord, GetRecords, ...) of Kinesis stream ",
        f": {why}; turn this rule off with kinesis-data-events = false if that is a decision",
    )
