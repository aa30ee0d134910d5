"""Blocks that no input default creates, judged as the instance they would create.

Reusable modules gate most blocks (``count = var.create ? 1 : 0``, ``for_each = var.streams``
defaulting to ``{}``). Evaluated with the defaults such a block has no instance, so without this
step no rule would judge what the module can deploy. A second evaluation runs on a mirror of
the module tree (symlinks to every file, and copies rewritten line for line of the files that
hold such blocks) in which the gate of each block that gave no instance is replaced by a value
the evaluator cannot know:

- ``count`` becomes unknown: the evaluator then makes one instance with ``count.index = 0``,
  the first instance, which exists whenever the block is created at all (so ``x[0]``
  references between gated blocks still resolve);
- ``for_each`` becomes a one-entry map whose value is unknown: ``each.value`` is unknown and
  ``each.key`` a placeholder that values show as unknown.

The new instances are addressed without an instance key (``aws_iam_user.consumer``,
``module.streams.aws_kinesis_stream.this``), and their ``condition`` names the gate and the
inputs it reads, with ``default=False``: findings then say what creates them.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any, Callable, Iterator, Optional, Sequence

from kds_iac.loaders.discovery import is_terraform_file
from kds_iac.loaders.hcl_syntax import SourceFile
from kds_iac.loaders.terraform_files import FileCache
from kds_iac.loaders.terraform_values import Evaluation, split_module_path
from kds_iac.model import Conditional, Condition, Encoded, FromInputs, Input, Ref, Resource, Template, Unknown

GATES = ("count", "for_each")
EACH_KEY = "__kds_iac_each_key__"  # each.key of a judged for_each instance
UNKNOWN_GATE = "var.kds_iac_unknown_gate__"  # never declared: the evaluator cannot know it
MAX_INSTANCES = 100  # a literal count above this is evaluated as its first instance

TOP_LEVEL_KINDS = ("resource", "data", "module")
LOCAL_SOURCE = re.compile(r"^\.\.?[/\\]|^\.\.?$")


class Block:
    """A top-level ``resource``, ``data`` or ``module`` block as written."""

    __slots__ = ("source", "relative", "kind", "labels", "line", "gate", "gate_item")

    def __init__(self, source: SourceFile, relative: str, kind: str, labels: list[str], line: int):
        self.source = source
        self.relative = relative  # the file, relative to the root module (tfparse's filename)
        self.kind = kind
        self.labels = labels
        self.line = line
        self.gate: Optional[str] = None  # "count" or "for_each"
        self.gate_item: Any = None

    @property
    def key(self) -> tuple[str, int]:
        return (os.path.normpath(self.relative), self.line)

    def gate_text(self) -> str:
        return " ".join(self.source.source_text(self.gate_item).split())


def top_level_blocks(source: SourceFile, relative: str) -> Iterator[Block]:
    """Every ``resource``/``data``/``module`` block of an HCL file, with its gate if any."""
    if source.is_json:
        return
    for item in source.top_level().items:
        if item.kind != "block" or item.name not in TOP_LEVEL_KINDS or not item.labels:
            continue
        block = Block(source, relative, item.name, list(item.labels), source.line_of(item.offset))
        body = source.top_level_body(item)
        for gate in GATES:
            found = body.attribute(gate)
            if found is not None:
                block.gate, block.gate_item = gate, found
                break
        yield block


def module_tree(files: FileCache, root_names: list[str]) -> dict[str, list[Block]]:
    """Blocks of the root module and of every local module directory it reaches, keyed by
    directory relative to the root module (``.``, ``modules/streams``, ``../shared``)."""
    tree: dict[str, list[Block]] = {}
    pending = [(".", root_names)]
    while pending:
        directory, names = pending.pop()
        if directory in tree:
            continue
        blocks: list[Block] = []
        tree[directory] = blocks
        for name in names:
            relative = os.path.normpath(os.path.join(directory, name))
            source = files.get(relative)
            if source is None:
                continue
            for block in top_level_blocks(source, relative):
                blocks.append(block)
                if block.kind != "module":
                    continue
                module_source = _module_source(block)
                if module_source is None or not LOCAL_SOURCE.match(module_source):
                    continue
                child = os.path.normpath(os.path.join(directory, module_source))
                if child not in tree:
                    pending.append((child, _terraform_names(files.path_of(child))))
    return tree


def created_keys(evaluation: Evaluation, resources: list[Resource]) -> set[tuple[str, int]]:
    """(file relative to the root module, line) of every block that gave an instance."""
    keys: set[tuple[str, int]] = set()
    for resource in resources:
        keys.add((_relative(evaluation, resource.location.file), resource.location.start_line))
    for block in evaluation.module_calls.values():
        meta = block.get("__tfmeta") or {}
        if meta.get("filename") and meta.get("line_start"):
            keys.add((os.path.normpath(meta["filename"]), int(meta["line_start"])))
    return keys


def unknown_gate(block: Block) -> str:
    """The gate that makes the evaluator create one instance it cannot key."""
    return UNKNOWN_GATE if block.gate == "count" else f'{{"{EACH_KEY}" = {UNKNOWN_GATE}}}'


def large_counts(tree: dict[str, list[Block]]) -> dict[tuple[str, int], tuple[Block, str]]:
    """Gates that write a number over ``MAX_INSTANCES`` (``count = 1000000``,
    ``count = (((1000000)))``, ``for_each = toset(range(5000))``), with that number taken as 1:
    tfparse takes time quadratic in the instances (1,000: ~2 s; 3,000: ~15 s), and they differ
    only by their index or key, so the first ones stand for them all."""
    capped: dict[tuple[str, int], tuple[Block, str]] = {}
    for blocks in tree.values():
        for block in blocks:
            if block.gate is None:
                continue
            masked = block.source.expression(block.gate_item)  # strings masked: no digits in them
            text = block.source.source_text(block.gate_item)
            pieces, pos = [], 0
            for match in _NUMBER.finditer(masked):
                if _over_limit(match.group(0)):
                    pieces.append(text[pos : match.start()] + "1")
                    pos = match.end()
            if pieces:
                capped[block.key] = (block, "".join(pieces) + text[pos:])
    return capped


def _over_limit(number: str) -> bool:
    try:
        return float(number) > MAX_INSTANCES
    except (OverflowError, ValueError):
        return True


_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")


def rewritten(source: SourceFile, replacements: list[tuple[Block, str]]) -> str:
    """The file's text with the gates of blocks replaced, line numbers unchanged."""
    text = source.text
    pieces: list[str] = []
    pos = 0
    for block, replacement in sorted(replacements, key=lambda pair: pair[0].gate_item.start):
        item = block.gate_item
        pieces.append(text[pos : item.start])
        pieces.append(replacement + "\n" * text.count("\n", item.start, item.end))
        pos = item.end
    pieces.append(text[pos:])
    return "".join(pieces)


