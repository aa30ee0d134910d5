"""Collapse model values into facts a rule can decide on.

A ``Fact`` is the value a setting takes when every input keeps its default, together with
the inputs and conditions it depended on. Rules decide on ``value`` and name ``inputs`` in
their messages; an ``Unknown`` value is never a failure a rule can prove.

``resolve`` gives one fact: a condition that no default decides makes it ``Unknown``.
``cases`` gives one fact per branch a deployment can take instead: such a condition (on the
deployment region, account or partition, or on a parameter without a default) is assumed
true in one case and false in the other, and the case records it in ``assumed``, so that a
finding can hold for the branch that is bad and say which branch that is.
"""

from __future__ import annotations

from typing import Any, Iterable

from kds_iac.model import Condition, Conditional, FromInputs, Input, Model, Ref, Resource, Template, Unknown, unique

# More branches than this in one setting are not judged one by one (the setting is unknown).
MAX_CASES = 16
from kds_iac.value import Value


class _Absent:
    """The template does not set the value, so the AWS default applies."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT = _Absent()


class Fact(Value):
    __slots__ = ("value", "inputs", "conditions", "assumed")

    def __init__(
        self,
        value: Any,
        inputs: tuple[Input, ...] = (),
        conditions: tuple[Condition, ...] = (),
        assumed: tuple[tuple[Condition, bool], ...] = (),
    ):
        self.value = value
        self.inputs = inputs
        self.conditions = conditions  # decided under input defaults
        self.assumed = assumed  # undecided, each with the outcome this case takes (see ``cases``)

    @property
    def known(self) -> bool:
        return not isinstance(self.value, Unknown)

    @property
    def absent(self) -> bool:
        return self.value is ABSENT

    def then(self, value: Any) -> "Fact":
        """Resolve ``value`` (found inside this fact) keeping this fact's provenance."""
        inner = resolve(value)
        if not (inner.inputs or inner.conditions or self.inputs or self.conditions):
            # the common case: no provenance to merge (and with nothing assumed, ``inner`` as it is)
            return Fact(inner.value, (), (), self.assumed) if self.assumed else inner
        return Fact(
            inner.value,
            unique(self.inputs + inner.inputs),
            unique(self.conditions + inner.conditions),
            self.assumed,
        )

    def with_value(self, value: Any) -> "Fact":
        return Fact(value, self.inputs, self.conditions, self.assumed)

    def joined(self, other: "Fact") -> "Fact":
        """``other`` (a case found inside this fact) with this fact's provenance as well."""
        return Fact(
            other.value,
            unique(self.inputs + other.inputs),
            unique(self.conditions + other.conditions),
            unique(self.assumed + other.assumed),
        )

    def branch(self) -> str:
        """The branch this case takes, for a message; "" when it assumes nothing."""
        return describe_branch(self.assumed)

    def provenance(self) -> str:
        """Say which inputs and conditions decide this value, for a finding's message."""
        parts = [i.describe() for i in self.inputs]
        for cond in self.conditions:
            if cond.default is None:
                parts.append(f"condition {cond.name}")
            else:
                outcome = "true" if cond.default else "false"
                parts.append(f"condition {cond.name} (with defaults: {outcome})")
        return ", ".join(parts)


ABSENT_FACT = Fact(ABSENT)  # shared, like every fact never changed: a setting left out, with no provenance


def resolve(value: Any) -> Fact:
    """Unwrap inputs and conditions down to the value their defaults give.

    A ``Conditional`` whose condition cannot be decided resolves to ``Unknown``; one that
    picks ``AWS::NoValue`` (dropped by the loader, so ``None`` here) resolves to ``ABSENT``.
    """
    if not isinstance(value, _WRAPPERS):  # most values: nothing to unwrap, no provenance
        return ABSENT_FACT if value is None else Fact(value)
    inputs: tuple[Input, ...] = ()
    conditions: tuple[Condition, ...] = ()
    for _ in range(64):  # bounded: loaders never nest wrappers this deep
        if isinstance(value, FromInputs):
            inputs += value.inputs
            value = value.value
        elif isinstance(value, Conditional):
            conditions += (value.condition,)
            inputs += value.condition.inputs
            if value.condition.default is None:
                value = Unknown(f"depends on condition {value.condition.name}")
            else:
                value = value.when_true if value.condition.default else value.when_false
                if value is None:
                    value = ABSENT
        else:
            break
    if value is None:  # null (e.g. a variable defaulting to null): the setting is not made
        value = ABSENT
    return Fact(value, unique(inputs), unique(conditions))


