"""The compute that produces to and consumes from streams, as rules see it.

Format-neutral views of Lambda functions, Lambda event source mappings, ECS task
definitions, EC2 instances, launch templates and launch configurations (with their user
data decoded and their instance profile resolved to roles), Firehose delivery streams with
a Kinesis source, and the Terraform ``aws`` provider blocks. AWS defaults and formats live
here; rules only read the facts.

User data: CloudFormation's ``UserData`` and a launch template's user data are base64 by
contract; Terraform's ``user_data`` of an instance or launch configuration is plain text, but
the provider passes base64 through, so a value that is base64 of text is decoded there too
(gzip inside is inflated). ``Fn::Base64`` of a ``Fn::Sub`` and ``base64encode(...)`` of an
interpolated heredoc reach here as ``Encoded`` (the loaders keep what gets encoded), and a
``templatefile()`` as the rendered text, so the text a user wrote is what is read, with
``PLACEHOLDER`` for each part known only at deployment.

What "names a stream" means (``StreamMention``): an edge to a stream of the scan
(``aws_kinesis_stream.s.name``, ``!Ref Stream``), a Kinesis stream ARN, or, in user data, a
``--stream-name X`` argument or an agent ``"kinesisStream": "X"`` setting. What "configures
the Kinesis Agent" means: user data installs or starts ``aws-kinesis-agent`` or writes
``/etc/aws-kinesis/agent.json``, or holds agent flow settings (``"kinesisStream"``,
``"deliveryStream"``) or agent key settings (``awsAccessKeyId``).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from typing import Any, Optional

from kds_iac.model import Encoded, Model, Ref, Resource, Unknown
from kds_iac.value import Value
from kds_iac.views.credentials import PLACEHOLDER, Text, named_pairs, text_of
from kds_iac.views.facts import (
    ABSENT,
    Fact,
    attribute,
    first_block,
    name_of,
    nested,
    render_pattern,
    resolve,
    resources_named,
    setting_path,
)
from kds_iac.views.kinesis import STREAM_TYPES
from kds_iac.views.settings import Settings, is_terraform

FUNCTION_TYPES = ("aws_lambda_function", "AWS::Lambda::Function")
MAPPING_TYPES = ("aws_lambda_event_source_mapping", "AWS::Lambda::EventSourceMapping")
TASK_TYPES = ("aws_ecs_task_definition", "AWS::ECS::TaskDefinition")
INSTANCE_TYPES = ("aws_instance", "AWS::EC2::Instance")
LAUNCH_TEMPLATE_TYPES = ("aws_launch_template", "AWS::EC2::LaunchTemplate")
LAUNCH_CONFIGURATION_TYPES = ("aws_launch_configuration", "AWS::AutoScaling::LaunchConfiguration")
MACHINE_TYPES = INSTANCE_TYPES + LAUNCH_TEMPLATE_TYPES + LAUNCH_CONFIGURATION_TYPES
DELIVERY_STREAM_TYPES = ("aws_kinesis_firehose_delivery_stream", "AWS::KinesisFirehose::DeliveryStream")
PROFILE_TYPES = ("aws_iam_instance_profile", "AWS::IAM::InstanceProfile")
ROLE_TYPES = ("aws_iam_role", "AWS::IAM::Role")
CONSUMER_TYPES = ("aws_kinesis_stream_consumer", "AWS::Kinesis::StreamConsumer")
PROVIDER_TYPES = ("provider.aws",)
SAM_FUNCTION_TYPES = ("AWS::Serverless::Function",)  # findings on what a SAM function generated sit on it

# Where each format writes the settings this view reads: one table per resource family, a
# column per format (dotted names go into nested blocks or properties; None: no such setting).
FUNCTION_SETTINGS = Settings(
    terraform={"role": "role", "environment": "environment.variables"},
    cloudformation={"role": "Role", "environment": "Environment.Variables"},
)
MAPPING_SETTINGS = Settings(
    terraform={
        "source": "event_source_arn",
        "function": "function_name",
        "on_failure": "destination_config.on_failure.destination_arn",
    },
    cloudformation={
        "source": "EventSourceArn",
        "function": "FunctionName",
        "on_failure": "DestinationConfig.OnFailure.Destination",
    },
)
TASK_SETTINGS = Settings(
    terraform={"task_role": "task_role_arn", "execution_role": "execution_role_arn", "containers": "container_definitions"},
    cloudformation={"task_role": "TaskRoleArn", "execution_role": "ExecutionRoleArn", "containers": "ContainerDefinitions"},
)
# One container definition: ECS's own JSON in Terraform, the resource's properties in CloudFormation.
CONTAINER_SETTINGS = Settings(
    terraform={"name": "name", "environment": "environment", "variable_name": "name", "variable_value": "value"},
    cloudformation={"name": "Name", "environment": "Environment", "variable_name": "Name", "variable_value": "Value"},
)
INSTANCE_SETTINGS = Settings(
    terraform={
        "profile": "iam_instance_profile",
        "launch_template": "launch_template",
        "user_data": "user_data",
        "user_data_base64": "user_data_base64",
    },
    cloudformation={
        "profile": "IamInstanceProfile",
        "launch_template": "LaunchTemplate",
        "user_data": "UserData",
        "user_data_base64": None,
    },
)
LAUNCH_TEMPLATE_SETTINGS = Settings(
    terraform={
        "profile": "iam_instance_profile",
        "launch_template": None,
        "user_data": "user_data",
        "user_data_base64": None,
    },
    cloudformation={
        "profile": "LaunchTemplateData.IamInstanceProfile",
        "launch_template": None,
        "user_data": "LaunchTemplateData.UserData",
        "user_data_base64": None,
    },
)
LAUNCH_CONFIGURATION_SETTINGS = Settings(
    terraform={
        "profile": "iam_instance_profile",
        "launch_template": None,
        "user_data": "user_data",
        "user_data_base64": "user_data_base64",
    },
    cloudformation={
        "profile": "IamInstanceProfile",
        "launch_template": None,
        "user_data": "UserData",
        "user_data_base64": None,
    },
)
# A launch template's instance profile: {arn|name} in Terraform, {Arn|Name} in CloudFormation.
LAUNCH_TEMPLATE_PROFILE = Settings(terraform={"arn": "arn", "name": "name"}, cloudformation={"arn": "Arn", "name": "Name"})
# An instance profile's roles: Terraform's role (or the older roles), CloudFormation's Roles.
PROFILE_SETTINGS = Settings(terraform={"role": "role", "roles": "roles"}, cloudformation={"role": None, "roles": "Roles"})
# A launch template reference: {id|name} in Terraform, {LaunchTemplateId|LaunchTemplateName}.
LAUNCH_TEMPLATE_REFERENCE = Settings(
    terraform={"id": "id", "name": "name"},
    cloudformation={"id": "LaunchTemplateId", "name": "LaunchTemplateName"},
)
# A Firehose delivery stream's Kinesis source: a block, and the fields inside it.
DELIVERY_SETTINGS = Settings(
    terraform={"source": "kinesis_source_configuration", "stream": "kinesis_stream_arn", "role": "role_arn"},
    cloudformation={"source": "KinesisStreamSourceConfiguration", "stream": "KinesisStreamARN", "role": "RoleARN"},
)
CONSUMER_SETTINGS = Settings(terraform={"stream": "stream_arn"}, cloudformation={"stream": "StreamARN"})
# The provider block is Terraform's alone: the arguments that carry credentials.
PROVIDER_CREDENTIAL_ARGUMENTS = ("access_key", "secret_key", "token")

STREAM_ARN = re.compile(r"arn:[a-z*-]*:kinesis:[^:\s\"']*:[^:\s\"']*:stream/([A-Za-z0-9_.\-*\x00]+)")
CONSUMER_ARN = re.compile(r"arn:[a-z*-]*:kinesis:[^:\s\"']*:[^:\s\"']*:stream/[^/\s\"']+/consumer/")
ROLE_ARN = re.compile(r"^arn:[a-z*-]*:iam::[^:]*:role/(?:.*/)?([^/]+)$")
PROFILE_ARN = re.compile(r"^arn:[a-z*-]*:iam::[^:]*:instance-profile/(?:.*/)?([^/]+)$")
_AGENT = re.compile(r"aws-kinesis-agent|/etc/aws-kinesis/|\"(?:kinesisStream|deliveryStream|awsAccessKeyId|awsSecretAccessKey)\"\s*:")
_AGENT_STREAM = re.compile(r'"kinesisStream"\s*:\s*"([^"]*)"')
_CLI_STREAM = re.compile(r"--stream-name[ =]+[\"']?([A-Za-z0-9_.\-\x00]+)")
_MAX_DECODED = 1024 * 1024


# --------------------------------------------------------------------------- shared pieces


class StreamMention(Value):
    """How a configuration names a Kinesis stream."""

    __slots__ = ("how", "stream", "text")

    def __init__(self, how: str, stream: Optional[Resource] = None, text: str = ""):
        self.how = how  # "edge", "arn", "agent flow", "--stream-name", "stream name"
        self.stream = stream  # the stream of the scan, when it is one
        self.text = text  # the ARN or name as written (without secrets)

    def describe(self) -> str:
        if self.stream is not None:
            return f"stream {self.stream.address}"
        return f"stream {self.text}" if self.text else "a Kinesis stream"


def _setting(resource: Resource, table: Settings, key: str) -> tuple[Fact, str]:
    """A setting's value (ABSENT when the format has none) and the name it is written under."""
    name = table.name(resource, key)
    if name is None:
        return Fact(ABSENT), ""
    head, _, rest = name.partition(".")
    return setting_path(first_block(attribute(resource.attributes, head)), *[p for p in rest.split(".") if p]), name


