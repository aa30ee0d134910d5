"""Who may read an S3 bucket of the scan from outside the account: public ACLs and public
bucket policy statements, and the public access block settings that neutralize them.

AWS defaults live here: a canned ACL is ``private`` unless written; every public access
block setting is false unless written (an account-level block, outside any template, is not
seen). ``block_public_acls``/``ignore_public_acls`` defeat a public ACL;
``block_public_policy``/``restrict_public_buckets`` defeat a public policy.
"""

from __future__ import annotations

from typing import Optional

from kds_iac.model import Model, Resource
from kds_iac.value import Value
from kds_iac.views.facts import Fact, attribute, nested
from kds_iac.views.policy import policy_statements
from kds_iac.views.settings import Settings
from kds_iac.views.storage import bucket_of

BUCKET_ACL_TYPES = ("aws_s3_bucket_acl",)
BUCKET_POLICY_TYPES = ("aws_s3_bucket_policy", "AWS::S3::BucketPolicy")
PUBLIC_ACCESS_BLOCK_TYPES = ("aws_s3_bucket_public_access_block",)
# Where each format writes a bucket's access settings: CloudFormation on the bucket (its public
# access block as one block, no inline policy), Terraform on the bucket or on resources of their
# own (aws_s3_bucket_acl, aws_s3_bucket_policy, aws_s3_bucket_public_access_block).
BUCKET_ACCESS_SETTINGS = Settings(
    terraform={"public_access_block": None, "acl": "acl", "policy": "policy"},
    cloudformation={"public_access_block": "PublicAccessBlockConfiguration", "acl": "AccessControl", "policy": None},
)
BUCKET_POLICY_SETTINGS = Settings(
    terraform={"bucket": "bucket", "policy": "policy"},
    cloudformation={"bucket": "Bucket", "policy": "PolicyDocument"},
)
# Terraform's aws_s3_bucket_acl and aws_s3_bucket_public_access_block: the bucket they are for, the ACL.
_TERRAFORM_ATTACHED = {"bucket": "bucket", "acl": "acl"}
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


def _attached(model: Model, types: tuple[str, ...], bucket: Resource, table: Optional[Settings] = None) -> list[Resource]:
    """Resources of ``types`` whose bucket setting (``table``'s, else Terraform's ``bucket``) names ``bucket``."""
    return [
        r
        for r in model.of_type(*types)
        if not r.is_data_source
        and bucket_of(attribute(r.attributes, table.name(r, "bucket") if table else _TERRAFORM_ATTACHED["bucket"]), model).value
        is bucket
    ]


def _public_access_block(bucket: Resource, model: Model) -> dict[str, Fact]:
    """The four settings, by their CloudFormation names."""
    names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    inline = BUCKET_ACCESS_SETTINGS.name(bucket, "public_access_block")
    if inline:
        block = attribute(bucket.attributes, inline)
        return {name: nested(block, name) for name in names}
    found: dict[str, Fact] = {}
    for resource in _attached(model, PUBLIC_ACCESS_BLOCK_TYPES, bucket):
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
    holders = [(bucket, BUCKET_ACCESS_SETTINGS.name(bucket, "acl"))]
    holders += [(r, _TERRAFORM_ATTACHED["acl"]) for r in _attached(model, BUCKET_ACL_TYPES, bucket)]
    grants = []
    for holder, setting in holders:
        fact = attribute(holder.attributes, setting)
        if isinstance(fact.value, str) and fact.value.lower() in PUBLIC_CANNED_ACLS:
            grants.append(PublicGrant(holder, setting, f'canned ACL "{fact.value}"', fact.provenance()))
    return grants


def _policy_grants(bucket: Resource, model: Model) -> list[PublicGrant]:
    inline = BUCKET_ACCESS_SETTINGS.name(bucket, "policy")
    holders = [(bucket, inline)] if inline else []
    holders += [
        (r, BUCKET_POLICY_SETTINGS.name(r, "policy")) for r in _attached(model, BUCKET_POLICY_TYPES, bucket, BUCKET_POLICY_SETTINGS)
    ]
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
