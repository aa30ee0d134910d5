"""Fixes that narrow a statement (KDS004, KDS005): only where what its principals do is certain.

Not a rule module (the registry loads ``kdsNNN_*`` modules only). A statement can be
narrowed when every principal it reaches is a role that only AWS services may assume and
whose uses the scan shows (``kds_iac.views.usage``), and when it is written where a fix can
edit it (``Statement.place``: a policy document data source's block, a CloudFormation policy
mapping), with the field to change written as a plain value. Each question returns the intent,
or None and the reason, so tests and docs can say why a finding has no fix.
"""

from __future__ import annotations

from typing import Callable, Optional

from kds_iac import iam_actions
from kds_iac.fixes import SAFE, Fix, Link, SetSetting
from kds_iac.model import Model, Resource
from kds_iac.value import Value
from kds_iac.views.iam import IDENTITY, ROLE, PolicyDocument, iam
from kds_iac.views.policy import UNKNOWN_PART, Statement
from kds_iac.views.usage import read_elsewhere, role_uses, written_together


class Needs(Value):
    """What the principals a statement reaches need from Kinesis, for sure."""

    __slots__ = ("actions", "streams", "roles")

    def __init__(self, actions: frozenset[str], streams: Optional[tuple[Resource, ...]], roles: tuple[Resource, ...]):
        self.actions = actions
        self.streams = streams  # None: a use names a stream that is not a resource of the scan
        self.roles = roles


class Narrowing(Value):
    """An intent that narrows one statement, or why there is none."""

    __slots__ = ("intent", "reason", "patterns")

    def __init__(self, intent: Optional[SetSetting], reason: str = "", patterns: tuple[str, ...] = ()):
        self.intent = intent
        self.reason = reason
        self.patterns = tuple(patterns)  # KDS004: the wildcard entries it replaces


def needs(model: Model, statement: Statement, document: Optional[PolicyDocument] = None) -> tuple[Optional[Needs], str]:
    """The needs of every principal that gets ``statement`` (found in ``document``), or None
    and why they are not certain. The document's own principals are asked first: most
    statements stop there, before the scan-wide questions."""
    place = statement.place
    if place is None:
        return None, _NO_PLACE
    if document is not None:
        reason = _principals_reason(model, document)
        if reason:
            return None, reason
    shared = read_elsewhere(model, place.resource)
    if shared:
        return None, shared
    documents = _documents_by_place(model).get(place.key, [])
    if not documents:
        return None, "no policy of the scan holds the statement"
    actions: set[str] = set()
    streams: Optional[dict[int, Resource]] = {}
    roles: dict[int, Resource] = {}
    for holding in documents:
        reason = _principals_reason(model, holding)
        if reason:
            return None, reason
        for attachment in holding.attachments:
            role = attachment.principal.resource
            uses = role_uses(model, role)
            roles[id(role)] = role
            actions |= uses.actions
            used = uses.streams
            if used is None or streams is None:
                streams = None
            else:
                streams.update((id(s), s) for s in used)
    found = None if streams is None else tuple(sorted(streams.values(), key=lambda r: r.address))
    return Needs(frozenset(actions), found, tuple(roles.values())), ""


_NO_PLACE = (
    "the statement is written where no fix writer can edit it with certainty (a JSON string: jsonencode(), "
    "a heredoc, file(), templatefile(); a policy SAM, the Serverless Framework or the CDK generates)"
)


def _principals_reason(model: Model, document: PolicyDocument) -> str:
    """Why what the document's principals do is not certain ("" when it is)."""
    if not document.attachments:
        return f"{document.describe()} reaches no principal of the scan"
    for attachment in document.attachments:
        principal = attachment.principal
        if principal is None:
            return f"{document.describe()} reaches {attachment.principal_text}, which is not a resource of the scan"
        if principal.kind != ROLE:
            return f"{document.describe()} reaches {principal.kind} {principal.address}, whose use is not known"
        uses = role_uses(model, principal.resource)
        if not uses.certain:
            return uses.reason
    return ""