def present(fact: Fact) -> Optional[bool]:
    """Whether a setting is made: ``None`` when that is known only at deployment."""
    value = fact.value
    if isinstance(value, Unknown):
        return None
    if value is ABSENT or value == "" or value == [] or value == {}:
        return False
    return True


# --------------------------------------------------------------------------- user data


class UserData:
    __slots__ = ("setting", "fact", "text")

    def __init__(self, setting: str, fact: Fact, text: Optional[Text]):
        self.setting = setting  # the attribute a person edits: user_data, UserData, LaunchTemplateData.UserData
        self.fact = fact  # the value as written (for provenance)
        self.text = text  # decoded; None when not known before deployment

    @property
    def configures_agent(self) -> bool:
        return self.text is not None and bool(_AGENT.search(self.text.text))


def decode_user_data(fact: Fact, base64_expected: bool) -> Optional[Text]:
    """The text of user data: ``Encoded`` unwrapped, base64 (and gzip) decoded."""
    value = fact.value
    if isinstance(value, Encoded):
        return text_of(fact.then(value.value), decode=_unwrap)
    if isinstance(value, str):
        decoded = _from_base64(value, strict=base64_expected)
        return text_of(fact.with_value(decoded if decoded is not None else value), decode=_unwrap)
    return text_of(fact, decode=_unwrap)


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Encoded) else value


