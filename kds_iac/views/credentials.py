"""AWS credentials written into a template: access key ids, secret access keys, agent keys.

Detection works on model values, never on template source: a setting's name and value
(an environment variable, a provider argument) or a text assembled from literal parts and
parts known only at deployment (user data, a container command). What is found:

- an **access key id**: ``AKIA`` (long-term, an IAM user's) or ``ASIA`` (temporary) and
  16 more upper-case letters or digits, standing alone;
- a **secret access key**: 40 characters of ``A-Z a-z 0-9 / +`` with both cases, standing
  alone, under a name that says so (``AWS_SECRET_ACCESS_KEY``, ``secret_key``,
  ``SecretAccessKey``...) or within ``SECRET_DISTANCE`` characters of an access key id in
  the same text (a 40-character hex digest is never one: it has one case only);
- a **Kinesis Agent key setting**: ``awsAccessKeyId`` / ``awsSecretAccessKey`` with a
  non-empty value in agent configuration, even when the value is templated: the agent
  takes the instance's role when they are left out;
- an **IAM access key's secret** (or id) put in by edge: ``aws_iam_access_key.k.secret``,
  ``!GetAtt Key.SecretAccessKey``: a long-term key of an IAM user, written into the
  configuration of the compute that uses it;
- with ``sdk_config``, an **SDK credentials setting**: ``aws_access_key_id`` /
  ``aws_secret_access_key`` of a shared credentials file (``name = value``) or the same
  names as JSON or YAML keys, with a non-empty value, even when templated: a file written
  for an application to read its keys from.

``Credential.secret`` says whether what was found is secret (a secret access key, the
secret of an IAM access key, a secret key setting) rather than a key id.

A value from a variable or parameter counts only through its default (the template's own
text): the credential's ``inputs`` say which. A value known only at deployment is never a
credential here. ``Credential.shown`` is safe to print: the first four characters of an
access key id and nothing of a secret.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Iterator, Optional

from kds_iac.model import Encoded, FromInputs, Input, Ref, Template, unique
from kds_iac.value import Value
from kds_iac.views.facts import ABSENT, Fact, resolve

ACCESS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
SECRET_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
SECRET_DISTANCE = 300  # characters between an access key id and a secret "near" it
# Names under which a 40-character value is a secret access key.
SECRET_NAMES = re.compile(r"secret[_-]?(access[_-]?)?key|secretaccesskey|aws[_-]?secret", re.I)
ACCESS_KEY_NAMES = re.compile(r"access[_-]?key[_-]?id|^access[_-]?key$|awsaccesskeyid|aws[_-]?access[_-]?key", re.I)
# Kinesis Agent configuration keys (agent.json): the agent uses them instead of the instance role.
AGENT_KEY_SETTING = re.compile(r'"(awsAccessKeyId|awsSecretAccessKey|awsSessionToken)"\s*:\s*"([^"]*)"')
# SDK shared credentials file settings (INI ``name = value``), or the same names as JSON/YAML keys.
SDK_KEY_SETTING = re.compile(
    r'(?m)^[ \t]*(aws_access_key_id|aws_secret_access_key|aws_session_token)[ \t]*[=:][ \t]*([^\s#;]+)'
    r'|"(aws_access_key_id|aws_secret_access_key|aws_session_token)"\s*:\s*"([^"]*)"',
    re.I,
)
_SECRET_SETTINGS = ("awssecretaccesskey", "aws_secret_access_key", "awssessiontoken", "aws_session_token")
ACCESS_KEY_TYPES = ("aws_iam_access_key", "AWS::IAM::AccessKey")
_ISSUED_SECRET_ATTRIBUTES = ("secret", "SecretAccessKey", "ses_smtp_password_v4", "encrypted_secret")
PLACEHOLDER = "\x00"  # stands for a part of a text known only at deployment


class Credential(Value):
    __slots__ = ("kind", "where", "shown", "inputs", "key", "secret")

    def __init__(
        self,
        kind: str,
        where: str,
        shown: str,
        inputs: tuple[Input, ...] = (),
        key: Optional[Any] = None,
        secret: bool = False,
    ):
        self.kind = kind  # "access key id", "secret access key", "agent key setting", "SDK key setting", "IAM access key"
        self.where = where  # "environment variable AWS_ACCESS_KEY_ID", "user data", "argument secret_key"
        self.shown = shown  # safe to print: "AKIA...", "a 40-character secret", "awsAccessKeyId"
        self.inputs = inputs  # the variables/parameters whose defaults hold it
        self.key = key  # the IAM access key resource, for an edge
        self.secret = secret  # a secret (key, IAM key's secret, secret setting), not a key id

    def describe(self) -> str:
        text = f"{self.where}: {self.shown}"
        defaults = [i for i in self.inputs if i.has_default]
        if defaults:
            names = ", ".join(i.name for i in defaults)
            text += f" (the default of {names})"
        return text


class Text(Value):
    """A text with the parts known only at deployment replaced by ``PLACEHOLDER``.

    ``spans`` gives, for each part that came from a value (a variable default, an edge,
    an unknown), its ``(start, end, fact)``; ``refs`` are the edges among them.
    """

    __slots__ = ("text", "spans", "inputs")

    def __init__(self, text: str, spans: Optional[list[tuple[int, int, Fact]]] = None, inputs: tuple[Input, ...] = ()):
        self.text = text
        self.spans = [] if spans is None else spans
        self.inputs = inputs

    @property
    def refs(self) -> list[Ref]:
        return [f.value for _, _, f in self.spans if isinstance(f.value, Ref)]

    def inputs_at(self, start: int, end: int) -> tuple[Input, ...]:
        """The inputs behind ``[start, end)``: its parts' inputs, or, for a text that is one
        value (no parts), the inputs of that value."""
        if not self.spans:
            return self.inputs
        found: list[Input] = []
        for s, e, fact in self.spans:
            if s < end and start < e:
                found.extend(fact.inputs)
        return unique(tuple(found))

    def literal(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` holds no part known only at deployment."""
        return PLACEHOLDER not in self.text[start:end]


