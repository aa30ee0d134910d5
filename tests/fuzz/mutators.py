"""Mutators: byte-level ones for any file, structure-aware ones for JSON, YAML and HCL.

Every mutator takes ``(data, rng, other)`` -- the file's bytes, a ``random.Random`` and the
bytes of another seed for splicing -- and returns new bytes, or raises ``Skip`` when it does
not apply (e.g. a JSON mutator on text that no longer parses). Everything is driven by
``rng``, so a case is reproduced from its seed alone.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Callable

import yaml


class Skip(Exception):
    """The mutator does not apply to this input."""


Mutator = Callable[[bytes, random.Random, bytes], bytes]

# Tokens known to upset parsers, evaluators and the code after them.
TOKENS: tuple[bytes, ...] = tuple(
    t if isinstance(t, bytes) else t.encode("utf-8")
    for t in (
        "[" * 200, "{" * 120, "[" * 5000, "]" * 50, "}" * 50, "(" * 300,
        "1" + "0" * 400, "-1" + "0" * 30, "18446744073709551616", "9223372036854775808", "1e999", "-0", "0x7f",
        "1.7976931348623157e309", "NaN", "Infinity", "-Infinity", ".inf", ".nan", "0o777", "1_000",
        '!!int ""', '!!float "x"', "!!binary ===", "!!set {a, b}", "!!timestamp 2001-13-45", "!!omap [a]",
        "!!python/object/apply:os.system ['true']", "!!map", "!!seq", "!!str", "!!null", "!<tag:yaml.org,2002:int> x",
        "!Foo", "!Ref", "!GetAtt", "!Sub", "!If [", "!Join [", "!FindInMap", "!Condition", "!Base64", "!",
        "&a", "*a", "*undefined", "<<: *a", "&a [1, 2]", "<<: [*a, *a]", "? [a]\n: b", "---\n", "\n...\n",
        "%YAML 1.1\n---\n", "%TAG ! tag:x,2000:\n---\n",
        "\ufeff", "\xff\xfe", "\x00", "\x7f", "\x1b[31m", "\r", "\r\n", "\t", "\u2028", "\u202e", "\ufffe",
        "a" * 5000, "ünïcødé", "日本語", "𝔘", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "${", "${var.", "${aws:username}", "${AWS::Region}", "${!Literal}", "${self:x}", "%{", "%{ if true }", "%{ endif }",
        "$${", "<<EOF\nx\nEOF\n", "<<-EOT\n  y\n  EOT\n", "<<EOF\n", "EOF",
        "count = 1000000", "count = -1", 'count = "x"', "for_each = 1", 'file("../../x")', 'templatefile("../../x", {})',
        'file("/nonexistent")', "sensitive(", "dynamic", "moved {", "import {", "check {",
        "null", "true", "false", "[]", "{}", '""', "''", '"', "'", "\\", "#", "//", "/*", "*/", ":", ": ", "- ", ",", ";",
        "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Transform", '{"Ref": "AWS::NoValue"}', "AWS::NoValue", "AWS::Region",
        "AWS::Kinesis::Stream", "AWS::Serverless::Function", "AWS::Serverless-2016-10-31", "AWS::Include",
        "Type: AWS::Kinesis::Stream", "Transform: AWS::Serverless-2016-10-31", "Globals:", "Condition: C",
        '"planned_values"', '"resource_changes"', '"after_unknown": true', '"format_version": "9.0"',
        "#checkov:skip=CKV_KDS_1:x", "#checkov:skip=", "arn:aws:kinesis:*:*:stream/*", "*", "kinesis:*",
    )
)

# Values a structure-aware mutator puts in place of a node.
HCL_EXPRESSIONS = (
    "1000000", "-1", '"x"', "null", "true", "[]", "{}", "[[[[[[[[[[1]]]]]]]]]]", "1" + "0" * 60, "1e999",
    "var.undefined", "local.undefined", "module.nope.out", "data.x.y.z", "aws_kinesis_stream.missing.arn",
    'file("../../x")', 'templatefile("../../x", {})', 'jsonencode({a = [1, {b = null}]})', 'jsondecode("{")',
    'sensitive("s")', "nonsensitive(1)", 'tostring([])', 'length(null)', "range(100000)", 'split("", "")',
    '"${"', '"%{ if true }x%{ endif }"', '"${var.a}${var.a}"', "<<EOF\nheredoc\nEOF", "<<-EOT\n  indented\n  EOT",
    "[for x in range(10) : x]", "{for k, v in {} : k => v}", "true ? 1 : \"a\"", "!null", "-\"x\"", "1 / 0",
    "try(var.x, 1)", "can(var.x)", "lookup({}, \"a\")", "element([], 0)", "regex(\"(\", \"x\")", "abspath(path.root)",
    # shapes the views and rules read: policies, keys and ARNs of unexpected types
    'jsonencode("not a policy")', "jsonencode({Statement = \"x\"})", "jsonencode({Statement = [{Effect = 1, Action = {}, Resource = null}]})",
    'jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", NotAction = ["kinesis:Put*"], NotResource = "*", Principal = "*"}]})',
    '["a", 1, null, {}]', "{a = {b = []}}", 'tolist(["kinesis:*"])', '"arn:aws:kinesis:us-east-1:1:stream/${var.x}"', '"alias/aws/kinesis"',
    '"KMS"', '"NONE"', '"kms"', "aws_kms_key.missing.arn", "aws_kinesis_stream.missing[0].arn", "var.streams[*].arn",
)
HCL_BLOCKS = (
    'variable "bad_type" {\n  type = notatype\n}\n',
    'variable "v" {\n  type    = map(object({a = string}))\n  default = {x = {a = 1, b = 2}}\n}\n',
    'variable "w" {\n  validation {\n    condition = false\n    error_message = "no"\n  }\n}\n',
    'locals {\n  s = sensitive("bucket")\n  many = [for i in range(2000) : i]\n}\n',
    'resource "aws_s3_bucket" "b" {\n  bucket = sensitive("name")\n}\n',
    'resource "aws_kinesis_stream" "many" {\n  count = 1000000\n  name  = "s${count.index}"\n}\n',
    'resource "aws_kinesis_stream" "each" {\n  for_each = {a = 1, b = 2}\n  name = each.key\n  encryption_type = each.value\n}\n',
    'resource "aws_kinesis_stream" "f" {\n  name = file("../../x")\n}\n',
    'module "up" {\n  source = "../../"\n}\n',
    'module "self" {\n  source = "./"\n}\n',
    'module "remote" {\n  source = "git::https://example.invalid/x.git"\n}\n',
    'data "aws_iam_policy_document" "d" {\n  statement {\n    actions   = ["kinesis:*"]\n    resources = ["*"]\n  }\n}\n',
    'resource "aws_iam_policy" "p" {\n  policy = data.aws_iam_policy_document.nope.json\n}\n',
    'resource "aws_iam_role_policy" "q" {\n  role   = "r"\n  policy = jsonencode({Statement = [{Effect = "Allow", Action = "*", Resource = 1}]})\n}\n',
    'resource "aws_kinesis_stream" "dyn" {\n  dynamic "x" {\n    for_each = [1, 2]\n    content {\n      y = x.value\n    }\n  }\n}\n',
    'output "o" {\n  value = aws_kinesis_stream.nope\n}\n',
    'terraform {\n  required_version = ">= 99.0"\n}\n',
    'moved {\n  from = aws_kinesis_stream.a\n  to   = aws_kinesis_stream.b\n}\n',
    'provider "aws" {\n  alias  = "x"\n  region = var.region\n}\n',
    'resource "aws_kinesis_stream" "dup" {\n}\nresource "aws_kinesis_stream" "dup" {\n}\n',
)


def _position(data: bytes, rng: random.Random) -> int:
    """A random offset, often at a line start so tokens land where syntax begins."""
    if data and rng.random() < 0.5:
        starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
        return rng.choice(starts)
    return rng.randint(0, len(data))


def _slice(data: bytes, rng: random.Random, longest: int = 256) -> tuple[int, int]:
    if not data:
        raise Skip
    start = rng.randrange(len(data))
    return start, min(len(data), start + rng.randint(1, longest))


# -- byte-level ---------------------------------------------------------------------------


def flip_bits(data: bytes, rng: random.Random, other: bytes) -> bytes:
    if not data:
        raise Skip
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert_bytes(data: bytes, rng: random.Random, other: bytes) -> bytes:
    at = _position(data, rng)
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[at:]


def delete_slice(data: bytes, rng: random.Random, other: bytes) -> bytes:
    start, end = _slice(data, rng)
    return data[:start] + data[end:]


def duplicate_slice(data: bytes, rng: random.Random, other: bytes) -> bytes:
    start, end = _slice(data, rng, 2048)
    at = _position(data, rng)
    return data[:at] + data[start:end] * rng.choice((1, 1, 2, 10, 200)) + data[at:]


def splice(data: bytes, rng: random.Random, other: bytes) -> bytes:
    if not data or not other:
        raise Skip
    return data[: rng.randint(0, len(data))] + other[rng.randint(0, len(other)) :]


def insert_token(data: bytes, rng: random.Random, other: bytes) -> bytes:
    at = _position(data, rng)
    token = rng.choice(TOKENS)
    if rng.random() < 0.1:
        token = token[:1] * rng.choice((1000, 20000, 90000))  # very deep brackets, long runs
    return data[:at] + token + data[at:]


def replace_word(data: bytes, rng: random.Random, other: bytes) -> bytes:
    words = list(re.finditer(rb"[A-Za-z0-9_:.$*-]+", data))
    if not words:
        raise Skip
    word = rng.choice(words)
    return data[: word.start()] + rng.choice(TOKENS) + data[word.end() :]


def truncate(data: bytes, rng: random.Random, other: bytes) -> bytes:
    if not data:
        raise Skip
    return data[: rng.randrange(len(data))]


BYTE_MUTATORS: tuple[Mutator, ...] = (
    flip_bits, insert_bytes, delete_slice, duplicate_slice, splice, insert_token, insert_token,
    replace_word, replace_word, truncate,
)

# -- structure-aware: JSON and YAML trees -------------------------------------------------


class Tagged:
    """A YAML node with an explicit tag (``!Ref x``, ``!!int ""``), kept through a round trip."""

    def __init__(self, tag: str, value: Any):
        self.tag = tag
        self.value = value


class _TagLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.MappingNode):
        value: Any = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return Tagged(node.tag, value)


_TagLoader.add_multi_constructor("!", _construct_tagged)
# Timestamps and binary stay text: the round trip need not understand them.
_TagLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_TagLoader.add_constructor("tag:yaml.org,2002:binary", lambda loader, node: loader.construct_scalar(node))


class _TagDumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_TagDumper.add_representer(Tagged, _represent_tagged)


def _leaf_values(rng: random.Random, tree_node: Any) -> list[Any]:
    return [
        [], {}, [[[[[]]]]], 0, -1, 1.5, True, False, None, 10**30, 10**400, float("inf"), float("nan"), "",
        "*", "x" * 3000, "ünï", "${", "arn:aws:kinesis:*:*:stream/*", "kinesis:*", "AWS::Kinesis::Stream",
        "AWS::Serverless::Function", {"Ref": "AWS::NoValue"}, {"Fn::GetAtt": 1}, {"Fn::If": []}, {"Fn::Sub": [1]},
        {"Ref": rng.choice(("Missing", "AWS::Region", ""))}, {"Fn::Join": ["", [{"Ref": "X"}]]},
        [tree_node, tree_node], {"a": tree_node},
        Tagged("!Ref", ""), Tagged("!GetAtt", ["a"]), Tagged("!Sub", {"x": 1}), Tagged("!Unknown", "x"),
        Tagged("tag:yaml.org,2002:int", ""), Tagged("tag:yaml.org,2002:float", "x"), Tagged("!If", [1]),
        # SAM and CloudFormation shapes the translator and the loaders look into
        "KinesisCrudPolicy", {"KinesisCrudPolicy": {"StreamName": tree_node}}, {"KinesisStreamReadPolicy": {}},
        {"Type": "Kinesis", "Properties": {"Stream": tree_node, "StartingPosition": "LATEST"}},
        {"Function": {"Runtime": tree_node}}, {"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": tree_node}]},
        {"Version": "2012-10-17", "Statement": tree_node}, {"Fn::Select": [float("inf"), [1]]}, {"Fn::Cidr": [tree_node, 2, 8]},
    ]


def _nodes(tree: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every node of a tree (dict keys, list indexes, ``Tagged`` values as "tag")."""
    out = [path]
    seen = {id(tree)}
    stack = [(tree, path)]
    while stack:
        node, here = stack.pop()
        if isinstance(node, Tagged):
            node, here = node.value, here + ("<tag>",)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            if id(child) in seen and isinstance(child, (dict, list)):
                continue
            seen.add(id(child))
            out.append(here + (key,))
            stack.append((child, here + (key,)))
        if len(out) > 20000:
            break
    return out