def _from_base64(value: str, strict: bool) -> Optional[str]:
    compact = "".join(value.split())
    if not compact or len(compact) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", compact):
        return None
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, _MAX_DECODED)
        except (zlib.error, gzip.BadGzipFile):
            return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not strict:
        printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
        if printable < 0.95 * len(text):
            return None
    return text


def user_data(resource: Resource) -> Optional[UserData]:
    """The user data of an instance, launch template or launch configuration. It is base64
    by contract in CloudFormation and in launch templates; Terraform's plain ``user_data``
    of an instance or launch configuration may still hold base64 (see the module doc)."""
    table = _MACHINE_SETTINGS[resource.type]
    for key in ("user_data", "user_data_base64"):
        fact, name = _setting(resource, table, key)
        if name and not fact.absent:
            expected = key == "user_data_base64" or not is_terraform(resource) or resource.type in LAUNCH_TEMPLATE_TYPES
            return UserData(name, fact, decode_user_data(fact, expected))
    return None


def mentions_in_text(text: Text, streams_by_name: dict[str, list[Resource]]) -> list[StreamMention]:
    found: list[StreamMention] = []
    for ref in text.refs:
        if ref.target.type in STREAM_TYPES:
            found.append(StreamMention("edge", ref.target))
    body = text.text
    for match in STREAM_ARN.finditer(body):
        name = match.group(1)
        found.append(StreamMention("arn", _one(streams_by_name.get(name)), match.group(0).replace(PLACEHOLDER, "*")))
    for pattern, how in ((_AGENT_STREAM, "agent flow"), (_CLI_STREAM, "--stream-name")):
        for match in pattern.finditer(body):
            name = match.group(1)
            if not name.strip():
                continue
            if PLACEHOLDER in name:
                # the name is templated: an edge among the spans says which stream
                spans = [f.value for s, e, f in text.spans if s < match.end(1) and match.start(1) < e]
                streams = [r.target for r in spans if isinstance(r, Ref) and r.target.type in STREAM_TYPES]
                found.append(StreamMention(how, streams[0] if streams else None, ""))
            else:
                found.append(StreamMention(how, _one(streams_by_name.get(name)), name))
    return _unique_mentions(found)


