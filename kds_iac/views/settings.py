"""Where each format writes a setting: one table per resource family, a column per format.

Views ask a ``Settings`` table for the attribute a resource writes a setting under, instead
of testing the resource's format where they read it (trivy's adapters keep the same kind of
mapping, one per resource type and format). A lookup never falls back to the other format's
name: a setting one format does not have is ``None`` in its column, and a key the table does
not know is a ``KeyError``, a bug to fix rather than an absent setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from kds_iac.model import CLOUDFORMATION, TERRAFORM, TERRAFORM_PLAN, Resource

if TYPE_CHECKING:
    from kds_iac.fixes import SetSetting

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


_UNSEEN = object()
_SetSetting: Any = None  # kds_iac.fixes.SetSetting, imported by the first ``Settings.set``


class Settings:
    """The attribute names of one resource family, by format and by the view's own key."""

    __slots__ = ("_columns", "_paths")

    def __init__(self, terraform: dict[str, Optional[str]], cloudformation: dict[str, Optional[str]]):
        if set(terraform) != set(cloudformation):
            raise ValueError(f"settings named for one format only: {sorted(set(terraform) ^ set(cloudformation))}")
        self._columns = {TERRAFORM: terraform, CLOUDFORMATION: cloudformation}
        # (naming, key, within) -> the dotted path a fix sets, made once: a rule may fix every stream
        self._paths: dict[tuple[str, str, str], Optional[str]] = {}

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

    def set(self, resource: Resource, key: str, value: Any, within: str = "") -> Optional["SetSetting"]:
        """A fix's intent to set ``key`` of ``resource`` to ``value``, at the setting's path in
        the resource's format (``within``: the dotted path of the block or mapping it sits in,
        for settings read inside one, as ``TableEncryption.setting``); None when the format
        has no such setting, so a rule never spells an attribute name to fix it."""
        asked = (naming(resource), key, within)
        path = self._paths.get(asked, _UNSEEN)
        if path is _UNSEEN:
            name = self.name(resource, key)
            path = self._paths[asked] = (f"{within}.{name}" if within else name) if name is not None else None
        if path is None:
            return None
        global _SetSetting
        if _SetSetting is None:  # once: an import statement per call was a quarter of a stream fix's time
            from kds_iac.fixes import SetSetting  # not on the scan path until a rule proposes a fix

            _SetSetting = SetSetting
        return _SetSetting(resource, path, value)


def written_name(resource: Resource) -> str:
    """The resource's name as its block is written, whichever instance or module call it was
    reached through: ``aws_kinesis_stream.this`` for ``module.m.aws_kinesis_stream.this["a"]``,
    the logical id for ``Stack/LogicalId``."""
    address = resource.address
    if naming(resource) == TERRAFORM:
        if address.endswith("]"):  # a count or for_each instance
            address = address[: address.rfind("[")]
        return ".".join(address.rsplit(".", 2)[-2:])
    return address.rsplit("/", 1)[-1]


def repeated(resource: Resource) -> bool:
    """An instance of a block written once for several (Terraform ``count`` or ``for_each``):
    what is written beside the block is not repeated with it."""
    return naming(resource) == TERRAFORM and resource.address.endswith("]")


def derived_name(resource: Resource, suffix: str) -> str:
    """A name for a resource a fix adds beside ``resource``, in its format's style: the block
    label with ``_suffix`` (``plain_key``), or the logical id with ``Suffix`` (``PlainKey``)."""
    name = written_name(resource)
    if naming(resource) == TERRAFORM:
        return f"{name.rsplit('.', 1)[-1]}_{suffix}"
    return name + suffix[:1].upper() + suffix[1:]


def same_template(resource: Resource) -> tuple:
    """What a fix's reference can reach from ``resource``: its Terraform module (directory and
    module call) or its CloudFormation stack (the template, or Serverless service, it was
    loaded from, and the nested stack it is reached through)."""
    if naming(resource) == TERRAFORM:
        return (TERRAFORM, resource.unit, resource.module)
    return (CLOUDFORMATION, resource.unit, resource.address.rpartition("/")[0])


def fixable(resource: Resource) -> bool:
    """Whether a fix may edit ``resource``'s text: not generated by SAM or Serverless from
    another resource, and not synthesized by the AWS CDK (its template is regenerated from
    code, so an edit there is lost on the next synth)."""
    return resource.generated_from is None and resource.origin is None and resource.construct_path is None
