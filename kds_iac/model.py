"""The one model every loader fills and every rule reads.

Loaders know file formats; rules know security. Between them sits this module: typed
resources with Terraform- or CloudFormation-native addresses, source locations, and
attribute values in which references are already edges (``Ref``) and anything that cannot
be known before deployment is explicit (``Unknown``, ``FromInputs``, ``Conditional``).
Nothing here knows AWS defaults; those live in ``kds_iac.views``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar

from kds_iac.value import Value

_T = TypeVar("_T")

TERRAFORM = "terraform"
TERRAFORM_PLAN = "terraform-plan"
CLOUDFORMATION = "cloudformation"


class Location(Value):
    """Where a block or attribute was written; lines are 1-based and inclusive."""

    __slots__ = ("file", "start_line", "end_line", "column")

    def __init__(self, file: str, start_line: int, end_line: int, column: int = 1):
        self.file = file
        self.start_line = start_line
        self.end_line = end_line
        self.column = column


class Input(Value):
    """A value the deployer chooses: a Terraform variable or a CloudFormation parameter.

    ``has_default`` separates "default is null/empty" from "no default at all".
    """

    __slots__ = ("kind", "name", "default", "has_default", "location")

    def __init__(
        self, kind: str, name: str, default: Any = None, has_default: bool = False, location: Optional[Location] = None
    ):
        self.kind = kind  # "variable" or "parameter"
        self.name = name  # as written in the template: "var.kms_key_id", "KmsKeyArn"
        self.default = default
        self.has_default = has_default
        self.location = location

    def describe(self) -> str:
        if not self.has_default:
            return f"{self.name} (no default)"
        return f"{self.name} (default: {_render(self.default)})"


class Unknown(Value):
    """A value that cannot be known before deployment (runtime attribute, import, SSM, ...)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __bool__(self) -> bool:  # an Unknown must never pass for a truthy setting
        return False


class Encoded(Unknown):
    """An encoding, done at deployment, of a value the template does show.

    ``Fn::Base64`` of a ``Fn::Sub``, ``base64encode()`` of an interpolated heredoc: the
    encoded text is not known before deployment (so this is an ``Unknown``), but ``value``
    (a ``Template``, string or structure) is what gets encoded. ``encoding``: ``"base64"``.
    """

    __slots__ = ("encoding", "value")

    def __init__(self, reason: str, encoding: str = "base64", value: Any = None):
        super().__init__(reason)
        self.encoding = encoding
        self.value = value


class Ref:
    """An edge to another resource of the same model (``!Ref``, ``!GetAtt``, ``aws_x.y.arn``).

    Compared by identity: two edges are the same only if they are the same object.
    """

    __slots__ = ("target", "attribute")

    def __init__(self, target: "Resource", attribute: Optional[str] = None):
        self.target = target
        self.attribute = attribute

    def __repr__(self) -> str:
        suffix = f".{self.attribute}" if self.attribute else ""
        return f"Ref({self.target.address}{suffix})"


class FromInputs(Value):
    """A value that follows from inputs; ``value`` is what their defaults give.

    ``value`` may itself be ``Unknown`` (an input without default) or any other model value.
    """

    __slots__ = ("value", "inputs")

    def __init__(self, value: Any, inputs: tuple[Input, ...]):
        self.value = value
        self.inputs = inputs


class Template(Value):
    """A string assembled at deploy time (``Fn::Sub``, ``Fn::Join``, TF interpolation).

    ``parts`` are literal strings and model values (``Ref``, ``Unknown``, ``FromInputs``...),
    so an ARN such as ``arn:aws:kinesis:${AWS::Region}:${AWS::AccountId}:stream/${Stream}``
    keeps both its fixed text and its edge to the stream.
    """

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Any, ...]):
        self.parts = parts


class Regions(Value):
    """The deployment regions where a condition holds: ``names``, or with ``outside`` every
    region but ``names``. Only for a condition that reads nothing but the region."""

    __slots__ = ("names", "outside")

    def __init__(self, names: frozenset, outside: bool = False):
        self.names = names
        self.outside = outside