def mentions_in_value(fact: Fact, streams_by_name: dict[str, list[Resource]], depth: int = 0) -> list[StreamMention]:
    """Streams named by a value: edges to streams, stream ARNs, a stream's exact name."""
    value = fact.value
    if depth > 12:
        return []
    if isinstance(value, Ref):
        return [StreamMention("edge", value.target)] if value.target.type in STREAM_TYPES else []
    if isinstance(value, dict):
        return [m for item in value.values() for m in mentions_in_value(fact.then(item), streams_by_name, depth + 1)]
    if isinstance(value, list):
        return [m for item in value for m in mentions_in_value(fact.then(item), streams_by_name, depth + 1)]
    text = text_of(fact)
    if text is None:
        return []
    found = mentions_in_text(text, streams_by_name)
    exact = streams_by_name.get(text.text.strip())
    if exact and text.literal(0, len(text.text)):
        found.append(StreamMention("stream name", exact[0], text.text.strip()))
    return _unique_mentions(found)


def _one(items: Optional[list[Resource]]) -> Optional[Resource]:
    return items[0] if items and len(items) == 1 else None


def _unique_mentions(items: list[StreamMention]) -> list[StreamMention]:
    out: list[StreamMention] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


# --------------------------------------------------------------------------- machines


class Machine:
    """An EC2 instance, launch template or launch configuration."""

    __slots__ = ("resource", "kind", "profile", "profile_setting", "user_data", "launch_template")

    def __init__(
        self,
        resource: Resource,
        kind: str,
        profile: Fact,
        profile_setting: str,
        user_data: Optional[UserData],
        launch_template: Fact,
    ):
        self.resource = resource
        self.kind = kind  # "EC2 instance", "launch template", "launch configuration"
        self.profile = profile  # the instance profile setting: Ref, name/ARN string, ABSENT, Unknown
        self.profile_setting = profile_setting
        self.user_data = user_data
        self.launch_template = launch_template  # EC2 instance: the launch template it starts from (Ref, ABSENT...)

    @property
    def address(self) -> str:
        return self.resource.address


def machines(model: Model) -> list[Machine]:
    return model.memo("machines", lambda: [_machine(r) for r in model.of_type(*MACHINE_TYPES) if not r.is_data_source])


_MACHINE_SETTINGS = {
    **{t: INSTANCE_SETTINGS for t in INSTANCE_TYPES},
    **{t: LAUNCH_TEMPLATE_SETTINGS for t in LAUNCH_TEMPLATE_TYPES},
    **{t: LAUNCH_CONFIGURATION_SETTINGS for t in LAUNCH_CONFIGURATION_TYPES},
}