def rewrites_of(replacements: dict[tuple[str, int], tuple[Block, str]]) -> dict[str, str]:
    """The rewritten text of each file that holds a replaced gate, by relative path."""
    by_file: dict[str, list[tuple[Block, str]]] = {}
    for block, replacement in replacements.values():
        by_file.setdefault(block.relative, []).append((block, replacement))
    return {relative: rewritten(pairs[0][0].source, pairs) for relative, pairs in by_file.items()}


def build_mirror(root: str, tree: dict[str, list[Block]], rewrites: dict[str, str], target: str) -> str:
    """Mirror the module tree under ``target``: rewritten files written, everything else a
    symlink to the original. Returns the root module's directory in the mirror."""
    root = os.path.abspath(root)
    directories = {os.path.normpath(os.path.join(root, d)) for d in tree}
    base = os.path.commonpath(sorted(directories))
    real: set[str] = set()
    for directory in directories:
        while True:
            real.add(directory)
            if directory == base:
                break
            directory = os.path.dirname(directory)
    written = {os.path.normpath(os.path.join(root, r)): text for r, text in rewrites.items()}
    for directory in sorted(real):
        mirrored = os.path.join(target, os.path.relpath(directory, base))
        os.makedirs(mirrored, exist_ok=True)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for name in entries:
            original = os.path.join(directory, name)
            if original in real:
                continue
            destination = os.path.join(mirrored, name)
            if original in written:
                with open(destination, "w", encoding="utf-8") as handle:
                    handle.write(written[original])
            else:
                os.symlink(original, destination)
    return os.path.join(target, os.path.relpath(root, base))


