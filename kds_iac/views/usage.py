"""What a role is used for, when only AWS services can use it: the Kinesis actions it needs.

A fix that narrows a statement (KDS004, KDS005) must know everything its principal does with
Kinesis. For a role that application code runs under (a Lambda function, a task, an instance)
nobody can know: the code may call any action. A role that only AWS services may assume
(its trust policy names nothing but service principals this module knows) is different: each
such service calls a fixed, documented set of Kinesis actions on the streams the template
points it at:

- Firehose reading a Kinesis source (``kinesis_source_configuration.role_arn``,
  ``KinesisStreamSourceConfiguration.RoleARN``): ``kinesis:DescribeStream``,
  ``kinesis:GetShardIterator``, ``kinesis:GetRecords``, ``kinesis:ListShards`` (the read set
  KDS014 asks for);
- CloudWatch Logs delivering a subscription filter to a stream (``role_arn``, ``RoleArn``):
  ``kinesis:PutRecord`` (and ``kinesis:PutRecords``, a producer's other write action);
- EventBridge putting events into a stream target (``aws_cloudwatch_event_target`` ``role_arn``,
  a rule's ``Targets[].RoleArn``), and an IoT topic rule's Kinesis action (``kinesis.role_arn``,
  ``TopicRulePayload.Actions[].Kinesis.RoleArn``, error actions too): the same two write actions.

``role_uses(model, role)`` answers with ``RoleUses``: the services that may assume the role,
its uses found in the scan, the actions they need and the streams they touch (``None`` when a
use names a stream that is not a resource of the scan). ``certain`` is False, with a reason,
for anything else. A use written in another template or module that points a service at this
role by ARN is not seen: the docs of the rules that fix say so.

``referrers(model, resource)``: every (resource, top-level attribute) whose value holds an edge
to ``resource``; built once per model on first use (only a fix asks for it).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from kds_iac import iam_actions
from kds_iac.model import Conditional, Encoded, FromInputs, Model, Ref, Resource, Template
from kds_iac.value import Value
from kds_iac.views import compute
from kds_iac.views.facts import ABSENT, attribute, resolve
from kds_iac.views.iam import TERRAFORM_POLICY_TYPES
from kds_iac.views.kinesis import STREAM_TYPES
from kds_iac.views.policy import UNKNOWN_TEXT, policy_statements
from kds_iac.views.settings import Settings

FIREHOSE, LOGS, EVENTS, IOT = "firehose", "logs", "events", "iot"

# The read set AWS documents for a Firehose Kinesis source (KDS014's READ_ACTIONS; a test keeps them equal).
FIREHOSE_SOURCE_ACTIONS = frozenset(
    {"kinesis:DescribeStream", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"}
)
SERVICE_ACTIONS = {
    FIREHOSE: FIREHOSE_SOURCE_ACTIONS,
    LOGS: iam_actions.PRODUCER_ACTIONS,
    EVENTS: iam_actions.PRODUCER_ACTIONS,
    IOT: iam_actions.PRODUCER_ACTIONS,
}

_SERVICE_PRINCIPALS = {
    "firehose.amazonaws.com": FIREHOSE,
    "logs.amazonaws.com": LOGS,
    "events.amazonaws.com": EVENTS,
    "iot.amazonaws.com": IOT,
}
_REGIONAL_LOGS = re.compile(r"^logs\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$")

ROLE_SETTINGS = Settings(terraform={"trust": "assume_role_policy"}, cloudformation={"trust": "AssumeRolePolicyDocument"})
SUBSCRIPTION_FILTER_TYPES = ("aws_cloudwatch_log_subscription_filter", "AWS::Logs::SubscriptionFilter")
SUBSCRIPTION_SETTINGS = Settings(
    terraform={"destination": "destination_arn", "role": "role_arn"},
    cloudformation={"destination": "DestinationArn", "role": "RoleArn"},
)
# An EventBridge target: a Terraform resource of its own; in CloudFormation, each of a rule's Targets.
EVENT_TARGET_TYPES = ("aws_cloudwatch_event_target", "AWS::Events::Rule")
EVENT_TARGET_SETTINGS = Settings(
    terraform={"targets": None, "target": "arn", "role": "role_arn"},
    cloudformation={"targets": "Targets", "target": "Arn", "role": "RoleArn"},
)
# An IoT topic rule's Kinesis actions (and error action): Terraform writes ``kinesis`` blocks on
# the rule and in ``error_action``; CloudFormation a ``Kinesis`` entry of TopicRulePayload's
# Actions and ErrorAction.
IOT_RULE_TYPES = ("aws_iot_topic_rule", "AWS::IoT::TopicRule")
IOT_SETTINGS = Settings(
    terraform={"payload": None, "actions": None, "error": "error_action", "kinesis": "kinesis",
               "role": "role_arn", "stream": "stream_name"},
    cloudformation={"payload": "TopicRulePayload", "actions": "Actions", "error": "ErrorAction", "kinesis": "Kinesis",
                    "role": "RoleArn", "stream": "StreamName"},
)


class ServiceUse(Value):
    """One resource that has an AWS service use the role on a stream."""

    __slots__ = ("service", "resource", "stream")

    def __init__(self, service: str, resource: Resource, stream: Optional[Resource]):
        self.service = service
        self.resource = resource  # the delivery stream, the subscription filter
        self.stream = stream  # the stream of the scan it touches; None: not a stream of the scan


class RoleUses(Value):
    __slots__ = ("role", "services", "uses", "reason")
    _not_compared = ("uses",)

    def __init__(self, role: Resource, services: frozenset[str], uses: tuple[ServiceUse, ...], reason: str = ""):
        self.role = role
        self.services = services  # the services its trust policy lets assume it
        self.uses = uses
        self.reason = reason  # why the role's needs are not certain ("" when they are)

    @property
    def certain(self) -> bool:
        return not self.reason

    @property
    def actions(self) -> frozenset[str]:
        """Every Kinesis action the services that may assume the role call."""
        out: set[str] = set()
        for service in self.services:
            out |= SERVICE_ACTIONS[service]
        return frozenset(out)

    @property
    def streams(self) -> Optional[tuple[Resource, ...]]:
        """The streams its uses touch, in address order; None when one is not in the scan."""
        if any(use.stream is None for use in self.uses):
            return None
        return tuple(sorted({id(u.stream): u.stream for u in self.uses}.values(), key=lambda r: r.address))


def role_uses(model: Model, role: Resource) -> RoleUses:
    known: dict[int, RoleUses] = model.memo("role_uses", dict)
    found = known.get(id(role))
    if found is None:
        found = known[id(role)] = _role_uses(model, role)
    return found


def _role_uses(model: Model, role: Resource) -> RoleUses:
    if role.type not in compute.ROLE_TYPES or role.is_data_source:
        return RoleUses(role, frozenset(), (), f"{role.address} is not a role of the scan")
    if role.origin is not None:
        return RoleUses(role, frozenset(), (), f"{role.address} is generated for {role.origin.address}, whose code runs under it")
    services, reason = _trusted_services(role)
    if reason:
        return RoleUses(role, services, (), reason)
    uses = tuple(u for u in _service_uses(model) if u[0] is role)
    if not uses:
        what = "Firehose source, log subscription, EventBridge target or IoT rule"
        return RoleUses(role, services, (), f"no {what} of the scan uses {role.address}")
    return RoleUses(role, services, tuple(u[1] for u in uses))


def _trusted_services(role: Resource) -> tuple[frozenset[str], str]:
    """The services the trust policy lets assume the role, or why that is not certain."""
    trust = policy_statements(attribute(role.attributes, ROLE_SETTINGS.name(role, "trust")))
    if not isinstance(trust.value, list):
        return frozenset(), f"the trust policy of {role.address} is not known before deployment"
    services: set[str] = set()
    for statement in trust.value:
        if not statement.allows:
            continue
        for kind, identifier in statement.principals or (("*", "*"),):
            service = _SERVICE_PRINCIPALS.get(identifier) or (LOGS if _REGIONAL_LOGS.match(identifier) else None)
            if kind != "Service" or service is None or identifier == UNKNOWN_TEXT:
                return frozenset(), f"the trust policy of {role.address} lets {identifier} assume it"
            services.add(service)
    if not services:
        return frozenset(), f"the trust policy of {role.address} lets no service assume it"
    return frozenset(services), ""


def _service_uses(model: Model) -> list[tuple[Resource, ServiceUse]]:
    """(role, use) for every Firehose Kinesis source, log subscription and EventBridge target
    that may be a stream."""

    def build() -> list[tuple[Resource, ServiceUse]]:
        out = []
        for delivery in compute.delivery_streams(model):
            role, source = delivery.role.value, delivery.source.value
            if isinstance(role, Resource):
                stream = source.stream if isinstance(source, compute.StreamSource) and not source.fan_out else None
                out.append((role, ServiceUse(FIREHOSE, delivery.resource, stream)))
        for resource in model.of_type(*SUBSCRIPTION_FILTER_TYPES):
            out += _writer(model, LOGS, resource, SUBSCRIPTION_SETTINGS.get(resource, "role"),
                           SUBSCRIPTION_SETTINGS.get(resource, "destination"))
        for resource in model.of_type(*EVENT_TARGET_TYPES):
            targets = EVENT_TARGET_SETTINGS.name(resource, "targets")
            if targets is None:  # a Terraform target resource is one target
                out += _writer(model, EVENTS, resource, EVENT_TARGET_SETTINGS.get(resource, "role"),
                               EVENT_TARGET_SETTINGS.get(resource, "target"))
                continue
            listed = resolve(resource.get(targets)).value
            for target in listed if isinstance(listed, list) else []:
                target = resolve(target).value
                if isinstance(target, dict):
                    out += _writer(model, EVENTS, resource, target.get(EVENT_TARGET_SETTINGS.name(resource, "role")),
                                   target.get(EVENT_TARGET_SETTINGS.name(resource, "target")))
        for resource in model.of_type(*IOT_RULE_TYPES):
            for action in _iot_kinesis_actions(resource):
                role = compute.role_of(resolve(action.get(IOT_SETTINGS.name(resource, "role"))), model).value
                if isinstance(role, Resource):
                    stream = _stream_named(model, action.get(IOT_SETTINGS.name(resource, "stream")))
                    out.append((role, ServiceUse(IOT, resource, stream)))
        return out

    return model.memo("service_uses", build)


def _iot_kinesis_actions(rule: Resource) -> list[dict]:
    """The Kinesis actions of a topic rule, its error action's included."""
    name = IOT_SETTINGS.name
    payload_name = name(rule, "payload")
    payload = resolve(rule.get(payload_name)).value if payload_name else rule.attributes
    if not isinstance(payload, dict):
        return []
    holders = [payload] if name(rule, "actions") is None else _mappings(payload.get(name(rule, "actions")))
    holders += _mappings(payload.get(name(rule, "error")))
    return [action for holder in holders for action in _mappings(holder.get(name(rule, "kinesis")))]


