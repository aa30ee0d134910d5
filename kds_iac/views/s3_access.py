"""Who may read an S3 bucket of the scan from outside the account: public ACLs and public
bucket policy statements, and the public access block settings that neutralize them.

AWS defaults live here: a canned ACL is ``private`` unless written; every public access
block setting is false unless written (an account-level block, outside any template, is not
seen). ``block_public_acls``/``ignore_public_acls`` defeat a public ACL;
``block_public_policy``/``restrict_public_buckets`` defeat a public policy.
"""

from __future__ import annotations

from kds_iac.model import Model, Resource
from kds_iac.value import Value
from kds_iac.views.facts import Fact, attribute, nested
from kds_iac.views.policy import policy_statements
from kds_iac.views.storage import bucket_of

BUCKET_ACL_TYPES = ("aws_s3_bucket_acl",)
BUCKET_POLICY_TYPES = ("aws_s3_bucket_policy", "AWS::S3::BucketPolicy")
PUBLIC_ACCESS_BLOCK_TYPES = ("aws_s3_bucket_public_access_block",)
PUBLIC_CANNED_ACLS = frozenset(
    {"public-read", "public-read-write", "authenticated-read", "publicread", "publicreadwrite", "authenticatedread"}
)


class PublicGrant(Value):
    """A setting that opens a bucket to principals outside the account."""

    __slots__ = ("resource", "setting", "what", "provenance")

    def __init__(self, resource: Resource, setting: str, what: str, provenance: str = ""):
        self.resource = resource  # where it is written: the bucket, its ACL or its policy
        self.setting = setting
        self.what = what  # for messages: 'canned ACL "public-read"'
        self.provenance = provenance  # the inputs that decide it

    @property
    def line(self) -> int:
        return self.resource.line_of(self.setting)


def public_grants(bucket: Resource, model: Model) -> list[PublicGrant]:
    """The public ACLs and policy statements of ``bucket`` that no public access block of the
    scan neutralizes."""
    block = _public_access_block(bucket, model)
    grants: list[PublicGrant] = []
    if not (_on(block, "BlockPublicAcls") or _on(block, "IgnorePublicAcls")):
        grants.extend(_acl_grants(bucket, model))
    if not (_on(block, "BlockPublicPolicy") or _on(block, "RestrictPublicBuckets")):
        grants.extend(_policy_grants(bucket, model))
    return grants


def _terraform(resource: Resource) -> bool:
    return resource.source_format.startswith("terraform")


def _attached(model: Model, types: tuple[str, ...], setting: str, bucket: Resource) -> list[Resource]:
    """Resources of ``types`` whose ``setting`` names ``bucket``."""
    return [
        r
        for r in model.of_type(*types)
        if not r.is_data_source and bucket_of(attribute(r.attributes, setting), model).value is bucket
    ]


def _public_access_block(bucket: Resource, model: Model) -> dict[str, Fact]:
    """The four settings, by their CloudFormation names."""
    names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    if not _terraform(bucket):
        block = attribute(bucket.attributes, "PublicAccessBlockConfiguration")
        return {name: nested(block, name) for name in names}
    found: dict[str, Fact] = {}
    for resource in _attached(model, PUBLIC_ACCESS_BLOCK_TYPES, "bucket", bucket):
        for name in names:
            snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
            fact = attribute(resource.attributes, snake)
            if fact.value is True or name not in found:
                found[name] = fact
    return found


def _on(block: dict[str, Fact], name: str) -> bool:
    fact = block.get(name)
    return fact is not None and fact.value is True


def _acl_grants(bucket: Resource, model: Model) -> list[PublicGrant]:
    holders = [(bucket, "acl" if _terraform(bucket) else "AccessControl")]
    holders += [(r, "acl") for r in _attached(model, BUCKET_ACL_TYPES, "bucket", bucket)]
    grants = []
    for holder, setting in holders:
        fact = attribute(holder.attributes, setting)
        if isinstance(fact.value, str) and fact.value.lower() in PUBLIC_CANNED_ACLS:
            grants.append(PublicGrant(holder, setting, f'canned ACL "{fact.value}"', fact.provenance()))
    return grants


def _policy_grants(bucket: Resource, model: Model) -> list[PublicGrant]:
    if _terraform(bucket):
        holders = [(bucket, "policy")] + [(r, "policy") for r in _attached(model, BUCKET_POLICY_TYPES, "bucket", bucket)]
    else:
        holders = [(r, "PolicyDocument") for r in _attached(model, BUCKET_POLICY_TYPES, "Bucket", bucket)]
    grants = []
    for holder, setting in holders:
        statements = policy_statements(attribute(holder.attributes, setting))
        if not isinstance(statements.value, list):
            continue
        for statement in statements.value:
            if statement.allows and statement.everyone and not statement.pins_caller:
                actions = ", ".join(statement.actions or statement.not_actions) or "actions"
                label = f' "{statement.sid}"' if statement.sid else ""
                grants.append(
                    PublicGrant(holder, setting, f"policy statement{label} allows {actions} to any principal", statement.provenance())
                )
    return grants


def describe(grant: PublicGrant) -> str:
    where = f"{grant.resource.address} "
    decided = f" (decided by {grant.provenance})" if grant.provenance else ""
    return f"{where}{grant.what}{decided}"


__all__ = ["BUCKET_ACL_TYPES", "BUCKET_POLICY_TYPES", "PublicGrant", "describe", "public_grants"]