class Condition(Value):
    """A named CloudFormation condition (or Terraform conditional) with its default outcome.

    ``default`` is the outcome under input defaults, or ``None`` when it cannot be decided.
    ``regions``: where it holds, when it depends on the deployment region alone.
    """

    __slots__ = ("name", "default", "inputs", "regions")

    def __init__(
        self, name: str, default: Optional[bool], inputs: tuple[Input, ...] = (), regions: Optional[Regions] = None
    ):
        self.name = name
        self.default = default
        self.inputs = inputs
        self.regions = regions


class Conditional(Value):
    """``Fn::If``: both branches are kept, with the condition that picks one."""

    __slots__ = ("condition", "when_true", "when_false")

    def __init__(self, condition: Condition, when_true: Any, when_false: Any):
        self.condition = condition
        self.when_true = when_true
        self.when_false = when_false


class DiagnosticCode:
    """What kind of trouble a diagnostic reports: front-ends branch on this, never on the message."""

    PARSE = "parse"  # the syntax cannot be read (HCL, JSON or YAML)
    ENCODING = "encoding"  # the bytes are not text in the file's encoding
    SIZE = "size"  # past a limit: file bytes, nesting depth, digits of a number, alias expansion
    NOT_A_TEMPLATE = "not-a-template"  # named, but no Terraform, CloudFormation, plan or service
    NOT_FOUND = "not-found"  # the path the user named does not exist
    NOT_READ = "not-read"  # exists but is not read: cannot open, a FIFO, outside the tree, withheld
    INVALID = "invalid"  # read, but not a valid template or plan (its structure, a SAM transform)
    EVALUATION = "evaluation"  # an expression, intrinsic, var file or output does not evaluate
    NOT_CHECKED = "not-checked"  # a part left out on purpose (remote module, other provider, ...)
    INTERNAL = "internal"  # a bug in kds-iac


DIAGNOSTIC_CODES = frozenset(v for k, v in vars(DiagnosticCode).items() if k.isupper())


class Diagnostic(Value):
    """Something the scan could not read or check: a parse error, an unloaded module.

    ``code`` (one of ``DiagnosticCode``) is what front-ends branch on; the message is for people.
    Every diagnostic kds-iac makes passes one (tests/test_diagnostic_codes.py checks the source);
    equality leaves it out, so a test may compare diagnostics by place and wording alone.
    """

    __slots__ = ("level", "file", "line", "message", "column", "code")
    _not_compared = ("code",)

    def __init__(self, level: str, file: str, line: int, message: str, column: int = 1, *, code: Optional[str] = None):
        if code is not None and code not in DIAGNOSTIC_CODES:
            raise ValueError(f"unknown diagnostic code {code!r}")
        self.level = level  # "error" (input could not be read) or "info" (part of the input not checked)
        self.file = file
        self.line = line
        self.message = message
        self.column = column
        self.code = code