def _machine(resource: Resource) -> Machine:
    kind = "EC2 instance" if resource.type in INSTANCE_TYPES else (
        "launch template" if resource.type in LAUNCH_TEMPLATE_TYPES else "launch configuration"
    )
    table = _MACHINE_SETTINGS[resource.type]
    profile, setting = _setting(resource, table, "profile")
    template, _ = _setting(resource, table, "launch_template")
    if isinstance(profile.value, dict):  # launch template: {arn|name}
        inner = {k: profile.value.get(LAUNCH_TEMPLATE_PROFILE.name(resource, k)) for k in ("arn", "name")}
        chosen = next((inner[k] for k in ("arn", "name") if resolve(inner.get(k)).value not in (ABSENT, None, "")), None)
        profile = profile.then(chosen) if chosen is not None else profile.with_value(ABSENT)
    return Machine(resource, kind, profile, setting, user_data(resource), template)


def launch_template_of(machine: Machine, model: Model) -> Fact:
    """The launch template an EC2 instance starts from: a ``Machine``, ABSENT, or Unknown."""
    value = machine.launch_template.value
    if value is ABSENT or isinstance(value, Unknown):
        return machine.launch_template
    block = value if isinstance(value, dict) else {}
    templates = [m for m in machines(model) if m.resource.type in LAUNCH_TEMPLATE_TYPES]
    for key in ("id", "name"):
        ref = resolve(block.get(LAUNCH_TEMPLATE_REFERENCE.name(machine.resource, key))).value
        if isinstance(ref, Ref):
            found = [m for m in templates if m.resource is ref.target]
        elif isinstance(ref, str) and key == "name":
            found = [m for m in templates if name_of(m.resource) == ref]
        else:
            continue
        if len(found) == 1:
            return machine.launch_template.with_value(found[0])
    return machine.launch_template.with_value(Unknown("launch template is not a resource of this scan"))


def profile_roles(profile: Fact, model: Model) -> Fact:
    """The roles behind an instance profile setting: a list of role resources, or Unknown."""
    value = profile.value
    if value is ABSENT or isinstance(value, Unknown):
        return profile
    target = None
    if isinstance(value, Ref):
        target = value.target
    else:
        text = render_pattern(value)
        if text is not None and "*" not in text:
            match = PROFILE_ARN.match(text)
            name = match.group(1) if match else text
            candidates = [r for r in model.of_type(*PROFILE_TYPES) if name_of(r) == name]
            target = candidates[0] if len(candidates) == 1 else None
    if target is None or target.type not in PROFILE_TYPES:
        return profile.with_value(Unknown("instance profile is not a resource of this scan"))
    roles: list[Resource] = []
    role_name, listed_roles = PROFILE_SETTINGS.name(target, "role"), PROFILE_SETTINGS.get(target, "roles")
    raw = target.attributes.get(role_name, listed_roles) if role_name else listed_roles
    items = resolve(raw).value
    items = items if isinstance(items, list) else [items]
    for item in items:
        resolved = role_of(resolve(item), model).value
        if isinstance(resolved, Resource):
            roles.append(resolved)
        else:
            return profile.with_value(Unknown(f"a role of {target.address} is not known"))
    return profile.with_value(roles)


# --------------------------------------------------------------------------- roles


def role_of(fact: Fact, model: Model) -> Fact:
    """A role setting (``role``, ``Role``, ``role_arn``...) as the role resource it names.

    The value is a role ``Resource`` of the scan (by edge, or by an ARN or name that one
    role of the scan has), ``Unknown`` (only known at deployment, or a role defined
    elsewhere), or ``ABSENT``.
    """
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    if isinstance(value, Ref):
        if value.target.type in ROLE_TYPES and not value.target.is_data_source:
            return fact.with_value(value.target)
        return fact.with_value(Unknown(f"role comes from {value.target.address}"))
    text = render_pattern(value)
    if text is None or not text:
        return fact.with_value(Unknown("role is not a name or ARN"))
    match = ROLE_ARN.match(text)
    name = match.group(1) if match else text
    if "*" in name:
        return fact.with_value(Unknown(f"role {text} is known only at deployment"))
    candidates = resources_named(model, ROLE_TYPES, name)
    if len(candidates) == 1:
        return fact.with_value(candidates[0])
    return fact.with_value(Unknown(f"role {text} is not defined in this scan"))


# --------------------------------------------------------------------------- functions


