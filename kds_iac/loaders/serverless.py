"""Load one Serverless Framework service (``serverless.yml``) into the model.

The framework turns a service into one CloudFormation stack; this module builds that stack's
template, as far as security is concerned, and hands it to the CloudFormation loader, so a
service is judged by the same code as any template:

* ``resources`` (a mapping, or a list of fragments; ``${file(./x.yml)}`` and
  ``${file(./x.yml):key}`` includes) gives ``Resources``, ``Conditions``, ``Parameters``,
  ``Mappings`` and ``Outputs``. A resource keeps its logical id as address and the lines where
  it is written (in the fragment file for an included one). Includes are read relative to the
  file that names them and only inside the scanned tree: an absolute path, one outside the tree
  or a missing file is an info note and its value is unknown.
* the framework's role, as the framework generates it: ``IamRoleLambdaExecution``, assumed by
  Lambda, shared by every function without a ``role`` of its own. Each statement of
  ``provider.iam.role.statements`` (older: ``provider.iamRoleStatements``) becomes a policy on
  that role whose address is the statement's path (``provider.iam.role.statements[2]``), so a
  finding points at the statement; ``managedPolicies`` (``provider.iamManagedPolicies``) are the
  role's managed policies. For each Kinesis ``stream`` event the role also gets the read
  statement the framework adds (``kinesis:GetRecords``, ``GetShardIterator``, ``DescribeStream``,
  ``ListStreams`` on the stream; with ``consumer``: ``GetRecords``, ``GetShardIterator``,
  ``DescribeStreamSummary``, ``ListShards`` on the stream and ``SubscribeToShard`` on the
  consumer).
* each function becomes an ``AWS::Lambda::Function`` (address ``functions.NAME``) with its role
  (the generated one, or ``role``/``provider.iam.role`` as a name, an ARN or the logical id of a
  role in ``resources``) and its environment (``provider.environment`` merged with its own);
  each Kinesis stream event an ``AWS::Lambda::EventSourceMapping`` (``functions.NAME.events[I]``)
  with the event's ``destinations.onFailure``.

Variables are resolved before that: ``${self:a.b}`` to what it names (through sections
included whole; a cycle is unknown); ``${opt:stage, 'dev'}``-style variables with a default
after the comma, ``${sls:stage}`` and ``${param:x}`` with ``params.default`` to an ``Input``
named as written (``opt:stage (default: "dev")``); ``opt:``, ``env:`` and ``param:`` without
default to an input without default; ``aws:region``/``aws:accountId`` to the pseudo parameters;
``ssm:``, ``cf:``, ``s3:`` and the rest to unknowns. Text around variables makes a ``Template``;
text and structures that variables repeat past fixed sizes are unknown. ``#{AWS::Region}``
(serverless-pseudo-parameters) is ``Fn::Sub``. Nothing is fetched and nothing is executed.

A name the template does not define (the framework's deployment bucket, log groups, API) is
unknown with an info note, not an error. ``# checkov:skip=ID:reason`` comments inside a
function or a role statement (or just above it) suppress as checkov's do.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from kds_iac.files import inside
from kds_iac.loaders import cfn_reader
from kds_iac.loaders.cfn_reader import Mapping, ReadError, Sequence
from kds_iac.loaders.serverless_sniff import SERVICE_FILE_NAMES, included_files, is_service_file  # noqa: F401
from kds_iac.model import Diagnostic, DiagnosticCode, FromInputs, Input, Location, Model, Template, Unknown

ROLE_ID = "IamRoleLambdaExecution"
MAX_DEPTH = 64  # variables resolving to variables, includes including includes
MAX_PARTS = 1000  # parts of one text assembled from variables
MAX_TEXT = 1_000_000  # characters of one text assembled from variables
MAX_VALUES = 200_000  # values in what one ${self:} names, its references expanded

# Variable sources the framework resolves; anything else in ${...} (CloudFormation's own
# ${AWS::Region} or ${Stream.Arn} inside Fn::Sub) is left as text.
_SOURCE = re.compile(r"^\s*(self|opt|env|sls|param|ssm|cf|s3|aws|file|git|strToBool)\b\s*[:(]")
_READ = ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListStreams")
_READ_WITH_CONSUMER = (
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
)


def load_service(path: str, root: Optional[str] = None) -> Model:
    """Load one service file; ``root`` bounds the includes (default: the file's directory).
    Never raises for bad content."""
    model = Model(files=[path])
    document = cfn_reader.read_reporting(path, model.diagnostics)
    if document is None:
        return model
    data = document.data
    if not isinstance(data, dict):
        model.diagnostics.append(Diagnostic("error", path, 1, "not a Serverless Framework service: the document is not a mapping",
                                               code=DiagnosticCode.NOT_A_TEMPLATE))
        return model
    provider = data.get("provider")
    name = provider.get("name") if isinstance(provider, dict) else provider
    if name != "aws" and not (isinstance(name, str) and "${" in name):
        model.diagnostics.append(
            Diagnostic("info", path, _line(data, "provider"), "Serverless Framework service for a provider other than aws; not checked",
                       code=DiagnosticCode.NOT_CHECKED)
        )
        return model
    service = _Service(path, root if root is not None else os.path.dirname(path) or ".", data, model)
    template, origins = service.build()
    from kds_iac.loaders import cloudformation

    loaded = Model(files=[path])
    loader = _service_loader(cloudformation)(path, template, loaded, _nesting(path, service.root))
    loader.service_files = {k: f for k, (_, f) in origins.items() if f != path}
    loader.load()
    for diagnostic in loaded.diagnostics:
        model.diagnostics.append(diagnostic)
    for resource in loaded.resources:
        address, file = origins.get(resource.address, (resource.address, path))
        resource.address = address
        if file != path:
            location = resource.location
            resource.location = Location(file, location.start_line, location.end_line, location.column)
        model.resources.append(resource)
    for output in loaded.outputs:
        _, file = origins.get(output.address, (output.address, path))
        if file != path:
            output.location = Location(file, output.location.start_line, output.location.end_line)
        model.outputs.append(output)
    model.files.extend(f for f in service.included if f not in model.files)
    _comment_skips([r for r in model.resources if r.address.startswith(("functions.", "provider."))])
    return model


_SKIP_COMMENT = re.compile(r"#[ \t]*(?:checkov|bridgecrew):skip=[ \t]*([A-Za-z0-9_-]+(?:,[A-Za-z0-9_-]+)*)(?::([^\n]*))?")


def _comment_skips(resources: list) -> None:
    """``# checkov:skip=CKV_KDS_12:reason`` written inside a function or a statement of the
    framework's role, or in the comment lines just above it: the scan honours it as checkov
    honours such comments in a function."""
    texts: dict[str, list[str]] = {}
    for resource in resources:
        file = resource.location.file
        if file not in texts:
            try:
                texts[file] = cfn_reader.decode(_read_bytes(file)).splitlines()
            except (OSError, ReadError):
                texts[file] = []
        start = resource.location.start_line - 1
        while start > 0 and texts[file][start - 1].lstrip().startswith("#"):  # comments just above
            start -= 1
        lines = texts[file][start : resource.location.end_line]
        for line in lines:
            if "skip=" not in line:
                continue
            for match in _SKIP_COMMENT.finditer(line):
                for rule_id in match.group(1).split(","):
                    resource.skips[rule_id] = (match.group(2) or "").strip()


def _read_bytes(path: str) -> bytes:
    from kds_iac import files

    return files.read_bytes(path)


def _nesting(path: str, root: str) -> Any:
    """Nested stacks of ``resources`` are read inside the scanned tree, as for a template."""
    try:
        from kds_iac.loaders import cfn_nested
    except ImportError:  # pragma: no cover - an older CloudFormation loader
        return None
    return cfn_nested.top(path, (root,))


_LOADER: Any = None


def _service_loader(cloudformation: Any) -> Any:
    """The CloudFormation template loader, told two things about a service: a resource written
    in a fragment is read with the fragment's name (its notes and errors point there), and a
    name the template does not define may be one the framework generates (its deployment bucket,
    log groups, API): unknown, with an info note, never a broken template."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER

    class ServiceTemplateLoader(cloudformation._TemplateLoader):
        service_files: dict = {}

        def _fill(self, resource: Any, entry: Any) -> None:
            file = self.service_files.get(resource.address)
            if file is None:
                return super()._fill(resource, entry)
            saved, self.path = self.path, file
            try:
                return super()._fill(resource, entry)
            finally:
                self.path = saved

        def missing(self, name: str, line: int, how: str) -> Unknown:
            self.info(line, f"{how} to {name}, which the service does not define (the framework may generate it); its value is not known")
            return Unknown(f"{name} is not defined in the service")

    _LOADER = ServiceTemplateLoader
    return _LOADER


def _line(node: Any, key: str, default: int = 1) -> int:
    if isinstance(node, Mapping):
        return node.key_lines.get(key, default)
    return default


def _start(node: Any, default: int) -> int:
    return getattr(node, "start_line", 0) or default


def _mapping(items: dict, start: int, end: int, lines: Optional[dict[str, int]] = None) -> Mapping:
    out = Mapping(items)
    out.start_line, out.end_line = start, end
    out.key_lines = dict(lines or {})
    for key in out:
        out.key_lines.setdefault(key, start)
    return out


def _like(original: Any, items: Any) -> Any:
    """``items`` with the lines of ``original`` (a resolved copy of a mapping or list)."""
    if isinstance(items, dict) and not isinstance(items, Mapping):
        out: Any = Mapping(items)
        if isinstance(original, Mapping):
            out.start_line, out.end_line = original.start_line, original.end_line
            out.key_lines = {k: v for k, v in original.key_lines.items() if k in items}
            out.key_columns = {k: v for k, v in original.key_columns.items() if k in items}
        return out
    if isinstance(items, list) and not isinstance(items, Sequence):
        out = Sequence(items)
        out.start_line = getattr(original, "start_line", 0)
        out.end_line = getattr(original, "end_line", 0)
        return out
    return items


class _Service:
    def __init__(self, path: str, root: str, data: Mapping, model: Model):
        self.path = path
        self.root = os.path.realpath(root)
        self.data = data
        self.model = model
        self.included: list[str] = []
        self.fragments: dict[str, Any] = {}  # include path -> parsed document (or Unknown)
        self.files: dict[int, str] = {}  # id() of a mapping read from a fragment -> its file
        self.resolving: list[str] = []  # ${self:} paths being resolved (cycle detection)
        self.self_cache: dict[str, Any] = {}
        self.sub_counter = 0

    # -- diagnostics -----------------------------------------------------------------------

    def info(self, line: int, message: str, file: Optional[str] = None, code: str = DiagnosticCode.NOT_CHECKED) -> None:
        self.model.diagnostics.append(Diagnostic("info", file or self.path, line, message, code=code))

    # -- variables -------------------------------------------------------------------------

    def resolve(self, value: Any, line: int, file: str, depth: int = 0) -> Any:
        """``value`` with every framework variable resolved (a copy that keeps lines)."""
        if depth > MAX_DEPTH:
            return Unknown("nested too deeply")
        if isinstance(value, dict):
            here = _start(value, line)
            file = self.files.get(id(value), file)
            if len(value) == 1 and "Fn::Sub" in value:
                return _like(value, {"Fn::Sub": self.sub(value["Fn::Sub"], here, file, depth)})
            lines = value.key_lines if isinstance(value, Mapping) else {}
            out = _like(value, {k: self.resolve(v, lines.get(k, here), file, depth + 1) for k, v in value.items()})
            if isinstance(out, Mapping):
                self.files[id(out)] = file
            return out
        if isinstance(value, list):
            here = _start(value, line)
            return _like(value, [self.resolve(v, here, file, depth + 1) for v in value])
        if isinstance(value, str) and "${" in value:
            value = self.text(value, line, file, depth)
        if isinstance(value, str) and "#{" in value and "}" in value:
            # the serverless-pseudo-parameters plugin: #{AWS::Region} is Fn::Sub's ${AWS::Region}
            return _mapping({"Fn::Sub": value.replace("${", "${!").replace("#{", "${")}, line, line)
        return value

    def text(self, text: str, line: int, file: str, depth: int) -> Any:
        parts = _split_variables(text)
        if len(parts) == 1 and isinstance(parts[0], _Variable):
            return self.variable(parts[0].inner, line, file, depth)
        values = [p if isinstance(p, str) else self.variable(p.inner, line, file, depth) for p in parts]
        return _join(values)

    def sub(self, argument: Any, line: int, file: str, depth: int) -> Any:
        """``Fn::Sub`` text whose framework variables resolve to something other than text:
        each becomes a Sub variable, so CloudFormation's own ``${X}`` keep their meaning."""
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], self.resolve(argument[1], line, file, depth + 1)
        elif isinstance(argument, str):
            text, variables = argument, None
        else:
            return self.resolve(argument, line, file, depth + 1)
        pieces: list[str] = []
        extra: dict[str, Any] = {}
        for part in _split_variables(text):
            if isinstance(part, str):
                pieces.append(part)
                continue
            if not _SOURCE.match(part.inner) and not part.inner.strip().startswith("${"):
                pieces.append("${" + part.inner + "}")  # CloudFormation's own ${Name} or ${AWS::Region}
                continue
            value = self.variable(part.inner, line, file, depth)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                pieces.append(str(value).replace("${", "${!"))
            else:
                self.sub_counter += 1
                name = f"ServerlessVariable{self.sub_counter}"
                extra[name] = value
                pieces.append("${" + name + "}")
        joined = "".join(pieces)
        if not extra and variables is None:
            return joined
        merged = dict(variables) if isinstance(variables, dict) else {}
        merged.update(extra)
        return [joined, _mapping(merged, line, line)]

    def variable(self, inner: str, line: int, file: str, depth: int) -> Any:
        """The value of ``${inner}``."""
        if depth > MAX_DEPTH:
            return Unknown(f"${{{inner}}} nests too deeply")
        if not _SOURCE.match(inner) and not inner.strip().startswith("${"):
            return "${" + inner + "}"  # CloudFormation's own (Fn::Sub), not the framework's
        choices = _split_top(inner, ",")
        source = choices[0].strip()
        if "${" in source:  # ${self:custom.${opt:stage}} : the address is itself variable
            address, inputs = _with_defaults(self.text(source, line, file, depth + 1))
            if not isinstance(address, str):
                return Unknown(f"${{{inner}}}: address known only at deployment")
            value = self.variable(address + "".join("," + c for c in choices[1:]), line, file, depth + 1)
            return FromInputs(value, inputs) if inputs else value
        value = self.source(source, line, file, depth)
        if value is not _MISSING:
            return value
        for fallback in choices[1:]:
            default = self.fallback(fallback.strip(), line, file, depth)
            if default is _MISSING:
                continue
            if source.startswith("self:"):
                return default
            return FromInputs(default, (Input(kind=source.split(":")[0], name=source, default=default, has_default=True),))
        if source.startswith(("opt:", "env:", "param:")):
            reason = f"${{{source}}} is set at deployment"
            return FromInputs(Unknown(reason), (Input(kind=source.split(":")[0], name=source),))
        if source.startswith("self:"):
            self.info(line, f"${{{source}}} names nothing in the service; its value is not known", file)
        return Unknown(f"${{{source}}} is resolved at deployment")

    def fallback(self, text: str, line: int, file: str, depth: int) -> Any:
        """A default after the comma: a literal, or another variable whose value is known."""
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return text[1:-1]
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1]
        if _SOURCE.match(text):
            value = self.source(text.strip(), line, file, depth)
            if value is _MISSING or isinstance(value, Unknown):
                return _MISSING
            return value
        return text

    def source(self, source: str, line: int, file: str, depth: int) -> Any:
        """What a source gives before defaults: a value, ``_MISSING`` (defaults apply)."""
        kind, _, address = source.partition(":")
        kind = kind.strip()
        if source.startswith("file("):
            return self.include(source, line, file, depth)
        if kind == "self":
            return self.self_value(address.strip(), line, depth)
        if kind == "sls" and address.strip() == "stage":
            return self.stage(line, file, depth)
        if kind == "param":  # a stage parameter: params.default gives the default
            params = self.data.get("params")
            defaults = params.get("default") if isinstance(params, dict) else None
            if isinstance(defaults, dict) and address.strip() in defaults:
                value = self.resolve(defaults[address.strip()], _line(defaults, address.strip(), line), self.path, depth + 1)
                return FromInputs(value, (Input(kind="param", name=source, default=value, has_default=True),))
            return _MISSING
        if kind == "aws":
            pseudo = {"region": "AWS::Region", "accountId": "AWS::AccountId"}.get(address.strip())
            return Unknown(pseudo or f"${{{source}}} is resolved at deployment")
        return _MISSING

    def stage(self, line: int, file: str, depth: int) -> Any:
        provider = self.data.get("provider")
        written = provider.get("stage") if isinstance(provider, dict) else None
        default: Any = "dev"
        if written is not None:
            default = self.resolve(written, line, file, depth + 1)
            if isinstance(default, FromInputs):
                return default
            if not isinstance(default, str):
                return Unknown("${sls:stage} is set at deployment")
        return FromInputs(default, (Input(kind="opt", name="opt:stage", default=default, has_default=True),))

    def self_value(self, address: str, line: int, depth: int) -> Any:
        if address in self.self_cache:
            return self.self_cache[address]
        if address in self.resolving:
            self.info(line, f"${{self:{address}}} refers to itself through {' -> '.join(self.resolving)}; its value is not known")
            return Unknown(f"${{self:{address}}} is circular")
        node: Any = self.data
        file = self.path
        where = line  # the line where the node reached so far is written
        self.resolving.append(address)
        try:
            for key in [k for k in address.split(".") if k]:
                if isinstance(node, str) and "${" in node:  # custom: ${file(./custom.yml)}
                    node = self.resolve(node, where, file, depth + 1)
                    file = self.files.get(id(node), file)
                if isinstance(node, dict) and key in node:
                    where = _line(node, key, where)
                    node = node[key]
                elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                    node = node[int(key)]
                elif isinstance(node, Unknown):
                    return node
                else:
                    return _MISSING
            if address == "service" and isinstance(node, dict) and "name" in node:
                node = node["name"]  # the older form: service: {name: orders}
            value = self.resolve(node, _start(node, where), file, depth + 1)
        finally:
            self.resolving.pop()
        if _expanded_size(value, {}) > MAX_VALUES:  # shared references repeat what they name
            value = Unknown(f"${{self:{address}}} is too large once its references are expanded")
        self.self_cache[address] = value
        return value

    def include(self, source: str, line: int, file: str, depth: int) -> Any:
        # no \s* beside the lazy name or before (.*): blanks either side of them made the
        # match cubic on a long run of spaces; strip() trims them instead
        match = re.match(r"file\(([^)]*)\)\s*(?::(.*))?\Z", source, re.S)
        if not match:
            return Unknown(f"${{{source}}} is not understood")
        target, key = match.group(1).strip().strip("'\""), (match.group(2) or "").strip()
        if not target or "${" in target:
            self.info(line, f"${{{source}}}: the file's name is known only at deployment; not read", file, DiagnosticCode.NOT_READ)
            return Unknown(f"${{{source}}}")
        if "\x00" in target:  # no file system takes it (and os.path.realpath raises)
            self.info(line, f"${{{source}}}: the file's name contains a NUL character; not read", file, DiagnosticCode.NOT_READ)
            return Unknown(f"${{{source}}}")
        if os.path.isabs(target):
            self.info(line, f"${{{source}}}: absolute paths are not read; what it includes is not checked", file, DiagnosticCode.NOT_READ)
            return Unknown(f"${{{source}}}")
        full = os.path.normpath(os.path.join(os.path.dirname(file), target))
        document = self.fragments.get(full)
        if document is None:
            real = os.path.realpath(full)
            problem = ""
            if not inside(real, (self.root,)):
                problem = f"{target} is outside the scanned tree; not read"
            elif not full.lower().endswith((".yml", ".yaml", ".json")):
                problem = "only YAML and JSON files are read (nothing is executed)"
            elif not os.path.isfile(full):
                problem = f"{target} does not exist; what it includes is not checked"
            if problem:  # noted once per file, however often it is named
                self.info(line, f"${{{source}}}: {problem}", file, DiagnosticCode.NOT_READ)
                self.fragments[full] = Unknown(f"${{{source}}}")
                return self.fragments[full]
            try:
                document = cfn_reader.read_file(full).data
            except ReadError as error:
                self.model.diagnostics.append(error.diagnostic(full))
                document = Unknown(f"{target} cannot be read")
            self.fragments[full] = document
            if full not in self.included:
                self.included.append(full)
        if isinstance(document, Unknown):
            return document
        if len(self.resolving) > MAX_DEPTH:
            return Unknown("includes nest too deeply")
        node: Any = document
        for part in [k for k in key.split(".") if k]:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                self.info(line, f"${{{source}}}: {target} has no {key}; its value is not known", file)
                return Unknown(f"${{{source}}}")
        marker = f"file({full})"
        if marker in self.resolving:
            self.info(line, f"${{{source}}}: {target} includes itself; what it includes is not checked", file)
            return Unknown(f"${{{source}}} is circular")
        self.resolving.append(marker)
        try:
            return self.resolve(node, _start(node, 1), full, depth + 1)
        finally:
            self.resolving.pop()

    # -- the stack ---------------------------------------------------------------------------

    def build(self) -> tuple[Mapping, dict[str, tuple[str, str]]]:
        """The CloudFormation template of the service and, per logical id, the address and
        file its findings go to."""
        data = self.data
        origins: dict[str, tuple[str, str]] = {}
        sections: dict[str, Mapping] = {}
        for section in ("Parameters", "Mappings", "Conditions", "Resources", "Outputs"):
            sections[section] = _mapping({}, 1, 1)
        resources_line = _line(data, "resources")
        raw = data.get("resources")
        if raw is not None:
            resolved = self.resolve(raw, resources_line, self.path)
            fragments = resolved if isinstance(resolved, list) else [resolved]
            for fragment in fragments:
                if not isinstance(fragment, dict):
                    if not isinstance(fragment, Unknown):
                        self.info(resources_line, "an entry of resources is not a mapping; not checked")
                    continue
                for section, target in sections.items():
                    part = fragment.get(section)
                    if not isinstance(part, dict):
                        continue
                    file = self.files.get(id(part), self.files.get(id(fragment), self.path))
                    for key, node in part.items():
                        if section == "Resources" and file != self.path and not _well_formed(node):
                            # reported here with the fragment's name; the template loader would
                            # name the service file
                            what = "is not a mapping" if not isinstance(node, dict) else "has no Type that is a string"
                            self.model.diagnostics.append(
                                Diagnostic("error", file, _line(part, key), f"resource {key} {what}", code=DiagnosticCode.INVALID)
                            )
                            continue
                        target[key] = node
                        target.key_lines[key] = _line(part, key)
                        if isinstance(part, Mapping) and key in part.key_columns:
                            target.key_columns[key] = part.key_columns[key]
                        if file != self.path and section in ("Resources", "Outputs"):
                            address = key if section == "Resources" else f"Outputs.{key}"
                            origins[address] = (address, file)
        self.framework(sections["Resources"], origins)
        template = _mapping({k: v for k, v in sections.items() if v or k == "Resources"}, 1, 1)
        return template, origins

    def framework(self, resources: Mapping, origins: dict[str, tuple[str, str]]) -> None:
        data = self.data
        provider = data.get("provider") if isinstance(data.get("provider"), dict) else _mapping({}, 1, 1)
        provider_line = _line(data, "provider")
        iam = provider.get("iam") if isinstance(provider.get("iam"), dict) else None
        role_setting: Any = None
        statements, statements_path, statements_node = None, "", None
        managed, managed_path, managed_line = None, "", 0
        role_path, role_node = "provider.iam.role", None
        if iam is not None:
            role = iam.get("role")
            if isinstance(role, dict):
                role_node = role
                statements_node = role.get("statements")
                statements, statements_path = statements_node, "provider.iam.role.statements"
                managed, managed_path = role.get("managedPolicies"), "provider.iam.role.managedPolicies"
                managed_line = _line(role, "managedPolicies")
            elif role is not None:
                role_setting = (role, _line(iam, "role"))
        if statements is None and "iamRoleStatements" in provider:
            statements_node = provider.get("iamRoleStatements")
            statements, statements_path = statements_node, "provider.iamRoleStatements"
            role_path = "provider.iamRoleStatements"
        if managed is None and "iamManagedPolicies" in provider:
            managed, managed_path = provider.get("iamManagedPolicies"), "provider.iamManagedPolicies"
            managed_line = _line(provider, "iamManagedPolicies")
            if role_path == "provider.iam.role" and role_node is None:
                role_path = "provider.iamManagedPolicies"
        if role_setting is None and "role" in provider:
            role_setting = (provider.get("role"), _line(provider, "role"))

        functions, function_files = self.functions(data)
        read_statements: list[dict] = []
        uses_generated = False
        environment = provider.get("environment")
        env_line = _line(provider, "environment", provider_line)
        for name, function in functions.items():
            if not isinstance(function, dict):
                continue
            line = _line(functions, name)
            end = getattr(function, "end_line", 0) or line
            logical = _normalized(name) + "LambdaFunction"
            own_role = ("role" in function) and function.get("role") is not None
            setting = (function.get("role"), _line(function, "role")) if own_role else role_setting
            properties: dict[str, Any] = {}
            lines: dict[str, int] = {}
            if setting is None:
                uses_generated = True
                properties["Role"] = _mapping({"Fn::GetAtt": [ROLE_ID, "Arn"]}, line, line)
                lines["Role"] = line
            else:
                properties["Role"] = self.role_value(setting[0], setting[1], resources)
                lines["Role"] = setting[1]
            variables = _mapping({}, env_line, env_line)
            for source, source_line in ((environment, env_line), (function.get("environment"), _line(function, "environment", line))):
                if source is None:
                    continue
                resolved = self.resolve(source, source_line, self.path)
                if isinstance(resolved, dict):
                    for key, value in resolved.items():
                        variables[key] = value
                        variables.key_lines[key] = _line(resolved, key, source_line)
                    lines["Environment"] = source_line
            if variables:
                properties["Environment"] = _mapping({"Variables": variables}, lines["Environment"], lines["Environment"])
            function_name = function.get("name")
            if function_name is not None:
                properties["FunctionName"] = self.resolve(function_name, _line(function, "name", line), self.path)
                lines["FunctionName"] = _line(function, "name", line)
            resources[logical] = _mapping(
                {"Type": "AWS::Lambda::Function", "Properties": _mapping(properties, line, end, lines)}, line, end
            )
            resources.key_lines[logical] = line
            file = function_files.get(name, self.path)
            origins[logical] = (f"functions.{name}", file)
            events = function.get("events")
            if isinstance(events, list):
                for index, event in enumerate(events):
                    self.stream_event(name, logical, index, event, line, resources, origins, read_statements, setting is None, file)

        written = statements is not None or managed is not None
        if written and not uses_generated and any(isinstance(f, dict) for f in functions.values()):
            # every function names its own role: the framework creates none for these
            where = _start(statements_node, managed_line or provider_line) if statements is not None else managed_line
            self.info(
                where or provider_line,
                f"{statements_path or managed_path}: every function has a role of its own, so the framework "
                "creates no role for these; not checked",
            )
        elif uses_generated or written:
            self.role(resources, origins, role_path, role_node, provider, provider_line, managed, managed_path, managed_line, read_statements)
            first_line = _start(statements_node, provider_line)
            for index, (statement, statement_line, end, file) in enumerate(self.statements(statements, first_line)):
                logical = f"{ROLE_ID}Statement{index}"
                document = _mapping({"Version": "2012-10-17", "Statement": [statement]}, statement_line, end)
                properties = _mapping(
                    {
                        "PolicyName": f"{statements_path}[{index}]",
                        "PolicyDocument": document,
                        "Roles": [_mapping({"Ref": ROLE_ID}, statement_line, statement_line)],
                    },
                    statement_line,
                    end,
                )
                resources[logical] = _mapping({"Type": "AWS::IAM::Policy", "Properties": properties}, statement_line, end)
                resources.key_lines[logical] = statement_line
                origins[logical] = (f"{statements_path}[{index}]", file)

    def statements(self, raw: Any, line: int) -> list[tuple[Any, int, int, str]]:
        """The role's statements, resolved, with their lines and file: the list may be an
        include (``${file(./iam.yml)}``) and its items includes of one statement or a list."""
        if raw is None:
            return []
        items = raw
        if not isinstance(raw, list):
            items = self.resolve(raw, line, self.path)
            if isinstance(items, Unknown):
                return []
            if not isinstance(items, list):
                self.info(line, "the role's statements are not a list; not checked")
                return []
        out: list[tuple[Any, int, int, str]] = []
        for item in items:
            here = _start(item, line)
            resolved = self.resolve(item, here, self.path)
            if isinstance(item, str) and isinstance(resolved, list):  # an include of several
                parts = resolved
            else:
                parts = [resolved]
            for part in parts:
                if isinstance(part, Unknown):
                    continue
                start = _start(part, here)
                end = getattr(part, "end_line", 0) or start
                out.append((part, start, end, self.files.get(id(part), self.path)))
        return out

    def functions(self, data: Any) -> tuple[Mapping, dict[str, str]]:
        """``functions`` as one mapping (it may be written as ``${file()}`` includes or a list
        of them) and the file each function is written in, when not the service file."""
        raw = data.get("functions")
        if isinstance(raw, dict):
            return raw, {}
        if raw is None:
            return _mapping({}, 1, 1), {}
        resolved = self.resolve(raw, _line(data, "functions"), self.path)
        merged, files = _mapping({}, 1, 1), {}
        for part in resolved if isinstance(resolved, list) else [resolved]:
            if not isinstance(part, dict):
                continue
            file = self.files.get(id(part), self.path)
            for name, function in part.items():
                merged[name] = function
                merged.key_lines[name] = _line(part, name)
                if file != self.path:
                    files[name] = file
        return merged, files

    def role(
        self,
        resources: Mapping,
        origins: dict,
        role_path: str,
        role_node: Any,
        provider: Any,
        provider_line: int,
        managed: Any,
        managed_path: str,
        managed_line: int,
        read_statements: list[dict],
    ) -> None:
        if isinstance(role_node, Mapping):
            start, end = role_node.start_line, role_node.end_line
        elif role_path == "provider.iamRoleStatements":
            start = _line(provider, "iamRoleStatements", provider_line)
            end = getattr(provider.get("iamRoleStatements"), "end_line", 0) or start
        elif role_path == "provider.iamManagedPolicies":
            start, end = managed_line, getattr(managed, "end_line", 0) or managed_line
        else:
            start, end = provider_line, getattr(provider, "end_line", 0) or provider_line
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}
            ],
        }
        properties: dict[str, Any] = {"AssumeRolePolicyDocument": trust}
        lines = {"AssumeRolePolicyDocument": start}
        if read_statements:
            properties["Policies"] = [
                {"PolicyName": "serverless-stream-events", "PolicyDocument": {"Version": "2012-10-17", "Statement": read_statements}}
            ]
            lines["Policies"] = start
        if managed is not None:
            resolved = self.resolve(managed, managed_line or start, self.path)
            properties["ManagedPolicyArns"] = resolved
            lines["ManagedPolicyArns"] = managed_line or start
        resources[ROLE_ID] = _mapping({"Type": "AWS::IAM::Role", "Properties": _mapping(properties, start, end, lines)}, start, end)
        resources.key_lines[ROLE_ID] = start
        origins[ROLE_ID] = (role_path, self.path)

    def role_value(self, raw: Any, line: int, resources: Mapping) -> Any:
        """A custom role as the framework reads it: a logical id of ``resources``, a name or an
        ARN (text), or an intrinsic."""
        value = self.resolve(raw, line, self.path)
        if isinstance(value, str) and ":" not in value and value in resources:
            return _mapping({"Fn::GetAtt": [value, "Arn"]}, line, line)
        return value

    def stream_event(
        self,
        function: str,
        function_id: str,
        index: int,
        event: Any,
        function_line: int,
        resources: Mapping,
        origins: dict,
        read_statements: list[dict],
        generated_role: bool,
        file: str,
    ) -> None:
        if not isinstance(event, dict) or "stream" not in event:
            return
        line = _start(event, function_line)
        end = getattr(event, "end_line", 0) or line
        stream = self.resolve(event["stream"], line, self.path)
        settings: Any = stream if isinstance(stream, dict) and not _is_intrinsic(stream) else {"arn": stream}
        arn = settings.get("arn")
        kind = settings.get("type")
        if kind is None:
            text = _text_of(arn)
            kind = "kinesis" if text is not None and ":kinesis:" in text else ("dynamodb" if text and ":dynamodb:" in text else None)
        if kind != "kinesis":
            return
        stream_lines = settings.key_lines if isinstance(settings, Mapping) else {}
        logical = f"{function_id}EventSourceMappingKinesis{index}"
        properties: dict[str, Any] = {"EventSourceArn": arn, "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]}}
        lines = {"EventSourceArn": stream_lines.get("arn", line), "FunctionName": line}
        consumer = settings.get("consumer")
        source_arn = arn
        if consumer is True:
            consumer_id = f"{function_id}KinesisConsumer{index}"
            consumer_props = {"StreamARN": arn, "ConsumerName": f"{function}-consumer-{index}"}
            resources[consumer_id] = _mapping(
                {"Type": "AWS::Kinesis::StreamConsumer", "Properties": _mapping(consumer_props, line, end)}, line, end
            )
            resources.key_lines[consumer_id] = line
            origins[consumer_id] = (f"functions.{function}.events[{index}].stream.consumer", file)
            source_arn = _mapping({"Ref": consumer_id}, line, line)
            properties["EventSourceArn"] = source_arn
        elif isinstance(consumer, (str, dict)):
            source_arn = consumer
            properties["EventSourceArn"] = consumer
        destinations = settings.get("destinations")
        if isinstance(destinations, dict) and "onFailure" in destinations:
            failure = destinations["onFailure"]
            target = failure.get("arn") if isinstance(failure, dict) and not _is_intrinsic(failure) else failure
            properties["DestinationConfig"] = {"OnFailure": {"Destination": target}}
            lines["DestinationConfig"] = _line(settings, "destinations", line)
        resources[logical] = _mapping(
            {"Type": "AWS::Lambda::EventSourceMapping", "Properties": _mapping(properties, line, end, lines)}, line, end
        )
        resources.key_lines[logical] = line
        origins[logical] = (f"functions.{function}.events[{index}]", file)
        if generated_role:
            if consumer:
                read_statements.append({"Effect": "Allow", "Action": list(_READ_WITH_CONSUMER), "Resource": [arn]})
                read_statements.append({"Effect": "Allow", "Action": ["kinesis:SubscribeToShard"], "Resource": [source_arn]})
            else:
                read_statements.append({"Effect": "Allow", "Action": list(_READ), "Resource": [arn]})


class _Variable:
    __slots__ = ("inner",)

    def __init__(self, inner: str):
        self.inner = inner


class _MissingType:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING = _MissingType()


def _split_variables(text: str) -> list[Any]:
    """Literal text and ``${...}`` variables (nested braces counted) of ``text``."""
    parts: list[Any] = []
    position = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            break
        depth, index = 0, start
        end = -1
        while index < len(text):
            if text.startswith("${", index):
                depth += 1
                index += 2
                continue
            if text[index] == "}":
                depth -= 1
                if depth == 0:
                    end = index
                    break
            index += 1
        if end < 0:
            break
        if start > position:
            parts.append(text[position:start])
        parts.append(_Variable(text[start + 2 : end]))
        position = end + 1
    if position < len(text):
        parts.append(text[position:])
    return parts or [""]


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside quotes and nested ``${}``."""
    out, current, depth, quote = [], [], 0, ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif text.startswith("${", index):
            depth += 1
            current.append("${")
            index += 2
            continue
        elif char == "}" and depth:
            depth -= 1
        elif char == separator and not depth:
            out.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    out.append("".join(current))
    return out


def _join(values: list[Any]) -> Any:
    """Text made of literal parts and resolved variables: a string, or a ``Template`` (inputs
    behind the parts are kept: ``FromInputs`` whose defaults are text stay parts)."""
    from kds_iac.loaders.cloudformation import _collapse

    size = sum(len(v.parts) if isinstance(v, Template) else 1 for v in values)
    text = sum(len(v) for v in values if isinstance(v, str))
    text += sum(len(p) for v in values if isinstance(v, Template) for p in v.parts if isinstance(p, str))
    if size > MAX_PARTS or text > MAX_TEXT:  # variables that repeat variables grow exponentially
        return Unknown("a text built from variables is too large to hold")
    parts: list[Any] = []
    for value in values:
        if isinstance(value, (dict, list)):
            parts.append(Unknown("a mapping or list used as text"))
        elif value is None:
            parts.append("null")
        else:
            parts.append(value)
    return _collapse(parts)


def _with_defaults(value: Any) -> tuple[Any, tuple]:
    """Text that inputs' defaults make known: the text and the inputs behind it."""
    if isinstance(value, FromInputs) and isinstance(value.value, str):
        return value.value, value.inputs
    if isinstance(value, Template):
        texts, inputs = [], []
        for part in value.parts:
            text, behind = _with_defaults(part)
            if not isinstance(text, str):
                return value, ()
            texts.append(text)
            inputs.extend(i for i in behind if i not in inputs)
        return "".join(texts), tuple(inputs)
    return value, ()


def _expanded_size(value: Any, memo: dict[int, int]) -> int:
    """How many values ``value`` holds once shared parts are counted each time they appear
    (linear in the distinct parts: each is counted once and remembered)."""
    if not isinstance(value, (dict, list)):
        return 1
    key = id(value)
    if key not in memo:
        memo[key] = 1 + sum(_expanded_size(v, memo) for v in (value.values() if isinstance(value, dict) else value))
    return memo[key]


def _well_formed(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("Type"), str)


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _text_of(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, FromInputs):
        return _text_of(value.value)
    if isinstance(value, Template):
        return "".join(p if isinstance(p, str) else "*" for p in value.parts)
    return None


def _normalized(name: str) -> str:
    """The framework's normalized function name (``my-fn_x`` -> ``MyDashfnUnderscorex``)."""
    text = name[:1].upper() + name[1:]
    return text.replace("-", "Dash").replace("_", "Underscore")
