"""``Fn::ForEach`` of the ``AWS::LanguageExtensions`` transform, expanded before loading.

CloudFormation expands a loop ``"Fn::ForEach::Name": [Identifier, Collection, {OutputKey:
OutputValue}]`` into one ``OutputKey: OutputValue`` per item of the collection, with every
``${Identifier}`` and ``&{Identifier}`` (the item without its non-alphanumeric characters)
replaced in keys and strings and every ``Ref: Identifier`` replaced by the item. Loops may
sit in ``Resources``, ``Outputs``, ``Conditions`` and resource properties, and may nest.

Here the expansion works on the template as read (``cfn_reader`` mappings), so what it
produces keeps the lines of the loop it came from. The collection is known when it is a
literal list or a ``Ref`` to a list parameter (``CommaDelimitedList``, ``List<...>``) with a
default: each item gives an instance, named as CloudFormation would (``StreamClicks``). Any
other collection gives one instance whose key keeps the template text (``Stream${Name}``)
and whose identifier stays unresolved: the loader treats ``Ref: Name`` and ``${Name}`` as
known only at deployment (``Expansion.loop_variables``).

Nothing here evaluates other intrinsics; ``Fn::Length``, ``Fn::ToJsonString`` and the
``Fn::FindInMap`` ``DefaultValue`` are the loader's, as ordinary functions.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Optional

from kds_iac.loaders.cfn_reader import Mapping, Sequence

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOREACH_PREFIX = "Fn::ForEach::"
SECTIONS = ("Resources", "Outputs", "Conditions")
MAX_INSTANCES = 1000  # what one template may expand to; beyond it, loops are not expanded
MAX_NODES = 1_000_000  # values copied by all expansions of one template (a big fragment, many items)
MAX_DEPTH = 20  # loops inside loops


class Problem(NamedTuple):
    level: str
    line: int
    message: str


class Expansion(NamedTuple):
    data: Any  # the template with its loops expanded
    loop_variables: dict[str, str]  # identifier -> why its value is not known
    problems: list[Problem]


def expand(data: dict) -> Expansion:
    """The template with every ``Fn::ForEach`` of its sections expanded."""
    expander = _Expander(data)
    result = Mapping(data)
    _copy_lines(data, result)
    if isinstance(data, Mapping):
        result.key_lines = dict(data.key_lines)
        result.key_columns = dict(data.key_columns)
    for section in SECTIONS:
        node = data.get(section)
        if isinstance(node, dict):
            result[section] = expander.walk(node, 0)
    return Expansion(result, expander.loop_variables, expander.problems)


class _Expander:
    def __init__(self, data: dict):
        parameters = data.get("Parameters")
        self.parameters = parameters if isinstance(parameters, dict) else {}
        self.loop_variables: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.instances = 0
        self.nodes = 0

    def walk(self, node: Any, depth: int) -> Any:
        """``node`` with the loops in it (at any depth) expanded."""
        if isinstance(node, dict):
            if not any(isinstance(k, str) and k.startswith(FOREACH_PREFIX) for k in node):
                out = _new_mapping(node)
                for key, value in node.items():
                    _put(out, node, key, key, self.walk(value, depth))
                return out
            return self.expand_mapping(node, depth)
        if isinstance(node, list):
            out_list = Sequence(self.walk(item, depth) for item in node)
            _copy_lines(node, out_list)
            return out_list
        return node

    def expand_mapping(self, node: dict, depth: int) -> Any:
        out = _new_mapping(node)
        for key, value in node.items():
            line = _key_line(node, key)
            if not (isinstance(key, str) and key.startswith(FOREACH_PREFIX)):
                self.add(out, node, key, key, self.walk(value, depth), line)
                continue
            if depth >= MAX_DEPTH:
                self.problems.append(Problem("error", line, f"{key}: loops nested more than {MAX_DEPTH} deep; not expanded"))
                continue
            if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and isinstance(value[2], dict)):
                self.problems.append(Problem("error", line, f"{key} needs [identifier, collection, {{output key: value}}]"))
                continue
            identifier, collection, fragment = value
            items = self.collection(collection)
            copied = len(items) * _size(fragment, MAX_NODES + 1) if items is not None else 0
            if items is not None and (
                self.instances + len(items) * max(len(fragment), 1) > MAX_INSTANCES or self.nodes + copied > MAX_NODES
            ):
                self.problems.append(
                    Problem("info", line, f"{key} would make more than {MAX_INSTANCES} instances or copy more than "
                                          f"{MAX_NODES} values; judged as one instance with {identifier} unknown")
                )
                items = None
            for output_key in fragment:
                if isinstance(output_key, str) and not output_key.startswith(FOREACH_PREFIX) and not _mentions(output_key, identifier):
                    self.problems.append(
                        Problem("error", _key_line(fragment, output_key, line),
                                f"{key}: output key {output_key} does not use ${{{identifier}}} or &{{{identifier}}}")
                    )
            if items is None:
                self.loop_variables.setdefault(
                    identifier, f"{identifier} of {key}, whose collection is known only at deployment"
                )
                self.instances += len(fragment)
                expanded = self.walk(fragment, depth + 1)
                for output_key, item in expanded.items():
                    self.add(out, expanded, output_key, output_key, item, line)
                continue
            self.nodes += copied
            for item in items:
                self.instances += len(fragment)
                copy = _substitute(fragment, identifier, item)
                expanded = self.walk(copy, depth + 1)
                for output_key, produced in expanded.items():
                    self.add(out, expanded, output_key, output_key, produced, line)
        return out

    def add(self, out: Mapping, source: dict, source_key: Any, key: Any, value: Any, line: int) -> None:
        if key in out:
            self.problems.append(Problem("error", _key_line(source, source_key, line), f"Fn::ForEach: {key} is defined twice"))
        _put(out, source, source_key, key, value)

    def collection(self, collection: Any) -> Optional[list[str]]:
        """The items as text, or ``None`` when only a deployment knows them."""
        if isinstance(collection, list):
            if all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in collection):
                return [str(item) for item in collection]
            return None
        if isinstance(collection, dict) and list(collection) == ["Ref"] and isinstance(collection["Ref"], str):
            declaration = self.parameters.get(collection["Ref"])
            if not isinstance(declaration, dict) or "Default" not in declaration:
                return None
            type_, default = declaration.get("Type"), declaration.get("Default")
            if not (isinstance(type_, str) and (type_ == "CommaDelimitedList" or type_.startswith("List<"))):
                return None
            if isinstance(default, str):
                return [item.strip() for item in default.split(",")] if default else []
            if isinstance(default, list) and all(isinstance(i, str) for i in default):
                return list(default)
        return None


def _size(node: Any, limit: int) -> int:
    """How many values ``node`` holds, counting stopped past ``limit``."""
    count = 0
    stack = [node]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _mentions(text: str, identifier: str) -> bool:
    return "${" + identifier + "}" in text or "&{" + identifier + "}" in text


def _substitute(node: Any, identifier: str, item: str) -> Any:
    """A copy of ``node`` (lines kept) with ``identifier`` replaced by ``item``."""
    if isinstance(node, dict):
        if list(node) == ["Ref"] and node["Ref"] == identifier:
            return item
        out = _new_mapping(node)
        for key, value in node.items():
            new_key = _replace(key, identifier, item) if isinstance(key, str) else key
            _put(out, node, key, new_key, _substitute(value, identifier, item))
        return out
    if isinstance(node, list):
        out_list = Sequence(_substitute(v, identifier, item) for v in node)
        _copy_lines(node, out_list)
        return out_list
    if isinstance(node, str):
        return _replace(node, identifier, item)
    return node


_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


def _replace(text: str, identifier: str, item: str) -> str:
    if "{" not in text:
        return text
    return text.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", _NOT_ALPHANUMERIC.sub("", item))


def _new_mapping(like: Any) -> Mapping:
    out = Mapping()
    _copy_lines(like, out)
    return out


def _copy_lines(source: Any, target: Any) -> None:
    target.start_line = getattr(source, "start_line", 0)
    target.end_line = getattr(source, "end_line", 0)


def _key_line(mapping: Any, key: Any, default: int = 1) -> int:
    if isinstance(mapping, Mapping):
        return mapping.key_lines.get(key, default)
    return default


def _put(out: Mapping, source: Any, source_key: Any, key: Any, value: Any) -> None:
    out[key] = value
    if isinstance(source, Mapping):
        if source_key in source.key_lines:
            out.key_lines[key] = source.key_lines[source_key]
        if source_key in source.key_columns:
            out.key_columns[key] = source.key_columns[source_key]
