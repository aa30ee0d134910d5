"""Load ``terraform show -json plan.out`` output into the model.

What Terraform plans to exist after apply is what gets checked:

* every resource instance of ``planned_values`` (root and child modules, managed and data,
  ``count``/``for_each`` instances with their key in the address), plus the data sources
  Terraform already read while planning, which only ``prior_state`` carries. Instances the
  plan deletes are not in ``planned_values`` and are not checked;
* attribute values come from ``planned_values`` (``change.after`` when a resource has no
  planned values); a value Terraform marks in ``change.after_unknown`` becomes
  ``Unknown("known after apply")``, unless the configuration's expression for it refers to
  exactly one resource instance of the plan: then it is ``Ref(that resource, attribute)``.
  References are followed through module input variables (``module_calls.<m>.expressions``)
  and module outputs (``outputs.<o>.expression``), relative to the module they are written
  in. A known value that equals the referenced attribute of that one resource (an update
  plan, where the key ARN is already in state) becomes the same ``Ref``, so the edge is the
  same whether the plan creates both resources or only one of them;
* the location is the line of the resource's ``"address"`` in ``planned_values`` (or
  ``prior_state``), to the line closing its object; ``attribute_lines`` holds the line of
  each top-level key of its ``values``. Lines come from a scan of the text, not a second
  parse.

A file that is not JSON, or JSON that is not a plan, gives a ``Diagnostic`` and no resources.
Types are checked as the plan is walked: a part of the wrong type (``resources`` that is not a
list, ``after_unknown: true`` for a whole resource, an integer longer than Python converts)
gives an error ``Diagnostic`` at its line and the rest of the plan is still read.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from kds_iac import files
from kds_iac.model import TERRAFORM_PLAN, Diagnostic, DiagnosticCode, Location, Model, Ref, Resource, Unknown

KNOWN_AFTER_APPLY = "known after apply"
SUPPORTED_MAJOR_VERSION = 1
_MAX_DEPTH = 16
MAX_NESTING = 100  # JSON levels; deeper documents are refused before anything recurses into them
_LONG_INTEGER = re.compile(r"-?[0-9]{4000,}")

_KEY = r'\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\]'
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_RESOURCE_REF = re.compile(rf"^(?P<base>(?:data\.)?{_NAME}\.{_NAME})(?P<key>{_KEY})?(?P<rest>.*)$", re.S)
_MODULE_REF = re.compile(rf"^module\.(?P<name>{_NAME})(?P<key>{_KEY})?(?:\.(?P<output>{_NAME}))?(?P<rest>.*)$", re.S)
_MODULE_STEP = re.compile(rf"module\.(?P<name>{_NAME})(?P<key>{_KEY})?(?:\.|$)")
_VAR_REF = re.compile(rf"^var\.(?P<name>{_NAME})")
_NOT_RESOURCES = {"var", "local", "module", "each", "count", "path", "terraform", "self"}
_PER_INSTANCE = ("count.index", "each.key", "each.value")

_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_COLON = re.compile(r"\s*:")
_OPENS_OBJECT = re.compile(r"\s*:\s*\{")


def load_plan(path: str) -> Model:
    """Read one plan JSON file; never raises for bad input, reports a ``Diagnostic`` instead."""
    model = Model(files=[path])
    try:
        text = files.decode(files.read_bytes(path))  # PowerShell's `>` writes UTF-16 with a BOM
    except OSError as error:
        model.diagnostics.append(Diagnostic("error", path, 0, f"cannot read file: {error.strerror}", code=DiagnosticCode.NOT_READ))
        return model
    except files.DecodeError as error:
        model.diagnostics.append(Diagnostic("error", path, error.line, error.message, error.column, code=DiagnosticCode.ENCODING))
        return model
    long_integers: list[str] = []
    try:
        document = json.loads(text, parse_int=_integer(long_integers))
    except json.JSONDecodeError as error:
        model.diagnostics.append(
            Diagnostic("error", path, error.lineno, f"invalid JSON: {error.msg}", error.colno, code=DiagnosticCode.PARSE)
        )
        return model
    except RecursionError:
        model.diagnostics.append(Diagnostic("error", path, 1, "invalid JSON: nested too deeply", code=DiagnosticCode.SIZE))
        return model
    if long_integers:
        match = _LONG_INTEGER.search(text)
        line, column = _LineIndex(text).position(match.start()) if match else (1, 1)
        model.diagnostics.append(
            Diagnostic(
                "error",
                path,
                line,
                f"an integer of {len(long_integers[0].lstrip('-'))} digits is too long to read; "
                + ("it is" if len(long_integers) == 1 else f"it and {len(long_integers) - 1} more are")
                + " treated as unknown",
                column,
                code=DiagnosticCode.SIZE,
            )
        )
    if _too_deep(document):
        line, column = _deepest_position(text)
        model.diagnostics.append(
            Diagnostic("error", path, line, f"nested more than {MAX_NESTING} levels deep; not loaded", column,
                       code=DiagnosticCode.SIZE)
        )
        return model
    problem = _plan_problem(document)
    if problem is not None:
        message, key = problem
        line, column = _key_position(text, key)
        model.diagnostics.append(Diagnostic("error", path, line, message, column, code=DiagnosticCode.INVALID))
        return model
    if document.get("errored") is True:
        line, column = _key_position(text, "errored")
        model.diagnostics.append(
            Diagnostic(
                "info",
                path,
                line,
                "Terraform marked this plan as errored: resources it did not finish planning are not checked",
                column,
                code=DiagnosticCode.NOT_CHECKED,
            )
        )
    reader = _PlanReader(path, text, document)
    try:
        model.resources.extend(reader.resources())
    except Exception as error:  # noqa: BLE001 - a reader bug must not end the scan
        import logging  # only on failure

        logging.getLogger("kds_iac.loaders").debug("reading plan %s raised", path, exc_info=error)
        model.diagnostics.append(
            Diagnostic("error", path, 1, f"cannot load plan: {type(error).__name__}: {error}; not checked",
                       code=DiagnosticCode.INTERNAL)
        )
        return model
    model.diagnostics.extend(reader.diagnostics)
    return model


def _integer(too_long: list[str]) -> Any:
    """``json``'s ``parse_int``: Python refuses to convert more than 4,300 digits, so such a
    number becomes ``Unknown`` (and is reported once) instead of ending the scan."""

    def parse(text: str) -> Any:
        try:
            return int(text)
        except ValueError:
            too_long.append(text)
            return Unknown(f"an integer of {len(text.lstrip('-'))} digits")

    return parse


def _too_deep(document: Any) -> bool:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


def _deepest_position(text: str) -> tuple[int, int]:
    """Where the text first opens more than ``MAX_NESTING`` levels (strings skipped)."""
    depth = 0
    for token in _TOKEN.finditer(text):
        char = token.group()[0]
        if char in "{[":
            depth += 1
            if depth > MAX_NESTING:
                return _LineIndex(text).position(token.start())
        elif char in "}]":
            depth -= 1
    return 1, 1


def _plan_problem(document: Any) -> Optional[tuple[str, Optional[str]]]:
    """Why ``document`` is not a plan this loader reads (message, key to point at), or None."""
    if not isinstance(document, dict):
        return "not a Terraform plan: the JSON document is not an object", None
    version = document.get("format_version")
    if version is not None:
        major = str(version).split(".", 1)[0]
        if not major.isdigit() or int(major) > SUPPORTED_MAJOR_VERSION:
            return (
                f"unsupported Terraform plan format_version {version!s}; "
                f"this loader reads {SUPPORTED_MAJOR_VERSION}.x",
                "format_version",
            )
    if "planned_values" not in document:
        if "values" in document and "terraform_version" in document:
            return "not a Terraform plan: this looks like state (`terraform show -json` without a plan file)", None
        return "not a Terraform plan: no planned_values (expected `terraform show -json plan.out` output)", None
    if not isinstance(document["planned_values"], dict):
        return "not a Terraform plan: planned_values is not an object", "planned_values"
    for key in ("resource_changes", "configuration", "prior_state"):
        if key in document and not isinstance(document[key], (dict, list) if key == "resource_changes" else dict):
            return f"not a Terraform plan: {key} has the wrong type", key
    return None


def _key_position(text: str, key: Optional[str]) -> tuple[int, int]:
    if key is None:
        return 1, 1
    match = re.search(rf'"{re.escape(key)}"\s*:', text)
    if match is None:
        return 1, 1
    return _LineIndex(text).position(match.start())


class _LineIndex:
    """Offsets of newlines, for offset -> (line, column) by bisection."""

    def __init__(self, text: str):
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_left(self._newlines, offset)
        line_start = self._newlines[index - 1] + 1 if index else 0
        return index + 1, offset - line_start + 1


@dataclass
class _Entry:
    """One resource instance as the plan lists it, before its values are resolved."""

    raw: dict
    module: str  # module instance address, "" for root
    section: str  # "planned_values" or "prior_state"
    resource: Resource = field(init=False)
    base: str = field(init=False)  # "aws_kinesis_stream.s" / "data.aws_kms_key.k", module-relative
    key: str = field(init=False)  # "" or "[0]" / '["a"]'


class _PlanReader:
    def __init__(self, path: str, text: str, document: dict):
        self.path = path
        self.text = text
        self.document = document
        self.lines = _LineIndex(text)
        self.entries: list[_Entry] = []
        self.by_address: dict[str, _Entry] = {}
        self.by_base: dict[tuple[str, str], list[_Entry]] = {}
        self.module_instances: set[str] = {""}
        self.diagnostics: list[Diagnostic] = []
        self._cursors: dict[str, int] = {}
        self.changes: dict[str, dict] = {}
        changes = document.get("resource_changes")
        if changes is not None and not isinstance(changes, list):
            self.problem("resource_changes", "[", "resource_changes is not a list; what the plan changes is not read")
            changes = None
        for change in changes or ():
            if isinstance(change, dict) and isinstance(change.get("address"), str) and not change.get("deposed"):
                self.changes[change["address"]] = change
        configuration = document.get("configuration")
        root = configuration.get("root_module") if isinstance(configuration, dict) else None
        self.config_root: dict = root if isinstance(root, dict) else {}
        self.config_cache: dict[tuple[str, ...], dict[str, dict]] = {}
        self.skipped: set[str] = set()

    def problem(self, key: str, opener: str, message: str) -> None:
        """An error diagnostic at the next ``"key":`` whose value does not open with ``opener``
        (the part of the wrong type; the plan is walked in the order it is written)."""
        pattern = re.compile(rf'"{re.escape(key)}"\s*:(?!\s*{re.escape(opener)})' if opener else rf'"{re.escape(key)}"\s*:')
        match = pattern.search(self.text, self._cursors.get(key + opener, 0))
        if match is None:
            line, column = 1, 1
        else:
            self._cursors[key + opener] = match.end()
            line, column = self.lines.position(match.start())
        self.diagnostics.append(Diagnostic("error", self.path, line, message, column, code=DiagnosticCode.INVALID))

    # ----------------------------------------------------------------- collecting
    def resources(self) -> list[Resource]:
        planned_root = self.document["planned_values"].get("root_module") or {}
        for module, raw in self._walk_module(planned_root, "", "planned_values"):
            self._add(raw, module, "planned_values")
        prior = self.document.get("prior_state")
        prior_values = prior.get("values") if isinstance(prior, dict) else None
        prior_root = prior_values.get("root_module") if isinstance(prior_values, dict) else None
        for module, raw in self._walk_module(prior_root, "", "prior_state"):
            if raw.get("mode") == "data" and raw["address"] not in self.by_address:
                self._add(raw, module, "prior_state")
        self._locate()
        self._skip_unreadable_changes()
        for entry in self.entries:
            if entry.resource.address not in self.skipped:
                self._resolve_values(entry)
        return [entry.resource for entry in self.entries if entry.resource.address not in self.skipped]

    def _skip_unreadable_changes(self) -> None:
        """Terraform writes ``after_unknown`` as an object for every resource; anything else
        cannot say which values are known, so the resource is left out (and references to it
        stay unknown) rather than judged on values that may not be what gets deployed."""
        for entry in self.entries:
            if entry.section != "planned_values":
                continue
            change = self.changes.get(entry.resource.address) or {}
            details = change.get("change")
            if details is not None and not isinstance(details, dict):
                self.problem("change", "{", f"resource_changes: change of {entry.resource.address} is not an object; "
                             "the resource is not checked")
                self.skipped.add(entry.resource.address)
                continue
            unknown = details.get("after_unknown") if isinstance(details, dict) else None
            if unknown is not None and not isinstance(unknown, dict):
                self.problem(
                    "after_unknown",
                    "{",
                    f"resource_changes: after_unknown of {entry.resource.address} is not an object; "
                    "the resource is not checked",
                )
                self.skipped.add(entry.resource.address)

    def _walk_module(self, module: Any, address: str, section: str) -> Iterator[tuple[str, dict]]:
        if not isinstance(module, dict):
            return
        where = f"module {address}" if address else "the root module"
        resources = module.get("resources")
        if resources is not None and not isinstance(resources, list):
            self.problem("resources", "[", f"{section}: resources of {where} is not a list; they are not checked")
            resources = None
        for raw in resources or ():
            if isinstance(raw, dict) and isinstance(raw.get("address"), str):
                yield address, raw
            else:
                self.problem("resources", "", f"{section}: a resource of {where} is not an object with an address; not checked")
        children = module.get("child_modules")
        if children is not None and not isinstance(children, list):
            self.problem(
                "child_modules", "[", f"{section}: child_modules of {where} is not a list; its modules are not checked"
            )
            children = None
        for child in children or ():
            if isinstance(child, dict):
                child_address = child.get("address") if isinstance(child.get("address"), str) else address
                yield from self._walk_module(child, child_address, section)

    def _add(self, raw: dict, module: str, section: str) -> None:
        address = raw["address"]
        if address in self.by_address:
            return
        entry = _Entry(raw, module, section)
        relative = address[len(module) + 1 :] if module and address.startswith(module + ".") else address
        match = _RESOURCE_REF.match(relative)
        if match and (match.group("rest") == ""):
            entry.base, entry.key = match.group("base"), match.group("key") or ""
        else:  # an address this loader cannot split; keep it, without reference resolution
            entry.base, entry.key = relative, ""
        mode = raw.get("mode")
        rtype = raw.get("type")
        if not isinstance(rtype, str):
            rtype = entry.base.split(".")[-2] if "." in entry.base else entry.base
        entry.resource = Resource(
            type=rtype,
            address=address,
            attributes={},
            location=Location(self.path, 1, 1),
            source_format=TERRAFORM_PLAN,
            module=module,
            unit=self.path,
        )
        if mode == "data" and not entry.base.startswith("data."):
            entry.base = "data." + entry.base
        self.entries.append(entry)
        self.by_address[address] = entry
        self.by_base.setdefault((module, entry.base), []).append(entry)
        for step in _module_prefixes(module):
            self.module_instances.add(step)

    # ------------------------------------------------------------------ locations
    def _locate(self) -> None:
        for section in ("planned_values", "prior_state"):
            wanted = {e.resource.address: e for e in self.entries if e.section == section}
            if not wanted:
                continue
            start = re.search(rf'"{section}"\s*:', self.text)
            offset = start.end() if start else 0
            for match in _ADDRESS.finditer(self.text, offset):
                address = _decode_string(match.group(1))
                entry = wanted.pop(address, None) if address is not None else None
                if entry is None:
                    continue
                line, column = self.lines.position(match.start())
                end, keys = _scan_object(self.text, match.end())
                end_line = self.lines.position(end)[0] if end is not None else line
                entry.resource.location = Location(self.path, line, end_line, column)
                entry.resource.attribute_lines = {k: self.lines.position(p)[0] for k, p in keys.items()}
                if not wanted:
                    break

    # --------------------------------------------------------------------- values
    def _resolve_values(self, entry: _Entry) -> None:
        raw = entry.raw
        change = self.changes.get(entry.resource.address) or {}
        details = change.get("change") if isinstance(change.get("change"), dict) else {}
        values = raw.get("values")
        if not isinstance(values, dict):
            after = details.get("after")
            values = after if isinstance(after, dict) else {}
        unknown = details.get("after_unknown") if entry.section == "planned_values" else None
        config = self._config_resource(entry)
        expressions = config.get("expressions") if isinstance(config.get("expressions"), dict) else {}
        context = _Context(entry.module, entry.key)
        entry.resource.attributes = self._overlay(values, unknown, expressions, context)

    def _overlay(self, value: Any, unknown: Any, expression: Any, context: "_Context") -> Any:
        if unknown is True:
            ref = self._ref_for(expression, context) if _is_leaf(expression) else None
            return ref if ref is not None else Unknown(KNOWN_AFTER_APPLY)
        if isinstance(unknown, dict) or (isinstance(value, dict) and not _is_leaf(expression)):
            if not isinstance(value, dict):
                if value is None and not unknown:
                    return None
                value = {} if value is None else value
                if not isinstance(value, dict):
                    return value
            mask = unknown if isinstance(unknown, dict) else {}
            body = expression if isinstance(expression, dict) and not _is_leaf(expression) else {}
            out = {}
            for key in list(value) + [k for k in mask if k not in value]:
                out[key] = self._overlay(value.get(key), mask.get(key), body.get(key), context)
            return out
        if isinstance(unknown, list) or (isinstance(value, list) and isinstance(expression, list)):
            items = list(value) if isinstance(value, list) else []
            mask = unknown if isinstance(unknown, list) else []
            while len(items) < len(mask):
                items.append(None)
            blocks = expression if isinstance(expression, list) else []
            if _is_leaf(expression) and len(items) == 1:  # [aws_kinesis_stream.s.arn]
                blocks = [expression]
            return [
                self._overlay(
                    item,
                    mask[i] if i < len(mask) else None,
                    blocks[i] if i < len(blocks) else None,
                    context,
                )
                for i, item in enumerate(items)
            ]
        if isinstance(value, str) and value and _is_leaf(expression) and expression.get("references"):
            ref = self._ref_for(expression, context)
            if ref is not None:
                attribute = self._attribute_holding(ref, value)
                if attribute is not None:
                    return Ref(ref.target, attribute)
        return value

    def _attribute_holding(self, ref: Ref, value: str) -> Optional[str]:
        """The target attribute whose known planned value is ``value``, or None.

        With ``aws_kms_key.k[each.key].arn`` Terraform only reports ``aws_kms_key.k``, so
        without an attribute in the reference every top-level string is tried, ``arn`` first.
        """
        entry = self.by_address.get(ref.target.address)
        values = entry.raw.get("values") if entry is not None else None
        if not isinstance(values, dict):
            return None
        if ref.attribute is not None:
            return ref.attribute if values.get(ref.attribute) == value else None
        for name in ("arn", "id", *values):
            if values.get(name) == value:
                return name
        return None

    # ----------------------------------------------------------------- references
    def _ref_for(self, expression: dict, context: "_Context") -> Optional[Ref]:
        found = self._targets(expression, context, 0)
        targets = {id(entry): entry for entry, _ in found}
        if len(targets) != 1:
            return None
        (entry,) = targets.values()
        attributes = {attribute for _, attribute in found}
        attribute = attributes.pop() if len(attributes) == 1 else None
        return Ref(entry.resource, attribute)

    def _targets(self, expression: Any, context: "_Context", depth: int) -> list[tuple[_Entry, Optional[str]]]:
        if depth > _MAX_DEPTH or not _is_leaf(expression):
            return []
        listed = expression.get("references")
        references = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
        per_instance = any(r in _PER_INSTANCE or r.startswith(("each.value.", "each.value[")) for r in references)
        found: list[tuple[_Entry, Optional[str]]] = []
        for reference in _significant(references):
            root = reference.split(".", 1)[0].split("[", 1)[0]
            if root == "var":
                found.extend(self._through_variable(reference, context, depth))
            elif root == "module":
                found.extend(self._through_output(reference, context, per_instance, depth))
            elif root not in _NOT_RESOURCES:
                match = _RESOURCE_REF.match(reference)
                if match is None:
                    continue
                attribute = match.group("rest").lstrip(".") or None
                instances = self._instances(context, match.group("base"), match.group("key"), per_instance)
                found.extend((entry, attribute) for entry in instances)
        return found

    def _instances(self, context: "_Context", base: str, key: Optional[str], per_instance: bool) -> list[_Entry]:
        """The plan's instances of resource ``base`` in the context's module instance."""
        if key:
            entry = self.by_address.get(_join(context.module, base + key))
            return [entry] if entry is not None and entry.resource.address not in self.skipped else []
        candidates = [e for e in self.by_base.get((context.module, base), []) if e.resource.address not in self.skipped]
        if len(candidates) > 1 and per_instance and context.key:
            same = [c for c in candidates if c.key == context.key]
            if same:
                return same
        return candidates

    def _through_variable(self, reference: str, context: "_Context", depth: int) -> list:
        match = _VAR_REF.match(reference)
        if match is None or not context.module:
            return []  # a root variable is known at plan time: nothing to follow
        steps = list(_module_steps(context.module))
        if not steps:
            return []
        parent = context.module[: steps[-1][2]].rstrip(".")
        calls = self._config_module([name for name, _, _ in steps[:-1]]).get("module_calls")
        call = calls.get(steps[-1][0]) if isinstance(calls, dict) else None
        expressions = call.get("expressions") if isinstance(call, dict) else None
        if not isinstance(expressions, dict):
            return []
        parent_context = _Context(parent, steps[-1][1])
        return self._targets(expressions.get(match.group("name")), parent_context, depth + 1)

    def _through_output(self, reference: str, context: "_Context", per_instance: bool, depth: int) -> list:
        match = _MODULE_REF.match(reference)
        if match is None or not match.group("output"):
            return []
        name, key = match.group("name"), match.group("key")
        base = _join(context.module, f"module.{name}")
        if key:
            children = [base + key] if base + key in self.module_instances else []
        else:
            children = sorted(
                m for m in self.module_instances if m == base or (m.startswith(base + "[") and _is_instance_of(m, base))
            )
            if len(children) > 1 and per_instance and context.key:
                children = [c for c in children if c == base + context.key] or children
        names = [step[0] for step in _module_steps(context.module)] + [name]
        outputs = self._config_module(names).get("outputs") or {}
        output = outputs.get(match.group("output")) if isinstance(outputs, dict) else None
        if not isinstance(output, dict):
            return []
        found = []
        for child in children:
            child_key = child[len(base) :]
            found.extend(self._targets(output.get("expression"), _Context(child, child_key), depth + 1))
        return found

    # -------------------------------------------------------------- configuration
    def _config_module(self, names: list[str]) -> dict:
        module = self.config_root
        for name in names:
            calls = module.get("module_calls") if isinstance(module, dict) else None
            call = calls.get(name) if isinstance(calls, dict) else None
            module = call.get("module") if isinstance(call, dict) else None
            if not isinstance(module, dict):
                return {}
        return module if isinstance(module, dict) else {}

    def _config_resource(self, entry: _Entry) -> dict:
        names = [step[0] for step in _module_steps(entry.module)]
        key = tuple(names)
        index = self.config_cache.get(key)
        if index is None:
            resources = self._config_module(names).get("resources") or []
            if not isinstance(resources, list):
                where = "module " + ".".join(names) if names else "the root module"
                self.problem(
                    "resources",
                    "[",
                    f"configuration: resources of {where} is not a list; references written in it are not followed",
                )
                resources = []
            index = self.config_cache[key] = {
                r["address"]: r for r in resources if isinstance(r, dict) and isinstance(r.get("address"), str)
            }
        return index.get(entry.base) or {}


@dataclass
class _Context:
    """Where an expression is evaluated: its module instance and the instance key in play."""

    module: str
    key: str  # count/for_each key of the resource or module instance ("" when none)


def _module_steps(module: str) -> Iterator[tuple[str, str, int]]:
    """(call name, instance key, offset where the step starts) for each step of a module path."""
    position = 0
    while position < len(module):
        match = _MODULE_STEP.match(module, position)
        if match is None:
            return
        yield match.group("name"), match.group("key") or "", position
        position = match.end()


def _module_prefixes(module: str) -> Iterator[str]:
    for _, _, start in _module_steps(module):
        if start:
            yield module[: start - 1]
    if module:
        yield module


def _is_instance_of(module: str, base: str) -> bool:
    rest = module[len(base) :]
    return re.fullmatch(_KEY, rest) is not None


def _join(module: str, relative: str) -> str:
    return f"{module}.{relative}" if module else relative


def _significant(references: list[str]) -> list[str]:
    """Drop the shorter forms Terraform repeats after each full reference."""
    kept: list[str] = []
    for reference in references:
        if any(other != reference and _extends(other, reference) for other in references):
            continue
        if reference not in kept:
            kept.append(reference)
    return kept


def _extends(longer: str, shorter: str) -> bool:
    if longer.startswith(shorter) and longer[len(shorter) : len(shorter) + 1] in (".", "["):
        return True
    # "aws_kms_key.k[0].arn" also comes with "aws_kms_key.k"; "module.m[0].o" with "module.m"
    for pattern in (_RESOURCE_REF, _MODULE_REF):
        long_match, short_match = pattern.match(longer), pattern.match(shorter)
        if long_match and short_match and long_match.group("key") and not short_match.group("key"):
            name = "base" if pattern is _RESOURCE_REF else "name"
            if long_match.group(name) == short_match.group(name) and not short_match.group("rest"):
                if pattern is _RESOURCE_REF or not short_match.group("output"):
                    return True
    return False


def _is_leaf(expression: Any) -> bool:
    return (
        isinstance(expression, dict)
        and bool(expression)
        and set(expression) <= {"constant_value", "references"}
    )


def _decode_string(token: str) -> Optional[str]:
    """A JSON string token's text; most tokens have no escapes and need no decoder."""
    if "\\" not in token:
        return token[1:-1]
    try:
        return json.loads(token)
    except ValueError:
        return None


def _scan_object(text: str, offset: int) -> tuple[Optional[int], dict[str, int]]:
    """From inside a resource object, find where it closes and the offsets of its value keys."""
    depth = 0
    values_depth: Optional[int] = None
    pending_values = False
    keys: dict[str, int] = {}
    for token in _TOKEN.finditer(text, offset):
        char = token.group()[0]
        if char == '"':
            if depth == 0 and token.group() == '"values"':
                pending_values = _OPENS_OBJECT.match(text, token.end()) is not None
            elif values_depth is not None and depth == values_depth and _COLON.match(text, token.end()):
                name = _decode_string(token.group())
                if name is not None:
                    keys.setdefault(name, token.start())
            continue
        if char in "{[":
            depth += 1
            if pending_values:
                values_depth = depth if char == "{" else None
                pending_values = False
            continue
        depth -= 1
        if values_depth is not None and depth < values_depth:
            values_depth = None
        if depth < 0:
            return token.start(), keys
    return None, keys