def text_of(value: Any, decode: Optional[Callable[[Any], Any]] = None) -> Optional[Text]:
    """A string or ``Template`` (or a fact of one) as ``Text``; ``None`` if not text.

    ``decode`` turns an ``Encoded`` value into the value it encodes (user data).
    """
    fact = value if isinstance(value, Fact) else resolve(value)
    inner = fact.value
    if isinstance(inner, Encoded) and decode is not None:
        return text_of(fact.then(inner.value), decode)
    if isinstance(inner, str):
        return Text(inner, inputs=fact.inputs)
    if not isinstance(inner, Template):
        return None
    out: list[str] = []
    spans: list[tuple[int, int, Fact]] = []
    position = 0
    for part in inner.parts:
        part_fact = resolve(part)
        if isinstance(part_fact.value, Encoded) and decode is not None:
            nested = text_of(part_fact.then(part_fact.value.value), decode)
            piece = nested.text if nested else PLACEHOLDER
        elif isinstance(part_fact.value, str):
            piece = part_fact.value
        elif isinstance(part_fact.value, (int, float)) and not isinstance(part_fact.value, bool):
            piece = str(part_fact.value)
        else:
            piece = PLACEHOLDER
        if not isinstance(part, str):
            spans.append((position, position + len(piece), part_fact))
        out.append(piece)
        position += len(piece)
    return Text("".join(out), spans, fact.inputs)


def text_of_structure(value: Any) -> Optional[Text]:
    """A mapping or list (a JSON document the loader decoded: ``jsonencode()``, a JSON
    ``file()``) written back as JSON text, its values known only at deployment as
    ``PLACEHOLDER`` parts: settings such as ``"awsAccessKeyId": "..."`` then read as written."""
    fact = value if isinstance(value, Fact) else resolve(value)
    if not isinstance(fact.value, (dict, list)):
        return None
    parts: list[Any] = []
    _json_parts(fact, parts, 0)
    return text_of(fact.with_value(Template(tuple(parts))))


