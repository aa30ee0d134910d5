"""Terraform override files (``override.tf``, ``*_override.tf`` and their ``.tf.json``) merged
into the blocks they override, as Terraform does.

tfparse evaluates an override file like any other: a resource written in ``main.tf`` and again
in ``streams_override.tf`` comes back as two blocks with the same address, and references to
that address carry the id of the block written last (the override's). Terraform instead merges
each override block into the block with the same header: a top-level argument of the override
replaces the original's, each nested block type it writes replaces every block of that type
(``lifecycle`` merges argument by argument), and override files apply one after another in
lexicographic order of their names, then in the order of their blocks.

The model keeps one resource per address: the original block, where a person reads and edits
it, with the merged attributes. ``Resource.attribute_lines`` holds lines of the resource's own
file only, so an argument set by the override has no line of its own: a finding on it points at
the original block's header (never at the original's overruled argument).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Iterable, Optional

from kds_iac.loaders.terraform_values import Evaluation, split_module_path
from kds_iac.model import Resource


@lru_cache(maxsize=4096)  # asked for the file of every resource of a module
def is_override_file(path: str) -> bool:
    """Whether Terraform treats the file as an override file (``override.tf``,
    ``x_override.tf``, ``override.tf.json``, ``x_override.tf.json``)."""
    name = os.path.basename(path)
    stem = name[: -len(".json")] if name.endswith(".tf.json") else name
    return stem == "override.tf" or stem.endswith("_override.tf")


class Merges:
    """Override resources and the resources they merge into, in the order Terraform applies them."""

    __slots__ = ("pairs", "overrides")

    def __init__(self) -> None:
        self.pairs: list[tuple[Resource, list[Resource]]] = []
        self.overrides: set[int] = set()  # id() of the override resources

    def __bool__(self) -> bool:
        return bool(self.pairs)


def prepare(evaluation: Evaluation, written: Optional[set[tuple[str, str, tuple[str, ...]]]] = None) -> Merges:
    """Before the blocks are converted: match each override block with the block(s) it
    overrides (same module instance and address, instance keys aside) and make references and
    address lookups reach the original, so that edges point at the one resource kept.

    ``written``: (directory, kind, labels) of the blocks of ordinary files. An override block
    whose original is written but gave no instance (``count = 0``) is taken out too: merged,
    it has the original's gate, so it creates nothing either (the gate judgement merges it
    into the instance it judges)."""
    merges = Merges()
    originals: dict[tuple[str, str], list[Resource]] = {}
    overrides: list[tuple[dict, Resource]] = []
    for block, resource in evaluation.blocks:
        if resource.type.startswith("provider."):
            continue
        filename = (block.get("__tfmeta") or {}).get("filename") or ""
        if is_override_file(filename):
            overrides.append((block, resource))
        else:
            originals.setdefault(_header(resource), []).append(resource)
    if not overrides:
        return merges
    overrides.sort(key=lambda pair: (os.path.basename(pair[1].location.file), pair[1].location.file, pair[1].location.start_line))
    for block, override in overrides:
        targets = originals.get(_header(override), [])
        if not targets and _written_header(override) not in (written or ()):
            continue  # nothing to merge into (Terraform refuses it): left as tfparse gave it
        merges.pairs.append((override, targets))
        merges.overrides.add(id(override))
        same = [t for t in targets if t.address == override.address]
        block_id = block.get("id")
        if isinstance(block_id, str):
            if targets:
                evaluation.resource_of_id[block_id] = same[0] if same else targets[0]
            else:  # a reference reads as one to an uncreated block
                evaluation.resource_of_id.pop(block_id, None)
        if evaluation.by_address.get(override.address) is override:
            if same:
                evaluation.by_address[override.address] = same[0]
            else:
                del evaluation.by_address[override.address]
        for instances in evaluation.instances.values():
            if override in instances:
                instances[:] = [r for r in instances if r is not override]
    return merges


def merge(resources: list[Resource], merges: Merges) -> tuple[list[Resource], list[Resource]]:
    """The resources with each override merged into its original(s), and the override
    resources taken out (their blocks were read: they are not "not checked")."""
    if not merges:
        return resources, []
    converted = {id(r) for r in resources}
    for override, targets in merges.pairs:
        if id(override) not in converted:
            continue  # could not be read: reported as such
        for target in targets:
            for name, value in override.attributes.items():
                old = target.attributes.get(name)
                if name == "lifecycle" and isinstance(old, dict) and isinstance(value, dict):
                    value = {**old, **value}
                target.attributes[name] = _copied(value) if len(targets) > 1 else value
                target.attribute_lines.pop(name, None)
            for rule, reason in override.skips.items():
                target.skips.setdefault(rule, reason)
    kept = [r for r in resources if id(r) not in merges.overrides]
    merged_away = [r for r in resources if id(r) in merges.overrides]
    return kept, merged_away


def _header(resource: Resource) -> tuple[str, str]:
    """(module instance, own address without its instance key): what an override matches."""
    module, own = split_module_path(resource.address)
    if own.endswith("]"):
        own = own.rsplit("[", 1)[0]
    return module, own


def _written_header(resource: Resource) -> tuple[str, str, tuple[str, ...]]:
    """(directory, kind, labels) of the block a resource comes from."""
    _, own = _header(resource)
    kind = "data" if own.startswith("data.") else "resource"
    return os.path.dirname(resource.location.file), kind, (resource.type, own.rsplit(".", 1)[-1])


def written_blocks(blocks: Iterable[Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    """(directory, kind, labels) of the resource and data blocks (``terraform_gates.Block``)
    written in ordinary files, for ``prepare``."""
    return {
        (os.path.dirname(b.source.path), b.kind, tuple(b.labels))
        for b in blocks
        if b.kind in ("resource", "data") and len(b.labels) == 2 and not is_override_file(b.source.path)
    }


def _copied(value: Any) -> Any:
    """Plain containers copied (one override merged into several instances); values and
    edges inside are shared, as they are immutable for rules."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


__all__ = ["Merges", "is_override_file", "merge", "prepare", "written_blocks"]
