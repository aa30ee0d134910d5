"""IAM policy documents, however a template wrote them, as normalized statements.

Sources: a JSON string (Terraform ``jsonencode``/heredoc/``file()``/``templatefile()``), a
mapping (CloudFormation), or a ``data.aws_iam_policy_document`` reached through an edge
(its ``statement`` blocks, ``source_policy_documents`` and ``override_policy_documents``
merged as Terraform merges them). Values the template builds at deploy time are kept as
patterns in which each part not known before deployment is ``UNKNOWN_PART``: such a part
matches nothing for sure, and is never a wildcard the author wrote. Resource elements
keep their edges (``ResourceValue.refs``), so ``arn:...:stream/${aws_kinesis_stream.s.name}``
is known to name that stream, not every stream.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any, Callable, Iterable, Optional

from kds_iac import iam_actions
from kds_iac.model import TERRAFORM, Conditional, FromInputs, Input, Ref, Resource, Template, Unknown
from kds_iac.model import Condition as _Condition
from kds_iac.value import Value
from kds_iac.views.facts import ABSENT, Fact, render_pattern, resolve

# Stands, inside a pattern, for a part not known before deployment (a runtime attribute,
# an input without default): it matches no action or ARN and is never a written wildcard.
UNKNOWN_PART = "\x00"

# Stands for a value not known before deployment: matches no pattern and is never "*".
UNKNOWN_TEXT = "<unknown>"

# Condition keys that pin who may call, so a Principal "*" grant is no longer public.
CALLER_PINNING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "kms:CallerAccount",
    )
)


class StatementPlace(Value):
    """Where a statement is written, for a fix that edits it: ``resource`` and the dotted
    ``path`` of the statement inside it as its format writes it (``statement[1]`` for a
    policy document data source's second ``statement`` block, ``Policies[0].PolicyDocument.
    Statement[1]`` for a CloudFormation role's inline policy; a part's index counts the
    items as evaluated). ``keys`` names each field as the format writes it; ``literal``
    holds the fields written as plain values (no input, no condition), the only ones a
    fix may replace without cutting a wire the author made.
    """

    __slots__ = ("resource", "path", "keys", "literal")
    _not_compared = ("keys", "literal")

    def __init__(self, resource: Resource, path: str, keys: dict[str, str], literal: frozenset[str] = frozenset()):
        self.resource = resource
        self.path = path
        self.keys = keys  # "actions" / "resources" -> the key the format writes
        self.literal = literal

    @property
    def key(self) -> tuple[str, int, str]:
        """The written place, the same for every instance of the block (``count``, ``for_each``,
        a module called twice): an edit there changes them all."""
        location = self.resource.location
        return (location.file, location.start_line, self.path)

    def setting(self, field: str) -> Optional[str]:
        """The dotted path of ``field`` (``"actions"``, ``"resources"``) for ``SetSetting``;
        None when the template does not write it as a plain value."""
        if field not in self.literal:
            return None
        return f"{self.path}.{self.keys[field]}" if self.path else self.keys[field]


_BLOCK_KEYS = {"actions": "actions", "resources": "resources"}
_JSON_KEYS = {"actions": "Action", "resources": "Resource"}


def _written_plainly(raw: Any, resources: bool) -> bool:
    """Whether a raw model value is written as it stands, not taken from an input or chosen
    by a condition: action names are text; a resource may also be a reference or an ARN
    assembled from deploy-time attributes."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        return False
    for item in items:
        if isinstance(item, str):
            continue
        if not resources:
            return False
        if isinstance(item, Template):
            if any(isinstance(p, (FromInputs, Conditional)) for p in item.parts):
                return False
        elif not isinstance(item, (Ref, Unknown)):
            return False
    return True


# the four answers to "which fields are plain", made once
_LITERAL = {
    (a, r): frozenset(f for f, plain in (("actions", a), ("resources", r)) if plain)
    for a in (False, True) for r in (False, True)
}