class Function:
    __slots__ = ("resource", "role", "role_setting", "environment", "environment_setting")

    def __init__(self, resource: Resource, role: Fact, role_setting: str, environment: Fact, environment_setting: str):
        self.resource = resource
        self.role = role  # role_of(): a role Resource, Unknown or ABSENT
        self.role_setting = role_setting
        self.environment = environment  # {name: value}, ABSENT or Unknown
        self.environment_setting = environment_setting

    @property
    def address(self) -> str:
        return self.resource.address


def functions(model: Model) -> list[Function]:
    return model.memo("functions", lambda: _functions(model))


def _functions(model: Model) -> list[Function]:
    cached = []
    for resource in model.of_type(*FUNCTION_TYPES):
        if resource.is_data_source:
            continue
        role, role_setting = _setting(resource, FUNCTION_SETTINGS, "role")
        env, env_setting = _setting(resource, FUNCTION_SETTINGS, "environment")
        cached.append(Function(resource, role_of(role, model), role_setting, env, env_setting))
    return cached


def function_of(fact: Fact, model: Model) -> Fact:
    """An event source mapping's function setting as a ``Function`` of the scan, or Unknown."""
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    if isinstance(value, Ref):
        for function in functions(model):
            if function.resource is value.target:
                return fact.with_value(function)
        return fact.with_value(Unknown(f"function comes from {value.target.address}"))
    text = render_pattern(value)
    if text is None:
        return fact.with_value(Unknown("function is not a name or ARN"))
    name = re.sub(r"^arn:[a-z*-]*:lambda:[^:]*:[^:]*:function:", "", text).split(":")[0]
    candidates = [f for f in functions(model) if name_of(f.resource) == name]
    if len(candidates) == 1 and "*" not in name:
        return fact.with_value(candidates[0])
    return fact.with_value(Unknown(f"function {text} is not defined in this scan"))


# --------------------------------------------------------------------------- stream sources


class StreamSource(Value):
    """What a reader reads from: a stream of the scan, or one known only by ARN."""

    __slots__ = ("stream", "arn", "consumer", "consumer_arn")

    def __init__(
        self,
        stream: Optional[Resource],
        arn: str = "",
        consumer: Optional[Resource] = None,
        consumer_arn: str = "",
    ):
        self.stream = stream  # the stream resource (for a consumer: its stream)
        self.arn = arn  # the ARN pattern as written, for a stream outside the scan
        self.consumer = consumer  # an enhanced fan-out consumer of the scan
        self.consumer_arn = consumer_arn  # an enhanced fan-out consumer known by ARN

    @property
    def fan_out(self) -> bool:
        return self.consumer is not None or bool(self.consumer_arn)

    def describe(self) -> str:
        if self.consumer is not None:
            return f"consumer {self.consumer.address} of stream {self.stream.address if self.stream else '?'}"
        if self.stream is not None:
            return f"stream {self.stream.address}"
        return f"stream {self.arn or self.consumer_arn}"


def consumer_stream(resource: Resource) -> Optional[Resource]:
    """The stream an enhanced fan-out consumer of the scan is registered with, if known."""
    if resource.type not in CONSUMER_TYPES:
        return None
    stream = resolve(CONSUMER_SETTINGS.get(resource, "stream")).value
    return stream.target if isinstance(stream, Ref) and stream.target.type in STREAM_TYPES else None


def stream_source(fact: Fact, model: Model) -> Fact:
    """A source ARN setting as a ``StreamSource``; None-valued (``ABSENT``) when it is not
    a Kinesis stream (an SQS queue, a DynamoDB stream, Kafka); Unknown when not known."""
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    if isinstance(value, Ref):
        target = value.target
        if target.type in STREAM_TYPES:
            return fact.with_value(StreamSource(target, arn=target.address))
        if target.type in CONSUMER_TYPES:
            return fact.with_value(StreamSource(consumer_stream(target), consumer=target))
        return fact.with_value(ABSENT)
    text = render_pattern(value)
    if text is None:
        return fact.with_value(Unknown("source is not an ARN"))
    if CONSUMER_ARN.match(text):
        return fact.with_value(StreamSource(None, consumer_arn=text))
    match = STREAM_ARN.match(text)
    if not match:
        return fact.with_value(ABSENT)
    refs = [p for p in (resolve(part).value for part in getattr(value, "parts", ())) if isinstance(p, Ref)]
    streams = [r.target for r in refs if r.target.type in STREAM_TYPES and not r.target.is_data_source]
    if streams:
        return fact.with_value(StreamSource(streams[0], arn=text))
    return fact.with_value(StreamSource(None, arn=text))