class Resource:
    """One resource (or data source) as the template declares it.

    ``address`` is Terraform's own (``module.events.aws_kinesis_stream.this[0]``) or the
    CloudFormation logical id. ``attributes`` holds plain JSON-like values and the wrappers
    above; a missing key means the template left the setting out (the AWS default applies).
    ``attribute_lines`` gives the line of a top-level attribute where the loader knows it.
    ``skips`` maps a rule or checkov id to the reason given in a suppression comment.
    """

    # A scan may hold a hundred thousand of them (the 10 MB template): no ``__dict__`` each.
    __slots__ = (
        "address", "attribute_lines", "attributes", "condition", "construct_path", "generated_from",
        "location", "module", "origin", "skips", "source_format", "type", "unit",
    )

    def __init__(
        self,
        type: str,
        address: str,
        attributes: dict[str, Any],
        location: Location,
        source_format: str,
        attribute_lines: Optional[dict[str, int]] = None,
        skips: Optional[dict[str, str]] = None,
        condition: Optional[Condition] = None,
        construct_path: Optional[str] = None,
        generated_from: Optional[str] = None,
        origin: Optional["Resource"] = None,
        module: str = "",
        unit: str = "",
    ):
        self.type = type
        self.address = address
        self.attributes = attributes
        self.location = location
        self.source_format = source_format
        self.attribute_lines = {} if attribute_lines is None else attribute_lines
        self.skips = {} if skips is None else skips
        self.condition = condition
        self.construct_path = construct_path  # CDK: Metadata.aws:cdk:path
        self.generated_from = generated_from  # SAM: the serverless resource that produced it
        # SAM: the serverless resource as written (type, attributes, lines, skips), shared by
        # everything it generated; not itself in ``Model.resources``. Findings about what it
        # generated sit on it, since that is what a person edits.
        self.origin = origin
        self.module = module  # Terraform module path ("" for the root module)
        self.unit = unit  # the Terraform module directory or template file it was loaded from

    def get(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    @property
    def is_data_source(self) -> bool:
        """A Terraform ``data`` block (``data.x.y``, ``module.m.data.x.y``): read, not created."""
        address = self.address
        if "data." not in address:  # most resources: no need to build the pattern
            return False
        return ("." + address).find(f".data.{self.type}.") >= 0

    def line_of(self, name: str) -> int:
        """Line of a top-level attribute; a dotted setting (``StreamEncryption.KeyId``) gives
        the line of its top-level part. The block start when the loader does not know it."""
        return self.attribute_lines.get(name.split(".")[0], self.location.start_line)

    def __repr__(self) -> str:
        return f"Resource({self.type} {self.address} @ {self.location.file}:{self.location.start_line})"


class Model:
    """Everything scanned together: the scope of cross-resource rules."""

    def __init__(
        self,
        resources: Optional[list[Resource]] = None,
        diagnostics: Optional[list[Diagnostic]] = None,
        scope: Optional[list[str]] = None,
        files: Optional[list[str]] = None,
        focus_files: Optional[set[str]] = None,
        outputs: Optional[list[Resource]] = None,
        uncreated: Optional[list[Resource]] = None,
        audit: Any = None,
    ):
        self.resources = [] if resources is None else resources
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.scope = [] if scope is None else scope  # the paths the user pointed the scan at
        self.files = [] if files is None else files  # every file that was read
        # Files the user named one by one: a Terraform file is evaluated with its module
        # directory, but only what sits in the named files is reported.
        self.focus_files = set() if focus_files is None else focus_files
        # What a template exports: Terraform ``output`` blocks (``type`` "output", address
        # ``output.NAME`` or ``module.m.output.NAME``, attribute ``value``) and CloudFormation
        # ``Outputs`` (type "Output", address ``Outputs.NAME``, attribute ``Value``).
        self.outputs = [] if outputs is None else outputs
        # Blocks written in a template that give no resource under input defaults: a Terraform
        # block whose ``count``/``for_each`` gives no instance. Not in ``resources`` (no rule
        # judges them); their ``condition`` names the meta-argument and the inputs that decide.
        self.uncreated = [] if uncreated is None else uncreated
        # The project's audit settings (``kds_iac.config.AuditSettings``) for rules that judge
        # the whole scope; ``None`` means the defaults. Set by the engine, not by loaders.
        self.audit = audit
        self._memos: dict[str, Any] = {}
        # ``of_type``'s index: the resources list it was built from, its length, type -> resources
        self._by_type: Optional[tuple[list, int, dict[str, list[Resource]]]] = None

    def memo(self, key: str, build: Callable[[], _T]) -> _T:
        """What ``build()`` returns, built once per model: the views' indexes and caches
        (``model.memo("streams", ...)``), so a view is computed once however many rules ask."""
        try:
            return self._memos[key]
        except KeyError:
            value = self._memos[key] = build()
            return value

    def of_type(self, *types: str) -> Iterator[Resource]:
        """Resources of ``types``, in the model's order. Views ask this dozens of times per
        scan: an index by type answers, rebuilt when resources were added or removed since
        (loaders only add; nothing replaces a resource in place)."""
        resources = self.resources
        index = self._by_type
        if index is None or index[0] is not resources or index[1] != len(resources):
            by_type: dict[str, list[Resource]] = {}
            for resource in resources:
                found = by_type.get(resource.type)
                if found is None:
                    by_type[resource.type] = [resource]
                else:
                    found.append(resource)
            index = self._by_type = (resources, len(resources), by_type)
        by_type = index[2]
        present = [by_type[t] for t in dict.fromkeys(types) if t in by_type]
        if len(present) == 1:
            return iter(present[0])
        if not present:
            return iter(())
        wanted = set(types)  # several types at once: the model's order decides
        return (r for r in resources if r.type in wanted)

    def extend(self, other: "Model") -> None:
        self.resources.extend(other.resources)
        self.outputs.extend(other.outputs)
        self.uncreated.extend(other.uncreated)
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