class Written:
    """Where the statements of one document (or of one policy document data source) are
    written: shared by its statements, each of which keeps only its index and its raw
    mapping, so the scan makes no object per statement for places no fix asks about."""

    __slots__ = ("resource", "prefix", "keys", "single")

    def __init__(self, resource: Resource, prefix: str, keys: dict[str, str], single: bool = False):
        self.resource = resource
        self.prefix = prefix  # "statement", "PolicyDocument.Statement", ...
        self.keys = keys
        self.single = single  # the statement is the one mapping at ``prefix`` (no index)

    def place(self, index: int, raw: dict) -> StatementPlace:
        actions, resources = self.keys["actions"], self.keys["resources"]
        literal = _LITERAL[
            actions in raw and _written_plainly(raw[actions], False),
            resources in raw and _written_plainly(raw[resources], True),
        ]
        path = self.prefix if self.single else f"{self.prefix}[{index}]"
        return StatementPlace(self.resource, path, self.keys, literal)


class _cached:
    """``functools.cached_property`` without its lock: on Python 3.11 each first read took an
    RLock (a scan reads three of these on every statement). Two threads reading one statement
    at once would both compute the same value, which is harmless."""

    def __init__(self, function: Callable[[Any], Any]):
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class Statement(Value):
    __slots__ = (
        "effect", "actions", "not_actions", "resources", "not_resources", "principals", "conditions", "sid",
        "resource_values", "not_resource_values", "depends", "origin", "origin_resource",
        "written", "written_index", "written_raw",
        "__dict__",  # for the cached properties
    )
    _not_compared = (
        "resource_values", "not_resource_values", "depends", "origin", "origin_resource",
        "written", "written_index", "written_raw",
    )

    def __init__(
        self,
        effect: str,
        actions: tuple[str, ...] = (),
        not_actions: tuple[str, ...] = (),
        resources: tuple[str, ...] = (),
        not_resources: tuple[str, ...] = (),
        principals: tuple[tuple[str, str], ...] | None = None,
        conditions: Optional[dict[tuple[str, str], tuple[str, ...]]] = None,
        sid: str = "",
        resource_values: tuple["ResourceValue", ...] = (),
        not_resource_values: tuple["ResourceValue", ...] = (),
        depends: Fact = Fact(None),
        origin: str = "",
        origin_resource: Resource | None = None,
        written: Optional[Written] = None,
        written_index: int = 0,
        written_raw: Optional[dict] = None,
    ):
        self.effect = effect
        self.actions = actions
        self.not_actions = not_actions
        self.resources = resources
        self.not_resources = not_resources
        # (principal type, identifier); a bare "*" principal is ("*", "*"). None: no Principal.
        self.principals = principals
        # (operator, condition key lower-cased) -> values
        self.conditions = {} if conditions is None else conditions
        self.sid = sid
        # ``resources``/``not_resources`` again, each with its edges (same order)
        self.resource_values = resource_values
        self.not_resource_values = not_resource_values
        # the inputs and conditions the statement's values depend on (``provenance()``)
        self.depends = depends
        # where the statement is written when that is not the document's holder, e.g.
        # ``data.aws_iam_policy_document.reader`` or ``AWS managed policy AmazonKinesisFullAccess``
        self.origin = origin
        self.origin_resource = origin_resource
        # where it is written (``place``): its document's ``Written``, its index and raw mapping
        self.written = written
        self.written_index = written_index
        self.written_raw = written_raw

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    @_cached
    def place(self) -> Optional[StatementPlace]:
        """Where a fix can edit it; None where no writer can follow it (a Terraform
        ``jsonencode``/heredoc/``file()`` string, a policy SAM or Serverless generates, a
        document taken from an input or chosen by a condition)."""
        if self.written is None or self.written_raw is None:
            return None
        return self.written.place(self.written_index, self.written_raw)

    def grants_action(self, action: str) -> bool:
        """Whether this statement's action list takes in ``action`` (e.g. ``kms:Decrypt``)."""
        wanted = action.lower()
        if self.not_actions:
            return not any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.not_actions)
        return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.actions)

    def provenance(self) -> str:
        return self.depends.provenance()

    @_cached
    def actions_known(self) -> bool:
        """False when some entry of ``Action``/``NotAction`` is not known before deployment."""
        return not any(UNKNOWN_PART in a for a in self.actions + self.not_actions)

    @_cached
    def expanded_actions(self) -> frozenset[str]:
        """The known actions (Kinesis, KMS: ``iam_actions.SERVICES``) this statement takes in.

        ``Action``: every known action one of its patterns matches (``kinesis:Put*`` ->
        ``PutRecord``, ``PutRecords``, ``PutResourcePolicy``); ``NotAction``: every known
        action none of its patterns matches. Entries not known before deployment match
        nothing here (see ``actions_known``).
        """
        if self.not_actions:
            excluded: set[str] = set()
            for pattern in self.not_actions:
                if UNKNOWN_PART in pattern:
                    continue
                excluded |= iam_actions.expand(pattern)
            return iam_actions.expand("*") - excluded
        known = [pattern for pattern in self.actions if UNKNOWN_PART not in pattern]
        if len(known) == 1:  # the common case: expand's (cached) set as it is, not copied
            return iam_actions.expand(known[0])
        found: set[str] = set()
        for pattern in known:
            found |= iam_actions.expand(pattern)
        return frozenset(found)

    @_cached
    def kinesis_actions(self) -> frozenset[str]:
        return frozenset(a for a in self.expanded_actions if a.startswith("kinesis:"))

    def actions_from(self, pattern: str) -> frozenset[str]:
        """The known actions one ``Action`` entry takes in."""
        return frozenset() if UNKNOWN_PART in pattern else iam_actions.expand(pattern)

    @property
    def everyone(self) -> bool:
        """Principal ``*`` or ``{"AWS": "*"}``: any principal of any account."""
        return any(ident == "*" and kind in ("*", "AWS") for kind, ident in (self.principals or ()))

    @property
    def pins_caller(self) -> bool:
        for (_, key), values in self.conditions.items():
            if key in CALLER_PINNING_KEYS and values and all(v != "*" for v in values):
                return True
        return False


