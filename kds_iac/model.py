"""The one model every loader fills and every rule reads.

Loaders know file formats; rules know security. Between them sits this module: typed
resources with Terraform- or CloudFormation-native addresses, source locations, and
attribute values in which references are already edges (``Ref``) and anything that cannot
be known before deployment is explicit (``Unknown``, ``FromInputs``, ``Conditional``).
Nothing here knows AWS defaults; those live in ``kds_iac.views``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

TERRAFORM = "terraform"
TERRAFORM_PLAN = "terraform-plan"
CLOUDFORMATION = "cloudformation"


@dataclass(frozen=True)
class Location:
    """Where a block or attribute was written; lines are 1-based and inclusive."""

    file: str
    start_line: int
    end_line: int
    column: int = 1


@dataclass(frozen=True)
class Input:
    """A value the deployer chooses: a Terraform variable or a CloudFormation parameter.

    ``has_default`` separates "default is null/empty" from "no default at all".
    """

    kind: str  # "variable" or "parameter"
    name: str  # as written in the template: "var.kms_key_id", "KmsKeyArn"
    default: Any = None
    has_default: bool = False
    location: Optional[Location] = None

    def describe(self) -> str:
        if not self.has_default:
            return f"{self.name} (no default)"
        return f"{self.name} (default: {_render(self.default)})"


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be known before deployment (runtime attribute, import, SSM, ...)."""

    reason: str

    def __bool__(self) -> bool:  # an Unknown must never pass for a truthy setting
        return False


@dataclass(frozen=True)
class Encoded(Unknown):
    """An encoding, done at deployment, of a value the template does show.

    ``Fn::Base64`` of a ``Fn::Sub``, ``base64encode()`` of an interpolated heredoc: the
    encoded text is not known before deployment (so this is an ``Unknown``), but ``value``
    (a ``Template``, string or structure) is what gets encoded. ``encoding``: ``"base64"``.
    """

    encoding: str = "base64"
    value: Any = None


@dataclass(frozen=True, eq=False)
class Ref:
    """An edge to another resource of the same model (``!Ref``, ``!GetAtt``, ``aws_x.y.arn``)."""

    target: "Resource"
    attribute: Optional[str] = None

    def __repr__(self) -> str:
        suffix = f".{self.attribute}" if self.attribute else ""
        return f"Ref({self.target.address}{suffix})"


@dataclass(frozen=True)
class FromInputs:
    """A value that follows from inputs; ``value`` is what their defaults give.

    ``value`` may itself be ``Unknown`` (an input without default) or any other model value.
    """

    value: Any
    inputs: tuple[Input, ...]


@dataclass(frozen=True)
class Template:
    """A string assembled at deploy time (``Fn::Sub``, ``Fn::Join``, TF interpolation).

    ``parts`` are literal strings and model values (``Ref``, ``Unknown``, ``FromInputs``...),
    so an ARN such as ``arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}``
    keeps both its fixed text and its edge to the stream.
    """

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Condition:
    """A named CloudFormation condition (or Terraform conditional) with its default outcome.

    ``default`` is the outcome under input defaults, or ``None`` when it cannot be decided.
    """

    name: str
    default: Optional[bool]
    inputs: tuple[Input, ...] = ()


@dataclass(frozen=True)
class Conditional:
    """``Fn::If``: both branches are kept, with the condition that picks one."""

    condition: Condition
    when_true: Any
    when_false: Any


@dataclass(frozen=True)
class Diagnostic:
    """Something the scan could not read or check: a parse error, an unloaded module."""

    level: str  # "error" (input could not be read) or "info" (part of the input not checked)
    file: str
    line: int
    message: str
    column: int = 1


@dataclass(eq=False)
class Resource:
    """One resource (or data source) as the template declares it.

    ``address`` is Terraform's own (``module.events.aws_kinesis_stream.this[0]``) or the
    CloudFormation logical id. ``attributes`` holds plain JSON-like values and the wrappers
    above; a missing key means the template left the setting out (the AWS default applies).
    ``attribute_lines`` gives the line of a top-level attribute where the loader knows it.
    ``skips`` maps a rule or checkov id to the reason given in a suppression comment.
    """

    type: str
    address: str
    attributes: dict[str, Any]
    location: Location
    source_format: str
    attribute_lines: dict[str, int] = field(default_factory=dict)
    skips: dict[str, str] = field(default_factory=dict)
    condition: Optional[Condition] = None
    construct_path: Optional[str] = None  # CDK: Metadata.aws:cdk:path
    generated_from: Optional[str] = None  # SAM: the serverless resource that produced it
    # SAM: the serverless resource as written (type, attributes, lines, skips), shared by
    # everything it generated; not itself in ``Model.resources``. Findings about what it
    # generated sit on it, since that is what a person edits.
    origin: Optional["Resource"] = None
    module: str = ""  # Terraform module path ("" for the root module)
    unit: str = ""  # the Terraform module directory or template file it was loaded from

    def get(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    @property
    def is_data_source(self) -> bool:
        """A Terraform ``data`` block (``data.x.y``, ``module.m.data.x.y``): read, not created."""
        return ("." + self.address).find(f".data.{self.type}.") >= 0

    def line_of(self, name: str) -> int:
        """Line of a top-level attribute; a dotted setting (``StreamEncryption.KeyId``) gives
        the line of its top-level part. The block start when the loader does not know it."""
        return self.attribute_lines.get(name.split(".")[0], self.location.start_line)

    def __repr__(self) -> str:
        return f"Resource({self.type} {self.address} @ {self.location.file}:{self.location.start_line})"


@dataclass
class Model:
    """Everything scanned together: the scope of cross-resource rules."""

    resources: list[Resource] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)  # the paths the user pointed the scan at
    files: list[str] = field(default_factory=list)  # every file that was read
    # Files the user named one by one: a Terraform file is evaluated with its module
    # directory, but only what sits in the named files is reported.
    focus_files: set[str] = field(default_factory=set)
    # What a template exports: Terraform ``output`` blocks (``type`` "output", address
    # ``output.NAME`` or ``module.m.output.NAME``, attribute ``value``) and CloudFormation
    # ``Outputs`` (type "Output", address ``Outputs.NAME``, attribute ``Value``).
    outputs: list[Resource] = field(default_factory=list)

    def of_type(self, *types: str) -> Iterator[Resource]:
        wanted = set(types)
        return (r for r in self.resources if r.type in wanted)

    def extend(self, other: "Model") -> None:
        self.resources.extend(other.resources)
        self.outputs.extend(other.outputs)
        self.diagnostics.extend(other.diagnostics)
        self.files.extend(other.files)

    @classmethod
    def merge(cls, models: Iterable["Model"], scope: list[str]) -> "Model":
        merged = cls(scope=list(scope))
        for model in models:
            merged.extend(model)
        return merged


def unique(items: Iterable) -> tuple:
    """Items in first-seen order without repeats (inputs may be unhashable: lists, dicts)."""
    seen: list = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
