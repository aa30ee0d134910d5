"""Kinesis data streams as rules see them, whatever format declared them.

AWS defaults for streams live here: a stream without an encryption setting is stored
unencrypted (Terraform ``encryption_type`` defaults to ``NONE``; CloudFormation without
``StreamEncryption`` enables no server-side encryption).
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model, Resource, Unknown
from kds_iac.views.facts import ABSENT, Fact, attribute, nested, resolve
from kds_iac.views.kms import KmsKey, key_resolver

STREAM_TYPES = ("aws_kinesis_stream", "AWS::Kinesis::Stream")


class Stream:
    __slots__ = ("resource", "encryption", "key", "encryption_setting", "key_setting", "encryption_written")

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

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def encrypted(self) -> bool | None:
        """True/False under input defaults; None when it cannot be known before deployment."""
        value = self.encryption.value
        if isinstance(value, Unknown):
            return None
        return value == "KMS"

    @property
    def encryption_line(self) -> int:
        return self.resource.line_of(self.encryption_setting)

    @property
    def key_line(self) -> int:
        return self.resource.line_of(self.key_setting)


def streams(model: Model) -> Iterator[Stream]:
    cached = getattr(model, "_kds_streams", None)
    if cached is None:
        cached = [_stream(model, r) for r in model.of_type(*STREAM_TYPES) if not r.is_data_source]
        setattr(model, "_kds_streams", cached)
    return iter(cached)


def _stream(model: Model, resource: Resource) -> Stream:
    keys = key_resolver(model)
    if resource.source_format.startswith("terraform"):
        encryption = attribute(resource.attributes, "encryption_type")
        key = attribute(resource.attributes, "kms_key_id")
        settings = ("encryption_type", "kms_key_id")
    else:
        block = attribute(resource.attributes, "StreamEncryption")
        encryption = block if block.absent else nested(block, "EncryptionType")
        key = block if block.absent else nested(block, "KeyId")
        settings = ("StreamEncryption", "StreamEncryption.KeyId")
    written = not encryption.absent
    if not written:
        encryption = encryption.with_value("NONE")
    elif isinstance(encryption.value, str):
        encryption = encryption.with_value(encryption.value.upper())
    elif not isinstance(encryption.value, Unknown):
        encryption = encryption.with_value(Unknown("encryption type is not a string"))
    return Stream(resource, encryption, keys.resolve(key, resource.unit), *settings, encryption_written=written)


def stream_keys(model: Model) -> list[tuple[KmsKey, list[Stream]]]:
    """Customer managed keys of the scan that encrypt a stream, each with the streams it
    encrypts (in the scan's order): what the key rules judge."""
    found: dict[int, tuple[KmsKey, list[Stream]]] = {}
    for stream in streams(model):
        key = stream.key.value
        if stream.encrypted and isinstance(key, KmsKey):
            found.setdefault(id(key.resource), (key, []))[1].append(stream)
    return list(found.values())


__all__ = ["ABSENT", "STREAM_TYPES", "Stream", "resolve", "stream_keys", "streams"]