class ResourceValue(Value):
    """One ``Resource``/``NotResource`` entry: its pattern and the resources it names.

    ``pattern`` is the ARN glob with ``UNKNOWN_PART`` for each part not known before
    deployment (a reference to a resource of the scan is such a part: its value is only
    known once deployed; ``refs`` says which resource it is). ``text`` is for messages.
    """

    __slots__ = ("pattern", "text", "refs", "head")

    def __init__(self, pattern: str, text: str, refs: tuple[Resource, ...] = (), head: Resource | None = None):
        self.pattern = pattern
        self.text = text
        self.refs = refs
        # the resource whose ARN (or name) the value begins with: ``${aws_s3_bucket.b.arn}/*``
        # is an S3 ARN whatever the rest says
        self.head = head

    @property
    def known(self) -> bool:
        return UNKNOWN_PART not in self.pattern


_DOCUMENT_DEPTH = 8


def policy_statements(fact: Fact, place: Optional[tuple[Resource, str]] = None) -> Fact:
    """A fact whose value is a list of statements, ``Unknown`` or ``ABSENT``.

    ``place``: the resource and dotted path where the document is written as a mapping
    (CloudFormation), so each statement knows its own ``StatementPlace``; only when the
    caller knows the path is plain text in the template.
    """
    return _statements(fact, 0, place)


