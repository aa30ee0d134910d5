"""KMS keys as rules see them, whatever format declared them.

Resolves what a stream's key setting points at: a key resource in the scan (through
references, aliases, ARNs and data sources), the AWS managed key, a key defined elsewhere,
or something unknown. AWS defaults for keys (rotation off, key enabled) live here.
"""

from __future__ import annotations

import re
from typing import Any

from kds_iac.model import Model, Ref, Resource, Unknown
from kds_iac.value import Value
from kds_iac.views.facts import ABSENT, Fact, attribute, name_of, render_pattern, resolve, template_refs
from kds_iac.views.policy import policy_statements
from kds_iac.views.settings import Settings, same_template

KEY_TYPES = ("aws_kms_key", "AWS::KMS::Key")
ALIAS_TYPES = ("aws_kms_alias", "AWS::KMS::Alias")
KEY_POLICY_TYPES = ("aws_kms_key_policy",)

# Where each format writes a key's and an alias's settings (an alias's name: facts.NAME_ATTRIBUTES).
KEY_SETTINGS = Settings(
    terraform={"rotation": "enable_key_rotation", "enabled": "is_enabled", "policy": "policy"},
    cloudformation={"rotation": "EnableKeyRotation", "enabled": "Enabled", "policy": "KeyPolicy"},
)
ALIAS_SETTINGS = Settings(terraform={"target": "target_key_id"}, cloudformation={"target": "TargetKeyId"})
# Terraform's aws_kms_key_policy: the key it is for, and the policy.
KEY_POLICY_SETTINGS = {"key": "key_id", "policy": "policy"}
# Terraform data sources that look a key up: the argument they look it up by.
_LOOKUP_ARGUMENT = {"aws_kms_key": "key_id", "aws_kms_alias": "name"}

# Key policy actions that read a stream's records (with GetRecords): a policy that grants
# them to anyone defeats the key.
DECRYPTING_ACTIONS = ("kms:Decrypt",)

_AWS_MANAGED_KINESIS = re.compile(r"(^|:)alias/aws/kinesis$")
_ALIAS_IN_ARN = re.compile(r"^arn:[^:]*:kms:[^:]*:[^:]*:(alias/.+)$")


class AwsManagedKey(Value):
    """``alias/aws/kinesis``: AWS owns its key policy and rotation."""

    __slots__ = ("reference",)

    def __init__(self, reference: str):
        self.reference = reference


class ExternalKey(Value):
    """A key id, ARN or alias that no resource of this scan defines."""

    __slots__ = ("reference",)

    def __init__(self, reference: str):
        self.reference = reference


class KmsKey:
    __slots__ = ("resource", "rotation", "policy", "policy_resource", "policy_attribute", "enabled")

    def __init__(
        self,
        resource: Resource,
        rotation: Fact,
        policy: Fact,
        policy_resource: Resource,
        policy_attribute: str,
        enabled: Fact = Fact(True),
    ):
        self.resource = resource
        self.rotation = rotation  # bool; AWS default: False
        self.policy = policy  # list of Statement, Unknown, or ABSENT (AWS default key policy)
        self.policy_resource = policy_resource  # where the policy is written (the key or aws_kms_key_policy)
        self.policy_attribute = policy_attribute
        # bool; AWS default: True (Terraform ``is_enabled``, CloudFormation ``Enabled``)
        self.enabled = enabled

    @property
    def enabled_setting(self) -> str:
        return KEY_SETTINGS.name(self.resource, "enabled")

    @property
    def rotation_setting(self) -> str:
        return KEY_SETTINGS.name(self.resource, "rotation")

    def public_decrypt(self):
        """The first key policy statement that lets any principal decrypt without pinning the
        caller (what KDS003 reports), None when there is none; Unknown when the policy is
        known only at deployment."""
        statements = self.policy.value
        if not isinstance(statements, list):
            return statements if isinstance(statements, Unknown) else None
        for statement in statements:
            if (
                statement.allows
                and statement.everyone
                and not statement.pins_caller
                and any(statement.grants_action(a) for a in DECRYPTING_ACTIONS)
            ):
                return statement
        return None

    @property
    def fit(self) -> bool:
        """A key a fix may choose for a stream or its data without asking: created with the
        input defaults, enabled, rotating, and with a key policy known not to let anyone
        decrypt (the rules that judge stream keys, KDS003 and KDS019, would not report it).
        Pending deletion is not checked: a template cannot schedule a key's deletion."""
        condition = self.resource.condition
        return (
            (condition is None or condition.default is True)
            and self.rotation.value is True
            and self.enabled.value is True
            and (self.policy.absent or isinstance(self.policy.value, list))
            and self.public_decrypt() is None
        )