_WRAPPERS = (FromInputs, Conditional)


def cases(value: Any, given: tuple[tuple[Condition, bool], ...] = ()) -> list[Fact]:
    """One fact per branch a deployment can take, for conditions no default decides.

    A condition that the defaults decide is followed as ``resolve`` follows it; one that is
    in ``given`` (assumed by the case this value sits in) takes that outcome, so the same
    condition never goes both ways in one case. Past ``MAX_CASES``, one ``Unknown`` fact.
    """
    found: list[Fact] = []
    if not _expand(value, (), (), tuple(given), found):
        return [Fact(Unknown("too many branches to judge one by one"), (), (), tuple(given))]
    return found


def _expand(value: Any, inputs: tuple, conditions: tuple, assumed: tuple, found: list) -> bool:
    """Add the cases of ``value`` to ``found``; False when there are too many."""
    for _ in range(64):  # bounded like ``resolve``
        if isinstance(value, FromInputs):
            inputs += value.inputs
            value = value.value
        elif isinstance(value, Conditional):
            cond = value.condition
            inputs += cond.inputs
            outcome = cond.default
            if outcome is not None:
                conditions += (cond,)
            else:
                outcome = next((o for c, o in assumed if c == cond), None)
            if outcome is None:
                for branch_outcome in (True, False):
                    branch = value.when_true if branch_outcome else value.when_false
                    taken = assumed + ((cond, branch_outcome),)
                    if branch_regions(taken) == frozenset():
                        continue  # region conditions that exclude each other: no deployment
                    if not _expand(branch, inputs, conditions, taken, found):
                        return False
                return True
            value = value.when_true if outcome else value.when_false
            if value is None:
                value = ABSENT
        else:
            break
    if value is None:
        value = ABSENT
    if len(found) >= MAX_CASES:
        return False
    found.append(Fact(value, unique(inputs), unique(conditions), assumed))
    return True


def nested_cases(fact: Fact, name: str) -> list[Fact]:
    """``nested`` for every branch of ``name`` that a deployment can take within ``fact``."""
    container = fact.value
    if isinstance(container, list) and len(container) == 1:  # Terraform nested blocks
        container = container[0]
    if isinstance(container, Unknown):
        return [fact]
    if not isinstance(container, dict) or container.get(name) is None:
        return [fact.with_value(ABSENT)]
    return [fact.joined(case) for case in cases(container[name], fact.assumed)]


def describe_branch(assumed: tuple[tuple[Condition, bool], ...]) -> str:
    """A branch (conditions with the outcome taken), for a message; "" for none."""
    return " and ".join(_describe_outcome(cond, outcome) for cond, outcome in assumed)


def branch_regions(assumed: tuple[tuple[Condition, bool], ...]) -> frozenset | None:
    """The only regions a branch is taken in, when its conditions name them; else ``None``
    (not limited to regions the template names). Empty: no deployment takes it."""
    inside: frozenset | None = None
    outside: frozenset = frozenset()
    for cond, outcome in assumed:
        where = cond.regions
        if where is None:
            continue
        if outcome != where.outside:  # taken exactly in where.names
            inside = where.names if inside is None else inside & where.names
        else:
            outside |= where.names
    return None if inside is None else inside - outside


def _describe_outcome(cond: Condition, outcome: bool) -> str:
    if cond.regions is not None:
        return f"{'in' if outcome else 'outside'} regions where condition {cond.name} holds"
    return f"when condition {cond.name} is {'true' if outcome else 'false'}"


def attribute(resource_attributes: dict, name: str) -> Fact:
    """The fact for one attribute of a resource; ``ABSENT`` when it is not written."""
    if name not in resource_attributes or resource_attributes[name] is None:
        return ABSENT_FACT
    return resolve(resource_attributes[name])