def _statements(fact: Fact, depth: int, place: Optional[tuple[Resource, str]] = None) -> Fact:
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    if isinstance(value, Ref):
        return _from_reference(fact, value.target, depth)
    if isinstance(value, Template):
        return fact.with_value(Unknown("policy is text assembled at deployment"))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return fact.with_value(Unknown("policy is not valid JSON"))
    if not isinstance(value, dict):
        return fact.with_value(Unknown("policy is not a document"))
    statements_written = value.get("Statement")
    statement_fact = fact.then(statements_written)
    raw = statement_fact.value
    single = isinstance(raw, dict)
    if single:
        raw = [raw]
    if raw is ABSENT:
        return statement_fact.with_value([])
    if not isinstance(raw, list):
        return statement_fact.with_value(Unknown("policy statements are not known"))
    if not isinstance(fact.value, dict) or not isinstance(statements_written, (dict, list)):
        place = None  # a JSON string, or statements chosen by a condition: no path to follow
    written = Written(place[0], f"{place[1]}.Statement", _JSON_KEYS, single) if place is not None else None
    out = []
    for index, item in enumerate(raw):
        item_fact = statement_fact.then(item)
        if isinstance(item_fact.value, dict):
            out.append(_from_json_statement(item_fact.value, item_fact, written, index, item))
    return statement_fact.with_value(out)


def _from_reference(fact: Fact, target: Resource, depth: int) -> Fact:
    """A policy written elsewhere: a policy document data source, another policy's text."""
    if depth > _DOCUMENT_DEPTH:
        return fact.with_value(Unknown(f"policy documents nest too deep at {target.address}"))
    if target.type == "aws_iam_policy_document":
        found = _from_policy_document(target, depth)
        return _joined(fact, found).with_value(found.value) if isinstance(found, Fact) else fact.with_value(found)
    if target.type == "aws_iam_policy" and not _is_data(target):
        return _statements(fact.then(target.get("policy")), depth + 1)
    return fact.with_value(Unknown(f"policy comes from {target.address}"))


def _is_data(resource: Resource) -> bool:
    return ("." + resource.address).find(".data.") >= 0


class _Collector:
    """Resolves the values of one statement, gathering the inputs they depend on."""

    def __init__(self, base: Fact):
        self.inputs: tuple[Input, ...] = base.inputs
        self.conditions: tuple[_Condition, ...] = base.conditions

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, (FromInputs, Conditional)):  # text, lists, mappings, edges: nothing to gather
            return ABSENT if value is None else value  # None: a key the statement leaves out (as ``resolve``)
        fact = resolve(value)
        # most values come with no inputs or conditions: skip building empty tuples
        if fact.inputs:
            self.inputs += tuple(i for i in fact.inputs if i not in self.inputs)
        if fact.conditions:
            self.conditions += tuple(c for c in fact.conditions if c not in self.conditions)
        return fact.value

    def fact(self) -> Fact:
        return Fact(None, self.inputs, self.conditions)

    def items(self, value: Any) -> list[Any]:
        value = self.resolve(value)
        if value is ABSENT or value is None:
            return []
        if not isinstance(value, list):
            return [value]
        return [self.resolve(v) for v in value]

    def patterns(self, value: Any) -> tuple[str, ...]:
        return tuple(v if type(v) is str else self.value(v).pattern for v in self.items(value))

    def values(self, value: Any) -> tuple[ResourceValue, ...]:
        return tuple(self.value(v) for v in self.items(value))

    def value(self, value: Any) -> ResourceValue:
        value = self.resolve(value)
        if isinstance(value, str):
            return ResourceValue(value, value)
        if isinstance(value, Ref):
            return ResourceValue(UNKNOWN_PART, _ref_text(value), (value.target,), value.target)
        if isinstance(value, Template):
            pattern, text, refs = [], [], []
            first = self.resolve(value.parts[0]) if value.parts else None
            head = first.target if isinstance(first, Ref) else None
            for part in value.parts:
                part = self.resolve(part)
                if isinstance(part, str):
                    pattern.append(part)
                    text.append(part)
                    continue
                pattern.append(UNKNOWN_PART)
                if isinstance(part, Ref):
                    refs.append(part.target)
                    text.append(_ref_text(part))
                elif isinstance(part, Unknown) and part.reason.startswith("AWS::"):
                    text.append("${" + part.reason + "}")
                else:
                    text.append("${...}")
            return ResourceValue("".join(pattern), "".join(text), tuple(refs), head)
        if isinstance(value, (bool, int, float)):
            return ResourceValue(json.dumps(value), json.dumps(value))
        return ResourceValue(UNKNOWN_PART, "${...}")


