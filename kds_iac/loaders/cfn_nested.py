"""Nested stacks: the child template of an ``AWS::CloudFormation::Stack`` loaded into its parent.

What ``aws cloudformation package`` and ``sam build`` read is followed: a ``TemplateURL``
(or SAM ``AWS::Serverless::Application`` ``Location``, which the SAM transform turns into a
stack) that is a local path, relative to the parent file. The child is loaded with the
parameters the parent passes (``Parameters`` of the stack resource, converted in the
parent: a ``!GetAtt Key.Arn`` stays an edge to the parent's key), and its resources join the
parent's model with addresses ``Stack/LogicalId`` (``Outer/Inner/LogicalId`` deeper down).
``Fn::GetAtt [Stack, Outputs.X]`` in the parent is what the child's output ``X`` is.

Bounds: the child's real path must lie inside a scanned tree (the directories scanned, or
the directory of a file named alone); nesting stops at ``MAX_NESTING`` levels and at
``MAX_STACKS`` children under one template (ten stacks each including ten others would
otherwise be loaded ten billion times); a template that includes itself, directly or
through others, is an error at the stack resource.
Nothing is fetched: a remote location (``https://``, ``s3://``) or one known only at
deployment (``Fn::Sub``, a parameter) gets an info note naming the stack not checked, and so
does a missing template under ``node_modules/`` (cfn-modules, not installed); another missing
template is an error. A CDK nested stack (``Metadata`` ``aws:asset:property: TemplateURL``)
is read from its ``aws:asset:path``, the ``.nested.template.json`` beside the parent in
``cdk.out``. ``Fn::GetAtt [Stack, Outputs.X]`` of a stack not loaded stays an edge
to the stack resource.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from kds_iac.files import MAX_FILE_BYTES, inside
from kds_iac.loaders import cfn_reader
from kds_iac.loaders.sam import PLACEHOLDER_S3_URI
from kds_iac.model import Condition, DiagnosticCode

if TYPE_CHECKING:  # the loader imports this module
    from kds_iac.loaders.cloudformation import _TemplateLoader

STACK_TYPE = "AWS::CloudFormation::Stack"
MAX_NESTING = 10
MAX_STACKS = 100  # nested stacks loaded under one template, all levels together
_REMOTE_SCHEMES = ("http://", "https://", "s3://")


class Nesting(NamedTuple):
    """Where a template sits in a tree of nested stacks."""

    roots: tuple[str, ...]  # real paths of the scanned trees
    chain: tuple[str, ...]  # real paths of the including templates, outermost first, then its own
    prefix: str = ""  # "Events/" for the resources of stack Events
    passed: Optional[dict[str, Any]] = None  # parameter name -> the value the parent passes
    unit: str = ""  # the outermost template: what one deployment creates
    condition: Optional[Condition] = None  # the stack resource's Condition
    loaded: Optional[list] = None  # shared by the whole tree: how many children were loaded


def top(path: str, roots: Optional[tuple[str, ...]]) -> Nesting:
    """The nesting of a template scanned on its own."""
    real = os.path.realpath(path)
    if not roots:
        roots = (os.path.dirname(real),)
    return Nesting(tuple(roots), (real,), unit=path, loaded=[0])


def scanned_roots(paths: Any) -> tuple[str, ...]:
    """The trees a scan of ``paths`` may read nested templates from: each directory, and the
    directory of each file named alone."""
    roots = []
    for path in paths:
        path = str(path)
        real = os.path.realpath(path)
        roots.append(real if os.path.isdir(real) else os.path.dirname(real))
    return tuple(dict.fromkeys(roots))


def load_child(parent: "_TemplateLoader", logical_id: str, node: Any, line: int) -> Optional["_TemplateLoader"]:
    """The loaded child of stack ``logical_id`` (declared by ``node`` at ``line``), or
    ``None`` with a diagnostic saying why it is not checked."""
    from kds_iac.loaders.cloudformation import _TemplateLoader, _line_of_key

    nesting = parent.nesting
    properties = node.get("Properties") if isinstance(node, dict) else None
    properties = properties if isinstance(properties, dict) else {}
    location = properties.get("TemplateURL")
    where = _line_of_key(properties, "TemplateURL", line)
    if location is None:
        parent.error(line, f"nested stack {logical_id} has no TemplateURL")
        return None
    metadata = node.get("Metadata") if isinstance(node, dict) else None
    if not isinstance(location, str) and isinstance(metadata, dict) and metadata.get("aws:asset:property") == "TemplateURL":
        # CDK: the URL is built from the asset bucket; the template sits beside the parent in cdk.out
        asset = metadata.get("aws:asset:path")
        location = asset if isinstance(asset, str) and asset else location
    if not isinstance(location, str):
        parent.info(where, f"nested stack {logical_id}: its template location is known only at deployment; its resources are not checked")
        return None
    if location == PLACEHOLDER_S3_URI:  # a Serverless Application Repository app: sam noted it
        return None
    if location.lower().startswith(_REMOTE_SCHEMES):
        parent.info(where, f"nested stack {logical_id}: template {location} is not fetched; its resources are not checked")
        return None
    relative = location[7:] if location.startswith("file://") else location
    if "\x00" in relative:  # no file system takes it (and os.path.realpath raises)
        parent.error(where, f"nested stack {logical_id}: template location contains a NUL character")
        return None
    shown = os.path.normpath(os.path.join(os.path.dirname(parent.path), relative))
    real = os.path.realpath(shown)
    if not inside(real, nesting.roots):
        parent.info(
            where,
            f"nested stack {logical_id}: template {location} is outside the scanned tree; its resources are not checked",
            DiagnosticCode.NOT_READ,
        )
        return None
    if real in nesting.chain:
        which = "this template" if real == nesting.chain[-1] else f"{shown}, which includes this template"
        parent.error(line, f"nested stack {logical_id} includes {which}: the stacks would include each other without end")
        return None
    if len(nesting.chain) > MAX_NESTING:
        parent.info(line, f"nested stack {logical_id}: stacks nested more than {MAX_NESTING} deep; not checked")
        return None
    loaded = nesting.loaded if nesting.loaded is not None else [0]
    if loaded[0] >= MAX_STACKS:
        parent.info(line, f"nested stack {logical_id}: more than {MAX_STACKS} nested stacks under {nesting.unit}; not checked")
        return None
    if not os.path.isfile(real):
        if "node_modules" in shown.split(os.sep):  # cfn-modules and the like: npm installs them
            parent.info(where, f"nested stack {logical_id}: template {location} is not installed; its resources are not checked")
        else:
            parent.error(where, f"nested stack {logical_id}: template {location} does not exist")
        return None
    if os.path.getsize(real) > MAX_FILE_BYTES:
        parent.error(where, f"nested stack {logical_id}: template {location} is larger than {MAX_FILE_BYTES} bytes; not checked",
                     code=DiagnosticCode.SIZE)
        return None

    loaded[0] += 1
    passed = _passed(parent, properties, line)
    condition_name = node.get("Condition") if isinstance(node, dict) else None
    condition = nesting.condition
    if isinstance(condition_name, str) and condition_name in parent.conditions:
        condition = parent.condition(condition_name, _line_of_key(node, "Condition", line))
    child_nesting = Nesting(
        nesting.roots,
        nesting.chain + (real,),
        prefix=f"{nesting.prefix}{logical_id}/",
        passed=passed,
        unit=nesting.unit,
        condition=condition,
        loaded=loaded,
    )
    model = parent.model
    if shown not in model.files:
        model.files.append(shown)
    document = cfn_reader.read_reporting(shown, model.diagnostics)
    if document is None:
        return None
    child = _TemplateLoader(shown, document.data, model, child_nesting)
    child.load()
    return child


def _passed(parent: "_TemplateLoader", properties: dict, line: int) -> dict[str, Any]:
    """The stack's ``Parameters`` as values of the parent (its diagnostics are reported
    when the stack resource itself is converted, not here)."""
    from kds_iac.loaders.cloudformation import NO_VALUE, _line_of_key

    raw = properties.get("Parameters")
    if not isinstance(raw, dict):
        return {}
    kept = len(parent.model.diagnostics)
    outer, parent.branch = parent.branch, "untaken"
    try:
        converted = parent.value(raw, _line_of_key(properties, "Parameters", line))
    finally:
        parent.branch = outer
        del parent.model.diagnostics[kept:]
    if not isinstance(converted, dict):
        return {}
    return {k: v for k, v in converted.items() if isinstance(k, str) and v is not NO_VALUE}


def nested_files(model: Any) -> set[str]:
    """The files of the nested stacks loaded through the templates a user named."""
    return {
        os.path.normpath(r.location.file)
        for r in model.resources
        if r.unit in model.focus_files and os.path.normpath(r.location.file) != r.unit
    }
