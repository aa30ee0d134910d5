"""Fixes: what a rule proposes to change, and the text edits that make the change.

A rule never sees a format, so it attaches a ``Fix`` made of *intents*: set this setting of
this resource to this value (``SetSetting``), add a resource of this kind (``NewResource``).
A writer per format (``kds_iac.fixes.terraform``, ``kds_iac.fixes.cloudformation``) turns
intents into ``TextEdit``s against the file as it is on disk, keeping its layout, comments and
quoting, or gives none when it cannot do so with certainty: a fix that cannot be written
exactly is not offered. ``kds_iac.fixes.apply`` collects the edits of many findings, drops
overlapping ones, applies them and shows them as a diff; front-ends (CLI, SARIF, language
server) read edits from there. Rules import this module for the intents, which are cheap
values; the writers are not on the scan path: text edits are computed only when a front-end
asks for them (JSON, SARIF, ``--fix``/``--diff``, a code action).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from kds_iac.model import Resource
from kds_iac.value import Value

SAFE = "safe"  # changes only the flagged setting, and no one the scan shows loses access; ``--fix``
UNSAFE = "unsafe"  # adds something (a new key) or needs a choice; applied by ``--unsafe-fixes``


class NewResource(Value):
    """A resource a fix adds, written next to ``near`` (the resource the finding is on).

    ``kind`` names what to write, each writer knowing its format's text for it:
    ``"kms_key"`` is a customer managed key with rotation on and the account's default key
    policy. ``name`` is the name to give it (a Terraform block label or a CloudFormation
    logical id, in the format's style; the writer adds a suffix if the name is taken).
    """

    __slots__ = ("kind", "name", "near", "description")

    def __init__(self, kind: str, name: str, near: Resource, description: str = ""):
        self.kind = kind
        self.name = name
        self.near = near
        self.description = description  # a human text for the new resource (a key description)


class Link(Value):
    """A reference, written in the target's format: ``aws_kms_key.k.arn`` or ``!GetAtt K.Arn``.

    ``attribute``: ``"arn"`` or ``"id"`` (CloudFormation ``Ref``). The target is a resource of
    the same module or template, or a ``NewResource`` of the same fix.
    """

    __slots__ = ("target", "attribute")

    def __init__(self, target: Union[Resource, NewResource], attribute: str = "arn"):
        self.target = target
        self.attribute = attribute


class SetSetting(Value):
    """Set ``path`` of ``resource`` to ``value``, adding the setting (and the nested blocks or
    mappings on its way) when the template leaves it out.

    ``path`` is the dotted attribute name as the resource's format writes it, as a view's
    ``Settings`` table gives it (``encryption_type``, ``StreamEncryption.EncryptionType``,
    ``server_side_encryption.enabled``). In Terraform every part but the last is a nested
    block; in CloudFormation, a mapping under ``Properties``. A part may carry an index of an
    item already written, never created: ``statement[1].actions`` (the second ``statement``
    block), ``Policies[0].PolicyDocument.Statement[1].Action``. ``value`` is a string, boolean,
    number, a ``Link``, or a tuple of strings and ``Link``s (a list of references,
    such as the stream ARNs a narrowed IAM statement names: ``[aws_kinesis_stream.s.arn]``,
    ``[!GetAtt S.Arn]``).
    """

    __slots__ = ("resource", "path", "value")

    def __init__(self, resource: Resource, path: str, value: Any):
        self.resource = resource
        self.path = path
        self.value = value


Intent = Union[SetSetting, NewResource]


class Fix(Value):
    """What a finding's fix does (``title``, for people), how safe it is, and its intents,
    applied together or not at all."""

    __slots__ = ("title", "safety", "intents")

    def __init__(self, title: str, safety: str, intents: tuple[Intent, ...]):
        if safety not in (SAFE, UNSAFE):
            raise ValueError(f"unknown fix safety {safety!r}")
        self.title = title
        self.safety = safety
        self.intents = intents

    @property
    def is_safe(self) -> bool:
        return self.safety == SAFE


class TextEdit(Value):
    """Replace the text from ``start`` up to (not including) ``end`` in ``file`` by ``text``.

    Positions are 1-based (line, column), columns counted in characters (code points); an
    insertion has ``start == end``. Front-ends convert (the language server counts UTF-16
    units from 0).
    """

    __slots__ = ("file", "start_line", "start_column", "end_line", "end_column", "text")

    def __init__(self, file: str, start_line: int, start_column: int, end_line: int, end_column: int, text: str):
        self.file = file
        self.start_line = start_line
        self.start_column = start_column
        self.end_line = end_line
        self.end_column = end_column
        self.text = text

    @property
    def start(self) -> tuple[int, int]:
        return (self.start_line, self.start_column)

    @property
    def end(self) -> tuple[int, int]:
        return (self.end_line, self.end_column)


def offset_of(text: str, line: int, column: int, line_starts: Optional[list[int]] = None) -> int:
    """The index in ``text`` of a 1-based (line, column) position."""
    if line_starts is None:
        line_starts = _line_starts(text)
    return line_starts[line - 1] + column - 1


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """``text`` with non-overlapping ``edits`` (all of one file) applied; overlapping edits are
    a caller's bug (``kds_iac.fixes.apply`` drops them first) and raise ``ValueError``."""
    starts = _line_starts(text)
    spans = sorted(
        ((offset_of(text, e.start_line, e.start_column, starts), offset_of(text, e.end_line, e.end_column, starts), e)
         for e in edits),
        key=lambda span: (span[0], span[1]),
    )
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        if start < end:
            raise ValueError("overlapping text edits")
    return replaced(text, [(start, end, edit.text) for start, end, edit in spans])


def replaced(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end, new text) span, in order and not overlapping, replaced
    (joined once: a copy of the text per replacement grew with the file)."""
    pieces, position = [], 0
    for start, end, new in spans:
        pieces += (text[position:start], new)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