def _ref_text(ref: Ref) -> str:
    return "${" + ref.target.address + (f".{ref.attribute}" if ref.attribute else "") + "}"


def _from_json_statement(
    raw: dict, base: Fact, written: Optional[Written] = None, index: int = 0, item: Any = None
) -> Statement:
    values = _Collector(base)
    resources = values.values(raw.get("Resource"))
    not_resources = values.values(raw.get("NotResource"))
    return Statement(
        effect=_text(values.resolve(raw.get("Effect", "Allow"))),
        actions=values.patterns(raw.get("Action")),
        not_actions=values.patterns(raw.get("NotAction")),
        resources=tuple(r.pattern for r in resources),
        not_resources=tuple(r.pattern for r in not_resources),
        principals=_principals(values.resolve(raw["Principal"])) if "Principal" in raw else None,
        conditions=_conditions(values.resolve(raw.get("Condition"))),
        sid=_text(raw.get("Sid", "")),
        resource_values=resources,
        not_resource_values=not_resources,
        depends=values.fact(),
        written=written,
        written_index=index,
        written_raw=item if isinstance(item, dict) else None,
    )


def _from_policy_document(doc: Resource, depth: int = 0) -> Any:
    """Statements of a Terraform ``data.aws_iam_policy_document``, merged as Terraform does.

    ``source_policy_documents`` come first; the document's own ``statement`` blocks replace
    those with the same non-empty ``sid`` and are appended otherwise; each of the
    ``override_policy_documents`` then does the same to the result. A ``Fact``, or
    ``Unknown`` when a part is not known before deployment.
    """
    if doc.type != "aws_iam_policy_document":
        return Unknown(f"policy comes from {doc.address}")
    base = Fact(None)
    merged: list[Statement] = []
    for source in _document_list(doc.get("source_policy_documents")):
        found = _statements(source, depth + 1)
        if not isinstance(found.value, list):
            return found.with_value(Unknown(f"a source policy document of {doc.address} is not known"))
        base = _joined(base, found)
        merged = _merge(merged, found.value)
    written = doc.get("statement")
    blocks_fact = resolve(written)
    base = _joined(base, blocks_fact)
    blocks = blocks_fact.value
    if blocks is ABSENT or blocks is None:
        blocks = []
    if isinstance(blocks, dict):
        blocks = [blocks]
    if not isinstance(blocks, list):
        return base.with_value(Unknown(f"statements of {doc.address} are not known"))
    # a plan's data source is no text to edit: only a configuration's blocks have places
    plain = isinstance(written, (dict, list)) and doc.source_format == TERRAFORM
    where = Written(doc, "statement", _BLOCK_KEYS) if plain else None
    own = []
    for index, block in enumerate(blocks):
        block_fact = blocks_fact.then(block)
        if isinstance(block_fact.value, dict):
            own.append(_from_block(block_fact.value, block_fact, doc, where, index, block))
    merged = _merge(merged, own)
    for override in _document_list(doc.get("override_policy_documents")):
        found = _statements(override, depth + 1)
        if not isinstance(found.value, list):
            return found.with_value(Unknown(f"an override policy document of {doc.address} is not known"))
        base = _joined(base, found)
        merged = _merge(merged, found.value)
    return base.with_value(merged)


