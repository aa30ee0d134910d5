"""Load one CloudFormation template (YAML, JSON, SAM, CDK-synthesized) into the model.

Reading is ``cfn_reader``'s job (line-aware, safe, bounded); SAM expansion is ``sam``'s.
This module turns the template into resources:

* each entry of ``Resources`` becomes a ``Resource`` whose ``address`` is the logical id,
  whose location runs from the logical id's line to the end of its mapping and whose
  ``attributes`` are its ``Properties`` with intrinsic functions turned into model values;
  ``attribute_lines`` holds the line of each property. ``Metadata.checkov.skip`` gives
  ``skips``, ``Metadata.aws:cdk:path`` the ``construct_path``, ``Condition`` the
  ``condition``;
* all resources are created first, then converted, so every ``Ref``/``Fn::GetAtt``/``${X}``
  becomes an edge (``Ref``) to the resource object whatever the order of the template.

Value conventions (see ``kds_iac.model``):

* ``Ref`` to a parameter: ``FromInputs(default, (Input,))``; without a default the value is
  ``Unknown``; an ``AWS::SSM::Parameter::Value<...>`` parameter is ``Unknown`` too (read
  from SSM at deployment), with the input still named. List parameters give lists.
* ``Ref AWS::NoValue``: the key (or list item) is dropped; as an ``Fn::If`` branch, ``None``.
* other pseudo parameters: ``Unknown("AWS::Region")`` etc.
* ``Ref`` to a resource: ``Ref(resource)``; ``Fn::GetAtt``: ``Ref(resource, attribute)``.
* ``Fn::Sub``/``Fn::Join``: ``Template(parts)`` (literal text and model values), or a plain
  string when every part is literal, or the one value itself when there is nothing else
  (``!Sub "${Key.Arn}"`` is the same edge as ``!GetAtt Key.Arn``).
* ``Fn::If``: ``Conditional(Condition(name, default, inputs, regions), when_true,
  when_false)``, the default decided from the ``Conditions`` section under parameter
  defaults (``None`` when it cannot be decided); ``inputs`` are the parameters the condition
  reads, through other conditions too; ``regions`` says where a condition that compares
  only ``AWS::Region`` with names holds. A resource's ``Condition`` gives the same
  ``Condition`` as ``Resource.condition`` (a SAM resource's, on what it generated and on it).
* ``Fn::ImportValue``, ``Fn::GetAZs``, ``{{resolve:...}}`` dynamic references: ``Unknown``.
* ``Fn::FindInMap`` with keys known (literal or parameter defaults): the mapped value, or
  the ``{DefaultValue: ...}`` of ``AWS::LanguageExtensions`` when the map lacks the keys.
* ``Fn::Select``/``Split``/``Base64``/``Cidr``/``Length``/``ToJsonString``: evaluated when
  their arguments are known, else ``Unknown`` (``Fn::Base64``: ``Encoded``, an ``Unknown``
  that keeps the value it encodes), wrapped in ``FromInputs`` when parameters are behind
  it. Anything else: ``Unknown``.
* a reference to a logical id the template does not define: ``Unknown`` and an error
  ``Diagnostic`` at the reference's line.

A ``Transform: AWS::Serverless-2016-10-31`` template is expanded by ``sam`` first; what a
SAM resource generates gets that resource's location and ``generated_from``, and its
``Metadata`` (skips, CDK path). ``Transform: AWS::LanguageExtensions`` has its
``Fn::ForEach`` loops expanded first (``cfn_foreach``); ``Fn::Length`` and
``Fn::ToJsonString`` are evaluated like the other functions. Other transforms are not
applied (an info diagnostic).

A nested stack (``AWS::CloudFormation::Stack`` with a local ``TemplateURL``, or the stack SAM
makes of an ``AWS::Serverless::Application``) has its template loaded into the same model
by ``cfn_nested``, with the parameters the stack passes: its resources are addressed
``Stack/LogicalId`` and its parameters are the parent's values (edges included), and
``Fn::GetAtt [Stack, Outputs.X]`` is the child's output ``X``. A parameter test such as
``Fn::Equals [!Ref KeyArn, ""]`` is false when a resource's id or ARN is passed.

Bad input never raises: it gives ``Diagnostic`` entries in the returned model. Errors are
for what no deployment could accept: the file cannot be read or parsed, is not a template
(no ``Resources`` mapping), a resource has no ``Type``, a key is duplicated (CloudFormation
rejects it; the last value is kept), a reference or condition names nothing, an intrinsic
has the wrong number or kind of arguments, the SAM transform fails.

An intrinsic that is well formed but cannot be evaluated (``Fn::Select`` past the end of a
list, a ``Fn::FindInMap`` key the mapping lacks) is not an error when parameter defaults
are behind it, or when a deployment may not evaluate it: its value is ``Unknown`` and an
info note says so. In the ``Fn::If`` branch the defaults switch off it is not even noted:
templates such as the AWS Quick Start VPC guard ``Fn::Select [1, Fn::Split ["=", P]]``
with a condition that ``P`` is not empty, its default. ``Fn::Transform`` (``AWS::Include``
and the like) is not applied: an info note, and the rest is checked.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Iterator, NamedTuple, Optional

from kds_iac import gc_pause
from kds_iac.loaders import cfn_foreach, cfn_nested, cfn_reader
from kds_iac.loaders.cfn_reader import Mapping
from kds_iac.model import (
    CLOUDFORMATION,
    Condition,
    Conditional,
    Diagnostic,
    DiagnosticCode,
    Encoded,
    FromInputs,
    Input,
    Location,
    Model,
    Ref,
    Regions,
    Resource,
    Template,
    Unknown,
    unique,
)

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
SERVERLESS_PREFIX = "AWS::Serverless::"

# Both are searched only up to the last "}" that can close them (see _dynamic_references,
# Fn::Sub): a regex search retries from every "${" or "{{resolve:" and each try runs to the
# next "}", which made a long run of openers without one quadratic.
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


def _dynamic_references(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``{{resolve:...}}`` in ``text``: each runs to the first ``}``, which must be
    doubled. One pass: an opener whose first ``}`` is single fails, and so do the openers
    before that ``}``, so the search goes on after it."""
    position = 0
    while True:
        start = text.find("{{resolve:", position)
        if start < 0:
            return
        close = text.find("}", start + 10)
        if close < 0:
            return
        if text.startswith("}}", close):
            yield start, close + 2
            position = close + 2
        else:
            position = close + 1


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"

    def __reduce__(self) -> str:
        return "NO_VALUE"  # one object, compared with ``is``: a model sent from a forked loader keeps it