def _json_parts(fact: Fact, parts: list[Any], depth: int) -> None:
    inner = fact.value

    def kept(part: Any) -> Any:  # a part with the inputs it came from
        return FromInputs(part, fact.inputs) if fact.inputs else part

    if depth > 32:
        parts.append("null")
    elif isinstance(inner, dict):
        parts.append("{")
        for index, (key, item) in enumerate(inner.items()):
            parts.append((", " if index else "") + json.dumps(str(key)) + ": ")
            _json_parts(fact.then(item), parts, depth + 1)
        parts.append("}")
    elif isinstance(inner, list):
        parts.append("[")
        for index, item in enumerate(inner):
            if index:
                parts.append(", ")
            _json_parts(fact.then(item), parts, depth + 1)
        parts.append("]")
    elif isinstance(inner, str):
        parts.append(kept(json.dumps(inner)))
    elif inner is ABSENT:
        parts.append("null")
    elif isinstance(inner, (bool, int, float)):
        parts.append(json.dumps(inner))
    elif isinstance(inner, Template):
        parts.append('"')
        parts.extend(json.dumps(p)[1:-1] if isinstance(p, str) else kept(p) for p in inner.parts)
        parts.append('"')
    else:  # an edge, a value known only at deployment
        parts.extend(('"', kept(inner), '"'))


def mask_key_id(key_id: str) -> str:
    return f"{key_id[:4]}{'*' * (len(key_id) - 4)}"


def is_secret_shape(candidate: str) -> bool:
    return bool(re.search(r"[a-z]", candidate) and re.search(r"[A-Z]", candidate))


def in_text(text: Text, where: str, agent_config: bool = True, sdk_config: bool = False) -> list[Credential]:
    """Credentials written in a text: key ids, secrets near them, agent key settings (and,
    with ``sdk_config``, SDK credentials file settings)."""
    found: list[Credential] = []
    body = text.text
    key_positions: list[int] = []
    for match in ACCESS_KEY_ID.finditer(body):
        key_positions.append(match.start())
        found.append(
            Credential("access key id", where, f"access key id {mask_key_id(match.group(0))}", text.inputs_at(match.start(), match.end()))
        )
    for match in SECRET_ACCESS_KEY.finditer(body):
        candidate = match.group(0)
        if not is_secret_shape(candidate):
            continue
        before = body[max(0, match.start() - 60) : match.start()]
        named = bool(SECRET_NAMES.search(before))
        near = any(abs(p - match.start()) <= SECRET_DISTANCE for p in key_positions)
        if named or near:
            found.append(
                Credential(
                    "secret access key", where, "a 40-character secret access key",
                    text.inputs_at(match.start(), match.end()), secret=True,
                )
            )
    if agent_config:
        for match in AGENT_KEY_SETTING.finditer(body):
            if not match.group(2).strip():
                continue
            templated = not text.literal(match.start(2), match.end(2))
            how = "templated" if templated else "written out"
            found.append(
                Credential(
                    "agent key setting", where, f"Kinesis Agent setting {match.group(1)} ({how})",
                    text.inputs_at(match.start(2), match.end(2)), secret=match.group(1).lower() in _SECRET_SETTINGS,
                )
            )
    if sdk_config:
        for match in SDK_KEY_SETTING.finditer(body):
            group = 2 if match.group(1) else 4
            name, value = match.group(group - 1), match.group(group)
            if not value.strip().strip("'\""):
                continue
            how = "written out" if text.literal(match.start(group), match.end(group)) else "templated"
            found.append(
                Credential(
                    "SDK key setting", where, f"credentials setting {name} ({how})",
                    text.inputs_at(match.start(group), match.end(group)), secret=name.lower() in _SECRET_SETTINGS,
                )
            )
    for _, _, fact in text.spans:
        issued = issued_key(fact)
        if issued is not None:
            found.append(issued.replace(where=where))
    return _dedupe(found)