class EventSourceMapping:
    __slots__ = ("resource", "source", "source_setting", "function", "function_setting", "on_failure", "on_failure_setting")

    def __init__(
        self,
        resource: Resource,
        source: Fact,
        source_setting: str,
        function: Fact,
        function_setting: str,
        on_failure: Fact = Fact(ABSENT),
        on_failure_setting: str = "",
    ):
        self.resource = resource
        self.source = source  # StreamSource, ABSENT (not Kinesis) or Unknown
        self.source_setting = source_setting
        self.function = function  # Function, or Unknown
        self.function_setting = function_setting
        # the on-failure destination ARN as written (Ref, ARN, ABSENT, Unknown); see
        # kds_iac.views.storage.message_store_of for what it points at
        self.on_failure = on_failure
        self.on_failure_setting = on_failure_setting


def event_source_mappings(model: Model) -> list[EventSourceMapping]:
    return model.memo("mappings", lambda: _event_source_mappings(model))


def _event_source_mappings(model: Model) -> list[EventSourceMapping]:
    cached = []
    for resource in model.of_type(*MAPPING_TYPES):
        source, source_setting = _setting(resource, MAPPING_SETTINGS, "source")
        function, function_setting = _setting(resource, MAPPING_SETTINGS, "function")
        on_failure, on_failure_setting = _setting(resource, MAPPING_SETTINGS, "on_failure")
        cached.append(
            EventSourceMapping(
                resource,
                stream_source(source, model),
                source_setting,
                function_of(function, model),
                function_setting,
                on_failure,
                on_failure_setting,
            )
        )
    return cached


class DeliveryStream:
    """A Firehose delivery stream that reads a Kinesis data stream."""

    __slots__ = ("resource", "source", "source_setting", "role", "role_setting")

    def __init__(self, resource: Resource, source: Fact, source_setting: str, role: Fact, role_setting: str):
        self.resource = resource
        self.source = source  # StreamSource or Unknown
        self.source_setting = source_setting
        self.role = role  # role_of(): a role Resource, Unknown or ABSENT
        self.role_setting = role_setting


def delivery_streams(model: Model) -> list[DeliveryStream]:
    """Delivery streams whose source is a Kinesis data stream (others are left out)."""
    return model.memo("delivery_streams", lambda: _delivery_streams(model))


def _delivery_streams(model: Model) -> list[DeliveryStream]:
    cached = []
    for resource in model.of_type(*DELIVERY_STREAM_TYPES):
        if resource.is_data_source:
            continue
        block, block_name = _setting(resource, DELIVERY_SETTINGS, "source")
        if block.absent:
            continue
        stream_field, role_field = DELIVERY_SETTINGS.name(resource, "stream"), DELIVERY_SETTINGS.name(resource, "role")
        source_name, role_name = f"{block_name}.{stream_field}", f"{block_name}.{role_field}"
        source = stream_source(first_block(nested(block, stream_field)), model)
        if source.value is ABSENT:
            continue
        role = role_of(first_block(nested(block, role_field)), model)
        cached.append(DeliveryStream(resource, source, source_name, role, role_name))
    return cached


# --------------------------------------------------------------------------- ECS


class Container:
    __slots__ = ("name", "definition", "environment", "besides_environment")

    def __init__(self, name: str, definition: Fact, environment: list[tuple[str, Fact]], besides_environment: Fact):
        self.name = name
        self.definition = definition  # the container definition mapping
        self.environment = environment  # (variable name, value)
        self.besides_environment = besides_environment  # the definition without its environment


