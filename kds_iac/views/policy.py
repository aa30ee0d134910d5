"""IAM policy documents, however a template wrote them, as normalized statements.

Sources: a JSON string (Terraform ``jsonencode``/heredoc), a mapping (CloudFormation), or a
``data.aws_iam_policy_document`` reached through an edge. Values the template builds at
deploy time are rendered as patterns with ``*`` for the unknown parts.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from kds_iac.model import Ref, Resource, Unknown
from kds_iac.views.facts import ABSENT, Fact, render_pattern, resolve

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


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    # (principal type, identifier); a bare "*" principal is ("*", "*"). None: no Principal.
    principals: tuple[tuple[str, str], ...] | None = None
    # (operator, condition key lower-cased) -> values
    conditions: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    sid: str = ""

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    def grants_action(self, action: str) -> bool:
        """Whether this statement's action list takes in ``action`` (e.g. ``kms:Decrypt``)."""
        wanted = action.lower()
        if self.not_actions:
            return not any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.not_actions)
        return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.actions)

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


def policy_statements(fact: Fact) -> Fact:
    """A fact whose value is a list of statements, ``Unknown`` or ``ABSENT``."""
    value = fact.value
    if value is ABSENT or isinstance(value, Unknown):
        return fact
    if isinstance(value, Ref):
        return fact.with_value(_from_policy_document(value.target))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return fact.with_value(Unknown("policy is not valid JSON"))
    if not isinstance(value, dict):
        return fact.with_value(Unknown("policy is not a document"))
    raw = resolve(value.get("Statement")).value
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        return fact.with_value(Unknown("policy statements are not known"))
    return fact.with_value([_from_json_statement(resolve(s).value) for s in raw if isinstance(resolve(s).value, dict)])


def _from_json_statement(raw: dict) -> Statement:
    return Statement(
        effect=_text(raw.get("Effect", "Allow")),
        actions=_strings(raw.get("Action")),
        not_actions=_strings(raw.get("NotAction")),
        resources=_strings(raw.get("Resource")),
        not_resources=_strings(raw.get("NotResource")),
        principals=_principals(raw["Principal"]) if "Principal" in raw else None,
        conditions=_conditions(resolve(raw.get("Condition")).value),
        sid=_text(raw.get("Sid", "")),
    )


def _from_policy_document(doc: Resource) -> Any:
    """Statements of a Terraform ``data.aws_iam_policy_document`` (its ``statement`` blocks)."""
    if doc.type != "aws_iam_policy_document":
        return Unknown(f"policy comes from {doc.address}")
    blocks = resolve(doc.get("statement")).value
    if blocks in (ABSENT, None):
        return []
    if isinstance(blocks, dict):
        blocks = [blocks]
    if not isinstance(blocks, list):
        return Unknown(f"statements of {doc.address} are not known")
    out = []
    for block in blocks:
        block = resolve(block).value
        if not isinstance(block, dict):
            continue
        principals: list[tuple[str, str]] = []
        for p in _blocks(block.get("principals")):
            kind = _text(p.get("type", ""))
            principals += [(kind, ident) for ident in _strings(p.get("identifiers"))]
        conditions: dict[tuple[str, str], tuple[str, ...]] = {}
        for c in _blocks(block.get("condition")):
            key = (_text(c.get("test", "")), _text(c.get("variable", "")).lower())
            conditions[key] = conditions.get(key, ()) + _strings(c.get("values"))
        has_principals = "principals" in block and block.get("principals") not in (None, [])
        out.append(
            Statement(
                effect=_text(block.get("effect", "Allow")),
                actions=_strings(block.get("actions")),
                not_actions=_strings(block.get("not_actions")),
                resources=_strings(block.get("resources")),
                not_resources=_strings(block.get("not_resources")),
                principals=tuple(principals) if has_principals else None,
                conditions=conditions,
                sid=_text(block.get("sid", "")),
            )
        )
    return out


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
    fact = resolve(value)
    rendered = render_pattern(fact.value)
    if rendered is not None:
        return rendered
    if isinstance(fact.value, (bool, int, float)):
        return json.dumps(fact.value)
    if isinstance(fact.value, Ref):
        return f"${{{fact.value.target.address}}}"
    return UNKNOWN_TEXT
