"""What the IAM rules share: one finding per resource to edit, and how statements are named.

Not a rule module (the registry loads ``kdsNNN_*`` modules only).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

from kds_iac.model import Model, Resource
from kds_iac.rules.base import Finding, Rule
from kds_iac.value import Value
from kds_iac.views.iam import KEY_POLICY, RESOURCE_POLICY, PolicyDocument, iam
from kds_iac.views.kinesis import stream_keys
from kds_iac.views.policy import Statement


class Problem(Value):
    __slots__ = ("resource", "text", "line")

    def __init__(self, resource: Resource, text: str, line: Optional[int] = None):
        self.resource = resource  # what a person edits (``editable(...)`` already applied)
        self.text = text
        self.line = line


def findings(rule: Rule, problems: Iterable[Problem]) -> Iterator[Finding]:
    """One finding per resource, its problems joined in order (duplicates dropped)."""
    grouped: dict[int, tuple[Resource, list[str], Optional[int]]] = {}
    for problem in problems:
        resource, texts, line = grouped.setdefault(id(problem.resource), (problem.resource, [], problem.line))
        if problem.text not in texts:
            texts.append(problem.text)
    for resource, texts, line in grouped.values():
        yield Finding(rule, resource, "; ".join(texts), line=line)


def stream_resource_policies(model: Model) -> Iterator[PolicyDocument]:
    """Kinesis resource policies, and the key policies of keys that encrypt a stream."""
    keys = {id(key.resource) for key, _ in stream_keys(model)}
    for document in iam(model).documents:
        if document.kind == RESOURCE_POLICY or (
            document.kind == KEY_POLICY and document.key is not None and id(document.key.resource) in keys
        ):
            yield document


def statement_label(document: PolicyDocument, statement: Statement) -> str:
    """``inline policy p of aws_iam_role.r`` plus the statement's sid and where it is written."""
    label = document.describe()
    details = []
    if statement.sid:
        details.append(f"statement {statement.sid}")
    if statement.origin and statement.origin != f"AWS managed policy {document.aws_managed}":
        details.append(f"from {statement.origin}")
    return f"{label} ({', '.join(details)})" if details else label


def provenance(statement: Statement, document: Optional[PolicyDocument] = None) -> str:
    inputs = statement.provenance() or (document.statements.provenance() if document else "")
    return f" (with input defaults; decided by {inputs})" if inputs else ""