def nested(fact: Fact, name: str) -> Fact:
    """The fact for ``name`` inside a mapping-valued fact (e.g. ``StreamEncryption.KeyId``)."""
    container = fact.value
    if isinstance(container, list) and len(container) == 1:  # Terraform nested blocks
        container = container[0]
    if isinstance(container, Unknown):
        return fact
    if not isinstance(container, dict) or container.get(name) is None:
        return fact.with_value(ABSENT)
    return fact.then(container[name])


def first_block(fact: Fact) -> Fact:
    """A Terraform nested block (a one-item list) as its mapping; an empty list is absent."""
    if isinstance(fact.value, list):
        return fact.then(fact.value[0]) if fact.value else fact.with_value(ABSENT)
    return fact


def setting_path(fact: Fact, *names: str) -> Fact:
    """Down nested settings (``EncryptionConfiguration``, ``KMSEncryptionConfig``...) through
    Terraform's block lists; an absent or unknown step is where it stops."""
    for name in names:
        if fact.absent or not fact.known:
            return fact
        fact = first_block(nested(first_block(fact), name))
    return fact


def listed(items: Iterable[str], limit: int = 6) -> str:
    """Names for a message, sorted and without repeats; past ``limit``, a count."""
    names = sorted(dict.fromkeys(items))
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def render_pattern(value: Any) -> str | None:
    """A string, or a ``Template`` with ``*`` for every part not known before deployment."""
    if isinstance(value, str):
        return value
    if isinstance(value, Template):
        out = []
        for part in value.parts:
            part_value = resolve(part).value
            out.append(part_value if isinstance(part_value, str) else "*")
        return "".join(out)
    return None


# The attribute that holds a resource's own name, one row per resource type (a Terraform type
# and its CloudFormation counterpart side by side). A type not listed has no name views use.
NAME_ATTRIBUTES = {
    "aws_kinesis_stream": "name", "AWS::Kinesis::Stream": "Name",
    "aws_lambda_function": "function_name", "AWS::Lambda::Function": "FunctionName",
    "aws_launch_template": "name", "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "aws_iam_instance_profile": "name", "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "aws_iam_role": "name", "AWS::IAM::Role": "RoleName",
    "aws_iam_user": "name", "AWS::IAM::User": "UserName",
    "aws_iam_group": "name", "AWS::IAM::Group": "GroupName",
    "aws_iam_policy": "name", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName", "AWS::IAM::RolePolicy": "PolicyName",
    "AWS::IAM::UserPolicy": "PolicyName", "AWS::IAM::GroupPolicy": "PolicyName",
    "aws_s3_bucket": "bucket", "AWS::S3::Bucket": "BucketName",
    "aws_sqs_queue": "name", "AWS::SQS::Queue": "QueueName",
    "aws_sns_topic": "name", "AWS::SNS::Topic": "TopicName",
    "aws_dynamodb_table": "name", "AWS::DynamoDB::Table": "TableName",
    "aws_ssm_parameter": "name", "AWS::SSM::Parameter": "Name",
    "aws_kms_alias": "name", "AWS::KMS::Alias": "AliasName",
}


def name_value(resource: Resource) -> Any:
    """The resource's own name setting as written (resolved); None when it has none."""
    setting = NAME_ATTRIBUTES.get(resource.type)
    return resolve(resource.attributes.get(setting)).value if setting else None


def name_of(resource: Resource) -> str | None:
    """The resource's own name (``name``, ``RoleName``...), when known before deployment."""
    value = name_value(resource)
    return value if isinstance(value, str) else None


def written_line(resource: Resource, setting: str) -> int | None:
    """The line of a setting a view named (dotted: its top-level part) where the loader knows
    it; None rather than the block start, so a caller can prefer a better line."""
    return resource.attribute_lines.get(setting.split(".")[0]) if setting else None


def resources_named(model: Model, types: tuple[str, ...], name: str) -> list[Resource]:
    """Resources (not data sources) of ``types`` in the scan whose name setting is ``name``."""
    return [r for r in model.of_type(*types) if not r.is_data_source and name_of(r) == name]


def template_refs(value: Any) -> list[Ref]:
    """Edges inside a ``Template`` (or the value itself when it is one)."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Template):
        return [p for p in (resolve(part).value for part in value.parts) if isinstance(p, Ref)]
    return []

