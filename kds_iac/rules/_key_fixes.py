"""The key a fix chooses, shared by the rules that ask for a customer managed key.

A fix names a key only when the choice is certain: exactly one fit customer managed key
(``KmsKey.fit``) in the module or template of the resource being fixed. Otherwise the stream
rules offer to add a new key (an unsafe fix: it creates a resource), and the rules on where
stream data lands offer nothing, since a new key there is a choice a person should make.
"""

from __future__ import annotations

from typing import Callable, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix, Link, NewResource
from kds_iac.model import Model, Resource
from kds_iac.views.kms import KmsKey, fit_keys_near
from kds_iac.views.settings import derived_name, fixable, repeated

NEW_KEY = "kms_key"  # the kind of NewResource: a customer managed key with rotation on


def the_fit_key(model: Model, near: Resource) -> Optional[KmsKey]:
    """The one fit customer managed key ``near`` can reference, None when there are none or several."""
    keys = fit_keys_near(model, near)
    return keys[0] if len(keys) == 1 else None


def keyed_fix(
    model: Model,
    near: Resource,
    title: str,
    settings: Callable[[Link], tuple],
    new_key_description: Optional[str] = None,
) -> Optional[Fix]:
    """A fix that makes ``settings(link)`` with the one fit key of ``near``'s module or
    template (safe), else, given ``new_key_description``, with a new key written next to
    ``near`` (unsafe). None for a resource a fix may not edit (``fixable``) or when a
    setting has no place in the format, and no new key for a
    resource created only under a gate (``count``, ``for_each``, a ``Condition``) that the
    input defaults leave closed, or repeated by ``count`` or ``for_each``: the key would be
    created without it (or once for all), and repeating the gate is a choice for a person."""
    if not fixable(near):
        return None
    key = the_fit_key(model, near)
    if key is not None:
        intents = settings(Link(key.resource, "arn"))
        title, safety = f"{title} with KMS key {key.resource.address}", SAFE
    elif new_key_description is not None and near.condition is None and not repeated(near):
        new = NewResource(NEW_KEY, derived_name(near, "key"), near=near, description=new_key_description)
        intents = (new,) + settings(Link(new, "arn"))
        title, safety = f"{title} with a new KMS key", UNSAFE
    else:
        return None
    if not intents or any(i is None for i in intents):
        return None
    return Fix(title, safety, intents)