def judged_instances(
    first: Evaluation,
    second: Evaluation,
    rewritten: dict[tuple[str, int], Block],
    overrides: Sequence[tuple[Resource, list[Resource]]] = (),
) -> list[Resource]:
    """The resources of the second evaluation that exist only because a gate was made
    unknown, re-addressed, given their gate as condition, and linked to the first
    evaluation's resources for everything else (``second.failures`` holds those that could
    not be read). ``overrides``: override-file resources and the resources they merge into
    (``terraform_override``); one whose original is judged is converted with it, for the
    caller to merge."""
    gates = {}
    for _, resource in second.blocks:
        gate = _gate_of(second, resource, rewritten)
        if gate is not None:
            gates[id(resource)] = gate
    for override, targets in overrides:
        gate = next((gates[id(t)] for t in targets if id(t) in gates), None)
        if gate is not None:
            gates[id(override)] = gate
    new = second.resources(keep=lambda r: id(r) in gates)
    keyed = sorted(
        (p for p in second.module_calls if p.endswith("]") and _call_key(second, p) in rewritten), key=len, reverse=True
    )
    renames = [(p, _keyless_modules(second, p, rewritten)) for p in keyed]

    def named(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
        return tuple(Input(i.kind, _renamed(i.name, renames), i.default, i.has_default, i.location) for i in inputs)

    for resource in new:
        block, module, call = gates[id(resource)]
        inputs = named(second.inputs_of_expression(module, block.source.expression(block.gate_item)))
        name = f"{_keyless_modules(second, call, rewritten)}: " if call else ""
        resource.condition = Condition(f"{name}{block.gate} = {_shortened(block.gate_text())}", False, inputs)
    for resource in new + [r for r, _ in second.failures]:
        module_path, own = split_module_path(resource.address)
        own = _keyless_own(own, _own_key(second, resource) in rewritten)
        resource.module = _keyless_modules(second, module_path, rewritten)
        resource.address = f"{resource.module}.{own}" if resource.module else own
    kept = {id(r) for r in new}

    def relink(ref: Ref) -> Any:
        if id(ref.target) in kept:
            return ref
        target = first.by_address.get(ref.target.address)
        if target is None:
            return Unknown(f"{ref.target.address} is not created with the input values of this scan")
        return Ref(target, ref.attribute)

    for resource in new:
        resource.attributes = {k: _mapped(v, relink, named) for k, v in resource.attributes.items()}
    return new


# -- helpers -----------------------------------------------------------------------------


def _gate_of(
    evaluation: Evaluation, resource: Resource, rewritten: dict[tuple[str, int], Block]
) -> Optional[tuple[Block, str, str]]:
    """The innermost rewritten gate a resource exists through (its own block's, else a
    module call's), the module whose scope the gate expression is written in, and the
    module call it gates ("" for the resource's own gate)."""
    own = rewritten.get(_own_key(evaluation, resource))
    if own is not None:
        return own, resource.module, ""
    module = resource.module
    while module:
        parent, _ = split_module_path(module)
        call = evaluation.module_calls.get(module)
        meta = (call or {}).get("__tfmeta") or {}
        if meta.get("filename") and meta.get("line_start"):
            block = rewritten.get((os.path.normpath(meta["filename"]), int(meta["line_start"])))
            if block is not None:
                return block, parent, module
        module = parent
    return None


def _keyless_own(address: str, own_rewritten: bool) -> str:
    """A resource address without the instance key its rewritten gate gave it."""
    for key in ("[0]", f'["{EACH_KEY}"]'):
        if own_rewritten and address.endswith(key):
            return address[: -len(key)]
    return address


def _keyless_modules(evaluation: Evaluation, module_path: str, rewritten: dict[tuple[str, int], Block]) -> str:
    """A module path with the keys of rewritten calls dropped (``module.m[0]`` -> ``module.m``);
    the keys of instances that really exist are kept."""
    segments: list[str] = []
    path = module_path
    while path:
        parent, own = split_module_path(path)
        if _call_key(evaluation, path) in rewritten:
            own = _keyless_own(own, True)
        segments.append(own)
        path = parent
    return ".".join(reversed(segments))


def _call_key(evaluation: Evaluation, path: str) -> Optional[tuple[str, int]]:
    call = evaluation.module_calls.get(path)
    meta = (call or {}).get("__tfmeta") or {}
    if meta.get("filename") and meta.get("line_start"):
        return (os.path.normpath(meta["filename"]), int(meta["line_start"]))
    return None


def _mapped(value: Any, relink: Callable[[Ref], Any], named: Callable[[tuple], tuple]) -> Any:
    """``value`` with every edge passed through ``relink``, inputs through ``named``, and
    each.key placeholders unknown."""
    if isinstance(value, Ref):
        return relink(value)
    if isinstance(value, str):
        return _each_key_unknown(value)
    if isinstance(value, dict):
        return {k: _mapped(v, relink, named) for k, v in value.items()}
    if isinstance(value, list):
        return [_mapped(v, relink, named) for v in value]
    if isinstance(value, FromInputs):
        return FromInputs(_mapped(value.value, relink, named), named(value.inputs))
    if isinstance(value, Template):
        return Template(tuple(_mapped(p, relink, named) for p in value.parts))
    if isinstance(value, Conditional):
        when_true, when_false = _mapped(value.when_true, relink, named), _mapped(value.when_false, relink, named)
        return Conditional(value.condition, when_true, when_false)
    if isinstance(value, Encoded):
        return Encoded(value.reason, value.encoding, _mapped(value.value, relink, named))
    return value


def _renamed(name: str, renames: list[tuple[str, str]]) -> str:
    """An input's name (``module.m[0].var.x``) with the keys of judged module calls dropped."""
    name = name.replace(f'["{EACH_KEY}"]', "")
    for keyed, keyless in renames:
        if name.startswith(keyed + "."):
            return keyless + name[len(keyed) :]
    return name


def _each_key_unknown(text: str) -> Any:
    if EACH_KEY not in text:
        return text
    unknown = Unknown("each.key of a block not created with the input values of this scan")
    if text == EACH_KEY:
        return unknown
    parts: list[Any] = []
    for index, piece in enumerate(text.split(EACH_KEY)):
        if index:
            parts.append(unknown)
        if piece:
            parts.append(piece)
    return Template(tuple(parts))


def _own_key(evaluation: Evaluation, resource: Resource) -> tuple[str, int]:
    return (_relative(evaluation, resource.location.file), resource.location.start_line)


def _relative(evaluation: Evaluation, path: str) -> str:
    """``path`` relative to the root module, remembered by the evaluation (one module's
    load): ``relpath`` (two ``abspath`` calls) per resource was 3 % of a large scan."""
    known = evaluation.relative_paths
    relative = known.get(path)
    if relative is None:
        relative = known[path] = os.path.normpath(os.path.relpath(path, evaluation.directory))
    return relative


def _module_source(block: Block) -> Optional[str]:
    body = block.source.block(block.line, block.labels[-1])
    item = body.attribute("source") if body is not None else None
    if item is None:
        return None
    text = block.source.source_text(item).strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and "${" not in text:
        return text[1:-1]
    return None


def _terraform_names(directory: str) -> list[str]:
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in entries if is_terraform_file(n) and os.path.isfile(os.path.join(directory, n))]


def _shortened(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


__all__ = [
    "Block",
    "EACH_KEY",
    "GATES",
    "LOCAL_SOURCE",
    "TOP_LEVEL_KINDS",
    "build_mirror",
    "created_keys",
    "judged_instances",
    "module_tree",
    "large_counts",
    "rewrites_of",
    "top_level_blocks",
    "unknown_gate",
]
