"""Kinesis data streams as rules see them, whatever format declared them.

AWS defaults for streams live here: a stream without an encryption setting is stored
unencrypted (Terraform ``encryption_type`` defaults to ``NONE``; CloudFormation without
``StreamEncryption`` enables no server-side encryption), and ``KMS`` without a key is not
something AWS accepts (``StartStreamEncryption`` requires ``KeyId``), so as written nothing
is encrypted.

A stream is seen twice: as its settings under input defaults (``Stream.encryption``,
``Stream.key``: ``Unknown`` where a condition that no default decides picks them) and as
``Stream.cases``, one per branch a deployment can take (see ``facts.cases``).
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from kds_iac.model import Conditional, FromInputs, Model, Resource, Unknown, unique
from kds_iac.views.facts import (
    ABSENT,
    ABSENT_FACT,
    Fact,
    attribute,
    branch_regions,
    cases,
    describe_branch,
    nested,
    nested_cases,
    resolve,
)
from kds_iac.views.kms import AwsManagedKey, ExternalKey, KeyResolver, KmsKey, key_resolver
from kds_iac.views.settings import Settings

STREAM_TYPES = ("aws_kinesis_stream", "AWS::Kinesis::Stream")

# Where each format writes a stream's encryption: Terraform as arguments of the stream,
# CloudFormation inside one StreamEncryption block (``block``: None when there is none).
STREAM_SETTINGS = Settings(
    terraform={"block": None, "encryption": "encryption_type", "key": "kms_key_id"},
    cloudformation={"block": "StreamEncryption", "encryption": "EncryptionType", "key": "KeyId"},
)

# Regions where Kinesis Data Streams offers no server-side encryption: a stream deployed
# only there cannot be encrypted, whatever its template says. Source: the AWS CDK's
# aws-kinesis Stream construct (lib/stream.ts, parseEncryption), which encrypts a stream by
# default "in regions where KMS is available" and leaves StreamEncryption out in exactly
# these two regions (its condition AwsCdkKinesisEncryptedStreamsUnsupportedRegions).
REGIONS_WITHOUT_SSE = frozenset({"cn-north-1", "cn-northwest-1"})


class Stream:
    __slots__ = (
        "resource",
        "encryption",
        "key",
        "encryption_setting",
        "key_setting",
        "encryption_written",
        "key_missing",
        "sse_offered",
        "encrypted",
        "_cases",
    )

    def __init__(
        self,
        resource: Resource,
        encryption: Fact,
        key: Fact,
        encryption_setting: str,
        key_setting: str,
        encryption_written: bool,
    ):
        self.resource = resource
        self.encryption = encryption  # "KMS", "NONE" or Unknown, with the inputs that decide it
        self.key = key  # KmsKey, AwsManagedKey, ExternalKey, Unknown, or ABSENT
        self.encryption_setting = encryption_setting  # the attribute a person edits: encryption_type / StreamEncryption
        self.key_setting = key_setting  # kms_key_id / StreamEncryption.KeyId
        self.encryption_written = encryption_written  # False: left out (under input defaults), so the AWS default applies
        # KMS asked for with no key (or an empty one): AWS rejects it, and nothing is encrypted
        self.key_missing = self.encryption.value == "KMS" and (key.value is ABSENT or key.value == "")
        # False when this case is taken only in REGIONS_WITHOUT_SSE: encryption cannot be asked of it
        assumed = encryption.assumed + key.assumed
        regions = branch_regions(unique(assumed)) if assumed else None
        self.sse_offered = regions is None or not regions <= REGIONS_WITHOUT_SSE
        # True/False under input defaults; None when it cannot be known before deployment
        # (set once: the stream rules and the key view ask it of every stream)
        value = self.encryption.value
        self.encrypted: bool | None = None if isinstance(value, Unknown) else (value == "KMS" and not self.key_missing)
        self._cases: Optional[list[Stream]] = None  # None: the stream is its one case

    @property
    def cases(self) -> "list[Stream] | tuple[Stream]":
        """The branches a deployment can take (see ``streams``); most streams are their only one."""
        return self._cases or (self,)

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def encryption_branch(self) -> str:
        """For a case: the branch that decides its encryption ("" when nothing is assumed)."""
        return self.encryption.branch()

    @property
    def key_branch(self) -> str:
        """For a case: the branch that decides its encryption and key."""
        return describe_branch(unique(self.encryption.assumed + self.key.assumed))

    @property
    def block_setting(self) -> str:
        """The block the encryption settings sit in (``StreamEncryption``), "" when none."""
        return STREAM_SETTINGS.name(self.resource, "block") or ""

    @property
    def decided_by_inputs(self) -> bool:
        """True when an input, a condition or a value known only at deployment decides the
        stream's encryption or key: a fix that wrote over it would silently override an input."""
        if self._cases is not None and len(self._cases) > 1:
            return True
        for fact in (self.encryption, self.key):
            if fact.inputs or fact.conditions or fact.assumed or not fact.known:
                return True
        return False

    @property
    def encryption_line(self) -> int:
        return self.resource.line_of(self.encryption_setting)

    @property
    def key_line(self) -> int:
        return self.resource.line_of(self.key_setting)


def streams(model: Model) -> Iterator[Stream]:
    return iter(model.memo("streams", lambda: _streams(model)))


def _streams(model: Model) -> list[Stream]:
    keys = key_resolver(model)
    layouts: dict[str, tuple] = {}  # per naming: where the settings are written, worked out once
    facts: dict[Any, Fact] = {}  # see ``_shared``
    found = []
    for resource in model.of_type(*STREAM_TYPES):
        if resource.is_data_source:
            continue
        layout = layouts.get(resource.source_format)
        if layout is None:
            layout = layouts[resource.source_format] = _layout(resource)
        found.append(_stream(resource, keys, layout, facts))
    return found