class KeyResolver:
    """Index of the keys, aliases and key policies of one model."""

    def __init__(self, model: Model):
        self._keys: dict[int, KmsKey] = {}
        self._aliases: dict[str, list[Resource]] = {}
        self._policies: dict[int, Resource] = {}
        for alias in model.of_type(*ALIAS_TYPES):
            if alias.is_data_source:
                continue
            name = name_of(alias)
            if name is not None:
                self._aliases.setdefault(name, []).append(alias)
        for attachment in model.of_type(*KEY_POLICY_TYPES):
            target = resolve(attachment.get(KEY_POLICY_SETTINGS["key"])).value
            if isinstance(target, Ref):
                self._policies[id(target.target)] = attachment

    def key(self, resource: Resource) -> KmsKey:
        cached = self._keys.get(id(resource))
        if cached is None:
            cached = self._keys[id(resource)] = self._build(resource)
        return cached

    def _build(self, resource: Resource) -> KmsKey:
        attrs = resource.attributes
        rotation = attribute(attrs, KEY_SETTINGS.name(resource, "rotation"))
        enabled = attribute(attrs, KEY_SETTINGS.name(resource, "enabled"))
        policy_holder = self._policies.get(id(resource))  # a Terraform aws_kms_key_policy
        if policy_holder is not None:
            policy_attr = KEY_POLICY_SETTINGS["policy"]
        else:
            policy_holder, policy_attr = resource, KEY_SETTINGS.name(resource, "policy")
        if rotation.absent:
            rotation = rotation.with_value(False)
        if enabled.absent:
            enabled = enabled.with_value(True)
        elif isinstance(enabled.value, str) and enabled.value.lower() in ("true", "false"):
            enabled = enabled.with_value(enabled.value.lower() == "true")
        policy = policy_statements(attribute(policy_holder.attributes, policy_attr))
        return KmsKey(resource, rotation, policy, policy_holder, policy_attr, enabled)

    def resolve(self, fact: Fact, unit: str) -> Fact:
        """What a key setting points at: KmsKey, AwsManagedKey, ExternalKey, Unknown or ABSENT."""
        return self._resolve(fact, unit, depth=0)

    def _resolve(self, fact: Fact, unit: str, depth: int) -> Fact:
        value = fact.value
        if depth > 8 or value is ABSENT or isinstance(value, Unknown):
            return fact
        if isinstance(value, Ref):
            return self._from_resource(fact, value.target, unit, depth)
        refs = template_refs(value)
        if refs:
            return self._from_resource(fact, refs[0].target, unit, depth)
        text = render_pattern(value)
        if text is None:
            return fact.with_value(Unknown("key reference is not a string"))
        return fact.with_value(self._from_text(text, unit, depth))

    def _from_resource(self, fact: Fact, target: Resource, unit: str, depth: int) -> Fact:
        if target.type in KEY_TYPES and not target.is_data_source:
            return fact.with_value(self.key(target))
        if target.type in ALIAS_TYPES and not target.is_data_source:
            inner = ALIAS_SETTINGS.get(target, "target")
            return self._resolve(fact.then(inner), unit, depth + 1)
        if target.type in _LOOKUP_ARGUMENT:  # Terraform data sources
            inner = target.get(_LOOKUP_ARGUMENT[target.type])
            looked_up = fact.then(inner)
            if isinstance(looked_up.value, str):
                return looked_up.with_value(self._from_text(looked_up.value, unit, depth + 1))
            return looked_up.with_value(Unknown(f"key looked up by {target.address}"))
        return fact.with_value(Unknown(f"key comes from {target.address}"))

    def _from_text(self, text: str, unit: str, depth: int) -> Any:
        if _AWS_MANAGED_KINESIS.search(text):
            return AwsManagedKey(text)
        match = _ALIAS_IN_ARN.match(text)
        alias_name = match.group(1) if match else (text if text.startswith("alias/") else None)
        if alias_name:
            candidates = self._aliases.get(alias_name, [])
            same_unit = [a for a in candidates if a.unit == unit] or candidates
            if len(same_unit) == 1:
                alias = same_unit[0]
                inner = ALIAS_SETTINGS.get(alias, "target")
                resolved = self._resolve(resolve(inner), unit, depth + 1)
                if not isinstance(resolved.value, (Unknown, type(ABSENT))):
                    return resolved.value
        if "*" in text:
            return Unknown(f"key reference {text} is only known at deployment")
        return ExternalKey(text)


def key_resolver(model: Model) -> KeyResolver:
    return model.memo("key_resolver", lambda: KeyResolver(model))


def fit_keys_near(model: Model, near: Resource) -> list[KmsKey]:
    """The fit customer managed keys (``KmsKey.fit``) a fix on ``near`` can reference: those
    of its Terraform module or CloudFormation template, written in it (not generated)."""
    by_template = model.memo("fit_keys", lambda: _fit_keys_by_template(model))
    return by_template.get(same_template(near), []) if by_template else []  # most scans: none fit


def _fit_keys_by_template(model: Model) -> dict[tuple, list[KmsKey]]:
    keys = key_resolver(model)
    found: dict[tuple, list[KmsKey]] = {}
    for resource in model.of_type(*KEY_TYPES):
        if resource.is_data_source or resource.generated_from or resource.origin is not None:
            continue
        key = keys.key(resource)
        if key.fit:
            found.setdefault(same_template(resource), []).append(key)
    return found