def _mappings(value: Any) -> list[dict]:
    """A mapping, or a list of them (Terraform nested blocks), as a list."""
    value = resolve(value).value
    items = value if isinstance(value, list) else [value]
    return [item for item in (resolve(i).value for i in items) if isinstance(item, dict)]


def _stream_named(model: Model, value: Any) -> Optional[Resource]:
    """The stream of the scan a stream-name setting names (by edge, or by its literal name
    when one stream of the scan has it)."""
    value = resolve(value).value
    if isinstance(value, Ref):
        return value.target if value.target.type in STREAM_TYPES else None
    if isinstance(value, str):
        found = compute.streams_by_name(model).get(value, [])
        return found[0] if len(found) == 1 else None
    return None


def _writer(model: Model, service: str, resource: Resource, role_value: Any, destination_value: Any) -> list:
    """The use of a service that writes to a destination with a role, when the role is one of
    the scan and the destination may be a stream (a stream of the scan, or an ARN)."""
    role = compute.role_of(resolve(role_value), model).value
    if not isinstance(role, Resource):
        return []
    destination = resolve(destination_value).value
    if destination is ABSENT or (isinstance(destination, Ref) and destination.target.type not in STREAM_TYPES):
        return []  # a Firehose delivery stream, a queue, a function...: no Kinesis action
    stream = destination.target if isinstance(destination, Ref) else None
    return [(role, ServiceUse(service, resource, stream))]