def _layout(resource: Resource) -> tuple:
    """The block, encryption and key settings' names, and the settings a person edits."""
    block_name = STREAM_SETTINGS.name(resource, "block")
    encryption_name, key_name = STREAM_SETTINGS.name(resource, "encryption"), STREAM_SETTINGS.name(resource, "key")
    settings = (encryption_name, key_name) if block_name is None else (block_name, f"{block_name}.{key_name}")
    return block_name, encryption_name, key_name, settings


def _stream(resource: Resource, keys: KeyResolver, layout: tuple, facts: dict[Any, Fact]) -> Stream:
    block_name, encryption_name, key_name, settings = layout
    attrs = resource.attributes
    variants = []
    if block_name is None:
        encryption = attribute(attrs, encryption_name)
        key = attribute(attrs, key_name)
        if _may_branch(attrs.get(encryption_name)) or _may_branch(attrs.get(key_name)):
            variants = [
                (enc, key_case)
                for enc in _attribute_cases(attrs, encryption_name, ())
                for key_case in _attribute_cases(attrs, key_name, enc.assumed)
            ]
    else:
        block = attribute(attrs, block_name)
        encryption = block if block.absent else nested(block, encryption_name)
        key = block if block.absent else nested(block, key_name)
        if _block_may_branch(attrs.get(block_name), layout):
            for block_case in _attribute_cases(attrs, block_name, ()):
                if block_case.absent:
                    variants.append((block_case, block_case))
                    continue
                for enc in nested_cases(block_case, encryption_name):
                    within = Fact(block_case.value, block_case.inputs, block_case.conditions, enc.assumed)
                    variants.extend((enc, key_case) for key_case in nested_cases(within, key_name))
    stream = _judged(resource, encryption, key, keys, settings, facts)
    if any(enc.assumed or key_case.assumed for enc, key_case in variants):
        stream._cases = [_judged(resource, enc, key_case, keys, settings, facts) for enc, key_case in variants]
    return stream


def _may_branch(value: Any) -> bool:
    """False when ``cases`` of ``value`` cannot assume a condition (no ``Conditional`` below
    its inputs): the stream is then its one case, and its branches need not be worked out."""
    return isinstance(_below_inputs(value), Conditional)


def _block_may_branch(value: Any, layout: tuple) -> bool:
    """``_may_branch`` for an encryption block and the two settings ``nested_cases`` reads in it."""
    value = _below_inputs(value)
    if isinstance(value, Conditional):
        return True
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return isinstance(value, dict) and (_may_branch(value.get(layout[1])) or _may_branch(value.get(layout[2])))


def _below_inputs(value: Any) -> Any:
    """``value`` with the inputs that give it taken off."""
    while isinstance(value, FromInputs):
        value = value.value
    return value


def _attribute_cases(attrs: dict, name: str, given: tuple) -> list[Fact]:
    if attrs.get(name) is None:
        return [Fact(ABSENT, assumed=given)]
    return cases(attrs[name], given)


def _judged(
    resource: Resource, encryption: Fact, key: Fact, keys: KeyResolver, settings: tuple[str, str], facts: dict[Any, Fact]
) -> Stream:
    """A stream (or one case of it) with the AWS defaults applied to what was written."""
    written = not encryption.absent
    if not written:
        encryption = _NOT_WRITTEN if encryption is ABSENT_FACT else encryption.with_value("NONE")
    elif isinstance(encryption.value, str):
        upper = encryption.value.upper()
        if upper != encryption.value:
            encryption = encryption.with_value(upper)
    elif not isinstance(encryption.value, Unknown):
        encryption = encryption.with_value(Unknown("encryption type is not a string"))
    if key.value == "":  # an empty key id is no key: not one to look up
        resolved = key
    else:
        resolved = keys.resolve(key, resource.unit)
    return Stream(resource, _shared(encryption, facts), _shared(resolved, facts), *settings, encryption_written=written)


def _shared(fact: Fact, facts: dict[Any, Fact]) -> Fact:
    """The first of the scan's equal facts that nothing decides (no input, condition or branch)
    and that hold a text or a key: what most streams keep is one of a few ("KMS", a key), not
    a fact each (a 10 MB template's 98,000 streams: 6 MB)."""
    if fact.inputs or fact.conditions or fact.assumed or not isinstance(fact.value, _SHAREABLE):
        return fact
    return facts.setdefault(fact.value, fact)  # a KmsKey by identity (one per key), the others by value


_SHAREABLE = (str, AwsManagedKey, ExternalKey, KmsKey)


_NOT_WRITTEN = ABSENT_FACT.with_value("NONE")  # shared: most streams that leave it out have no inputs to name


def stream_keys(model: Model) -> list[tuple[KmsKey, list[Stream]]]:
    """Customer managed keys of the scan that encrypt a stream, each with the streams it
    encrypts (in the scan's order): what the key rules judge (three of them ask)."""
    return model.memo("stream_keys", lambda: _stream_keys(model))


def _stream_keys(model: Model) -> list[tuple[KmsKey, list[Stream]]]:
    found: dict[int, tuple[KmsKey, list[Stream]]] = {}
    for stream in streams(model):
        key = stream.key.value
        if stream.encrypted and isinstance(key, KmsKey):
            found.setdefault(id(key.resource), (key, []))[1].append(stream)
    return list(found.values())


__all__ = ["ABSENT", "STREAM_TYPES", "Stream", "resolve", "stream_keys", "streams"]