class TaskDefinition:
    __slots__ = ("resource", "task_role", "task_role_setting", "execution_role", "containers", "containers_setting")

    def __init__(
        self,
        resource: Resource,
        task_role: Fact,
        task_role_setting: str,
        execution_role: Fact,
        containers: Fact,
        containers_setting: str,
    ):
        self.resource = resource
        self.task_role = task_role  # the setting as written: Ref, ARN string, ABSENT, Unknown
        self.task_role_setting = task_role_setting
        self.execution_role = execution_role
        self.containers = containers  # list[Container], or Unknown
        self.containers_setting = containers_setting

    @property
    def address(self) -> str:
        return self.resource.address


def task_definitions(model: Model) -> list[TaskDefinition]:
    return model.memo("tasks", lambda: _task_definitions(model))


def _task_definitions(model: Model) -> list[TaskDefinition]:
    cached = []
    for resource in model.of_type(*TASK_TYPES):
        if resource.is_data_source:
            continue
        task_role, task_role_setting = _setting(resource, TASK_SETTINGS, "task_role")
        execution_role, _ = _setting(resource, TASK_SETTINGS, "execution_role")
        raw, containers_setting = _setting(resource, TASK_SETTINGS, "containers")
        cached.append(
            TaskDefinition(
                resource, task_role, task_role_setting, execution_role, _containers(raw, resource), containers_setting
            )
        )
    return cached


def _containers(fact: Fact, task: Resource) -> Fact:
    value = fact.value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return fact.with_value(Unknown("container definitions are not JSON"))
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return fact if isinstance(value, Unknown) else fact.with_value(Unknown("container definitions are not a list"))
    out: list[Container] = []
    for index, entry in enumerate(value):
        entry_fact = fact.then(entry)
        if not isinstance(entry_fact.value, dict):
            continue
        definition = entry_fact.value
        name = resolve(definition.get(CONTAINER_SETTINGS.name(task, "name"))).value
        environment_key = CONTAINER_SETTINGS.name(task, "environment")
        env_raw = definition.get(environment_key)
        keys = (CONTAINER_SETTINGS.name(task, "variable_name"), CONTAINER_SETTINGS.name(task, "variable_value"))
        environment = list(named_pairs(entry_fact.then(env_raw), keys)) if env_raw is not None else []
        others = entry_fact.with_value({k: v for k, v in definition.items() if k != environment_key})
        out.append(Container(name if isinstance(name, str) else f"#{index + 1}", entry_fact, environment, others))
    return fact.with_value(out)


# --------------------------------------------------------------------------- providers


class Provider:
    __slots__ = ("resource",)

    def __init__(self, resource: Resource):
        self.resource = resource  # type provider.aws

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def credential_arguments(self) -> list[tuple[str, Fact]]:
        """The credential arguments the block writes (``access_key``...), in a fixed order."""
        attributes = self.resource.attributes
        return [(name, resolve(attributes[name])) for name in PROVIDER_CREDENTIAL_ARGUMENTS if name in attributes]


def providers(model: Model) -> list[Provider]:
    return [Provider(r) for r in model.of_type(*PROVIDER_TYPES)]


# --------------------------------------------------------------------------- streams by name


def streams_by_name(model: Model) -> dict[str, list[Resource]]:
    """The scan's streams by the name they are created with (where it is known)."""
    return model.memo("streams_by_name", lambda: _streams_by_name(model))


def _streams_by_name(model: Model) -> dict[str, list[Resource]]:
    cached = {}
    for resource in model.of_type(*STREAM_TYPES):
        if resource.is_data_source:
            continue
        name = name_of(resource)
        if name:
            cached.setdefault(name, []).append(resource)
    return cached


__all__ = [
    "DeliveryStream",
    "EventSourceMapping",
    "Function",
    "Machine",
    "Provider",
    "StreamMention",
    "StreamSource",
    "TaskDefinition",
    "UserData",
    "consumer_stream",
    "decode_user_data",
    "delivery_streams",
    "event_source_mappings",
    "function_of",
    "functions",
    "launch_template_of",
    "machines",
    "mentions_in_text",
    "mentions_in_value",
    "present",
    "profile_roles",
    "providers",
    "role_of",
    "stream_source",
    "streams_by_name",
    "task_definitions",
]