def _document_list(value: Any) -> list[Fact]:
    fact = resolve(value)
    if fact.value is ABSENT or fact.value is None:
        return []
    if not isinstance(fact.value, list):
        return [fact]
    return [fact.then(v) for v in fact.value]


def _joined(first: Fact, second: Fact) -> Fact:
    inputs = first.inputs + tuple(i for i in second.inputs if i not in first.inputs)
    conditions = first.conditions + tuple(c for c in second.conditions if c not in first.conditions)
    return Fact(first.value, inputs, conditions)


def _merge(statements: list[Statement], newer: list[Statement]) -> list[Statement]:
    out = list(statements)
    for statement in newer:
        at = next((i for i, s in enumerate(out) if statement.sid and s.sid == statement.sid), None)
        if at is None:
            out.append(statement)
        else:
            out[at] = statement
    return out


def _from_block(
    block: dict, base: Fact, doc: Resource, written: Optional[Written] = None, index: int = 0, raw: Any = None
) -> Statement:
    values = _Collector(base)
    principals: list[tuple[str, str]] = []
    for p in _blocks(values.resolve(block.get("principals"))):
        kind = _text(p.get("type", ""))
        principals += [(kind, ident) for ident in _strings(p.get("identifiers"))]
    conditions: dict[tuple[str, str], tuple[str, ...]] = {}
    for c in _blocks(values.resolve(block.get("condition"))):
        key = (_text(c.get("test", "")), _text(c.get("variable", "")).lower())
        conditions[key] = conditions.get(key, ()) + _strings(c.get("values"))
    has_principals = "principals" in block and block.get("principals") not in (None, [])
    resources = values.values(block.get("resources"))
    not_resources = values.values(block.get("not_resources"))
    return Statement(
        effect=_text(values.resolve(block.get("effect", "Allow"))),
        actions=values.patterns(block.get("actions")),
        not_actions=values.patterns(block.get("not_actions")),
        resources=tuple(r.pattern for r in resources),
        not_resources=tuple(r.pattern for r in not_resources),
        principals=tuple(principals) if has_principals else None,
        conditions=conditions,
        sid=_text(block.get("sid", "")),
        resource_values=resources,
        not_resource_values=not_resources,
        depends=values.fact(),
        origin=doc.address,
        origin_resource=doc,
        written=written,
        written_index=index,
        written_raw=raw if isinstance(raw, dict) else None,
    )


def _blocks(value: Any) -> Iterable[dict]:
    value = resolve(value).value
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [b for b in (resolve(v).value for v in value) if isinstance(b, dict)]
    return []


def _principals(raw: Any) -> tuple[tuple[str, str], ...]:
    raw = resolve(raw).value
    if isinstance(raw, dict):
        return tuple((kind, ident) for kind, ids in raw.items() for ident in _strings(ids))
    return tuple(("*", ident) for ident in _strings(raw))


def _conditions(raw: Any) -> dict[tuple[str, str], tuple[str, ...]]:
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    if not isinstance(raw, dict):
        return out
    for operator, pairs in raw.items():
        pairs = resolve(pairs).value
        if isinstance(pairs, dict):
            for key, values in pairs.items():
                out[(operator, key.lower())] = _strings(values)
    return out


def _strings(value: Any) -> tuple[str, ...]:
    value = resolve(value).value
    if value is ABSENT or value is None:
        return ()
    if not isinstance(value, list):
        value = [value]
    return tuple(_text(v) for v in value)


def _text(value: Any) -> str:
    if type(value) is str:  # what resolve and render_pattern would give back
        return value
    fact = resolve(value)
    rendered = render_pattern(fact.value)
    if rendered is not None:
        return rendered
    if isinstance(fact.value, (bool, int, float)):
        return json.dumps(fact.value)
    if isinstance(fact.value, Ref):
        return f"${{{fact.value.target.address}}}"
    return UNKNOWN_TEXT