NO_VALUE = _NoValue()


class _Origin(NamedTuple):
    """The SAM resource a generated resource came from."""

    logical_id: str
    location: Location
    node: Any


class _Entry(NamedTuple):
    """One resource as the template (or the SAM transform) declares it."""

    node: Any  # Mapping with lines, or a plain dict the SAM transform generated
    type: str
    key_line: int
    column: int
    origin: Optional[_Origin] = None


# A resource's attributes, attribute lines and skips from pass 1 until ``_fill`` sets its
# own, for every resource: pass 1 makes no dicts that pass 2 would throw away, and the ones
# kept are made while the data read is let go (a tenth of the 10 MB template's load peak).
# Never written to.
_UNFILLED: dict = {}


class _Undecided(Exception):
    """A value is not known before deployment, so an expression cannot be evaluated."""


def load_template(path: str, roots: Optional[tuple[str, ...]] = None) -> Model:
    """Load one template file; never raises for bad content.

    ``roots``: the real paths of the scanned trees, where nested stacks' templates may be
    read from (by default the template's own directory). The cyclic collector is paused
    meanwhile: everything built here stays alive, so its walks would only cost time."""
    with gc_pause.paused():
        return _load_template(path, roots)


def _load_template(path: str, roots: Optional[tuple[str, ...]]) -> Model:
    model = Model(files=[path])
    try:
        document = cfn_reader.read_reporting(path, model.diagnostics)
    except Exception as error:  # noqa: BLE001 - a reader bug must not stop the scan
        _log_internal(path, error)
        model.diagnostics.append(
            Diagnostic("error", path, 1, f"cannot read template: {type(error).__name__}: {error}", code=DiagnosticCode.INTERNAL)
        )
        return model
    if document is None:
        return model
    try:
        _TemplateLoader(path, document.data, model, cfn_nested.top(path, roots)).load()
    except Exception as error:  # noqa: BLE001 - a loader bug must not stop the scan
        _log_internal(path, error)
        model.diagnostics.append(
            Diagnostic("error", path, 1, f"cannot load template: {type(error).__name__}: {error}", code=DiagnosticCode.INTERNAL)
        )
    return model


def _log_internal(path: str, error: BaseException) -> None:
    """A bug's traceback, for ``--debug`` runs; the user sees the ``internal`` diagnostic."""
    import logging  # only on failure

    logging.getLogger("kds_iac.loaders").debug("loading %s raised", path, exc_info=error)


def _line_of_key(mapping: Any, key: str, default: int = 1) -> int:
    if isinstance(mapping, Mapping):
        return mapping.line_of(key, default)
    return default