# --------------------------------------------------------------------------- references

# (type, attribute) where the IAM view reads a policy document data source's JSON as a policy
_DOCUMENT_READERS = frozenset({(t, "policy") for t in TERRAFORM_POLICY_TYPES} | {("aws_iam_role", "inline_policy")})
_DOCUMENT_NESTING = ("source_policy_documents", "override_policy_documents")
_POLICY_DOCUMENT = "aws_iam_policy_document"


def read_elsewhere(model: Model, resource: Resource, depth: int = 0) -> str:
    """Why editing where ``resource`` writes a statement would change more than the IAM
    policies of the scan ("" when it would not): a policy document data source whose JSON
    also feeds a trust policy, a bucket policy or an output."""
    if resource.type != _POLICY_DOCUMENT or depth > 8:
        return ""
    for holder, name in [r for instance in instances(model, resource) for r in referrers(model, instance)]:
        if (holder.type, name) in _DOCUMENT_READERS:
            continue
        if holder.type == _POLICY_DOCUMENT and name in _DOCUMENT_NESTING:
            inner = read_elsewhere(model, holder, depth + 1)
            if inner:
                return inner
            continue
        return f"{resource.address} is also read by {holder.address} ({name})"
    return ""


def instances(model: Model, resource: Resource) -> list[Resource]:
    """Every resource of the scan written by the same block as ``resource`` (its ``count``
    and ``for_each`` instances, the same module called twice), itself included."""

    def build() -> dict[tuple[str, int], list[Resource]]:
        index: dict[tuple[str, int], list[Resource]] = {}
        for item in model.resources:
            index.setdefault((item.location.file, item.location.start_line), []).append(item)
        return index

    return model.memo("resources_by_block", build).get((resource.location.file, resource.location.start_line), [resource])


