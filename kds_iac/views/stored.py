"""What a template writes into storage for an application to fetch later, as rules see it.

- **S3 objects** (Terraform ``aws_s3_object`` and the older ``aws_s3_bucket_object``): their
  text, from ``content``, ``content_base64`` (decoded) or the local file ``source`` names,
  which the loader reads into ``content`` (inside the scanned tree only, as ``file()``).
  CloudFormation has no S3 object resource.
- **SSM parameters** (``aws_ssm_parameter``, ``AWS::SSM::Parameter``): their value and whether
  it is stored as plain text. Terraform's ``type`` is ``String``, ``StringList`` or
  ``SecureString`` (encrypted with KMS); ``value`` or ``insecure_value`` holds it.
  CloudFormation can only create ``String`` and ``StringList`` parameters: every
  ``AWS::SSM::Parameter`` is plain text.
- **CDK bucket deployments** (``Custom::CDKBucketDeployment``, from ``BucketDeployment`` with
  ``Source.data()`` / ``Source.jsonData()``): the content of an inline source is a zip asset
  beside the template; what the template shows is the values CDK substitutes into it at
  deployment (``SourceMarkers``: marker -> value), such as an access key's secret.

Secrets Manager secrets are not storage in this sense: they are encrypted and access to
them is logged; they are left out.
"""

from __future__ import annotations

from typing import Optional

from kds_iac.model import Model, Resource
from kds_iac.views.compute import decode_user_data
from kds_iac.views.credentials import Text, text_of, text_of_structure
from kds_iac.views.facts import Fact, attribute, name_of
from kds_iac.views.settings import Settings, is_terraform

S3_OBJECT_TYPES = ("aws_s3_object", "aws_s3_bucket_object")
PARAMETER_TYPES = ("aws_ssm_parameter", "AWS::SSM::Parameter")
BUCKET_DEPLOYMENT_TYPES = ("Custom::CDKBucketDeployment",)
PLAIN_PARAMETER_TYPES = ("String", "StringList")

# Where each format writes a parameter's settings (its name: ``facts.NAME_ATTRIBUTES``).
PARAMETER_SETTINGS = Settings(
    terraform={"type": "type", "value": "value", "insecure_value": "insecure_value"},
    cloudformation={"type": "Type", "value": "Value", "insecure_value": None},
)


class StoredObject:
    """An S3 object a template writes: its text and the setting that holds it."""

    __slots__ = ("resource", "setting", "fact", "text", "key")

    def __init__(self, resource: Resource, setting: str, fact: Fact, text: Optional[Text], key: Optional[str]):
        self.resource = resource
        self.setting = setting  # content, content_base64 or source: what a person edits
        self.fact = fact
        self.text = text  # None when known only at deployment
        self.key = key  # the object key, when written as text

    @property
    def where(self) -> str:
        """Where the text is written, for a message: the local file ``source`` names, else the setting."""
        source = self.resource.attributes.get("source") if self.setting == "source" else None
        return f"source file {source}" if isinstance(source, str) else self.setting


def s3_objects(model: Model) -> list[StoredObject]:
    out = []
    for resource in model.of_type(*S3_OBJECT_TYPES):
        key = attribute(resource.attributes, "key").value
        key = key if isinstance(key, str) else None
        for name in ("content", "content_base64"):
            fact = attribute(resource.attributes, name)
            if fact.absent:
                continue
            if name == "content_base64":
                text = decode_user_data(fact, True)
            else:
                text = text_of_structure(fact) or text_of(fact)
            setting = "source" if name == "content" and "source" in resource.attributes else name
            out.append(StoredObject(resource, setting, fact, text, key))
            break
    return out


class Parameter:
    """An SSM parameter: its value and whether it is stored as plain text."""

    __slots__ = ("resource", "setting", "fact", "name", "plain", "type_fact")

    def __init__(self, resource: Resource, setting: str, fact: Fact, name: Optional[str], plain: Optional[bool], type_fact: Fact):
        self.resource = resource
        self.setting = setting  # value, insecure_value or Value
        self.fact = fact
        self.name = name  # the parameter's name when written as text
        self.plain = plain  # None when the type is known only at deployment
        self.type_fact = type_fact  # for provenance: the type's inputs


def parameters(model: Model) -> list[Parameter]:
    out = []
    for resource in model.of_type(*PARAMETER_TYPES):
        type_fact = attribute(resource.attributes, PARAMETER_SETTINGS.name(resource, "type"))
        kind = type_fact.value
        plain: Optional[bool] = kind in PLAIN_PARAMETER_TYPES if isinstance(kind, str) else None
        if not is_terraform(resource):
            plain = True  # CloudFormation cannot create a SecureString parameter
        name = name_of(resource)
        for key in ("value", "insecure_value"):
            setting = PARAMETER_SETTINGS.name(resource, key)
            fact = attribute(resource.attributes, setting) if setting else None
            if fact is not None and not fact.absent:
                out.append(Parameter(resource, setting, fact, name, plain, type_fact))
                break
    return out


class BucketDeployment:
    """A CDK bucket deployment: the values substituted into its inline sources."""

    __slots__ = ("resource", "setting", "markers")

    def __init__(self, resource: Resource, setting: str, markers: Fact):
        self.resource = resource
        self.setting = setting
        self.markers = markers  # a list of {marker: value} mappings, one per source


def bucket_deployments(model: Model) -> list[BucketDeployment]:
    out = []
    for resource in model.of_type(*BUCKET_DEPLOYMENT_TYPES):
        markers = attribute(resource.attributes, "SourceMarkers")
        if not markers.absent:
            out.append(BucketDeployment(resource, "SourceMarkers", markers))
    return out


__all__ = [
    "BUCKET_DEPLOYMENT_TYPES", "BucketDeployment", "PARAMETER_TYPES", "Parameter", "S3_OBJECT_TYPES", "StoredObject",
    "bucket_deployments", "parameters", "s3_objects",
]