def _documents_by_place(model: Model) -> dict[tuple[str, int, str], list[PolicyDocument]]:
    """The identity documents (not AWS managed) holding each written statement (any instance
    of its block), indexed once per model and only when a fix asks."""

    def build() -> dict[tuple[str, int, str], list[PolicyDocument]]:
        index: dict[tuple[str, int, str], list[PolicyDocument]] = {}
        for document in iam(model).documents:
            if document.kind != IDENTITY or document.aws_managed:
                continue
            for statement in document.known_statements:
                place = statement.place
                if place is not None:
                    found = index.setdefault(place.key, [])
                    if document not in found:
                        found.append(document)
        return index

    return model.memo("documents_by_statement_place", build)


def narrow_actions(
    model: Model, statement: Statement, patterns: list[str], document: Optional[PolicyDocument] = None
) -> Narrowing:
    """``patterns`` (wildcard entries of the statement's ``Action``) replaced by the actions
    they take in that its principals need; the other entries kept in order."""
    found = _narrow_actions(model, statement, patterns, document)
    return found.replace(patterns=tuple(patterns))


def _narrow_actions(model: Model, statement: Statement, patterns: list[str], document: Optional[PolicyDocument]) -> Narrowing:
    setting = statement.place.setting("actions") if statement.place else None
    if statement.place is not None and setting is None:
        return Narrowing(None, "the statement's actions are not written as plain text")
    if any(not p.lower().startswith("kinesis:") for p in patterns):
        return Narrowing(None, "the wildcard takes in other services' actions, whose use is not known")
    found, reason = needs(model, statement, document)
    if found is None:
        return Narrowing(None, reason)
    kept = [a for a in statement.actions if a not in patterns]
    taken: set[str] = set()
    for pattern in patterns:
        taken |= iam_actions.expand(pattern) & found.actions
    lowered = {a.lower() for a in kept}
    added = sorted(a for a in taken if a.lower() not in lowered)
    if not kept and not added:
        return Narrowing(None, "its principals need none of the actions the wildcard takes in (the statement would be empty)")
    return Narrowing(SetSetting(statement.place.resource, setting, tuple(kept + added)))


def narrow_resources(model: Model, statement: Statement, document: Optional[PolicyDocument] = None) -> Narrowing:
    """``Resource`` set to the ARNs of the streams its principals use, when all of them are
    resources of the statement's own module or template and it grants Kinesis actions only."""
    setting = statement.place.setting("resources") if statement.place else None
    if statement.place is not None and setting is None:
        return Narrowing(None, "the statement's resources are not written as plain values")
    if not statement.actions or any(UNKNOWN_PART in a or not a.lower().startswith("kinesis:") for a in statement.actions):
        return Narrowing(None, "the statement also grants other services' actions, whose resources are not known")
    found, reason = needs(model, statement, document)
    if found is None:
        return Narrowing(None, reason)
    if not found.streams:
        return Narrowing(None, "a stream its roles use is not a resource of the scan")
    holder = statement.place.resource
    for stream in found.streams:
        if not written_together(stream, holder):
            return Narrowing(None, f"stream {stream.address} is not in the module or template of {holder.address}")
    return Narrowing(SetSetting(holder, setting, tuple(Link(s, "arn") for s in found.streams)))


def reasons_by_address(problems: list, narrowings_of: Callable[[Resource], list[Narrowing]]) -> dict[str, tuple[str, ...]]:
    """For each resource a finding sits on, why its fix is not offered (empty: it is)."""
    return {
        p.resource.address: tuple(n.reason for n in narrowings_of(p.resource) if n.intent is None) for p in problems
    }


def fix_of(title: str, narrowings: list[Narrowing]) -> Optional[Fix]:
    """One safe fix for a finding when every statement it reports can be narrowed, else None
    (a fix that leaves the finding standing is not offered)."""
    if not narrowings or any(n.intent is None for n in narrowings):
        return None
    intents: list[SetSetting] = []
    for narrowing in narrowings:
        if narrowing.intent not in intents:
            intents.append(narrowing.intent)
    return Fix(title, SAFE, tuple(intents))