def written_together(first: Resource, second: Resource) -> bool:
    """Whether two resources are in the same Terraform module instance or CloudFormation
    template, where one can refer to the other (``aws_kinesis_stream.s.arn``, ``!GetAtt S.Arn``)."""
    return first.unit == second.unit and first.module == second.module and first.source_format == second.source_format



def referrers(model: Model, resource: Resource) -> list[tuple[Resource, str]]:
    """Every (resource, top-level attribute) of the scan whose value has an edge to ``resource``
    (outputs included: type ``output``/``Output``)."""
    return model.memo("referrers", lambda: _referrers(model)).get(id(resource), [])


def _referrers(model: Model) -> dict[int, list[tuple[Resource, str]]]:
    index: dict[int, list[tuple[Resource, str]]] = {}
    for holder in list(model.resources) + list(model.outputs):
        for name, value in holder.attributes.items():
            for target in _edges(value, 0):
                found = index.setdefault(id(target), [])
                if (holder, name) not in found:
                    found.append((holder, name))
    return index


def _edges(value: Any, depth: int) -> list[Resource]:
    if depth > 64:
        return []
    if isinstance(value, Ref):
        return [value.target]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _edges(v, depth + 1)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _edges(v, depth + 1)]
    if isinstance(value, Template):
        return [t for v in value.parts for t in _edges(v, depth + 1)]
    if isinstance(value, FromInputs):
        return _edges(value.value, depth + 1)
    if isinstance(value, Conditional):
        return _edges(value.when_true, depth + 1) + _edges(value.when_false, depth + 1)
    if isinstance(value, Encoded):
        return _edges(value.value, depth + 1)
    return []


__all__ = [
    "EVENTS", "FIREHOSE", "IOT", "LOGS", "FIREHOSE_SOURCE_ACTIONS", "SERVICE_ACTIONS", "RoleUses", "ServiceUse", "instances", "read_elsewhere", "referrers", "role_uses",
    "written_together",
]
