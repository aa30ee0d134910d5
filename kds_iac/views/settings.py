"""Where each format writes a setting: one table per resource family, a column per format.

Views ask a ``Settings`` table for the attribute a resource writes a setting under, instead
of testing the resource's format where they read it (trivy's adapters keep the same kind of
mapping, one per resource type and format). A lookup never falls back to the other format's
name: a setting one format does not have is ``None`` in its column, and a key the table does
not know is a ``KeyError``, a bug to fix rather than an absent setting.
"""

from __future__ import annotations

from typing import Optional

from kds_iac.model import CLOUDFORMATION, TERRAFORM, TERRAFORM_PLAN, Resource

# A plan names attributes as the configuration does; Serverless and SAM resources are
# CloudFormation by the time views see them.
_NAMING = {TERRAFORM: TERRAFORM, TERRAFORM_PLAN: TERRAFORM, CLOUDFORMATION: CLOUDFORMATION}


_ASSIGNMENT = {TERRAFORM: "{} = {}", CLOUDFORMATION: "{}: {}"}


def naming(resource: Resource) -> str:
    """The format whose attribute names ``resource`` is written in: terraform or cloudformation."""
    return _NAMING[resource.source_format]


def is_terraform(resource: Resource) -> bool:
    """For what differs in meaning, not in name, between the formats (a Terraform nested block
    is a one-item list; Terraform's user data is plain text)."""
    return naming(resource) == TERRAFORM


class Settings:
    """The attribute names of one resource family, by format and by the view's own key."""

    __slots__ = ("_columns",)

    def __init__(self, terraform: dict[str, Optional[str]], cloudformation: dict[str, Optional[str]]):
        if set(terraform) != set(cloudformation):
            raise ValueError(f"settings named for one format only: {sorted(set(terraform) ^ set(cloudformation))}")
        self._columns = {TERRAFORM: terraform, CLOUDFORMATION: cloudformation}

    def name(self, resource: Resource, key: str) -> Optional[str]:
        """The attribute (dotted for nested settings) ``resource`` writes ``key`` under, or
        None when its format has no such setting."""
        return self._columns[naming(resource)][key]

    def written(self, resource: Resource, key: str, value: str) -> str:
        """A setting with a value as a person writes it in the resource's format, for
        messages: ``read_write_type = ReadOnly``, ``ReadWriteType: ReadOnly``."""
        return _ASSIGNMENT[naming(resource)].format(self.name(resource, key), value)

    def get(self, resource: Resource, key: str, default: object = None) -> object:
        """The raw value of the setting (``default`` when absent or not in this format)."""
        name = self.name(resource, key)
        return resource.attributes.get(name, default) if name else default
