"""From tfparse's evaluated blocks to model values, with the inputs each value came from.

tfparse (trivy's Terraform evaluator) substitutes variable defaults, locals and module
arguments, and writes a reference to another block as that block's uuid. This module turns
its output into model values:

- a uuid of a resource or data block becomes ``Ref(resource)``; a uuid inside a string
  becomes a ``Template`` part (a JSON string, e.g. ``jsonencode(...)`` or a heredoc policy,
  is decoded into a mapping so the edges inside it survive);
- an unevaluated reference ``{"__attribute__": "aws_kms_key.k.key_id"}`` becomes
  ``Ref(resource, "key_id")`` when the resource is in the model, else ``Unknown``;
- an unresolved input ``var.x`` becomes ``FromInputs(Unknown(...), (Input(var.x),))``;
- each attribute is wrapped in ``FromInputs(value, inputs)`` naming the variables its
  expression reads, directly, through locals, through module call arguments and through
  module outputs, because tfparse substitutes defaults silently.

A reference to a variable whose default is ``null`` comes back from tfparse unevaluated; it
becomes ``FromInputs(None, (input,))``: the setting is unset under the defaults. A value that
reads a variable with no value at all (no default, no tfvars) is ``Unknown`` inside its
``FromInputs``, because tfparse evaluates such expressions to null or to text. When
``count``/``for_each`` (of the resource or of an enclosing module call) reads inputs,
``Resource.condition`` names that expression, its inputs and whether the instance exists
under the defaults (``None``: tfparse could not tell and made one instance).

Inputs are named as a deployer knows them: ``var.NAME`` for a variable of the root module
(its ``default`` is the value the scan used: a tfvars file, ``-var`` or the declared
default); ``module.events.var.NAME`` for a variable of a child module that the module call
leaves at its declared default. A child variable the call sets is not an input of its own:
the inputs of the call's argument expression (resolved in the calling module) stand for it.

The expressions are read from the source text (tfparse gives values, not expressions): a
small HCL scanner (``kds_iac.loaders.hcl_syntax``) masks strings and comments (keeping ``${...}`` interpolations, which are
code) so that attributes, nested blocks and references can be found by linear scans (no
regex here may backtrack over template text).

File functions read only inside the scanned tree (``Evaluation._allowed_directories``,
``kds_iac.loaders.terraform_files``):
tfparse reads wherever a path points, so what it evaluated from a call that may read
elsewhere is withheld (``Unknown``, with an info note naming the call).
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import re
from typing import Any, Callable, Optional

from kds_iac.files import inside
from kds_iac.model import (
    TERRAFORM,
    Condition,
    Diagnostic,
    DiagnosticCode,
    FromInputs,
    Input,
    Location,
    Ref,
    Resource,
    Template,
    Unknown,
    unique,
)
from kds_iac.loaders.hcl_syntax import Body, Item, SourceFile, references
from kds_iac.loaders.terraform_files import WITHHELD, FileCache, file_reading_calls, read_limited, real_directories
from kds_iac.loaders.terraform_expr import collapse, read_expression, starts_with_fallback_call
from kds_iac.value import Value

# ---------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------

_MODULE_SEGMENT = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])?')
_RESOURCE_REF = re.compile(r"^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(\[[^\]]*\])?(?:\.(.+))?$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# base64 text: with a length that is a multiple of 4 (checked apart), the same as groups of four
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_EMBEDDED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\$\{([^{}]*)\}")
_LOOKS_LIKE_REF = re.compile(
    r"(?<![\w.])(?:var|local|module|data|each|count|path|self)\.[A-Za-z_]"
    r"|(?<![\w.])[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_]"
)
_WHOLE_REF = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[[^\]]*\])+$")


def split_module_path(path: str) -> tuple[str, str]:
    """``module.a["k"].module.b.aws_x.y`` -> (``module.a["k"].module.b``, ``aws_x.y``).

    For a module call's own path (``module.a.module.b``) this gives (parent, ``module.b``).
    """
    pos = 0
    module_end = 0
    while True:
        match = _MODULE_SEGMENT.match(path, pos)
        if not match or match.end() >= len(path) or path[match.end()] != ".":
            break
        module_end = match.end()
        pos = module_end + 1
    return path[:module_end], path[pos:]


def call_name(path: str) -> str:
    """``module.a.module.b["k"]`` -> ``b``."""
    _, own = split_module_path(path)
    match = _MODULE_SEGMENT.match(own)
    return match.group(1) if match else own


# ---------------------------------------------------------------------------------------
# Evaluation: tfparse blocks -> resources with values and inputs
# ---------------------------------------------------------------------------------------

_META_KEYS = ("id", "__tfmeta")
# Resources that upload the local file their ``source`` names (see ``_uploaded_content``).
UPLOADED_FILE_TYPES = ("aws_s3_object", "aws_s3_bucket_object")
_TOP_LEVEL_DROPPED = ("count", "for_each")
_MAX_DEPTH = 12
_NO_JSON = object()


class Assigned(Value):
    """A root variable set outside its declaration (tfvars file or ``-var``)."""

    __slots__ = ("value", "source")

    def __init__(self, value: Any, source: str):
        self.value = value
        self.source = source


class Evaluation:
    """Index of one tfparse result and the conversions that need it."""

    def __init__(
        self,
        directory: str,
        raw: dict,
        files: "FileCache",
        assigned: Optional[dict[str, Assigned]] = None,
        *,
        mirrored: bool = False,
    ):
        self.directory = directory
        # ``raw`` comes from a copy of the tree elsewhere (terraform_gates), where a relative
        # path with ".." leads to other files: every file read is redone here, confined
        self.mirrored = mirrored
        self.files = files
        self.assigned = assigned or {}
        self.ids: dict[str, dict] = {}
        self.resource_of_id: dict[str, Resource] = {}
        self.blocks: list[tuple[dict, Resource]] = []
        self.by_address: dict[str, Resource] = {}
        self.instances: dict[str, list[Resource]] = {}
        self.variables: dict[tuple[str, str], dict] = {}
        self.module_calls: dict[str, dict] = {}
        self.locals: dict[tuple[str, str], tuple[SourceFile, Item]] = {}
        self.outputs: dict[tuple[str, str], tuple[SourceFile, Item]] = {}
        self.loaded_modules: set[str] = set()
        self.filenames: set[str] = set()
        self.modules_of_file: dict[str, set[str]] = {}  # module instances with blocks in a file
        self.relative_paths: dict[str, str] = {}  # a resource's file -> relative to ``directory`` (gates)
        self.failures: list[tuple[Resource, str]] = []  # resources that could not be converted
        self._locals_blocks: list[tuple[str, dict]] = []
        self._output_blocks: list[tuple[str, str, dict]] = []
        self._text_indexed = False
        self._memo: dict[tuple, tuple[Input, ...]] = {}
        self._active: set[tuple] = set()
        self._allowed: Optional[tuple[str, ...]] = None  # file reads: see _allowed_directories
        self._unconfined: Optional[dict[str, list[int]]] = None
        self._notes: list[Diagnostic] = []
        self._taint_memo: dict[tuple, bool] = {}
        self._taint_active: set[tuple] = set()
        self._withheld_modules: dict[str, str] = {}
        self._withheld_labels: dict[tuple, dict[str, str]] = {}
        self._index(raw)

    # -- indexing ----------------------------------------------------------------------

    def _index(self, raw: dict) -> None:
        for key, blocks in raw.items():
            if not isinstance(blocks, list):
                continue
            for block in blocks:
                if not isinstance(block, dict):
                    continue
                meta = block.get("__tfmeta") or {}
                path = meta.get("path") or ""
                block_id = block.get("id")
                if isinstance(block_id, str):
                    self.ids[block_id] = block
                filename = meta.get("filename")
                module, own = split_module_path(path)
                if filename:
                    self.filenames.add(filename)
                    self.modules_of_file.setdefault(filename, set()).add(module)
                self._mark_loaded(module)
                kind = meta.get("type")
                if kind in ("resource", "data"):
                    self._add_resource(key, block, meta, path, module)
                elif key == "provider":
                    self._add_provider(block, meta, module)
                elif key == "variable":
                    self.variables[(module, own.split(".", 1)[-1])] = block
                elif key == "module" and own.startswith("module."):
                    self.module_calls[path] = block
                elif key == "locals":
                    self._locals_blocks.append((module, block))
                elif key == "output":
                    self._output_blocks.append((module, own.split(".", 1)[-1], block))

    def _mark_loaded(self, module: str) -> None:
        while module and module not in self.loaded_modules:
            self.loaded_modules.add(module)
            module, _ = split_module_path(module)

    def _add_resource(self, type_: str, block: dict, meta: dict, path: str, module: str) -> None:
        location = self._block_location(meta)
        resource = Resource(
            type=type_,
            address=path,
            attributes={},
            location=location,
            source_format=TERRAFORM,
            module=module,
            unit=self.directory,
        )
        self.blocks.append((block, resource))
        self.by_address[path] = resource
        base = path.rsplit("[", 1)[0] if path.endswith("]") else path
        self.instances.setdefault(base, []).append(resource)
        if isinstance(block.get("id"), str):
            self.resource_of_id[block["id"]] = resource

    def _add_provider(self, block: dict, meta: dict, module: str) -> None:
        """A ``provider`` block as a resource of type ``provider.<name>`` (``provider.aws``),
        addressed ``provider.aws`` or ``provider.aws.<alias>`` (in a module:
        ``module.m.provider.aws``). Only its attributes are read (credentials written into
        it); nothing refers to it by edge."""
        name = meta.get("label") or "unknown"
        alias = block.get("alias")
        address = f"provider.{name}" + (f".{alias}" if isinstance(alias, str) and alias else "")
        resource = Resource(
            type=f"provider.{name}",
            address=f"{module}.{address}" if module else address,
            attributes={},
            location=self._block_location(meta),
            source_format=TERRAFORM,
            module=module,
            unit=self.directory,
        )
        self.blocks.append((block, resource))

    def _lazy_text_index(self) -> None:
        """Locals and outputs by name, from the source text (done on first need)."""
        if self._text_indexed:
            return
        self._text_indexed = True
        for module, block in self._locals_blocks:
            found = self._body(block)
            if found:
                source, body = found
                for item in body.items:
                    self.locals.setdefault((module, item.name), (source, item))
        for module, name, block in self._output_blocks:
            found = self._body(block)
            if found:
                source, body = found
                item = body.attribute("value")
                if item is not None:
                    self.outputs[(module, name)] = (source, item)

    def _body(self, block: dict) -> Optional[tuple[SourceFile, Body]]:
        meta = block.get("__tfmeta") or {}
        source = self.files.get(meta.get("filename", ""))
        if source is None or not meta.get("line_start"):
            return None
        path = meta.get("path") or ""
        _, own = split_module_path(path)
        name = own.split("[", 1)[0].rsplit(".", 1)[-1]
        body = source.block(int(meta["line_start"]), name)
        return (source, body) if body is not None else None

    # -- resources ---------------------------------------------------------------------

    def resources(self, keep: Optional[Callable[[Resource], bool]] = None) -> list[Resource]:
        """Every resource and data source (those ``keep`` accepts) with converted attributes,
        lines, skips, inputs."""
        self._lazy_text_index()
        out = []
        for block, resource in self.blocks:
            if keep is not None and not keep(resource):
                continue
            try:
                self._fill(block, resource)
            except Exception as error:  # one odd block must not cost the whole module
                self.failures.append((resource, f"{type(error).__name__}: {error}"))
                continue
            out.append(resource)
        return out

    def output_values(self) -> list[Resource]:
        """``output`` blocks as ``Model.outputs``: type ``output``, attribute ``value``."""
        self._lazy_text_index()
        out = []
        for module, name, block in self._output_blocks:
            meta = block.get("__tfmeta") or {}
            module = self._withheld_module(module)
            address = f"{module}.output.{name}" if module else f"output.{name}"
            try:
                value = self.convert(block.get("value"), module)
            except Exception as error:  # an odd output must not cost the module
                self._notes.append(
                    Diagnostic(
                        "info",
                        self.files.path_of(meta.get("filename", "")),
                        int(meta.get("line_start") or 0),
                        f"{address}: its value could not be read ({type(error).__name__}); not checked",
                        code=DiagnosticCode.EVALUATION,
                    )
                )
                continue
            output = Resource(
                type="output",
                address=address,
                attributes={"value": value, "sensitive": block.get("sensitive") is True},
                location=self._block_location(meta),
                source_format=TERRAFORM,
                module=module,
                unit=self.directory,
            )
            found = self.outputs.get((module, name))
            if found is not None:
                output.attribute_lines["value"] = found[0].line_of(found[1].offset)
                if _has_null(value) and not found[0].is_json:
                    refs = self._references_only(found[0].expression(found[1]), module)
                    if refs is not None:
                        output.attributes["value"] = refs
                if self._reads_unconfined(module, found[0], found[1].start, found[1].end):
                    output.attributes["value"] = Unknown(WITHHELD)
            out.append(output)
        return out

    def _fill(self, block: dict, resource: Resource) -> None:
        found = self._body(block)
        source, body = found if found else (None, None)
        resource.attributes = self._convert_body(block, resource.module, body, top=True)
        self._confine(block, resource.module, body, resource.attributes)
        if body is not None:
            for name in resource.attributes:
                line = body.line_of(name)
                if line is not None:
                    resource.attribute_lines[name] = line
            resource.condition = self._condition(block, resource, body)
        if source is not None:
            resource.skips = source.skips(resource.location.start_line, resource.location.end_line)
        if resource.type in UPLOADED_FILE_TYPES and body is not None:
            self._uploaded_content(resource, body)
        self._withhold_keys(resource, found)

    def _uploaded_content(self, resource: Resource, body: Body) -> None:
        """The file an S3 object's ``source`` names is what Terraform uploads: its text goes
        into ``content`` (which excludes ``source`` in the provider), read like ``file()``:
        inside the allowed directories only, else ``Unknown`` with the reason."""
        item = body.attribute("source")
        attributes = resource.attributes
        if item is None or body.source.is_json or "content" in attributes or "content_base64" in attributes:
            return
        raw = body.source.source_text(item).strip()
        real = self._file_path(raw, body.source)
        path = attributes.get("source")
        path = path.value if isinstance(path, FromInputs) else path
        if real is None and isinstance(path, str) and not self._outside(raw, body.source):
            real = self._file_path(f'"{path}"', body.source)  # a path from a variable or local
        if real is None:
            where = "is outside the scanned tree" if self._outside(raw, body.source) else "cannot be read"
            content: Any = Unknown(f"source: {_shown(raw)} {where}; not read")
        else:
            content = read_limited(real, "source", os.path.basename(real))
            if not isinstance(content, Unknown):
                content = content.decode("utf-8", errors="replace")
        attributes["content"] = content
        resource.attribute_lines["content"] = body.line_of("source") or resource.location.start_line

    def _convert_body(self, raw: dict, module: str, body: Optional[Body], top: bool) -> dict:
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if name in _META_KEYS or (top and name in _TOP_LEVEL_DROPPED):
                continue
            if top and name == "provider" and isinstance(value, dict) and "__attribute__" in value:
                out[name] = str(value["__attribute__"])  # the meta-argument: "aws.west", a name
                continue
            if _is_block(value) or (isinstance(value, list) and value and all(_is_block(v) for v in value)):
                blocks = value if isinstance(value, list) else [value]
                converted = [self._convert_nested(b, module, body) for b in blocks]
                out[name] = converted if isinstance(value, list) else converted[0]
                continue
            converted_value = self.convert(value, module)
            item = body.attribute(name) if body is not None else None
            if item is not None:
                source = body.source
                masked = source.expression(item)  # read once: the checks below all need it
                if not source.is_json:
                    if value is None:
                        read = self._file_function(source, item, module)
                        if read is None:
                            read = self._source_expression(source, item, module)
                        if read is not None:
                            converted_value = read
                    elif self._lost_parts(value, masked):
                        read = self._source_expression(source, item, module)
                        if read is not None:
                            converted_value = read
                    if _has_null(converted_value):
                        refs = self._references_only(masked, module)
                        if refs is not None:
                            converted_value = refs
                inputs = self.inputs_of_expression(module, masked)
                converted_value = self._with_inputs(converted_value, inputs)
            out[name] = converted_value
        return out

    # -- references tfparse evaluated to null ---------------------------------------------

    def _references_only(self, masked: str, module: str) -> Optional[Any]:
        """An expression that is only references (``aws_iam_user.u[0].name``, a splat
        ``aws_iam_access_key.k.*.secret``, or a list of them) as edges, when tfparse
        evaluated it to null (an attribute of a resource that is only known once deployed,
        such as a name built from inputs without value); ``None`` for any other expression."""
        text = masked.strip()
        listed = text.startswith("[") and text.endswith("]")
        items = [t.strip() for t in text[1:-1].split(",")] if listed else [text]
        items = [t for t in items if t]
        if not items or not all(_REFERENCE_ONLY.match(t) for t in items):
            return None
        out: list[Any] = []
        for item in items:
            splat = _SPLAT.search(item)
            if splat:
                listed = True  # a splat gives a list, whatever its length
                base = item[: splat.start()]
                attribute = item[splat.end() :].lstrip(".") or None
                prefix = f"{module}." if module else ""
                instances = self.instances.get(prefix + base, [])
                if not instances:
                    return None
                out.extend(Ref(r, attribute) for r in instances)
            else:
                found = self._marker(item, module)
                if not isinstance(found, Ref):
                    return None
                out.append(found)
        if listed or len(out) != 1:
            return out
        return out[0]

    # -- file() and templatefile(), which tfparse leaves null ----------------------------

    def _file_function(self, source: "SourceFile", item: Item, module: str) -> Any:
        """``file(PATH)`` / ``templatefile(PATH, VARS)`` of a file of the module, read here.

        tfparse evaluates neither when the file is missing or the function is
        ``templatefile``. The path may use ``path.module``/``path.root``/``path.cwd``; the
        file must lie inside the allowed directories (``_allowed_directories``). Template
        variables that are literals, resource references or variables keep their values
        (``${stream_arn}`` of ``{ stream_arn = aws_kinesis_stream.s.arn }`` becomes that
        edge); anything else, and template directives (``%{ for }``), are unknown.
        """
        masked = source.expression(item)
        call = _FILE_CALL.match(masked)
        if not call:
            return None
        function = call.group(1)
        close = _closing_paren(masked, call.end())
        if close is None or masked[close + 1 :].strip():
            return None  # the call is part of a larger expression
        arguments = _split_top_level(masked, call.end(), close)
        if not arguments or (function == "templatefile") != (len(arguments) == 2):
            return None
        text = source.source_text(item)  # the spans above are offsets in the expression
        raw_path = text[arguments[0][0] : arguments[0][1]].strip()
        path = self._file_path(raw_path, source)
        if path is None:
            if self._outside(raw_path, source):
                return Unknown(f"{function}(): {_shown(raw_path[1:-1])} is outside the scanned tree; not read")
            return Unknown(f"{function}() of a path known only at deployment")
        content = read_limited(path, function, os.path.basename(path))
        if isinstance(content, Unknown):
            return content
        content_text = content.decode("utf-8", errors="replace")
        if function == "file":
            return self._decoded(content_text, {}, module)
        variables = self._template_variables(masked, text, arguments[1], module)
        if variables is None:
            return Unknown("templatefile() variables could not be evaluated")
        if "%{" in content_text.replace("%%{", ""):
            return Unknown(f"templatefile(): {os.path.basename(path)} uses template directives")
        return self._decoded(content_text, variables, module)

    def _file_path(self, raw: str, source: "SourceFile") -> Optional[str]:
        """The file a path literal names, when it exists inside the allowed directories."""
        real = self._literal_path(raw, source)
        if real is None or not inside(real, self._allowed_directories()):
            return None
        return real if os.path.isfile(real) else None

    def _outside(self, raw: str, source: "SourceFile") -> bool:
        real = self._literal_path(raw, source)
        return real is not None and not inside(real, self._allowed_directories())

    def _literal_path(self, raw: str, source: "SourceFile") -> Optional[str]:
        """The real path (symlinks followed) that a string literal names, or ``None`` for any
        other expression. ``${path.module}``, ``${path.root}`` and ``${path.cwd}`` may start it;
        a relative path is read from the root module's directory, as Terraform reads it."""
        if not (len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"'):
            return None
        module_dir = os.path.dirname(source.path)
        text = raw[1:-1]
        anchored = False  # starts from path.module/root/cwd (a path as this process sees it)
        for name, value in (("path.module", module_dir), ("path.root", self.directory), ("path.cwd", self.directory)):
            text, count = re.subn(r"\$\{\s*" + re.escape(name) + r"\s*\}", lambda _m, v=value: v, text)
            anchored = anchored or count > 0
        if "${" in text or "%{" in text or "\\" in text:
            return None
        path = text if os.path.isabs(text) or anchored else os.path.join(self.directory, text)
        return os.path.realpath(path)

    # -- file reads confined to the scanned tree ------------------------------------------
    #
    # tfparse evaluates file(), fileset(), filemd5()... itself, wherever the path points
    # (``../../x``, an absolute path, a symlink). File functions may read only inside the
    # allowed directories (_allowed_directories). Every other call is an info note, and what
    # tfparse evaluated from it is withheld: an attribute, local, output or variable default
    # whose expression reaches such a call (directly, or through locals, variables, module
    # arguments and outputs) becomes Unknown. The same rule holds for this module's own reads
    # (_file_path).

    def confinement_notes(self) -> list[Diagnostic]:
        """One info note per file-reading call that is not read (see above), and per output whose
        value could not be read (``output_values``)."""
        self._unconfined_calls()
        return list(self._notes)

    def _allowed_directories(self) -> tuple[str, ...]:
        """The scan roots and the module's directory (``FileCache.roots``), and the directory
        of every module whose files tfparse evaluated: local modules (a ``source`` may point
        outside a named subdirectory) and those ``terraform init`` installed."""
        if self._allowed is None:
            loaded = (os.path.dirname(self.files.path_of(name)) for name in sorted(self.filenames))
            self._allowed = real_directories([*self.files.roots, *loaded])
        return self._allowed

    def _unconfined_calls(self) -> dict[str, list[int]]:
        """Offsets, by file path, of the file-reading calls that may read outside the allowed
        directories: a path outside them, or one built from other values (tfparse evaluates
        it and reads wherever it points). Each becomes an info note once."""
        if self._unconfined is None:
            self._unconfined = {}
            for name in sorted(self.filenames):
                source = self.files.get(name)
                if source is None or "file" not in source.text:
                    continue
                offsets = self._classify_calls(source)
                if offsets:
                    self._unconfined[source.path] = offsets
        return self._unconfined

    def _classify_calls(self, source: "SourceFile") -> list[int]:
        offsets: list[int] = []
        # JSON syntax: every call, even in a string that is not a template (not parsed here)
        scanned = source.text if source.is_json else source.masked
        if "file" not in scanned:  # in comments or strings only
            return offsets
        for start, after, function in file_reading_calls(scanned):
            why = self._why_unconfined(source, after, function)
            if why is None:
                if self.mirrored:
                    offsets.append(start)
                continue
            offsets.append(start)
            line = source.line_of(start)
            column = start - source.offset_of(line) + 1
            self._notes.append(
                Diagnostic("info", source.path, line, f"{function}(...) {why}; not read", column, code=DiagnosticCode.NOT_READ)
            )
        return offsets

    def _why_unconfined(self, source: "SourceFile", after: int, function: str) -> Optional[str]:
        """Why a call may read outside the allowed directories, or ``None`` when it cannot."""
        if source.is_json:
            return "in JSON syntax names a path that is not checked"
        masked = source.masked
        close = _closing_paren(masked, after)
        arguments = _split_top_level(masked, after, close) if close is not None else []
        if not arguments:
            return "has no path argument that can be checked"
        raw = source.text[arguments[0][0] : arguments[0][1]].strip()
        real = self._literal_path(raw, source)
        if real is None:
            return f"names a path built from other values ({_shown(raw)})"
        if function == "fileset":
            pattern = source.text[arguments[1][0] : arguments[1][1]].strip() if len(arguments) > 1 else ""
            if not re.fullmatch(r'"[^"\\$%]*"', pattern) or ".." in pattern or pattern[1:2] == "/":
                return f"lists files with a pattern that may leave its directory ({_shown(pattern)})"
        if not inside(real, self._allowed_directories()):
            return f"names {_shown(raw[1:-1])}, outside the scanned tree"
        return None

    def _reads_unconfined(self, module: str, source: "SourceFile", start: int, end: int, depth: int = 0) -> bool:
        """Whether the text ``[start, end)`` of ``source`` reaches an unconfined file-reading
        call: in it, or through the locals, variables and module outputs it refers to."""
        calls = self._unconfined_calls()
        if not calls:
            return False
        offsets = calls.get(source.path)
        if offsets:
            index = bisect.bisect_left(offsets, start)
            if index < len(offsets) and offsets[index] < end:
                return True
        for kind, name, sub in references(source.masked[start:end]):
            if kind == "var":
                hit = self._tainted(("var", module, name), depth, lambda: self._var_unconfined(module, name, depth + 1))
            elif kind == "local":
                hit = self._local_unconfined(module, name, depth + 1)
            elif sub:
                hit = self._tainted(
                    ("output", module, name, sub), depth, lambda: self._output_unconfined(module, name, sub, depth + 1)
                )
            else:
                hit = False
            if hit:
                return True
        return False

    def _tainted(self, key: tuple, depth: int, compute: Callable[[], bool]) -> bool:
        if key in self._taint_memo:
            return self._taint_memo[key]
        if key in self._taint_active or depth > _MAX_DEPTH:
            return True  # a cycle or a chain too long to follow: withheld, to be safe
        self._taint_active.add(key)
        try:
            result = compute()
        finally:
            self._taint_active.discard(key)
        self._taint_memo[key] = result
        return result

    def _item_unconfined(self, module: str, found: Optional[tuple["SourceFile", Body]], name: str, depth: int) -> bool:
        item = found[1].attribute(name) if found else None
        return item is not None and self._reads_unconfined(module, found[0], item.start, item.end, depth)

    def _iterates_unconfined(self, module: str, found: Optional[tuple["SourceFile", Body]], depth: int) -> bool:
        """Whether a block's ``count`` or ``for_each`` reaches an unconfined call (then
        ``each.value`` and ``count.index`` carry what was read)."""
        return any(self._item_unconfined(module, found, meta_arg, depth) for meta_arg in _TOP_LEVEL_DROPPED)

    def _var_unconfined(self, module: str, name: str, depth: int) -> bool:
        if module:
            call = self.module_calls.get(module)
            found = self._body(call) if call is not None else None
            if found and found[1].attribute(name) is not None:  # the caller sets it
                parent, _ = split_module_path(module)
                return self._item_unconfined(parent, found, name, depth) or self._iterates_unconfined(parent, found, depth)
        return self._default_unconfined(module, name, depth)

    def _default_unconfined(self, module: str, name: str, depth: int = 0) -> bool:
        """Whether a variable's ``default`` reaches an unconfined call (Terraform refuses
        function calls there; tfparse evaluates them)."""
        if not self._unconfined_calls():
            return False
        block = self.variables.get((module, name))
        return block is not None and self._item_unconfined(module, self._body(block), "default", depth)

    def _local_unconfined(self, module: str, name: str, depth: int = 0) -> bool:
        def compute() -> bool:
            self._lazy_text_index()
            found = self.locals.get((module, name))
            return found is not None and self._reads_unconfined(module, found[0], found[1].start, found[1].end, depth)

        return bool(self._unconfined_calls()) and self._tainted(("local", module, name), depth, compute)

    def _output_unconfined(self, module: str, call: str, output: str, depth: int) -> bool:
        self._lazy_text_index()
        prefix = f"{module}.module.{call}" if module else f"module.{call}"
        for (child, name), (source, item) in self.outputs.items():
            if name == output and (child == prefix or child.startswith(prefix + "[")):
                if self._reads_unconfined(child, source, item.start, item.end, depth):
                    return True
        return False

    def _withhold_keys(self, resource: Resource, found: Optional[tuple["SourceFile", Body]]) -> None:
        """Instance keys that an unconfined read gave (``for_each`` over a file's lines, its
        own or a module call's) become ``["withheld-N"]`` in the address, module and condition."""
        if not self._unconfined_calls():
            return
        old_module, old_address = resource.module, resource.address
        module = self._withheld_module(old_module)
        address = module + old_address[len(old_module) :]
        if address.endswith("]") and self._iterates_unconfined(old_module, found, 0):
            base = old_address.rsplit("[", 1)[0]
            address = address.rsplit("[", 1)[0] + self._withheld_label(("resource", base), old_address)
        if address == old_address:
            return
        resource.address, resource.module = address, module
        condition = resource.condition
        if condition is not None and old_module != module:
            name = condition.name.replace(old_module, module)
            resource.condition = Condition(name, condition.default, condition.inputs, condition.regions)

    def _withheld_module(self, module: str) -> str:
        """A module instance path with the keys an unconfined read gave withheld."""
        if not module or not self._unconfined_calls():
            return module
        cached = self._withheld_modules.get(module)
        if cached is None:
            parent, own = split_module_path(module)
            shown_parent = self._withheld_module(parent)
            if own.endswith("]") and "[" in own:
                call = self.module_calls.get(module)
                found = self._body(call) if call is not None else None
                if self._iterates_unconfined(parent, found, 0):
                    name = own[: own.index("[")]
                    own = name + self._withheld_label(("module", shown_parent, name), module)
            cached = self._withheld_modules[module] = f"{shown_parent}.{own}" if shown_parent else own
        return cached

    def _withheld_label(self, group: tuple, original: str) -> str:
        labels = self._withheld_labels.setdefault(group, {})
        return labels.setdefault(original, f'["withheld-{len(labels) + 1}"]')

    def _own_reading(self, module: str, source: "SourceFile", item: Item) -> Any:
        """An expression read by this module's confined readers (``file()``/``templatefile()``
        whole, or a call such as ``base64encode(file(...))``), or ``None``: no tfparse value."""
        read = self._file_function(source, item, module)
        return read if read is not None else self._source_expression(source, item, module)

    def _confine(self, raw: dict, module: str, body: Optional[Body], attributes: dict) -> None:
        """Withhold the values of a block that reach an unconfined file-reading call: each
        such attribute, each nested block whose text reaches one, and every value when the
        block's ``count``/``for_each`` does. Without a parsed body, the block's lines decide
        for all of its values."""
        if not self._unconfined_calls():
            return
        if body is None:
            meta = raw.get("__tfmeta") or {}
            source = self.files.get(meta.get("filename", ""))
            start, end = int(meta.get("line_start") or 0), int(meta.get("line_end") or 0)
            if source is None or not start:
                return
            span = (source.offset_of(start), source.offset_of(max(start, end) + 1))
            if self._reads_unconfined(module, source, *span):
                for name in list(attributes):
                    attributes[name] = _withheld(raw.get(name))
            return
        source = body.source
        if not self._reads_unconfined(module, source, body.start, body.end):
            return
        found = (source, body)
        every = self._iterates_unconfined(module, found, 0)
        for name in list(attributes):
            item = body.attribute(name)
            if item is not None:
                if every or self._reads_unconfined(module, source, item.start, item.end):
                    value = attributes[name]
                    inputs = value.inputs if isinstance(value, FromInputs) else ()
                    read = None if every or source.is_json else self._own_reading(module, source, item)
                    attributes[name] = self._with_inputs(Unknown(WITHHELD) if read is None else read, inputs)
                continue
            blocks = [i for i in body.items if i.kind == "block" and (i.name == name or i.labels[:1] == (name,))]
            if every or not blocks or any(self._reads_unconfined(module, source, i.start, i.end) for i in blocks):
                attributes[name] = _withheld(raw.get(name))

    def _template_variables(self, masked: str, text: str, span: tuple[int, int], module: str) -> Optional[dict]:
        """The object literal at ``span`` of an expression (``masked`` and raw ``text``)."""
        start, end = span
        inner = masked[start:end].strip()
        if not (inner.startswith("{") and inner.endswith("}")):
            return None
        open_at = masked.index("{", start)
        close_at = masked.rindex("}", start, end)
        variables: dict[str, Any] = {}
        for begin, finish in _split_top_level(masked, open_at + 1, close_at, newline=True):
            pair = re.match(r'\s*"?([A-Za-z_][\w-]*)"?\s*[=:]\s*', text[begin:finish])
            if not pair:
                continue
            expression = text[begin + pair.end() : finish].strip()
            variables[pair.group(1)] = self._template_value(expression, masked[begin + pair.end() : finish], module)
        return variables

    def _template_value(self, expression: str, masked_expression: str, module: str) -> Any:
        if re.fullmatch(r'"(?:[^"\\$]|\\.|\$(?!\{))*"', expression):
            try:
                return json.loads(expression)
            except ValueError:
                return Unknown(f"{expression} could not be evaluated")
        if _WHOLE_REF.match(expression):
            head, _, rest = expression.partition(".")
            if head == "var" and re.fullmatch(r"[A-Za-z_][\w-]*", rest):
                inputs = self.inputs_of_var(module, rest)
                if len(inputs) == 1 and inputs[0].has_default and isinstance(inputs[0].default, (str, int, float, bool)):
                    default = inputs[0].default
                    return FromInputs(default if isinstance(default, str) else json.dumps(default), inputs)
            return self._marker(expression, module)
        inputs = self.inputs_of_expression(module, masked_expression.strip())
        unknown = Unknown(f"{expression} could not be evaluated")
        return FromInputs(unknown, inputs) if inputs else unknown

    def _decoded(self, content: str, variables: dict[str, Any], module: str) -> Any:
        """Template text with ``${name}`` replaced, decoded as JSON when it is JSON."""
        pieces: list[Any] = []
        position = 0
        for match in _TEMPLATE_INTERPOLATION.finditer(content):
            if match.group(0).startswith("$${"):
                pieces.append(content[position : match.start()] + "${")
                position = match.end()
                continue
            pieces.append(content[position : match.start()])
            name = match.group(1).strip()
            pieces.append(variables[name] if name in variables else Unknown(f"${{{name}}} could not be evaluated"))
            position = match.end()
        pieces.append(content[position:])
        values = [p for p in pieces if not isinstance(p, str)]
        if not variables and not values:
            return self._string(content, module) if content.lstrip()[:1] in ("{", "[") else content
        marked = "".join(p if isinstance(p, str) else f"{_PART_OPEN}{i}{_PART_CLOSE}" for i, p in enumerate(pieces))
        try:
            decoded = json.loads(marked)
        except ValueError:
            # not JSON (a shell script, a config file): the text with its parts
            return collapse(pieces)
        parts_by_number = {i: p for i, p in enumerate(pieces) if not isinstance(p, str)}
        return _put_back(decoded, parts_by_number)

    # -- base64encode(), jsonencode()... of values tfparse could not evaluate -------------

    def _source_expression(self, source: "SourceFile", item: Item, module: str) -> Any:
        """A call tfparse left null (``base64encode(<<EOT ... ${var.x} ... EOT)``,
        ``jsonencode([... var.x ...])``) read from its text by ``terraform_expr``: the parts
        it can know keep their values, the others are ``Unknown``; ``None`` for any other
        expression."""
        if not starts_with_fallback_call(source.expression(item)):
            return None
        return read_expression(
            source.source_text(item),
            lambda path: self._source_reference(path, module),
            lambda name, args: self._file_call(name, args, source, module),
            os.path.abspath(os.path.dirname(source.path) or "."),
        )

    def _lost_parts(self, value: Any, masked_expression: str) -> bool:
        """Whether tfparse's value of a call lost parts the text still has: ``jsonencode()``
        of a structure with an unknown value comes back with ``null`` in its place (a whole
        ``Statement`` list of a policy, say); ``base64encode()`` of a string with a resource
        reference is encoded with the reference's block id."""
        if not isinstance(value, str) or not starts_with_fallback_call(masked_expression):
            return False
        if masked_expression.lstrip().startswith("jsonencode"):
            try:
                return _holds_null(json.loads(value))
            except ValueError:
                return False
        if len(value) < 48 or not _looks_like_base64(value):
            return False
        try:
            text = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return any(match.group(0) in self.ids for match in _UUID.finditer(text))

    def _source_reference(self, path: str, module: str) -> Any:
        """A reference inside an expression read from text: a root variable's value (with
        its input), a local's evaluated value, else what a reference tfparse left gives."""
        head, _, rest = path.partition(".")
        if head == "var" and re.fullmatch(r"[A-Za-z_][\w-]*", rest):
            inputs = self.inputs_of_var(module, rest)
            if len(inputs) == 1 and inputs[0].has_default and inputs[0].name.endswith(f"var.{rest}"):
                return FromInputs(self.convert(inputs[0].default, module), inputs)
        if head == "local" and re.fullmatch(r"[A-Za-z_][\w-]*", rest):
            if self._local_unconfined(module, rest):
                return Unknown(WITHHELD)
            for local_module, block in self._locals_blocks:
                if local_module == module and block.get(rest) is not None:
                    inputs = self.inputs_of_local(module, rest)
                    return self._with_inputs(self.convert(block[rest], module), inputs)
        return self._unevaluated(path, module)

    def _file_call(self, name: str, args: list, source: "SourceFile", module: str) -> Any:
        """``file``/``filebase64``/``templatefile`` inside an expression read from text, with
        the same file rules as ``_file_function``."""
        path = args[0] if args else None
        if not isinstance(path, str) or any(c in path for c in '"\\') or "${" in path:
            return Unknown(f"{name}() of a path known only at deployment")
        real = self._file_path(f'"{path}"', source)
        if real is None:
            if self._outside(f'"{path}"', source):
                return Unknown(f"{name}(): {_shown(path)} is outside the scanned tree; not read")
            return Unknown(f"{name}(): {os.path.basename(path)} cannot be read")
        content = read_limited(real, name, os.path.basename(path))
        if isinstance(content, Unknown):
            return content
        if name == "filebase64":
            return base64.b64encode(content).decode("ascii")
        text = content.decode("utf-8", errors="replace")
        if name == "file":
            return self._decoded(text, {}, module)
        variables = args[1] if len(args) > 1 and isinstance(args[1], dict) else None
        if variables is None:
            return Unknown("templatefile() variables could not be evaluated")
        if "%{" in text.replace("%%{", ""):
            return Unknown(f"templatefile(): {os.path.basename(path)} uses template directives")
        return self._decoded(text, variables, module)

    def _convert_nested(self, block: dict, module: str, parent: Optional[Body]) -> dict:
        inner: Optional[Body] = None
        if parent is not None and not parent.source.is_json:
            line = (block.get("__tfmeta") or {}).get("line_start")
            item = parent.block_at(int(line)) if line else None
            if item is not None:
                inner = parent.source.body_of(item)
        return self._convert_body(block, module, inner, top=False)

    def _condition(self, block: dict, resource: Resource, body: Body) -> Optional[Condition]:
        """Resource.condition when ``count``/``for_each`` (its own or a module call's) reads inputs."""
        for meta_arg in _TOP_LEVEL_DROPPED:
            item = body.attribute(meta_arg)
            if item is None:
                continue
            inputs = self.inputs_of_expression(resource.module, body.source.expression(item))
            # tfparse makes one instance of a count it cannot evaluate: not decided
            decided = block.get(meta_arg) is not None and all(i.has_default for i in inputs)
            if inputs or not decided:
                name = _condition_name(meta_arg, body.source.source_text(item))
                return Condition(name, True if decided else None, inputs)
        module = resource.module
        while module:
            call = self.module_calls.get(module)
            parent, _ = split_module_path(module)
            found = self._body(call) if call is not None else None
            if found:
                source, call_body = found
                for meta_arg in _TOP_LEVEL_DROPPED:
                    item = call_body.attribute(meta_arg)
                    if item is None:
                        continue
                    inputs = self.inputs_of_expression(parent, source.expression(item))
                    if inputs:
                        name = _condition_name(meta_arg, source.source_text(item), module)
                        return Condition(name, True, inputs)
            module = parent
        return None

    # -- values ------------------------------------------------------------------------

    def convert(self, value: Any, module: str) -> Any:
        if isinstance(value, dict):
            if "__attribute__" in value:
                return self._marker(str(value["__attribute__"]), module)
            strip = "__tfmeta" in value
            return {
                k: self.convert(v, module) for k, v in value.items() if not (strip and k in _META_KEYS)
            }
        if isinstance(value, list):
            return [self.convert(v, module) for v in value]
        if isinstance(value, str):
            return self._string(value, module)
        return value

    def _string(self, text: str, module: str) -> Any:
        if len(text) == 36 and text in self.ids:
            return self._uuid_value(text)
        if "${" not in text and not ("-" in text and _UUID.search(text)):
            return text
        parts = self._split(text, module)
        if parts is None:
            return text
        if text.lstrip()[:1] in ("{", "["):
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = _NO_JSON
            if decoded is not _NO_JSON:
                return self.convert(decoded, module)
        if len(parts) == 1 and not isinstance(parts[0], str):
            return parts[0]
        return Template(tuple(parts))

    def _split(self, text: str, module: str) -> Optional[list]:
        parts: list[Any] = []
        literal_from = 0
        changed = False
        for match in _EMBEDDED.finditer(text):
            if match.group(1) is None:
                if match.group(0) not in self.ids:
                    continue
                part = self._uuid_value(match.group(0))
            else:
                content = match.group(1).strip()
                if ":" in content or not _LOOKS_LIKE_REF.search(content):
                    continue  # ${aws:username} and friends, or a literal ${...}
                part = self._unevaluated(content, module)
            if match.start() > literal_from:
                parts.append(text[literal_from : match.start()])
            parts.append(part)
            literal_from = match.end()
            changed = True
        if not changed:
            return None
        if literal_from < len(text):
            parts.append(text[literal_from:])
        return parts

    def _uuid_value(self, block_id: str) -> Any:
        resource = self.resource_of_id.get(block_id)
        if resource is not None:
            return Ref(resource)
        path = ((self.ids[block_id].get("__tfmeta") or {}).get("path")) or "a block that is not a resource"
        if path in self.module_calls and path not in self.loaded_modules:
            return Unknown(f"comes from {self._withheld_module(path)}, a module that was not checked")
        module, own = split_module_path(path)
        return Unknown(f"comes from {self._withheld_module(module)}.{own}" if module else f"comes from {path}")

    def _unevaluated(self, content: str, module: str) -> Any:
        """A ``${...}`` tfparse left in a string (its references could not be evaluated)."""
        if _WHOLE_REF.match(content):
            return self._marker(content, module)
        inputs = self.inputs_of_expression(module, content)
        unknown = Unknown(f"${{{content}}} could not be evaluated")
        return FromInputs(unknown, inputs) if inputs else unknown

    def _marker(self, text: str, module: str) -> Any:
        """tfparse's ``{"__attribute__": text}``: a reference it could not evaluate."""
        head, _, rest = text.partition(".")
        name = re.split(r"[.\[]", rest, maxsplit=1)[0]
        if head == "var":
            inputs = self.inputs_of_var(module, name)
            return self._unknown_from(inputs, text, direct=rest == name)
        if head == "local":
            return self._unknown_from(self.inputs_of_local(module, name), text, direct=False)
        if head == "module":
            after = rest[len(name) :]
            after = re.sub(r"^\[[^\]]*\]", "", after)
            output = after[1:].split(".", 1)[0].split("[", 1)[0] if after.startswith(".") else None
            inputs = self.inputs_of_output(module, name, output) if output else ()
            prefix = f"{module}.module.{name}" if module else f"module.{name}"
            loaded = any(m == prefix or m.startswith(prefix + "[") for m in self.loaded_modules)
            if loaded:
                reason = f"{text} could not be evaluated"
            else:
                reason = f"{text} comes from a module that was not checked"
            return FromInputs(Unknown(reason), inputs) if inputs else Unknown(reason)
        if head in ("each", "count", "path", "self", "terraform"):
            return Unknown(f"{text} could not be evaluated")
        target, attribute = self._find_resource(module, text)
        if target is not None:
            return Ref(target, attribute)
        return Unknown(f"{text} refers to a resource that is not in the configuration (or not created)")

    def _unknown_from(self, inputs: tuple[Input, ...], text: str, direct: bool) -> Any:
        if not inputs:
            return Unknown(f"{text} could not be evaluated")
        missing = [i.name for i in inputs if not i.has_default]
        if missing:
            verb = "has" if len(missing) == 1 else "have"
            return FromInputs(Unknown(f"{', '.join(missing)} {verb} no value"), inputs)
        if direct and len(inputs) == 1 and inputs[0].default is None:
            return FromInputs(None, inputs)  # a null default: tfparse leaves the reference
        return FromInputs(Unknown(f"{text} could not be evaluated"), inputs)

    def _find_resource(self, module: str, text: str) -> tuple[Optional[Resource], Optional[str]]:
        match = _RESOURCE_REF.match(text)
        if not match:
            return None, None
        data, type_, name, index, attribute = match.groups()
        base = f"{module}." if module else ""
        base += f"{data or ''}{type_}.{name}"
        target = self.by_address.get(base + (index or ""))
        if target is None and not index:
            instances = self.instances.get(base, [])
            if len(instances) == 1:
                target = instances[0]
        return target, attribute

    def _with_inputs(self, value: Any, inputs: tuple[Input, ...]) -> Any:
        if not inputs:
            return value
        if isinstance(value, FromInputs):
            return FromInputs(value.value, unique(value.inputs + inputs))
        missing = [i.name for i in inputs if not i.has_default]
        if missing and not _contains_unknown(value):
            # tfparse evaluates an expression on an input without value to null or garbage
            verb = "has" if len(missing) == 1 else "have"
            value = Unknown(f"{', '.join(missing)} {verb} no value")
        return FromInputs(value, inputs)

    # -- inputs ------------------------------------------------------------------------

    def inputs_of_expression(self, module: str, masked: str, depth: int = 0) -> tuple[Input, ...]:
        if "var." not in masked and "local." not in masked and "module." not in masked:
            return ()  # every reference holds one of these: most expressions are literals
        found: list[Input] = []
        for kind, name, sub in references(masked):
            if kind == "var":
                found.extend(self.inputs_of_var(module, name, depth))
            elif kind == "local":
                found.extend(self.inputs_of_local(module, name, depth))
            elif sub:
                found.extend(self.inputs_of_output(module, name, sub, depth))
        return unique(tuple(found))

    def _memoized(self, key: tuple, depth: int, compute) -> tuple[Input, ...]:
        if key in self._memo:
            return self._memo[key]
        if key in self._active or depth > _MAX_DEPTH:
            return ()
        self._active.add(key)
        try:
            result = compute()
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def inputs_of_var(self, module: str, name: str, depth: int = 0) -> tuple[Input, ...]:
        def compute() -> tuple[Input, ...]:
            if not module:
                return (self._root_input(name),)
            call = self.module_calls.get(module)
            found = self._body(call) if call is not None else None
            if found:
                source, body = found
                item = body.attribute(name)
                if item is not None:  # the caller sets it: its inputs stand for this variable
                    parent, _ = split_module_path(module)
                    return self.inputs_of_expression(parent, source.expression(item), depth + 1)
            return (self._variable_input(module, name, f"{module}.var.{name}"),)

        return self._memoized(("var", module, name), depth, compute)

    def inputs_of_local(self, module: str, name: str, depth: int = 0) -> tuple[Input, ...]:
        def compute() -> tuple[Input, ...]:
            self._lazy_text_index()
            found = self.locals.get((module, name))
            if found is None:
                return ()
            source, item = found
            return self.inputs_of_expression(module, source.expression(item), depth + 1)

        return self._memoized(("local", module, name), depth, compute)

    def inputs_of_output(self, module: str, call: str, output: str, depth: int = 0) -> tuple[Input, ...]:
        def compute() -> tuple[Input, ...]:
            self._lazy_text_index()
            prefix = f"{module}.module.{call}" if module else f"module.{call}"
            found: list[Input] = []
            for (child, name), (source, item) in self.outputs.items():
                if name == output and (child == prefix or child.startswith(prefix + "[")):
                    found.extend(self.inputs_of_expression(child, source.expression(item), depth + 1))
            return unique(tuple(found))

        return self._memoized(("output", module, call, output), depth, compute)

    def _root_input(self, name: str) -> Input:
        if name in self.assigned:
            block = self.variables.get(("", name))
            location = self._location(block) if block is not None else None
            return Input("variable", f"var.{name}", self.assigned[name].value, True, location)
        return self._variable_input("", name, f"var.{name}")

    def _variable_input(self, module: str, name: str, label: str) -> Input:
        if module and label.startswith(module):
            label = self._withheld_module(module) + label[len(module) :]
        block = self.variables.get((module, name))
        if block is None:
            return Input("variable", label, None, False, None)
        has_default = "default" in block
        default = _plain(block.get("default")) if has_default else None
        if has_default and self._default_unconfined(module, name):
            default = Unknown(WITHHELD)
        return Input("variable", label, default, has_default, self._location(block))

    def _block_location(self, meta: dict) -> Location:
        """Where tfparse's ``__tfmeta`` puts a block (line 0 when it gives none)."""
        start = int(meta.get("line_start") or 0)
        return Location(self.files.path_of(meta.get("filename", "")), start, int(meta.get("line_end") or start))

    def _location(self, block: dict) -> Optional[Location]:
        meta = block.get("__tfmeta") or {}
        if not meta.get("filename"):
            return None
        start = int(meta.get("line_start") or 0)
        return Location(self.files.path_of(meta["filename"]), start, int(meta.get("line_end") or start))


_REFERENCE_ONLY = re.compile(
    r"^(?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*(?:\[[0-9]+\]|\[\*\]|\.\*)?(?:\.[A-Za-z_][\w-]*)*$"
)
_SPLAT = re.compile(r"\[\*\]|\.\*")


def _has_null(value: Any) -> bool:
    """None, or a list holding None: what tfparse gives for a reference it could not evaluate."""
    if isinstance(value, FromInputs):
        value = value.value
    return value is None or (isinstance(value, list) and any(v is None for v in value))


_FILE_CALL = re.compile(r"^\s*(templatefile|file)\s*\(")
_TEMPLATE_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_PART_OPEN, _PART_CLOSE = "\ue000", "\ue001"
_PART = re.compile("\ue000(\\d+)\ue001")


def _closing_paren(masked: str, start: int) -> Optional[int]:
    depth = 1
    for position in range(start, len(masked)):
        char = masked[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return position if char == ")" else None
    return None


def _split_top_level(masked: str, start: int, end: int, newline: bool = False) -> list[tuple[int, int]]:
    """Spans of the comma- (and, for object bodies, newline-) separated items in [start, end)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    begin = start
    for position in range(start, end):
        char = masked[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and (char == "," or (newline and char == "\n")):
            if masked[begin:position].strip():
                spans.append((begin, position))
            begin = position + 1
    if masked[begin:end].strip():
        spans.append((begin, end))
    return spans


def _put_back(value: Any, parts: dict[int, Any]) -> Any:
    """Decoded JSON with each marked part put back as a model value (a ``Template`` part)."""
    if isinstance(value, dict):
        return {k: _put_back(v, parts) for k, v in value.items()}
    if isinstance(value, list):
        return [_put_back(v, parts) for v in value]
    if isinstance(value, str) and _PART_OPEN in value:
        out: list[Any] = []
        position = 0
        for match in _PART.finditer(value):
            if match.start() > position:
                out.append(value[position : match.start()])
            out.append(parts.get(int(match.group(1)), Unknown("template part")))
            position = match.end()
        if position < len(value):
            out.append(value[position:])
        return out[0] if len(out) == 1 else Template(tuple(out))
    return value


# ---------------------------------------------------------------------------------------
# Value helpers (a withheld file read: see terraform_files)
# ---------------------------------------------------------------------------------------


def _withheld(raw: Any) -> Any:
    """A nested block tfparse evaluated, with every value ``Unknown`` (its shape kept)."""
    if _is_block(raw):
        return {k: _withheld(v) for k, v in raw.items() if k not in _META_KEYS}
    if isinstance(raw, list) and raw and all(_is_block(v) for v in raw):
        return [_withheld(v) for v in raw]
    return Unknown(WITHHELD)


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _looks_like_base64(value: str) -> bool:
    """Base64 alphabet, padded to a multiple of four (one pass; no repeated group of four)."""
    return len(value) % 4 == 0 and _BASE64.fullmatch(value) is not None


def _holds_null(value: Any, depth: int = 0) -> bool:
    """Whether decoded JSON holds a ``null`` anywhere (tfparse's mark of a lost part)."""
    if value is None:
        return True
    if depth > 40:
        return False
    if isinstance(value, dict):
        return any(_holds_null(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_holds_null(v, depth + 1) for v in value)
    return False


def _is_block(value: Any) -> bool:
    return isinstance(value, dict) and "__tfmeta" in value


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, FromInputs):
        return _contains_unknown(value.value)
    if isinstance(value, Template):
        return any(_contains_unknown(p) for p in value.parts)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """A variable default as a plain value (defaults are literals; drop tfparse's markers)."""
    if isinstance(value, dict):
        if "__attribute__" in value:
            return Unknown(f"{value['__attribute__']} could not be evaluated")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _condition_name(meta_arg: str, source_text: str, module: str = "") -> str:
    text = " ".join(source_text.split())
    if len(text) > 80:
        text = text[:77] + "..."
    where = f"{module}: " if module else ""
    return f"{where}{meta_arg} = {text}"