def _get(tree: Any, path: tuple) -> Any:
    for key in path:
        tree = tree.value if key == "<tag>" else tree[key]
    return tree


def _set(tree: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = _get(tree, path[:-1])
    if path[-1] == "<tag>":
        parent.value = value
    else:
        parent[path[-1]] = value
    return tree


def mutate_tree(tree: Any, rng: random.Random) -> Any:
    """One structural change: replace, delete, deepen, alias or rename a node."""
    paths = _nodes(tree)
    path = rng.choice(paths)
    node = _get(tree, path)
    action = rng.choice(("replace", "replace", "replace", "delete", "deepen", "alias", "rename", "string"))
    if action == "replace":
        return _set(tree, path, rng.choice(_leaf_values(rng, node)))
    if action == "delete" and path and path[-1] != "<tag>":
        parent = _get(tree, path[:-1])
        if isinstance(parent, (dict, list)):
            del parent[path[-1]]
            return tree
    if action == "deepen":
        for _ in range(rng.choice((1, 3, 50, 150))):
            node = [node] if rng.random() < 0.5 else {"k": node}
        return _set(tree, path, node)
    if action == "alias":  # the same object twice: YAML dumps it as an anchor and an alias
        other = _get(tree, rng.choice(paths))
        if path and isinstance(other, (dict, list)):
            return _set(tree, path, other)
    if action == "rename" and path and isinstance(path[-1], str) and path[-1] != "<tag>":
        parent = _get(tree, path[:-1])
        if isinstance(parent, dict):
            new_key = rng.choice((
                "Type", "Properties", "Resources", "Condition", "DependsOn", "Metadata", "", "x" * 300, "Fn::If", "Ref", "<<",
                "Globals", "Events", "Policies", "Parameters", "Conditions", "Mappings", "Outputs", "Transform",
            ))
            parent[new_key] = parent.pop(path[-1])
            return tree
    if isinstance(node, str) or action == "string":
        return _set(tree, path, rng.choice(("", "*", "${x}", "${AWS::NoSuch}", "x" * 10000, "\x00", "AWS::Serverless::Api", "aws:kms", "alias/aws/kinesis", "KMS", "NONE")))
    return _set(tree, path, None)


def json_structure(data: bytes, rng: random.Random, other: bytes) -> bytes:
    try:
        tree = json.loads(data.decode("utf-8-sig"))
    except Exception:  # noqa: BLE001 - whatever stops the parser, this input is not for us
        raise Skip
    for _ in range(rng.randint(1, 3)):
        tree = mutate_tree(tree, rng)
    try:
        text = json.dumps(tree, indent=rng.choice((None, 2, "\t")), default=lambda t: {"Fn::" + t.tag.lstrip("!"): t.value}, check_circular=False)
    except Exception:  # noqa: BLE001
        raise Skip
    return text.encode("utf-8")


def yaml_structure(data: bytes, rng: random.Random, other: bytes) -> bytes:
    try:
        tree = yaml.load(data, Loader=_TagLoader)  # noqa: S506 - a SafeLoader subclass: tags become Tagged
    except Exception:  # noqa: BLE001 - PyYAML itself raises IndexError on `!!int ""`
        raise Skip
    for _ in range(rng.randint(1, 3)):
        tree = mutate_tree(tree, rng)
    try:
        text = yaml.dump(
            tree, Dumper=_TagDumper, sort_keys=False, allow_unicode=rng.random() < 0.5,
            default_flow_style=rng.choice((False, False, None, True)), width=rng.choice((80, 4096)),
        )
    except Exception:  # noqa: BLE001
        raise Skip
    return text.encode("utf-8")


# -- structure-aware: HCL lines and blocks ------------------------------------------------

_ATTRIBUTE = re.compile(rb"^(?P<indent>[ \t]*)(?P<name>[A-Za-z_][\w-]*)[ \t]*=[ \t]*(?P<value>[^\n]*)$", re.M)
_BLOCK_START = re.compile(rb"^(resource|data|module|variable|locals|output|provider|terraform)\b[^\n]*\{[ \t]*$", re.M)


def _attributes(data: bytes) -> list[re.Match]:
    found = list(_ATTRIBUTE.finditer(data))
    if not found:
        raise Skip
    return found


def hcl_swap_values(data: bytes, rng: random.Random, other: bytes) -> bytes:
    found = _attributes(data)
    a, b = rng.choice(found), rng.choice(found)
    if a.start() > b.start():
        a, b = b, a
    if a.start() == b.start():
        raise Skip
    va, vb = a.group("value"), b.group("value")
    return data[: a.start("value")] + vb + data[a.end("value") : b.start("value")] + va + data[b.end("value") :]


def hcl_replace_value(data: bytes, rng: random.Random, other: bytes) -> bytes:
    a = rng.choice(_attributes(data))
    return data[: a.start("value")] + rng.choice(HCL_EXPRESSIONS).encode() + data[a.end("value") :]


def hcl_deepen_value(data: bytes, rng: random.Random, other: bytes) -> bytes:
    a = rng.choice(_attributes(data))
    depth = rng.choice((5, 60, 250, 2000))
    opener, closer = rng.choice(((b"[", b"]"), (b"(", b")"), (b"{a = ", b"}")))
    return data[: a.start("value")] + opener * depth + a.group("value") + closer * depth + data[a.end("value") :]


def hcl_unbalance(data: bytes, rng: random.Random, other: bytes) -> bytes:
    braces = [m.start() for m in re.finditer(rb"[{}\[\]()\"]", data)]
    if not braces or rng.random() < 0.3:
        at = _position(data, rng)
        return data[:at] + rng.choice((b"{", b"}", b"[", b"\"", b"${")) + data[at:]
    at = rng.choice(braces)
    return data[:at] + data[at + 1 :]


def _blocks(data: bytes) -> list[tuple[int, int]]:
    spans = []
    for match in _BLOCK_START.finditer(data):
        depth, i = 0, match.end() - 1
        while i < len(data):
            c = data[i : i + 1]
            depth += c == b"{"
            depth -= c == b"}"
            if depth == 0:
                spans.append((match.start(), i + 1))
                break
            i += 1
    return spans


def hcl_duplicate_block(data: bytes, rng: random.Random, other: bytes) -> bytes:
    spans = _blocks(data)
    if not spans:
        raise Skip
    start, end = rng.choice(spans)
    block = data[start:end]
    if rng.random() < 0.5:  # renamed copy, so both survive
        block = re.sub(rb'"([\w-]+)"(\s*\{)', rb'"\1_copy"\2', block, count=1)
    return data[:end] + b"\n" + block + data[end:]


def hcl_delete_block(data: bytes, rng: random.Random, other: bytes) -> bytes:
    spans = _blocks(data)
    if not spans:
        raise Skip
    start, end = rng.choice(spans)
    return data[:start] + data[end:]


def hcl_insert_block(data: bytes, rng: random.Random, other: bytes) -> bytes:
    spans = _blocks(data)
    at = rng.choice([0, len(data)] + [end for _, end in spans])
    return data[:at] + b"\n" + rng.choice(HCL_BLOCKS).encode() + b"\n" + data[at:]


HCL_MUTATORS: tuple[Mutator, ...] = (
    hcl_swap_values, hcl_replace_value, hcl_replace_value, hcl_deepen_value, hcl_unbalance,
    hcl_duplicate_block, hcl_delete_block, hcl_insert_block, hcl_insert_block,
)


def structure_mutators(file_name: str) -> tuple[Mutator, ...]:
    """The structure-aware mutators for a file, by its name."""
    name = file_name.lower()
    if name.endswith((".tf", ".tfvars")):
        return HCL_MUTATORS
    if name.endswith(".json"):
        return (json_structure,)
    if name.endswith((".yaml", ".yml", ".template")):
        return (yaml_structure,)
    return ()


def mutate(data: bytes, file_name: str, rng: random.Random, other: bytes) -> tuple[bytes, list[str]]:
    """Apply one to four mutations; return the bytes and the names of the mutators applied."""
    applied: list[str] = []
    structured = structure_mutators(file_name)
    only_structure = bool(structured) and rng.random() < 0.4  # cases that still parse reach deeper code
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        pool = structured if structured and (only_structure or rng.random() < 0.6) else BYTE_MUTATORS
        mutator = rng.choice(pool)
        try:
            data = mutator(data, rng, other)
        except (Skip, RecursionError):
            continue
        applied.append(mutator.__name__)
        if len(data) > 4 * 1024 * 1024:  # keep cases small: size limits have their own tests
            data = data[: 4 * 1024 * 1024]
    return data, applied