def in_setting(name: str, value: Any, where: str) -> list[Credential]:
    """Credentials in one named setting (an environment variable, a provider argument)."""
    fact = value if isinstance(value, Fact) else resolve(value)
    issued = issued_key(fact)
    if issued is not None:
        return [issued.replace(where=where)]
    text = text_of(fact)
    if text is None:
        return []
    found = in_text(text, where, agent_config=False)
    stripped = text.text.strip()
    if SECRET_NAMES.search(name) and not any(c.kind == "secret access key" for c in found):
        if SECRET_ACCESS_KEY.fullmatch(stripped) and is_secret_shape(stripped) and text.literal(0, len(text.text)):
            found.append(Credential("secret access key", where, "a 40-character secret access key", fact.inputs, secret=True))
    return _dedupe(found)


def issued_key(fact: Fact) -> Optional[Credential]:
    """An edge to an IAM access key resource (its secret or its id); ``where`` is left empty."""
    value = fact.value
    if isinstance(value, Ref) and value.target.type in ACCESS_KEY_TYPES:
        secret = value.attribute in _ISSUED_SECRET_ATTRIBUTES
        what = "secret" if secret else "id"
        return Credential(
            "IAM access key", "", f"the {what} of IAM access key {value.target.address}", fact.inputs, value.target, secret
        )
    return None


def in_structure(value: Any, where: str, depth: int = 0) -> Iterator[Credential]:
    """Every string of a structure (a container definition), as text."""
    fact = value if isinstance(value, Fact) else resolve(value)
    inner = fact.value
    if depth > 12:
        return
    if isinstance(inner, dict):
        for key, item in inner.items():
            yield from in_structure(fact.then(item), where, depth + 1)
    elif isinstance(inner, list):
        texts = [text_of(fact.then(item)) for item in inner]
        if texts and all(t is not None for t in texts) and not any(issued_key(fact.then(i)) for i in inner):
            yield from in_text(_joined(texts), where)  # a command line: a secret may follow its key id
            return
        for item in inner:
            yield from in_structure(fact.then(item), where, depth + 1)
    else:
        issued = issued_key(fact)
        if issued is not None:
            yield issued.replace(where=where)
            return
        text = text_of(fact)
        if text is not None:
            yield from in_text(text, where)


def _joined(texts: list[Text]) -> Text:
    out = Text("", [], ())
    for text in texts:
        if out.text:
            out.text += " "
        offset = len(out.text)
        out.text += text.text
        out.spans += [(s + offset, e + offset, f) for s, e, f in text.spans]
        if not text.spans and text.inputs:
            out.spans.append((offset, offset + len(text.text), Fact(text.text, text.inputs)))
        out.inputs = unique(out.inputs + text.inputs)
    return out


def named_pairs(value: Any, keys: Optional[tuple[str, str]] = None) -> Iterator[tuple[str, Fact]]:
    """``{NAME: value}``, or a list of ``{<name key>: ..., <value key>: ...}`` entries with the
    ``keys`` its format uses (ECS's ``name``/``value``, CloudFormation's ``Name``/``Value``),
    as (name, fact) pairs."""
    fact = value if isinstance(value, Fact) else resolve(value)
    inner = fact.value
    if isinstance(inner, dict):
        for key, item in inner.items():
            yield str(key), fact.then(item)
    elif isinstance(inner, list) and keys is not None:
        name_key, value_key = keys
        for entry in inner:
            entry_fact = fact.then(entry)
            if isinstance(entry_fact.value, dict):
                name = resolve(entry_fact.value.get(name_key)).value
                if isinstance(name, str):
                    yield name, entry_fact.then(entry_fact.value.get(value_key))


def _dedupe(found: Iterable[Credential]) -> list[Credential]:
    out: list[Credential] = []
    for credential in found:
        if credential not in out:
            out.append(credential)
    return out


__all__ = [
    "ACCESS_KEY_ID",
    "AGENT_KEY_SETTING",
    "Credential",
    "PLACEHOLDER",
    "SDK_KEY_SETTING",
    "Text",
    "in_setting",
    "in_structure",
    "in_text",
    "issued_key",
    "mask_key_id",
    "named_pairs",
    "text_of",
    "text_of_structure",
]