class _TemplateLoader:
    def __init__(self, path: str, data: Any, model: Model, nesting: Optional[cfn_nested.Nesting] = None):
        self.path = path
        self.nesting = nesting if nesting is not None else cfn_nested.top(path, None)
        self.children: dict[str, Optional[_TemplateLoader]] = {}  # nested stacks, loaded when first needed
        self.stacks: dict[str, _Entry] = {}  # the nested stack resources
        self.output_values: dict[str, Any] = {}
        self.loop_variables: dict[str, str] = {}  # Fn::ForEach identifiers without known items
        self.data = data
        self.model = model
        self.parameters: dict[str, Any] = {}
        self.inputs: dict[str, Input] = {}
        self.mappings: Any = {}
        self.conditions: dict[str, Any] = {}
        self.condition_cache: dict[str, Condition] = {}
        self.evaluating: set[str] = set()
        self.resources: dict[str, Resource] = {}
        self.untranslated: set[str] = set()  # SAM resources whose expansion failed
        # Whether the value being converted is evaluated by a deployment with the defaults:
        # "taken", "maybe" (an undecided Fn::If branch, a conditional resource) or "untaken"
        # (the Fn::If branch the defaults switch off). Evaluation failures depend on it.
        self.branch = "taken"

    # -- structure ---------------------------------------------------------------------

    def error(self, line: int, message: str, column: int = 1, code: str = DiagnosticCode.INVALID) -> None:
        self.model.diagnostics.append(Diagnostic("error", self.path, line, message, column, code=code))

    def info(self, line: int, message: str, code: str = DiagnosticCode.NOT_CHECKED) -> None:
        self.model.diagnostics.append(Diagnostic("info", self.path, line, message, code=code))

    def cannot_evaluate(self, line: int, message: str, inputs: tuple[Input, ...]) -> None:
        """An intrinsic whose arguments are well formed but whose evaluation fails.

        Only an error when nothing a deployer chooses could change it and a deployment with
        the defaults evaluates it; with parameter defaults behind it, or in a branch a
        deployment may not take, an info note; in the branch the defaults switch off, nothing
        (CloudFormation does not evaluate it either).
        """
        if self.branch == "untaken":
            return
        if not inputs and self.branch == "taken":
            self.error(line, message, code=DiagnosticCode.EVALUATION)
        elif inputs:
            shown = ", ".join(i.describe() for i in inputs)
            self.info(line, f"{message} with the defaults of {shown}; the value is not known", DiagnosticCode.EVALUATION)
        else:
            self.info(line, f"{message} where a deployment may take this branch; the value is not known", DiagnosticCode.EVALUATION)

    def transform_note(self, line: int, argument: Any) -> None:
        name = argument.get("Name") if isinstance(argument, dict) else None
        shown = f" {name}" if isinstance(name, str) else ""
        self.info(line, f"Fn::Transform{shown} is not applied; what it would add is not checked")

    def load(self) -> None:
        """Fill the model from the template; its ``Resources`` mapping is consumed (emptied)."""
        data = self.data
        if not isinstance(data, dict):
            self.error(1, "not a CloudFormation template: the document is not a mapping", code=DiagnosticCode.NOT_A_TEMPLATE)
            return
        resources = data.get("Resources")
        if not isinstance(resources, dict):
            where = _line_of_key(data, "Resources")
            self.error(where, "not a CloudFormation template: no Resources mapping", code=DiagnosticCode.NOT_A_TEMPLATE)
            return
        from kds_iac.loaders import sam  # small module; samtranslator itself is imported lazily

        transforms = sam.transforms(data)
        if cfn_foreach.LANGUAGE_EXTENSIONS in transforms:
            data = self._expand_loops(data)
            resources = data.get("Resources")
        for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
            if data.get(section) is not None and not isinstance(data[section], dict):
                self.error(_line_of_key(data, section), f"{section} is not a mapping; CloudFormation rejects the template")
        self._read_parameters(data.get("Parameters"))
        mappings = data.get("Mappings")
        self.mappings = mappings if isinstance(mappings, dict) else {}
        conditions = data.get("Conditions")
        self.conditions = dict(conditions) if isinstance(conditions, dict) else {}

        entries = self._entries(resources)
        for name in transforms:
            if name not in (sam.SAM_TRANSFORM, cfn_foreach.LANGUAGE_EXTENSIONS):
                self.info(
                    _line_of_key(data, "Transform"),
                    f"transform {name} is not applied; the template is checked as written",
                )
        if sam.SAM_TRANSFORM in transforms and any(e[1].startswith(SERVERLESS_PREFIX) for e in entries.values()):
            entries = self._expand_sam(sam, entries)
        # The template's Resources are read by nothing after this (``entries`` holds what the
        # passes need): emptied, with their lines, so that each resource's data as read goes
        # once pass 2 has converted it and lets go of its entry.
        if isinstance(resources, dict):
            resources.clear()
            if isinstance(resources, Mapping):
                resources.key_lines = {}
                resources.key_columns = {}

        # Pass 1: every resource exists before any reference is resolved.
        origins: dict[str, Resource] = {}
        origin_nodes: dict[str, Any] = {}  # the SAM resources as written, for their properties
        prefix = self.nesting.prefix
        for logical_id, entry in entries.items():
            origin = entry.origin
            resource = Resource(
                type=entry.type,
                address=prefix + logical_id,
                attributes=_UNFILLED,
                location=origin.location if origin else self._location(entry),
                source_format=CLOUDFORMATION,
                attribute_lines=_UNFILLED,
                skips=_UNFILLED,
                unit=self.nesting.unit,
                generated_from=prefix + origin.logical_id if origin else None,
            )
            if entry.type == cfn_nested.STACK_TYPE:
                self.stacks[logical_id] = entry
            if origin is not None:
                resource.origin = origins.get(origin.logical_id)
                if resource.origin is None:
                    resource.origin = origins[origin.logical_id] = self._origin_resource(origin)
                    origin_nodes[origin.logical_id] = origin.node
            self.resources[logical_id] = resource
        # Pass 2: properties, conditions, metadata. Each resource's data as read is let go
        # once converted, so the data read and the model built are never both whole: on the
        # 10 MB template the load's peak is the data read, not that plus the model.
        for logical_id in list(entries):
            self._fill(self.resources[logical_id], entries.pop(logical_id))
        for logical_id, origin in origins.items():
            self._fill_origin(origin, origin_nodes[logical_id])
        for logical_id in self.stacks:
            self.child(logical_id)
        if self.nesting.condition is not None:  # a stack's Condition creates all it holds
            for resource in (*self.resources.values(), *origins.values()):
                if resource.condition is None:
                    resource.condition = self.nesting.condition
        self.model.resources.extend(self.resources.values())
        self._read_outputs(data.get("Outputs"))

    def _expand_loops(self, data: Any) -> Any:
        """The template with its ``Fn::ForEach`` loops expanded (``cfn_foreach``)."""
        expansion = cfn_foreach.expand(data)
        for problem in expansion.problems:
            code = DiagnosticCode.INVALID if problem.level == "error" else DiagnosticCode.NOT_CHECKED
            self.model.diagnostics.append(Diagnostic(problem.level, self.path, problem.line, problem.message, code=code))
        self.loop_variables = expansion.loop_variables
        self.data = expansion.data
        return expansion.data

    def child(self, logical_id: str) -> Optional["_TemplateLoader"]:
        """The loaded template of nested stack ``logical_id`` (``None``: not checked)."""
        if logical_id in self.children:
            return self.children[logical_id]
        self.children[logical_id] = None  # while it loads: its parameters may not read its outputs
        entry = self.stacks[logical_id]
        loaded = cfn_nested.load_child(self, logical_id, entry.node, entry.key_line)
        self.children[logical_id] = loaded
        return loaded

    def stack_output(self, logical_id: str, name: str, line: int) -> Any:
        """``Fn::GetAtt [Stack, Outputs.NAME]``: what the child's output is."""
        loading = logical_id in self.children and self.children[logical_id] is None
        child = self.child(logical_id)
        if child is None:  # an edge to the stack still: its outputs exist, whatever they are
            return Ref(self.resources[logical_id], f"Outputs.{name}")
        if name not in child.output_values:
            if not loading:
                self.error(line, f"Fn::GetAtt {logical_id}.Outputs.{name}: the nested stack's template {child.path} has no output {name}")
            return Unknown(f"output {name} of nested stack {logical_id} is not defined")
        value = child.output_values[name]
        return None if value is NO_VALUE else value

    def _origin_resource(self, origin: "_Origin") -> Resource:
        """The SAM resource as written: findings about what it generated sit on it."""
        node = origin.node
        type_ = node.get("Type") if isinstance(node, dict) else None
        resource = Resource(
            type=type_ if isinstance(type_, str) else SERVERLESS_PREFIX + "Resource",
            address=self.nesting.prefix + origin.logical_id,
            attributes={},
            location=origin.location,
            source_format=CLOUDFORMATION,
            unit=self.nesting.unit,
        )
        return resource

    def _fill_origin(self, resource: Resource, node: Any) -> None:
        """Properties of a SAM resource, converted like any other (its own problems were
        reported by the translator, so conversion diagnostics are not repeated)."""
        if not isinstance(node, dict):
            return
        properties = node.get("Properties")
        kept = len(self.model.diagnostics)
        try:
            attributes = self.value(properties, resource.location.start_line) if properties is not None else {}
        finally:
            del self.model.diagnostics[kept:]
        resource.attributes = attributes if isinstance(attributes, dict) else {}
        if isinstance(properties, Mapping):
            resource.attribute_lines = {k: properties.key_lines[k] for k in resource.attributes if k in properties.key_lines}
        metadata = node.get("Metadata")
        if isinstance(metadata, dict):
            resource.skips = _skips(metadata)
        condition = node.get("Condition")
        if isinstance(condition, str) and condition in self.conditions:
            resource.condition = self.condition(condition, _line_of_key(node, "Condition", resource.location.start_line))

    def _read_outputs(self, outputs: Any) -> None:
        """``Outputs`` as ``Model.outputs`` (type ``Output``, address ``Outputs.NAME``)."""
        if not isinstance(outputs, dict):
            return
        for name, node in outputs.items():
            line = _line_of_key(outputs, name)
            end = getattr(node, "end_line", 0) or line
            if not isinstance(node, dict):
                continue
            kept = len(self.model.diagnostics)
            value = self.value(node.get("Value"), _line_of_key(node, "Value", line))
            del self.model.diagnostics[kept:]  # a bad output is not a resource problem of ours
            self.output_values[name] = value
            output = Resource(
                type="Output",
                address=f"{self.nesting.prefix}Outputs.{name}",
                attributes={} if value is NO_VALUE else {"Value": value},
                location=Location(self.path, line, end),
                source_format=CLOUDFORMATION,
                attribute_lines={"Value": _line_of_key(node, "Value", line)},
                unit=self.nesting.unit,
            )
            self.model.outputs.append(output)

    def _location(self, entry: "_Entry") -> Location:
        """From the logical id's line to the last line of its mapping."""
        end = getattr(entry.node, "end_line", 0) or entry.key_line
        return Location(self.path, entry.key_line, end, entry.column)

    def _entries(self, resources: dict) -> dict[str, "_Entry"]:
        """The well-formed entries of ``Resources``; the others are reported."""
        entries: dict[str, _Entry] = {}
        lined = isinstance(resources, Mapping)
        lines = resources.key_lines if lined else {}
        for logical_id, node in resources.items():
            key_line = lines.get(logical_id, 1)
            column = resources.column_of(logical_id, 1) if lined else 1
            if logical_id == "Fn::Transform":
                self.transform_note(key_line, node)
                continue
            if not isinstance(node, dict):
                self.error(key_line, f"resource {logical_id} is not a mapping", column)
                continue
            type_ = node.get("Type")
            if type_ is None:
                self.error(key_line, f"resource {logical_id} has no Type", column)
                continue
            if not isinstance(type_, str):
                self.error(_line_of_key(node, "Type", key_line), f"resource {logical_id} has a Type that is not a string")
                continue
            entries[logical_id] = _Entry(node, type_, key_line, column)
        return entries

    def _expand_sam(self, sam: Any, entries: dict[str, "_Entry"]) -> dict[str, "_Entry"]:
        """The template's resources after the SAM transform, in template order, each SAM
        resource replaced by what it generated."""
        expansion = sam.expand(self.path, self.data)
        self.model.diagnostics.extend(expansion.diagnostics)
        if expansion.resources is None:  # failed: check what is not serverless
            kept = {}
            for logical_id, entry in entries.items():
                if entry.type.startswith(SERVERLESS_PREFIX):
                    self.untranslated.add(logical_id)
                else:
                    kept[logical_id] = entry
            return kept
        for name, condition in expansion.conditions.items():
            self.conditions.setdefault(name, condition)
        translated = {
            lid: out
            for lid, out in expansion.resources.items()
            if isinstance(out, dict) and isinstance(out.get("Type"), str)
        }
        by_origin: dict[str, list[str]] = {}
        for lid, sam_id in expansion.origins.items():
            by_origin.setdefault(sam_id, []).append(lid)
        result: dict[str, _Entry] = {}
        for logical_id, entry in entries.items():
            if entry.type.startswith(SERVERLESS_PREFIX):
                origin = _Origin(logical_id, self._location(entry), entry.node)
                for lid in by_origin.get(logical_id, []):
                    if lid in translated:
                        out = translated[lid]
                        result[lid] = _Entry(out, out["Type"], entry.key_line, entry.column, origin)
                continue
            out = translated.get(logical_id)
            if out is None or logical_id in expansion.origins:
                continue
            if out != cfn_reader.to_plain(entry.node):
                # The translator rewrote it (e.g. a reference to a SAM alias): keep its
                # version, with the lines of the original.
                result[logical_id] = entry._replace(node=_with_lines(out, entry.node), type=out["Type"])
            else:
                result[logical_id] = entry
        for lid in translated:
            if lid not in result and lid not in entries:
                self.info(1, f"{lid} was generated by the SAM transform from no known resource; not checked")
        return result

    def _read_parameters(self, parameters: Any) -> None:
        if not isinstance(parameters, dict):
            return
        for name, declaration in parameters.items():
            key_line = _line_of_key(parameters, name)
            end = getattr(declaration, "end_line", 0) or key_line
            declaration = declaration if isinstance(declaration, dict) else {}
            self.parameters[name] = declaration
            self.inputs[name] = Input(
                kind="parameter",
                name=name,
                default=declaration.get("Default"),
                has_default="Default" in declaration,
                location=Location(self.path, key_line, end),
            )

    def _fill(self, resource: Resource, entry: "_Entry") -> None:
        node, line = entry.node, entry.key_line
        condition = node.get("Condition")
        if isinstance(condition, str):
            resource.condition = self.condition(condition, _line_of_key(node, "Condition", line))
        properties = node.get("Properties")
        sam_node = entry.origin.node if entry.origin else None
        if properties is None:
            attributes: Any = {}
        elif isinstance(properties, dict) and len(properties) == 1 and "Fn::Transform" in properties:
            self.transform_note(_line_of_key(node, "Properties", line), properties["Fn::Transform"])
            attributes = {}
        else:
            # A resource that the defaults do not create, or may not, is evaluated by only
            # some deployments: its evaluation failures depend on what the deployer chooses.
            self.branch = "taken" if resource.condition is None or resource.condition.default else "maybe"
            try:
                attributes = self.value(properties, _line_of_key(node, "Properties", line))
            finally:
                self.branch = "taken"
            if isinstance(attributes, Conditional) or attributes is NO_VALUE:
                attributes = {}
            if not isinstance(attributes, dict):
                self.error(_line_of_key(node, "Properties", line), f"resource {resource.address}: Properties is not a mapping")
                attributes = {}
        resource.attributes = attributes
        if isinstance(properties, Mapping):
            lines = properties.key_lines
            # the same keys (nearly always): the reader's dict serves, it is not used after loading
            if lines.keys() == attributes.keys():
                resource.attribute_lines = lines
            else:
                resource.attribute_lines = {k: lines[k] for k in attributes if k in lines}
        elif sam_node is not None:
            resource.attribute_lines = _generated_lines(resource, attributes, sam_node)
        else:
            resource.attribute_lines = {}
        metadata = node.get("Metadata")
        if sam_node is not None and isinstance(sam_node.get("Metadata"), dict):
            metadata = sam_node.get("Metadata")  # skips on the SAM resource cover what it generates
        if isinstance(metadata, dict):
            resource.skips = _skips(metadata)
            path = metadata.get("aws:cdk:path")
            if isinstance(path, str):
                resource.construct_path = path
        else:
            resource.skips = {}

    # -- values --------------------------------------------------------------------------

    def value(self, value: Any, line: int) -> Any:
        """A template value as a model value (``NO_VALUE`` for ``Ref AWS::NoValue``)."""
        if isinstance(value, dict):
            here = getattr(value, "start_line", 0) or line
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref" or key.startswith("Fn::"):
                    return self.intrinsic(key, argument, here)
            lined = isinstance(value, Mapping)  # its key lines are not made a dict here
            out = {}
            for key, item in value.items():
                if key == "Fn::Transform":
                    self.transform_note(value.line_of(key, here) if lined else here, item)
                    continue
                if type(item) in _AS_WRITTEN and (type(item) is not str or "{{resolve:" not in item):
                    out[key] = item  # what self.value gives back unchanged, without the call
                    continue
                converted = self.value(item, value.line_of(key, here) if lined else here)
                if converted is not NO_VALUE:
                    out[key] = converted
            return out
        if isinstance(value, list):
            here = getattr(value, "start_line", 0) or line
            out_list = []
            for item in value:
                if type(item) in _AS_WRITTEN and (type(item) is not str or "{{resolve:" not in item):
                    out_list.append(item)
                    continue
                converted = self.value(item, here)
                if converted is not NO_VALUE:
                    out_list.append(converted)
            return out_list
        if isinstance(value, str) and "{{resolve:" in value:
            return _collapse(self.text_parts(value))
        return value

    def text_parts(self, text: str) -> list[Any]:
        """Literal text with each dynamic reference as an ``Unknown`` part."""
        parts: list[Any] = []
        position = 0
        for start, end in _dynamic_references(text):
            parts.append(text[position:start])
            parts.append(Unknown(f"dynamic reference {text[start:end]}"))
            position = end
        parts.append(text[position:])
        return parts

    def intrinsic(self, name: str, argument: Any, line: int) -> Any:
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, argument, line)
        return self.evaluate(name, argument, line)

    def ref(self, argument: Any, line: int) -> Any:
        if not isinstance(argument, str):
            self.error(line, "Ref needs the name of a parameter or a resource")
            return Unknown("Ref to a value that is not a name")
        return self.ref_name(argument, line)

    def ref_name(self, name: str, line: int) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return Unknown(name)
        if name in self.parameters:
            return self.parameter(name)
        resource = self.resources.get(name)
        if resource is not None:
            return Ref(resource, None)
        if name in self.loop_variables:
            return Unknown(self.loop_variables[name])
        return self.missing(name, line, "Ref")

    def missing(self, name: str, line: int, how: str) -> Unknown:
        if name in self.untranslated or name.split(".")[0] in self.untranslated:  # also "Fn.Alias"
            return Unknown(f"{name} is a SAM resource that could not be expanded")
        self.error(line, f"{how} to {name}, which is neither a parameter nor a resource of this template")
        return Unknown(f"{name} is not defined in this template")

    def parameter(self, name: str) -> Any:
        declaration = self.parameters[name]
        input_ = self.inputs[name]
        type_ = declaration.get("Type")
        passed = self.nesting.passed
        if passed is not None and name in passed:  # what the parent stack passes
            return _as_list_if(passed[name], isinstance(type_, str) and (type_ == "CommaDelimitedList" or type_.startswith("List<")))
        if isinstance(type_, str) and type_.startswith(SSM_PARAMETER_TYPE):
            value: Any = Unknown(f"parameter {name} is read from SSM Parameter Store at deployment")
        elif not input_.has_default:
            value = Unknown(f"parameter {name} has no default")
        else:
            value = input_.default
            is_list = isinstance(type_, str) and (type_ == "CommaDelimitedList" or type_.startswith("List<"))
            if isinstance(value, dict):
                value = Unknown(f"parameter {name} has a default that is not a value")
            elif is_list and isinstance(value, str):
                value = [item.strip() for item in value.split(",")] if value else []
        return FromInputs(value, (input_,))

    def get_att(self, argument: Any, line: int) -> Any:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[0], str):
            self.error(line, "Fn::GetAtt needs [logical id, attribute]")
            return Unknown("malformed Fn::GetAtt")
        target_name, attribute = argument
        if not isinstance(attribute, str):
            try:
                attribute, _ = self.known(self.value(attribute, line))
            except _Undecided:
                attribute = None
            if not isinstance(attribute, str):
                return Unknown(f"Fn::GetAtt {target_name} with an attribute known only at deployment")
        target = self.resources.get(target_name)
        if target is not None and target_name in self.stacks and attribute.startswith("Outputs."):
            return self.stack_output(target_name, attribute[len("Outputs."):], line)
        if target is None:
            if target_name in self.parameters:
                self.error(line, f"Fn::GetAtt to {target_name}, which is a parameter, not a resource")
                return Unknown(f"Fn::GetAtt of parameter {target_name}")
            return self.missing(target_name, line, "Fn::GetAtt")
        return Ref(target, attribute)

    def sub(self, argument: Any, line: int) -> Any:
        variables: dict[str, Any] = {}
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            text, raw_variables = argument
            variable_lines = raw_variables.key_lines if isinstance(raw_variables, Mapping) else {}
            for key, raw in raw_variables.items():
                variables[key] = self.value(raw, variable_lines.get(key, line))
        else:
            text = argument
        if not isinstance(text, str):
            self.error(line, "Fn::Sub needs a string, or [string, {variables}]")
            return Unknown("malformed Fn::Sub")
        parts: list[Any] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(text, 0, text.rfind("}") + 1):
            parts.extend(self.text_parts(text[position : match.start()]))
            position = match.end()
            if match.group(1):  # ${!Literal}
                parts.append("${" + match.group(2) + "}")
                continue
            name = match.group(2).strip()
            if name in variables:
                parts.append(variables[name])
            elif name in PSEUDO_PARAMETERS or name in self.parameters or name in self.resources or name in self.loop_variables:
                parts.append(self.ref_name(name, line))
            elif "." in name:
                parts.append(self.get_att(name.split(".", 1), line))
            else:
                parts.append(self.missing(name, line, "Fn::Sub reference"))
        parts.extend(self.text_parts(text[position:]))
        return _collapse(parts)

    def join(self, argument: Any, line: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            self.error(line, "Fn::Join needs [delimiter, [values]]")
            return Unknown("malformed Fn::Join")
        delimiter, items = argument
        delimiter = self.value(delimiter, line)
        if not isinstance(delimiter, str):
            return Unknown("Fn::Join with a delimiter known only at deployment")
        converted = self.value(items, line)
        inputs: tuple[Input, ...] = ()
        if isinstance(converted, FromInputs) and isinstance(converted.value, list):
            inputs = converted.inputs
            converted = converted.value
        if not isinstance(converted, list):
            return _unknown("Fn::Join of a list known only at deployment", converted)
        parts: list[Any] = []
        for index, item in enumerate(converted):
            if index:
                parts.append(delimiter)
            parts.append(item)
        result = _collapse(parts)
        if inputs:
            return FromInputs(result, inputs)
        return result

    def if_(self, argument: Any, line: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
            self.error(line, "Fn::If needs [condition name, value if true, value if false]")
            return Unknown("malformed Fn::If")
        condition = self.condition(argument[0], line)
        outer = self.branch
        branches = []
        for outcome, branch in zip((True, False), argument[1:]):
            if outer == "untaken" or condition.default is (not outcome):
                self.branch = "untaken"
            elif condition.default is None:
                self.branch = "maybe"
            try:
                converted = self.value(branch, line)
            finally:
                self.branch = outer
            branches.append(None if converted is NO_VALUE else converted)
        return Conditional(condition, branches[0], branches[1])

    def find_in_map(self, argument: Any, line: int) -> Any:
        if not isinstance(argument, list) or len(argument) not in (3, 4):
            self.error(line, "Fn::FindInMap needs [map, top-level key, second-level key]")
            return Unknown("malformed Fn::FindInMap")
        if len(argument) == 4 and not (isinstance(argument[3], dict) and list(argument[3]) == ["DefaultValue"]):
            self.error(line, "Fn::FindInMap: the fourth argument must be {DefaultValue: value}")
            return Unknown("malformed Fn::FindInMap")
        keys: list[Any] = []
        inputs: tuple[Input, ...] = ()
        converted = [self.value(raw, line) for raw in argument[:3]]
        try:
            for key_value in converted:
                key, key_inputs = self.known(key_value)
                keys.append(key)
                inputs += key_inputs
        except _Undecided:
            return _unknown("Fn::FindInMap with a key known only at deployment", converted)
        found: Any = self.mappings
        for key in keys:
            found = found.get(str(key) if not isinstance(key, str) else key) if isinstance(found, dict) else None
            if found is None:
                break
        if found is None:
            if len(argument) == 4:  # AWS::LanguageExtensions: the value when the keys are missing
                found = argument[3]["DefaultValue"]
            else:
                self.cannot_evaluate(line, f"Fn::FindInMap: no entry {keys[1]}/{keys[2]} in mapping {keys[0]}", unique(inputs))
                return _unknown(f"Fn::FindInMap {'/'.join(str(k) for k in keys)} has no entry", converted)
        result = self.value(found, line)
        return FromInputs(result, unique(inputs)) if inputs else result

    def import_value(self, argument: Any, line: int) -> Unknown:
        return Unknown(f"Fn::ImportValue {_describe_text(self.value(argument, line))}")

    def select(self, argument: Any, line: int) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            self.error(line, "Fn::Select needs [index, list]")
            return Unknown("malformed Fn::Select")
        raw_index = self.value(argument[0], line)
        try:
            index, inputs = self.known(raw_index)
            index = int(index)
        except (_Undecided, TypeError, ValueError, OverflowError):  # OverflowError: an index of .inf
            return _unknown("Fn::Select with an index known only at deployment", raw_index, self.value(argument[1], line))
        items = self.value(argument[1], line)
        if isinstance(items, FromInputs) and isinstance(items.value, list):
            inputs += items.inputs
            items = items.value
        if not isinstance(items, list):
            return _unknown("Fn::Select from a list known only at deployment", raw_index, items)
        if not 0 <= index < len(items):
            self.cannot_evaluate(line, f"Fn::Select index {index} is out of range for a list of {len(items)}", unique(inputs))
            return _unknown("Fn::Select index out of range", raw_index, FromInputs(None, inputs))
        result = items[index]
        return FromInputs(result, unique(inputs)) if inputs else result

    def evaluate(self, name: str, argument: Any, line: int) -> Any:
        """Functions without edges: computed when every argument is known."""
        function = _EVALUATORS.get(name)
        if function is None:
            if name == "Fn::GetAZs":
                return Unknown("Fn::GetAZs (depends on the deployment region)")
            if name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
                outcome, inputs = self.decide({name: argument}, line)
                value: Any = outcome if outcome is not None else Unknown(f"{name} known only at deployment")
                return FromInputs(value, inputs) if inputs else value
            if name == "Fn::Transform":
                self.transform_note(line, argument)
            return Unknown(f"{name} is not evaluated")
        arity = _ARITY.get(name)
        if arity is not None and (not isinstance(argument, list) or len(argument) != arity):
            self.error(line, f"{name} needs a list of {arity} arguments")
            return Unknown(f"malformed {name}")
        converted = self.value(argument, line)
        try:
            known, inputs = self.known(converted)
            result = function(known)
        except _Undecided:
            if name == "Fn::Base64":  # keep what gets encoded: user data is read from it
                return Encoded(f"{name} of a value known only at deployment", "base64", converted)
            return _unknown(f"{name} of a value known only at deployment", converted)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError) as error:
            self.cannot_evaluate(line, f"{name}: {error}", _inputs_of(converted))
            return _unknown(f"{name} cannot be evaluated", converted)
        return FromInputs(result, inputs) if inputs else result

    def known(self, value: Any) -> tuple[Any, tuple[Input, ...]]:
        """A plain value and the inputs behind it; raises ``_Undecided`` if not known."""
        inputs: list[Input] = []

        def walk(item: Any) -> Any:
            if isinstance(item, FromInputs):
                inputs.extend(item.inputs)
                return walk(item.value)
            if isinstance(item, Template):
                text = [walk(part) for part in item.parts]
                if not all(isinstance(part, (str, int, float)) for part in text):
                    raise _Undecided()
                return "".join(_comparable(part) for part in text)
            if isinstance(item, (Unknown, Ref, Conditional)) or item is NO_VALUE:
                raise _Undecided()
            if isinstance(item, dict):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list):
                return [walk(v) for v in item]
            return item

        result = walk(value)
        return result, unique(tuple(inputs))

    # -- conditions ----------------------------------------------------------------------

    def condition(self, name: str, line: int) -> Condition:
        cached = self.condition_cache.get(name)
        if cached is not None:
            return cached
        if name not in self.conditions:
            self.error(line, f"condition {name} is not defined in the Conditions section")
            result = Condition(name, None, ())
        elif name in self.evaluating:
            self.error(line, f"condition {name} depends on itself")
            return Condition(name, None, ())
        else:
            self.evaluating.add(name)
            outer, self.branch = self.branch, "taken"  # every deployment evaluates every condition
            try:
                expression = self.conditions[name]
                outcome, inputs = self.decide(expression, _line_of_key(self.data.get("Conditions"), name, line))
                regions = self.regions(expression) if outcome is None else None
            finally:
                self.evaluating.discard(name)
                self.branch = outer
            result = Condition(name, outcome, inputs, regions)
        self.condition_cache[name] = result
        return result

    def regions(self, expression: Any) -> Optional[Regions]:
        """Where a condition holds, when it compares nothing but ``AWS::Region`` with names
        (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``); else ``None``."""
        if not isinstance(expression, dict) or len(expression) != 1:
            return None
        ((function, argument),) = expression.items()
        if function == "Condition":
            found = self.condition_cache.get(argument) if isinstance(argument, str) else None
            return found.regions if found is not None else None
        if not isinstance(argument, list) or not argument:
            return None
        if function == "Fn::Equals":
            if len(argument) != 2:
                return None
            for one, other in (argument, argument[::-1]):
                if one == {"Ref": "AWS::Region"} and isinstance(other, str):
                    return Regions(frozenset({other}))
            return None
        parts = [self.regions(operand) for operand in argument]
        if None in parts:
            return None
        if function == "Fn::Not":
            return Regions(parts[0].names, not parts[0].outside) if len(parts) == 1 else None
        if function not in ("Fn::And", "Fn::Or"):
            return None
        result = parts[0]
        for part in parts[1:]:
            result = _region_union(result, part) if function == "Fn::Or" else _region_intersection(result, part)
        return result

    def decide(self, expression: Any, line: int) -> tuple[Optional[bool], tuple[Input, ...]]:
        """Three-valued outcome of a condition expression under parameter defaults."""
        line = getattr(expression, "start_line", 0) or line
        if isinstance(expression, bool):
            return expression, ()
        if not isinstance(expression, dict) or len(expression) != 1:
            self.error(line, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")
            return None, ()
        ((function, argument),) = expression.items()
        if function == "Condition":
            if not isinstance(argument, str):
                self.error(line, "Condition needs a condition name")
                return None, ()
            found = self.condition(argument, line)
            return found.default, found.inputs
        if not isinstance(argument, list):
            self.error(line, f"{function} needs a list")
            return None, ()
        if function == "Fn::Equals":
            if len(argument) != 2:
                self.error(line, "Fn::Equals needs two values")
                return None, ()
            values = []
            inputs: tuple[Input, ...] = ()
            edges = 0
            for operand in argument:
                converted = self.value(operand, line)
                inputs += _inputs_of(converted)
                edges += _is_edge(converted)
                try:
                    values.append(_comparable(self.known(converted)[0]))
                except _Undecided:
                    values.append(_Undecided)
            if edges and "" in values:
                # a resource's id or ARN, which a parent stack passes for a parameter, is
                # never empty: the usual "is this parameter set" test is decided
                return False, unique(inputs)
            if _Undecided in values:
                return None, unique(inputs)
            return values[0] == values[1], unique(inputs)
        outcomes = []
        inputs = ()
        for operand in argument:
            outcome, operand_inputs = self.decide(operand, line)
            outcomes.append(outcome)
            inputs += operand_inputs
        inputs = unique(inputs)
        if function == "Fn::Not":
            if len(outcomes) != 1:
                self.error(line, "Fn::Not needs one condition")
                return None, inputs
            return (None if outcomes[0] is None else not outcomes[0]), inputs
        if function == "Fn::And":
            if False in outcomes:
                return False, inputs
            return (True if None not in outcomes else None), inputs
        if function == "Fn::Or":
            if True in outcomes:
                return True, inputs
            return (False if None not in outcomes else None), inputs
        self.error(line, f"{function} cannot be used in a condition")
        return None, inputs


_HANDLERS = {
    "Ref": _TemplateLoader.ref,
    "Fn::GetAtt": _TemplateLoader.get_att,
    "Fn::Sub": _TemplateLoader.sub,
    "Fn::Join": _TemplateLoader.join,
    "Fn::If": _TemplateLoader.if_,
    "Fn::FindInMap": _TemplateLoader.find_in_map,
    "Fn::ImportValue": _TemplateLoader.import_value,
    "Fn::Select": _TemplateLoader.select,
}


def _base64(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("Fn::Base64 needs a string")
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def _split(value: Any) -> list[str]:
    delimiter, text = value
    if not isinstance(delimiter, str) or not isinstance(text, str):
        raise TypeError("Fn::Split needs [delimiter, string]")
    return text.split(delimiter)


def _cidr(value: Any) -> list[str]:
    block, count, bits = value
    import ipaddress  # Fn::Cidr only: keeps start-up light

    network = ipaddress.ip_network(str(block), strict=False)
    prefix = network.max_prefixlen - int(bits)
    count = int(count)
    if not 1 <= count <= 256:  # CloudFormation's own bounds; also keeps the loop below short
        raise ValueError(f"Fn::Cidr count {count} is not between 1 and 256")
    subnets = []
    for subnet in network.subnets(new_prefix=prefix):
        if len(subnets) == count:
            break
        subnets.append(str(subnet))
    return subnets


def _length(value: Any) -> int:
    if not isinstance(value, list):
        raise TypeError("Fn::Length needs a list")
    return len(value)


def _to_json_string(value: Any) -> str:
    """Compact JSON, as the AWS::LanguageExtensions transform writes it (``{"k":"v"}``)."""
    if not isinstance(value, (dict, list)):
        raise TypeError("Fn::ToJsonString needs a mapping or a list")
    return json.dumps(value, separators=(",", ":"))


def _region_union(a: Regions, b: Regions) -> Regions:
    if not a.outside and not b.outside:
        return Regions(a.names | b.names)
    if a.outside and b.outside:
        return Regions(a.names & b.names, True)
    inside, outside = (a, b) if b.outside else (b, a)
    return Regions(outside.names - inside.names, True)


def _region_intersection(a: Regions, b: Regions) -> Regions:
    if not a.outside and not b.outside:
        return Regions(a.names & b.names)
    if a.outside and b.outside:
        return Regions(a.names | b.names, True)
    inside, outside = (a, b) if b.outside else (b, a)
    return Regions(inside.names - outside.names)


# Functions whose argument is a list of a fixed length: another shape is an error whatever
# the branch, since no deployment could accept it.
_ARITY = {"Fn::Split": 2, "Fn::Cidr": 3}

_EVALUATORS = {
    "Fn::Base64": _base64,
    "Fn::Split": _split,
    "Fn::Cidr": _cidr,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json_string,
}


# Scalars a template value converts to themselves (strings without a dynamic reference).
_AS_WRITTEN = frozenset({str, int, float, bool, type(None)})


def _collapse(parts: list[Any]) -> Any:
    """Join adjacent literal parts; a plain string when every part is literal."""
    flat: list[Any] = []
    for part in parts:
        if isinstance(part, Template):
            flat.extend(part.parts)
        elif part is NO_VALUE:
            continue
        elif isinstance(part, bool):
            flat.append("true" if part else "false")
        elif isinstance(part, (int, float)):
            flat.append(str(part))
        elif isinstance(part, (dict, list)):
            flat.append(Unknown("a mapping or list used as text"))
        else:
            flat.append(part)
    merged: list[Any] = []
    for part in flat:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    if all(isinstance(part, str) for part in merged):
        return "".join(merged)
    if len(merged) == 1:  # "${Key.Arn}" is the edge itself, "{{resolve:...}}" the Unknown
        return merged[0]
    return Template(tuple(merged))


def _describe_text(value: Any) -> str:
    """A name as written, with ``${X}`` for the parts known only at deployment."""
    if isinstance(value, str):
        return value
    if isinstance(value, Template):
        return "".join(_describe_text(part) for part in value.parts)
    if isinstance(value, FromInputs) and len(value.inputs) == 1:
        return "${" + value.inputs[0].name + "}"
    if isinstance(value, Unknown) and value.reason in PSEUDO_PARAMETERS:
        return "${" + value.reason + "}"
    if isinstance(value, Ref):
        return "${" + value.target.address + ("." + value.attribute if value.attribute else "") + "}"
    return "${...}"


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _inputs_of(value: Any) -> tuple[Input, ...]:
    found: list[Input] = []

    def walk(item: Any, depth: int) -> None:
        if depth > 64:
            return
        if isinstance(item, FromInputs):
            found.extend(item.inputs)
            walk(item.value, depth + 1)
        elif isinstance(item, Conditional):
            found.extend(item.condition.inputs)
            walk(item.when_true, depth + 1)
            walk(item.when_false, depth + 1)
        elif isinstance(item, Template):
            for part in item.parts:
                walk(part, depth + 1)
        elif isinstance(item, dict):
            for v in item.values():
                walk(v, depth + 1)
        elif isinstance(item, list):
            for v in item:
                walk(v, depth + 1)

    walk(value, 0)
    return unique(tuple(found))



def _is_edge(value: Any) -> bool:
    """A reference to a resource (``Ref``, ``Fn::GetAtt``), through parameters or not."""
    while isinstance(value, FromInputs):
        value = value.value
    return isinstance(value, Ref)


def _as_list_if(value: Any, is_list: bool) -> Any:
    """A text the parent passes to a list parameter, split at its commas."""
    if not is_list:
        return value
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")] if value else []
    if isinstance(value, FromInputs) and isinstance(value.value, str):
        return FromInputs(_as_list_if(value.value, True), value.inputs)
    return value


def _unknown(reason: str, *arguments: Any) -> Any:
    """An ``Unknown`` that still names the parameters its arguments read, so a condition
    built on it (``Fn::Equals [!Select [0, !Split [",", !Ref P]], ""]``) reads ``P``."""
    inputs = unique(i for argument in arguments for i in _inputs_of(argument))
    return FromInputs(Unknown(reason), inputs) if inputs else Unknown(reason)


def _skips(metadata: dict) -> dict[str, str]:
    checkov = metadata.get("checkov")
    skips: dict[str, str] = {}
    if not isinstance(checkov, dict) or not isinstance(checkov.get("skip"), list):
        return skips
    for entry in checkov["skip"]:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            comment = entry.get("comment")
            skips[entry["id"]] = comment if isinstance(comment, str) else ""
    return skips


def _with_lines(translated: dict, original: Any) -> Mapping:
    """The translator's version of a resource with the original's lines where keys agree."""
    result = Mapping(translated)
    result.start_line = getattr(original, "start_line", 0)
    result.end_line = getattr(original, "end_line", 0)
    if isinstance(original, Mapping):
        result.key_lines = dict(original.key_lines)
        result.key_columns = dict(original.key_columns)
        properties = translated.get("Properties")
        original_properties = original.get("Properties")
        if isinstance(properties, dict) and isinstance(original_properties, Mapping):
            lined = Mapping(properties)
            lined.start_line = original_properties.start_line
            lined.end_line = original_properties.end_line
            lined.key_lines = {k: v for k, v in original_properties.key_lines.items() if k in properties}
            result["Properties"] = lined
    return result


def _generated_lines(resource: Resource, attributes: dict, sam_node: Any) -> dict[str, int]:
    """Lines for a generated resource's properties: the SAM property of the same name, or,
    for a resource made from one of the function's events, that event's properties."""
    properties = sam_node.get("Properties")
    if not isinstance(properties, Mapping):
        return {}
    lines = {k: properties.key_lines[k] for k in attributes if k in properties.key_lines}
    if resource.type == "AWS::IAM::Role" and "Policies" in properties.key_lines:
        for key in ("Policies", "ManagedPolicyArns"):
            if key in attributes:
                lines[key] = properties.key_lines["Policies"]
    events = properties.get("Events")
    if isinstance(events, Mapping) and resource.generated_from:
        for event_name, event in events.items():
            if resource.address != resource.generated_from + event_name or not isinstance(event, Mapping):
                continue
            event_line = events.key_lines[event_name]
            event_properties = event.get("Properties")
            event_lines = event_properties.key_lines if isinstance(event_properties, Mapping) else {}
            renamed = {"EventSourceArn": event_lines.get("Stream", event_lines.get("Queue"))}
            lines = {}
            for key in attributes:
                lines[key] = event_lines.get(key) or renamed.get(key) or event_line
    return lines
